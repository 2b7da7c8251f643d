/* Throughput series (total, per protocol, per exporter) and top-K per
 * dimension over time slots, with their queries fk_store_get_series() and
 * fk_store_get_top(). */
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "store/store_int.h"

#define NS INT64_C(1000000000)

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b && a < 0) ? q - 1 : q;
}

/* Significant key bytes of a top-K dimension. */
static uint32_t dim_klen(int dim)
{
    switch (dim) {
    case FK_STORE_DIM_SRC:
    case FK_STORE_DIM_DST:
    case FK_STORE_DIM_EXPORTER:
        return FK__SKEY_ADDR;
    case FK_STORE_DIM_PAIR:
        return FK__SKEY_PAIR;
    case FK_STORE_DIM_PORT:
        return FK__SKEY_PORT;
    case FK_STORE_DIM_PROTO:
        return FK__SKEY_PROTO;
    default:
        return FK__SKEY_SIZE;
    }
}

int fk__counts_init(fk_store *s)
{
    uint32_t nb = (uint32_t)fk__params_int(&s->params, FK_STORE_SERIES_BUCKETS);
    int64_t step = fk__params_int(&s->params, FK_STORE_SERIES_STEP_SEC) * NS;
    s->maxkeys = (uint32_t)fk__params_int(&s->params, FK_STORE_SERIES_KEYS);
    void *mem = fk__store_alloc(s, 1, fk__series_mem(nb));
    if (!mem)
        return FK_ENOMEM;
    fk__series_attach(&s->total, mem, nb, step);
    for (int k = 0; k < 2; k++) {
        s->series_keys[k] = fk__store_alloc(s, s->maxkeys, sizeof(fk__skey));
        s->kseries[k] = fk__store_alloc(s, s->maxkeys, sizeof(fk__series));
        if (!s->series_keys[k] || !s->kseries[k])
            return FK_ENOMEM;
        for (uint32_t i = 0; i < s->maxkeys; i++) {
            if (!(mem = fk__store_alloc(s, 1, fk__series_mem(nb))))
                return FK_ENOMEM;
            fk__series_attach(&s->kseries[k][i], mem, nb, step);
        }
    }
    s->slot_ns = fk__params_int(&s->params, FK_STORE_TOPK_SLOT_SEC) * NS;
    int64_t span = fk__params_int(&s->params, FK_STORE_TOPK_SPAN_SEC) * NS;
    s->nslots = (uint32_t)((span + s->slot_ns - 1) / s->slot_ns) + 1;
    uint32_t cap = (uint32_t)fk__params_int(&s->params, FK_STORE_TOPK_CAPACITY);
    s->slot_no = fk__store_alloc(s, s->nslots, sizeof *s->slot_no);
    s->topk = fk__store_alloc(s, (size_t)FK_STORE_DIM_COUNT * s->nslots, sizeof *s->topk);
    if (!s->slot_no || !s->topk)
        return FK_ENOMEM;
    for (uint32_t i = 0; i < s->nslots; i++)
        s->slot_no[i] = INT64_MIN;
    for (size_t i = 0; i < (size_t)FK_STORE_DIM_COUNT * s->nslots; i++) {
        if (!(mem = fk__store_alloc(s, 1, fk__ss_mem(cap))))
            return FK_ENOMEM;
        fk__ss_attach(&s->topk[i], mem, cap, dim_klen((int)(i / s->nslots)));
    }
    for (int d = 0; d < FK_STORE_DIM_COUNT; d++) {
        s->batch[d].n = 0;
        if (!(s->batch[d].items = fk__store_alloc(s, FK__TOPK_BATCH, sizeof(fk__ss_item))))
            return FK_ENOMEM;
    }
    if (!(mem = fk__store_alloc(s, 1, fk__ss_scratch_mem(FK__TOPK_BATCH, cap))))
        return FK_ENOMEM;
    fk__ss_scratch_attach(&s->batch_scratch, mem, FK__TOPK_BATCH, cap);
    return FK_OK;
}

void fk__counts_free(fk_store *s)
{
    fk__free(s->total.b);
    s->total.b = NULL;
    for (int k = 0; k < 2; k++) {
        for (uint32_t i = 0; s->kseries[k] && i < s->maxkeys; i++)
            fk__free(s->kseries[k][i].b);
        fk__free(s->kseries[k]);
        fk__free(s->series_keys[k]);
        s->kseries[k] = NULL;
        s->series_keys[k] = NULL;
        s->nkeys[k] = 0;
    }
    for (size_t i = 0; s->topk && i < (size_t)FK_STORE_DIM_COUNT * s->nslots; i++)
        fk__free(s->topk[i].e);
    fk__free(s->topk);
    fk__free(s->slot_no);
    for (int d = 0; d < FK_STORE_DIM_COUNT; d++) {
        fk__free(s->batch[d].items);
        s->batch[d].items = NULL;
        s->batch[d].n = 0;
    }
    fk__free(s->batch_scratch.idx.slot);
    s->batch_scratch.idx.slot = NULL;
    s->topk = NULL;
    s->slot_no = NULL;
}

/* The series of a key (kind 0 proto, 1 exporter); add = make one if room.
 * The key found last is tried first: flows come in runs of one protocol
 * and one exporter. */
static fk__series *key_series(fk_store *s, int kind, const fk__skey *k, bool add)
{
    uint32_t last = s->last_key[kind];
    if (last < s->nkeys[kind] && fk__skey_eq(&s->series_keys[kind][last], k))
        return &s->kseries[kind][last];
    for (uint32_t i = 0; i < s->nkeys[kind]; i++)
        if (fk__skey_eq(&s->series_keys[kind][i], k)) {
            s->last_key[kind] = i;
            return &s->kseries[kind][i];
        }
    if (!add || s->nkeys[kind] == s->maxkeys)
        return NULL;
    s->series_keys[kind][s->nkeys[kind]] = *k;
    s->last_key[kind] = s->nkeys[kind];
    return &s->kseries[kind][s->nkeys[kind]++];
}

/* Key of record r in dimension dim; false when r has none (exporter,
 * process). *h is its hash when known (the keys shared with the per-IP
 * tables come ready-made with their hashes in fk), else 0: the caller
 * hashes only a key that starts a run. */
static bool dim_key(const fk__skey **kp, uint64_t *h, fk__skey *k, int dim, const fk__rec *r,
                    const char *process, const fk__flow_keys *fk)
{
    *kp = k;
    *h = 0;
    switch (dim) {
    case FK_STORE_DIM_SRC:
        *kp = &fk->src;
        *h = fk->h_src;
        return true;
    case FK_STORE_DIM_DST:
        *kp = &fk->dst;
        *h = fk->h_dst;
        return true;
    case FK_STORE_DIM_PROTO:
        *kp = &fk->proto;
        *h = fk->h_proto;
        return true;
    case FK_STORE_DIM_EXPORTER:
        *kp = &fk->exporter;
        return r->has_exporter;
    default:
        break;
    }
    memset(k, 0, sizeof *k);
    switch (dim) {
    case FK_STORE_DIM_PAIR:
        memcpy(k->b, &r->src, sizeof r->src);
        memcpy(k->b + 17, &r->dst, sizeof r->dst);
        break;
    case FK_STORE_DIM_PORT:
        k->b[0] = r->proto;
        k->b[1] = (uint8_t)(r->dst_port >> 8);
        k->b[2] = (uint8_t)r->dst_port;
        break;
    default:
        if (!process)
            return false;
        memcpy(k->b, process, strnlen(process, FK__SKEY_SIZE - 1));
        break;
    }
    return true;
}

/* Merge dimension dim's waiting batch into its summary. */
static void merge_batch(fk_store *s, int dim)
{
    fk__topk_batch *b = &s->batch[dim];
    if (!b->n)
        return;
    s->st.topk_evictions += fk__ss_add_batch(&s->topk[(size_t)dim * s->nslots + b->pos], b->items,
                                             b->n, &s->batch_scratch);
    b->n = 0;
}

void fk__counts_flush(fk_store *s)
{
    for (int d = 0; d < FK_STORE_DIM_COUNT; d++)
        merge_batch(s, d);
}

void fk__store_set_merge_runs(fk_store *s, bool on)
{
    s->merge_runs = on;
}

/* Count c under key kp (hash h, 0 = not computed yet) of dimension dim in
 * the summary at slot position pos: into the batch's last item when the
 * key and slot are its (a run), else as a new item (the batch is merged
 * first when full or of another slot). */
static void topk_add(fk_store *s, int dim, uint32_t pos, const fk__skey *kp, uint64_t h,
                     const fk__cnt *c)
{
    uint32_t klen = dim_klen(dim);
    fk__topk_batch *b = &s->batch[dim];
    if (!h)
        h = fk__ss_hash(kp, klen);
    /* The hashes first: most keys differ from the last one there. */
    if (b->n && b->pos == pos && b->items[b->n - 1].h == h &&
        fk__skey_eq(&b->items[b->n - 1].key, kp)) {
        fk__ss_item *it = &b->items[b->n - 1];
        it->bytes += c->bytes;
        it->packets += c->packets;
        it->flows += c->flows;
        return;
    }
    if (!s->merge_runs) {
        s->st.topk_evictions += (uint64_t)fk__ss_add(&s->topk[(size_t)dim * s->nslots + pos], kp, h,
                                                     c->bytes, c->packets, c->flows);
        return;
    }
    if (b->n == FK__TOPK_BATCH || (b->n && b->pos != pos))
        merge_batch(s, dim);
    b->pos = pos;
    b->items[b->n++] = (fk__ss_item){*kp, h, c->bytes, c->packets, c->flows};
}

void fk__store_key_out(fk_store_key *out, int dim, const fk__skey *k)
{
    memset(out, 0, sizeof *out);
    switch (dim) {
    case FK_STORE_DIM_SRC:
    case FK_STORE_DIM_DST:
    case FK_STORE_DIM_EXPORTER:
        memcpy(&out->addr, k->b, sizeof out->addr);
        break;
    case FK_STORE_DIM_PAIR:
        memcpy(&out->addr, k->b, sizeof out->addr);
        memcpy(&out->peer, k->b + 17, sizeof out->peer);
        break;
    case FK_STORE_DIM_PORT:
        out->proto = k->b[0];
        out->port = (uint16_t)(k->b[1] << 8 | k->b[2]);
        break;
    case FK_STORE_DIM_PROTO:
        out->proto = k->b[0];
        break;
    default:
        memcpy(out->process, k->b, FK__SKEY_SIZE - 1);
        break;
    }
}

void fk__counts_add(fk_store *s, const fk__rec *r, const char *process, const fk__flow_keys *fk,
                    const fk__cnt *c)
{
    bool late = fk__series_add(&s->total, r->end_ns, c) != 0;
    fk__skey k;
    fk__series *ps = key_series(s, 0, &fk->proto, true);
    if (r->has_exporter) {
        fk__series *es = key_series(s, 1, &fk->exporter, true);
        if (es)
            fk__series_add(es, r->end_ns, c);
        else
            s->st.series_key_overflow += r->flows;
    }
    if (ps)
        fk__series_add(ps, r->end_ns, c);
    else
        s->st.series_key_overflow += r->flows;

    int64_t n = floor_div(r->end_ns, s->slot_ns), cur = floor_div(s->now_ns, s->slot_ns);
    uint32_t pos = (uint32_t)(((n % s->nslots) + s->nslots) % s->nslots);
    if (n <= cur - (int64_t)s->nslots || (s->slot_no[pos] != INT64_MIN && s->slot_no[pos] > n)) {
        late = true;
    } else {
        if (s->slot_no[pos] != n) {
            fk__counts_flush(s); /* batches of the slot this position held count there first */
            for (int d = 0; d < FK_STORE_DIM_COUNT; d++)
                fk__ss_clear(&s->topk[(size_t)d * s->nslots + pos]);
            s->slot_no[pos] = n;
        }
        for (int d = 0; d < FK_STORE_DIM_COUNT; d++) {
            const fk__skey *kp;
            uint64_t h;
            if (dim_key(&kp, &h, &k, d, r, process, fk))
                topk_add(s, d, pos, kp, h, c);
        }
    }
    if (late)
        s->st.late += r->flows;
}

static int by_bytes_desc(const void *a, const void *b)
{
    const fk__ss_entry *x = a, *y = b;
    if (x->bytes != y->bytes)
        return x->bytes < y->bytes ? 1 : -1;
    return memcmp(x->key.b, y->key.b, FK__SKEY_SIZE);
}

/* The smallest count of a summary that has evicted, else 0: every key it
 * does not hold has at most this many bytes in its span. One that never
 * evicted (full or not) holds every key it saw: the others had none. */
static uint64_t floor_of(const fk__ss *p)
{
    if (!p->evicted)
        return 0;
    uint64_t m = UINT64_MAX;
    for (uint32_t j = 0; j < p->n; j++)
        if (p->e[j].bytes < m)
            m = p->e[j].bytes;
    return m;
}

/* Merge space-saving summaries into one (big enough never to evict), sort
 * by bytes, copy the first capacity rows. A key a full summary j does not
 * hold may still have up to m_j (its smallest count) bytes there, so its
 * estimate counts m_j for that part, as bytes and as error (Agarwal et
 * al., "Mergeable summaries", 2012): with M the sum of every m_j, a key's
 * bytes are M + the sum of (count - m_j) over the parts that hold it, and
 * its error M - the sum of (m_j - error) over them (an entry's error is
 * at most its summary's m_j: the smallest count only grows). Never below
 * the truth, at most error above it; a summary that never evicted has
 * m_j = 0: exact parts add exactly. */
int fk__ss_merge_out(const fk__ss *const *parts, size_t nparts, int dim, fk_store_row *out,
                     size_t capacity, size_t *count)
{
    size_t total = 0;
    for (size_t i = 0; i < nparts; i++)
        total += parts[i]->n;
    *count = 0;
    if (total == 0)
        return FK_OK;
    void *mem = fk__calloc(1, fk__ss_mem((uint32_t)total));
    if (!mem)
        return fk__error(FK_ENOMEM, "store: out of memory for a top-K answer");
    fk__ss acc;
    fk__ss_attach(&acc, mem, (uint32_t)total, parts[0]->klen);
    uint64_t floors = 0;
    for (size_t i = 0; i < nparts; i++) {
        uint64_t m = floor_of(parts[i]);
        floors += m;
        for (uint32_t j = 0; j < parts[i]->n; j++) {
            const fk__ss_entry *e = &parts[i]->e[j];
            fk__ss_add(&acc, &e->key, fk__ss_hash(&e->key, acc.klen), e->bytes - m, e->packets,
                       e->flows);
            /* acc's error holds the sum of (m_j - error) until the end */
            ((fk__ss_entry *)fk__ss_find(&acc, &e->key))->error += m - e->error;
        }
    }
    for (uint32_t j = 0; j < acc.n; j++) {
        acc.e[j].bytes += floors;
        acc.e[j].error = floors - acc.e[j].error;
    }
    qsort(acc.e, acc.n, sizeof *acc.e, by_bytes_desc);
    for (uint32_t j = 0; j < acc.n && *count < capacity; j++) {
        fk_store_row *r = &out[(*count)++];
        fk__store_key_out(&r->key, dim, &acc.e[j].key);
        r->bytes = acc.e[j].bytes;
        r->packets = acc.e[j].packets;
        r->flows = acc.e[j].flows;
        r->error = acc.e[j].error;
    }
    fk__free(mem);
    return FK_OK;
}

int fk_store_get_top(fk_store *s, int dim, int64_t window_sec, fk_store_row *out, size_t capacity,
                     size_t *count)
{
    if (!s || !count || (capacity && !out) || !s->active || dim < 0 || dim >= FK_STORE_DIM_COUNT ||
        window_sec <= 0)
        return fk__error(FK_EINVAL, "store: bad top-K arguments");
    *count = 0;
    const fk__ss **parts = fk__calloc(s->nslots, sizeof *parts);
    if (!parts)
        return fk__error(FK_ENOMEM, "store: out of memory for a top-K answer");
    fk__store_lock_take(&s->lock);
    fk__agg_flush(s);
    fk__counts_flush(s);
    int64_t cur = floor_div(s->now_ns, s->slot_ns);
    int64_t first = floor_div(s->now_ns - window_sec * NS, s->slot_ns);
    if (first <= cur - (int64_t)s->nslots)
        first = cur - (int64_t)s->nslots + 1;
    size_t nparts = 0;
    for (uint32_t p = 0; p < s->nslots; p++)
        if (s->slot_no[p] != INT64_MIN && s->slot_no[p] >= first && s->slot_no[p] <= cur)
            parts[nparts++] = &s->topk[(size_t)dim * s->nslots + p];
    int rc = fk__ss_merge_out(parts, nparts, dim, out, capacity, count);
    fk__store_lock_give(&s->lock);
    fk__free(parts);
    return rc;
}

int fk__series_points(const fk__series *se, fk_store_point *out, size_t capacity, size_t *count,
                      int64_t since_ns, int64_t until_ns, int64_t step_ns)
{
    int64_t base = se->step_ns;
    int64_t step = step_ns <= 0 ? base : (step_ns + base - 1) / base * base;
    int64_t t = floor_div(since_ns, step) * step; /* points on whole steps */
    for (*count = 0; t < until_ns && *count < capacity; t += step) {
        fk__cnt c = fk__series_sum(se, t, t + step);
        out[*count] = (fk_store_point){t, c.bytes, c.packets, c.flows};
        (*count)++;
    }
    return FK_OK;
}

int fk_store_get_series(fk_store *s, int kind, const fk_store_key *key, int64_t since_ns,
                        int64_t until_ns, int64_t step_ns, fk_store_point *out, size_t capacity,
                        size_t *count)
{
    if (!s || !count || (capacity && !out) || !s->active || kind < 0 || kind > 2 || (kind && !key))
        return fk__error(FK_EINVAL, "store: bad series arguments");
    *count = 0;
    fk__store_lock_take(&s->lock);
    fk__agg_flush(s);
    const fk__series *se = &s->total;
    if (kind) {
        fk__skey k;
        memset(&k, 0, sizeof k);
        if (kind == FK_STORE_SERIES_PROTO)
            k.b[0] = key->proto;
        else
            fk__skey_addr(&k, &key->addr);
        se = key_series(s, kind - 1, &k, false);
    }
    int rc = se ? fk__series_points(se, out, capacity, count, since_ns, until_ns, step_ns)
                : fk__error(FK_ENOTFOUND, "store: no series for that key");
    fk__store_lock_give(&s->lock);
    return rc;
}
