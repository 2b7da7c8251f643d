/* Filters compiled for raw records (fk_filter_raw_compile) against the
 * filters they come from, on random input: on every record of a layout,
 * fk_filter_raw_match() must give what fk_filter_match() gives on the flow
 * decoded from that record. Random layouts (both families, one side or no
 * address, reduced sizes, the ICMP type and code standing in for ports,
 * times of every form), random records and bases, and random filters (and,
 * or, not, every primitive). The hard end by hand is in
 * test_filter_raw_edges, wrong layouts and arguments in
 * test_filter_raw_errors. */
#include <arpa/inet.h>
#include <flowkit/flowkit.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "filter_raw_fixture.h"

/* ---- pools ------------------------------------------------------------- */

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

/* ---- layouts, records, bases -------------------------------------------- */

static void place(rng *g, fk_filter_field *f, unsigned *off, unsigned len)
{
    *off += pick(g, 3); /* unread octets between fields */
    f->offset = (uint16_t)*off;
    f->length = (uint16_t)len;
    *off += len;
}

static unsigned width(rng *g, unsigned lo, unsigned hi)
{
    static const unsigned common[] = {1, 2, 4, 8};
    for (int tries = 0; tries < 8; tries++) {
        unsigned w = pick(g, 3) == 0 ? lo + pick(g, hi - lo + 1) : common[pick(g, 4)];
        if (w >= lo && w <= hi)
            return w;
    }
    return hi;
}

static void random_layout(rng *g, lay *y)
{
    memset(y, 0, sizeof *y);
    unsigned off = 0;
    y->fam = pick(g, 2) ? 4 : 6;
    unsigned alen = y->fam == 4 ? 4 : 16;
    if (pick(g, 6))
        place(g, &y->l.src_addr, &off, alen);
    if (pick(g, 6))
        place(g, &y->l.dst_addr, &off, alen);
    if (pick(g, 4))
        place(g, &y->l.src_port, &off, width(g, 1, 2));
    if (pick(g, 4))
        place(g, &y->l.dst_port, &off, width(g, 1, 2));
    if (pick(g, 3) == 0)
        place(g, &y->l.icmp_type_code, &off, width(g, 1, 2));
    if (pick(g, 5))
        place(g, &y->l.proto, &off, 1);
    if (pick(g, 2))
        place(g, &y->l.tos, &off, 1);
    if (pick(g, 2))
        place(g, &y->l.tcp_flags, &off, width(g, 1, 2));
    if (pick(g, 2))
        place(g, &y->l.vlan, &off, width(g, 1, 2));
    if (pick(g, 2))
        place(g, &y->l.in_if, &off, width(g, 1, 4));
    if (pick(g, 2))
        place(g, &y->l.out_if, &off, width(g, 1, 4));
    if (pick(g, 4))
        place(g, &y->l.bytes, &off, width(g, 1, 8));
    if (pick(g, 4))
        place(g, &y->l.packets, &off, width(g, 1, 8));
    y->l.start_time = (uint8_t)pick(g, 4);
    y->l.end_time = (uint8_t)pick(g, 4);
    if (pick(g, 3))
        place(g, &y->l.start, &off, y->l.start_time == FK_FILTER_TIME_SECONDS ? 4 : 8);
    if (pick(g, 3))
        place(g, &y->l.end, &off, y->l.end_time == FK_FILTER_TIME_SECONDS ? 4 : 8);
    y->reclen = off + pick(g, 4);
}

static void put_addr(rng *g, uint8_t *p, uint8_t fam)
{
    uint8_t b[16];
    if (fam == 4)
        assert_int_equal(inet_pton(AF_INET, v4_pool[pick(g, 8)], b), 1);
    else
        assert_int_equal(inet_pton(AF_INET6, v6_pool[pick(g, 8)], b), 1);
    unsigned n = fam == 4 ? 4 : 16;
    if (pick(g, 3) == 0) /* a bit flipped somewhere: near, not in, the pool */
        b[pick(g, n)] ^= (uint8_t)(1u << pick(g, 8));
    memcpy(p, b, n);
}

static void put_num(rng *g, uint8_t *p, const fk_filter_field *f)
{
    if (!f->length)
        return;
    uint64_t v = pick(g, 4) == 0 ? rnd(g) : num_pool[pick(g, sizeof num_pool / sizeof num_pool[0])];
    if (pick(g, 3) == 0)
        v = (uint64_t)pick(g, 3) << 8 | pick(g, 3); /* ICMP type * 256 + code, small ports */
    put_be(p + f->offset, f->length, v);
}

/* A time of form around t0 (ms), or any octets (saturation, odd fractions). */
static void put_time(rng *g, uint8_t *rec, const fk_filter_field *f, uint8_t form, uint64_t t0)
{
    if (!f->length)
        return;
    uint64_t ms = t0 + pick(g, 6000), v;
    if (form == FK_FILTER_TIME_SECONDS)
        v = ms / 1000;
    else if (form == FK_FILTER_TIME_MILLISECONDS)
        v = ms;
    else /* NTP: seconds since 1900, a fraction of 2^32 */
        v = (ms / 1000 + 2208988800ull) << 32 | ((ms % 1000) << 32) / 1000 | pick(g, 4096);
    put_be(rec + f->offset, f->length, pick(g, 8) ? v : rnd(g));
}

static void random_record(rng *g, const lay *y, uint8_t *rec)
{
    for (unsigned i = 0; i < y->reclen; i++)
        rec[i] = (uint8_t)rnd(g);
    const fk_filter_layout *l = &y->l;
    if (l->src_addr.length)
        put_addr(g, rec + l->src_addr.offset, y->fam);
    if (l->dst_addr.length)
        put_addr(g, rec + l->dst_addr.offset, y->fam);
    put_num(g, rec, &l->src_port);
    put_num(g, rec, &l->dst_port);
    put_num(g, rec, &l->icmp_type_code);
    if (l->proto.length) {
        static const uint8_t protos[] = {1, 6, 17, 58, 0, 47};
        rec[l->proto.offset] = protos[pick(g, 6)];
    }
    put_num(g, rec, &l->tos);
    put_num(g, rec, &l->tcp_flags);
    put_num(g, rec, &l->vlan);
    put_num(g, rec, &l->in_if);
    put_num(g, rec, &l->out_if);
    put_num(g, rec, &l->bytes);
    put_num(g, rec, &l->packets);
    put_time(g, rec, &l->start, l->start_time, 1700000000000ull);
    put_time(g, rec, &l->end, l->end_time, 1700000003000ull);
}

static void random_base(rng *g, fk_flow *b)
{
    memset(b, 0, sizeof *b);
    if (pick(g, 2)) {
        b->src.family = pick(g, 2) ? 4 : 6;
        put_addr(g, b->src.bytes, b->src.family);
    }
    if (pick(g, 2)) {
        b->dst.family = pick(g, 2) ? 4 : 6;
        put_addr(g, b->dst.bytes, b->dst.family);
    }
    b->src_port = pick(g, 3) ? 0 : (uint16_t)num_pool[pick(g, 8)];
    b->dst_port = (uint16_t)num_pool[pick(g, 8)];
    b->proto = pick(g, 2) ? 6 : 1;
    b->tos = (uint8_t)pick(g, 3);
    b->tcp_flags = (uint8_t)rnd(g);
    b->vlan = (uint16_t)pick(g, 8);
    b->in_if = pick(g, 4);
    b->out_if = pick(g, 4);
    b->bytes = num_pool[pick(g, 18)];
    b->packets = num_pool[pick(g, 18)];
    b->rev_bytes = num_pool[pick(g, 18)];
    b->rev_packets = num_pool[pick(g, 18)];
    b->start_ns = (int64_t)(1700000000000ull + pick(g, 6000)) * 1000000;
    b->end_ns = b->start_ns + (int64_t)pick(g, 8000) * 1000000 - 2000000000;
    if (pick(g, 2)) {
        b->present |= FK_FLOW_HAS_EXPORTER;
        assert_int_equal(fk_addr_parse(v4_pool[pick(g, 8)], &b->exporter), 0);
    }
}

/* ---- random filters ------------------------------------------------------ */

static const char *cmp_text(rng *g)
{
    static const char *const c[] = {"", "= ", "> ", "< ", ">= ", "<= ", "eq ", "gt ", "lt "};
    return c[pick(g, 9)];
}

static void addr_text(rng *g, char *out, size_t cap, bool with_prefix)
{
    bool v6 = pick(g, 2);
    const char *a = v6 ? v6_pool[pick(g, 8)] : v4_pool[pick(g, 8)];
    if (with_prefix)
        snprintf(out, cap, "%s/%u", a, pick(g, v6 ? 129 : 33));
    else
        snprintf(out, cap, "%s", a);
}

static void primitive(rng *g, char *out, size_t cap)
{
    static const char *const dirs[] = {"", "src ", "dst "};
    char a[80], b[80];
    uint64_t n = num_pool[pick(g, sizeof num_pool / sizeof num_pool[0])];
    switch (pick(g, 18)) {
    case 17:
        snprintf(out, cap, "duration %s%u", cmp_text(g), pick(g, 2) ? pick(g, 6000) : (unsigned)n);
        break;
    case 0:
        snprintf(out, cap, "%s", pick(g, 2) ? "ipv4" : "ipv6");
        break;
    case 1: {
        static const char *const p[] = {"tcp", "udp", "icmp", "icmp6", "58", "0", "47"};
        snprintf(out, cap, "proto %s", p[pick(g, 7)]);
        break;
    }
    case 2:
        addr_text(g, a, sizeof a, true);
        snprintf(out, cap, "%snet %s", dirs[pick(g, 3)], a);
        break;
    case 3:
        addr_text(g, a, sizeof a, false);
        snprintf(out, cap, "%s%s %s", dirs[pick(g, 3)], pick(g, 2) ? "ip" : "host", a);
        break;
    case 4:
        addr_text(g, a, sizeof a, pick(g, 2));
        addr_text(g, b, sizeof b, pick(g, 2));
        snprintf(out, cap, "%sip in [%s %s]", dirs[pick(g, 3)], a, b);
        break;
    case 5:
        snprintf(out, cap, "%sport %s%llu", dirs[pick(g, 3)], cmp_text(g),
                 (unsigned long long)(n > 65535 ? 65535 : n));
        break;
    case 6:
        snprintf(out, cap, "%sport in [%u %u 0 65535]", dirs[pick(g, 3)],
                 pick(g, 3) << 8 | pick(g, 3), (unsigned)num_pool[pick(g, 11)]);
        break;
    case 7:
        snprintf(out, cap, "%s %s%llu", pick(g, 2) ? "bytes" : "packets", cmp_text(g),
                 (unsigned long long)n);
        break;
    case 8:
        snprintf(out, cap, "out %s %s%llu", pick(g, 2) ? "bytes" : "packets", cmp_text(g),
                 (unsigned long long)n);
        break;
    case 9:
        snprintf(out, cap, "tos %u", pick(g, 3));
        break;
    case 10:
        snprintf(out, cap, "vlan %u", pick(g, 2) ? pick(g, 8) : 4095);
        break;
    case 11: {
        static const char *const w[] = {"in if", "out if", "if"};
        snprintf(out, cap, "%s %u", w[pick(g, 3)], pick(g, 4));
        break;
    }
    case 12:
        snprintf(out, cap, "icmp-%s %u", pick(g, 2) ? "type" : "code", pick(g, 3));
        break;
    case 13: {
        static const char *const fl[] = {"S", "A", "AS", "F", "R", "X", "U"};
        snprintf(out, cap, "%sflags %s", pick(g, 2) ? "not " : "", fl[pick(g, 7)]);
        break;
    }
    case 14:
        snprintf(out, cap, "router ip %s", v4_pool[pick(g, 8)]);
        break;
    case 15:
        snprintf(out, cap, "any");
        break;
    default:
        addr_text(g, a, sizeof a, true);
        snprintf(out, cap, "not %snet %s", dirs[pick(g, 3)], a);
        break;
    }
}

static void expr(rng *g, char *out, size_t cap, unsigned depth)
{
    if (depth >= 3 || pick(g, 3) == 0) {
        primitive(g, out, cap);
        return;
    }
    char l[600], r[600];
    expr(g, l, sizeof l, depth + 1);
    expr(g, r, sizeof r, depth + 1);
    int n;
    switch (pick(g, 4)) {
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

/* The raw form against the flow form on n records; the counts of matches. */
static unsigned check(rng *g, const char *text, fk_filter *f, const lay *y, const fk_flow *base,
                      unsigned n)
{
    fk_filter_raw *r = NULL;
    int rc = fk_filter_raw_compile(f, &y->l, base, &r);
    if (rc != 0)
        fail_msg("\"%s\": raw compile: %s", text, fk_error_last()->message);
    unsigned hits = 0;
    uint8_t rec[256];
    for (unsigned i = 0; i < n; i++) {
        random_record(g, y, rec);
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
    rng g = {RNG_SEED};
    unsigned matched = 0, total = 0, constant = 0;
    char text[2048];
    for (unsigned k = 0; k < 3000; k++) {
        expr(&g, text, sizeof text, 0);
        fk_filter *f = compile(text);
        for (unsigned j = 0; j < 4; j++) {
            lay y;
            fk_flow base;
            random_layout(&g, &y);
            random_base(&g, &base);
            fk_filter_raw *r = NULL;
            assert_int_equal(fk_filter_raw_compile(f, &y.l, &base, &r), 0);
            constant += fk_filter_raw_get_const(r) >= 0;
            fk_filter_raw_destroy(r);
            matched += check(&g, text, f, &y, &base, 40);
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

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(random_equality)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
