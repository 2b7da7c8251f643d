/* History beyond the store: queries of the JSON API whose window is older
 * than what the live store holds go to ClickHouse, over its HTTP
 * interface (as the clickhouse:// output writes to it), so several
 * collectors writing one table (or a Distributed table) share one view.
 *
 * history.c: the client. One short HTTP/1.0 request per query, bounded
 * by a deadline (connect + send + answer), an answer size cap and a cap
 * on queries at once; every failure is an HTTP status for the API's
 * caller (502 unreachable / refused / bad answer, 503 busy, 504 timeout)
 * and a counter. It runs on the HTTP connection's thread and never
 * touches the collector's.
 * history_api.c: which source answers, and the answers of /api/v1/top,
 * /series and /flows built from ClickHouse rows. */
#ifndef FKC_HISTORY_H
#define FKC_HISTORY_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

typedef struct fkc_history fkc_history;

/* Counters, exported by /metrics as flowkit_http_history_*. */
typedef struct fkc_history_stats {
    atomic_ullong queries;     /* sent to ClickHouse */
    atomic_ullong ok;          /* answered 200 and parsed */
    atomic_ullong unreachable; /* no connection (502) */
    atomic_ullong timeouts;    /* no complete answer within timeout_ms (504) */
    atomic_ullong refused;     /* ClickHouse answered an error (502) */
    atomic_ullong bad_answers; /* malformed answer (502) */
    atomic_ullong too_large;   /* answer beyond max_bytes (502) */
    atomic_ullong busy;        /* max_queries already running (503) */
} fkc_history_stats;

/* "clickhouse://HOST:PORT/DB.TABLE[?timeout_ms=N&max_bytes=N&max_queries=N&
 * user=U&password=P]"; the clickhouse:// output's own options (batch_rows,
 * flush_ms, queue_rows, drain_ms, create) are accepted and ignored, so an
 * -o URI can be reused as it stands. -1 with a message on a bad URI. */
int fkc_history_create(fkc_history **out, const char *uri, char *err, size_t errsize);
void fkc_history_destroy(fkc_history *h);
/* "DB.TABLE" (checked: letters, digits and '_' only). */
const char *fkc_history_table(const fkc_history *h);
/* The counters (live, atomic). */
fkc_history_stats *fkc_history_get_stats(fkc_history *h);

/* The TabSeparated answer of a query: body[0..len) inside a buffer the
 * caller frees with fkc_history_result_free(). */
typedef struct fkc_history_result {
    char *buf;
    char *body;
    size_t len;
} fkc_history_result;

/* Run sql (without FORMAT: TabSeparated is added). 0 with the rows in
 * *out; else the HTTP status the API answers (502, 503, 504), with a
 * message in err. */
int fkc_history_query(fkc_history *h, const char *sql, fkc_history_result *out, char *err,
                      size_t errsize);
void fkc_history_result_free(fkc_history_result *r);

#endif
