/* The one URI parser (lib/core/uri.c) as each of its users calls it:
 * exporter destinations, collector listeners, ClickHouse outputs. */
#include <flowkit/flowkit.h>
#include <string.h>

#include "core/uri.h"
#include "fk_test.h"

static const char *const udp_tcp[] = {"udp", "tcp", NULL};
static const char *const clickhouse[] = {"clickhouse", NULL};

static int dest(fk__uri *u, const char *text)
{
    return fk__uri_parse(u, text, udp_tcp, 0, "destination", "udp://HOST:PORT or tcp://HOST:PORT");
}

static int listener(fk__uri *u, const char *text)
{
    return fk__uri_parse(u, text, udp_tcp, FK__URI_EMPTY_HOST | FK__URI_PORT_ZERO, "listener",
                         "udp://ADDR:PORT or tcp://ADDR:PORT");
}

static void exporter_destinations(void **state)
{
    (void)state;
    fk__uri u;
    assert_int_equal(dest(&u, "udp://127.0.0.1:4739"), 0);
    assert_string_equal(u.scheme, "udp");
    assert_string_equal(u.host, "127.0.0.1");
    assert_false(u.bracketed);
    assert_true(u.has_port);
    assert_int_equal(u.port, 4739);
    assert_int_equal(dest(&u, "tcp://[::1]:2055"), 0);
    assert_string_equal(u.scheme, "tcp");
    assert_string_equal(u.host, "::1");
    assert_true(u.bracketed);
    assert_int_equal(u.port, 2055);
    assert_int_equal(dest(&u, "tcp://collector.example:65535"), 0);
    assert_string_equal(u.host, "collector.example");
    assert_int_equal(u.port, 65535);
    static const char *const bad[] = {
        "udp://127.0.0.1",
        "http://1.2.3.4:80",
        "udp://:4739",
        "udp://1.2.3.4:0",
        "udp://1.2.3.4:65536",
        "udp://1.2.3.4:47x",
        "udp://::1:4739",
        "tcp://[::1:4739",
        "tcp://[::1]4739",
        "udp://a b:1",
        "udp://1.2.3.4:-1",
        "udp://1.2.3.4:",
        "",
        "udp://[]:5",
        "udp://h:1/x",
        "udp//h:1",
        "udp://[::1]",
        "udp://1.2.3.4:99999999999999999999",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(dest(&u, bad[i]), FK_EINVAL);
        /* Every message names the text it refused. */
        assert_non_null(strstr(fk_error_last()->message, bad[i]));
    }
    assert_int_equal(dest(&u, "udp://1.2.3.4:0"), FK_EINVAL);
    assert_non_null(strstr(fk_error_last()->message, "[1, 65535]"));
    assert_int_equal(dest(&u, "udp://::1:4739"), FK_EINVAL);
    assert_non_null(strstr(fk_error_last()->message, "[ADDR]:PORT"));
    assert_int_equal(dest(&u, "foo://1.2.3.4:1"), FK_EINVAL);
    assert_non_null(strstr(fk_error_last()->message, "expected udp://HOST:PORT"));
    assert_int_equal(fk__uri_parse(&u, NULL, udp_tcp, 0, "destination", "x"), FK_EINVAL);
}

static void collector_listeners(void **state)
{
    (void)state;
    fk__uri u;
    assert_int_equal(listener(&u, "udp://:9995"), 0); /* empty host: the caller's default */
    assert_string_equal(u.host, "");
    assert_int_equal(u.port, 9995);
    assert_int_equal(listener(&u, "udp://127.0.0.1:0"), 0); /* any free port */
    assert_true(u.has_port);
    assert_int_equal(u.port, 0);
    assert_int_equal(listener(&u, "tcp://[::]:4739"), 0);
    assert_string_equal(u.host, "::");
    assert_int_equal(listener(&u, "tcp://[]:1"), FK_EINVAL); /* brackets need an address */
    assert_int_equal(listener(&u, "udp://0.0.0.0: 1"), FK_EINVAL);
    assert_int_equal(listener(&u, "udp://0.0.0.0:65536"), FK_EINVAL);
    assert_non_null(strstr(fk_error_last()->message, "[0, 65535]"));
}

static void clickhouse_outputs(void **state)
{
    (void)state;
    fk__uri u;
    const unsigned f = FK__URI_PORT_OPTIONAL | FK__URI_PATH;
    const char *usage = "clickhouse://HOST[:PORT]/DB.TABLE";
    assert_int_equal(
        fk__uri_parse(&u, "clickhouse://h:18123/db.t?x=1", clickhouse, f, "output", usage), 0);
    assert_string_equal(u.host, "h");
    assert_true(u.has_port);
    assert_int_equal(u.port, 18123);
    assert_string_equal(u.path, "/db.t?x=1");
    assert_int_equal(fk__uri_parse(&u, "clickhouse://[::1]/a.b", clickhouse, f, "output", usage),
                     0);
    assert_string_equal(u.host, "::1");
    assert_false(u.has_port);
    assert_string_equal(u.path, "/a.b");
    static const char *const bad[] = {"clickhouse://h:1", "clickhouse:///a.b",
                                      "clickhouse://[::1/a.b", "clickhouse://h:0/a.b",
                                      "clickhouse://h:/a.b"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(fk__uri_parse(&u, bad[i], clickhouse, f, "output", usage), FK_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(exporter_destinations),
        cmocka_unit_test(collector_listeners),
        cmocka_unit_test(clickhouse_outputs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
