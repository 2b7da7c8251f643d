/* Per-IP state of a store: totals, a series, peers and protocols for at
 * most max_ips addresses, least recently seen evicted; and its queries. */
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "store/store_int.h"

#define NS INT64_C(1000000000)

int fk__iptab_init(fk_store *s)
{
    uint32_t cap = (uint32_t)fk__params_int(&s->params, FK_STORE_MAX_IPS);
    s->ip_npeers = (uint32_t)fk__params_int(&s->params, FK_STORE_IP_PEERS);
    s->ip_nprotos = (uint32_t)fk__params_int(&s->params, FK_STORE_IP_PROTOCOLS);
    s->ip_nbuckets = (uint32_t)fk__params_int(&s->params, FK_STORE_IP_SERIES_BUCKETS);
    s->ip_step_ns = fk__params_int(&s->params, FK_STORE_IP_SERIES_STEP_SEC) * NS;
    /* One block per address (series, then peers, then protocols), cache
     * line aligned: an address's state shares pages instead of lying in
     * three allocations. A block is set up when its address arrives. */
    size_t block =
        fk__series_mem(s->ip_nbuckets) + fk__ss_mem(s->ip_npeers) + fk__ss_mem(s->ip_nprotos);
    s->ip_block = (block + 63) / 64 * 64;
    void *tab = fk__store_alloc(s, 1, fk__atab_mem(cap, sizeof(fk__ip_rec)));
    s->ip_mem = fk__store_alloc(s, cap, s->ip_block);
    if (!tab || !s->ip_mem) {
        fk__free(tab);
        return FK_ENOMEM; /* fk__iptab_free() frees ip_mem */
    }
    fk__atab_attach(&s->ips, tab, cap, sizeof(fk__ip_rec));
    unsigned char *b = s->ip_mem; /* block 0's layout, the template of every block */
    fk__series_attach(&s->ip_tmpl.series, b, s->ip_nbuckets, s->ip_step_ns);
    b += fk__series_mem(s->ip_nbuckets);
    fk__ss_attach(&s->ip_tmpl.peers, b, s->ip_npeers, FK__SKEY_ADDR);
    b += fk__ss_mem(s->ip_npeers);
    fk__ss_attach(&s->ip_tmpl.protos, b, s->ip_nprotos, FK__SKEY_PROTO);
    return FK_OK;
}

void fk__iptab_free(fk_store *s)
{
    fk__free(s->ip_mem);
    fk__free(s->ips.rec);
    s->ip_mem = NULL;
    memset(&s->ips, 0, sizeof s->ips);
}

/* Record i's series and summaries over its block: block 0's (ip_tmpl, set
 * up once at init) moved by i blocks, so a new address pays no layout
 * arithmetic. used: the block held an evicted address (its summaries'
 * indexes are cleared); else it is as fk__store_alloc zeroed it, and the
 * template's empty summaries fit it as they are. */
static void attach_block(fk_store *s, fk__ip_rec *r, uint32_t i, bool used)
{
    size_t d = (size_t)i * s->ip_block;
    const fk__ip_rec *t = &s->ip_tmpl;
    r->series = t->series;
    r->series.b = (fk__cnt *)((unsigned char *)t->series.b + d);
    const fk__ss *from[2] = {&t->peers, &t->protos};
    fk__ss *to[2] = {&r->peers, &r->protos};
    for (int k = 0; k < 2; k++) {
        *to[k] = *from[k];
        to[k]->e = (fk__ss_entry *)((unsigned char *)from[k]->e + d);
        to[k]->idx.slot = (fk__sidx_slot *)((unsigned char *)from[k]->idx.slot + d);
        to[k]->heap = (fk__ss_node *)((unsigned char *)from[k]->heap + d);
        to[k]->pos = (uint32_t *)((unsigned char *)from[k]->pos + d);
        if (used)
            fk__ss_clear(to[k]);
    }
}

static fk__ip_rec *touch(fk_store *s, const fk_addr *a, uint64_t h)
{
    int fresh, evicted;
    uint32_t i = fk__atab_get(&s->ips, a, h, &fresh, &evicted);
    fk__ip_rec *r = fk__atab_at(&s->ips, i);
    if (fresh) {
        s->st.ips_evicted += (uint64_t)evicted;
        r->info.addr = *a;
        attach_block(s, r, i, evicted); /* a record taken from another address */
    }
    return r;
}

/* Start fetching what account() reads of r: the series bucket and the
 * summaries' index slots (the misses of this path overlap instead of
 * following one another). */
static void prefetch(const fk__ip_rec *r, const fk__rec *f, uint64_t h_peer, uint64_t h_proto)
{
    const fk__series *se = &r->series;
    if (se->b) {
        int64_t k = f->end_ns / se->step_ns % (int64_t)se->n;
        __builtin_prefetch(&se->b[k < 0 ? k + se->n : k], 1);
    }
    fk__ss_prefetch(&r->peers, h_peer);
    fk__ss_prefetch(&r->protos, h_proto);
}

static void account(fk_store *s, fk__ip_rec *r, const fk__rec *f, const fk__flow_keys *fk,
                    const fk__cnt *c, bool as_src)
{
    fk_store_ip_info *in = &r->info;
    uint64_t fwd_b = f->bytes, fwd_p = f->packets, rev_b = f->rev_bytes, rev_p = f->rev_packets;
    in->bytes_out += as_src ? fwd_b : rev_b;
    in->packets_out += as_src ? fwd_p : rev_p;
    in->bytes_in += as_src ? rev_b : fwd_b;
    in->packets_in += as_src ? rev_p : fwd_p;
    if (as_src)
        in->flows_src += f->flows;
    else
        in->flows_dst += f->flows;
    if (!in->first_ns || f->first_ns < in->first_ns)
        in->first_ns = f->first_ns;
    if (f->end_ns > in->last_ns)
        in->last_ns = f->end_ns;
    fk__series_add(&r->series, f->end_ns, c);
    const fk__skey *peer = as_src ? &fk->dst : &fk->src;
    uint64_t h_peer = as_src ? fk->h_dst : fk->h_src;
    s->st.topk_evictions +=
        (uint64_t)fk__ss_add(&r->peers, peer, h_peer, c->bytes, c->packets, c->flows);
    s->st.topk_evictions +=
        (uint64_t)fk__ss_add(&r->protos, &fk->proto, fk->h_proto, c->bytes, c->packets, c->flows);
}

void fk__iptab_add(fk_store *s, const fk__rec *f, const fk__flow_keys *fk, const fk__cnt *c)
{
    bool src = f->src.family != 0;
    bool dst = f->dst.family && memcmp(&f->src, &f->dst, sizeof f->src) != 0;
    if (src)
        fk__atab_prefetch(&s->ips, fk->h_src);
    if (dst)
        fk__atab_prefetch(&s->ips, fk->h_dst);
    fk__ip_rec *rs = src ? touch(s, &f->src, fk->h_src) : NULL;
    if (rs)
        prefetch(rs, f, fk->h_dst, fk->h_proto);
    fk__ip_rec *rd = dst ? touch(s, &f->dst, fk->h_dst) : NULL;
    if (rd)
        prefetch(rd, f, fk->h_src, fk->h_proto);
    if (rs && rs == rd)
        rs = NULL; /* max_ips = 1: the destination took the source's record */
    if (rs)
        account(s, rs, f, fk, c, true);
    if (rd)
        account(s, rd, f, fk, c, false);
}

/* Record index of addr under the lock, or FK__ATAB_NONE. */
static uint32_t find(fk_store *s, const fk_addr *addr)
{
    fk_addr a = *addr;
    fk__store_norm_addr(&a);
    fk__agg_flush(s);
    return fk__atab_find(&s->ips, &a);
}

#define CHECK(s, x)                                                                                \
    do {                                                                                           \
        if (!(s) || !(s)->active || !(x))                                                          \
            return fk__error(FK_EINVAL, "store: NULL argument or not activated");                  \
    } while (0)

int fk_store_get_ip(fk_store *s, const fk_addr *addr, fk_store_ip_info *out)
{
    CHECK(s, out && addr);
    fk__store_lock_take(&s->lock);
    uint32_t i = find(s, addr);
    if (i != FK__ATAB_NONE)
        *out = ((fk__ip_rec *)fk__atab_at(&s->ips, i))->info;
    fk__store_lock_give(&s->lock);
    return i == FK__ATAB_NONE ? fk__error(FK_ENOTFOUND, "store: no state for that address") : 0;
}

static int by_total_desc(const void *a, const void *b)
{
    const fk_store_ip_info *x = a, *y = b;
    uint64_t tx = x->bytes_in + x->bytes_out, ty = y->bytes_in + y->bytes_out;
    if (tx != ty)
        return tx < ty ? 1 : -1;
    return memcmp(&x->addr, &y->addr, sizeof x->addr);
}

int fk_store_get_ips(fk_store *s, fk_store_ip_info *out, size_t capacity, size_t *count)
{
    CHECK(s, count && (out || !capacity));
    *count = 0;
    fk__store_lock_take(&s->lock);
    fk__agg_flush(s);
    uint32_t n = s->ips.n;
    fk_store_ip_info *all = fk__calloc(n ? n : 1, sizeof *all);
    if (all) {
        for (uint32_t i = 0; i < n; i++)
            all[i] = ((fk__ip_rec *)fk__atab_at(&s->ips, i))->info;
    }
    fk__store_lock_give(&s->lock);
    if (!all)
        return fk__error(FK_ENOMEM, "store: out of memory for the address list");
    qsort(all, n, sizeof *all, by_total_desc);
    for (; *count < n && *count < capacity; (*count)++)
        out[*count] = all[*count];
    fk__free(all);
    return FK_OK;
}

static int summary_rows(fk_store *s, fk_store_row *out, size_t capacity, size_t *count,
                        const fk_addr *addr, bool peers)
{
    CHECK(s, addr && count && (out || !capacity));
    *count = 0;
    fk__store_lock_take(&s->lock);
    uint32_t i = find(s, addr);
    int rc = FK_OK;
    if (i == FK__ATAB_NONE) {
        rc = fk__error(FK_ENOTFOUND, "store: no state for that address");
    } else {
        const fk__ip_rec *r = fk__atab_at(&s->ips, i);
        const fk__ss *part = peers ? &r->peers : &r->protos;
        rc = fk__ss_merge_out(&part, 1, peers ? FK_STORE_DIM_SRC : FK_STORE_DIM_PROTO, out,
                              capacity, count);
    }
    fk__store_lock_give(&s->lock);
    for (size_t j = 0; peers && j < *count; j++) {
        out[j].key.peer = out[j].key.addr;
        out[j].key.addr = *addr;
    }
    return rc;
}

int fk_store_get_ip_peers(fk_store *s, const fk_addr *addr, fk_store_row *out, size_t capacity,
                          size_t *count)
{
    return summary_rows(s, out, capacity, count, addr, true);
}

int fk_store_get_ip_protocols(fk_store *s, const fk_addr *addr, fk_store_row *out, size_t capacity,
                              size_t *count)
{
    return summary_rows(s, out, capacity, count, addr, false);
}

int fk_store_get_ip_series(fk_store *s, const fk_addr *addr, fk_store_point *out, size_t capacity,
                           size_t *count)
{
    CHECK(s, addr && count && (out || !capacity));
    *count = 0;
    fk__store_lock_take(&s->lock);
    uint32_t i = find(s, addr);
    int rc = FK_OK;
    if (i == FK__ATAB_NONE) {
        rc = fk__error(FK_ENOTFOUND, "store: no state for that address");
    } else {
        const fk__series *se = &((const fk__ip_rec *)fk__atab_at(&s->ips, i))->series;
        int64_t end = (s->now_ns / se->step_ns + 1) * se->step_ns;
        rc = fk__series_points(se, out, capacity, count, end - (int64_t)se->n * se->step_ns, end,
                               se->step_ns);
    }
    fk__store_lock_give(&s->lock);
    return rc;
}
