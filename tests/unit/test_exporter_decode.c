/* The exporter's messages read back by flowkit's own IPFIX decoder (an
 * independent implementation): every flow and event sent over UDP on
 * 127.0.0.1 comes back with the same tuple, counters, times, flags, end
 * reason and process fields, and sequence numbers count data records. */
#include <arpa/inet.h>
#include <flowkit/flowkit.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fk_test.h"

#define NFLOWS 300
#define NEVENTS 60
#define PEN 4711

static uint64_t rng = 88172645463325252ull;
static uint64_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void make_flow(fk_flow *f, uint32_t i)
{
    memset(f, 0, sizeof *f);
    bool v6 = i % 3 == 0;
    char a[64];
    snprintf(a, sizeof a, v6 ? "fd00:213::%x" : "10.213.%u.%u", v6 ? i + 1 : i / 200,
             v6 ? 0 : i % 200 + 1);
    fk_addr_parse(a, &f->src);
    fk_addr_parse(v6 ? "fd00:213::ffff" : "10.213.99.1", &f->dst);
    f->src_port = (uint16_t)(1024 + i);
    f->dst_port = (uint16_t)(next_rand() % 65536);
    f->proto = i % 2 ? 6 : 17;
    f->tcp_flags = f->proto == 6 ? (uint8_t)(next_rand() & 0x3f) : 0;
    f->bytes = next_rand() % 10000000000ull;
    f->packets = next_rand() % 1000000;
    f->start_ns = INT64_C(1763900000000000000) + (int64_t)(next_rand() % 1000000000000ull);
    f->end_ns = f->start_ns + (int64_t)(next_rand() % 100000000000ull);
    f->present = FK_FLOW_HAS_END_REASON;
    f->end_reason = (uint8_t)(1 + i % 5);
    if (i % 4 == 1) {
        f->present |= FK_FLOW_HAS_REVERSE;
        f->rev_bytes = next_rand() % 1000000;
        f->rev_packets = next_rand() % 1000 + 1;
        f->rev_tcp_flags = f->proto == 6 ? 0x12 : 0;
    }
    if (i % 5 == 2) {
        f->present |= FK_FLOW_HAS_PROCESS;
        f->pid = 1000 + i;
        snprintf(f->process, sizeof f->process, "proc-%u", i);
    }
}

static void make_event(fk_session_event *e, uint32_t i)
{
    memset(e, 0, sizeof *e);
    bool v6 = i % 2 == 0;
    fk_addr_parse(v6 ? "fd00:213::1" : "10.213.0.1", &e->src);
    fk_addr_parse(v6 ? "fd00:213::2" : "10.213.0.2", &e->dst);
    e->src_port = (uint16_t)(30000 + i);
    e->dst_port = 443;
    e->proto = 6;
    e->kind = (uint8_t)(1 + i % 3);
    e->time_ns = INT64_C(1763900000123000000) + (int64_t)i * 1000000;
    if (i % 3 == 0) {
        e->present = FK_SESSION_HAS_PROCESS;
        e->pid = 500 + i;
        snprintf(e->process, sizeof e->process, "ev-%u", i);
    }
}

/* Enterprise elements unknown to the registry come as raw octets. */
static uint64_t raw_uint(const fk_ipfix_value *v)
{
    uint64_t x = 0;
    for (size_t i = 0; i < v->len; i++)
        x = (x << 8) | v->raw[i];
    return x;
}

static int64_t ms_floor(int64_t ns)
{
    return ns / 1000000 * 1000000;
}

static void roundtrip(void **state)
{
    (void)state;
    int rx = socket(AF_INET, SOCK_DGRAM, 0);
    assert_true(rx >= 0);
    int big = 8 << 20;
    setsockopt(rx, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(rx, (struct sockaddr *)&sa, sizeof sa), 0);
    socklen_t sl = sizeof sa;
    getsockname(rx, (struct sockaddr *)&sa, &sl);
    char uri[64];
    snprintf(uri, sizeof uri, "udp://127.0.0.1:%u", ntohs(sa.sin_port));

    fk_exporter *h;
    assert_int_equal(fk_exporter_create(&h), 0);
    assert_int_equal(fk_exporter_add_destination(h, uri), 0);
    assert_int_equal(fk_exporter_set_int(h, FK_EXP_PEN, PEN), 0);
    assert_int_equal(fk_exporter_set_int(h, FK_EXP_ODID, 7), 0);
    assert_int_equal(fk_exporter_set_int(h, FK_EXP_BIFLOW, 1), 0); /* RFC 5103 records */
    assert_int_equal(fk_exporter_activate(h), 0);
    /* Interleave flows and events; several message fill-ups happen. */
    static fk_flow flows[NFLOWS];
    static fk_session_event events[NEVENTS];
    for (uint32_t i = 0; i < NFLOWS; i++) {
        make_flow(&flows[i], i);
        assert_int_equal(fk_exporter_add_flow(h, &flows[i]), 0);
        if (i % 5 == 0) {
            make_event(&events[i / 5], i / 5);
            assert_int_equal(fk_exporter_add_event(h, &events[i / 5]), 0);
        }
    }
    assert_int_equal(fk_exporter_flush(h), 0);

    /* flowkit's enterprise elements registered: typed values and names. */
    fk_ie_registry *reg;
    assert_int_equal(fk_ie_registry_create(&reg), 0);
    assert_int_equal(fk_exporter_register_elements(reg, PEN), 0);
    assert_int_equal(fk_exporter_register_elements(reg, PEN), FK_EEXIST);
    assert_int_equal(fk_exporter_register_elements(reg, 0), FK_EINVAL);
    const fk_ie *ie;
    assert_int_equal(fk_ie_lookup(reg, PEN, FK_EXPORTER_IE_PROCESS_NAME, &ie), 0);
    assert_string_equal(ie->name, "processName");
    fk_template_cache *cache;
    assert_int_equal(fk_template_cache_create(&cache, reg), 0);
    fk_ipfix_decoder *d;
    assert_int_equal(fk_ipfix_decoder_create(&d, cache), 0);
    int json_checked = 0;
    static uint8_t buf[65536];
    uint32_t nflow = 0, nev = 0, expect_seq = 0;
    int msgs = 0;
    for (;;) {
        struct pollfd p = {.fd = rx, .events = POLLIN};
        if (poll(&p, 1, 300) != 1)
            break;
        ssize_t n = recv(rx, buf, sizeof buf, 0);
        assert_true(n > 0);
        fk_ipfix_header hdr;
        assert_int_equal(fk_ipfix_decoder_begin(d, 1, buf, (size_t)n, &hdr), 0);
        assert_int_equal(hdr.domain, 7);
        assert_int_equal(hdr.sequence, expect_seq);
        assert_true(hdr.length <= 1400);
        msgs++;
        fk_ipfix_item it;
        int rc;
        while ((rc = fk_ipfix_decoder_next(d, &it)) == 1) {
            assert_int_not_equal(it.kind, FK_IPFIX_ITEM_NO_TEMPLATE);
            if (it.kind != FK_IPFIX_ITEM_RECORD)
                continue;
            expect_seq++;
            const fk_ipfix_record *r = &it.record;
            fk_ipfix_value v;
            if (fk_ipfix_record_find_field(r, PEN, FK_EXPORTER_IE_EVENT_KIND, &v) == 0) {
                const fk_session_event *e = &events[nev++];
                assert_int_equal(v.len, 1);
                assert_int_equal(raw_uint(&v), e->kind);
                assert_int_equal(v.u, e->kind); /* typed through the registry */
                fk_flow got;
                assert_int_equal(fk_ipfix_record_to_flow(r, &got), 0);
                assert_memory_equal(&got.src, &e->src, sizeof e->src);
                assert_memory_equal(&got.dst, &e->dst, sizeof e->dst);
                assert_int_equal(got.src_port, e->src_port);
                assert_int_equal(got.dst_port, e->dst_port);
                assert_int_equal(fk_ipfix_record_find_field(r, 0, 323, &v),
                                 0); /* observationTimeMs */
                assert_int_equal(v.i, ms_floor(e->time_ns));
                assert_int_equal(fk_ipfix_record_find_field(r, 0, 6, &v), 0);
                assert_int_equal(v.u, e->kind == 1 ? 0x02 : e->kind == 2 ? 0x01 : 0x04);
                int has = fk_ipfix_record_find_field(r, PEN, FK_EXPORTER_IE_PROCESS_ID, &v);
                assert_int_equal(has == 0, (e->present & FK_SESSION_HAS_PROCESS) != 0);
                if (has == 0) {
                    assert_int_equal(raw_uint(&v), e->pid);
                    assert_int_equal(
                        fk_ipfix_record_find_field(r, PEN, FK_EXPORTER_IE_PROCESS_NAME, &v), 0);
                    assert_int_equal(v.len, strlen(e->process));
                    assert_memory_equal(v.raw, e->process, v.len);
                }
                continue;
            }
            assert_true(nflow < NFLOWS);
            const fk_flow *f = &flows[nflow++];
            fk_flow got;
            assert_int_equal(fk_ipfix_record_to_flow(r, &got), 0);
            assert_memory_equal(&got.src, &f->src, sizeof f->src);
            assert_memory_equal(&got.dst, &f->dst, sizeof f->dst);
            assert_int_equal(got.src_port, f->src_port);
            assert_int_equal(got.dst_port, f->dst_port);
            assert_int_equal(got.proto, f->proto);
            assert_int_equal(got.tcp_flags, f->tcp_flags);
            assert_int_equal(got.bytes, f->bytes);
            assert_int_equal(got.packets, f->packets);
            assert_int_equal(got.start_ns, ms_floor(f->start_ns));
            assert_int_equal(got.end_ns, ms_floor(f->end_ns));
            assert_true(got.present & FK_FLOW_HAS_END_REASON);
            assert_int_equal(got.end_reason, f->end_reason);
            assert_int_equal(got.version, 10);
            assert_int_equal(got.odid, 7);
            if (f->present & FK_FLOW_HAS_REVERSE) {
                assert_true(got.present & FK_FLOW_HAS_REVERSE);
                assert_int_equal(got.rev_bytes, f->rev_bytes);
                assert_int_equal(got.rev_packets, f->rev_packets);
                assert_int_equal(got.rev_tcp_flags, f->rev_tcp_flags);
            }
            int has = fk_ipfix_record_find_field(r, PEN, FK_EXPORTER_IE_PROCESS_ID, &v);
            assert_int_equal(has == 0, (f->present & FK_FLOW_HAS_PROCESS) != 0);
            if (has == 0) {
                assert_int_equal(raw_uint(&v), f->pid);
                assert_int_equal(v.u, f->pid);
                char js[4096], want[128];
                assert_true(fk_ipfix_record_to_json(r, js, sizeof js) > 0);
                snprintf(want, sizeof want, "\"processName\":\"%s\"", f->process);
                assert_non_null(strstr(js, want));
                json_checked++;
                assert_int_equal(
                    fk_ipfix_record_find_field(r, PEN, FK_EXPORTER_IE_PROCESS_NAME, &v), 0);
                assert_int_equal(v.len, strlen(f->process));
                assert_memory_equal(v.raw, f->process, v.len);
            }
        }
        assert_int_equal(rc, 0);
    }
    assert_int_equal(nflow, NFLOWS);
    assert_int_equal(nev, NEVENTS);
    assert_true(msgs > 10);
    fk_exporter_stats st;
    assert_int_equal(fk_exporter_get_stats(h, &st, sizeof st), 0);
    assert_int_equal(st.records_sent, NFLOWS + NEVENTS);
    assert_int_equal(st.records_dropped, 0);
    assert_true(json_checked > 10);
    fk_ipfix_decoder_destroy(d);
    fk_template_cache_destroy(cache);
    fk_ie_registry_destroy(reg);
    fk_exporter_destroy(h);
    close(rx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(roundtrip)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
