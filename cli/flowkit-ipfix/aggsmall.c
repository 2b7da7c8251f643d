/* Flow counters by a packed 128-bit key (aggsmall.h). */
#include "aggsmall.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "qtime.h"

static const unsigned field_bits[5] = {32, 32, 16, 16, 8}; /* AGG_SRCIP .. AGG_PROTO */

unsigned aggs_layout(unsigned mask, unsigned shifts[5])
{
    unsigned at = 0;
    for (int i = 4; i >= 0; i--) { /* proto in the low bits, then ports, addresses */
        shifts[i] = 0;
        if (mask & (1u << i)) {
            shifts[i] = at;
            at += field_bits[i];
        }
    }
    if (at > 64) { /* the addresses in hi, the rest in lo: no field across the two */
        static const unsigned wide[5] = {96, 64, 24, 8, 0};
        memcpy(shifts, wide, sizeof wide);
    }
    return at;
}

/* The field at shift (aggs_layout()) of k. */
static uint64_t field_at(aggs_key k, unsigned shift)
{
    return shift >= 64 ? k.hi >> (shift - 64) : k.lo >> shift;
}

int aggs_grow(aggsmall *t)
{
    size_t cap = t->cap ? t->cap * 2 : 1024;
    unsigned shift = t->cap ? t->shift - 1 : 64 - 10;
    aggs_entry *slots = calloc(cap, sizeof *slots);
    if (!slots)
        return -1;
    if (!t->seed)
        t->seed = agg_seed();
    for (size_t i = 0; i < t->cap; i++) {
        if (!t->slots[i].flows)
            continue;
        size_t j = aggs_index(t->slots[i].key, t->seed, shift);
        while (slots[j].flows)
            j = (j + 1) & (cap - 1);
        slots[j] = t->slots[i];
    }
    free(t->slots);
    t->slots = slots;
    t->cap = cap;
    t->shift = shift;
    return 0;
}

static void addr6(fk_addr *a, aggs_key k)
{
    a->family = 6;
    for (int i = 0; i < 8; i++) {
        a->bytes[i] = (uint8_t)(k.hi >> (56 - 8 * i));
        a->bytes[8 + i] = (uint8_t)(k.lo >> (56 - 8 * i));
    }
}

void aggs_unpack(const aggsmall *t, unsigned mask, aggs_key k, agg_key *out)
{
    unsigned sh[5];
    (void)aggs_layout(mask, sh);
    memset(out, 0, sizeof *out);
    if (t->v6) { /* one address, the statistic's or aggregation's only key */
        addr6(mask & AGG_SRCIP ? &out->src : &out->dst, k);
        return;
    }
    if (mask & AGG_SRCIP) {
        uint32_t a = (uint32_t)field_at(k, sh[0]);
        out->src.family = 4;
        out->src.bytes[0] = (uint8_t)(a >> 24);
        out->src.bytes[1] = (uint8_t)(a >> 16);
        out->src.bytes[2] = (uint8_t)(a >> 8);
        out->src.bytes[3] = (uint8_t)a;
    }
    if (mask & AGG_DSTIP) {
        uint32_t a = (uint32_t)field_at(k, sh[1]);
        out->dst.family = 4;
        out->dst.bytes[0] = (uint8_t)(a >> 24);
        out->dst.bytes[1] = (uint8_t)(a >> 16);
        out->dst.bytes[2] = (uint8_t)(a >> 8);
        out->dst.bytes[3] = (uint8_t)a;
    }
    if (mask & AGG_SRCPORT)
        out->sport = (uint16_t)field_at(k, sh[2]);
    if (mask & AGG_DSTPORT)
        out->dport = (uint16_t)field_at(k, sh[3]);
    if (mask & AGG_PROTO)
        out->proto = (uint8_t)field_at(k, sh[4]);
}

void aggs_export(const aggsmall *t, unsigned mask, agg_entry *out)
{
    size_t n = 0;
    for (size_t i = 0; i < t->cap; i++) {
        const aggs_entry *e = &t->slots[i];
        if (!e->flows)
            continue;
        agg_entry *o = &out[n++];
        aggs_unpack(t, mask, e->key, &o->key);
        o->flows = e->flows;
        o->packets = e->packets;
        o->bytes = e->bytes;
        o->first_ns = qt_to_ns(e->first, (unsigned)t->start_form);
        o->last_ns = qt_to_ns(e->last, (unsigned)t->end_form);
    }
}

void aggs_free(aggsmall *t)
{
    int v6 = t->v6;
    free(t->slots);
    *t = (aggsmall)AGGSMALL_INIT(v6);
}

/* The packed key of t for a general one (aggs_unpack()'s inverse); false
 * when no key of t is it (another family, an absent address). */
static bool pack_key(const aggsmall *t, unsigned mask, const agg_key *g, aggs_key *out)
{
    *out = (aggs_key){0, 0};
    if (t->v6) {
        const fk_addr *a = mask & AGG_SRCIP ? &g->src : &g->dst;
        if (a->family != 6)
            return false;
        for (int i = 0; i < 8; i++) {
            out->hi = out->hi << 8 | a->bytes[i];
            out->lo = out->lo << 8 | a->bytes[8 + i];
        }
        return true;
    }
    unsigned sh[5];
    (void)aggs_layout(mask, sh);
    const fk_addr *addr[2] = {&g->src, &g->dst};
    uint64_t v[5] = {0, 0, g->sport, g->dport, g->proto};
    for (int i = 0; i < 2; i++) {
        if (!(mask & (1u << i)))
            continue;
        if (addr[i]->family != 4)
            return false;
        v[i] = (uint64_t)addr[i]->bytes[0] << 24 | (uint64_t)addr[i]->bytes[1] << 16 |
               (uint64_t)addr[i]->bytes[2] << 8 | addr[i]->bytes[3];
    }
    for (int i = 0; i < 5; i++)
        if (mask & (1u << i)) {
            if (sh[i] >= 64)
                out->hi |= v[i] << (sh[i] - 64);
            else
                out->lo |= v[i] << sh[i];
        }
    return true;
}

/* Whether a key of the general table t is in one of s[0..ns) too. */
static bool any_shared(const aggtable *t, const aggsmall *s, size_t ns)
{
    for (size_t i = 0; i < t->cap; i++) {
        if (!t->slots[i].flows)
            continue;
        for (size_t j = 0; j < ns; j++) {
            aggs_key k;
            if (s[j].count && pack_key(&s[j], t->mask, &t->slots[i].key, &k) &&
                aggs_find(&s[j], k)->flows)
                return true;
        }
    }
    return false;
}

static int cmp_key(const void *pa, const void *pb)
{
    const agg_entry *a = pa, *b = pb;
    return memcmp(&a->key, &b->key, sizeof a->key);
}

agg_entry *aggs_rows(const aggtable *t, const aggsmall *s, size_t ns, size_t *n)
{
    *n = 0;
    size_t total = t->count, parts = t->count > 0;
    for (size_t i = 0; i < ns; i++) {
        total += s[i].count;
        parts += s[i].count > 0;
    }
    if (total == 0)
        return NULL;
    agg_entry *v = malloc(total * sizeof *v);
    if (!v)
        return NULL;
    size_t k = agg_entries(t, v);
    for (size_t i = 0; i < ns; i++) {
        aggs_export(&s[i], t->mask, v + k);
        k += s[i].count;
    }
    /* a key in several tables (templates of one family on either path):
     * add them up; the packed tables' keys differ (one family each) */
    if (parts > 1 && t->count && any_shared(t, s, ns)) {
        qsort(v, total, sizeof *v, cmp_key);
        size_t w = 0;
        for (size_t i = 0; i < total; i++) {
            if (w && cmp_key(&v[w - 1], &v[i]) == 0) {
                agg_entry *e = &v[w - 1];
                e->flows += v[i].flows;
                e->packets += v[i].packets;
                e->bytes += v[i].bytes;
                if (v[i].first_ns < e->first_ns)
                    e->first_ns = v[i].first_ns;
                if (v[i].last_ns > e->last_ns)
                    e->last_ns = v[i].last_ns;
            } else {
                v[w++] = v[i];
            }
        }
        total = w;
    }
    *n = total;
    return v;
}
