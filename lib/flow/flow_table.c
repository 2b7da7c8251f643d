/* Bidirectional flow table: preallocated slab, open-addressing index with
 * linear probing (hash stored in the bucket, backward-shift deletion), and
 * three intrusive lists that make expiry cost proportional to what expires:
 *   live    flows by last activity (idle timeout, LRU eviction)
 *   closing closed TCP flows by last activity (linger, then end record)
 *   active  every flow by the start of its current record (active timeout)
 */
#include "flow/flow_table.h"

#include <string.h>

#include "core/alloc.h"
#include "core/error.h"

#define NIL UINT32_MAX
#define NS_PER_SEC 1000000000LL

#define TCP_FIN 0x01u
#define TCP_SYN 0x02u
#define TCP_RST 0x04u
#define TCP_ACK 0x10u

/* Entry state bits. */
#define ST_SYN 0x01u   /* SYN event sent */
#define ST_FIN_A 0x02u /* FIN from key side a sent */
#define ST_FIN_B 0x04u /* FIN from key side b sent */
#define ST_RST 0x08u   /* RST event sent */
#define ST_CLOSED 0x10u

enum { LIST_LIVE = 0, LIST_CLOSING = 1, LIST_NONE = 2 };

/* Canonical key: side a is the lower (address, port). 40 bytes, no padding. */
typedef struct flow_key {
    uint8_t a[16];
    uint8_t b[16];
    uint16_t pa;
    uint16_t pb;
    uint16_t vlan;
    uint8_t proto;
    uint8_t family;
} flow_key;

/* What every packet touches: 128 bytes, two cache lines (slab aligned). */
typedef struct flow_entry {
    /* line 1: lookup and LRU links */
    flow_key key;
    uint32_t hash;
    uint32_t prev, next;     /* live or closing list */
    uint16_t first_typecode; /* ICMP: type/code of the first packet */
    uint8_t init_side;       /* key side that sent the first packet */
    uint8_t state;           /* ST_* */
    uint8_t tcp_flags[2];
    uint8_t tos;
    uint8_t list; /* LIST_* */
    uint32_t spare;
    /* line 2: counters */
    uint64_t bytes[2]; /* [0]: packets from a to b, [1]: b to a */
    uint64_t packets[2];
    int64_t last[2];
    int64_t last_any;  /* latest packet in either direction */
    int64_t rec_start; /* start of the current record (active timeout) */
} flow_entry;

/* What only the first packet of a direction, the active list and the
 * fragment cache touch. */
typedef struct flow_cold {
    int64_t first[2];
    uint32_t aprev, anext; /* active list */
    uint32_t gen;          /* bumped when the slot is freed (fragment cache) */
    uint32_t spare;
} flow_cold;

_Static_assert(sizeof(flow_key) == 40, "flow_key has no padding");
_Static_assert(sizeof(flow_entry) == 128, "flow_entry is two cache lines");

/* Later-fragment cache: (src, dst, proto, id) of a first fragment -> flow. */
typedef struct frag_slot {
    uint8_t src[16];
    uint8_t dst[16];
    uint32_t id;
    uint32_t flow;
    uint32_t gen;
    uint16_t vlan;
    uint8_t proto;
    uint8_t side; /* key side of the first fragment's sender; 0xff = empty */
} frag_slot;

typedef struct list_head {
    uint32_t head, tail;
} list_head;

struct fk__flow_table {
    fk__flow_config cfg;
    fk__flow_sink sink;
    flow_entry *slab; /* 64-byte aligned inside slab_raw */
    void *slab_raw;
    flow_cold *cold;
    uint64_t *buckets; /* hash << 32 | (index + 1); 0 = empty */
    uint32_t mask;
    uint32_t free_head; /* free list threaded through entry.next */
    uint32_t fresh;     /* slots [fresh, max_flows) were never used (not even touched) */
    list_head lists[2];
    list_head active;
    frag_slot *frags;
    uint32_t frag_mask;
    fk__flow_stats st;
};

/* ---- hashing ------------------------------------------------------------ */

static inline uint64_t mix64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

static inline uint32_t key_hash(const flow_key *k)
{
    uint64_t w[5];
    memcpy(w, k, sizeof w);
    /* Five independent multiplies (they run in parallel), then a full
     * avalanche: cheaper than a serial multiply chain, as well spread. */
    uint64_t h = (w[0] + 0x9e3779b97f4a7c15ULL) * 0xbf58476d1ce4e5b9ULL +
                 (w[1] + 0x632be59bd9b4e019ULL) * 0x94d049bb133111ebULL +
                 (w[2] + 0x85ebca77c2b2ae63ULL) * 0xff51afd7ed558ccdULL +
                 (w[3] + 0xc2b2ae3d27d4eb4fULL) * 0xc4ceb9fe1a85ec53ULL +
                 (w[4] + 0x165667b19e3779f9ULL) * 0xd6e8feb86659fd93ULL;
    h = mix64(h);
    uint32_t r = (uint32_t)(h ^ (h >> 32));
    return r ? r : 1; /* 0 would look like an empty bucket's tag */
}

static inline int is_icmp(uint8_t proto)
{
    return proto == 1 || proto == 58;
}

/* Reply types folded onto their request so both directions share a key. */
static inline uint16_t icmp_fold(uint8_t proto, uint16_t typecode)
{
    unsigned type = typecode >> 8;
    if (proto == 1) {
        switch (type) {
        case 0: /* echo reply */
            type = 8;
            break;
        case 14: /* timestamp reply */
            type = 13;
            break;
        case 16: /* information reply */
            type = 15;
            break;
        case 18: /* address mask reply */
            type = 17;
            break;
        default:
            break;
        }
    } else if (type == 129) { /* ICMPv6 echo reply */
        type = 128;
    }
    return (uint16_t)(type << 8 | (typecode & 0xff));
}

/* memcmp() order of two 16-byte addresses, without the call. */
static inline int addr_cmp(const uint8_t *x, const uint8_t *y)
{
    uint64_t a, b;
    memcpy(&a, x, 8);
    memcpy(&b, y, 8);
    if (a == b) {
        memcpy(&a, x + 8, 8);
        memcpy(&b, y + 8, 8);
    }
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    a = __builtin_bswap64(a); /* big-endian value order = memcmp order */
    b = __builtin_bswap64(b);
#endif
    return (a > b) - (a < b);
}

/* Canonical key of a packet; returns the key side that sent it (0 = a). */
static inline int make_key(flow_key *k, const fk__packet *p, int with_ports)
{
    uint16_t sp = with_ports ? p->src_port : 0;
    uint16_t dp = with_ports ? p->dst_port : 0;
    int icmp = is_icmp(p->proto);
    if (icmp) {
        sp = 0;
        dp = with_ports ? icmp_fold(p->proto, p->dst_port) : 0;
    }
    int c = addr_cmp(p->src, p->dst);
    int side = c > 0 || (c == 0 && !icmp && sp > dp);
    if (!side) {
        memcpy(k->a, p->src, 16);
        memcpy(k->b, p->dst, 16);
        k->pa = sp;
        k->pb = dp;
    } else {
        memcpy(k->a, p->dst, 16);
        memcpy(k->b, p->src, 16);
        k->pa = dp;
        k->pb = sp;
    }
    if (icmp) { /* the type travels with the key, not with a side */
        k->pa = 0;
        k->pb = dp;
    }
    k->vlan = p->vlan;
    k->proto = p->proto;
    k->family = p->ip_version;
    return side;
}

static inline int later_fragment(const fk__packet *p)
{
    return (p->flags & FK__PKT_F_FRAG) && !(p->flags & FK__PKT_F_FIRST_FRAG);
}

uint32_t fk__flow_hash(const fk__packet *p)
{
    flow_key k;
    make_key(&k, p, !later_fragment(p));
    return key_hash(&k);
}

/* ---- lists -------------------------------------------------------------- */

static inline void list_unlink(flow_entry *slab, list_head *l, uint32_t i)
{
    flow_entry *e = &slab[i];
    if (e->prev != NIL)
        slab[e->prev].next = e->next;
    else
        l->head = e->next;
    if (e->next != NIL)
        slab[e->next].prev = e->prev;
    else
        l->tail = e->prev;
    e->prev = e->next = NIL;
}

static inline void list_append(flow_entry *slab, list_head *l, uint32_t i)
{
    flow_entry *e = &slab[i];
    e->next = NIL;
    e->prev = l->tail;
    if (l->tail != NIL)
        slab[l->tail].next = i;
    else
        l->head = i;
    l->tail = i;
}

static inline void alist_unlink(flow_cold *slab, list_head *l, uint32_t i)
{
    flow_cold *e = &slab[i];
    if (e->aprev != NIL)
        slab[e->aprev].anext = e->anext;
    else
        l->head = e->anext;
    if (e->anext != NIL)
        slab[e->anext].aprev = e->aprev;
    else
        l->tail = e->aprev;
    e->aprev = e->anext = NIL;
}

static inline void alist_append(flow_cold *slab, list_head *l, uint32_t i)
{
    flow_cold *e = &slab[i];
    e->anext = NIL;
    e->aprev = l->tail;
    if (l->tail != NIL)
        slab[l->tail].anext = i;
    else
        l->head = i;
    l->tail = i;
}

/* ---- index -------------------------------------------------------------- */

static inline int key_equal(const flow_key *x, const flow_key *y)
{
    uint64_t a[5], b[5];
    memcpy(a, x, sizeof a);
    memcpy(b, y, sizeof b);
    return ((a[0] ^ b[0]) | (a[1] ^ b[1]) | (a[2] ^ b[2]) | (a[3] ^ b[3]) | (a[4] ^ b[4])) == 0;
}

static inline uint32_t index_find(const fk__flow_table *t, const flow_key *k, uint32_t h)
{
    uint32_t pos = h & t->mask;
    for (;;) {
        uint64_t b = t->buckets[pos];
        if (!b)
            return NIL;
        if ((uint32_t)(b >> 32) == h) {
            uint32_t i = (uint32_t)b - 1;
            if (key_equal(&t->slab[i].key, k))
                return i;
        }
        pos = (pos + 1) & t->mask;
    }
}

static inline void index_insert(fk__flow_table *t, uint32_t h, uint32_t i)
{
    uint32_t pos = h & t->mask;
    while (t->buckets[pos])
        pos = (pos + 1) & t->mask;
    t->buckets[pos] = (uint64_t)h << 32 | (uint64_t)(i + 1);
}

/* Backward-shift deletion keeps probe chains intact without tombstones. */
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

/* ---- records and events ------------------------------------------------- */

static void fill_addr(fk_addr *a, const uint8_t *bytes, uint8_t family)
{
    a->family = family;
    memcpy(a->bytes, bytes, 16);
}

static void emit_record(fk__flow_table *t, uint32_t i, uint8_t reason)
{
    flow_entry *e = &t->slab[i];
    if (e->packets[0] + e->packets[1] == 0)
        return; /* nothing since the last active-timeout record */
    t->st.records++;
    if (reason == FK_END_RESOURCES)
        t->st.evicted++;
    if (!t->sink.on_flow)
        return;
    int f = e->init_side, r = 1 - f;
    fk__flow_record rec;
    memset(&rec, 0, sizeof rec);
    fk_flow *fl = &rec.flow;
    const flow_key *k = &e->key;
    fill_addr(&fl->src, f == 0 ? k->a : k->b, k->family);
    fill_addr(&fl->dst, f == 0 ? k->b : k->a, k->family);
    if (is_icmp(k->proto)) {
        fl->src_port = 0;
        fl->dst_port = e->first_typecode;
    } else {
        fl->src_port = f == 0 ? k->pa : k->pb;
        fl->dst_port = f == 0 ? k->pb : k->pa;
    }
    fl->proto = k->proto;
    fl->tcp_flags = e->tcp_flags[f];
    fl->rev_tcp_flags = e->tcp_flags[r];
    fl->tos = e->tos;
    fl->vlan = k->vlan;
    fl->version = 0;
    fl->present = FK_FLOW_HAS_REVERSE | FK_FLOW_HAS_END_REASON;
    fl->bytes = e->bytes[f];
    fl->packets = e->packets[f];
    fl->rev_bytes = e->bytes[r];
    fl->rev_packets = e->packets[r];
    const flow_cold *c = &t->cold[i];
    rec.fwd_first_ns = e->packets[f] ? c->first[f] : 0;
    rec.fwd_last_ns = e->packets[f] ? e->last[f] : 0;
    rec.rev_first_ns = e->packets[r] ? c->first[r] : 0;
    rec.rev_last_ns = e->packets[r] ? e->last[r] : 0;
    if (e->packets[f] && e->packets[r]) {
        fl->start_ns = c->first[f] < c->first[r] ? c->first[f] : c->first[r];
        fl->end_ns = e->last[f] > e->last[r] ? e->last[f] : e->last[r];
    } else if (e->packets[f]) {
        fl->start_ns = c->first[f];
        fl->end_ns = e->last[f];
    } else {
        fl->start_ns = c->first[r];
        fl->end_ns = e->last[r];
    }
    fl->end_reason = reason;
    rec.hash = e->hash;
    t->sink.on_flow(t->sink.ctx, &rec);
}

static void emit_event(fk__flow_table *t, const fk__packet *p, uint8_t kind)
{
    t->st.events++;
    if (!t->sink.on_event)
        return;
    fk_session_event ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = kind;
    ev.proto = p->proto;
    ev.vlan = p->vlan;
    ev.time_ns = p->ts_ns;
    fill_addr(&ev.src, p->src, p->ip_version);
    fill_addr(&ev.dst, p->dst, p->ip_version);
    ev.src_port = p->src_port;
    ev.dst_port = p->dst_port;
    t->sink.on_event(t->sink.ctx, &ev);
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
    emit_record(t, i, reason);
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
    if (!t->slab || !t->cold || !t->buckets || !t->frags) {
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
    fk__free(t);
}

static inline uint32_t frag_hash(const fk__packet *p)
{
    uint64_t w[4];
    memcpy(w, p->src, 16);
    memcpy(w + 2, p->dst, 16);
    uint64_t h =
        mix64(w[0] ^ mix64(w[1] ^ mix64(w[2] ^ mix64(w[3]))) ^
              ((uint64_t)p->frag_id << 16 | (uint64_t)p->proto << 8) ^ (uint64_t)p->vlan << 48);
    return (uint32_t)h;
}

static inline int frag_match(const frag_slot *s, const fk__packet *p)
{
    return s->side != 0xff && s->id == p->frag_id && s->proto == p->proto && s->vlan == p->vlan &&
           memcmp(s->src, p->src, 16) == 0 && memcmp(s->dst, p->dst, 16) == 0;
}

#define HOT static inline __attribute__((always_inline))

HOT void count(fk__flow_table *t, uint32_t i, int side, const fk__packet *p)
{
    flow_entry *e = &t->slab[i];
    if (e->packets[side] == 0) {
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
    emit_record(t, i, FK_END_ACTIVE);
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
        emit_event(t, p, FK_SESSION_SYN);
    }
    if (fl & TCP_FIN) {
        uint8_t bit = side == 0 ? ST_FIN_A : ST_FIN_B;
        if (!(e->state & bit)) {
            e->state |= bit;
            emit_event(t, p, FK_SESSION_FIN);
        }
    }
    if ((fl & TCP_RST) && !(e->state & ST_RST)) {
        e->state |= ST_RST;
        emit_event(t, p, FK_SESSION_RST);
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
        s->proto = p->proto;
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
    if (!frag_match(s, p) || t->cold[s->flow].gen != s->gen || t->slab[s->flow].list == LIST_NONE)
        return 0;
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
            emit_record(t, i, FK_END_ACTIVE);
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
