/* The full parsers of the eBPF capture backend: a frame the fast parser
 * leaves (fk_tc_full, fk_xdp_full: IPv6 extension headers, more VLAN tags),
 * and the inner-packet parser (fk_tc_inner, fk_xdp_inner): a VXLAN (RFC 7348)
 * or GENEVE (RFC 8926) datagram's inner packet, decoded as the pcap path
 * decodes it (lib/packet/decode.c: decode_tunnel), so both backends give
 * the same flows:
 *   - VXLAN: I flag set; GENEVE: version 0, options skipped, an Ethernet
 *     payload (0x6558) or a bare IPv4/IPv6 packet (told by its version);
 *   - up to 8 VLAN tags (802.1Q, 802.1ad, 0x9100) on an inner Ethernet
 *     frame, the first tag's id in the key;
 *   - IPv6 extension headers walked (hop-by-hop first only, routing,
 *     destination options, mobility, HIP, shim6, AH, fragment), at most 16;
 *   - lengths checked against the outer datagram's end: an inner packet
 *     that is cut, malformed or not IP leaves the outer datagram as the
 *     flow, without tunnel fields.
 * Not done here (the pcap path does them): a tunnel inside the tunnel, and
 * an inner jumbogram's length option (one cannot fit in a UDP datagram).
 *
 * The full outer parser reads no header beyond INNER_MAX_OFF bytes into
 * the frame (decode.c: the snaplen) and no jumbogram length option.
 *
 * Included by flow.bpf.c: one BPF object, so these programs share its maps
 * and fk_count. The outer program (fk_tc_ingress/egress, fk_xdp) fills
 * fk_handoff and tail-calls fk_tc_full / fk_xdp_full (SLOT_FULL) or
 * fk_tc_inner / fk_xdp_inner (SLOT_INNER) through its prog array; the full
 * parser may tail-call the inner one in turn, through fk_tc_next_progs /
 * fk_xdp_next_progs (no program sits in an array it tail-calls through). Each has the verifier's
 * budget to itself (walking even two extension headers inline took the tc
 * program past it, and the full parser and the inner one in one program
 * past the million instructions the verifier walks). */

#define INNER_MAX_OFF 1024              /* no header is read beyond this offset of the frame */
#define INNER_PULL (INNER_MAX_OFF + 64) /* tc: bytes made linear before headers are read */
#define INNER_MAX_EXT 16                /* IPv6 extension headers, as decode.c's MAX_IP6_EXT */
#define INNER_MAX_VLAN 8

/* need bytes at off, or NULL when they do not all lie before lim (the
 * readable end of the datagram) and the packet's end. */
static __always_inline __u8 *inner_at(__u8 *data, __u8 *end, __u32 lim, __u32 off, __u32 need)
{
    if (off > INNER_MAX_OFF || off + need > lim)
        return 0;
    __u8 *q = data + off;
    if (q + need > end)
        return 0;
    return q;
}

/* The L4 header at off (lim: where the datagram's readable bytes end).
 * 0, or -1 when cut or invalid. */
static __always_inline int inner_l4(__u8 *data, __u8 *end, __u32 off, __u32 lim, struct pkt *q)
{
    __u8 *l4;
    if (q->proto == 6) {
        l4 = inner_at(data, end, lim, off, 20);
        if (!l4 || (l4[12] >> 4) < 5)
            return -1;
        q->tcp_flags = l4[13];
    } else if (q->proto == 17 || q->proto == 136) {
        l4 = inner_at(data, end, lim, off, 8);
    } else if (q->proto == 132) {
        l4 = inner_at(data, end, lim, off, 12);
    } else if (q->proto == 1 || q->proto == 58) {
        l4 = inner_at(data, end, lim, off, 4);
        if (!l4)
            return -1;
        q->sport = 0;
        q->dport = ((__u16)l4[0] << 8) | l4[1];
        q->has_l4 = 1;
        q->l4_off = off;
        return 0;
    } else {
        return 0; /* no ports: counted by addresses and protocol */
    }
    if (!l4)
        return -1;
    q->sport = ((__u16)l4[0] << 8) | l4[1];
    q->dport = ((__u16)l4[2] << 8) | l4[3];
    q->has_l4 = 1;
    q->l4_off = off;
    return 0;
}

static __always_inline int inner_ipv4(__u8 *data, __u8 *end, __u32 off, __u32 lim, __u32 wire_len,
                                      struct pkt *q)
{
    __u8 *ip = inner_at(data, end, lim, off, 20);
    if (!ip || (ip[0] >> 4) != 4)
        return -1;
    __u32 ihl = (__u32)(ip[0] & 0x0f) * 4;
    if (ihl < 20 || off + ihl > lim)
        return -1;
    __u32 tot = ((__u32)ip[2] << 8) | ip[3];
    if (tot == 0 && wire_len > off) /* TSO: the length left to the device */
        tot = wire_len - off;
    if (tot < ihl)
        return -1;
    q->family = 4;
    q->tos = ip[1];
    q->proto = ip[9];
    __builtin_memcpy(q->src, ip + 12, 4);
    __builtin_memcpy(q->dst, ip + 16, 4);
    q->ip_len = tot;
    __u32 fword = ((__u32)ip[6] << 8) | ip[7];
    if (fword & 0x3fff) {
        q->frag_id = ((__u32)ip[4] << 8) | ip[5];
        if (fword & 0x1fff) {
            q->frag = FRAG_LATER;
            return 0; /* no ports */
        }
        q->frag = FRAG_FIRST;
    }
    __u32 ip_end = off + tot;
    return inner_l4(data, end, off + ihl, ip_end < lim ? ip_end : lim, q);
}

static __always_inline int inner_ipv6(__u8 *data, __u8 *end, __u32 off, __u32 lim, __u32 wire_len,
                                      struct pkt *q)
{
    __u8 *ip = inner_at(data, end, lim, off, 40);
    if (!ip || (ip[0] >> 4) != 6)
        return -1;
    q->family = 6;
    q->tos = (__u8)(((ip[0] & 0x0f) << 4) | (ip[1] >> 4));
    __builtin_memcpy(q->src, ip + 8, 16);
    __builtin_memcpy(q->dst, ip + 24, 16);
    __u32 plen = ((__u32)ip[4] << 8) | ip[5];
    __u8 nh = ip[6];
    if (plen == 0 && wire_len > off + 40) /* GSO (or a jumbogram: see above) */
        plen = wire_len - off - 40;
    __u32 ip_end = off + 40 + plen;
    __u32 l = ip_end < lim ? ip_end : lim;
    __u32 cur = off + 40;
    int n;
    for (n = 0; n <= INNER_MAX_EXT; n++) {
        if (nh == 44) { /* fragment */
            __u8 *fh = inner_at(data, end, l, cur, 8);
            if (!fh)
                return -1;
            __u32 foff = (((__u32)fh[2] << 8) | fh[3]) & 0xfff8;
            q->frag_id = ((__u32)fh[4] << 24) | ((__u32)fh[5] << 16) | ((__u32)fh[6] << 8) | fh[7];
            nh = fh[0];
            cur += 8;
            if (foff) {
                /* after a first fragment's header it stays a first
                 * fragment, without ports (decode.c's flags) */
                if (q->frag != FRAG_FIRST)
                    q->frag = FRAG_LATER;
                q->proto = nh;
                q->ip_len = ip_end - off;
                return 0; /* no ports */
            }
            q->frag = FRAG_FIRST;
            continue;
        }
        if (nh != 0 && nh != 43 && nh != 60 && nh != 135 && nh != 139 && nh != 140 && nh != 51)
            break;
        if (nh == 0 && n != 0)
            return -1; /* hop-by-hop comes first only */
        __u8 *eh = inner_at(data, end, l, cur, 2);
        if (!eh)
            return -1;
        __u32 hlen = nh == 51 ? ((__u32)eh[1] + 2) * 4 : ((__u32)eh[1] + 1) * 8;
        if (cur + hlen > l)
            return -1;
        nh = eh[0];
        cur += hlen;
    }
    if (n > INNER_MAX_EXT)
        return -1; /* more extension headers than decode.c walks */
    q->ip_len = ip_end - off;
    q->proto = nh;
    if (nh == 59) /* no next header */
        return 0;
    return inner_l4(data, end, cur, l, q);
}

/* The Ethernet frame at *off: its VLAN tags skipped, the first one's id
 * in q->vlan unless pre tags were taken off before (tc: the frame's first,
 * already in q->vlan). Returns the ethertype after them, 0 when cut or
 * over 8 tags in all (decode.c's MAX_VLAN_TAGS). */
static __always_inline __u16 inner_ether(__u8 *data, __u8 *end, __u32 lim, __u32 *off, __u32 pre,
                                         struct pkt *q)
{
    __u8 *e = inner_at(data, end, lim, *off, 14);
    if (!e)
        return 0;
    __u16 etype = ((__u16)e[12] << 8) | e[13];
    __u32 cur = *off + 14;
#pragma unroll
    for (int i = 0; i < INNER_MAX_VLAN + 1; i++) {
        if (etype != 0x8100 && etype != 0x88a8 && etype != 0x9100)
            break;
        if (i + pre >= INNER_MAX_VLAN)
            return 0;
        __u8 *t = inner_at(data, end, lim, cur, 4);
        if (!t)
            return 0;
        if (i == 0 && !pre)
            q->vlan = (((__u16)t[0] << 8) | t[1]) & 0x0fff;
        etype = ((__u16)t[2] << 8) | t[3];
        cur += 4;
    }
    *off = cur;
    return etype;
}

/* The inner packet of the VXLAN or GENEVE datagram h describes into q.
 * 0, or -1 when the outer datagram stays the flow. */
static __always_inline int inner_parse(__u8 *data, __u8 *end, const struct handoff *h,
                                       struct pkt *q)
{
    __u32 lim = h->l3_off + h->outer.ip_len;
    __u32 frame = (__u32)(end - data);
    if (lim > frame)
        lim = frame;
    __u32 off = h->l4_off + 8;
    __u8 *t = inner_at(data, end, lim, off, 8);
    if (!t)
        return -1;
    __u32 vni = ((__u32)t[4] << 16) | ((__u32)t[5] << 8) | t[6];
    __u16 etype;
    off += 8;
    if (h->outer.dport == 4789) {
        if (!(t[0] & 0x08)) /* I flag: the VNI is valid */
            return -1;
        q->tunnel = FK__BPF_TUNNEL_VXLAN;
        etype = inner_ether(data, end, lim, &off, 0, q);
    } else {
        if ((t[0] >> 6) != 0) /* version 0 only */
            return -1;
        off += (__u32)(t[0] & 0x3f) * 4;
        __u16 ptype = ((__u16)t[2] << 8) | t[3];
        q->tunnel = FK__BPF_TUNNEL_GENEVE;
        if (ptype == 0x6558) {
            etype = inner_ether(data, end, lim, &off, 0, q);
        } else if (ptype == 0x0800 || ptype == 0x86dd) {
            __u8 *v = inner_at(data, end, lim, off, 1);
            if (!v)
                return -1;
            etype = (v[0] >> 4) == 4 ? 0x0800 : (v[0] >> 4) == 6 ? 0x86dd : 0;
        } else {
            return -1;
        }
    }
    int rc = -1;
    if (etype == 0x0800)
        rc = inner_ipv4(data, end, off, lim, h->wire_len, q);
    else if (etype == 0x86dd)
        rc = inner_ipv6(data, end, off, lim, h->wire_len, q);
    if (rc)
        return -1;
    q->vni = vni;
    q->outer_family = h->outer.family;
    __builtin_memcpy(q->outer_src, h->outer.src, 16);
    __builtin_memcpy(q->outer_dst, h->outer.dst, 16);
    return 0;
}

static __always_inline void on_inner(void *data, void *data_end)
{
    __u32 zero = 0;
    struct fk__bpf_cpu *cpu = this_cpu();
    struct handoff *h = bpf_map_lookup_elem(&fk_handoff, &zero);
    if (!cpu || !h)
        return;
    struct pkt q = {};
    struct pkt *p = &q;
    if (inner_parse(data, data_end, h, &q) != 0)
        p = &h->outer; /* the outer datagram is the flow */
    count_parsed(cpu, p, h->hook, h->ifindex);
}

/* A frame the fast parser (flow_parse.bpf.h) left, parsed whole by the
 * pcap path's rules: up to 8 VLAN tags in all, IPv4, IPv6 with up to 16
 * extension headers. Counted, or, when it is a tunnel datagram whose inner
 * packet is to be decoded, fk_handoff made to describe it and 1 returned
 * (the caller tail-calls the inner-packet parser). */
static __always_inline int on_full(void *data, void *data_end)
{
    __u32 zero = 0;
    struct fk__bpf_flow_counters *cnt = counters();
    struct handoff *h = bpf_map_lookup_elem(&fk_handoff, &zero);
    struct fk__bpf_cpu *cpu = this_cpu();
    if (!cnt || !h || !cpu)
        return 0;
    __u8 *d = data, *end = data_end;
    __u32 lim = (__u32)(end - d), off = 0;
    struct pkt q = {};
    q.vlan = h->outer.vlan;
    __u16 etype = inner_ether(d, end, lim, &off, h->pre_tags ? 1 : 0, &q);
    /* The IP header's offset through memory: the verifier then walks the
     * IP parsers once for any offset, not once for each count of tags. */
    h->l3_off = off;
    off = *(volatile __u32 *)&h->l3_off;
    int rc = -1;
    if (etype == 0x0800) {
        rc = inner_ipv4(d, end, off, lim, h->wire_len, &q);
    } else if (etype == 0x86dd) {
        rc = inner_ipv6(d, end, off, lim, h->wire_len, &q);
    } else if (etype) {
        cnt->non_ip++;
        return 0;
    }
    if (rc) {
        cnt->malformed++;
        return 0;
    }
    if (fk_decode_tunnels && q.proto == 17 && q.has_l4 && (q.dport == 4789 || q.dport == 6081)) {
        __builtin_memcpy(&h->outer, &q, sizeof(q));
        h->l3_off = off;
        h->l4_off = q.l4_off;
        h->kind = HANDOFF_TUNNEL;
        return 1;
    }
    count_parsed(cpu, &q, h->hook, h->ifindex);
    return 0;
}

static __always_inline void tc_pull(struct __sk_buff *skb)
{
    __u32 want = skb->len < INNER_PULL ? skb->len : INNER_PULL;
    if ((long)skb->data_end - (long)skb->data < (long)want)
        bpf_skb_pull_data(skb, want);
}

SEC("tc")
int fk_tc_inner(struct __sk_buff *skb)
{
    tc_pull(skb);
    on_inner((void *)(long)skb->data, (void *)(long)skb->data_end);
    return TCX_NEXT;
}

SEC("xdp")
int fk_xdp_inner(struct xdp_md *ctx)
{
    on_inner((void *)(long)ctx->data, (void *)(long)ctx->data_end);
    return XDP_PASS;
}

SEC("tc")
int fk_tc_full(struct __sk_buff *skb)
{
    tc_pull(skb);
    if (on_full((void *)(long)skb->data, (void *)(long)skb->data_end)) {
        bpf_tail_call(skb, &fk_tc_next_progs, 0);
        handoff_failed();
    }
    return TCX_NEXT;
}

SEC("xdp")
int fk_xdp_full(struct xdp_md *ctx)
{
    if (on_full((void *)(long)ctx->data, (void *)(long)ctx->data_end)) {
        bpf_tail_call(ctx, &fk_xdp_next_progs, 0);
        handoff_failed();
    }
    return XDP_PASS;
}
