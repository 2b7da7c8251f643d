/* fk__flow_table: bidirectional merge, symmetric hash, TCP session events
 * and end records, idle/active timeouts, eviction, fragments, ICMP, and no
 * allocation on the packet path. */
#include <flowkit/flowkit.h>
#include <stdlib.h>
#include <string.h>

#include "fk_test.h"
#include "flow/flow_table.h"
#include "packet/packet.h"

#define SEC 1000000000LL
#define MAXREC 8192

typedef struct capture {
    fk__flow_record rec[MAXREC];
    size_t nrec;
    fk_session_event ev[MAXREC];
    size_t nev;
} capture;

static void on_flow(void *ctx, const fk__flow_record *r)
{
    capture *c = ctx;
    assert_true(c->nrec < MAXREC);
    c->rec[c->nrec++] = *r;
}

static void on_event(void *ctx, const fk_session_event *e)
{
    capture *c = ctx;
    assert_true(c->nev < MAXREC);
    c->ev[c->nev++] = *e;
}

static fk__flow_table *table(capture *c, uint32_t max, int64_t idle, int64_t active)
{
    memset(c, 0, sizeof *c);
    fk__flow_config cfg;
    fk__flow_config_default(&cfg);
    cfg.max_flows = max;
    cfg.idle_timeout_ns = idle;
    cfg.active_timeout_ns = active;
    fk__flow_sink sink = {on_flow, on_event, c};
    fk__flow_table *t = NULL;
    assert_int_equal(fk__flow_table_create(&t, &cfg, &sink), 0);
    return t;
}

/* A decoded IPv4 packet a.b.c.X:sp -> a.b.c.Y:dp. */
static fk__packet pkt4(uint32_t src, uint32_t dst, uint16_t sp, uint16_t dp, uint8_t proto,
                       uint8_t flags, uint32_t len, int64_t ts)
{
    fk__packet p;
    memset(&p, 0, sizeof p);
    p.ip_version = 4;
    p.src[0] = 10;
    p.src[3] = (uint8_t)src;
    p.src[2] = (uint8_t)(src >> 8);
    p.src[1] = (uint8_t)(src >> 16);
    p.dst[0] = 10;
    p.dst[3] = (uint8_t)dst;
    p.dst[2] = (uint8_t)(dst >> 8);
    p.dst[1] = (uint8_t)(dst >> 16);
    p.src_port = sp;
    p.dst_port = dp;
    p.proto = proto;
    p.tcp_flags = flags;
    p.ip_len = len;
    p.ts_ns = ts;
    p.flags = FK__PKT_F_L4;
    return p;
}

static fk__packet rev(fk__packet p, uint8_t flags, uint32_t len, int64_t ts)
{
    fk__packet r = p;
    memcpy(r.src, p.dst, 16);
    memcpy(r.dst, p.src, 16);
    r.src_port = p.dst_port;
    r.dst_port = p.src_port;
    r.tcp_flags = flags;
    r.ip_len = len;
    r.ts_ns = ts;
    return r;
}

static void add(fk__flow_table *t, fk__packet p)
{
    assert_int_equal(fk__flow_table_add(t, &p), 0);
}

static void bidirectional_merge(void **state)
{
    (void)state;
    static capture c;
    fk__flow_table *t = table(&c, 64, 60 * SEC, 0);
    /* the higher address speaks first: forward must still be its direction */
    fk__packet a = pkt4(9, 2, 5353, 53, 17, 0, 60, 100 * SEC);
    add(t, a);
    add(t, rev(a, 0, 200, 100 * SEC + 5));
    add(t, pkt4(9, 2, 5353, 53, 17, 0, 70, 101 * SEC));
    add(t, rev(a, 0, 300, 102 * SEC));
    add(t, pkt4(9, 2, 5353, 53, 17, 0, 80, 103 * SEC));
    fk__flow_stats st;
    fk__flow_table_stats(t, &st);
    assert_int_equal(st.active, 1);
    assert_int_equal(st.created, 1);
    assert_int_equal(st.packets, 5);
    assert_int_equal(st.bytes, 710);
    assert_int_equal(fk__flow_table_flush(t), 1);
    assert_int_equal(c.nrec, 1);
    const fk__flow_record *r = &c.rec[0];
    assert_int_equal(r->flow.src.family, 4);
    assert_int_equal(r->flow.src.bytes[3], 9);
    assert_int_equal(r->flow.dst.bytes[3], 2);
    assert_int_equal(r->flow.src_port, 5353);
    assert_int_equal(r->flow.dst_port, 53);
    assert_int_equal(r->flow.proto, 17);
    assert_int_equal(r->flow.packets, 3);
    assert_int_equal(r->flow.bytes, 210);
    assert_int_equal(r->flow.rev_packets, 2);
    assert_int_equal(r->flow.rev_bytes, 500);
    assert_int_equal(r->flow.start_ns, 100 * SEC);
    assert_int_equal(r->flow.end_ns, 103 * SEC);
    assert_int_equal(r->fwd_first_ns, 100 * SEC);
    assert_int_equal(r->fwd_last_ns, 103 * SEC);
    assert_int_equal(r->rev_first_ns, 100 * SEC + 5);
    assert_int_equal(r->rev_last_ns, 102 * SEC);
    assert_int_equal(r->flow.end_reason, FK_END_FORCED);
    assert_int_equal(r->flow.present, FK_FLOW_HAS_REVERSE | FK_FLOW_HAS_END_REASON);
    assert_int_equal(r->hash, fk__flow_hash(&a));
    fk__flow_table_stats(t, &st);
    assert_int_equal(st.active, 0);
    assert_int_equal(st.records, 1);
    assert_int_equal(fk__flow_table_flush(t), 0);
    fk__flow_table_destroy(t);
}

static void symmetric_hash(void **state)
{
    (void)state;
    fk__packet a = pkt4(1, 2, 1000, 80, 6, 0, 40, 0);
    fk__packet ar = rev(a, 0, 40, 0);
    assert_int_equal(fk__flow_hash(&a), fk__flow_hash(&ar));
    fk__packet b = a;
    b.src_port = 1001;
    assert_int_not_equal(fk__flow_hash(&a), fk__flow_hash(&b));
    b = a;
    b.vlan = 5;
    assert_int_not_equal(fk__flow_hash(&a), fk__flow_hash(&b));
    /* same address both ways, ports swapped */
    fk__packet s = pkt4(1, 1, 1000, 2000, 17, 0, 40, 0);
    fk__packet sr = rev(s, 0, 40, 0);
    assert_int_equal(fk__flow_hash(&s), fk__flow_hash(&sr));
    /* ICMP echo and reply */
    fk__packet i = pkt4(1, 2, 0, 8 << 8, 1, 0, 84, 0);
    fk__packet j = rev(i, 0, 84, 0);
    j.src_port = 0;
    j.dst_port = 0;
    assert_int_equal(fk__flow_hash(&i), fk__flow_hash(&j));
    /* distribution: 4096 flows over 16 shards, none empty or above 3x mean */
    unsigned shard[16] = {0};
    for (uint32_t k = 0; k < 4096; k++) {
        fk__packet p = pkt4(k * 7 + 1, 99999, (uint16_t)(1024 + k), 443, 6, 0, 40, 0);
        shard[fk__flow_hash(&p) % 16]++;
    }
    for (int k = 0; k < 16; k++)
        assert_true(shard[k] > 0 && shard[k] < 3 * 256);
}

static void tcp_session_fin(void **state)
{
    (void)state;
    static capture c;
    fk__flow_table *t = table(&c, 64, 60 * SEC, 0);
    fk__packet syn = pkt4(1, 2, 40000, 80, 6, 0x02, 60, 10 * SEC);
    add(t, syn);
    add(t, rev(syn, 0x12, 60, 10 * SEC + 100));
    add(t, pkt4(1, 2, 40000, 80, 6, 0x10, 52, 10 * SEC + 200));
    add(t, pkt4(1, 2, 40000, 80, 6, 0x18, 552, 10 * SEC + 300));
    add(t, rev(syn, 0x10, 52, 10 * SEC + 400));
    add(t, pkt4(1, 2, 40000, 80, 6, 0x11, 52, 11 * SEC));     /* client FIN */
    add(t, pkt4(1, 2, 40000, 80, 6, 0x11, 52, 11 * SEC + 1)); /* retransmitted FIN */
    assert_int_equal(c.nev, 2);
    add(t, rev(syn, 0x11, 52, 11 * SEC + 500)); /* server FIN */
    assert_int_equal(c.nev, 3);
    assert_int_equal(c.nrec, 0); /* lingers for the last ACK */
    add(t, pkt4(1, 2, 40000, 80, 6, 0x10, 52, 11 * SEC + 600));
    assert_int_equal(fk__flow_table_expire(t, 12 * SEC), 0);
    assert_int_equal(fk__flow_table_expire(t, 12 * SEC + 600), 1);
    assert_int_equal(c.nrec, 1);
    assert_int_equal(c.ev[0].kind, FK_SESSION_SYN);
    assert_int_equal(c.ev[0].time_ns, 10 * SEC);
    assert_int_equal(c.ev[0].src.bytes[3], 1);
    assert_int_equal(c.ev[0].src_port, 40000);
    assert_int_equal(c.ev[0].proto, 6);
    assert_int_equal(c.ev[1].kind, FK_SESSION_FIN);
    assert_int_equal(c.ev[1].time_ns, 11 * SEC);
    assert_int_equal(c.ev[1].src.bytes[3], 1);
    assert_int_equal(c.ev[2].kind, FK_SESSION_FIN);
    assert_int_equal(c.ev[2].time_ns, 11 * SEC + 500);
    assert_int_equal(c.ev[2].src.bytes[3], 2);
    assert_int_equal(c.ev[2].src_port, 80);
    const fk_flow *f = &c.rec[0].flow;
    assert_int_equal(f->end_reason, FK_END_DETECTED);
    assert_int_equal(f->packets, 6);
    assert_int_equal(f->rev_packets, 3);
    assert_int_equal(f->tcp_flags, 0x1b);
    assert_int_equal(f->rev_tcp_flags, 0x13);
    assert_int_equal(f->end_ns, 11 * SEC + 600);
    assert_int_equal(fk__flow_table_flush(t), 0);
    fk__flow_table_destroy(t);
}

static void tcp_rst_and_port_reuse(void **state)
{
    (void)state;
    static capture c;
    fk__flow_table *t = table(&c, 64, 60 * SEC, 0);
    fk__packet syn = pkt4(1, 2, 40000, 25, 6, 0x02, 60, 1 * SEC);
    add(t, syn);
    add(t, rev(syn, 0x14, 40, 1 * SEC + 10)); /* RST-ACK: port closed */
    assert_int_equal(c.nev, 2);
    assert_int_equal(c.ev[1].kind, FK_SESSION_RST);
    assert_int_equal(c.ev[1].src_port, 25);
    add(t, rev(syn, 0x04, 40, 1 * SEC + 20)); /* another RST: no new event */
    assert_int_equal(c.nev, 2);
    /* the client retries from the same port: the closed flow ends at once */
    fk__packet syn2 = syn;
    syn2.ts_ns = 2 * SEC;
    add(t, syn2);
    assert_int_equal(c.nrec, 1);
    assert_int_equal(c.rec[0].flow.end_reason, FK_END_DETECTED);
    assert_int_equal(c.rec[0].flow.packets, 1);
    assert_int_equal(c.rec[0].flow.rev_packets, 2);
    assert_int_equal(c.nev, 3);
    assert_int_equal(c.ev[2].kind, FK_SESSION_SYN);
    assert_int_equal(c.ev[2].time_ns, 2 * SEC);
    fk__flow_stats st;
    fk__flow_table_stats(t, &st);
    assert_int_equal(st.created, 2);
    assert_int_equal(st.active, 1);
    assert_int_equal(st.events, 3);
    assert_int_equal(fk__flow_table_flush(t), 1);
    assert_int_equal(c.rec[1].flow.end_reason, FK_END_FORCED);
    fk__flow_table_destroy(t);
}

static void idle_timeout(void **state)
{
    (void)state;
    static capture c;
    fk__flow_table *t = table(&c, 64, 15 * SEC, 0);
    add(t, pkt4(1, 2, 1, 2, 17, 0, 100, 0));
    add(t, pkt4(3, 4, 1, 2, 17, 0, 100, 5 * SEC));
    add(t, pkt4(1, 2, 1, 2, 17, 0, 100, 6 * SEC)); /* first flow is now the newest */
    assert_int_equal(fk__flow_table_expire(t, 20 * SEC - 1), 0);
    assert_int_equal(fk__flow_table_expire(t, 20 * SEC), 1);
    assert_int_equal(c.rec[0].flow.src.bytes[3], 3);
    assert_int_equal(c.rec[0].flow.end_reason, FK_END_IDLE);
    assert_int_equal(fk__flow_table_expire(t, 21 * SEC), 1);
    assert_int_equal(c.rec[1].flow.src.bytes[3], 1);
    assert_int_equal(c.rec[1].flow.packets, 2);
    fk__flow_stats st;
    fk__flow_table_stats(t, &st);
    assert_int_equal(st.active, 0);
    fk__flow_table_destroy(t);
}

static void active_timeout(void **state)
{
    (void)state;
    static capture c;
    fk__flow_table *t = table(&c, 64, 5 * SEC, 10 * SEC);
    for (int s = 0; s <= 25; s++) {
        add(t, pkt4(1, 2, 7, 9, 17, 0, 10, s * SEC));
        fk__flow_table_expire(t, s * SEC);
    }
    /* records at 10 s and 20 s, on the packet that crossed the limit */
    assert_int_equal(c.nrec, 2);
    assert_int_equal(c.rec[0].flow.end_reason, FK_END_ACTIVE);
    assert_int_equal(c.rec[0].flow.packets, 10);
    assert_int_equal(c.rec[0].flow.start_ns, 0);
    assert_int_equal(c.rec[0].flow.end_ns, 9 * SEC);
    assert_int_equal(c.rec[1].flow.packets, 10);
    assert_int_equal(c.rec[1].flow.start_ns, 10 * SEC);
    /* no packets: the active timeout fires from expire, then idle has nothing left */
    assert_int_equal(fk__flow_table_expire(t, 30 * SEC), 1);
    assert_int_equal(c.rec[2].flow.end_reason, FK_END_IDLE);
    assert_int_equal(c.rec[2].flow.packets, 6);
    fk__flow_table_destroy(t);

    t = table(&c, 64, 100 * SEC, 10 * SEC);
    add(t, pkt4(1, 2, 7, 9, 17, 0, 10, 0));
    add(t, pkt4(1, 2, 7, 9, 17, 0, 10, 3 * SEC));
    assert_int_equal(fk__flow_table_expire(t, 10 * SEC), 1);
    assert_int_equal(c.rec[0].flow.end_reason, FK_END_ACTIVE);
    assert_int_equal(c.rec[0].flow.packets, 2);
    /* the emptied flow expires without an empty record */
    assert_int_equal(fk__flow_table_expire(t, 200 * SEC), 0);
    assert_int_equal(fk__flow_table_flush(t), 0);
    fk__flow_stats st;
    fk__flow_table_stats(t, &st);
    assert_int_equal(st.active, 0);
    fk__flow_table_destroy(t);
}

static void eviction(void **state)
{
    (void)state;
    static capture c;
    fk__flow_table *t = table(&c, 4, 600 * SEC, 0);
    for (uint32_t i = 0; i < 4; i++)
        add(t, pkt4(i + 1, 100, 1000, 80, 17, 0, 50, i * SEC));
    add(t, pkt4(1, 100, 1000, 80, 17, 0, 50, 5 * SEC)); /* flow 1 used again */
    add(t, pkt4(9, 100, 1000, 80, 17, 0, 50, 6 * SEC));
    assert_int_equal(c.nrec, 1);
    assert_int_equal(c.rec[0].flow.src.bytes[3], 2); /* least recently used */
    assert_int_equal(c.rec[0].flow.end_reason, FK_END_RESOURCES);
    /* a closed TCP flow goes first, as a normal end */
    fk__packet syn = pkt4(7, 100, 999, 443, 6, 0x02, 60, 7 * SEC);
    add(t, syn);
    assert_int_equal(c.rec[1].flow.src.bytes[3], 3);
    add(t, rev(syn, 0x14, 40, 7 * SEC + 1));
    add(t, pkt4(8, 100, 1000, 80, 17, 0, 50, 8 * SEC));
    assert_int_equal(c.nrec, 3);
    assert_int_equal(c.rec[2].flow.proto, 6);
    assert_int_equal(c.rec[2].flow.end_reason, FK_END_DETECTED);
    fk__flow_stats st;
    fk__flow_table_stats(t, &st);
    assert_int_equal(st.evicted, 2);
    assert_int_equal(st.active, 4);
    assert_int_equal(st.created, 7);
    assert_int_equal(fk__flow_table_flush(t), 4);
    fk__flow_table_destroy(t);
}

static void icmp_merge(void **state)
{
    (void)state;
    static capture c;
    fk__flow_table *t = table(&c, 64, 60 * SEC, 0);
    fk__packet req = pkt4(5, 1, 0, 8 << 8, 1, 0, 84, 0);
    fk__packet rep = rev(req, 0, 84, 1000);
    rep.src_port = 0;
    rep.dst_port = 0; /* echo reply */
    add(t, req);
    add(t, rep);
    add(t, pkt4(5, 1, 0, 3 << 8 | 3, 1, 0, 56, 2000)); /* port unreachable: other flow */
    assert_int_equal(fk__flow_table_flush(t), 2);
    const fk_flow *f = &c.rec[0].flow;
    if (f->dst_port != (8 << 8))
        f = &c.rec[1].flow;
    assert_int_equal(f->dst_port, 8 << 8);
    assert_int_equal(f->src_port, 0);
    assert_int_equal(f->src.bytes[3], 5);
    assert_int_equal(f->packets, 1);
    assert_int_equal(f->rev_packets, 1);
    /* the reply keeps its own type and code (echo reply 0/0) */
    assert_true(f->present & FK_FLOW_HAS_REV_ICMP);
    assert_int_equal(f->rev_icmp, 0);
    /* the unreachable went one way: no reverse type */
    const fk_flow *u = f == &c.rec[0].flow ? &c.rec[1].flow : &c.rec[0].flow;
    assert_int_equal(u->dst_port, 3 << 8 | 3);
    assert_false(u->present & FK_FLOW_HAS_REV_ICMP);
    fk__flow_table_destroy(t);

    /* The reply first (the request was before the capture): the flow is
     * the reply's, and the request is its reverse. A timestamp request
     * answered with code 0 of type 14. */
    t = table(&c, 64, 60 * SEC, 0);
    fk__packet tsr = pkt4(1, 5, 0, 14 << 8, 1, 0, 40, 0);
    fk__packet tsq = rev(tsr, 0, 40, 500);
    tsq.src_port = 0;
    tsq.dst_port = 13 << 8 | 0;
    add(t, tsr);
    add(t, tsq);
    add(t, tsq);
    assert_int_equal(fk__flow_table_flush(t), 1);
    assert_int_equal(c.rec[0].flow.dst_port, 14 << 8);
    assert_int_equal(c.rec[0].flow.rev_packets, 2);
    assert_true(c.rec[0].flow.present & FK_FLOW_HAS_REV_ICMP);
    assert_int_equal(c.rec[0].flow.rev_icmp, 13 << 8);
    fk__flow_table_destroy(t);

    t = table(&c, 64, 60 * SEC, 0);
    req.ip_version = 6;
    req.proto = 58;
    req.dst_port = 128 << 8;
    rep = rev(req, 0, 84, 1000);
    rep.src_port = 0;
    rep.dst_port = 129 << 8;
    add(t, req);
    add(t, rep);
    assert_int_equal(fk__flow_table_flush(t), 1);
    assert_int_equal(c.rec[0].flow.src.family, 6);
    assert_int_equal(c.rec[0].flow.rev_packets, 1);
    assert_int_equal(c.rec[0].flow.dst_port, 128 << 8);
    assert_int_equal(c.rec[0].flow.rev_icmp, 129 << 8);
    assert_true(c.rec[0].flow.present & FK_FLOW_HAS_REV_ICMP);
    fk__flow_table_destroy(t);
}

/* One IPv6 frame (raw IP) of a UDP datagram fragmented after a destination
 * options header, as decode.c sees it: frag header (nh 60), options (nh
 * 17), then the UDP header in the first fragment only. */
static fk__packet frag6(uint16_t off, uint32_t id, int64_t ts)
{
    uint8_t f[40 + 8 + 8 + 8 + 16];
    memset(f, 0, sizeof f);
    size_t n = 40 + 8 + 8 + (off ? 16 : 8 + 8);
    f[0] = 0x60;
    f[4] = (uint8_t)((n - 40) >> 8);
    f[5] = (uint8_t)(n - 40);
    f[6] = 44; /* fragment header */
    f[7] = 64;
    f[8] = 0xfd;
    f[23] = 2;
    f[24] = 0xfd;
    f[39] = 1;
    f[40] = 60; /* then destination options (the fragmentable part's first header) */
    f[42] = (uint8_t)(off >> 8);
    f[43] = (uint8_t)((off & 0xf8) | (off ? 0 : 1)); /* the first one: more fragments */
    f[44] = (uint8_t)(id >> 24);
    f[47] = (uint8_t)id;
    if (!off) {
        f[48] = 17; /* options, then UDP 5000 -> 53 */
        f[49] = 0;
        f[50] = 1;
        f[51] = 4;
        f[56] = 5000 >> 8;
        f[57] = 5000 & 0xff;
        f[59] = 53;
    }
    fk__packet p;
    assert_int_equal(fk__packet_decode(&p, f, (uint32_t)n, (uint32_t)n, FK__LINK_RAW, ts, 0),
                     FK__PKT_OK);
    return p;
}

/* An IPv6 datagram is identified by addresses and fragment id alone (RFC
 * 8200): a later fragment whose fragmentable part starts with destination
 * options (next header 60) still belongs to its first fragment (UDP, 17).
 * IPv4 keeps its protocol in the identification. */
static void fragments_next_header(void **state)
{
    (void)state;
    static capture c;
    fk__flow_table *t = table(&c, 64, 60 * SEC, 0);
    fk__packet first = frag6(0, 0x01020304, 1), later = frag6(8, 0x01020304, 2);
    assert_int_equal(first.proto, 17);
    assert_int_equal(later.proto, 60);
    add(t, first);
    add(t, later);
    fk__flow_stats st;
    fk__flow_table_stats(t, &st);
    assert_int_equal(st.frag_hits, 1);
    assert_int_equal(st.frag_misses, 0);
    assert_int_equal(fk__flow_table_flush(t), 1);
    assert_int_equal(c.rec[0].flow.proto, 17);
    assert_int_equal(c.rec[0].flow.src_port, 5000);
    assert_int_equal(c.rec[0].flow.packets, 2);
    assert_int_equal(c.rec[0].flow.bytes, (uint64_t)first.ip_len + later.ip_len);
    fk__flow_table_destroy(t);

    t = table(&c, 64, 60 * SEC, 0);
    fk__packet f4 = pkt4(1, 2, 5000, 5001, 17, 0, 1500, 0);
    f4.flags |= FK__PKT_F_FRAG | FK__PKT_F_FIRST_FRAG;
    f4.frag_id = 9;
    fk__packet l4 = f4;
    l4.flags = FK__PKT_F_FRAG;
    l4.src_port = l4.dst_port = 0;
    l4.proto = 6; /* another datagram: same id, another protocol */
    add(t, f4);
    add(t, l4);
    fk__flow_table_stats(t, &st);
    assert_int_equal(st.frag_hits, 0);
    assert_int_equal(st.frag_misses, 1);
    fk__flow_table_destroy(t);
}

static void fragments(void **state)
{
    (void)state;
    static capture c;
    fk__flow_table *t = table(&c, 64, 60 * SEC, 0);
    fk__packet first = pkt4(1, 2, 5000, 5001, 17, 0, 1500, 0);
    first.flags |= FK__PKT_F_FRAG | FK__PKT_F_FIRST_FRAG;
    first.frag_id = 77;
    fk__packet later = first;
    later.flags = FK__PKT_F_FRAG;
    later.src_port = later.dst_port = 0;
    later.ip_len = 300;
    later.ts_ns = 10;
    add(t, first);
    add(t, later);
    fk__packet stray = later; /* its first fragment was never seen */
    stray.frag_id = 78;
    add(t, stray);
    fk__flow_stats st;
    fk__flow_table_stats(t, &st);
    assert_int_equal(st.frag_hits, 1);
    assert_int_equal(st.frag_misses, 1);
    assert_int_equal(st.active, 2);
    assert_int_equal(fk__flow_table_flush(t), 2);
    for (size_t i = 0; i < 2; i++) {
        const fk_flow *f = &c.rec[i].flow;
        if (f->src_port == 5000) {
            assert_int_equal(f->packets, 2);
            assert_int_equal(f->bytes, 1800);
        } else {
            assert_int_equal(f->src_port, 0);
            assert_int_equal(f->packets, 1);
            assert_int_equal(f->bytes, 300);
        }
    }
    /* after the flow is gone, a late fragment does not land in a reused slot */
    add(t, first);
    fk__flow_table_flush(t);
    add(t, pkt4(3, 4, 1, 1, 17, 0, 10, 20));
    add(t, later);
    fk__flow_table_stats(t, &st);
    assert_int_equal(st.frag_hits, 1);
    assert_int_equal(st.frag_misses, 2);
    assert_int_equal(st.active, 2);
    fk__flow_table_destroy(t);
}

static void create_errors_and_no_alloc(void **state)
{
    (void)state;
    fk__flow_config cfg;
    fk__flow_config_default(&cfg);
    assert_int_equal(cfg.max_flows, 65536);
    assert_int_equal(cfg.idle_timeout_ns, 15 * SEC);
    fk__flow_table *t = NULL;
    cfg.max_flows = 0;
    assert_int_equal(fk__flow_table_create(&t, &cfg, NULL), FK_EINVAL);
    cfg.max_flows = 10;
    cfg.idle_timeout_ns = -1;
    assert_int_equal(fk__flow_table_create(&t, &cfg, NULL), FK_EINVAL);
    cfg.idle_timeout_ns = SEC;
    for (unsigned long n = 1; n <= 6; n++) {
        fk_test_alloc_fail_at(n, 1);
        int rc = fk__flow_table_create(&t, &cfg, NULL);
        if (n <= 5) {
            assert_int_equal(rc, FK_ENOMEM);
            assert_null(t);
        } else {
            assert_int_equal(rc, 0);
            fk__flow_table_destroy(t);
        }
        assert_int_equal(fk_test_alloc_live(), 0);
        fk_test_alloc_reset();
    }
    fk__flow_table_destroy(NULL);

    /* the packet path never allocates, with or without a sink */
    cfg.max_flows = 100;
    assert_int_equal(fk__flow_table_create(&t, &cfg, NULL), 0);
    fk_test_alloc_fail_at(1, 1);
    for (uint32_t i = 0; i < 1000; i++) {
        fk__packet p = pkt4(i % 300, 7, (uint16_t)i, 80, 6, i % 7 ? 0x10 : 0x02, 40, i * 1000);
        assert_int_equal(fk__flow_table_add(t, &p), 0);
        fk__flow_table_expire(t, i * 1000);
    }
    assert_int_equal(fk_test_alloc_calls(), 0);
    fk_test_alloc_reset();
    fk__packet bad;
    memset(&bad, 0, sizeof bad);
    assert_int_equal(fk__flow_table_add(t, &bad), FK_EINVAL);
    fk__flow_table_destroy(t);
}

/* Many flows through a small table with random expiry: every packet ends
 * up in exactly one record, and no flow is split while it stays live. */
static void stress_accounting(void **state)
{
    (void)state;
    static capture c;
    fk__flow_table *t = table(&c, 512, 3 * SEC, 0);
    srand(1234);
    uint64_t pk = 0, by = 0, rp = 0, rb = 0;
    for (int i = 0; i < 200000; i++) {
        uint32_t k = (uint32_t)rand() % 700;
        int64_t ts = (int64_t)i * 100000; /* 10 k packets per second */
        fk__packet p = pkt4(k, 1000 + k % 3, (uint16_t)(k * 13), 443, 17, 0, 40 + k % 50, ts);
        if (rand() & 1)
            p = rev(p, 0, p.ip_len, ts);
        add(t, p);
        pk++;
        by += p.ip_len;
        if (i % 1000 == 0)
            fk__flow_table_expire(t, ts);
        if (c.nrec > MAXREC - 700) {
            for (size_t r = 0; r < c.nrec; r++) {
                rp += c.rec[r].flow.packets + c.rec[r].flow.rev_packets;
                rb += c.rec[r].flow.bytes + c.rec[r].flow.rev_bytes;
            }
            c.nrec = 0;
        }
    }
    fk__flow_table_flush(t);
    for (size_t r = 0; r < c.nrec; r++) {
        rp += c.rec[r].flow.packets + c.rec[r].flow.rev_packets;
        rb += c.rec[r].flow.bytes + c.rec[r].flow.rev_bytes;
    }
    assert_int_equal(rp, pk);
    assert_int_equal(rb, by);
    fk__flow_stats st;
    fk__flow_table_stats(t, &st);
    assert_true(st.evicted > 0);
    assert_int_equal(st.active, 0);
    fk__flow_table_destroy(t);

    /* no expiry, room for all: 5000 keys twice each -> 5000 records of 2 */
    t = table(&c, 8192, 0, 0);
    for (int round = 0; round < 2; round++)
        for (uint32_t k = 0; k < 5000; k++) {
            uint32_t j = round ? 4999 - k : k;
            fk__packet p = pkt4(j, 1, (uint16_t)j, 53, 17, 0, 100, round);
            add(t, round ? rev(p, 0, 100, 1) : p);
        }
    fk__flow_table_stats(t, &st);
    assert_int_equal(st.created, 5000);
    assert_int_equal(fk__flow_table_flush(t), 5000);
    for (size_t r = 0; r < c.nrec; r++) {
        assert_int_equal(c.rec[r].flow.packets, 1);
        assert_int_equal(c.rec[r].flow.rev_packets, 1);
    }
    fk__flow_table_destroy(t);
}

/* Batched adds are exactly single adds: same records and events, same order,
 * through evictions, port reuse, fragments and non-IP entries. */
static void batch_equals_single(void **state)
{
    (void)state;
    static capture one, many;
    fk__flow_table *a = table(&one, 64, 2 * SEC, 5 * SEC);
    fk__flow_table *b = table(&many, 64, 2 * SEC, 5 * SEC);
    srand(99);
    static fk__packet pk[20000];
    for (size_t i = 0; i < 20000; i++) {
        uint32_t f = (uint32_t)rand() % 150;
        static const uint8_t fl[] = {0x02, 0x12, 0x10, 0x18, 0x11, 0x04, 0x14, 0x10};
        pk[i] = pkt4(f, 500 + f % 2, (uint16_t)(1000 + f), 80, f % 5 ? 6 : 17,
                     f % 5 ? fl[rand() % 8] : 0, 40 + f, (int64_t)i * 1000000);
        if (rand() & 1)
            pk[i] = rev(pk[i], pk[i].tcp_flags, pk[i].ip_len, pk[i].ts_ns);
        if (i % 97 == 0) { /* a first fragment and, now and then, its later part */
            pk[i].flags |= FK__PKT_F_FRAG | FK__PKT_F_FIRST_FRAG;
            pk[i].frag_id = (uint32_t)i;
        } else if (i % 97 == 1) {
            pk[i] = pk[i - 1];
            pk[i].flags = FK__PKT_F_FRAG;
            pk[i].src_port = pk[i].dst_port = 0;
            pk[i].ts_ns += 1;
        } else if (i % 211 == 0) {
            pk[i].ip_version = 0; /* skipped by the batch, like a failed decode */
        }
    }
    size_t i = 0, counted = 0, valid = 0;
    while (i < 20000) {
        size_t n = 1 + (size_t)rand() % 70;
        if (n > 20000 - i)
            n = 20000 - i;
        for (size_t j = i; j < i + n; j++)
            if (pk[j].ip_version) {
                assert_int_equal(fk__flow_table_add(a, &pk[j]), 0);
                valid++;
            }
        counted += fk__flow_table_add_batch(b, pk + i, n);
        i += n;
        fk__flow_table_expire(a, pk[i - 1].ts_ns);
        fk__flow_table_expire(b, pk[i - 1].ts_ns);
        assert_int_equal(one.nrec, many.nrec);
        assert_int_equal(one.nev, many.nev);
        assert_memory_equal(one.rec, many.rec, one.nrec * sizeof one.rec[0]);
        assert_memory_equal(one.ev, many.ev, one.nev * sizeof one.ev[0]);
        one.nrec = many.nrec = one.nev = many.nev = 0;
    }
    assert_int_equal(counted, valid);
    fk__flow_table_flush(a);
    fk__flow_table_flush(b);
    assert_int_equal(one.nrec, many.nrec);
    assert_memory_equal(one.rec, many.rec, one.nrec * sizeof one.rec[0]);
    fk__flow_stats sa, sb;
    fk__flow_table_stats(a, &sa);
    fk__flow_table_stats(b, &sb);
    assert_memory_equal(&sa, &sb, sizeof sa);
    assert_true(sa.evicted > 0 && sa.frag_hits > 0 && sa.events > 0);
    fk__flow_table_destroy(a);
    fk__flow_table_destroy(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bidirectional_merge),
        cmocka_unit_test(symmetric_hash),
        cmocka_unit_test(tcp_session_fin),
        cmocka_unit_test(tcp_rst_and_port_reuse),
        cmocka_unit_test(idle_timeout),
        cmocka_unit_test(active_timeout),
        cmocka_unit_test(eviction),
        cmocka_unit_test(icmp_merge),
        cmocka_unit_test(fragments),
        cmocka_unit_test(fragments_next_header),
        cmocka_unit_test(create_errors_and_no_alloc),
        cmocka_unit_test(stress_accounting),
        cmocka_unit_test(batch_equals_single),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
