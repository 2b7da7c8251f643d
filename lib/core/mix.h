/* Internal: the library's hashing. fk__mix64 is the one 64-bit finaliser
 * (splitmix64's): every input bit reaches the low (index) bits, so
 * sequential keys (inodes, pids, ports) spread out. fk__hash_bytes hashes
 * a small key (a struct without padding bytes) a word at a time and
 * finishes with it; hot paths inline it, core/hmap calls it for every
 * map. */
#ifndef FK_CORE_MIX_H
#define FK_CORE_MIX_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline uint64_t fk__mix64(uint64_t h)
{
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebull;
    return h ^ (h >> 31);
}

static inline uint64_t fk__hash_bytes(const void *key, size_t size)
{
    const unsigned char *p = key;
    uint64_t h = size, w;
    for (; size >= 8; size -= 8, p += 8) {
        memcpy(&w, p, 8);
        h = (h ^ w) * 0x9e3779b97f4a7c15ull;
        h ^= h >> 32;
    }
    if (size) {
        w = 0;
        memcpy(&w, p, size);
        h = (h ^ w) * 0x9e3779b97f4a7c15ull;
    }
    return fk__mix64(h);
}

#endif
