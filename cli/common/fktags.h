/* cli/common: the static tags of --tag KEY=VALUE[,KEY=VALUE...] (and the
 * `tag` setting of a config file or FLOWKIT_TAG), kept in the order first
 * given; a key given again takes the new value. Public API only. */
#ifndef FKTAGS_H
#define FKTAGS_H

#include <flowkit/flowlog.h>
#include <stddef.h>

typedef struct fkcli_tags {
    fk_tag v[FK_TAG_MAX];
    char *text[FK_TAG_MAX]; /* owned storage of v[i]'s strings */
    size_t n;
} fkcli_tags;

/* Add "k=v" or "k=v,k=v"; bad input or more than FK_TAG_MAX tags exits 2
 * with a message starting with `where` (an option, FILE:LINE, env NAME). */
void fkcli_tags_add(fkcli_tags *t, const char *where, const char *list);
/* The tags as "k=v,k=v" into buf (for --check); "" when none. */
void fkcli_tags_format(const fkcli_tags *t, char *buf, size_t size);
/* Append `,"tags":{"k":"v",...}` of tags[0..n) (valid tags: no escapes
 * needed) to the JSON object in buf (of length len, ending in '}'), when
 * n > 0; returns the new length, or -1 when it does not fit in size. */
int fkcli_tags_json(const fk_tag *tags, size_t n, char *buf, size_t len, size_t size);
void fkcli_tags_free(fkcli_tags *t);
/* A record's tags (fk_flow::tags, "KEY=VALUE,KEY=VALUE") as tags in out
 * (at most FK_TAG_MAX), their strings in buf (size bytes); returns the
 * count, 0 when text is NULL, invalid or does not fit. */
size_t fkcli_tags_split(const char *text, char *buf, size_t size, fk_tag *out);

#endif
