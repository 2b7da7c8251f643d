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
#include <string.h>

#include "core/mix.h"

/* A slot keeps the entry and the hash bits that place it, so probes skip
 * other keys and deletion moves entries without reading them. */
typedef struct fk__sidx_slot {
    uint32_t e;   /* entry + 1; 0 = empty */
    uint32_t tag; /* fk__sidx_tag of the entry's hash */
} fk__sidx_slot;

typedef struct fk__sidx {
    fk__sidx_slot *slot; /* mask + 1 slots */
    uint32_t mask;
} fk__sidx;

/* Slots for an index of at most cap entries (a power of two >= 2 cap). */
size_t fk__sidx_slots(uint32_t cap);
/* Use caller memory of fk__sidx_slots(cap) * sizeof(fk__sidx_slot) bytes, zeroed. */
void fk__sidx_attach(fk__sidx *x, fk__sidx_slot *mem, uint32_t cap);
void fk__sidx_clear(fk__sidx *x);

/* The bits of a 64-bit hash the index keeps; its low bits place the entry. */
static inline uint32_t fk__sidx_tag(uint64_t h)
{
    return (uint32_t)(h ^ (h >> 29));
}
/* First slot to probe for a tag and the next one. */
static inline uint32_t fk__sidx_start(const fk__sidx *x, uint32_t tag)
{
    return tag & x->mask;
}
static inline uint32_t fk__sidx_next(const fk__sidx *x, uint32_t pos)
{
    return (pos + 1) & x->mask;
}

void fk__sidx_insert(fk__sidx *x, uint32_t tag, uint32_t entry);
/* Remove entry (nothing happens when it is not there under tag). */
void fk__sidx_remove(fk__sidx *x, uint32_t tag, uint32_t entry);

/* 64-bit hash of a key's bytes (keys are 1 to 40 bytes); inline: the
 * add path hashes a few short keys per flow. */
static inline uint64_t fk__store_hash(const void *p, size_t n)
{
    return fk__hash_bytes(p, n);
}

#endif
