/* Internal: the fk_store handle. store.c owns the lifecycle and the add
 * path; recent.c the ring of recent flows and de-duplication; iptab.c the
 * per-IP state; badip.c the bad-IP rule; query.c the top-K and series
 * answers. Every table is allocated at activate (fk__store_alloc, which
 * counts the bytes) and freed at destroy; nothing grows afterwards. */
#ifndef FK_STORE_INT_H
#define FK_STORE_INT_H

#include <flowkit/store.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/cidr.h"
#include "core/params.h"
#include "store/atab.h"
#include "store/lock.h"
#include "store/series.h"
#include "store/topk.h"

typedef struct fk__dedup_slot {
    fk__skey tuple;
    fk_addr exporter;
    uint32_t odid;
    bool used;
    int64_t t_ns;
} fk__dedup_slot;

typedef struct fk__pending {
    fk__skey tuple; /* src, dst, ports of a one-way UDP record */
    int64_t t_ns;
    bool answered;
} fk__pending;

/* The keys of one flow that several tables share, each hashed once:
 * source and destination address (top-K, per-IP table, peers, bad IPs)
 * and protocol (top-K, series, per-IP protocols). */
typedef struct fk__flow_keys {
    fk__skey src, dst, proto, exporter; /* exporter: not hashed */
    uint64_t h_src, h_dst, h_proto;
} fk__flow_keys;

/* The top-K updates of one dimension waiting for their summary (the one
 * at slot position pos): consecutive flows with the same key add up in
 * the last item (a run); the batch is merged into the summary in one pass
 * (fk__ss_add_batch) when it is full, when the slot position changes, and
 * before anything reads the summaries or topk_evictions
 * (fk__counts_flush). */
#define FK__TOPK_BATCH 512
typedef struct fk__topk_batch {
    uint32_t n, pos;
    fk__ss_item *items; /* FK__TOPK_BATCH */
} fk__topk_batch;

/* What the top-K, series and per-IP tables are fed: one flow, or the sum
 * of the flows that share all their keys (addresses, exporter, protocol,
 * destination port) and the aggregation step of their end time (agg.c). Addresses
 * are normalised. */
typedef struct fk__rec {
    fk_addr src, dst, exporter;
    bool has_exporter;
    uint8_t proto;
    uint16_t dst_port;
    int64_t end_ns;   /* newest end time of the flows summed */
    int64_t first_ns; /* oldest end time (the same step as end_ns) */
    uint64_t bytes, packets, rev_bytes, rev_packets, flows;
} fk__rec;

/* The pre-aggregation table: a key of one step of flows (see fk__rec and
 * agg.c for the layout: 4 words when every address is IPv4, else 8). */
/* Key layout: v[1] (meta) = proto | dst_port << 8 | has_exporter << 24 |
 * the three families << 32, 40, 48 | FK__AGG_LONG; a key whose addresses
 * are all IPv4 (or absent) keeps them in v[2] (src, dst) and v[3]
 * (exporter) and is hashed and compared over its first 4 words; any IPv6
 * address makes it long: src, dst, exporter in v[2..7], 8 words. */
#define FK__AGG_LONG (UINT64_C(1) << 56)
#define FK__AGG_SHORT_WORDS 4
#define FK__AGG_LONG_WORDS 8
typedef struct fk__agg_key {
    /* v[0] step number (floor(end_ns / agg step)), v[1] protocol, port,
     * exporter flag, families, long form; v[2..] the addresses */
    uint64_t v[8];
} fk__agg_key;

typedef struct fk__agg_ent {
    fk__agg_key k;
    uint64_t bytes, packets, rev_bytes, rev_packets, flows;
    int64_t first_ns, last_ns;
    uint32_t slot; /* its index slot (cleared at flush) */
} fk__agg_ent;

/* A recent flow as the ring keeps it (recent.c): what most flows carry,
 * in 100 bytes instead of a 344-byte fk_flow. Two runs of fk_flow's own
 * bytes are kept as they are (a: src_port to present, b: bytes to odid;
 * consecutive members, so one copy each); IPv4 addresses are kept here.
 * IPv6 addresses and the rarely set members (process, tunnel, next hops,
 * AS numbers, ...) go to the extension at the same position
 * (fk__rflow_ext), whose pages flows without them never touch. A search
 * or the live feed rebuilds the fk_flow. */
#define FK__RF_A_OFF offsetof(fk_flow, src_port)
#define FK__RF_A_LEN (offsetof(fk_flow, present) + sizeof(uint32_t) - FK__RF_A_OFF)
#define FK__RF_B_OFF offsetof(fk_flow, bytes)
#define FK__RF_B_LEN (offsetof(fk_flow, odid) + sizeof(uint32_t) - FK__RF_B_OFF)
typedef struct fk__rflow {
    uint32_t src4, dst4, exp4; /* bytes 0..3 of an IPv4 address, else 0 */
    unsigned char b[FK__RF_B_LEN];
    unsigned char a[FK__RF_A_LEN];
    uint8_t fam; /* families of src, dst, exporter (2 bits each): 0 none, 1 IPv4, 2 IPv6 */
    uint8_t ext; /* 1: the extension at the same position is this flow's */
} fk__rflow;

typedef struct fk__rflow_ext {
    fk_addr src, dst, exporter; /* those of family IPv6 (fam 2) */
    fk_addr outer_src, outer_dst, next_hop, bgp_next_hop;
    uint32_t pid, uid, vni, src_as, dst_as;
    uint16_t rev_icmp;
    uint8_t tunnel, direction;
    char process[FK_PROCESS_NAME_MAX];
} fk__rflow_ext;

/* Per-IP state: totals plus its series and summaries, whose buckets and
 * entries live in the address's block of s->ip_mem. */
typedef struct fk__ip_rec {
    fk__atab_hdr h;
    fk_store_ip_info info;
    fk__series series;
    fk__ss peers, protos;
} fk__ip_rec;

typedef struct fk__bad_rec {
    fk__atab_hdr h;
    fk_store_bad_ip info;
} fk__bad_rec;

struct fk_store {
    fk__params params;
    fk__cidr *cidrs;
    size_t ncidrs;
    bool active;
    bool checks; /* a CIDR filter or de-duplication: the add path checks each flow */
    fk__store_lock lock;
    fk_store_stats st;
    int64_t now_ns;

    /* recent flows: sequence s sits at ring[(s - 1) % max_flows] (and its
     * extension, if any, at ring_ext[(s - 1) % max_flows]) */
    fk__rflow *ring;
    fk__rflow_ext *ring_ext;
    uint32_t max_flows;
    uint32_t ring_next;           /* position of sequence seq_next */
    uint32_t ring_held;           /* seq_next - seq_first */
    uint64_t seq_first, seq_next; /* [seq_first, seq_next) are held */
    int64_t retention_ns;

    fk__dedup_slot *dedup;
    uint32_t ndedup;
    int64_t dedup_ttl_ns;

    fk__series total;
    fk__skey *series_keys[2]; /* proto, exporter */
    fk__series *kseries[2];
    uint32_t nkeys[2], maxkeys;

    uint32_t last_key[2]; /* index of the last series key found (proto, exporter) */

    int64_t slot_ns;
    uint32_t nslots;
    int64_t *slot_no; /* slot number held at each ring position, -1 empty */
    fk__ss *topk;     /* [dim * nslots + position] */
    fk__topk_batch batch[FK_STORE_DIM_COUNT];
    fk__ss_scratch batch_scratch;
    bool merge_runs; /* false: every flow goes to the summaries at once (tests) */

    fk__atab ips;
    unsigned char *ip_mem; /* ip_block bytes per address: series, peers, protocols */
    size_t ip_block;
    fk__ip_rec ip_tmpl; /* block 0's series and summaries (iptab.c's attach_block) */
    uint32_t ip_npeers, ip_nprotos, ip_nbuckets;
    int64_t ip_step_ns;

    /* pre-aggregation (agg.c): at most agg_cap entries, in arrival order */
    fk__agg_ent *agg;
    uint32_t *agg_slot; /* entry + 1, 0 = empty; agg_mask + 1 slots */
    uint32_t agg_cap, agg_n, agg_mask;
    uint32_t agg_shift;             /* 64 - log2(agg_mask + 1): a hash's top bits place a key */
    uint64_t agg_flows;             /* flows summed in the entries waiting */
    bool agg_bypass;                /* a full table saved little: flows go straight on */
    bool agg_straight;              /* !agg_cap || agg_bypass: the add path's one test */
    int64_t agg_retry;              /* until this step of the clock */
    int64_t agg_step_ns;            /* gcd of series_step, ip_series_step, topk_slot */
    int64_t agg_no, agg_lo, agg_hi; /* the step last computed: [lo, hi) is step no */

    fk__atab bad;
    fk__series *bad_series;
    int64_t bad_window_ns, udp_wait_ns;
    uint64_t bad_threshold;
    fk__pending *pend;
    uint32_t npend_cap, pend_head, npend; /* FIFO ring */
    fk__sidx pend_idx;
};

/* Zeroed n * size bytes counted in st.memory_bytes; NULL on failure. */
void *fk__store_alloc(fk_store *s, size_t n, size_t size);

/* Canonical copies: IPv4 addresses with zeroed tails; keys for dimensions. */
void fk__store_norm_addr(fk_addr *a);
void fk__skey_addr(fk__skey *k, const fk_addr *a);
void fk__skey_tuple(fk__skey *k, const fk_addr *src, const fk_addr *dst, uint16_t sport,
                    uint16_t dport);

/* recent.c */
int fk__recent_init(fk_store *s); /* FK_ENOMEM */
void fk__recent_free(fk_store *s);
/* f's addresses as given; src, dst, exp: their normalised copies. */
bool fk__dedup_is_duplicate(fk_store *s, const fk_flow *f, const fk_addr *src, const fk_addr *dst,
                            const fk_addr *exp);
/* f's IPv6 addresses and rare members into the extension x of its ring
 * position (add.c keeps the rest). */
void fk__recent_pack_ext(fk__rflow_ext *x, const fk_flow *f);
void fk__recent_expire(fk_store *s);
/* End time of the oldest recent flow held, 0 when none. */
int64_t fk__recent_oldest_ns(const fk_store *s);

/* agg.c: flows of one step (10 s by default) summed by key before the tables see them. */
int fk__agg_init(fk_store *s); /* FK_ENOMEM */
void fk__agg_free(fk_store *s);
/* The parts of the add path (add.c) that most flows never reach: f to
 * the tables as it comes (no table, bypass, or a process name: proc); the
 * key of f when an address is not IPv4 (returns its length in words);
 * a new entry for key k at index slot pos; the step of time t, cached in
 * agg_no, agg_lo, agg_hi. */
void fk__agg_add_straight(fk_store *s, const fk_flow *f, bool proc);
uint32_t fk__agg_make_key(fk__agg_key *k, const fk_flow *f);
void fk__agg_add_entry(fk_store *s, const fk__agg_key *k, uint32_t words, uint32_t pos,
                       const fk_flow *f);
int64_t fk__agg_step_cache(fk_store *s, int64_t t);
/* Feed every waiting entry to the tables, in arrival order; empties the
 * table. Under the lock, before anything reads the top-K, series or
 * per-IP state, and before the clock moves to another step. */
void fk__agg_flush(fk_store *s);
/* The clock moved to step no: flush, judge whether the table pays
 * (fewer than 8 flows in 9 saved: bypass it for 8 steps), and try it
 * again once the bypass is over. */
void fk__agg_next_step(fk_store *s, int64_t no);
/* The aggregation step of time t (floor(t / agg step)). */
int64_t fk__agg_step_of(const fk_store *s, int64_t t);
/* Move the store's clock to now_ns (under the lock; nothing when it is
 * not later). */
void fk__store_advance_locked(fk_store *s, int64_t now_ns);
/* The tables' add path for one record (process: its name or NULL). */
void fk__store_feed(fk_store *s, const fk__rec *r, const char *process);

/* iptab.c */
int fk__iptab_init(fk_store *s); /* FK_ENOMEM */
void fk__iptab_free(fk_store *s);
void fk__iptab_add(fk_store *s, const fk__rec *r, const fk__flow_keys *fk, const fk__cnt *c);

/* badip.c */
int fk__badip_init(fk_store *s); /* FK_ENOMEM */
void fk__badip_free(fk_store *s);
/* Whether f may count for the rule: TCP with SYN and not ACK, or UDP.
 * Inline: most flows are neither, and need no call. */
static inline bool fk__badip_candidate(const fk_flow *f)
{
    /* protocol and flags as one word, no branch on the protocol */
    uint32_t pf = f->proto | (uint32_t)f->tcp_flags << 8;
    return (pf & 0x12ff) == 0x0206 /* TCP, SYN and not ACK */ || (pf & 0xff) == 17;
}
/* Apply the rule to f (as given; a candidate). */
void fk__badip_add(fk_store *s, const fk_flow *f);
void fk__badip_expire(fk_store *s);

/* counts.c */
int fk__counts_init(fk_store *s); /* FK_ENOMEM */
void fk__counts_free(fk_store *s);
void fk__counts_add(fk_store *s, const fk__rec *r, const char *process, const fk__flow_keys *fk,
                    const fk__cnt *c);
/* Merge the waiting top-K batches into their summaries (under the lock;
 * before anything reads the summaries or topk_evictions). */
void fk__counts_flush(fk_store *s);
/* Batch the top-K updates (default) or add every one at once (the plain
 * one-at-a-time space-saving, kept as the tests' reference: the same
 * answers while no summary evicts, the same bounds when they do). Before
 * activate. Off also turns the pre-aggregation off (every flow goes to
 * the tables as it comes), whatever agg_keys says. */
void fk__store_set_merge_runs(fk_store *s, bool on);
void fk__store_key_out(fk_store_key *out, int dim, const fk__skey *k);
/* Merge summaries and copy the biggest rows out (keys read as dim). */
int fk__ss_merge_out(const fk__ss *const *parts, size_t nparts, int dim, fk_store_row *out,
                     size_t capacity, size_t *count);
/* Points of a series from since to until by step (see fk_store_get_series). */
int fk__series_points(const fk__series *se, fk_store_point *out, size_t capacity, size_t *count,
                      int64_t since_ns, int64_t until_ns, int64_t step_ns);

#endif
