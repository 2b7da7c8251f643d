/* NetFlow decode throughput: v5 datagrams (30 records) and v9 datagrams (a
 * 12-field template, 30 records of 45 bytes) decoded into fk_flow through an
 * fk_netflow session, in memory. Prints records/s for each.
 * Usage: bench_netflow [seconds per case, default 2] */
#include <flowkit/flowkit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint8_t *put16(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
    return p + 2;
}

static uint8_t *put32(uint8_t *p, uint32_t v)
{
    return put16(put16(p, v >> 16), v & 0xffff);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int sink(const fk_netflow_record *rec, void *user)
{
    *(uint64_t *)user += rec->flow ? rec->flow->bytes : 0;
    return 0;
}

static size_t build_v5(uint8_t *b)
{
    uint8_t *p = b;
    p = put16(p, 5), p = put16(p, 30), p = put32(p, 100000), p = put32(p, 1700000000);
    p = put32(p, 0), p = put32(p, 0), p = put32(p, 0);
    for (int i = 0; i < 30; i++) {
        p = put32(p, 0x0a000001u + (uint32_t)i), p = put32(p, 0xc0a80001u), p = put32(p, 0);
        p = put16(p, 1), p = put16(p, 2), p = put32(p, 10), p = put32(p, 1500u + (uint32_t)i);
        p = put32(p, 40000), p = put32(p, 99000), p = put16(p, 1024u + (unsigned)i);
        p = put16(p, 443);
        *p++ = 0, *p++ = 0x18, *p++ = 6, *p++ = 0;
        p = put32(p, 0), p = put32(p, 0x18180000u);
    }
    return (size_t)(p - b);
}

static const unsigned v9_fields[12][2] = {{8, 4}, {12, 4}, {7, 2},  {11, 2}, {4, 1},  {6, 1},
                                          {1, 8}, {2, 8},  {22, 4}, {21, 4}, {10, 4}, {14, 3}};

static size_t build_v9(uint8_t *b, int with_template, uint32_t seq)
{
    uint8_t *p = b;
    p = put16(p, 9), p = put16(p, 31), p = put32(p, 100000), p = put32(p, 1700000000);
    p = put32(p, seq), p = put32(p, 1);
    if (with_template) {
        p = put16(p, 0), p = put16(p, 4 + 4 + 12 * 4), p = put16(p, 256), p = put16(p, 12);
        for (int i = 0; i < 12; i++)
            p = put16(p, v9_fields[i][0]), p = put16(p, v9_fields[i][1]);
    }
    uint8_t *set = p;
    p = put16(p, 256), p = put16(p, 0);
    for (int i = 0; i < 30; i++) {
        p = put32(p, 0x0a000001u + (uint32_t)i), p = put32(p, 0xc0a80001u);
        p = put16(p, 1024u + (unsigned)i), p = put16(p, 443), *p++ = 6, *p++ = 0x18;
        p = put32(p, 0), p = put32(p, 1500u + (uint32_t)i), p = put32(p, 0), p = put32(p, 10);
        p = put32(p, 40000), p = put32(p, 99000), p = put32(p, 1);
        *p++ = 0, *p++ = 0, *p++ = 2;
    }
    while ((p - set) % 4)
        *p++ = 0;
    put16(set + 2, (unsigned)(p - set));
    return (size_t)(p - b);
}

static double run(fk_netflow *h, const uint8_t *d, size_t len, double seconds, uint64_t *sum)
{
    fk_addr exp;
    fk_addr_parse("192.0.2.1", &exp);
    uint64_t records = 0;
    double t0 = now(), t;
    do {
        for (int i = 0; i < 1000; i++) {
            if (fk_netflow_decode(h, &exp, 2055, d, len, sink, sum) != 0) {
                fprintf(stderr, "decode failed: %s\n", fk_error_last()->message);
                exit(1);
            }
        }
        records += 30000;
        t = now();
    } while (t - t0 < seconds);
    return (double)records / (t - t0);
}

int main(int argc, char **argv)
{
    double seconds = argc > 1 ? atof(argv[1]) : 2.0;
    if (seconds <= 0)
        seconds = 2.0;
    uint8_t v5[2048], v9t[2048], v9[2048];
    size_t n5 = build_v5(v5), n9t = build_v9(v9t, 1, 0), n9 = build_v9(v9, 0, 1);
    fk_netflow *h;
    if (fk_netflow_create(&h) || fk_netflow_activate(h))
        return 1;
    fk_addr exp;
    fk_addr_parse("192.0.2.1", &exp);
    uint64_t sum = 0;
    double r5 = run(h, v5, n5, seconds, &sum);
    fk_netflow_decode(h, &exp, 2055, v9t, n9t, NULL, NULL);
    double r9 = run(h, v9, n9, seconds, &sum);
    printf("netflow_v5_decode  flowkit=%.2f Mrecords/s  (%zu-byte datagrams, 30 records)\n",
           r5 / 1e6, n5);
    printf("netflow_v9_decode  flowkit=%.2f Mrecords/s  (12-field template, %zu-byte datagrams, "
           "30 records)\n",
           r9 / 1e6, n9);
    fk_netflow_destroy(h);
    return sum == 0;
}
