/* NetFlow v1/v5/v7/v9 decoding: golden datagrams written byte by byte from
 * the Cisco export formats and RFC 3954, plus malformed variants. */
#include <flowkit/flowkit.h>
#include <stdio.h>
#include <string.h>

#include "fk_test.h"

/* Export time shared by the golden datagrams: unix_secs 1700000000
 * (0x6553f100), sysUptime 100000 ms (0x000186a0); records have First = 40000
 * ms (0x9c40) and Last = 99000 ms (0x182b8): 60 s and 1 s before export. */
#define EXPORT_S 1700000000LL
#define NS 1000000000LL

static const uint8_t v5_golden[] = {
    /* header: version 5, count 2, uptime, secs, nsecs 0.5 s, sequence 1000,
     * engine type 1, engine id 2, sampling mode 1 / interval 100 */
    0x00, 0x05, 0x00, 0x02, 0x00, 0x01, 0x86, 0xa0, 0x65, 0x53, 0xf1, 0x00, 0x1d, 0xcd, 0x65, 0x00,
    0x00, 0x00, 0x03, 0xe8, 0x01, 0x02, 0x40, 0x64,
    /* record 1: 10.0.0.1:12345 -> 192.168.1.2:80 TCP, in 3 out 4, 10 pkts 1500 bytes */
    0x0a, 0x00, 0x00, 0x01, 0xc0, 0xa8, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x00, 0x04,
    0x00, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x05, 0xdc, 0x00, 0x00, 0x9c, 0x40, 0x00, 0x01, 0x82, 0xb8,
    0x30, 0x39, 0x00, 0x50, 0x00, 0x1b, 0x06, 0x10, 0xfd, 0xe8, 0x00, 0x0f, 0x18, 0x18, 0x00, 0x00,
    /* record 2: 10.0.0.2:5353 -> 8.8.8.8:53 UDP, 1 pkt 76 bytes, First = Last = 99000 */
    0x0a, 0x00, 0x00, 0x02, 0x08, 0x08, 0x08, 0x08, 0x0a, 0x00, 0x00, 0xfe, 0x00, 0x01, 0x00, 0x02,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x4c, 0x00, 0x01, 0x82, 0xb8, 0x00, 0x01, 0x82, 0xb8,
    0x14, 0xe9, 0x00, 0x35, 0x00, 0x00, 0x11, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};

static const uint8_t v1_golden[] = {
    /* header: version 1, count 1, uptime, secs, nsecs 0 */
    0x00, 0x01, 0x00, 0x01, 0x00, 0x01, 0x86, 0xa0, 0x65, 0x53, 0xf1, 0x00, 0x00, 0x00, 0x00, 0x00,
    /* 172.16.0.1:1024 -> 172.16.0.2:22, in 7 out 8, 3 pkts 180 bytes; pad1(2) prot 6
     * tos 0x20 flags 0x02 pad2 pad3 reserved */
    0xac, 0x10, 0x00, 0x01, 0xac, 0x10, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x07, 0x00, 0x08,
    0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0xb4, 0x00, 0x00, 0x9c, 0x40, 0x00, 0x01, 0x82, 0xb8,
    0x04, 0x00, 0x00, 0x16, 0x00, 0x00, 0x06, 0x20, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};

static const uint8_t v7_golden[] = {
    /* header: version 7, count 1, uptime, secs, nsecs 0, sequence 77, reserved */
    0x00, 0x07, 0x00, 0x01, 0x00, 0x01, 0x86, 0xa0, 0x65, 0x53, 0xf1, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x4d, 0x00, 0x00, 0x00, 0x00,
    /* 192.0.2.1:443 -> 198.51.100.7:40000, in 1 out 2, 5 pkts 5000 bytes, flags1 0,
     * tcp 0x12, prot 6, tos 0, as, masks, flags2, router_sc 192.0.2.254 */
    0xc0, 0x00, 0x02, 0x01, 0xc6, 0x33, 0x64, 0x07, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x02,
    0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x13, 0x88, 0x00, 0x00, 0x9c, 0x40, 0x00, 0x01, 0x82, 0xb8,
    0x01, 0xbb, 0x9c, 0x40, 0x00, 0x12, 0x06, 0x00, 0x00, 0x00, 0x00, 0x00, 0x18, 0x18, 0x00, 0x00,
    0xc0, 0x00, 0x02, 0xfe};

/* v9: header (count 2, seq 7, source id 42), template 256 with 11 fields,
 * one data record. */
static const uint8_t v9_golden[] = {0x00, 0x09, 0x00, 0x02, 0x00, 0x01, 0x86, 0xa0, 0x65, 0x53,
                                    0xf1, 0x00, 0x00, 0x00, 0x00, 0x07, 0x00, 0x00, 0x00, 0x2a,
                                    /* template flowset, length 52: id 256, 11 fields */
                                    0x00, 0x00, 0x00, 0x34, 0x01, 0x00, 0x00, 0x0b, /* */
                                    0x00, 0x08, 0x00, 0x04, /* IPV4_SRC_ADDR 4 */
                                    0x00, 0x0c, 0x00, 0x04, /* IPV4_DST_ADDR 4 */
                                    0x00, 0x07, 0x00, 0x02, /* L4_SRC_PORT 2 */
                                    0x00, 0x0b, 0x00, 0x02, /* L4_DST_PORT 2 */
                                    0x00, 0x04, 0x00, 0x01, /* PROTOCOL 1 */
                                    0x00, 0x06, 0x00, 0x01, /* TCP_FLAGS 1 */
                                    0x00, 0x01, 0x00, 0x04, /* IN_BYTES 4 */
                                    0x00, 0x02, 0x00, 0x04, /* IN_PKTS 4 */
                                    0x00, 0x16, 0x00, 0x04, /* FIRST_SWITCHED 4 */
                                    0x00, 0x15, 0x00, 0x04, /* LAST_SWITCHED 4 */
                                    0x00, 0x0a, 0x00, 0x02, /* INPUT_SNMP 2 */
                                    /* data flowset 256, length 36: one 32-byte record */
                                    0x01, 0x00, 0x00, 0x24, 0x0a, 0x00, 0x00, 0x01, 0xc0, 0xa8,
                                    0x01, 0x02, 0x30, 0x39, 0x00, 0x50, 0x06, 0x12, 0x00, 0x00,
                                    0x05, 0xdc, 0x00, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x9c, 0x40,
                                    0x00, 0x01, 0x82, 0xb8, 0x00, 0x05};

static fk_addr addr(const char *s)
{
    fk_addr a;
    assert_int_equal(fk_addr_parse(s, &a), 0);
    return a;
}

static void assert_addr(const fk_addr *a, const char *s)
{
    char buf[FK_ADDR_STRLEN];
    assert_true(fk_addr_format(a, buf, sizeof buf) >= 0);
    assert_string_equal(buf, s);
}

/* ---- fixed formats ---------------------------------------------------- */

static void v5_golden_decodes(void **state)
{
    (void)state;
    fk_netflow_header h;
    fk_flow f[FK_NETFLOW_FIXED_MAX];
    size_t n = 99;
    fk_addr exp = addr("192.0.2.9");
    assert_int_equal(
        fk_netflow_decode_fixed(v5_golden, sizeof v5_golden, &exp, &h, f, FK_NETFLOW_FIXED_MAX, &n),
        0);
    assert_int_equal(n, 2);
    assert_int_equal(h.version, 5);
    assert_int_equal(h.count, 2);
    assert_int_equal(h.sequence, 1000);
    assert_int_equal(h.engine_type, 1);
    assert_int_equal(h.engine_id, 2);
    assert_int_equal(h.source_id, 0x0102);
    assert_int_equal(h.sampling_mode, 1);
    assert_int_equal(h.sampling_interval, 100);
    assert_true(h.export_ns == EXPORT_S * NS + 500000000);

    assert_addr(&f[0].src, "10.0.0.1");
    assert_addr(&f[0].dst, "192.168.1.2");
    assert_int_equal(f[0].src_port, 12345);
    assert_int_equal(f[0].dst_port, 80);
    assert_int_equal(f[0].proto, 6);
    assert_int_equal(f[0].tcp_flags, 0x1b);
    assert_int_equal(f[0].tos, 0x10);
    assert_int_equal(f[0].packets, 10);
    assert_int_equal(f[0].bytes, 1500);
    assert_int_equal(f[0].in_if, 3);
    assert_int_equal(f[0].out_if, 4);
    assert_int_equal(f[0].version, 5);
    assert_true(f[0].start_ns == (EXPORT_S - 60) * NS + 500000000);
    assert_true(f[0].end_ns == (EXPORT_S - 1) * NS + 500000000);
    assert_int_equal(f[0].sampling, 100);
    assert_true(f[0].present & FK_FLOW_HAS_SAMPLING);
    assert_true(f[0].present & FK_FLOW_HAS_EXPORTER);
    assert_true(f[0].present & FK_FLOW_HAS_IFACES);
    assert_int_equal(f[0].odid, 0x0102);
    assert_addr(&f[0].exporter, "192.0.2.9");

    assert_addr(&f[1].dst, "8.8.8.8");
    assert_int_equal(f[1].proto, 17);
    assert_int_equal(f[1].src_port, 5353);
    assert_int_equal(f[1].dst_port, 53);
    assert_int_equal(f[1].bytes, 76);
    assert_true(f[1].start_ns == f[1].end_ns);

    /* Without an exporter: no exporter fields. */
    assert_int_equal(fk_netflow_decode_fixed(v5_golden, sizeof v5_golden, NULL, NULL, f, 2, &n), 0);
    assert_false(f[0].present & FK_FLOW_HAS_EXPORTER);

    /* JSON of the first record, per the lines contract. */
    assert_int_equal(fk_netflow_decode_fixed(v5_golden, sizeof v5_golden, &exp, NULL, f, 2, &n), 0);
    char json[FK_FLOW_JSON_MAX];
    assert_true(fk_flow_to_json(&f[0], json, sizeof json) > 0);
    assert_non_null(strstr(json, "\"start\":\"2023-11-14T22:12:20.500Z\""));
    assert_non_null(strstr(json, "\"end\":\"2023-11-14T22:13:19.500Z\""));
    assert_non_null(strstr(json, "\"version\":5"));
    assert_non_null(strstr(json, "\"sampling\":100"));
}

static void v1_v7_golden_decode(void **state)
{
    (void)state;
    fk_netflow_header h;
    fk_flow f[FK_NETFLOW_FIXED_MAX];
    size_t n;
    assert_int_equal(
        fk_netflow_decode_fixed(v1_golden, sizeof v1_golden, NULL, &h, f, FK_NETFLOW_FIXED_MAX, &n),
        0);
    assert_int_equal(n, 1);
    assert_int_equal(h.version, 1);
    assert_int_equal(h.sequence, 0);
    assert_addr(&f[0].src, "172.16.0.1");
    assert_addr(&f[0].dst, "172.16.0.2");
    assert_int_equal(f[0].src_port, 1024);
    assert_int_equal(f[0].dst_port, 22);
    assert_int_equal(f[0].proto, 6);
    assert_int_equal(f[0].tos, 0x20);
    assert_int_equal(f[0].tcp_flags, 0x02);
    assert_int_equal(f[0].packets, 3);
    assert_int_equal(f[0].bytes, 180);
    assert_int_equal(f[0].in_if, 7);
    assert_int_equal(f[0].out_if, 8);
    assert_int_equal(f[0].version, 1);
    assert_true(f[0].start_ns == (EXPORT_S - 60) * NS);
    assert_true(f[0].end_ns == (EXPORT_S - 1) * NS);
    assert_false(f[0].present & FK_FLOW_HAS_SAMPLING);

    assert_int_equal(
        fk_netflow_decode_fixed(v7_golden, sizeof v7_golden, NULL, &h, f, FK_NETFLOW_FIXED_MAX, &n),
        0);
    assert_int_equal(n, 1);
    assert_int_equal(h.version, 7);
    assert_int_equal(h.sequence, 77);
    assert_addr(&f[0].src, "192.0.2.1");
    assert_addr(&f[0].dst, "198.51.100.7");
    assert_int_equal(f[0].src_port, 443);
    assert_int_equal(f[0].dst_port, 40000);
    assert_int_equal(f[0].proto, 6);
    assert_int_equal(f[0].tcp_flags, 0x12);
    assert_int_equal(f[0].packets, 5);
    assert_int_equal(f[0].bytes, 5000);
    assert_int_equal(f[0].version, 7);
    assert_true(f[0].start_ns == (EXPORT_S - 60) * NS);
}

static void fixed_malformed(void **state)
{
    (void)state;
    fk_flow f[FK_NETFLOW_FIXED_MAX];
    size_t n = 5;
    uint8_t b[sizeof v5_golden + 8];

    /* Count past the end: 2 records claimed, 1.5 present. */
    assert_int_equal(
        fk_netflow_decode_fixed(v5_golden, sizeof v5_golden - 24, NULL, NULL, f, 30, &n),
        FK_ETRUNCATED);
    assert_int_equal(n, 0);
    assert_non_null(strstr(fk_error_last()->message, "count 2"));
    /* Count 3 with two records. */
    memcpy(b, v5_golden, sizeof v5_golden);
    b[3] = 3;
    assert_int_equal(fk_netflow_decode_fixed(b, sizeof v5_golden, NULL, NULL, f, 30, &n),
                     FK_ETRUNCATED);
    /* Count above the version maximum (31 > 30), even with the bytes there. */
    b[3] = 31;
    assert_int_equal(fk_netflow_decode_fixed(b, sizeof v5_golden, NULL, NULL, f, 30, &n),
                     FK_EMALFORMED);
    /* Header cut short. */
    assert_int_equal(fk_netflow_decode_fixed(v5_golden, 23, NULL, NULL, f, 30, &n), FK_ETRUNCATED);
    assert_int_equal(fk_netflow_decode_fixed(v1_golden, 15, NULL, NULL, f, 30, &n), FK_ETRUNCATED);
    assert_int_equal(fk_netflow_decode_fixed(v5_golden, 1, NULL, NULL, f, 30, &n), FK_ETRUNCATED);
    /* Trailing bytes after the counted records are ignored. */
    memcpy(b, v5_golden, sizeof v5_golden);
    memset(b + sizeof v5_golden, 0xee, 8);
    assert_int_equal(fk_netflow_decode_fixed(b, sizeof b, NULL, NULL, f, 30, &n), 0);
    assert_int_equal(n, 2);
    /* Count 0 is a valid, empty datagram. */
    b[3] = 0;
    assert_int_equal(fk_netflow_decode_fixed(b, 24, NULL, NULL, f, 30, &n), 0);
    assert_int_equal(n, 0);
    /* Not enough room in the caller's array. */
    assert_int_equal(fk_netflow_decode_fixed(v5_golden, sizeof v5_golden, NULL, NULL, f, 1, &n),
                     FK_ENOSPACE);
    /* Other versions. */
    b[1] = 9;
    assert_int_equal(fk_netflow_decode_fixed(b, sizeof b, NULL, NULL, f, 30, &n), FK_EUNSUPPORTED);
    assert_int_equal(fk_netflow_decode_fixed(b, sizeof b, NULL, NULL, NULL, 30, &n), FK_EINVAL);
}

static void uptime_wrap(void **state)
{
    (void)state;
    fk_flow f[1];
    size_t n;
    uint8_t b[sizeof v1_golden];
    memcpy(b, v1_golden, sizeof b);
    /* sysUptime wrapped to 0x100 (256 ms); First = 0xffffff00 (256 ms before
     * the wrap), Last = 0x80: 512 ms and 128 ms before export. */
    const uint8_t up[4] = {0x00, 0x00, 0x01, 0x00}, first[4] = {0xff, 0xff, 0xff, 0x00},
                  last[4] = {0x00, 0x00, 0x00, 0x80};
    memcpy(b + 4, up, 4);
    memcpy(b + 16 + 24, first, 4);
    memcpy(b + 16 + 28, last, 4);
    assert_int_equal(fk_netflow_decode_fixed(b, sizeof b, NULL, NULL, f, 1, &n), 0);
    assert_true(f[0].start_ns == EXPORT_S * NS - 512000000);
    assert_true(f[0].end_ns == EXPORT_S * NS - 128000000);
    /* A Last slightly after the header's uptime (exporter jitter) is a
     * little after the export, not 49.7 days before it. */
    const uint8_t late[4] = {0x00, 0x00, 0x01, 0x0a};
    memcpy(b + 16 + 28, late, 4);
    assert_int_equal(fk_netflow_decode_fixed(b, sizeof b, NULL, NULL, f, 1, &n), 0);
    assert_true(f[0].end_ns == EXPORT_S * NS + 10000000);
}

/* ---- the session handle ------------------------------------------------ */

typedef struct collected {
    size_t flows, options, ipfix_views;
    uint64_t ipfix_sport, ipfix_first;
    int64_t ipfix_start;
    char ipfix_json[2048];
    fk_flow flow[8];
    fk_netflow_options opt[8];
    uint16_t template_id[8];
    size_t field_count[8];
    char json[FK_NETFLOW_OPTIONS_JSON_MAX];
    int stop_with;
} collected;

static int collect(const fk_netflow_record *rec, void *user)
{
    collected *c = user;
    if (rec->ipfix) {
        fk_ipfix_value v;
        c->ipfix_views++;
        if (fk_ipfix_record_find_field(rec->ipfix, 0, 7, &v) == 0)
            c->ipfix_sport = v.u;
        if (fk_ipfix_record_find_field(rec->ipfix, 0, 22, &v) == 0)
            c->ipfix_first = v.u;
        fk_flow f;
        if (fk_ipfix_record_to_flow(rec->ipfix, &f) == 0)
            c->ipfix_start = f.start_ns;
        assert_true(fk_ipfix_record_to_json(rec->ipfix, c->ipfix_json, sizeof c->ipfix_json) > 0);
    }
    if (rec->kind == FK_NETFLOW_RECORD_FLOW) {
        if (c->flows < 8) {
            c->flow[c->flows] = *rec->flow;
            c->template_id[c->flows] = rec->template_id;
            c->field_count[c->flows] = rec->field_count;
        }
        c->flows++;
    } else {
        if (c->options < 8)
            c->opt[c->options] = *rec->options;
        c->options++;
        assert_true(fk_netflow_options_to_json(rec, c->json, sizeof c->json) > 0);
    }
    return c->stop_with;
}

static fk_netflow *session(void)
{
    fk_netflow *h = NULL;
    assert_int_equal(fk_netflow_create(&h), 0);
    assert_int_equal(fk_netflow_activate(h), 0);
    return h;
}

static void v9_golden_decodes(void **state)
{
    (void)state;
    fk_netflow *h = session();
    fk_addr exp = addr("192.0.2.9");
    collected c = {0};
    assert_int_equal(fk_netflow_decode(h, &exp, 2055, v9_golden, sizeof v9_golden, collect, &c), 0);
    assert_int_equal(c.flows, 1);
    fk_flow *f = &c.flow[0];
    assert_addr(&f->src, "10.0.0.1");
    assert_addr(&f->dst, "192.168.1.2");
    assert_int_equal(f->src_port, 12345);
    assert_int_equal(f->dst_port, 80);
    assert_int_equal(f->proto, 6);
    assert_int_equal(f->tcp_flags, 0x12);
    assert_int_equal(f->bytes, 1500);
    assert_int_equal(f->packets, 10);
    assert_int_equal(f->in_if, 5);
    assert_int_equal(f->version, 9);
    assert_int_equal(f->odid, 42);
    assert_addr(&f->exporter, "192.0.2.9");
    assert_true(f->start_ns == (EXPORT_S - 60) * NS);
    assert_true(f->end_ns == (EXPORT_S - 1) * NS);
    assert_int_equal(c.template_id[0], 256);
    assert_int_equal(c.field_count[0], 11);
    /* The same record through the IPFIX layer: typed values by element id,
     * its fk_flow with FIRST_SWITCHED made absolute from the v9 header (the
     * time context the v9 decoder passes), JSON by IANA name. */
    assert_int_equal(c.ipfix_views, 1);
    assert_int_equal(c.ipfix_sport, 12345);
    assert_int_equal(c.ipfix_first, 40000);
    assert_true(c.ipfix_start == (EXPORT_S - 60) * NS);
    assert_non_null(strstr(c.ipfix_json, "\"sourceIPv4Address\":\"10.0.0.1\""));
    assert_non_null(strstr(c.ipfix_json, "\"ingressInterface\":5"));

    /* The template stays: a datagram with only the data flowset decodes. */
    uint8_t data_only[20 + 36];
    memcpy(data_only, v9_golden, 20);
    memcpy(data_only + 20, v9_golden + 72, 36);
    data_only[15] = 8; /* next sequence number */
    assert_int_equal(fk_netflow_decode(h, &exp, 2055, data_only, sizeof data_only, collect, &c), 0);
    assert_int_equal(c.flows, 2);
    /* Skipping sequence 9 and 10: two packets lost. */
    data_only[15] = 11;
    assert_int_equal(fk_netflow_decode(h, &exp, 2055, data_only, sizeof data_only, collect, &c), 0);

    /* Another port, or another source id, is another scope: no template. */
    assert_int_equal(fk_netflow_decode(h, &exp, 2056, data_only, sizeof data_only, collect, &c), 0);
    data_only[19] = 43;
    assert_int_equal(fk_netflow_decode(h, &exp, 2055, data_only, sizeof data_only, collect, &c), 0);
    assert_int_equal(c.flows, 3);

    /* Forgetting template 256 makes its data undecodable again. */
    assert_int_equal(fk_netflow_forget_template(h, &exp, 2056, 42, 256), FK_ENOTFOUND);
    assert_int_equal(fk_netflow_forget_template(h, &exp, 2055, 42, 256), 0);
    assert_int_equal(fk_netflow_forget_template(h, &exp, 2055, 42, 256), FK_ENOTFOUND);
    data_only[19] = 42;
    data_only[15] = 12;
    assert_int_equal(fk_netflow_decode(h, &exp, 2055, data_only, sizeof data_only, collect, &c), 0);
    assert_int_equal(c.flows, 3);

    fk_netflow_stats st;
    assert_int_equal(fk_netflow_get_stats(h, &st, sizeof st), 0);
    assert_int_equal(st.packets, 6);
    assert_int_equal(st.flows, 3);
    assert_int_equal(st.templates, 1);
    assert_int_equal(st.no_template, 3);
    assert_int_equal(st.sequence_lost, 2);
    assert_int_equal(st.malformed, 0);
    fk_netflow_destroy(h);
}

/* A small writer for v9 datagrams in the tests below. */
typedef struct pkt {
    uint8_t b[1024];
    size_t len;
    size_t set_start;
} pkt;

static void put8(pkt *p, unsigned v)
{
    p->b[p->len++] = (uint8_t)v;
}
static void put16(pkt *p, unsigned v)
{
    put8(p, v >> 8);
    put8(p, v);
}
static void put32(pkt *p, uint32_t v)
{
    put16(p, v >> 16);
    put16(p, v & 0xffff);
}
static void put_bytes(pkt *p, const void *d, size_t n)
{
    memcpy(p->b + p->len, d, n);
    p->len += n;
}
static void v9_header(pkt *p, uint32_t seq, uint32_t source_id)
{
    p->len = 0;
    put16(p, 9);
    put16(p, 1);
    put32(p, 100000);
    put32(p, (uint32_t)EXPORT_S);
    put32(p, seq);
    put32(p, source_id);
}
static void set_begin(pkt *p, unsigned id)
{
    p->set_start = p->len;
    put16(p, id);
    put16(p, 0);
}
static void set_end(pkt *p)
{
    while ((p->len - p->set_start) % 4)
        put8(p, 0);
    size_t n = p->len - p->set_start;
    p->b[p->set_start + 2] = (uint8_t)(n >> 8);
    p->b[p->set_start + 3] = (uint8_t)n;
}

static void v9_ipv6_absolute_times_and_wide_counters(void **state)
{
    (void)state;
    fk_netflow *h = session();
    fk_addr exp = addr("2001:db8::9");
    pkt p;
    v9_header(&p, 1, 0);
    set_begin(&p, 0);
    put16(&p, 300);
    put16(&p, 8);
    put16(&p, 27), put16(&p, 16); /* IPV6_SRC_ADDR */
    put16(&p, 28), put16(&p, 16); /* IPV6_DST_ADDR */
    put16(&p, 4), put16(&p, 1);   /* PROTOCOL */
    put16(&p, 32), put16(&p, 2);  /* ICMP_TYPE (type*256+code) */
    put16(&p, 1), put16(&p, 8);   /* IN_BYTES, 8 bytes */
    put16(&p, 2), put16(&p, 8);   /* IN_PKTS, 8 bytes */
    put16(&p, 152), put16(&p, 8); /* flowStartMilliseconds */
    put16(&p, 153), put16(&p, 8); /* flowEndMilliseconds */
    set_end(&p);
    set_begin(&p, 300);
    fk_addr s = addr("2001:db8::1"), d = addr("2001:db8::2");
    put_bytes(&p, s.bytes, 16);
    put_bytes(&p, d.bytes, 16);
    put8(&p, 58);
    put16(&p, 128 << 8);
    put32(&p, 1), put32(&p, 0); /* 2^32 bytes */
    put32(&p, 0), put32(&p, 4);
    const uint64_t t0 = 1700000000123ull, t1 = 1700000001456ull;
    put32(&p, (uint32_t)(t0 >> 32)), put32(&p, (uint32_t)t0);
    put32(&p, (uint32_t)(t1 >> 32)), put32(&p, (uint32_t)t1);
    set_end(&p);
    collected c = {0};
    assert_int_equal(fk_netflow_decode(h, &exp, 0, p.b, p.len, collect, &c), 0);
    assert_int_equal(c.flows, 1);
    assert_addr(&c.flow[0].src, "2001:db8::1");
    assert_addr(&c.flow[0].dst, "2001:db8::2");
    assert_int_equal(c.flow[0].proto, 58);
    assert_int_equal(c.flow[0].dst_port, 128 << 8);
    assert_true(c.flow[0].bytes == 4294967296ull);
    assert_int_equal(c.flow[0].packets, 4);
    assert_true(c.flow[0].start_ns == (int64_t)t0 * 1000000);
    assert_true(c.flow[0].end_ns == (int64_t)t1 * 1000000);
    fk_netflow_destroy(h);
}

static void v9_uptime_wrap(void **state)
{
    (void)state;
    fk_netflow *h = session();
    fk_addr exp = addr("192.0.2.9");
    uint8_t b[sizeof v9_golden];
    memcpy(b, v9_golden, sizeof b);
    /* Header uptime 0x100 after the wrap; First 0xfffffc18 (1000 ms before
     * the wrap) -> 1.256 s before export; Last 0x80 -> 128 ms before. */
    const uint8_t up[4] = {0, 0, 1, 0}, first[4] = {0xff, 0xff, 0xfc, 0x18},
                  last[4] = {0, 0, 0, 0x80};
    memcpy(b + 4, up, 4);
    memcpy(b + 76 + 22, first, 4);
    memcpy(b + 76 + 26, last, 4);
    collected c = {0};
    assert_int_equal(fk_netflow_decode(h, &exp, 2055, b, sizeof b, collect, &c), 0);
    assert_int_equal(c.flows, 1);
    assert_true(c.flow[0].start_ns == EXPORT_S * NS - 1256000000);
    assert_true(c.flow[0].end_ns == EXPORT_S * NS - 128000000);
    fk_netflow_destroy(h);
}

static void v9_options_sampling_and_names(void **state)
{
    (void)state;
    fk_netflow *h = session();
    fk_addr exp = addr("192.0.2.9");
    pkt p;
    v9_header(&p, 1, 5);
    /* Options template 400: scope System(4); sampler id (48, 1 byte),
     * random interval (50, 4), mode (49, 1). Options template 401: scope
     * Interface(4); IF_NAME (82, 16). Options template 402: scope System;
     * SAMPLING_INTERVAL (34, 4), SAMPLING_ALGORITHM (35, 1). */
    set_begin(&p, 1);
    put16(&p, 400), put16(&p, 4), put16(&p, 12);
    put16(&p, 1), put16(&p, 4);
    put16(&p, 48), put16(&p, 1);
    put16(&p, 50), put16(&p, 4);
    put16(&p, 49), put16(&p, 1);
    put16(&p, 401), put16(&p, 4), put16(&p, 4);
    put16(&p, 2), put16(&p, 4);
    put16(&p, 82), put16(&p, 16);
    put16(&p, 402), put16(&p, 4), put16(&p, 8);
    put16(&p, 1), put16(&p, 4);
    put16(&p, 34), put16(&p, 4);
    put16(&p, 35), put16(&p, 1);
    set_end(&p);
    /* Data template 500: src, dst, sampler id, bytes. */
    set_begin(&p, 0);
    put16(&p, 500), put16(&p, 4);
    put16(&p, 8), put16(&p, 4);
    put16(&p, 12), put16(&p, 4);
    put16(&p, 48), put16(&p, 1);
    put16(&p, 1), put16(&p, 4);
    set_end(&p);
    /* Options data: sampler 3 = 1 in 512; ifindex 7 = "ge-0/0/1". */
    set_begin(&p, 400);
    put32(&p, 0xc0000209), put8(&p, 3), put32(&p, 512), put8(&p, 2);
    set_end(&p);
    set_begin(&p, 401);
    put32(&p, 7);
    put_bytes(&p, "ge-0/0/1\0\0\0\0\0\0\0\0", 16);
    set_end(&p);
    collected c = {0};
    assert_int_equal(fk_netflow_decode(h, &exp, 9995, p.b, p.len, collect, &c), 0);
    assert_int_equal(c.options, 2);
    assert_int_equal(c.opt[0].scope_type, 1);
    assert_true(c.opt[0].scope_value == 0xc0000209u);
    assert_int_equal(c.opt[0].sampler_id, 3);
    assert_int_equal(c.opt[0].sampling_interval, 512);
    assert_int_equal(c.opt[0].sampling_algorithm, 2);
    assert_int_equal(c.opt[1].ifindex, 7);
    assert_string_equal(c.opt[1].if_name, "ge-0/0/1");
    assert_non_null(strstr(c.json, "\"if_name\":\"ge-0/0/1\""));
    assert_non_null(strstr(c.json, "\"ifindex\":7"));

    uint32_t iv = 0;
    assert_int_equal(fk_netflow_get_sampling(h, &exp, 9995, 5, 3, &iv), 0);
    assert_int_equal(iv, 512);
    assert_int_equal(fk_netflow_get_sampling(h, &exp, 9995, 5, 4, &iv), FK_ENOTFOUND);
    assert_int_equal(fk_netflow_get_sampling(h, &exp, 9995, 6, 3, &iv), FK_ENOTFOUND);
    char name[FK_NETFLOW_NAME_MAX];
    assert_int_equal(fk_netflow_get_interface_name(h, &exp, 9995, 5, 7, name, sizeof name), 8);
    assert_string_equal(name, "ge-0/0/1");
    assert_int_equal(fk_netflow_get_interface_name(h, &exp, 9995, 5, 7, name, 4), FK_ENOSPACE);
    assert_int_equal(fk_netflow_get_interface_name(h, &exp, 9995, 5, 8, name, sizeof name),
                     FK_ENOTFOUND);

    /* A flow naming sampler 3 gets 512; one naming sampler 9 gets nothing
     * until the scope-wide interval (template 402) arrives, then 100. */
    v9_header(&p, 2, 5);
    set_begin(&p, 500);
    put32(&p, 0x0a000001), put32(&p, 0x0a000002), put8(&p, 3), put32(&p, 1000);
    put32(&p, 0x0a000001), put32(&p, 0x0a000002), put8(&p, 9), put32(&p, 1000);
    set_end(&p);
    memset(&c, 0, sizeof c);
    assert_int_equal(fk_netflow_decode(h, &exp, 9995, p.b, p.len, collect, &c), 0);
    assert_int_equal(c.flows, 2);
    assert_int_equal(c.flow[0].sampling, 512);
    assert_true(c.flow[0].present & FK_FLOW_HAS_SAMPLING);
    assert_false(c.flow[1].present & FK_FLOW_HAS_SAMPLING);

    v9_header(&p, 3, 5);
    set_begin(&p, 402);
    put32(&p, 0), put32(&p, 100), put8(&p, 1);
    set_end(&p);
    set_begin(&p, 500);
    put32(&p, 0x0a000001), put32(&p, 0x0a000002), put8(&p, 9), put32(&p, 1000);
    set_end(&p);
    memset(&c, 0, sizeof c);
    assert_int_equal(fk_netflow_decode(h, &exp, 9995, p.b, p.len, collect, &c), 0);
    assert_int_equal(c.options, 1);
    assert_int_equal(c.flows, 1);
    assert_int_equal(c.flow[0].sampling, 100);
    assert_int_equal(fk_netflow_get_sampling(h, &exp, 9995, 5, 0, &iv), 0);
    assert_int_equal(iv, 100);
    fk_netflow_destroy(h);
}

/* Datagram: a bad template flowset, then the golden template and data. */
static void v9_with_bad_first_set(pkt *p, void (*bad)(pkt *))
{
    p->len = 0;
    put_bytes(p, v9_golden, 20);
    bad(p);
    put_bytes(p, v9_golden + 20, sizeof v9_golden - 20);
}

static void bad_count_past_end(pkt *p)
{
    set_begin(p, 0);
    put16(p, 600), put16(p, 5); /* five fields announced, two present */
    put16(p, 8), put16(p, 4);
    put16(p, 12), put16(p, 4);
    set_end(p);
}
static void bad_zero_length(pkt *p)
{
    set_begin(p, 0);
    put16(p, 600), put16(p, 2);
    put16(p, 8), put16(p, 0); /* only zero-length fields: records of 0 bytes */
    put16(p, 12), put16(p, 0);
    set_end(p);
}
static void bad_reserved_id(pkt *p)
{
    set_begin(p, 0);
    put16(p, 255), put16(p, 1);
    put16(p, 8), put16(p, 4);
    set_end(p);
}
static void bad_options_lengths(pkt *p)
{
    set_begin(p, 1);
    put16(p, 600), put16(p, 6), put16(p, 4); /* scope length not a multiple of 4 */
    put16(p, 1), put16(p, 4), put16(p, 0);
    put16(p, 34), put16(p, 4);
    set_end(p);
}
static void bad_options_past_end(pkt *p)
{
    set_begin(p, 1);
    put16(p, 600), put16(p, 4), put16(p, 40); /* 10 option fields announced */
    put16(p, 1), put16(p, 4);
    put16(p, 34), put16(p, 4);
    set_end(p);
}

static void v9_malformed_templates(void **state)
{
    (void)state;
    void (*cases[])(pkt *) = {bad_count_past_end, bad_zero_length, bad_reserved_id,
                              bad_options_lengths, bad_options_past_end};
    int expect[] = {FK_EMALFORMED, FK_EMALFORMED, FK_EMALFORMED, FK_EMALFORMED, FK_EMALFORMED};
    fk_addr exp = addr("192.0.2.9");
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fk_netflow *h = session();
        pkt p;
        v9_with_bad_first_set(&p, cases[i]);
        collected c = {0};
        /* The bad flowset is reported, and the next ones still decode. */
        assert_int_equal(fk_netflow_decode(h, &exp, 1, p.b, p.len, collect, &c), expect[i]);
        assert_int_equal(c.flows, 1);
        fk_netflow_stats st;
        fk_netflow_get_stats(h, &st, sizeof st);
        assert_int_equal(st.malformed, 1);
        assert_int_equal(st.templates, 1);
        /* Nothing of template 600 was kept. */
        pkt d;
        v9_header(&d, 2, 42);
        set_begin(&d, 600);
        put32(&d, 1), put32(&d, 2);
        set_end(&d);
        assert_int_equal(fk_netflow_decode(h, &exp, 1, d.b, d.len, collect, &c), 0);
        fk_netflow_get_stats(h, &st, sizeof st);
        assert_int_equal(st.no_template, 1);
        fk_netflow_destroy(h);
    }
}

static void v9_zero_length_field_accepted(void **state)
{
    (void)state;
    fk_addr exp = addr("192.0.2.9");
    fk_netflow *h = session();
    pkt p;
    /* As Cisco sends it: options template with a System scope of length 0,
     * then a data template with a zero-length field between two others. */
    v9_header(&p, 1, 0);
    set_begin(&p, 1);
    put16(&p, 256), put16(&p, 4), put16(&p, 8);
    put16(&p, 1), put16(&p, 0);
    put16(&p, 48), put16(&p, 1);
    put16(&p, 50), put16(&p, 4);
    set_end(&p);
    set_begin(&p, 0);
    put16(&p, 257), put16(&p, 3);
    put16(&p, 8), put16(&p, 4);
    put16(&p, 7), put16(&p, 0);
    put16(&p, 12), put16(&p, 4);
    set_end(&p);
    set_begin(&p, 256);
    put8(&p, 1), put32(&p, 1000);
    set_end(&p);
    set_begin(&p, 257);
    put32(&p, 0x0a000001), put32(&p, 0x0a000002);
    set_end(&p);
    collected c = {0};
    assert_int_equal(fk_netflow_decode(h, &exp, 1, p.b, p.len, collect, &c), 0);
    assert_int_equal(c.options, 1);
    assert_int_equal(c.opt[0].scope_type, 1);
    assert_int_equal(c.opt[0].scope_value, 0);
    assert_int_equal(c.opt[0].sampling_interval, 1000);
    assert_int_equal(c.flows, 1);
    /* Zero-length fields have no IPFIX view (IPFIX forbids them). */
    assert_int_equal(c.ipfix_views, 0);
    assert_addr(&c.flow[0].src, "10.0.0.1");
    assert_addr(&c.flow[0].dst, "10.0.0.2");
    assert_int_equal(c.flow[0].src_port, 0);
    /* The interval belongs to sampler 1; this flow names no sampler. */
    assert_false(c.flow[0].present & FK_FLOW_HAS_SAMPLING);
    uint32_t iv;
    assert_int_equal(fk_netflow_get_sampling(h, &exp, 1, 0, 1, &iv), 0);
    assert_int_equal(iv, 1000);
    fk_netflow_destroy(h);
}

static void v9_both_address_families(void **state)
{
    (void)state;
    fk_addr exp = addr("192.0.2.9");
    fk_netflow *h = session();
    pkt p;
    v9_header(&p, 1, 0);
    set_begin(&p, 0);
    put16(&p, 256), put16(&p, 4); /* IPv4 pair, then an IPv6 pair */
    put16(&p, 8), put16(&p, 4), put16(&p, 12), put16(&p, 4);
    put16(&p, 27), put16(&p, 16), put16(&p, 28), put16(&p, 16);
    set_end(&p);
    fk_addr s6 = addr("2001:db8::1"), d6 = addr("2001:db8::2"), z = addr("::");
    set_begin(&p, 256);
    put32(&p, 0x0a000001), put32(&p, 0x0a000002); /* IPv4 flow, IPv6 fields zero */
    put_bytes(&p, z.bytes, 16), put_bytes(&p, z.bytes, 16);
    put32(&p, 0), put32(&p, 0); /* IPv6 flow, IPv4 fields zero */
    put_bytes(&p, s6.bytes, 16), put_bytes(&p, d6.bytes, 16);
    set_end(&p);
    collected c = {0};
    assert_int_equal(fk_netflow_decode(h, &exp, 1, p.b, p.len, collect, &c), 0);
    assert_int_equal(c.flows, 2);
    assert_addr(&c.flow[0].src, "10.0.0.1");
    assert_addr(&c.flow[0].dst, "10.0.0.2");
    assert_addr(&c.flow[1].src, "2001:db8::1");
    assert_addr(&c.flow[1].dst, "2001:db8::2");
    fk_netflow_destroy(h);
}

static void v9_malformed_lengths(void **state)
{
    (void)state;
    fk_addr exp = addr("192.0.2.9");
    fk_netflow *h = session();
    collected c = {0};
    uint8_t b[sizeof v9_golden];
    /* Short header. */
    assert_int_equal(fk_netflow_decode(h, &exp, 1, v9_golden, 19, collect, &c), FK_ETRUNCATED);
    /* Data flowset length past the end of the datagram: the template before
     * it is learned, the data is not decoded. */
    assert_int_equal(fk_netflow_decode(h, &exp, 1, v9_golden, sizeof v9_golden - 1, collect, &c),
                     FK_ETRUNCATED);
    assert_int_equal(c.flows, 0);
    /* Flowset length below 4 (would loop forever if trusted). */
    memcpy(b, v9_golden, sizeof b);
    b[23] = 2;
    assert_int_equal(fk_netflow_decode(h, &exp, 1, b, sizeof b, collect, &c), FK_EMALFORMED);
    /* Reserved flowset ids 2..255 are skipped silently. */
    memcpy(b, v9_golden, sizeof b);
    b[21] = 7;
    assert_int_equal(fk_netflow_decode(h, &exp, 1, b, sizeof b, collect, &c), 0);
    assert_int_equal(c.flows, 1); /* template 256 from the earlier datagram */
    /* Not NetFlow 1/5/7/9. */
    b[1] = 10;
    assert_int_equal(fk_netflow_decode(h, &exp, 1, b, sizeof b, collect, &c), FK_EUNSUPPORTED);
    assert_int_equal(fk_netflow_decode(h, &exp, 1, b, 1, collect, &c), FK_ETRUNCATED);
    fk_netflow_stats st;
    fk_netflow_get_stats(h, &st, sizeof st);
    assert_int_equal(st.malformed, 4);
    assert_int_equal(st.unsupported, 1);
    fk_netflow_destroy(h);
}

static void v9_template_replaced_and_padding(void **state)
{
    (void)state;
    fk_addr exp = addr("192.0.2.9");
    fk_netflow *h = session();
    pkt p;
    v9_header(&p, 1, 1);
    set_begin(&p, 0);
    put16(&p, 256), put16(&p, 1);
    put16(&p, 8), put16(&p, 4);
    set_end(&p);
    /* Three 4-byte records. */
    set_begin(&p, 256);
    put32(&p, 0x01020304), put32(&p, 0x05060708), put32(&p, 0x090a0b0c);
    set_end(&p);
    /* Template 256 again, now 6 bytes: address + port; 2 records + 0 padding,
     * then a third 6-byte record cut by the flowset end with padding 2. */
    set_begin(&p, 0);
    put16(&p, 256), put16(&p, 2);
    put16(&p, 8), put16(&p, 4);
    put16(&p, 7), put16(&p, 2);
    set_end(&p);
    set_begin(&p, 256);
    put32(&p, 0x0a000001), put16(&p, 1111);
    put32(&p, 0x0a000002), put16(&p, 2222);
    set_end(&p); /* 4 + 12 = 16: no padding */
    set_begin(&p, 256);
    put32(&p, 0x0a000003), put16(&p, 3333);
    set_end(&p); /* 4 + 6 + 2 padding */
    collected c = {0};
    assert_int_equal(fk_netflow_decode(h, &exp, 1, p.b, p.len, collect, &c), 0);
    assert_int_equal(c.flows, 6);
    assert_addr(&c.flow[2].src, "9.10.11.12");
    assert_int_equal(c.flow[3].src_port, 1111);
    assert_int_equal(c.flow[5].src_port, 3333);
    fk_netflow_stats st;
    fk_netflow_get_stats(h, &st, sizeof st);
    assert_int_equal(st.templates, 2);
    fk_netflow_destroy(h);
}

static void handle_lifecycle_and_limits(void **state)
{
    (void)state;
    fk_netflow *h = NULL;
    assert_int_equal(fk_netflow_create(NULL), FK_EINVAL);
    assert_int_equal(fk_netflow_create(&h), 0);
    fk_addr exp = addr("192.0.2.9");
    assert_int_equal(fk_netflow_decode(h, &exp, 1, v9_golden, sizeof v9_golden, NULL, NULL),
                     FK_ENOTACTIVATED);
    assert_int_equal(fk_netflow_set_int(h, FK_NETFLOW_MAX_TEMPLATES, 0), FK_ERANGE);
    assert_non_null(strstr(fk_error_last()->message, "[1, 65280]"));
    assert_int_equal(fk_netflow_set_int(h, FK_NETFLOW_MAX_TEMPLATES, 1), 0);
    assert_int_equal(fk_netflow_set_int(h, FK_NETFLOW_MAX_SCOPES, 1), 0);
    int64_t v;
    assert_int_equal(fk_netflow_get_int(h, FK_NETFLOW_MAX_TEMPLATES, &v), 0);
    assert_int_equal(v, 1);
    assert_int_equal(fk_netflow_activate(h), 0);
    assert_int_equal(fk_netflow_activate(h), FK_EACTIVATED);
    assert_int_equal(fk_netflow_set_int(h, FK_NETFLOW_MAX_TEMPLATES, 5), FK_EACTIVATED);
    size_t n;
    const fk_param_info *t = fk_netflow_params(&n);
    assert_int_equal(n, 2);
    assert_non_null(fk_param_find(t, n, "max-templates"));

    /* One template per scope: a second id is refused and counted. */
    pkt p;
    v9_header(&p, 1, 0);
    set_begin(&p, 0);
    put16(&p, 256), put16(&p, 1), put16(&p, 8), put16(&p, 4);
    put16(&p, 257), put16(&p, 1), put16(&p, 8), put16(&p, 4);
    set_end(&p);
    assert_int_equal(fk_netflow_decode(h, &exp, 1, p.b, p.len, NULL, NULL), FK_ERANGE);
    /* One scope: a second exporter is refused too. */
    fk_addr other = addr("192.0.2.10");
    assert_int_equal(fk_netflow_decode(h, &other, 1, p.b, p.len, NULL, NULL), FK_ERANGE);
    /* ...but v5 flows from it still come out, untracked. */
    collected c = {0};
    assert_int_equal(fk_netflow_decode(h, &other, 1, v5_golden, sizeof v5_golden, collect, &c), 0);
    assert_int_equal(c.flows, 2);
    fk_netflow_stats st;
    fk_netflow_get_stats(h, &st, sizeof st);
    assert_int_equal(st.refused, 3);
    assert_int_equal(st.templates, 1);
    fk_netflow_destroy(h);
    fk_netflow_destroy(NULL);
}

static void fixed_through_session_and_sequence(void **state)
{
    (void)state;
    fk_netflow *h = session();
    fk_addr exp = addr("192.0.2.9");
    collected c = {0};
    uint8_t b[sizeof v5_golden];
    memcpy(b, v5_golden, sizeof b);
    assert_int_equal(fk_netflow_decode(h, &exp, 2055, b, sizeof b, collect, &c), 0);
    /* Next expected sequence 1002; 1005 means 3 flows were lost. */
    b[19] = 0xed; /* 1005 */
    assert_int_equal(fk_netflow_decode(h, &exp, 2055, b, sizeof b, collect, &c), 0);
    b[19] = 0xef; /* 1007 = 1005 + 2: in order */
    assert_int_equal(fk_netflow_decode(h, &exp, 2055, b, sizeof b, collect, &c), 0);
    assert_int_equal(c.flows, 6);
    assert_int_equal(c.flow[0].version, 5);
    fk_netflow_stats st;
    fk_netflow_get_stats(h, &st, sizeof st);
    assert_int_equal(st.sequence_lost, 3);
    /* A malformed fixed datagram is counted. */
    assert_int_equal(fk_netflow_decode(h, &exp, 2055, b, 30, collect, &c), FK_ETRUNCATED);
    fk_netflow_get_stats(h, &st, sizeof st);
    assert_int_equal(st.malformed, 1);
    /* The callback can stop the walk; its value comes back. */
    c.stop_with = 7;
    size_t before = c.flows;
    assert_int_equal(fk_netflow_decode(h, &exp, 2055, b, sizeof b, collect, &c), 7);
    assert_int_equal(c.flows, before + 1);
    assert_int_equal(fk_netflow_decode(h, &exp, 2055, v9_golden, sizeof v9_golden, collect, &c), 7);
    fk_netflow_destroy(h);
}

static void allocation_failures(void **state)
{
    (void)state;
    fk_addr exp = addr("192.0.2.9");
    /* Fail each allocation in turn while creating a session and decoding
     * templates and options: never a crash, never a leak. */
    for (unsigned long n = 1; n <= 12; n++) {
        fk_test_alloc_fail_at(n, 0);
        fk_netflow *h = NULL;
        if (fk_netflow_create(&h) == 0) {
            assert_int_equal(fk_netflow_activate(h), 0);
            collected c = {0};
            int rc = fk_netflow_decode(h, &exp, 1, v9_golden, sizeof v9_golden, collect, &c);
            assert_true(rc == 0 || rc == FK_ENOMEM);
            fk_netflow_destroy(h);
        }
        assert_int_equal(fk_test_alloc_live(), 0);
        fk_test_alloc_reset();
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(v5_golden_decodes),
        cmocka_unit_test(v1_v7_golden_decode),
        cmocka_unit_test(fixed_malformed),
        cmocka_unit_test(uptime_wrap),
        cmocka_unit_test(v9_golden_decodes),
        cmocka_unit_test(v9_ipv6_absolute_times_and_wide_counters),
        cmocka_unit_test(v9_uptime_wrap),
        cmocka_unit_test(v9_options_sampling_and_names),
        cmocka_unit_test(v9_malformed_templates),
        cmocka_unit_test(v9_zero_length_field_accepted),
        cmocka_unit_test(v9_both_address_families),
        cmocka_unit_test(v9_malformed_lengths),
        cmocka_unit_test(v9_template_replaced_and_padding),
        cmocka_unit_test(handle_lifecycle_and_limits),
        cmocka_unit_test(fixed_through_session_and_sequence),
        cmocka_unit_test(allocation_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
