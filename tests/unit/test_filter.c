/* Flow filters (flowkit/filter.h): every primitive on flows built here,
 * operator precedence, syntax errors with their positions, limits. */
#include <flowkit/flowkit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fk_test.h"

static fk_flow make_flow(const char *src, const char *dst, uint16_t sp, uint16_t dp, uint8_t proto,
                         uint64_t bytes, uint64_t packets)
{
    fk_flow f;
    memset(&f, 0, sizeof f);
    assert_int_equal(fk_addr_parse(src, &f.src), 0);
    assert_int_equal(fk_addr_parse(dst, &f.dst), 0);
    f.src_port = sp;
    f.dst_port = dp;
    f.proto = proto;
    f.bytes = bytes;
    f.packets = packets;
    f.start_ns = 1700000000000000000;
    f.end_ns = f.start_ns + 1500 * 1000000ll; /* 1.5 s */
    return f;
}

/* 1 match, 0 no match; fails the test when the filter does not compile. */
static int run(const char *expr, const fk_flow *f)
{
    fk_filter *flt = NULL;
    size_t at = 0;
    int rc = fk_filter_compile(expr, &flt, &at);
    if (rc != 0)
        fail_msg("\"%s\" does not compile: %s", expr, fk_error_last()->message);
    int m = fk_filter_match(flt, f);
    fk_filter_destroy(flt);
    return m;
}

typedef struct {
    const char *expr;
    int tcp4, udp6, icmp4;
} row;

static void primitives(void **state)
{
    (void)state;
    fk_flow tcp4 = make_flow("10.1.2.3", "192.0.2.80", 40000, 443, 6, 1500, 10);
    tcp4.tcp_flags = 0x12; /* SYN ACK */
    tcp4.tos = 32;
    tcp4.vlan = 7;
    tcp4.in_if = 3;
    tcp4.out_if = 9;
    tcp4.present |= FK_FLOW_HAS_IFACES | FK_FLOW_HAS_REVERSE | FK_FLOW_HAS_EXPORTER;
    tcp4.rev_bytes = 64000;
    tcp4.rev_packets = 50;
    assert_int_equal(fk_addr_parse("127.0.0.9", &tcp4.exporter), 0);
    fk_flow udp6 = make_flow("2001:db8::1", "2001:db8:1::53", 5353, 53, 17, 999, 1);
    fk_flow icmp4 = make_flow("172.16.5.5", "10.9.9.9", 0, 8 * 256 + 0, 1, 84, 1);
    static const row rows[] = {
        {"", 1, 1, 1},
        {"any", 1, 1, 1},
        {"ipv4", 1, 0, 1},
        {"inet6", 0, 1, 0},
        {"proto tcp", 1, 0, 0},
        {"proto 17", 0, 1, 0},
        {"PROTO ICMP", 0, 0, 1},
        {"src ip 10.1.2.3", 1, 0, 0},
        {"dst host 10.1.2.3", 0, 0, 0},
        {"host 10.9.9.9", 0, 0, 1},
        {"ip 2001:db8:1::53", 0, 1, 0},
        {"src net 10.0.0.0/8", 1, 0, 0},
        {"net 10/8", 1, 0, 1},
        {"net 172.16/12", 0, 0, 1},
        {"dst net 192.0.2.0 255.255.255.0", 1, 0, 0},
        {"net 2001:db8::/32", 0, 1, 0},
        {"dst net 2001:db8::/48", 0, 0, 0},
        {"src net 2001:db8::/48", 0, 1, 0},
        {"ip in [192.0.2.80 2001:db8::1]", 1, 1, 0},
        {"src ip in [10.0.0.0/8, 172.16.0.0/12]", 1, 0, 1},
        {"port 53", 0, 1, 0},
        {"src port 53", 0, 0, 0},
        {"dst port > 400", 1, 0, 1},
        {"port >= 40000", 1, 0, 0},
        {"port lt 1", 0, 0, 1},
        {"port in [ 80 443 ]", 1, 0, 0},
        {"dst port in [53,443]", 1, 1, 0},
        {"bytes > 1k", 1, 0, 0},
        {"bytes < 1000", 0, 1, 1},
        {"bytes = 999", 0, 1, 0},
        {"packets >= 10", 1, 0, 0},
        {"in packets 1", 0, 1, 1},
        {"out bytes > 60k", 1, 0, 0},
        {"out packets = 0", 0, 1, 1},
        {"flags S", 1, 0, 0},
        {"flags SA", 1, 0, 0},
        {"flags F", 0, 0, 0},
        {"not flags FR", 1, 1, 1},
        {"not flags SF", 0, 1, 1},
        {"not (flags SF)", 0, 1, 1},
        {"tos 32", 1, 0, 0},
        {"vlan 7", 1, 0, 0},
        {"in if 3", 1, 0, 0},
        {"out if 3", 0, 0, 0},
        {"if 9", 1, 0, 0},
        {"icmp-type 8", 0, 0, 1},
        {"icmp-code 0", 0, 0, 1},
        {"duration > 1000", 1, 1, 1},
        {"duration < 1500", 0, 0, 0},
        {"router ip 127.0.0.9", 1, 0, 0},
        {"not proto tcp", 0, 1, 1},
        {"! ipv4", 0, 1, 0},
        {"proto tcp or proto udp and port 53", 1, 1, 0},
        {"(proto tcp or proto udp) and port 53", 0, 1, 0},
        {"not proto tcp and not proto udp", 0, 0, 1},
        {"not (proto tcp or proto udp)", 0, 0, 1},
        {"proto tcp && dst port 443 || ipv6", 1, 1, 0},
        {"src net 10.0.0.0/8 and dst port in [80 443] # web\n or icmp-type 8", 1, 0, 1},
        {"bytes > 1M", 0, 0, 0},
        {"bytes >= 1G or bytes <= 84", 0, 0, 1},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        const row *r = &rows[i];
        if (run(r->expr, &tcp4) != r->tcp4 || run(r->expr, &udp6) != r->udp6 ||
            run(r->expr, &icmp4) != r->icmp4)
            fail_msg("\"%s\": tcp4/udp6/icmp4 = %d/%d/%d, expected %d/%d/%d", r->expr,
                     run(r->expr, &tcp4), run(r->expr, &udp6), run(r->expr, &icmp4), r->tcp4,
                     r->udp6, r->icmp4);
    }
}

static void syntax_errors(void **state)
{
    (void)state;
    static const struct {
        const char *expr;
        size_t at;
        const char *says;
    } bad[] = {
        {"port http", 5, "position 6: expected a port number"},
        {"src port 70000", 9, "port number 0-65535"},
        {"proto tcp and", 13, "got the end of the filter"},
        {"proto tcp proto udp", 10, "expected 'and', 'or' or the end"},
        {"(proto tcp", 10, "expected ')'"},
        {"proto tcp)", 9, "unbalanced ')'"},
        {"host 10.0.0.256", 5, "IPv4 or IPv6 address"},
        {"net 10.0.0.0/33", 4, "expected a network"},
        {"net 10.0.0.0 255.0.255.0", 13, "netmask"},
        {"src bytes > 1", 4, "after src/dst"},
        {"bytes > 1x", 8, "byte count"},
        {"bytes > 99999999999999999999", 8, "byte count"},
        {"flags SZ", 7, "TCP flags"},
        {"as 64512", 0, "AS numbers"},
        {"port in []", 9, "empty port list"},
        {"ip in [10.0.0.1", 15, "expected an address or network"},
        {"foo", 0, "unknown filter primitive"},
        {"proto tcp & port 1", 10, "expected 'and', 'or'"},
        {"proto nosuch", 6, "protocol name"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        fk_filter *f = (fk_filter *)1;
        size_t at = 12345;
        int rc = fk_filter_compile(bad[i].expr, &f, &at);
        if (rc != FK_EFILTER)
            fail_msg("\"%s\" compiled (rc %d)", bad[i].expr, rc);
        assert_null(f);
        if (at != bad[i].at || !strstr(fk_error_last()->message, bad[i].says))
            fail_msg("\"%s\": offset %zu, message \"%s\"; expected %zu and \"%s\"", bad[i].expr, at,
                     fk_error_last()->message, bad[i].at, bad[i].says);
    }
    /* The offset pointer may be NULL. */
    fk_filter *f = NULL;
    assert_int_equal(fk_filter_compile("port", &f, NULL), FK_EFILTER);
    assert_int_equal(fk_filter_compile(NULL, &f, NULL), FK_EINVAL);
    assert_int_equal(fk_filter_compile("any", NULL, NULL), FK_EINVAL);
}

static void limits(void **state)
{
    (void)state;
    fk_flow f = make_flow("10.0.0.1", "10.0.0.2", 1, 2, 6, 1, 1);
    /* Deep nesting is refused, not a stack overflow. */
    char deep[1024] = "";
    for (int i = 0; i < 200; i++)
        strcat(deep, "(");
    fk_filter *flt = NULL;
    assert_int_equal(fk_filter_compile(deep, &flt, NULL), FK_EFILTER);
    assert_non_null(strstr(fk_error_last()->message, "nested too deeply"));
    char nots[1024] = "";
    for (int i = 0; i < 200; i++)
        strcat(nots, "not ");
    strcat(nots, "any");
    assert_int_equal(fk_filter_compile(nots, &flt, NULL), FK_EFILTER);
    /* 64 levels are fine: an even count of nots is the identity. */
    char ok[1024] = "";
    for (int i = 0; i < 64; i++)
        strcat(ok, "not ");
    strcat(ok, "proto tcp");
    assert_int_equal(run(ok, &f), 1);
    /* A long flat chain is one n-ary node. */
    size_t n = 20000;
    char *chain = malloc(n * 16 + 16);
    assert_non_null(chain);
    chain[0] = '\0';
    char *w = chain;
    for (size_t i = 0; i < n; i++)
        w += sprintf(w, "%sport %zu", i ? " or " : "", 1000 + i % 60000);
    w += sprintf(w, " or port 2");
    assert_int_equal(run(chain, &f), 1);
    free(chain);
    /* NULL in, no match out. */
    assert_int_equal(fk_filter_match(NULL, &f), 0);
    fk_filter_destroy(NULL);
}

static unsigned fields_of(const char *expr)
{
    fk_filter *flt = NULL;
    size_t at = 0;
    if (fk_filter_compile(expr, &flt, &at) != 0)
        fail_msg("\"%s\" does not compile: %s", expr, fk_error_last()->message);
    unsigned m = fk_filter_get_fields(flt);
    fk_filter_destroy(flt);
    return m;
}

/* Change every member of f outside mask (the ones a filter says it does
 * not read) to another value. */
static void scramble(fk_flow *f, unsigned mask, unsigned round)
{
    if (!(mask & FK_FILTER_READS_ADDRS)) {
        f->src.family = (uint8_t)(round & 1 ? 6 : 4);
        f->dst.family = f->src.family;
        memset(f->src.bytes, (int)(round * 37), sizeof f->src.bytes);
        memset(f->dst.bytes, (int)(round * 91), sizeof f->dst.bytes);
    }
    if (!(mask & FK_FILTER_READS_PORTS)) {
        f->src_port = (uint16_t)(round * 4099);
        f->dst_port = (uint16_t)(round * 2053);
    }
    if (!(mask & FK_FILTER_READS_PROTO))
        f->proto = (uint8_t)(round % 3 == 0 ? 6 : round % 3 == 1 ? 17 : 1);
    if (!(mask & FK_FILTER_READS_BYTES))
        f->bytes = round * 1000003ull;
    if (!(mask & FK_FILTER_READS_PACKETS))
        f->packets = round * 7919ull;
    if (!(mask & FK_FILTER_READS_REVERSE)) {
        f->rev_bytes = round * 999ull;
        f->rev_packets = round * 13ull;
    }
    if (!(mask & FK_FILTER_READS_TOS))
        f->tos = (uint8_t)(round * 8);
    if (!(mask & FK_FILTER_READS_VLAN))
        f->vlan = (uint16_t)(round * 17 % 4096);
    if (!(mask & FK_FILTER_READS_IFACES)) {
        f->in_if = round % 5;
        f->out_if = round % 7;
    }
    if (!(mask & FK_FILTER_READS_TIMES))
        f->end_ns = f->start_ns + (int64_t)round * 333000000ll;
    if (!(mask & FK_FILTER_READS_TCP_FLAGS))
        f->tcp_flags = (uint8_t)(round * 5);
    if (!(mask & FK_FILTER_READS_EXPORTER)) {
        f->present ^= FK_FLOW_HAS_EXPORTER;
        f->exporter.family = 4;
        memset(f->exporter.bytes, (int)round, 4);
    }
}

/* fk_filter_get_fields: the bits of each primitive, and the contract: a
 * flow changed only outside the bits matches as before. */
static void fields(void **state)
{
    (void)state;
    assert_int_equal(fields_of("any"), 0);
    assert_int_equal(fields_of("not any"), 0);
    assert_int_equal(fields_of("proto tcp"), FK_FILTER_READS_PROTO);
    assert_int_equal(fields_of("src net 10.0.0.0/8 and dst port in [80 443]"),
                     FK_FILTER_READS_ADDRS | FK_FILTER_READS_PORTS);
    assert_int_equal(fields_of("inet6"), FK_FILTER_READS_ADDRS);
    assert_int_equal(fields_of("icmp-type 8"), FK_FILTER_READS_PORTS | FK_FILTER_READS_PROTO);
    assert_int_equal(fields_of("bytes > 1k or packets < 5"),
                     FK_FILTER_READS_BYTES | FK_FILTER_READS_PACKETS);
    assert_int_equal(fields_of("duration > 1000"), FK_FILTER_READS_TIMES);
    assert_int_equal(fields_of("not flags S"), FK_FILTER_READS_TCP_FLAGS);
    assert_int_equal(fields_of("router ip 192.0.2.1"), FK_FILTER_READS_EXPORTER);
    assert_int_equal(fields_of("in if 3 or tos 4 or vlan 7"),
                     FK_FILTER_READS_IFACES | FK_FILTER_READS_TOS | FK_FILTER_READS_VLAN);
    assert_int_equal(fk_filter_get_fields(NULL), 0);
    /* A duration beyond INT64_MAX ns (a saturated end, a start before 1970,
     * as records can carry): no overflow, and longer than any bound. */
    fk_flow far = make_flow("10.0.0.1", "10.0.0.2", 80, 443, 6, 1500, 3);
    far.start_ns = -2208988800000000000ll;
    far.end_ns = INT64_MAX;
    assert_int_equal(run("duration > 1000", &far), 1);
    assert_int_equal(run("duration < 1000", &far), 0);
    static const char *const exprs[] = {
        "any",
        "not any",
        "proto tcp and dst port 443",
        "net 10.0.0.0/8 or icmp-type 8",
        "(host 10.0.0.1 or host 10.0.0.2) and not (bytes < 1k or packets > 5000)",
        "flags S and not flags AFRPU",
        "router ip 10.0.0.1",
        "duration > 1000 and tos 0",
        "in if 2 or out if 3 or vlan 5",
        "inet6 and port > 1024",
        "src port 80 or proto udp"};
    for (size_t e = 0; e < sizeof exprs / sizeof exprs[0]; e++) {
        fk_filter *flt = NULL;
        size_t at = 0;
        assert_int_equal(fk_filter_compile(exprs[e], &flt, &at), 0);
        unsigned mask = fk_filter_get_fields(flt);
        for (unsigned base = 0; base < 64; base++) {
            fk_flow f = make_flow("10.0.0.1", "10.0.0.2", 80, 443, 6, 1500, 3);
            scramble(&f, 0, base); /* a different flow each time */
            int want = fk_filter_match(flt, &f);
            for (unsigned round = 1; round < 16; round++) {
                scramble(&f, mask, base * 16 + round);
                if (fk_filter_match(flt, &f) != want)
                    fail_msg("\"%s\": a member outside its fields (0x%x) changed the match",
                             exprs[e], mask);
            }
        }
        fk_filter_destroy(flt);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(primitives),
                                       cmocka_unit_test(syntax_errors), cmocka_unit_test(limits),
                                       cmocka_unit_test(fields)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
