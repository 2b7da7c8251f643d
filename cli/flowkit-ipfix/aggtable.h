/* A hash table of flow counters by key (some of src/dst address, src/dst
 * port, protocol): flowkit-ipfix's statistics (-s) and aggregation (-A).
 * Memory grows with the number of distinct keys only. */
#ifndef FLOWKIT_IPFIX_AGGTABLE_H
#define FLOWKIT_IPFIX_AGGTABLE_H

#include <flowkit/flowkit.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Key fields. */
enum {
    AGG_SRCIP = 1,
    AGG_DSTIP = 2,
    AGG_SRCPORT = 4,
    AGG_DSTPORT = 8,
    AGG_PROTO = 16,
};

/* Orders (descending counters; ascending times). */
typedef enum agg_order {
    ORDER_FLOWS,
    ORDER_PACKETS,
    ORDER_BYTES,
    ORDER_TSTART,
    ORDER_TEND
} agg_order;

/* A key: fields outside the table's mask are zero. Built by agg_key_of();
 * padding is zero so keys hash and compare as bytes. */
typedef struct agg_key {
    fk_addr src, dst;
    uint16_t sport, dport;
    uint8_t proto;
} agg_key;

typedef struct agg_entry {
    agg_key key;
    uint64_t flows, packets, bytes;
    int64_t first_ns, last_ns;
} agg_entry;

typedef struct aggtable {
    unsigned mask;    /* AGG_* */
    agg_entry *slots; /* free while flows == 0 */
    size_t cap, count;
    uint64_t seed; /* of agg_hash: 0 until the first agg_grow() draws one (agg_seed()) */
} aggtable;

/* The key of f under mask. With swap, the destination fields take the
 * source slots (statistics over "either end": ip, port). */
static inline void agg_key_of(agg_key *out, unsigned mask, const fk_flow *f, int swap)
{
    memset(out, 0, sizeof *out);
    if (swap) {
        if (mask & AGG_SRCIP)
            out->src = f->dst;
        if (mask & AGG_SRCPORT)
            out->sport = f->dst_port;
    } else {
        if (mask & AGG_SRCIP)
            out->src = f->src;
        if (mask & AGG_DSTIP)
            out->dst = f->dst;
        if (mask & AGG_SRCPORT)
            out->sport = f->src_port;
        if (mask & AGG_DSTPORT)
            out->dport = f->dst_port;
    }
    if (mask & AGG_PROTO)
        out->proto = f->proto;
}

_Static_assert(sizeof(agg_key) == 40, "agg_key is five words");

static inline uint64_t agg_word(const agg_key *k, size_t i)
{
    uint64_t w;
    memcpy(&w, (const unsigned char *)k + i * 8, 8);
    return w;
}

/* One key word under the table's seed: XORed, multiplied by an odd
 * constant, its high half folded into the low (a bijection of w, and no
 * longer linear in it). */
static inline uint64_t agg_mix(uint64_t w, uint64_t seed, uint64_t c)
{
    uint64_t x = (w ^ seed) * c;
    return x ^ (x >> 32);
}

/* The key's five words mixed with the table's seed (agg_mix: independent
 * multiplies, no chain) and summed, then splitmix64's finaliser spreads
 * every bit to the low (index) bits. Keys are zero-padded, so equal keys
 * hash the same. The seed is random per table (agg_seed()), and the mix
 * not linear: a file cannot hold many keys of one hash, all in one probe
 * run (quadratic), as it could when the words were only multiplied and
 * summed. */
static inline uint64_t agg_hash(const agg_key *k, uint64_t seed)
{
    uint64_t h = agg_mix(agg_word(k, 0), seed, 0x9e3779b97f4a7c15ull) +
                 agg_mix(agg_word(k, 1), seed, 0xc2b2ae3d27d4eb4full) +
                 agg_mix(agg_word(k, 2), seed, 0x165667b19e3779f9ull) +
                 agg_mix(agg_word(k, 3), seed, 0xd6e8feb86659fd93ull) +
                 agg_mix(agg_word(k, 4), seed, 0xff51afd7ed558ccdull);
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    return h ^ (h >> 29);
}

static inline bool agg_key_eq(const agg_key *a, const agg_key *b)
{
    return ((agg_word(a, 0) ^ agg_word(b, 0)) | (agg_word(a, 1) ^ agg_word(b, 1)) |
            (agg_word(a, 2) ^ agg_word(b, 2)) | (agg_word(a, 3) ^ agg_word(b, 3)) |
            (agg_word(a, 4) ^ agg_word(b, 4))) == 0;
}

/* A random hash seed (getrandom; the clock and an address if that fails), never 0. */
uint64_t agg_seed(void);

/* Double the table (the slow part of agg_add); the first call draws the
 * seed unless one was set. 0, or -1 when out of memory. */
int agg_grow(aggtable *t);

/* Add f's counters under key. 0, or -1 when out of memory. */
static inline int agg_add(aggtable *t, const agg_key *key, const fk_flow *f)
{
    if ((t->count + 1) * 2 > t->cap && agg_grow(t) < 0)
        return -1;
    size_t j = agg_hash(key, t->seed) & (t->cap - 1);
    agg_entry *e = &t->slots[j];
    while (e->flows && !agg_key_eq(&e->key, key)) {
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

/* Sort v[0..n) by order (ties by key). */
void agg_sort(agg_entry *v, size_t n, agg_order order);

/* Put the first k of v[0..n) by order (ties by key: a total order, so
 * the same k a full sort puts first) in v[0..k), sorted; the rest is left
 * in any order. k = 0: sort all. O(n log k). */
void agg_top(agg_entry *v, size_t n, size_t k, agg_order order);

/* Copy t's entries to out[0..t->count), in slot order; returns t->count. */
size_t agg_entries(const aggtable *t, agg_entry *out);

void agg_free(aggtable *t);

#endif
