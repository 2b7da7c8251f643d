/* flowkit-ipfix's query stage (query.h): filter and time window decide which
 * flows count; statistics (-s), aggregation (-A) and text output (-o text)
 * take them in; query_finish() prints the tables. */
/* _GNU_SOURCE (timegm) comes from cli/common. */
#include "query.h"

#include "aggtable.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define TOOL "flowkit-ipfix"
#define MAX_STATS 16
#define MAX_ORDERS 4

typedef struct stat_def {
    const char *name; /* as given to -s */
    unsigned mask;
    int either; /* ip, port: each flow counts for both ends */
} stat_def;

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

static const char *const order_names[] = {"flows", "packets", "bytes", "tstart", "tend"};

typedef struct stat {
    const stat_def *def;
    agg_order orders[MAX_ORDERS];
    int norders;
    aggtable table;
} stat;

struct query {
    fk_filter *filter;    /* NULL: every flow */
    int64_t win_start_ns; /* -t; INT64_MIN / INT64_MAX when open */
    int64_t win_end_ns;
    bool window;
    stat stats[MAX_STATS];
    int nstats;
    bool aggregate;
    aggtable agg;                   /* -A */
    agg_order agg_order;            /* -O */
    long limit;                     /* -n; -1: default */
    bool json;                      /* -o json */
    bool text;                      /* -o text given */
    uint64_t flows, packets, bytes; /* totals of the flows that passed */
    int64_t first_ns, last_ns;
    bool oom;
};

query *query_create(void)
{
    query *q = calloc(1, sizeof *q);
    if (q) {
        q->limit = -1;
        q->agg_order = ORDER_TSTART;
        q->first_ns = INT64_MAX;
        q->last_ns = INT64_MIN;
    }
    return q;
}

void query_destroy(query *q)
{
    if (!q)
        return;
    fk_filter_destroy(q->filter);
    for (int i = 0; i < q->nstats; i++)
        agg_free(&q->stats[i].table);
    agg_free(&q->agg);
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
    for (size_t i = 0; i < sizeof order_names / sizeof order_names[0]; i++)
        if (strlen(order_names[i]) == len && strncasecmp(s, order_names[i], len) == 0) {
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
    if (strcasecmp(text, "json") == 0)
        q->json = true;
    else if (strcasecmp(text, "text") == 0)
        q->json = false;
    else
        return usage_error("-o", text, "expected text or json");
    q->text = !q->json;
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
    return q->filter || q->window || q->nstats || q->aggregate || q->text;
}

/* ---- per flow ------------------------------------------------------------ */

static void print_flow_text(const fk_flow *f, FILE *out);

bool query_flow(query *q, const fk_flow *f)
{
    if (q->window && (f->start_ns < q->win_start_ns || f->end_ns > q->win_end_ns))
        return false;
    if (q->filter && !fk_filter_match(q->filter, f))
        return false;
    q->flows++;
    q->packets += f->packets;
    q->bytes += f->bytes;
    if (f->start_ns < q->first_ns)
        q->first_ns = f->start_ns;
    if (f->end_ns > q->last_ns)
        q->last_ns = f->end_ns;
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
        print_flow_text(f, stdout);
        return false;
    }
    return true;
}

/* ---- output -------------------------------------------------------------- */

static const char *proto_name(uint8_t p, char *buf, size_t size)
{
    switch (p) {
    case 1:
        return "ICMP";
    case 6:
        return "TCP";
    case 17:
        return "UDP";
    case 58:
        return "ICMP6";
    case 47:
        return "GRE";
    case 50:
        return "ESP";
    case 132:
        return "SCTP";
    default:
        snprintf(buf, size, "%u", p);
        return buf;
    }
}

static void print_flow_text(const fk_flow *f, FILE *out)
{
    char ts[32] = "", src[FK_ADDR_STRLEN] = "", dst[FK_ADDR_STRLEN] = "", pb[8];
    fk_time_format(f->start_ns, ts, sizeof ts);
    fk_addr_format(&f->src, src, sizeof src);
    fk_addr_format(&f->dst, dst, sizeof dst);
    double dur = f->end_ns > f->start_ns ? (double)(f->end_ns - f->start_ns) / 1e9 : 0;
    fprintf(out, "%s %9.3f %-5s %39s:%-5u -> %39s:%-5u %12" PRIu64 " %15" PRIu64 "\n", ts, dur,
            proto_name(f->proto, pb, sizeof pb), src, f->src_port, dst, f->dst_port, f->packets,
            f->bytes);
}

static double pct(uint64_t part, uint64_t whole)
{
    return whole ? 100.0 * (double)part / (double)whole : 0.0;
}

/* The key's fields as JSON members (no braces) or text columns. */
static void key_json(FILE *out, unsigned mask, int either, const agg_key *k)
{
    char a[FK_ADDR_STRLEN];
    if (mask & AGG_SRCIP) {
        fk_addr_format(&k->src, a, sizeof a);
        fprintf(out, ",\"%s\":\"%s\"", either ? "addr" : "src_addr", a);
    }
    if (mask & AGG_DSTIP) {
        fk_addr_format(&k->dst, a, sizeof a);
        fprintf(out, ",\"dst_addr\":\"%s\"", a);
    }
    if (mask & AGG_SRCPORT)
        fprintf(out, ",\"%s\":%u", either ? "port" : "src_port", k->sport);
    if (mask & AGG_DSTPORT)
        fprintf(out, ",\"dst_port\":%u", k->dport);
    if (mask & AGG_PROTO)
        fprintf(out, ",\"proto\":%u", k->proto);
}

static void key_text(FILE *out, unsigned mask, const agg_key *k)
{
    char a[FK_ADDR_STRLEN], pb[8];
    if (mask & AGG_SRCIP) {
        fk_addr_format(&k->src, a, sizeof a);
        fprintf(out, " %39s", a);
    }
    if (mask & AGG_DSTIP) {
        fk_addr_format(&k->dst, a, sizeof a);
        fprintf(out, " %39s", a);
    }
    if (mask & AGG_SRCPORT)
        fprintf(out, " %5u", k->sport);
    if (mask & AGG_DSTPORT)
        fprintf(out, " %5u", k->dport);
    if (mask & AGG_PROTO)
        fprintf(out, " %-5s", proto_name(k->proto, pb, sizeof pb));
}

static void key_titles(FILE *out, unsigned mask, int either)
{
    if (mask & AGG_SRCIP)
        fprintf(out, " %39s", either ? "addr" : "src_addr");
    if (mask & AGG_DSTIP)
        fprintf(out, " %39s", "dst_addr");
    if (mask & AGG_SRCPORT)
        fprintf(out, " %5s", either ? "port" : "sport");
    if (mask & AGG_DSTPORT)
        fprintf(out, " %5s", "dport");
    if (mask & AGG_PROTO)
        fprintf(out, " %-5s", "proto");
}

static void times_json(FILE *out, const agg_entry *e)
{
    char s[32] = "", t[32] = "";
    fk_time_format(e->first_ns, s, sizeof s);
    fk_time_format(e->last_ns, t, sizeof t);
    fprintf(out, ",\"start\":\"%s\",\"end\":\"%s\"", s, t);
}

static void print_stat(query *q, const stat *st, agg_order order, FILE *out)
{
    agg_entry *rows = agg_sorted(&st->table, order);
    if (!rows && st->table.count) {
        q->oom = true;
        return;
    }
    size_t n = st->table.count;
    long limit = q->limit < 0 ? 10 : q->limit;
    if (limit > 0 && (size_t)limit < n)
        n = (size_t)limit;
    if (!q->json) {
        fprintf(out, "Top %zu %s ordered by %s:\n%-24s", n, st->def->name, order_names[order],
                "start");
        key_titles(out, st->table.mask, st->def->either);
        fprintf(out, " %12s %7s %14s %7s %18s %7s\n", "flows", "(%)", "packets", "(%)", "bytes",
                "(%)");
    }
    for (size_t i = 0; i < n; i++) {
        const agg_entry *e = &rows[i];
        if (q->json) {
            fprintf(out, "{\"type\":\"stat\",\"stat\":\"%s\",\"order\":\"%s\",\"rank\":%zu",
                    st->def->name, order_names[order], i + 1);
            key_json(out, st->table.mask, st->def->either, &e->key);
            fprintf(out,
                    ",\"flows\":%" PRIu64 ",\"packets\":%" PRIu64 ",\"bytes\":%" PRIu64
                    ",\"flows_pct\":%.2f,\"packets_pct\":%.2f,\"bytes_pct\":%.2f",
                    e->flows, e->packets, e->bytes, pct(e->flows, q->flows),
                    pct(e->packets, q->packets), pct(e->bytes, q->bytes));
            times_json(out, e);
            fputs("}\n", out);
        } else {
            char ts[32] = "";
            fk_time_format(e->first_ns, ts, sizeof ts);
            fprintf(out, "%-24s", ts);
            key_text(out, st->table.mask, &e->key);
            fprintf(out, " %12" PRIu64 " %7.1f %14" PRIu64 " %7.1f %18" PRIu64 " %7.1f\n", e->flows,
                    pct(e->flows, q->flows), e->packets, pct(e->packets, q->packets), e->bytes,
                    pct(e->bytes, q->bytes));
        }
    }
    if (!q->json)
        fputc('\n', out);
    free(rows);
}

static void print_aggregate(query *q, FILE *out)
{
    agg_entry *rows = agg_sorted(&q->agg, q->agg_order);
    if (!rows && q->agg.count) {
        q->oom = true;
        return;
    }
    size_t n = q->agg.count;
    if (q->limit > 0 && (size_t)q->limit < n)
        n = (size_t)q->limit;
    if (!q->json) {
        fprintf(out, "Aggregated flows (%zu of %zu) ordered by %s:\n%-24s %9s", n, q->agg.count,
                order_names[q->agg_order], "start", "duration");
        key_titles(out, q->agg.mask, 0);
        fprintf(out, " %8s %12s %15s\n", "flows", "packets", "bytes");
    }
    for (size_t i = 0; i < n; i++) {
        const agg_entry *e = &rows[i];
        if (q->json) {
            fputs("{\"type\":\"aggregate\"", out);
            key_json(out, q->agg.mask, 0, &e->key);
            fprintf(out, ",\"flows\":%" PRIu64 ",\"packets\":%" PRIu64 ",\"bytes\":%" PRIu64,
                    e->flows, e->packets, e->bytes);
            times_json(out, e);
            fputs("}\n", out);
        } else {
            char ts[32] = "";
            fk_time_format(e->first_ns, ts, sizeof ts);
            double dur = e->last_ns > e->first_ns ? (double)(e->last_ns - e->first_ns) / 1e9 : 0;
            fprintf(out, "%-24s %9.3f", ts, dur);
            key_text(out, q->agg.mask, &e->key);
            fprintf(out, " %8" PRIu64 " %12" PRIu64 " %15" PRIu64 "\n", e->flows, e->packets,
                    e->bytes);
        }
    }
    if (!q->json)
        fputc('\n', out);
    free(rows);
}

int query_finish(query *q, FILE *out)
{
    if (!q->nstats && !q->aggregate)
        return ferror(out) ? -1 : 0;
    if (q->aggregate)
        print_aggregate(q, out);
    for (int i = 0; i < q->nstats; i++)
        for (int j = 0; j < q->stats[i].norders; j++)
            print_stat(q, &q->stats[i], q->stats[i].orders[j], out);
    if (q->json)
        fprintf(out,
                "{\"type\":\"summary\",\"flows\":%" PRIu64 ",\"packets\":%" PRIu64
                ",\"bytes\":%" PRIu64 "}\n",
                q->flows, q->packets, q->bytes);
    else
        fprintf(out, "Summary: flows %" PRIu64 ", packets %" PRIu64 ", bytes %" PRIu64 "\n",
                q->flows, q->packets, q->bytes);
    if (q->oom) {
        fprintf(stderr, TOOL ": out of memory: statistics are incomplete\n");
        return -1;
    }
    return ferror(out) ? -1 : 0;
}
