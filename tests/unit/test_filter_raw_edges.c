/* Filters compiled for raw records (fk_filter_raw_compile) at the hard
 * end, cases built by hand: every IPv4 and IPv6 prefix length with the
 * bits on either side of the prefix flipped, /0, the other family's
 * records; ports at 0 and 65535, ranges and negations; the ICMP type and
 * code standing in for the destination port. fk_filter_raw_match() must
 * give what fk_filter_match() gives on the decoded flow (random input is
 * test_filter_raw_random's). */
#include <arpa/inet.h>
#include <flowkit/flowkit.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "filter_raw_fixture.h"

/* Every prefix length: the address itself, a bit flipped just inside the
 * prefix (no match but /0) and just outside it (a match but /128, /32). */
static void prefixes(void **state)
{
    (void)state;
    rng g = {RNG_SEED};
    for (int fam = 4; fam <= 6; fam += 2) {
        lay y;
        full_layout(&y, (uint8_t)fam);
        unsigned bits = fam == 4 ? 32 : 128;
        fk_flow base;
        memset(&base, 0, sizeof base);
        for (unsigned len = 0; len <= bits; len++) {
            uint8_t a[16];
            for (unsigned i = 0; i < 16; i++)
                a[i] = (uint8_t)rnd(&g);
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

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(prefixes),
                                       cmocka_unit_test(ports_and_negations),
                                       cmocka_unit_test(icmp_type_code)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
