/* Fuzz the flow filter compiler (flowkit/filter.h): any text either compiles
 * or fails with FK_EFILTER and an offset inside the text; a compiled filter
 * runs on a few fixed flows, and compiled for raw records
 * (fk_filter_raw_compile) of an IPv4 and an IPv6 layout it must give, on
 * each flow written as such a record, what fk_filter_match gives on the
 * flow. Input: the expression text. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <flowkit/flowkit.h>

/* Big-endian n octets of v at p. */
static void put(uint8_t *p, uint64_t v, int n)
{
    for (int i = n - 1; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

/* f written as a record of layout l (addresses of a octets), the ICMP
 * type and code in their own field when l places it. */
static void write_record(const fk_flow *f, const fk_filter_layout *l, uint8_t *rec)
{
    int a = l->src_addr.length;
    memcpy(rec + l->src_addr.offset, f->src.bytes, (size_t)a);
    memcpy(rec + l->dst_addr.offset, f->dst.bytes, (size_t)a);
    int icmp = l->icmp_type_code.length && f->src_port == 0;
    put(rec + l->src_port.offset, f->src_port, 2);
    put(rec + l->dst_port.offset, icmp ? 0 : f->dst_port, 2);
    if (l->icmp_type_code.length)
        put(rec + l->icmp_type_code.offset, icmp ? f->dst_port : 0, 2);
    put(rec + l->proto.offset, f->proto, 1);
    put(rec + l->tcp_flags.offset, f->tcp_flags, 1);
    put(rec + l->bytes.offset, f->bytes, 8);
    put(rec + l->packets.offset, f->packets, 8);
    put(rec + l->start.offset, (uint64_t)(f->start_ns / 1000000), 8);
    put(rec + l->end.offset, (uint64_t)(f->end_ns / 1000000), 8);
}

/* The raw form of f, compiled for l, must agree with f on every flow. */
static void check_raw(const fk_filter *f, const fk_filter_layout *l, const fk_flow *flows, int n)
{
    fk_flow base;
    memset(&base, 0, sizeof base);
    fk_filter_raw *raw = NULL;
    int rc = fk_filter_raw_compile(f, l, &base, &raw);
    if (rc == FK_EUNSUPPORTED)
        return;
    if (rc != 0)
        abort(); /* a valid layout and a compiled filter */
    for (int i = 0; i < n; i++) {
        uint8_t rec[96];
        memset(rec, 0, sizeof rec);
        write_record(&flows[i], l, rec);
        if (fk_filter_raw_match(raw, rec) != fk_filter_match(f, &flows[i]))
            abort();
    }
    fk_filter_raw_destroy(raw);
}

static void check_raw_layouts(const fk_filter *f)
{
    /* fields in a row: src, dst, ports, icmp, proto, flags, counters, ms times */
    static const fk_filter_layout v4 = {
        .src_addr = {0, 4},
        .dst_addr = {4, 4},
        .src_port = {8, 2},
        .dst_port = {10, 2},
        .icmp_type_code = {12, 2},
        .proto = {14, 1},
        .tcp_flags = {15, 1},
        .bytes = {16, 8},
        .packets = {24, 8},
        .start = {32, 8},
        .end = {40, 8},
    };
    static const fk_filter_layout v6 = {
        .src_addr = {0, 16},
        .dst_addr = {16, 16},
        .src_port = {32, 2},
        .dst_port = {34, 2},
        .icmp_type_code = {36, 2},
        .proto = {38, 1},
        .tcp_flags = {39, 1},
        .bytes = {40, 8},
        .packets = {48, 8},
        .start = {56, 8},
        .end = {64, 8},
    };
    static const struct {
        const char *src, *dst;
        uint8_t proto, flags;
        uint16_t sport, dport;
        uint64_t bytes, packets;
        int64_t start_ms, ms;
    } cases[] = {
        {"10.1.2.3", "192.0.2.1", 6, 0x12, 40000, 443, 1500, 3, 1700000000000, 1500},
        {"192.0.2.1", "10.1.2.3", 17, 0, 53, 33000, 64, 1, 1700000000123, 0},
        {"172.16.0.9", "10.255.255.255", 1, 0, 0, 0x0800, 84, 1, 1700000100000, 2},
        {"2001:db8::1", "2001:db8::2", 17, 0, 5353, 53, 120, 2, 1700000000000, 60000},
        {"fe80::1", "ff02::1", 58, 0, 0, 0x8000, 104, 1, 1700000000001, 1},
        {"::ffff:10.0.0.1", "2001:db8:ffff::", 6, 0x3f, 1, 65535, 1ull << 40, 7, 1, 1},
    };
    fk_flow fl[6];
    memset(fl, 0, sizeof fl);
    for (int i = 0; i < 6; i++) {
        fk_addr_parse(cases[i].src, &fl[i].src);
        fk_addr_parse(cases[i].dst, &fl[i].dst);
        fl[i].proto = cases[i].proto;
        fl[i].tcp_flags = cases[i].flags;
        fl[i].src_port = cases[i].sport;
        fl[i].dst_port = cases[i].dport;
        fl[i].bytes = cases[i].bytes;
        fl[i].packets = cases[i].packets;
        fl[i].start_ns = cases[i].start_ms * 1000000;
        fl[i].end_ns = (cases[i].start_ms + cases[i].ms) * 1000000;
    }
    check_raw(f, &v4, fl, 3);
    check_raw(f, &v6, fl + 3, 3);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    fk_filter *f = NULL;
    size_t at = (size_t)-1;
    int rc = fk_filter_compile(text, &f, &at);
    if (rc == 0) {
        fk_flow fl[3];
        memset(fl, 0, sizeof fl);
        fk_addr_parse("10.1.2.3", &fl[0].src);
        fk_addr_parse("192.0.2.1", &fl[0].dst);
        fl[0].proto = 6;
        fl[0].src_port = 40000;
        fl[0].dst_port = 443;
        fl[0].bytes = 1500;
        fl[0].packets = 3;
        fl[0].tcp_flags = 0x12;
        fk_addr_parse("2001:db8::1", &fl[1].src);
        fk_addr_parse("2001:db8::2", &fl[1].dst);
        fl[1].proto = 17;
        fl[1].dst_port = 53;
        fl[2].proto = 1;
        fl[2].dst_port = 0x0800;
        int m = 0;
        for (int i = 0; i < 3; i++)
            m += fk_filter_match(f, &fl[i]);
        if (m < 0 || m > 3)
            abort();
        check_raw_layouts(f);
        fk_filter_destroy(f);
    } else if (rc == FK_EFILTER && at > size) {
        abort(); /* the error position must lie inside the text */
    }
    free(text);
    return 0;
}
