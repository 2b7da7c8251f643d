/* flowkit-ipfix's query output (query_int.h): the statistics and
 * aggregation tables as text, JSON lines or CSV, and one flow per line for
 * -o text / -o csv. */
/* _GNU_SOURCE comes from cli/common. */
#include "query_int.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static const char *proto_name(uint8_t p, char *buf, size_t size)
{
    switch (p) {
    case 1:
        return "ICMP";
    case 6:
        return "TCP";
    case 17:
        return "UDP";
    case 58:
        return "ICMP6";
    case 47:
        return "GRE";
    case 50:
        return "ESP";
    case 132:
        return "SCTP";
    default:
        snprintf(buf, size, "%u", p);
        return buf;
    }
}

/* Seconds from a to b (0 when b is not after a), in unsigned arithmetic:
 * record times can be INT64_MAX apart and more. */
static double span_s(int64_t a, int64_t b)
{
    return b > a ? (double)((uint64_t)b - (uint64_t)a) / 1e9 : 0;
}

void query_print_flow_text(const fk_flow *f, FILE *out)
{
    char ts[32] = "", src[FK_ADDR_STRLEN] = "", dst[FK_ADDR_STRLEN] = "", pb[8];
    fk_time_format(f->start_ns, ts, sizeof ts);
    fk_addr_format(&f->src, src, sizeof src);
    fk_addr_format(&f->dst, dst, sizeof dst);
    double dur = span_s(f->start_ns, f->end_ns);
    fprintf(out, "%s %9.3f %-5s %39s:%-5u -> %39s:%-5u %12" PRIu64 " %15" PRIu64 "\n", ts, dur,
            proto_name(f->proto, pb, sizeof pb), src, f->src_port, dst, f->dst_port, f->packets,
            f->bytes);
}

/* The first columns of flowkit-collect's csv: output, same names and
 * order, and its last, tags: the record's metadataTags as
 * "KEY=VALUE,KEY=VALUE" (tags need no escapes), empty when none. */
void query_print_flow_csv(query *q, const fk_flow *f, FILE *out)
{
    char s[32] = "", e[32] = "", src[FK_ADDR_STRLEN] = "", dst[FK_ADDR_STRLEN] = "";
    if (!q->csv_header_done) {
        fputs("start,end,src_addr,dst_addr,src_port,dst_port,proto,bytes,packets,tcp_flags,tags\n",
              out);
        q->csv_header_done = true;
    }
    fk_time_format(f->start_ns, s, sizeof s);
    fk_time_format(f->end_ns, e, sizeof e);
    fk_addr_format(&f->src, src, sizeof src);
    fk_addr_format(&f->dst, dst, sizeof dst);
    int tags = f->tags ? (int)strnlen(f->tags, FK_EXPORTER_TAGS_MAX) : 0;
    fprintf(out, "%s,%s,%s,%s,%u,%u,%u,%" PRIu64 ",%" PRIu64 ",%u,%s%.*s%s\n", s, e, src, dst,
            f->src_port, f->dst_port, f->proto, f->bytes, f->packets, f->tcp_flags,
            tags ? "\"" : "", tags, tags ? f->tags : "", tags ? "\"" : "");
}

static double pct(uint64_t part, uint64_t whole)
{
    return whole ? 100.0 * (double)part / (double)whole : 0.0;
}

/* The key's fields as JSON members (no braces) or text columns. */
static void key_json(FILE *out, unsigned mask, int either, const agg_key *k)
{
    char a[FK_ADDR_STRLEN];
    if (mask & AGG_SRCIP) {
        fk_addr_format(&k->src, a, sizeof a);
        fprintf(out, ",\"%s\":\"%s\"", either ? "addr" : "src_addr", a);
    }
    if (mask & AGG_DSTIP) {
        fk_addr_format(&k->dst, a, sizeof a);
        fprintf(out, ",\"dst_addr\":\"%s\"", a);
    }
    if (mask & AGG_SRCPORT)
        fprintf(out, ",\"%s\":%u", either ? "port" : "src_port", k->sport);
    if (mask & AGG_DSTPORT)
        fprintf(out, ",\"dst_port\":%u", k->dport);
    if (mask & AGG_PROTO)
        fprintf(out, ",\"proto\":%u", k->proto);
}

/* The key's fields as CSV columns after a comma, or their titles. */
static void key_csv(FILE *out, unsigned mask, int either, const agg_key *k)
{
    char a[FK_ADDR_STRLEN];
    if (mask & AGG_SRCIP) {
        if (k)
            fk_addr_format(&k->src, a, sizeof a);
        fprintf(out, ",%s", k ? a : either ? "addr" : "src_addr");
    }
    if (mask & AGG_DSTIP) {
        if (k)
            fk_addr_format(&k->dst, a, sizeof a);
        fprintf(out, ",%s", k ? a : "dst_addr");
    }
    if (mask & AGG_SRCPORT) {
        if (k)
            fprintf(out, ",%u", k->sport);
        else
            fputs(either ? ",port" : ",src_port", out);
    }
    if (mask & AGG_DSTPORT) {
        if (k)
            fprintf(out, ",%u", k->dport);
        else
            fputs(",dst_port", out);
    }
    if (mask & AGG_PROTO) {
        if (k)
            fprintf(out, ",%u", k->proto);
        else
            fputs(",proto", out);
    }
}

static void key_text(FILE *out, unsigned mask, const agg_key *k)
{
    char a[FK_ADDR_STRLEN], pb[8];
    if (mask & AGG_SRCIP) {
        fk_addr_format(&k->src, a, sizeof a);
        fprintf(out, " %39s", a);
    }
    if (mask & AGG_DSTIP) {
        fk_addr_format(&k->dst, a, sizeof a);
        fprintf(out, " %39s", a);
    }
    if (mask & AGG_SRCPORT)
        fprintf(out, " %5u", k->sport);
    if (mask & AGG_DSTPORT)
        fprintf(out, " %5u", k->dport);
    if (mask & AGG_PROTO)
        fprintf(out, " %-5s", proto_name(k->proto, pb, sizeof pb));
}

static void key_titles(FILE *out, unsigned mask, int either)
{
    if (mask & AGG_SRCIP)
        fprintf(out, " %39s", either ? "addr" : "src_addr");
    if (mask & AGG_DSTIP)
        fprintf(out, " %39s", "dst_addr");
    if (mask & AGG_SRCPORT)
        fprintf(out, " %5s", either ? "port" : "sport");
    if (mask & AGG_DSTPORT)
        fprintf(out, " %5s", "dport");
    if (mask & AGG_PROTO)
        fprintf(out, " %-5s", "proto");
}

static void times_json(FILE *out, const agg_entry *e)
{
    char s[32] = "", t[32] = "";
    fk_time_format(e->first_ns, s, sizeof s);
    fk_time_format(e->last_ns, t, sizeof t);
    fprintf(out, ",\"start\":\"%s\",\"end\":\"%s\"", s, t);
}

static void print_stat(query *q, const stat *st, agg_order order, FILE *out)
{
    size_t n;
    agg_entry *rows = aggs_rows(&st->table, st->small, 2, &n);
    if (!rows && st->table.count + st->small[0].count + st->small[1].count) {
        q->oom = true;
        return;
    }
    long limit = q->limit < 0 ? 10 : q->limit;
    agg_top(rows, n, limit > 0 ? (size_t)limit : 0, order); /* top-N: no full sort */
    if (limit > 0 && (size_t)limit < n)
        n = (size_t)limit;
    if (q->csv) {
        fputs("stat,order,rank", out);
        key_csv(out, st->table.mask, st->def->either, NULL);
        fputs(",flows,packets,bytes,flows_pct,packets_pct,bytes_pct,start,end\n", out);
    } else if (!q->json) {
        fprintf(out, "Top %zu %s ordered by %s:\n%-24s", n, st->def->name, query_order_names[order],
                "start");
        key_titles(out, st->table.mask, st->def->either);
        fprintf(out, " %12s %7s %14s %7s %18s %7s\n", "flows", "(%)", "packets", "(%)", "bytes",
                "(%)");
    }
    for (size_t i = 0; i < n; i++) {
        const agg_entry *e = &rows[i];
        if (q->csv) {
            char s[32] = "", t[32] = "";
            fk_time_format(e->first_ns, s, sizeof s);
            fk_time_format(e->last_ns, t, sizeof t);
            fprintf(out, "%s,%s,%zu", st->def->name, query_order_names[order], i + 1);
            key_csv(out, st->table.mask, st->def->either, &e->key);
            fprintf(out, ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%.2f,%.2f,%.2f,%s,%s\n", e->flows,
                    e->packets, e->bytes, pct(e->flows, q->flows), pct(e->packets, q->packets),
                    pct(e->bytes, q->bytes), s, t);
        } else if (q->json) {
            fprintf(out, "{\"type\":\"stat\",\"stat\":\"%s\",\"order\":\"%s\",\"rank\":%zu",
                    st->def->name, query_order_names[order], i + 1);
            key_json(out, st->table.mask, st->def->either, &e->key);
            fprintf(out,
                    ",\"flows\":%" PRIu64 ",\"packets\":%" PRIu64 ",\"bytes\":%" PRIu64
                    ",\"flows_pct\":%.2f,\"packets_pct\":%.2f,\"bytes_pct\":%.2f",
                    e->flows, e->packets, e->bytes, pct(e->flows, q->flows),
                    pct(e->packets, q->packets), pct(e->bytes, q->bytes));
            times_json(out, e);
            fputs("}\n", out);
        } else {
            char ts[32] = "";
            fk_time_format(e->first_ns, ts, sizeof ts);
            fprintf(out, "%-24s", ts);
            key_text(out, st->table.mask, &e->key);
            fprintf(out, " %12" PRIu64 " %7.1f %14" PRIu64 " %7.1f %18" PRIu64 " %7.1f\n", e->flows,
                    pct(e->flows, q->flows), e->packets, pct(e->packets, q->packets), e->bytes,
                    pct(e->bytes, q->bytes));
        }
    }
    if (!q->json && !q->csv)
        fputc('\n', out);
    free(rows);
}

static void print_aggregate(query *q, FILE *out)
{
    size_t all;
    agg_entry *rows = aggs_rows(&q->agg, q->aggs, 2, &all);
    if (!rows && q->agg.count + q->aggs[0].count + q->aggs[1].count) {
        q->oom = true;
        return;
    }
    agg_top(rows, all, q->limit > 0 ? (size_t)q->limit : 0, q->agg_order);
    size_t n = all;
    if (q->limit > 0 && (size_t)q->limit < n)
        n = (size_t)q->limit;
    if (q->csv) {
        fputs("rank", out);
        key_csv(out, q->agg.mask, 0, NULL);
        fputs(",flows,packets,bytes,start,end\n", out);
    } else if (!q->json) {
        fprintf(out, "Aggregated flows (%zu of %zu) ordered by %s:\n%-24s %9s", n, all,
                query_order_names[q->agg_order], "start", "duration");
        key_titles(out, q->agg.mask, 0);
        fprintf(out, " %8s %12s %15s\n", "flows", "packets", "bytes");
    }
    for (size_t i = 0; i < n; i++) {
        const agg_entry *e = &rows[i];
        if (q->csv) {
            char s[32] = "", t[32] = "";
            fk_time_format(e->first_ns, s, sizeof s);
            fk_time_format(e->last_ns, t, sizeof t);
            fprintf(out, "%zu", i + 1);
            key_csv(out, q->agg.mask, 0, &e->key);
            fprintf(out, ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%s,%s\n", e->flows, e->packets,
                    e->bytes, s, t);
        } else if (q->json) {
            fputs("{\"type\":\"aggregate\"", out);
            key_json(out, q->agg.mask, 0, &e->key);
            fprintf(out, ",\"flows\":%" PRIu64 ",\"packets\":%" PRIu64 ",\"bytes\":%" PRIu64,
                    e->flows, e->packets, e->bytes);
            times_json(out, e);
            fputs("}\n", out);
        } else {
            char ts[32] = "";
            fk_time_format(e->first_ns, ts, sizeof ts);
            double dur = span_s(e->first_ns, e->last_ns);
            fprintf(out, "%-24s %9.3f", ts, dur);
            key_text(out, q->agg.mask, &e->key);
            fprintf(out, " %8" PRIu64 " %12" PRIu64 " %15" PRIu64 "\n", e->flows, e->packets,
                    e->bytes);
        }
    }
    if (!q->json && !q->csv)
        fputc('\n', out);
    free(rows);
}

int query_finish(query *q, FILE *out)
{
    if (!q->nstats && !q->aggregate)
        return ferror(out) ? -1 : 0;
    if (q->aggregate)
        print_aggregate(q, out);
    for (int i = 0; i < q->nstats; i++)
        for (int j = 0; j < q->stats[i].norders; j++)
            print_stat(q, &q->stats[i], q->stats[i].orders[j], out);
    if (q->csv) /* rows only: a summary row would not fit the columns */
        ;
    else if (q->json)
        fprintf(out,
                "{\"type\":\"summary\",\"flows\":%" PRIu64 ",\"packets\":%" PRIu64
                ",\"bytes\":%" PRIu64 "}\n",
                q->flows, q->packets, q->bytes);
    else
        fprintf(out, "Summary: flows %" PRIu64 ", packets %" PRIu64 ", bytes %" PRIu64 "\n",
                q->flows, q->packets, q->bytes);
    if (q->oom) {
        fprintf(stderr, TOOL ": out of memory: statistics are incomplete\n");
        return -1;
    }
    return ferror(out) ? -1 : 0;
}
