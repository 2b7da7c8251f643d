/* CIDR prefixes: parsing "ADDR/LEN" and matching addresses against a list
 * (the collector's --allow list, the store's --store-cidr list). */
#include "core/cidr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"

int fk__cidr_parse(const char *text, const char *what, fk__cidr *out)
{
    if (!text || !out)
        return fk__error(FK_EINVAL, "%s: NULL argument", what);
    memset(out, 0, sizeof *out);
    char host[64];
    const char *slash = strchr(text, '/');
    size_t n = slash ? (size_t)(slash - text) : strlen(text);
    if (n == 0 || n >= sizeof host)
        return fk__error(FK_EINVAL, "%s \"%s\": expected ADDR/LEN", what, text);
    memcpy(host, text, n);
    host[n] = '\0';
    int max_bits;
    if (inet_pton(AF_INET, host, out->addr) == 1) {
        out->family = 4;
        max_bits = 32;
    } else if (inet_pton(AF_INET6, host, out->addr) == 1) {
        out->family = 6;
        max_bits = 128;
    } else {
        return fk__error(FK_EINVAL, "%s \"%s\": \"%s\" is not an IPv4 or IPv6 address", what, text,
                         host);
    }
    long bits = max_bits;
    if (slash) {
        char *end = NULL;
        errno = 0;
        bits = strtol(slash + 1, &end, 10);
        if (slash[1] < '0' || slash[1] > '9' || *end != '\0' || errno || bits < 0 ||
            bits > max_bits)
            return fk__error(FK_EINVAL, "%s \"%s\": prefix length must be in [0, %d]", what, text,
                             max_bits);
    }
    out->bits = (uint8_t)bits;
    /* Clear host bits so matching is a plain masked compare. */
    for (int i = 0; i < 16; i++) {
        int keep = (int)bits - i * 8;
        if (keep >= 8)
            continue;
        out->addr[i] &= keep <= 0 ? 0 : (uint8_t)(0xff << (8 - keep));
    }
    return FK_OK;
}

static bool prefix_match(const uint8_t *net, const uint8_t *a, unsigned bits)
{
    unsigned full = bits / 8, rest = bits % 8;
    if (memcmp(net, a, full) != 0)
        return false;
    if (rest == 0)
        return true;
    uint8_t mask = (uint8_t)(0xff << (8 - rest));
    return (net[full] & mask) == (a[full] & mask);
}

bool fk__cidr_match(const fk__cidr *list, size_t n, const fk_addr *a)
{
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    const uint8_t *v4 = NULL;
    if (a->family == 4)
        v4 = a->bytes;
    else if (a->family == 6 && memcmp(a->bytes, mapped, 12) == 0)
        v4 = a->bytes + 12;
    for (size_t i = 0; i < n; i++) {
        if (list[i].family == 4 && v4 && prefix_match(list[i].addr, v4, list[i].bits))
            return true;
        if (list[i].family == 6 && a->family == 6 &&
            prefix_match(list[i].addr, a->bytes, list[i].bits))
            return true;
    }
    return false;
}
