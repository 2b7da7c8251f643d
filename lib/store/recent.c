/* The recent flows of a store (a ring numbered by sequence), their search
 * and live feed, and de-duplication across exporters. */
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "store/store_int.h"

int fk__recent_init(fk_store *s)
{
    s->max_flows = (uint32_t)fk__params_int(&s->params, FK_STORE_MAX_FLOWS);
    s->retention_ns = fk__params_int(&s->params, FK_STORE_RETENTION_SEC) * INT64_C(1000000000);
    s->seq_first = s->seq_next = 1;
    s->ring = fk__store_alloc(s, s->max_flows, sizeof *s->ring);
    s->dedup_ttl_ns = fk__params_int(&s->params, FK_STORE_DEDUP_TTL_MS) * INT64_C(1000000);
    s->ndedup = s->dedup_ttl_ns ? (uint32_t)fk__params_int(&s->params, FK_STORE_DEDUP_SLOTS) : 0;
    if (s->ndedup)
        s->dedup = fk__store_alloc(s, s->ndedup, sizeof *s->dedup);
    return (!s->ring || (s->ndedup && !s->dedup)) ? FK_ENOMEM : FK_OK;
}

void fk__recent_free(fk_store *s)
{
    fk__free(s->ring);
    fk__free(s->dedup);
    s->ring = NULL;
    s->dedup = NULL;
}

static fk_flow *at_seq(const fk_store *s, uint64_t seq)
{
    return &s->ring[(seq - 1) % s->max_flows];
}

int64_t fk__recent_oldest_ns(const fk_store *s)
{
    return s->seq_first < s->seq_next ? at_seq(s, s->seq_first)->end_ns : 0;
}

bool fk__dedup_is_duplicate(fk_store *s, const fk_flow *f, const fk_addr *src, const fk_addr *dst,
                            const fk_addr *exp)
{
    if (!s->ndedup || !(f->present & FK_FLOW_HAS_EXPORTER))
        return false;
    fk__skey k;
    fk__skey_tuple(&k, src, dst, f->src_port, f->dst_port);
    k.b[38] = f->proto;
    fk__dedup_slot *d = &s->dedup[fk__store_hash(k.b, sizeof k.b) % s->ndedup];
    int64_t age = f->end_ns - d->t_ns;
    bool live = d->used && age <= s->dedup_ttl_ns && age >= -s->dedup_ttl_ns;
    if (live && memcmp(&d->tuple, &k, sizeof k) == 0) {
        if (d->odid != f->odid || memcmp(&d->exporter, exp, sizeof *exp) != 0)
            return true;
        if (f->end_ns > d->t_ns)
            d->t_ns = f->end_ns; /* the same exporter again: a later record of the flow */
        return false;
    }
    if (live)
        s->st.dedup_evictions++;
    d->tuple = k;
    d->exporter = *exp;
    d->odid = f->odid;
    d->t_ns = f->end_ns;
    d->used = true;
    return false;
}

fk_flow *fk__recent_add(fk_store *s, const fk_flow *f)
{
    if (s->seq_next - s->seq_first == s->max_flows) {
        s->seq_first++;
        s->st.flows_evicted++;
    }
    fk_flow *slot = at_seq(s, s->seq_next++);
    *slot = *f;
    return slot;
}

void fk__recent_expire(fk_store *s)
{
    int64_t oldest = s->now_ns - s->retention_ns;
    /* Insertion order approximates time order; a flow that arrived late
     * leaves with its neighbours. */
    while (s->seq_first < s->seq_next && at_seq(s, s->seq_first)->end_ns < oldest) {
        s->seq_first++;
        s->st.flows_expired++;
    }
}

static bool addr_eq(const fk_addr *a, const fk_addr *b)
{
    return a->family == b->family && memcmp(a->bytes, b->bytes, a->family == 4 ? 4 : 16) == 0;
}

static bool port_ok(int want, uint16_t have)
{
    return want <= 0 || want == have;
}

static bool matches(const fk_flow *f, const fk_store_query *q)
{
    if (!q)
        return true;
    if (q->addr.family && !addr_eq(&q->addr, &f->src) && !addr_eq(&q->addr, &f->dst))
        return false;
    if (q->src.family && !addr_eq(&q->src, &f->src))
        return false;
    if (q->dst.family && !addr_eq(&q->dst, &f->dst))
        return false;
    if (q->exporter.family && !addr_eq(&q->exporter, &f->exporter))
        return false;
    if (q->port > 0 && q->port != f->src_port && q->port != f->dst_port)
        return false;
    if (!port_ok(q->src_port, f->src_port) || !port_ok(q->dst_port, f->dst_port))
        return false;
    if (q->proto > 0 && q->proto != f->proto)
        return false;
    if (q->since_ns && f->end_ns < q->since_ns)
        return false;
    if (q->until_ns && f->end_ns >= q->until_ns)
        return false;
    return true;
}

int fk_store_search(fk_store *s, const fk_store_query *query, fk_flow *out, size_t capacity,
                    size_t *count)
{
    if (!s || !count || (capacity && !out) || !s->active)
        return fk__error(FK_EINVAL, "store: NULL argument or not activated");
    *count = 0;
    fk__store_lock_take(&s->lock);
    for (uint64_t seq = s->seq_next; seq > s->seq_first && *count < capacity; seq--) {
        const fk_flow *f = at_seq(s, seq - 1);
        if (matches(f, query))
            out[(*count)++] = *f;
    }
    fk__store_lock_give(&s->lock);
    return FK_OK;
}

int fk_store_get_since(fk_store *s, uint64_t after, fk_flow *out, size_t capacity, size_t *count,
                       uint64_t *next)
{
    if (!s || !count || !next || (capacity && !out) || !s->active)
        return fk__error(FK_EINVAL, "store: NULL argument or not activated");
    *count = 0;
    *next = after;
    fk__store_lock_take(&s->lock);
    uint64_t seq = after + 1 > s->seq_first ? after + 1 : s->seq_first;
    for (; seq < s->seq_next && *count < capacity; seq++) {
        out[(*count)++] = *at_seq(s, seq);
        *next = seq;
    }
    fk__store_lock_give(&s->lock);
    return FK_OK;
}
