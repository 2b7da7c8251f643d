/* POST /stats/SENDER: prefix statistics over HTTP in wasted/netflow's shape
 * (docs/prefix-stats.md). The body names, per prefix, names ("all", a
 * field such as "proto", or one value such as "dstport:443") and the
 * buckets wanted ("2026-12-06 09:05", "2026-12"); the answer has the same
 * keys, with the rows of each bucket. The server has checked the signature
 * (server.c, X-Io-Auth / X-Io-Sign) before a request gets here. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "stats_body.h"

static bool selected(const fkc_stats_selector *s, const fk_prefixstats_row *r)
{
    switch (s->which) {
    case FKC_SEL_ALL:
        return true;
    case FKC_SEL_OTHER:
        return r->other;
    case FKC_SEL_NUMBER:
        return !r->other && r->number == s->number;
    default:
        return !r->other && r->addr.family == s->addr.family &&
               memcmp(r->addr.bytes, s->addr.bytes, sizeof r->addr.bytes) == 0;
    }
}

/* One row as wasted/netflow's records, one object per direction with
 * traffic: {"name":"proto:6","direction":"in","bytes":N,"pkts":N,"flows":N}. */
static void put_row(fkc_buf *b, bool *first, const fk_prefixstats_row *r)
{
    char name[80];
    const char *field = fk_prefixstats_field_name(r->field);
    if (r->field == FK_PREFIXSTATS_ALL) {
        snprintf(name, sizeof name, "all");
    } else if (r->other) {
        snprintf(name, sizeof name, "%s:other", field);
    } else if (fkc_stats_addr_field(r->field)) {
        char a[FK_ADDR_STRLEN];
        fk_addr_format(&r->addr, a, sizeof a);
        snprintf(name, sizeof name, "%s:%s", field, a);
    } else {
        snprintf(name, sizeof name, "%s:%" PRIu32, field, r->number);
    }
    const uint64_t in[3] = {r->in_bytes, r->in_packets, r->in_flows};
    const uint64_t out[3] = {r->out_bytes, r->out_packets, r->out_flows};
    for (int d = 0; d < 2; d++) {
        const uint64_t *c = d == 0 ? in : out;
        if (!(c[0] | c[2]))
            continue;
        fkc_buf_printf(b,
                       "%s{\"name\":\"%s\",\"direction\":\"%s\",\"bytes\":%" PRIu64
                       ",\"pkts\":%" PRIu64 ",\"flows\":%" PRIu64,
                       *first ? "" : ",", name, d == 0 ? "in" : "out", c[0], c[1], c[2]);
        if (r->other)
            fkc_buf_printf(b, ",\"values\":%" PRIu64, r->folded);
        fkc_buf_puts(b, "}");
        *first = false;
    }
}

/* The answer: {"PREFIX":{"NAME":{"BUCKET":[rows],...},...},...}, keys in
 * the body's order. Returns 0 or an HTTP status with a message in err. */
static int answer(const fkc_req *req, const char *sender, const fkc_stats_cell *cells, size_t n,
                  const fkc_stats_selector *sel, const fk_prefixstats_bucket *buckets, fkc_buf *b,
                  char *err, size_t errsize)
{
    int64_t top = 0;
    fk_prefixstats_get_int(req->prefixstats, FK_PREFIXSTATS_TOP_VALUES, &top);
    size_t cap = (size_t)top + 1;
    fk_prefixstats_row *rows = calloc(cap, sizeof *rows);
    if (!rows) {
        snprintf(err, errsize, "out of memory");
        return 503;
    }
    int status = 0;
    fkc_buf_puts(b, "{");
    for (size_t i = 0; i < n && !status; i++) {
        bool new_prefix = i == 0 || strcmp(cells[i].prefix, cells[i - 1].prefix) != 0;
        bool new_name = new_prefix || strcmp(cells[i].name, cells[i - 1].name) != 0;
        if (new_prefix) {
            fkc_buf_puts(b, i ? "}}," : "");
            fkc_buf_json_str(b, cells[i].prefix);
            fkc_buf_puts(b, ":{");
        } else if (new_name) {
            fkc_buf_puts(b, "},");
        }
        if (new_name) {
            fkc_buf_json_str(b, cells[i].name);
            fkc_buf_puts(b, ":{");
        } else {
            fkc_buf_puts(b, ",");
        }
        fkc_buf_json_str(b, cells[i].bucket);
        fkc_buf_puts(b, ":[");
        size_t got = 0;
        int rc = fk_prefixstats_get_rows(req->prefixstats, sender, cells[i].prefix, &buckets[i],
                                         sel[i].field, rows, cap, &got);
        if (rc != 0) {
            snprintf(err, errsize, "%s", fk_error_last()->message);
            status = rc == FK_ENOTFOUND ? 404 : rc == FK_EINVAL ? 400 : 503;
        }
        bool first = true;
        for (size_t j = 0; j < got; j++)
            if (selected(&sel[i], &rows[j]))
                put_row(b, &first, &rows[j]);
        fkc_buf_puts(b, "]");
    }
    fkc_buf_puts(b, n ? "}}}" : "}");
    free(rows);
    return status;
}

void fkc_api_prefix_stats(const fkc_req *req, fkc_reply *rep)
{
    atomic_fetch_add(&req->stats->prefix_stats_requests, 1);
    if (!req->prefixstats) {
        fkc_reply_error(rep, 404, "no prefix statistics (flowkit-collect --prefix-stats)");
        return;
    }
    const char *sender = strncmp(req->path, "/stats/", 7) == 0 ? req->path + 7 : "";
    if (strcmp(req->method, "POST") != 0 || !*sender) {
        fkc_reply_error(rep, 405, "use POST /stats/SENDER");
        return;
    }
    fk_addr a;
    if (fk_addr_parse(sender, &a) != 0) {
        fkc_reply_error(rep, 400, "the path names no sender address (POST /stats/SENDER)");
        return;
    }
    fkc_stats_cell *cells = calloc(FKC_STATS_CELLS_MAX, sizeof *cells);
    fkc_stats_selector *sel = calloc(FKC_STATS_CELLS_MAX, sizeof *sel);
    fk_prefixstats_bucket *buckets = calloc(FKC_STATS_CELLS_MAX, sizeof *buckets);
    char err[200];
    size_t n = 0;
    if (!cells || !sel || !buckets) {
        fkc_reply_error(rep, 503, "out of memory");
    } else if (fkc_stats_body_parse(req->body, req->body_len, cells, FKC_STATS_CELLS_MAX, &n, err,
                                    sizeof err) < 0 ||
               fkc_stats_cells_check(cells, n, sel, buckets, err, sizeof err) < 0) {
        fkc_reply_error(rep, 400, err);
    } else {
        int status = answer(req, sender, cells, n, sel, buckets, &rep->body, err, sizeof err);
        if (status)
            fkc_reply_error(rep, status, err);
        else
            rep->status = 200;
    }
    free(cells);
    free(sel);
    free(buckets);
}
