/* fk_store: parameters and lifecycle; top-K, series, per-IP views and
 * searches against ground truth computed here from the generated flows;
 * windows and retention; bad IPs; de-duplication; the CIDR filter; the
 * memory bound under adversarial traffic (many distinct sources); failed
 * allocations at activate; concurrent feeding and querying. */
#include <flowkit/flowkit.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fk_test.h"
#include "store_fixture.h" /* SEC, T0 (2027-01-15, any fixed time works), v4 */

static fk_flow mkflow(uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport, uint8_t proto,
                      uint64_t bytes, int64_t end_ns)
{
    fk_flow f;
    memset(&f, 0, sizeof f);
    f.src = v4(src);
    f.dst = v4(dst);
    f.src_port = sport;
    f.dst_port = dport;
    f.proto = proto;
    f.bytes = bytes;
    f.packets = bytes / 100 + 1;
    f.start_ns = end_ns - SEC;
    f.end_ns = end_ns;
    if (proto == 6)
        f.tcp_flags = 0x1b; /* SYN ACK PSH FIN: an answered connection */
    return f;
}

static fk_store *new_store(const char *const *settings)
{
    fk_store *s = NULL;
    assert_int_equal(fk_store_create(&s), 0);
    for (size_t i = 0; settings && settings[i]; i += 2)
        assert_int_equal(fk_store_set_text(s, settings[i], settings[i + 1]), 0);
    assert_int_equal(fk_store_activate(s), 0);
    return s;
}

static void test_params(void **state)
{
    (void)state;
    fk_store_destroy(NULL);
    fk_store *s;
    assert_int_equal(fk_store_create(&s), 0);
    size_t n;
    const fk_param_info *t = fk_store_params(&n);
    assert_true(n >= 20);
    assert_non_null(fk_param_find(t, n, "max_ips"));
    int64_t v;
    assert_int_equal(fk_store_get_int(s, FK_STORE_TOPK_SPAN_SEC, &v), 0);
    assert_int_equal(v, 8 * 3600);
    assert_int_equal(fk_store_set_int(s, FK_STORE_MAX_IPS, 0), FK_ERANGE);
    assert_non_null(strstr(fk_error_last()->message, "out of range"));
    assert_int_equal(fk_store_set_text(s, "max-flows", "64"), 0);
    assert_int_equal(fk_store_set_double(s, FK_STORE_MAX_IPS, 1.0), FK_ETYPE);
    assert_int_equal(fk_store_add_cidr(s, "10.0.0.0/33"), FK_EINVAL);
    /* a slot longer than the span is refused and the handle stays usable */
    assert_int_equal(fk_store_set_int(s, FK_STORE_TOPK_SLOT_SEC, 7200), 0);
    assert_int_equal(fk_store_set_int(s, FK_STORE_TOPK_SPAN_SEC, 3600), 0);
    assert_int_equal(fk_store_activate(s), FK_ERANGE);
    assert_int_equal(fk_store_set_int(s, FK_STORE_TOPK_SLOT_SEC, 60), 0);
    fk_flow f = mkflow(1, 2, 3, 4, 6, 100, T0);
    assert_int_equal(fk_store_add_flow(s, &f), FK_EINVAL); /* not activated */
    assert_int_equal(fk_store_activate(s), 0);
    assert_int_equal(fk_store_set_int(s, FK_STORE_MAX_IPS, 10), FK_EACTIVATED);
    assert_int_equal(fk_store_add_cidr(s, "10.0.0.0/8"), FK_EACTIVATED);
    assert_int_equal(fk_store_activate(s), FK_EACTIVATED);
    fk_store_stats st;
    assert_int_equal(fk_store_get_stats(s, &st, sizeof st), 0);
    assert_true(st.memory_bytes > 0);
    fk_store_destroy(s);
}

/* Ground truth for a generated mix: 40 sources, 25 destinations, 6 ports,
 * 3 protocols, known bytes, all within the last 10 minutes. */
#define NSRC 40
#define NDST 25
typedef struct truth {
    uint64_t src[NSRC], dst[NDST], proto[256], port[65536 / 64];
    uint64_t total, flows;
} truth;

static const uint16_t ports[6] = {22, 53, 80, 123, 443, 8080};

static void gen_mix(fk_store *s, truth *t, int n)
{
    memset(t, 0, sizeof *t);
    unsigned seed = 7;
    for (int i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        int si = (int)(seed >> 8) % NSRC, di = (int)(seed >> 16) % NDST;
        uint16_t port = ports[(seed >> 4) % 6];
        uint8_t proto = port == 53 || port == 123 ? 17 : (port == 22 ? 132 : 6);
        uint64_t bytes = 100 + (seed >> 20) % 5000 + (uint64_t)si * 1000;
        fk_flow f = mkflow(0x0a000001u + (uint32_t)si, 0xc0a80001u + (uint32_t)di,
                           (uint16_t)(40000 + i % 1000), port, proto, bytes,
                           T0 - (int64_t)(n - i) * SEC / 4);
        assert_int_equal(fk_store_add_flow(s, &f), 0);
        t->src[si] += bytes;
        t->dst[di] += bytes;
        t->proto[proto] += bytes;
        t->total += bytes;
        t->flows++;
    }
}

static void test_ground_truth(void **state)
{
    (void)state;
    static const char *const set[] = {"topk_capacity", "64", NULL};
    fk_store *s = new_store(set);
    static truth t;
    gen_mix(s, &t, 2000);
    assert_int_equal(fk_store_get_now(s), T0 - SEC / 4);

    fk_store_row rows[64];
    size_t n;
    assert_int_equal(fk_store_get_top(s, FK_STORE_DIM_SRC, 900, rows, 64, &n), 0);
    assert_int_equal(n, NSRC);
    for (size_t i = 0; i < n; i++) {
        uint32_t a = (uint32_t)rows[i].key.addr.bytes[3] - 1;
        assert_int_equal(rows[i].key.addr.family, 4);
        assert_int_equal(rows[i].bytes, t.src[a]);
        assert_int_equal(rows[i].error, 0);
        if (i)
            assert_true(rows[i - 1].bytes >= rows[i].bytes);
    }
    assert_int_equal(fk_store_get_top(s, FK_STORE_DIM_DST, 3600, rows, 64, &n), 0);
    assert_int_equal(n, NDST);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(rows[i].bytes, t.dst[rows[i].key.addr.bytes[3] - 1]);
    assert_int_equal(fk_store_get_top(s, FK_STORE_DIM_PROTO, 900, rows, 64, &n), 0);
    assert_int_equal(n, 3);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(rows[i].bytes, t.proto[rows[i].key.proto]);
    assert_int_equal(fk_store_get_top(s, FK_STORE_DIM_PORT, 900, rows, 64, &n), 0);
    assert_int_equal(n, 6);
    uint64_t sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += rows[i].bytes;
    assert_int_equal(sum, t.total);
    assert_int_equal(fk_store_get_top(s, FK_STORE_DIM_PAIR, 900, rows, 3, &n), 0);
    assert_int_equal(n, 3);
    assert_int_equal(rows[0].key.addr.bytes[0], 10);
    assert_int_equal(rows[0].key.peer.bytes[0], 192);
    /* no exporter and no process in these flows */
    assert_int_equal(fk_store_get_top(s, FK_STORE_DIM_EXPORTER, 900, rows, 64, &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(fk_store_get_top(s, 99, 900, rows, 64, &n), FK_EINVAL);

    /* series: total and per protocol add up to the truth */
    fk_store_point pts[200];
    assert_int_equal(fk_store_get_series(s, FK_STORE_SERIES_TOTAL, NULL, T0 - 900 * SEC, T0,
                                         60 * SEC, pts, 200, &n),
                     0);
    assert_int_equal(n, 15);
    uint64_t bytes = 0, flows = 0;
    for (size_t i = 0; i < n; i++) {
        bytes += pts[i].bytes;
        flows += pts[i].flows;
        assert_int_equal(pts[i].time_ns % (60 * SEC), 0);
    }
    assert_int_equal(bytes, t.total);
    assert_int_equal(flows, t.flows);
    fk_store_key k = {.proto = 17};
    assert_int_equal(
        fk_store_get_series(s, FK_STORE_SERIES_PROTO, &k, T0 - 900 * SEC, T0, 0, pts, 200, &n), 0);
    assert_int_equal(n, 90);
    bytes = 0;
    for (size_t i = 0; i < n; i++)
        bytes += pts[i].bytes;
    assert_int_equal(bytes, t.proto[17]);
    k.proto = 50;
    assert_int_equal(fk_store_get_series(s, FK_STORE_SERIES_PROTO, &k, 0, T0, 0, pts, 200, &n),
                     FK_ENOTFOUND);

    /* per IP: a source sends, a destination receives; peers and protocols */
    fk_addr a = v4(0x0a000001u + 5);
    fk_store_ip_info info;
    assert_int_equal(fk_store_get_ip(s, &a, &info), 0);
    assert_int_equal(info.bytes_out, t.src[5]);
    assert_int_equal(info.bytes_in, 0);
    assert_int_equal(info.flows_dst, 0);
    assert_int_equal(fk_store_get_ip_peers(s, &a, rows, 64, &n), 0);
    assert_true(n > 0 && n <= 16);
    assert_int_equal(rows[0].key.peer.bytes[0], 192);
    assert_int_equal(rows[0].key.addr.bytes[3], 6);
    assert_int_equal(fk_store_get_ip_protocols(s, &a, rows, 64, &n), 0);
    sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += rows[i].bytes;
    assert_int_equal(sum, t.src[5]);
    assert_int_equal(fk_store_get_ip_series(s, &a, pts, 200, &n), 0);
    assert_int_equal(n, 60);
    sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += pts[i].bytes;
    assert_int_equal(sum, t.src[5]);
    fk_addr d = v4(0xc0a80001u + 3);
    assert_int_equal(fk_store_get_ip(s, &d, &info), 0);
    assert_int_equal(info.bytes_in, t.dst[3]);
    fk_addr none = v4(0x01020304);
    assert_int_equal(fk_store_get_ip(s, &none, &info), FK_ENOTFOUND);
    fk_store_ip_info list[100];
    assert_int_equal(fk_store_get_ips(s, list, 100, &n), 0);
    assert_int_equal(n, NSRC + NDST);
    for (size_t i = 1; i < n; i++)
        assert_true(list[i - 1].bytes_in + list[i - 1].bytes_out >=
                    list[i].bytes_in + list[i].bytes_out);

    /* search and live feed */
    fk_flow out[3000];
    fk_store_query q;
    memset(&q, 0, sizeof q);
    q.port = 443;
    q.proto = 6;
    assert_int_equal(fk_store_search(s, &q, out, 3000, &n), 0);
    size_t want = 0;
    assert_int_equal(fk_store_search(s, NULL, out, 3000, &want), 0);
    assert_int_equal(want, 2000);
    for (size_t i = 1; i < want; i++)
        assert_true(out[i - 1].end_ns >= out[i].end_ns); /* newest first */
    size_t m = 0;
    for (size_t i = 0; i < want; i++)
        m += out[i].dst_port == 443;
    assert_int_equal(fk_store_search(s, &q, out, 3000, &n), 0);
    assert_int_equal(n, m);
    q.port = 0;
    q.proto = 0;
    q.addr = a;
    q.since_ns = T0 - 60 * SEC;
    assert_int_equal(fk_store_search(s, &q, out, 3000, &n), 0);
    for (size_t i = 0; i < n; i++) {
        assert_memory_equal(&out[i].src, &a, sizeof a);
        assert_true(out[i].end_ns >= q.since_ns);
    }
    uint64_t next;
    assert_int_equal(fk_store_get_since(s, 0, out, 10, &n, &next), 0);
    assert_int_equal(n, 10);
    assert_int_equal(next, 10);
    assert_int_equal(fk_store_get_since(s, 1995, out, 3000, &n, &next), 0);
    assert_int_equal(n, 5);
    assert_int_equal(next, 2000);
    assert_int_equal(fk_store_get_since(s, 2000, out, 3000, &n, &next), 0);
    assert_int_equal(n, 0);
    assert_int_equal(next, 2000);
    fk_store_destroy(s);
}

static void test_windows_and_retention(void **state)
{
    (void)state;
    static const char *const set[] = {"retention", "3600", "topk_slot", "300", NULL};
    fk_store *s = new_store(set);
    fk_flow old = mkflow(0x0a000001, 0x0a000002, 1000, 80, 6, 5000, T0 - 2 * 3600 * SEC);
    fk_flow now = mkflow(0x0a000003, 0x0a000002, 1000, 80, 6, 700, T0);
    assert_int_equal(fk_store_add_flow(s, &old), 0);
    assert_int_equal(fk_store_add_flow(s, &now), 0);
    fk_store_row rows[8];
    size_t n;
    assert_int_equal(fk_store_get_top(s, FK_STORE_DIM_SRC, 900, rows, 8, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(rows[0].bytes, 700);
    assert_int_equal(fk_store_get_top(s, FK_STORE_DIM_SRC, 3600, rows, 8, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(fk_store_get_top(s, FK_STORE_DIM_SRC, 8 * 3600, rows, 8, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(rows[0].bytes, 5000);
    fk_store_stats st;
    assert_int_equal(fk_store_get_stats(s, &st, sizeof st), 0);
    assert_int_equal(st.flows_expired, 1); /* the old flow left the retention at once */
    assert_int_equal(st.flows_stored, 1);
    /* nine hours later nothing is in any window */
    assert_int_equal(fk_store_advance(s, T0 + 9 * 3600 * SEC), 0);
    assert_int_equal(fk_store_get_top(s, FK_STORE_DIM_SRC, 8 * 3600, rows, 8, &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(fk_store_get_stats(s, &st, sizeof st), 0);
    assert_int_equal(st.flows_stored, 0);
    assert_int_equal(st.flows_expired, 2);
    /* a flow older than every span is late */
    fk_flow late = mkflow(0x0a000009, 0x0a000002, 1000, 80, 6, 10, T0);
    assert_int_equal(fk_store_add_flow(s, &late), 0);
    assert_int_equal(fk_store_get_stats(s, &st, sizeof st), 0);
    assert_int_equal(st.late, 1);
    fk_store_destroy(s);
}

/* Many distinct sources (each once) and three heavy hitters: memory stays
 * what activate allocated, state stays at its caps, every eviction is
 * counted, and the heavy hitters are still found with bounded error. */
static void test_adversarial_bound(void **state)
{
    (void)state;
    static const char *const set[] = {"max_ips",         "1000", "max_flows",   "5000",
                                      "topk_capacity",   "32",   "bad_max_ips", "100",
                                      "bad_udp_pending", "200",  NULL};
    fk_store *s = new_store(set);
    fk_store_stats before, after;
    assert_int_equal(fk_store_get_stats(s, &before, sizeof before), 0);
    const int distinct = 200000;
    uint64_t heavy[3] = {0, 0, 0};
    for (int i = 0; i < distinct; i++) {
        int64_t t = T0 + (int64_t)i * (SEC / 1000);
        fk_flow f = mkflow(0x20000000u + (uint32_t)i, 0x0a000001u, 5000, 80, 6, 60, t);
        f.tcp_flags = 0x02; /* scans: SYN only */
        assert_int_equal(fk_store_add_flow(s, &f), 0);
        fk_flow u = mkflow(0x30000000u + (uint32_t)i, 0x0a000002u, 5000, 53, 17, 60, t);
        assert_int_equal(fk_store_add_flow(s, &u), 0);
        if (i % 100 == 0) {
            int h = (i / 100) % 3;
            fk_flow big = mkflow(0x0b000001u + (uint32_t)h, 0x0a000001u, 6000, 443, 6,
                                 10000 * (uint64_t)(h + 1), t);
            assert_int_equal(fk_store_add_flow(s, &big), 0);
            heavy[h] += 10000 * (uint64_t)(h + 1);
        }
    }
    assert_int_equal(fk_store_get_stats(s, &after, sizeof after), 0);
    assert_int_equal(after.memory_bytes, before.memory_bytes);
    assert_int_equal(after.ips, 1000);
    assert_true(after.ips_evicted >= (uint64_t)2 * distinct - 1000);
    assert_int_equal(after.flows_stored, 5000);
    assert_int_equal(after.flows_evicted, after.flows_kept - 5000);
    assert_true(after.topk_evictions > 0);
    assert_int_equal(after.bad_ips, 100);
    assert_true(after.bad_evicted > 0);
    assert_int_equal(after.udp_pending, 200);
    assert_true(after.udp_pending_dropped > 0);

    fk_store_row rows[3];
    size_t n;
    assert_int_equal(fk_store_get_top(s, FK_STORE_DIM_SRC, 900, rows, 3, &n), 0);
    assert_int_equal(n, 3);
    for (size_t i = 0; i < 3; i++) {
        int h = 2 - (int)i; /* the biggest hitter first */
        assert_int_equal(rows[i].key.addr.bytes[0], 0x0b);
        assert_int_equal(rows[i].key.addr.bytes[3], h + 1);
        assert_true(rows[i].bytes >= heavy[h]);
        assert_true(rows[i].bytes - rows[i].error <= heavy[h]);
    }
    fk_store_destroy(s);
}

static void test_bad_ips(void **state)
{
    (void)state;
    static const char *const set[] = {"bad_threshold", "10", "bad_window", "600",
                                      "bad_udp_wait",  "30", NULL};
    fk_store *s = new_store(set);
    for (int i = 0; i < 12; i++) {
        int64_t t = T0 + i * SEC;
        /* A: TCP SYNs that never complete, to 12 ports */
        fk_flow a = mkflow(0x0a000001, 0x0a0000fe, 40000, (uint16_t)(1000 + i), 6, 60, t);
        a.tcp_flags = 0x02;
        /* B: completed TCP connections */
        fk_flow b = mkflow(0x0a000002, 0x0a0000fe, 40000, (uint16_t)(1000 + i), 6, 600, t);
        /* C: one-way UDP without any reply */
        fk_flow c = mkflow(0x0a000003, 0x0a0000fe, 40000, (uint16_t)(2000 + i), 17, 80, t);
        /* D: UDP answered; the reply is exported first for odd i */
        fk_flow d = mkflow(0x0a000004, 0x0a0000fd, 40000, (uint16_t)(3000 + i), 17, 80, t);
        fk_flow r = mkflow(0x0a0000fd, 0x0a000004, (uint16_t)(3000 + i), 40000, 17, 200, t);
        /* E: UDP biflows with no reverse packets (10 of them: exactly the threshold) */
        fk_flow e = mkflow(0x0a000005, 0x0a0000fe, 40000, (uint16_t)(4000 + i), 17, 80, t);
        e.present |= FK_FLOW_HAS_REVERSE;
        /* F: TCP SYN to multicast would not happen; a SYN-ACK'd flow with RST */
        fk_flow g = mkflow(0x0a000006, 0x0a0000fe, 40000, 80, 6, 60, t);
        g.tcp_flags = 0x14; /* RST ACK: answered */
        assert_int_equal(fk_store_add_flow(s, &a), 0);
        assert_int_equal(fk_store_add_flow(s, &b), 0);
        assert_int_equal(fk_store_add_flow(s, &c), 0);
        assert_int_equal(fk_store_add_flow(s, i % 2 ? &r : &d), 0);
        assert_int_equal(fk_store_add_flow(s, i % 2 ? &d : &r), 0);
        if (i < 10)
            assert_int_equal(fk_store_add_flow(s, &e), 0);
        assert_int_equal(fk_store_add_flow(s, &g), 0);
    }
    fk_store_bad_ip bad[8];
    size_t n;
    /* C's records still wait for an answer: only A and E are bad yet */
    assert_int_equal(fk_store_get_bad_ips(s, bad, 8, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(bad[0].addr.bytes[3], 1);
    assert_int_equal(bad[0].attempts, 12);
    assert_int_equal(bad[0].tcp_attempts, 12);
    assert_int_equal(bad[0].last_port, 1011);
    assert_int_equal(bad[1].addr.bytes[3], 5);
    assert_int_equal(bad[1].attempts, 10);
    assert_int_equal(fk_store_advance(s, T0 + 60 * SEC), 0);
    assert_int_equal(fk_store_get_bad_ips(s, bad, 8, &n), 0);
    assert_int_equal(n, 3);
    int seen_c = 0;
    for (size_t i = 0; i < n; i++)
        if (bad[i].addr.bytes[3] == 3) {
            seen_c = 1;
            assert_int_equal(bad[i].udp_attempts, 12);
        }
    assert_true(seen_c);
    fk_store_stats st;
    assert_int_equal(fk_store_get_stats(s, &st, sizeof st), 0);
    assert_int_equal(st.attempts, 12 + 10 + 12);
    assert_int_equal(st.udp_pending, 0);
    /* after the window they are no longer bad */
    assert_int_equal(fk_store_advance(s, T0 + 700 * SEC), 0);
    assert_int_equal(fk_store_get_bad_ips(s, bad, 8, &n), 0);
    assert_int_equal(n, 0);
    fk_store_destroy(s);
}

static void test_dedup_and_cidr(void **state)
{
    (void)state;
    fk_store *s;
    assert_int_equal(fk_store_create(&s), 0);
    assert_int_equal(fk_store_set_int(s, FK_STORE_DEDUP_TTL_MS, 5000), 0);
    assert_int_equal(fk_store_add_cidr(s, "10.0.0.0/8"), 0);
    assert_int_equal(fk_store_add_cidr(s, "2001:db8::/32"), 0);
    assert_int_equal(fk_store_activate(s), 0);
    fk_flow f = mkflow(0x0a000001, 0x08080808, 1234, 53, 17, 100, T0);
    f.present |= FK_FLOW_HAS_EXPORTER;
    f.exporter = v4(0xc0000201);
    assert_int_equal(fk_store_add_flow(s, &f), 0);
    f.exporter = v4(0xc0000202); /* a second router saw the same flow */
    f.end_ns += SEC;
    assert_int_equal(fk_store_add_flow(s, &f), 0);
    f.exporter = v4(0xc0000201); /* the first router's next record: kept */
    f.end_ns += SEC;
    assert_int_equal(fk_store_add_flow(s, &f), 0);
    f.exporter = v4(0xc0000202); /* after the TTL the second router counts again */
    f.end_ns += 10 * SEC;
    assert_int_equal(fk_store_add_flow(s, &f), 0);
    fk_flow out = mkflow(0x08080808, 0x01010101, 1, 2, 6, 100, T0); /* outside the filter */
    assert_int_equal(fk_store_add_flow(s, &out), 0);
    fk_flow six;
    memset(&six, 0, sizeof six);
    assert_int_equal(fk_addr_parse("2001:db8::1", &six.src), 0);
    assert_int_equal(fk_addr_parse("2001:4860::8888", &six.dst), 0);
    six.proto = 17;
    six.bytes = 10;
    six.end_ns = T0;
    assert_int_equal(fk_store_add_flow(s, &six), 0);
    fk_flow ev = f;
    ev.event = 1;
    assert_int_equal(fk_store_add_flow(s, &ev), 0);
    fk_store_stats st;
    assert_int_equal(fk_store_get_stats(s, &st, sizeof st), 0);
    assert_int_equal(st.flows_in, 7);
    assert_int_equal(st.duplicates, 1);
    assert_int_equal(st.filtered, 1);
    assert_int_equal(st.events, 1);
    assert_int_equal(st.flows_kept, 4);
    fk_store_row rows[4];
    size_t n;
    assert_int_equal(fk_store_get_top(s, FK_STORE_DIM_EXPORTER, 900, rows, 4, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(rows[0].bytes, 200);
    assert_int_equal(rows[1].bytes, 100);
    fk_store_key k = {.addr = v4(0xc0000202)};
    fk_store_point p[100];
    assert_int_equal(fk_store_get_series(s, FK_STORE_SERIES_EXPORTER, &k, T0, T0 + 60 * SEC,
                                         60 * SEC, p, 100, &n),
                     0);
    assert_int_equal(n, 1);
    assert_int_equal(p[0].bytes, 100);
    fk_store_destroy(s);
}

static void test_activate_enomem(void **state)
{
    (void)state;
    long live0 = fk_test_alloc_live();
    unsigned long nth;
    for (nth = 1; nth < 400; nth++) {
        fk_store *s;
        assert_int_equal(fk_store_create(&s), 0);
        fk_store_set_int(s, FK_STORE_MAX_IPS, 8);
        fk_store_set_int(s, FK_STORE_BAD_MAX_IPS, 8);
        fk_store_set_int(s, FK_STORE_SERIES_KEYS, 2);
        fk_store_set_int(s, FK_STORE_DEDUP_TTL_MS, 1000);
        fk_store_set_int(s, FK_STORE_TOPK_SLOT_SEC, 3600);
        fk_test_alloc_fail_at(nth, 1);
        int rc = fk_store_activate(s);
        fk_test_alloc_reset();
        if (rc == 0) {
            fk_flow f = mkflow(1, 2, 3, 4, 6, 100, T0);
            assert_int_equal(fk_store_add_flow(s, &f), 0);
            fk_store_destroy(s);
            break;
        }
        assert_int_equal(rc, FK_ENOMEM);
        assert_int_equal(fk_store_activate(s), 0); /* still configurable */
        fk_store_destroy(s);
        assert_int_equal(fk_test_alloc_live(), live0);
    }
    assert_true(nth > 20 && nth < 400); /* failures were met, then it worked */
}

typedef struct feeder {
    fk_store *s;
    uint32_t base;
    size_t batch; /* 0: fk_store_add_flow; else arrays of this many (fk_store_add_flows) */
} feeder;

static void *feed(void *arg)
{
    feeder *fd = arg;
    fk_flow arr[64];
    size_t n = 0;
    for (int i = 0; i < 20000; i++) {
        fk_flow f = mkflow(fd->base + (uint32_t)(i % 500), 0x0a000001, 1, 80, 6, 100,
                           T0 + (int64_t)i * SEC / 100);
        if (!fd->batch) {
            fk_store_add_flow(fd->s, &f);
            continue;
        }
        arr[n++] = f;
        if (n == fd->batch || i == 19999) {
            fk_store_add_flows(fd->s, arr, n);
            n = 0;
        }
    }
    return NULL;
}

static void *query(void *arg)
{
    fk_store *s = arg;
    fk_store_row rows[16];
    fk_flow flows[16];
    size_t n;
    uint64_t next = 0;
    for (int i = 0; i < 300; i++) {
        fk_store_get_top(s, i % FK_STORE_DIM_COUNT, 900, rows, 16, &n);
        fk_store_get_since(s, next, flows, 16, &n, &next);
        fk_addr a = v4(0x0a000001);
        fk_store_get_ip_peers(s, &a, rows, 16, &n);
    }
    return NULL;
}

static void test_threads(void **state)
{
    (void)state;
    fk_store *s = new_store(NULL);
    pthread_t th[4];
    feeder fa = {s, 0x14000000, 0}, fb = {s, 0x15000000, 37}; /* one by one, arrays */
    pthread_create(&th[0], NULL, feed, &fa);
    pthread_create(&th[1], NULL, feed, &fb);
    pthread_create(&th[2], NULL, query, s);
    pthread_create(&th[3], NULL, query, s);
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    fk_store_stats st;
    assert_int_equal(fk_store_get_stats(s, &st, sizeof st), 0);
    assert_int_equal(st.flows_kept, 40000);
    fk_store_ip_info info;
    fk_addr a = v4(0x0a000001);
    assert_int_equal(fk_store_get_ip(s, &a, &info), 0);
    assert_int_equal(info.bytes_in, 40000 * 100);
    assert_int_equal(info.flows_dst, 40000);
    fk_store_destroy(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_params),
        cmocka_unit_test(test_ground_truth),
        cmocka_unit_test(test_windows_and_retention),
        cmocka_unit_test(test_adversarial_bound),
        cmocka_unit_test(test_bad_ips),
        cmocka_unit_test(test_dedup_and_cidr),
        cmocka_unit_test(test_activate_enomem),
        cmocka_unit_test(test_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
