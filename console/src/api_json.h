/* The JSON pieces the API's answers share, whichever source (the store or
 * ClickHouse, history_api.c) filled them. */
#ifndef FKC_API_JSON_H
#define FKC_API_JSON_H

#include <flowkit/flowkit.h>

#include "http.h"

void fkc_put_addr(fkc_buf *b, const char *key, const fk_addr *a);
void fkc_put_time(fkc_buf *b, const char *key, int64_t ns);
void fkc_put_counts(fkc_buf *b, uint64_t bytes, uint64_t packets, uint64_t flows);
/* A 200 answer's start: {"now": the store's clock. */
void fkc_begin(fkc_reply *rep, const fkc_req *req);
/* The keys of a top-K row of dimension dim. */
void fkc_put_key(fkc_buf *b, int dim, const fk_store_key *k);
/* ,"rows":[...]} (closes the answer). */
void fkc_put_rows(fkc_buf *b, int dim, const fk_store_row *rows, size_t n);
/* ,"points":[...]} (closes the answer). */
void fkc_put_points(fkc_buf *b, const fk_store_point *p, size_t n);
/* ,"flows":[...]} (closes the answer). */
void fkc_put_flows(fkc_buf *b, const fk_flow *f, size_t n);

#endif
