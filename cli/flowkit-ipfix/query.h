/* flowkit-ipfix's nfdump-style query stage: which decoded flows count
 * (filter, time window) and what is printed instead of each flow
 * (statistics, aggregation, top-N). main.c decodes; every flow record goes
 * through query_flow(); query_finish() prints what was accumulated. Memory
 * grows with the number of distinct keys, never with the number of records.
 * Public API only. */
#ifndef FLOWKIT_IPFIX_QUERY_H
#define FLOWKIT_IPFIX_QUERY_H

#include <flowkit/flowkit.h>
#include <stdbool.h>
#include <stdio.h>

typedef struct query query;

/* A new query that passes every flow through; NULL when out of memory. */
query *query_create(void);
void query_destroy(query *q);

/* Each setter returns 0, or -1 after a message on stderr (a usage error). */

/* The filter, nfdump syntax. */
int query_set_filter(query *q, const char *expr);
/* -t: nfdump's time window YYYY/MM/dd.hh:mm:ss[-YYYY/MM/dd.hh:mm:ss], any
 * trailing parts omitted, UTC: flows that start and end inside it. */
int query_set_window(query *q, const char *text);
/* -s STAT[/ORDER...]: a statistic (srcip dstip ip srcport dstport port proto
 * record) ordered by flows (default), packets or bytes; repeatable. */
int query_add_stat(query *q, const char *text);
/* -A KEY,KEY...: aggregate flows on these keys (srcip dstip srcport dstport proto). */
int query_set_aggregate(query *q, const char *text);
/* -O ORDER: order of aggregated records (flows packets bytes tstart tend). */
int query_set_order(query *q, const char *text);
/* -n N: lines per statistic (default 10) or aggregated records (default all); 0 = all. */
int query_set_limit(query *q, const char *text);
/* -o text|json: output of statistics and aggregation (default text). */
int query_set_output(query *q, const char *text);

/* Dispatch a command-line option to the setter above: f filter, t window,
 * s stat, A aggregate, O order, n limit, o output. */
int query_option(query *q, int opt, const char *arg);

/* true when anything beyond "print every flow" was asked (filter, window,
 * statistics, aggregation): then only flows go through query_flow(). */
bool query_active(const query *q);

/* true when statistics or aggregation were asked: the query prints only
 * tables, after every flow went in. */
bool query_has_tables(const query *q);

/* The flow members the query reads, as FK_FILTER_READS_* bits (filter,
 * keys, counters and times), FK_FILTER_READS_ADDRS split into the two
 * below: with -s or -A, a reader may leave the others as they are. */
#define QUERY_NEEDS_SRC 0x10000u /* src */
#define QUERY_NEEDS_DST 0x20000u /* dst */
unsigned query_get_needs(const query *q);

/* The flow members the query reads without its filter (tables, window,
 * totals): what a reader that decides the filter itself must still fill. */
unsigned query_get_needs_unfiltered(const query *q);

/* The filter, NULL when there is none or it is the same for every flow
 * (then query_flow() applies it): a reader may compile it for its records
 * (fk_filter_raw_compile) and give query_flow_passed() only the flows it
 * passes. Borrowed: lives as long as q. */
const fk_filter *query_get_filter(const query *q);

/* Forget every flow taken in (totals, statistics, aggregation); the
 * options stay. */
void query_reset(query *q);

/* One decoded flow: true when the caller should print it as usual; false
 * when it is filtered out or taken in by statistics / aggregation. */
bool query_flow(query *q, const fk_flow *f);

/* query_flow() of a flow the reader found to pass the filter (an
 * fk_filter_raw compiled from query_get_filter() said so): the time window
 * and everything after the filter apply. */
bool query_flow_passed(query *q, const fk_flow *f);

/* Print what statistics / aggregation accumulated. 0, or -1 when out of
 * memory or on a write error. */
int query_finish(query *q, FILE *out);

#endif
