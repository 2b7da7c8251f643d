/* The outer packet's fast parser of the eBPF capture backend (included by
 * flow.bpf.c after struct pkt): Ethernet with up to two VLAN tags, IPv4, or
 * IPv6 without extension headers, and the L4 ports, by the pcap path's
 * rules (lib/packet/decode.c) so both give the same flows. The rest goes to
 * the full parser (flow_inner.bpf.h, a program of its own reached by a tail
 * call): IPv6 extension headers (hop-by-hop, routing, destination options,
 * mobility, HIP, shim6, AH, fragment: up to 16, as decode.c), more VLAN
 * tags (up to 8 in all, 0x9100 too), and a tunnel's inner packet. */

#define PARSE_SLOW 2 /* parse(): for the full parser */

/* The L4 header at l4 (lim: bytes of the IP packet from l4 on that are in
 * the frame). 0, or -1 when cut or invalid (decode.c's decode_l4). The
 * pointer checks repeat the lim ones for the verifier. */
static __always_inline int parse_l4(__u8 *l4, __u8 *end, __u32 lim, struct pkt *p, __u8 **l4_out)
{
    if (p->proto == 6) {
        if (lim < 20 || l4 + 20 > end || (l4[12] >> 4) < 5)
            return -1;
        p->tcp_flags = l4[13];
    } else if (p->proto == 17 || p->proto == 136) { /* UDP, UDP-Lite */
        if (lim < 8 || l4 + 8 > end)
            return -1;
    } else if (p->proto == 132) { /* SCTP common header */
        if (lim < 12 || l4 + 12 > end)
            return -1;
    } else if (p->proto == 1 || p->proto == 58) {
        if (lim < 4 || l4 + 4 > end)
            return -1;
        p->sport = 0;
        p->dport = ((__u16)l4[0] << 8) | l4[1];
        p->has_l4 = 1;
        *l4_out = l4;
        return 0;
    } else {
        return 0; /* no ports: counted by addresses and protocol */
    }
    p->sport = ((__u16)l4[0] << 8) | l4[1];
    p->dport = ((__u16)l4[2] << 8) | l4[3];
    p->has_l4 = 1;
    *l4_out = l4;
    return 0;
}

/* Parse from an IP header at pos (etype its ethertype) to the L4 ports.
 * 0: an IP packet (p filled; *l4 at its L4 header when p->has_l4); 1: not
 * IP; -1: headers cut or invalid; PARSE_SLOW: IPv6 extension headers.
 * fallback_len: the IP length to count when the header says 0 (TSO before
 * segmentation). */
static __always_inline int parse_ip(__u8 *pos, __u8 *end, __u16 etype, __u32 fallback_len,
                                    struct pkt *p, __u8 **l4_out)
{
    __u32 avail = (__u32)(end - pos); /* bytes of the frame from pos on */
    if (etype == 0x0800) {
        if (pos + 20 > end)
            return -1;
        if ((pos[0] >> 4) != 4)
            return -1;
        __u32 ihl = (__u32)(pos[0] & 0x0f) * 4;
        if (ihl < 20 || ihl > avail)
            return -1;
        __u32 tot = ((__u32)pos[2] << 8) | pos[3];
        if (tot == 0)
            tot = fallback_len;
        if (tot < ihl)
            return -1;
        __u32 fword = ((__u32)pos[6] << 8) | pos[7];
        __u32 frag = fword & 0x1fff;
        p->family = 4;
        p->tos = pos[1];
        p->proto = pos[9];
        __builtin_memcpy(p->src, pos + 12, 4);
        __builtin_memcpy(p->dst, pos + 16, 4);
        p->ip_len = tot;
        p->frag_id = ((__u32)pos[4] << 8) | pos[5];
        if (frag) {
            p->frag = FRAG_LATER;
            return 0; /* no ports */
        }
        if (fword & 0x2000)
            p->frag = FRAG_FIRST;
        __u32 lim = (tot < avail ? tot : avail) - ihl;
        return parse_l4(pos + ihl, end, lim, p, l4_out);
    }
    if (etype != 0x86dd)
        return 1;
    if (pos + 40 > end)
        return -1;
    if ((pos[0] >> 4) != 6)
        return -1;
    __u32 plen = ((__u32)pos[4] << 8) | pos[5];
    __u8 nh = pos[6];
    if (nh == 0 || nh == 43 || nh == 60 || nh == 135 || nh == 139 || nh == 140 || nh == 51 ||
        nh == 44)
        return PARSE_SLOW;
    if (plen == 0 && fallback_len > 40) /* GSO: the length left to the device */
        plen = fallback_len - 40;
    p->family = 6;
    p->tos = (__u8)(((pos[0] & 0x0f) << 4) | (pos[1] >> 4));
    __builtin_memcpy(p->src, pos + 8, 16);
    __builtin_memcpy(p->dst, pos + 24, 16);
    p->ip_len = 40 + plen;
    p->proto = nh;
    __u32 lim = (40 + plen < avail ? 40 + plen : avail) - 40;
    return parse_l4(pos + 40, end, lim, p, l4_out);
}

/* Skip an Ethernet header and up to two VLAN tags; the first tag's id goes
 * to *vlan unless the frame's first tag was taken off already (*tagged: tc
 * sees it in the skb). Returns the ethertype after them, 0 when cut,
 * 0x8100 when more tags follow (for the full parser). */
static __always_inline __u16 skip_ether(__u8 **pos, __u8 *end, __u16 *vlan, int tagged)
{
    __u8 *q = *pos;
    if (q + 14 > end)
        return 0;
    __u16 etype = ((__u16)q[12] << 8) | q[13];
    q += 14;
#pragma unroll
    for (int i = 0; i < 2; i++) {
        if (etype == 0x8100 || etype == 0x88a8 || etype == 0x9100) {
            if (q + 4 > end)
                return 0;
            if (i == 0 && !tagged)
                *vlan = (((__u16)q[0] << 8) | q[1]) & 0x0fff;
            etype = ((__u16)q[2] << 8) | q[3];
            q += 4;
        }
    }
    if (etype == 0x8100 || etype == 0x88a8 || etype == 0x9100)
        return 0x8100;
    *pos = q;
    return etype;
}

/* Parse an Ethernet frame. 0: an IP packet (p filled; *l3, *l4 the offsets
 * of its IP and L4 headers); 1: not IP; -1: headers cut or invalid;
 * PARSE_SLOW: for the full parser. wire_len: the frame's length; vlan,
 * tagged: the tag tc took off the frame (tagged 0: none). */
static __always_inline int parse(void *data, void *data_end, __u32 wire_len, __u16 vlan, int tagged,
                                 struct pkt *p, __u32 *l3_off, __u32 *l4_off)
{
    __u8 *pos = data;
    __u8 *end = data_end;
    __u16 etype = skip_ether(&pos, end, &vlan, tagged);
    if (!etype)
        return -1;
    if (etype == 0x8100)
        return PARSE_SLOW;
    p->vlan = vlan;
    __u32 l3 = pos - (__u8 *)data;
    __u8 *l4 = 0;
    int rc = parse_ip(pos, end, etype, wire_len - l3, p, &l4);
    *l3_off = l3;
    *l4_off = l4 ? (__u32)(l4 - (__u8 *)data) : 0;
    return rc;
}
