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
    uint32_t npeers = (uint32_t)fk__params_int(&s->params, FK_STORE_IP_PEERS);
    uint32_t nprotos = (uint32_t)fk__params_int(&s->params, FK_STORE_IP_PROTOCOLS);
    uint32_t nb = (uint32_t)fk__params_int(&s->params, FK_STORE_IP_SERIES_BUCKETS);
    int64_t step = fk__params_int(&s->params, FK_STORE_IP_SERIES_STEP_SEC) * NS;
    void *tab = fk__store_alloc(s, 1, fk__atab_mem(cap, sizeof(fk__ip_rec)));
    s->ip_series = fk__store_alloc(s, cap, sizeof *s->ip_series);
    s->ip_peers = fk__store_alloc(s, cap, sizeof *s->ip_peers);
    s->ip_protos = fk__store_alloc(s, cap, sizeof *s->ip_protos);
    if (!tab || !s->ip_series || !s->ip_peers || !s->ip_protos) {
        fk__free(tab);
        return FK_ENOMEM;
    }
    fk__atab_attach(&s->ips, tab, cap, sizeof(fk__ip_rec));
    for (uint32_t i = 0; i < cap; i++) {
        void *a = fk__store_alloc(s, 1, fk__series_mem(nb));
        void *b = fk__store_alloc(s, 1, fk__ss_mem(npeers));
        void *c = fk__store_alloc(s, 1, fk__ss_mem(nprotos));
        if (a)
            fk__series_attach(&s->ip_series[i], a, nb, step);
        if (b)
            fk__ss_attach(&s->ip_peers[i], b, npeers);
        if (c)
            fk__ss_attach(&s->ip_protos[i], c, nprotos);
        if (!a || !b || !c)
            return FK_ENOMEM; /* fk__iptab_free() frees what was attached */
    }
    return FK_OK;
}

void fk__iptab_free(fk_store *s)
{
    for (uint32_t i = 0; s->ip_series && i < s->ips.cap; i++) {
        fk__free(s->ip_series[i].b);
        fk__free(s->ip_peers[i].e);
        fk__free(s->ip_protos[i].e);
    }
    fk__free(s->ip_series);
    fk__free(s->ip_peers);
    fk__free(s->ip_protos);
    fk__free(s->ips.rec);
    s->ip_series = NULL;
    s->ip_peers = NULL;
    s->ip_protos = NULL;
    memset(&s->ips, 0, sizeof s->ips);
}

static fk__ip_rec *touch(fk_store *s, const fk_addr *a, uint32_t *index)
{
    int fresh, evicted;
    uint32_t i = fk__atab_get(&s->ips, a, &fresh, &evicted);
    fk__ip_rec *r = fk__atab_at(&s->ips, i);
    if (fresh) {
        s->st.ips_evicted += (uint64_t)evicted;
        r->info.addr = *a;
        fk__series_attach(&s->ip_series[i], s->ip_series[i].b, s->ip_series[i].n,
                          s->ip_series[i].step_ns);
        fk__ss_clear(&s->ip_peers[i]);
        fk__ss_clear(&s->ip_protos[i]);
    }
    *index = i;
    return r;
}

static void account(fk_store *s, const fk_flow *f, const fk__cnt *c, bool as_src)
{
    uint32_t i;
    fk__ip_rec *r = touch(s, as_src ? &f->src : &f->dst, &i);
    fk_store_ip_info *in = &r->info;
    uint64_t fwd_b = f->bytes, fwd_p = f->packets, rev_b = f->rev_bytes, rev_p = f->rev_packets;
    in->bytes_out += as_src ? fwd_b : rev_b;
    in->packets_out += as_src ? fwd_p : rev_p;
    in->bytes_in += as_src ? rev_b : fwd_b;
    in->packets_in += as_src ? rev_p : fwd_p;
    if (as_src)
        in->flows_src++;
    else
        in->flows_dst++;
    if (!in->first_ns || f->end_ns < in->first_ns)
        in->first_ns = f->end_ns;
    if (f->end_ns > in->last_ns)
        in->last_ns = f->end_ns;
    fk__series_add(&s->ip_series[i], f->end_ns, c);
    fk__skey k;
    fk__skey_addr(&k, as_src ? &f->dst : &f->src);
    s->st.topk_evictions += (uint64_t)fk__ss_add(&s->ip_peers[i], &k, c->bytes, c->packets, 1);
    memset(&k, 0, sizeof k);
    k.b[0] = f->proto;
    s->st.topk_evictions += (uint64_t)fk__ss_add(&s->ip_protos[i], &k, c->bytes, c->packets, 1);
}

void fk__iptab_add(fk_store *s, const fk_flow *f, const fk__cnt *c)
{
    if (f->src.family)
        account(s, f, c, true);
    if (f->dst.family && memcmp(&f->src, &f->dst, sizeof f->src) != 0)
        account(s, f, c, false);
}

/* Record index of addr under the lock, or FK__ATAB_NONE. */
static uint32_t find(fk_store *s, const fk_addr *addr)
{
    fk_addr a = *addr;
    fk__store_norm_addr(&a);
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
    pthread_mutex_lock(&s->lock);
    uint32_t i = find(s, addr);
    if (i != FK__ATAB_NONE)
        *out = ((fk__ip_rec *)fk__atab_at(&s->ips, i))->info;
    pthread_mutex_unlock(&s->lock);
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
    pthread_mutex_lock(&s->lock);
    uint32_t n = s->ips.n;
    fk_store_ip_info *all = fk__calloc(n ? n : 1, sizeof *all);
    if (all) {
        for (uint32_t i = 0; i < n; i++)
            all[i] = ((fk__ip_rec *)fk__atab_at(&s->ips, i))->info;
    }
    pthread_mutex_unlock(&s->lock);
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
    pthread_mutex_lock(&s->lock);
    uint32_t i = find(s, addr);
    int rc = FK_OK;
    if (i == FK__ATAB_NONE) {
        rc = fk__error(FK_ENOTFOUND, "store: no state for that address");
    } else {
        const fk__ss *part = peers ? &s->ip_peers[i] : &s->ip_protos[i];
        rc = fk__ss_merge_out(&part, 1, peers ? FK_STORE_DIM_SRC : FK_STORE_DIM_PROTO, out,
                              capacity, count);
    }
    pthread_mutex_unlock(&s->lock);
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
    pthread_mutex_lock(&s->lock);
    uint32_t i = find(s, addr);
    int rc = FK_OK;
    if (i == FK__ATAB_NONE) {
        rc = fk__error(FK_ENOTFOUND, "store: no state for that address");
    } else {
        const fk__series *se = &s->ip_series[i];
        int64_t end = (s->now_ns / se->step_ns + 1) * se->step_ns;
        rc = fk__series_points(se, out, capacity, count, end - (int64_t)se->n * se->step_ns, end,
                               se->step_ns);
    }
    pthread_mutex_unlock(&s->lock);
    return rc;
}
