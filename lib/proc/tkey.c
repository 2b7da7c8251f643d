#include "proc/tkey.h"

#include <stdio.h>
#include <string.h>

#include "core/hmap.h"

void fk__tkey_addr_norm(uint8_t out[16], const fk_addr *a)
{
    memset(out, 0, 16);
    if (a->family == 4) {
        if (!(a->bytes[0] | a->bytes[1] | a->bytes[2] | a->bytes[3]))
            return;
        out[10] = out[11] = 0xff;
        memcpy(out + 12, a->bytes, 4);
    } else if (a->family == 6) {
        static const uint8_t mapped_any[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (memcmp(a->bytes, mapped_any, 16) == 0)
            return; /* ::ffff:0.0.0.0 is the v4 wildcard */
        memcpy(out, a->bytes, 16);
    }
}

void fk__tkey_addr(fk_addr *out, const uint8_t in[16])
{
    static const uint8_t prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    memset(out, 0, sizeof *out);
    if (memcmp(in, prefix, 12) == 0) {
        out->family = 4;
        memcpy(out->bytes, in + 12, 4);
    } else {
        out->family = 6;
        memcpy(out->bytes, in, 16);
    }
}

void fk__tkey_make(fk__tkey *k, uint8_t proto, const fk_addr *local, uint16_t lport,
                   const fk_addr *remote, uint16_t rport)
{
    memset(k, 0, sizeof *k);
    k->proto = proto;
    fk__tkey_addr_norm(k->l, local);
    fk__tkey_addr_norm(k->r, remote);
    k->lp = lport;
    k->rp = rport;
}

uint64_t fk__tkey_hash(const fk__tkey *k)
{
    return fk__hmap_hash(k, sizeof *k);
}

bool fk__tkey_eq(const fk__tkey *a, const fk__tkey *b)
{
    return memcmp(a, b, sizeof *a) == 0;
}

void fk__tkey_wild_remote(fk__tkey *out, const fk__tkey *k)
{
    *out = *k;
    memset(out->r, 0, 16);
    out->rp = 0;
}

void fk__tkey_format(const fk__tkey *k, char *buf, size_t size)
{
    char l[FK_ADDR_STRLEN], r[FK_ADDR_STRLEN];
    fk_addr la, ra;
    fk__tkey_addr(&la, k->l);
    fk__tkey_addr(&ra, k->r);
    if (fk_addr_format(&la, l, sizeof l) < 0)
        l[0] = '\0';
    if (fk_addr_format(&ra, r, sizeof r) < 0)
        r[0] = '\0';
    snprintf(buf, size, "%s %s:%u-%s:%u", k->proto == 6 ? "tcp" : "udp", l, k->lp, r, k->rp);
}
