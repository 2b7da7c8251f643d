/* Parser of the /senders request body (see senders_body.h). */
#include "senders_body.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "jsonrd.h"

/* {"prefix":"ADDR","prefixLen":N} in either order. */
static int one_prefix(fkc_rd *r, char *out)
{
    if (!fkc_rd_eat(r, '{'))
        return fkc_rd_fail(r, "expected an object");
    char addr[48] = "";
    unsigned len = 0;
    bool have_addr = false, have_len = false;
    do {
        char key[16];
        if (fkc_rd_str(r, key, sizeof key) < 0)
            return -1;
        if (!fkc_rd_eat(r, ':'))
            return fkc_rd_fail(r, "expected ':'");
        if (strcmp(key, "prefix") == 0 && !have_addr) {
            if (fkc_rd_str(r, addr, sizeof addr) < 0)
                return -1;
            have_addr = true;
        } else if (strcmp(key, "prefixLen") == 0 && !have_len) {
            if (fkc_rd_uint(r, 128, 3, &len) < 0)
                return -1;
            have_len = true;
        } else {
            return fkc_rd_fail(r, "unknown or repeated key (prefix and prefixLen only)");
        }
    } while (fkc_rd_eat(r, ','));
    if (!fkc_rd_eat(r, '}'))
        return fkc_rd_fail(r, "expected '}'");
    if (!have_addr || !have_len)
        return fkc_rd_fail(r, "a prefix needs \"prefix\" and \"prefixLen\"");
    snprintf(out, FKC_PREFIX_TEXT_MAX, "%s/%u", addr, len);
    return 0;
}

int fkc_senders_body_parse(const char *body, size_t len, char (*out)[FKC_PREFIX_TEXT_MAX],
                           size_t max, size_t *n, char *err, size_t errsize)
{
    *n = 0;
    if (!body || !len)
        return 0; /* no body (a DELETE of the whole sender) */
    fkc_rd r;
    fkc_rd_init(&r, body, len, err, errsize);
    if (fkc_rd_at_end(&r))
        return 0;
    if (!fkc_rd_eat(&r, '{'))
        return fkc_rd_fail(&r, "expected an object");
    if (!fkc_rd_eat(&r, '}')) {
        char key[16];
        if (fkc_rd_str(&r, key, sizeof key) < 0)
            return -1;
        if (strcmp(key, "prefixes") != 0)
            return fkc_rd_fail(&r, "unknown key (prefixes only)");
        if (!fkc_rd_eat(&r, ':') || !fkc_rd_eat(&r, '['))
            return fkc_rd_fail(&r, "expected \"prefixes\": [");
        if (!fkc_rd_eat(&r, ']')) {
            do {
                if (*n >= max)
                    return fkc_rd_fail(&r, "too many prefixes");
                if (one_prefix(&r, out[*n]) < 0)
                    return -1;
                (*n)++;
            } while (fkc_rd_eat(&r, ','));
            if (!fkc_rd_eat(&r, ']'))
                return fkc_rd_fail(&r, "expected ']'");
        }
        if (!fkc_rd_eat(&r, '}'))
            return fkc_rd_fail(&r, "expected '}'");
    }
    if (!fkc_rd_at_end(&r))
        return fkc_rd_fail(&r, "text after the object");
    return 0;
}
