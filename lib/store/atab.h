/* Internal: a fixed table of per-address records with least-recently-used
 * eviction, over caller memory. Each record starts with fk__atab_hdr; the
 * owner lays out the rest (recsize bytes in all). The LRU list lives in an
 * array of its own (8 bytes a record), so moving a record to the front
 * writes to that small array, not to its neighbours' records. */
#ifndef FK_STORE_ATAB_H
#define FK_STORE_ATAB_H

#include <flowkit/flow.h>

#include "store/sidx.h"

#define FK__ATAB_NONE UINT32_MAX

typedef struct fk__atab_hdr {
    fk_addr addr;
} fk__atab_hdr;

typedef struct fk__atab_link {
    uint32_t prev, next; /* LRU list: prev is more recent */
} fk__atab_link;

typedef struct fk__atab {
    uint32_t cap, n;
    size_t recsize;
    unsigned char *rec;
    fk__sidx idx;
    fk__atab_link *link; /* [record] */
    uint32_t head, tail; /* most and least recently used */
} fk__atab;

size_t fk__atab_mem(uint32_t cap, size_t recsize);
void fk__atab_attach(fk__atab *t, void *mem, uint32_t cap, size_t recsize);

static inline void *fk__atab_at(const fk__atab *t, uint32_t i)
{
    return t->rec + (size_t)i * t->recsize;
}

/* Hash of an address as the table keys it (the same as fk__ss_hash of its
 * FK__SKEY_ADDR key). */
static inline uint64_t fk__atab_hash(const fk_addr *a)
{
    return fk__store_hash(a, sizeof *a);
}
/* Start fetching the index slot of hash h. */
static inline void fk__atab_prefetch(const fk__atab *t, uint64_t h)
{
    __builtin_prefetch(&t->idx.slot[fk__sidx_start(&t->idx, fk__sidx_tag(h))]);
}

/* Index of addr's record, or FK__ATAB_NONE. */
uint32_t fk__atab_find(const fk__atab *t, const fk_addr *addr);
/* Index of addr's record (h = fk__atab_hash(addr)), made most recent. A
 * missing address gets a zeroed record (header set; *fresh = 1), taking the
 * least recently used one when full (*evicted = 1). */
uint32_t fk__atab_get(fk__atab *t, const fk_addr *addr, uint64_t h, int *fresh, int *evicted);

#endif
