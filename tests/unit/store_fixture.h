/* Shared by the store's unit tests (test_store.c, test_store_agg.c,
 * test_store_batch.c, test_store_topk.c):
 * addresses, a random stream of flows over a small key space, and the
 * check that two stores give every top-K, series and per-IP answer alike. */
#ifndef FK_TEST_STORE_FIXTURE_H
#define FK_TEST_STORE_FIXTURE_H

#include <string.h>

#include "fk_test.h"
#include "store/store_int.h"

#define SEC INT64_C(1000000000)
#define T0 (INT64_C(1800000000) * SEC)

static inline uint64_t rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static inline fk_addr v4(uint32_t a)
{
    fk_addr x;
    memset(&x, 0, sizeof x);
    x.family = 4;
    x.bytes[0] = (uint8_t)(a >> 24);
    x.bytes[1] = (uint8_t)(a >> 16);
    x.bytes[2] = (uint8_t)(a >> 8);
    x.bytes[3] = (uint8_t)a;
    return x;
}

static inline fk_addr v6(uint32_t a)
{
    fk_addr x;
    memset(&x, 0, sizeof x);
    x.family = 6;
    x.bytes[0] = 0x20;
    x.bytes[1] = 0x01;
    x.bytes[12] = (uint8_t)(a >> 24);
    x.bytes[13] = (uint8_t)(a >> 16);
    x.bytes[14] = (uint8_t)(a >> 8);
    x.bytes[15] = (uint8_t)a;
    return x;
}

/* A random flow of a small key space (exact regime: every summary holds
 * all of its keys). */
static inline fk_flow mix_flow(uint64_t *seed, int64_t *t)
{
    uint64_t r = rnd(seed);
    fk_flow f;
    memset(&f, 0, sizeof f);
    uint32_t si = (uint32_t)(r % 8), di = (uint32_t)(r >> 8) % 4;
    f.src = (r >> 16) % 5 == 0 ? v6(si) : v4(0x0a000000u + si);
    f.dst = (r >> 20) % 7 == 0 ? v6(100 + di) : v4(0xc0a80000u + di);
    uint64_t q = rnd(seed); /* forms the add path must normalise to the same key */
    if ((r >> 24) % 4) {
        f.present |= FK_FLOW_HAS_EXPORTER;
        f.exporter = q % 5 ? v4(0xc0000200u + (uint32_t)(r >> 26) % 3) : v6(300 + (r >> 26) % 2);
    } else if (q % 3 == 0) {
        f.exporter = v4(0xc0000299u); /* without FK_FLOW_HAS_EXPORTER: no exporter */
    }
    if ((q >> 8) % 6 == 0 && f.src.family == 4)
        memset(f.src.bytes + 4, 0xee, 12); /* garbage past an IPv4 address */
    if ((q >> 16) % 40 == 0)
        f.dst.family = 9; /* no family: an absent destination */
    if ((r >> 30) % 9 == 0) {
        f.present |= FK_FLOW_HAS_PROCESS;
        strcpy(f.process, (r >> 33) % 2 ? "nginx" : "sshd");
    }
    f.proto = (r >> 34) % 3 ? 6 : 17;
    f.src_port = (uint16_t)(30000 + (r >> 36) % 500);
    f.dst_port = (uint16_t)((r >> 40) % 3 == 0 ? 53 : 443);
    f.bytes = 40 + (rnd(seed) >> 44);
    f.packets = 1 + f.bytes % 9;
    if ((r >> 42) % 3 == 0) {
        f.present |= FK_FLOW_HAS_REVERSE;
        f.rev_bytes = f.bytes / 3;
        f.rev_packets = f.packets / 2;
    }
    *t += (int64_t)(rnd(seed) % 40) * 1000000; /* ~50 flows a second */
    f.end_ns = *t;
    uint64_t o = rnd(seed) % 100;
    if (o < 10)
        f.end_ns -= (int64_t)(o + 1) * 300000000; /* up to 3 s out of order */
    else if (o < 12)
        f.end_ns -= 130 * SEC; /* two slots back */
    else if (o == 12)
        f.end_ns -= 2 * 3600 * SEC; /* older than every span: late */
    else if (o < 16)
        f.end_ns -= 290 * SEC; /* in the oldest slot: late once the clock moves on */
    f.start_ns = f.end_ns - SEC;
    return f;
}

static inline void same_rows(const fk_store_row *a, size_t na, const fk_store_row *b, size_t nb)
{
    assert_int_equal(na, nb);
    for (size_t i = 0; i < na; i++) {
        assert_memory_equal(&a[i].key, &b[i].key, sizeof a[i].key);
        assert_int_equal(a[i].bytes, b[i].bytes);
        assert_int_equal(a[i].packets, b[i].packets);
        assert_int_equal(a[i].flows, b[i].flows);
        assert_int_equal(a[i].error, b[i].error);
    }
}

static inline void same_points(fk_store_point *a, size_t na, fk_store_point *b, size_t nb)
{
    assert_int_equal(na, nb);
    for (size_t i = 0; i < na; i++) {
        assert_int_equal(a[i].time_ns, b[i].time_ns);
        assert_int_equal(a[i].bytes, b[i].bytes);
        assert_int_equal(a[i].packets, b[i].packets);
        assert_int_equal(a[i].flows, b[i].flows);
    }
}

/* Every answer of a and b is the same. */
static inline void same_answers(fk_store *a, fk_store *b)
{
    static fk_store_row ra[512], rb[512];
    static fk_store_point pa[512], pb[512];
    size_t na, nb;
    static const int64_t windows[] = {60, 120, 300};
    for (int d = 0; d < FK_STORE_DIM_COUNT; d++)
        for (size_t w = 0; w < 3; w++) {
            assert_int_equal(fk_store_get_top(a, d, windows[w], ra, 512, &na), 0);
            assert_int_equal(fk_store_get_top(b, d, windows[w], rb, 512, &nb), 0);
            same_rows(ra, na, rb, nb);
        }
    int64_t now = fk_store_get_now(a);
    assert_int_equal(now, fk_store_get_now(b));
    fk_store_key key;
    memset(&key, 0, sizeof key);
    for (int kind = 0; kind < 3; kind++)
        for (int k = 0; k < 3; k++) {
            key.proto = k == 0 ? 6 : 17;
            key.addr = v4(0xc0000200u + (uint32_t)k);
            int rca =
                fk_store_get_series(a, kind, &key, now - 3600 * SEC, now + SEC, 0, pa, 512, &na);
            int rcb =
                fk_store_get_series(b, kind, &key, now - 3600 * SEC, now + SEC, 0, pb, 512, &nb);
            assert_int_equal(rca, rcb);
            if (rca == 0)
                same_points(pa, na, pb, nb);
        }
    static fk_store_ip_info ia[256], ib[256];
    assert_int_equal(fk_store_get_ips(a, ia, 256, &na), 0);
    assert_int_equal(fk_store_get_ips(b, ib, 256, &nb), 0);
    assert_int_equal(na, nb);
    for (size_t i = 0; i < na; i++) {
        assert_memory_equal(&ia[i], &ib[i], sizeof ia[i]);
        size_t ma, mb;
        assert_int_equal(fk_store_get_ip_peers(a, &ia[i].addr, ra, 256, &ma), 0);
        assert_int_equal(fk_store_get_ip_peers(b, &ia[i].addr, rb, 256, &mb), 0);
        same_rows(ra, ma, rb, mb);
        assert_int_equal(fk_store_get_ip_protocols(a, &ia[i].addr, ra, 256, &ma), 0);
        assert_int_equal(fk_store_get_ip_protocols(b, &ia[i].addr, rb, 256, &mb), 0);
        same_rows(ra, ma, rb, mb);
        assert_int_equal(fk_store_get_ip_series(a, &ia[i].addr, pa, 512, &ma), 0);
        assert_int_equal(fk_store_get_ip_series(b, &ia[i].addr, pb, 512, &mb), 0);
        same_points(pa, ma, pb, mb);
    }
    fk_store_stats sa, sb;
    assert_int_equal(fk_store_get_stats(a, &sa, sizeof sa), 0);
    assert_int_equal(fk_store_get_stats(b, &sb, sizeof sb), 0);
    assert_int_equal(sa.flows_kept, sb.flows_kept);
    assert_int_equal(sa.late, sb.late);
    assert_int_equal(sa.series_key_overflow, sb.series_key_overflow);
    assert_int_equal(sa.topk_evictions, 0);
    assert_int_equal(sb.topk_evictions, 0);
    assert_int_equal(sa.ips, sb.ips);
    assert_int_equal(sa.ips_evicted, 0);
    assert_int_equal(sa.attempts, sb.attempts);
    assert_int_equal(sa.flows_stored, sb.flows_stored);
}

#endif
