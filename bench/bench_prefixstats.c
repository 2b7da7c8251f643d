/* Benchmark: the per-record cost of prefix statistics, beside the
 * collector's own per-record cost on the same records.
 *
 *   bench_prefixstats [RECORDS]     (default 300000)
 *
 * Builds RECORDS NetFlow v5 records (30 per datagram) from one sender with
 * four /24 prefixes: every record's source lies in one of them, a quarter
 * of the destinations in another (counted twice), ports and addresses
 * spread so that every field folds values into `other` (default
 * top_values). Prints, from CPU time:
 *   collector ns_per_record=X   fk_collector_feed() of the datagrams, no
 *                               outputs, the senders check on
 *   with_stats ns_per_record=Y  the same with fk_collector_set_prefixstats()
 *   add_flow ns_per_record=Z    fk_prefixstats_add_flow() alone, on the
 *                               decoded records */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <flowkit/flowkit.h>

#define PER_DGRAM 30

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void put16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, v >> 16);
    put16(p + 2, v & 0xffff);
}

static uint32_t rnd(uint64_t *s)
{
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t)(*s >> 33);
}

/* Record i: source in 198.51.100+k.0/24, destination elsewhere or (one in
 * four) in the next prefix. */
static void make_record(uint8_t *r, uint64_t *seed)
{
    uint32_t k = rnd(seed) % 4, host = rnd(seed) % 200 + 1;
    memset(r, 0, 48);
    put32(r, (198u << 24) | (51u << 16) | ((100 + k) << 8) | host);
    if (rnd(seed) % 4 == 0)
        put32(r + 4, (198u << 24) | (51u << 16) | ((100 + (k + 1) % 4) << 8) | (rnd(seed) % 250));
    else
        put32(r + 4, (10u << 24) | (rnd(seed) & 0xffffff));
    put32(r + 16, rnd(seed) % 20 + 1);
    put32(r + 20, rnd(seed) % 60000 + 40);
    put32(r + 24, 99000);
    put32(r + 28, 99500);
    put16(r + 32, 1024 + rnd(seed) % 30000);
    put16(r + 34, rnd(seed) % 8 ? 443 : rnd(seed) % 1024);
    r[38] = rnd(seed) % 3 ? 6 : 17;
    put16(r + 40, 64500 + rnd(seed) % 50);
    put16(r + 42, 64600 + rnd(seed) % 500);
}

static fk_collector *collector(fk_senders *s, fk_prefixstats *ps)
{
    fk_collector *h;
    if (fk_collector_create(&h) || fk_collector_set_senders(h, s) ||
        (ps && fk_collector_set_prefixstats(h, ps)) || fk_collector_activate(h)) {
        fprintf(stderr, "collector: %s\n", fk_error_last()->message);
        exit(1);
    }
    return h;
}

static fk_prefixstats *stats(fk_senders *s)
{
    fk_prefixstats *ps;
    if (fk_prefixstats_create(&ps) || fk_prefixstats_set_senders(ps, s) ||
        fk_prefixstats_activate(ps)) {
        fprintf(stderr, "prefixstats: %s\n", fk_error_last()->message);
        exit(1);
    }
    return ps;
}

/* CPU seconds to feed every datagram to a new collector. */
static double feed_all(fk_senders *s, fk_prefixstats *ps, const uint8_t *dgrams, size_t ndgrams,
                       size_t dlen, const fk_addr *from, uint64_t *records)
{
    fk_collector *h = collector(s, ps);
    double t0 = cpu_now();
    for (size_t i = 0; i < ndgrams; i++)
        fk_collector_feed(h, from, 2055, dgrams + i * dlen, dlen);
    double t = cpu_now() - t0;
    fk_collector_stats st;
    fk_collector_get_stats(h, &st, sizeof st);
    *records = st.records;
    fk_collector_destroy(h);
    return t;
}

int main(int argc, char **argv)
{
    size_t records = argc > 1 ? (size_t)strtoull(argv[1], NULL, 10) : 300000;
    size_t ndgrams = (records + PER_DGRAM - 1) / PER_DGRAM;
    size_t dlen = 24 + PER_DGRAM * 48;
    uint8_t *dgrams = calloc(ndgrams, dlen);
    fk_flow *flows = calloc(ndgrams * PER_DGRAM, sizeof *flows);
    if (!dgrams || !flows)
        return 1;
    uint64_t seed = 42;
    uint32_t secs = (uint32_t)time(NULL);
    for (size_t d = 0; d < ndgrams; d++) {
        uint8_t *p = dgrams + d * dlen;
        put16(p, 5);
        put16(p + 2, PER_DGRAM);
        put32(p + 4, 100000);
        put32(p + 8, secs);
        put32(p + 16, (uint32_t)(d * PER_DGRAM));
        for (int i = 0; i < PER_DGRAM; i++)
            make_record(p + 24 + i * 48, &seed);
    }
    static const char reg[] = "192.0.2.1 198.51.100.0/24 198.51.101.0/24 198.51.102.0/24 "
                              "198.51.103.0/24\n";
    fk_senders *s;
    if (fk_senders_create(&s) || fk_senders_parse(s, reg, sizeof reg - 1, NULL))
        return 1;
    fk_addr from;
    fk_addr_parse("192.0.2.1", &from);

    uint64_t n_plain = 0, n_stats = 0;
    double plain = 1e9, with = 1e9;
    for (int round = 0; round < 3; round++) { /* best of 3 */
        double t = feed_all(s, NULL, dgrams, ndgrams, dlen, &from, &n_plain);
        plain = t < plain ? t : plain;
        fk_prefixstats *ps = stats(s);
        t = feed_all(s, ps, dgrams, ndgrams, dlen, &from, &n_stats);
        with = t < with ? t : with;
        fk_prefixstats_destroy(ps);
    }
    /* add_flow alone, on the decoded records. */
    size_t nflows = 0;
    for (size_t d = 0; d < ndgrams; d++) {
        size_t got = 0;
        fk_netflow_decode_fixed(dgrams + d * dlen, dlen, &from, NULL, flows + nflows, PER_DGRAM,
                                &got);
        nflows += got;
    }
    double alone = 1e9;
    fk_prefixstats_stats st;
    for (int round = 0; round < 3; round++) {
        fk_prefixstats *ps = stats(s);
        double t0 = cpu_now();
        for (size_t i = 0; i < nflows; i++)
            fk_prefixstats_add_flow(ps, &from, &flows[i]);
        double t = cpu_now() - t0;
        alone = t < alone ? t : alone;
        fk_prefixstats_get_stats(ps, &st, sizeof st);
        fk_prefixstats_destroy(ps);
    }
    printf("records=%zu collector ns_per_record=%.1f with_stats ns_per_record=%.1f add_flow "
           "ns_per_record=%.1f\n",
           nflows, plain * 1e9 / (double)n_plain, with * 1e9 / (double)n_stats,
           alone * 1e9 / (double)nflows);
    printf("# accounted=%llu values_folded=%llu buckets=%llu memory_bytes=%llu memory_bound=%llu\n",
           (unsigned long long)st.accounted, (unsigned long long)st.values_folded,
           (unsigned long long)st.buckets, (unsigned long long)st.memory_bytes,
           (unsigned long long)st.memory_bound);
    fk_senders_destroy(s);
    free(dgrams);
    free(flows);
    return n_plain == nflows && n_stats == nflows ? 0 : 1;
}
