/* The parameter machinery through a small handle built the way every real
 * handle is: create (defaults) -> set -> activate -> runtime-only sets. */
#include <flowkit/flowkit.h>
#include <math.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/params.h"
#include "fk_test.h"

enum { T_QUEUE = 100, T_PROMISC = 101, T_CPU = 200, T_FILTER = 300, T_SYNC = 400 };

static const fk_param_info test_table[] = {
    {T_QUEUE, "queue_size", FK_PARAM_INT, 0, 16, 1 << 24, 65536, 0, 0, 0, NULL, "packets",
     "bounded queue length"},
    {T_PROMISC, "promiscuous", FK_PARAM_BOOL, 0, 0, 1, 1, 0, 0, 0, NULL, "", "promiscuous"},
    {T_CPU, "cpu_limit", FK_PARAM_DOUBLE, 0, 0, 0, 0, 0.0, 64.0, 0.0, NULL, "cores", "cpu"},
    {T_FILTER, "filter", FK_PARAM_STRING, FK_PARAM_RUNTIME, 0, 0, 0, 0, 0, 0, "ip", "", "bpf"},
    {T_SYNC, "sync_interval", FK_PARAM_INT, FK_PARAM_RUNTIME, 1, 3600, 1, 0, 0, 0, NULL, "s",
     "sync"},
};

typedef struct test_handle {
    fk__params params;
} test_handle;

static int th_create(test_handle **out)
{
    test_handle *h = FK__NEW(test_handle);
    if (!h)
        return fk__error(FK_ENOMEM, "test: out of memory");
    int rc =
        fk__params_init(&h->params, "test", test_table, sizeof test_table / sizeof test_table[0]);
    if (rc) {
        fk__free(h);
        return rc;
    }
    *out = h;
    return 0;
}

static void th_destroy(test_handle *h)
{
    if (!h)
        return;
    fk__params_free(&h->params);
    fk__free(h);
}

static void defaults_are_applied(void **state)
{
    (void)state;
    test_handle *h = NULL;
    assert_int_equal(th_create(&h), 0);
    int64_t v;
    double d;
    const char *s;
    assert_int_equal(fk__params_get_int(&h->params, T_QUEUE, &v), 0);
    assert_int_equal(v, 65536);
    assert_int_equal(fk__params_get_int(&h->params, T_PROMISC, &v), 0);
    assert_int_equal(v, 1);
    assert_int_equal(fk__params_get_double(&h->params, T_CPU, &d), 0);
    assert_true(d == 0.0);
    assert_int_equal(fk__params_get_str(&h->params, T_FILTER, &s), 0);
    assert_string_equal(s, "ip");
    th_destroy(h);
}

static void bounds_refused_with_message(void **state)
{
    (void)state;
    test_handle *h = NULL;
    assert_int_equal(th_create(&h), 0);
    assert_int_equal(fk__params_set_int(&h->params, T_QUEUE, 15), FK_ERANGE);
    assert_string_equal(fk_error_last()->message,
                        "test: queue_size = 15 is out of range [16, 16777216]");
    assert_int_equal(fk__params_set_int(&h->params, T_QUEUE, (1 << 24) + 1), FK_ERANGE);
    /* Not clamped: the old value stays. */
    assert_int_equal(fk__params_int(&h->params, T_QUEUE), 65536);
    assert_int_equal(fk__params_set_int(&h->params, T_QUEUE, 16), 0);
    assert_int_equal(fk__params_set_int(&h->params, T_QUEUE, 1 << 24), 0);
    assert_int_equal(fk__params_int(&h->params, T_QUEUE), 1 << 24);

    assert_int_equal(fk__params_set_int(&h->params, T_PROMISC, 2), FK_ERANGE);
    assert_int_equal(fk__params_set_double(&h->params, T_CPU, 64.5), FK_ERANGE);
    assert_non_null(strstr(fk_error_last()->message, "[0, 64]"));
    assert_int_equal(fk__params_set_double(&h->params, T_CPU, NAN), FK_ERANGE);
    assert_int_equal(fk__params_set_double(&h->params, T_CPU, 0.5), 0);
    assert_true(fk__params_double(&h->params, T_CPU) == 0.5);
    th_destroy(h);
}

static void unknown_ids_and_names(void **state)
{
    (void)state;
    test_handle *h = NULL;
    assert_int_equal(th_create(&h), 0);
    assert_int_equal(fk__params_set_int(&h->params, 999, 1), FK_ENOTFOUND);
    assert_int_equal(fk__params_set_text(&h->params, "no_such", "1"), FK_ENOTFOUND);
    assert_non_null(strstr(fk_error_last()->message, "no_such"));
    assert_null(fk_param_find(test_table, 5, "nope"));
    assert_int_equal(fk_error_last()->code, FK_ENOTFOUND);
    const fk_param_info *info = fk_param_find(test_table, 5, "queue-size");
    assert_non_null(info);
    assert_int_equal(info->id, T_QUEUE);
    assert_null(fk_param_find(test_table, 5, "queue"));
    assert_null(fk_param_find(NULL, 5, "x"));
    assert_int_equal(fk_error_last()->code, FK_EINVAL);
    th_destroy(h);
}

static void wrong_types_refused(void **state)
{
    (void)state;
    test_handle *h = NULL;
    assert_int_equal(th_create(&h), 0);
    assert_int_equal(fk__params_set_str(&h->params, T_QUEUE, "5"), FK_ETYPE);
    assert_string_equal(fk_error_last()->message,
                        "test: parameter queue_size is int, not a string");
    assert_int_equal(fk__params_set_int(&h->params, T_FILTER, 1), FK_ETYPE);
    assert_int_equal(fk__params_set_double(&h->params, T_QUEUE, 1.0), FK_ETYPE);
    int64_t v;
    assert_int_equal(fk__params_get_int(&h->params, T_CPU, &v), FK_ETYPE);
    th_destroy(h);
}

static void text_parsing(void **state)
{
    (void)state;
    test_handle *h = NULL;
    assert_int_equal(th_create(&h), 0);
    assert_int_equal(fk__params_set_text(&h->params, "queue_size", "1024"), 0);
    assert_int_equal(fk__params_int(&h->params, T_QUEUE), 1024);
    assert_int_equal(fk__params_set_text(&h->params, "queue_size", "0x100"), 0);
    assert_int_equal(fk__params_int(&h->params, T_QUEUE), 256);
    assert_int_equal(fk__params_set_text(&h->params, "queue_size", "12abc"), FK_EINVAL);
    assert_int_equal(fk__params_set_text(&h->params, "queue_size", ""), FK_EINVAL);
    assert_int_equal(fk__params_set_text(&h->params, "queue_size", "99999999999999999999999"),
                     FK_ERANGE);
    assert_int_equal(fk__params_set_text(&h->params, "queue_size", "8"), FK_ERANGE);
    assert_int_equal(fk__params_set_text(&h->params, "promiscuous", "off"), 0);
    assert_int_equal(fk__params_int(&h->params, T_PROMISC), 0);
    assert_int_equal(fk__params_set_text(&h->params, "promiscuous", "YES"), 0);
    assert_int_equal(fk__params_int(&h->params, T_PROMISC), 1);
    assert_int_equal(fk__params_set_text(&h->params, "promiscuous", "maybe"), FK_EINVAL);
    assert_int_equal(fk__params_set_text(&h->params, "cpu-limit", "1.5"), 0);
    assert_true(fk__params_double(&h->params, T_CPU) == 1.5);
    assert_int_equal(fk__params_set_text(&h->params, "cpu_limit", "x"), FK_EINVAL);
    assert_int_equal(fk__params_set_text(&h->params, "filter", "tcp port 80"), 0);
    assert_string_equal(fk__params_str(&h->params, T_FILTER), "tcp port 80");
    assert_int_equal(fk__params_set_text(&h->params, "filter", NULL), FK_EINVAL);
    th_destroy(h);
}

/* One number rule for every text input (issue #15 item 9): decimal, "0x"
 * for hexadecimal, never octal; nothing around the number. */
static void number_rule_is_decimal(void **state)
{
    (void)state;
    int64_t v = 0;
    assert_int_equal(fk_param_parse_int("010", &v), 0);
    assert_int_equal(v, 10);
    assert_int_equal(fk_param_parse_int("0x10", &v), 0);
    assert_int_equal(v, 16);
    assert_int_equal(fk_param_parse_int("0XfF", &v), 0);
    assert_int_equal(v, 255);
    assert_int_equal(fk_param_parse_int("-42", &v), 0);
    assert_int_equal(v, -42);
    assert_int_equal(fk_param_parse_int("+7", &v), 0);
    assert_int_equal(v, 7);
    assert_int_equal(fk_param_parse_int("9223372036854775807", &v), 0);
    assert_true(v == INT64_MAX);
    assert_int_equal(fk_param_parse_int("-9223372036854775808", &v), 0);
    assert_true(v == INT64_MIN);
    v = 5;
    assert_int_equal(fk_param_parse_int("9223372036854775808", &v), FK_ERANGE);
    assert_int_equal(fk_param_parse_int("-9223372036854775809", &v), FK_ERANGE);
    assert_int_equal(fk_param_parse_int("0x8000000000000000", &v), FK_ERANGE);
    static const char *const bad_ints[] = {"",    "-",   "+",    "0x",  " 1",
                                           "1 ",  "1.0", "1e3",  "08x", "0o10",
                                           "0b1", "--1", "0x-1", "\t5", "1,000"};
    for (size_t i = 0; i < sizeof bad_ints / sizeof bad_ints[0]; i++) {
        if (fk_param_parse_int(bad_ints[i], &v) != FK_EINVAL)
            fail_msg("\"%s\" was taken as an integer", bad_ints[i]);
        assert_non_null(strstr(fk_error_last()->message, "is not an integer"));
    }
    assert_int_equal(v, 5); /* untouched on failure */
    assert_int_equal(fk_param_parse_int(NULL, &v), FK_EINVAL);

    double d = 0;
    assert_int_equal(fk_param_parse_double("0.5", &d), 0);
    assert_true(d == 0.5);
    assert_int_equal(fk_param_parse_double(".5", &d), 0);
    assert_true(d == 0.5);
    assert_int_equal(fk_param_parse_double("010", &d), 0);
    assert_true(d == 10.0);
    assert_int_equal(fk_param_parse_double("-2.5e3", &d), 0);
    assert_true(d == -2500.0);
    assert_int_equal(fk_param_parse_double("1E-2", &d), 0);
    assert_true(d == 0.01);
    assert_int_equal(fk_param_parse_double("1e999", &d), FK_ERANGE);
    static const char *const bad_doubles[] = {"",    ".",   "-",  "e5", "1e",  "1e+",  "0x1p3",
                                              "inf", "nan", " 1", "1 ", "1,5", "1.5s", "--1"};
    for (size_t i = 0; i < sizeof bad_doubles / sizeof bad_doubles[0]; i++) {
        if (fk_param_parse_double(bad_doubles[i], &d) != FK_EINVAL)
            fail_msg("\"%s\" was taken as a number", bad_doubles[i]);
    }

    /* the rule behind fk_X_set_text: "--pen 010" is ten in every tool */
    test_handle *h = NULL;
    assert_int_equal(th_create(&h), 0);
    assert_int_equal(fk__params_set_text(&h->params, "queue_size", "0100"), 0);
    assert_int_equal(fk__params_int(&h->params, T_QUEUE), 100);
    assert_int_equal(fk__params_set_text(&h->params, "queue_size", " 100"), FK_EINVAL);
    assert_int_equal(fk__params_set_text(&h->params, "cpu_limit", "inf"), FK_EINVAL);
    th_destroy(h);
    fk_exporter *e = NULL;
    assert_int_equal(fk_exporter_create(&e), 0);
    assert_int_equal(fk_exporter_set_text(e, "pen", "010"), 0);
    assert_int_equal(fk_exporter_get_int(e, FK_EXP_PEN, &v), 0);
    assert_int_equal(v, 10);
    fk_exporter_destroy(e);
}

static void set_after_activate(void **state)
{
    (void)state;
    test_handle *h = NULL;
    assert_int_equal(th_create(&h), 0);
    h->params.activated = true;
    assert_int_equal(fk__params_set_int(&h->params, T_QUEUE, 32), FK_EACTIVATED);
    assert_string_equal(fk_error_last()->message,
                        "test: parameter queue_size cannot change after activate");
    assert_int_equal(fk__params_int(&h->params, T_QUEUE), 65536);
    /* Runtime-settable parameters still change. */
    assert_int_equal(fk__params_set_str(&h->params, T_FILTER, "udp"), 0);
    assert_string_equal(fk__params_str(&h->params, T_FILTER), "udp");
    assert_int_equal(fk__params_set_int(&h->params, T_SYNC, 5), 0);
    /* ...but still within bounds. */
    assert_int_equal(fk__params_set_int(&h->params, T_SYNC, 0), FK_ERANGE);
    th_destroy(h);
}

static void string_null_and_copy(void **state)
{
    (void)state;
    test_handle *h = NULL;
    assert_int_equal(th_create(&h), 0);
    char buf[16] = "icmp";
    assert_int_equal(fk__params_set_str(&h->params, T_FILTER, buf), 0);
    buf[0] = 'X';
    assert_string_equal(fk__params_str(&h->params, T_FILTER), "icmp");
    assert_int_equal(fk__params_set_str(&h->params, T_FILTER, NULL), 0);
    assert_null(fk__params_str(&h->params, T_FILTER));
    th_destroy(h);
}

static void allocation_failures(void **state)
{
    (void)state;
    /* Fail each allocation of create in turn: never a crash, never a leak. */
    for (unsigned long n = 1; n <= 3; n++) {
        test_handle *h = NULL;
        fk_test_alloc_fail_at(n, 0);
        int rc = th_create(&h);
        if (rc == 0) {
            th_destroy(h);
        } else {
            assert_int_equal(rc, FK_ENOMEM);
        }
        assert_int_equal(fk_test_alloc_live(), 0);
        fk_test_alloc_reset();
    }
    /* A failed string copy leaves the old value. */
    test_handle *h = NULL;
    assert_int_equal(th_create(&h), 0);
    fk_test_alloc_fail_at(1, 0);
    assert_int_equal(fk__params_set_str(&h->params, T_FILTER, "tcp"), FK_ENOMEM);
    fk_test_alloc_reset();
    assert_string_equal(fk__params_str(&h->params, T_FILTER), "ip");
    th_destroy(h);
}

static void type_names(void **state)
{
    (void)state;
    assert_string_equal(fk_param_type_name(FK_PARAM_INT), "int");
    assert_string_equal(fk_param_type_name(FK_PARAM_BOOL), "bool");
    assert_string_equal(fk_param_type_name(FK_PARAM_DOUBLE), "double");
    assert_string_equal(fk_param_type_name(FK_PARAM_STRING), "string");
    assert_string_equal(fk_param_type_name((fk_param_type)42), "unknown");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(defaults_are_applied),  cmocka_unit_test(bounds_refused_with_message),
        cmocka_unit_test(unknown_ids_and_names), cmocka_unit_test(wrong_types_refused),
        cmocka_unit_test(text_parsing),          cmocka_unit_test(number_rule_is_decimal),
        cmocka_unit_test(set_after_activate),    cmocka_unit_test(string_null_and_copy),
        cmocka_unit_test(allocation_failures),   cmocka_unit_test(type_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
