#include "core/strbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/json.h"

void fk__strbuf_printf(fk__strbuf *s, const char *fmt, ...)
{
    if (s->overflow)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(s->buf + s->len, s->size - s->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= s->size - s->len) {
        s->overflow = true;
        s->buf[s->len] = '\0';
    } else {
        s->len += (size_t)n;
    }
}

void fk__strbuf_json_string(fk__strbuf *s, const char *text, size_t max_bytes)
{
    if (s->overflow)
        return;
    size_t n = strnlen(text, max_bytes);
    size_t need = fk__json_escape(NULL, text, n) + 2;
    if (need >= s->size - s->len) {
        s->overflow = true;
        s->buf[s->len] = '\0';
        return;
    }
    char *p = s->buf + s->len;
    p[0] = '"';
    fk__json_escape(p + 1, text, n);
    p[need - 1] = '"';
    p[need] = '\0';
    s->len += need;
}
