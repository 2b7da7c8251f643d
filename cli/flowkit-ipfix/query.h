/* flowkit-ipfix's nfdump-style query stage: which decoded flows are printed
 * (filter, time window) and what is printed instead of them (statistics,
 * aggregation, top-N). main.c decodes; every flow record goes through
 * query_flow(); query_finish() prints what was accumulated. Public API only. */
#ifndef FLOWKIT_IPFIX_QUERY_H
#define FLOWKIT_IPFIX_QUERY_H

#include <flowkit/flowkit.h>
#include <stdbool.h>
#include <stdio.h>

typedef struct query query;

/* A new query that passes every flow through; NULL when out of memory. */
query *query_create(void);
void query_destroy(query *q);

/* Set the filter (nfdump syntax). 0, or -1 with a message on stderr. */
int query_set_filter(query *q, const char *expr);

/* true when the query prints each passing flow itself (no statistics or
 * aggregation): the caller then prints the flow when query_flow() says so. */
bool query_passes_records(const query *q);

/* One decoded flow: false when it is filtered out or taken in by statistics
 * / aggregation; true when the caller should print it as usual. */
bool query_flow(query *q, const fk_flow *f);

/* Print what statistics / aggregation accumulated to out. 0, or -1 on a
 * write error. */
int query_finish(query *q, FILE *out);

#endif
