/* Internal: a ring of time buckets (bytes, packets, flows) over caller
 * memory. Bucket k covers [k * step, (k + 1) * step); the ring holds the
 * newest `n` buckets up to the newest one written. Buckets are zeroed as
 * the ring reaches them, not at attach: a series set up for a new address
 * costs nothing until it is written, and then one bucket. */
#ifndef FK_STORE_SERIES_H
#define FK_STORE_SERIES_H

#include <stddef.h>
#include <stdint.h>

typedef struct fk__cnt {
    uint64_t bytes, packets, flows;
} fk__cnt;

typedef struct fk__series {
    int64_t step_ns;
    uint32_t n;
    int64_t last;  /* bucket number of the newest bucket, INT64_MIN when empty */
    int64_t first; /* the oldest bucket written since attach or since a jump of the
                    * ring; older ones within reach count as zero */
    fk__cnt *b;
} fk__series;

size_t fk__series_mem(uint32_t n);
/* Use mem (fk__series_mem(n) bytes, whatever they hold): an empty series. */
void fk__series_attach(fk__series *s, void *mem, uint32_t n, int64_t step_ns);
/* Add to the bucket of t_ns. Returns -1 (nothing added) when t_ns is older
 * than the ring reaches, else 0. */
int fk__series_add(fk__series *s, int64_t t_ns, const fk__cnt *c);
/* Sum of the buckets within [from_ns, to_ns) that the ring still holds. */
fk__cnt fk__series_sum(const fk__series *s, int64_t from_ns, int64_t to_ns);

#endif
