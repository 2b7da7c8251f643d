/* A growing text buffer for HTTP answers, with JSON string escaping. A
 * failed allocation sets `oom` and later writes are dropped, so callers
 * check once at the end. */
#ifndef FKC_BUF_H
#define FKC_BUF_H

#include <stdarg.h>
#include <stddef.h>

typedef struct fkc_buf {
    char *p;
    size_t len, cap;
    int oom;
} fkc_buf;

void fkc_buf_put(fkc_buf *b, const char *s, size_t n);
void fkc_buf_puts(fkc_buf *b, const char *s);
void fkc_buf_printf(fkc_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* s as a JSON string, quotes included; NULL as null. */
void fkc_buf_json_str(fkc_buf *b, const char *s);
/* Hand the text over (NUL-terminated) and reset the buffer; NULL on oom. */
char *fkc_buf_take(fkc_buf *b, size_t *len);
void fkc_buf_free(fkc_buf *b);

#endif
