/* ClickHouse sink (sink_clickhouse.c): internal parts exposed for tests. */
#ifndef FK_COLLECTOR_SINK_CLICKHOUSE_H
#define FK_COLLECTOR_SINK_CLICKHOUSE_H

#include <flowkit/collector.h>
#include <flowkit/exporter.h>
#include <flowkit/flow.h>
#include <stddef.h>
#include <stdint.h>

#include "collector/internal.h"

/* Longest user, exe and interface name stored (longer ones are cut; the
 * collector's own caps, FK_FLOW_*_MAX, are smaller). */
#define FK__CH_USER_MAX 256
#define FK__CH_EXE_MAX 4096
#define FK__CH_IFNAME_MAX 256
/* Largest RowBinary row: fixed part plus the strings. */
#define FK__CH_ROW_MAX                                                                             \
    (172 + FK_PROCESS_NAME_MAX + FK__CH_USER_MAX + FK__CH_EXE_MAX + 2 * FK__CH_IFNAME_MAX +        \
     FK_EXPORTER_TAGS_MAX)

/* Column list in RowBinary order (for INSERT ... (cols) FORMAT RowBinary). */
extern const char fk__ch_columns[];

/* Encode one flow as a RowBinary row; returns its length or FK_ENOSPACE. */
int fk__ch_encode_row(const fk_flow *f, uint8_t *buf, size_t cap);

/* The i-th column appended to the first table layout ("name Type DEFAULT
 * ..."), NULL past the last: a table made by an older flowkit gets them. */
const char *fk__ch_added_column(size_t i);

/* "CREATE TABLE IF NOT EXISTS db.table (...) ENGINE = ..." into buf;
 * returns the length or FK_ENOSPACE. */
int fk__ch_create_sql(const char *db, const char *table, char *buf, size_t size);

typedef struct fk__ch_config {
    char host[256];
    char port[8];
    char db[64];
    char table[64];
    char user[64];
    char password[64];
    size_t batch_rows;  /* rows per INSERT */
    int64_t flush_ns;   /* a partial batch is sent after this long */
    size_t queue_rows;  /* rows held in memory (batches + the current one) */
    int64_t drain_ns;   /* at close, how long to keep trying */
    int64_t timeout_ns; /* connect / send / receive timeout per request */
    int create;         /* CREATE DATABASE/TABLE IF NOT EXISTS before inserting */
} fk__ch_config;

/* Parse "clickhouse://HOST:PORT/DB.TABLE[?batch_rows=N&flush_ms=N&queue_rows=N&
 * drain_ms=N&timeout_ms=N&create=0|1&user=U&password=P]". FK_EINVAL. */
int fk__ch_uri_parse(const char *uri, fk__ch_config *out);

typedef struct fk__ch_counters {
    uint64_t written;  /* rows ClickHouse acknowledged */
    uint64_t retried;  /* rows of failed attempts that were sent again */
    uint64_t dropped;  /* rows given up: queue full, refused batch, or exit */
    uint64_t queued;   /* rows held now */
    uint64_t failures; /* failed requests */
} fk__ch_counters;

extern const fk__sink_ops fk__sink_clickhouse_ops;
/* Attach the ClickHouse state for uri to k (k->path stays NULL). */
int fk__sink_clickhouse_priv(fk__sink *k, const char *uri);
void fk__sink_clickhouse_counters(const fk__sink *k, fk__ch_counters *out);
/* Add this sink's counters to the collector's stats. */
void fk__sink_clickhouse_stats(const fk__sink *k, fk_collector_stats *out);

#endif
