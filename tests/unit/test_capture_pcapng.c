/* Offline replay through the capture handle of a pcapng file whose two
 * interfaces have different link types (Ethernet and raw IP), which flowkit's
 * own reader allows: flows of both interfaces; a BPF filter applied with each
 * interface's link type; a filter that only compiles for the first link type
 * ends the source with an error event; a file cut inside a block ends with a
 * "read error" event after the complete packets. */
#include <flowkit/flowkit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../tools/fk_pktbuild.h"
#include "fk_test.h"

typedef struct blob {
    uint8_t *p;
    size_t n;
} blob;

static void put(blob *b, const void *src, size_t n)
{
    b->p = realloc(b->p, b->n + n + 4);
    assert_non_null(b->p);
    memcpy(b->p + b->n, src, n);
    b->n += n;
}

static void put32(blob *b, uint32_t v)
{
    put(b, &v, 4); /* host order: the section says which */
}

static void put16(blob *b, uint16_t v)
{
    put(b, &v, 2);
}

static size_t begin(blob *b, uint32_t type)
{
    size_t at = b->n;
    put32(b, type);
    put32(b, 0);
    return at;
}

static void end(blob *b, size_t at)
{
    static const uint8_t zero[4] = {0};
    put(b, zero, (4 - (b->n - at) % 4) % 4);
    uint32_t total = (uint32_t)(b->n - at + 4);
    memcpy(b->p + at + 4, &total, 4);
    put32(b, total);
}

static void idb(blob *b, uint16_t link)
{
    size_t at = begin(b, 1);
    put16(b, link);
    put16(b, 0);
    put32(b, 0);
    put16(b, 9); /* if_tsresol: ns */
    put16(b, 1);
    uint8_t v[4] = {9, 0, 0, 0};
    put(b, v, 4);
    put32(b, 0); /* end of options */
    end(b, at);
}

static unsigned pkt_no;

/* One packet on interface iface (0: Ethernet, 1: raw IPv4). */
static void epb(blob *b, uint32_t iface, uint8_t proto, uint8_t net, uint16_t sport, uint16_t dport,
                uint8_t flags)
{
    pb_spec s;
    memset(&s, 0, sizeof s);
    s.link = iface ? PB_LINK_RAW : PB_LINK_EN10MB;
    s.ipv = 4;
    uint8_t src[4] = {10, 0, net, 1}, dst[4] = {10, 0, net, 2};
    memcpy(s.src, src, 4);
    memcpy(s.dst, dst, 4);
    s.proto = proto;
    s.sport = sport;
    s.dport = dport;
    s.tcp_flags = flags;
    s.payload = 20;
    uint8_t frame[256];
    size_t len = pb_build(frame, sizeof frame, &s);
    assert_true(len > 0);
    uint64_t ts = (1700000000ull + pkt_no++) * 1000000000ull;
    size_t at = begin(b, 6);
    put32(b, iface);
    put32(b, (uint32_t)(ts >> 32));
    put32(b, (uint32_t)ts);
    put32(b, (uint32_t)len);
    put32(b, (uint32_t)len);
    put(b, frame, len);
    end(b, at);
}

/* 5 UDP and 4 TCP packets, on two interfaces of different link types. */
static blob make_file(void)
{
    blob b = {NULL, 0};
    size_t at = begin(&b, 0x0A0D0D0A);
    put32(&b, 0x1A2B3C4D);
    put16(&b, 1);
    put16(&b, 0);
    put32(&b, 0xffffffff);
    put32(&b, 0xffffffff);
    end(&b, at);
    idb(&b, 1);   /* Ethernet */
    idb(&b, 101); /* LINKTYPE_RAW */
    pkt_no = 0;
    epb(&b, 0, 17, 0, 1000, 53, 0);
    epb(&b, 1, 17, 1, 1001, 53, 0);
    epb(&b, 0, 6, 0, 2000, 80, 0x02);
    epb(&b, 0, 17, 0, 1000, 53, 0);
    epb(&b, 1, 6, 1, 3000, 443, 0x02);
    epb(&b, 0, 6, 0, 2000, 80, 0x10);
    epb(&b, 1, 17, 1, 1001, 53, 0);
    epb(&b, 0, 17, 0, 1000, 53, 0);
    epb(&b, 1, 6, 1, 3000, 443, 0x10);
    return b;
}

typedef struct seen {
    unsigned flows, udp_flows, tcp_flows, errors;
    uint64_t flow_packets;
    char error[512];
} seen;

static void on_event(const fk_capture_event *ev, void *user)
{
    seen *s = user;
    if (ev->type == FK_CAPTURE_EVENT_FLOW) {
        s->flows++;
        s->udp_flows += ev->flow->proto == 17;
        s->tcp_flows += ev->flow->proto == 6;
        s->flow_packets += ev->flow->packets + ev->flow->rev_packets;
    } else if (ev->type == FK_CAPTURE_EVENT_ERROR) {
        s->errors++;
        snprintf(s->error, sizeof s->error, "%s", ev->message ? ev->message : "");
    }
}

static uint64_t replay(const blob *b, size_t len, const char *filter, seen *s)
{
    char path[] = "/tmp/fk_capng_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, b->p, len), (ssize_t)len);
    close(fd);
    memset(s, 0, sizeof *s);
    fk_capture *h;
    assert_int_equal(fk_capture_create(&h), 0);
    assert_int_equal(fk_capture_add_file(h, path), 0);
    if (filter)
        assert_int_equal(fk_capture_set_str(h, FK_CAP_FILTER, filter), 0);
    assert_int_equal(fk_capture_set_callback(h, on_event, s), 0);
    assert_int_equal(fk_capture_activate(h), 0);
    assert_int_equal(fk_capture_run(h), 0);
    fk_capture_stats st;
    assert_int_equal(fk_capture_get_stats(h, &st, sizeof st), 0);
    fk_capture_destroy(h);
    unlink(path);
    return st.packets;
}

static void test_two_link_types(void **state)
{
    (void)state;
    blob b = make_file();
    seen s;
    assert_int_equal(replay(&b, b.n, NULL, &s), 9);
    assert_int_equal(s.errors, 0);
    assert_int_equal(s.flows, 4);
    assert_int_equal(s.flow_packets, 9);
    /* filtered with each interface's link type */
    assert_int_equal(replay(&b, b.n, "udp", &s), 5);
    assert_int_equal(s.udp_flows, 2);
    assert_int_equal(s.tcp_flows, 0);
    assert_int_equal(s.flow_packets, 5);
    assert_int_equal(replay(&b, b.n, "tcp and dst port 443", &s), 2);
    assert_int_equal(s.flows, 1);
    assert_int_equal(replay(&b, b.n, "ip src 10.0.1.1", &s), 4);
    assert_int_equal(s.flows, 2);
    free(b.p);
}

static void test_filter_for_one_link_type(void **state)
{
    (void)state;
    blob b = make_file();
    seen s;
    /* compiles for Ethernet, not for raw IP: the second interface's first
     * packet ends the source with an error event */
    uint64_t n = replay(&b, b.n, "ether broadcast or udp", &s);
    assert_int_equal(s.errors, 1);
    assert_non_null(strstr(s.error, "ether"));
    assert_true(n <= 1);
    free(b.p);
}

static void test_cut_file(void **state)
{
    (void)state;
    blob b = make_file();
    seen s;
    assert_int_equal(replay(&b, b.n - 30, NULL, &s), 8);
    assert_int_equal(s.errors, 1);
    assert_non_null(strstr(s.error, "read error"));
    assert_int_equal(s.flow_packets, 8);
    free(b.p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_two_link_types),
        cmocka_unit_test(test_filter_for_one_link_type),
        cmocka_unit_test(test_cut_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
