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
/* A JSON string literal of at most max_bytes input bytes (SIZE_MAX: all):
 * quotes around, with ", \, control characters and DEL escaped. Bytes from
 * 0x80 up pass through (UTF-8 stays UTF-8). */
void fk__strbuf_json_string(fk__strbuf *s, const char *text, size_t max_bytes);

#endif
