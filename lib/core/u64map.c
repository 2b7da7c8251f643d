#include "core/u64map.h"

#include <string.h>

#include "core/error.h"

void fk__u64map_free(fk__u64map *m)
{
    fk__hmap_free(&m->m);
}

void fk__u64map_clear(fk__u64map *m)
{
    fk__hmap_clear(&m->m);
}

int fk__u64map_put(fk__u64map *m, uint64_t key, uint64_t val)
{
    if (!key)
        return fk__error(FK_EINVAL, "map key 0");
    if (!m->m.key_size)
        fk__hmap_init(&m->m, sizeof key, sizeof val);
    return fk__hmap_put(&m->m, &key, &val, NULL);
}

bool fk__u64map_get(const fk__u64map *m, uint64_t key, uint64_t *val)
{
    if (!m->m.cap || !key)
        return false;
    const uint64_t *v = fk__hmap_get(&m->m, &key);
    if (v && val)
        *val = *v;
    return v != NULL;
}

bool fk__u64map_del(fk__u64map *m, uint64_t key)
{
    return key && m->m.cap && fk__hmap_del(&m->m, &key);
}

size_t fk__u64map_count(const fk__u64map *m)
{
    return m->m.count;
}

bool fk__u64map_next(const fk__u64map *m, size_t *pos, uint64_t *key, uint64_t *val)
{
    const void *k;
    void *v;
    if (!fk__hmap_next(&m->m, pos, &k, &v))
        return false;
    memcpy(key, k, sizeof *key);
    memcpy(val, v, sizeof *val);
    return true;
}

void fk__u64map_del_current(fk__u64map *m, size_t *pos)
{
    fk__hmap_del_current(&m->m, pos);
}
