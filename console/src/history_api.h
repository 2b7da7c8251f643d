/* The API's answers from ClickHouse history (history.h): which source
 * answers a window, and /api/v1/top, /series and /flows built from
 * ClickHouse rows in the store's answer shapes, marked "source". */
#ifndef FKC_HISTORY_API_H
#define FKC_HISTORY_API_H

#include <flowkit/flowkit.h>

#include "http.h"

enum { FKC_SOURCE_ANSWERED = -1, FKC_SOURCE_STORE = 0, FKC_SOURCE_CLICKHOUSE = 1 };

/* Who answers a window starting at since_ns, when the store holds that
 * view from covered_ns on and store_can says whether the store can answer
 * this request at all. Reads the "source" parameter (auto, store,
 * clickhouse). FKC_SOURCE_ANSWERED: a 400 was put in rep. */
int fkc_history_source(const fkc_req *req, fkc_reply *rep, int64_t since_ns, int64_t covered_ns,
                       bool store_can);

/* The answers. Windows are [since_ns, until_ns) of flow end times. */
void fkc_history_top(const fkc_req *req, fkc_reply *rep, int dim, int64_t since_ns,
                     int64_t until_ns, size_t limit);
void fkc_history_series(const fkc_req *req, fkc_reply *rep, int kind, const fk_store_key *key,
                        int64_t since_ns, int64_t until_ns, int64_t step_ns);
void fkc_history_flows(const fkc_req *req, fkc_reply *rep, const fk_store_query *q, size_t limit);

#endif
