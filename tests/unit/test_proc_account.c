/* Accounting math: per-second ring, window rates, wrap-around, EWMA. */
#include <flowkit/flowkit.h>
#include <math.h>
#include <string.h>

#include "proc/account.h"
#include "fk_test.h"

static void window_sums_complete_seconds(void **state)
{
    (void)state;
    fk__ring r;
    assert_int_equal(fk__ring_init(&r, 10, 0.5), 0);
    /* 100 bytes sent in each of seconds 1000..1004, 7 received in 1004. */
    for (int64_t s = 1000; s <= 1004; s++)
        assert_true(fk__ring_add(&r, s, 100, 0));
    assert_true(fk__ring_add(&r, 1004, 0, 7));
    uint64_t sent, recv;
    /* At 1004 the current second is not complete: 1001..1003 for window 3. */
    fk__ring_window(&r, 1004, 3, &sent, &recv);
    assert_int_equal(sent, 300);
    assert_int_equal(recv, 0);
    /* At 1005, 1004 is complete. */
    fk__ring_window(&r, 1005, 3, &sent, &recv);
    assert_int_equal(sent, 300);
    assert_int_equal(recv, 7);
    fk__ring_window(&r, 1005, 10, &sent, &recv);
    assert_int_equal(sent, 500);
    /* Seconds with no traffic count as zero. */
    fk__ring_window(&r, 1008, 3, &sent, &recv);
    assert_int_equal(sent, 0);
    fk__ring_window(&r, 1008, 5, &sent, &recv);
    assert_int_equal(sent, 200); /* 1003, 1004 */
    fk__ring_free(&r);
}

static void ring_wraps(void **state)
{
    (void)state;
    fk__ring r;
    assert_int_equal(fk__ring_init(&r, 4, 1.0), 0);
    /* 30 seconds of (second number) bytes through a 5-slot ring. */
    for (int64_t s = 1; s <= 30; s++)
        fk__ring_add(&r, s, (uint64_t)s, 0);
    uint64_t sent, recv;
    fk__ring_window(&r, 30, 4, &sent, &recv);
    assert_int_equal(sent, 26 + 27 + 28 + 29);
    /* A window longer than the history is cut to the history. */
    fk__ring_window(&r, 30, 100, &sent, &recv);
    assert_int_equal(sent, 26 + 27 + 28 + 29);
    /* A gap longer than the ring clears everything. */
    fk__ring_window(&r, 100, 4, &sent, &recv);
    assert_int_equal(sent, 0);
    /* Late bytes inside the ring land in their own second; older are dropped. */
    assert_true(fk__ring_add(&r, 98, 5, 0));
    assert_false(fk__ring_add(&r, 95, 5, 0));
    fk__ring_window(&r, 100, 4, &sent, &recv);
    assert_int_equal(sent, 5);
    fk__ring_free(&r);
}

static void ewma_follows_definition(void **state)
{
    (void)state;
    double alpha = fk__ewma_alpha(5.0);
    assert_true(fabs(alpha - (1.0 - exp(-0.2))) < 1e-12);
    fk__ring r;
    assert_int_equal(fk__ring_init(&r, 60, alpha), 0);
    double want = 0.0;
    for (int64_t s = 0; s < 20; s++) {
        fk__ring_add(&r, s, 1000, 10);
        if (s > 0)
            want = alpha * 1000.0 + (1 - alpha) * want; /* second s-1 completed */
    }
    assert_true(fabs(r.sent_ewma - want) < 1e-6);
    /* Steady input converges to the input rate. */
    for (int64_t s = 20; s < 200; s++)
        fk__ring_add(&r, s, 1000, 10);
    assert_true(fabs(r.sent_ewma - 1000.0) < 1.0);
    assert_true(fabs(r.recv_ewma - 10.0) < 0.01);
    /* Three idle seconds after 199: 199 completes, then two zero seconds. */
    double before = r.sent_ewma;
    fk__ring_advance(&r, 202);
    want = (alpha * 1000.0 + (1 - alpha) * before) * pow(1 - alpha, 2);
    assert_true(fabs(r.sent_ewma - want) < 1e-6);
    fk__ring_free(&r);
}

static void bounds(void **state)
{
    (void)state;
    fk__ring r;
    assert_int_equal(fk__ring_init(&r, 0, 0.5), FK_ERANGE);
    assert_int_equal(fk__ring_init(&r, 10, 0.0), FK_ERANGE);
    assert_int_equal(fk__ring_init(&r, 10, 1.5), FK_ERANGE);
    fk_test_alloc_fail_at(1, 1);
    assert_int_equal(fk__ring_init(&r, 10, 0.5), FK_ENOMEM);
    fk_test_alloc_reset();
    /* Empty ring: zero. */
    assert_int_equal(fk__ring_init(&r, 10, 0.5), 0);
    uint64_t s = 1, v = 1;
    fk__ring_window(&r, 5, 3, &s, &v);
    assert_int_equal(s, 0);
    assert_int_equal(v, 0);
    fk__ring_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(window_sums_complete_seconds),
        cmocka_unit_test(ring_wraps),
        cmocka_unit_test(ewma_follows_definition),
        cmocka_unit_test(bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
