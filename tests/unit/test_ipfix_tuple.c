/* The flow key of decoded records (docs/ipfix-decoding.md): the address
 * family chosen per record (ipVersion, else the non-zero pair; never per
 * field) for IPFIX and NetFlow v9, next hops the same way, and repeated
 * flow-key elements (an outer IPv6 SRv6 header and an inner IPv4 UDP flow):
 * the inner flow is the key, the outer header the tunnel fields, and the
 * typed access API still reads every occurrence. Messages are written byte
 * by byte here. */
#include <flowkit/flowkit.h>
#include <stdio.h>
#include <string.h>

#include "fk_test.h"

typedef struct buf {
    uint8_t b[4096];
    size_t n;
} buf;

static void put8(buf *m, unsigned v)
{
    m->b[m->n++] = (uint8_t)v;
}
static void put16(buf *m, unsigned v)
{
    put8(m, v >> 8);
    put8(m, v & 0xff);
}
static void put32(buf *m, uint32_t v)
{
    put16(m, v >> 16);
    put16(m, v & 0xffff);
}
static void put_addr(buf *m, const char *text)
{
    fk_addr a;
    assert_int_equal(fk_addr_parse(text, &a), 0);
    memcpy(m->b + m->n, a.bytes, a.family == 4 ? 4 : 16);
    m->n += a.family == 4 ? 4 : 16;
}
static void put_zero(buf *m, size_t n)
{
    memset(m->b + m->n, 0, n);
    m->n += n;
}
static void patch16(buf *m, size_t at, size_t v)
{
    m->b[at] = (uint8_t)(v >> 8);
    m->b[at + 1] = (uint8_t)v;
}

/* IPFIX: header, then sets; ipfix_end patches the message length. */
static void ipfix_begin(buf *m)
{
    m->n = 0;
    put16(m, 10);
    put16(m, 0);
    put32(m, 1700000000);
    put32(m, 0);
    put32(m, 7);
}
static void ipfix_end(buf *m)
{
    patch16(m, 2, m->n);
}
/* A template set with one template of n (id, length) pairs. */
static void ipfix_template(buf *m, uint16_t tid, const uint16_t (*f)[2], size_t n)
{
    size_t at = m->n;
    put16(m, 2);
    put16(m, 0);
    put16(m, tid);
    put16(m, (unsigned)n);
    for (size_t i = 0; i < n; i++) {
        put16(m, f[i][0]);
        put16(m, f[i][1]);
    }
    patch16(m, at + 2, m->n - at);
}
static size_t data_begin(buf *m, uint16_t tid)
{
    size_t at = m->n;
    put16(m, tid);
    put16(m, 0);
    return at;
}
static void data_end(buf *m, size_t at)
{
    patch16(m, at + 2, m->n - at);
}

typedef struct decoded {
    int n;
    fk_flow flows[8];
    char json[8][FK_FLOW_JSON_MAX];
    /* every occurrence of sourceTransportPort (7) in the first record */
    int ports_seen;
    uint64_t ports[4];
} decoded;

static void decode_ipfix(const buf *m, decoded *d)
{
    memset(d, 0, sizeof *d);
    fk_ipfix_decoder *dec;
    assert_int_equal(fk_ipfix_decoder_create(&dec, NULL), 0);
    assert_int_equal(fk_ipfix_decoder_begin(dec, 1, m->b, m->n, NULL), 0);
    fk_ipfix_item it;
    int rc;
    while ((rc = fk_ipfix_decoder_next(dec, &it)) == 1) {
        if (it.kind != FK_IPFIX_ITEM_RECORD)
            continue;
        assert_true(d->n < 8);
        assert_int_equal(fk_ipfix_record_to_flow(&it.record, &d->flows[d->n]), 0);
        assert_true(fk_flow_to_json(&d->flows[d->n], d->json[d->n], sizeof d->json[0]) > 0);
        if (d->n == 0) {
            fk_ipfix_value v;
            for (unsigned k = 0; k < 4; k++) {
                if (fk_ipfix_record_find_nth_field(&it.record, 0, 7, k, &v) != 0) {
                    assert_int_equal(fk_error_last()->code, FK_ENOTFOUND);
                    break;
                }
                d->ports[d->ports_seen++] = v.u;
            }
        }
        d->n++;
    }
    assert_int_equal(rc, 0);
    fk_ipfix_decoder_destroy(dec);
}

static void assert_addr(const fk_addr *a, const char *text)
{
    char s[FK_ADDR_STRLEN] = "";
    fk_addr_format(a, s, sizeof s);
    assert_string_equal(s, text);
}

/* 8, 12 (IPv4) and 27, 28 (IPv6) in one template, ports, protocol, bytes. */
static const uint16_t both_v4_first[][2] = {{8, 4}, {12, 4}, {27, 16}, {28, 16},
                                            {7, 2}, {11, 2}, {4, 1},   {1, 4}};
static const uint16_t both_v6_first[][2] = {{27, 16}, {28, 16}, {7, 2},  {11, 2},
                                            {4, 1},   {8, 4},   {12, 4}, {1, 4}};
/* interleaved, with ipVersion */
static const uint16_t both_mixed[][2] = {{8, 4}, {27, 16}, {12, 4}, {28, 16}, {60, 1},
                                         {7, 2}, {11, 2},  {4, 1},  {1, 4}};

static void both_families_record(buf *m, const uint16_t (*t)[2], size_t n, const char *v4s,
                                 const char *v4d, const char *v6s, const char *v6d, int ver)
{
    for (size_t i = 0; i < n; i++) {
        switch (t[i][0]) {
        case 8:
            v4s ? put_addr(m, v4s) : put_zero(m, 4);
            break;
        case 12:
            v4d ? put_addr(m, v4d) : put_zero(m, 4);
            break;
        case 27:
            v6s ? put_addr(m, v6s) : put_zero(m, 16);
            break;
        case 28:
            v6d ? put_addr(m, v6d) : put_zero(m, 16);
            break;
        case 60:
            put8(m, (unsigned)ver);
            break;
        case 7:
            put16(m, 1000);
            break;
        case 11:
            put16(m, 53);
            break;
        case 4:
            put8(m, 17);
            break;
        case 1:
            put32(m, 100);
            break;
        default:
            fail();
        }
    }
}

static void address_family_per_record(void **state)
{
    (void)state;
    const struct {
        const uint16_t (*t)[2];
        size_t n;
    } layouts[] = {{both_v4_first, 8}, {both_v6_first, 8}, {both_mixed, 9}};
    for (size_t l = 0; l < 3; l++) {
        buf m;
        ipfix_begin(&m);
        ipfix_template(&m, 300, layouts[l].t, layouts[l].n);
        size_t at = data_begin(&m, 300);
        /* IPv6 over MPLS as Cisco sends it: IPv4 pair 0.0.0.0 */
        both_families_record(&m, layouts[l].t, layouts[l].n, NULL, NULL, "2001:db8::1",
                             "2001:db8::2", 6);
        /* IPv4 flow, IPv6 pair unused */
        both_families_record(&m, layouts[l].t, layouts[l].n, "192.0.2.1", "192.0.2.2", NULL, NULL,
                             4);
        /* one address of a pair zero: still that pair, never one of each */
        both_families_record(&m, layouts[l].t, layouts[l].n, NULL, NULL, "2001:db8::1", NULL, 6);
        data_end(&m, at);
        ipfix_end(&m);
        decoded d;
        decode_ipfix(&m, &d);
        assert_int_equal(d.n, 3);
        assert_addr(&d.flows[0].src, "2001:db8::1");
        assert_addr(&d.flows[0].dst, "2001:db8::2");
        assert_addr(&d.flows[1].src, "192.0.2.1");
        assert_addr(&d.flows[1].dst, "192.0.2.2");
        assert_addr(&d.flows[2].src, "2001:db8::1");
        assert_addr(&d.flows[2].dst, "::");
        for (int i = 0; i < 3; i++) {
            assert_int_equal(d.flows[i].src.family, d.flows[i].dst.family);
            assert_int_equal(d.flows[i].src_port, 1000);
            assert_int_equal(d.flows[i].dst_port, 53);
            assert_int_equal(d.flows[i].proto, 17);
            assert_int_equal(d.flows[i].tunnel, FK_TUNNEL_NONE);
            assert_int_equal(d.flows[i].outer_src.family, 0);
            assert_null(strstr(d.json[i], "outer_src_addr"));
        }
    }
}

/* ipVersion wins over the non-zero rule: a record that says 6 is IPv6 even
 * when its IPv4 pair holds something. */
static void ip_version_decides(void **state)
{
    (void)state;
    buf m;
    ipfix_begin(&m);
    ipfix_template(&m, 301, both_mixed, 9);
    size_t at = data_begin(&m, 301);
    both_families_record(&m, both_mixed, 9, "10.0.0.1", "10.0.0.2", "2001:db8::1", "2001:db8::2",
                         6);
    both_families_record(&m, both_mixed, 9, "10.0.0.1", "10.0.0.2", "2001:db8::1", "2001:db8::2",
                         4);
    /* an ipVersion naming a family the template lacks falls back to the rule */
    both_families_record(&m, both_mixed, 9, NULL, NULL, "2001:db8::1", "2001:db8::2", 9);
    data_end(&m, at);
    ipfix_end(&m);
    decoded d;
    decode_ipfix(&m, &d);
    assert_int_equal(d.n, 3);
    assert_addr(&d.flows[0].src, "2001:db8::1");
    assert_addr(&d.flows[1].src, "10.0.0.1");
    assert_addr(&d.flows[1].dst, "10.0.0.2");
    assert_addr(&d.flows[2].dst, "2001:db8::2");
}

static void next_hops_by_family(void **state)
{
    (void)state;
    static const uint16_t t[][2] = {{8, 4}, {12, 4}, {15, 4}, {62, 16}, {18, 4}, {63, 16}};
    buf m;
    ipfix_begin(&m);
    ipfix_template(&m, 302, t, 6);
    size_t at = data_begin(&m, 302);
    /* IPv4 next hop; BGP next hop IPv6 (RFC 5549) */
    put_addr(&m, "192.0.2.1");
    put_addr(&m, "192.0.2.2");
    put_addr(&m, "198.51.100.1");
    put_zero(&m, 16);
    put_zero(&m, 4);
    put_addr(&m, "2001:db8::fe");
    /* no next hop at all: both pairs zero */
    put_addr(&m, "192.0.2.1");
    put_addr(&m, "192.0.2.2");
    put_zero(&m, 4 + 16 + 4 + 16);
    data_end(&m, at);
    ipfix_end(&m);
    decoded d;
    decode_ipfix(&m, &d);
    assert_int_equal(d.n, 2);
    assert_addr(&d.flows[0].next_hop, "198.51.100.1");
    assert_addr(&d.flows[0].bgp_next_hop, "2001:db8::fe");
    assert_non_null(strstr(d.json[0], "\"next_hop\":\"198.51.100.1\""));
    assert_non_null(strstr(d.json[0], "\"bgp_next_hop\":\"2001:db8::fe\""));
    assert_int_equal(d.flows[1].next_hop.family, 0);
    assert_int_equal(d.flows[1].bgp_next_hop.family, 0);
    assert_null(strstr(d.json[1], "next_hop"));
}

/* Huawei/Cisco SRv6: the outer IPv6 header (SRv6 addresses, ports 0,
 * protocol 4), then the inner IPv4 UDP flow. */
static const uint16_t srv6[][2] = {{27, 16}, {28, 16}, {7, 2},  {11, 2}, {4, 1}, {8, 4},
                                   {12, 4},  {7, 2},   {11, 2}, {4, 1},  {1, 8}, {2, 8}};

static void srv6_record(buf *m, const char *isrc, const char *idst, unsigned sport, unsigned dport)
{
    put_addr(m, "fc00:0:1::1");
    put_addr(m, "fc00:0:2::");
    put16(m, 0);
    put16(m, 0);
    put8(m, 4);
    put_addr(m, isrc);
    put_addr(m, idst);
    put16(m, sport);
    put16(m, dport);
    put8(m, 17);
    put32(m, 0);
    put32(m, 1500);
    put32(m, 0);
    put32(m, 3);
}

static void repeated_tuple_inner_is_the_key(void **state)
{
    (void)state;
    buf m;
    ipfix_begin(&m);
    ipfix_template(&m, 303, srv6, 12);
    size_t at = data_begin(&m, 303);
    srv6_record(&m, "192.0.2.110", "192.0.2.14", 2222, 1111);
    srv6_record(&m, "192.0.2.14", "192.0.2.110", 1111, 2222);
    data_end(&m, at);
    ipfix_end(&m);
    decoded d;
    decode_ipfix(&m, &d);
    assert_int_equal(d.n, 2);
    const fk_flow *f = &d.flows[0];
    assert_addr(&f->src, "192.0.2.110");
    assert_addr(&f->dst, "192.0.2.14");
    assert_int_equal(f->src_port, 2222);
    assert_int_equal(f->dst_port, 1111);
    assert_int_equal(f->proto, 17);
    assert_int_equal(f->bytes, 1500);
    assert_int_equal(f->packets, 3);
    assert_int_equal(f->tunnel, FK_TUNNEL_IPIP);
    assert_addr(&f->outer_src, "fc00:0:1::1");
    assert_addr(&f->outer_dst, "fc00:0:2::");
    assert_non_null(strstr(d.json[0], "\"src_port\":2222,\"dst_port\":1111,\"proto\":17"));
    assert_non_null(strstr(d.json[0], "\"tunnel\":\"ipip\",\"outer_src_addr\":\"fc00:0:1::1\","
                                      "\"outer_dst_addr\":\"fc00:0:2::\""));
    /* the two directions of the inner flow stay two keys */
    assert_addr(&d.flows[1].src, "192.0.2.14");
    assert_int_equal(d.flows[1].src_port, 1111);
    assert_int_equal(d.flows[1].dst_port, 2222);
    /* typed access reads every occurrence, in template order */
    assert_int_equal(d.ports_seen, 2);
    assert_int_equal(d.ports[0], 0);
    assert_int_equal(d.ports[1], 2222);
}

/* The outer addresses alone first (no ports of their own), then the inner
 * tuple; and the reverse nesting of GRE over IPv4 in a VXLAN-free case. */
static void repeated_addresses_only(void **state)
{
    (void)state;
    static const uint16_t t[][2] = {{8, 4},  {12, 4}, {4, 1},  {8, 4},
                                    {12, 4}, {7, 2},  {11, 2}, {4, 1}};
    buf m;
    ipfix_begin(&m);
    ipfix_template(&m, 304, t, 8);
    size_t at = data_begin(&m, 304);
    put_addr(&m, "203.0.113.1");
    put_addr(&m, "203.0.113.2");
    put8(&m, 47);
    put_addr(&m, "10.1.1.1");
    put_addr(&m, "10.2.2.2");
    put16(&m, 443);
    put16(&m, 50000);
    put8(&m, 6);
    /* outer header unused (zero): a plain flow, no tunnel */
    put_zero(&m, 9);
    put_addr(&m, "10.1.1.1");
    put_addr(&m, "10.2.2.2");
    put16(&m, 443);
    put16(&m, 50000);
    put8(&m, 6);
    data_end(&m, at);
    ipfix_end(&m);
    decoded d;
    decode_ipfix(&m, &d);
    assert_int_equal(d.n, 2);
    assert_addr(&d.flows[0].src, "10.1.1.1");
    assert_int_equal(d.flows[0].proto, 6);
    assert_int_equal(d.flows[0].src_port, 443);
    assert_int_equal(d.flows[0].tunnel, FK_TUNNEL_GRE);
    assert_addr(&d.flows[0].outer_dst, "203.0.113.2");
    assert_addr(&d.flows[1].dst, "10.2.2.2");
    assert_int_equal(d.flows[1].proto, 6);
    assert_int_equal(d.flows[1].tunnel, FK_TUNNEL_NONE);
    assert_int_equal(d.flows[1].outer_src.family, 0);
}

/* ---- NetFlow v9: the same rules ---------------------------------------- */

static void v9_begin(buf *m)
{
    m->n = 0;
    put16(m, 9);
    put16(m, 0); /* count: patched */
    put32(m, 100000);
    put32(m, 1700000000);
    put32(m, 1);
    put32(m, 0);
}

static int v9_collect(const fk_netflow_record *rec, void *user)
{
    decoded *d = user;
    if (rec->kind == FK_NETFLOW_RECORD_FLOW && d->n < 8)
        d->flows[d->n++] = *rec->flow;
    return 0;
}

static void v9_decode(const buf *m, decoded *d)
{
    memset(d, 0, sizeof *d);
    fk_netflow *h;
    assert_int_equal(fk_netflow_create(&h), 0);
    assert_int_equal(fk_netflow_activate(h), 0);
    fk_addr exp;
    assert_int_equal(fk_addr_parse("192.0.2.200", &exp), 0);
    assert_int_equal(fk_netflow_decode(h, &exp, 2055, m->b, m->n, v9_collect, d), 0);
    fk_netflow_destroy(h);
}

/* v9 template flowset (id 0) of n fields, then a data flowset. */
static void v9_template(buf *m, uint16_t tid, const uint16_t (*f)[2], size_t n)
{
    size_t at = m->n;
    put16(m, 0);
    put16(m, 0);
    put16(m, tid);
    put16(m, (unsigned)n);
    for (size_t i = 0; i < n; i++) {
        put16(m, f[i][0]);
        put16(m, f[i][1]);
    }
    patch16(m, at + 2, m->n - at);
}

static void v9_family_and_repetition(void **state)
{
    (void)state;
    buf m;
    v9_begin(&m);
    v9_template(&m, 400, both_v4_first, 8);
    v9_template(&m, 401, srv6, 12);
    size_t at = data_begin(&m, 400);
    both_families_record(&m, both_v4_first, 8, NULL, NULL, "2001:db8::1", "2001:db8::2", 0);
    both_families_record(&m, both_v4_first, 8, "192.0.2.1", "192.0.2.2", NULL, NULL, 0);
    data_end(&m, at);
    at = data_begin(&m, 401);
    srv6_record(&m, "192.0.2.110", "192.0.2.14", 2222, 1111);
    put_zero(&m, (4 - (m.n - at) % 4) % 4);
    data_end(&m, at);
    patch16(&m, 2, 5);
    decoded d;
    v9_decode(&m, &d);
    assert_int_equal(d.n, 3);
    assert_addr(&d.flows[0].src, "2001:db8::1");
    assert_addr(&d.flows[0].dst, "2001:db8::2");
    assert_addr(&d.flows[1].src, "192.0.2.1");
    assert_addr(&d.flows[1].dst, "192.0.2.2");
    assert_addr(&d.flows[2].src, "192.0.2.110");
    assert_int_equal(d.flows[2].src_port, 2222);
    assert_int_equal(d.flows[2].proto, 17);
    assert_int_equal(d.flows[2].tunnel, FK_TUNNEL_IPIP);
    assert_addr(&d.flows[2].outer_src, "fc00:0:1::1");
}

static void tunnel_names(void **state)
{
    (void)state;
    assert_string_equal(fk_tunnel_kind_name(FK_TUNNEL_NONE), "");
    assert_string_equal(fk_tunnel_kind_name(FK_TUNNEL_IPIP), "ipip");
    assert_string_equal(fk_tunnel_kind_name(FK_TUNNEL_GRE), "gre");
    assert_string_equal(fk_tunnel_kind_name(FK_TUNNEL_VXLAN), "vxlan");
    assert_string_equal(fk_tunnel_kind_name(FK_TUNNEL_GENEVE), "geneve");
    assert_string_equal(fk_tunnel_kind_name(FK_TUNNEL_MPLS), "mpls");
    assert_string_equal(fk_tunnel_kind_name(FK_TUNNEL_OTHER), "other");
    assert_string_equal(fk_tunnel_kind_name(77), "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(address_family_per_record),
        cmocka_unit_test(ip_version_decides),
        cmocka_unit_test(next_hops_by_family),
        cmocka_unit_test(repeated_tuple_inner_is_the_key),
        cmocka_unit_test(repeated_addresses_only),
        cmocka_unit_test(v9_family_and_repetition),
        cmocka_unit_test(tunnel_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
