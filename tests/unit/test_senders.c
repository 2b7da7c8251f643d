/* The senders registry (flowkit/senders.h) and the collector's use of it:
 * parsing (errors name their line; nothing changes on error), add/forget,
 * matching (unknown sender, outside the prefixes, a sender without
 * prefixes, IPv4-mapped senders), the JSON, and the collector dropping and
 * counting records through fk_collector_feed() while another thread
 * rewrites the registry (labelled `threads`: also run under TSan). */
#include <flowkit/flowkit.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "collector/internal.h"
#include "fk_col_fake.h"
#include "fk_test.h"

static fk_addr addr(const char *text)
{
    fk_addr a;
    assert_int_equal(fk_addr_parse(text, &a), 0);
    return a;
}

static fk_flow flow(const char *src, const char *dst)
{
    fk_flow f;
    memset(&f, 0, sizeof f);
    f.src = addr(src);
    f.dst = addr(dst);
    return f;
}

static const char FILE_TEXT[] = "# sender       prefixes\n"
                                "192.0.2.1      198.51.100.0/24 2001:db8::/32\n"
                                "\n"
                                "  2001:db8::7  2001:db8:7::/48   # trailing comment\r\n"
                                "192.0.2.9\n";

static void parse_and_match(void **state)
{
    (void)state;
    fk_senders *s;
    assert_int_equal(fk_senders_create(&s), 0);
    size_t line = 99;
    assert_int_equal(fk_senders_parse(s, FILE_TEXT, strlen(FILE_TEXT), &line), 0);
    assert_int_equal(line, 0);
    assert_int_equal(fk_senders_get_count(s), 3);
    fk_addr r1 = addr("192.0.2.1"), r7 = addr("2001:db8::7"), r9 = addr("192.0.2.9");
    fk_addr stranger = addr("192.0.2.2"), mapped = addr("::ffff:192.0.2.1");
    fk_flow in = flow("198.51.100.7", "203.0.113.1");       /* src inside */
    fk_flow in6 = flow("2001:db8:1::1", "2001:db8:ffff::"); /* both in 2001:db8::/32 */
    fk_flow out = flow("203.0.113.1", "203.0.113.2");
    assert_int_equal(fk_senders_match(s, &r1, &in), 1);
    assert_int_equal(fk_senders_match(s, &r1, &in6), 1);
    assert_int_equal(fk_senders_match(s, &mapped, &in), 1); /* a dual-stack socket's view */
    assert_int_equal(fk_senders_match(s, &r1, &out), -1);
    assert_int_equal(fk_senders_match(s, &r7, &in6), -1); /* 2001:db8:7::/48 only */
    assert_int_equal(fk_senders_match(s, &r9, &out), 1);  /* no prefixes: anything */
    assert_int_equal(fk_senders_match(s, &stranger, &in), 0);
    /* JSON: address order, counters, wasted/netflow's prefix shape. */
    char buf[1024];
    assert_true(fk_senders_json_size(s) <= sizeof buf);
    assert_true(fk_senders_to_json(s, NULL, buf, sizeof buf) > 0);
    assert_string_equal(
        buf,
        "[{\"sender\":\"192.0.2.1\",\"prefixes\":[{\"prefix\":\"198.51.100.0\",\"prefixLen\":24},"
        "{\"prefix\":\"2001:db8::\",\"prefixLen\":32}],\"accepted\":3,\"outside\":1},"
        "{\"sender\":\"192.0.2.9\",\"prefixes\":[],\"accepted\":1,\"outside\":0},"
        "{\"sender\":\"2001:db8::7\",\"prefixes\":[{\"prefix\":\"2001:db8:7::\",\"prefixLen\":48}],"
        "\"accepted\":0,\"outside\":1}]");
    assert_true(fk_senders_to_json(s, "192.0.2.9", buf, sizeof buf) > 0);
    assert_string_equal(buf,
                        "{\"sender\":\"192.0.2.9\",\"prefixes\":[],\"accepted\":1,\"outside\":0}");
    assert_int_equal(fk_senders_to_json(s, "192.0.2.2", buf, sizeof buf), FK_ENOTFOUND);
    assert_int_equal(fk_senders_to_json(s, NULL, buf, 10), FK_ENOSPACE);
    fk_senders_destroy(s);
}

static void errors_name_the_line_and_change_nothing(void **state)
{
    (void)state;
    fk_senders *s;
    assert_int_equal(fk_senders_create(&s), 0);
    assert_int_equal(fk_senders_parse(s, FILE_TEXT, strlen(FILE_TEXT), NULL), 0);
    static const struct {
        const char *text;
        size_t line;
    } bad[] = {
        {"192.0.2.1 198.51.100.0/24\nnot-an-address\n", 2},
        {"192.0.2.1 198.51.100.0/33\n", 1},
        {"\n\n192.0.2.1 10.0.0.0/8 2001:db8::/129\n", 3},
        {"192.0.2.1 10.0.0.0/8/8\n", 1},
        {("192.0.2.1 "
          "1111111111111111111111111111111111111111111111111111111111111111111/8\n"),
         1},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t line = 0;
        assert_int_equal(fk_senders_parse(s, bad[i].text, strlen(bad[i].text), &line), FK_EINVAL);
        assert_int_equal(line, bad[i].line);
        char want[32];
        snprintf(want, sizeof want, "line %zu:", bad[i].line);
        assert_non_null(strstr(fk_error_last()->message, want));
        assert_int_equal(fk_senders_get_count(s), 3); /* unchanged */
    }
    static const char nul[] = "192.0.2.1\n192.0.2.2\0 10.0.0.0/8\n";
    size_t line = 0;
    assert_int_equal(fk_senders_parse(s, nul, sizeof nul - 1, &line), FK_EINVAL);
    assert_int_equal(line, 2);
    assert_int_equal(fk_senders_get_count(s), 3);
    /* Empty text empties the registry. */
    assert_int_equal(fk_senders_parse(s, "", 0, NULL), 0);
    assert_int_equal(fk_senders_get_count(s), 0);
    fk_senders_destroy(s);
}

static void add_and_forget(void **state)
{
    (void)state;
    fk_senders *s;
    assert_int_equal(fk_senders_create(&s), 0);
    assert_int_equal(fk_senders_add_prefix(s, "192.0.2.1", "10.0.0.0/8"), 0);
    assert_int_equal(fk_senders_add_prefix(s, "192.0.2.1", "10.0.0.0/8"), 0); /* once */
    assert_int_equal(fk_senders_add_prefix(s, "192.0.2.1", "10.1.2.3"), 0);   /* a /32 */
    assert_int_equal(fk_senders_add_prefix(s, "192.0.2.5", NULL), 0);
    assert_int_equal(fk_senders_add_prefix(s, "nonsense", NULL), FK_EINVAL);
    assert_int_equal(fk_senders_add_prefix(s, "192.0.2.1", "10.0.0.0/99"), FK_EINVAL);
    assert_int_equal(fk_senders_get_count(s), 2);
    fk_addr r1 = addr("192.0.2.1");
    fk_flow f = flow("10.200.0.1", "192.168.0.1");
    assert_int_equal(fk_senders_match(s, &r1, &f), 1);
    assert_int_equal(fk_senders_forget(s, "192.0.2.1", "10.0.0.0/8"), 0);
    assert_int_equal(fk_senders_match(s, &r1, &f), -1); /* only 10.1.2.3/32 left */
    assert_int_equal(fk_senders_forget(s, "192.0.2.1", "10.0.0.0/8"), FK_ENOTFOUND);
    assert_int_equal(fk_senders_forget(s, "192.0.2.1", NULL), 0);
    assert_int_equal(fk_senders_match(s, &r1, &f), 0);
    assert_int_equal(fk_senders_forget(s, "192.0.2.1", NULL), FK_ENOTFOUND);
    /* Bounds. */
    char p[32];
    for (int i = 0; i < FK_SENDERS_PREFIXES_MAX; i++) {
        snprintf(p, sizeof p, "10.%d.%d.0/24", i / 256, i % 256);
        assert_int_equal(fk_senders_add_prefix(s, "192.0.2.6", p), 0);
    }
    assert_int_equal(fk_senders_add_prefix(s, "192.0.2.6", "11.0.0.0/8"), FK_ERANGE);
    fk_senders_destroy(s);
    fk_senders_destroy(NULL);
}

/* ---- the collector ------------------------------------------------------------ */

static atomic_uint delivered;

static void on_flow(const fk_flow *f, void *user)
{
    (void)f;
    (void)user;
    atomic_fetch_add(&delivered, 1);
}

typedef struct rewriter {
    fk_senders *s;
    atomic_bool stop;
} rewriter;

/* Another thread rewrites the registry while the collector checks records:
 * 192.0.2.1 (any address) stays, 192.0.2.50 comes and goes. */
static void *rewrite(void *arg)
{
    rewriter *r = arg;
    static const char text[] = "192.0.2.1\n192.0.2.50\n";
    for (int i = 0; i < 2000 && !atomic_load(&r->stop); i++) {
        assert_int_equal(fk_senders_parse(r->s, text, sizeof text - 1, NULL), 0);
        assert_int_equal(fk_senders_forget(r->s, "192.0.2.50", NULL), 0);
        char buf[512];
        assert_true(fk_senders_to_json(r->s, NULL, buf, sizeof buf) > 0);
    }
    return NULL;
}

static void collector_drops_and_counts(void **state)
{
    (void)state;
    fk_senders *s;
    assert_int_equal(fk_senders_create(&s), 0);
    assert_int_equal(fk_senders_add_prefix(s, "192.0.2.1", NULL), 0);
    fk_collector *h;
    assert_int_equal(fk_collector_create(&h), 0);
    assert_int_equal(fk__collector_use_codec(h, &fk_col_fake_codec), 0);
    assert_int_equal(fk_collector_set_callback(h, on_flow, NULL), 0);
    assert_int_equal(fk_collector_set_senders(h, s), 0);
    assert_int_equal(fk_collector_activate(h), 0);
    atomic_store(&delivered, 0);
    rewriter rw = {.s = s};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, rewrite, &rw), 0);
    /* The fake codec's records carry no addresses: a sender without
     * prefixes takes them, one with prefixes finds them outside. */
    fk_col_msg m;
    fk_col_msg_ipfix(&m, 1, 0);
    fk_col_add_template(&m, 256, 8);
    fk_col_add_data(&m, 256, 8, 4, 10, 1);
    fk_col_msg_finish(&m);
    fk_addr good = addr("192.0.2.1"), bad = addr("192.0.2.2");
    for (int i = 0; i < 200; i++) {
        assert_true(fk_collector_feed(h, &good, 4739, m.buf, m.len) >= 0);
        assert_true(fk_collector_feed(h, &bad, 4739, m.buf, m.len) >= 0);
    }
    atomic_store(&rw.stop, true);
    pthread_join(t, NULL);
    fk_collector_stats st;
    assert_int_equal(fk_collector_get_stats(h, &st, sizeof st), 0);
    assert_int_equal(atomic_load(&delivered), 200 * 4);
    assert_int_equal(st.records, 200 * 4);
    assert_int_equal(st.sender_unknown, 200 * 4);
    assert_int_equal(st.sender_outside, 0);
    /* Now the sender may report 192.168.0.0/16 only: its records are outside. */
    assert_int_equal(fk_senders_parse(s, "192.0.2.1 192.168.0.0/16\n", 25, NULL), 0);
    assert_true(fk_collector_feed(h, &good, 4739, m.buf, m.len) >= 0);
    assert_int_equal(fk_collector_get_stats(h, &st, sizeof st), 0);
    assert_int_equal(st.sender_outside, 4);
    assert_int_equal(atomic_load(&delivered), 200 * 4);
    /* Without a registry everything passes again. */
    assert_int_equal(fk_collector_set_senders(h, NULL), 0);
    assert_true(fk_collector_feed(h, &bad, 4739, m.buf, m.len) >= 0);
    assert_int_equal(atomic_load(&delivered), 200 * 4 + 4);
    fk_collector_destroy(h);
    fk_senders_destroy(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parse_and_match),
        cmocka_unit_test(errors_name_the_line_and_change_nothing),
        cmocka_unit_test(add_and_forget),
        cmocka_unit_test(collector_drops_and_counts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
