/* Bidirectional flow table: preallocated slab, open-addressing index with
 * linear probing (hash stored in the bucket, backward-shift deletion), and
 * three intrusive lists that make expiry cost proportional to what expires:
 *   live    flows by last activity (idle timeout, LRU eviction)
 *   closing closed TCP flows by last activity (linger, then end record)
 *   active  every flow by the start of its current record (active timeout)
 * This file: the table's lifecycle and the packet path; the data structure
 * and its inline helpers are in flow_table_int.h, the records and events
 * it emits in flow_emit.c. */
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "flow/flow_table_int.h"

uint32_t fk__flow_hash(const fk__packet *p)
{
    flow_key k;
    make_key(&k, p, !later_fragment(p));
    return key_hash(&k);
}

static void index_remove(fk__flow_table *t, uint32_t h, uint32_t i)
{
    uint64_t want = (uint64_t)h << 32 | (uint64_t)(i + 1);
    uint32_t pos = h & t->mask;
    while (t->buckets[pos] != want)
        pos = (pos + 1) & t->mask;
    uint32_t hole = pos;
    for (;;) {
        pos = (pos + 1) & t->mask;
        uint64_t b = t->buckets[pos];
        if (!b)
            break;
        uint32_t home = (uint32_t)(b >> 32) & t->mask;
        /* Move b into the hole unless its home lies cyclically in (hole, pos]. */
        int stays = hole <= pos ? (home > hole && home <= pos) : (home > hole || home <= pos);
        if (!stays) {
            t->buckets[hole] = b;
            hole = pos;
        }
    }
    t->buckets[hole] = 0;
}

/* ---- entry lifecycle ---------------------------------------------------- */

static void entry_free(fk__flow_table *t, uint32_t i)
{
    flow_entry *e = &t->slab[i];
    index_remove(t, e->hash, i);
    if (e->list != LIST_NONE)
        list_unlink(t->slab, &t->lists[e->list], i);
    alist_unlink(t->cold, &t->active, i);
    e->list = LIST_NONE;
    t->cold[i].gen++;
    e->next = t->free_head;
    t->free_head = i;
    t->st.active--;
}

static void entry_end(fk__flow_table *t, uint32_t i, uint8_t reason)
{
    fk__ft_emit_record(t, i, reason);
    entry_free(t, i);
}

static void reset_counters(flow_entry *e)
{
    e->bytes[0] = e->bytes[1] = 0;
    e->packets[0] = e->packets[1] = 0;
    e->last[0] = e->last[1] = 0;
    e->tcp_flags[0] = e->tcp_flags[1] = 0;
}

/* Free one slot when the table is full: a closed flow first (it is done
 * anyway), else the least recently used live flow. */
static void make_room(fk__flow_table *t)
{
    uint32_t i = t->lists[LIST_CLOSING].head;
    if (i != NIL) {
        entry_end(t, i, FK_END_DETECTED);
        return;
    }
    i = t->lists[LIST_LIVE].head;
    if (i != NIL)
        entry_end(t, i, FK_END_RESOURCES);
}

static uint32_t entry_new(fk__flow_table *t, const flow_key *k, uint32_t h, int side,
                          const fk__packet *p)
{
    if (t->free_head == NIL && t->fresh == t->cfg.max_flows)
        make_room(t);
    uint32_t i;
    flow_cold *c;
    if (t->free_head != NIL) {
        i = t->free_head;
        t->free_head = t->slab[i].next;
        c = &t->cold[i];
    } else {
        /* First use of a slot: the slab is not written at create, so memory
         * is only touched for the flows a table really holds. */
        i = t->fresh++;
        c = &t->cold[i];
        c->gen = 0;
    }
    flow_entry *e = &t->slab[i];
    memset(e, 0, sizeof *e);
    c->first[0] = c->first[1] = 0;
    e->key = *k;
    e->hash = h;
    e->init_side = (uint8_t)side;
    e->tos = p->tos;
    e->first_typecode = is_icmp(p->proto) ? p->dst_port : 0;
    e->direction = p->direction;
    if (t->tun) {
        flow_tunnel *tu = &t->tun[i];
        if (p->flags & FK__PKT_F_TUNNEL) {
            memcpy(tu->outer_src, p->outer_src, 16);
            memcpy(tu->outer_dst, p->outer_dst, 16);
            tu->vni = p->tunnel_vni;
            tu->kind = p->tunnel_kind;
            tu->family = p->outer_family;
        } else {
            tu->kind = 0;
        }
    }
    e->rec_start = p->ts_ns;
    e->list = LIST_LIVE;
    index_insert(t, h, i);
    list_append(t->slab, &t->lists[LIST_LIVE], i);
    alist_append(t->cold, &t->active, i);
    t->st.active++;
    t->st.created++;
    return i;
}

/* ---- public-internal API ------------------------------------------------ */

void fk__flow_config_default(fk__flow_config *cfg)
{
    cfg->max_flows = 65536;
    cfg->idle_timeout_ns = 15 * NS_PER_SEC;
    cfg->active_timeout_ns = 1800 * NS_PER_SEC;
    cfg->tcp_linger_ns = 1 * NS_PER_SEC;
    cfg->tunnels = 0;
}

int fk__flow_table_create(fk__flow_table **out, const fk__flow_config *cfg,
                          const fk__flow_sink *sink)
{
    if (!out || !cfg)
        return fk__error(FK_EINVAL, "flow table: NULL argument");
    *out = NULL;
    if (cfg->max_flows == 0 || cfg->max_flows > (1u << 28))
        return fk__error(FK_EINVAL, "flow table: max_flows = %u is out of range [1, %u]",
                         cfg->max_flows, 1u << 28);
    if (cfg->idle_timeout_ns < 0 || cfg->active_timeout_ns < 0 || cfg->tcp_linger_ns < 0)
        return fk__error(FK_EINVAL, "flow table: negative timeout");
    fk__flow_table *t = FK__NEW(fk__flow_table);
    if (!t)
        return fk__error(FK_ENOMEM, "flow table: out of memory");
    t->cfg = *cfg;
    if (sink)
        t->sink = *sink;
    uint32_t nb = 16;
    while (nb < cfg->max_flows * 2u)
        nb <<= 1;
    t->mask = nb - 1;
    uint32_t nf = 256;
    while (nf < cfg->max_flows / 8 && nf < 65536)
        nf <<= 1;
    t->frag_mask = nf - 1;
    /* Slab and cold parts are initialised slot by slot on first use. */
    t->slab_raw = fk__malloc(((size_t)cfg->max_flows + 1) * sizeof *t->slab);
    t->cold = fk__malloc((size_t)cfg->max_flows * sizeof *t->cold);
    t->slab = t->slab_raw ? (flow_entry *)(((uintptr_t)t->slab_raw + 63) & ~(uintptr_t)63) : NULL;
    t->buckets = fk__calloc(nb, sizeof *t->buckets);
    t->frags = fk__calloc(nf, sizeof *t->frags);
    if (cfg->tunnels)
        t->tun = fk__malloc((size_t)cfg->max_flows * sizeof *t->tun);
    if (!t->slab || !t->cold || !t->buckets || !t->frags || (cfg->tunnels && !t->tun)) {
        fk__flow_table_destroy(t);
        return fk__error(FK_ENOMEM, "flow table: out of memory for %u flows", cfg->max_flows);
    }
    for (uint32_t i = 0; i < nf; i++)
        t->frags[i].side = 0xff;
    t->free_head = NIL;
    t->fresh = 0;
    t->lists[0].head = t->lists[0].tail = NIL;
    t->lists[1].head = t->lists[1].tail = NIL;
    t->active.head = t->active.tail = NIL;
    *out = t;
    return FK_OK;
}

void fk__flow_table_destroy(fk__flow_table *t)
{
    if (!t)
        return;
    fk__free(t->slab_raw);
    fk__free(t->cold);
    fk__free(t->buckets);
    fk__free(t->frags);
    fk__free(t->tun);
    fk__free(t);
}

static inline uint32_t frag_hash(const fk__packet *p)
{
    uint64_t w[4];
    memcpy(w, p->src, 16);
    memcpy(w + 2, p->dst, 16);
    uint64_t h = fk__mix64(w[0] ^ fk__mix64(w[1] ^ fk__mix64(w[2] ^ fk__mix64(w[3]))) ^
                           ((uint64_t)p->frag_id << 16 | (uint64_t)fk__frag_proto(p) << 8) ^
                           (uint64_t)p->vlan << 48);
    return (uint32_t)h;
}

static inline int frag_match(const frag_slot *s, const fk__packet *p)
{
    return s->side != 0xff && s->id == p->frag_id && s->proto == fk__frag_proto(p) &&
           s->vlan == p->vlan && memcmp(s->src, p->src, 16) == 0 && memcmp(s->dst, p->dst, 16) == 0;
}

#define HOT static inline __attribute__((always_inline))

HOT void count(fk__flow_table *t, uint32_t i, int side, const fk__packet *p)
{
    flow_entry *e = &t->slab[i];
    if (e->packets[side] == 0) {
        if (side != e->init_side && is_icmp(p->proto))
            e->other_typecode = p->dst_port; /* the reply's own type and code */
        t->cold[i].first[side] = p->ts_ns;
        e->last[side] = p->ts_ns;
    } else if (p->ts_ns > e->last[side]) {
        e->last[side] = p->ts_ns;
    }
    if (p->ts_ns > e->last_any)
        e->last_any = p->ts_ns;
    e->packets[side]++;
    e->bytes[side] += p->ip_len;
    e->tcp_flags[side] |= p->tcp_flags;
    t->st.packets++;
    t->st.bytes += p->ip_len;
    if (e->list != LIST_NONE) { /* most recently used: to the tail */
        list_head *l = &t->lists[e->list];
        if (l->tail != i) {
            list_unlink(t->slab, l, i);
            list_append(t->slab, l, i);
        }
    }
}

/* Active timeout on a packet: emit what the record has so far, restart it. */
static void active_restart(fk__flow_table *t, uint32_t i, int64_t now)
{
    flow_entry *e = &t->slab[i];
    fk__ft_emit_record(t, i, FK_END_ACTIVE);
    reset_counters(e);
    e->rec_start = now;
    alist_unlink(t->cold, &t->active, i);
    alist_append(t->cold, &t->active, i);
}

HOT void maybe_active(fk__flow_table *t, uint32_t i, int64_t now)
{
    if (__builtin_expect(t->cfg.active_timeout_ns != 0 &&
                             now - t->slab[i].rec_start >= t->cfg.active_timeout_ns,
                         0))
        active_restart(t, i, now);
}

static void tcp_track(fk__flow_table *t, uint32_t i, int side, const fk__packet *p)
{
    flow_entry *e = &t->slab[i];
    uint8_t fl = p->tcp_flags;
    if ((fl & TCP_SYN) && !(e->state & ST_SYN)) {
        e->state |= ST_SYN;
        fk__ft_emit_event(t, p, FK_SESSION_SYN);
    }
    if (fl & TCP_FIN) {
        uint8_t bit = side == 0 ? ST_FIN_A : ST_FIN_B;
        if (!(e->state & bit)) {
            e->state |= bit;
            fk__ft_emit_event(t, p, FK_SESSION_FIN);
        }
    }
    if ((fl & TCP_RST) && !(e->state & ST_RST)) {
        e->state |= ST_RST;
        fk__ft_emit_event(t, p, FK_SESSION_RST);
    }
    int closed = (e->state & ST_RST) || (e->state & (ST_FIN_A | ST_FIN_B)) == (ST_FIN_A | ST_FIN_B);
    if (closed && !(e->state & ST_CLOSED)) {
        e->state |= ST_CLOSED;
        list_unlink(t->slab, &t->lists[e->list], i);
        e->list = LIST_CLOSING;
        list_append(t->slab, &t->lists[LIST_CLOSING], i);
    }
}

/* Count a packet whose canonical key and hash are known. */
HOT void add_keyed(fk__flow_table *t, const fk__packet *p, const flow_key *k, uint32_t h, int side)
{
    uint32_t i = index_find(t, k, h);
    if (i != NIL && (t->slab[i].state & ST_CLOSED) && (p->tcp_flags & TCP_SYN) &&
        !(p->tcp_flags & TCP_ACK)) {
        entry_end(t, i, FK_END_DETECTED); /* port reuse: a new connection */
        i = NIL;
    }
    if (i == NIL)
        i = entry_new(t, k, h, side, p);
    else
        maybe_active(t, i, p->ts_ns);
    count(t, i, side, p);
    if (p->proto == 6 && (p->flags & FK__PKT_F_L4))
        tcp_track(t, i, side, p);
    if (p->flags & FK__PKT_F_FIRST_FRAG) {
        frag_slot *s = &t->frags[frag_hash(p) & t->frag_mask];
        memcpy(s->src, p->src, 16);
        memcpy(s->dst, p->dst, 16);
        s->id = p->frag_id;
        s->proto = fk__frag_proto(p);
        s->vlan = p->vlan;
        s->flow = i;
        s->gen = t->cold[i].gen;
        s->side = (uint8_t)side;
    }
}

/* A later fragment whose first fragment's flow is still there: count it
 * there and return 1. */
static int add_fragment(fk__flow_table *t, const fk__packet *p)
{
    frag_slot *s = &t->frags[frag_hash(p) & t->frag_mask];
    if (!frag_match(s, p) || t->cold[s->flow].gen != s->gen || t->slab[s->flow].list == LIST_NONE) {
        t->st.frag_misses++;
        return 0;
    }
    t->st.frag_hits++;
    maybe_active(t, s->flow, p->ts_ns);
    count(t, s->flow, s->side, p);
    return 1;
}

int fk__flow_table_add(fk__flow_table *t, const fk__packet *p)
{
    if (!t || !p || (p->ip_version != 4 && p->ip_version != 6))
        return fk__error(FK_EINVAL, "flow table: not an IP packet");
    flow_key k;
    int side;
    if (later_fragment(p)) {
        if (add_fragment(t, p))
            return FK_OK;
        side = make_key(&k, p, 0);
    } else {
        side = make_key(&k, p, 1);
    }
    add_keyed(t, p, &k, key_hash(&k), side);
    return FK_OK;
}

#define BATCH 32

size_t fk__flow_table_add_batch(fk__flow_table *t, const fk__packet *pk, size_t n)
{
    if (!t || !pk)
        return 0;
    size_t added = 0;
    flow_key k[BATCH];
    uint32_t h[BATCH];
    uint32_t cand[BATCH];
    uint8_t side[BATCH];
    uint8_t use[BATCH];
    for (size_t base = 0; base < n; base += BATCH) {
        size_t m = n - base < BATCH ? n - base : BATCH;
        const fk__packet *p = pk + base;
        /* Stages over the group, each a plain loop: keys and bucket
         * prefetches; candidate entries from the buckets and their
         * prefetch; the candidates' LRU neighbours' prefetch; then every
         * packet counted in order exactly as a single add would (the
         * prefetches are only hints: add_keyed() looks up again). */
        for (size_t j = 0; j < m; j++) {
            const fk__packet *q = &p[j];
            use[j] = (q->ip_version == 4 || q->ip_version == 6) && !later_fragment(q);
            if (use[j]) {
                side[j] = (uint8_t)make_key(&k[j], q, 1);
                h[j] = key_hash(&k[j]);
                __builtin_prefetch(&t->buckets[h[j] & t->mask]);
            }
        }
        for (size_t j = 0; j < m; j++) {
            cand[j] = NIL;
            if (!use[j])
                continue;
            uint64_t b = t->buckets[h[j] & t->mask];
            if (b && (uint32_t)(b >> 32) == h[j]) {
                cand[j] = (uint32_t)b - 1;
                const flow_entry *e = &t->slab[cand[j]];
                __builtin_prefetch(e, 1);
                __builtin_prefetch((const char *)e + 64, 1);
            }
        }
        for (size_t j = 0; j < m; j++) {
            if (cand[j] == NIL)
                continue;
            const flow_entry *e = &t->slab[cand[j]];
            if (e->prev != NIL)
                __builtin_prefetch(&t->slab[e->prev], 1);
            if (e->next != NIL)
                __builtin_prefetch(&t->slab[e->next], 1);
        }
        for (size_t j = 0; j < m; j++) {
            const fk__packet *q = &p[j];
            if (use[j]) {
                add_keyed(t, q, &k[j], h[j], side[j]);
                added++;
            } else if (q->ip_version == 4 || q->ip_version == 6) {
                flow_key kk;
                if (!add_fragment(t, q)) {
                    int sd = make_key(&kk, q, 0);
                    add_keyed(t, q, &kk, key_hash(&kk), sd);
                }
                added++;
            }
        }
    }
    return added;
}

size_t fk__flow_table_expire(fk__flow_table *t, int64_t now)
{
    if (!t)
        return 0;
    uint64_t before = t->st.records;
    uint32_t i;
    if (t->cfg.idle_timeout_ns) {
        while ((i = t->lists[LIST_LIVE].head) != NIL &&
               now - t->slab[i].last_any >= t->cfg.idle_timeout_ns)
            entry_end(t, i, FK_END_IDLE);
    }
    while ((i = t->lists[LIST_CLOSING].head) != NIL &&
           now - t->slab[i].last_any >= t->cfg.tcp_linger_ns)
        entry_end(t, i, FK_END_DETECTED);
    if (t->cfg.active_timeout_ns) {
        while ((i = t->active.head) != NIL &&
               now - t->slab[i].rec_start >= t->cfg.active_timeout_ns) {
            flow_entry *e = &t->slab[i];
            if (e->state & ST_CLOSED) {
                entry_end(t, i, FK_END_DETECTED);
                continue;
            }
            fk__ft_emit_record(t, i, FK_END_ACTIVE);
            reset_counters(e);
            e->rec_start = now;
            alist_unlink(t->cold, &t->active, i);
            alist_append(t->cold, &t->active, i);
        }
    }
    /* Flows emptied by an active timeout and idle since: nothing to report. */
    return (size_t)(t->st.records - before);
}

size_t fk__flow_table_flush(fk__flow_table *t)
{
    if (!t)
        return 0;
    uint64_t before = t->st.records;
    uint32_t i;
    while ((i = t->lists[LIST_CLOSING].head) != NIL)
        entry_end(t, i, FK_END_DETECTED);
    while ((i = t->lists[LIST_LIVE].head) != NIL)
        entry_end(t, i, FK_END_FORCED);
    return (size_t)(t->st.records - before);
}

void fk__flow_table_stats(const fk__flow_table *t, fk__flow_stats *out)
{
    if (!t || !out)
        return;
    *out = t->st;
}
