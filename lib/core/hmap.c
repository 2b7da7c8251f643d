#include "core/hmap.h"

#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/mix.h"

void fk__hmap_init(fk__hmap *m, size_t key_size, size_t val_size)
{
    memset(m, 0, sizeof *m);
    m->key_size = key_size;
    m->val_size = val_size;
    m->val_off = (key_size + 7) & ~(size_t)7;
    m->entry_size = m->val_off + ((val_size + 7) & ~(size_t)7);
}

void fk__hmap_free(fk__hmap *m)
{
    fk__free(m->hashes);
    fk__free(m->entries);
    m->hashes = NULL;
    m->entries = NULL;
    m->cap = m->count = 0;
}

void fk__hmap_clear(fk__hmap *m)
{
    if (m->cap)
        memset(m->hashes, 0, m->cap * sizeof *m->hashes);
    m->count = 0;
}

uint64_t fk__hmap_hash(const void *key, size_t size)
{
    uint64_t h = fk__hash_bytes(key, size);
    return h ? h : 1;
}

static unsigned char *entry(const fk__hmap *m, size_t i)
{
    return m->entries + i * m->entry_size;
}

/* The slot holding key (hash h), or the empty slot where it would go. */
static size_t find(const fk__hmap *m, const void *key, uint64_t h)
{
    size_t mask = m->cap - 1, s = (size_t)h & mask;
    while (m->hashes[s] && !(m->hashes[s] == h && !memcmp(entry(m, s), key, m->key_size)))
        s = (s + 1) & mask;
    return s;
}

static int grow(fk__hmap *m)
{
    size_t ncap = m->cap ? m->cap * 2 : 16;
    uint64_t *nh = fk__calloc(ncap, sizeof *nh);
    unsigned char *ne = fk__calloc(ncap, m->entry_size);
    if (!nh || !ne) {
        fk__free(nh);
        fk__free(ne);
        return fk__error(FK_ENOMEM, "out of memory growing a hash map to %zu entries", ncap);
    }
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->hashes[i])
            continue;
        size_t s = (size_t)m->hashes[i] & (ncap - 1);
        while (nh[s])
            s = (s + 1) & (ncap - 1);
        nh[s] = m->hashes[i];
        memcpy(ne + s * m->entry_size, entry(m, i), m->entry_size);
    }
    fk__free(m->hashes);
    fk__free(m->entries);
    m->hashes = nh;
    m->entries = ne;
    m->cap = ncap;
    return 0;
}

void *fk__hmap_get(const fk__hmap *m, const void *key)
{
    return m->cap ? fk__hmap_get_hashed(m, key, fk__hmap_hash(key, m->key_size)) : NULL;
}

void *fk__hmap_get_hashed(const fk__hmap *m, const void *key, uint64_t h)
{
    if (!m->cap)
        return NULL;
    size_t s = find(m, key, h);
    return m->hashes[s] ? entry(m, s) + m->val_off : NULL;
}

int fk__hmap_put(fk__hmap *m, const void *key, const void *val, void **val_out)
{
    return fk__hmap_put_hashed(m, key, fk__hmap_hash(key, m->key_size), val, val_out);
}

int fk__hmap_put_hashed(fk__hmap *m, const void *key, uint64_t h, const void *val, void **val_out)
{
    if ((m->count + 1) * 4 > m->cap * 3) {
        int rc = grow(m);
        if (rc)
            return rc;
    }
    size_t s = find(m, key, h);
    unsigned char *e = entry(m, s);
    if (!m->hashes[s]) {
        m->hashes[s] = h;
        memset(e, 0, m->entry_size);
        memcpy(e, key, m->key_size);
        m->count++;
    }
    if (val)
        memcpy(e + m->val_off, val, m->val_size);
    if (val_out)
        *val_out = e + m->val_off;
    return 0;
}

/* Empty slot s and shift the rest of its run back into the hole. */
static void remove_at(fk__hmap *m, size_t s)
{
    size_t mask = m->cap - 1, hole = s, j = s;
    for (;;) {
        j = (j + 1) & mask;
        if (!m->hashes[j])
            break;
        size_t home = (size_t)m->hashes[j] & mask;
        /* The entry at j may move to hole unless its home is in (hole, j]. */
        bool between = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
        if (!between) {
            m->hashes[hole] = m->hashes[j];
            memcpy(entry(m, hole), entry(m, j), m->entry_size);
            hole = j;
        }
    }
    m->hashes[hole] = 0;
    m->count--;
}

bool fk__hmap_del(fk__hmap *m, const void *key)
{
    if (!m->cap)
        return false;
    size_t s = find(m, key, fk__hmap_hash(key, m->key_size));
    if (!m->hashes[s])
        return false;
    remove_at(m, s);
    return true;
}

bool fk__hmap_next(const fk__hmap *m, size_t *pos, const void **key, void **val)
{
    for (size_t i = *pos; i < m->cap; i++) {
        if (m->hashes[i]) {
            *pos = i + 1;
            if (key)
                *key = entry(m, i);
            if (val)
                *val = entry(m, i) + m->val_off;
            return true;
        }
    }
    *pos = m->cap;
    return false;
}

void fk__hmap_del_current(fk__hmap *m, size_t *pos)
{
    /* The entry given was at *pos - 1; what shifts into it is still to come. */
    remove_at(m, *pos - 1);
    (*pos)--;
}
