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

#include "store_fixture.h"

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
