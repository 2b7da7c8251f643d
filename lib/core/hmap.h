/* Internal: the library's one hash map. Open addressing with linear
 * probing and backward-shift deletion (no tombstones), keys and values of
 * fixed sizes stored inline, each slot's hash kept beside it (0 = empty)
 * so that growing and deleting never hash again. Keys are compared as
 * bytes: give struct keys no uninitialised padding (memset them).
 *
 * A zeroed fk__hmap is not usable; set the sizes with fk__hmap_init (or
 * FK__HMAP_INIT) first. Pointers to values stay valid until the next put
 * or delete on the map. */
#ifndef FK_CORE_HMAP_H
#define FK_CORE_HMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct fk__hmap {
    uint64_t *hashes;       /* cap slots; 0 = empty */
    unsigned char *entries; /* cap entries: the key, then the value at val_off */
    size_t key_size, val_size, val_off, entry_size;
    size_t cap; /* power of two, 0 before the first put */
    size_t count;
} fk__hmap;

#define FK__HMAP_INIT(key_type, val_type)                                                          \
    {                                                                                              \
        .key_size = sizeof(key_type), .val_size = sizeof(val_type),                                \
        .val_off = (sizeof(key_type) + 7) & ~(size_t)7,                                            \
        .entry_size =                                                                              \
            ((sizeof(key_type) + 7) & ~(size_t)7) + ((sizeof(val_type) + 7) & ~(size_t)7)          \
    }

void fk__hmap_init(fk__hmap *m, size_t key_size, size_t val_size);
/* Free the storage (the map can be used again, empty). */
void fk__hmap_free(fk__hmap *m);
/* Empty it, keeping its storage. */
void fk__hmap_clear(fk__hmap *m);

/* The hash of a key's bytes (never 0). */
uint64_t fk__hmap_hash(const void *key, size_t size);

/* The value stored under key, or NULL. */
void *fk__hmap_get(const fk__hmap *m, const void *key);
/* Insert or replace (val may be NULL: the value is zeroed on insert and
 * kept on replace). *val_out (optional) points at the stored value.
 * FK_ENOMEM when the map cannot grow. */
int fk__hmap_put(fk__hmap *m, const void *key, const void *val, void **val_out);
/* get and put with the key's hash given (it must be fk__hmap_hash(key,
 * key_size)): for a key looked up in several maps, hashed once. */
void *fk__hmap_get_hashed(const fk__hmap *m, const void *key, uint64_t h);
int fk__hmap_put_hashed(fk__hmap *m, const void *key, uint64_t h, const void *val, void **val_out);
/* Remove key; false when absent. */
bool fk__hmap_del(fk__hmap *m, const void *key);

/* Iterate: start with *pos = 0; each call gives the next entry (false at
 * the end). The order is the table's. */
bool fk__hmap_next(const fk__hmap *m, size_t *pos, const void **key, void **val);
/* Remove the entry the last fk__hmap_next() gave, continuing the same
 * iteration: every entry not yet given is still given once (an entry
 * already given may be given again when a deletion wraps it round). */
void fk__hmap_del_current(fk__hmap *m, size_t *pos);

#endif
