/* Fuzz what the console's HTTP server parses from untrusted clients: the
 * POST /ingest body (JSON flows), and query parameter values (times,
 * durations, protocols, integers, addresses). Every accepted record is fed
 * to a small store and rendered back as JSON. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <flowkit/flowkit.h>

#include "args.h"
#include "ingest.h"

static void check(const fk_flow *f, void *user)
{
    fk_store *s = user;
    char line[FK_FLOW_JSON_MAX];
    if (f->src.family != f->dst.family || f->start_ns > f->end_ns)
        abort();
    if (fk_flow_to_json(f, line, sizeof line) < 0)
        abort();
    if (s)
        fk_store_add_flow(s, f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static fk_store *store;
    if (!store && fk_store_create(&store) == 0) {
        fk_store_set_int(store, FK_STORE_MAX_IPS, 64);
        fk_store_set_int(store, FK_STORE_MAX_FLOWS, 64);
        fk_store_set_int(store, FK_STORE_TOPK_CAPACITY, 8);
        fk_store_set_int(store, FK_STORE_SERIES_BUCKETS, 16);
        fk_store_set_int(store, FK_STORE_TOPK_SLOT_SEC, 3600);
        if (fk_store_activate(store) != 0) {
            fk_store_destroy(store);
            store = NULL;
        }
    }
    char err[160];
    fkc_ingest_parse((const char *)data, size, INT64_C(1800000000000000000), 1000, check, store,
                     err, sizeof err);
    /* the same bytes as one query value (NUL-terminated, cut at 300) */
    char v[301];
    size_t n = size < 300 ? size : 300;
    memcpy(v, data, n);
    v[n] = '\0';
    int64_t x;
    int p;
    fk_addr a;
    fkc_parse_time(v, &x);
    fkc_parse_duration(v, 1, 7 * 86400, &x);
    fkc_parse_int(v, -5, 65535, &x);
    fkc_parse_proto(v, &p);
    fkc_parse_dim(v, &p);
    fk_addr_parse(v, &a);
    return 0;
}
