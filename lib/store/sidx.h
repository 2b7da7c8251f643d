/* Internal: a fixed-size open-addressing index from a 64-bit hash to entry
 * numbers, for tables whose entries live in arrays owned by the caller.
 * Linear probing with backward-shift deletion (no tombstones), so a table
 * that sees endless inserts and removals never degrades. The caller keeps
 * the entries; the index keeps only entry number + 1 (0 = empty). */
#ifndef FK_STORE_SIDX_H
#define FK_STORE_SIDX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Hash of entry number i (the caller recomputes it from its entry). */
typedef uint64_t (*fk__sidx_hash_fn)(const void *ctx, uint32_t i);

typedef struct fk__sidx {
    uint32_t *slot; /* entry + 1, 0 empty; mask + 1 slots */
    uint32_t mask;
} fk__sidx;

/* Slots for an index of at most cap entries (a power of two >= 2 cap). */
size_t fk__sidx_slots(uint32_t cap);
/* Use caller memory of fk__sidx_slots(cap) * sizeof(uint32_t) bytes, zeroed. */
void fk__sidx_attach(fk__sidx *x, uint32_t *mem, uint32_t cap);
void fk__sidx_clear(fk__sidx *x);

/* First slot to probe for a hash and the next one. */
static inline uint32_t fk__sidx_start(const fk__sidx *x, uint64_t h)
{
    return (uint32_t)(h ^ (h >> 29)) & x->mask;
}
static inline uint32_t fk__sidx_next(const fk__sidx *x, uint32_t pos)
{
    return (pos + 1) & x->mask;
}

void fk__sidx_insert(fk__sidx *x, uint64_t h, uint32_t entry);
/* Remove entry (which must be present under hash h). */
void fk__sidx_remove(fk__sidx *x, uint64_t h, uint32_t entry, fk__sidx_hash_fn hash,
                     const void *ctx);

/* 64-bit hash of bytes (word-wise multiply-rotate, murmur3 finalizer). */
uint64_t fk__store_hash(const void *p, size_t n);

#endif
