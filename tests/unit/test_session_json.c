/* fk_session_event_to_json and fk_session_kind_name. */
#include <flowkit/flowkit.h>
#include <string.h>

#include "fk_test.h"

static fk_session_event make_event(void)
{
    fk_session_event ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = FK_SESSION_SYN;
    ev.proto = 6;
    ev.time_ns = 1700000000123456789LL;
    assert_int_equal(fk_addr_parse("10.0.0.1", &ev.src), 0);
    assert_int_equal(fk_addr_parse("2001:db8::2", &ev.dst), 0);
    ev.src_port = 40000;
    ev.dst_port = 443;
    return ev;
}

static void event_json_contract(void **state)
{
    (void)state;
    fk_session_event ev = make_event();
    char buf[FK_SESSION_JSON_MAX];
    int n = fk_session_event_to_json(&ev, buf, sizeof buf);
    assert_true(n > 0);
    assert_string_equal(
        buf, "{\"type\":\"event\",\"event\":\"syn\",\"time\":\"2023-11-14T22:13:20.123Z\","
             "\"src_addr\":\"10.0.0.1\",\"dst_addr\":\"2001:db8::2\",\"src_port\":40000,"
             "\"dst_port\":443,\"proto\":6}");
    assert_int_equal((size_t)n, strlen(buf));

    ev.kind = FK_SESSION_RST;
    ev.vlan = 12;
    ev.present = FK_SESSION_HAS_PROCESS;
    ev.pid = 77;
    strcpy(ev.process, "cu\"rl\n");
    n = fk_session_event_to_json(&ev, buf, sizeof buf);
    assert_true(n > 0);
    assert_non_null(strstr(buf, "\"event\":\"rst\""));
    assert_non_null(strstr(buf, ",\"vlan\":12,\"pid\":77,\"process\":\"cu\\\"rl\\u000a\"}"));
    /* user, uid and exe: the keys and order of fk_flow_to_json(). */
    ev.present |= FK_SESSION_HAS_UID;
    ev.uid = 1000;
    ev.user = "al\\ice";
    ev.exe = "/usr/bin/cu\"rl";
    n = fk_session_event_to_json(&ev, buf, sizeof buf);
    assert_true(n > 0);
    assert_non_null(strstr(buf, ",\"process\":\"cu\\\"rl\\u000a\",\"user\":\"al\\\\ice\","
                                "\"uid\":1000,\"exe\":\"/usr/bin/cu\\\"rl\"}"));
    fk_flow f;
    memset(&f, 0, sizeof f);
    f.present = FK_FLOW_HAS_PROCESS | FK_FLOW_HAS_UID;
    f.uid = 1000;
    f.user = ev.user;
    f.exe = ev.exe;
    char fbuf[FK_FLOW_JSON_MAX];
    assert_true(fk_flow_to_json(&f, fbuf, sizeof fbuf) > 0);
    assert_non_null(strstr(fbuf, strstr(buf, ",\"user\":")));
    /* uid 0 (root) is a uid: only the present bit decides. */
    ev.uid = 0;
    assert_true(fk_session_event_to_json(&ev, buf, sizeof buf) > 0);
    assert_non_null(strstr(buf, "\"uid\":0,"));
    ev.present &= ~FK_SESSION_HAS_UID;
    ev.user = ev.exe = NULL;
    assert_true(fk_session_event_to_json(&ev, buf, sizeof buf) > 0);
    assert_null(strstr(buf, "\"uid\""));
    assert_null(strstr(buf, "\"user\""));
}

static void event_json_worst_case_fits(void **state)
{
    (void)state;
    fk_session_event ev = make_event();
    assert_int_equal(fk_addr_parse("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255", &ev.src), 0);
    ev.dst = ev.src;
    ev.vlan = 4095;
    ev.present = FK_SESSION_HAS_PROCESS;
    ev.pid = 4294967295u;
    memset(ev.process, 1, sizeof ev.process); /* every byte escaped, no NUL */
    ev.present |= FK_SESSION_HAS_UID;
    ev.uid = 4294967295u;
    char user[FK_FLOW_USER_MAX + 10], exe[FK_FLOW_EXE_MAX + 10];
    memset(user, 1, sizeof user - 1);
    user[sizeof user - 1] = '\0';
    memset(exe, 1, sizeof exe - 1);
    exe[sizeof exe - 1] = '\0';
    ev.user = user;
    ev.exe = exe;
    char buf[FK_SESSION_JSON_MAX];
    assert_true(fk_session_event_to_json(&ev, buf, sizeof buf) > 0);
    assert_non_null(strstr(buf, "\"}"));
}

static void event_json_errors(void **state)
{
    (void)state;
    fk_session_event ev = make_event();
    char small[40];
    assert_int_equal(fk_session_event_to_json(&ev, small, sizeof small), FK_ENOSPACE);
    assert_int_equal(fk_error_last()->code, FK_ENOSPACE);
    assert_int_equal(fk_session_event_to_json(NULL, small, sizeof small), FK_EINVAL);
    assert_int_equal(fk_session_event_to_json(&ev, NULL, 10), FK_EINVAL);
    assert_string_equal(fk_session_kind_name(FK_SESSION_FIN), "fin");
    assert_string_equal(fk_session_kind_name(0), "unknown");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(event_json_contract),
        cmocka_unit_test(event_json_worst_case_fits),
        cmocka_unit_test(event_json_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
