/* One bucket of prefix statistics (see bucket.h). */
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "prefixstats/bucket.h"

fk__ps_bucket *fk__ps_bucket_new(int64_t index)
{
    fk__ps_bucket *b = FK__NEW(fk__ps_bucket);
    if (!b)
        return NULL;
    b->index = index;
    for (size_t i = 0; i < FK_PREFIXSTATS_FIELDS - 1; i++)
        fk__hmap_init(&b->fields[i].map, sizeof(fk__ps_value), sizeof(fk__ps_counts));
    return b;
}

void fk__ps_bucket_free(fk__ps_bucket *b)
{
    if (!b)
        return;
    for (size_t i = 0; i < FK_PREFIXSTATS_FIELDS - 1; i++)
        fk__hmap_free(&b->fields[i].map);
    fk__free(b);
}

static void count(fk__ps_counts *c, const fk__ps_side *s)
{
    c->bytes[s->dir] += s->bytes;
    c->packets[s->dir] += s->packets;
    c->flows[s->dir] += 1;
}

static void merge(fk__ps_counts *into, const fk__ps_counts *c)
{
    for (int d = 0; d < 2; d++) {
        into->bytes[d] += c->bytes[d];
        into->packets[d] += c->packets[d];
        into->flows[d] += c->flows[d];
    }
}

static uint64_t weight(const fk__ps_counts *c)
{
    return c->bytes[0] + c->bytes[1];
}

/* The kept value with the fewest bytes (the first such in table order),
 * and the weight of the next smallest (UINT64_MAX when none). */
static fk__ps_counts *smallest(const fk__hmap *m, fk__ps_value *key, uint64_t *second)
{
    size_t pos = 0;
    const void *k;
    void *v;
    fk__ps_counts *min = NULL;
    *second = UINT64_MAX;
    while (fk__hmap_next(m, &pos, &k, &v)) {
        fk__ps_counts *c = v;
        if (!min || weight(c) < weight(min)) {
            if (min)
                *second = weight(min);
            min = c;
            memcpy(key, k, sizeof *key);
        } else if (weight(c) < *second) {
            *second = weight(c);
        }
    }
    return min;
}

static int table_add(fk__ps_table *t, const fk__ps_value *key, uint64_t h, const fk__ps_side *s,
                     size_t top, uint64_t *folded)
{
    fk__ps_counts *c = fk__hmap_get_hashed(&t->map, key, h);
    if (c) {
        count(c, s);
        return FK_OK;
    }
    if (t->map.count >= top) {
        /* Full: the smaller of the newcomer and the smallest kept value
         * goes to `other`. */
        t->folded++;
        (*folded)++;
        if (s->bytes <= t->min_bound) {
            count(&t->other, s);
            return FK_OK;
        }
        fk__ps_value min_key;
        uint64_t second;
        fk__ps_counts *min = smallest(&t->map, &min_key, &second);
        if (!min || s->bytes <= weight(min)) {
            t->min_bound = min ? weight(min) : 0;
            count(&t->other, s);
            return FK_OK;
        }
        merge(&t->other, min);
        fk__hmap_del(&t->map, &min_key);
        t->min_bound = second < s->bytes ? second : s->bytes;
    }
    void *slot = NULL;
    if (fk__hmap_put_hashed(&t->map, key, h, NULL, &slot) != FK_OK)
        return FK_ENOMEM;
    count(slot, s);
    return FK_OK;
}

int fk__ps_bucket_add(fk__ps_bucket *b, const fk__ps_side *s, size_t top, uint64_t *folded)
{
    count(&b->all, s);
    int rc = FK_OK;
    for (size_t i = 0; i < FK_PREFIXSTATS_FIELDS - 1; i++)
        if (table_add(&b->fields[i], &s->values[i], s->hashes[i], s, top, folded) != FK_OK)
            rc = FK_ENOMEM;
    return rc;
}

size_t fk__ps_bucket_memory(const fk__ps_bucket *b)
{
    size_t n = sizeof *b;
    for (size_t i = 0; i < FK_PREFIXSTATS_FIELDS - 1; i++)
        n += b->fields[i].map.cap * (b->fields[i].map.entry_size + sizeof(uint64_t));
    return n;
}

size_t fk__ps_bucket_bound(size_t top)
{
    /* fk__hmap grows (doubling from 16) while (count + 1) * 4 > cap * 3;
     * a table of `top` entries reaches one more than that at most. */
    size_t cap = 16;
    while ((top + 1) * 4 > cap * 3)
        cap *= 2;
    fk__hmap probe;
    fk__hmap_init(&probe, sizeof(fk__ps_value), sizeof(fk__ps_counts));
    return sizeof(fk__ps_bucket) +
           (FK_PREFIXSTATS_FIELDS - 1) * cap * (probe.entry_size + sizeof(uint64_t));
}

static void to_row(fk_prefixstats_row *r, fk_prefixstats_field f, const fk__ps_counts *c)
{
    memset(r, 0, sizeof *r);
    r->field = f;
    r->in_bytes = c->bytes[0];
    r->in_packets = c->packets[0];
    r->in_flows = c->flows[0];
    r->out_bytes = c->bytes[1];
    r->out_packets = c->packets[1];
    r->out_flows = c->flows[1];
}

static bool empty(const fk__ps_counts *c)
{
    return !(c->flows[0] | c->flows[1] | c->bytes[0] | c->bytes[1]);
}

static int by_bytes(const void *a, const void *b)
{
    const fk_prefixstats_row *x = a, *y = b;
    uint64_t wx = x->in_bytes + x->out_bytes, wy = y->in_bytes + y->out_bytes;
    if (wx != wy)
        return wx > wy ? -1 : 1;
    if (x->number != y->number)
        return x->number < y->number ? -1 : 1;
    return memcmp(x->addr.bytes, y->addr.bytes, sizeof x->addr.bytes);
}

int fk__ps_bucket_rows(const fk__ps_bucket *b, fk_prefixstats_field f, fk_prefixstats_row *out,
                       size_t capacity, size_t *count)
{
    *count = 0;
    if (f == FK_PREFIXSTATS_ALL) {
        if (empty(&b->all))
            return FK_OK;
        if (capacity < 1)
            return FK_ENOSPACE;
        to_row(out, f, &b->all);
        *count = 1;
        return FK_OK;
    }
    const fk__ps_table *t = &b->fields[f - 1];
    bool has_other = t->folded > 0;
    if (capacity < t->map.count + has_other)
        return FK_ENOSPACE;
    size_t n = 0, pos = 0;
    const void *k;
    void *v;
    while (fk__hmap_next(&t->map, &pos, &k, &v)) {
        const fk__ps_value *key = k;
        fk_prefixstats_row *r = &out[n++];
        to_row(r, f, v);
        if (key->family) {
            r->addr.family = key->family;
            memcpy(r->addr.bytes, key->v, key->family == 4 ? 4 : 16);
        } else {
            memcpy(&r->number, key->v, sizeof r->number);
        }
    }
    qsort(out, n, sizeof *out, by_bytes);
    if (has_other) {
        to_row(&out[n], f, &t->other);
        out[n].other = 1;
        out[n].folded = t->folded;
        n++;
    }
    *count = n;
    return FK_OK;
}
