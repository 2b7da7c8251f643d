/* Flow counters by key (aggtable.h): open addressing, linear probing,
 * doubled at 50% load; a slot is free while its flow count is 0. */
/* _GNU_SOURCE (qsort_r) comes from cli/common. */
#include "aggtable.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

void agg_key_of(agg_key *out, unsigned mask, const fk_flow *f, int swap)
{
    memset(out, 0, sizeof *out);
    if (swap) {
        if (mask & AGG_SRCIP)
            memcpy(&out->src, &f->dst, sizeof out->src);
        if (mask & AGG_SRCPORT)
            out->sport = f->dst_port;
    } else {
        if (mask & AGG_SRCIP)
            memcpy(&out->src, &f->src, sizeof out->src);
        if (mask & AGG_DSTIP)
            memcpy(&out->dst, &f->dst, sizeof out->dst);
        if (mask & AGG_SRCPORT)
            out->sport = f->src_port;
        if (mask & AGG_DSTPORT)
            out->dport = f->dst_port;
    }
    if (mask & AGG_PROTO)
        out->proto = f->proto;
}

_Static_assert(sizeof(agg_key) == 40, "agg_key is five words");

/* The key's five words, each multiplied by its own odd constant and
 * summed (independent multiplies, no chain), then splitmix64's finaliser
 * spreads every bit to the low (index) bits. Keys are zero-padded, so
 * equal keys hash the same. */
static inline uint64_t hash_key(const agg_key *k)
{
    uint64_t w[5];
    memcpy(w, k, sizeof w);
    uint64_t h = w[0] * 0x9e3779b97f4a7c15ull + w[1] * 0xc2b2ae3d27d4eb4full +
                 w[2] * 0x165667b19e3779f9ull + w[3] * 0xd6e8feb86659fd93ull +
                 w[4] * 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    return h ^ (h >> 29);
}

static inline bool key_eq(const agg_key *a, const agg_key *b)
{
    uint64_t x[5], y[5];
    memcpy(x, a, sizeof x);
    memcpy(y, b, sizeof y);
    return ((x[0] ^ y[0]) | (x[1] ^ y[1]) | (x[2] ^ y[2]) | (x[3] ^ y[3]) | (x[4] ^ y[4])) == 0;
}

/* A used slot has counted at least one flow. */
static int grow(aggtable *t)
{
    size_t cap = t->cap ? t->cap * 2 : 1024;
    agg_entry *slots = calloc(cap, sizeof *slots);
    if (!slots)
        return -1;
    for (size_t i = 0; i < t->cap; i++) {
        if (!t->slots[i].flows)
            continue;
        size_t j = hash_key(&t->slots[i].key) & (cap - 1);
        while (slots[j].flows)
            j = (j + 1) & (cap - 1);
        slots[j] = t->slots[i];
    }
    free(t->slots);
    t->slots = slots;
    t->cap = cap;
    return 0;
}

int agg_add(aggtable *t, const agg_key *key, const fk_flow *f)
{
    if ((t->count + 1) * 2 > t->cap && grow(t) < 0)
        return -1;
    size_t j = hash_key(key) & (t->cap - 1);
    agg_entry *e = &t->slots[j];
    while (e->flows && !key_eq(&e->key, key)) {
        j = (j + 1) & (t->cap - 1);
        e = &t->slots[j];
    }
    if (!e->flows) {
        t->count++;
        e->key = *key;
        e->first_ns = f->start_ns;
        e->last_ns = f->end_ns;
    }
    e->flows++;
    e->packets += f->packets;
    e->bytes += f->bytes;
    if (f->start_ns < e->first_ns)
        e->first_ns = f->start_ns;
    if (f->end_ns > e->last_ns)
        e->last_ns = f->end_ns;
    return 0;
}

static int cmp_u64_desc(uint64_t a, uint64_t b)
{
    return a > b ? -1 : a < b ? 1 : 0;
}

static int cmp_entry(const void *pa, const void *pb, void *order)
{
    const agg_entry *a = pa, *b = pb;
    int c = 0;
    switch (*(const agg_order *)order) {
    case ORDER_FLOWS:
        c = cmp_u64_desc(a->flows, b->flows);
        break;
    case ORDER_PACKETS:
        c = cmp_u64_desc(a->packets, b->packets);
        break;
    case ORDER_BYTES:
        c = cmp_u64_desc(a->bytes, b->bytes);
        break;
    case ORDER_TSTART:
        c = a->first_ns < b->first_ns ? -1 : a->first_ns > b->first_ns;
        break;
    case ORDER_TEND:
        c = a->last_ns < b->last_ns ? -1 : a->last_ns > b->last_ns;
        break;
    }
    return c ? c : memcmp(&a->key, &b->key, sizeof a->key);
}

agg_entry *agg_sorted(const aggtable *t, agg_order order)
{
    if (t->count == 0)
        return NULL;
    agg_entry *out = malloc(t->count * sizeof *out);
    if (!out)
        return NULL;
    size_t n = 0;
    for (size_t i = 0; i < t->cap; i++)
        if (t->slots[i].flows)
            out[n++] = t->slots[i];
    qsort_r(out, n, sizeof *out, cmp_entry, &order);
    return out;
}

void agg_free(aggtable *t)
{
    free(t->slots);
    memset(t, 0, sizeof *t);
}
