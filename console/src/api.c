/* The JSON API over the live flow store (docs/console.md lists every
 * endpoint). Each handler validates its query parameters and answers 400
 * with a message naming the bad one. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api_json.h"
#include "args.h"
#include "history_api.h"
#include "http.h"
#include "ingest.h"

#define NS INT64_C(1000000000)
#define MAX_LIMIT 10000

/* Optional integer parameter; false (and a 400) when present but bad. */
static bool arg_int(const fkc_req *req, fkc_reply *rep, const char *name, int64_t min, int64_t max,
                    int64_t *out)
{
    const char *v = fkc_arg(req, name);
    if (!v)
        return true;
    if (fkc_parse_int(v, min, max, out) == 0)
        return true;
    char msg[128];
    snprintf(msg, sizeof msg, "parameter \"%s\" must be an integer in [%lld, %lld]", name,
             (long long)min, (long long)max);
    fkc_reply_error(rep, 400, msg);
    return false;
}

static bool arg_time(const fkc_req *req, fkc_reply *rep, const char *name, int64_t *out)
{
    const char *v = fkc_arg(req, name);
    if (!v)
        return true;
    if (fkc_parse_time(v, out) == 0)
        return true;
    char msg[128];
    snprintf(msg, sizeof msg, "parameter \"%s\" must be RFC 3339 or Unix seconds", name);
    fkc_reply_error(rep, 400, msg);
    return false;
}

static bool arg_addr(const fkc_req *req, fkc_reply *rep, const char *name, fk_addr *out,
                     bool required)
{
    const char *v = fkc_arg(req, name);
    memset(out, 0, sizeof *out);
    char msg[128];
    if (!v) {
        if (!required)
            return true;
        snprintf(msg, sizeof msg, "parameter \"%s\" (an address) is required", name);
    } else if (fk_addr_parse(v, out) == 0) {
        return true;
    } else {
        snprintf(msg, sizeof msg, "parameter \"%s\" is not an IPv4 or IPv6 address", name);
    }
    fkc_reply_error(rep, 400, msg);
    return false;
}

static bool arg_proto(const fkc_req *req, fkc_reply *rep, const char *name, int *out)
{
    const char *v = fkc_arg(req, name);
    if (!v)
        return true;
    if (fkc_parse_proto(v, out) == 0)
        return true;
    fkc_reply_error(rep, 400, "parameter \"proto\" must be 0..255 or tcp, udp, icmp, ...");
    return false;
}

void fkc_api_healthz(const fkc_req *req, fkc_reply *rep)
{
    fk_store_stats st;
    fk_store_get_stats(req->store, &st, sizeof st);
    fkc_begin(rep, req);
    fkc_buf_printf(&rep->body, ",\"status\":\"ok\",\"uptime\":%.3f,\"flows\":%" PRIu64 "}",
                   fkc_server_uptime(req->srv), st.flows_kept);
}

/* Where the store's view of span_ns starts holding everything: its clock
 * minus the span, but not before its first flow; INT64_MAX when it holds
 * nothing yet. */
static int64_t covered_from(const fkc_req *req, int64_t span_ns, bool recent)
{
    fk_store_stats st;
    fk_store_get_stats(req->store, &st, sizeof st);
    if (!st.first_ns)
        return INT64_MAX;
    int64_t c = fk_store_get_now(req->store) - span_ns;
    if (st.first_ns > c)
        c = st.first_ns;
    if (recent && st.flows_stored && st.oldest_flow_ns > c)
        c = st.oldest_flow_ns;
    return c;
}

static int64_t store_param(const fkc_req *req, int param)
{
    int64_t v = 0;
    fk_store_get_int(req->store, param, &v);
    return v;
}

void fkc_api_top(const fkc_req *req, fkc_reply *rep)
{
    int dim = FK_STORE_DIM_SRC;
    int64_t window = 900, limit = 10;
    const char *by = fkc_arg(req, "by"), *w = fkc_arg(req, "window");
    if (by && fkc_parse_dim(by, &dim) != 0) {
        fkc_reply_error(rep, 400,
                        "parameter \"by\" must be src, dst, pair, port, proto, "
                        "exporter or process");
        return;
    }
    if (w && fkc_parse_duration(w, 1, 7 * 86400, &window) != 0) {
        fkc_reply_error(rep, 400,
                        "parameter \"window\" must be a duration such as 900, "
                        "15m, 1h or 8h");
        return;
    }
    int64_t now = fk_store_get_now(req->store), since = 0, until = 0;
    if (!arg_int(req, rep, "limit", 1, MAX_LIMIT, &limit) || !arg_time(req, rep, "since", &since) ||
        !arg_time(req, rep, "until", &until))
        return;
    /* since/until: an absolute window; the store answers only windows
     * that end now (its clock), as "the last N seconds". */
    bool absolute = since || until;
    if (!until)
        until = now + 1;
    if (!since)
        since = until - window * NS;
    if (until <= since) {
        fkc_reply_error(rep, 400, "\"until\" must be after \"since\"");
        return;
    }
    bool store_can = !absolute || until > now;
    int src = fkc_history_source(
        req, rep, since, covered_from(req, store_param(req, FK_STORE_TOPK_SPAN_SEC) * NS, false),
        store_can);
    if (src == FKC_SOURCE_ANSWERED)
        return;
    if (src == FKC_SOURCE_CLICKHOUSE) {
        fkc_history_top(req, rep, dim, since, until, (size_t)limit);
        return;
    }
    if (absolute)
        window = (now - since + NS - 1) / NS;
    if (window < 1)
        window = 1;
    fk_store_row *rows = calloc((size_t)limit, sizeof *rows);
    size_t n = 0;
    if (!rows || fk_store_get_top(req->store, dim, window, rows, (size_t)limit, &n) != 0) {
        free(rows);
        {
            fkc_reply_error(rep, 503, "out of memory");
            return;
        }
    }
    fkc_begin(rep, req);
    fkc_buf_printf(&rep->body, ",\"source\":\"store\",\"by\":\"%s\",\"window\":%lld",
                   fkc_dim_name(dim), (long long)window);
    fkc_put_rows(&rep->body, dim, rows, n);
    free(rows);
}

void fkc_api_series(const fkc_req *req, fkc_reply *rep)
{
    int64_t now = fk_store_get_now(req->store);
    int64_t until = now + 1, since = now - 3600 * NS, step = 0;
    fk_store_key key;
    memset(&key, 0, sizeof key);
    int kind = FK_STORE_SERIES_TOTAL, proto = -1;
    if (!arg_time(req, rep, "since", &since) || !arg_time(req, rep, "until", &until) ||
        !arg_int(req, rep, "step", 1, 86400, &step) || !arg_proto(req, rep, "proto", &proto) ||
        !arg_addr(req, rep, "exporter", &key.addr, false))
        return;
    if (proto >= 0) {
        kind = FK_STORE_SERIES_PROTO;
        key.proto = (uint8_t)proto;
    } else if (key.addr.family) {
        kind = FK_STORE_SERIES_EXPORTER;
    }
    if (until <= since) {
        fkc_reply_error(rep, 400, "\"until\" must be after \"since\"");
        return;
    }
    int64_t base;
    fk_store_get_int(req->store, FK_STORE_SERIES_STEP_SEC, &base);
    if (step < base)
        step = base;
    if ((until - since) / (step * NS) > 20000) {
        fkc_reply_error(rep, 400, "more than 20000 points: use a larger \"step\"");
        return;
    }
    int64_t span =
        store_param(req, FK_STORE_SERIES_STEP_SEC) * store_param(req, FK_STORE_SERIES_BUCKETS) * NS;
    int src = fkc_history_source(req, rep, since, covered_from(req, span, false), true);
    if (src == FKC_SOURCE_ANSWERED)
        return;
    if (src == FKC_SOURCE_CLICKHOUSE) {
        fkc_history_series(req, rep, kind, &key, since, until,
                           (step + base - 1) / base * base * NS);
        return;
    }
    size_t cap = (size_t)((until - since) / (step * NS)) + 2, n = 0;
    fk_store_point *p = calloc(cap, sizeof *p);
    if (!p) {
        fkc_reply_error(rep, 503, "out of memory");
        return;
    }
    int rc = fk_store_get_series(req->store, kind, kind ? &key : NULL, since, until, step * NS, p,
                                 cap, &n);
    if (rc == FK_ENOTFOUND)
        n = 0; /* nothing seen for that key: an empty series */
    fkc_begin(rep, req);
    fkc_buf_printf(&rep->body, ",\"source\":\"store\",\"step\":%lld", (long long)step);
    if (kind == FK_STORE_SERIES_PROTO)
        fkc_buf_printf(&rep->body, ",\"proto\":%d", proto);
    if (kind == FK_STORE_SERIES_EXPORTER) {
        fkc_buf_puts(&rep->body, ",");
        fkc_put_addr(&rep->body, "exporter", &key.addr);
    }
    fkc_put_points(&rep->body, p, n);
    free(p);
}

static void put_ip_info(fkc_buf *b, const fk_store_ip_info *i)
{
    fkc_put_addr(b, "addr", &i->addr);
    fkc_buf_printf(
        b,
        ",\"bytes_out\":%" PRIu64 ",\"bytes_in\":%" PRIu64 ",\"packets_out\":%" PRIu64
        ",\"packets_in\":%" PRIu64 ",\"flows_src\":%" PRIu64 ",\"flows_dst\":%" PRIu64 ",",
        i->bytes_out, i->bytes_in, i->packets_out, i->packets_in, i->flows_src, i->flows_dst);
    fkc_put_time(b, "first", i->first_ns);
    fkc_buf_puts(b, ",");
    fkc_put_time(b, "last", i->last_ns);
}

void fkc_api_ips(const fkc_req *req, fkc_reply *rep)
{
    int64_t limit = 100;
    if (!arg_int(req, rep, "limit", 1, MAX_LIMIT, &limit))
        return;
    fk_store_ip_info *v = calloc((size_t)limit, sizeof *v);
    size_t n = 0;
    if (!v || fk_store_get_ips(req->store, v, (size_t)limit, &n) != 0) {
        free(v);
        {
            fkc_reply_error(rep, 503, "out of memory");
            return;
        }
    }
    fkc_begin(rep, req);
    fkc_buf_puts(&rep->body, ",\"ips\":[");
    for (size_t i = 0; i < n; i++) {
        fkc_buf_puts(&rep->body, i ? ",{" : "{");
        put_ip_info(&rep->body, &v[i]);
        fkc_buf_puts(&rep->body, "}");
    }
    fkc_buf_puts(&rep->body, "]}");
    free(v);
}

void fkc_api_ip(const fkc_req *req, fkc_reply *rep)
{
    fk_addr a;
    if (!arg_addr(req, rep, "addr", &a, true))
        return;
    fk_store_ip_info info;
    if (fk_store_get_ip(req->store, &a, &info) != 0) {
        fkc_reply_error(rep, 404, "no state for that address (never seen, or evicted)");
        return;
    }
    fkc_begin(rep, req);
    fkc_buf_puts(&rep->body, ",");
    put_ip_info(&rep->body, &info);
    fkc_buf_puts(&rep->body, "}");
}

static void ip_rows(const fkc_req *req, fkc_reply *rep, bool peers)
{
    fk_addr a;
    if (!arg_addr(req, rep, "addr", &a, true))
        return;
    size_t cap = 4096, n = 0; /* the largest ip_peers; ip_protocols is at most 256 */
    fk_store_row *rows = calloc(cap, sizeof *rows);
    if (!rows) {
        fkc_reply_error(rep, 503, "out of memory");
        return;
    }
    int rc = peers ? fk_store_get_ip_peers(req->store, &a, rows, cap, &n)
                   : fk_store_get_ip_protocols(req->store, &a, rows, cap, &n);
    if (rc != 0) {
        free(rows);
        {
            fkc_reply_error(rep, 404, "no state for that address (never seen, or evicted)");
            return;
        }
    }
    fkc_begin(rep, req);
    fkc_buf_puts(&rep->body, ",");
    fkc_put_addr(&rep->body, "addr", &a);
    if (peers)
        for (size_t i = 0; i < n; i++)
            rows[i].key.addr = rows[i].key.peer;
    fkc_put_rows(&rep->body, peers ? FK_STORE_DIM_SRC : FK_STORE_DIM_PROTO, rows, n);
    free(rows);
}

void fkc_api_ip_peers(const fkc_req *req, fkc_reply *rep)
{
    ip_rows(req, rep, true);
}

void fkc_api_ip_protocols(const fkc_req *req, fkc_reply *rep)
{
    ip_rows(req, rep, false);
}

void fkc_api_ip_series(const fkc_req *req, fkc_reply *rep)
{
    fk_addr a;
    if (!arg_addr(req, rep, "addr", &a, true))
        return;
    int64_t nb, step;
    fk_store_get_int(req->store, FK_STORE_IP_SERIES_BUCKETS, &nb);
    fk_store_get_int(req->store, FK_STORE_IP_SERIES_STEP_SEC, &step);
    fk_store_point *p = calloc((size_t)nb, sizeof *p);
    size_t n = 0;
    if (!p) {
        fkc_reply_error(rep, 503, "out of memory");
        return;
    }
    if (fk_store_get_ip_series(req->store, &a, p, (size_t)nb, &n) != 0) {
        free(p);
        {
            fkc_reply_error(rep, 404, "no state for that address (never seen, or evicted)");
            return;
        }
    }
    fkc_begin(rep, req);
    fkc_buf_printf(&rep->body, ",\"step\":%lld,", (long long)step);
    fkc_put_addr(&rep->body, "addr", &a);
    fkc_put_points(&rep->body, p, n);
    free(p);
}

static void search(const fkc_req *req, fkc_reply *rep, fk_store_query *q, int64_t limit)
{
    fk_flow *f = calloc((size_t)limit, sizeof *f);
    size_t n = 0;
    if (!f || fk_store_search(req->store, q, f, (size_t)limit, &n) != 0) {
        free(f);
        {
            fkc_reply_error(rep, 503, "out of memory");
            return;
        }
    }
    fkc_begin(rep, req);
    fkc_buf_printf(&rep->body, ",\"source\":\"store\",\"count\":%zu", n);
    fkc_put_flows(&rep->body, f, n);
    free(f);
}

void fkc_api_flows(const fkc_req *req, fkc_reply *rep)
{
    fk_store_query q;
    memset(&q, 0, sizeof q);
    int64_t port = 0, sport = 0, dport = 0, limit = 100;
    q.proto = -1;
    if (!arg_addr(req, rep, "addr", &q.addr, false) || !arg_addr(req, rep, "src", &q.src, false) ||
        !arg_addr(req, rep, "dst", &q.dst, false) ||
        !arg_addr(req, rep, "exporter", &q.exporter, false) ||
        !arg_int(req, rep, "port", 0, 65535, &port) ||
        !arg_int(req, rep, "src_port", 0, 65535, &sport) ||
        !arg_int(req, rep, "dst_port", 0, 65535, &dport) ||
        !arg_proto(req, rep, "proto", &q.proto) || !arg_time(req, rep, "since", &q.since_ns) ||
        !arg_time(req, rep, "until", &q.until_ns) ||
        !arg_int(req, rep, "limit", 1, MAX_LIMIT, &limit))
        return;
    q.port = (int)port;
    q.src_port = (int)sport;
    q.dst_port = (int)dport;
    /* without "since": the recent flows, from the store */
    int src = fkc_history_source(
        req, rep, q.since_ns,
        q.since_ns ? covered_from(req, store_param(req, FK_STORE_RETENTION_SEC) * NS, true) : 0,
        true);
    if (src == FKC_SOURCE_CLICKHOUSE)
        fkc_history_flows(req, rep, &q, (size_t)limit);
    else if (src == FKC_SOURCE_STORE)
        search(req, rep, &q, limit);
}

void fkc_api_sessions(const fkc_req *req, fkc_reply *rep)
{
    int64_t seconds = 60, limit = 200;
    if (!arg_int(req, rep, "seconds", 1, 86400, &seconds) ||
        !arg_int(req, rep, "limit", 1, MAX_LIMIT, &limit))
        return;
    fk_store_query q;
    memset(&q, 0, sizeof q);
    q.since_ns = fk_store_get_now(req->store) - seconds * NS;
    fk_store_stats st;
    fk_store_get_stats(req->store, &st, sizeof st);
    search(req, rep, &q, limit);
    /* the live feed continues after this sequence (store.h: = flows_kept) */
    if (rep->status == 200 && rep->body.len > 1) {
        rep->body.len--; /* reopen the object */
        fkc_buf_printf(&rep->body, ",\"seq\":%" PRIu64 "}", st.flows_kept);
    }
}

void fkc_api_bad(const fkc_req *req, fkc_reply *rep)
{
    int64_t limit = 100;
    if (!arg_int(req, rep, "limit", 1, MAX_LIMIT, &limit))
        return;
    fk_store_bad_ip *v = calloc((size_t)limit, sizeof *v);
    size_t n = 0;
    if (!v || fk_store_get_bad_ips(req->store, v, (size_t)limit, &n) != 0) {
        free(v);
        {
            fkc_reply_error(rep, 503, "out of memory");
            return;
        }
    }
    int64_t threshold, window;
    fk_store_get_int(req->store, FK_STORE_BAD_THRESHOLD, &threshold);
    fk_store_get_int(req->store, FK_STORE_BAD_WINDOW_SEC, &window);
    fkc_begin(rep, req);
    fkc_buf_printf(&rep->body, ",\"threshold\":%lld,\"window\":%lld,\"ips\":[",
                   (long long)threshold, (long long)window);
    for (size_t i = 0; i < n; i++) {
        fkc_buf_puts(&rep->body, i ? ",{" : "{");
        fkc_put_addr(&rep->body, "addr", &v[i].addr);
        fkc_buf_printf(&rep->body,
                       ",\"attempts\":%" PRIu64 ",\"tcp_attempts\":%" PRIu64
                       ",\"udp_attempts\":%" PRIu64 ",",
                       v[i].attempts, v[i].tcp_attempts, v[i].udp_attempts);
        fkc_put_addr(&rep->body, "last_dst", &v[i].last_dst);
        fkc_buf_printf(&rep->body, ",\"last_port\":%u,", v[i].last_port);
        fkc_put_time(&rep->body, "first", v[i].first_ns);
        fkc_buf_puts(&rep->body, ",");
        fkc_put_time(&rep->body, "last", v[i].last_ns);
        fkc_buf_puts(&rep->body, "}");
    }
    fkc_buf_puts(&rep->body, "]}");
    free(v);
}

void fkc_api_stats(const fkc_req *req, fkc_reply *rep)
{
    fk_store_stats s;
    fk_store_get_stats(req->store, &s, sizeof s);
    fkc_begin(rep, req);
    fkc_buf_printf(&rep->body,
                   ",\"flows_in\":%" PRIu64 ",\"flows_kept\":%" PRIu64 ",\"flows_stored\":%" PRIu64
                   ",\"ips\":%" PRIu64 ",\"bad_ips\":%" PRIu64 ",\"memory_bytes\":%" PRIu64 "}",
                   s.flows_in, s.flows_kept, s.flows_stored, s.ips, s.bad_ips, s.memory_bytes);
}

static void ingest_one(const fk_flow *f, void *user)
{
    const fkc_req *req = user;
    fk_store_add_flow(req->store, f);
}

void fkc_api_ingest(const fkc_req *req, fkc_reply *rep)
{
    char err[160];
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t now = (int64_t)ts.tv_sec * NS + ts.tv_nsec;
    atomic_fetch_add(&req->stats->ingest_requests, 1);
    long n = fkc_ingest_parse(req->body, req->body_len, now, fkc_server_max_records(req->srv),
                              ingest_one, (void *)req, err, sizeof err);
    if (n < 0) {
        atomic_fetch_add(&req->stats->ingest_rejected, 1);
        {
            fkc_reply_error(rep, 400, err);
            return;
        }
    }
    atomic_fetch_add(&req->stats->ingest_flows, (unsigned long long)n);
    rep->status = 200;
    rep->type = "application/json";
    fkc_buf_printf(&rep->body, "{\"accepted\":%ld}", n);
}
