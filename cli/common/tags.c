/* Static tags of the command line and config files (see fktags.h). */
#include "fktags.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fkcli.h"

static void add_one(fkcli_tags *t, const char *where, const char *item)
{
    size_t len = strlen(item) + 1;
    char *buf = malloc(len);
    if (!buf)
        fkcli_fail("out of memory");
    fk_tag tag;
    if (fk_tag_parse(item, &tag, buf, len) != 0) {
        free(buf);
        fkcli_usage("%s: %s", where, fk_error_last()->message);
    }
    for (size_t i = 0; i < t->n; i++) {
        if (strcmp(t->v[i].key, tag.key) == 0) {
            free(t->text[i]);
            t->text[i] = buf;
            t->v[i] = tag;
            return;
        }
    }
    if (t->n == FK_TAG_MAX) {
        free(buf);
        fkcli_usage("%s: more than %d tags", where, FK_TAG_MAX);
    }
    t->text[t->n] = buf;
    t->v[t->n++] = tag;
}

void fkcli_tags_add(fkcli_tags *t, const char *where, const char *list)
{
    char *copy = strdup(list);
    if (!copy)
        fkcli_fail("out of memory");
    /* Empty items (",", "a=1,,b=2") are refused, never skipped. */
    char *p = copy;
    for (;;) {
        char *comma = strchr(p, ',');
        if (comma)
            *comma = '\0';
        if (!*p) {
            free(copy);
            fkcli_usage("%s: empty tag in \"%s\" (expected KEY=VALUE[,KEY=VALUE...])", where, list);
        }
        add_one(t, where, p);
        if (!comma)
            break;
        p = comma + 1;
    }
    free(copy);
}

void fkcli_tags_format(const fkcli_tags *t, char *buf, size_t size)
{
    size_t len = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < t->n && len < size; i++) {
        int n =
            snprintf(buf + len, size - len, "%s%s=%s", i ? "," : "", t->v[i].key, t->v[i].value);
        if (n < 0)
            break;
        len += (size_t)n;
    }
}

int fkcli_tags_json(const fk_tag *tags, size_t count, char *buf, size_t len, size_t size)
{
    if (count == 0)
        return (int)len;
    if (len == 0 || buf[len - 1] != '}')
        return -1;
    len--; /* over the closing brace */
    /* Keys and values are printable ASCII without '"' or '\\': no escapes. */
    for (size_t i = 0; i < count; i++) {
        int n = snprintf(buf + len, size - len, "%s\"%s\":\"%s\"", i ? "," : ",\"tags\":{",
                         tags[i].key, tags[i].value);
        if (n < 0 || (size_t)n >= size - len)
            return -1;
        len += (size_t)n;
    }
    if (size - len < 3)
        return -1;
    memcpy(buf + len, "}}", 3);
    return (int)(len + 2);
}

void fkcli_tags_free(fkcli_tags *t)
{
    for (size_t i = 0; i < t->n; i++)
        free(t->text[i]);
    memset(t, 0, sizeof *t);
}

size_t fkcli_tags_split(const char *text, char *buf, size_t size, fk_tag *out)
{
    size_t n = 0, used = 0;
    while (text && *text) {
        size_t len = strcspn(text, ",");
        char item[FK_TAG_KEY_MAX + FK_TAG_VALUE_MAX + 2];
        if (n == FK_TAG_MAX || len >= sizeof item || size - used < len + 1)
            return 0;
        memcpy(item, text, len);
        item[len] = '\0';
        if (fk_tag_parse(item, &out[n], buf + used, len + 1) != 0)
            return 0;
        used += len + 1;
        n++;
        text += len;
        if (*text == ',' && !*++text)
            return 0; /* a trailing comma */
    }
    return n;
}
