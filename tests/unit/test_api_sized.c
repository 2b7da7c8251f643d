/* Versioned stats structs (docs/conventions.md, "Struct versions"): a caller
 * built against an older, shorter struct is never overrun, one built against
 * a newer, longer struct gets zeros past what the library knows, and a size
 * below the first field is refused. */
#include <flowkit/flowkit.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#define GUARD 0xA5
#define EXTRA 24

/* One getter under test, called through the same shape for every handle. */
typedef int (*getter)(void *h, void *out, size_t size);

static int cap_get(void *h, void *out, size_t size)
{
    return fk_capture_get_stats(h, out, size);
}

static int col_get(void *h, void *out, size_t size)
{
    return fk_collector_get_stats(h, out, size);
}

static int exp_get(void *h, void *out, size_t size)
{
    return fk_exporter_get_stats(h, out, size);
}

static int nf_get(void *h, void *out, size_t size)
{
    return fk_netflow_get_stats(h, out, size);
}

static int store_get(void *h, void *out, size_t size)
{
    return fk_store_get_stats(h, out, size);
}

static int exp_dest_get(void *h, void *out, size_t size)
{
    return fk_exporter_get_destination_stats(h, 0, out, size);
}

/* Fill a guarded buffer through @p get with @p size and check that no byte
 * at or past @p size changed. Returns the getter's status. */
static int call_guarded(getter get, void *h, size_t size, size_t full)
{
    uint8_t buf[1024];
    assert_true(full + EXTRA <= sizeof buf);
    memset(buf, GUARD, sizeof buf);
    int rc = get(h, buf, size);
    for (size_t i = size; i < sizeof buf; i++)
        assert_int_equal(buf[i], GUARD);
    return rc;
}

/* The whole contract for one getter whose struct is @p full bytes and whose
 * first counter, after a known event, is nonzero at offset 0. */
static void check_getter(getter get, void *h, size_t full)
{
    /* Exactly the library's size: the call fills all of it. */
    uint8_t exact[1024];
    memset(exact, GUARD, sizeof exact);
    assert_int_equal(get(h, exact, full), 0);
    for (size_t i = full; i < sizeof exact; i++)
        assert_int_equal(exact[i], GUARD);

    /* An older, shorter struct (one counter, then half of it): untouched tail. */
    assert_int_equal(call_guarded(get, h, sizeof(uint64_t), full), 0);
    assert_int_equal(call_guarded(get, h, full / 2, full), 0);
    assert_int_equal(call_guarded(get, h, full - sizeof(uint64_t), full), 0);

    /* A newer, longer struct: the library's part as before, zeros after it. */
    uint8_t newer[1024];
    memset(newer, GUARD, sizeof newer);
    assert_int_equal(get(h, newer, full + EXTRA), 0);
    assert_memory_equal(newer, exact, full);
    for (size_t i = full; i < full + EXTRA; i++)
        assert_int_equal(newer[i], 0);
    for (size_t i = full + EXTRA; i < sizeof newer; i++)
        assert_int_equal(newer[i], GUARD);

    /* Below the first field, or no struct at all: refused, nothing written. */
    assert_int_equal(call_guarded(get, h, 0, full), FK_EINVAL);
    assert_int_equal(call_guarded(get, h, sizeof(uint64_t) - 1, full), FK_EINVAL);
    assert_int_equal(get(h, NULL, full), FK_EINVAL);
    assert_int_equal(get(NULL, exact, full), FK_EINVAL);
}

static void capture_stats(void **state)
{
    (void)state;
    fk_capture *h = NULL;
    assert_int_equal(fk_capture_create(&h), 0);
    check_getter(cap_get, h, sizeof(fk_capture_stats));
    fk_capture_destroy(h);
}

static void collector_stats(void **state)
{
    (void)state;
    fk_collector *h = NULL;
    assert_int_equal(fk_collector_create(&h), 0);
    check_getter(col_get, h, sizeof(fk_collector_stats));
    fk_collector_destroy(h);
}

static void exporter_stats(void **state)
{
    (void)state;
    fk_exporter *h = NULL;
    assert_int_equal(fk_exporter_create(&h), 0);
    assert_int_equal(fk_exporter_add_destination(h, "udp://127.0.0.1:9"), 0);
    check_getter(exp_get, h, sizeof(fk_exporter_stats));
    check_getter(exp_dest_get, h, sizeof(fk_exporter_stats));
    fk_exporter_destroy(h);
}

static void store_stats(void **state)
{
    (void)state;
    fk_store *h = NULL;
    assert_int_equal(fk_store_create(&h), 0);
    assert_int_equal(fk_store_activate(h), 0);
    check_getter(store_get, h, sizeof(fk_store_stats));
    fk_store_destroy(h);
}

/* A real nonzero counter crosses the boundary intact: one NetFlow v5 packet
 * with no records is counted in `packets`, the struct's first field. */
static void netflow_stats_counts(void **state)
{
    (void)state;
    fk_netflow *h = NULL;
    assert_int_equal(fk_netflow_create(&h), 0);
    assert_int_equal(fk_netflow_activate(h), 0);
    uint8_t v5[24] = {0, 5}; /* version 5, count 0 */
    fk_addr exporter;
    assert_int_equal(fk_addr_parse("127.0.0.1", &exporter), 0);
    (void)fk_netflow_decode(h, &exporter, 2055, v5, sizeof v5, NULL, NULL);
    check_getter(nf_get, h, sizeof(fk_netflow_stats));
    uint64_t first = 0;
    assert_int_equal(fk_netflow_get_stats(h, (fk_netflow_stats *)(void *)&first, sizeof first), 0);
    fk_netflow_stats all;
    assert_int_equal(fk_netflow_get_stats(h, &all, sizeof all), 0);
    assert_true(all.packets > 0);
    assert_true(first == all.packets);
    fk_netflow_destroy(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(capture_stats),        cmocka_unit_test(collector_stats),
        cmocka_unit_test(exporter_stats),       cmocka_unit_test(store_stats),
        cmocka_unit_test(netflow_stats_counts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
