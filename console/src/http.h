/* Internal to the console server: what a request handler sees. server.c
 * routes a request through its table to a handler of api.c or metrics.c;
 * the handler fills a reply. Handlers may run on several threads at once
 * (one per connection): they use the store (thread-safe) and the server's
 * atomic counters only. */
#ifndef FKC_HTTP_H
#define FKC_HTTP_H

#include <flowkit/flowkit.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "buf.h"
#include "history.h"

/* Counters of the HTTP side, exported by /metrics. */
typedef struct fkc_http_stats {
    atomic_ullong requests, status_2xx, status_3xx, status_4xx, status_5xx;
    atomic_ullong bad_requests, unauthorized, not_found, too_large, feeds_refused;
    atomic_ullong ingest_requests, ingest_flows, ingest_rejected;
    atomic_ullong feeds_active, feed_flows;
    atomic_ullong senders_requests, senders_unauthorized;
    atomic_ullong prefix_stats_requests, prefix_stats_unauthorized;
} fkc_http_stats;

typedef struct fkc_server fkc_server;

typedef struct fkc_req {
    fkc_server *srv;
    fk_store *store;
    fk_senders *senders;         /* NULL: no registry */
    fk_prefixstats *prefixstats; /* NULL: no prefix statistics */
    fkc_http_stats *stats;
    void *conn; /* struct MHD_Connection */
    const char *method, *path;
    const char *body;
    size_t body_len;
    fkc_history *history; /* NULL: no ClickHouse history */
} fkc_req;

typedef struct fkc_reply {
    int status;
    const char *type; /* Content-Type */
    fkc_buf body;
} fkc_reply;

typedef void (*fkc_handler)(const fkc_req *req, fkc_reply *rep);

/* A query parameter, or NULL. */
const char *fkc_arg(const fkc_req *req, const char *name);
/* Reply {"error": msg} with a 4xx/5xx status (counted by the server). */
void fkc_reply_error(fkc_reply *rep, int status, const char *msg);
/* The collector counters last handed to the server (see server.h). */
bool fkc_server_collector_stats(fkc_server *srv, fk_collector_stats *out);
/* Seconds since the server started. */
double fkc_server_uptime(const fkc_server *srv);
/* Most records one POST /ingest takes. */
size_t fkc_server_max_records(const fkc_server *srv);

/* api.c */
void fkc_api_healthz(const fkc_req *req, fkc_reply *rep);
void fkc_api_top(const fkc_req *req, fkc_reply *rep);
void fkc_api_series(const fkc_req *req, fkc_reply *rep);
void fkc_api_ips(const fkc_req *req, fkc_reply *rep);
void fkc_api_ip(const fkc_req *req, fkc_reply *rep);
void fkc_api_ip_peers(const fkc_req *req, fkc_reply *rep);
void fkc_api_ip_protocols(const fkc_req *req, fkc_reply *rep);
void fkc_api_ip_series(const fkc_req *req, fkc_reply *rep);
void fkc_api_flows(const fkc_req *req, fkc_reply *rep);
void fkc_api_sessions(const fkc_req *req, fkc_reply *rep);
void fkc_api_bad(const fkc_req *req, fkc_reply *rep);
void fkc_api_stats(const fkc_req *req, fkc_reply *rep);
void fkc_api_ingest(const fkc_req *req, fkc_reply *rep);
/* senders_api.c */
void fkc_api_senders(const fkc_req *req, fkc_reply *rep);
/* stats_api.c */
void fkc_api_prefix_stats(const fkc_req *req, fkc_reply *rep);
/* metrics.c */
void fkc_metrics(const fkc_req *req, fkc_reply *rep);

#endif
