/* fk_ipfix_value_get_uint / fk_ipfix_value_get_str: the typed readers the
 * CLIs and the collector use instead of reading value octets by hand. */
#include <flowkit/flowkit.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

static fk_ipfix_value value_of(const uint8_t *raw, size_t len)
{
    fk_ipfix_value v;
    memset(&v, 0, sizeof v);
    v.pen = 12345; /* an enterprise element the registry does not know */
    v.id = 7;
    v.type = FK_IE_UNKNOWN;
    v.raw = raw;
    v.len = len;
    return v;
}

static void uint_every_width(void **state)
{
    (void)state;
    const uint8_t raw[9] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09};
    const uint64_t want[9] = {0,
                              0x01,
                              0x0102,
                              0x010203,
                              0x01020304,
                              0x0102030405,
                              0x010203040506,
                              0x01020304050607,
                              0x0102030405060708};
    for (size_t len = 1; len <= 8; len++) {
        fk_ipfix_value v = value_of(raw, len);
        uint64_t x = 0;
        assert_int_equal(fk_ipfix_value_get_uint(&v, &x), 0);
        assert_true(x == want[len]);
    }
    const uint8_t max[8] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    fk_ipfix_value v = value_of(max, 8);
    uint64_t x = 0;
    assert_int_equal(fk_ipfix_value_get_uint(&v, &x), 0);
    assert_true(x == UINT64_MAX);
}

static void uint_refuses_bad_lengths(void **state)
{
    (void)state;
    const uint8_t raw[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    uint64_t x = 42;
    fk_ipfix_value v = value_of(raw, 9);
    assert_int_equal(fk_ipfix_value_get_uint(&v, &x), FK_ETYPE);
    v = value_of(raw, 0);
    assert_int_equal(fk_ipfix_value_get_uint(&v, &x), FK_ETYPE);
    assert_true(x == 42); /* untouched on failure */
    assert_int_equal(fk_ipfix_value_get_uint(NULL, &x), FK_EINVAL);
    v = value_of(raw, 2);
    assert_int_equal(fk_ipfix_value_get_uint(&v, NULL), FK_EINVAL);
}

static void str_cuts_and_terminates(void **state)
{
    (void)state;
    const uint8_t text[] = {'c', 'u', 'r', 'l'};
    char buf[16];
    fk_ipfix_value v = value_of(text, sizeof text);
    assert_int_equal(fk_ipfix_value_get_str(&v, buf, sizeof buf), 4);
    assert_string_equal(buf, "curl");

    /* Cut at the buffer: size - 1 bytes and the terminator. */
    memset(buf, 'x', sizeof buf);
    assert_int_equal(fk_ipfix_value_get_str(&v, buf, 3), 2);
    assert_string_equal(buf, "cu");
    assert_int_equal(buf[3], 'x');

    /* Cut at an embedded NUL (fixed-length string fields are NUL-padded). */
    const uint8_t padded[] = {'s', 's', 'h', 0, 0, 'z'};
    v = value_of(padded, sizeof padded);
    assert_int_equal(fk_ipfix_value_get_str(&v, buf, sizeof buf), 3);
    assert_string_equal(buf, "ssh");

    /* Empty value: empty string. */
    v = value_of(text, 0);
    assert_int_equal(fk_ipfix_value_get_str(&v, buf, sizeof buf), 0);
    assert_string_equal(buf, "");

    assert_int_equal(fk_ipfix_value_get_str(&v, buf, 0), FK_EINVAL);
    assert_int_equal(fk_ipfix_value_get_str(NULL, buf, sizeof buf), FK_EINVAL);
    assert_int_equal(fk_ipfix_value_get_str(&v, NULL, sizeof buf), FK_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(uint_every_width),
        cmocka_unit_test(uint_refuses_bad_lengths),
        cmocka_unit_test(str_cuts_and_terminates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
