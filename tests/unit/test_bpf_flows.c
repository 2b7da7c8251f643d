/* The eBPF capture backend without a kernel: the ring buffer record
 * decoder (lib/bpf/flow_event.c) and the `backend` parameter (names,
 * refusals at activate that come before anything is loaded). The programs
 * themselves run in tests/integration/capture_flows.sh and capture_ebpf.sh. */
#include <arpa/inet.h>
#include <flowkit/flowkit.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "bpf/flows.h"
#include "fk_test.h"

static struct fk__bpf_flow_event make_event(uint8_t family, const char *src, uint16_t sport,
                                            const char *dst, uint16_t dport, uint8_t kind)
{
    struct fk__bpf_flow_event e;
    memset(&e, 0, sizeof e);
    e.version = FK__BPF_FLOW_EVENT_VERSION;
    e.kind = kind;
    e.proto = 6;
    e.family = family;
    e.hook = FK__BPF_HOOK_INGRESS;
    e.vlan = 7;
    e.sport = sport;
    e.dport = dport;
    e.ifindex = 3;
    e.ts_ns = 5000000000ull;
    assert_int_equal(inet_pton(family == 4 ? AF_INET : AF_INET6, src, e.saddr), 1);
    assert_int_equal(inet_pton(family == 4 ? AF_INET : AF_INET6, dst, e.daddr), 1);
    return e;
}

static void decode_events(void **state)
{
    (void)state;
    struct fk__bpf_flow_event e = make_event(4, "10.0.0.1", 40000, "10.0.0.2", 80, 1);
    fk__bpf_session s;
    assert_int_equal(fk__bpf_flow_event_decode(&e, sizeof e, &s), 0);
    assert_int_equal(s.ev.kind, FK_SESSION_SYN);
    assert_int_equal(s.ev.proto, 6);
    assert_int_equal(s.ev.vlan, 7);
    assert_int_equal(s.ev.time_ns, 5000000000);
    assert_int_equal(s.ev.src.family, 4);
    assert_int_equal(s.ev.src_port, 40000);
    assert_int_equal(s.ev.dst_port, 80);
    assert_memory_equal(s.ev.dst.bytes, e.daddr, 16);
    assert_int_equal(s.hook, FK__BPF_HOOK_INGRESS);
    assert_int_equal(s.ifindex, 3);
    char json[FK_SESSION_JSON_MAX];
    assert_true(fk_session_event_to_json(&s.ev, json, sizeof json) > 0);
    assert_non_null(strstr(json, "\"event\":\"syn\""));
    assert_non_null(strstr(json, "\"src_addr\":\"10.0.0.1\""));

    e = make_event(6, "2001:db8::1", 443, "2001:db8::2", 50000, 3);
    e.hook = FK__BPF_HOOK_EGRESS;
    assert_int_equal(fk__bpf_flow_event_decode(&e, sizeof e, &s), 0);
    assert_int_equal(s.ev.kind, FK_SESSION_RST);
    assert_int_equal(s.ev.src.family, 6);
    assert_int_equal(s.hook, FK__BPF_HOOK_EGRESS);
    /* a longer record (a newer kernel side may append) still decodes */
    uint8_t big[FK__BPF_FLOW_EVENT_SIZE + 8] = {0};
    memcpy(big, &e, sizeof e);
    assert_int_equal(fk__bpf_flow_event_decode(big, sizeof big, &s), 0);
}

static void expect_bad(struct fk__bpf_flow_event e, size_t len, int code, const char *words)
{
    fk__bpf_session s;
    assert_int_equal(fk__bpf_flow_event_decode(&e, len, &s), code);
    const char *msg = fk_error_last()->message;
    if (!strstr(msg, words))
        fail_msg("message \"%s\" lacks \"%s\"", msg, words);
}

static void decode_rejects(void **state)
{
    (void)state;
    const struct fk__bpf_flow_event good = make_event(4, "10.0.0.1", 1, "10.0.0.2", 2, 2);
    struct fk__bpf_flow_event e = good;
    expect_bad(e, 0, FK_ETRUNCATED, "empty");
    expect_bad(e, sizeof e - 1, FK_ETRUNCATED, "bytes");
    e.version = 0;
    expect_bad(e, sizeof e, FK_EMALFORMED, "version");
    e.version = FK__BPF_FLOW_EVENT_VERSION + 1;
    expect_bad(e, 1, FK_EUNSUPPORTED, "newer");
    e = good;
    e.kind = 0;
    expect_bad(e, sizeof e, FK_EMALFORMED, "kind");
    e.kind = 4;
    expect_bad(e, sizeof e, FK_EMALFORMED, "kind");
    e = good;
    e.proto = 17;
    expect_bad(e, sizeof e, FK_EMALFORMED, "protocol");
    e = good;
    e.family = 5;
    expect_bad(e, sizeof e, FK_EMALFORMED, "family");
    e = good;
    e.hook = 0;
    expect_bad(e, sizeof e, FK_EMALFORMED, "hook");
    e = good;
    e.pad = 1;
    expect_bad(e, sizeof e, FK_EMALFORMED, "reserved");
    e = good;
    e.vlan = 4096;
    expect_bad(e, sizeof e, FK_EMALFORMED, "VLAN");
    e = good;
    e.daddr[9] = 1;
    expect_bad(e, sizeof e, FK_EMALFORMED, "IPv4");
    assert_int_equal(fk__bpf_flow_event_decode(NULL, 1, NULL), FK_EINVAL);
}

static struct fk__bpf_flow_end make_end(void)
{
    struct fk__bpf_flow_end e;
    memset(&e, 0, sizeof e);
    e.version = FK__BPF_FLOW_EVENT_VERSION;
    e.kind = FK__BPF_REC_FLOW_END;
    e.reason = FK_END_DETECTED;
    e.key.family = 4;
    e.key.proto = 6;
    e.key.a[0] = 10, e.key.a[3] = 1;
    e.key.b[0] = 10, e.key.b[3] = 2;
    e.key.pa = 40500;
    e.key.pb = 8090;
    e.val.init_side = 0;
    e.val.hook = FK__BPF_HOOK_EGRESS;
    e.val.packets[0] = 6, e.val.packets[1] = 5;
    e.val.bytes[0] = 400, e.val.bytes[1] = 500;
    e.val.first_ns[0] = 100, e.val.last_ns[0] = 900;
    e.val.first_ns[1] = 150, e.val.last_ns[1] = 800;
    e.val.tcp_flags = 0x1b1b;
    return e;
}

static void decode_flow_end(void **state)
{
    (void)state;
    struct fk__bpf_flow_end e = make_end();
    struct fk__bpf_flow_key k;
    struct fk__bpf_flow_val v;
    int reason = 0;
    assert_int_equal(fk__bpf_flow_end_decode(&e, sizeof e, &k, &v, &reason), 0);
    assert_int_equal(reason, FK_END_DETECTED);
    assert_memory_equal(&k, &e.key, sizeof k);
    assert_memory_equal(&v, &e.val, sizeof v);
    /* IPv6 through a GENEVE tunnel with an IPv4 outer header; one side
     * only (a SYN that got an RST from nobody) */
    e.key.family = 6;
    memset(e.key.a, 0x20, 16);
    memset(e.key.b, 0x21, 16);
    e.val.tunnel = FK__BPF_TUNNEL_GENEVE;
    e.val.outer_family = 4;
    e.val.outer_src[0] = 192, e.val.outer_dst[0] = 198;
    e.val.vni = 0xffffff;
    e.val.init_side = 1;
    e.val.packets[0] = 0, e.val.first_ns[0] = 0, e.val.last_ns[0] = 0, e.val.bytes[0] = 0;
    assert_int_equal(fk__bpf_flow_end_decode(&e, sizeof e, &k, &v, &reason), 0);
    assert_int_equal(v.vni, 0xffffff);

    const struct fk__bpf_flow_end good = make_end();
    struct {
        size_t len;
        int code;
        const char *words;
    } bad[] = {
        {1, FK_ETRUNCATED, "1 bytes"},
        {sizeof e - 1, FK_ETRUNCATED, "need"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        e = good;
        assert_int_equal(fk__bpf_flow_end_decode(&e, bad[i].len, &k, &v, &reason), bad[i].code);
        assert_non_null(strstr(fk_error_last()->message, bad[i].words));
    }
#define BAD_END(stmt, code, words)                                                                 \
    do {                                                                                           \
        e = good;                                                                                  \
        stmt;                                                                                      \
        assert_int_equal(fk__bpf_flow_end_decode(&e, sizeof e, &k, &v, &reason), code);            \
        if (!strstr(fk_error_last()->message, words))                                              \
            fail_msg("message \"%s\" lacks \"%s\"", fk_error_last()->message, words);              \
    } while (0)
    BAD_END(e.version = FK__BPF_FLOW_EVENT_VERSION + 1, FK_EUNSUPPORTED, "newer");
    BAD_END(e.version = 0, FK_EMALFORMED, "version");
    BAD_END(e.kind = 1, FK_EMALFORMED, "kind");
    BAD_END(e.reason = FK_END_IDLE, FK_EMALFORMED, "end reason");
    BAD_END(e.pad[4] = 1, FK_EMALFORMED, "reserved");
    BAD_END(e.val.pad2 = 1, FK_EMALFORMED, "reserved");
    BAD_END(e.key.proto = 17, FK_EMALFORMED, "not TCP");
    BAD_END(e.key.family = 0, FK_EMALFORMED, "family");
    BAD_END(e.key.b[15] = 1, FK_EMALFORMED, "IPv4");
    BAD_END(e.key.vlan = 4096, FK_EMALFORMED, "VLAN");
    BAD_END(e.val.init_side = 2, FK_EMALFORMED, "initiator");
    BAD_END(e.val.hook = 3, FK_EMALFORMED, "hook");
    BAD_END(e.val.tcp_flags = 0x10000, FK_EMALFORMED, "flags");
    BAD_END(e.val.tunnel = 1, FK_EMALFORMED, "tunnel kind");
    BAD_END((e.val.tunnel = FK__BPF_TUNNEL_VXLAN, e.val.outer_family = 5), FK_EMALFORMED, "outer");
    BAD_END((e.val.tunnel = FK__BPF_TUNNEL_VXLAN, e.val.outer_family = 4, e.val.vni = 1u << 24),
            FK_EMALFORMED, "VNI");
    BAD_END((e.val.packets[0] = 0, e.val.first_ns[0] = 0), FK_EMALFORMED, "initiator");
    BAD_END(e.val.first_ns[1] = 0, FK_EMALFORMED, "disagree");
    BAD_END(e.val.last_ns[1] = 1, FK_EMALFORMED, "disagree");
#undef BAD_END
    assert_int_equal(fk__bpf_flow_end_decode(NULL, 1, &k, &v, &reason), FK_EINVAL);
    /* a session event's decoder refuses a flow end record */
    fk__bpf_session s;
    e = good;
    assert_int_equal(fk__bpf_flow_event_decode(&e, sizeof e, &s), FK_EMALFORMED);
}

static void backend_parameter(void **state)
{
    (void)state;
    fk_capture *h;
    assert_int_equal(fk_capture_create(&h), 0);
    const char *v = NULL;
    assert_int_equal(fk_capture_get_str(h, FK_CAP_BACKEND, &v), 0);
    assert_string_equal(v, "pcap");
    assert_int_equal(fk_capture_set_text(h, "backend", "ebpf"), 0);
    assert_int_equal(fk_capture_get_str(h, FK_CAP_BACKEND, &v), 0);
    assert_string_equal(v, "ebpf");
    assert_int_equal(fk_capture_set_str(h, FK_CAP_BACKEND, "xdp"), 0);
    assert_int_equal(fk_capture_set_str(h, FK_CAP_BACKEND, "dpdk"), FK_ERANGE);
    assert_non_null(strstr(fk_error_last()->message, "pcap, ebpf, xdp"));
    assert_int_equal(fk_capture_get_str(h, FK_CAP_BACKEND, &v), 0);
    assert_string_equal(v, "xdp"); /* a refused value changes nothing */

    /* what only libpcap can do is refused before anything is loaded, and
     * the handle stays configurable */
    assert_int_equal(fk_capture_add_file(h, "/nonexistent.pcap"), 0);
    assert_int_equal(fk_capture_activate(h), FK_EUNSUPPORTED);
    assert_non_null(strstr(fk_error_last()->message, "backend = xdp reads live devices only"));
    assert_int_equal(fk_capture_clear_sources(h), 0);
    assert_int_equal(fk_capture_add_device(h, "lo"), 0);
    assert_int_equal(fk_capture_set_str(h, FK_CAP_FILTER, "tcp"), 0);
    assert_int_equal(fk_capture_activate(h), FK_EUNSUPPORTED);
    assert_non_null(strstr(fk_error_last()->message, "filter applies to backend = pcap only"));
    assert_int_equal(fk_capture_set_str(h, FK_CAP_FILTER, NULL), 0);
    assert_int_equal(fk_capture_set_int(h, FK_CAP_SNAPLEN, 128), 0);
    assert_int_equal(fk_capture_activate(h), FK_EUNSUPPORTED);
    assert_non_null(strstr(fk_error_last()->message, "snaplen"));
    assert_int_equal(fk_capture_set_int(h, FK_CAP_SNAPLEN, 262144), 0);
    assert_int_equal(fk_capture_set_str(h, FK_CAP_PCAP_STORE, "/tmp"), 0);
    assert_int_equal(fk_capture_activate(h), FK_EUNSUPPORTED);
    assert_non_null(strstr(fk_error_last()->message, "pcap_store"));
    assert_int_equal(fk_capture_set_str(h, FK_CAP_PCAP_STORE, NULL), 0);
    fk_capture_stats st;
    assert_int_equal(fk_capture_get_stats(h, &st, sizeof st), 0);
    assert_int_equal(st.kernel_map_full, 0);
    assert_int_equal(st.kernel_events_lost, 0);
    fk_capture_destroy(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(decode_events),
        cmocka_unit_test(decode_rejects),
        cmocka_unit_test(decode_flow_end),
        cmocka_unit_test(backend_parameter),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
