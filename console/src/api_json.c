/* The JSON pieces the API's answers share (api_json.h). */
#include "api_json.h"

#include <inttypes.h>

#include "args.h"

void fkc_put_addr(fkc_buf *b, const char *key, const fk_addr *a)
{
    char t[FK_ADDR_STRLEN];
    if (fk_addr_format(a, t, sizeof t) < 0)
        t[0] = '\0';
    fkc_buf_printf(b, "\"%s\":\"%s\"", key, t);
}

void fkc_put_time(fkc_buf *b, const char *key, int64_t ns)
{
    char t[40];
    if (fk_time_format(ns, t, sizeof t) < 0)
        t[0] = '\0';
    fkc_buf_printf(b, "\"%s\":\"%s\"", key, t);
}

void fkc_put_counts(fkc_buf *b, uint64_t bytes, uint64_t packets, uint64_t flows)
{
    fkc_buf_printf(b, "\"bytes\":%" PRIu64 ",\"packets\":%" PRIu64 ",\"flows\":%" PRIu64, bytes,
                   packets, flows);
}

void fkc_begin(fkc_reply *rep, const fkc_req *req)
{
    rep->status = 200;
    rep->type = "application/json";
    fkc_buf_puts(&rep->body, "{");
    fkc_put_time(&rep->body, "now", fk_store_get_now(req->store));
}

void fkc_put_key(fkc_buf *b, int dim, const fk_store_key *k)
{
    switch (dim) {
    case FK_STORE_DIM_PAIR:
        fkc_put_addr(b, "src_addr", &k->addr);
        fkc_buf_puts(b, ",");
        fkc_put_addr(b, "dst_addr", &k->peer);
        break;
    case FK_STORE_DIM_PORT:
        fkc_buf_printf(b, "\"proto\":%u,\"port\":%u", k->proto, k->port);
        break;
    case FK_STORE_DIM_PROTO:
        fkc_buf_printf(b, "\"proto\":%u", k->proto);
        break;
    case FK_STORE_DIM_PROCESS:
        fkc_buf_puts(b, "\"process\":");
        fkc_buf_json_str(b, k->process);
        break;
    default:
        fkc_put_addr(b, "addr", &k->addr);
        break;
    }
    if (dim == FK_STORE_DIM_PORT || dim == FK_STORE_DIM_PROTO) {
        const char *name = fkc_proto_name(k->proto);
        fkc_buf_puts(b, ",\"proto_name\":");
        fkc_buf_json_str(b, name ? name : "");
    }
}

void fkc_put_rows(fkc_buf *b, int dim, const fk_store_row *rows, size_t n)
{
    fkc_buf_puts(b, ",\"rows\":[");
    for (size_t i = 0; i < n; i++) {
        fkc_buf_puts(b, i ? ",{" : "{");
        fkc_put_key(b, dim, &rows[i].key);
        fkc_buf_puts(b, ",");
        fkc_put_counts(b, rows[i].bytes, rows[i].packets, rows[i].flows);
        fkc_buf_printf(b, ",\"error\":%" PRIu64 "}", rows[i].error);
    }
    fkc_buf_puts(b, "]}");
}

void fkc_put_points(fkc_buf *b, const fk_store_point *p, size_t n)
{
    fkc_buf_puts(b, ",\"points\":[");
    for (size_t i = 0; i < n; i++) {
        fkc_buf_puts(b, i ? ",{" : "{");
        fkc_put_time(b, "time", p[i].time_ns);
        fkc_buf_printf(b, ",\"t\":%lld,", (long long)(p[i].time_ns / 1000000));
        fkc_put_counts(b, p[i].bytes, p[i].packets, p[i].flows);
        fkc_buf_puts(b, "}");
    }
    fkc_buf_puts(b, "]}");
}

void fkc_put_flows(fkc_buf *b, const fk_flow *f, size_t n)
{
    fkc_buf_puts(b, ",\"flows\":[");
    char line[FK_FLOW_JSON_MAX];
    for (size_t i = 0; i < n; i++) {
        int len = fk_flow_to_json(&f[i], line, sizeof line);
        if (len < 0)
            continue;
        if (i)
            fkc_buf_puts(b, ",");
        fkc_buf_put(b, line, (size_t)len);
    }
    fkc_buf_puts(b, "]}");
}
