/* The exporter's metadata tags (fk_exporter_add_tag), kept as a set and as
 * the one metadataTags value every record carries. */
#include <string.h>

#include "exporter/exporter_state.h"

/* Bytes of the tags as KEY=VALUE,KEY=VALUE with `key` set to `value`. */
static size_t text_len_with(const fk__tagset *s, const char *key, const char *value)
{
    size_t n = strlen(key) + strlen(value) + 1, tags = 1;
    for (size_t i = 0; i < s->n; i++) {
        if (strcmp(s->v[i].key, key) == 0)
            continue;
        n += strlen(s->v[i].key) + strlen(s->v[i].value) + 1;
        tags++;
    }
    return n + tags - 1; /* the commas */
}

static void rebuild_text(fk_exporter *h)
{
    size_t len = 0;
    h->tags_text[0] = '\0';
    for (size_t i = 0; i < h->tags.n; i++) {
        size_t k = strlen(h->tags.v[i].key), v = strlen(h->tags.v[i].value);
        if (len + (i ? 1 : 0) + k + 1 + v > FK_EXPORTER_TAGS_MAX)
            break; /* cannot happen: add_tag checks the length */
        if (i)
            h->tags_text[len++] = ',';
        memcpy(h->tags_text + len, h->tags.v[i].key, k);
        len += k;
        h->tags_text[len++] = '=';
        memcpy(h->tags_text + len, h->tags.v[i].value, v);
        len += v;
        h->tags_text[len] = '\0';
    }
}

int fk_exporter_add_tag(fk_exporter *h, const char *key, const char *value)
{
    if (!h || !key || !value)
        return fk__error(FK_EINVAL, "fk_exporter_add_tag: NULL argument");
    size_t n = text_len_with(&h->tags, key, value);
    if (n > FK_EXPORTER_TAGS_MAX)
        return fk__error(FK_ERANGE,
                         "exporter: tags of %zu bytes in all (KEY=VALUE,...), at most %d", n,
                         FK_EXPORTER_TAGS_MAX);
    int rc = fk__tagset_add(&h->tags, "exporter", key, value);
    if (rc == FK_OK)
        rebuild_text(h);
    return rc;
}

void fk_exporter_clear_tags(fk_exporter *h)
{
    if (!h)
        return;
    fk__tagset_clear(&h->tags);
    h->tags_text[0] = '\0';
}
