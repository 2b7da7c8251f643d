/* Parser of the /senders request body (see senders_body.h). */
#include "senders_body.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

typedef struct rd {
    const char *p, *end, *start;
    char *err;
    size_t errsize;
} rd;

static int fail(rd *r, const char *what)
{
    snprintf(r->err, r->errsize, "%s at byte %zu", what, (size_t)(r->p - r->start));
    return -1;
}

static void ws(rd *r)
{
    while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r'))
        r->p++;
}

static bool eat(rd *r, char c)
{
    ws(r);
    if (r->p < r->end && *r->p == c) {
        r->p++;
        return true;
    }
    return false;
}

/* A plain string (no escapes: addresses and key names need none). */
static int str(rd *r, char *out, size_t size)
{
    if (!eat(r, '"'))
        return fail(r, "expected a string");
    size_t n = 0;
    while (r->p < r->end && *r->p != '"') {
        unsigned char c = (unsigned char)*r->p;
        if (c < 0x20 || c == '\\' || c >= 0x80)
            return fail(r, "unexpected character in a string");
        if (n + 1 >= size)
            return fail(r, "string too long");
        out[n++] = (char)c;
        r->p++;
    }
    if (r->p >= r->end)
        return fail(r, "unterminated string");
    r->p++;
    out[n] = '\0';
    return 0;
}

static int uint_in(rd *r, unsigned max, unsigned *out)
{
    ws(r);
    unsigned v = 0;
    size_t digits = 0;
    while (r->p < r->end && *r->p >= '0' && *r->p <= '9') {
        v = v * 10 + (unsigned)(*r->p - '0');
        if (v > max || ++digits > 3)
            return fail(r, "prefixLen out of range");
        r->p++;
    }
    if (!digits)
        return fail(r, "expected a number");
    *out = v;
    return 0;
}

/* {"prefix":"ADDR","prefixLen":N} in either order. */
static int one_prefix(rd *r, char *out)
{
    if (!eat(r, '{'))
        return fail(r, "expected an object");
    char addr[48] = "";
    unsigned len = 0;
    bool have_addr = false, have_len = false;
    do {
        char key[16];
        if (str(r, key, sizeof key) < 0)
            return -1;
        if (!eat(r, ':'))
            return fail(r, "expected ':'");
        if (strcmp(key, "prefix") == 0 && !have_addr) {
            if (str(r, addr, sizeof addr) < 0)
                return -1;
            have_addr = true;
        } else if (strcmp(key, "prefixLen") == 0 && !have_len) {
            if (uint_in(r, 128, &len) < 0)
                return -1;
            have_len = true;
        } else {
            return fail(r, "unknown or repeated key (prefix and prefixLen only)");
        }
    } while (eat(r, ','));
    if (!eat(r, '}'))
        return fail(r, "expected '}'");
    if (!have_addr || !have_len)
        return fail(r, "a prefix needs \"prefix\" and \"prefixLen\"");
    snprintf(out, FKC_PREFIX_TEXT_MAX, "%s/%u", addr, len);
    return 0;
}

int fkc_senders_body_parse(const char *body, size_t len, char (*out)[FKC_PREFIX_TEXT_MAX],
                           size_t max, size_t *n, char *err, size_t errsize)
{
    *n = 0;
    if (!body || !len)
        return 0; /* no body (a DELETE of the whole sender) */
    rd r = {body, body + len, body, err, errsize};
    ws(&r);
    if (r.p == r.end)
        return 0;
    if (!eat(&r, '{'))
        return fail(&r, "expected an object");
    if (!eat(&r, '}')) {
        char key[16];
        if (str(&r, key, sizeof key) < 0)
            return -1;
        if (strcmp(key, "prefixes") != 0)
            return fail(&r, "unknown key (prefixes only)");
        if (!eat(&r, ':') || !eat(&r, '['))
            return fail(&r, "expected \"prefixes\": [");
        if (!eat(&r, ']')) {
            do {
                if (*n >= max)
                    return fail(&r, "too many prefixes");
                if (one_prefix(&r, out[*n]) < 0)
                    return -1;
                (*n)++;
            } while (eat(&r, ','));
            if (!eat(&r, ']'))
                return fail(&r, "expected ']'");
        }
        if (!eat(&r, '}'))
            return fail(&r, "expected '}'");
    }
    ws(&r);
    if (r.p != r.end)
        return fail(&r, "text after the object");
    return 0;
}
