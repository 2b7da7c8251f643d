/* Internal: the flow table's data structure (slab, cold data, index,
 * lists) and the inline helpers of its packet path, shared by
 * flow_table.c and flow_emit.c. */
#ifndef FK_FLOW_TABLE_INT_H
#define FK_FLOW_TABLE_INT_H

#include <string.h>

#include "core/mix.h"
#include "flow/flow_table.h"

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
    uint8_t list;      /* LIST_* */
    uint8_t direction; /* fk_flow_direction of the first packet */
    uint8_t spare;
    uint16_t other_typecode; /* ICMP: type/code of the other side's first packet */
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

/* cfg.tunnels: the tunnel of a flow's first packet (kind 0: none). */
typedef struct flow_tunnel {
    uint8_t outer_src[16];
    uint8_t outer_dst[16];
    uint32_t vni;
    uint8_t kind; /* fk_tunnel_kind */
    uint8_t family;
    uint8_t spare[2];
} flow_tunnel;

_Static_assert(sizeof(flow_key) == 40, "flow_key has no padding");
_Static_assert(sizeof(flow_entry) == 128, "flow_entry is two cache lines");

/* Later-fragment cache: (src, dst, fk__frag_proto, id) of a first fragment
 * -> flow. */
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
    flow_tunnel *tun;  /* cfg.tunnels: max_flows entries, else NULL */
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
    h = fk__mix64(h);
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

/* flow_emit.c: the record of entry i (nothing when it saw no packet since
 * its last record), and a session event of packet p. */
void fk__ft_emit_record(fk__flow_table *t, uint32_t i, uint8_t reason);
void fk__ft_emit_event(fk__flow_table *t, const fk__packet *p, uint8_t kind);

#endif
