/* Fuzz the body of POST /stats/SENDER (console/src/stats_body.c): the JSON
 * reader, the names ("proto", "dstport:443", "srcip:ADDR") and bucket names
 * of every cell, and then the query of each checked cell against real
 * prefix statistics (fk_prefixstats_get_rows with the prefix text as
 * given), as the handler does. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <flowkit/flowkit.h>

#include "stats_body.h"

static fk_senders *senders;
static fk_prefixstats *stats;

/* Once: sender 192.0.2.1 with two prefixes and a little traffic in
 * 2026-12-06 09:05. */
static void setup(void)
{
    static const char text[] = "192.0.2.1 198.51.100.0/24 2001:db8::/32\n";
    if (fk_senders_create(&senders) || fk_senders_parse(senders, text, sizeof text - 1, NULL) ||
        fk_prefixstats_create(&stats) ||
        fk_prefixstats_set_int(stats, FK_PREFIXSTATS_TOP_VALUES, 2) ||
        fk_prefixstats_set_senders(stats, senders) || fk_prefixstats_activate(stats))
        abort();
    fk_addr exporter;
    fk_addr_parse("192.0.2.1", &exporter);
    for (int i = 0; i < 4; i++) {
        fk_flow f;
        memset(&f, 0, sizeof f);
        fk_addr_parse("198.51.100.7", &f.src);
        fk_addr_parse(i % 2 ? "2001:db8::1" : "203.0.113.1", &f.dst);
        f.dst_port = (uint16_t)(80 + i);
        f.proto = 6;
        f.bytes = 100u * (unsigned)(i + 1);
        f.packets = 1;
        f.end_ns = 1796547900LL * 1000000000LL;
        fk_prefixstats_add_flow(stats, &exporter, &f);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!stats)
        setup();
    static fkc_stats_cell cells[FKC_STATS_CELLS_MAX];
    static fkc_stats_selector sel[FKC_STATS_CELLS_MAX];
    static fk_prefixstats_bucket buckets[FKC_STATS_CELLS_MAX];
    char err[200];
    size_t n = 0;
    if (fkc_stats_body_parse((const char *)data, size, cells, FKC_STATS_CELLS_MAX, &n, err,
                             sizeof err) != 0) {
        if (!memchr(err, '\0', sizeof err) || !strstr(err, "at byte"))
            abort(); /* a refusal says where */
        return 0;
    }
    if (n > FKC_STATS_CELLS_MAX)
        abort();
    for (size_t i = 0; i < n; i++)
        if (!memchr(cells[i].prefix, '\0', sizeof cells[i].prefix) ||
            !memchr(cells[i].name, '\0', sizeof cells[i].name) ||
            !memchr(cells[i].bucket, '\0', sizeof cells[i].bucket))
            abort();
    if (fkc_stats_cells_check(cells, n, sel, buckets, err, sizeof err) != 0)
        return 0;
    fk_prefixstats_row rows[3];
    for (size_t i = 0; i < n; i++) {
        size_t got = 99;
        int rc = fk_prefixstats_get_rows(stats, "192.0.2.1", cells[i].prefix, &buckets[i],
                                         sel[i].field, rows, 3, &got);
        if (rc != 0 && got != 0)
            abort();
        if (got > 3)
            abort();
        char name[32];
        if (fk_prefixstats_bucket_format(&buckets[i], name, sizeof name) < 0)
            abort(); /* every bucket that parses has a name */
    }
    return 0;
}
