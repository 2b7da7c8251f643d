/* The API's answers from ClickHouse (history_api.h). Every value put into
 * SQL is a number or an address this file formats itself; the table name
 * was checked by fkc_history_create(). Rows come back as TabSeparated
 * (chreply.c) and are held to the shapes the store answers with. */
#include "history_api.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_json.h"
#include "args.h"
#include "chreply.h"
#include "history.h"

#define MS INT64_C(1000000)

int fkc_history_source(const fkc_req *req, fkc_reply *rep, int64_t since_ns, int64_t covered_ns,
                       bool store_can)
{
    const char *v = fkc_arg(req, "source");
    if (v && strcmp(v, "auto") && strcmp(v, "store") && strcmp(v, "clickhouse")) {
        fkc_reply_error(rep, 400, "parameter \"source\" must be auto, store or clickhouse");
        return FKC_SOURCE_ANSWERED;
    }
    bool want_ch = v && !strcmp(v, "clickhouse"), want_store = v && !strcmp(v, "store");
    if (want_ch && !req->history) {
        fkc_reply_error(rep, 400,
                        "no ClickHouse history is configured (--http-history, or a "
                        "clickhouse:// output)");
        return FKC_SOURCE_ANSWERED;
    }
    if (want_ch || (!want_store && req->history && (since_ns < covered_ns || !store_can)))
        return FKC_SOURCE_CLICKHOUSE;
    if (!store_can) {
        fkc_reply_error(rep, 400,
                        req->history ? "the live store cannot answer this window (source=store)"
                                     : "a window that ends before now needs ClickHouse history "
                                       "(--http-history)");
        return FKC_SOURCE_ANSWERED;
    }
    return FKC_SOURCE_STORE;
}

/* The 16 bytes ClickHouse stores for a (IPv4 as ::ffff:a.b.c.d), as hex. */
static void addr_hex(const fk_addr *a, char out[33])
{
    uint8_t b[16] = {0};
    if (a->family == 4) {
        b[10] = b[11] = 0xff;
        memcpy(b + 12, a->bytes, 4);
    } else {
        memcpy(b, a->bytes, 16);
    }
    for (int i = 0; i < 16; i++)
        snprintf(out + 2 * i, 3, "%02x", b[i]);
}

static void sql_addr(fkc_buf *q, const char *col, const fk_addr *a)
{
    char hex[33];
    addr_hex(a, hex);
    fkc_buf_printf(q, "%s = toFixedString(unhex('%s'), 16)", col, hex);
}

static int64_t ms_floor(int64_t ns)
{
    return ns >= 0 ? ns / MS : -((-ns + MS - 1) / MS);
}

/* The first whole millisecond at or after ns: end_ms >= ms_ceil(t) is
 * end_ns >= t, end_ms < ms_ceil(t) is end_ns < t. */
static int64_t ms_ceil(int64_t ns)
{
    return ms_floor(ns - 1) + 1;
}

/* Run q; 0 with the rows, else the error answer is made. */
static int run(const fkc_req *req, fkc_reply *rep, fkc_buf *q, fkc_history_result *res)
{
    if (q->oom) {
        fkc_buf_free(q);
        fkc_reply_error(rep, 503, "out of memory");
        return -1;
    }
    char err[300];
    int st = fkc_history_query(req->history, q->p, res, err, sizeof err);
    fkc_buf_free(q);
    if (st != 0) {
        fkc_reply_error(rep, st, err);
        return -1;
    }
    return 0;
}

static void bad_answer(const fkc_req *req, fkc_reply *rep, fkc_history_result *res)
{
    fkc_history_result_free(res);
    atomic_fetch_add(&fkc_history_get_stats(req->history)->bad_answers, 1);
    fkc_reply_error(rep, 502, "ClickHouse sent rows this console cannot read");
}

static void begin_ch(fkc_reply *rep, const fkc_req *req, int64_t since_ns, int64_t until_ns)
{
    fkc_begin(rep, req);
    fkc_buf_puts(&rep->body, ",\"source\":\"clickhouse\"");
    if (since_ns) {
        fkc_buf_puts(&rep->body, ",");
        fkc_put_time(&rep->body, "since", since_ns);
    }
    if (until_ns) {
        fkc_buf_puts(&rep->body, ",");
        fkc_put_time(&rep->body, "until", until_ns);
    }
}

static const char *const key_cols[FK_STORE_DIM_COUNT] = {
    "hex(src_addr)", "hex(dst_addr)", "hex(src_addr), hex(dst_addr)", "proto, dst_port", "proto",
    "hex(exporter)", "process"};
static const int key_ncols[FK_STORE_DIM_COUNT] = {1, 1, 2, 2, 1, 1, 1};

static int read_key(int dim, char **f, fk_store_key *k)
{
    uint64_t a, b;
    memset(k, 0, sizeof *k);
    switch (dim) {
    case FK_STORE_DIM_PAIR:
        return fkc_tsv_addr(f[0], &k->addr) || fkc_tsv_addr(f[1], &k->peer) ? -1 : 0;
    case FK_STORE_DIM_PORT:
        if (fkc_tsv_u64(f[0], &a) || fkc_tsv_u64(f[1], &b) || a > 255 || b > 65535)
            return -1;
        k->proto = (uint8_t)a;
        k->port = (uint16_t)b;
        return 0;
    case FK_STORE_DIM_PROTO:
        if (fkc_tsv_u64(f[0], &a) || a > 255)
            return -1;
        k->proto = (uint8_t)a;
        return 0;
    case FK_STORE_DIM_PROCESS:
        snprintf(k->process, sizeof k->process, "%s", f[0]);
        return 0;
    default:
        return fkc_tsv_addr(f[0], &k->addr);
    }
}

void fkc_history_top(const fkc_req *req, fkc_reply *rep, int dim, int64_t since_ns,
                     int64_t until_ns, size_t limit)
{
    fkc_buf q = {0};
    const char *cols = key_cols[dim];
    fkc_buf_printf(&q,
                   "SELECT %s, sum(bytes + rev_bytes) AS b, sum(packets + rev_packets) AS p, "
                   "count() AS n FROM %s WHERE event = 'flow' AND end_ms >= %" PRId64
                   " AND end_ms < %" PRId64 "%s GROUP BY %s ORDER BY b DESC, %s LIMIT %zu",
                   cols, fkc_history_table(req->history), ms_ceil(since_ns), ms_ceil(until_ns),
                   dim == FK_STORE_DIM_PROCESS ? " AND process != ''" : "", cols, cols, limit);
    fkc_history_result res;
    if (run(req, rep, &q, &res) != 0)
        return;
    fk_store_row *rows = calloc(limit ? limit : 1, sizeof *rows);
    if (!rows) {
        fkc_history_result_free(&res);
        fkc_reply_error(rep, 503, "out of memory");
        return;
    }
    fkc_tsv t = {res.body, res.body + res.len};
    char *f[8];
    size_t n = 0;
    int nf, want = key_ncols[dim] + 3;
    while ((nf = fkc_tsv_next(&t, f, 8)) > 0) {
        fk_store_row *r = &rows[n];
        char **c = f + key_ncols[dim];
        if (nf != want || n == limit || read_key(dim, f, &r->key) || fkc_tsv_u64(c[0], &r->bytes) ||
            fkc_tsv_u64(c[1], &r->packets) || fkc_tsv_u64(c[2], &r->flows)) {
            nf = -1;
            break;
        }
        n++;
    }
    if (nf < 0) {
        free(rows);
        bad_answer(req, rep, &res);
        return;
    }
    fkc_history_result_free(&res);
    begin_ch(rep, req, since_ns, until_ns);
    fkc_buf_printf(&rep->body, ",\"by\":\"%s\",\"window\":%lld", fkc_dim_name(dim),
                   (long long)((until_ns - since_ns + 999999999) / 1000000000));
    fkc_put_rows(&rep->body, dim, rows, n);
    free(rows);
}

void fkc_history_series(const fkc_req *req, fkc_reply *rep, int kind, const fk_store_key *key,
                        int64_t since_ns, int64_t until_ns, int64_t step_ns)
{
    int64_t step_ms = step_ns / MS;
    int64_t first = ms_floor(since_ns) / step_ms * step_ms; /* whole steps, as the store */
    if (ms_floor(since_ns) < 0 && ms_floor(since_ns) % step_ms)
        first -= step_ms;
    size_t npoints = 0;
    for (int64_t t = first; t * MS < until_ns; t += step_ms)
        npoints++;
    int64_t last = first + (int64_t)npoints * step_ms;
    fkc_buf q = {0};
    fkc_buf_printf(&q,
                   "SELECT intDiv(end_ms, %" PRId64 ") AS k, sum(bytes + rev_bytes), "
                   "sum(packets + rev_packets), count() FROM %s WHERE event = 'flow' AND "
                   "end_ms >= %" PRId64 " AND end_ms < %" PRId64,
                   step_ms, fkc_history_table(req->history), first, last);
    if (kind == FK_STORE_SERIES_PROTO)
        fkc_buf_printf(&q, " AND proto = %u", key->proto);
    if (kind == FK_STORE_SERIES_EXPORTER) {
        fkc_buf_puts(&q, " AND ");
        sql_addr(&q, "exporter", &key->addr);
    }
    fkc_buf_puts(&q, " GROUP BY k ORDER BY k");
    fkc_history_result res;
    if (run(req, rep, &q, &res) != 0)
        return;
    fk_store_point *p = calloc(npoints ? npoints : 1, sizeof *p);
    if (!p) {
        fkc_history_result_free(&res);
        fkc_reply_error(rep, 503, "out of memory");
        return;
    }
    for (size_t i = 0; i < npoints; i++)
        p[i].time_ns = (first + (int64_t)i * step_ms) * MS;
    fkc_tsv t = {res.body, res.body + res.len};
    char *f[5];
    int nf;
    while ((nf = fkc_tsv_next(&t, f, 5)) > 0) {
        uint64_t k, b, pk, n;
        if (nf != 4 || fkc_tsv_u64(f[0], &k) || fkc_tsv_u64(f[1], &b) || fkc_tsv_u64(f[2], &pk) ||
            fkc_tsv_u64(f[3], &n) || k > (uint64_t)INT64_MAX / (uint64_t)step_ms ||
            (int64_t)k * step_ms < first || (int64_t)k * step_ms >= last) {
            nf = -1;
            break;
        }
        fk_store_point *pt = &p[((int64_t)k * step_ms - first) / step_ms];
        pt->bytes = b;
        pt->packets = pk;
        pt->flows = n;
    }
    if (nf < 0) {
        free(p);
        bad_answer(req, rep, &res);
        return;
    }
    fkc_history_result_free(&res);
    begin_ch(rep, req, since_ns, until_ns);
    fkc_buf_printf(&rep->body, ",\"step\":%lld", (long long)(step_ms / 1000));
    if (kind == FK_STORE_SERIES_PROTO)
        fkc_buf_printf(&rep->body, ",\"proto\":%u", key->proto);
    if (kind == FK_STORE_SERIES_EXPORTER) {
        fkc_buf_puts(&rep->body, ",");
        fkc_put_addr(&rep->body, "exporter", &key->addr);
    }
    fkc_put_points(&rep->body, p, npoints);
    free(p);
}

static const char flow_cols[] =
    "start_ms, end_ms, hex(src_addr), hex(dst_addr), src_port, dst_port, proto, tcp_flags, "
    "rev_tcp_flags, bytes, packets, rev_bytes, rev_packets, hex(exporter), odid, version, in_if, "
    "out_if, sampling, end_reason, pid, process";
enum { FLOW_NCOLS = 22 };

static int read_flow(char **f, fk_flow *fl)
{
    uint64_t v[FLOW_NCOLS];
    memset(fl, 0, sizeof *fl);
    for (int i = 0; i < FLOW_NCOLS - 1; i++)
        if (i != 2 && i != 3 && i != 13 && fkc_tsv_u64(f[i], &v[i]))
            return -1;
    if (fkc_tsv_addr(f[2], &fl->src) || fkc_tsv_addr(f[3], &fl->dst) ||
        fkc_tsv_addr(f[13], &fl->exporter) || v[0] > INT64_MAX / MS || v[1] > INT64_MAX / MS ||
        v[4] > 65535 || v[5] > 65535 || v[6] > 255 || v[7] > 255 || v[8] > 255 ||
        v[14] > UINT32_MAX || v[15] > 65535 || v[16] > UINT32_MAX || v[17] > UINT32_MAX ||
        v[18] > UINT32_MAX || v[19] > 255 || v[20] > UINT32_MAX)
        return -1;
    fl->start_ns = (int64_t)v[0] * MS;
    fl->end_ns = (int64_t)v[1] * MS;
    fl->src_port = (uint16_t)v[4];
    fl->dst_port = (uint16_t)v[5];
    fl->proto = (uint8_t)v[6];
    fl->tcp_flags = (uint8_t)v[7];
    fl->rev_tcp_flags = (uint8_t)v[8];
    fl->bytes = v[9];
    fl->packets = v[10];
    fl->rev_bytes = v[11];
    fl->rev_packets = v[12];
    fl->odid = (uint32_t)v[14];
    fl->version = (uint16_t)v[15];
    fl->in_if = (uint32_t)v[16];
    fl->out_if = (uint32_t)v[17];
    fl->sampling = (uint32_t)v[18];
    fl->end_reason = (uint8_t)v[19];
    fl->pid = (uint32_t)v[20];
    snprintf(fl->process, sizeof fl->process, "%s", f[21]);
    if (fl->rev_bytes || fl->rev_packets || fl->rev_tcp_flags)
        fl->present |= FK_FLOW_HAS_REVERSE;
    if (fl->exporter.family)
        fl->present |= FK_FLOW_HAS_EXPORTER;
    if (fl->in_if || fl->out_if)
        fl->present |= FK_FLOW_HAS_IFACES;
    if (fl->sampling)
        fl->present |= FK_FLOW_HAS_SAMPLING;
    if (fl->end_reason)
        fl->present |= FK_FLOW_HAS_END_REASON;
    if (fl->pid || fl->process[0])
        fl->present |= FK_FLOW_HAS_PROCESS;
    return 0;
}

void fkc_history_flows(const fkc_req *req, fkc_reply *rep, const fk_store_query *q, size_t limit)
{
    fkc_buf s = {0};
    fkc_buf_printf(&s, "SELECT %s FROM %s WHERE event = 'flow'", flow_cols,
                   fkc_history_table(req->history));
    if (q->addr.family) {
        fkc_buf_puts(&s, " AND (");
        sql_addr(&s, "src_addr", &q->addr);
        fkc_buf_puts(&s, " OR ");
        sql_addr(&s, "dst_addr", &q->addr);
        fkc_buf_puts(&s, ")");
    }
    const struct {
        const fk_addr *a;
        const char *col;
    } addrs[] = {{&q->src, "src_addr"}, {&q->dst, "dst_addr"}, {&q->exporter, "exporter"}};
    for (size_t i = 0; i < 3; i++)
        if (addrs[i].a->family) {
            fkc_buf_puts(&s, " AND ");
            sql_addr(&s, addrs[i].col, addrs[i].a);
        }
    if (q->port > 0)
        fkc_buf_printf(&s, " AND (src_port = %d OR dst_port = %d)", q->port, q->port);
    if (q->src_port > 0)
        fkc_buf_printf(&s, " AND src_port = %d", q->src_port);
    if (q->dst_port > 0)
        fkc_buf_printf(&s, " AND dst_port = %d", q->dst_port);
    if (q->proto > 0)
        fkc_buf_printf(&s, " AND proto = %d", q->proto);
    if (q->since_ns)
        fkc_buf_printf(&s, " AND end_ms >= %" PRId64, ms_ceil(q->since_ns));
    if (q->until_ns)
        fkc_buf_printf(&s, " AND end_ms < %" PRId64, ms_ceil(q->until_ns));
    fkc_buf_printf(&s,
                   " ORDER BY end_ms DESC, start_ms DESC, src_addr, dst_addr, src_port, "
                   "dst_port LIMIT %zu",
                   limit);
    fkc_history_result res;
    if (run(req, rep, &s, &res) != 0)
        return;
    fk_flow *flows = calloc(limit ? limit : 1, sizeof *flows);
    if (!flows) {
        fkc_history_result_free(&res);
        fkc_reply_error(rep, 503, "out of memory");
        return;
    }
    fkc_tsv t = {res.body, res.body + res.len};
    char *f[FLOW_NCOLS + 1];
    size_t n = 0;
    int nf;
    while ((nf = fkc_tsv_next(&t, f, FLOW_NCOLS + 1)) > 0) {
        if (nf != FLOW_NCOLS || n == limit || read_flow(f, &flows[n]) != 0) {
            nf = -1;
            break;
        }
        n++;
    }
    if (nf < 0) {
        free(flows);
        bad_answer(req, rep, &res);
        return;
    }
    fkc_history_result_free(&res);
    begin_ch(rep, req, q->since_ns, q->until_ns);
    fkc_buf_printf(&rep->body, ",\"count\":%zu", n);
    fkc_put_flows(&rep->body, flows, n);
    free(flows);
}
