/* Allocator hook, log routing, and the text forms of addresses, times and flows. */
#include <flowkit/flowkit.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/log.h"
#include "fk_test.h"

static void allocator_hook_counts_and_fails(void **state)
{
    (void)state;
    fk_test_alloc_fail_at(2, 0);
    void *a = fk__malloc(10);
    assert_non_null(a);
    assert_null(fk__malloc(10));
    void *b = fk__calloc(4, 4);
    assert_non_null(b);
    assert_int_equal(fk_test_alloc_calls(), 3);
    fk__free(a);
    fk__free(b);
    assert_int_equal(fk_test_alloc_live(), 0);
    fk_test_alloc_reset();

    assert_null(fk__calloc(SIZE_MAX / 2, 4));
    assert_null(fk__reallocarray(NULL, SIZE_MAX / 2, 4));
    assert_null(fk__strdup(NULL));
    fk_allocator incomplete = {0};
    assert_int_equal(fk_set_allocator(&incomplete), FK_EINVAL);
}

static int log_calls;
static char log_last[256];
static void capture_log(fk_log_level level, const char *module, const char *message, void *user)
{
    (void)level;
    (void)user;
    log_calls++;
    snprintf(log_last, sizeof log_last, "%s|%s", module, message);
}

static void log_routing_and_level(void **state)
{
    (void)state;
    fk_log_set_callback(capture_log, NULL);
    fk_log_set_level(FK_LOG_WARN);
    fk__log(FK_LOG_INFO, "core", "hidden %d", 1);
    assert_int_equal(log_calls, 0);
    fk__log(FK_LOG_ERROR, "core", "shown %d", 2);
    assert_int_equal(log_calls, 1);
    assert_string_equal(log_last, "core|shown 2");
    fk_log_set_level(FK_LOG_DEBUG);
    FK__LOG_DEBUG("capture", "debug");
    assert_int_equal(log_calls, 2);
    fk_log_set_callback(NULL, NULL);
    fk_log_set_level(FK_LOG_WARN);
    assert_string_equal(fk_log_level_name(FK_LOG_INFO), "info");
    assert_string_equal(fk_log_level_name((fk_log_level)9), "unknown");
}

static void addresses_round_trip(void **state)
{
    (void)state;
    fk_addr a;
    char buf[FK_ADDR_STRLEN];
    assert_int_equal(fk_addr_parse("10.213.0.1", &a), 0);
    assert_int_equal(a.family, 4);
    assert_int_equal(fk_addr_format(&a, buf, sizeof buf), 10);
    assert_string_equal(buf, "10.213.0.1");
    assert_int_equal(fk_addr_parse("2001:db8::1", &a), 0);
    assert_int_equal(a.family, 6);
    fk_addr_format(&a, buf, sizeof buf);
    assert_string_equal(buf, "2001:db8::1");
    assert_int_equal(fk_addr_format(&a, buf, 3), FK_ENOSPACE);
    assert_int_equal(fk_addr_parse("300.1.1.1", &a), FK_EINVAL);
    memset(&a, 0, sizeof a);
    assert_int_equal(fk_addr_format(&a, buf, sizeof buf), 0);
    assert_string_equal(buf, "");
}

static void times_are_rfc3339_ms(void **state)
{
    (void)state;
    char buf[40];
    assert_int_equal(fk_time_format(0, buf, sizeof buf), 24);
    assert_string_equal(buf, "1970-01-01T00:00:00.000Z");
    fk_time_format(1795435200123456789LL, buf, sizeof buf);
    assert_string_equal(buf, "2026-11-23T12:00:00.123Z");
    fk_time_format(-1000000, buf, sizeof buf);
    assert_string_equal(buf, "1969-12-31T23:59:59.999Z");
    assert_int_equal(fk_time_format(0, buf, 10), FK_ENOSPACE);
}

static void flow_json_contract(void **state)
{
    (void)state;
    fk_flow f;
    memset(&f, 0, sizeof f);
    fk_addr_parse("10.0.0.1", &f.src);
    fk_addr_parse("10.0.0.2", &f.dst);
    f.src_port = 40000;
    f.dst_port = 80;
    f.proto = 6;
    f.bytes = 1500;
    f.packets = 3;
    f.start_ns = 1795435200000000000LL;
    f.end_ns = 1795435201500000000LL;
    f.tcp_flags = 0x1b;
    f.version = 10;
    char buf[FK_FLOW_JSON_MAX];
    int n = fk_flow_to_json(&f, buf, sizeof buf);
    assert_true(n > 0);
    assert_string_equal(buf,
                        "{\"type\":\"flow\",\"src_addr\":\"10.0.0.1\",\"dst_addr\":\"10.0.0.2\","
                        "\"src_port\":40000,\"dst_port\":80,\"proto\":6,\"bytes\":1500,"
                        "\"packets\":3,\"start\":\"2026-11-23T12:00:00.000Z\","
                        "\"end\":\"2026-11-23T12:00:01.500Z\",\"tcp_flags\":27,"
                        "\"exporter\":null,\"odid\":0,\"version\":10}");
    f.present = FK_FLOW_HAS_PROCESS | FK_FLOW_HAS_EXPORTER | FK_FLOW_HAS_END_REASON;
    f.pid = 42;
    strcpy(f.process, "cu\"rl\n");
    fk_addr_parse("127.0.0.1", &f.exporter);
    f.odid = 7;
    f.end_reason = FK_END_DETECTED;
    fk_flow_to_json(&f, buf, sizeof buf);
    assert_non_null(strstr(buf, "\"exporter\":\"127.0.0.1\",\"odid\":7"));
    assert_non_null(strstr(buf, "\"pid\":42,\"process\":\"cu\\\"rl\\u000a\""));
    assert_non_null(strstr(buf, "\"end_reason\":3}"));
    assert_int_equal(fk_flow_to_json(&f, buf, 40), FK_ENOSPACE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(allocator_hook_counts_and_fails),
        cmocka_unit_test(log_routing_and_level),
        cmocka_unit_test(addresses_round_trip),
        cmocka_unit_test(times_are_rfc3339_ms),
        cmocka_unit_test(flow_json_contract),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
