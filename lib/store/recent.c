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
    s->ring_held = 0;
    s->ring_next = 0;
    s->ring = fk__store_alloc(s, s->max_flows, sizeof *s->ring);
    s->ring_ext = fk__store_alloc(s, s->max_flows, sizeof *s->ring_ext);
    s->dedup_ttl_ns = fk__params_int(&s->params, FK_STORE_DEDUP_TTL_MS) * INT64_C(1000000);
    s->ndedup = s->dedup_ttl_ns ? (uint32_t)fk__params_int(&s->params, FK_STORE_DEDUP_SLOTS) : 0;
    if (s->ndedup)
        s->dedup = fk__store_alloc(s, s->ndedup, sizeof *s->dedup);
    return (!s->ring || !s->ring_ext || (s->ndedup && !s->dedup)) ? FK_ENOMEM : FK_OK;
}

void fk__recent_free(fk_store *s)
{
    fk__free(s->ring);
    fk__free(s->ring_ext);
    fk__free(s->dedup);
    s->ring = NULL;
    s->ring_ext = NULL;
    s->dedup = NULL;
}

static uint32_t pos_of(const fk_store *s, uint64_t seq)
{
    return (uint32_t)((seq - 1) % s->max_flows);
}

static const fk__rflow *at_seq(const fk_store *s, uint64_t seq)
{
    return &s->ring[pos_of(s, seq)];
}

/* Members of a kept flow that queries and the clock read. */
static int64_t rf_end_ns(const fk__rflow *r)
{
    int64_t v;
    memcpy(&v, r->b + (offsetof(fk_flow, end_ns) - FK__RF_B_OFF), sizeof v);
    return v;
}

static uint16_t rf_u16(const fk__rflow *r, size_t off)
{
    uint16_t v;
    memcpy(&v, r->a + (off - FK__RF_A_OFF), sizeof v);
    return v;
}

int64_t fk__recent_oldest_ns(const fk_store *s)
{
    return s->seq_first < s->seq_next ? rf_end_ns(at_seq(s, s->seq_first)) : 0;
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

/* An address of the extension: as given when it has a family, else absent
 * (all zero, as fk__store_norm_addr makes it). */
static fk_addr kept(const fk_addr *a)
{
    fk_addr n = *a;
    if (!n.family)
        memset(&n, 0, sizeof n);
    return n;
}

void fk__recent_pack_ext(fk__rflow_ext *x, const fk_flow *f)
{
    x->src = f->src;
    x->dst = f->dst;
    x->exporter = f->exporter;
    fk__store_norm_addr(&x->src);
    fk__store_norm_addr(&x->dst);
    fk__store_norm_addr(&x->exporter);
    x->outer_src = kept(&f->outer_src);
    x->outer_dst = kept(&f->outer_dst);
    x->next_hop = kept(&f->next_hop);
    x->bgp_next_hop = kept(&f->bgp_next_hop);
    x->pid = f->pid;
    x->uid = f->uid;
    x->vni = f->vni;
    x->src_as = f->src_as;
    x->dst_as = f->dst_as;
    x->rev_icmp = f->rev_icmp;
    x->tunnel = f->tunnel;
    x->direction = f->direction;
    size_t n = strnlen(f->process, sizeof f->process - 1);
    memcpy(x->process, f->process, n);
    memset(x->process + n, 0, sizeof x->process - n);
}

/* Address which (0 src, 1 dst, 2 exporter) of a kept flow. */
static void addr_of(fk_addr *out, const fk__rflow *r, const fk__rflow_ext *x, int which)
{
    uint32_t code = (uint32_t)(r->fam >> (2 * which)) & 3;
    memset(out, 0, sizeof *out);
    if (code == 1) {
        uint32_t w = which == 0 ? r->src4 : which == 1 ? r->dst4 : r->exp4;
        out->family = 4;
        memcpy(out->bytes, &w, 4);
    } else if (code == 2) {
        *out = which == 0 ? x->src : which == 1 ? x->dst : x->exporter;
    }
}

/* The fk_flow a kept flow was (addresses normalised, borrowed strings NULL). */
static void rebuild(fk_flow *f, const fk_store *s, uint64_t seq)
{
    uint32_t pos = pos_of(s, seq);
    const fk__rflow *r = &s->ring[pos];
    const fk__rflow_ext *x = r->ext ? &s->ring_ext[pos] : NULL;
    memset(f, 0, sizeof *f);
    addr_of(&f->src, r, x, 0);
    addr_of(&f->dst, r, x, 1);
    addr_of(&f->exporter, r, x, 2);
    unsigned char *raw = (unsigned char *)f;
    memcpy(raw + FK__RF_A_OFF, r->a, FK__RF_A_LEN);
    memcpy(raw + FK__RF_B_OFF, r->b, FK__RF_B_LEN);
    if (!x)
        return;
    f->outer_src = x->outer_src;
    f->outer_dst = x->outer_dst;
    f->next_hop = x->next_hop;
    f->bgp_next_hop = x->bgp_next_hop;
    f->pid = x->pid;
    f->uid = x->uid;
    f->vni = x->vni;
    f->src_as = x->src_as;
    f->dst_as = x->dst_as;
    f->rev_icmp = x->rev_icmp;
    f->tunnel = x->tunnel;
    f->direction = x->direction;
    memcpy(f->process, x->process, sizeof f->process);
}

void fk__recent_expire(fk_store *s)
{
    int64_t oldest = s->now_ns - s->retention_ns;
    /* Insertion order approximates time order; a flow that arrived late
     * leaves with its neighbours. */
    while (s->seq_first < s->seq_next && rf_end_ns(at_seq(s, s->seq_first)) < oldest) {
        s->seq_first++;
        s->ring_held--;
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

/* The query's tests that the kept form answers without rebuilding the
 * flow: false only when matches() would say false. */
static bool pre_match(const fk__rflow *r, const fk_store_query *q)
{
    if (!q)
        return true;
    uint16_t sp = rf_u16(r, offsetof(fk_flow, src_port)),
             dp = rf_u16(r, offsetof(fk_flow, dst_port));
    if (q->port > 0 && q->port != sp && q->port != dp)
        return false;
    if (!port_ok(q->src_port, sp) || !port_ok(q->dst_port, dp))
        return false;
    if (q->proto > 0 && q->proto != r->a[offsetof(fk_flow, proto) - FK__RF_A_OFF])
        return false;
    int64_t end = rf_end_ns(r);
    if (q->since_ns && end < q->since_ns)
        return false;
    return !(q->until_ns && end >= q->until_ns);
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
        if (!pre_match(at_seq(s, seq - 1), query))
            continue;
        fk_flow *f = &out[*count];
        rebuild(f, s, seq - 1);
        if (matches(f, query))
            (*count)++;
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
        rebuild(&out[(*count)++], s, seq);
        *next = seq;
    }
    fk__store_lock_give(&s->lock);
    return FK_OK;
}
