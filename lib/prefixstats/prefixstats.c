/* fk_prefixstats: lifecycle, parameters, the add path, the clock and the
 * queries of the prefix statistics (flowkit/prefixstats.h). A map from
 * (sender, prefix) to a slot; each slot has one ring of buckets per
 * granularity, a bucket at ring[index % keep]. Buckets are made on first
 * use and freed when they leave the retention. */
#include <flowkit/prefixstats.h>
#include <pthread.h>
#include <string.h>

#include "collector/internal.h"
#include "core/alloc.h"
#include "core/error.h"
#include "core/hmap.h"
#include "core/params.h"
#include "core/sized.h"
#include "prefixstats/bucket.h"
#include "prefixstats/calendar.h"

/* Most prefixes one record counts for (nested prefixes of one sender). */
#define MATCH_MAX 16

#define G FK_PREFIXSTATS_GRANULARITIES

static const fk_param_info ps_table[] = {
    {FK_PREFIXSTATS_TOP_VALUES, "top_values", FK_PARAM_INT, 0, 1, 4096, 10, 0, 0, 0, NULL, "values",
     "values kept per field and bucket; the rest are summed into \"other\" (counted)"},
    {FK_PREFIXSTATS_MAX_PREFIXES, "max_prefixes", FK_PARAM_INT, 0, 1, 1000000, 32, 0, 0, 0, NULL,
     "prefixes",
     "(sender, prefix) pairs with statistics; least recently updated evicted (counted)"},
    {FK_PREFIXSTATS_KEEP_MINUTES, "keep_minutes", FK_PARAM_INT, 0, 0, 527040, 60, 0, 0, 0, NULL,
     "buckets", "minute buckets kept per prefix (0 = none)"},
    {FK_PREFIXSTATS_KEEP_HOURS, "keep_hours", FK_PARAM_INT, 0, 0, 87840, 48, 0, 0, 0, NULL,
     "buckets", "hour buckets kept per prefix (0 = none)"},
    {FK_PREFIXSTATS_KEEP_DAYS, "keep_days", FK_PARAM_INT, 0, 0, 36600, 31, 0, 0, 0, NULL, "buckets",
     "day buckets kept per prefix (0 = none)"},
    {FK_PREFIXSTATS_KEEP_MONTHS, "keep_months", FK_PARAM_INT, 0, 0, 1200, 12, 0, 0, 0, NULL,
     "buckets", "month buckets kept per prefix (0 = none)"},
    {FK_PREFIXSTATS_KEEP_YEARS, "keep_years", FK_PARAM_INT, 0, 0, 100, 3, 0, 0, 0, NULL, "buckets",
     "year buckets kept per prefix (0 = none)"},
    {FK_PREFIXSTATS_MAX_AHEAD_SEC, "max_ahead", FK_PARAM_INT, 0, 0, 86400, 300, 0, 0, 0, NULL, "s",
     "a record time later than the last advance time by more counts at that time (counted)"},
};
#define PS_TABLE_COUNT (sizeof ps_table / sizeof ps_table[0])

/* (sender, prefix), no padding bytes; IPv4 (and IPv4-mapped) senders as 4. */
typedef struct slot_key {
    uint8_t sender_family, prefix_family, bits, pad;
    uint8_t sender[16], prefix[16];
} slot_key;

typedef struct slot {
    slot_key key;
    uint64_t used;           /* tick of the last update (eviction order) */
    fk__ps_bucket **ring[G]; /* keep[g] entries each, into one array */
} slot;

struct fk_prefixstats {
    fk__params params;
    fk_senders *senders; /* borrowed */
    pthread_mutex_t lock;
    bool active;
    size_t top, max_slots;
    int64_t keep[G];
    size_t ring_total; /* sum of keep */
    fk__hmap slots;    /* slot_key → slot * */
    int64_t now, advanced, max_ahead_ns;
    int64_t expired_at[G]; /* bucket number of `now` when expiry last ran */
    uint64_t tick;
    fk_prefixstats_stats st;
};

const fk_param_info *fk_prefixstats_params(size_t *count)
{
    if (count)
        *count = PS_TABLE_COUNT;
    return ps_table;
}

int fk_prefixstats_create(fk_prefixstats **out)
{
    if (!out)
        return fk__error(FK_EINVAL, "prefixstats: NULL handle pointer");
    *out = NULL;
    fk_prefixstats *ps = FK__NEW(fk_prefixstats);
    if (!ps)
        return fk__error(FK_ENOMEM, "prefixstats: out of memory");
    int rc = fk__params_init(&ps->params, "prefixstats", ps_table, PS_TABLE_COUNT);
    if (rc) {
        fk__free(ps);
        return rc;
    }
    if (pthread_mutex_init(&ps->lock, NULL) != 0) {
        fk__params_free(&ps->params);
        fk__free(ps);
        return fk__error(FK_ENOMEM, "prefixstats: cannot create its mutex");
    }
    fk__hmap_init(&ps->slots, sizeof(slot_key), sizeof(slot *));
    *out = ps;
    return FK_OK;
}

static void slot_free(fk_prefixstats *ps, slot *x)
{
    for (size_t i = 0; i < ps->ring_total; i++) {
        if (x->ring[0][i]) {
            fk__ps_bucket_free(x->ring[0][i]);
            ps->st.buckets--;
        }
    }
    fk__free(x->ring[0]);
    fk__free(x);
}

void fk_prefixstats_destroy(fk_prefixstats *ps)
{
    if (!ps)
        return;
    size_t pos = 0;
    const void *k;
    void *v;
    while (fk__hmap_next(&ps->slots, &pos, &k, &v))
        slot_free(ps, *(slot **)v);
    fk__hmap_free(&ps->slots);
    pthread_mutex_destroy(&ps->lock);
    fk__params_free(&ps->params);
    fk__free(ps);
}

int fk_prefixstats_set_int(fk_prefixstats *ps, int param, int64_t value)
{
    if (!ps)
        return fk__error(FK_EINVAL, "prefixstats: NULL handle");
    return fk__params_set_int(&ps->params, param, value);
}

int fk_prefixstats_set_double(fk_prefixstats *ps, int param, double value)
{
    if (!ps)
        return fk__error(FK_EINVAL, "prefixstats: NULL handle");
    return fk__params_set_double(&ps->params, param, value);
}

int fk_prefixstats_set_str(fk_prefixstats *ps, int param, const char *value)
{
    if (!ps)
        return fk__error(FK_EINVAL, "prefixstats: NULL handle");
    return fk__params_set_str(&ps->params, param, value);
}

int fk_prefixstats_set_text(fk_prefixstats *ps, const char *name, const char *text)
{
    if (!ps || !name)
        return fk__error(FK_EINVAL, "prefixstats: NULL argument");
    return fk__params_set_text(&ps->params, name, text);
}

int fk_prefixstats_get_int(const fk_prefixstats *ps, int param, int64_t *out)
{
    if (!ps || !out)
        return fk__error(FK_EINVAL, "prefixstats: NULL argument");
    return fk__params_get_int(&ps->params, param, out);
}

int fk_prefixstats_set_senders(fk_prefixstats *ps, fk_senders *senders)
{
    if (!ps || !senders)
        return fk__error(FK_EINVAL, "prefixstats: NULL argument");
    if (ps->active)
        return fk__error(FK_EACTIVATED, "prefixstats: the senders registry is set before activate");
    ps->senders = senders;
    return FK_OK;
}

int fk_prefixstats_activate(fk_prefixstats *ps)
{
    if (!ps)
        return fk__error(FK_EINVAL, "prefixstats: NULL handle");
    if (ps->active)
        return fk__error(FK_EACTIVATED, "prefixstats: already activated");
    if (!ps->senders)
        return fk__error(FK_EINVAL,
                         "prefixstats: no senders registry (fk_prefixstats_set_senders())");
    ps->top = (size_t)fk__params_int(&ps->params, FK_PREFIXSTATS_TOP_VALUES);
    ps->max_slots = (size_t)fk__params_int(&ps->params, FK_PREFIXSTATS_MAX_PREFIXES);
    ps->max_ahead_ns = fk__params_int(&ps->params, FK_PREFIXSTATS_MAX_AHEAD_SEC) * 1000000000LL;
    ps->ring_total = 0;
    for (int g = 0; g < G; g++) {
        ps->keep[g] = fk__params_int(&ps->params, FK_PREFIXSTATS_KEEP_MINUTES + g);
        ps->ring_total += (size_t)ps->keep[g];
        ps->expired_at[g] = -1;
    }
    size_t per_slot = sizeof(slot) + sizeof(slot_key) + 16 +
                      ps->ring_total * (sizeof(fk__ps_bucket *) + fk__ps_bucket_bound(ps->top));
    ps->st.memory_bound = (uint64_t)ps->max_slots * per_slot;
    ps->params.activated = true;
    ps->active = true;
    return FK_OK;
}

/* ---- the clock and expiry -------------------------------------------------- */

/* Free the buckets of granularity g that fell out of its retention. */
static void expire(fk_prefixstats *ps, int g)
{
    int64_t cur = fk__ps_index(g, ps->now);
    if (cur == ps->expired_at[g] || ps->keep[g] == 0)
        return;
    ps->expired_at[g] = cur;
    size_t pos = 0;
    const void *k;
    void *v;
    while (fk__hmap_next(&ps->slots, &pos, &k, &v)) {
        slot *x = *(slot **)v;
        for (int64_t i = 0; i < ps->keep[g]; i++) {
            fk__ps_bucket *b = x->ring[g][i];
            if (b && b->index <= cur - ps->keep[g]) {
                fk__ps_bucket_free(b);
                x->ring[g][i] = NULL;
                ps->st.buckets--;
                ps->st.buckets_expired++;
            }
        }
    }
}

static void move_clock(fk_prefixstats *ps, int64_t t)
{
    if (t <= ps->now)
        return;
    ps->now = t;
    for (int g = 0; g < G; g++)
        expire(ps, g);
}

int fk_prefixstats_advance(fk_prefixstats *ps, int64_t now_ns)
{
    if (!ps || !ps->active)
        return fk__error(FK_EINVAL, "prefixstats: NULL or inactive handle");
    pthread_mutex_lock(&ps->lock);
    if (now_ns > ps->advanced)
        ps->advanced = now_ns;
    move_clock(ps, now_ns);
    pthread_mutex_unlock(&ps->lock);
    return FK_OK;
}

int64_t fk_prefixstats_get_now(fk_prefixstats *ps)
{
    if (!ps || !ps->active)
        return 0;
    pthread_mutex_lock(&ps->lock);
    int64_t now = ps->now;
    pthread_mutex_unlock(&ps->lock);
    return now;
}

/* ---- the add path ---------------------------------------------------------- */

static void norm_addr(const fk_addr *a, uint8_t *family, uint8_t *bytes)
{
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    memset(bytes, 0, 16);
    if (a->family == 6 && memcmp(a->bytes, mapped, 12) == 0) {
        *family = 4;
        memcpy(bytes, a->bytes + 12, 4);
    } else {
        *family = a->family;
        memcpy(bytes, a->bytes, a->family == 6 ? 16 : 4);
    }
}

static void make_key(slot_key *k, const fk_addr *sender, const fk__cidr *p)
{
    memset(k, 0, sizeof *k);
    norm_addr(sender, &k->sender_family, k->sender);
    k->prefix_family = p->family;
    k->bits = p->bits;
    memcpy(k->prefix, p->addr, 16);
}

/* Make room for one more slot: evict the one updated least recently. */
static void evict_one(fk_prefixstats *ps)
{
    size_t pos = 0;
    const void *k;
    void *v;
    slot *old = NULL;
    while (fk__hmap_next(&ps->slots, &pos, &k, &v)) {
        slot *x = *(slot **)v;
        if (!old || x->used < old->used)
            old = x;
    }
    if (!old)
        return;
    slot_key key = old->key;
    slot_free(ps, old);
    fk__hmap_del(&ps->slots, &key);
    ps->st.prefixes--;
    ps->st.prefixes_evicted++;
}

static slot *get_slot(fk_prefixstats *ps, const slot_key *k)
{
    slot **found = fk__hmap_get(&ps->slots, k);
    if (found)
        return *found;
    if (ps->slots.count >= ps->max_slots)
        evict_one(ps);
    slot *x = FK__NEW(slot);
    fk__ps_bucket **ring = fk__calloc(ps->ring_total ? ps->ring_total : 1, sizeof *ring);
    if (!x || !ring || fk__hmap_put(&ps->slots, k, &x, NULL) != FK_OK) {
        fk__free(x);
        fk__free(ring);
        return NULL;
    }
    x->key = *k;
    size_t at = 0;
    for (int g = 0; g < G; g++) {
        x->ring[g] = ring + at;
        at += (size_t)ps->keep[g];
    }
    ps->st.prefixes++;
    return x;
}

/* Bucket number idx of granularity g in slot x, made when new; NULL when
 * it is out of retention (counted) or memory ran out. */
static fk__ps_bucket *get_bucket(fk_prefixstats *ps, slot *x, int g, int64_t idx, int *rc)
{
    int64_t keep = ps->keep[g];
    /* expired_at[g] is the bucket number of the clock (expire()). */
    if (idx <= ps->expired_at[g] - keep) {
        ps->st.late++;
        return NULL;
    }
    fk__ps_bucket **at = &x->ring[g][idx % keep];
    if (*at && (*at)->index != idx) {
        /* An older bucket in the same place: out of retention by now. */
        fk__ps_bucket_free(*at);
        *at = NULL;
        ps->st.buckets--;
        ps->st.buckets_expired++;
    }
    if (!*at) {
        if (!(*at = fk__ps_bucket_new(idx))) {
            *rc = FK_ENOMEM;
            return NULL;
        }
        ps->st.buckets++;
    }
    return *at;
}

static void set_number(fk__ps_value *v, uint32_t n)
{
    memset(v, 0, sizeof *v);
    memcpy(v->v, &n, sizeof n);
}

static void set_addr(fk__ps_value *v, const fk_addr *a)
{
    memset(v, 0, sizeof *v);
    norm_addr(a, &v->family, v->v);
}

/* One direction of a record: from `s` to `d` (forward, or the reverse of
 * a biflow with its ends swapped). */
static void make_side(fk__ps_side *side, const fk_flow *f, bool reverse)
{
    memset(side, 0, sizeof *side);
    side->bytes = reverse ? f->rev_bytes : f->bytes;
    side->packets = reverse ? f->rev_packets : f->packets;
    set_number(&side->values[FK_PREFIXSTATS_PROTO - 1], f->proto);
    set_number(&side->values[FK_PREFIXSTATS_SRCPORT - 1], reverse ? f->dst_port : f->src_port);
    set_number(&side->values[FK_PREFIXSTATS_DSTPORT - 1], reverse ? f->src_port : f->dst_port);
    set_number(&side->values[FK_PREFIXSTATS_SRCAS - 1], reverse ? f->dst_as : f->src_as);
    set_number(&side->values[FK_PREFIXSTATS_DSTAS - 1], reverse ? f->src_as : f->dst_as);
    set_addr(&side->values[FK_PREFIXSTATS_SRCIP - 1], reverse ? &f->dst : &f->src);
    set_addr(&side->values[FK_PREFIXSTATS_DSTIP - 1], reverse ? &f->src : &f->dst);
    for (size_t i = 0; i < FK_PREFIXSTATS_FIELDS - 1; i++)
        side->hashes[i] = fk__hmap_hash(&side->values[i], sizeof side->values[i]);
}

/* The record time, after the clock rules of the header. */
static int64_t record_time(fk_prefixstats *ps, const fk_flow *f)
{
    int64_t t = f->end_ns > 0 ? f->end_ns : f->start_ns > 0 ? f->start_ns : ps->now;
    if (ps->advanced && t > ps->advanced + ps->max_ahead_ns) {
        ps->st.clamped++;
        t = ps->advanced;
    }
    return t;
}

/* Count both sides of a record in one slot; `holds` bit 1: the prefix
 * holds the source, bit 2: the destination. */
static int add_to_slot(fk_prefixstats *ps, slot *x, uint8_t holds, const int64_t *idx,
                       fk__ps_side *fwd, fk__ps_side *rev)
{
    int rc = FK_OK;
    for (int g = 0; g < G; g++) {
        if (!ps->keep[g])
            continue;
        fk__ps_bucket *b = get_bucket(ps, x, g, idx[g], &rc);
        if (!b)
            continue;
        for (int end = 1; end <= 2; end++) {
            if (!(holds & end))
                continue;
            /* The source's prefix sends the forward side and receives the
             * reverse; the destination's the other way round. */
            fwd->dir = end == 1 ? 1 : 0;
            if (fk__ps_bucket_add(b, fwd, ps->top, &ps->st.values_folded) != FK_OK)
                rc = FK_ENOMEM;
            if (rev) {
                rev->dir = end == 1 ? 0 : 1;
                if (fk__ps_bucket_add(b, rev, ps->top, &ps->st.values_folded) != FK_OK)
                    rc = FK_ENOMEM;
            }
        }
    }
    return rc;
}

int fk_prefixstats_add_flow(fk_prefixstats *ps, const fk_addr *sender, const fk_flow *flow)
{
    if (!ps || !ps->active || !sender || !flow)
        return fk__error(FK_EINVAL, "prefixstats: NULL argument or inactive handle");
    if (flow->event)
        return 0;
    fk__cidr match[MATCH_MAX];
    uint8_t holds[MATCH_MAX];
    uint64_t more = 0;
    size_t n = fk__senders_prefixes_of(ps->senders, sender, &flow->src, &flow->dst, match, holds,
                                       MATCH_MAX, &more);
    fk__ps_side fwd, rev;
    bool has_rev = (flow->present & FK_FLOW_HAS_REVERSE) && (flow->rev_packets || flow->rev_bytes);
    if (n) {
        make_side(&fwd, flow, false);
        if (has_rev)
            make_side(&rev, flow, true);
    }
    int rc = FK_OK;
    pthread_mutex_lock(&ps->lock);
    ps->st.records++;
    ps->st.prefixes_skipped += more;
    if (n == 0) {
        ps->st.unmatched++;
    } else {
        ps->st.accounted++;
        int64_t t = record_time(ps, flow);
        move_clock(ps, t);
        int64_t idx[G];
        for (int g = 0; g < G; g++)
            idx[g] = fk__ps_index(g, t);
        ps->tick++;
        for (size_t i = 0; i < n && rc == FK_OK; i++) {
            slot_key k;
            make_key(&k, sender, &match[i]);
            slot *x = get_slot(ps, &k);
            if (!x) {
                rc = FK_ENOMEM;
                break;
            }
            x->used = ps->tick;
            rc = add_to_slot(ps, x, holds[i], idx, &fwd, has_rev ? &rev : NULL);
        }
    }
    pthread_mutex_unlock(&ps->lock);
    if (rc != FK_OK)
        return fk__error(rc, "prefixstats: out of memory");
    return (int)n;
}

/* ---- queries --------------------------------------------------------------- */

int fk_prefixstats_get_stats(fk_prefixstats *ps, fk_prefixstats_stats *out, size_t size)
{
    if (!ps || !out || size < sizeof(uint64_t))
        return fk__error(FK_EINVAL, "prefixstats: NULL argument or size %zu below 8", size);
    pthread_mutex_lock(&ps->lock);
    fk_prefixstats_stats st = ps->st;
    size_t mem = sizeof *ps + ps->slots.cap * (ps->slots.entry_size + sizeof(uint64_t));
    size_t pos = 0;
    const void *k;
    void *v;
    while (fk__hmap_next(&ps->slots, &pos, &k, &v)) {
        slot *x = *(slot **)v;
        mem += sizeof *x + ps->ring_total * sizeof(fk__ps_bucket *);
        for (size_t i = 0; i < ps->ring_total; i++)
            if (x->ring[0][i])
                mem += fk__ps_bucket_memory(x->ring[0][i]);
    }
    pthread_mutex_unlock(&ps->lock);
    st.memory_bytes = mem;
    fk__copy_sized(out, size, &st, sizeof st);
    return FK_OK;
}

int fk_prefixstats_get_rows(fk_prefixstats *ps, const char *sender, const char *prefix,
                            const fk_prefixstats_bucket *bucket, fk_prefixstats_field field,
                            fk_prefixstats_row *out, size_t capacity, size_t *count)
{
    if (count)
        *count = 0;
    if (!ps || !ps->active || !sender || !prefix || !bucket || !count || (!out && capacity) ||
        (unsigned)field >= FK_PREFIXSTATS_FIELDS ||
        (unsigned)bucket->granularity >= FK_PREFIXSTATS_GRANULARITIES)
        return fk__error(FK_EINVAL, "prefixstats: bad argument");
    fk_addr from;
    fk__cidr p;
    char text[64];
    if (fk_addr_parse(sender, &from) != FK_OK)
        return fk__error(FK_EINVAL, "prefixstats: \"%.60s\" is not an address", sender);
    snprintf(text, sizeof text, "%s", prefix);
    if (strlen(prefix) >= sizeof text || fk__cidr_parse(text, "prefixstats", &p) != FK_OK)
        return fk__error(FK_EINVAL, "prefixstats: \"%.60s\" is not a prefix", prefix);
    slot_key k;
    make_key(&k, &from, &p);
    int g = bucket->granularity;
    int rc = FK_OK;
    pthread_mutex_lock(&ps->lock);
    slot **found = fk__hmap_get(&ps->slots, &k);
    if (found && ps->keep[g]) {
        int64_t idx = fk__ps_index(g, bucket->start_ns);
        const fk__ps_bucket *b = (*found)->ring[g][idx % ps->keep[g]];
        if (b && b->index == idx && idx > fk__ps_index(g, ps->now) - ps->keep[g])
            rc = fk__ps_bucket_rows(b, field, out, capacity, count);
    }
    pthread_mutex_unlock(&ps->lock);
    if (rc == FK_ENOSPACE)
        return fk__error(rc, "prefixstats: %zu rows are not enough (top_values + 1 are)", capacity);
    if (!found && !fk__senders_has_prefix(ps->senders, &from, &p))
        return fk__error(FK_ENOTFOUND, "prefixstats: %s has no prefix %s", sender, prefix);
    return rc;
}

static const char *const field_names[FK_PREFIXSTATS_FIELDS] = {
    "all", "proto", "srcport", "dstport", "srcas", "dstas", "srcip", "dstip"};

const char *fk_prefixstats_field_name(fk_prefixstats_field field)
{
    return (unsigned)field < FK_PREFIXSTATS_FIELDS ? field_names[field] : "unknown";
}

int fk_prefixstats_field_lookup(const char *name, fk_prefixstats_field *out)
{
    for (int i = 0; name && out && i < FK_PREFIXSTATS_FIELDS; i++) {
        if (strcmp(name, field_names[i]) == 0) {
            *out = (fk_prefixstats_field)i;
            return FK_OK;
        }
    }
    return fk__error(FK_ENOTFOUND,
                     "prefixstats: no field \"%.40s\" (all, proto, srcport, "
                     "dstport, srcas, dstas, srcip, dstip)",
                     name ? name : "(null)");
}
