/* flowkit-ipfix's packed tables (cli/flowkit-ipfix/aggsmall.c), which the
 * query fast path fills straight from records, against the general table
 * (aggtable.c) that the flow path fills: the same flows under both must
 * give the same rows (keys, counters, times in ns) in every order. Checked
 * with random keys of every key set that packs (-s and -A dimensions),
 * IPv6 addresses, keys built to share one home slot at every table size,
 * growth to many keys, each time form (raw minimum and maximum converted
 * after), a key that lands in both a packed and the general table, and a
 * -t window's ends as raw times. */
#include <flowkit/flowkit.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aggsmall.h"
#include "aggtable.h"
#include "fk_test.h"
#include "qtime.h"

static uint64_t rnd(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *s = x;
}

/* A flow's key fields, as the fast path reads them from a record. */
typedef struct kf {
    uint32_t src4, dst4;
    uint8_t src6[16];
    uint16_t sport, dport;
    uint8_t proto;
} kf;

/* The packed key of fields k under mask (fastq.c's direct(): each field at
 * aggs_layout()'s shift; v6: the one address). */
static aggs_key pack(const kf *k, unsigned mask, bool v6)
{
    aggs_key key = {0, 0};
    if (v6) {
        for (int i = 0; i < 8; i++) {
            key.hi = key.hi << 8 | k->src6[i];
            key.lo = key.lo << 8 | k->src6[8 + i];
        }
        return key;
    }
    unsigned sh[5];
    assert_true(aggs_layout(mask, sh) <= 104);
    const uint64_t v[5] = {k->src4, k->dst4, k->sport, k->dport, k->proto};
    for (int i = 0; i < 5; i++)
        if (mask & (1u << i)) {
            if (sh[i] >= 64)
                key.hi |= v[i] << (sh[i] - 64);
            else
                key.lo |= v[i] << sh[i];
        }
    return key;
}

/* The flow the general path decodes for the same fields (mask: which the
 * key reads; v6: the source address is k->src6, keyed as srcip or dstip). */
static void flow_of(const kf *k, bool v6, unsigned mask, fk_flow *f)
{
    memset(f, 0, sizeof *f);
    if (v6) {
        fk_addr *a = mask & AGG_SRCIP ? &f->src : &f->dst;
        a->family = 6;
        memcpy(a->bytes, k->src6, 16);
        return;
    }
    f->src.family = f->dst.family = 4;
    for (int i = 0; i < 4; i++) {
        f->src.bytes[i] = (uint8_t)(k->src4 >> (24 - 8 * i));
        f->dst.bytes[i] = (uint8_t)(k->dst4 >> (24 - 8 * i));
    }
    f->src_port = k->sport;
    f->dst_port = k->dport;
    f->proto = k->proto;
}

/* Rows of the general table and of the packed ones must be equal in
 * every order. */
static void same_rows(const aggtable *gen, const aggtable *other, const aggsmall *s, size_t ns)
{
    for (int o = ORDER_FLOWS; o <= ORDER_TEND; o++) {
        size_t n1 = 0, n2 = 0;
        agg_entry *a = aggs_rows(gen, NULL, 0, &n1);
        agg_entry *b = aggs_rows(other, s, ns, &n2);
        assert_int_equal(n1, n2);
        agg_sort(a, n1, (agg_order)o);
        agg_sort(b, n2, (agg_order)o);
        for (size_t i = 0; i < n1; i++) {
            assert_memory_equal(&a[i].key, &b[i].key, sizeof a[i].key);
            assert_true(a[i].flows == b[i].flows);
            assert_true(a[i].packets == b[i].packets);
            assert_true(a[i].bytes == b[i].bytes);
            assert_true(a[i].first_ns == b[i].first_ns);
            assert_true(a[i].last_ns == b[i].last_ns);
        }
        free(a);
        free(b);
    }
}

/* Random flows over a small pool of values per field (keys repeat), with
 * random counters and millisecond times, into both tables: every key set
 * of -s and -A (IPv4: every one packs, in 64 bits or in 128). */
static void test_random_key_sets(void **state)
{
    (void)state;
    uint64_t s = 0x243f6a8885a308d3ull;
    int sets = 0;
    for (unsigned mask = 1; mask < 32; mask++) {
        unsigned sh[5];
        if (aggs_layout(mask, sh) > 104)
            continue;
        sets++;
        aggtable gen = {mask, NULL, 0, 0, 0}, none = {mask, NULL, 0, 0, 0};
        aggsmall sm = AGGSMALL_INIT(0);
        sm.start_form = sm.end_form = T_MS;
        unsigned pool = 1u + (unsigned)(rnd(&s) % 5000);
        for (int i = 0; i < 20000; i++) {
            kf k;
            memset(&k, 0, sizeof k);
            uint64_t r = rnd(&s) % pool;
            k.src4 = (uint32_t)(r * 2654435761u);
            k.dst4 = (uint32_t)(rnd(&s) % 7) << 24 | (uint32_t)r;
            k.sport = (uint16_t)(r % 65536);
            k.dport = (uint16_t)(rnd(&s) % 3 ? 65535 - r % 4 : r);
            k.proto = (uint8_t)(r % 256);
            uint64_t t0 = 1700000000000ull + rnd(&s) % 100000000, t1 = t0 + rnd(&s) % 100000;
            fk_flow f;
            flow_of(&k, false, mask, &f);
            f.packets = rnd(&s) % 1000;
            f.bytes = rnd(&s) % 1000000;
            f.start_ns = qt_ms_to_ns(t0);
            f.end_ns = qt_ms_to_ns(t1);
            agg_key gk;
            agg_key_of(&gk, mask, &f, 0);
            assert_int_equal(agg_add(&gen, &gk, &f), 0);
            assert_int_equal(aggs_add(&sm, pack(&k, mask, false), f.packets, f.bytes, t0, t1), 0);
        }
        assert_int_equal(sm.count, gen.count);
        assert_true(sm.count * 2 <= sm.cap); /* bounded: at most half full */
        same_rows(&gen, &none, &sm, 1);
        agg_free(&gen);
        aggs_free(&sm);
    }
    assert_int_equal(sets, 31); /* every key set */
}

/* IPv6 keys (srcip, dstip): the address round-trips, and v4 and v6 tables
 * of one statistic, with the general table holding keys of both, give one
 * set of rows. */
static void test_v6_keys(void **state)
{
    (void)state;
    uint64_t s = 0x13198a2e03707344ull;
    for (unsigned mask = AGG_SRCIP; mask <= AGG_DSTIP; mask++) {
        aggtable gen = {mask, NULL, 0, 0, 0}, both = {mask, NULL, 0, 0, 0};
        aggsmall sm[2] = {AGGSMALL_INIT(0), AGGSMALL_INIT(1)};
        sm[0].start_form = sm[0].end_form = sm[1].start_form = sm[1].end_form = T_S;
        for (int i = 0; i < 30000; i++) {
            kf k;
            memset(&k, 0, sizeof k);
            bool v6 = rnd(&s) & 1;
            uint64_t r = rnd(&s) % 3000;
            k.src4 = k.dst4 = (uint32_t)r;
            k.src6[0] = 0x20;
            k.src6[1] = 0x01;
            /* every octet from the pool's value, mixed (splitmix64) */
            uint64_t h1 = (r + 1) * 0x9e3779b97f4a7c15ull;
            uint64_t h2 = (h1 ^ (h1 >> 31)) * 0xbf58476d1ce4e5b9ull;
            for (int b = 2; b < 16; b++)
                k.src6[b] = (uint8_t)(b < 8 ? h1 >> (8 * b) : h2 >> (8 * (b - 8)));
            fk_flow f;
            flow_of(&k, v6, mask, &f);
            uint32_t t0 = 1700000000u + (uint32_t)(rnd(&s) % 1000);
            f.packets = 1;
            f.bytes = r;
            f.start_ns = qt_to_ns(t0, T_S);
            f.end_ns = qt_to_ns(t0 + 5, T_S);
            agg_key gk;
            agg_key_of(&gk, mask, &f, 0);
            assert_int_equal(agg_add(&gen, &gk, &f), 0);
            if (i % 5 == 0 && v6) /* the flow path's share: IPv6 keys in both */
                assert_int_equal(agg_add(&both, &gk, &f), 0);
            else
                assert_int_equal(
                    aggs_add(&sm[v6], pack(&k, mask, v6), f.packets, f.bytes, t0, t0 + 5u), 0);
        }
        same_rows(&gen, &both, sm, 2);
        agg_free(&gen);
        agg_free(&both);
        aggs_free(&sm[0]);
        aggs_free(&sm[1]);
    }
}

/* c's inverse mod 2^64 (Newton: each step doubles the bits). */
static uint64_t inverse(uint64_t c)
{
    uint64_t inv = c;
    for (int i = 0; i < 6; i++)
        inv *= 2 - c * inv;
    assert_true(c * inv == 1);
    return inv;
}

/* Keys whose hashes share their top 24 bits under the table's seed (set
 * here, so that the keys can be made): one home slot at every table size
 * up to 2^24, a run of probes that grows with each key; beside them
 * random keys. Every one is found and counted once per add. */
static void test_collisions(void **state)
{
    (void)state;
    const uint64_t seed = 0x5bd1e9955bd1e995ull;
    const uint64_t inv_phi = inverse(0x9e3779b97f4a7c15ull),
                   inv_c0 = inverse(0xd6e8feb86659fd93ull);
    unsigned mask = AGG_SRCIP | AGG_DSTIP; /* every 64-bit value is a key */
    aggtable gen = {mask, NULL, 0, 0, 0}, none = {mask, NULL, 0, 0, 0};
    aggsmall sm = AGGSMALL_INIT(0);
    sm.start_form = sm.end_form = T_NS;
    sm.seed = seed;
    uint64_t s = 0xa4093822299f31d0ull;
    for (int round = 0; round < 3; round++)
        for (uint64_t i = 0; i < 3000; i++) {
            /* aggs_index backwards: the sum, lo's mix (hi is 0), the
             * product before the fold (x ^ x >> 32 is its own inverse), lo */
            uint64_t m =
                ((0xabcdefull << 40) | i) * inv_phi - agg_mix(0, seed, 0xc2b2ae3d27d4eb4full);
            uint64_t lo = i % 2 ? ((m ^ (m >> 32)) * inv_c0) ^ seed : rnd(&s) % 100000;
            assert_true(i % 2 == 0 || aggs_index((aggs_key){0, lo}, seed, 40) == 0xabcdef);
            kf k;
            memset(&k, 0, sizeof k);
            unsigned sh[5];
            (void)aggs_layout(mask, sh);
            k.src4 = (uint32_t)(lo >> sh[0]);
            k.dst4 = (uint32_t)(lo >> sh[1]);
            fk_flow f;
            flow_of(&k, false, mask, &f);
            /* NTP times, fractions that round differently */
            uint64_t t0 = (3900000000ull << 32) + rnd(&s) % 0x100000000ull, t1 = t0 + 12345;
            f.packets = round + 1;
            f.bytes = i;
            f.start_ns = qt_to_ns(t0, T_NS);
            f.end_ns = qt_to_ns(t1, T_NS);
            agg_key gk;
            agg_key_of(&gk, mask, &f, 0);
            assert_int_equal(agg_add(&gen, &gk, &f), 0);
            aggs_key pk = pack(&k, mask, false);
            assert_true(pk.lo == lo);
            assert_int_equal(aggs_add(&sm, pk, f.packets, f.bytes, t0, t1), 0);
        }
    assert_int_equal(sm.count, gen.count);
    same_rows(&gen, &none, &sm, 1);
    agg_free(&gen);
    aggs_free(&sm);
}

/* The longest probe run of t: how far an entry sits from its home slot. */
static size_t aggs_longest_run(const aggsmall *t)
{
    size_t worst = 0;
    for (size_t i = 0; i < t->cap; i++)
        if (t->slots[i].flows) {
            size_t d = (i - aggs_index(t->slots[i].key, t->seed, t->shift)) & (t->cap - 1);
            worst = d > worst ? d : worst;
        }
    return worst;
}

static size_t agg_longest_run(const aggtable *t)
{
    size_t worst = 0;
    for (size_t i = 0; i < t->cap; i++)
        if (t->slots[i].flows) {
            size_t d = (i - agg_hash(&t->slots[i].key, t->seed)) & (t->cap - 1);
            worst = d > worst ? d : worst;
        }
    return worst;
}

/* Keys a file could hold to put every one in one probe run if the hashes
 * were linear in the key's words without a seed (lo + hi * c equal for
 * all, or w0 * c0 + w1 * c1 equal for all): under each of three seeds
 * (fixed here; the tool draws one per table) they spread like any keys,
 * runs stay short (a shared run would be 20 000 long). */
static void test_crafted_keys_spread(void **state)
{
    (void)state;
    const uint64_t seeds[3] = {1, 0x243f6a8885a308d3ull, 0xfedcba9876543210ull};
    const uint64_t inv0 = inverse(0x9e3779b97f4a7c15ull);
    for (int si = 0; si < 3; si++) {
        aggsmall sm = AGGSMALL_INIT(0);
        sm.start_form = sm.end_form = T_NS;
        sm.seed = seeds[si];
        aggtable gen = {AGG_SRCIP | AGG_DSTIP | AGG_SRCPORT, NULL, 0, 0, seeds[si]};
        for (uint64_t i = 1; i <= 20000; i++) {
            uint64_t hi = i * 0x10001, lo = 0x1234567ull - hi * 0xc2b2ae3d27d4eb4full;
            assert_int_equal(aggs_add(&sm, (aggs_key){hi, lo}, 1, 1, 1, 2), 0);
            agg_key k;
            memset(&k, 0, sizeof k);
            uint64_t w1 = i << 20, w0 = (0x1234567ull - w1 * 0xc2b2ae3d27d4eb4full) * inv0;
            memcpy((unsigned char *)&k, &w0, 8);
            memcpy((unsigned char *)&k + 8, &w1, 8);
            fk_flow f;
            memset(&f, 0, sizeof f);
            f.packets = f.bytes = 1;
            assert_int_equal(agg_add(&gen, &k, &f), 0);
        }
        assert_int_equal(sm.count, 20000);
        assert_int_equal(gen.count, 20000);
        assert_true(aggs_longest_run(&sm) < 200);
        assert_true(agg_longest_run(&gen) < 200);
        aggs_free(&sm);
        agg_free(&gen);
    }
}

/* Growth to many distinct keys (sequential addresses, the worst case for
 * a weak hash): every key once, counters and the table bounded. */
static void test_growth(void **state)
{
    (void)state;
    aggsmall sm = AGGSMALL_INIT(0);
    sm.start_form = sm.end_form = T_MS;
    const uint32_t n = 1u << 20;
    for (int round = 0; round < 2; round++)
        for (uint32_t i = 0; i < n; i++)
            assert_int_equal(aggs_add(&sm, (aggs_key){0, 0x0a000000u + i}, 1, i, 100 + round, 200),
                             0);
    assert_int_equal(sm.count, n);
    assert_int_equal(sm.cap, (size_t)n * 2); /* half full at the last key; repeats add none */
    aggtable none = {AGG_SRCIP, NULL, 0, 0, 0};
    size_t rows = 0;
    agg_entry *v = aggs_rows(&none, &sm, 1, &rows);
    assert_non_null(v);
    assert_int_equal(rows, n);
    uint64_t flows = 0;
    for (size_t i = 0; i < rows; i++) {
        flows += v[i].flows;
        assert_int_equal(v[i].first_ns, 100 * 1000000ll);
        assert_int_equal(v[i].bytes, 2 * (uint64_t)(((uint32_t)v[i].key.src.bytes[1] << 16 |
                                                     (uint32_t)v[i].key.src.bytes[2] << 8 |
                                                     v[i].key.src.bytes[3])));
    }
    assert_int_equal(flows, 2 * (uint64_t)n);
    free(v);
    aggs_free(&sm);
    assert_null(sm.slots);
    assert_int_equal(sm.start_form, -1);
}

/* A key that one template put in the packed table and another (a time
 * form the table had not claimed, a filter on flows) in the general one:
 * one row, counters added up, the earlier start and later end. */
static void test_key_in_both(void **state)
{
    (void)state;
    unsigned mask = AGG_DSTPORT | AGG_PROTO;
    aggtable gen = {mask, NULL, 0, 0, 0}, both = {mask, NULL, 0, 0, 0};
    aggsmall sm = AGGSMALL_INIT(0);
    sm.start_form = T_US;
    sm.end_form = T_S;
    kf k;
    memset(&k, 0, sizeof k);
    for (int i = 0; i < 40; i++) {
        k.dport = (uint16_t)(443 + i % 4);
        k.proto = 6;
        fk_flow f;
        flow_of(&k, false, mask, &f);
        uint64_t t0 = (3900000000ull << 32) | (0xfffffbffull - (uint64_t)i); /* rounds up */
        uint32_t t1 = 1691011200u + (uint32_t)i;
        f.packets = (uint64_t)i;
        f.bytes = 10 * (uint64_t)i;
        f.start_ns = qt_to_ns(t0, T_US);
        f.end_ns = qt_to_ns(t1, T_S);
        agg_key gk;
        agg_key_of(&gk, mask, &f, 0);
        assert_int_equal(agg_add(&gen, &gk, &f), 0);
        if (i % 3)
            assert_int_equal(aggs_add(&sm, pack(&k, mask, false), f.packets, f.bytes, t0, t1), 0);
        else
            assert_int_equal(agg_add(&both, &gk, &f), 0);
    }
    same_rows(&gen, &both, &sm, 1);
    agg_free(&gen);
    agg_free(&both);
    aggs_free(&sm);
}

/* -t on the packed path: a window's ends as raw times of each form, the
 * first raw value at or after the start and the last at or before the end
 * (its neighbours on the other side), and none when no raw value is. */
static void test_window_bounds(void **state)
{
    (void)state;
    uint64_t s = 0xbe5466cf34e90c6cull;
    for (unsigned form = 0; form < T_FORMS; form++)
        for (int i = 0; i < 2000; i++) {
            /* around 2023, at whole seconds, ms and us, and anywhere */
            int64_t ns = 1700000000ll * 1000000000 + (int64_t)(rnd(&s) % 4000000000000ull);
            if (i % 4 == 1)
                ns -= ns % 1000000000;
            else if (i % 4 == 2)
                ns -= ns % 1000;
            uint64_t r;
            assert_true(qt_raw_from(ns, form, &r));
            assert_true(qt_to_ns(r, form) >= ns);
            assert_true(r == 0 || qt_to_ns(r - 1, form) < ns);
            assert_true(qt_raw_until(ns, form, &r));
            assert_true(qt_to_ns(r, form) <= ns);
            assert_true(r == qt_raw_max(form) || qt_to_ns(r + 1, form) > ns);
        }
    uint64_t r;
    assert_false(qt_raw_from(INT64_MAX, T_S, &r)); /* 2^32 - 1 s is before it */
    assert_true(qt_raw_from(INT64_MAX, T_MS, &r)); /* saturated ms reach it */
    assert_false(qt_raw_until(INT64_MIN, T_NS, &r));
    assert_true(qt_raw_until(-1, T_NS, &r)); /* NTP times before 1970 */
    assert_true(qt_to_ns(r, T_NS) <= -1 && qt_to_ns(r + 1, T_NS) > -1);
}

/* Top-N (agg_top) gives the first N rows a full sort gives, in every
 * order, with many ties on the counters (the key decides them). */
static void test_top(void **state)
{
    (void)state;
    uint64_t s = 0x452821e638d01377ull;
    const size_t n = 3000;
    agg_entry *a = calloc(n, sizeof *a), *b = calloc(n, sizeof *b);
    assert_non_null(a);
    assert_non_null(b);
    for (size_t i = 0; i < n; i++) {
        a[i].key.sport = (uint16_t)i;
        a[i].key.proto = (uint8_t)(rnd(&s) % 3);
        a[i].flows = rnd(&s) % 7;
        a[i].packets = rnd(&s) % 1000;
        a[i].bytes = rnd(&s);
        a[i].first_ns = (int64_t)(rnd(&s) % 50);
        a[i].last_ns = (int64_t)(rnd(&s) % 5000);
    }
    const size_t ks[] = {1, 2, 10, 999, 1499, 1500, 2999, 3000, 5000, 0};
    for (int o = ORDER_FLOWS; o <= ORDER_TEND; o++)
        for (size_t j = 0; j < sizeof ks / sizeof ks[0]; j++) {
            memcpy(b, a, n * sizeof *a);
            agg_sort(b, n, (agg_order)o);
            agg_entry *c = malloc(n * sizeof *c);
            assert_non_null(c);
            memcpy(c, a, n * sizeof *a);
            agg_top(c, n, ks[j], (agg_order)o);
            size_t k = ks[j] && ks[j] < n ? ks[j] : n;
            assert_memory_equal(c, b, k * sizeof *c);
            free(c);
        }
    free(a);
    free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_key_sets), cmocka_unit_test(test_v6_keys),
        cmocka_unit_test(test_collisions),      cmocka_unit_test(test_crafted_keys_spread),
        cmocka_unit_test(test_growth),          cmocka_unit_test(test_key_in_both),
        cmocka_unit_test(test_window_bounds),   cmocka_unit_test(test_top),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
