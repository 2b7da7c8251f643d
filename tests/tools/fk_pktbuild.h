/* Test helper (header-only): build one link-layer frame from a description.
 * Used by the unit tests and by fk_pcapgen, so crafted frames and generated
 * pcaps come from the same code. Written from the RFCs (791, 8200, 793, 768,
 * 792, 4443, 4960, 7348, 8926) and the pcap link-type registry. */
#ifndef FK_PKTBUILD_H
#define FK_PKTBUILD_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Link types (pcap LINKTYPE_ numbers). */
#define PB_LINK_NULL 0
#define PB_LINK_EN10MB 1
#define PB_LINK_RAW 101
#define PB_LINK_LOOP 108
#define PB_LINK_SLL 113
#define PB_LINK_IPV4 228
#define PB_LINK_IPV6 229
#define PB_LINK_SLL2 276

typedef struct pb_spec {
    int link;           /* PB_LINK_* */
    int nvlan;          /* 0..2 VLAN tags */
    uint16_t vlan[2];   /* VLAN ids, outer first */
    uint16_t vlan_tpid; /* outer tag TPID: 0x8100 (default) or 0x88a8 */
    uint16_t ethertype; /* 0: from ipv; else used as is (e.g. 0x0806 ARP) */
    int ipv;            /* 4 or 6 */
    uint8_t src[16];    /* addresses (IPv4 in the first 4 bytes) */
    uint8_t dst[16];
    uint8_t proto;  /* 6, 17, 1, 58, 132, ... */
    uint16_t sport; /* TCP/UDP/SCTP ports */
    uint16_t dport; /* ICMP: type << 8 | code */
    uint8_t tcp_flags;
    uint32_t seq, ack;
    uint16_t payload;   /* L4 payload bytes (ignored when raw is set) */
    const uint8_t *raw; /* optional L4 payload bytes */
    uint16_t raw_len;
    uint8_t tos;
    uint8_t ip4_opt_words; /* IPv4 options, 32-bit words (0..10) */
    int frag;              /* 1: fragment header / flags present */
    int more_frags;        /* MF bit */
    uint16_t frag_off;     /* fragment offset in bytes (multiple of 8) */
    uint32_t frag_id;      /* IPv4 id (low 16 bits) / IPv6 fragment id */
    int next6;             /* number of IPv6 extension headers in ext6[] */
    uint8_t ext6[6];       /* 0 hop-by-hop, 43 routing, 60 dest opts, 51 AH (before frag) */
    uint32_t if_index;     /* SLL2 */
    uint16_t pkttype;      /* SLL/SLL2 packet type */
} pb_spec;

static inline void pb_put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static inline void pb_put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* Internet checksum (only to make frames look real; the decoder ignores it). */
static inline uint16_t pb_csum(const uint8_t *p, size_t n)
{
    uint32_t s = 0;
    for (size_t i = 0; i + 1 < n; i += 2)
        s += (uint32_t)p[i] << 8 | p[i + 1];
    if (n & 1)
        s += (uint32_t)p[n - 1] << 8;
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return (uint16_t)~s;
}

/* L4 header length for a spec (0 for later fragments and other protocols). */
static inline size_t pb_l4_hdr_len(const pb_spec *s)
{
    if (s->frag && s->frag_off)
        return 0;
    switch (s->proto) {
    case 6:
        return 20;
    case 17:
        return 8;
    case 1:
    case 58:
        return 8;
    case 132:
        return 12;
    default:
        return 0;
    }
}

/* IP-layer length (IP header + options/extensions + L4 header + payload). */
static inline uint32_t pb_ip_len(const pb_spec *s)
{
    size_t pl = s->raw ? s->raw_len : s->payload;
    size_t l4 = pb_l4_hdr_len(s) + pl;
    if (s->ipv == 4)
        return (uint32_t)(20 + 4u * s->ip4_opt_words + l4);
    size_t ext = 0;
    for (int i = 0; i < s->next6; i++)
        ext += s->ext6[i] == 51 ? 16 : 8;
    if (s->frag)
        ext += 8;
    return (uint32_t)(40 + ext + l4);
}

/* Build the frame into out (capacity cap). Returns its length, 0 if it does
 * not fit. */
static inline size_t pb_build(uint8_t *out, size_t cap, const pb_spec *s)
{
    uint32_t iplen = pb_ip_len(s);
    size_t need = 20 + 8 + iplen + 16;
    if (need > cap)
        return 0;
    memset(out, 0, need);
    size_t off = 0;
    uint16_t et = s->ethertype ? s->ethertype : (s->ipv == 6 ? 0x86dd : 0x0800);
    uint16_t first_type = et;
    if (s->nvlan > 0)
        first_type = s->vlan_tpid ? s->vlan_tpid : 0x8100;
    switch (s->link) {
    case PB_LINK_EN10MB: {
        static const uint8_t dmac[6] = {0x02, 0, 0, 0, 0, 0x02};
        static const uint8_t smac[6] = {0x02, 0, 0, 0, 0, 0x01};
        memcpy(out, dmac, 6);
        memcpy(out + 6, smac, 6);
        pb_put16(out + 12, first_type);
        off = 14;
        break;
    }
    case PB_LINK_SLL:
        pb_put16(out, s->pkttype);
        pb_put16(out + 2, 1); /* ARPHRD_ETHER */
        pb_put16(out + 4, 6);
        out[6] = 0x02;
        out[11] = 0x01;
        pb_put16(out + 14, first_type);
        off = 16;
        break;
    case PB_LINK_SLL2:
        pb_put16(out, first_type);
        pb_put32(out + 4, s->if_index);
        pb_put16(out + 8, 1);
        out[10] = (uint8_t)s->pkttype;
        out[11] = 6;
        out[12] = 0x02;
        out[17] = 0x01;
        off = 20;
        break;
    case PB_LINK_NULL: { /* host byte order */
        uint32_t fam = s->ipv == 6 ? 10u : 2u;
        memcpy(out, &fam, 4);
        off = 4;
        break;
    }
    case PB_LINK_LOOP:
        pb_put32(out, s->ipv == 6 ? 24u : 2u);
        off = 4;
        break;
    default: /* raw IP */
        off = 0;
        break;
    }
    if (s->link == PB_LINK_EN10MB || s->link == PB_LINK_SLL || s->link == PB_LINK_SLL2) {
        for (int i = 0; i < s->nvlan && i < 2; i++) {
            /* this tag's TCI, then the type of what follows */
            pb_put16(out + off, s->vlan[i] & 0x0fff);
            pb_put16(out + off + 2, i + 1 < s->nvlan ? 0x8100 : et);
            off += 4;
        }
    }
    if (s->ethertype && s->ethertype != 0x0800 && s->ethertype != 0x86dd) {
        memset(out + off, 0xab, 28); /* some non-IP payload (ARP-sized) */
        return off + 28;
    }
    uint8_t *ip = out + off;
    size_t l4off;
    uint8_t l4proto = s->proto;
    if (s->ipv == 4) {
        size_t ihl = 20 + 4u * s->ip4_opt_words;
        ip[0] = (uint8_t)(0x40 | (ihl / 4));
        ip[1] = s->tos;
        pb_put16(ip + 2, (uint16_t)iplen);
        pb_put16(ip + 4, (uint16_t)s->frag_id);
        uint16_t fo = (uint16_t)(s->frag_off / 8);
        if (s->frag && s->more_frags)
            fo |= 0x2000;
        pb_put16(ip + 6, fo);
        ip[8] = 64;
        ip[9] = s->proto;
        memcpy(ip + 12, s->src, 4);
        memcpy(ip + 16, s->dst, 4);
        for (size_t i = 20; i < ihl; i++)
            ip[i] = 1; /* NOP options */
        pb_put16(ip + 10, pb_csum(ip, ihl));
        l4off = off + ihl;
    } else {
        ip[0] = (uint8_t)(0x60 | (s->tos >> 4));
        ip[1] = (uint8_t)(s->tos << 4);
        pb_put16(ip + 4, (uint16_t)(iplen - 40));
        ip[7] = 64;
        memcpy(ip + 8, s->src, 16);
        memcpy(ip + 24, s->dst, 16);
        size_t cur = off + 40;
        uint8_t *nhp = ip + 6;
        for (int i = 0; i < s->next6; i++) {
            *nhp = s->ext6[i];
            uint8_t *h = out + cur;
            nhp = h;
            if (s->ext6[i] == 51) {
                h[1] = 2; /* (2 + 2) * 4 = 16 bytes */
                cur += 16;
            } else {
                h[1] = 0; /* 8 bytes; options: PadN */
                if (s->ext6[i] != 43) {
                    h[2] = 1;
                    h[3] = 4;
                } else {
                    h[2] = 0; /* routing type 0 remnants: segments left 0 */
                }
                cur += 8;
            }
        }
        if (s->frag) {
            *nhp = 44;
            uint8_t *h = out + cur;
            nhp = h;
            pb_put16(h + 2, (uint16_t)((s->frag_off & 0xfff8) | (s->more_frags ? 1 : 0)));
            pb_put32(h + 4, s->frag_id);
            cur += 8;
        }
        *nhp = l4proto;
        l4off = cur;
    }
    uint8_t *l4 = out + l4off;
    size_t hl = pb_l4_hdr_len(s);
    size_t pl = s->raw ? s->raw_len : s->payload;
    if (hl) {
        switch (s->proto) {
        case 6:
            pb_put16(l4, s->sport);
            pb_put16(l4 + 2, s->dport);
            pb_put32(l4 + 4, s->seq);
            pb_put32(l4 + 8, s->ack);
            l4[12] = 5 << 4;
            l4[13] = s->tcp_flags;
            pb_put16(l4 + 14, 65535);
            break;
        case 17:
            pb_put16(l4, s->sport);
            pb_put16(l4 + 2, s->dport);
            pb_put16(l4 + 4, (uint16_t)(8 + pl));
            break;
        case 132:
            pb_put16(l4, s->sport);
            pb_put16(l4 + 2, s->dport);
            pb_put32(l4 + 4, 0x11223344);
            break;
        default: /* ICMP, ICMPv6: type, code, checksum, id/seq */
            l4[0] = (uint8_t)(s->dport >> 8);
            l4[1] = (uint8_t)s->dport;
            pb_put16(l4 + 4, (uint16_t)s->sport);
            break;
        }
    }
    if (s->raw)
        memcpy(l4 + hl, s->raw, s->raw_len);
    else
        for (size_t i = 0; i < pl; i++)
            l4[hl + i] = (uint8_t)(i * 7 + 3);
    return l4off + hl + pl;
}

#endif /* FK_PKTBUILD_H */
