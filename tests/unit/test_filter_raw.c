/* Filters compiled for raw records (fk_filter_raw_compile): on every record
 * of a layout, fk_filter_raw_match() must give what fk_filter_match() gives
 * on the flow decoded from that record. Checked on random layouts (both
 * families, one side or no address, reduced sizes, the ICMP type and code
 * standing in for ports), random records and random filters (and, or,
 * not, every primitive), and at the hard end: every IPv4 and IPv6 prefix
 * length with the bits on either side of the prefix flipped, /0, port
 * ranges at 0 and 65535, mixed families, errors. */
#include <arpa/inet.h>
#include <flowkit/flowkit.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fk_test.h"
#include "filter_time_ref.h"

/* ---- a deterministic generator ------------------------------------------- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
    uint64_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return rng_state = x;
}

static unsigned pick(unsigned n)
{
    return (unsigned)(rnd() % n);
}

/* Addresses the records and the filters share, so that prefixes match. */
static const char *const v4_pool[] = {"10.0.0.1",  "10.0.0.2", "10.1.2.3",        "172.16.0.5",
                                      "192.0.2.1", "0.0.0.0",  "255.255.255.255", "10.255.0.0"};
static const char *const v6_pool[] = {"2001:db8::1",
                                      "2001:db8::2",
                                      "2001:db8:1::53",
                                      "fd00::1",
                                      "::",
                                      "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
                                      "2001:db8:0:0:8000::",
                                      "::ffff:10.0.0.1"};
static const uint64_t num_pool[] = {
    0,    1,     8,     22,  53,   80,   443,  1023,          1024,
    2048, 65535, 65536, 999, 1000, 4096, 4095, 0xffffffffull, 5000000000ull};

/* ---- layouts and records ------------------------------------------------- */

typedef struct lay {
    fk_filter_layout l;
    unsigned reclen;
    uint8_t fam; /* of placed addresses: 4, 6 */
} lay;

static void place(fk_filter_field *f, unsigned *off, unsigned len)
{
    *off += pick(3); /* unread octets between fields */
    f->offset = (uint16_t)*off;
    f->length = (uint16_t)len;
    *off += len;
}

static unsigned width(unsigned lo, unsigned hi)
{
    static const unsigned common[] = {1, 2, 4, 8};
    for (int tries = 0; tries < 8; tries++) {
        unsigned w = pick(3) == 0 ? lo + pick(hi - lo + 1) : common[pick(4)];
        if (w >= lo && w <= hi)
            return w;
    }
    return hi;
}

static void random_layout(lay *y)
{
    memset(y, 0, sizeof *y);
    unsigned off = 0;
    y->fam = pick(2) ? 4 : 6;
    unsigned alen = y->fam == 4 ? 4 : 16;
    if (pick(6))
        place(&y->l.src_addr, &off, alen);
    if (pick(6))
        place(&y->l.dst_addr, &off, alen);
    if (pick(4))
        place(&y->l.src_port, &off, width(1, 2));
    if (pick(4))
        place(&y->l.dst_port, &off, width(1, 2));
    if (pick(3) == 0)
        place(&y->l.icmp_type_code, &off, width(1, 2));
    if (pick(5))
        place(&y->l.proto, &off, 1);
    if (pick(2))
        place(&y->l.tos, &off, 1);
    if (pick(2))
        place(&y->l.tcp_flags, &off, width(1, 2));
    if (pick(2))
        place(&y->l.vlan, &off, width(1, 2));
    if (pick(2))
        place(&y->l.in_if, &off, width(1, 4));
    if (pick(2))
        place(&y->l.out_if, &off, width(1, 4));
    if (pick(4))
        place(&y->l.bytes, &off, width(1, 8));
    if (pick(4))
        place(&y->l.packets, &off, width(1, 8));
    y->l.start_time = (uint8_t)pick(4);
    y->l.end_time = (uint8_t)pick(4);
    if (pick(3))
        place(&y->l.start, &off, y->l.start_time == FK_FILTER_TIME_SECONDS ? 4 : 8);
    if (pick(3))
        place(&y->l.end, &off, y->l.end_time == FK_FILTER_TIME_SECONDS ? 4 : 8);
    y->reclen = off + pick(4);
}

static void put_be(uint8_t *p, unsigned len, uint64_t v)
{
    for (unsigned i = len; i-- > 0; v >>= 8)
        p[i] = (uint8_t)v;
}

static uint64_t get_be(const uint8_t *p, unsigned len)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < len; i++)
        v = v << 8 | p[i];
    return v;
}

static void put_addr(uint8_t *p, uint8_t fam)
{
    uint8_t b[16];
    if (fam == 4)
        assert_int_equal(inet_pton(AF_INET, v4_pool[pick(8)], b), 1);
    else
        assert_int_equal(inet_pton(AF_INET6, v6_pool[pick(8)], b), 1);
    unsigned n = fam == 4 ? 4 : 16;
    if (pick(3) == 0) /* a bit flipped somewhere: near, not in, the pool */
        b[pick(n)] ^= (uint8_t)(1u << pick(8));
    memcpy(p, b, n);
}

static void put_num(uint8_t *p, const fk_filter_field *f)
{
    if (!f->length)
        return;
    uint64_t v = pick(4) == 0 ? rnd() : num_pool[pick(sizeof num_pool / sizeof num_pool[0])];
    if (pick(3) == 0)
        v = (uint64_t)pick(3) << 8 | pick(3); /* ICMP type * 256 + code, small ports */
    put_be(p + f->offset, f->length, v);
}

/* A time of form around t0 (ms), or any octets (saturation, odd fractions). */
static void put_time(uint8_t *rec, const fk_filter_field *f, uint8_t form, uint64_t t0)
{
    if (!f->length)
        return;
    uint64_t ms = t0 + pick(6000), v;
    if (form == FK_FILTER_TIME_SECONDS)
        v = ms / 1000;
    else if (form == FK_FILTER_TIME_MILLISECONDS)
        v = ms;
    else /* NTP: seconds since 1900, a fraction of 2^32 */
        v = (ms / 1000 + 2208988800ull) << 32 | ((ms % 1000) << 32) / 1000 | pick(4096);
    put_be(rec + f->offset, f->length, pick(8) ? v : rnd());
}

static void random_record(const lay *y, uint8_t *rec)
{
    for (unsigned i = 0; i < y->reclen; i++)
        rec[i] = (uint8_t)rnd();
    const fk_filter_layout *l = &y->l;
    if (l->src_addr.length)
        put_addr(rec + l->src_addr.offset, y->fam);
    if (l->dst_addr.length)
        put_addr(rec + l->dst_addr.offset, y->fam);
    put_num(rec, &l->src_port);
    put_num(rec, &l->dst_port);
    put_num(rec, &l->icmp_type_code);
    if (l->proto.length) {
        static const uint8_t protos[] = {1, 6, 17, 58, 0, 47};
        rec[l->proto.offset] = protos[pick(6)];
    }
    put_num(rec, &l->tos);
    put_num(rec, &l->tcp_flags);
    put_num(rec, &l->vlan);
    put_num(rec, &l->in_if);
    put_num(rec, &l->out_if);
    put_num(rec, &l->bytes);
    put_num(rec, &l->packets);
    put_time(rec, &l->start, l->start_time, 1700000000000ull);
    put_time(rec, &l->end, l->end_time, 1700000003000ull);
}

static void random_base(fk_flow *b)
{
    memset(b, 0, sizeof *b);
    if (pick(2)) {
        b->src.family = pick(2) ? 4 : 6;
        put_addr(b->src.bytes, b->src.family);
    }
    if (pick(2)) {
        b->dst.family = pick(2) ? 4 : 6;
        put_addr(b->dst.bytes, b->dst.family);
    }
    b->src_port = pick(3) ? 0 : (uint16_t)num_pool[pick(8)];
    b->dst_port = (uint16_t)num_pool[pick(8)];
    b->proto = pick(2) ? 6 : 1;
    b->tos = (uint8_t)pick(3);
    b->tcp_flags = (uint8_t)rnd();
    b->vlan = (uint16_t)pick(8);
    b->in_if = pick(4);
    b->out_if = pick(4);
    b->bytes = num_pool[pick(18)];
    b->packets = num_pool[pick(18)];
    b->rev_bytes = num_pool[pick(18)];
    b->rev_packets = num_pool[pick(18)];
    b->start_ns = (int64_t)(1700000000000ull + pick(6000)) * 1000000;
    b->end_ns = b->start_ns + (int64_t)pick(8000) * 1000000 - 2000000000;
    if (pick(2)) {
        b->present |= FK_FLOW_HAS_EXPORTER;
        assert_int_equal(fk_addr_parse(v4_pool[pick(8)], &b->exporter), 0);
    }
}

/* The flow a decoder makes of rec, as fk_filter_layout defines it. */
static void decode(const lay *y, const fk_flow *base, const uint8_t *rec, fk_flow *f)
{
    const fk_filter_layout *l = &y->l;
    *f = *base;
    if (l->src_addr.length) {
        memset(f->src.bytes, 0, sizeof f->src.bytes);
        f->src.family = l->src_addr.length == 4 ? 4 : 6;
        memcpy(f->src.bytes, rec + l->src_addr.offset, l->src_addr.length);
    }
    if (l->dst_addr.length) {
        memset(f->dst.bytes, 0, sizeof f->dst.bytes);
        f->dst.family = l->dst_addr.length == 4 ? 4 : 6;
        memcpy(f->dst.bytes, rec + l->dst_addr.offset, l->dst_addr.length);
    }
#define NUM(field, member, type, mask)                                                             \
    if (l->field.length)                                                                           \
        f->member = (type)(get_be(rec + l->field.offset, l->field.length) & (mask));
    NUM(src_port, src_port, uint16_t, 0xffff)
    NUM(dst_port, dst_port, uint16_t, 0xffff)
    NUM(proto, proto, uint8_t, 0xff)
    NUM(tos, tos, uint8_t, 0xff)
    NUM(tcp_flags, tcp_flags, uint8_t, 0xff)
    NUM(vlan, vlan, uint16_t, 0x0fff)
    NUM(in_if, in_if, uint32_t, 0xffffffffu)
    NUM(out_if, out_if, uint32_t, 0xffffffffu)
    NUM(bytes, bytes, uint64_t, UINT64_MAX)
    NUM(packets, packets, uint64_t, UINT64_MAX)
#undef NUM
    if (l->start.length)
        f->start_ns = time_of(rec + l->start.offset, l->start.length, l->start_time);
    if (l->end.length)
        f->end_ns = time_of(rec + l->end.offset, l->end.length, l->end_time);
    if (l->icmp_type_code.length) {
        uint16_t dp = l->dst_port.length ? f->dst_port : 0;
        if (f->src_port == 0 && dp == 0)
            dp = (uint16_t)get_be(rec + l->icmp_type_code.offset, l->icmp_type_code.length);
        f->dst_port = dp;
    }
}

/* ---- random filters ------------------------------------------------------ */

static const char *cmp_text(void)
{
    static const char *const c[] = {"", "= ", "> ", "< ", ">= ", "<= ", "eq ", "gt ", "lt "};
    return c[pick(9)];
}

static void addr_text(char *out, size_t cap, bool with_prefix)
{
    bool v6 = pick(2);
    const char *a = v6 ? v6_pool[pick(8)] : v4_pool[pick(8)];
    if (with_prefix)
        snprintf(out, cap, "%s/%u", a, pick(v6 ? 129 : 33));
    else
        snprintf(out, cap, "%s", a);
}

static void primitive(char *out, size_t cap)
{
    static const char *const dirs[] = {"", "src ", "dst "};
    char a[80], b[80];
    uint64_t n = num_pool[pick(sizeof num_pool / sizeof num_pool[0])];
    switch (pick(18)) {
    case 17:
        snprintf(out, cap, "duration %s%u", cmp_text(), pick(2) ? pick(6000) : (unsigned)n);
        break;
    case 0:
        snprintf(out, cap, "%s", pick(2) ? "ipv4" : "ipv6");
        break;
    case 1: {
        static const char *const p[] = {"tcp", "udp", "icmp", "icmp6", "58", "0", "47"};
        snprintf(out, cap, "proto %s", p[pick(7)]);
        break;
    }
    case 2:
        addr_text(a, sizeof a, true);
        snprintf(out, cap, "%snet %s", dirs[pick(3)], a);
        break;
    case 3:
        addr_text(a, sizeof a, false);
        snprintf(out, cap, "%s%s %s", dirs[pick(3)], pick(2) ? "ip" : "host", a);
        break;
    case 4:
        addr_text(a, sizeof a, pick(2));
        addr_text(b, sizeof b, pick(2));
        snprintf(out, cap, "%sip in [%s %s]", dirs[pick(3)], a, b);
        break;
    case 5:
        snprintf(out, cap, "%sport %s%llu", dirs[pick(3)], cmp_text(),
                 (unsigned long long)(n > 65535 ? 65535 : n));
        break;
    case 6:
        snprintf(out, cap, "%sport in [%u %u 0 65535]", dirs[pick(3)], pick(3) << 8 | pick(3),
                 (unsigned)num_pool[pick(11)]);
        break;
    case 7:
        snprintf(out, cap, "%s %s%llu", pick(2) ? "bytes" : "packets", cmp_text(),
                 (unsigned long long)n);
        break;
    case 8:
        snprintf(out, cap, "out %s %s%llu", pick(2) ? "bytes" : "packets", cmp_text(),
                 (unsigned long long)n);
        break;
    case 9:
        snprintf(out, cap, "tos %u", pick(3));
        break;
    case 10:
        snprintf(out, cap, "vlan %u", pick(2) ? pick(8) : 4095);
        break;
    case 11: {
        static const char *const w[] = {"in if", "out if", "if"};
        snprintf(out, cap, "%s %u", w[pick(3)], pick(4));
        break;
    }
    case 12:
        snprintf(out, cap, "icmp-%s %u", pick(2) ? "type" : "code", pick(3));
        break;
    case 13: {
        static const char *const fl[] = {"S", "A", "AS", "F", "R", "X", "U"};
        snprintf(out, cap, "%sflags %s", pick(2) ? "not " : "", fl[pick(7)]);
        break;
    }
    case 14:
        snprintf(out, cap, "router ip %s", v4_pool[pick(8)]);
        break;
    case 15:
        snprintf(out, cap, "any");
        break;
    default:
        addr_text(a, sizeof a, true);
        snprintf(out, cap, "not %snet %s", dirs[pick(3)], a);
        break;
    }
}

static void expr(char *out, size_t cap, unsigned depth)
{
    if (depth >= 3 || pick(3) == 0) {
        primitive(out, cap);
        return;
    }
    char l[600], r[600];
    expr(l, sizeof l, depth + 1);
    expr(r, sizeof r, depth + 1);
    int n;
    switch (pick(4)) {
    case 0:
        n = snprintf(out, cap, "%s and %s", l, r);
        break;
    case 1:
        n = snprintf(out, cap, "%s or %s", l, r);
        break;
    case 2:
        n = snprintf(out, cap, "not (%s) or %s", l, r);
        break;
    default:
        n = snprintf(out, cap, "(%s or %s) and not %s", l, r, l);
        break;
    }
    /* a cut expression would test another filter than the one built */
    if (n < 0 || (size_t)n >= cap)
        fail_msg("generated filter longer than %zu bytes", cap);
}

static fk_filter *compile(const char *text)
{
    fk_filter *f = NULL;
    if (fk_filter_compile(text, &f, NULL) != 0)
        fail_msg("\"%s\" does not compile: %s", text, fk_error_last()->message);
    return f;
}

/* The raw form against the flow form on n records; the counts of matches. */
static unsigned check(const char *text, fk_filter *f, const lay *y, const fk_flow *base, unsigned n)
{
    fk_filter_raw *r = NULL;
    int rc = fk_filter_raw_compile(f, &y->l, base, &r);
    if (rc != 0)
        fail_msg("\"%s\": raw compile: %s", text, fk_error_last()->message);
    unsigned hits = 0;
    uint8_t rec[256];
    for (unsigned i = 0; i < n; i++) {
        random_record(y, rec);
        fk_flow fl;
        decode(y, base, rec, &fl);
        int want = fk_filter_match(f, &fl), got = fk_filter_raw_match(r, rec);
        if (want != got)
            fail_msg("\"%s\": record %u: raw %d, flow %d (reclen %u, fam %u)", text, i, got, want,
                     y->reclen, y->fam);
        if (fk_filter_raw_get_const(r) >= 0 && fk_filter_raw_get_const(r) != got)
            fail_msg("\"%s\": constant %d but the record gives %d", text,
                     fk_filter_raw_get_const(r), got);
        hits += (unsigned)got;
    }
    fk_filter_raw_destroy(r);
    return hits;
}

static void random_equality(void **state)
{
    (void)state;
    unsigned matched = 0, total = 0, constant = 0;
    char text[2048];
    for (unsigned k = 0; k < 3000; k++) {
        expr(text, sizeof text, 0);
        fk_filter *f = compile(text);
        for (unsigned j = 0; j < 4; j++) {
            lay y;
            fk_flow base;
            random_layout(&y);
            random_base(&base);
            fk_filter_raw *r = NULL;
            assert_int_equal(fk_filter_raw_compile(f, &y.l, &base, &r), 0);
            constant += fk_filter_raw_get_const(r) >= 0;
            fk_filter_raw_destroy(r);
            matched += check(text, f, &y, &base, 40);
            total += 40;
        }
        fk_filter_destroy(f);
    }
    print_message("matched %u of %u, %u of 12000 constant\n", matched, total, constant);
    /* the test must see both answers, and records deciding them */
    assert_true(matched > total / 20);
    assert_true(matched < total - total / 20);
    assert_true(constant < 3000 * 4 * 3 / 4); /* about half fold to a constant */
}

/* A layout of one address pair of the family and every number. */
static void full_layout(lay *y, uint8_t fam)
{
    memset(y, 0, sizeof *y);
    unsigned alen = fam == 4 ? 4 : 16, off = 0;
    y->fam = fam;
    y->l.src_addr = (fk_filter_field){(uint16_t)off, (uint16_t)alen}, off += alen;
    y->l.dst_addr = (fk_filter_field){(uint16_t)off, (uint16_t)alen}, off += alen;
    y->l.src_port = (fk_filter_field){(uint16_t)off, 2}, off += 2;
    y->l.dst_port = (fk_filter_field){(uint16_t)off, 2}, off += 2;
    y->l.proto = (fk_filter_field){(uint16_t)off, 1}, off += 1;
    y->l.bytes = (fk_filter_field){(uint16_t)off, 8}, off += 8;
    y->reclen = off;
}

/* Every prefix length: the address itself, a bit flipped just inside the
 * prefix (no match but /0) and just outside it (a match but /128, /32). */
static void prefixes(void **state)
{
    (void)state;
    for (int fam = 4; fam <= 6; fam += 2) {
        lay y;
        full_layout(&y, (uint8_t)fam);
        unsigned bits = fam == 4 ? 32 : 128;
        fk_flow base;
        memset(&base, 0, sizeof base);
        for (unsigned len = 0; len <= bits; len++) {
            uint8_t a[16];
            for (unsigned i = 0; i < 16; i++)
                a[i] = (uint8_t)rnd();
            char at[64], text[128];
            inet_ntop(fam == 4 ? AF_INET : AF_INET6, a, at, sizeof at);
            snprintf(text, sizeof text, "src net %s/%u", at, len);
            fk_filter *f = compile(text);
            fk_filter_raw *r = NULL;
            assert_int_equal(fk_filter_raw_compile(f, &y.l, &base, &r), 0);
            assert_int_equal(fk_filter_raw_get_const(r), len == 0 ? 1 : -1);
            uint8_t rec[64];
            memset(rec, 0, sizeof rec);
            for (int flip = -1; flip <= 1; flip++) {
                memcpy(rec, a, bits / 8);
                int bit = flip < 0 ? -1 : flip == 0 ? (int)len - 1 : (int)len;
                if (bit >= 0 && bit < (int)bits)
                    rec[bit / 8] ^= (uint8_t)(0x80u >> (bit % 8));
                bool want = bit < 0 || bit >= (int)len;
                fk_flow fl;
                decode(&y, &base, rec, &fl);
                assert_int_equal(fk_filter_match(f, &fl), want);
                if (fk_filter_raw_match(r, rec) != want)
                    fail_msg("%s: bit %d flipped: raw %d", text, bit, !want);
            }
            fk_filter_raw_destroy(r);
            /* the other family's records never match, /0 included */
            lay other;
            full_layout(&other, fam == 4 ? 6 : 4);
            assert_int_equal(fk_filter_raw_compile(f, &other.l, &base, &r), 0);
            assert_int_equal(fk_filter_raw_get_const(r), 0);
            fk_filter_raw_destroy(r);
            fk_filter_destroy(f);
        }
    }
}

static void ports_and_negations(void **state)
{
    (void)state;
    lay y;
    full_layout(&y, 4);
    fk_flow base;
    memset(&base, 0, sizeof base);
    static const char *const exprs[] = {
        "port 0",
        "dst port 65535",
        "src port > 0 and src port < 65535",
        "port >= 65535 or port <= 0",
        "not port in [0 65535]",
        "not (not (dst port in [80 443]) or not src port < 1024)",
        "not any",
        "not (ipv4 or ipv6)",
        "src net 0.0.0.0/0 and not dst net ::/0",
        "ipv6 or (ipv4 and not net 10.0.0.0/8)",
    };
    static const uint16_t ports[] = {0, 1, 80, 443, 1023, 1024, 65534, 65535};
    for (size_t e = 0; e < sizeof exprs / sizeof exprs[0]; e++) {
        fk_filter *f = compile(exprs[e]);
        fk_filter_raw *r = NULL;
        assert_int_equal(fk_filter_raw_compile(f, &y.l, &base, &r), 0);
        uint8_t rec[64];
        for (unsigned i = 0; i < 8; i++)
            for (unsigned j = 0; j < 8; j++) {
                memset(rec, 0, sizeof rec);
                assert_int_equal(inet_pton(AF_INET, i % 2 ? "10.0.0.1" : "192.0.2.1", rec), 1);
                put_be(rec + y.l.src_port.offset, 2, ports[i]);
                put_be(rec + y.l.dst_port.offset, 2, ports[j]);
                fk_flow fl;
                decode(&y, &base, rec, &fl);
                if (fk_filter_raw_match(r, rec) != fk_filter_match(f, &fl))
                    fail_msg("\"%s\": ports %u %u", exprs[e], ports[i], ports[j]);
            }
        fk_filter_raw_destroy(r);
        fk_filter_destroy(f);
    }
}

/* ICMP: with no ports in the record, the type and code are the
 * destination port; with ports, only when both are 0. */
static void icmp_type_code(void **state)
{
    (void)state;
    lay y;
    memset(&y, 0, sizeof y);
    y.l.proto = (fk_filter_field){0, 1};
    y.l.icmp_type_code = (fk_filter_field){1, 2};
    y.reclen = 3;
    fk_flow base;
    memset(&base, 0, sizeof base);
    fk_filter *f = compile("icmp-type 8 and icmp-code 0 and dst port 2048");
    fk_filter_raw *r = NULL;
    assert_int_equal(fk_filter_raw_compile(f, &y.l, &base, &r), 0);
    uint8_t rec[3] = {1, 8, 0};
    assert_int_equal(fk_filter_raw_match(r, rec), 1);
    rec[0] = 58;
    assert_int_equal(fk_filter_raw_match(r, rec), 1);
    rec[0] = 6;
    assert_int_equal(fk_filter_raw_match(r, rec), 0);
    fk_filter_raw_destroy(r);
    base.src_port = 7; /* a source port in the base: the type and code stay out */
    assert_int_equal(fk_filter_raw_compile(f, &y.l, &base, &r), 0);
    rec[0] = 1;
    assert_int_equal(fk_filter_raw_match(r, rec), 0);
    fk_filter_raw_destroy(r);
    fk_filter_destroy(f);
}

static void errors(void **state)
{
    (void)state;
    fk_filter *f = compile("proto tcp or duration > 1000");
    lay y;
    full_layout(&y, 6);
    fk_flow base;
    memset(&base, 0, sizeof base);
    fk_filter_raw *r = (fk_filter_raw *)&base;
    lay bad = y; /* a time of a length its form cannot have, a form out of range */
    bad.l.start.length = 8;
    bad.l.start_time = FK_FILTER_TIME_SECONDS;
    assert_int_equal(fk_filter_raw_compile(f, &bad.l, &base, &r), FK_EINVAL);
    assert_null(r);
    bad.l.start.length = 0;
    bad.l.end_time = FK_FILTER_TIME_NANOSECONDS + 1;
    assert_int_equal(fk_filter_raw_compile(f, &bad.l, &base, &r), FK_EINVAL);
    fk_filter_destroy(f);
    f = compile("proto tcp");
    assert_int_equal(fk_filter_raw_compile(NULL, &y.l, &base, &r), FK_EINVAL);
    assert_int_equal(fk_filter_raw_compile(f, NULL, &base, &r), FK_EINVAL);
    assert_int_equal(fk_filter_raw_compile(f, &y.l, NULL, &r), FK_EINVAL);
    assert_int_equal(fk_filter_raw_compile(f, &y.l, &base, NULL), FK_EINVAL);
    bad = y;
    bad.l.src_addr.length = 8;
    assert_int_equal(fk_filter_raw_compile(f, &bad.l, &base, &r), FK_EINVAL);
    bad = y;
    bad.l.dst_addr.length = 4; /* families of the two sides differ */
    assert_int_equal(fk_filter_raw_compile(f, &bad.l, &base, &r), FK_EINVAL);
    bad = y;
    bad.l.proto.length = 2;
    assert_int_equal(fk_filter_raw_compile(f, &bad.l, &base, &r), FK_EINVAL);
    bad = y;
    bad.l.bytes.length = 9;
    assert_int_equal(fk_filter_raw_compile(f, &bad.l, &base, &r), FK_EINVAL);
    assert_int_equal(fk_filter_raw_match(NULL, (const uint8_t *)"x"), 0);
    assert_int_equal(fk_filter_raw_get_const(NULL), -1);
    fk_filter_raw_destroy(NULL);
    /* an empty filter is constant true */
    fk_filter_destroy(f);
    f = compile("");
    assert_int_equal(fk_filter_raw_compile(f, &y.l, &base, &r), 0);
    assert_int_equal(fk_filter_raw_get_const(r), 1);
    fk_filter_raw_destroy(r);
    fk_filter_destroy(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(random_equality),
                                       cmocka_unit_test(prefixes),
                                       cmocka_unit_test(ports_and_negations),
                                       cmocka_unit_test(icmp_type_code), cmocka_unit_test(errors)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
