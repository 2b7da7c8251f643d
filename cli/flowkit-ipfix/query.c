/* flowkit-ipfix's query stage (query.h): filter and time window decide which
 * flows count; statistics (-s), aggregation (-A) and text output (-o text)
 * take them in; query_finish() prints the tables. */
/* _GNU_SOURCE (timegm) comes from cli/common. */
#include "query_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static const stat_def stat_defs[] = {
    {"srcip", AGG_SRCIP, 0},
    {"dstip", AGG_DSTIP, 0},
    {"ip", AGG_SRCIP, 1},
    {"srcport", AGG_SRCPORT, 0},
    {"dstport", AGG_DSTPORT, 0},
    {"port", AGG_SRCPORT, 1},
    {"proto", AGG_PROTO, 0},
    {"record", AGG_SRCIP | AGG_DSTIP | AGG_SRCPORT | AGG_DSTPORT | AGG_PROTO, 0},
};

const char *const query_order_names[] = {"flows", "packets", "bytes", "tstart", "tend"};

query *query_create(void)
{
    query *q = calloc(1, sizeof *q);
    if (q) {
        q->limit = -1;
        q->filter_const = -1;
        q->agg_order = ORDER_TSTART;
        q->aggs[0] = (aggsmall)AGGSMALL_INIT(0);
        q->aggs[1] = (aggsmall)AGGSMALL_INIT(1);
    }
    return q;
}

void query_destroy(query *q)
{
    if (!q)
        return;
    fk_filter_destroy(q->filter);
    for (int i = 0; i < q->nstats; i++) {
        agg_free(&q->stats[i].table);
        aggs_free(&q->stats[i].small[0]);
        aggs_free(&q->stats[i].small[1]);
    }
    agg_free(&q->agg);
    aggs_free(&q->aggs[0]);
    aggs_free(&q->aggs[1]);
    free(q);
}

static int usage_error(const char *opt, const char *arg, const char *what)
{
    fprintf(stderr, TOOL ": %s: \"%s\": %s (see --help)\n", opt, arg, what);
    return -1;
}

int query_set_filter(query *q, const char *expr)
{
    fk_filter *f = NULL;
    size_t at = 0;
    if (fk_filter_compile(expr, &f, &at) < 0) {
        fprintf(stderr, TOOL ": %s\n", fk_error_last()->message);
        if (!strchr(expr, '\n'))
            fprintf(stderr, "  %s\n  %*s^\n", expr, (int)at, "");
        return -1;
    }
    fk_filter_destroy(q->filter);
    q->filter = f;
    q->filter_const = -1;
    if (fk_filter_get_fields(f) == 0) { /* any, not any: the same for every flow */
        fk_flow zero;
        memset(&zero, 0, sizeof zero);
        q->filter_const = fk_filter_match(f, &zero);
    }
    return 0;
}

/* YYYY/MM/dd.hh:mm:ss with trailing parts omitted, UTC, to ns. */
static bool parse_time(const char *s, size_t len, int64_t *out)
{
    int v[6] = {0, 1, 1, 0, 0, 0};
    const char seps[] = "//.::";
    size_t i = 0;
    int k;
    for (k = 0; k < 6 && i < len; k++) {
        if (k > 0) {
            if (s[i] != seps[k - 1])
                return false;
            i++;
        }
        int n = 0, digits = 0;
        while (i < len && s[i] >= '0' && s[i] <= '9' && digits < 4) {
            n = n * 10 + (s[i++] - '0');
            digits++;
        }
        if (digits == 0)
            return false;
        v[k] = n;
    }
    if (i != len || v[1] < 1 || v[1] > 12 || v[2] < 1 || v[2] > 31 || v[3] > 23 || v[4] > 59 ||
        v[5] > 60 || v[0] < 1970)
        return false;
    struct tm tm = {.tm_year = v[0] - 1900,
                    .tm_mon = v[1] - 1,
                    .tm_mday = v[2],
                    .tm_hour = v[3],
                    .tm_min = v[4],
                    .tm_sec = v[5]};
    time_t t = timegm(&tm);
    if (t == (time_t)-1)
        return false;
    *out = (int64_t)t * 1000000000;
    return true;
}

int query_set_window(query *q, const char *text)
{
    const char *dash = strchr(text, '-');
    size_t l1 = dash ? (size_t)(dash - text) : strlen(text);
    q->win_end_ns = INT64_MAX;
    if (!parse_time(text, l1, &q->win_start_ns) ||
        (dash && !parse_time(dash + 1, strlen(dash + 1), &q->win_end_ns)))
        return usage_error("-t", text, "expected YYYY/MM/dd.hh:mm:ss[-YYYY/MM/dd.hh:mm:ss]");
    if (q->win_end_ns < q->win_start_ns)
        return usage_error("-t", text, "the window ends before it starts");
    q->window = true;
    return 0;
}

static int parse_order(const char *s, size_t len, agg_order *out)
{
    for (size_t i = 0; i < sizeof query_order_names / sizeof query_order_names[0]; i++)
        if (strlen(query_order_names[i]) == len && strncasecmp(s, query_order_names[i], len) == 0) {
            *out = (agg_order)i;
            return 0;
        }
    return -1;
}

int query_add_stat(query *q, const char *text)
{
    if (q->nstats == MAX_STATS)
        return usage_error("-s", text, "too many statistics");
    stat *st = &q->stats[q->nstats];
    memset(st, 0, sizeof *st);
    const char *slash = strchr(text, '/');
    size_t len = slash ? (size_t)(slash - text) : strlen(text);
    for (size_t i = 0; i < sizeof stat_defs / sizeof stat_defs[0]; i++)
        if (strlen(stat_defs[i].name) == len && strncasecmp(text, stat_defs[i].name, len) == 0)
            st->def = &stat_defs[i];
    if (!st->def)
        return usage_error("-s", text,
                           "expected srcip, dstip, ip, srcport, dstport, port, proto or record");
    while (slash) {
        const char *s = slash + 1;
        slash = strchr(s, '/');
        size_t l = slash ? (size_t)(slash - s) : strlen(s);
        if (st->norders == MAX_ORDERS || parse_order(s, l, &st->orders[st->norders]) < 0 ||
            st->orders[st->norders] > ORDER_BYTES)
            return usage_error("-s", text, "order by flows, packets or bytes");
        st->norders++;
    }
    if (st->norders == 0)
        st->orders[st->norders++] = ORDER_FLOWS;
    st->table.mask = st->def->mask;
    st->small[0] = (aggsmall)AGGSMALL_INIT(0);
    st->small[1] = (aggsmall)AGGSMALL_INIT(1);
    q->nstats++;
    return 0;
}

int query_set_aggregate(query *q, const char *text)
{
    static const struct {
        const char *name;
        unsigned bit;
    } keys[] = {{"srcip", AGG_SRCIP},
                {"dstip", AGG_DSTIP},
                {"srcport", AGG_SRCPORT},
                {"dstport", AGG_DSTPORT},
                {"proto", AGG_PROTO}};
    unsigned mask = 0;
    const char *s = text;
    while (*s) {
        size_t l = strcspn(s, ",");
        size_t i;
        for (i = 0; i < sizeof keys / sizeof keys[0]; i++)
            if (strlen(keys[i].name) == l && strncasecmp(s, keys[i].name, l) == 0)
                break;
        if (i == sizeof keys / sizeof keys[0])
            return usage_error("-A", text, "keys are srcip, dstip, srcport, dstport, proto");
        mask |= keys[i].bit;
        s += l;
        if (*s == ',')
            s++;
    }
    if (!mask)
        return usage_error("-A", text, "no key");
    agg_free(&q->agg);
    aggs_free(&q->aggs[0]);
    aggs_free(&q->aggs[1]);
    q->agg.mask = mask;
    q->aggregate = true;
    return 0;
}

int query_set_order(query *q, const char *text)
{
    if (parse_order(text, strlen(text), &q->agg_order) < 0)
        return usage_error("-O", text, "expected flows, packets, bytes, tstart or tend");
    return 0;
}

int query_set_limit(query *q, const char *text)
{
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno || *end || end == text || v < 0)
        return usage_error("-n", text, "expected a number (0 = all)");
    q->limit = v;
    return 0;
}

int query_set_output(query *q, const char *text)
{
    bool json = strcasecmp(text, "json") == 0, csv = strcasecmp(text, "csv") == 0;
    if (!json && !csv && strcasecmp(text, "text") != 0)
        return usage_error("-o", text, "expected text, json or csv");
    q->json = json;
    q->csv = csv;
    q->text = !json && !csv;
    return 0;
}

int query_option(query *q, int opt, const char *arg)
{
    switch (opt) {
    case 'f':
        return query_set_filter(q, arg);
    case 't':
        return query_set_window(q, arg);
    case 's':
        return query_add_stat(q, arg);
    case 'A':
        return query_set_aggregate(q, arg);
    case 'O':
        return query_set_order(q, arg);
    case 'n':
        return query_set_limit(q, arg);
    case 'o':
        return query_set_output(q, arg);
    default:
        return -1;
    }
}

bool query_active(const query *q)
{
    return q->filter || q->window || q->nstats || q->aggregate || q->text || q->csv;
}

static unsigned needs(const query *q, bool with_filter)
{
    unsigned m = FK_FILTER_READS_BYTES | FK_FILTER_READS_PACKETS | FK_FILTER_READS_TIMES;
    if (with_filter && q->filter && q->filter_const < 0)
        m |= fk_filter_get_fields(q->filter);
    if (m & FK_FILTER_READS_ADDRS)
        m |= QUERY_NEEDS_SRC | QUERY_NEEDS_DST;
    m &= ~FK_FILTER_READS_ADDRS;
    unsigned keys = q->aggregate ? q->agg.mask : 0;
    for (int i = 0; i < q->nstats; i++) {
        keys |= q->stats[i].table.mask;
        if (q->stats[i].def->either) /* each end in turn: the other end's fields too */
            keys |= q->stats[i].table.mask << 1;
    }
    if (keys & AGG_SRCIP)
        m |= QUERY_NEEDS_SRC;
    if (keys & AGG_DSTIP)
        m |= QUERY_NEEDS_DST;
    if (keys & (AGG_SRCPORT | AGG_DSTPORT))
        m |= FK_FILTER_READS_PORTS;
    if (keys & AGG_PROTO)
        m |= FK_FILTER_READS_PROTO;
    return m;
}

unsigned query_get_needs(const query *q)
{
    return needs(q, true);
}

unsigned query_get_needs_unfiltered(const query *q)
{
    return needs(q, false);
}

const fk_filter *query_get_filter(const query *q)
{
    return q->filter && q->filter_const < 0 ? q->filter : NULL;
}

bool query_has_tables(const query *q)
{
    return q->nstats || q->aggregate;
}

void query_reset(query *q)
{
    for (int i = 0; i < q->nstats; i++) {
        unsigned mask = q->stats[i].table.mask;
        agg_free(&q->stats[i].table);
        aggs_free(&q->stats[i].small[0]);
        aggs_free(&q->stats[i].small[1]);
        q->stats[i].table.mask = mask;
    }
    unsigned mask = q->agg.mask;
    agg_free(&q->agg);
    aggs_free(&q->aggs[0]);
    aggs_free(&q->aggs[1]);
    q->agg.mask = mask;
    q->flows = q->packets = q->bytes = 0;
    q->csv_header_done = false;
    q->oom = false;
}

/* ---- per flow ------------------------------------------------------------ */

bool query_flow(query *q, const fk_flow *f)
{
    if (q->filter && (q->filter_const >= 0 ? !q->filter_const : !fk_filter_match(q->filter, f)))
        return false;
    return query_flow_passed(q, f);
}

bool query_flow_passed(query *q, const fk_flow *f)
{
    if (q->window && (f->start_ns < q->win_start_ns || f->end_ns > q->win_end_ns))
        return false;
    q->flows++;
    q->packets += f->packets;
    q->bytes += f->bytes;
    for (int i = 0; i < q->nstats; i++) {
        stat *st = &q->stats[i];
        agg_key k;
        agg_key_of(&k, st->table.mask, f, 0);
        if (agg_add(&st->table, &k, f) < 0)
            q->oom = true;
        if (st->def->either) {
            agg_key_of(&k, st->table.mask, f, 1);
            if (agg_add(&st->table, &k, f) < 0)
                q->oom = true;
        }
    }
    if (q->aggregate) {
        agg_key k;
        agg_key_of(&k, q->agg.mask, f, 0);
        if (agg_add(&q->agg, &k, f) < 0)
            q->oom = true;
    }
    if (q->nstats || q->aggregate)
        return false;
    if (q->text) {
        query_print_flow_text(f, stdout);
        return false;
    }
    if (q->csv) {
        query_print_flow_csv(q, f, stdout);
        return false;
    }
    return true;
}
