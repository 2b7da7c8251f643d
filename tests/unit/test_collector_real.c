/* The collector with the library's real decoders, fed messages built by the
 * IPFIX encoder (and hand-built NetFlow v5/v9 datagrams): data before
 * template, the same template id in two domains and from two exporters,
 * options data with sampling (and --scale-sampling), varlen and enterprise
 * fields in a template, UDP template expiry, v9 and v5. */
#include <flowkit/flowkit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "collector/collector_state.h"
#include "collector/internal.h"
#include "fk_test.h"
#include "core/bytes.h"

typedef struct got {
    unsigned n;
    fk_flow f[64];
} got;

static void on_flow(const fk_flow *f, void *user)
{
    got *g = user;
    if (g->n < 64)
        g->f[g->n] = *f;
    g->n++;
}

static fk_collector *make(got *g, int scale)
{
    fk_collector *h;
    assert_int_equal(fk_collector_create(&h), 0);
    assert_int_equal(fk_collector_set_callback(h, on_flow, g), 0);
    assert_int_equal(fk_collector_set_int(h, FK_COL_SCALE_SAMPLING, scale), 0);
    assert_int_equal(fk_collector_activate(h), 0);
    return h;
}

static const fk_field_spec v4_fields[] = {
    {0, 8, 4, 0},   /* sourceIPv4Address */
    {0, 12, 4, 0},  /* destinationIPv4Address */
    {0, 7, 2, 0},   /* sourceTransportPort */
    {0, 11, 2, 0},  /* destinationTransportPort */
    {0, 4, 1, 0},   /* protocolIdentifier */
    {0, 1, 8, 0},   /* octetDeltaCount */
    {0, 2, 8, 0},   /* packetDeltaCount */
    {0, 152, 8, 0}, /* flowStartMilliseconds */
    {0, 153, 8, 0}, /* flowEndMilliseconds */
};

static const fk_field_spec v6_fields[] = {
    {0, 27, 16, 0},        /* sourceIPv6Address */
    {0, 28, 16, 0},        /* destinationIPv6Address */
    {0, 4, 1, 0},          /* protocolIdentifier */
    {0, 1, 4, 0},          /* octetDeltaCount, reduced size */
    {0, 82, FK_VARLEN, 0}, /* interfaceName, variable length */
    {32473, 7, 4, 0},      /* an enterprise element */
    {0, 2, 4, 0},          /* packetDeltaCount */
};

static fk_flow flow4(const char *src, const char *dst, uint64_t bytes)
{
    fk_flow f;
    memset(&f, 0, sizeof f);
    fk_addr_parse(src, &f.src);
    fk_addr_parse(dst, &f.dst);
    f.src_port = 5000;
    f.dst_port = 53;
    f.proto = 17;
    f.bytes = bytes;
    f.packets = 2;
    f.start_ns = 1795435200000000000LL;
    f.end_ns = 1795435201500000000LL;
    return f;
}

typedef struct enc {
    fk_ipfix_encoder *e;
    uint8_t buf[1500];
    size_t len;
} enc;

static void enc_new(enc *x)
{
    assert_int_equal(fk_ipfix_encoder_create(&x->e, NULL), 0);
}

static void feed(fk_collector *h, const char *exporter, uint16_t port, const uint8_t *buf,
                 size_t len)
{
    fk_addr a;
    assert_int_equal(fk_addr_parse(exporter, &a), 0);
    assert_true(fk_collector_feed(h, &a, port, buf, len) >= 0);
}

static void ipfix_data_before_template(void **state)
{
    (void)state;
    got g = {0};
    fk_collector *h = make(&g, 0);
    enc x;
    enc_new(&x);
    assert_int_equal(fk_ipfix_encoder_add_template(x.e, 300, v4_fields, 9, 0), 0);
    /* Message 1: data only. */
    assert_int_equal(fk_ipfix_encoder_begin(x.e, 42, 1795435202, x.buf, sizeof x.buf), 0);
    fk_flow a = flow4("192.0.2.1", "198.51.100.7", 1234);
    fk_flow b = flow4("192.0.2.2", "198.51.100.8", 99);
    assert_int_equal(fk_ipfix_encoder_add_flow(x.e, 300, &a), 0);
    assert_int_equal(fk_ipfix_encoder_add_flow(x.e, 300, &b), 0);
    assert_int_equal(fk_ipfix_encoder_finish(x.e, &x.len), 0);
    feed(h, "10.0.0.1", 4739, x.buf, x.len);
    assert_int_equal(g.n, 0);
    fk_collector_stats st;
    fk_collector_get_stats(h, &st, sizeof st);
    assert_int_equal(st.pending_sets, 1);
    /* Message 2: the template. */
    assert_int_equal(fk_ipfix_encoder_begin(x.e, 42, 1795435203, x.buf, sizeof x.buf), 0);
    assert_int_equal(fk_ipfix_encoder_write_template(x.e, 300), 0);
    assert_int_equal(fk_ipfix_encoder_finish(x.e, &x.len), 0);
    feed(h, "10.0.0.1", 4739, x.buf, x.len);
    assert_int_equal(g.n, 2);
    char s[FK_ADDR_STRLEN];
    fk_addr_format(&g.f[0].src, s, sizeof s);
    assert_string_equal(s, "192.0.2.1");
    assert_int_equal(g.f[0].bytes, 1234);
    assert_int_equal(g.f[0].dst_port, 53);
    assert_int_equal(g.f[0].start_ns, a.start_ns);
    assert_int_equal(g.f[0].end_ns, a.end_ns);
    assert_int_equal(g.f[0].odid, 42);
    assert_int_equal(g.f[0].version, 10);
    fk_addr_format(&g.f[0].exporter, s, sizeof s);
    assert_string_equal(s, "10.0.0.1");
    assert_int_equal(g.f[1].bytes, 99);
    fk_collector_get_stats(h, &st, sizeof st);
    assert_int_equal(st.pending_decoded, 1);
    assert_int_equal(st.pending_records, 2);
    assert_int_equal(st.sequence_gaps, 0);
    /* A message from another exporter with the same template id but no
     * template of its own is not decoded with exporter 10.0.0.1's. */
    assert_int_equal(fk_ipfix_encoder_begin(x.e, 42, 1795435204, x.buf, sizeof x.buf), 0);
    assert_int_equal(fk_ipfix_encoder_add_flow(x.e, 300, &a), 0);
    assert_int_equal(fk_ipfix_encoder_finish(x.e, &x.len), 0);
    feed(h, "10.0.0.2", 4739, x.buf, x.len);
    assert_int_equal(g.n, 2);
    feed(h, "10.0.0.1", 4739, x.buf, x.len);
    assert_int_equal(g.n, 3);
    fk_ipfix_encoder_destroy(x.e);
    fk_collector_destroy(h);
}

static void same_template_id_in_two_domains_varlen_enterprise(void **state)
{
    (void)state;
    got g = {0};
    fk_collector *h = make(&g, 0);
    enc x4, x6;
    enc_new(&x4);
    enc_new(&x6);
    assert_int_equal(fk_ipfix_encoder_add_template(x4.e, 256, v4_fields, 9, 0), 0);
    assert_int_equal(fk_ipfix_encoder_add_template(x6.e, 256, v6_fields, 7, 0), 0);
    /* Domain 1: IPv4 template 256; domain 2: IPv6 template 256 with a
     * variable-length and an enterprise field. */
    fk_flow a = flow4("192.0.2.1", "192.0.2.9", 500);
    assert_int_equal(fk_ipfix_encoder_begin(x4.e, 1, 1795435202, x4.buf, sizeof x4.buf), 0);
    assert_int_equal(fk_ipfix_encoder_write_template(x4.e, 256), 0);
    assert_int_equal(fk_ipfix_encoder_add_flow(x4.e, 256, &a), 0);
    assert_int_equal(fk_ipfix_encoder_finish(x4.e, &x4.len), 0);

    assert_int_equal(fk_ipfix_encoder_begin(x6.e, 2, 1795435202, x6.buf, sizeof x6.buf), 0);
    assert_int_equal(fk_ipfix_encoder_write_template(x6.e, 256), 0);
    assert_int_equal(fk_ipfix_encoder_record_begin(x6.e, 256), 0);
    fk_addr s6, d6;
    fk_addr_parse("2001:db8::1", &s6);
    fk_addr_parse("2001:db8::2", &d6);
    assert_int_equal(fk_ipfix_encoder_put_addr(x6.e, 0, 27, &s6), 0);
    assert_int_equal(fk_ipfix_encoder_put_addr(x6.e, 0, 28, &d6), 0);
    assert_int_equal(fk_ipfix_encoder_put_uint(x6.e, 0, 4, 6), 0);
    assert_int_equal(fk_ipfix_encoder_put_uint(x6.e, 0, 1, 777), 0);
    assert_int_equal(fk_ipfix_encoder_put_bytes(x6.e, 0, 82, "eth0", 4), 0);
    assert_int_equal(fk_ipfix_encoder_put_uint(x6.e, 0, 2, 3), 0);
    assert_int_equal(fk_ipfix_encoder_record_end(x6.e), 0);
    assert_int_equal(fk_ipfix_encoder_finish(x6.e, &x6.len), 0);

    feed(h, "10.0.0.1", 4739, x4.buf, x4.len);
    feed(h, "10.0.0.1", 4739, x6.buf, x6.len);
    assert_int_equal(g.n, 2);
    char s[FK_ADDR_STRLEN];
    fk_addr_format(&g.f[0].src, s, sizeof s);
    assert_string_equal(s, "192.0.2.1");
    assert_int_equal(g.f[0].odid, 1);
    fk_addr_format(&g.f[1].src, s, sizeof s);
    assert_string_equal(s, "2001:db8::1");
    assert_int_equal(g.f[1].bytes, 777);
    assert_int_equal(g.f[1].packets, 3);
    assert_int_equal(g.f[1].proto, 6);
    assert_int_equal(g.f[1].odid, 2);
    /* The same message again from a second exporter is decoded on its own
     * templates (it carries them). */
    feed(h, "10.0.0.2", 4739, x6.buf, x6.len);
    assert_int_equal(g.n, 3);
    fk_addr_format(&g.f[2].exporter, s, sizeof s);
    assert_string_equal(s, "10.0.0.2");
    fk_ipfix_encoder_destroy(x4.e);
    fk_ipfix_encoder_destroy(x6.e);
    fk_collector_destroy(h);
}

static void options_sampling_applied_and_scaled(void **state)
{
    (void)state;
    for (int scale = 0; scale <= 1; scale++) {
        got g = {0};
        fk_collector *h = make(&g, scale);
        enc x;
        enc_new(&x);
        static const fk_field_spec opt[] = {
            {0, 149, 4, 0}, /* scope: observationDomainId */
            {0, 305, 4, 0}, /* samplingPacketInterval */
        };
        assert_int_equal(fk_ipfix_encoder_add_template(x.e, 400, opt, 2, 1), 0);
        assert_int_equal(fk_ipfix_encoder_add_template(x.e, 300, v4_fields, 9, 0), 0);
        assert_int_equal(fk_ipfix_encoder_begin(x.e, 5, 1795435202, x.buf, sizeof x.buf), 0);
        assert_int_equal(fk_ipfix_encoder_write_template(x.e, 400), 0);
        assert_int_equal(fk_ipfix_encoder_write_template(x.e, 300), 0);
        assert_int_equal(fk_ipfix_encoder_record_begin(x.e, 400), 0);
        assert_int_equal(fk_ipfix_encoder_put_uint(x.e, 0, 149, 5), 0);
        assert_int_equal(fk_ipfix_encoder_put_uint(x.e, 0, 305, 100), 0);
        assert_int_equal(fk_ipfix_encoder_record_end(x.e), 0);
        fk_flow a = flow4("192.0.2.1", "192.0.2.9", 40);
        assert_int_equal(fk_ipfix_encoder_add_flow(x.e, 300, &a), 0);
        assert_int_equal(fk_ipfix_encoder_finish(x.e, &x.len), 0);
        feed(h, "10.0.0.1", 4739, x.buf, x.len);
        assert_int_equal(g.n, 1);
        assert_true(g.f[0].present & FK_FLOW_HAS_SAMPLING);
        assert_int_equal(g.f[0].sampling, 100);
        assert_int_equal(g.f[0].bytes, scale ? 4000 : 40);
        assert_int_equal(g.f[0].packets, scale ? 200 : 2);
        fk_collector_stats st;
        fk_collector_get_stats(h, &st, sizeof st);
        assert_int_equal(st.options_records, 1);
        fk_ipfix_encoder_destroy(x.e);
        fk_collector_destroy(h);
    }
}

/* v9 datagram: header + template flowset (ids 8,12,7,11,4,1,2,22,21) and/or data. */
static size_t v9_packet(uint8_t *p, uint32_t seq, int with_template, int with_data)
{
    size_t n = 20;
    fk__put16(p, 9);
    fk__put16(p + 2, 0);
    fk__put32(p + 4, 100000);     /* sysUptime ms */
    fk__put32(p + 8, 1795435200); /* unix secs */
    fk__put32(p + 12, seq);
    fk__put32(p + 16, 77); /* source id */
    static const uint16_t types[][2] = {{8, 4}, {12, 4}, {7, 2},  {11, 2}, {4, 1},
                                        {1, 4}, {2, 4},  {22, 4}, {21, 4}};
    if (with_template) {
        fk__put16(p + n, 0);
        fk__put16(p + n + 2, 4 + 4 + 9 * 4);
        fk__put16(p + n + 4, 260);
        fk__put16(p + n + 6, 9);
        for (int i = 0; i < 9; i++) {
            fk__put16(p + n + 8 + i * 4, types[i][0]);
            fk__put16(p + n + 10 + i * 4, types[i][1]);
        }
        n += 4 + 4 + 9 * 4;
    }
    if (with_data) {
        size_t start = n;
        fk__put16(p + n, 260);
        n += 4;
        uint8_t src[4] = {192, 0, 2, 10}, dst[4] = {192, 0, 2, 20};
        memcpy(p + n, src, 4);
        memcpy(p + n + 4, dst, 4);
        fk__put16(p + n + 8, 1111);
        fk__put16(p + n + 10, 80);
        p[n + 12] = 6;
        fk__put32(p + n + 13, 4096);
        fk__put32(p + n + 17, 8);
        fk__put32(p + n + 21, 90000); /* first: 10 s before export */
        fk__put32(p + n + 25, 99000);
        n += 29;
        while ((n - start) % 4)
            p[n++] = 0;
        fk__put16(p + start + 2, (uint16_t)(n - start));
    }
    return n;
}

static void v9_data_before_template_and_v5(void **state)
{
    (void)state;
    got g = {0};
    fk_collector *h = make(&g, 0);
    uint8_t p[512];
    size_t n = v9_packet(p, 1, 0, 1);
    feed(h, "10.0.0.9", 2055, p, n);
    assert_int_equal(g.n, 0);
    n = v9_packet(p, 2, 1, 0);
    feed(h, "10.0.0.9", 2055, p, n);
    assert_int_equal(g.n, 1);
    char s[FK_ADDR_STRLEN];
    fk_addr_format(&g.f[0].src, s, sizeof s);
    assert_string_equal(s, "192.0.2.10");
    assert_int_equal(g.f[0].bytes, 4096);
    assert_int_equal(g.f[0].dst_port, 80);
    assert_int_equal(g.f[0].version, 9);
    assert_int_equal(g.f[0].odid, 77);
    assert_int_equal(g.f[0].start_ns, 1795435190000000000LL);
    assert_int_equal(g.f[0].end_ns, 1795435199000000000LL);
    n = v9_packet(p, 5, 0, 1);
    feed(h, "10.0.0.9", 2055, p, n);
    assert_int_equal(g.n, 2);
    fk_collector_stats st;
    fk_collector_get_stats(h, &st, sizeof st);
    assert_int_equal(st.pending_decoded, 1);
    assert_int_equal(st.sequence_gaps, 1);
    assert_int_equal(st.sequence_lost, 2);

    /* v5: 24-byte header + 48-byte records. */
    uint8_t v5[24 + 2 * 48];
    memset(v5, 0, sizeof v5);
    fk__put16(v5, 5);
    fk__put16(v5 + 2, 2);
    fk__put32(v5 + 4, 100000);
    fk__put32(v5 + 8, 1795435200);
    fk__put32(v5 + 16, 500);
    v5[21] = 3; /* engine id */
    for (int i = 0; i < 2; i++) {
        uint8_t *r = v5 + 24 + i * 48;
        r[0] = 10;
        r[3] = (uint8_t)(1 + i);
        r[4] = 10;
        r[7] = 99;
        fk__put32(r + 16, 10);    /* dPkts */
        fk__put32(r + 20, 1000);  /* dOctets */
        fk__put32(r + 24, 95000); /* first */
        fk__put32(r + 28, 99500); /* last */
        fk__put16(r + 32, 4000);  /* src port */
        fk__put16(r + 34, 443);   /* dst port */
        r[38] = 6;                /* proto */
    }
    feed(h, "10.0.0.9", 2056, v5, sizeof v5);
    assert_int_equal(g.n, 4);
    assert_int_equal(g.f[3].version, 5);
    assert_int_equal(g.f[3].odid, 3);
    assert_int_equal(g.f[3].bytes, 1000);
    fk_addr_format(&g.f[3].src, s, sizeof s);
    assert_string_equal(s, "10.0.0.2");

    /* The per-domain view. */
    fk_collector_domain d[4];
    size_t nd = 0;
    assert_int_equal(fk_collector_get_domains(h, d, 4, &nd), 0);
    assert_int_equal(nd, 2);
    for (size_t i = 0; i < nd; i++) {
        fk_addr_format(&d[i].exporter, s, sizeof s);
        assert_string_equal(s, "10.0.0.9");
        assert_int_equal(d[i].transport, 17);
        if (d[i].version == 9) {
            assert_int_equal(d[i].port, 2055);
            assert_int_equal(d[i].odid, 77);
            assert_int_equal(d[i].messages, 3);
            assert_int_equal(d[i].records, 2);
            assert_int_equal(d[i].sequence_gaps, 1);
            assert_int_equal(d[i].sequence_lost, 2);
        } else {
            assert_int_equal(d[i].version, 5);
            assert_int_equal(d[i].odid, 3);
            assert_int_equal(d[i].records, 2);
            assert_int_equal(d[i].sequence_gaps, 0);
        }
    }
    assert_int_equal(fk_collector_get_domains(h, NULL, 0, &nd), 0);
    assert_int_equal(nd, 2);
    assert_int_equal(fk_collector_get_domains(h, NULL, 1, &nd), FK_EINVAL);
    fk_collector_destroy(h);
}

/* Flows written to an IPFIX file come back unchanged through the decoder. */
static void ipfix_file_output_reads_back(void **state)
{
    (void)state;
    char dir[] = "/tmp/fk_ipfix_out_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256], uri[300];
    snprintf(path, sizeof path, "%s/flows.ipfix", dir);
    snprintf(uri, sizeof uri, "ipfix:%s", path);
    got g = {0};
    fk_collector *h;
    assert_int_equal(fk_collector_create(&h), 0);
    assert_int_equal(fk_collector_set_callback(h, on_flow, &g), 0);
    assert_int_equal(fk_collector_add_output(h, uri), 0);
    assert_int_equal(fk_collector_add_output(h, "ipfix:-"), FK_EINVAL);
    assert_int_equal(fk_collector_activate(h), 0);
    /* IPv4 and IPv6 flows from IPv4 and IPv6 exporters, through the encoder. */
    enc x4, x6;
    enc_new(&x4);
    enc_new(&x6);
    assert_int_equal(fk_ipfix_encoder_add_template(x4.e, 256, v4_fields, 9, 0), 0);
    assert_int_equal(fk_ipfix_encoder_add_template(x6.e, 256, v6_fields, 7, 0), 0);
    assert_int_equal(fk_ipfix_encoder_begin(x4.e, 9, 1795435202, x4.buf, sizeof x4.buf), 0);
    assert_int_equal(fk_ipfix_encoder_write_template(x4.e, 256), 0);
    for (int i = 0; i < 20; i++) {
        fk_flow a = flow4("192.0.2.1", "192.0.2.200", 100u + (unsigned)i);
        assert_int_equal(fk_ipfix_encoder_add_flow(x4.e, 256, &a), 0);
    }
    assert_int_equal(fk_ipfix_encoder_finish(x4.e, &x4.len), 0);
    feed(h, "10.0.0.1", 4739, x4.buf, x4.len);
    feed(h, "2001:db8::99", 4739, x4.buf, x4.len);
    assert_int_equal(g.n, 40);
    fk_collector_destroy(h);
    fk_ipfix_encoder_destroy(x4.e);
    fk_ipfix_encoder_destroy(x6.e);

    size_t len;
    uint8_t *file = fk_test_read_file(path, &len);
    assert_non_null(file);
    fk_ipfix_decoder *d;
    assert_int_equal(fk_ipfix_decoder_create(&d, NULL), 0);
    size_t off = 0;
    unsigned n = 0;
    while (off < len) {
        fk_ipfix_header hdr;
        assert_int_equal(fk_ipfix_parse_header(file + off, len - off, &hdr), 0);
        assert_int_equal(fk_ipfix_decoder_begin(d, 1, file + off, len - off, NULL), 0);
        fk_ipfix_item it;
        int rc;
        while ((rc = fk_ipfix_decoder_next(d, &it)) == 1) {
            if (it.kind != FK_IPFIX_ITEM_RECORD)
                continue;
            fk_flow f;
            assert_int_equal(fk_ipfix_record_to_flow(&it.record, &f), 0);
            assert_true(n < 40);
            assert_int_equal(f.bytes, g.f[n < 64 ? n : 0].bytes);
            assert_int_equal(f.start_ns, g.f[n].start_ns);
            assert_int_equal(f.end_ns, g.f[n].end_ns);
            assert_int_equal(f.src_port, 5000);
            fk_ipfix_value v;
            assert_int_equal(fk_ipfix_record_find_field(&it.record, 0, 149, &v), 0);
            assert_int_equal(v.u, 9);
            n++;
        }
        assert_int_equal(rc, 0);
        off += hdr.length;
    }
    assert_int_equal(n, 40);
    fk_ipfix_decoder_destroy(d);
    free(file);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

/* The ipfix: output's pass-through keeps state per exporter domain (its
 * templates as written, its options for the next file): an exporter that
 * reconnects again and again must not grow it. 40 TCP connections each
 * send two domains and close; the output holds two domains while one is
 * open and none after it closed, and the file still holds every record. */
static void ipfix_passthrough_forgets_closed_exporters(void **state)
{
    (void)state;
    char dir[] = "/tmp/fk_ipfix_churn_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256], uri[300];
    snprintf(path, sizeof path, "%s/flows.ipfix", dir);
    snprintf(uri, sizeof uri, "ipfix:%s", path);
    fk_collector *h;
    assert_int_equal(fk_collector_create(&h), 0);
    assert_int_equal(fk_collector_add_output(h, uri), 0);
    assert_int_equal(fk_collector_add_listener(h, "tcp://127.0.0.1:0"), 0);
    assert_int_equal(fk_collector_activate(h), 0);
    char luri[80];
    assert_true(fk_collector_get_listener_uri(h, 0, luri, sizeof luri) > 0);
    fk__col_uri u;
    assert_int_equal(fk__col_uri_parse(&u, luri), 0);
    enc x;
    enc_new(&x);
    assert_int_equal(fk_ipfix_encoder_add_template(x.e, 300, v4_fields, 9, 0), 0);
    static uint8_t stream[3000];
    size_t len = 0;
    fk_flow a = flow4("192.0.2.1", "192.0.2.2", 10);
    a.start_ns = a.end_ns = 0; /* no times: nothing is judged late */
    for (uint32_t odid = 3; odid <= 4; odid++) {
        assert_int_equal(fk_ipfix_encoder_begin(x.e, odid, 1795435202, x.buf, sizeof x.buf), 0);
        assert_int_equal(fk_ipfix_encoder_write_template(x.e, 300), 0);
        assert_int_equal(fk_ipfix_encoder_add_flow(x.e, 300, &a), 0);
        assert_int_equal(fk_ipfix_encoder_add_flow(x.e, 300, &a), 0);
        assert_int_equal(fk_ipfix_encoder_finish(x.e, &x.len), 0);
        memcpy(stream + len, x.buf, x.len);
        len += x.len;
    }
    fk_ipfix_encoder_destroy(x.e);
    fk_collector_stats st = {0};
    for (unsigned conn = 0; conn < 40; conn++) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        assert_int_equal(connect(fd, (struct sockaddr *)&u.ss, u.sslen), 0);
        assert_int_equal(write(fd, stream, len), (ssize_t)len);
        for (int i = 0; i < 400; i++) {
            fk_collector_dispatch(h);
            fk_collector_get_stats(h, &st, sizeof st);
            if (st.records == (conn + 1) * 4)
                break;
            usleep(2000);
        }
        assert_int_equal(st.records, (conn + 1) * 4);
        assert_int_equal(fk__sink_ipfix_raw_domains(h->sinks[0]), 2);
        close(fd);
        for (int i = 0; i < 400 && fk__col_sessions_count(h->sessions) > 0; i++) {
            usleep(2000);
            fk_collector_dispatch(h);
        }
        assert_int_equal(fk__col_sessions_count(h->sessions), 0);
        assert_int_equal(fk__sink_ipfix_raw_domains(h->sinks[0]), 0);
    }
    fk_collector_get_stats(h, &st, sizeof st);
    assert_int_equal(st.malformed, 0);
    assert_int_equal(st.sink_errors, 0);
    fk_collector_destroy(h);

    size_t flen;
    uint8_t *file = fk_test_read_file(path, &flen);
    assert_non_null(file);
    fk_ipfix_decoder *d;
    assert_int_equal(fk_ipfix_decoder_create(&d, NULL), 0);
    unsigned flows = 0, origins = 0;
    for (size_t off = 0; off < flen;) {
        fk_ipfix_header hdr;
        assert_int_equal(fk_ipfix_parse_header(file + off, flen - off, &hdr), 0);
        assert_int_equal(fk_ipfix_decoder_begin(d, 1, file + off, flen - off, NULL), 0);
        fk_ipfix_item it;
        int rc;
        while ((rc = fk_ipfix_decoder_next(d, &it)) == 1)
            if (it.kind == FK_IPFIX_ITEM_RECORD) {
                if (it.record.is_options)
                    origins++;
                else
                    flows++;
            }
        assert_int_equal(rc, 0);
        off += hdr.length;
    }
    assert_int_equal(flows, 160);
    assert_int_equal(origins, 80); /* each connection's two domains named once */
    fk_ipfix_decoder_destroy(d);
    free(file);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

/* IPFIX over TCP with the real decoder, the stream written 7 bytes at a
 * time: template + data, withdrawal, data (kept: no template), template
 * again (the kept data decodes). */
static void ipfix_tcp_split_withdrawal(void **state)
{
    (void)state;
    got g = {0};
    fk_collector *h;
    assert_int_equal(fk_collector_create(&h), 0);
    assert_int_equal(fk_collector_set_callback(h, on_flow, &g), 0);
    assert_int_equal(fk_collector_add_listener(h, "tcp://127.0.0.1:0"), 0);
    assert_int_equal(fk_collector_activate(h), 0);
    char uri[80];
    assert_true(fk_collector_get_listener_uri(h, 0, uri, sizeof uri) > 0);
    fk__col_uri u;
    assert_int_equal(fk__col_uri_parse(&u, uri), 0);

    enc x;
    enc_new(&x);
    assert_int_equal(fk_ipfix_encoder_add_template(x.e, 300, v4_fields, 9, 0), 0);
    static uint8_t stream[8000];
    size_t len = 0;
    fk_flow a = flow4("192.0.2.1", "192.0.2.2", 10);
    for (int step = 0; step < 4; step++) {
        assert_int_equal(fk_ipfix_encoder_begin(x.e, 3, 1795435202, x.buf, sizeof x.buf), 0);
        if (step == 0 || step == 3)
            assert_int_equal(fk_ipfix_encoder_write_template(x.e, 300), 0);
        if (step == 1)
            assert_int_equal(fk_ipfix_encoder_write_withdrawal(x.e, 300, 0), 0);
        if (step == 0 || step == 2) {
            assert_int_equal(fk_ipfix_encoder_add_flow(x.e, 300, &a), 0);
            assert_int_equal(fk_ipfix_encoder_add_flow(x.e, 300, &a), 0);
        }
        assert_int_equal(fk_ipfix_encoder_finish(x.e, &x.len), 0);
        memcpy(stream + len, x.buf, x.len);
        len += x.len;
    }
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_int_equal(connect(fd, (struct sockaddr *)&u.ss, u.sslen), 0);
    for (size_t off = 0; off < len; off += 7) {
        size_t n = len - off < 7 ? len - off : 7;
        assert_int_equal(write(fd, stream + off, n), (ssize_t)n);
        fk_collector_dispatch(h);
    }
    fk_collector_stats st = {0};
    for (int i = 0; i < 200 && g.n < 4; i++) {
        usleep(5000);
        fk_collector_dispatch(h);
    }
    fk_collector_get_stats(h, &st, sizeof st);
    assert_int_equal(g.n, 4);
    assert_int_equal(st.templates_withdrawn, 1);
    assert_int_equal(st.pending_sets, 1);
    assert_int_equal(st.pending_decoded, 1);
    assert_int_equal(st.malformed, 0);
    assert_int_equal(st.tcp_connections, 1);
    close(fd);
    fk_ipfix_encoder_destroy(x.e);
    fk_collector_destroy(h);
}

typedef struct rec_count {
    unsigned n;
} rec_count;

static void count_flow(void *user, fk_flow *f)
{
    (void)f;
    ((rec_count *)user)->n++;
}

/* UDP template lifetime with the real codecs and a controlled clock: only
 * templates not refreshed within the timeout go; refreshed ones (v9: the
 * decoder is rebuilt from them) keep decoding. */
static void udp_template_expiry_real_codecs(void **state)
{
    (void)state;
    const int64_t S = 1000000000LL;
    fk_collector_stats st;
    memset(&st, 0, sizeof st);
    rec_count rc = {0};
    fk__col_limits lim = {30 * S,   60 * S, 1 << 20, 1 << 26, 64,    16,
                          3600 * S, 0,      64,      0,       false, NULL};
    fk__col_sessions *s;
    assert_int_equal(
        fk__col_sessions_create(&s, &fk__col_codec_default, &lim, &st, count_flow, &rc), 0);
    fk__col_peer peer;
    memset(&peer, 0, sizeof peer);
    fk_addr_parse("10.0.0.1", &peer.addr);
    peer.port = 9995;
    peer.transport = FK__COL_UDP;

    /* v9: template at 1 s, data decodes at 20 s, gone after 31 s. */
    uint8_t p[512];
    size_t n = v9_packet(p, 1, 1, 0);
    fk__col_sessions_message(s, &peer, p, n, 1 * S);
    n = v9_packet(p, 2, 0, 1);
    assert_int_equal(fk__col_sessions_message(s, &peer, p, n, 20 * S), 1);
    fk__col_sessions_tick(s, 40 * S);
    assert_int_equal(st.templates_withdrawn, 1);
    n = v9_packet(p, 3, 0, 1);
    assert_int_equal(fk__col_sessions_message(s, &peer, p, n, 41 * S), 0);
    assert_int_equal(st.pending_sets, 1);
    /* Refreshed at 45 s: the kept set decodes; still alive at 70 s. */
    n = v9_packet(p, 4, 1, 0);
    assert_int_equal(fk__col_sessions_message(s, &peer, p, n, 45 * S), 1);
    fk__col_sessions_tick(s, 70 * S);
    n = v9_packet(p, 5, 0, 1);
    assert_int_equal(fk__col_sessions_message(s, &peer, p, n, 70 * S), 1);

    /* IPFIX: templates 256 and 300 at 100 s; 300 refreshed at 120 s. */
    enc x;
    enc_new(&x);
    assert_int_equal(fk_ipfix_encoder_add_template(x.e, 256, v4_fields, 9, 0), 0);
    assert_int_equal(fk_ipfix_encoder_add_template(x.e, 300, v4_fields, 9, 0), 0);
    uint8_t tm[1500], data[1500];
    size_t tlen, dlen;
    assert_int_equal(fk_ipfix_encoder_begin(x.e, 1, 1795435202, tm, sizeof tm), 0);
    assert_int_equal(fk_ipfix_encoder_write_template(x.e, 256), 0);
    assert_int_equal(fk_ipfix_encoder_write_template(x.e, 300), 0);
    assert_int_equal(fk_ipfix_encoder_finish(x.e, &tlen), 0);
    fk__col_sessions_message(s, &peer, tm, tlen, 100 * S);
    assert_int_equal(fk_ipfix_encoder_begin(x.e, 1, 1795435203, tm, sizeof tm), 0);
    assert_int_equal(fk_ipfix_encoder_write_template(x.e, 300), 0);
    assert_int_equal(fk_ipfix_encoder_finish(x.e, &tlen), 0);
    fk__col_sessions_message(s, &peer, tm, tlen, 120 * S);
    fk_flow a = flow4("192.0.2.1", "192.0.2.2", 1);
    assert_int_equal(fk_ipfix_encoder_begin(x.e, 1, 1795435204, data, sizeof data), 0);
    assert_int_equal(fk_ipfix_encoder_add_flow(x.e, 256, &a), 0);
    assert_int_equal(fk_ipfix_encoder_add_flow(x.e, 300, &a), 0);
    assert_int_equal(fk_ipfix_encoder_finish(x.e, &dlen), 0);
    assert_int_equal(fk__col_sessions_message(s, &peer, data, dlen, 125 * S), 2);
    uint64_t w = st.templates_withdrawn;
    /* 256 is 40 s old, 300 only 20 s; the v9 template (45 s) goes too. */
    fk__col_sessions_tick(s, 140 * S);
    assert_int_equal(st.templates_withdrawn, w + 2);
    assert_int_equal(fk__col_sessions_message(s, &peer, data, dlen, 141 * S), 1);
    fk_ipfix_encoder_destroy(x.e);
    fk__col_sessions_destroy(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ipfix_data_before_template),
        cmocka_unit_test(same_template_id_in_two_domains_varlen_enterprise),
        cmocka_unit_test(options_sampling_applied_and_scaled),
        cmocka_unit_test(v9_data_before_template_and_v5),
        cmocka_unit_test(ipfix_file_output_reads_back),
        cmocka_unit_test(ipfix_tcp_split_withdrawal),
        cmocka_unit_test(ipfix_passthrough_forgets_closed_exporters),
        cmocka_unit_test(udp_template_expiry_real_codecs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
