/* The console's HTTP server (libmicrohttpd, one thread per connection):
 * routes requests to the JSON API over a live flow store, /metrics,
 * /healthz, POST /ingest, the live feed (Server-Sent Events) and the
 * console's static pages. Public flowkit API only. */
#ifndef FKC_SERVER_H
#define FKC_SERVER_H

#include <flowkit/flowkit.h>
#include <stddef.h>

typedef struct fkc_server fkc_server;

typedef struct fkc_server_config {
    const char *listen;     /* "PORT", "ADDR:PORT" or "[ADDR6]:PORT"; bare port = 127.0.0.1 */
    const char *token_file; /* bearer token file, or NULL; required off loopback */
    const char *www_dir;    /* the console's pages */
    const char *js_dir;     /* Debian's /usr/share/javascript (Chart.js) */
    size_t max_body;        /* largest request body, bytes */
    unsigned max_conns;     /* connections at once */
    unsigned max_feeds;     /* live feed clients at once */
    size_t max_records;     /* records per POST /ingest */
    fk_senders *senders;    /* the collector's senders registry, or NULL */
    const char *senders_keys_file; /* "auth = KEY" and "sign = KEY": /senders on, or NULL */
    const char *history_uri;       /* clickhouse://HOST:PORT/DB.TABLE (history.h), or NULL */
} fkc_server_config;

/* Start serving; on failure return -1 with a message in err. */
int fkc_server_start(fkc_server **out, const fkc_server_config *cfg, fk_store *store, char *err,
                     size_t errsize);
/* The address the server listens on, "http://127.0.0.1:8080/". */
const char *fkc_server_url(const fkc_server *s);
/* Hand over the collector's counters for /metrics (from the thread that
 * owns the collector; the server keeps a copy under a lock). */
void fkc_server_set_collector_stats(fkc_server *s, const fk_collector_stats *st);
/* Answer POST /stats/SENDER from these prefix statistics (activated;
 * borrowed until the server stops), or stop (NULL). Any thread. */
void fkc_server_set_prefixstats(fkc_server *s, fk_prefixstats *ps);
/* Stop serving (live feeds end within a fraction of a second) and free. */
void fkc_server_stop(fkc_server *s);

#endif
