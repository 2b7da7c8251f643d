/* fk__packet_decode: every link type, IPv4/IPv6 paths, L4 protocols,
 * tunnels, and truncated / malformed frames (each prefix of each frame is
 * decoded from an exactly-sized heap copy so the sanitizers see any
 * over-read). */
#include <flowkit/flow.h>
#include <stdlib.h>
#include <string.h>

#include "../tools/fk_pktbuild.h"
#include "fk_test.h"
#include "packet/packet.h"

static const uint8_t V4A[16] = {10, 0, 0, 1};
static const uint8_t V4B[16] = {10, 0, 0, 2};
static const uint8_t V6A[16] = {0xfd, 0, 2, 0x13, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
static const uint8_t V6B[16] = {0xfd, 0, 2, 0x13, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};

static pb_spec spec4(int link, uint8_t proto)
{
    pb_spec s;
    memset(&s, 0, sizeof s);
    s.link = link;
    s.ipv = 4;
    memcpy(s.src, V4A, 16);
    memcpy(s.dst, V4B, 16);
    s.proto = proto;
    s.sport = 40000;
    s.dport = 80;
    s.tcp_flags = 0x12;
    s.seq = 1000;
    s.ack = 2000;
    s.payload = 100;
    s.tos = 0x28;
    s.frag_id = 0x1234;
    return s;
}

static pb_spec spec6(int link, uint8_t proto)
{
    pb_spec s = spec4(link, proto);
    s.ipv = 6;
    memcpy(s.src, V6A, 16);
    memcpy(s.dst, V6B, 16);
    return s;
}

/* Decode from an exactly-sized heap copy of the first caplen bytes. */
static int decode_copy(fk__packet *p, const uint8_t *frame, size_t caplen, size_t wirelen, int link,
                       unsigned flags)
{
    uint8_t *copy = malloc(caplen ? caplen : 1);
    assert_non_null(copy);
    memcpy(copy, frame, caplen);
    int rc = fk__packet_decode(p, copy, (uint32_t)caplen, (uint32_t)wirelen, link, 42, flags);
    free(copy);
    return rc;
}

static size_t build(uint8_t *buf, const pb_spec *s)
{
    size_t n = pb_build(buf, 4096, s);
    assert_true(n > 0);
    return n;
}

/* Decode the whole frame, then every prefix: a prefix that cuts a header the
 * view needs must give TRUNCATED, a longer one the same view as the whole
 * frame (ip_len from the header, not from caplen). */
static void check_prefixes(const uint8_t *frame, size_t n, int link, unsigned flags, size_t need)
{
    fk__packet full, part;
    assert_int_equal(decode_copy(&full, frame, n, n, link, flags), FK__PKT_OK);
    for (size_t cut = 0; cut < n; cut++) {
        int rc = decode_copy(&part, frame, cut, n, link, flags);
        if (cut < need) {
            if (rc != FK__PKT_TRUNCATED)
                fail_msg("link %d: prefix %zu of %zu (need %zu): status %d", link, cut, n, need,
                         rc);
            assert_int_equal(part.ip_version, 0);
        } else {
            if (rc != FK__PKT_OK)
                fail_msg("link %d: prefix %zu of %zu (need %zu): status %d", link, cut, n, need,
                         rc);
            assert_int_equal(part.ip_len, full.ip_len);
            assert_int_equal(part.src_port, full.src_port);
            assert_int_equal(part.dst_port, full.dst_port);
            assert_int_equal(part.proto, full.proto);
            assert_memory_equal(part.src, full.src, 16);
            assert_true(part.payload_off <= cut);
        }
    }
}

static void ethernet_ipv4_tcp(void **state)
{
    (void)state;
    uint8_t f[4096];
    pb_spec s = spec4(PB_LINK_EN10MB, 6);
    size_t n = build(f, &s);
    fk__packet p;
    assert_int_equal(decode_copy(&p, f, n, n, FK__LINK_EN10MB, 0), FK__PKT_OK);
    assert_int_equal(p.ip_version, 4);
    assert_int_equal(p.ethertype, 0x0800);
    assert_int_equal(p.l3_off, 14);
    assert_int_equal(p.l4_off, 34);
    assert_int_equal(p.payload_off, 54);
    assert_int_equal(p.ip_len, 20 + 20 + 100);
    assert_int_equal(p.proto, 6);
    assert_int_equal(p.src_port, 40000);
    assert_int_equal(p.dst_port, 80);
    assert_int_equal(p.tcp_flags, 0x12);
    assert_int_equal(p.tcp_seq, 1000);
    assert_int_equal(p.tcp_ack, 2000);
    assert_int_equal(p.tos, 0x28);
    assert_int_equal(p.ttl, 64);
    assert_int_equal(p.vlan, 0);
    assert_int_equal(p.ts_ns, 42);
    assert_true(p.flags & FK__PKT_F_L4);
    assert_false(p.flags & FK__PKT_F_FRAG);
    assert_memory_equal(p.src, V4A, 16);
    assert_memory_equal(p.dst, V4B, 16);
    check_prefixes(f, n, FK__LINK_EN10MB, 0, 54);
}

static void vlan_and_qinq(void **state)
{
    (void)state;
    uint8_t f[4096];
    fk__packet p;
    pb_spec s = spec4(PB_LINK_EN10MB, 17);
    s.nvlan = 1;
    s.vlan[0] = 100;
    size_t n = build(f, &s);
    assert_int_equal(decode_copy(&p, f, n, n, FK__LINK_EN10MB, 0), FK__PKT_OK);
    assert_int_equal(p.vlan, 100);
    assert_int_equal(p.inner_vlan, 0);
    assert_int_equal(p.l3_off, 18);
    assert_int_equal(p.ip_len, 20 + 8 + 100);
    check_prefixes(f, n, FK__LINK_EN10MB, 0, 18 + 28);

    s = spec6(PB_LINK_EN10MB, 6);
    s.nvlan = 2;
    s.vlan_tpid = 0x88a8;
    s.vlan[0] = 4000;
    s.vlan[1] = 7;
    n = build(f, &s);
    assert_int_equal(f[12], 0x88);
    assert_int_equal(f[13], 0xa8);
    assert_int_equal(decode_copy(&p, f, n, n, FK__LINK_EN10MB, 0), FK__PKT_OK);
    assert_int_equal(p.vlan, 4000);
    assert_int_equal(p.inner_vlan, 7);
    assert_int_equal(p.l3_off, 22);
    assert_int_equal(p.ip_version, 6);
    assert_int_equal(p.ip_len, 40 + 20 + 100);
    check_prefixes(f, n, FK__LINK_EN10MB, 0, 22 + 60);

    /* nine stacked tags: refused */
    uint8_t g[64];
    memset(g, 0, sizeof g);
    g[12] = 0x81;
    for (int i = 0; i < 9; i++) {
        g[14 + 4 * i + 2] = 0x81;
        g[14 + 4 * i + 3] = 0x00;
    }
    assert_int_equal(decode_copy(&p, g, sizeof g, sizeof g, FK__LINK_EN10MB, 0), FK__PKT_MALFORMED);
}

static void linux_cooked(void **state)
{
    (void)state;
    uint8_t f[4096];
    fk__packet p;
    pb_spec s = spec6(PB_LINK_SLL, 6);
    s.pkttype = 4; /* outgoing */
    size_t n = build(f, &s);
    assert_int_equal(decode_copy(&p, f, n, n, FK__LINK_LINUX_SLL, 0), FK__PKT_OK);
    assert_int_equal(p.l3_off, 16);
    assert_int_equal(p.sll_pkttype, 4);
    assert_int_equal(p.direction, FK_DIRECTION_EGRESS);
    assert_int_equal(p.ip_version, 6);
    assert_int_equal(p.src_port, 40000);
    check_prefixes(f, n, FK__LINK_LINUX_SLL, 0, 16 + 60);

    s = spec4(PB_LINK_SLL2, 17);
    s.if_index = 7;
    s.pkttype = 0;
    s.nvlan = 1;
    s.vlan[0] = 9;
    n = build(f, &s);
    assert_int_equal(decode_copy(&p, f, n, n, FK__LINK_LINUX_SLL2, 0), FK__PKT_OK);
    assert_int_equal(p.if_index, 7);
    assert_int_equal(p.vlan, 9);
    assert_int_equal(p.l3_off, 24);
    assert_int_equal(p.ip_len, 128);
    check_prefixes(f, n, FK__LINK_LINUX_SLL2, 0, 24 + 28);
}

static void loopback_and_raw(void **state)
{
    (void)state;
    uint8_t f[4096];
    fk__packet p;
    pb_spec s = spec4(PB_LINK_NULL, 17);
    size_t n = build(f, &s);
    assert_int_equal(decode_copy(&p, f, n, n, FK__LINK_NULL, 0), FK__PKT_OK);
    assert_int_equal(p.l3_off, 4);
    assert_int_equal(p.ip_version, 4);
    check_prefixes(f, n, FK__LINK_NULL, 0, 4 + 28);

    s = spec6(PB_LINK_NULL, 17);
    n = build(f, &s);
    assert_int_equal(decode_copy(&p, f, n, n, FK__LINK_NULL, 0), FK__PKT_OK);
    assert_int_equal(p.ip_version, 6);
    /* a DLT_NULL capture from a big-endian FreeBSD host: family 28 byte-swapped */
    f[0] = 0;
    f[1] = 0;
    f[2] = 0;
    f[3] = 28;
    assert_int_equal(decode_copy(&p, f, n, n, FK__LINK_NULL, 0), FK__PKT_OK);
    assert_int_equal(p.ip_version, 6);
    f[3] = 99; /* unknown family */
    assert_int_equal(decode_copy(&p, f, n, n, FK__LINK_NULL, 0), FK__PKT_NOT_IP);

    s = spec6(PB_LINK_LOOP, 58);
    s.dport = 128 << 8; /* echo request */
    n = build(f, &s);
    assert_int_equal(f[3], 24);
    assert_int_equal(decode_copy(&p, f, n, n, FK__LINK_LOOP, 0), FK__PKT_OK);
    assert_int_equal(p.proto, 58);
    assert_int_equal(p.dst_port, 128 << 8);
    assert_int_equal(p.src_port, 0);
    check_prefixes(f, n, FK__LINK_LOOP, 0, 4 + 44);

    int raw_links[] = {FK__LINK_RAW_DLT, FK__LINK_RAW_DLT14, FK__LINK_RAW};
    for (size_t i = 0; i < 3; i++) {
        s = spec4(PB_LINK_RAW, 6);
        n = build(f, &s);
        assert_int_equal(decode_copy(&p, f, n, n, raw_links[i], 0), FK__PKT_OK);
        assert_int_equal(p.l3_off, 0);
        assert_int_equal(p.ip_len, n);
        s = spec6(PB_LINK_RAW, 6);
        n = build(f, &s);
        assert_int_equal(decode_copy(&p, f, n, n, raw_links[i], 0), FK__PKT_OK);
        assert_int_equal(p.ip_version, 6);
        check_prefixes(f, n, raw_links[i], 0, 60);
    }
    s = spec4(PB_LINK_IPV4, 17);
    n = build(f, &s);
    assert_int_equal(decode_copy(&p, f, n, n, FK__LINK_IPV4, 0), FK__PKT_OK);
    assert_int_equal(decode_copy(&p, f, n, n, FK__LINK_IPV6, 0), FK__PKT_MALFORMED);
    s = spec6(PB_LINK_IPV6, 17);
    n = build(f, &s);
    assert_int_equal(decode_copy(&p, f, n, n, FK__LINK_IPV6, 0), FK__PKT_OK);
    assert_int_equal(decode_copy(&p, f, n, n, FK__LINK_IPV4, 0), FK__PKT_MALFORMED);
    f[0] = 0x50; /* version 5 */
    assert_int_equal(decode_copy(&p, f, n, n, FK__LINK_RAW, 0), FK__PKT_MALFORMED);
}

static void ipv4_options_and_fragments(void **state)
{
    (void)state;
    uint8_t f[4096];
    fk__packet p;
    pb_spec s = spec4(PB_LINK_EN10MB, 6);
    s.ip4_opt_words = 3;
    size_t n = build(f, &s);
    assert_int_equal(decode_copy(&p, f, n, n, FK__LINK_EN10MB, 0), FK__PKT_OK);
    assert_true(p.flags & FK__PKT_F_IPOPTS);
    assert_int_equal(p.l4_off, 14 + 32);
    assert_int_equal(p.ip_len, 32 + 20 + 100);
    assert_int_equal(p.src_port, 40000);
    check_prefixes(f, n, FK__LINK_EN10MB, 0, 14 + 32 + 20);

    s = spec4(PB_LINK_EN10MB, 17);
    s.frag = 1;
    s.more_frags = 1;
    s.payload = 1472;
    n = build(f, &s);
    assert_int_equal(decode_copy(&p, f, n, n, FK__LINK_EN10MB, 0), FK__PKT_OK);
    assert_int_equal(p.flags & (FK__PKT_F_FRAG | FK__PKT_F_FIRST_FRAG),
                     FK__PKT_F_FRAG | FK__PKT_F_FIRST_FRAG);
    assert_int_equal(p.frag_id, 0x1234);
    assert_int_equal(p.frag_off, 0);
    assert_int_equal(p.src_port, 40000);

    s.more_frags = 0;
    s.frag_off = 1480;
    s.payload = 500;
    n = build(f, &s);
    assert_int_equal(decode_copy(&p, f, n, n, FK__LINK_EN10MB, 0), FK__PKT_OK);
    assert_int_equal(p.flags & (FK__PKT_F_FRAG | FK__PKT_F_FIRST_FRAG | FK__PKT_F_L4),
                     FK__PKT_F_FRAG);
    assert_int_equal(p.frag_off, 1480);
    assert_int_equal(p.frag_id, 0x1234);
    assert_int_equal(p.src_port, 0);
    assert_int_equal(p.dst_port, 0);
    assert_int_equal(p.proto, 17);
    assert_int_equal(p.ip_len, 520);
    check_prefixes(f, n, FK__LINK_EN10MB, 0, 34);
}

static void ipv4_malformed(void **state)
{
    (void)state;
    uint8_t f[4096];
    fk__packet p;
    pb_spec s = spec4(PB_LINK_EN10MB, 6);
    size_t n = build(f, &s);
    f[14] = 0x44; /* IHL 4 words */
    assert_int_equal(decode_copy(&p, f, n, n, FK__LINK_EN10MB, 0), FK__PKT_MALFORMED);
    f[14] = 0x45;
    f[16] = 0;
    f[17] = 10; /* total length below the header */
    assert_int_equal(decode_copy(&p, f, n, n, FK__LINK_EN10MB, 0), FK__PKT_MALFORMED);
    f[17] = 30; /* TCP header does not fit the datagram */
    assert_int_equal(decode_copy(&p, f, n, n, FK__LINK_EN10MB, 0), FK__PKT_MALFORMED);
    n = build(f, &s);
    f[14 + 20 + 12] = 0x40; /* TCP data offset 4 words */
    assert_int_equal(decode_copy(&p, f, n, n, FK__LINK_EN10MB, 0), FK__PKT_MALFORMED);
    n = build(f, &s);
    f[14] = 0x65; /* version 6 behind ethertype 0x0800 */
    assert_int_equal(decode_copy(&p, f, n, n, FK__LINK_EN10MB, 0), FK__PKT_MALFORMED);
    assert_int_equal(p.ip_version, 0);
    assert_int_equal(p.ip_len, 0);

    /* TSO/GSO: total length 0 -> length from the wire */
    n = build(f, &s);
    f[16] = 0;
    f[17] = 0;
    assert_int_equal(decode_copy(&p, f, 80, 9014, FK__LINK_EN10MB, 0), FK__PKT_OK);
    assert_int_equal(p.ip_len, 9000);
    assert_int_equal(p.wirelen, 9014);
}

static void ipv6_extension_headers(void **state)
{
    (void)state;
    uint8_t f[4096];
    fk__packet p;
    pb_spec s = spec6(PB_LINK_EN10MB, 6);
    s.next6 = 4;
    s.ext6[0] = 0;
    s.ext6[1] = 43;
    s.ext6[2] = 51;
    s.ext6[3] = 60;
    size_t n = build(f, &s);
    assert_int_equal(decode_copy(&p, f, n, n, FK__LINK_EN10MB, 0), FK__PKT_OK);
    assert_true(p.flags & FK__PKT_F_IP6EXT);
    assert_int_equal(p.proto, 6);
    assert_int_equal(p.l4_off, 14 + 40 + 8 + 8 + 16 + 8);
    assert_int_equal(p.ip_len, 40 + 40 + 20 + 100);
    assert_int_equal(p.dst_port, 80);
    check_prefixes(f, n, FK__LINK_EN10MB, 0, 14 + 40 + 40 + 20);

    s = spec6(PB_LINK_EN10MB, 17);
    s.next6 = 1;
    s.ext6[0] = 60;
    s.frag = 1;
    s.more_frags = 1;
    s.frag_id = 0xdeadbeef;
    n = build(f, &s);
    assert_int_equal(decode_copy(&p, f, n, n, FK__LINK_EN10MB, 0), FK__PKT_OK);
    assert_int_equal(p.flags & (FK__PKT_F_FRAG | FK__PKT_F_FIRST_FRAG),
                     FK__PKT_F_FRAG | FK__PKT_F_FIRST_FRAG);
    assert_int_equal(p.frag_id, 0xdeadbeef);
    assert_int_equal(p.src_port, 40000);
    assert_int_equal(p.proto, 17);

    s.more_frags = 0;
    s.frag_off = 1232;
    n = build(f, &s);
    assert_int_equal(decode_copy(&p, f, n, n, FK__LINK_EN10MB, 0), FK__PKT_OK);
    assert_false(p.flags & (FK__PKT_F_FIRST_FRAG | FK__PKT_F_L4));
    assert_int_equal(p.frag_off, 1232);
    assert_int_equal(p.proto, 17);
    assert_int_equal(p.src_port, 0);
    assert_int_equal(p.ip_len, 40 + 16 + 100);
    check_prefixes(f, n, FK__LINK_EN10MB, 0, 14 + 56);

    /* hop-by-hop anywhere but first is malformed */
    s = spec6(PB_LINK_RAW, 17);
    s.next6 = 2;
    s.ext6[0] = 60;
    s.ext6[1] = 0;
    n = build(f, &s);
    assert_int_equal(decode_copy(&p, f, n, n, FK__LINK_RAW, 0), FK__PKT_MALFORMED);

    /* an endless chain of destination options is refused */
    uint8_t g[40 + 8 * 20];
    memset(g, 0, sizeof g);
    g[0] = 0x60;
    g[4] = 0;
    g[5] = 8 * 20;
    g[6] = 60;
    for (int i = 0; i < 20; i++)
        g[40 + 8 * i] = 60;
    assert_int_equal(decode_copy(&p, g, sizeof g, sizeof g, FK__LINK_RAW, 0), FK__PKT_MALFORMED);

    /* extension header longer than the payload length says */
    s = spec6(PB_LINK_RAW, 59);
    s.next6 = 1;
    s.ext6[0] = 60;
    n = build(f, &s);
    assert_int_equal(decode_copy(&p, f, n, n, FK__LINK_RAW, 0), FK__PKT_OK);
    assert_int_equal(p.proto, 59);
    f[40 + 1] = 5; /* 48 bytes, payload length 8 + 100 */
    f[5] = 16;
    assert_int_equal(decode_copy(&p, f, n, n, FK__LINK_RAW, 0), FK__PKT_MALFORMED);
}

static void ipv6_jumbogram(void **state)
{
    (void)state;
    /* RFC 2675: payload length 0, hop-by-hop with a jumbo payload option. */
    uint8_t f[40 + 8 + 20];
    memset(f, 0, sizeof f);
    f[0] = 0x60;
    f[6] = 0; /* hop-by-hop */
    memcpy(f + 8, V6A, 16);
    memcpy(f + 24, V6B, 16);
    f[40] = 6;
    f[41] = 0;
    f[42] = 0xc2;
    f[43] = 4;
    pb_put32(f + 44, 100000);
    pb_put16(f + 48, 1);
    pb_put16(f + 50, 2);
    f[48 + 12] = 0x50;
    fk__packet p;
    assert_int_equal(decode_copy(&p, f, sizeof f, sizeof f, FK__LINK_RAW, 0), FK__PKT_OK);
    assert_int_equal(p.ip_len, 40 + 100000);
    assert_int_equal(p.src_port, 1);
    assert_int_equal(decode_copy(&p, f, 44, 100040, FK__LINK_RAW, 0), FK__PKT_TRUNCATED);
}

static void icmp_sctp_other(void **state)
{
    (void)state;
    uint8_t f[4096];
    fk__packet p;
    pb_spec s = spec4(PB_LINK_EN10MB, 1);
    s.dport = 3 << 8 | 4; /* destination unreachable, fragmentation needed */
    size_t n = build(f, &s);
    assert_int_equal(decode_copy(&p, f, n, n, FK__LINK_EN10MB, 0), FK__PKT_OK);
    assert_int_equal(p.dst_port, 0x0304);
    assert_int_equal(p.src_port, 0);
    check_prefixes(f, n, FK__LINK_EN10MB, 0, 38);

    s = spec6(PB_LINK_EN10MB, 132);
    n = build(f, &s);
    assert_int_equal(decode_copy(&p, f, n, n, FK__LINK_EN10MB, 0), FK__PKT_OK);
    assert_int_equal(p.proto, 132);
    assert_int_equal(p.src_port, 40000);
    assert_int_equal(p.dst_port, 80);
    check_prefixes(f, n, FK__LINK_EN10MB, 0, 14 + 52);

    s = spec4(PB_LINK_EN10MB, 47); /* GRE: no ports, still a flow */
    s.payload = 24;
    n = build(f, &s);
    assert_int_equal(decode_copy(&p, f, n, n, FK__LINK_EN10MB, 0), FK__PKT_OK);
    assert_int_equal(p.proto, 47);
    assert_false(p.flags & FK__PKT_F_L4);
    assert_int_equal(p.ip_len, 44);

    s = spec4(PB_LINK_EN10MB, 6);
    s.ethertype = 0x0806; /* ARP */
    n = build(f, &s);
    assert_int_equal(decode_copy(&p, f, n, n, FK__LINK_EN10MB, 0), FK__PKT_NOT_IP);
    assert_int_equal(p.ethertype, 0x0806);
    assert_int_equal(decode_copy(&p, f, n, n, 147, 0), FK__PKT_BAD_LINK);
    assert_int_equal(fk__packet_link_supported(147), 0);
    assert_int_equal(fk__packet_link_supported(FK__LINK_LINUX_SLL2), 1);
    assert_int_equal(fk__packet_decode(&p, NULL, 0, 0, FK__LINK_EN10MB, 0, 0), FK__PKT_TRUNCATED);
    assert_int_equal(fk__packet_decode(&p, NULL, 10, 0, FK__LINK_EN10MB, 0, 0), FK__PKT_MALFORMED);
    assert_string_equal(fk__pkt_status_name(FK__PKT_TRUNCATED), "truncated");
    assert_string_equal(fk__pkt_status_name(99), "unknown");
}

/* VXLAN: 8-byte header (flags 0x08, VNI) + inner Ethernet. */
static size_t vxlan_frame(uint8_t *f, uint8_t vxflags, size_t inner_cut)
{
    uint8_t inner[2048];
    pb_spec in = spec4(PB_LINK_EN10MB, 6);
    memcpy(in.src, (uint8_t[16]){192, 168, 1, 1}, 16);
    memcpy(in.dst, (uint8_t[16]){192, 168, 1, 2}, 16);
    in.sport = 1111;
    in.dport = 2222;
    in.payload = 10;
    size_t in_len = pb_build(inner + 8, sizeof inner - 8, &in);
    memset(inner, 0, 8);
    inner[0] = vxflags;
    inner[4] = 0x00;
    inner[5] = 0x30;
    inner[6] = 0x39; /* VNI 12345 */
    pb_spec out = spec4(PB_LINK_EN10MB, 17);
    out.sport = 50000;
    out.dport = 4789;
    out.raw = inner;
    out.raw_len = (uint16_t)(8 + (inner_cut ? inner_cut : in_len));
    return pb_build(f, 4096, &out);
}

static void tunnels(void **state)
{
    (void)state;
    uint8_t f[4096];
    fk__packet p;
    size_t n = vxlan_frame(f, 0x08, 0);
    assert_int_equal(decode_copy(&p, f, n, n, FK__LINK_EN10MB, 0), FK__PKT_OK);
    assert_int_equal(p.dst_port, 4789); /* option off: the outer UDP flow */
    assert_false(p.flags & FK__PKT_F_TUNNEL);
    assert_int_equal(decode_copy(&p, f, n, n, FK__LINK_EN10MB, FK__DECODE_TUNNELS), FK__PKT_OK);
    assert_true(p.flags & FK__PKT_F_TUNNEL);
    assert_int_equal(p.tunnel_vni, 12345);
    assert_int_equal(p.tunnel_kind, FK_TUNNEL_VXLAN);
    assert_int_equal(p.outer_family, 4);
    {
        pb_spec o4 = spec4(PB_LINK_EN10MB, 17); /* the outer header's addresses */
        assert_memory_equal(p.outer_src, o4.src, 16);
        assert_memory_equal(p.outer_dst, o4.dst, 16);
    }
    assert_int_equal(p.direction, FK_DIRECTION_UNKNOWN); /* Ethernet says nothing */
    assert_int_equal(p.proto, 6);
    assert_int_equal(p.src_port, 1111);
    assert_int_equal(p.dst_port, 2222);
    assert_int_equal(p.src[0], 192);
    assert_int_equal(p.ip_len, 50);
    assert_int_equal(p.l3_off, 14 + 20 + 8 + 8 + 14);
    /* every prefix: never out of bounds; the outer view when the inner is cut */
    for (size_t cut = 0; cut < n; cut++) {
        int rc = decode_copy(&p, f, cut, n, FK__LINK_EN10MB, FK__DECODE_TUNNELS);
        if (cut < 42)
            assert_int_equal(rc, FK__PKT_TRUNCATED);
        else
            assert_int_equal(rc, FK__PKT_OK);
        if (cut >= 14 + 20 + 8 + 8 + 14 + 40)
            assert_int_equal(p.dst_port, 2222);
        else if (cut >= 42)
            assert_int_equal(p.dst_port, 4789);
    }
    n = vxlan_frame(f, 0x00, 0); /* I flag clear: not a valid VXLAN header */
    assert_int_equal(decode_copy(&p, f, n, n, FK__LINK_EN10MB, FK__DECODE_TUNNELS), FK__PKT_OK);
    assert_int_equal(p.dst_port, 4789);
    n = vxlan_frame(f, 0x08, 30); /* datagram ends inside the inner IP header */
    assert_int_equal(decode_copy(&p, f, n, n, FK__LINK_EN10MB, FK__DECODE_TUNNELS), FK__PKT_OK);
    assert_int_equal(p.dst_port, 4789);

    /* GENEVE with 8 bytes of options carrying IPv6 directly, and with Ethernet */
    uint8_t g[256];
    memset(g, 0, sizeof g);
    g[0] = 2; /* version 0, 2 words of options */
    pb_put16(g + 2, 0x86dd);
    g[4] = 0;
    g[5] = 0;
    g[6] = 7; /* VNI 7 */
    pb_spec in = spec6(PB_LINK_RAW, 17);
    in.sport = 53;
    in.dport = 5353;
    in.payload = 4;
    size_t in_len = pb_build(g + 16, sizeof g - 16, &in);
    pb_spec out = spec4(PB_LINK_EN10MB, 17);
    out.dport = 6081;
    out.raw = g;
    out.raw_len = (uint16_t)(16 + in_len);
    n = pb_build(f, sizeof f, &out);
    assert_int_equal(decode_copy(&p, f, n, n, FK__LINK_EN10MB, FK__DECODE_TUNNELS), FK__PKT_OK);
    assert_true(p.flags & FK__PKT_F_TUNNEL);
    assert_int_equal(p.tunnel_vni, 7);
    assert_int_equal(p.tunnel_kind, FK_TUNNEL_GENEVE);
    assert_int_equal(p.outer_family, 4);
    assert_int_equal(p.ip_version, 6);
    assert_int_equal(p.dst_port, 5353);
    g[0] = 0x42; /* version 1: left alone */
    n = pb_build(f, sizeof f, &out);
    assert_int_equal(decode_copy(&p, f, n, n, FK__LINK_EN10MB, FK__DECODE_TUNNELS), FK__PKT_OK);
    assert_int_equal(p.dst_port, 6081);

    g[0] = 0;
    pb_put16(g + 2, 0x6558);
    pb_spec ine = spec4(PB_LINK_EN10MB, 17);
    ine.nvlan = 1;
    ine.vlan[0] = 33;
    in_len = pb_build(g + 8, sizeof g - 8, &ine);
    out.raw_len = (uint16_t)(8 + in_len);
    n = pb_build(f, sizeof f, &out);
    assert_int_equal(decode_copy(&p, f, n, n, FK__LINK_EN10MB, FK__DECODE_TUNNELS), FK__PKT_OK);
    assert_true(p.flags & FK__PKT_F_TUNNEL);
    assert_int_equal(p.vlan, 33);
    assert_int_equal(p.dst_port, 80);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ethernet_ipv4_tcp),
        cmocka_unit_test(vlan_and_qinq),
        cmocka_unit_test(linux_cooked),
        cmocka_unit_test(loopback_and_raw),
        cmocka_unit_test(ipv4_options_and_fragments),
        cmocka_unit_test(ipv4_malformed),
        cmocka_unit_test(ipv6_extension_headers),
        cmocka_unit_test(ipv6_jumbogram),
        cmocka_unit_test(icmp_sctp_other),
        cmocka_unit_test(tunnels),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
