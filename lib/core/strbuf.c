#include "core/strbuf.h"

#include <stdarg.h>
#include <stdio.h>

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
    fk__strbuf_printf(s, "\"");
    for (size_t i = 0; i < max_bytes && text[i]; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c == '"' || c == '\\')
            fk__strbuf_printf(s, "\\%c", c);
        else if (c < 0x20 || c == 0x7f)
            fk__strbuf_printf(s, "\\u%04x", c);
        else
            fk__strbuf_printf(s, "%c", c);
    }
    fk__strbuf_printf(s, "\"");
}
