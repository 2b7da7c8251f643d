/* Open-addressing index with backward-shift deletion (see sidx.h). */
#include <string.h>

#include "store/sidx.h"

size_t fk__sidx_slots(uint32_t cap)
{
    size_t n = 4;
    while (n < (size_t)cap * 2)
        n <<= 1;
    return n;
}

void fk__sidx_attach(fk__sidx *x, uint32_t *mem, uint32_t cap)
{
    x->slot = mem;
    x->mask = (uint32_t)fk__sidx_slots(cap) - 1;
}

void fk__sidx_clear(fk__sidx *x)
{
    memset(x->slot, 0, ((size_t)x->mask + 1) * sizeof *x->slot);
}

void fk__sidx_insert(fk__sidx *x, uint64_t h, uint32_t entry)
{
    uint32_t pos = fk__sidx_start(x, h);
    while (x->slot[pos])
        pos = fk__sidx_next(x, pos);
    x->slot[pos] = entry + 1;
}

void fk__sidx_remove(fk__sidx *x, uint64_t h, uint32_t entry, fk__sidx_hash_fn hash,
                     const void *ctx)
{
    uint32_t pos = fk__sidx_start(x, h);
    while (x->slot[pos] != entry + 1) {
        if (!x->slot[pos])
            return; /* not present: nothing to do */
        pos = fk__sidx_next(x, pos);
    }
    /* Shift later members of the probe run back into the hole when their
     * home slot does not lie cyclically in (hole, pos]. */
    uint32_t hole = pos;
    for (;;) {
        pos = fk__sidx_next(x, pos);
        uint32_t e = x->slot[pos];
        if (!e)
            break;
        uint32_t home = fk__sidx_start(x, hash(ctx, e - 1));
        bool stays = hole <= pos ? (home > hole && home <= pos) : (home > hole || home <= pos);
        if (!stays) {
            x->slot[hole] = e;
            hole = pos;
        }
    }
    x->slot[hole] = 0;
}

static uint64_t mix(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 33;
    return h;
}

uint64_t fk__store_hash(const void *p, size_t n)
{
    /* Eight bytes at a time (keys are 17 to 40 bytes): multiply-rotate per
     * word, the murmur3 finalizer at the end. */
    const unsigned char *b = p;
    uint64_t h = 0x9e3779b97f4a7c15ull ^ n;
    for (; n >= 8; n -= 8, b += 8) {
        uint64_t w;
        memcpy(&w, b, 8);
        h = (h ^ (w * 0x87c37b91114253d5ull)) * 0x4cf5ad432745937full;
        h = (h << 31) | (h >> 33);
    }
    uint64_t w = 0;
    memcpy(&w, b, n);
    h ^= w * 0x87c37b91114253d5ull;
    return mix(h);
}
