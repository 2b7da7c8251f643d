/* Flow counters by key (aggtable.h): open addressing, linear probing,
 * doubled at 50% load; a slot is free while its flow count is 0. */
/* _GNU_SOURCE (qsort_r) comes from cli/common. */
#include "aggtable.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

uint64_t agg_seed(void)
{
    uint64_t s = 0;
    if (getrandom(&s, sizeof s, GRND_NONBLOCK) != (ssize_t)sizeof s) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        s = ((uint64_t)ts.tv_sec << 32 ^ (uint64_t)ts.tv_nsec ^ (uint64_t)(uintptr_t)&ts) *
            0x9e3779b97f4a7c15ull;
    }
    return s ? s : 1;
}

/* A used slot has counted at least one flow (agg_hash, agg_key_eq:
 * aggtable.h). */
int agg_grow(aggtable *t)
{
    size_t cap = t->cap ? t->cap * 2 : 1024;
    agg_entry *slots = calloc(cap, sizeof *slots);
    if (!slots)
        return -1;
    if (!t->seed)
        t->seed = agg_seed();
    for (size_t i = 0; i < t->cap; i++) {
        if (!t->slots[i].flows)
            continue;
        size_t j = agg_hash(&t->slots[i].key, t->seed) & (cap - 1);
        while (slots[j].flows)
            j = (j + 1) & (cap - 1);
        slots[j] = t->slots[i];
    }
    free(t->slots);
    t->slots = slots;
    t->cap = cap;
    return 0;
}

static int cmp_u64_desc(uint64_t a, uint64_t b)
{
    return a > b ? -1 : a < b ? 1 : 0;
}

static int cmp_entry(const void *pa, const void *pb, void *order)
{
    const agg_entry *a = pa, *b = pb;
    int c = 0;
    switch (*(const agg_order *)order) {
    case ORDER_FLOWS:
        c = cmp_u64_desc(a->flows, b->flows);
        break;
    case ORDER_PACKETS:
        c = cmp_u64_desc(a->packets, b->packets);
        break;
    case ORDER_BYTES:
        c = cmp_u64_desc(a->bytes, b->bytes);
        break;
    case ORDER_TSTART:
        c = a->first_ns < b->first_ns ? -1 : a->first_ns > b->first_ns;
        break;
    case ORDER_TEND:
        c = a->last_ns < b->last_ns ? -1 : a->last_ns > b->last_ns;
        break;
    }
    return c ? c : memcmp(&a->key, &b->key, sizeof a->key);
}

void agg_sort(agg_entry *v, size_t n, agg_order order)
{
    if (n > 1)
        qsort_r(v, n, sizeof *v, cmp_entry, &order);
}

/* Sift v[i] down the max-heap v[0..n) (the greatest entry by order at 0). */
static void sift_down(agg_entry *v, size_t n, size_t i, agg_order *order)
{
    for (;;) {
        size_t big = i, l = 2 * i + 1, r = l + 1;
        if (l < n && cmp_entry(&v[l], &v[big], order) > 0)
            big = l;
        if (r < n && cmp_entry(&v[r], &v[big], order) > 0)
            big = r;
        if (big == i)
            return;
        agg_entry t = v[i];
        v[i] = v[big];
        v[big] = t;
        i = big;
    }
}

void agg_top(agg_entry *v, size_t n, size_t k, agg_order order)
{
    if (k == 0 || k >= n / 2) { /* most of them: sort them all */
        agg_sort(v, n, order);
        return;
    }
    /* the k first by order, kept in a max-heap over v[0..k): an entry
     * before its root replaces the root */
    for (size_t i = k / 2; i-- > 0;)
        sift_down(v, k, i, &order);
    for (size_t i = k; i < n; i++)
        if (cmp_entry(&v[i], &v[0], &order) < 0) {
            v[0] = v[i];
            sift_down(v, k, 0, &order);
        }
    agg_sort(v, k, order);
}

size_t agg_entries(const aggtable *t, agg_entry *out)
{
    size_t n = 0;
    for (size_t i = 0; i < t->cap; i++)
        if (t->slots[i].flows)
            out[n++] = t->slots[i];
    return n;
}

void agg_free(aggtable *t)
{
    free(t->slots);
    memset(t, 0, sizeof *t);
}
