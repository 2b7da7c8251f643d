/* GET /metrics: every collector, store, prefix statistics and HTTP counter in the Prometheus
 * text exposition format (version 0.0.4). Counters end in _total; values
 * that go up and down are gauges. */
#include <inttypes.h>
#include <stddef.h>

#include "http.h"

typedef struct metric {
    const char *name;
    size_t off;
    int gauge;
    const char *help;
} metric;

#define C(s, f, h)                                                                                 \
    {                                                                                              \
#f, offsetof(s, f), 0, h                                                                   \
    }
#define G(s, f, h)                                                                                 \
    {                                                                                              \
#f, offsetof(s, f), 1, h                                                                   \
    }

static const metric collector_metrics[] = {
    C(fk_collector_stats, datagrams, "UDP datagrams received"),
    C(fk_collector_stats, messages, "messages decoded"),
    C(fk_collector_stats, records, "flow records delivered"),
    C(fk_collector_stats, bytes, "bytes received from exporters"),
    C(fk_collector_stats, socket_drops, "datagrams the kernel dropped (SO_RXQ_OVFL)"),
    C(fk_collector_stats, queue_drops, "messages dropped on a full worker queue"),
    C(fk_collector_stats, malformed, "malformed messages"),
    C(fk_collector_stats, unsupported, "messages of unsupported versions"),
    C(fk_collector_stats, allowlist_rejected, "messages from exporters outside --allow"),
    C(fk_collector_stats, pending_sets, "data sets kept until their template arrived"),
    C(fk_collector_stats, pending_decoded, "kept data sets decoded later"),
    C(fk_collector_stats, pending_records, "records decoded from kept data sets"),
    C(fk_collector_stats, pending_expired, "kept data sets expired without template"),
    C(fk_collector_stats, pending_overflow, "data sets dropped because the keep buffer was full"),
    C(fk_collector_stats, sequence_gaps, "sequence discontinuities"),
    C(fk_collector_stats, sequence_lost, "records or packets missing by sequence"),
    C(fk_collector_stats, templates, "templates learnt"),
    C(fk_collector_stats, templates_withdrawn, "templates withdrawn"),
    C(fk_collector_stats, template_limit, "templates refused by the per-exporter cap"),
    C(fk_collector_stats, exporter_limit, "exporters refused by the session cap"),
    C(fk_collector_stats, options_records, "options data records"),
    C(fk_collector_stats, tcp_connections, "TCP connections accepted"),
    C(fk_collector_stats, tcp_refused, "TCP connections refused"),
    G(fk_collector_stats, sessions, "exporter sessions known now"),
    C(fk_collector_stats, sink_errors, "records an output could not write"),
    C(fk_collector_stats, db_rows_written, "rows a database output stored"),
    C(fk_collector_stats, db_rows_retried, "rows sent again after a failed insert"),
    C(fk_collector_stats, db_rows_dropped, "rows a database output gave up"),
    G(fk_collector_stats, db_rows_queued, "rows waiting in database output queues"),
    C(fk_collector_stats, export_time_skewed, "messages with a skewed export time"),
    C(fk_collector_stats, records_after_export, "records ending after their export time"),
    C(fk_collector_stats, exporter_restarts, "exporter restarts detected"),
    G(fk_collector_stats, interface_names, "interface names known"),
    C(fk_collector_stats, interface_limit, "interface names refused by the cap"),
    C(fk_collector_stats, udp_wakeups, "reads of UDP sockets that found datagrams"),
    C(fk_collector_stats, sender_unknown, "records dropped: their exporter is not a sender"),
    C(fk_collector_stats, sender_outside, "records dropped: outside their sender's prefixes"),
    C(fk_collector_stats, tags_rejected, "records whose metadata tags were left out as invalid"),
    C(fk_collector_stats, records_compiled,
      "records written to JSON lines straight from their bytes by a per-template writer"),
    C(fk_collector_stats, templates_uncompiled,
      "data templates the per-template JSON writer cannot express (their records take flows)"),
};

static const metric store_metrics[] = {
    C(fk_store_stats, flows_in, "records given to the store"),
    C(fk_store_stats, flows_kept, "records counted by the store"),
    C(fk_store_stats, events, "session events given to the store (ignored)"),
    C(fk_store_stats, filtered, "records outside the CIDR filter"),
    C(fk_store_stats, duplicates, "records dropped as another exporter's duplicate"),
    C(fk_store_stats, dedup_evictions, "live de-duplication entries overwritten"),
    G(fk_store_stats, flows_stored, "recent flows held"),
    C(fk_store_stats, flows_evicted, "recent flows dropped at max_flows"),
    C(fk_store_stats, flows_expired, "recent flows dropped by the retention"),
    C(fk_store_stats, late, "records older than a series or top-K span"),
    C(fk_store_stats, series_key_overflow, "records whose protocol or exporter had no series"),
    C(fk_store_stats, topk_evictions, "space-saving replacements"),
    G(fk_store_stats, ips, "addresses with per-IP state"),
    C(fk_store_stats, ips_evicted, "addresses evicted from per-IP state"),
    G(fk_store_stats, bad_ips, "sources tracked for the bad-IP rule"),
    C(fk_store_stats, bad_evicted, "sources evicted from bad-IP tracking"),
    C(fk_store_stats, attempts, "unanswered attempts counted"),
    G(fk_store_stats, udp_pending, "one-way UDP records waiting for a reverse"),
    C(fk_store_stats, udp_pending_dropped, "one-way UDP records dropped from a full wait table"),
    G(fk_store_stats, memory_bytes, "bytes the store allocated"),
};

static const metric prefixstats_metrics[] = {
    C(fk_prefixstats_stats, records, "records given to the prefix statistics"),
    C(fk_prefixstats_stats, accounted, "records counted for at least one prefix"),
    C(fk_prefixstats_stats, unmatched, "records of no sender prefix"),
    C(fk_prefixstats_stats, late, "additions older than their granularity's retention"),
    C(fk_prefixstats_stats, clamped, "records ahead of the clock counted at it"),
    G(fk_prefixstats_stats, prefixes, "(sender, prefix) pairs with statistics"),
    C(fk_prefixstats_stats, prefixes_evicted, "pairs evicted at max_prefixes"),
    C(fk_prefixstats_stats, prefixes_skipped, "prefix matches beyond 16 per record"),
    G(fk_prefixstats_stats, buckets, "buckets held"),
    C(fk_prefixstats_stats, buckets_expired, "buckets freed out of retention"),
    C(fk_prefixstats_stats, values_folded, "values folded into other at top_values"),
    G(fk_prefixstats_stats, memory_bytes, "bytes the prefix statistics hold"),
    G(fk_prefixstats_stats, memory_bound, "most bytes the parameters allow"),
};

#define A(f, g, h)                                                                                 \
    {                                                                                              \
#f, offsetof(fkc_http_stats, f), g, h                                                      \
    }
static const metric http_metrics[] = {
    A(requests, 0, "HTTP requests answered"),
    A(status_2xx, 0, "answers with a 2xx status"),
    A(status_3xx, 0, "answers with a 3xx status"),
    A(status_4xx, 0, "answers with a 4xx status"),
    A(status_5xx, 0, "answers with a 5xx status"),
    A(bad_requests, 0, "requests refused with 400 (bad parameters or body)"),
    A(unauthorized, 0, "requests refused with 401 (missing or wrong bearer token)"),
    A(not_found, 0, "requests for unknown paths or files (404)"),
    A(too_large, 0, "request bodies over the limit (413)"),
    A(feeds_refused, 0, "live feed clients refused at the cap (503)"),
    A(ingest_requests, 0, "POST /ingest requests"),
    A(ingest_flows, 0, "flows accepted by POST /ingest"),
    A(ingest_rejected, 0, "POST /ingest bodies refused"),
    A(feeds_active, 1, "live feed clients connected"),
    A(feed_flows, 0, "flows sent to live feed clients"),
    A(senders_requests, 0, "signed /senders requests served"),
    A(senders_unauthorized, 0, "/senders requests refused: missing or wrong signature"),
    A(prefix_stats_requests, 0, "signed POST /stats/SENDER requests served"),
    A(prefix_stats_unauthorized, 0, "/stats requests refused: missing or wrong signature"),
};

#define H(f, h)                                                                                    \
    {                                                                                              \
#f, offsetof(fkc_history_stats, f), 0, h                                                   \
    }
static const metric history_metrics[] = {
    H(queries, "API queries sent to ClickHouse (history beyond the store)"),
    H(ok, "ClickHouse history queries answered"),
    H(unreachable, "history queries that found ClickHouse unreachable (502)"),
    H(timeouts, "history queries without a complete answer within timeout_ms (504)"),
    H(refused, "history queries ClickHouse answered with an error (502)"),
    H(bad_answers, "malformed ClickHouse answers (502)"),
    H(too_large, "ClickHouse answers over max_bytes (502)"),
    H(busy, "history queries refused at max_queries (503)"),
};

static void emit(fkc_buf *b, const char *prefix, const metric *m, size_t n, const void *base,
                 int atomic)
{
    for (size_t i = 0; i < n; i++) {
        const char *suffix = m[i].gauge ? "" : "_total";
        uint64_t v = atomic ? atomic_load((const atomic_ullong *)((const char *)base + m[i].off))
                            : *(const uint64_t *)((const char *)base + m[i].off);
        fkc_buf_printf(b, "# HELP %s_%s%s %s.\n# TYPE %s_%s%s %s\n%s_%s%s %" PRIu64 "\n", prefix,
                       m[i].name, suffix, m[i].help, prefix, m[i].name, suffix,
                       m[i].gauge ? "gauge" : "counter", prefix, m[i].name, suffix, v);
    }
}

void fkc_metrics(const fkc_req *req, fkc_reply *rep)
{
    rep->status = 200;
    rep->type = "text/plain; version=0.0.4; charset=utf-8";
    fk_collector_stats cs;
    if (fkc_server_collector_stats(req->srv, &cs))
        emit(&rep->body, "flowkit_collector", collector_metrics,
             sizeof collector_metrics / sizeof collector_metrics[0], &cs, 0);
    fk_store_stats ss;
    fk_store_get_stats(req->store, &ss, sizeof ss);
    emit(&rep->body, "flowkit_store", store_metrics, sizeof store_metrics / sizeof store_metrics[0],
         &ss, 0);
    fk_prefixstats_stats ps;
    if (req->prefixstats && fk_prefixstats_get_stats(req->prefixstats, &ps, sizeof ps) == 0)
        emit(&rep->body, "flowkit_prefixstats", prefixstats_metrics,
             sizeof prefixstats_metrics / sizeof prefixstats_metrics[0], &ps, 0);
    emit(&rep->body, "flowkit_http", http_metrics, sizeof http_metrics / sizeof http_metrics[0],
         req->stats, 1);
    if (req->history)
        emit(&rep->body, "flowkit_http_history", history_metrics,
             sizeof history_metrics / sizeof history_metrics[0],
             fkc_history_get_stats(req->history), 1);
    fkc_buf_printf(&rep->body,
                   "# HELP flowkit_http_uptime_seconds Seconds since the server started.\n"
                   "# TYPE flowkit_http_uptime_seconds gauge\nflowkit_http_uptime_seconds %.3f\n",
                   fkc_server_uptime(req->srv));
}
