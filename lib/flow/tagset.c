/* A handle's static tags (see tagset.h). */
#include "flow/tagset.h"

#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"

int fk__tagset_add(fk__tagset *s, const char *what, const char *key, const char *value)
{
    if (!s || !key || !value)
        return fk__error(FK_EINVAL, "%s: tag: NULL argument", what);
    size_t len = strlen(key) + strlen(value) + 2;
    if (len > FK_TAG_KEY_MAX + FK_TAG_VALUE_MAX + 2 || strchr(key, '='))
        return fk__error(FK_EINVAL, "%s: tag \"%.40s\": key or value too long, or '=' in the key",
                         what, key);
    char *text = fk__malloc(len);
    if (!text)
        return fk__error(FK_ENOMEM, "%s: out of memory", what);
    char *joined = fk__malloc(len);
    if (!joined) {
        fk__free(text);
        return fk__error(FK_ENOMEM, "%s: out of memory", what);
    }
    snprintf(joined, len, "%s=%s", key, value);
    fk_tag t;
    int rc = fk_tag_parse(joined, &t, text, len);
    fk__free(joined);
    if (rc) {
        fk__free(text);
        return rc;
    }
    for (size_t i = 0; i < s->n; i++) {
        if (strcmp(s->v[i].key, t.key) == 0) {
            fk__free(s->text[i]);
            s->text[i] = text;
            s->v[i] = t;
            return FK_OK;
        }
    }
    if (s->n == FK_TAG_MAX) {
        fk__free(text);
        return fk__error(FK_ERANGE, "%s: more than %d tags", what, FK_TAG_MAX);
    }
    s->text[s->n] = text;
    s->v[s->n++] = t;
    return FK_OK;
}

void fk__tagset_clear(fk__tagset *s)
{
    for (size_t i = 0; i < s->n; i++)
        fk__free(s->text[i]);
    memset(s, 0, sizeof *s);
}

int fk__tagset_json(const fk_tag *tags, size_t n, char *buf, size_t len, size_t size)
{
    if (n == 0)
        return (int)len;
    if (len == 0 || buf[len - 1] != '}')
        return -1;
    len--;
    /* Valid keys and values are printable ASCII without '"' or '\\'. */
    for (size_t i = 0; i < n; i++) {
        int w = snprintf(buf + len, size - len, "%s\"%.*s\":\"%.*s\"", i ? "," : ",\"tags\":{",
                         FK_TAG_KEY_MAX, tags[i].key, FK_TAG_VALUE_MAX, tags[i].value);
        if (w < 0 || (size_t)w >= size - len)
            return -1;
        len += (size_t)w;
    }
    if (size - len < 3)
        return -1;
    memcpy(buf + len, "}}", 3);
    return (int)(len + 2);
}

int fk__tags_split(const char *text, char *buf, size_t size, fk_tag *out, size_t cap)
{
    size_t len = strlen(text);
    if (len >= size)
        return -1;
    if (len == 0)
        return 0;
    memcpy(buf, text, len + 1);
    size_t n = 0;
    char *p = buf;
    for (;;) {
        char *comma = strchr(p, ',');
        if (comma)
            *comma = '\0';
        char scratch[FK_TAG_KEY_MAX + FK_TAG_VALUE_MAX + 2];
        fk_tag t;
        if (n == cap || fk_tag_parse(p, &t, scratch, sizeof scratch) != 0)
            return -1;
        char *eq = strchr(p, '='); /* fk_tag_parse found one */
        *eq = '\0';
        for (size_t i = 0; i < n; i++)
            if (strcmp(out[i].key, p) == 0)
                return -1;
        out[n].key = p;
        out[n++].value = eq + 1;
        if (!comma)
            return (int)n;
        p = comma + 1;
    }
}
