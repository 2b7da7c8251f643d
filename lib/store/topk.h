/* Internal: space-saving summaries (Metwally, Agrawal, El Abbadi 2005) of
 * a fixed number of keys weighted by bytes. A new key that finds the
 * summary full replaces the entry with the fewest bytes and inherits its
 * counts as its error, so any key with more than total/capacity bytes is
 * always present and no count is ever below the truth. */
#ifndef FK_STORE_TOPK_H
#define FK_STORE_TOPK_H

#include "store/sidx.h"

#include <stdbool.h>
#include <string.h>

/* A compact key: addresses as family byte + 16 bytes, ports, protocol or a
 * process name; compared and hashed as raw bytes (always zero-padded). */
#define FK__SKEY_SIZE 40
typedef struct fk__skey {
    uint8_t b[FK__SKEY_SIZE];
} fk__skey;

/* Key lengths: keys are compared and hashed over their first klen bytes
 * only (the rest is always zero), so an address key hashes exactly as its
 * fk_addr does and one hash serves every table keyed by that address. */
#define FK__SKEY_ADDR 17 /* sizeof(fk_addr): family + 16 bytes */
#define FK__SKEY_PAIR 34 /* two addresses */
#define FK__SKEY_PORT 3  /* protocol + port */
#define FK__SKEY_PROTO 1

/* Whether two keys are equal (all FK__SKEY_SIZE bytes): five word
 * compares inline instead of a call to memcmp. */
static inline bool fk__skey_eq(const fk__skey *a, const fk__skey *b)
{
    uint64_t d = 0;
    for (size_t i = 0; i < FK__SKEY_SIZE; i += 8) {
        uint64_t x, y;
        memcpy(&x, a->b + i, 8);
        memcpy(&y, b->b + i, 8);
        d |= x ^ y;
    }
    return d == 0;
}

typedef struct fk__ss_entry {
    fk__skey key;
    uint64_t bytes, packets, flows, error;
} fk__ss_entry;

/* A heap node carries its entry's bytes as they were when the node last
 * moved (a lower bound: hits add to the entry only), so sifting reads the
 * heap only, and its index tag, so evicting the root needs no rehash. */
typedef struct fk__ss_node {
    uint64_t bytes;
    uint32_t e;
    uint32_t tag;
} fk__ss_node;

typedef struct fk__ss {
    uint32_t cap, n;
    uint32_t klen; /* significant bytes of every key */
    bool evicted;  /* an entry was replaced since the last clear: keys it
                    * does not hold may have up to its smallest count */
    fk__ss_entry *e;
    fk__ss_node *heap; /* min-heap by node bytes (see fk__ss_node) */
    uint32_t *pos;     /* pos[entry] = its place in heap */
    fk__sidx idx;
} fk__ss;

/* Bytes of caller memory a summary of cap entries needs. */
size_t fk__ss_mem(uint32_t cap);
/* Use mem (fk__ss_mem(cap) bytes, zeroed, suitably aligned) for keys of
 * klen significant bytes (1 to FK__SKEY_SIZE). */
void fk__ss_attach(fk__ss *s, void *mem, uint32_t cap, uint32_t klen);
void fk__ss_clear(fk__ss *s);
/* Hash of a key of klen significant bytes (what fk__ss_add wants). */
static inline uint64_t fk__ss_hash(const fk__skey *k, uint32_t klen)
{
    return fk__store_hash(k->b, klen);
}
/* Add weight to a key whose hash is h (fk__ss_hash(k, s->klen)). Returns 1
 * when an entry was replaced, else 0. */
int fk__ss_add(fk__ss *s, const fk__skey *k, uint64_t h, uint64_t bytes, uint64_t packets,
               uint64_t flows);
/* Start fetching the memory fk__ss_add(s, k, h, ...) reads first. */
static inline void fk__ss_prefetch(const fk__ss *s, uint64_t h)
{
    __builtin_prefetch(&s->idx.slot[fk__sidx_start(&s->idx, fk__sidx_tag(h))]);
}
/* Entry of a key, or NULL. */
const fk__ss_entry *fk__ss_find(const fk__ss *s, const fk__skey *k);

/* Internal to topk.c and topk_batch.c: the entry of key k under tag, or
 * -1; the root brought up to its entry's bytes (then the smallest). */
int fk__ss_lookup(const fk__ss *s, const fk__skey *k, uint32_t tag);
void fk__ss_settle_root(fk__ss *s);
void fk__ss_sift_up(fk__ss *s, uint32_t at);
void fk__ss_sift_down(fk__ss *s, uint32_t at);

/* Batch-merged space-saving (topk_batch.c). A batch is a list of weighted
 * keys for one summary; fk__ss_add_batch merges it in one pass: hits add
 * to their entries, new keys fill free entries, and when the summary is
 * full the remaining new keys (candidates, each summed over the batch)
 * are given m + their weight, m being the smallest count the summary held
 * before the batch (every key it does not hold has at most m bytes), and
 * the cap largest of entries and candidates are kept: one selection, one
 * rebuild, instead of an eviction with a heap sift per key. Bounds (see
 * docs/store.md): counts never below the truth, at most `error` (<= m)
 * above it; the kept counts sum to at most the bytes added, so m <=
 * total / cap and any key with more than total / cap bytes is held. */
typedef struct fk__ss_item {
    fk__skey key;
    uint64_t h; /* fk__ss_hash(&key, klen) */
    uint64_t bytes, packets, flows;
} fk__ss_item;

/* Caller memory a batch merge of at most nitems items into a summary of at
 * most cap entries uses (one scratch serves every summary). */
typedef struct fk__ss_sel {
    uint64_t bytes;
    uint32_t id; /* entry (< cap) or cap + candidate number */
} fk__ss_sel;

typedef struct fk__ss_scratch {
    uint32_t nitems, cap;
    fk__sidx idx;    /* candidates of the batch by key */
    uint32_t *cand;  /* item number of each candidate */
    fk__ss_sel *sel; /* cap + nitems */
} fk__ss_scratch;

size_t fk__ss_scratch_mem(uint32_t nitems, uint32_t cap);
/* Use mem (fk__ss_scratch_mem bytes, zeroed, suitably aligned). */
void fk__ss_scratch_attach(fk__ss_scratch *x, void *mem, uint32_t nitems, uint32_t cap);
/* Merge items[0..n) (n <= x->nitems; the array is used up: duplicates are
 * summed into it) into s. Returns the candidates that found the summary
 * full (each replaced an entry or was dropped itself): the evictions. */
uint64_t fk__ss_add_batch(fk__ss *s, fk__ss_item *items, uint32_t n, fk__ss_scratch *x);

#endif
