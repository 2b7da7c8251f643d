/* The strict JSON body reader (see jsonrd.h). */
#include "jsonrd.h"

#include <stdio.h>

void fkc_rd_init(fkc_rd *r, const char *body, size_t len, char *err, size_t errsize)
{
    r->p = r->start = body;
    r->end = body + len;
    r->err = err;
    r->errsize = errsize;
}

int fkc_rd_fail(fkc_rd *r, const char *what)
{
    snprintf(r->err, r->errsize, "%s at byte %zu", what, (size_t)(r->p - r->start));
    return -1;
}

void fkc_rd_ws(fkc_rd *r)
{
    while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r'))
        r->p++;
}

bool fkc_rd_eat(fkc_rd *r, char c)
{
    fkc_rd_ws(r);
    if (r->p < r->end && *r->p == c) {
        r->p++;
        return true;
    }
    return false;
}

int fkc_rd_str(fkc_rd *r, char *out, size_t size)
{
    if (!fkc_rd_eat(r, '"'))
        return fkc_rd_fail(r, "expected a string");
    size_t n = 0;
    while (r->p < r->end && *r->p != '"') {
        unsigned char c = (unsigned char)*r->p;
        if (c < 0x20 || c == '\\' || c >= 0x80)
            return fkc_rd_fail(r, "unexpected character in a string");
        if (n + 1 >= size)
            return fkc_rd_fail(r, "string too long");
        out[n++] = (char)c;
        r->p++;
    }
    if (r->p >= r->end)
        return fkc_rd_fail(r, "unterminated string");
    r->p++;
    out[n] = '\0';
    return 0;
}

int fkc_rd_uint(fkc_rd *r, unsigned max, unsigned digits, unsigned *out)
{
    fkc_rd_ws(r);
    unsigned v = 0, seen = 0;
    while (r->p < r->end && *r->p >= '0' && *r->p <= '9') {
        if (++seen > digits)
            return fkc_rd_fail(r, "number out of range");
        v = v * 10 + (unsigned)(*r->p - '0');
        if (v > max)
            return fkc_rd_fail(r, "number out of range");
        r->p++;
    }
    if (!seen)
        return fkc_rd_fail(r, "expected a number");
    *out = v;
    return 0;
}

bool fkc_rd_at_end(fkc_rd *r)
{
    fkc_rd_ws(r);
    return r->p == r->end;
}
