/* The store's pre-aggregation (lib/store/agg.c): flows of one second
 * summed per key before the top-K, series and per-IP tables see them.
 * 1. Where no table has to evict, a store with the table answers exactly
 *    as one without it (agg_keys = 0, every flow straight to the tables):
 *    every top-K row of every dimension and window, every series, every
 *    address's totals, series, peers and protocols, and the counters; on
 *    random streams with IPv4 and IPv6, several exporters, process names
 *    (which bypass the table), reverse counts, flows out of order, flows
 *    older than the spans (late), queries in between, and tables of 1,
 *    7 and 4096 keys (flushed when full).
 * 2. The hard ends against a naive reference written here (exact sums per
 *    key): every record distinct, one key only, far more keys than any
 *    summary holds. Series and totals must be exact, top-K rows never
 *    below the truth nor more than `error` above it, every key heavier
 *    than total / topk_capacity present, memory fixed.
 * 3. A window whose slot summary is full but never evicted is exact.
 * 4. Keys that differ in one part only (step, protocol, port, an address,
 *    the exporter or its absence, an IPv6 source) are summed apart. */
#include <stdlib.h>
#include <string.h>

#include "fk_test.h"
#include "store/store_int.h"

#define SEC INT64_C(1000000000)
#define T0 (INT64_C(1800000000) * SEC)

static uint64_t rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static fk_addr v4(uint32_t a)
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

static fk_addr v6(uint32_t a)
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

static fk_store *mk(const char *agg_keys, const char *topk_cap, const char *max_ips,
                    const char *peers)
{
    fk_store *s = NULL;
    assert_int_equal(fk_store_create(&s), 0);
    assert_int_equal(fk_store_set_text(s, "agg_keys", agg_keys), 0);
    assert_int_equal(fk_store_set_text(s, "topk_capacity", topk_cap), 0);
    assert_int_equal(fk_store_set_text(s, "topk_slot", "60"), 0);
    assert_int_equal(fk_store_set_text(s, "topk_span", "300"), 0); /* slots reused */
    assert_int_equal(fk_store_set_text(s, "max_ips", max_ips), 0);
    assert_int_equal(fk_store_set_text(s, "ip_peers", peers), 0);
    assert_int_equal(fk_store_set_text(s, "ip_protocols", "8"), 0);
    assert_int_equal(fk_store_set_text(s, "series_buckets", "360"), 0); /* 1 h of 10 s */
    assert_int_equal(fk_store_set_text(s, "max_flows", "1000"), 0);
    assert_int_equal(fk_store_activate(s), 0);
    return s;
}

/* A random flow of a small key space (exact regime: every summary holds
 * all of its keys). */
static fk_flow mix_flow(uint64_t *seed, int64_t *t)
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

static void same_rows(const fk_store_row *a, size_t na, const fk_store_row *b, size_t nb)
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

static void same_points(fk_store_point *a, size_t na, fk_store_point *b, size_t nb)
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
static void same_answers(fk_store *a, fk_store *b)
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

static void exact_with(const char *agg_keys, uint64_t seed, bool queries)
{
    fk_store *a = mk(agg_keys, "256", "256", "64"), *b = mk("0", "256", "256", "64");
    int64_t t = T0;
    bool bypassed = false, merged = false;
    for (int i = 0; i < 20000; i++) {
        fk_flow f = mix_flow(&seed, &t);
        assert_int_equal(fk_store_add_flow(a, &f), 0);
        bypassed |= a->agg_bypass;
        merged |= a->agg_flows > a->agg_n; /* an entry summed two flows */
        assert_int_equal(fk_store_add_flow(b, &f), 0);
        if (queries && i % 3001 == 0)
            same_answers(a, b); /* a query flushes the table mid-second */
    }
    same_answers(a, b);
    fk_store_stats st;
    assert_int_equal(fk_store_get_stats(a, &st, sizeof st), 0);
    assert_true(st.late > 0); /* the late path was taken */
    /* 1 and 7 keys: full every few flows, nearly all distinct, so the
     * table is bypassed for a while (and tried again); 4096: ~500 flows a
     * 10 s step, some summed (and bypassed too where a step saved little). */
    if (strcmp(agg_keys, "4096") == 0)
        assert_true(merged);
    else
        assert_true(bypassed);
    fk_store_destroy(a);
    fk_store_destroy(b);
}

static void test_exact_default_table(void **state)
{
    (void)state;
    exact_with("4096", 11, true);
    exact_with("4096", 12, false);
}

static void test_exact_small_tables(void **state)
{
    (void)state;
    exact_with("1", 13, false); /* flushed after every new key */
    exact_with("7", 14, true);  /* full every few flows, then bypassed */
}

/* A flow of a small key space whose keys differ from one base key in
 * one part (step, protocol, port, source, destination, exporter or its
 * absence, an IPv6 source: the long key), among 24 values each: many
 * flows a step share a key, so the table sums them (never bypassed), and
 * an entry that took a flow of another key shows in some answer. */
static fk_flow one_part_flow(uint64_t *seed, int64_t *t)
{
    uint64_t r = rnd(seed);
    uint32_t v = (uint32_t)(r >> 8) % 24, spread = 0x01000193u + v * 0x9e3779b1u;
    fk_flow f;
    memset(&f, 0, sizeof f);
    f.src = v4(0x0a000001u);
    f.dst = v4(0xc0a80001u);
    f.present = FK_FLOW_HAS_EXPORTER;
    f.exporter = v4(0xc0000201u);
    f.proto = 6;
    f.dst_port = 443;
    *t += 5000000; /* 200 flows a second */
    f.end_ns = *t;
    switch (r % 8) {
    case 0:
        f.src = v4(spread);
        break;
    case 1:
        f.dst = v4(spread);
        break;
    case 2:
        f.exporter = v4(spread);
        break;
    case 3:
        f.dst_port = (uint16_t)spread;
        break;
    case 4:
        f.proto = v % 2 ? 17 : 6;
        break;
    case 5:
        f.present = v % 2 ? FK_FLOW_HAS_EXPORTER : 0; /* the exporter or none */
        break;
    case 6:
        f.src = v6(v); /* the long key */
        break;
    default:
        break; /* the base key */
    }
    if ((r >> 60) % 4 == 0)
        f.end_ns -= 10 * SEC; /* a quarter in the step before */
    f.src_port = (uint16_t)(1024 + (r >> 24) % 1000);
    f.bytes = 100 + (r >> 40) % 1000;
    f.packets = 1 + (r >> 50) % 5;
    f.start_ns = f.end_ns - SEC;
    return f;
}

/* Keys that differ in one part only are never summed together: the
 * table's answers equal those without it. agg_keys 64 (128 index slots
 * for up to ~150 keys a step): probes run into other keys' entries all
 * the time. */
static void one_part_with(const char *agg_keys)
{
    fk_store *a = mk(agg_keys, "256", "256", "64"), *b = mk("0", "256", "256", "64");
    uint64_t seed = 21;
    int64_t t = T0;
    uint64_t summed = 0;
    for (int i = 0; i < 6000; i++) {
        fk_flow f = one_part_flow(&seed, &t);
        uint32_t n0 = a->agg_n;
        uint64_t f0 = a->agg_flows;
        assert_int_equal(fk_store_add_flow(a, &f), 0);
        assert_int_equal(fk_store_add_flow(b, &f), 0);
        summed += n0 && a->agg_n == n0 && a->agg_flows == f0 + 1; /* it joined an entry */
        assert_false(a->agg_bypass);
        if (i % 997 == 0)
            same_answers(a, b);
    }
    same_answers(a, b);
    assert_true(summed > 1000); /* of 6000 flows */
    fk_store_destroy(a);
    fk_store_destroy(b);
}

static void test_keys_differing_in_one_part(void **state)
{
    (void)state;
    one_part_with("64");
    one_part_with("4096");
}

/* The naive reference: exact bytes per source. */
typedef struct ref {
    uint32_t n;
    uint32_t *key;
    uint64_t *bytes;
} ref;

static void ref_add(ref *r, uint32_t key, uint64_t bytes)
{
    for (uint32_t i = 0; i < r->n; i++)
        if (r->key[i] == key) {
            r->bytes[i] += bytes;
            return;
        }
    r->key[r->n] = key;
    r->bytes[r->n++] = bytes;
}

enum { HARD_DISTINCT, HARD_ONE, HARD_MANY };

/* One of the hard ends, fed over 4 minutes (inside every window), with
 * agg_keys = 64 (full and flushed again and again when keys are many). */
static void hard_end(int mode)
{
    enum { N = 40000, CAP = 16 };
    fk_store *s = mk("64", "16", "64", "4");
    fk_store_stats before, st;
    assert_int_equal(fk_store_get_stats(s, &before, sizeof before), 0);
    ref truth = {0, calloc(N, sizeof(uint32_t)), calloc(N, sizeof(uint64_t))};
    assert_non_null(truth.key);
    assert_non_null(truth.bytes);
    uint64_t seed = 77 + (uint64_t)mode, total = 0, packets = 0;
    int64_t t0 = T0 + 61 * SEC; /* the oldest slot is whole in a 300 s window */
    for (int i = 0; i < N; i++) {
        uint32_t src = mode == HARD_DISTINCT ? (uint32_t)i
                       : mode == HARD_ONE
                           ? 7u
                           : (uint32_t)(rnd(&seed) % 3000) * (rnd(&seed) % 4 ? 1 : 0);
        fk_flow f;
        memset(&f, 0, sizeof f);
        f.src = v4(0x0a000000u + src);
        f.dst = mode == HARD_DISTINCT ? v4(0x0b000000u + (uint32_t)i) : v4(0xc0a80001u);
        f.proto = 6;
        f.src_port = 1000;
        f.dst_port = mode == HARD_DISTINCT ? (uint16_t)i : 443;
        f.bytes = 1 + rnd(&seed) % 1000;
        f.packets = 1;
        f.end_ns = t0 + (int64_t)i * (200 * SEC / N);
        f.start_ns = f.end_ns;
        assert_int_equal(fk_store_add_flow(s, &f), 0);
        ref_add(&truth, src, f.bytes);
        total += f.bytes;
        packets++;
    }
    assert_int_equal(fk_store_get_stats(s, &st, sizeof st), 0);
    assert_int_equal(st.memory_bytes, before.memory_bytes);
    assert_int_equal(st.flows_kept, N);
    assert_int_equal(st.late, 0);
    assert_true(st.ips <= 64);
    if (mode == HARD_ONE) {
        assert_int_equal(st.topk_evictions, 0);
        assert_int_equal(st.ips, 2);
    } else {
        assert_true(st.topk_evictions > 0);
        assert_true(st.ips_evicted > 0);
    }
    /* Series: exact whatever the key count. */
    static fk_store_point p[64];
    size_t np;
    int64_t now = fk_store_get_now(s);
    assert_int_equal(fk_store_get_series(s, FK_STORE_SERIES_TOTAL, NULL, now - 3600 * SEC,
                                         now + SEC, 3600 * SEC, p, 64, &np),
                     0);
    uint64_t sb = 0, sp = 0, sf = 0;
    for (size_t i = 0; i < np; i++) {
        sb += p[i].bytes;
        sp += p[i].packets;
        sf += p[i].flows;
    }
    assert_int_equal(sb, total);
    assert_int_equal(sp, packets);
    assert_int_equal(sf, N);
    /* Top-K by source over the whole stream: bounds against the truth. */
    static fk_store_row rows[4096];
    size_t n;
    assert_int_equal(fk_store_get_top(s, FK_STORE_DIM_SRC, 300, rows, 4096, &n), 0);
    assert_true(n > 0);
    for (size_t i = 0; i < n; i++) {
        uint32_t k = (uint32_t)rows[i].key.addr.bytes[1] << 16 |
                     (uint32_t)rows[i].key.addr.bytes[2] << 8 | rows[i].key.addr.bytes[3];
        uint64_t exact = 0;
        for (uint32_t j = 0; j < truth.n; j++)
            if (truth.key[j] == k)
                exact = truth.bytes[j];
        assert_true(exact > 0 || rows[i].bytes <= rows[i].error);
        assert_true(rows[i].bytes >= exact);
        assert_true(rows[i].bytes - rows[i].error <= exact);
    }
    for (uint32_t j = 0; j < truth.n; j++) {
        if (truth.bytes[j] * CAP <= total)
            continue;
        bool found = false; /* a heavy key is in the answer */
        for (size_t i = 0; i < n && !found; i++)
            found = rows[i].key.addr.bytes[3] == (truth.key[j] & 0xff) &&
                    rows[i].key.addr.bytes[2] == ((truth.key[j] >> 8) & 0xff);
        assert_true(found);
    }
    if (mode == HARD_ONE) {
        assert_int_equal(n, 1);
        assert_int_equal(rows[0].bytes, total);
        assert_int_equal(rows[0].flows, N);
        assert_int_equal(rows[0].error, 0);
        fk_store_ip_info in;
        fk_addr a = v4(0x0a000007u);
        assert_int_equal(fk_store_get_ip(s, &a, &in), 0);
        assert_int_equal(in.bytes_out, total);
        assert_int_equal(in.flows_src, N);
        assert_int_equal(in.first_ns, t0);
    }
    free(truth.key);
    free(truth.bytes);
    fk_store_destroy(s);
}

static void test_every_record_distinct(void **state)
{
    (void)state;
    hard_end(HARD_DISTINCT);
}

static void test_one_key_only(void **state)
{
    (void)state;
    hard_end(HARD_ONE);
}

static void test_far_more_keys_than_capacity(void **state)
{
    (void)state;
    hard_end(HARD_MANY);
}

/* A window over two slots, one of them full without ever evicting: it
 * holds every key it saw, so the keys it lacks add nothing there, and the
 * answer is exact while topk_evictions is 0 (docs/store.md). */
static void test_full_slot_without_evictions_is_exact(void **state)
{
    (void)state;
    fk_store *s = mk("4096", "4", "1000", "8");
    int64_t t0 = T0 / (60 * SEC) * (60 * SEC);
    for (uint32_t k = 1; k <= 5; k++) { /* slot 1: sources 1..4; slot 2: source 5 */
        fk_flow f;
        memset(&f, 0, sizeof f);
        f.src = v4(0x0a000000u + k);
        f.dst = v4(0xc0000201u);
        f.proto = 17;
        f.dst_port = 53;
        f.bytes = k <= 4 ? 1000 * k : 500;
        f.packets = 1;
        f.end_ns = t0 + (k <= 4 ? 1 : 61) * SEC;
        f.start_ns = f.end_ns - SEC;
        assert_int_equal(fk_store_add_flow(s, &f), 0);
    }
    fk_store_row rows[8];
    size_t n = 0;
    assert_int_equal(fk_store_get_top(s, FK_STORE_DIM_SRC, 300, rows, 8, &n), 0);
    fk_store_stats st;
    assert_int_equal(fk_store_get_stats(s, &st, sizeof st), 0);
    assert_int_equal(st.topk_evictions, 0);
    assert_int_equal(n, 5);
    for (size_t i = 0; i < n; i++) {
        uint32_t k = rows[i].key.addr.bytes[3];
        assert_int_equal(rows[i].bytes, k <= 4 ? 1000 * k : 500);
        assert_int_equal(rows[i].error, 0);
        assert_int_equal(k, i < 4 ? 4 - i : 5); /* by bytes: 4, 3, 2, 1, then 5 */
    }
    fk_store_destroy(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact_default_table),
        cmocka_unit_test(test_exact_small_tables),
        cmocka_unit_test(test_keys_differing_in_one_part),
        cmocka_unit_test(test_every_record_distinct),
        cmocka_unit_test(test_one_key_only),
        cmocka_unit_test(test_far_more_keys_than_capacity),
        cmocka_unit_test(test_full_slot_without_evictions_is_exact),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
