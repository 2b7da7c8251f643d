/* The outer packet's parser of the eBPF capture backend (included by
 * flow.bpf.c after struct pkt): Ethernet, up to two VLAN tags, IPv4 or
 * IPv6 with up to four extension headers, the L4 ports. A tunnel's inner
 * packet has its own parser (flow_inner.bpf.h), reached by a tail call. */

/* Parse from an IP header at pos (etype its ethertype) to the L4 ports.
 * 0: an IP packet (p filled; *l4 at its L4 header when p->has_l4); 1: not
 * IP; -1: headers cut or invalid. fallback_len: the IP length to count when
 * the header says 0 (TSO before segmentation). */
static __always_inline int parse_ip(__u8 *pos, __u8 *end, __u16 etype, __u32 fallback_len,
                                    int ext_hdrs, struct pkt *p, __u8 **l4_out)
{
    __u8 *l4;
    if (etype == 0x0800) {
        if (pos + 20 > end)
            return -1;
        if ((pos[0] >> 4) != 4)
            return -1;
        __u32 ihl = (__u32)(pos[0] & 0x0f) * 4;
        if (ihl < 20)
            return -1;
        __u32 tot = ((__u32)pos[2] << 8) | pos[3];
        __u32 fword = ((__u32)pos[6] << 8) | pos[7];
        __u32 frag = fword & 0x1fff;
        p->family = 4;
        p->tos = pos[1];
        p->proto = pos[9];
        __builtin_memcpy(p->src, pos + 12, 4);
        __builtin_memcpy(p->dst, pos + 16, 4);
        p->ip_len = tot ? tot : fallback_len;
        p->frag_id = ((__u32)pos[4] << 8) | pos[5];
        if (frag) {
            p->frag = FRAG_LATER;
            return 0; /* no ports */
        }
        if (fword & 0x2000)
            p->frag = FRAG_FIRST;
        l4 = pos + ihl;
    } else if (etype == 0x86dd) {
        if (pos + 40 > end)
            return -1;
        if ((pos[0] >> 4) != 6)
            return -1;
        __u32 plen = ((__u32)pos[4] << 8) | pos[5];
        __u8 nh = pos[6];
        p->family = 6;
        p->tos = (__u8)(((pos[0] & 0x0f) << 4) | (pos[1] >> 4));
        __builtin_memcpy(p->src, pos + 8, 16);
        __builtin_memcpy(p->dst, pos + 24, 16);
        p->ip_len = plen ? 40 + plen : fallback_len;
        l4 = pos + 40;
#pragma unroll
        for (int i = 0; i < 4; i++) {
            if (i >= ext_hdrs)
                break;
            if (nh == 0 || nh == 43 || nh == 60 || nh == 51) {
                if (l4 + 2 > end)
                    return -1;
                __u32 len = nh == 51 ? ((__u32)l4[1] + 2) * 4 : ((__u32)l4[1] + 1) * 8;
                nh = l4[0];
                l4 += len;
            } else if (nh == 44) {
                if (l4 + 8 > end)
                    return -1;
                __u32 off = (((__u32)l4[2] << 8) | l4[3]) & 0xfff8;
                p->frag_id =
                    ((__u32)l4[4] << 24) | ((__u32)l4[5] << 16) | ((__u32)l4[6] << 8) | l4[7];
                p->frag = off ? FRAG_LATER : (l4[3] & 1) ? FRAG_FIRST : 0;
                nh = l4[0];
                l4 += 8;
                if (off) {
                    p->proto = nh;
                    return 0; /* no ports */
                }
            }
        }
        p->proto = nh;
    } else {
        return 1;
    }
    if (p->proto == 6) {
        if (l4 + 20 > end)
            return -1;
        p->tcp_flags = l4[13];
    } else if (p->proto == 17 || p->proto == 132) {
        if (l4 + 8 > end)
            return -1;
    } else if (p->proto == 1 || p->proto == 58) {
        if (l4 + 2 > end)
            return -1;
        p->sport = 0;
        p->dport = ((__u16)l4[0] << 8) | l4[1];
        p->has_l4 = 1;
        *l4_out = l4;
        return 0;
    } else {
        return 0;
    }
    p->sport = ((__u16)l4[0] << 8) | l4[1];
    p->dport = ((__u16)l4[2] << 8) | l4[3];
    p->has_l4 = 1;
    *l4_out = l4;
    return 0;
}

/* Skip an Ethernet header and up to two VLAN tags; *vlan gets the outer id
 * when it is still 0. Returns the ethertype after them, 0 when cut. */
static __always_inline __u16 skip_ether(__u8 **pos, __u8 *end, __u16 *vlan)
{
    __u8 *q = *pos;
    if (q + 14 > end)
        return 0;
    __u16 etype = ((__u16)q[12] << 8) | q[13];
    q += 14;
#pragma unroll
    for (int i = 0; i < 2; i++) {
        if (etype == 0x8100 || etype == 0x88a8) {
            if (q + 4 > end)
                return 0;
            if (!*vlan)
                *vlan = (((__u16)q[0] << 8) | q[1]) & 0x0fff;
            etype = ((__u16)q[2] << 8) | q[3];
            q += 4;
        }
    }
    *pos = q;
    return etype;
}

/* Parse an Ethernet frame. 0: an IP packet (p filled; *l3, *l4 the offsets
 * of its IP and L4 headers); 1: not IP; -1: headers cut or invalid.
 * wire_len: the frame's length. */
static __always_inline int parse(void *data, void *data_end, __u32 wire_len, __u16 vlan,
                                 struct pkt *p, __u32 *l3_off, __u32 *l4_off)
{
    __u8 *pos = data;
    __u8 *end = data_end;
    __u16 etype = skip_ether(&pos, end, &vlan);
    if (!etype)
        return -1;
    p->vlan = vlan;
    __u32 l3 = pos - (__u8 *)data;
    __u8 *l4 = 0;
    int rc = parse_ip(pos, end, etype, wire_len - l3, 4, p, &l4);
    *l3_off = l3;
    *l4_off = l4 ? (__u32)(l4 - (__u8 *)data) : 0;
    return rc;
}
