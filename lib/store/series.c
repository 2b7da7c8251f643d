/* Rings of time buckets (see series.h). */
#include <string.h>

#include "store/series.h"

size_t fk__series_mem(uint32_t n)
{
    return (size_t)n * sizeof(fk__cnt);
}

void fk__series_attach(fk__series *s, void *mem, uint32_t n, int64_t step_ns)
{
    s->step_ns = step_ns;
    s->n = n;
    s->last = INT64_MIN;
    s->first = INT64_MIN;
    s->b = mem;
}

static int64_t bucket_of(const fk__series *s, int64_t t)
{
    int64_t k = t / s->step_ns;
    return (t < 0 && t % s->step_ns) ? k - 1 : k;
}

static fk__cnt *slot(const fk__series *s, int64_t k)
{
    int64_t i = k % (int64_t)s->n;
    return &s->b[i < 0 ? i + s->n : i];
}

int fk__series_add(fk__series *s, int64_t t_ns, const fk__cnt *c)
{
    int64_t k = bucket_of(s, t_ns);
    if (s->last == INT64_MIN || k - s->last >= (int64_t)s->n) {
        /* Empty, or every bucket held is out of reach: start over at k. */
        s->last = s->first = k;
        memset(slot(s, k), 0, sizeof(fk__cnt));
    } else if (k > s->last) {
        for (int64_t j = s->last + 1; j <= k; j++)
            memset(slot(s, j), 0, sizeof(fk__cnt));
        s->last = k;
    } else if (k <= s->last - (int64_t)s->n) {
        return -1;
    } else if (k < s->first) { /* within reach, older than anything written */
        for (int64_t j = k; j < s->first; j++)
            memset(slot(s, j), 0, sizeof(fk__cnt));
        s->first = k;
    }
    fk__cnt *b = slot(s, k);
    b->bytes += c->bytes;
    b->packets += c->packets;
    b->flows += c->flows;
    return 0;
}

fk__cnt fk__series_sum(const fk__series *s, int64_t from_ns, int64_t to_ns)
{
    fk__cnt sum = {0, 0, 0};
    if (s->last == INT64_MIN || to_ns <= from_ns)
        return sum;
    int64_t k0 = bucket_of(s, from_ns), k1 = bucket_of(s, to_ns - 1);
    if (k0 <= s->last - (int64_t)s->n)
        k0 = s->last - (int64_t)s->n + 1;
    if (k0 < s->first)
        k0 = s->first;
    if (k1 > s->last)
        k1 = s->last;
    for (int64_t k = k0; k <= k1; k++) {
        const fk__cnt *b = slot(s, k);
        sum.bytes += b->bytes;
        sum.packets += b->packets;
        sum.flows += b->flows;
    }
    return sum;
}
