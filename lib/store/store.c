/* fk_store: lifecycle, parameters and the add path of the live flow store.
 * The tables themselves live in recent.c, counts.c, iptab.c and badip.c. */
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/sized.h"
#include "store/store_int.h"

#define H 3600
static const fk_param_info store_table[] = {
    {FK_STORE_RETENTION_SEC, "retention", FK_PARAM_INT, 0, 1, 7 * 24 * H, H, 0, 0, 0, NULL, "s",
     "recent flows are kept this long (store clock)"},
    {FK_STORE_MAX_FLOWS, "max_flows", FK_PARAM_INT, 0, 16, 100000000, 50000, 0, 0, 0, NULL, "flows",
     "most recent flows kept; the oldest go first (counted)"},
    {FK_STORE_SERIES_STEP_SEC, "series_step", FK_PARAM_INT, 0, 1, H, 10, 0, 0, 0, NULL, "s",
     "width of a throughput series bucket"},
    {FK_STORE_SERIES_BUCKETS, "series_buckets", FK_PARAM_INT, 0, 2, 1000000, 2880, 0, 0, 0, NULL,
     "buckets", "buckets per series (span = series_step * series_buckets)"},
    {FK_STORE_SERIES_KEYS, "series_keys", FK_PARAM_INT, 0, 0, 4096, 32, 0, 0, 0, NULL, "keys",
     "protocols and exporters with a series of their own (each)"},
    {FK_STORE_TOPK_CAPACITY, "topk_capacity", FK_PARAM_INT, 0, 4, 1000000, 128, 0, 0, 0, NULL,
     "entries", "entries of each space-saving top-K summary (per dimension and slot)"},
    {FK_STORE_TOPK_SLOT_SEC, "topk_slot", FK_PARAM_INT, 0, 1, 24 * H, 300, 0, 0, 0, NULL, "s",
     "top-K time slot; windows are whole slots"},
    {FK_STORE_TOPK_SPAN_SEC, "topk_span", FK_PARAM_INT, 0, 1, 7 * 24 * H, 8 * H, 0, 0, 0, NULL, "s",
     "longest top-K window"},
    {FK_STORE_MAX_IPS, "max_ips", FK_PARAM_INT, 0, 1, 100000000, 16384, 0, 0, 0, NULL, "addresses",
     "addresses with per-IP state; the least recently seen is evicted (counted)"},
    {FK_STORE_IP_PEERS, "ip_peers", FK_PARAM_INT, 0, 1, 4096, 16, 0, 0, 0, NULL, "peers",
     "peers kept per address (space-saving)"},
    {FK_STORE_IP_PROTOCOLS, "ip_protocols", FK_PARAM_INT, 0, 1, 256, 8, 0, 0, 0, NULL, "protocols",
     "protocols kept per address (space-saving)"},
    {FK_STORE_IP_SERIES_STEP_SEC, "ip_series_step", FK_PARAM_INT, 0, 1, H, 60, 0, 0, 0, NULL, "s",
     "width of a per-IP series bucket"},
    {FK_STORE_IP_SERIES_BUCKETS, "ip_series_buckets", FK_PARAM_INT, 0, 1, 100000, 60, 0, 0, 0, NULL,
     "buckets", "buckets of each per-IP series"},
    {FK_STORE_BAD_THRESHOLD, "bad_threshold", FK_PARAM_INT, 0, 1, 1000000000, 10, 0, 0, 0, NULL,
     "attempts", "unanswered attempts within bad_window that make a source a bad IP"},
    {FK_STORE_BAD_WINDOW_SEC, "bad_window", FK_PARAM_INT, 0, 8, 7 * 24 * H, 600, 0, 0, 0, NULL, "s",
     "window of the bad-IP rule"},
    {FK_STORE_BAD_MAX_IPS, "bad_max_ips", FK_PARAM_INT, 0, 1, 10000000, 4096, 0, 0, 0, NULL,
     "addresses", "sources tracked for the bad-IP rule; least recently seen evicted (counted)"},
    {FK_STORE_BAD_UDP_WAIT_SEC, "bad_udp_wait", FK_PARAM_INT, 0, 1, H, 30, 0, 0, 0, NULL, "s",
     "how long a one-way UDP record waits for a record of its reverse"},
    {FK_STORE_BAD_UDP_PENDING, "bad_udp_pending", FK_PARAM_INT, 0, 1, 10000000, 65536, 0, 0, 0,
     NULL, "records", "one-way UDP records waiting at most; beyond, the oldest is dropped"},
    {FK_STORE_DEDUP_TTL_MS, "dedup_ttl", FK_PARAM_INT, 0, 0, 3600000, 0, 0, 0, 0, NULL, "ms",
     "drop a 5-tuple another exporter reported within this time; 0 = off"},
    {FK_STORE_DEDUP_SLOTS, "dedup_slots", FK_PARAM_INT, 0, 1, 100000000, 65536, 0, 0, 0, NULL,
     "slots", "slots of the de-duplication table (direct-mapped)"},
    {FK_STORE_AGG_KEYS, "agg_keys", FK_PARAM_INT, 0, 0, 1048576, 4096, 0, 0, 0, NULL, "keys",
     "flows of one step (gcd of the series steps and topk_slot) summed per key before top-K, "
     "series and per-IP see them; 0 = off"},
};
#undef H
#define STORE_TABLE_COUNT (sizeof store_table / sizeof store_table[0])

const fk_param_info *fk_store_params(size_t *count)
{
    if (count)
        *count = STORE_TABLE_COUNT;
    return store_table;
}

int fk_store_create(fk_store **out)
{
    if (!out)
        return fk__error(FK_EINVAL, "store: NULL handle pointer");
    *out = NULL;
    fk_store *s = FK__NEW(fk_store);
    if (!s)
        return fk__error(FK_ENOMEM, "store: out of memory");
    int rc = fk__params_init(&s->params, "store", store_table, STORE_TABLE_COUNT);
    if (rc) {
        fk__free(s);
        return rc;
    }
    fk__store_lock_init(&s->lock);
    s->merge_runs = true;
    *out = s;
    return FK_OK;
}

static void free_tables(fk_store *s)
{
    fk__recent_free(s);
    fk__agg_free(s);
    fk__counts_free(s);
    fk__iptab_free(s);
    fk__badip_free(s);
    s->st.memory_bytes = 0;
}

void fk_store_destroy(fk_store *s)
{
    if (!s)
        return;
    free_tables(s);
    fk__free(s->cidrs);
    fk__params_free(&s->params);
    fk__free(s);
}

int fk_store_set_int(fk_store *s, int param, int64_t value)
{
    if (!s)
        return fk__error(FK_EINVAL, "store: NULL handle");
    return fk__params_set_int(&s->params, param, value);
}

int fk_store_set_double(fk_store *s, int param, double value)
{
    if (!s)
        return fk__error(FK_EINVAL, "store: NULL handle");
    return fk__params_set_double(&s->params, param, value);
}

int fk_store_set_str(fk_store *s, int param, const char *value)
{
    if (!s)
        return fk__error(FK_EINVAL, "store: NULL handle");
    return fk__params_set_str(&s->params, param, value);
}

int fk_store_set_text(fk_store *s, const char *name, const char *text)
{
    if (!s || !name)
        return fk__error(FK_EINVAL, "store: NULL argument");
    return fk__params_set_text(&s->params, name, text);
}

int fk_store_get_int(const fk_store *s, int param, int64_t *out)
{
    if (!s || !out)
        return fk__error(FK_EINVAL, "store: NULL argument");
    return fk__params_get_int(&s->params, param, out);
}

int fk_store_add_cidr(fk_store *s, const char *cidr)
{
    if (!s || !cidr)
        return fk__error(FK_EINVAL, "store: NULL argument");
    if (s->active)
        return fk__error(FK_EACTIVATED, "store: CIDR filter set after activate");
    fk__cidr c;
    int rc = fk__cidr_parse(cidr, "store: CIDR", &c);
    if (rc)
        return rc;
    fk__cidr *n = fk__reallocarray(s->cidrs, s->ncidrs + 1, sizeof *n);
    if (!n)
        return fk__error(FK_ENOMEM, "store: out of memory");
    s->cidrs = n;
    s->cidrs[s->ncidrs++] = c;
    return FK_OK;
}

void *fk__store_alloc(fk_store *s, size_t n, size_t size)
{
    void *p = fk__calloc(n ? n : 1, size);
    if (p)
        s->st.memory_bytes += (uint64_t)(n ? n : 1) * size;
    return p;
}

int fk_store_activate(fk_store *s)
{
    if (!s)
        return fk__error(FK_EINVAL, "store: NULL handle");
    if (s->active)
        return fk__error(FK_EACTIVATED, "store: already activated");
    int64_t slot = fk__params_int(&s->params, FK_STORE_TOPK_SLOT_SEC);
    int64_t span = fk__params_int(&s->params, FK_STORE_TOPK_SPAN_SEC);
    if (slot > span)
        return fk__error(FK_ERANGE, "store: topk_slot = %lld is longer than topk_span = %lld",
                         (long long)slot, (long long)span);
    int rc;
    if ((rc = fk__recent_init(s)) || (rc = fk__agg_init(s)) || (rc = fk__counts_init(s)) ||
        (rc = fk__iptab_init(s)) || (rc = fk__badip_init(s))) {
        free_tables(s);
        return fk__error(rc, "store: out of memory for the tables the parameters ask for");
    }
    s->checks = s->ncidrs || s->ndedup;
    s->active = true;
    s->params.activated = true;
    return FK_OK;
}

void fk__store_norm_addr(fk_addr *a)
{
    if (a->family == 4)
        memset(a->bytes + 4, 0, 12);
    else if (a->family != 6)
        memset(a, 0, sizeof *a);
}

void fk__skey_addr(fk__skey *k, const fk_addr *a)
{
    memset(k, 0, sizeof *k);
    fk_addr n = *a;
    fk__store_norm_addr(&n);
    memcpy(k->b, &n, sizeof n);
}

void fk__skey_tuple(fk__skey *k, const fk_addr *src, const fk_addr *dst, uint16_t sport,
                    uint16_t dport)
{
    fk_addr a = *src, b = *dst;
    fk__store_norm_addr(&a);
    fk__store_norm_addr(&b);
    memset(k, 0, sizeof *k);
    memcpy(k->b, &a, sizeof a);
    memcpy(k->b + 17, &b, sizeof b);
    k->b[34] = (uint8_t)(sport >> 8);
    k->b[35] = (uint8_t)sport;
    k->b[36] = (uint8_t)(dport >> 8);
    k->b[37] = (uint8_t)dport;
}

_Static_assert(sizeof(fk_addr) == FK__SKEY_ADDR, "address keys are whole fk_addr values");

/* The shared keys of r (addresses already normalised), hashed once. */
static void flow_keys(fk__flow_keys *fk, const fk__rec *r)
{
    memset(fk, 0, sizeof *fk);
    memcpy(fk->src.b, &r->src, sizeof r->src);
    memcpy(fk->dst.b, &r->dst, sizeof r->dst);
    memcpy(fk->exporter.b, &r->exporter, sizeof r->exporter);
    fk->proto.b[0] = r->proto;
    fk->h_src = fk__ss_hash(&fk->src, FK__SKEY_ADDR);
    fk->h_dst = fk__ss_hash(&fk->dst, FK__SKEY_ADDR);
    fk->h_proto = fk__ss_hash(&fk->proto, FK__SKEY_PROTO);
}

void fk__store_feed(fk_store *s, const fk__rec *r, const char *process)
{
    fk__cnt c = {r->bytes + r->rev_bytes, r->packets + r->rev_packets, r->flows};
    fk__flow_keys fk;
    flow_keys(&fk, r);
    fk__counts_add(s, r, process, &fk, &c);
    fk__iptab_add(s, r, &fk, &c);
}

void fk__store_advance_locked(fk_store *s, int64_t now_ns)
{
    if (now_ns <= s->now_ns)
        return;
    /* The waiting sums are judged (late, slot) by the clock their flows
     * came with: flushed before it moves to another step. */
    if (s->agg_cap) {
        int64_t no = fk__agg_step_of(s, now_ns);
        if (no != fk__agg_step_of(s, s->now_ns))
            fk__agg_next_step(s, no);
    }
    s->now_ns = now_ns;
    fk__recent_expire(s);
    fk__badip_expire(s);
}

int fk_store_advance(fk_store *s, int64_t now_ns)
{
    if (!s || !s->active)
        return fk__error(FK_EINVAL, "store: NULL handle or not activated");
    fk__store_lock_take(&s->lock);
    fk__store_advance_locked(s, now_ns);
    fk__store_lock_give(&s->lock);
    return FK_OK;
}

int64_t fk_store_get_now(fk_store *s)
{
    if (!s || !s->active)
        return 0;
    fk__store_lock_take(&s->lock);
    int64_t now = s->now_ns;
    fk__store_lock_give(&s->lock);
    return now;
}

static int fill_stats(fk_store *s, fk_store_stats *out)
{
    if (!s || !out)
        return fk__error(FK_EINVAL, "store: NULL argument");
    fk__store_lock_take(&s->lock);
    fk__agg_flush(s);
    fk__counts_flush(s); /* topk_evictions of the waiting batches */
    *out = s->st;
    out->ips = s->ips.n;
    out->bad_ips = s->bad.n;
    out->udp_pending = s->npend;
    out->flows_stored = s->seq_next - s->seq_first;
    out->oldest_flow_ns = fk__recent_oldest_ns(s);
    fk__store_lock_give(&s->lock);
    return FK_OK;
}

int fk_store_get_stats(fk_store *h, fk_store_stats *out, size_t size)
{
    if (!h || !out || size < sizeof(uint64_t))
        return fk__error(FK_EINVAL, "store: NULL argument or size %zu below 8", size);
    fk_store_stats st;
    int rc = fill_stats(h, &st);
    if (rc == 0)
        fk__copy_sized(out, size, &st, sizeof st);
    return rc;
}
