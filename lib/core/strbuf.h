/* Internal: appending formatted text to a caller's fixed buffer. An append
 * that does not fit sets `overflow` and every later append is ignored, so a
 * renderer checks once at the end instead of after every field. */
#ifndef FK_CORE_STRBUF_H
#define FK_CORE_STRBUF_H

#include <stdbool.h>
#include <stddef.h>

#include "core/error.h"

typedef struct fk__strbuf {
    char *buf;
    size_t size;
    size_t len;
    bool overflow;
} fk__strbuf;

/* A buffer over buf[0..size), which must be at least 1 byte. */
#define FK__STRBUF(b, n) ((fk__strbuf){(b), (n), 0, false})

void fk__strbuf_printf(fk__strbuf *s, const char *fmt, ...) FK__PRINTF(2, 3);
/* A JSON string literal of the bytes of text before its NUL, at most
 * max_bytes of them (SIZE_MAX: all), written by fk__json_escape() (see
 * core/json.h: escapes, and U+FFFD for bytes that are not UTF-8). */
void fk__strbuf_json_string(fk__strbuf *s, const char *text, size_t max_bytes);

#endif
