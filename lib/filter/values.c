/* Values in filters: numbers with scale suffixes, comparison operators,
 * and addresses or networks (a/len, a/mask, a bare partial IPv4 network). */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/error.h"
#include "filter/parse_int.h"

/* An unsigned number of the current word, optionally scaled by k/m/g/t
 * (powers of 1000, as nfdump). */
int fk__fp_number(parser *p, bool scaled, uint64_t max, const char *what, uint64_t *out)
{
    char buf[32];
    if (p->tok.kind != TK_WORD || !fk__fp_tok_text(p, buf, sizeof buf) ||
        !isdigit((unsigned char)buf[0]))
        return fk__fp_fail(p, what);
    char *end;
    errno = 0;
    unsigned long long v = strtoull(buf, &end, 10);
    if (errno)
        return fk__fp_fail(p, what);
    uint64_t scale = 1;
    if (scaled && *end && !end[1]) {
        switch (tolower((unsigned char)*end)) {
        case 'k':
            scale = 1000ull;
            break;
        case 'm':
            scale = 1000000ull;
            break;
        case 'g':
            scale = 1000000000ull;
            break;
        case 't':
            scale = 1000000000000ull;
            break;
        default:
            return fk__fp_fail(p, what);
        }
        end++;
    }
    if (*end || v > max / scale)
        return fk__fp_fail(p, what);
    *out = (uint64_t)v * scale;
    fk__fp_next(p);
    return 0;
}

/* An optional comparator before a number; `=` when absent. */
fk__fcmp fk__fp_comparator(parser *p)
{
    fk__fcmp c = FC_EQ;
    if (p->tok.kind == TK_CMP)
        c = p->tok.cmp;
    else if (fk__fp_is_word(p, "eq"))
        c = FC_EQ;
    else if (fk__fp_is_word(p, "gt"))
        c = FC_GT;
    else if (fk__fp_is_word(p, "lt"))
        c = FC_LT;
    else if (fk__fp_is_word(p, "ge"))
        c = FC_GE;
    else if (fk__fp_is_word(p, "le"))
        c = FC_LE;
    else
        return c;
    fk__fp_next(p);
    return c;
}

/* Parse an fk__fp_address(optionally /prefix) from text into net; IPv4 may be
 * abbreviated ("172.16/12") when a prefix is given. */
bool fk__fp_net_text(char *text, bool allow_prefix, fk__fnet *net)
{
    memset(net, 0, sizeof *net);
    char *slash = strchr(text, '/');
    long prefix = -1;
    if (slash) {
        if (!allow_prefix || !isdigit((unsigned char)slash[1]))
            return false;
        char *end;
        prefix = strtol(slash + 1, &end, 10);
        if (*end || prefix < 0 || prefix > 128)
            return false;
        *slash = '\0';
    }
    char v4[32];
    if (!strchr(text, ':')) {
        /* pad an abbreviated IPv4 network: 172.16 -> 172.16.0.0 */
        int dots = 0;
        for (const char *c = text; *c; c++)
            dots += *c == '.';
        if (dots < 3 && slash && strlen(text) < 16) {
            snprintf(v4, sizeof v4, "%s", text);
            for (; dots < 3; dots++)
                strcat(v4, ".0");
            text = v4;
        }
        if (inet_pton(AF_INET, text, net->bytes) != 1)
            return false;
        net->family = 4;
        if (prefix > 32)
            return false;
        net->prefix = (uint8_t)(prefix < 0 ? 32 : prefix);
    } else {
        if (inet_pton(AF_INET6, text, net->bytes) != 1)
            return false;
        net->family = 6;
        net->prefix = (uint8_t)(prefix < 0 ? 128 : prefix);
    }
    /* clear host bits */
    for (unsigned b = net->prefix; b < 128; b++)
        net->bytes[b / 8] &= (uint8_t) ~(0x80u >> (b % 8));
    return true;
}

/* A dotted IPv4 netmask to a prefix length; -1 when not contiguous. */
int fk__fp_mask_prefix(const char *text)
{
    uint8_t m[4];
    if (inet_pton(AF_INET, text, m) != 1)
        return -1;
    uint32_t v = (uint32_t)m[0] << 24 | (uint32_t)m[1] << 16 | (uint32_t)m[2] << 8 | m[3];
    int n = 0;
    while (n < 32 && (v & (0x80000000u >> n)))
        n++;
    if (n < 32 && (v << n) != 0)
        return -1;
    return n;
}

/* One address or network word into net. */
int fk__fp_address(parser *p, bool allow_prefix, const char *what, fk__fnet *net)
{
    char buf[64];
    if (p->tok.kind != TK_WORD || !fk__fp_tok_text(p, buf, sizeof buf) ||
        !fk__fp_net_text(buf, allow_prefix, net))
        return fk__fp_fail(p, what);
    fk__fp_next(p);
    return 0;
}
