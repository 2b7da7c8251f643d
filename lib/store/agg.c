/* Pre-aggregation of a store: flows that share every key the tables use
 * (source, destination, exporter, protocol, destination port) and the
 * aggregation step of their end time are summed in one entry of a small
 * open-addressing table; the top-K summaries, series and per-IP state see
 * each entry once, when the table is flushed (the clock moves to another
 * step, the table is full, or something reads those tables). The step is
 * the greatest common divisor of series_step, ip_series_step and
 * topk_slot (10 s by default), so an entry falls in exactly the buckets
 * and slots its flows fall in, and the clock cannot cross a slot boundary
 * while an entry waits: the totals and late judgements are the ones
 * flow-by-flow adding gives. Only the order of the space-saving and LRU
 * updates differs (one weighted update instead of several), which keeps
 * their bounds. */
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "store/store_int.h"

#define NS INT64_C(1000000000)

static int64_t gcd(int64_t a, int64_t b)
{
    while (b) {
        int64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

int fk__agg_init(fk_store *s)
{
    s->agg_cap = s->merge_runs ? (uint32_t)fk__params_int(&s->params, FK_STORE_AGG_KEYS) : 0;
    s->agg_n = 0;
    s->agg_flows = 0;
    s->agg_bypass = false;
    s->agg_straight = !s->agg_cap;
    int64_t g = gcd(fk__params_int(&s->params, FK_STORE_SERIES_STEP_SEC),
                    fk__params_int(&s->params, FK_STORE_IP_SERIES_STEP_SEC));
    g = gcd(g, fk__params_int(&s->params, FK_STORE_TOPK_SLOT_SEC));
    s->agg_step_ns = g * NS;
    s->agg_lo = 1; /* no step cached yet */
    s->agg_hi = 0;
    if (!s->agg_cap)
        return FK_OK;
    uint32_t slots = 4, bits = 2;
    while (slots < 2 * s->agg_cap) {
        slots <<= 1;
        bits++;
    }
    s->agg_mask = slots - 1;
    s->agg_shift = 64 - bits;
    s->agg = fk__store_alloc(s, s->agg_cap, sizeof *s->agg);
    s->agg_slot = fk__store_alloc(s, slots, sizeof *s->agg_slot);
    return s->agg && s->agg_slot ? FK_OK : FK_ENOMEM;
}

void fk__agg_free(fk_store *s)
{
    fk__free(s->agg);
    fk__free(s->agg_slot);
    s->agg = NULL;
    s->agg_slot = NULL;
    s->agg_cap = s->agg_n = 0;
    s->agg_straight = true;
}

int64_t fk__agg_step_of(const fk_store *s, int64_t t)
{
    int64_t q = t / s->agg_step_ns;
    return (t % s->agg_step_ns && t < 0) ? q - 1 : q;
}

static void addr_out(fk_addr *a, uint8_t family, const void *bytes, size_t n)
{
    memset(a, 0, sizeof *a);
    a->family = family;
    if (family)
        memcpy(a->bytes, bytes, n);
}

static void rec_of(fk__rec *r, const fk__agg_ent *e)
{
    uint64_t m = e->k.v[1];
    const unsigned char *w = (const unsigned char *)(e->k.v + 2);
    if (m & FK__AGG_LONG) {
        addr_out(&r->src, (uint8_t)(m >> 32), w, 16);
        addr_out(&r->dst, (uint8_t)(m >> 40), w + 16, 16);
        addr_out(&r->exporter, (uint8_t)(m >> 48), w + 32, 16);
    } else { /* the words as make_key() built them, whatever the byte order */
        uint32_t a = (uint32_t)e->k.v[2], b = (uint32_t)(e->k.v[2] >> 32), x = (uint32_t)e->k.v[3];
        addr_out(&r->src, (uint8_t)(m >> 32), &a, 4);
        addr_out(&r->dst, (uint8_t)(m >> 40), &b, 4);
        addr_out(&r->exporter, (uint8_t)(m >> 48), &x, 4);
    }
    r->proto = (uint8_t)m;
    r->dst_port = (uint16_t)(m >> 8);
    r->has_exporter = (m >> 24) & 1;
    r->end_ns = e->last_ns;
    r->first_ns = e->first_ns;
    r->bytes = e->bytes;
    r->packets = e->packets;
    r->rev_bytes = e->rev_bytes;
    r->rev_packets = e->rev_packets;
    r->flows = e->flows;
}

void fk__agg_flush(fk_store *s)
{
    uint32_t n = s->agg_n;
    s->agg_n = 0; /* fk__store_feed never comes back here, but say so */
    s->agg_flows = 0;
    for (uint32_t i = 0; i < n; i++) {
        fk__agg_ent *e = &s->agg[i];
        s->agg_slot[e->slot] = 0;
        fk__rec r;
        rec_of(&r, e);
        fk__store_feed(s, &r, NULL);
    }
}

/* Sum that pays at least one flow in 9; judged on a table with at least
 * this many entries (a query may flush a nearly empty one). */
#define AGG_MIN_JUDGED 64
#define AGG_BYPASS_STEPS 8

/* Judge the waiting entries (the clock is in step no), then flush. */
static void judge_flush(fk_store *s, int64_t no)
{
    uint32_t min = s->agg_cap < AGG_MIN_JUDGED ? s->agg_cap : AGG_MIN_JUDGED;
    if (s->agg_n >= min && s->agg_flows * 8 < (uint64_t)s->agg_n * 9) {
        /* Nearly every flow had a key of its own (the worst case): the
         * table only added work. */
        s->agg_bypass = s->agg_straight = true;
        s->agg_retry = no + AGG_BYPASS_STEPS;
    }
    fk__agg_flush(s);
}

void fk__agg_next_step(fk_store *s, int64_t no)
{
    if (s->agg_bypass && no >= s->agg_retry)
        s->agg_bypass = s->agg_straight = false;
    judge_flush(s, no);
}

/* Normalised family of an address (fk__store_norm_addr: 4 and 6 kept,
 * anything else absent). */
static uint8_t norm_family(uint8_t f)
{
    return (f == 4 || f == 6) ? f : 0;
}

/* f's record (one flow; addresses normalised). */
static void rec_of_flow(fk__rec *r, const fk_flow *f)
{
    r->src = f->src;
    r->dst = f->dst;
    fk__store_norm_addr(&r->src);
    fk__store_norm_addr(&r->dst);
    r->has_exporter = (f->present & FK_FLOW_HAS_EXPORTER) != 0;
    if (r->has_exporter) {
        r->exporter = f->exporter;
        fk__store_norm_addr(&r->exporter);
    } else {
        memset(&r->exporter, 0, sizeof r->exporter);
    }
    r->proto = f->proto;
    r->dst_port = f->dst_port;
    r->end_ns = r->first_ns = f->end_ns;
    r->bytes = f->bytes;
    r->packets = f->packets;
    r->rev_bytes = f->rev_bytes;
    r->rev_packets = f->rev_packets;
    r->flows = 1;
}

/* The aggregation step of t, kept (agg_lo, agg_hi, agg_no): most flows
 * fall in the step of the one before and take no division. */
int64_t fk__agg_step_cache(fk_store *s, int64_t t)
{
    int64_t no = fk__agg_step_of(s, t);
    if (no > INT64_MIN / s->agg_step_ns && no < INT64_MAX / s->agg_step_ns - 1) {
        s->agg_no = no;
        s->agg_lo = no * s->agg_step_ns;
        s->agg_hi = s->agg_lo + s->agg_step_ns;
    }
    return no;
}

static uint32_t addr4(const fk_addr *a, uint8_t family)
{
    uint32_t w = 0;
    if (family)
        memcpy(&w, a->bytes, 4);
    return w;
}

/* f's key (addresses normalised on the way); returns its length in
 * words. Words past the length are left as they were: the entry copies
 * and compares only the key's own words. The general form (fk__agg_add
 * builds the usual one itself). */
uint32_t fk__agg_make_key(fk__agg_key *k, const fk_flow *f)
{
    bool has_exp = (f->present & FK_FLOW_HAS_EXPORTER) != 0;
    uint8_t fs = norm_family(f->src.family), fd = norm_family(f->dst.family);
    uint8_t fe = has_exp ? norm_family(f->exporter.family) : 0;
    uint64_t meta = f->proto | (uint64_t)f->dst_port << 8 | (uint64_t)has_exp << 24 |
                    (uint64_t)fs << 32 | (uint64_t)fd << 40 | (uint64_t)fe << 48;
    if ((fs | fd | fe) & 2) { /* an IPv6 address (family 6) */
        k->v[1] = meta | FK__AGG_LONG;
        fk_addr a[3] = {f->src, f->dst, f->exporter};
        for (int i = 0; i < 3; i++) {
            if (i == 2 && !fe)
                memset(&a[2], 0, sizeof a[2]);
            fk__store_norm_addr(&a[i]);
        }
        unsigned char *w = (unsigned char *)(k->v + 2);
        memcpy(w, a[0].bytes, 16);
        memcpy(w + 16, a[1].bytes, 16);
        memcpy(w + 32, a[2].bytes, 16);
        return FK__AGG_LONG_WORDS;
    }
    k->v[1] = meta;
    k->v[2] = addr4(&f->src, fs) | (uint64_t)addr4(&f->dst, fd) << 32;
    k->v[3] = addr4(&f->exporter, fe);
    return FK__AGG_SHORT_WORDS;
}

/* f goes to the tables as it is (no table, bypass, or a process name). */
void fk__agg_add_straight(fk_store *s, const fk_flow *f, bool proc)
{
    fk__rec r;
    rec_of_flow(&r, f);
    fk__store_feed(s, &r, proc ? f->process : NULL);
}

/* A new entry for f's key k at index slot pos. */
void fk__agg_add_entry(fk_store *s, const fk__agg_key *k, uint32_t words, uint32_t pos,
                       const fk_flow *f)
{
    fk__agg_ent *x = &s->agg[s->agg_n];
    s->agg_slot[pos] = ++s->agg_n;
    memcpy(x->k.v, k->v, words * sizeof k->v[0]);
    x->slot = pos;
    x->bytes = f->bytes;
    x->packets = f->packets;
    x->rev_bytes = f->rev_bytes;
    x->rev_packets = f->rev_packets;
    x->flows = 1;
    s->agg_flows++;
    x->first_ns = x->last_ns = f->end_ns;
    if (s->agg_n == s->agg_cap)
        judge_flush(s, fk__agg_step_of(s, s->now_ns));
}
