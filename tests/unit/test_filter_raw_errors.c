/* Filters compiled for raw records (fk_filter_raw_compile): the layouts
 * and arguments it refuses (a time of a length its form cannot have, a
 * form out of range, address, protocol and number fields of impossible
 * lengths, families that differ, NULL arguments), what the match and the
 * constant give without a compiled filter, and the empty filter. */
#include <flowkit/flowkit.h>
#include <stdint.h>
#include <string.h>

#include "filter_raw_fixture.h"

static void errors(void **state)
{
    (void)state;
    fk_filter *f = compile("proto tcp or duration > 1000");
    lay y;
    full_layout(&y, 6);
    fk_flow base;
    memset(&base, 0, sizeof base);
    fk_filter_raw *r = (fk_filter_raw *)&base;
    lay bad = y; /* a time of a length its form cannot have, a form out of range */
    bad.l.start.length = 8;
    bad.l.start_time = FK_FILTER_TIME_SECONDS;
    assert_int_equal(fk_filter_raw_compile(f, &bad.l, &base, &r), FK_EINVAL);
    assert_null(r);
    bad.l.start.length = 0;
    bad.l.end_time = FK_FILTER_TIME_NANOSECONDS + 1;
    assert_int_equal(fk_filter_raw_compile(f, &bad.l, &base, &r), FK_EINVAL);
    fk_filter_destroy(f);
    f = compile("proto tcp");
    assert_int_equal(fk_filter_raw_compile(NULL, &y.l, &base, &r), FK_EINVAL);
    assert_int_equal(fk_filter_raw_compile(f, NULL, &base, &r), FK_EINVAL);
    assert_int_equal(fk_filter_raw_compile(f, &y.l, NULL, &r), FK_EINVAL);
    assert_int_equal(fk_filter_raw_compile(f, &y.l, &base, NULL), FK_EINVAL);
    bad = y;
    bad.l.src_addr.length = 8;
    assert_int_equal(fk_filter_raw_compile(f, &bad.l, &base, &r), FK_EINVAL);
    bad = y;
    bad.l.dst_addr.length = 4; /* families of the two sides differ */
    assert_int_equal(fk_filter_raw_compile(f, &bad.l, &base, &r), FK_EINVAL);
    bad = y;
    bad.l.proto.length = 2;
    assert_int_equal(fk_filter_raw_compile(f, &bad.l, &base, &r), FK_EINVAL);
    bad = y;
    bad.l.bytes.length = 9;
    assert_int_equal(fk_filter_raw_compile(f, &bad.l, &base, &r), FK_EINVAL);
    assert_int_equal(fk_filter_raw_match(NULL, (const uint8_t *)"x"), 0);
    assert_int_equal(fk_filter_raw_get_const(NULL), -1);
    fk_filter_raw_destroy(NULL);
    /* an empty filter is constant true */
    fk_filter_destroy(f);
    f = compile("");
    assert_int_equal(fk_filter_raw_compile(f, &y.l, &base, &r), 0);
    assert_int_equal(fk_filter_raw_get_const(r), 1);
    fk_filter_raw_destroy(r);
    fk_filter_destroy(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(errors)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
