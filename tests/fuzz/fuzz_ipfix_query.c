/* Fuzz flowkit-ipfix's query fast path (cli/flowkit-ipfix/fastq.c) against
 * the collector's path: the input is a raw file of IPFIX messages. When the
 * fast path answers (it takes the file whole or refuses it), the same
 * messages go through a collector configured as flowkit-ipfix configures
 * its own, each flow into a second query: the printed statistics,
 * aggregation and summary, and the counters, must be the same. A
 * difference aborts. Named seeds raw_filter_<k> pick the k-th filter. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <flowkit/flowkit.h>

#include "fastq.h"
#include "query.h"

/* The filter of an input: odd lengths also filter on the exporter (origin
 * elements and records then leave the fast path); the others run on raw
 * records (fk_filter_raw) where the template allows, one of several by
 * the input's length. */
static const char *const filters[] = {
    "proto tcp or net 10.0.0.0/8 or duration > 1000 or in if 3 or icmp-type 8 or flags S",
    "src net 10.0.0.0/8 and dst port in [80 443 8080] or not ipv4",
    "not (net 2001:db8::/33 or host 10.0.0.2) and (port > 1023 or icmp-code 0)",
    "dst net ::/0 or src net 0.0.0.0/0 and not flags AS and vlan 5",
    "bytes > 1000 and packets < 10 or out bytes > 0 or tos 0 and if 1",
    "ip in [10.0.0.0/31 fd00::/8 2001:db8::2] and not port in [0 65535]",
    "icmp-type 3 or proto 58 and not dst port 0 or src port <= 53",
};

static query *make_query(size_t size)
{
    query *q = query_create();
    if (!q)
        return NULL;
    const char *filter = size % 2 ? "proto tcp or net 10.0.0.0/8 or router ip 10.0.0.1"
                                  : filters[size / 2 % (sizeof filters / sizeof filters[0])];
    /* the statistics by the input's length too: several tables, or one
     * (the fast path's one-table plan), packed keys of both families */
    static const char *const stats[][2] = {{"srcip/bytes", "port/flows/packets"},
                                           {"ip/bytes", NULL},
                                           {"dstport/packets", NULL},
                                           {"proto", "dstip/flows"}};
    const char *const *st = stats[size / 14 % (sizeof stats / sizeof stats[0])];
    if (query_add_stat(q, st[0]) < 0 || (st[1] && query_add_stat(q, st[1]) < 0) ||
        (st[1] && query_set_aggregate(q, size % 2 ? "srcip,dstport,proto"
                                                  : "srcip,dstip,srcport,dstport,proto") < 0) ||
        query_set_limit(q, "0") < 0 || query_set_filter(q, filter) < 0 ||
        /* a -t window around the seeds' times (ipfix_random.py), in raw
         * bounds on the fast path */
        (size % 3 == 0 && query_set_window(q, "2026/11/23.12:00:00-2026/11/23.12:01:00") < 0)) {
        query_destroy(q);
        return NULL;
    }
    return q;
}

static void on_flow(const fk_flow *f, void *user)
{
    (void)query_flow(user, f);
}

/* flowkit-ipfix's collector (main.c collector_new). */
static fk_collector *make_collector(query *q)
{
    fk_collector *c;
    if (fk_collector_create(&c) < 0)
        return NULL;
    if (fk_collector_set_int(c, FK_COL_WORKERS, 0) < 0 ||
        fk_collector_set_int(c, FK_COL_TEMPLATE_TIMEOUT, 0) < 0 ||
        fk_collector_set_int(c, FK_COL_SESSION_TIMEOUT, 0) < 0 ||
        fk_collector_set_int(c, FK_COL_EXPORT_TOLERANCE, 0) < 0 ||
        fk_collector_set_int(c, FK_COL_PENDING_AGE, 86400) < 0 ||
        fk_collector_set_int(c, FK_COL_PENDING_BYTES, 1 << 28) < 0 ||
        fk_collector_set_int(c, FK_COL_PENDING_TOTAL, 1LL << 34) < 0 ||
        fk_collector_set_int(c, FK_COL_PEN, FK_EXPORTER_DEFAULT_PEN) < 0 ||
        fk_collector_set_callback(c, on_flow, q) < 0 || fk_collector_activate(c) < 0) {
        fk_collector_destroy(c);
        return NULL;
    }
    return c;
}

static char *finish(query *q, size_t *len)
{
    char *buf = NULL;
    FILE *f = open_memstream(&buf, len);
    if (!f)
        abort();
    (void)query_finish(q, f);
    fclose(f);
    return buf;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2 || data[0] != 0 || data[1] != 10)
        return 0; /* flowkit-ipfix reads the file another way */
    fk_addr exporter;
    memset(&exporter, 0, sizeof exporter);
    exporter.family = 4;
    query *qa = make_query(size);
    fastq *fq = qa ? fastq_create(qa, &exporter, FK_EXPORTER_DEFAULT_PEN) : NULL;
    if (!fq) {
        query_destroy(qa);
        return 0;
    }
    long took = fastq_feed(fq, data, size);
    if (took < 0 || !fastq_end(fq, size - (size_t)took)) {
        fastq_destroy(fq);
        query_destroy(qa);
        return 0; /* refused: the general path answers */
    }
    fastq_counts fc = *fastq_get_counts(fq);
    fastq_destroy(fq);
    query *qb = make_query(size);
    fk_collector *col = qb ? make_collector(qb) : NULL;
    if (!col) {
        query_destroy(qa);
        query_destroy(qb);
        return 0;
    }
    uint64_t messages = 0;
    for (size_t pos = 0; pos + 4 <= size;) { /* as flowkit-ipfix reads a raw file */
        size_t mlen = (size_t)data[pos + 2] << 8 | data[pos + 3];
        fk_collector_feed(col, &exporter, 0, data + pos, mlen);
        messages++;
        pos += mlen;
    }
    fk_collector_stats cs;
    memset(&cs, 0, sizeof cs);
    fk_collector_get_stats(col, &cs, sizeof cs);
    size_t la, lb;
    char *a = finish(qa, &la), *b = finish(qb, &lb);
    if (la != lb || memcmp(a, b, la) != 0) {
        fprintf(stderr, "fast path:\n%s\ncollector's path:\n%s\n", a, b);
        abort();
    }
    if (fc.messages != messages || fc.flows != cs.records || fc.options != cs.options_records ||
        fc.templates != cs.templates || fc.sequence_lost != cs.sequence_lost || cs.malformed ||
        cs.pending_sets || cs.unsupported) {
        fprintf(stderr,
                "counts: messages %llu/%llu flows %llu/%llu options %llu/%llu templates "
                "%llu/%llu lost %llu/%llu malformed %llu pending %llu\n",
                (unsigned long long)fc.messages, (unsigned long long)messages,
                (unsigned long long)fc.flows, (unsigned long long)cs.records,
                (unsigned long long)fc.options, (unsigned long long)cs.options_records,
                (unsigned long long)fc.templates, (unsigned long long)cs.templates,
                (unsigned long long)fc.sequence_lost, (unsigned long long)cs.sequence_lost,
                (unsigned long long)cs.malformed, (unsigned long long)cs.pending_sets);
        abort();
    }
    free(a);
    free(b);
    fk_collector_destroy(col);
    query_destroy(qa);
    query_destroy(qb);
    return 0;
}
