/* Prefix statistics (flowkit/prefixstats.h) with injected record times:
 * bucket names, rollover at minute/hour/day/month/year boundaries, which
 * prefix and direction a record counts for (biflows included), bounded top
 * values with `other` summed and counted, retention and late records,
 * prefix eviction, the clamp of records ahead of the clock, and the
 * errors of the query. */
#include <flowkit/flowkit.h>
#include <stdlib.h>
#include <string.h>

#include "fk_test.h"

#define SEC 1000000000LL

static fk_addr addr(const char *text)
{
    fk_addr a;
    assert_int_equal(fk_addr_parse(text, &a), 0);
    return a;
}

static int64_t at(const char *bucket_name, int seconds)
{
    fk_prefixstats_bucket b;
    assert_int_equal(fk_prefixstats_bucket_parse(bucket_name, &b), 0);
    return b.start_ns + seconds * SEC;
}

static fk_flow flow(const char *src, const char *dst, uint16_t sport, uint16_t dport,
                    uint64_t bytes, int64_t end_ns)
{
    fk_flow f;
    memset(&f, 0, sizeof f);
    f.src = addr(src);
    f.dst = addr(dst);
    f.src_port = sport;
    f.dst_port = dport;
    f.proto = 6;
    f.bytes = bytes;
    f.packets = 1;
    f.start_ns = end_ns - SEC;
    f.end_ns = end_ns;
    return f;
}

typedef struct fixture {
    fk_senders *senders;
    fk_prefixstats *ps;
    fk_addr exporter;
} fixture;

/* A registry with sender 192.0.2.1: 198.51.100.0/24, 203.0.113.0/24 and
 * 2001:db8::/32; a handle with the given parameters ("name=value", NULL). */
static void setup(fixture *fx, const char *const *params)
{
    static const char text[] = "192.0.2.1 198.51.100.0/24 203.0.113.0/24 2001:db8::/32\n";
    assert_int_equal(fk_senders_create(&fx->senders), 0);
    assert_int_equal(fk_senders_parse(fx->senders, text, strlen(text), NULL), 0);
    assert_int_equal(fk_prefixstats_create(&fx->ps), 0);
    for (size_t i = 0; params && params[i]; i += 2)
        assert_int_equal(fk_prefixstats_set_text(fx->ps, params[i], params[i + 1]), 0);
    assert_int_equal(fk_prefixstats_set_senders(fx->ps, fx->senders), 0);
    assert_int_equal(fk_prefixstats_activate(fx->ps), 0);
    fx->exporter = addr("192.0.2.1");
}

static void teardown(fixture *fx)
{
    fk_prefixstats_destroy(fx->ps);
    fk_senders_destroy(fx->senders);
}

/* The single `all` row of a bucket (zeros when it has none). */
static fk_prefixstats_row all_row(fixture *fx, const char *prefix, const char *bucket_name)
{
    fk_prefixstats_bucket b;
    assert_int_equal(fk_prefixstats_bucket_parse(bucket_name, &b), 0);
    fk_prefixstats_row rows[2];
    size_t n = 99;
    assert_int_equal(
        fk_prefixstats_get_rows(fx->ps, "192.0.2.1", prefix, &b, FK_PREFIXSTATS_ALL, rows, 2, &n),
        0);
    assert_true(n <= 1);
    if (n == 0)
        memset(&rows[0], 0, sizeof rows[0]);
    return rows[0];
}

static void bucket_names(void **state)
{
    (void)state;
    static const char *const good[] = {"1970",          "2026-12",          "2024-02-29",
                                       "2026-12-06 09", "2026-12-31 23:59", "2261-12-31 23:59"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        fk_prefixstats_bucket b;
        char back[32];
        assert_int_equal(fk_prefixstats_bucket_parse(good[i], &b), 0);
        assert_int_equal(fk_prefixstats_bucket_format(&b, back, sizeof back), (int)strlen(good[i]));
        assert_string_equal(back, good[i]);
    }
    static const char *const bad[] = {"",
                                      "1969",
                                      "2026-13",
                                      "2023-02-29",
                                      "2026-12-6",
                                      "2026-12-06T09",
                                      "2026-12-06 24",
                                      "2026-12-06 09:60",
                                      "2026-12-06 09:05:00",
                                      " 2026",
                                      "2026-00",
                                      "20x6",
                                      "2262"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        fk_prefixstats_bucket b;
        assert_int_equal(fk_prefixstats_bucket_parse(bad[i], &b), FK_EINVAL);
    }
    /* The instant of a known date: 2026-12-06 09:05 UTC = 1796547900 s. */
    assert_true(at("2026-12-06 09:05", 0) == 1796547900LL * SEC);
    /* Any instant names its bucket at each granularity. */
    fk_prefixstats_bucket b = {FK_PREFIXSTATS_MONTH, at("2028-02-29 13:45", 59)};
    char name[32];
    assert_int_equal(fk_prefixstats_bucket_format(&b, name, sizeof name), 7);
    assert_string_equal(name, "2028-02");
    b.granularity = FK_PREFIXSTATS_HOUR;
    assert_int_equal(fk_prefixstats_bucket_format(&b, name, sizeof name), 13);
    assert_string_equal(name, "2028-02-29 13");
    assert_int_equal(fk_prefixstats_bucket_format(&b, name, 5), FK_ENOSPACE);
    fk_prefixstats_field f;
    assert_int_equal(fk_prefixstats_field_lookup("dstas", &f), 0);
    assert_int_equal(f, FK_PREFIXSTATS_DSTAS);
    assert_string_equal(fk_prefixstats_field_name(FK_PREFIXSTATS_SRCIP), "srcip");
    assert_int_equal(fk_prefixstats_field_lookup("port", &f), FK_ENOTFOUND);
}

/* One record before the new year, one after: every granularity rolls over. */
static void rollover(void **state)
{
    (void)state;
    fixture fx;
    setup(&fx, NULL);
    const char *p = "198.51.100.0/24";
    fk_flow a = flow("198.51.100.7", "192.0.2.200", 40000, 443, 1000, at("2026-12-31 23:59", 30));
    fk_flow b = flow("198.51.100.7", "192.0.2.200", 40000, 443, 70, at("2027-01-01 00:00", 10));
    assert_int_equal(fk_prefixstats_add_flow(fx.ps, &fx.exporter, &a), 1);
    assert_int_equal(fk_prefixstats_add_flow(fx.ps, &fx.exporter, &b), 1);
    static const char *const old[] = {"2026-12-31 23:59", "2026-12-31 23", "2026-12-31", "2026-12",
                                      "2026"};
    static const char *const new[] = {"2027-01-01 00:00", "2027-01-01 00", "2027-01-01", "2027-01",
                                      "2027"};
    for (int g = 0; g < 5; g++) {
        fk_prefixstats_row r = all_row(&fx, p, old[g]);
        assert_true(r.out_bytes == 1000 && r.out_packets == 1 && r.out_flows == 1);
        assert_true(r.in_bytes == 0 && r.in_flows == 0);
        r = all_row(&fx, p, new[g]);
        assert_true(r.out_bytes == 70 && r.out_flows == 1);
    }
    /* A minute later within the same hour: one more minute bucket, the
     * hour sums both. */
    fk_flow c = flow("198.51.100.8", "192.0.2.200", 40001, 443, 5, at("2027-01-01 00:01", 0));
    assert_int_equal(fk_prefixstats_add_flow(fx.ps, &fx.exporter, &c), 1);
    assert_true(all_row(&fx, p, "2027-01-01 00:00").out_bytes == 70);
    assert_true(all_row(&fx, p, "2027-01-01 00:01").out_bytes == 5);
    assert_true(all_row(&fx, p, "2027-01-01 00").out_bytes == 75);
    assert_true(all_row(&fx, p, "2027").out_flows == 2);
    fk_prefixstats_stats st;
    assert_int_equal(fk_prefixstats_get_stats(fx.ps, &st, sizeof st), 0);
    assert_true(st.records == 3 && st.accounted == 3 && st.unmatched == 0);
    assert_true(st.buckets == 11 && st.prefixes == 1 && st.late == 0);
    assert_true(st.memory_bytes > 0 && st.memory_bytes <= st.memory_bound);
    assert_true(fk_prefixstats_get_now(fx.ps) == at("2027-01-01 00:01", 0));
    teardown(&fx);
}

/* Source prefix: out; destination prefix: in; both ends in one prefix:
 * both; a biflow's reverse counts the other way; unknown senders and
 * addresses outside every prefix count nowhere. */
static void directions(void **state)
{
    (void)state;
    fixture fx;
    setup(&fx, NULL);
    int64_t t = at("2026-12-06 09:05", 1);
    fk_flow f = flow("198.51.100.7", "203.0.113.9", 1234, 80, 100, t);
    f.present |= FK_FLOW_HAS_REVERSE;
    f.rev_bytes = 4000;
    f.rev_packets = 3;
    assert_int_equal(fk_prefixstats_add_flow(fx.ps, &fx.exporter, &f), 2);
    fk_prefixstats_row src = all_row(&fx, "198.51.100.0/24", "2026-12-06 09:05");
    fk_prefixstats_row dst = all_row(&fx, "203.0.113.0/24", "2026-12-06 09:05");
    assert_true(src.out_bytes == 100 && src.in_bytes == 4000 && src.in_packets == 3);
    assert_true(src.out_flows == 1 && src.in_flows == 1);
    assert_true(dst.in_bytes == 100 && dst.out_bytes == 4000);
    /* The reverse side's source port is the forward destination port. */
    fk_prefixstats_bucket b;
    assert_int_equal(fk_prefixstats_bucket_parse("2026-12-06 09", &b), 0);
    fk_prefixstats_row rows[11];
    size_t n = 0;
    assert_int_equal(fk_prefixstats_get_rows(fx.ps, "192.0.2.1", "203.0.113.0/24", &b,
                                             FK_PREFIXSTATS_SRCPORT, rows, 11, &n),
                     0);
    assert_int_equal(n, 2);
    assert_true(rows[0].number == 80 && rows[0].out_bytes == 4000 && rows[0].in_bytes == 0);
    assert_true(rows[1].number == 1234 && rows[1].in_bytes == 100);
    assert_int_equal(fk_prefixstats_get_rows(fx.ps, "192.0.2.1", "203.0.113.0/24", &b,
                                             FK_PREFIXSTATS_DSTIP, rows, 11, &n),
                     0);
    assert_int_equal(n, 2);
    char text[FK_ADDR_STRLEN];
    fk_addr_format(&rows[0].addr, text, sizeof text);
    assert_string_equal(text, "198.51.100.7");
    /* Both ends inside 2001:db8::/32: in and out there. */
    fk_flow local = flow("2001:db8::1", "2001:db8:1::2", 5, 6, 10, t);
    assert_int_equal(fk_prefixstats_add_flow(fx.ps, &fx.exporter, &local), 1);
    fk_prefixstats_row r6 = all_row(&fx, "2001:db8::/32", "2026-12-06");
    assert_true(r6.in_bytes == 10 && r6.out_bytes == 10 && r6.in_flows == 1 && r6.out_flows == 1);
    /* An IPv4-mapped exporter is the same sender. */
    fk_addr mapped = addr("::ffff:192.0.2.1");
    assert_int_equal(fk_prefixstats_add_flow(fx.ps, &mapped, &local), 1);
    /* Nowhere to count. */
    fk_flow outside = flow("192.0.2.50", "192.0.2.51", 1, 2, 10, t);
    fk_addr stranger = addr("192.0.2.77");
    assert_int_equal(fk_prefixstats_add_flow(fx.ps, &fx.exporter, &outside), 0);
    assert_int_equal(fk_prefixstats_add_flow(fx.ps, &stranger, &f), 0);
    /* A session event is not traffic. */
    fk_flow ev = f;
    ev.event = 1;
    assert_int_equal(fk_prefixstats_add_flow(fx.ps, &fx.exporter, &ev), 0);
    fk_prefixstats_stats st;
    assert_int_equal(fk_prefixstats_get_stats(fx.ps, &st, sizeof st), 0);
    assert_true(st.records == 5 && st.accounted == 3 && st.unmatched == 2);
    teardown(&fx);
}

/* top_values = 3: five destination ports; the three largest stay, the
 * others are summed into `other`, which counts them; kept + other = all. */
static void top_values_and_other(void **state)
{
    (void)state;
    fixture fx;
    static const char *const params[] = {"top_values", "3", NULL};
    setup(&fx, params);
    int64_t t = at("2026-12-06 09:05", 0);
    static const uint16_t ports[] = {22, 53, 80, 443, 8080, 443};
    static const uint64_t bytes[] = {100, 200, 300, 400, 50, 1};
    for (int i = 0; i < 6; i++) {
        fk_flow f = flow("198.51.100.7", "192.0.2.10", 50000, ports[i], bytes[i], t);
        assert_int_equal(fk_prefixstats_add_flow(fx.ps, &fx.exporter, &f), 1);
    }
    fk_prefixstats_bucket b;
    assert_int_equal(fk_prefixstats_bucket_parse("2026-12-06 09:05", &b), 0);
    fk_prefixstats_row rows[4];
    size_t n = 0;
    assert_int_equal(fk_prefixstats_get_rows(fx.ps, "192.0.2.1", "198.51.100.0/24", &b,
                                             FK_PREFIXSTATS_DSTPORT, rows, 3, &n),
                     FK_ENOSPACE);
    assert_int_equal(fk_prefixstats_get_rows(fx.ps, "192.0.2.1", "198.51.100.0/24", &b,
                                             FK_PREFIXSTATS_DSTPORT, rows, 4, &n),
                     0);
    assert_int_equal(n, 4);
    assert_true(rows[0].number == 443 && rows[0].out_bytes == 401 && rows[0].out_flows == 2);
    assert_true(rows[1].number == 80 && rows[1].out_bytes == 300);
    assert_true(rows[2].number == 53 && rows[2].out_bytes == 200);
    /* 22 was evicted when 443 came (100 < 400); 8080 (50) never got in. */
    assert_true(rows[3].other == 1 && rows[3].folded == 2);
    assert_true(rows[3].out_bytes == 150 && rows[3].out_flows == 2);
    uint64_t sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += rows[i].out_bytes;
    assert_true(sum == all_row(&fx, "198.51.100.0/24", "2026-12-06 09:05").out_bytes);
    /* One source port only: no `other` row for it. */
    assert_int_equal(fk_prefixstats_get_rows(fx.ps, "192.0.2.1", "198.51.100.0/24", &b,
                                             FK_PREFIXSTATS_SRCPORT, rows, 4, &n),
                     0);
    assert_int_equal(n, 1);
    fk_prefixstats_stats st;
    assert_int_equal(fk_prefixstats_get_stats(fx.ps, &st, sizeof st), 0);
    /* dstport folded 2 in each of the five granularities. */
    assert_true(st.values_folded == 10);
    teardown(&fx);
}

/* keep_minutes = 2, keep_hours = 1: older buckets are freed as the clock
 * moves (by records or by advance), late records are refused and counted. */
static void retention(void **state)
{
    (void)state;
    fixture fx;
    static const char *const params[] = {"keep_minutes", "2", "keep_hours", "1",
                                         "keep_days",    "0", NULL};
    setup(&fx, params);
    const char *p = "198.51.100.0/24";
    static const char *const minutes[] = {"2026-12-06 09:58", "2026-12-06 09:59",
                                          "2026-12-06 10:00"};
    for (int i = 0; i < 3; i++) {
        fk_flow f = flow("198.51.100.7", "192.0.2.10", 1, 2, 10 + (uint64_t)i, at(minutes[i], 5));
        assert_int_equal(fk_prefixstats_add_flow(fx.ps, &fx.exporter, &f), 1);
    }
    assert_true(all_row(&fx, p, "2026-12-06 09:58").out_bytes == 0); /* expired */
    assert_true(all_row(&fx, p, "2026-12-06 09:59").out_bytes == 11);
    assert_true(all_row(&fx, p, "2026-12-06 10:00").out_bytes == 12);
    assert_true(all_row(&fx, p, "2026-12-06 09").out_bytes == 0); /* keep_hours = 1 */
    assert_true(all_row(&fx, p, "2026-12-06 10").out_bytes == 12);
    assert_true(all_row(&fx, p, "2026-12-06").out_bytes == 0); /* no day statistics */
    assert_true(all_row(&fx, p, "2026-12").out_bytes == 33);
    fk_prefixstats_stats st;
    assert_int_equal(fk_prefixstats_get_stats(fx.ps, &st, sizeof st), 0);
    assert_true(st.buckets_expired == 2 && st.late == 0);
    uint64_t buckets = st.buckets;
    /* A record of 09:58 now: too late for minutes and hours, counted in
     * the month and year. */
    fk_flow late = flow("198.51.100.7", "192.0.2.10", 1, 2, 1000, at("2026-12-06 09:58", 0));
    assert_int_equal(fk_prefixstats_add_flow(fx.ps, &fx.exporter, &late), 1);
    assert_true(all_row(&fx, p, "2026-12").out_bytes == 1033);
    assert_int_equal(fk_prefixstats_get_stats(fx.ps, &st, sizeof st), 0);
    assert_true(st.late == 2 && st.buckets == buckets);
    /* The clock moves 3 minutes on by advance: both minute buckets go. */
    assert_int_equal(fk_prefixstats_advance(fx.ps, at("2026-12-06 10:03", 0)), 0);
    assert_true(all_row(&fx, p, "2026-12-06 10:00").out_bytes == 0);
    assert_int_equal(fk_prefixstats_get_stats(fx.ps, &st, sizeof st), 0);
    assert_true(st.buckets_expired == 4 && st.buckets == buckets - 2);
    teardown(&fx);
}

/* Records far ahead of the advance clock count at it; max_prefixes evicts
 * the least recently updated pair. */
static void clamp_and_evict(void **state)
{
    (void)state;
    fixture fx;
    static const char *const params[] = {"max_prefixes", "1", "max_ahead", "60", NULL};
    setup(&fx, params);
    int64_t now = at("2026-12-06 09:05", 0);
    assert_int_equal(fk_prefixstats_advance(fx.ps, now), 0);
    fk_flow ahead = flow("198.51.100.7", "192.0.2.10", 1, 2, 10, at("2038-01-01", 0));
    assert_int_equal(fk_prefixstats_add_flow(fx.ps, &fx.exporter, &ahead), 1);
    assert_true(all_row(&fx, "198.51.100.0/24", "2026-12-06 09:05").out_bytes == 10);
    assert_true(fk_prefixstats_get_now(fx.ps) == now);
    fk_flow near = flow("198.51.100.7", "192.0.2.10", 1, 2, 20, now + 30 * SEC);
    assert_int_equal(fk_prefixstats_add_flow(fx.ps, &fx.exporter, &near), 1);
    fk_flow other = flow("192.0.2.10", "203.0.113.5", 1, 2, 30, now);
    assert_int_equal(fk_prefixstats_add_flow(fx.ps, &fx.exporter, &other), 1);
    fk_prefixstats_stats st;
    assert_int_equal(fk_prefixstats_get_stats(fx.ps, &st, sizeof st), 0);
    assert_true(st.clamped == 1 && st.prefixes == 1 && st.prefixes_evicted == 1);
    /* The evicted pair is still a registered prefix: no rows, no error. */
    assert_true(all_row(&fx, "198.51.100.0/24", "2026-12-06 09:05").out_bytes == 0);
    assert_true(all_row(&fx, "203.0.113.0/24", "2026-12-06 09:05").in_bytes == 30);
    teardown(&fx);
}

static void errors(void **state)
{
    (void)state;
    fk_prefixstats *ps;
    assert_int_equal(fk_prefixstats_create(&ps), 0);
    assert_int_equal(fk_prefixstats_activate(ps), FK_EINVAL); /* no registry */
    assert_int_equal(fk_prefixstats_set_int(ps, FK_PREFIXSTATS_TOP_VALUES, 0), FK_ERANGE);
    assert_int_equal(fk_prefixstats_set_text(ps, "keep-days", "400"), 0);
    int64_t v = 0;
    assert_int_equal(fk_prefixstats_get_int(ps, FK_PREFIXSTATS_KEEP_DAYS, &v), 0);
    assert_true(v == 400);
    fk_prefixstats_destroy(ps);
    fk_prefixstats_destroy(NULL);

    fixture fx;
    setup(&fx, NULL);
    assert_int_equal(fk_prefixstats_set_int(fx.ps, FK_PREFIXSTATS_TOP_VALUES, 5), FK_EACTIVATED);
    fk_prefixstats_bucket b;
    assert_int_equal(fk_prefixstats_bucket_parse("2026", &b), 0);
    fk_prefixstats_row rows[1];
    size_t n = 7;
    assert_int_equal(fk_prefixstats_get_rows(fx.ps, "192.0.2.1", "10.0.0.0/8", &b,
                                             FK_PREFIXSTATS_ALL, rows, 1, &n),
                     FK_ENOTFOUND);
    assert_int_equal(n, 0);
    assert_int_equal(fk_prefixstats_get_rows(fx.ps, "192.0.2.99", "198.51.100.0/24", &b,
                                             FK_PREFIXSTATS_ALL, rows, 1, &n),
                     FK_ENOTFOUND);
    assert_int_equal(fk_prefixstats_get_rows(fx.ps, "nope", "198.51.100.0/24", &b,
                                             FK_PREFIXSTATS_ALL, rows, 1, &n),
                     FK_EINVAL);
    assert_int_equal(fk_prefixstats_get_rows(fx.ps, "192.0.2.1", "198.51.100.0/33", &b,
                                             FK_PREFIXSTATS_ALL, rows, 1, &n),
                     FK_EINVAL);
    /* Registered, no traffic yet: no rows. */
    assert_int_equal(fk_prefixstats_get_rows(fx.ps, "192.0.2.1", "198.51.100.0/24", &b,
                                             FK_PREFIXSTATS_ALL, rows, 1, &n),
                     0);
    assert_int_equal(n, 0);
    teardown(&fx);
}

static void put16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, v >> 16);
    put16(p + 2, v & 0xffff);
}

/* A collector fed real NetFlow v5, v9 and IPFIX datagrams counts their records,
 * AS numbers decoded, in the statistics (fk_collector_set_prefixstats). */
static void collector_feeds_as_numbers(void **state)
{
    (void)state;
    fixture fx;
    setup(&fx, NULL);
    fk_collector *h;
    assert_int_equal(fk_collector_create(&h), 0);
    assert_int_equal(fk_collector_set_senders(h, fx.senders), 0);
    assert_int_equal(fk_collector_set_prefixstats(h, fx.ps), 0);
    assert_int_equal(fk_collector_activate(h), 0);
    uint32_t secs = (uint32_t)(at("2026-12-06 09:05", 30) / SEC);

    uint8_t v5[24 + 48];
    memset(v5, 0, sizeof v5);
    put16(v5, 5);
    put16(v5 + 2, 1);
    put32(v5 + 4, 100000); /* sysUptime, ms */
    put32(v5 + 8, secs);
    uint8_t *r = v5 + 24;
    put32(r, 0xc6336407);     /* 198.51.100.7 */
    put32(r + 4, 0xcb007109); /* 203.0.113.9 */
    put32(r + 16, 2);         /* packets */
    put32(r + 20, 1500);      /* bytes */
    put32(r + 24, 99000);     /* first, last: a second before export */
    put32(r + 28, 99000);
    put16(r + 32, 40000);
    put16(r + 34, 443);
    r[38] = 6;
    put16(r + 40, 64500); /* src_as */
    put16(r + 42, 64501); /* dst_as */
    assert_true(fk_collector_feed(h, &fx.exporter, 2055, v5, sizeof v5) >= 0);

    /* v9: a template (src, dst, bytes, packets, SRC_AS in 4 bytes, DST_AS
     * in 2) and one record in the same datagram. */
    uint8_t v9[20 + 4 + 4 + 6 * 4 + 4 + 24];
    memset(v9, 0, sizeof v9);
    put16(v9, 9);
    put16(v9 + 2, 2);
    put32(v9 + 4, 100000);
    put32(v9 + 8, secs);
    put32(v9 + 16, 7); /* source id */
    uint8_t *t = v9 + 20;
    put16(t, 0);
    put16(t + 2, 4 + 4 + 6 * 4);
    put16(t + 4, 256);
    put16(t + 6, 6);
    static const uint16_t fields[6][2] = {{8, 4}, {12, 4}, {1, 4}, {2, 4}, {16, 4}, {17, 2}};
    for (int i = 0; i < 6; i++) {
        put16(t + 8 + 4 * i, fields[i][0]);
        put16(t + 10 + 4 * i, fields[i][1]);
    }
    uint8_t *d = t + 8 + 24;
    put16(d, 256);
    put16(d + 2, 4 + 24);     /* 22 bytes of record, 2 of padding */
    put32(d + 4, 0xcb007109); /* 203.0.113.9 */
    put32(d + 8, 0xc6336408); /* 198.51.100.8 */
    put32(d + 12, 700);
    put32(d + 16, 1);
    put32(d + 20, 4200000000u); /* a 4-byte AS number */
    put16(d + 24, 64502);
    assert_true(fk_collector_feed(h, &fx.exporter, 2055, v9, sizeof v9) >= 0);

    /* IPFIX: bgpSourceAsNumber (16) and bgpDestinationAsNumber (17). */
    uint8_t ipfix[16 + 4 + 4 + 5 * 4 + 4 + 24];
    memset(ipfix, 0, sizeof ipfix);
    put16(ipfix, 10);
    put16(ipfix + 2, sizeof ipfix);
    put32(ipfix + 4, secs);
    uint8_t *it = ipfix + 16;
    put16(it, 2);
    put16(it + 2, 4 + 4 + 5 * 4);
    put16(it + 4, 256);
    put16(it + 6, 5);
    static const uint16_t ifields[5][2] = {{8, 4}, {12, 4}, {1, 8}, {16, 4}, {17, 4}};
    for (int i = 0; i < 5; i++) {
        put16(it + 8 + 4 * i, ifields[i][0]);
        put16(it + 10 + 4 * i, ifields[i][1]);
    }
    uint8_t *id = it + 8 + 20;
    put16(id, 256);
    put16(id + 2, 4 + 24);
    put32(id + 4, 0xc6336409); /* 198.51.100.9 */
    put32(id + 8, 0xc0000264); /* 192.0.2.100 */
    put32(id + 16, 9);         /* octetDeltaCount, low half */
    put32(id + 20, 65000);
    put32(id + 24, 65001);
    assert_true(fk_collector_feed(h, &fx.exporter, 4739, ipfix, sizeof ipfix) >= 0);

    fk_collector_stats cst;
    assert_int_equal(fk_collector_get_stats(h, &cst, sizeof cst), 0);
    assert_true(cst.records == 3);
    fk_prefixstats_bucket b;
    assert_int_equal(fk_prefixstats_bucket_parse("2026-12-06 09:05", &b), 0);
    fk_prefixstats_row rows[11];
    size_t n = 0;
    assert_int_equal(fk_prefixstats_get_rows(fx.ps, "192.0.2.1", "198.51.100.0/24", &b,
                                             FK_PREFIXSTATS_SRCAS, rows, 11, &n),
                     0);
    assert_int_equal(n, 3);
    assert_true(rows[0].number == 64500 && rows[0].out_bytes == 1500 && rows[0].out_packets == 2);
    assert_true(rows[1].number == 4200000000u && rows[1].in_bytes == 700);
    assert_true(rows[2].number == 65000 && rows[2].out_bytes == 9);
    assert_int_equal(fk_prefixstats_get_rows(fx.ps, "192.0.2.1", "198.51.100.0/24", &b,
                                             FK_PREFIXSTATS_DSTAS, rows, 11, &n),
                     0);
    assert_int_equal(n, 3);
    assert_true(rows[0].number == 64501 && rows[1].number == 64502 && rows[2].number == 65001);
    fk_prefixstats_row all = all_row(&fx, "198.51.100.0/24", "2026-12-06 09");
    assert_true(all.out_bytes == 1509 && all.in_bytes == 700 && all.in_flows == 1);
    fk_collector_destroy(h);
    teardown(&fx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bucket_names), cmocka_unit_test(rollover),
        cmocka_unit_test(directions),   cmocka_unit_test(top_values_and_other),
        cmocka_unit_test(retention),    cmocka_unit_test(clamp_and_evict),
        cmocka_unit_test(errors),       cmocka_unit_test(collector_feeds_as_numbers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
