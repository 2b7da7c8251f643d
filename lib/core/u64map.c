#include "core/u64map.h"

#include <string.h>

#include "core/alloc.h"
#include "core/error.h"

static size_t slot_of(uint64_t key, size_t cap)
{
    /* splitmix64 finaliser: inodes and pids are sequential. */
    key ^= key >> 30;
    key *= 0xbf58476d1ce4e5b9ull;
    key ^= key >> 27;
    key *= 0x94d049bb133111ebull;
    key ^= key >> 31;
    return (size_t)key & (cap - 1);
}

void fk__u64map_free(fk__u64map *m)
{
    fk__free(m->keys);
    fk__free(m->vals);
    memset(m, 0, sizeof *m);
}

void fk__u64map_clear(fk__u64map *m)
{
    if (m->cap)
        memset(m->keys, 0, m->cap * sizeof *m->keys);
    m->count = 0;
}

static int grow(fk__u64map *m)
{
    size_t ncap = m->cap ? m->cap * 2 : 64;
    uint64_t *nk = fk__calloc(ncap, sizeof *nk);
    uint64_t *nv = fk__calloc(ncap, sizeof *nv);
    if (!nk || !nv) {
        fk__free(nk);
        fk__free(nv);
        return fk__error(FK_ENOMEM, "proc: out of memory growing a map to %zu slots", ncap);
    }
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->keys[i])
            continue;
        size_t s = slot_of(m->keys[i], ncap);
        while (nk[s])
            s = (s + 1) & (ncap - 1);
        nk[s] = m->keys[i];
        nv[s] = m->vals[i];
    }
    fk__free(m->keys);
    fk__free(m->vals);
    m->keys = nk;
    m->vals = nv;
    m->cap = ncap;
    return 0;
}

int fk__u64map_put(fk__u64map *m, uint64_t key, uint64_t val)
{
    if (!key)
        return fk__error(FK_EINVAL, "proc: map key 0");
    if ((m->count + 1) * 4 > m->cap * 3) {
        int rc = grow(m);
        if (rc)
            return rc;
    }
    size_t s = slot_of(key, m->cap);
    while (m->keys[s] && m->keys[s] != key)
        s = (s + 1) & (m->cap - 1);
    if (!m->keys[s])
        m->count++;
    m->keys[s] = key;
    m->vals[s] = val;
    return 0;
}

bool fk__u64map_get(const fk__u64map *m, uint64_t key, uint64_t *val)
{
    if (!m->cap || !key)
        return false;
    size_t s = slot_of(key, m->cap);
    while (m->keys[s]) {
        if (m->keys[s] == key) {
            if (val)
                *val = m->vals[s];
            return true;
        }
        s = (s + 1) & (m->cap - 1);
    }
    return false;
}

bool fk__u64map_del(fk__u64map *m, uint64_t key)
{
    if (!m->cap || !key)
        return false;
    size_t mask = m->cap - 1, s = slot_of(key, m->cap);
    while (m->keys[s] && m->keys[s] != key)
        s = (s + 1) & mask;
    if (!m->keys[s])
        return false;
    /* Backward shift: move later members of the run into the hole. */
    size_t hole = s, j = s;
    for (;;) {
        j = (j + 1) & mask;
        if (!m->keys[j])
            break;
        size_t home = slot_of(m->keys[j], m->cap);
        /* Can the entry at j move to hole? Only if home is not in (hole, j]. */
        bool between = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
        if (!between) {
            m->keys[hole] = m->keys[j];
            m->vals[hole] = m->vals[j];
            hole = j;
        }
    }
    m->keys[hole] = 0;
    m->count--;
    return true;
}
