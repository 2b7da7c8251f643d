/* The bad-IP rule of a store (defined in store.h): unanswered TCP and UDP
 * attempts per source over a sliding window, and the wait table that pairs
 * one-way UDP records with their reverse. */
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "store/store_int.h"

#define NS INT64_C(1000000000)
#define BAD_SUBBUCKETS 8 /* the window slides in eighths */

static uint32_t pend_tag(const fk__skey *k)
{
    return fk__sidx_tag(fk__store_hash(k->b, FK__SKEY_SIZE));
}

int fk__badip_init(fk_store *s)
{
    uint32_t cap = (uint32_t)fk__params_int(&s->params, FK_STORE_BAD_MAX_IPS);
    s->bad_threshold = (uint64_t)fk__params_int(&s->params, FK_STORE_BAD_THRESHOLD);
    s->bad_window_ns = fk__params_int(&s->params, FK_STORE_BAD_WINDOW_SEC) * NS;
    s->udp_wait_ns = fk__params_int(&s->params, FK_STORE_BAD_UDP_WAIT_SEC) * NS;
    s->npend_cap = (uint32_t)fk__params_int(&s->params, FK_STORE_BAD_UDP_PENDING);
    void *tab = fk__store_alloc(s, 1, fk__atab_mem(cap, sizeof(fk__bad_rec)));
    s->bad_series = fk__store_alloc(s, cap, sizeof *s->bad_series);
    void *counts = fk__store_alloc(s, cap, fk__series_mem(BAD_SUBBUCKETS));
    s->pend = fk__store_alloc(s, s->npend_cap, sizeof *s->pend);
    fk__sidx_slot *idx = fk__store_alloc(s, fk__sidx_slots(s->npend_cap), sizeof *idx);
    if (!tab || !s->bad_series || !counts || !s->pend || !idx) {
        fk__free(tab);
        fk__free(counts);
        fk__free(idx);
        return FK_ENOMEM;
    }
    fk__atab_attach(&s->bad, tab, cap, sizeof(fk__bad_rec));
    for (uint32_t i = 0; i < cap; i++)
        fk__series_attach(&s->bad_series[i], (char *)counts + i * fk__series_mem(BAD_SUBBUCKETS),
                          BAD_SUBBUCKETS, s->bad_window_ns / BAD_SUBBUCKETS);
    fk__sidx_attach(&s->pend_idx, idx, s->npend_cap);
    return FK_OK;
}

void fk__badip_free(fk_store *s)
{
    if (s->bad_series)
        fk__free(s->bad_series[0].b);
    fk__free(s->bad_series);
    fk__free(s->bad.rec);
    fk__free(s->pend);
    fk__free(s->pend_idx.slot);
    s->bad_series = NULL;
    s->pend = NULL;
    memset(&s->bad, 0, sizeof s->bad);
    memset(&s->pend_idx, 0, sizeof s->pend_idx);
    s->npend = s->pend_head = 0;
}

static void attempt(fk_store *s, const fk_addr *src, uint64_t h_src, const fk_addr *dst,
                    uint16_t port, int64_t t, bool tcp)
{
    int fresh, evicted;
    uint32_t i = fk__atab_get(&s->bad, src, h_src, &fresh, &evicted);
    fk__bad_rec *r = fk__atab_at(&s->bad, i);
    if (fresh) {
        s->st.bad_evicted += (uint64_t)evicted;
        r->info.addr = *src;
        r->info.first_ns = t;
        fk__series *se = &s->bad_series[i];
        fk__series_attach(se, se->b, se->n, se->step_ns);
    }
    fk__cnt one = {0, 0, 1};
    fk__series_add(&s->bad_series[i], t, &one);
    if (tcp)
        r->info.tcp_attempts++;
    else
        r->info.udp_attempts++;
    if (t >= r->info.last_ns) {
        r->info.last_ns = t;
        r->info.last_dst = *dst;
        r->info.last_port = port;
    }
    if (t < r->info.first_ns)
        r->info.first_ns = t;
    s->st.attempts++;
}

static bool unicast(const fk_addr *a)
{
    if (a->family == 4)
        return !(a->bytes[0] >= 224) && a->bytes[0] != 0;
    return a->family == 6 && a->bytes[0] != 0xff;
}

static int32_t pend_find(const fk_store *s, const fk__skey *k)
{
    uint32_t tag = pend_tag(k);
    for (uint32_t pos = fk__sidx_start(&s->pend_idx, tag);;
         pos = fk__sidx_next(&s->pend_idx, pos)) {
        fk__sidx_slot sl = s->pend_idx.slot[pos];
        if (!sl.e)
            return -1;
        if (sl.tag == tag && fk__skey_eq(&s->pend[sl.e - 1].tuple, k))
            return (int32_t)(sl.e - 1);
    }
}

/* Take the oldest waiting record off; count it when nobody answered. */
static void pend_pop(fk_store *s, bool expired)
{
    fk__pending *p = &s->pend[s->pend_head];
    fk__sidx_remove(&s->pend_idx, pend_tag(&p->tuple), s->pend_head);
    if (!p->answered) {
        if (expired) {
            fk_addr src, dst;
            memcpy(&src, p->tuple.b, sizeof src);
            memcpy(&dst, p->tuple.b + 17, sizeof dst);
            attempt(s, &src, fk__atab_hash(&src), &dst,
                    (uint16_t)(p->tuple.b[36] << 8 | p->tuple.b[37]), p->t_ns, false);
        } else {
            s->st.udp_pending_dropped++;
        }
    }
    s->pend_head = (s->pend_head + 1) % s->npend_cap;
    s->npend--;
}

static void udp_one_way(fk_store *s, const fk_flow *f)
{
    fk__skey k, rk;
    fk__skey_tuple(&k, &f->src, &f->dst, f->src_port, f->dst_port);
    fk__skey_tuple(&rk, &f->dst, &f->src, f->dst_port, f->src_port);
    int32_t r = pend_find(s, &rk);
    if (r >= 0) {
        s->pend[r].answered = true;
        return;
    }
    if (pend_find(s, &k) >= 0)
        return; /* a later record of the same one-way flow */
    if (s->npend == s->npend_cap)
        pend_pop(s, false);
    uint32_t pos = (s->pend_head + s->npend) % s->npend_cap;
    s->pend[pos] = (fk__pending){k, f->end_ns, false};
    fk__sidx_insert(&s->pend_idx, pend_tag(&k), pos);
    s->npend++;
}

void fk__badip_add(fk_store *s, const fk_flow *f)
{
    fk_addr src = f->src, dst = f->dst;
    fk__store_norm_addr(&src);
    fk__store_norm_addr(&dst);
    if (!src.family)
        return;
    if (f->proto == 6) {
        attempt(s, &src, fk__atab_hash(&src), &dst, f->dst_port, f->end_ns, true);
    } else if (f->present & FK_FLOW_HAS_REVERSE) {
        if (f->rev_packets == 0 && unicast(&dst))
            attempt(s, &src, fk__atab_hash(&src), &dst, f->dst_port, f->end_ns, false);
    } else if (dst.family) {
        /* Both directions go through the table: a reply may be exported
         * before its request. Only requests to unicast count. */
        if (unicast(&dst) || unicast(&src))
            udp_one_way(s, f);
    }
}

void fk__badip_expire(fk_store *s)
{
    while (s->npend && s->pend[s->pend_head].t_ns + s->udp_wait_ns < s->now_ns)
        pend_pop(s, true);
}

static uint64_t window_attempts(const fk_store *s, uint32_t i)
{
    return fk__series_sum(&s->bad_series[i], s->now_ns - s->bad_window_ns + 1, s->now_ns + 1).flows;
}

static int by_attempts_desc(const void *a, const void *b)
{
    const fk_store_bad_ip *x = a, *y = b;
    if (x->attempts != y->attempts)
        return x->attempts < y->attempts ? 1 : -1;
    return memcmp(&x->addr, &y->addr, sizeof x->addr);
}

int fk_store_get_bad_ips(fk_store *s, fk_store_bad_ip *out, size_t capacity, size_t *count)
{
    if (!s || !count || (capacity && !out) || !s->active)
        return fk__error(FK_EINVAL, "store: NULL argument or not activated");
    *count = 0;
    fk__store_lock_take(&s->lock);
    uint32_t n = s->bad.n, m = 0;
    fk_store_bad_ip *all = fk__calloc(n ? n : 1, sizeof *all);
    for (uint32_t i = 0; all && i < n; i++) {
        uint64_t a = window_attempts(s, i);
        if (a >= s->bad_threshold) {
            all[m] = ((fk__bad_rec *)fk__atab_at(&s->bad, i))->info;
            all[m++].attempts = a;
        }
    }
    fk__store_lock_give(&s->lock);
    if (!all)
        return fk__error(FK_ENOMEM, "store: out of memory for the bad-IP list");
    qsort(all, m, sizeof *all, by_attempts_desc);
    for (; *count < m && *count < capacity; (*count)++)
        out[*count] = all[*count];
    fk__free(all);
    return FK_OK;
}
