/* Internal: a map from a non-zero uint64_t key to a uint64_t value — the
 * generic hash map (core/hmap.h) with 8-byte keys and values. A zeroed
 * fk__u64map is an empty map. */
#ifndef FK_CORE_U64MAP_H
#define FK_CORE_U64MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/hmap.h"

typedef struct fk__u64map {
    fk__hmap m; /* sizes set at the first put */
} fk__u64map;

void fk__u64map_free(fk__u64map *m);
void fk__u64map_clear(fk__u64map *m);
/* Insert or replace; FK_ENOMEM or FK_EINVAL (key 0). */
int fk__u64map_put(fk__u64map *m, uint64_t key, uint64_t val);
bool fk__u64map_get(const fk__u64map *m, uint64_t key, uint64_t *val);
bool fk__u64map_del(fk__u64map *m, uint64_t key);
size_t fk__u64map_count(const fk__u64map *m);
/* Iterate (see fk__hmap_next): *pos = 0 first. */
bool fk__u64map_next(const fk__u64map *m, size_t *pos, uint64_t *key, uint64_t *val);
/* Remove the entry the last fk__u64map_next gave (see fk__hmap_del_current). */
void fk__u64map_del_current(fk__u64map *m, size_t *pos);

#endif
