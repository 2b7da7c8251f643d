/* fk_store_add_flows: a store fed in arrays answers exactly as one fed the
 * same records one by one with fk_store_add_flow: every top-K, series and
 * per-IP answer, the recent flows (search and live feed), and every
 * counter. The streams hold session events, records outside the CIDR
 * filter and duplicates between exporters in the middle of arrays (counted
 * and skipped), arrays that cross aggregation steps, arrays of 0 records,
 * and arrays larger than any buffer inside the store (the top-K batch, the
 * pre-aggregation table, the ring of recent flows); recent flows expire
 * while an array is added (the clock moves inside it); pre-aggregation
 * tables of 7 and 4096 keys. */
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "store_fixture.h"

#define NFLOWS 12000
#define BIG 5000 /* > FK__TOPK_BATCH, > max_flows, > agg_keys */

static fk_store *mkb(const char *agg_keys)
{
    fk_store *s = NULL;
    assert_int_equal(fk_store_create(&s), 0);
    assert_int_equal(fk_store_set_text(s, "agg_keys", agg_keys), 0);
    assert_int_equal(fk_store_set_text(s, "topk_capacity", "256"), 0);
    assert_int_equal(fk_store_set_text(s, "topk_slot", "60"), 0);
    assert_int_equal(fk_store_set_text(s, "topk_span", "300"), 0);
    assert_int_equal(fk_store_set_text(s, "max_ips", "256"), 0);
    assert_int_equal(fk_store_set_text(s, "ip_peers", "64"), 0);
    assert_int_equal(fk_store_set_text(s, "ip_protocols", "8"), 0);
    assert_int_equal(fk_store_set_text(s, "series_buckets", "360"), 0);
    assert_int_equal(fk_store_set_text(s, "max_flows", "1000"), 0);
    assert_int_equal(fk_store_set_text(s, "dedup_ttl", "2000"), 0);
    assert_int_equal(fk_store_set_text(s, "retention", "60"), 0); /* expiry inside arrays */
    assert_int_equal(fk_store_add_cidr(s, "10.0.0.0/30"), 0);     /* sources 0..3 of 8 */
    assert_int_equal(fk_store_add_cidr(s, "2001::/16"), 0);       /* IPv6 */
    assert_int_equal(fk_store_add_cidr(s, "192.168.0.2/32"), 0);  /* one destination */
    assert_int_equal(fk_store_activate(s), 0);
    return s;
}

/* The recent flows and every counter are the same. */
static void same_recent(fk_store *a, fk_store *b)
{
    static fk_flow fa[1000], fb[1000];
    size_t na, nb;
    uint64_t xa, xb;
    assert_int_equal(fk_store_get_since(a, 0, fa, 1000, &na, &xa), 0);
    assert_int_equal(fk_store_get_since(b, 0, fb, 1000, &nb, &xb), 0);
    assert_int_equal(na, nb);
    assert_int_equal(xa, xb);
    assert_memory_equal(fa, fb, na * sizeof fa[0]);
    fk_store_query q;
    memset(&q, 0, sizeof q);
    q.proto = 17;
    assert_int_equal(fk_store_search(a, &q, fa, 1000, &na), 0);
    assert_int_equal(fk_store_search(b, &q, fb, 1000, &nb), 0);
    assert_int_equal(na, nb);
    assert_memory_equal(fa, fb, na * sizeof fa[0]);
    fk_store_stats sa, sb;
    assert_int_equal(fk_store_get_stats(a, &sa, sizeof sa), 0);
    assert_int_equal(fk_store_get_stats(b, &sb, sizeof sb), 0);
    assert_memory_equal(&sa, &sb, sizeof sa);
}

static void batches_with(const char *agg_keys, uint64_t seed)
{
    fk_store *one = mkb(agg_keys), *arr = mkb(agg_keys);
    fk_flow *f = malloc(NFLOWS * sizeof *f);
    assert_non_null(f);
    int64_t t = T0;
    for (int i = 0; i < NFLOWS; i++) {
        f[i] = mix_flow(&seed, &t);
        if (i % 13 == 5)
            f[i].event = 1;         /* a session event: counted, not kept */
        if (i % 11 == 3 && i > 0) { /* another exporter's copy of the flow before */
            f[i] = f[i - 1];
            f[i].event = 0;
            f[i].present |= FK_FLOW_HAS_EXPORTER;
            f[i].exporter = v4(0xc6336401u);
        }
    }
    bool crossed = false;
    size_t i = 0;
    for (int round = 0; i < NFLOWS; round++) {
        size_t n = round == 3 ? BIG : (size_t)(rnd(&seed) % 700);
        if (n > NFLOWS - i)
            n = NFLOWS - i;
        assert_int_equal(fk_store_add_flows(arr, n ? &f[i] : NULL, n), 0);
        for (size_t j = 0; j < n; j++)
            assert_int_equal(fk_store_add_flow(one, &f[i + j]), 0);
        if (n > 1 && fk__agg_step_of(arr, f[i].end_ns) != fk__agg_step_of(arr, f[i + n - 1].end_ns))
            crossed = true;
        i += n;
        if (round % 7 == 0) {
            same_answers(one, arr); /* queries between arrays */
            same_recent(one, arr);
        }
    }
    same_answers(one, arr);
    same_recent(one, arr);
    fk_store_stats st;
    assert_int_equal(fk_store_get_stats(arr, &st, sizeof st), 0);
    assert_int_equal(st.flows_in, NFLOWS);
    assert_true(st.events > 0 && st.filtered > 0 && st.duplicates > 0); /* skipped mid-array */
    assert_true(st.flows_kept > 0 && st.flows_evicted > 0 && st.flows_expired > 0);
    assert_true(crossed);
    free(f);
    fk_store_destroy(one);
    fk_store_destroy(arr);
}

static void test_same_as_single_adds(void **state)
{
    (void)state;
    batches_with("4096", 11);
    batches_with("7", 12);
}

static void test_arguments(void **state)
{
    (void)state;
    fk_store *s = NULL;
    assert_int_equal(fk_store_create(&s), 0);
    fk_flow f;
    memset(&f, 0, sizeof f);
    assert_int_equal(fk_store_add_flows(s, &f, 1), FK_EINVAL); /* not activated */
    assert_int_equal(fk_store_activate(s), 0);
    assert_int_equal(fk_store_add_flows(NULL, &f, 1), FK_EINVAL);
    assert_int_equal(fk_store_add_flows(s, NULL, 1), FK_EINVAL);
    assert_int_equal(fk_store_add_flows(s, NULL, 0), 0);
    assert_int_equal(fk_store_add_flows(s, &f, 0), 0);
    fk_store_stats st;
    assert_int_equal(fk_store_get_stats(s, &st, sizeof st), 0);
    assert_int_equal(st.flows_in, 0);
    assert_int_equal(st.first_ns, 0);
    fk_store_destroy(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_as_single_adds),
        cmocka_unit_test(test_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
