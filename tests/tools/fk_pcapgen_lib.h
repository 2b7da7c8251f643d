/* Test pcap generator (header-only core, used by fk_pcapgen and by tests).
 *
 * Writes a pcap file (nanosecond format by default, magic 0xa1b23c4d; or
 * microsecond 0xa1b2c3d4) with a seeded traffic mix and the exact ground
 * truth as JSON lines:
 *   {"type":"event","event":"syn|fin|rst","time_ns":N,"src_addr",...}   in packet order
 *   {"type":"flow","kind":...,"src_addr",...,"end_reason":R}             one per flow
 *   {"type":"summary","packets":N,"ip_packets":N,"non_ip":N,"flows":N,"events":N,"bytes":N}
 *
 * Ground-truth rules (they mirror the documented flow-table contract):
 * forward = the direction of the flow's first packet (always the client);
 * bytes are IP-layer bytes (pb_ip_len); a TCP flow closed by FIN from both
 * sides or by RST ends with reason 3; any other flow with reason 1 when the
 * last packet of the file is at least idle_s after its own last packet, else
 * 4 (final flush). The consumer must call its expiry with each packet's time,
 * keep room for every flow (no eviction), disable the active timeout, and
 * use a TCP linger >= 0.2 s (close sequences are spaced at most 200 ms).
 * Inside a flow packets are spaced less than idle_s / 3 apart. Every flow has
 * its own 5-tuple. Later IPv4/IPv6 fragments directly follow their first
 * fragment with the same timestamp. Timestamps are whole microseconds, so
 * both file formats are exact. */
#ifndef FK_PCAPGEN_LIB_H
#define FK_PCAPGEN_LIB_H

#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fk_pktbuild.h"

typedef struct gen_opts {
    uint64_t seed;
    uint32_t flows;        /* number of flows */
    uint64_t packets;      /* target total packets (approximate; truth is exact) */
    int link;              /* PB_LINK_* */
    double idle_s;         /* consumer's idle timeout, for end reasons */
    double span_s;         /* flow start times spread over this many seconds */
    uint32_t snaplen;      /* captured bytes per frame */
    int usec;              /* 1: microsecond pcap format */
    int pct_v6;            /* percent of flows over IPv6 */
    int pct_vlan;          /* percent of flows with VLAN tags (Ethernet / SLL links) */
    int pct_non_ip;        /* per-mille of extra ARP frames */
    int64_t start_ns;      /* time of the first flow start */
    int write_truth_flows; /* 0: only the summary line (huge benchmark files) */
} gen_opts;

static inline void gen_opts_default(gen_opts *o)
{
    memset(o, 0, sizeof *o);
    o->seed = 1;
    o->flows = 200;
    o->packets = 5000;
    o->link = PB_LINK_EN10MB;
    o->idle_s = 15;
    o->span_s = 30;
    o->snaplen = 65535;
    o->pct_v6 = 30;
    o->pct_vlan = 20;
    o->pct_non_ip = 5;
    o->start_ns = 1700000000LL * 1000000000LL;
    o->write_truth_flows = 1;
}

enum { K_TCP_FIN, K_TCP_RST, K_TCP_REFUSED, K_UDP, K_ICMP, K_UDP_FRAG, K_COUNT };
static const char *const gen_kind_name[K_COUNT] = {"tcp_fin", "tcp_rst", "tcp_refused",
                                                   "udp",     "icmp",    "udp_frag"};

typedef struct gen_flow {
    uint8_t kind;
    uint8_t v6;
    uint8_t nvlan;
    uint8_t rst_side;
    uint16_t vlan[2];
    uint16_t cport, sport;
    uint8_t caddr[16], saddr[16];
    uint32_t total; /* planned packets */
    uint32_t i;     /* next packet index */
    uint32_t seq[2];
    int64_t next_ts; /* us since start */
    /* truth */
    uint64_t bytes[2], pkts[2];
    int64_t first[2], last[2];
    uint8_t flags[2];
    uint8_t syn, fin[2], rst;
    uint16_t icmp_first;
} gen_flow;

typedef struct gen_state {
    gen_opts o;
    uint64_t rng;
    gen_flow *flows;
    uint32_t *heap; /* flow indices by next_ts */
    uint32_t nheap;
    FILE *pcap, *truth;
    uint64_t npk, nip, nnonip, nev, nbytes;
    int64_t max_ts;
    uint32_t frag_id;
    uint8_t frame[4096];
} gen_state;

static inline uint64_t gen_rand(gen_state *g)
{
    /* splitmix64 */
    uint64_t z = (g->rng += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static inline uint32_t gen_range(gen_state *g, uint32_t lo, uint32_t hi) /* [lo, hi] */
{
    return lo + (uint32_t)(gen_rand(g) % ((uint64_t)hi - lo + 1));
}

static inline int gen_link_has_vlan(int link)
{
    return link == PB_LINK_EN10MB || link == PB_LINK_SLL || link == PB_LINK_SLL2;
}

static void gen_heap_push(gen_state *g, uint32_t f)
{
    uint32_t i = g->nheap++;
    g->heap[i] = f;
    while (i > 0) {
        uint32_t p = (i - 1) / 2;
        gen_flow *a = &g->flows[g->heap[i]], *b = &g->flows[g->heap[p]];
        if (b->next_ts < a->next_ts || (b->next_ts == a->next_ts && g->heap[p] < g->heap[i]))
            break;
        uint32_t t = g->heap[i];
        g->heap[i] = g->heap[p];
        g->heap[p] = t;
        i = p;
    }
}

static uint32_t gen_heap_pop(gen_state *g)
{
    uint32_t top = g->heap[0];
    g->heap[0] = g->heap[--g->nheap];
    uint32_t i = 0;
    for (;;) {
        uint32_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < g->nheap) {
            gen_flow *a = &g->flows[g->heap[l]], *b = &g->flows[g->heap[m]];
            if (a->next_ts < b->next_ts || (a->next_ts == b->next_ts && g->heap[l] < g->heap[m]))
                m = l;
        }
        if (r < g->nheap) {
            gen_flow *a = &g->flows[g->heap[r]], *b = &g->flows[g->heap[m]];
            if (a->next_ts < b->next_ts || (a->next_ts == b->next_ts && g->heap[r] < g->heap[m]))
                m = r;
        }
        if (m == i)
            break;
        uint32_t t = g->heap[i];
        g->heap[i] = g->heap[m];
        g->heap[m] = t;
        i = m;
    }
    return top;
}

static void gen_put_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static int gen_write_frame(gen_state *g, int64_t ts_ns, const uint8_t *f, size_t len)
{
    uint8_t h[16];
    int64_t sec = ts_ns / 1000000000LL;
    int64_t sub = ts_ns % 1000000000LL;
    if (g->o.usec)
        sub /= 1000;
    uint32_t cap = len < g->o.snaplen ? (uint32_t)len : g->o.snaplen;
    gen_put_le32(h, (uint32_t)sec);
    gen_put_le32(h + 4, (uint32_t)sub);
    gen_put_le32(h + 8, cap);
    gen_put_le32(h + 12, (uint32_t)len);
    if (fwrite(h, 1, 16, g->pcap) != 16 || fwrite(f, 1, cap, g->pcap) != cap)
        return -1;
    g->npk++;
    if (ts_ns > g->max_ts)
        g->max_ts = ts_ns;
    return 0;
}

static void gen_addr_text(char *buf, size_t size, const uint8_t *a, int v6)
{
    inet_ntop(v6 ? AF_INET6 : AF_INET, a, buf, (socklen_t)size);
}

static void gen_event(gen_state *g, const char *what, int64_t ts, const pb_spec *s, uint16_t vlan)
{
    g->nev++;
    if (!g->o.write_truth_flows)
        return;
    char a[64], b[64];
    gen_addr_text(a, sizeof a, s->src, s->ipv == 6);
    gen_addr_text(b, sizeof b, s->dst, s->ipv == 6);
    fprintf(g->truth,
            "{\"type\":\"event\",\"event\":\"%s\",\"time_ns\":%" PRId64
            ",\"src_addr\":\"%s\",\"dst_addr\":\"%s\",\"src_port\":%u,\"dst_port\":%u,"
            "\"proto\":%u,\"vlan\":%u}\n",
            what, ts, a, b, s->sport, s->dport, s->proto, vlan);
}

/* Describe packet f->i of a flow: fills spec and the sending side
 * (0 client, 1 server); returns the gap in us before the following packet. */
static int64_t gen_plan(gen_state *g, gen_flow *f, pb_spec *s, int *side)
{
    uint32_t i = f->i, n = f->total;
    int64_t maxgap = (int64_t)(g->o.idle_s * 1e6 / 3);
    if (maxgap > 2000000)
        maxgap = 2000000;
    if (maxgap < 2)
        maxgap = 2;
    int64_t rtt = gen_range(g, 1, 200000); /* close sequence: <= 200 ms */
    int64_t gap = gen_range(g, 1, (uint32_t)maxgap);
    memset(s, 0, sizeof *s);
    s->link = g->o.link;
    s->ipv = f->v6 ? 6 : 4;
    s->nvlan = f->nvlan;
    s->vlan[0] = f->vlan[0];
    s->vlan[1] = f->vlan[1];
    s->vlan_tpid = f->nvlan == 2 ? 0x88a8 : 0x8100;
    s->tos = (uint8_t)(f->kind * 8);
    *side = 0;
    switch (f->kind) {
    case K_TCP_FIN:
    case K_TCP_RST:
    case K_TCP_REFUSED: {
        s->proto = 6;
        uint32_t data_end = f->kind == K_TCP_FIN ? n - 4 : n - 1;
        if (f->kind == K_TCP_REFUSED) {
            *side = i == 0 ? 0 : 1;
            s->tcp_flags = i == 0 ? 0x02 : 0x14;
            gap = rtt;
        } else if (i == 0) {
            s->tcp_flags = 0x02;
            gap = rtt;
        } else if (i == 1) {
            *side = 1;
            s->tcp_flags = 0x12;
            gap = rtt;
        } else if (i == 2) {
            s->tcp_flags = 0x10;
        } else if (i < data_end) {
            *side = (int)(gen_rand(g) & 1);
            s->tcp_flags = 0x18;
            s->payload = (uint16_t)gen_range(g, 1, 1400);
            if (i + 1 == data_end)
                gap = rtt;
        } else if (f->kind == K_TCP_RST) {
            *side = f->rst_side;
            s->tcp_flags = f->rst_side ? 0x14 : 0x04;
        } else {
            static const uint8_t fl[4] = {0x11, 0x10, 0x11, 0x10};
            static const int sd[4] = {0, 1, 1, 0};
            uint32_t k = i - data_end;
            *side = sd[k];
            s->tcp_flags = fl[k];
            gap = rtt;
        }
        s->seq = f->seq[*side];
        s->ack = f->seq[1 - *side];
        f->seq[*side] += s->payload + ((s->tcp_flags & 0x03) ? 1u : 0u);
        break;
    }
    case K_UDP:
        s->proto = 17;
        *side = i == 0 ? 0 : (int)(gen_rand(g) & 1);
        s->payload = (uint16_t)gen_range(g, 8, 1200);
        break;
    case K_ICMP:
        s->proto = f->v6 ? 58 : 1;
        *side = (int)(i & 1);
        if (f->v6)
            s->dport = (uint16_t)((*side ? 129 : 128) << 8);
        else
            s->dport = (uint16_t)((*side ? 0 : 8) << 8);
        s->payload = 56;
        gap = *side ? gap : rtt;
        break;
    case K_UDP_FRAG:
        s->proto = 17;
        s->frag = 1;
        *side = 0;
        s->payload = (uint16_t)(f->v6 ? 1232 - 8 : 1480 - 8); /* first fragment */
        s->more_frags = 1;
        s->frag_id = ++g->frag_id;
        gap = 0; /* the later fragment follows at the same time */
        break;
    default:
        break;
    }
    const uint8_t *src = *side ? f->saddr : f->caddr;
    const uint8_t *dst = *side ? f->caddr : f->saddr;
    memcpy(s->src, src, 16);
    memcpy(s->dst, dst, 16);
    if (s->proto == 6 || s->proto == 17) {
        s->sport = *side ? f->sport : f->cport;
        s->dport = *side ? f->cport : f->sport;
    } else {
        s->sport = f->cport; /* ICMP identifier */
    }
    return gap;
}

static void gen_account(gen_state *g, gen_flow *f, int side, const pb_spec *s, int64_t ts)
{
    uint32_t len = pb_ip_len(s);
    if (f->pkts[side] == 0)
        f->first[side] = ts;
    f->last[side] = ts;
    f->pkts[side]++;
    f->bytes[side] += len;
    f->flags[side] |= s->tcp_flags;
    g->nip++;
    g->nbytes += len;
    if (s->proto == 6) {
        if ((s->tcp_flags & 0x02) && !f->syn) {
            f->syn = 1;
            gen_event(g, "syn", ts, s, f->vlan[0]);
        }
        if ((s->tcp_flags & 0x01) && !f->fin[side]) {
            f->fin[side] = 1;
            gen_event(g, "fin", ts, s, f->vlan[0]);
        }
        if ((s->tcp_flags & 0x04) && !f->rst) {
            f->rst = 1;
            gen_event(g, "rst", ts, s, f->vlan[0]);
        }
    }
}

static int gen_emit(gen_state *g, const pb_spec *s, int64_t ts)
{
    size_t len = pb_build(g->frame, sizeof g->frame, s);
    if (!len)
        return -1;
    return gen_write_frame(g, ts, g->frame, len);
}

static void gen_make_flow(gen_state *g, uint32_t idx, gen_flow *f, uint32_t avg)
{
    memset(f, 0, sizeof *f);
    uint32_t r = gen_range(g, 0, 99);
    f->kind = r < 40   ? K_TCP_FIN
              : r < 50 ? K_TCP_RST
              : r < 55 ? K_TCP_REFUSED
              : r < 80 ? K_UDP
              : r < 92 ? K_ICMP
                       : K_UDP_FRAG;
    f->v6 = gen_range(g, 0, 99) < (uint32_t)g->o.pct_v6;
    if (gen_link_has_vlan(g->o.link) && gen_range(g, 0, 99) < (uint32_t)g->o.pct_vlan) {
        f->nvlan = (uint8_t)gen_range(g, 1, 2);
        f->vlan[0] = (uint16_t)gen_range(g, 1, 4094);
        f->vlan[1] = f->nvlan == 2 ? (uint16_t)gen_range(g, 1, 4094) : 0;
    }
    /* unique client per flow: 10.(idx>>16).(idx>>8).idx / fd00:213::idx */
    if (f->v6) {
        static const uint8_t c6[16] = {0xfd, 0x00, 0x02, 0x13, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
        static const uint8_t s6[16] = {0xfd, 0x00, 0x02, 0x13, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0};
        memcpy(f->caddr, c6, 16);
        memcpy(f->saddr, s6, 16);
        f->caddr[12] = (uint8_t)(idx >> 24);
        f->caddr[13] = (uint8_t)(idx >> 16);
        f->caddr[14] = (uint8_t)(idx >> 8);
        f->caddr[15] = (uint8_t)idx;
        f->saddr[15] = (uint8_t)gen_range(g, 1, 20);
    } else {
        f->caddr[0] = 10;
        f->caddr[1] = (uint8_t)(idx >> 16);
        f->caddr[2] = (uint8_t)(idx >> 8);
        f->caddr[3] = (uint8_t)idx;
        f->saddr[0] = 192;
        f->saddr[1] = 0;
        f->saddr[2] = 2;
        f->saddr[3] = (uint8_t)gen_range(g, 1, 20);
    }
    f->cport = (uint16_t)gen_range(g, 1024, 65535);
    static const uint16_t sports[] = {80, 443, 22, 53, 123, 8080, 5432, 6379};
    f->sport = sports[gen_range(g, 0, 7)];
    f->seq[0] = (uint32_t)gen_rand(g);
    f->seq[1] = (uint32_t)gen_rand(g);
    f->rst_side = (uint8_t)(gen_rand(g) & 1);
    uint32_t want = avg ? gen_range(g, 1, 2 * avg - 1) : 1;
    switch (f->kind) {
    case K_TCP_FIN:
        f->total = want < 7 ? 7 : want;
        break;
    case K_TCP_RST:
        f->total = want < 4 ? 4 : want;
        break;
    case K_TCP_REFUSED:
        f->total = 2;
        break;
    case K_UDP_FRAG:
        f->total = want < 2 ? 2 : want & ~1u; /* pairs */
        break;
    default:
        f->total = want;
        break;
    }
    f->next_ts = (int64_t)(gen_rand(g) % (uint64_t)(g->o.span_s * 1e6 + 1));
}

static int gen_write_flow(gen_state *g, const gen_flow *f)
{
    char a[64], b[64];
    gen_addr_text(a, sizeof a, f->caddr, f->v6);
    gen_addr_text(b, sizeof b, f->saddr, f->v6);
    unsigned proto = f->kind <= K_TCP_REFUSED ? 6 : f->kind == K_ICMP ? (f->v6 ? 58 : 1) : 17;
    unsigned sp = proto == 1 || proto == 58 ? 0 : f->cport;
    unsigned dp = proto == 1 ? 8u << 8 : proto == 58 ? 128u << 8 : f->sport;
    int closed = f->rst || (f->fin[0] && f->fin[1]);
    int64_t last = f->last[0] > f->last[1] ? f->last[0] : f->last[1];
    int reason = closed ? 3 : (g->max_ts - last >= (int64_t)(g->o.idle_s * 1e9) ? 1 : 4);
    int64_t start = f->first[0];
    if (f->pkts[1] && f->first[1] < start)
        start = f->first[1];
    return fprintf(g->truth,
                   "{\"type\":\"flow\",\"kind\":\"%s\",\"src_addr\":\"%s\",\"dst_addr\":\"%s\","
                   "\"src_port\":%u,\"dst_port\":%u,\"proto\":%u,\"vlan\":%u,\"bytes\":%" PRIu64
                   ",\"packets\":%" PRIu64 ",\"rev_bytes\":%" PRIu64 ",\"rev_packets\":%" PRIu64
                   ",\"start_ns\":%" PRId64 ",\"end_ns\":%" PRId64 ",\"fwd_first_ns\":%" PRId64
                   ",\"fwd_last_ns\":%" PRId64 ",\"rev_first_ns\":%" PRId64
                   ",\"rev_last_ns\":%" PRId64 ",\"tcp_flags\":%u,\"rev_tcp_flags\":%u,"
                   "\"end_reason\":%d}\n",
                   gen_kind_name[f->kind], a, b, sp, dp, proto, f->vlan[0], f->bytes[0], f->pkts[0],
                   f->bytes[1], f->pkts[1], start, last, f->first[0], f->last[0],
                   f->pkts[1] ? f->first[1] : 0, f->pkts[1] ? f->last[1] : 0, f->flags[0],
                   f->flags[1], reason) < 0
               ? -1
               : 0;
}

/* Generate; returns 0 or -1 (I/O or allocation failure). */
static int gen_run(const gen_opts *o, FILE *pcap, FILE *truth)
{
    gen_state *g = calloc(1, sizeof *g);
    if (!g)
        return -1;
    g->o = *o;
    g->rng = o->seed;
    g->pcap = pcap;
    g->truth = truth;
    int rc = -1;
    uint32_t nf = o->flows ? o->flows : 1;
    g->flows = calloc(nf, sizeof *g->flows);
    g->heap = calloc(nf, sizeof *g->heap);
    if (!g->flows || !g->heap)
        goto out;
    uint8_t gh[24];
    gen_put_le32(gh, o->usec ? 0xa1b2c3d4u : 0xa1b23c4du);
    gh[4] = 2;
    gh[5] = 0;
    gh[6] = 4;
    gh[7] = 0;
    memset(gh + 8, 0, 8);
    gen_put_le32(gh + 16, o->snaplen);
    gen_put_le32(gh + 20, (uint32_t)o->link);
    if (fwrite(gh, 1, sizeof gh, pcap) != sizeof gh)
        goto out;
    uint32_t avg = (uint32_t)(o->packets / nf);
    if (avg < 1)
        avg = 1;
    for (uint32_t i = 0; i < nf; i++) {
        gen_make_flow(g, i, &g->flows[i], avg);
        gen_heap_push(g, i);
    }
    while (g->nheap) {
        uint32_t fi = gen_heap_pop(g);
        gen_flow *f = &g->flows[fi];
        int64_t ts = o->start_ns + f->next_ts * 1000;
        pb_spec s;
        int side;
        int64_t gap = gen_plan(g, f, &s, &side);
        if (gen_emit(g, &s, ts))
            goto out;
        gen_account(g, f, side, &s, ts);
        f->i++;
        if (f->kind == K_UDP_FRAG) { /* the later fragment, same time */
            pb_spec l = s;
            l.more_frags = 0;
            l.frag_off = (uint16_t)(s.payload + 8);
            l.payload = (uint16_t)gen_range(g, 8, 600);
            if (gen_emit(g, &l, ts))
                goto out;
            gen_account(g, f, side, &l, ts);
            f->i++;
            gap = gen_range(g, 1, 1000000);
        }
        /* an ARP frame now and then */
        if (o->pct_non_ip && gen_link_has_vlan(o->link) &&
            gen_range(g, 0, 999) < (uint32_t)o->pct_non_ip) {
            pb_spec arp = s;
            arp.ethertype = 0x0806;
            arp.nvlan = 0;
            if (gen_emit(g, &arp, ts))
                goto out;
            g->nnonip++;
        }
        if (f->i < f->total) {
            f->next_ts += gap;
            gen_heap_push(g, fi);
        }
    }
    if (o->write_truth_flows)
        for (uint32_t i = 0; i < nf; i++)
            if (gen_write_flow(g, &g->flows[i]))
                goto out;
    if (fprintf(truth,
                "{\"type\":\"summary\",\"packets\":%" PRIu64 ",\"ip_packets\":%" PRIu64
                ",\"non_ip\":%" PRIu64 ",\"flows\":%u,\"events\":%" PRIu64 ",\"bytes\":%" PRIu64
                ",\"last_ns\":%" PRId64 "}\n",
                g->npk, g->nip, g->nnonip, nf, g->nev, g->nbytes, g->max_ts) < 0)
        goto out;
    rc = 0;
out:
    free(g->flows);
    free(g->heap);
    free(g);
    return rc;
}

#endif /* FK_PCAPGEN_LIB_H */
