/* The add path of a store (fk_store_add_flow, fk_store_add_flows): the
 * collector hands it every record, so the usual flow (IPv4 addresses, no rare member, no
 * CIDR filter or de-duplication) is handled here in one function: the
 * ring write and the pre-aggregation insert are inlined, and only what
 * most flows never need (IPv6 keys, the ring's extension, a new table
 * entry, another step) calls out to recent.c and agg.c. */
#include <string.h>

#include "core/error.h"
#include "store/store_int.h"

/* Family code of the ring (fk__rflow::fam): normalised as
 * fk__store_norm_addr does (families other than 4 and 6 are absent). */
static inline uint32_t fam_code(uint8_t family)
{
    return family == 4 ? 1 : family == 6 ? 2 : 0;
}

static inline uint32_t ring_addr4(const fk_addr *a, uint32_t code)
{
    uint32_t w = 0;
    if (code == 1)
        memcpy(&w, a->bytes, 4);
    return w;
}

/* Whether f sets a field that only the extension keeps. */
static inline bool has_rare_exact(const fk_flow *f)
{
    return (f->pid | f->uid | f->vni | f->src_as | f->dst_as) != 0 ||
           (f->rev_icmp | f->tunnel | f->direction | (uint8_t)f->process[0] | f->outer_src.family |
            f->outer_dst.family | f->next_hop.family | f->bgp_next_hop.family) != 0;
}

/* The same, told first from whole words: every rare member but pid and
 * process lies in fk_flow's bytes from uid to the end of dst_as (with
 * event, 0 for a kept flow, address bytes and padding), pid and
 * process[0] in the 8 bytes at pid. All zero, as decoders leave a flow
 * without them: none; else the members are tested one by one. */
#define RARE_LO offsetof(fk_flow, uid)
#define RARE_WORDS ((offsetof(fk_flow, dst_as) + 4 - RARE_LO + 15) / 16)
_Static_assert(offsetof(fk_flow, event) > RARE_LO && offsetof(fk_flow, direction) > RARE_LO &&
                   offsetof(fk_flow, rev_icmp) > RARE_LO && offsetof(fk_flow, vni) > RARE_LO &&
                   offsetof(fk_flow, src_as) > RARE_LO &&
                   RARE_LO + 16 * RARE_WORDS <= offsetof(fk_flow, tags) &&
                   offsetof(fk_flow, process) == offsetof(fk_flow, pid) + 4,
               "the rare members of fk_flow lie between uid and dst_as");
static inline bool has_rare(const fk_flow *f)
{
    typedef uint64_t v2 __attribute__((vector_size(16)));
    const unsigned char *raw = (const unsigned char *)f;
    v2 acc = {0, 0}, w;
    for (size_t i = 0; i < RARE_WORDS; i++) {
        memcpy(&w, raw + RARE_LO + 16 * i, 16);
        acc |= w;
    }
    uint64_t p;
    memcpy(&p, raw + offsetof(fk_flow, pid), 8);
    if ((acc[0] | acc[1] | p) == 0)
        return false;
    return has_rare_exact(f);
}

_Static_assert(offsetof(fk_flow, present) < FK__RF_B_OFF && FK__RF_A_LEN <= 20 &&
                   FK__RF_B_LEN <= 72,
               "the kept runs of fk_flow are the members from src_port to present and from "
               "bytes to odid");

/* Where the next kept flow goes in the ring while flows are being added:
 * pos is its position and k the flows written since the ring's counts
 * were last settled (ring_settle). An array of flows moves pos and k in
 * registers and settles once, or before the clock moves (expiry reads
 * the ring). */
typedef struct ring_run {
    uint32_t pos;
    uint64_t k;
} ring_run;

/* The ring's counts after the k flows written up to position pos (the
 * oldest go when it is full, as if each had been added alone). */
static inline void ring_settle(fk_store *s, ring_run *w)
{
    uint64_t k = w->k, room = s->max_flows - s->ring_held;
    s->ring_next = w->pos;
    s->seq_next += k;
    if (k <= room) {
        s->ring_held += (uint32_t)k;
    } else {
        s->seq_first += k - room;
        s->st.flows_evicted += k - room;
        s->ring_held = s->max_flows;
    }
    w->k = 0;
}

/* Write f at the run's position and move it on: its addresses
 * normalised, its borrowed strings left out; v4: its source, destination
 * and exporter are IPv4 addresses. */
static inline void ring_put(fk_store *s, ring_run *w, const fk_flow *f, bool v4)
{
    uint32_t pos = w->pos;
    w->pos = pos + 1 == s->max_flows ? 0 : pos + 1;
    w->k++;
    fk__rflow *r = &s->ring[pos];
    const unsigned char *raw = (const unsigned char *)f;
    memcpy(r->a, raw + FK__RF_A_OFF, FK__RF_A_LEN);
    memcpy(r->b, raw + FK__RF_B_OFF, FK__RF_B_LEN);
    uint32_t fs, fd, fe;
    if (v4) {
        fs = fd = fe = 1;
        memcpy(&r->src4, f->src.bytes, 4);
        memcpy(&r->dst4, f->dst.bytes, 4);
        memcpy(&r->exp4, f->exporter.bytes, 4);
    } else {
        fs = fam_code(f->src.family);
        fd = fam_code(f->dst.family);
        fe = fam_code(f->exporter.family);
        r->src4 = ring_addr4(&f->src, fs);
        r->dst4 = ring_addr4(&f->dst, fd);
        r->exp4 = ring_addr4(&f->exporter, fe);
    }
    r->fam = (uint8_t)(fs | fd << 2 | fe << 4);
    r->ext = ((fs | fd | fe) & 2) || has_rare(f);
    if (r->ext)
        fk__recent_pack_ext(&s->ring_ext[pos], f);
}

/* Compared with constant lengths (unrolled): the short form is most keys.
 * A short and a long key differ in meta (word 1). */
static inline bool words_eq(const uint64_t *x, const uint64_t *y, uint32_t n)
{
    uint64_t d = 0;
    for (uint32_t i = 0; i < n; i++)
        d |= x[i] ^ y[i];
    return d == 0;
}

static inline bool key_eq(const fk__agg_key *a, const fk__agg_key *b, uint32_t words)
{
    return words == FK__AGG_SHORT_WORDS ? words_eq(a->v, b->v, FK__AGG_SHORT_WORDS)
                                        : words_eq(a->v, b->v, FK__AGG_LONG_WORDS);
}

/* Add f (end time t) to the entry x of its key. */
static inline void agg_sum(fk_store *s, fk__agg_ent *x, const fk_flow *f, int64_t t)
{
    x->bytes += f->bytes;
    x->packets += f->packets;
    x->rev_bytes += f->rev_bytes;
    x->rev_packets += f->rev_packets;
    x->flows++;
    s->agg_flows++;
    if (t < x->first_ns)
        x->first_ns = t;
    if (t > x->last_ns)
        x->last_ns = t;
}

/* Multiplicative hash: the table is placed by the product's top bits
 * (agg_shift), which depend on every bit of the words. The step (v[0])
 * and the meta word (v[1]) hardly change from flow to flow: they are
 * folded into the address words instead of multiplied on their own. */
static inline uint64_t key_hash(const fk__agg_key *k, uint32_t words)
{
    uint64_t h = (k->v[2] ^ k->v[0]) * UINT64_C(0x9e3779b97f4a7c15) +
                 (k->v[3] ^ k->v[1]) * UINT64_C(0xc2b2ae3d27d4eb4f);
    if (words == FK__AGG_LONG_WORDS)
        h += k->v[4] * UINT64_C(0x165667b19e3779f9) + k->v[5] * UINT64_C(0xd6e8feb86659fd93) +
             k->v[6] * UINT64_C(0x94d049bb133111eb) + k->v[7] * UINT64_C(0xbf58476d1ce4e5b9);
    return h;
}

/* Meta words of a key whose addresses are IPv4 (see fk__agg_key), with and
 * without an exporter. */
#define V4_META_NO_EXPORTER ((uint64_t)4 << 32 | (uint64_t)4 << 40)
#define V4_META (V4_META_NO_EXPORTER | (uint64_t)1 << 24 | (uint64_t)4 << 48)

/* Count the flow f of key k (words long) in the pre-aggregation table.
 * Out of line: the keys of flows with an address that is not IPv4
 * (agg_put keeps the usual short key in registers). */
static __attribute__((noinline)) void agg_put_key(fk_store *s, const fk_flow *f, fk__agg_key *k,
                                                  uint32_t words)
{
    int64_t t = f->end_ns;
    uint32_t pos = (uint32_t)(key_hash(k, words) >> s->agg_shift);
    for (;; pos = (pos + 1) & s->agg_mask) {
        uint32_t e = s->agg_slot[pos];
        if (!e)
            break;
        fk__agg_ent *x = &s->agg[e - 1];
        if (key_eq(&x->k, k, words)) {
            agg_sum(s, x, f, t);
            return;
        }
    }
    fk__agg_add_entry(s, k, words, pos, f);
}

/* Count f (as given: its addresses are normalised on the way; v4: all
 * three are IPv4) in the pre-aggregation table, or straight into the
 * tables when the table is off or f carries a process name (a key of the
 * process dimension). The usual key (every address IPv4) is built,
 * hashed (as key_hash does) and compared as four words held in
 * registers; a long key (an IPv6 address) never equals a short one: its
 * meta word has FK__AGG_LONG. */
static inline void agg_put(fk_store *s, const fk_flow *f, bool v4)
{
    uint32_t present = f->present;
    bool proc = (present & FK_FLOW_HAS_PROCESS) && f->process[0];
    if (proc || s->agg_straight) {
        fk__agg_add_straight(s, f, proc);
        return;
    }
    int64_t t = f->end_ns;
    uint64_t w0 =
        (uint64_t)(t >= s->agg_lo && t < s->agg_hi ? s->agg_no : fk__agg_step_cache(s, t));
    bool has_exp = (present & FK_FLOW_HAS_EXPORTER) != 0;
    if (!v4 && !(f->src.family == 4 && f->dst.family == 4 && !has_exp)) {
        fk__agg_key k;
        uint32_t words = fk__agg_make_key(&k, f);
        k.v[0] = w0;
        agg_put_key(s, f, &k, words);
        return;
    }
    uint32_t a, b, e = 0;
    memcpy(&a, f->src.bytes, 4);
    memcpy(&b, f->dst.bytes, 4);
    uint64_t w1 = V4_META_NO_EXPORTER | f->proto | (uint64_t)f->dst_port << 8;
    if (has_exp) {
        memcpy(&e, f->exporter.bytes, 4);
        w1 |= V4_META;
    }
    uint64_t w2 = a | (uint64_t)b << 32, w3 = e;
    uint64_t h =
        (w2 ^ w0) * UINT64_C(0x9e3779b97f4a7c15) + (w3 ^ w1) * UINT64_C(0xc2b2ae3d27d4eb4f);
    uint32_t pos = (uint32_t)(h >> s->agg_shift);
    for (;; pos = (pos + 1) & s->agg_mask) {
        uint32_t i = s->agg_slot[pos];
        if (!i)
            break;
        fk__agg_ent *x = &s->agg[i - 1];
        if (((x->k.v[0] ^ w0) | (x->k.v[1] ^ w1) | (x->k.v[2] ^ w2) | (x->k.v[3] ^ w3)) == 0) {
            agg_sum(s, x, f, t);
            return;
        }
    }
    fk__agg_key k = {{w0, w1, w2, w3}};
    fk__agg_add_entry(s, &k, FK__AGG_SHORT_WORDS, pos, f);
}

/* Normalised copy of an address (IPv4 tails zeroed; unknown families all zero). */
static fk_addr norm(const fk_addr *a)
{
    fk_addr n = *a;
    fk__store_norm_addr(&n);
    return n;
}

/* Whether the CIDR filter or de-duplication drops f (counted). */
static __attribute__((noinline)) bool checked_out(fk_store *s, const fk_flow *flow)
{
    /* The flow is read as given: each part normalises the addresses it
     * keeps (these checks read normalised copies). */
    fk_addr src = norm(&flow->src), dst = norm(&flow->dst), exp = norm(&flow->exporter);
    if (s->ncidrs && !fk__cidr_match(s->cidrs, s->ncidrs, &src) &&
        !fk__cidr_match(s->cidrs, s->ncidrs, &dst)) {
        s->st.filtered++;
        return true;
    }
    if (s->ndedup && fk__dedup_is_duplicate(s, flow, &src, &dst, &exp)) {
        s->st.duplicates++;
        return true;
    }
    return false;
}

/* Count and keep one flow (under the lock; flows_in is the caller's; its
 * ring write goes to w, settled by the caller). */
static inline __attribute__((always_inline)) void add_locked(fk_store *s, const fk_flow *flow,
                                                             ring_run *w)
{
    if (flow->event) {
        s->st.events++;
        return;
    }
    if (s->checks && checked_out(s, flow))
        return;
    s->st.flows_kept++;
    if (flow->end_ns > s->now_ns) {
        ring_settle(s, w); /* the clock's move expires recent flows */
        fk__store_advance_locked(s, flow->end_ns);
    }
    if (!s->st.first_ns) /* its clock when the first flow came */
        s->st.first_ns = s->now_ns ? s->now_ns : 1;
    /* Every address IPv4: the usual case, told once for both. */
    bool v4 = flow->src.family == 4 && flow->dst.family == 4 && flow->exporter.family == 4;
    ring_put(s, w, flow, v4);
    agg_put(s, flow, v4);
    if (fk__badip_candidate(flow))
        fk__badip_add(s, flow);
}

int fk_store_add_flow(fk_store *s, const fk_flow *flow)
{
    if (!s || !flow || !s->active)
        return fk__error(FK_EINVAL, "store: NULL argument or not activated");
    fk__store_lock_take(&s->lock);
    s->st.flows_in++;
    ring_run w = {s->ring_next, 0};
    add_locked(s, flow, &w);
    ring_settle(s, &w);
    fk__store_lock_give(&s->lock);
    return FK_OK;
}

int fk_store_add_flows(fk_store *s, const fk_flow *flows, size_t n)
{
    if (!s || (!flows && n) || !s->active)
        return fk__error(FK_EINVAL, "store: NULL argument or not activated");
    if (!n)
        return FK_OK;
    fk__store_lock_take(&s->lock);
    s->st.flows_in += n;
    ring_run w = {s->ring_next, 0};
    for (size_t i = 0; i < n; i++)
        add_locked(s, &flows[i], &w);
    ring_settle(s, &w);
    fk__store_lock_give(&s->lock);
    return FK_OK;
}
