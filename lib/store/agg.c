/* Pre-aggregation of a store: flows that share every key the tables use
 * (source, destination, exporter, protocol, destination port) and the
 * second of their end time are summed in one entry of a small open-
 * addressing table; the top-K summaries, series and per-IP state see each
 * entry once, when the table is flushed (the clock moves to another
 * second, the table is full, or something reads those tables). Every
 * series step and top-K slot is a whole number of seconds, so an entry
 * falls in exactly the buckets and slots its flows fall in: the totals are
 * the ones flow-by-flow adding gives. Only the order of the space-saving
 * updates differs (one weighted update instead of several), which keeps
 * their bounds. */
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "store/store_int.h"

#define NS INT64_C(1000000000)

int fk__agg_init(fk_store *s)
{
    s->agg_cap = s->merge_runs ? (uint32_t)fk__params_int(&s->params, FK_STORE_AGG_KEYS) : 0;
    s->agg_n = 0;
    if (!s->agg_cap)
        return FK_OK;
    uint32_t slots = 4;
    while (slots < 2 * s->agg_cap)
        slots <<= 1;
    s->agg_mask = slots - 1;
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
}

static int64_t floor_sec(int64_t t)
{
    int64_t q = t / NS;
    return (t % NS && t < 0) ? q - 1 : q;
}

static bool key_eq(const fk__agg_key *a, const fk__agg_key *b)
{
    const unsigned char *x = (const unsigned char *)a, *y = (const unsigned char *)b;
    uint64_t d = 0;
    for (size_t i = 0; i < sizeof *a; i += 8) {
        uint64_t u, v;
        memcpy(&u, x + i, 8);
        memcpy(&v, y + i, 8);
        d |= u ^ v;
    }
    return d == 0;
}

static void rec_of(fk__rec *r, const fk__agg_ent *e)
{
    memcpy(&r->src, e->k.b, sizeof r->src);
    memcpy(&r->dst, e->k.b + 17, sizeof r->dst);
    memcpy(&r->exporter, e->k.b + 34, sizeof r->exporter);
    r->proto = e->k.b[51];
    r->dst_port = (uint16_t)(e->k.b[52] << 8 | e->k.b[53]);
    r->has_exporter = e->k.b[54] != 0;
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
#define AGG_BYPASS_SEC 8

/* Judge the waiting entries (the clock is in second sec), then flush. */
static void judge_flush(fk_store *s, int64_t sec)
{
    uint32_t min = s->agg_cap < AGG_MIN_JUDGED ? s->agg_cap : AGG_MIN_JUDGED;
    if (s->agg_n >= min && s->agg_flows * 8 < (uint64_t)s->agg_n * 9) {
        /* Nearly every flow had a key of its own (the worst case): the
         * table only added work. */
        s->agg_bypass = true;
        s->agg_retry_sec = sec + AGG_BYPASS_SEC;
    }
    fk__agg_flush(s);
}

void fk__agg_next_second(fk_store *s, int64_t sec)
{
    if (s->agg_bypass && sec >= s->agg_retry_sec)
        s->agg_bypass = false;
    judge_flush(s, sec);
}

static void rec_of_flow(fk__rec *r, const fk_flow *f)
{
    r->src = f->src;
    r->dst = f->dst;
    r->has_exporter = (f->present & FK_FLOW_HAS_EXPORTER) != 0;
    if (r->has_exporter)
        r->exporter = f->exporter;
    else
        memset(&r->exporter, 0, sizeof r->exporter);
    r->proto = f->proto;
    r->dst_port = f->dst_port;
    r->end_ns = r->first_ns = f->end_ns;
    r->bytes = f->bytes;
    r->packets = f->packets;
    r->rev_bytes = f->rev_bytes;
    r->rev_packets = f->rev_packets;
    r->flows = 1;
}

void fk__agg_add(fk_store *s, const fk_flow *f)
{
    bool proc = (f->present & FK_FLOW_HAS_PROCESS) && f->process[0];
    if (!s->agg_cap || proc || s->agg_bypass) {
        /* A process name is a key of its own (the process dimension):
         * such flows (flowkit-export's) go to the tables one by one. */
        fk__rec r;
        rec_of_flow(&r, f);
        fk__store_feed(s, &r, proc ? f->process : NULL);
        return;
    }
    fk__agg_key k;
    k.sec = floor_sec(f->end_ns);
    memcpy(k.b, &f->src, 17);
    memcpy(k.b + 17, &f->dst, 17);
    bool has_exp = (f->present & FK_FLOW_HAS_EXPORTER) != 0;
    if (has_exp)
        memcpy(k.b + 34, &f->exporter, 17);
    else
        memset(k.b + 34, 0, 17);
    k.b[51] = f->proto;
    k.b[52] = (uint8_t)(f->dst_port >> 8);
    k.b[53] = (uint8_t)f->dst_port;
    k.b[54] = has_exp;
    k.b[55] = 0;
    uint64_t h = fk__store_hash(&k, sizeof k);
    uint32_t pos = (uint32_t)(h ^ (h >> 32)) & s->agg_mask;
    for (;; pos = (pos + 1) & s->agg_mask) {
        uint32_t e = s->agg_slot[pos];
        if (!e)
            break;
        fk__agg_ent *x = &s->agg[e - 1];
        if (key_eq(&x->k, &k)) {
            x->bytes += f->bytes;
            x->packets += f->packets;
            x->rev_bytes += f->rev_bytes;
            x->rev_packets += f->rev_packets;
            x->flows++;
            s->agg_flows++;
            if (f->end_ns < x->first_ns)
                x->first_ns = f->end_ns;
            if (f->end_ns > x->last_ns)
                x->last_ns = f->end_ns;
            return;
        }
    }
    fk__agg_ent *x = &s->agg[s->agg_n];
    s->agg_slot[pos] = ++s->agg_n;
    x->k = k;
    x->slot = pos;
    x->bytes = f->bytes;
    x->packets = f->packets;
    x->rev_bytes = f->rev_bytes;
    x->rev_packets = f->rev_packets;
    x->flows = 1;
    s->agg_flows++;
    x->first_ns = x->last_ns = f->end_ns;
    if (s->agg_n == s->agg_cap)
        judge_flush(s, floor_sec(s->now_ns));
}
