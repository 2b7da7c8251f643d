/* Space-saving summaries over caller memory (see topk.h). */
#include <string.h>

#include "store/topk.h"

size_t fk__ss_mem(uint32_t cap)
{
    return (size_t)cap * sizeof(fk__ss_entry) + fk__sidx_slots(cap) * sizeof(uint32_t);
}

void fk__ss_attach(fk__ss *s, void *mem, uint32_t cap)
{
    s->cap = cap;
    s->n = 0;
    s->e = mem;
    fk__sidx_attach(&s->idx, (uint32_t *)(s->e + cap), cap);
}

void fk__ss_clear(fk__ss *s)
{
    s->n = 0;
    fk__sidx_clear(&s->idx);
}

static uint64_t entry_hash(const void *ctx, uint32_t i)
{
    const fk__ss *s = ctx;
    return fk__store_hash(s->e[i].key.b, FK__SKEY_SIZE);
}

static int lookup(const fk__ss *s, const fk__skey *k, uint64_t h)
{
    for (uint32_t pos = fk__sidx_start(&s->idx, h);; pos = fk__sidx_next(&s->idx, pos)) {
        uint32_t e = s->idx.slot[pos];
        if (!e)
            return -1;
        if (memcmp(s->e[e - 1].key.b, k->b, FK__SKEY_SIZE) == 0)
            return (int)(e - 1);
    }
}

const fk__ss_entry *fk__ss_find(const fk__ss *s, const fk__skey *k)
{
    int i = lookup(s, k, fk__store_hash(k->b, FK__SKEY_SIZE));
    return i < 0 ? NULL : &s->e[i];
}

int fk__ss_add(fk__ss *s, const fk__skey *k, uint64_t bytes, uint64_t packets, uint64_t flows)
{
    uint64_t h = fk__store_hash(k->b, FK__SKEY_SIZE);
    int i = lookup(s, k, h);
    int replaced = 0;
    if (i < 0) {
        if (s->n < s->cap) {
            i = (int)s->n++;
            memset(&s->e[i], 0, sizeof s->e[i]);
        } else {
            /* Replace the smallest entry; its counts become the newcomer's
             * error. A linear scan: summaries are small (tens to hundreds). */
            uint32_t min = 0;
            for (uint32_t j = 1; j < s->n; j++)
                if (s->e[j].bytes < s->e[min].bytes)
                    min = j;
            i = (int)min;
            fk__sidx_remove(&s->idx, entry_hash(s, min), min, entry_hash, s);
            s->e[i].error = s->e[i].bytes;
            replaced = 1;
        }
        s->e[i].key = *k;
        fk__sidx_insert(&s->idx, h, (uint32_t)i);
    }
    s->e[i].bytes += bytes;
    s->e[i].packets += packets;
    s->e[i].flows += flows;
    return replaced;
}
