/* Flow counters by a key that packs into 128 bits (IPv4 addresses, ports
 * and protocol; or one IPv6 address): the fast path's tables for flowkit-ipfix's
 * statistics (-s) and aggregation (-A), beside the general table (aggtable.h) that takes every
 * other key (IPv6 addresses beside other fields). Open addressing, linear probing, Fibonacci
 * (multiplicative) hashing, doubled at 50% load: memory grows with the number of distinct keys
 * only. Times are kept as the records hold them (one time form per table, qtime.h) and converted
 * when the table is read out. */
#ifndef FLOWKIT_IPFIX_AGGSMALL_H
#define FLOWKIT_IPFIX_AGGSMALL_H

#include <stddef.h>
#include <stdint.h>

#include "aggtable.h"

/* A packed key: IPv4 tables hold the fields where aggs_layout() puts them
 * (bit shifts 0..127, hi the upper 64), IPv6 ones one address, hi its
 * first 8 octets. */
typedef struct aggs_key {
    uint64_t hi, lo;
} aggs_key;

typedef struct aggs_entry {
    aggs_key key;
    uint64_t flows, packets, bytes;
    uint64_t first, last; /* raw times, in the table's forms */
} aggs_entry;

typedef struct aggsmall {
    aggs_entry *slots; /* free while flows == 0 */
    size_t cap, count;
    unsigned shift;           /* 64 - log2(cap): the hash's top bits index */
    uint64_t seed;            /* of aggs_index: 0 until the first aggs_grow() draws one */
    int start_form, end_form; /* T_* of first and last; -1 until claimed */
    int v6;                   /* keys are one IPv6 address */
} aggsmall;

/* An empty table (v6: of IPv6 addresses) whose time forms are not yet claimed. */
#define AGGSMALL_INIT(v6)                                                                          \
    {                                                                                              \
        NULL, 0, 0, 64, 0, -1, -1, v6                                                              \
    }

/* Where each key field of mask (AGG_*, addresses IPv4) sits in the packed
 * key: shifts[i] is the bit offset of field 1 << i, 0..127 (64 and up: in
 * hi), no field across the two words. Returns the bits the fields take
 * (at most 104: every IPv4 key packs). */
unsigned aggs_layout(unsigned mask, unsigned shifts[5]);

/* Double the table. 0, or -1 when out of memory. */
int aggs_grow(aggsmall *t);

/* Both words mixed with the table's random seed (agg_mix) and summed,
 * then Fibonacci hashing: the top bits of the product index the table.
 * Unseeded and linear (lo + hi * c), a file could hold many keys of one
 * sum, all in one probe run (quadratic). */
static inline size_t aggs_index(aggs_key k, uint64_t seed, unsigned shift)
{
    uint64_t h =
        agg_mix(k.lo, seed, 0xd6e8feb86659fd93ull) + agg_mix(k.hi, seed, 0xc2b2ae3d27d4eb4full);
    return (size_t)((h * 0x9e3779b97f4a7c15ull) >> shift);
}

/* The slot of key: its entry, or the free slot where it goes. */
static inline aggs_entry *aggs_find(const aggsmall *t, aggs_key key)
{
    size_t mask = t->cap - 1, j = aggs_index(key, t->seed, t->shift);
    aggs_entry *e = &t->slots[j];
    while (e->flows && ((e->key.lo ^ key.lo) | (e->key.hi ^ key.hi))) {
        j = (j + 1) & mask;
        e = &t->slots[j];
    }
    return e;
}

/* Count one flow under key with its counters and raw times. 0, or -1
 * when out of memory. The table grows only when a new key would fill it
 * past half. */
static inline __attribute__((always_inline)) int
aggs_add(aggsmall *t, aggs_key key, uint64_t packets, uint64_t bytes, uint64_t first, uint64_t last)
{
    if (!t->cap && aggs_grow(t) < 0)
        return -1;
    aggs_entry *e = aggs_find(t, key);
    if (!e->flows) {
        if ((t->count + 1) * 2 > t->cap) {
            if (aggs_grow(t) < 0)
                return -1;
            e = aggs_find(t, key);
        }
        t->count++;
        e->key = key;
        e->first = first;
        e->last = last;
    }
    e->flows++;
    e->packets += packets;
    e->bytes += bytes;
    if (first < e->first)
        e->first = first;
    if (last > e->last)
        e->last = last;
    return 0;
}

/* The general key of a packed one of t (mask as given to aggs_layout()). */
void aggs_unpack(const aggsmall *t, unsigned mask, aggs_key key, agg_key *out);

/* Write t's entries as general entries (keys unpacked, times in ns) to
 * out[0..t->count), in slot order. */
void aggs_export(const aggsmall *t, unsigned mask, agg_entry *out);

/* Every key of the general table t and of s[0..ns) (keyed by t->mask), in
 * a new array the caller frees (*n entries, a key in several added up),
 * unsorted (agg_sort()). NULL with *n = 0 when all are empty; NULL when
 * out of memory. */
agg_entry *aggs_rows(const aggtable *t, const aggsmall *s, size_t ns, size_t *n);

void aggs_free(aggsmall *t);

#endif
