/* Part of flow.bpf.c (included there, after flow_cache.bpf.h): the hit
 * path. A frame of the common shape whose flow holds its slot in this
 * CPU's flow cache is counted here, straight from the packet bytes to the
 * slot: no struct pkt, no key on the stack, no call, no fk_counters.
 *
 * The common shape: Ethernet, at most one VLAN tag (the tag tc took off
 * the frame, or one in the frame when tc took none), then
 *  - IPv4 without options (IHL 5), not a fragment (MF and offset 0), a
 *    total length that is not 0, or IPv6 whose next header is TCP or UDP
 *    and whose payload length is not 0;
 *  - TCP (data offset >= 5, no SYN, FIN or RST) or UDP (not to the VXLAN
 *    or GENEVE port when tunnels are decoded), its header whole in the
 *    frame and within the IP length.
 * Anything else, and any frame whose slot does not count it (not ACTIVE,
 * another key, its side not enabled), returns 0 and takes the full path
 * (on_frame: parse, fk_count), which gives the same answer for the frames
 * this one accepts: the same key (make_key's canonical order, memcmp of
 * the addresses, then the ports), the same IP length, the same conditions
 * for a hit and the same adds (fk_count's hit branch). So a frame is
 * counted once, by one of the two, and the same way. */
#ifndef FK_FLOW_FAST_BPF_H
#define FK_FLOW_FAST_BPF_H

/* packet_time for a packet without SYN, FIN or RST. */
static __always_inline __u64 fast_time(struct fk__bpf_cpu *c)
{
    if (c->flags & FK__BPF_CPU_PRECISE)
        return bpf_ktime_get_ns();
    __u64 j = bpf_jiffies64();
    if (c->jiffies != j) {
        c->precise = bpf_ktime_get_ns(); /* first: see packet_time */
        c->jiffies = j;
    }
    return c->precise;
}

/* This CPU's slot for the key words w (fk__bpf_cache_hash of them, sum01
 * = w[0] + w[2], sum23 = w[1] + w[3]) counts a packet of key side side,
 * meta = IP length << 32 | TCP flags: 1 when it did, else 0. */
static __always_inline int fast_slot(struct fk__bpf_cpu *cpu, __u32 cpu_id, const __u64 *w,
                                     __u64 sum01, __u64 sum23, __u32 side, __u64 meta)
{
    __u32 n = cpu->slots;
    __u64 x = sum01 ^ (sum23 * 0xff51afd7ed558ccdULL) ^ w[4];
    x *= 0x9e3779b97f4a7c15ULL;
    __u32 idx = cpu_id * n + ((__u32)(x >> 32) & (n - 1));
    meta |= side;
    struct fk__bpf_cache_slot *s = bpf_map_lookup_elem(&fk_cache, &idx);
    if (!s || s->state != FK__BPF_SLOT_ACTIVE)
        return 0;
    side = meta & 1;
    if (!((s->sides >> side) & 1))
        return 0;
    const __u64 *k = A8(&s->key);
    if (k[0] != w[0] || k[1] != w[1] || k[2] != w[2] || k[3] != w[3] || k[4] != w[4])
        return 0;
    s->bytes[side] += meta >> 32;
    s->packets[side] += 1;
    s->tcp_flags |= (__u32)(meta & 0xff00) << (side * 8) >> 8;
    __u64 now = fast_time(cpu);
    if (now > s->last_ns[side])
        s->last_ns[side] = now;
    cpu->cache_hits++;
    return 1;
}

/* The L4 header at l4 of an IP packet of ip_len bytes whose header is hl
 * bytes: the ports (sp << 16 | dp, host order) and meta (IP length << 32 |
 * TCP flags << 8), or -1 when it is not of the common shape. */
static __always_inline long fast_l4(struct fk__bpf_cpu *cpu, __u8 *l4, __u8 *end, __u8 proto,
                                    __u32 ip_len, __u32 hl, __u64 *meta)
{
    __u32 flags = 0;
    if (proto == 6) {
        if (ip_len < hl + 20 || l4 + 20 > end || (l4[12] >> 4) < 5)
            return -1;
        flags = l4[13];
        if (flags & (TCP_SYN | TCP_FIN | TCP_RST))
            return -1;
    } else if (proto == 17) {
        if (ip_len < hl + 8 || l4 + 8 > end)
            return -1;
    } else {
        return -1;
    }
    __u32 ports = bpf_ntohl(*(__u32 *)l4);
    if (proto == 17 && (cpu->flags & FK__BPF_CPU_TUNNELS) &&
        ((ports & 0xffff) == 4789 || (ports & 0xffff) == 6081))
        return -1;
    *meta = (__u64)ip_len << 32 | flags << 8;
    return ports;
}

/* The 8 bytes at p (4-aligned) as one 8-byte load would give them, from
 * two 4-byte loads. */
static __always_inline __u64 load64(const __u8 *p)
{
    __u64 lo = *(const __u32 *)p, hi = *(const __u32 *)(p + 4);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    return lo | hi << 32;
#else
    return lo << 32 | hi;
#endif
}

/* Count the frame [data, data_end) in its cache slot on CPU cpu_id if it
 * has the common shape and its slot holds its flow: 1 when counted, else 0
 * (nothing changed). vlan, tagged: the tag tc took off the frame. */
static __always_inline int fast_hit(struct fk__bpf_cpu *cpu, __u32 cpu_id, void *data,
                                    void *data_end, __u16 vlan, int tagged)
{
    __u8 *pos = data, *end = data_end;
    if (!cpu->slots || pos + 14 > end)
        return 0;
    __u16 et = *(__u16 *)(pos + 12);
    pos += 14;
    if (et == bpf_htons(0x8100) || et == bpf_htons(0x88a8) || et == bpf_htons(0x9100)) {
        if (tagged || pos + 4 > end)
            return 0;
        vlan = bpf_ntohs(*(__u16 *)pos) & 0x0fff;
        et = *(__u16 *)(pos + 2);
        pos += 4;
    }
    __u64 w[5]; /* the key's words (fk__bpf_flow_key), all written */
    __u64 meta;
    long ports;
    __u32 side;
    if (et == bpf_htons(0x0800)) {
        if (pos + 20 > end || pos[0] != 0x45)
            return 0;
        if (*(__u16 *)(pos + 6) & bpf_htons(0x3fff)) /* MF or an offset: a fragment */
            return 0;
        __u8 proto = pos[9];
        ports = fast_l4(cpu, pos + 20, end, proto, bpf_ntohs(*(__u16 *)(pos + 2)), 20, &meta);
        if (ports < 0)
            return 0;
        __u64 s0 = *(__u32 *)(pos + 12), d0 = *(__u32 *)(pos + 16);
        __u32 sk = bpf_ntohl((__u32)s0), dk = bpf_ntohl((__u32)d0);
        __u32 sp = (__u32)ports >> 16, dp = (__u32)ports & 0xffff;
        side = sk > dk || (sk == dk && sp > dp);
        w[0] = side ? d0 : s0;
        w[1] = 0;
        w[2] = side ? s0 : d0;
        w[3] = 0;
        w[4] = (side ? (__u64)ports : (__u64)(ports >> 16 | (ports & 0xffff) << 16)) |
               (__u64)vlan << 32 | (__u64)proto << 48 | 4ULL << 56;
        return fast_slot(cpu, cpu_id, w, s0 + d0, 0, side, meta);
    }
    if (et != bpf_htons(0x86dd))
        return 0;
    if (pos + 40 > end || (pos[0] >> 4) != 6)
        return 0;
    __u32 plen = bpf_ntohs(*(__u16 *)(pos + 4));
    if (!plen) /* GSO: the full parser's length rule */
        return 0;
    __u8 proto = pos[6];
    ports = fast_l4(cpu, pos + 40, end, proto, plen + 40, 40, &meta);
    if (ports < 0)
        return 0;
    /* 4-byte loads: after a VLAN tag the addresses are 4- but not
     * 8-aligned (NET_IP_ALIGN 2 + 18 + 8), which a verifier enforcing
     * alignment (arches without efficient unaligned access, or
     * BPF_F_STRICT_ALIGNMENT) refuses for an 8-byte load */
    __u64 s0 = load64(pos + 8), s1 = load64(pos + 16);
    __u64 d0 = load64(pos + 24), d1 = load64(pos + 32);
    __u64 sk = bpf_be64_to_cpu(s0), dk = bpf_be64_to_cpu(d0);
    if (sk == dk) {
        sk = bpf_be64_to_cpu(s1);
        dk = bpf_be64_to_cpu(d1);
    }
    __u32 sp = (__u32)ports >> 16, dp = (__u32)ports & 0xffff;
    side = sk > dk || (sk == dk && sp > dp);
    w[0] = side ? d0 : s0;
    w[1] = side ? d1 : s1;
    w[2] = side ? s0 : d0;
    w[3] = side ? s1 : d1;
    w[4] = (side ? (__u64)ports : (__u64)(ports >> 16 | (ports & 0xffff) << 16)) |
           (__u64)vlan << 32 | (__u64)proto << 48 | 6ULL << 56;
    return fast_slot(cpu, cpu_id, w, s0 + d0, s1 + d1, side, meta);
}

#endif
