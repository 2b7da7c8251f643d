/* NetFlow v6 (v5 plus input/output encapsulation sizes and the peer next
 * hop: 52-byte records, at most 27 a datagram): datagrams built here,
 * decoded stateless, through a decoding session (sequence tracking) and
 * refused when malformed. */
#include <flowkit/flowkit.h>
#include <stdio.h>
#include <string.h>

#include "fk_test.h"

static void put16(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, v >> 16);
    put16(p + 2, v & 0xffff);
}

/* A v6 datagram of n records into buf (24 + 52 * n bytes); record i goes
 * from 10.0.0.(i+1):(40000+i) to 192.0.2.9:443, TCP, 1500*(i+1) bytes. */
static size_t build_v6(uint8_t *buf, unsigned n, uint32_t sequence)
{
    memset(buf, 0, 24 + 52 * (size_t)n);
    put16(buf, 6);
    put16(buf + 2, n);
    put32(buf + 4, 100000);     /* sysUptime ms */
    put32(buf + 8, 1700000000); /* unix_secs */
    put32(buf + 12, 500000000); /* unix_nsecs */
    put32(buf + 16, sequence);
    buf[20] = 1;                     /* engine type */
    buf[21] = 2;                     /* engine id */
    put16(buf + 22, 1u << 14 | 100); /* sampling: mode 1, 1 in 100 */
    for (unsigned i = 0; i < n; i++) {
        uint8_t *r = buf + 24 + 52 * i;
        r[0] = 10, r[3] = (uint8_t)(1 + i); /* srcaddr 10.0.0.i+1 */
        r[4] = 192, r[6] = 2, r[7] = 9;     /* dstaddr 192.0.2.9 */
        r[8] = 10, r[11] = 254;             /* nexthop */
        put16(r + 12, 3);                   /* input */
        put16(r + 14, 4);                   /* output */
        put32(r + 16, 10 * (i + 1));        /* packets */
        put32(r + 20, 1500 * (i + 1));      /* octets */
        put32(r + 24, 90000);               /* first: 10 s before export */
        put32(r + 28, 99000);               /* last: 1 s before export */
        put16(r + 32, 40000 + i);
        put16(r + 34, 443);
        r[37] = 0x1b;                                    /* tcp flags */
        r[38] = 6;                                       /* proto */
        r[39] = 32;                                      /* tos */
        put16(r + 40, 64512);                            /* src as */
        put16(r + 42, 64513);                            /* dst as */
        r[44] = 24, r[45] = 24;                          /* masks */
        r[46] = 4, r[47] = 8;                            /* in / out encapsulation sizes */
        r[48] = 198, r[49] = 51, r[50] = 100, r[51] = 1; /* peer next hop */
    }
    return 24 + 52 * (size_t)n;
}

static void decodes_stateless(void **state)
{
    (void)state;
    uint8_t buf[24 + 52 * 27];
    size_t len = build_v6(buf, 2, 1000);
    fk_flow f[FK_NETFLOW_FIXED_MAX];
    fk_netflow_header h;
    size_t n = 0;
    fk_addr exp;
    assert_int_equal(fk_addr_parse("127.0.0.5", &exp), 0);
    assert_int_equal(fk_netflow_decode_fixed(buf, len, &exp, &h, f, FK_NETFLOW_FIXED_MAX, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(h.version, 6);
    assert_int_equal(h.count, 2);
    assert_int_equal(h.sequence, 1000);
    assert_int_equal(h.engine_type, 1);
    assert_int_equal(h.engine_id, 2);
    assert_int_equal(h.source_id, 0x0102);
    assert_int_equal(h.sampling_interval, 100);
    for (unsigned i = 0; i < 2; i++) {
        char src[FK_ADDR_STRLEN], want[FK_ADDR_STRLEN], dst[FK_ADDR_STRLEN];
        fk_addr_format(&f[i].src, src, sizeof src);
        fk_addr_format(&f[i].dst, dst, sizeof dst);
        snprintf(want, sizeof want, "10.0.0.%u", 1 + i);
        assert_string_equal(src, want);
        assert_string_equal(dst, "192.0.2.9");
        assert_int_equal(f[i].version, 6);
        assert_int_equal(f[i].src_port, 40000 + i);
        assert_int_equal(f[i].dst_port, 443);
        assert_int_equal(f[i].proto, 6);
        assert_int_equal(f[i].tos, 32);
        assert_int_equal(f[i].tcp_flags, 0x1b);
        assert_int_equal(f[i].packets, 10 * (i + 1));
        assert_int_equal(f[i].bytes, 1500 * (i + 1));
        assert_int_equal(f[i].in_if, 3);
        assert_int_equal(f[i].out_if, 4);
        assert_int_equal(f[i].sampling, 100);
        assert_true(f[i].present & FK_FLOW_HAS_SAMPLING);
        assert_int_equal(f[i].odid, 0x0102);
        /* export 1700000000.5 s; first 10 s, last 1 s before the export */
        assert_int_equal(f[i].start_ns, 1700000000500000000ll - 10000000000ll);
        assert_int_equal(f[i].end_ns, 1700000000500000000ll - 1000000000ll);
    }
    /* 27 records is the most a v6 datagram carries; 28 is malformed. */
    len = build_v6(buf, 27, 1);
    assert_int_equal(fk_netflow_decode_fixed(buf, len, NULL, NULL, f, FK_NETFLOW_FIXED_MAX, &n), 0);
    assert_int_equal(n, 27);
    put16(buf + 2, 28);
    assert_int_equal(fk_netflow_decode_fixed(buf, len, NULL, NULL, f, FK_NETFLOW_FIXED_MAX, &n),
                     FK_EMALFORMED);
    /* A record cut short (v5's 48 bytes are not enough). */
    len = build_v6(buf, 2, 1);
    assert_int_equal(fk_netflow_decode_fixed(buf, len - 4, NULL, NULL, f, FK_NETFLOW_FIXED_MAX, &n),
                     FK_ETRUNCATED);
    assert_int_equal(fk_netflow_decode_fixed(buf, 23, NULL, NULL, f, FK_NETFLOW_FIXED_MAX, &n),
                     FK_ETRUNCATED);
}

typedef struct seen {
    unsigned flows;
    uint16_t version;
} seen;

static int on_record(const fk_netflow_record *rec, void *user)
{
    seen *s = user;
    if (rec->kind == FK_NETFLOW_RECORD_FLOW) {
        s->flows++;
        s->version = rec->flow->version;
    }
    return 0;
}

static void decodes_in_session(void **state)
{
    (void)state;
    fk_netflow *nf;
    assert_int_equal(fk_netflow_create(&nf), 0);
    assert_int_equal(fk_netflow_activate(nf), 0);
    fk_addr exp;
    assert_int_equal(fk_addr_parse("127.0.0.5", &exp), 0);
    uint8_t buf[24 + 52 * 27];
    seen s = {0, 0};
    size_t len = build_v6(buf, 3, 100);
    assert_int_equal(fk_netflow_decode(nf, &exp, 2055, buf, len, on_record, &s), 0);
    /* sequence 103 follows (100 + 3 flows); 110 means 7 flows were lost */
    len = build_v6(buf, 2, 103);
    assert_int_equal(fk_netflow_decode(nf, &exp, 2055, buf, len, on_record, &s), 0);
    len = build_v6(buf, 1, 112);
    assert_int_equal(fk_netflow_decode(nf, &exp, 2055, buf, len, on_record, &s), 0);
    assert_int_equal(s.flows, 6);
    assert_int_equal(s.version, 6);
    fk_netflow_stats st;
    memset(&st, 0, sizeof st);
    assert_int_equal(fk_netflow_get_stats(nf, &st, sizeof st), 0);
    assert_int_equal(st.flows, 6);
    assert_int_equal(st.sequence_lost, 7);
    assert_int_equal(st.unsupported, 0);
    /* version 8 is still refused */
    put16(buf, 8);
    assert_int_equal(fk_netflow_decode(nf, &exp, 2055, buf, len, on_record, &s), FK_EUNSUPPORTED);
    fk_netflow_destroy(nf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(decodes_stateless),
                                       cmocka_unit_test(decodes_in_session)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
