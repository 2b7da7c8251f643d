/* Internal: a bounded set of static tags owned by a handle (collector,
 * exporter): at most FK_TAG_MAX, each checked by fk_tag_parse()'s rules, a
 * key added again takes the new value. */
#ifndef FK_FLOW_TAGSET_H
#define FK_FLOW_TAGSET_H

#include <flowkit/flowlog.h>
#include <stddef.h>

typedef struct fk__tagset {
    fk_tag v[FK_TAG_MAX]; /* strings point into text[i] */
    char *text[FK_TAG_MAX];
    size_t n;
} fk__tagset;

/* FK_EINVAL (bad key or value, named), FK_ERANGE (more than FK_TAG_MAX),
 * FK_ENOMEM; `what` prefixes the message ("collector"). */
int fk__tagset_add(fk__tagset *s, const char *what, const char *key, const char *value);
void fk__tagset_clear(fk__tagset *s);
/* `,"tags":{"k":"v",...}` appended to the JSON object in buf[0..len)
 * (ending in '}'); returns the new length, or -1 when size is too small.
 * No tags: len. */
int fk__tagset_json(const fk_tag *tags, size_t n, char *buf, size_t len, size_t size);
/* Split `KEY=VALUE,KEY=VALUE` (a record's metadataTags) into tags whose
 * strings live in buf (size > strlen(text)): returns the count, or -1 when
 * an item breaks fk_tag_parse()'s rules, a key comes twice, there are more
 * than cap, or buf is too small. "" gives 0. */
int fk__tags_split(const char *text, char *buf, size_t size, fk_tag *out, size_t cap);
/* Room fk__tagset_json() may add at most. */
#define FK__TAGSET_JSON_MAX (FK_TAG_MAX * (FK_TAG_KEY_MAX + FK_TAG_VALUE_MAX + 6) + 16)

#endif
