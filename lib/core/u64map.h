/* Internal: open-addressing hash map from a non-zero uint64_t key to a
 * uint64_t value (linear probing, backward-shift deletion, no tombstones). */
#ifndef FK_CORE_U64MAP_H
#define FK_CORE_U64MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct fk__u64map {
    uint64_t *keys; /* 0 = empty */
    uint64_t *vals;
    size_t cap; /* power of two, 0 before the first insert */
    size_t count;
} fk__u64map;

void fk__u64map_free(fk__u64map *m);
void fk__u64map_clear(fk__u64map *m);
/* Insert or replace; FK_ENOMEM or FK_EINVAL (key 0). */
int fk__u64map_put(fk__u64map *m, uint64_t key, uint64_t val);
bool fk__u64map_get(const fk__u64map *m, uint64_t key, uint64_t *val);
bool fk__u64map_del(fk__u64map *m, uint64_t key);

#endif
