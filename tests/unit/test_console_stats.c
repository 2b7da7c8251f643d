/* The body of POST /stats/SENDER (console/src/stats_body.c): cells in the
 * body's order, strictness, the cell limit, and the check of names
 * ("all", fields, FIELD:VALUE) and bucket names. */
#include <flowkit/flowkit.h>
#include <stdlib.h>
#include <string.h>

#include "fk_test.h"
#include "stats_body.h"

static void parse_cells(void **state)
{
    (void)state;
    static fkc_stats_cell cells[8];
    char err[200];
    size_t n = 99;
    static const char ok[] =
        " {\"198.51.100.0/24\" : {\"all\": [\"2026-12-06 09:05\", \"2026\"], \"proto\":[]},\n"
        "  \"2001:db8::/32\": {\"srcip:2001:db8::1\": [\"2026-12\"]}, \"10.0.0.0/8\": {}} ";
    assert_int_equal(fkc_stats_body_parse(ok, strlen(ok), cells, 8, &n, err, sizeof err), 0);
    assert_int_equal(n, 3);
    assert_string_equal(cells[0].prefix, "198.51.100.0/24");
    assert_string_equal(cells[0].name, "all");
    assert_string_equal(cells[0].bucket, "2026-12-06 09:05");
    assert_string_equal(cells[1].bucket, "2026");
    assert_string_equal(cells[2].prefix, "2001:db8::/32");
    assert_string_equal(cells[2].name, "srcip:2001:db8::1");
    assert_int_equal(fkc_stats_body_parse("{}", 2, cells, 8, &n, err, sizeof err), 0);
    assert_int_equal(n, 0);
    static const char *const bad[] = {
        "",
        "[]",
        "{\"p\":[\"2026\"]}",
        "{\"p\":{\"all\":\"2026\"}}",
        "{\"p\":{\"all\":[2026]}}",
        "{\"p\":{\"all\":[\"2026\"]}",
        "{\"p\":{\"all\":[\"2026\"]}} x",
        "{\"p\":{\"all\":[\"20\\u00326\"]}}",
        "{\"p\":{\"all\":[\"2026-12-06 09:05:00.000000000\"]}}", /* longer than any bucket */
        "{\"p\":{\"all\":[\"1\",\"2\",\"3\",\"4\",\"5\",\"6\",\"7\",\"8\",\"9\"]}}", /* 9 > 8 */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        assert_int_equal(
            fkc_stats_body_parse(bad[i], strlen(bad[i]), cells, 8, &n, err, sizeof err), -1);
        assert_non_null(strstr(err, "at byte"));
    }
    assert_int_equal(fkc_stats_body_parse(NULL, 0, cells, 8, &n, err, sizeof err), -1);
}

static fkc_stats_cell cell(const char *name, const char *bucket)
{
    fkc_stats_cell c;
    memset(&c, 0, sizeof c);
    strcpy(c.prefix, "198.51.100.0/24");
    strcpy(c.name, name);
    strcpy(c.bucket, bucket);
    return c;
}

static void check_names(void **state)
{
    (void)state;
    fkc_stats_cell c[6] = {cell("all", "2026"),
                           cell("proto", "2026-12"),
                           cell("dstport:443", "2026-12-06"),
                           cell("srcip:2001:db8::1", "2026-12-06 09"),
                           cell("srcas:4200000000", "2026-12-06 09:05"),
                           cell("dstip:other", "2026")};
    fkc_stats_selector sel[6];
    fk_prefixstats_bucket b[6];
    char err[200];
    assert_int_equal(fkc_stats_cells_check(c, 6, sel, b, err, sizeof err), 0);
    assert_int_equal(sel[0].field, FK_PREFIXSTATS_ALL);
    assert_int_equal(sel[0].which, FKC_SEL_ALL);
    assert_int_equal(sel[1].field, FK_PREFIXSTATS_PROTO);
    assert_int_equal(sel[2].which, FKC_SEL_NUMBER);
    assert_int_equal(sel[2].number, 443);
    assert_int_equal(sel[3].which, FKC_SEL_ADDR);
    assert_int_equal(sel[3].addr.family, 6);
    assert_true(sel[4].number == 4200000000u);
    assert_int_equal(sel[5].which, FKC_SEL_OTHER);
    assert_int_equal(b[1].granularity, FK_PREFIXSTATS_MONTH);
    assert_int_equal(b[4].granularity, FK_PREFIXSTATS_MINUTE);
    static const char *const bad_names[] = {
        "ALL",        "port",         "all:1",           "proto:256",
        "dstport:-1", "srcip:10.0.0", "dstport:0x1bb1x", "srcas:4294967296",
        "dstip:443",  "proto:"};
    for (size_t i = 0; i < sizeof bad_names / sizeof bad_names[0]; i++) {
        fkc_stats_cell x = cell(bad_names[i], "2026");
        err[0] = '\0';
        assert_int_equal(fkc_stats_cells_check(&x, 1, sel, b, err, sizeof err), -1);
        assert_true(strlen(err) > 0);
    }
    fkc_stats_cell x = cell("all", "2026-12-06 9");
    assert_int_equal(fkc_stats_cells_check(&x, 1, sel, b, err, sizeof err), -1);
    assert_non_null(strstr(err, "not a bucket"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parse_cells),
        cmocka_unit_test(check_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
