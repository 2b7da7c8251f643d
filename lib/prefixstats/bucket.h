/* Internal: one bucket of prefix statistics — the `all` counters and, per
 * field, at most K values with their counters plus an `other` row that
 * sums what was folded out (flowkit/prefixstats.h, "Bounded"). */
#ifndef FK_PREFIXSTATS_BUCKET_H
#define FK_PREFIXSTATS_BUCKET_H

#include <flowkit/prefixstats.h>
#include <stdint.h>

#include "core/hmap.h"

/* Counters, [0] in, [1] out. */
typedef struct fk__ps_counts {
    uint64_t bytes[2], packets[2], flows[2];
} fk__ps_counts;

/* A field's value: an address (family 4 or 6, IPv4 in v[0..3]) or a
 * number (family 0, in v[0..3] in host order). No padding bytes. */
typedef struct fk__ps_value {
    uint8_t family;
    uint8_t pad[3];
    uint8_t v[16];
} fk__ps_value;

typedef struct fk__ps_table {
    fk__hmap map; /* fk__ps_value → fk__ps_counts */
    fk__ps_counts other;
    uint64_t folded;
    /* A lower bound of the smallest kept weight (kept values only grow):
     * a newcomer at most this heavy is folded without a scan. */
    uint64_t min_bound;
} fk__ps_table;

typedef struct fk__ps_bucket {
    int64_t index; /* bucket number at its granularity (calendar.h) */
    fk__ps_counts all;
    fk__ps_table fields[FK_PREFIXSTATS_FIELDS - 1]; /* proto .. dstip */
} fk__ps_bucket;

/* One direction of one record as seen from a prefix. */
typedef struct fk__ps_side {
    int dir; /* 0 in, 1 out */
    uint64_t bytes, packets;
    fk__ps_value values[FK_PREFIXSTATS_FIELDS - 1];
    uint64_t hashes[FK_PREFIXSTATS_FIELDS - 1]; /* fk__hmap_hash of each value */
} fk__ps_side;

fk__ps_bucket *fk__ps_bucket_new(int64_t index);
void fk__ps_bucket_free(fk__ps_bucket *b);
/* Count one side; *folded grows by the values folded into `other`.
 * FK_ENOMEM leaves the bucket consistent (the side is then partly counted
 * in the fields, fully in `all`). */
int fk__ps_bucket_add(fk__ps_bucket *b, const fk__ps_side *s, size_t top, uint64_t *folded);
/* Bytes held by a bucket (struct and tables). */
size_t fk__ps_bucket_memory(const fk__ps_bucket *b);
/* Most bytes a bucket may hold with `top` values per field. */
size_t fk__ps_bucket_bound(size_t top);
/* The rows of one field (see fk_prefixstats_get_rows()); FK_ENOSPACE when
 * capacity is too small. */
int fk__ps_bucket_rows(const fk__ps_bucket *b, fk_prefixstats_field f, fk_prefixstats_row *out,
                       size_t capacity, size_t *count);

#endif
