/* flowkit-ipfix's query: the state shared by query.c (options, the per-flow
 * stage) and query_print.c (the tables and rows query_finish() prints).
 * Private to the tool. */
#ifndef FLOWKIT_IPFIX_QUERY_INT_H
#define FLOWKIT_IPFIX_QUERY_INT_H

#include "aggsmall.h"
#include "aggtable.h"
#include "query.h"

#include <stdint.h>

#define TOOL "flowkit-ipfix"
#define MAX_STATS 16
#define MAX_ORDERS 4

typedef struct stat_def {
    const char *name; /* as given to -s */
    unsigned mask;
    int either; /* ip, port: each flow counts for both ends */
} stat_def;

/* Names of agg_order values, as -s and -O take them. */
extern const char *const query_order_names[];

typedef struct stat {
    const stat_def *def;
    agg_order orders[MAX_ORDERS];
    int norders;
    aggtable table;
    aggsmall small[2]; /* keys the fast path packs (fastq_plan.c), beside
                        * table: IPv4 or none, IPv6 */
} stat;

struct query {
    fk_filter *filter;    /* NULL: every flow */
    int filter_const;     /* a filter that reads nothing: its value (0, 1); else -1 */
    int64_t win_start_ns; /* -t; INT64_MIN / INT64_MAX when open */
    int64_t win_end_ns;
    bool window;
    stat stats[MAX_STATS];
    int nstats;
    bool aggregate;
    aggtable agg;                   /* -A */
    aggsmall aggs[2];               /* -A: keys the fast path packs */
    agg_order agg_order;            /* -O */
    long limit;                     /* -n; -1: default */
    bool json;                      /* -o json */
    bool csv;                       /* -o csv */
    bool text;                      /* -o text given */
    bool csv_header_done;           /* -o csv without -s/-A: the header row is out */
    uint64_t flows, packets, bytes; /* totals of the flows that passed */
    bool oom;
};

/* Print one flow as a text line (-o text) or a CSV row (-o csv) on out. */
void query_print_flow_text(const fk_flow *f, FILE *out);
void query_print_flow_csv(query *q, const fk_flow *f, FILE *out);

#endif
