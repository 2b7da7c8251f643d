/* The store's recent flows (lib/store/recent.c) keep a compact form of
 * each flow and rebuild the fk_flow when asked. These tests feed random
 * flows that set every member (IPv4, IPv6 and unknown address families,
 * garbage in IPv4 tails, each rarely set member on or off) through a ring
 * small enough to wrap many times, and require:
 *  - fk_store_get_since() to give back each kept flow exactly as the store
 *    promises: every member equal to what was fed, except src, dst and
 *    exporter normalised (IPv4 tails zeroed, unknown families absent and
 *    zeroed), the borrowed strings NULL, absent addresses zeroed and the
 *    process name cut at its NUL;
 *  - fk_store_search() to answer random queries exactly as a brute-force
 *    filter over the same flows does, newest first, up to the capacity;
 *  - a zeroed flow with one rarely set member (each in turn) to come back
 *    with it, fed alone and in an array. */
#include <flowkit/flowkit.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fk_test.h"

#define SEC INT64_C(1000000000)
#define T0 (INT64_C(1800000000) * SEC)
#define NFLOWS 3000
#define RING 64

static uint64_t rnd_state = 0x243f6a8885a308d3u;

static uint64_t rnd(void)
{
    uint64_t z = (rnd_state += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

/* A few addresses of each family, so queries find them again; some IPv4
 * ones carry garbage past their 4 bytes, and family 9 is no family. */
static fk_addr rnd_addr(void)
{
    fk_addr a;
    memset(&a, 0, sizeof a);
    static const uint8_t fams[] = {4, 4, 4, 6, 6, 0, 9};
    a.family = fams[rnd() % sizeof fams];
    uint64_t pick = rnd() % 5;
    for (int i = 0; i < 16; i++)
        a.bytes[i] = (uint8_t)(pick * 37 + (uint64_t)i * 11);
    if (a.family == 4 && rnd() % 2) /* a clean IPv4 address */
        memset(a.bytes + 4, 0, 12);
    return a;
}

/* An address the ring keeps as given when it has a family. */
static fk_addr rare_addr(void)
{
    fk_addr a;
    memset(&a, 0, sizeof a);
    if (rnd() % 3 == 0) {
        a.family = rnd() % 2 ? 4 : 6;
        for (int i = 0; i < 16; i++)
            a.bytes[i] = (uint8_t)rnd();
    } else if (rnd() % 2) {
        a.bytes[3] = 7; /* no family: absent, whatever its bytes */
    }
    return a;
}

static uint32_t maybe(uint32_t v)
{
    return rnd() % 3 == 0 ? v : 0;
}

static const char *const names[] = {
    "", "nginx", "sshd", "a-process-name-sixty-three-bytes-long-the-most-a-name-holds...."};

static fk_flow rnd_flow(int i)
{
    fk_flow f;
    memset(&f, 0xa5, sizeof f); /* padding and members alike hold garbage */
    f.src = rnd_addr();
    f.dst = rnd_addr();
    f.exporter = rnd_addr();
    f.src_port = (uint16_t)(rnd() % 4 ? rnd() % 4 : rnd());
    f.dst_port = (uint16_t)(rnd() % 4 ? 80 + rnd() % 3 : rnd());
    f.proto = (uint8_t)(rnd() % 3 ? (rnd() % 2 ? 6 : 17) : rnd());
    f.tcp_flags = (uint8_t)rnd();
    f.rev_tcp_flags = (uint8_t)rnd();
    f.tos = (uint8_t)rnd();
    f.vlan = (uint16_t)rnd();
    f.version = (uint16_t)rnd();
    f.present = (uint32_t)rnd();
    f.bytes = rnd();
    f.packets = rnd();
    f.rev_bytes = rnd();
    f.rev_packets = rnd();
    f.end_ns = T0 + (int64_t)i * SEC / 10 - (int64_t)(rnd() % 3) * SEC; /* a little out of order */
    f.start_ns = f.end_ns - (int64_t)(rnd() % 100) * SEC;
    f.in_if = (uint32_t)rnd();
    f.out_if = (uint32_t)rnd();
    f.sampling = (uint32_t)rnd();
    f.end_reason = (uint8_t)rnd();
    f.odid = (uint32_t)rnd();
    f.pid = maybe((uint32_t)rnd());
    memset(f.process, 0, sizeof f.process);
    if (rnd() % 3 == 0) {
        const char *n = names[rnd() % 4];
        size_t len = strlen(n);
        memcpy(f.process, n, len);
        if (len + 1 < sizeof f.process)
            f.process[len + 1] = 'x'; /* past the NUL: not part of the name */
    }
    f.in_if_name = f.out_if_name = f.user = f.exe = f.tags = "borrowed";
    f.uid = maybe((uint32_t)rnd());
    f.event = 0;
    f.tunnel = (uint8_t)maybe((uint8_t)rnd());
    f.outer_src = rare_addr();
    f.outer_dst = rare_addr();
    f.next_hop = rare_addr();
    f.bgp_next_hop = rare_addr();
    f.direction = (uint8_t)maybe((uint8_t)rnd());
    f.vni = maybe((uint32_t)rnd());
    f.rev_icmp = (uint16_t)maybe((uint16_t)rnd());
    f.src_as = maybe((uint32_t)rnd());
    f.dst_as = maybe((uint32_t)rnd());
    return f;
}

/* What the store promises to give back for f (written here, not taken
 * from the library). */
static void norm(fk_addr *a)
{
    if (a->family == 4)
        memset(a->bytes + 4, 0, 12);
    else if (a->family != 6)
        memset(a, 0, sizeof *a);
}

static void absent_zero(fk_addr *a)
{
    if (!a->family)
        memset(a, 0, sizeof *a);
}

static fk_flow expected(const fk_flow *in)
{
    fk_flow f = *in;
    norm(&f.src);
    norm(&f.dst);
    norm(&f.exporter);
    absent_zero(&f.outer_src);
    absent_zero(&f.outer_dst);
    absent_zero(&f.next_hop);
    absent_zero(&f.bgp_next_hop);
    size_t n = strnlen(f.process, sizeof f.process - 1);
    memset(f.process + n, 0, sizeof f.process - n);
    f.in_if_name = f.out_if_name = f.user = f.exe = f.tags = NULL;
    return f;
}

#define EQ(m) assert_true(a->m == b->m)
#define EQ_ADDR(m) assert_memory_equal(&a->m, &b->m, sizeof a->m)

static void assert_flow_equal(const fk_flow *a, const fk_flow *b)
{
    EQ_ADDR(src);
    EQ_ADDR(dst);
    EQ(src_port);
    EQ(dst_port);
    EQ(proto);
    EQ(tcp_flags);
    EQ(rev_tcp_flags);
    EQ(tos);
    EQ(vlan);
    EQ(version);
    EQ(present);
    EQ(bytes);
    EQ(packets);
    EQ(rev_bytes);
    EQ(rev_packets);
    EQ(start_ns);
    EQ(end_ns);
    EQ(in_if);
    EQ(out_if);
    EQ(sampling);
    EQ(end_reason);
    EQ(odid);
    EQ_ADDR(exporter);
    EQ(pid);
    assert_memory_equal(a->process, b->process, sizeof a->process);
    assert_null(a->in_if_name);
    assert_null(a->out_if_name);
    assert_null(a->user);
    assert_null(a->exe);
    assert_null(a->tags);
    EQ(uid);
    EQ(event);
    EQ(tunnel);
    EQ_ADDR(outer_src);
    EQ_ADDR(outer_dst);
    EQ_ADDR(next_hop);
    EQ_ADDR(bgp_next_hop);
    EQ(direction);
    EQ(vni);
    EQ(rev_icmp);
    EQ(src_as);
    EQ(dst_as);
}

static fk_store *mk(int64_t max_flows)
{
    fk_store *s = NULL;
    assert_int_equal(fk_store_create(&s), 0);
    assert_int_equal(fk_store_set_int(s, FK_STORE_MAX_FLOWS, max_flows), 0);
    assert_int_equal(fk_store_activate(s), 0);
    return s;
}

static fk_flow want[NFLOWS]; /* expected form of the n-th flow kept */

static void test_every_member_round_trips(void **state)
{
    (void)state;
    fk_store *s = mk(RING);
    fk_flow out[RING + 1];
    size_t kept = 0, events = 0;
    for (int i = 0; i < NFLOWS; i++) {
        fk_flow f = rnd_flow(i);
        if (rnd() % 50 == 0) { /* a session event: counted, not kept */
            f.event = 1;
            events++;
            assert_int_equal(fk_store_add_flow(s, &f), 0);
            continue;
        }
        assert_int_equal(fk_store_add_flow(s, &f), 0);
        want[kept++] = expected(&f);
        if (i % 7 && i != NFLOWS - 1)
            continue;
        size_t n = 0;
        uint64_t next = 0, after = kept > RING ? kept - RING : 0;
        assert_int_equal(fk_store_get_since(s, 0, out, RING + 1, &n, &next), 0);
        assert_int_equal(n, kept - after);
        assert_int_equal(next, kept);
        for (size_t j = 0; j < n; j++)
            assert_flow_equal(&out[j], &want[after + j]);
    }
    fk_store_stats st;
    assert_int_equal(fk_store_get_stats(s, &st, sizeof st), 0);
    assert_int_equal(st.events, events);
    assert_int_equal(st.flows_kept, kept);
    assert_int_equal(st.flows_stored, RING);
    assert_int_equal(st.flows_evicted, kept - RING);
    fk_store_destroy(s);
}

/* A zeroed IPv4 flow (as decoders give them) with one rarely set member
 * set, each in turn, and one with bytes but no family in an outer
 * address: each comes back from the ring as fed (the add path tells
 * "nothing rare" from whole words first). Fed one by one and as one
 * array. */
static void test_each_rare_member_alone(void **state)
{
    (void)state;
    enum { KINDS = 15 };
    fk_flow in[KINDS];
    for (int k = 0; k < KINDS; k++) {
        fk_flow *f = &in[k];
        memset(f, 0, sizeof *f);
        f->src.family = f->dst.family = f->exporter.family = 4;
        f->src.bytes[0] = 10, f->dst.bytes[0] = 192, f->exporter.bytes[0] = 172;
        f->proto = 6;
        f->bytes = 100 + (uint64_t)k;
        f->end_ns = T0 + k;
        switch (k) {
        case 0:
            f->pid = 7;
            break;
        case 1:
            f->process[0] = 'x';
            break;
        case 2:
            f->uid = 1000;
            break;
        case 3:
            f->tunnel = 2;
            break;
        case 4:
            f->outer_src.family = 4, f->outer_src.bytes[0] = 1;
            break;
        case 5:
            f->outer_dst.family = 6, f->outer_dst.bytes[15] = 1;
            break;
        case 6:
            f->next_hop.family = 4, f->next_hop.bytes[3] = 9;
            break;
        case 7:
            f->bgp_next_hop.family = 4, f->bgp_next_hop.bytes[3] = 9;
            break;
        case 8:
            f->direction = 1;
            break;
        case 9:
            f->vni = 42;
            break;
        case 10:
            f->rev_icmp = 0x0300;
            break;
        case 11:
            f->src_as = 65001;
            break;
        case 12:
            f->dst_as = 65002;
            break;
        case 13:
            f->outer_dst.bytes[5] = 3;
            break; /* no family: absent */
        default:
            break; /* nothing rare */
        }
    }
    for (int batch = 0; batch < 2; batch++) {
        fk_store *s = mk(RING);
        if (batch)
            assert_int_equal(fk_store_add_flows(s, in, KINDS), 0);
        for (int k = 0; !batch && k < KINDS; k++)
            assert_int_equal(fk_store_add_flow(s, &in[k]), 0);
        fk_flow out[KINDS];
        size_t n = 0;
        uint64_t next = 0;
        assert_int_equal(fk_store_get_since(s, 0, out, KINDS, &n, &next), 0);
        assert_int_equal(n, KINDS);
        for (int k = 0; k < KINDS; k++) {
            fk_flow e = expected(&in[k]);
            assert_flow_equal(&out[k], &e);
        }
        fk_store_destroy(s);
    }
}

static bool addr_eq(const fk_addr *a, const fk_addr *b)
{
    return a->family == b->family && memcmp(a->bytes, b->bytes, a->family == 4 ? 4 : 16) == 0;
}

/* fk_store_query's documented meaning, as a plain filter. */
static bool brute_match(const fk_flow *f, const fk_store_query *q)
{
    if (q->addr.family && !addr_eq(&q->addr, &f->src) && !addr_eq(&q->addr, &f->dst))
        return false;
    if (q->src.family && !addr_eq(&q->src, &f->src))
        return false;
    if (q->dst.family && !addr_eq(&q->dst, &f->dst))
        return false;
    if (q->exporter.family && !addr_eq(&q->exporter, &f->exporter))
        return false;
    if (q->port > 0 && q->port != f->src_port && q->port != f->dst_port)
        return false;
    if (q->src_port > 0 && q->src_port != f->src_port)
        return false;
    if (q->dst_port > 0 && q->dst_port != f->dst_port)
        return false;
    if (q->proto > 0 && q->proto != f->proto)
        return false;
    if (q->since_ns && f->end_ns < q->since_ns)
        return false;
    return !(q->until_ns && f->end_ns >= q->until_ns);
}

static fk_addr query_addr(void)
{
    fk_addr a = rnd_addr();
    return a.family == 9 ? want[rnd() % NFLOWS].src : a;
}

static void test_search_matches_brute_force(void **state)
{
    (void)state;
    const size_t ring = 1000;
    fk_store *s = mk((int64_t)ring);
    size_t kept = 0;
    for (int i = 0; i < NFLOWS; i++) {
        fk_flow f = rnd_flow(i);
        assert_int_equal(fk_store_add_flow(s, &f), 0);
        want[kept++] = expected(&f);
    }
    static fk_flow out[1000], truth[1000];
    size_t matched_some = 0;
    for (int k = 0; k < 400; k++) {
        fk_store_query q;
        memset(&q, 0, sizeof q);
        q.proto = -1;
        switch (k % 6) { /* one or two conditions, so that some flows match */
        case 0:
            q.addr = query_addr();
            break;
        case 1:
            q.src = query_addr();
            q.dst_port = (int)(80 + rnd() % 3);
            break;
        case 2:
            q.dst = query_addr();
            q.proto = rnd() % 2 ? 6 : 17;
            break;
        case 3:
            q.exporter = query_addr();
            q.port = (int)(rnd() % 4);
            break;
        case 4:
            q.src_port = (int)(rnd() % 4);
            q.since_ns = T0 + (int64_t)(rnd() % NFLOWS) * SEC / 10;
            break;
        default:
            q.until_ns = T0 + (int64_t)(rnd() % NFLOWS) * SEC / 10;
            q.since_ns = q.until_ns - 20 * SEC;
            break;
        }
        size_t cap = k % 5 ? ring : 1 + rnd() % 20, n = 0, m = 0;
        assert_int_equal(fk_store_search(s, &q, out, cap, &n), 0);
        for (size_t j = kept; j > kept - ring && m < cap; j--)
            if (brute_match(&want[j - 1], &q))
                truth[m++] = want[j - 1];
        assert_int_equal(n, m);
        for (size_t j = 0; j < n; j++)
            assert_flow_equal(&out[j], &truth[j]);
        matched_some += n > 0;
    }
    assert_true(matched_some > 100); /* the queries were not all empty */
    size_t n = 0;
    assert_int_equal(fk_store_search(s, NULL, out, ring, &n), 0);
    assert_int_equal(n, ring);
    for (size_t j = 0; j < n; j++)
        assert_flow_equal(&out[j], &want[kept - 1 - j]);
    fk_store_destroy(s);
}

/* Flows that leave by retention free their ring places: a ring filled,
 * then emptied by the clock, takes as many new flows again before it
 * evicts one (the count of flows held is kept apart from the sequence
 * numbers). */
static void test_expired_places_are_reused(void **state)
{
    (void)state;
    fk_store *s = mk(16);
    int64_t t = INT64_C(1800000000) * 1000000000;
    for (int i = 0; i < 16; i++) {
        fk_flow f = rnd_flow(i);
        f.event = 0;
        f.end_ns = t + i;
        assert_int_equal(fk_store_add_flow(s, &f), 0);
    }
    assert_int_equal(fk_store_advance(s, t + INT64_C(7200) * 1000000000), 0);
    fk_store_stats st;
    assert_int_equal(fk_store_get_stats(s, &st, sizeof st), 0);
    assert_int_equal(st.flows_stored, 0);
    assert_int_equal(st.flows_expired, 16);
    assert_int_equal(st.flows_evicted, 0);
    for (int round = 1; round <= 2; round++)
        for (int i = 0; i < 10; i++) {
            fk_flow f = rnd_flow(i);
            f.event = 0;
            f.end_ns = t + INT64_C(7200) * 1000000000 + round * 100 + i;
            assert_int_equal(fk_store_add_flow(s, &f), 0);
            assert_int_equal(fk_store_get_stats(s, &st, sizeof st), 0);
            uint64_t held = (uint64_t)(round - 1) * 10 + (uint64_t)i + 1;
            assert_int_equal(st.flows_stored, held < 16 ? held : 16);
            assert_int_equal(st.flows_evicted, held < 16 ? 0 : held - 16);
        }
    static fk_flow out[32];
    size_t n;
    assert_int_equal(fk_store_search(s, NULL, out, 32, &n), 0);
    assert_int_equal(n, 16);
    fk_store_destroy(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_member_round_trips),
        cmocka_unit_test(test_each_rare_member_alone),
        cmocka_unit_test(test_search_matches_brute_force),
        cmocka_unit_test(test_expired_places_are_reused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
