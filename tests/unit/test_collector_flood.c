/* An exporter that defines more templates than it may keep (issue 15,
 * items 1 and 11): the per-exporter cap (max_templates) is checked first,
 * for each template alone, and template_limit counts every refused
 * template, not the messages that carried them. Redefinitions of kept
 * templates are never refused; other exporters keep their own room. */
#include <flowkit/flowkit.h>
#include <stdbool.h>
#include <string.h>

#include "core/bytes.h"
#include "fk_test.h"

#define CAP 100

/* An IPFIX message with one template set (options: an options template
 * set) defining ids first..first+n-1: sourceIPv4Address,
 * destinationIPv4Address, octetDeltaCount (options: the first is scope). */
static size_t templates_msg(uint8_t *buf, uint16_t first, unsigned n, bool options)
{
    uint8_t *p = buf + 16 + 4;
    for (unsigned i = 0; i < n; i++) {
        p = fk__put16(p, (unsigned)(first + i));
        p = fk__put16(p, 3);
        if (options)
            p = fk__put16(p, 1);
        p = fk__put16(p, 8);
        p = fk__put16(p, 4);
        p = fk__put16(p, 12);
        p = fk__put16(p, 4);
        p = fk__put16(p, 1);
        p = fk__put16(p, 8);
    }
    size_t len = (size_t)(p - buf);
    fk__put16(buf + 16, options ? 3 : 2);
    fk__put16(buf + 18, (unsigned)(len - 16));
    fk__put16(buf, 10);
    fk__put16(buf + 2, (unsigned)len);
    fk__put32(buf + 4, 1795435200);
    fk__put32(buf + 8, 0);
    fk__put32(buf + 12, 1);
    return len;
}

/* A data set of one record for template tid. */
static size_t data_msg(uint8_t *buf, uint16_t tid)
{
    uint8_t *p = buf + 16;
    p = fk__put16(p, tid);
    p = fk__put16(p, 4 + 16);
    p = fk__put32(p, 0x0a000001);
    p = fk__put32(p, 0x0a000002);
    p = fk__put32(p, 0);
    p = fk__put32(p, 1234);
    size_t len = (size_t)(p - buf);
    fk__put16(buf, 10);
    fk__put16(buf + 2, (unsigned)len);
    fk__put32(buf + 4, 1795435200);
    fk__put32(buf + 8, 0);
    fk__put32(buf + 12, 1);
    return len;
}

static fk_collector_stats stats(fk_collector *h)
{
    fk_collector_stats st;
    assert_int_equal(fk_collector_get_stats(h, &st, sizeof st), 0);
    return st;
}

static void refused_templates_counted_each(void **state)
{
    (void)state;
    fk_collector *h;
    assert_int_equal(fk_collector_create(&h), 0);
    assert_int_equal(fk_collector_set_int(h, FK_COL_MAX_TEMPLATES, CAP), 0);
    assert_int_equal(fk_collector_activate(h), 0);
    fk_addr a, b;
    fk_addr_parse("192.0.2.1", &a);
    fk_addr_parse("192.0.2.2", &b);
    static uint8_t buf[65536];

    /* 150 templates in one set: 100 kept, 50 refused (each counted). */
    size_t n = templates_msg(buf, 256, 150, false);
    assert_int_equal(fk_collector_feed(h, &a, 4739, buf, n), 0);
    fk_collector_stats st = stats(h);
    assert_int_equal(st.templates, CAP);
    assert_int_equal(st.template_limit, 50);
    assert_int_equal(st.malformed, 0);

    /* A kept template decodes; a refused one does not (its data waits). */
    n = data_msg(buf, 256 + CAP - 1);
    assert_int_equal(fk_collector_feed(h, &a, 4739, buf, n), 1);
    n = data_msg(buf, 256 + CAP);
    assert_int_equal(fk_collector_feed(h, &a, 4739, buf, n), 0);

    /* Redefining kept ones is not refused; one more new one is, and so
     * is an options template. */
    n = templates_msg(buf, 256 + CAP - 2, 3, false);
    assert_int_equal(fk_collector_feed(h, &a, 4739, buf, n), 0);
    st = stats(h);
    assert_int_equal(st.templates, CAP + 2);
    assert_int_equal(st.template_limit, 51);
    n = templates_msg(buf, 20000, 4, true);
    assert_int_equal(fk_collector_feed(h, &a, 4739, buf, n), 0);
    assert_int_equal(stats(h).template_limit, 55);

    /* Another exporter has its own room. */
    n = templates_msg(buf, 256, 10, true);
    assert_int_equal(fk_collector_feed(h, &b, 4739, buf, n), 0);
    st = stats(h);
    assert_int_equal(st.templates, CAP + 2 + 10);
    assert_int_equal(st.template_limit, 55);
    assert_int_equal(st.malformed, 0);
    fk_collector_destroy(h);
}

/* A withdrawal makes room again; a malformed template record still makes
 * the set malformed, after what came before it was taken. */
static void withdrawal_and_malformed(void **state)
{
    (void)state;
    fk_collector *h;
    assert_int_equal(fk_collector_create(&h), 0);
    assert_int_equal(fk_collector_set_int(h, FK_COL_MAX_TEMPLATES, 10), 0);
    assert_int_equal(fk_collector_activate(h), 0);
    fk_addr a;
    fk_addr_parse("192.0.2.1", &a);
    static uint8_t buf[65536];
    size_t n = templates_msg(buf, 256, 10, false);
    assert_int_equal(fk_collector_feed(h, &a, 4739, buf, n), 0);
    /* Withdraw 256 (a record of field count 0) and define 300 in one set. */
    size_t len = 16 + 4 + 4 + 16;
    fk__put16(buf, 10);
    fk__put16(buf + 2, (unsigned)len);
    fk__put32(buf + 4, 1795435200);
    fk__put32(buf + 8, 0);
    fk__put32(buf + 12, 1);
    fk__put16(buf + 16, 2);
    fk__put16(buf + 18, (unsigned)(len - 16));
    uint8_t *p = buf + 20;
    p = fk__put16(p, 256);
    p = fk__put16(p, 0);
    p = fk__put16(p, 300);
    p = fk__put16(p, 3);
    p = fk__put16(p, 8);
    p = fk__put16(p, 4);
    p = fk__put16(p, 12);
    p = fk__put16(p, 4);
    p = fk__put16(p, 1);
    p = fk__put16(p, 8);
    assert_int_equal((size_t)(p - buf), len);
    assert_int_equal(fk_collector_feed(h, &a, 4739, buf, len), 0);
    fk_collector_stats st = stats(h);
    assert_int_equal(st.templates_withdrawn, 1);
    assert_int_equal(st.templates, 11);
    assert_int_equal(st.template_limit, 0);
    n = data_msg(buf, 300);
    assert_int_equal(fk_collector_feed(h, &a, 4739, buf, n), 1);

    /* A template whose fields run past the set: malformed. */
    n = templates_msg(buf, 400, 1, false);
    fk__put16(buf + 22, 9); /* 9 fields announced, 3 present */
    assert_int_equal(fk_collector_feed(h, &a, 4739, buf, n), 0);
    assert_int_equal(stats(h).malformed, 1);
    fk_collector_destroy(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(refused_templates_counted_each),
        cmocka_unit_test(withdrawal_and_malformed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
