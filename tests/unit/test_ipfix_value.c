/* fk_ipfix_value_get_uint / fk_ipfix_value_get_str: the typed readers the
 * CLIs and the collector use instead of reading value octets by hand; and
 * the element lookups fk_ipfix_record_find_field (public: an absent
 * element is an error) and fk__ipfix_record_lookup (the collector's: an
 * absent element is no error). */
#include <flowkit/flowkit.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ipfix/plan.h"

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

/* One record of template 400 {sourceTransportPort, protocolIdentifier}:
 * 443, 6. Decoded into *it by d (the caller destroys it); buf keeps the
 * message the record points into. */
static fk_ipfix_decoder *one_record(uint8_t *buf, size_t cap, fk_ipfix_item *it)
{
    const fk_field_spec f[] = {{0, 7, 2, 0}, {0, 4, 1, 0}};
    fk_ipfix_encoder *e;
    assert_int_equal(fk_ipfix_encoder_create(&e, NULL), 0);
    assert_int_equal(fk_ipfix_encoder_add_template(e, 400, f, 2, 0), 0);
    assert_int_equal(fk_ipfix_encoder_begin(e, 1, 100, buf, cap), 0);
    assert_int_equal(fk_ipfix_encoder_write_template(e, 400), 0);
    assert_int_equal(fk_ipfix_encoder_record_begin(e, 400), 0);
    assert_int_equal(fk_ipfix_encoder_put_uint(e, 0, 7, 443), 0);
    assert_int_equal(fk_ipfix_encoder_put_uint(e, 0, 4, 6), 0);
    assert_int_equal(fk_ipfix_encoder_record_end(e), 0);
    size_t len;
    assert_int_equal(fk_ipfix_encoder_finish(e, &len), 0);
    fk_ipfix_encoder_destroy(e);
    fk_ipfix_decoder *d;
    assert_int_equal(fk_ipfix_decoder_create(&d, NULL), 0);
    assert_int_equal(fk_ipfix_decoder_begin(d, 0, buf, len, NULL), 0);
    assert_int_equal(fk_ipfix_decoder_next(d, it), 1);
    assert_int_equal(it->kind, FK_IPFIX_ITEM_TEMPLATE);
    assert_int_equal(fk_ipfix_decoder_next(d, it), 1);
    assert_int_equal(it->kind, FK_IPFIX_ITEM_RECORD);
    return d;
}

/* The public lookup names the missing element in the thread's error; the
 * collector's gives the same answers and leaves the error alone (options
 * records expect absence: formatting the error cost ~1,500 instructions
 * each). */
static void find_field_absent_error_and_quiet_lookup(void **state)
{
    (void)state;
    uint8_t buf[256];
    fk_ipfix_item it;
    fk_ipfix_decoder *d = one_record(buf, sizeof buf, &it);
    const fk_ipfix_record *rec = &it.record;
    fk_ipfix_value v, w;

    fk_error_clear();
    memset(&v, 0x5a, sizeof v);
    assert_int_equal(fk_ipfix_record_find_field(rec, 0, 305, &v), FK_ENOTFOUND);
    assert_int_equal(fk_error_last()->code, FK_ENOTFOUND);
    assert_non_null(strstr(fk_error_last()->message, "template 400 has no element 0/305"));

    fk_error_clear();
    memset(&w, 0x5a, sizeof w);
    assert_int_equal(fk__ipfix_record_lookup(rec, 0, 305, &w), FK_ENOTFOUND);
    assert_int_equal(fk__ipfix_record_lookup(rec, 12345, 7, &w), FK_ENOTFOUND);
    assert_int_equal(fk_error_last()->code, FK_OK);
    assert_string_equal(fk_error_last()->message, "");
    assert_memory_equal(&v, &w, sizeof v); /* both leave out untouched */

    /* Present elements: the same value by either lookup. */
    assert_int_equal(fk_ipfix_record_find_field(rec, 0, 7, &v), 0);
    assert_int_equal(fk__ipfix_record_lookup(rec, 0, 7, &w), 0);
    assert_int_equal(v.u, 443);
    assert_int_equal(w.u, 443);
    assert_int_equal(w.len, 2);
    assert_int_equal(fk__ipfix_record_lookup(rec, 0, 4, &w), 0);
    assert_int_equal(w.u, 6);
    assert_int_equal(fk_error_last()->code, FK_OK);
    fk_ipfix_decoder_destroy(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(uint_every_width),
        cmocka_unit_test(uint_refuses_bad_lengths),
        cmocka_unit_test(str_cuts_and_terminates),
        cmocka_unit_test(find_field_absent_error_and_quiet_lookup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
