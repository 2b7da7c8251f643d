/* Parsing ClickHouse's HTTP answers and TabSeparated rows (chreply.h). */
#include "chreply.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

/* The value of header `name` within head[0..len), or NULL; *vlen its length. */
static const char *header(const char *head, size_t len, const char *name, size_t *vlen)
{
    size_t n = strlen(name);
    const char *p = head, *end = head + len;
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol)
            eol = end;
        if ((size_t)(eol - p) > n && p[n] == ':' && strncasecmp(p, name, n) == 0) {
            const char *v = p + n + 1;
            while (v < eol && (*v == ' ' || *v == '\t'))
                v++;
            const char *ve = eol;
            while (ve > v && (ve[-1] == '\r' || ve[-1] == ' '))
                ve--;
            *vlen = (size_t)(ve - v);
            return v;
        }
        p = eol + 1;
    }
    return NULL;
}

static int parse_size(const char *s, size_t n, int base, uint64_t *out)
{
    uint64_t v = 0;
    if (n == 0 || n > 16)
        return -1;
    for (size_t i = 0; i < n; i++) {
        int d;
        if (s[i] >= '0' && s[i] <= '9')
            d = s[i] - '0';
        else if (base == 16 && s[i] >= 'a' && s[i] <= 'f')
            d = s[i] - 'a' + 10;
        else if (base == 16 && s[i] >= 'A' && s[i] <= 'F')
            d = s[i] - 'A' + 10;
        else
            return -1;
        v = v * (uint64_t)base + (uint64_t)d;
    }
    if (v > (uint64_t)1 << 40)
        return -1;
    *out = v;
    return 0;
}

/* Join the chunks of body[0..len) in place. */
static int dechunk(char *body, size_t len, size_t *out_len)
{
    size_t r = 0, w = 0;
    for (;;) {
        const char *eol = memchr(body + r, '\n', len - r);
        if (!eol)
            return -1;
        size_t line = (size_t)(eol - (body + r));
        size_t digits = 0;
        while (digits < line && isxdigit((unsigned char)body[r + digits]))
            digits++;
        uint64_t size;
        if (parse_size(body + r, digits, 16, &size) != 0)
            return -1;
        r += line + 1; /* extensions after the size are ignored */
        if (size == 0)
            break;
        if (size > len - r || len - r - size < 1)
            return -1;
        memmove(body + w, body + r, (size_t)size);
        w += (size_t)size;
        r += (size_t)size;
        if (body[r] == '\r')
            r++;
        if (r >= len || body[r] != '\n')
            return -1;
        r++;
    }
    *out_len = w;
    return 0;
}

int fkc_ch_response_parse(char *buf, size_t len, int *status, char **body, size_t *body_len)
{
    if (len < 12 || memcmp(buf, "HTTP/1.", 7) != 0 || !isdigit((unsigned char)buf[7]) ||
        buf[8] != ' ')
        return -1;
    int code = 0;
    for (int i = 9; i < 12; i++) {
        if (!isdigit((unsigned char)buf[i]))
            return -1;
        code = code * 10 + (buf[i] - '0');
    }
    if (code < 100)
        return -1;
    const char *sep = NULL;
    for (size_t i = 12; i + 3 < len && !sep; i++)
        if (buf[i] == '\r' && buf[i + 1] == '\n' && buf[i + 2] == '\r' && buf[i + 3] == '\n')
            sep = buf + i;
    if (!sep)
        return -1;
    size_t head_len = (size_t)(sep - buf);
    char *b = buf + head_len + 4;
    size_t blen = len - head_len - 4, vlen = 0;
    const char *te = header(buf, head_len, "Transfer-Encoding", &vlen);
    if (te && vlen == 7 && strncasecmp(te, "chunked", 7) == 0) {
        if (dechunk(b, blen, &blen) != 0)
            return -1;
    } else if ((te = header(buf, head_len, "Content-Length", &vlen))) {
        uint64_t cl;
        if (parse_size(te, vlen, 10, &cl) != 0 || cl > blen)
            return -1;
        blen = (size_t)cl;
    }
    b[blen] = '\0'; /* within buf[0..len]: the body never grows */
    *status = code;
    *body = b;
    *body_len = blen;
    return 0;
}

int fkc_tsv_next(fkc_tsv *t, char **fields, int max)
{
    if (t->p >= t->end)
        return 0;
    char *eol = memchr(t->p, '\n', (size_t)(t->end - t->p));
    if (!eol)
        return -1;
    int n = 0;
    char *r = t->p, *w = t->p;
    if (max < 1)
        return -1;
    fields[n++] = w;
    while (r < eol) {
        char ch = *r++;
        if (ch == '\t') {
            *w++ = '\0';
            if (n == max)
                return -1;
            fields[n++] = w;
        } else if (ch == '\\') {
            if (r == eol)
                return -1;
            switch (*r++) {
            case 't':
                *w++ = '\t';
                break;
            case 'n':
                *w++ = '\n';
                break;
            case 'r':
                *w++ = '\r';
                break;
            case 'b':
                *w++ = '\b';
                break;
            case 'f':
                *w++ = '\f';
                break;
            case '0':
                *w++ = '\0';
                break;
            case '\\':
                *w++ = '\\';
                break;
            case '\'':
                *w++ = '\'';
                break;
            case 'N':
                break; /* NULL */
            default:
                return -1;
            }
        } else {
            *w++ = ch;
        }
    }
    *w = '\0'; /* w <= eol: the newline's place at the latest */
    t->p = eol + 1;
    return n;
}

int fkc_tsv_u64(const char *s, uint64_t *out)
{
    if (!isdigit((unsigned char)*s))
        return -1;
    uint64_t v = 0;
    for (; *s; s++) {
        if (!isdigit((unsigned char)*s))
            return -1;
        unsigned d = (unsigned)(*s - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

int fkc_tsv_addr(const char *s, fk_addr *out)
{
    uint8_t b[16];
    if (strlen(s) != 32)
        return -1;
    for (int i = 0; i < 16; i++) {
        uint64_t v;
        if (parse_size(s + 2 * i, 2, 16, &v) != 0)
            return -1;
        b[i] = (uint8_t)v;
    }
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    static const uint8_t zero[16];
    memset(out, 0, sizeof *out);
    if (memcmp(b, zero, 16) == 0)
        return 0;
    if (memcmp(b, mapped, 12) == 0) {
        out->family = 4;
        memcpy(out->bytes, b + 12, 4);
    } else {
        out->family = 6;
        memcpy(out->bytes, b, 16);
    }
    return 0;
}
