/* Growing text buffer (see buf.h). */
#include "buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <flowkit/json.h>

static int reserve(fkc_buf *b, size_t n)
{
    if (b->oom)
        return -1;
    if (b->len + n + 1 <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + n + 1)
        cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) {
        b->oom = 1;
        return -1;
    }
    b->p = p;
    b->cap = cap;
    return 0;
}

void fkc_buf_put(fkc_buf *b, const char *s, size_t n)
{
    if (reserve(b, n) != 0)
        return;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void fkc_buf_puts(fkc_buf *b, const char *s)
{
    fkc_buf_put(b, s, strlen(s));
}

void fkc_buf_printf(fkc_buf *b, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof tmp) {
        fkc_buf_put(b, tmp, (size_t)n);
        return;
    }
    if (reserve(b, (size_t)n) != 0)
        return;
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void fkc_buf_json_str(fkc_buf *b, const char *s)
{
    if (!s) {
        fkc_buf_puts(b, "null");
        return;
    }
    /* The library's one JSON string writer (escapes, U+FFFD for bytes that
     * are not UTF-8); 6 bytes per input byte always suffice. */
    size_t n = strlen(s), room = 6 * n + 3;
    if (reserve(b, room) != 0)
        return;
    int len = fk_json_string_format(s, n, b->p + b->len, room + 1);
    if (len < 0) {
        b->oom = 1;
        return;
    }
    b->len += (size_t)len;
}

char *fkc_buf_take(fkc_buf *b, size_t *len)
{
    if (reserve(b, 0) != 0) {
        fkc_buf_free(b);
        return NULL;
    }
    char *p = b->p;
    if (len)
        *len = b->len;
    b->p = NULL;
    b->len = b->cap = 0;
    return p;
}

void fkc_buf_free(fkc_buf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
    b->oom = 0;
}
