/* A hash table of flow counters by key (some of src/dst address, src/dst
 * port, protocol): flowkit-ipfix's statistics (-s) and aggregation (-A).
 * Memory grows with the number of distinct keys only. */
#ifndef FLOWKIT_IPFIX_AGGTABLE_H
#define FLOWKIT_IPFIX_AGGTABLE_H

#include <flowkit/flowkit.h>
#include <stddef.h>
#include <stdint.h>

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
} aggtable;

/* The key of f under mask. With swap, the destination fields take the
 * source slots (statistics over "either end": ip, port). */
void agg_key_of(agg_key *out, unsigned mask, const fk_flow *f, int swap);

/* Add f's counters under key. 0, or -1 when out of memory. */
int agg_add(aggtable *t, const agg_key *key, const fk_flow *f);

/* The entries sorted by order (ties by key), in a new array of t->count
 * entries the caller frees; NULL when out of memory or empty. */
agg_entry *agg_sorted(const aggtable *t, agg_order order);

void agg_free(aggtable *t);

#endif
