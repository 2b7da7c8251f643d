/* L2-L4 decode into the flat fk__packet view. Every read is preceded by a
 * bounds check against the captured length; nothing is allocated. */
#include <flowkit/flow.h>
#include <string.h>

#include "packet/packet.h"
#include "core/bytes.h"

#define ETH_IPV4 0x0800u
#define ETH_IPV6 0x86ddu
#define ETH_VLAN 0x8100u
#define ETH_QINQ 0x88a8u
#define ETH_QINQ_OLD 0x9100u
#define ETH_TEB 0x6558u /* transparent Ethernet bridging (GENEVE payload) */

#define MAX_VLAN_TAGS 8
#define MAX_IP6_EXT 16
#define VXLAN_PORT 4789u
#define GENEVE_PORT 6081u

static inline uint32_t clamp32(uint64_t v)
{
    return v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

/* Decoding state: the frame, its captured length and the options. */
typedef struct dec {
    const uint8_t *f;
    uint32_t caplen;
    uint32_t wirelen;
    unsigned flags;
    int depth; /* tunnel nesting */
} dec;

static int decode_ether_payload(const dec *d, fk__packet *p, uint32_t off, uint16_t ethertype);
static int decode_ip(const dec *d, fk__packet *p, uint32_t off);

const char *fk__pkt_status_name(int status)
{
    switch (status) {
    case FK__PKT_OK:
        return "ok";
    case FK__PKT_NOT_IP:
        return "not_ip";
    case FK__PKT_TRUNCATED:
        return "truncated";
    case FK__PKT_MALFORMED:
        return "malformed";
    case FK__PKT_BAD_LINK:
        return "bad_link";
    default:
        return "unknown";
    }
}

int fk__packet_link_supported(int linktype)
{
    switch (linktype) {
    case FK__LINK_NULL:
    case FK__LINK_EN10MB:
    case FK__LINK_RAW_DLT:
    case FK__LINK_RAW_DLT14:
    case FK__LINK_RAW:
    case FK__LINK_LOOP:
    case FK__LINK_LINUX_SLL:
    case FK__LINK_IPV4:
    case FK__LINK_IPV6:
    case FK__LINK_LINUX_SLL2:
        return 1;
    default:
        return 0;
    }
}

/* Status for a header of `need` bytes at `off` that ends beyond `lim`:
 * cut by the capture (truncated) or beyond the datagram's own length
 * (malformed). ip_end is where the IP datagram says it ends. */
static inline int short_status(const dec *d, uint32_t off, uint32_t need, uint32_t ip_end)
{
    if ((uint64_t)off + need > ip_end)
        return FK__PKT_MALFORMED;
    (void)d;
    return FK__PKT_TRUNCATED;
}

/* VXLAN (RFC 7348) and GENEVE (RFC 8926): decode the inner frame into a
 * scratch view; on success it replaces the outer view. An invalid or cut
 * tunnel header leaves the outer UDP view as it is. */
static void decode_tunnel(const dec *d, fk__packet *p, uint32_t udp_off, uint32_t lim)
{
    if (d->depth >= 2)
        return;
    uint32_t h = udp_off + 8;
    if ((uint64_t)h + 8 > lim)
        return;
    const uint8_t *t = d->f + h;
    fk__packet inner;
    memset(&inner, 0, sizeof inner);
    inner.ts_ns = p->ts_ns;
    inner.caplen = p->caplen;
    inner.wirelen = p->wirelen;
    inner.if_index = p->if_index;
    inner.sll_pkttype = p->sll_pkttype;
    inner.sll_hatype = p->sll_hatype;
    dec sub = *d;
    sub.caplen = lim; /* the inner frame ends where the outer datagram does */
    sub.depth = d->depth + 1;
    int rc;
    uint32_t vni = (uint32_t)t[4] << 16 | (uint32_t)t[5] << 8 | t[6];
    if (p->dst_port == VXLAN_PORT) {
        if (!(t[0] & 0x08)) /* I flag: VNI valid */
            return;
        uint32_t eth = h + 8;
        if ((uint64_t)eth + 14 > lim)
            return;
        rc = decode_ether_payload(&sub, &inner, eth + 14, fk__get16(d->f + eth + 12));
    } else {
        if ((t[0] >> 6) != 0) /* version 0 only */
            return;
        uint32_t opt_len = (uint32_t)(t[0] & 0x3f) * 4;
        uint16_t ptype = fk__get16(t + 2);
        uint32_t in = h + 8 + opt_len;
        if (ptype == ETH_TEB) {
            if ((uint64_t)in + 14 > lim)
                return;
            rc = decode_ether_payload(&sub, &inner, in + 14, fk__get16(d->f + in + 12));
        } else if (ptype == ETH_IPV4 || ptype == ETH_IPV6) {
            if (in >= lim)
                return;
            inner.ethertype = ptype;
            rc = decode_ip(&sub, &inner, in);
        } else {
            return;
        }
    }
    if (rc != FK__PKT_OK)
        return;
    inner.flags |= FK__PKT_F_TUNNEL;
    inner.tunnel_vni = vni;
    inner.tunnel_kind = p->dst_port == VXLAN_PORT ? FK_TUNNEL_VXLAN : FK_TUNNEL_GENEVE;
    inner.outer_family = p->ip_version;
    memcpy(inner.outer_src, p->src, 16);
    memcpy(inner.outer_dst, p->dst, 16);
    inner.direction = p->direction;
    *p = inner;
}

/* L4 header at off; lim = end of readable datagram bytes, ip_end = where
 * the datagram ends according to its header. */
static int decode_l4(const dec *d, fk__packet *p, uint32_t off, uint32_t lim, uint32_t ip_end)
{
    const uint8_t *l4 = d->f + off;
    p->l4_off = (uint16_t)off;
    switch (p->proto) {
    case 6: { /* TCP */
        if ((uint64_t)off + 20 > lim)
            return short_status(d, off, 20, ip_end);
        uint32_t doff = (uint32_t)(l4[12] >> 4) * 4;
        if (doff < 20)
            return FK__PKT_MALFORMED;
        p->src_port = fk__get16(l4);
        p->dst_port = fk__get16(l4 + 2);
        p->tcp_seq = fk__get32(l4 + 4);
        p->tcp_ack = fk__get32(l4 + 8);
        p->tcp_flags = l4[13];
        p->payload_off = (uint16_t)((uint64_t)off + doff < lim ? off + doff : lim);
        break;
    }
    case 17:    /* UDP */
    case 136: { /* UDP-Lite */
        if ((uint64_t)off + 8 > lim)
            return short_status(d, off, 8, ip_end);
        p->src_port = fk__get16(l4);
        p->dst_port = fk__get16(l4 + 2);
        p->payload_off = (uint16_t)(off + 8);
        p->flags |= FK__PKT_F_L4;
        if ((d->flags & FK__DECODE_TUNNELS) && p->proto == 17 &&
            (p->dst_port == VXLAN_PORT || p->dst_port == GENEVE_PORT))
            decode_tunnel(d, p, off, lim);
        return FK__PKT_OK;
    }
    case 132: /* SCTP common header */
        if ((uint64_t)off + 12 > lim)
            return short_status(d, off, 12, ip_end);
        p->src_port = fk__get16(l4);
        p->dst_port = fk__get16(l4 + 2);
        p->payload_off = (uint16_t)(off + 12);
        break;
    case 1:  /* ICMP */
    case 58: /* ICMPv6 */
        if ((uint64_t)off + 4 > lim)
            return short_status(d, off, 4, ip_end);
        p->src_port = 0;
        p->dst_port = (uint16_t)((unsigned)l4[0] << 8 | l4[1]);
        p->payload_off = (uint16_t)(off + 4);
        break;
    default:
        p->payload_off = (uint16_t)off;
        return FK__PKT_OK; /* no ports: counted by addresses and protocol */
    }
    p->flags |= FK__PKT_F_L4;
    return FK__PKT_OK;
}

static int decode_ipv4(const dec *d, fk__packet *p, uint32_t off)
{
    if ((uint64_t)off + 20 > d->caplen)
        return FK__PKT_TRUNCATED;
    const uint8_t *ip = d->f + off;
    if ((ip[0] >> 4) != 4)
        return FK__PKT_MALFORMED;
    uint32_t ihl = (uint32_t)(ip[0] & 0x0f) * 4;
    if (ihl < 20)
        return FK__PKT_MALFORMED;
    if ((uint64_t)off + ihl > d->caplen)
        return FK__PKT_TRUNCATED;
    uint32_t tot = fk__get16(ip + 2);
    if (tot == 0 && d->wirelen > off) /* TSO/GSO: length left to the NIC */
        tot = d->wirelen - off;
    if (tot < ihl)
        return FK__PKT_MALFORMED;
    p->ip_version = 4;
    p->l3_off = (uint16_t)off;
    p->ip_len = tot;
    p->tos = ip[1];
    p->ttl = ip[8];
    p->proto = ip[9];
    memcpy(p->src, ip + 12, 4);
    memcpy(p->dst, ip + 16, 4);
    if (ihl > 20)
        p->flags |= FK__PKT_F_IPOPTS;
    uint16_t frag = fk__get16(ip + 6);
    uint32_t frag_off = (uint32_t)(frag & 0x1fff) * 8;
    if ((frag & 0x2000) || frag_off) {
        p->flags |= FK__PKT_F_FRAG;
        p->frag_id = fk__get16(ip + 4);
        p->frag_off = (uint16_t)frag_off;
        if (frag_off) {
            p->l4_off = (uint16_t)(off + ihl);
            p->payload_off = p->l4_off;
            return FK__PKT_OK; /* later fragment: no L4 header */
        }
        p->flags |= FK__PKT_F_FIRST_FRAG;
    }
    uint64_t ip_end = (uint64_t)off + tot;
    uint32_t lim = ip_end < d->caplen ? (uint32_t)ip_end : d->caplen;
    return decode_l4(d, p, off + ihl, lim, clamp32(ip_end));
}

/* IPv6 hop-by-hop options: look for a jumbo payload option (RFC 2675). */
static uint32_t find_jumbo(const uint8_t *opt, uint32_t len)
{
    uint32_t i = 2;
    while (i < len) {
        uint8_t type = opt[i];
        if (type == 0) { /* Pad1 */
            i++;
            continue;
        }
        if (i + 2 > len)
            break;
        uint8_t olen = opt[i + 1];
        if (type == 0xc2 && olen == 4 && i + 6 <= len)
            return fk__get32(opt + i + 2);
        i += 2u + olen;
    }
    return 0;
}

static int decode_ipv6(const dec *d, fk__packet *p, uint32_t off)
{
    if ((uint64_t)off + 40 > d->caplen)
        return FK__PKT_TRUNCATED;
    const uint8_t *ip = d->f + off;
    if ((ip[0] >> 4) != 6)
        return FK__PKT_MALFORMED;
    p->ip_version = 6;
    p->l3_off = (uint16_t)off;
    p->tos = (uint8_t)((ip[0] & 0x0f) << 4 | ip[1] >> 4);
    p->ttl = ip[7];
    memcpy(p->src, ip + 8, 16);
    memcpy(p->dst, ip + 24, 16);
    uint32_t plen = fk__get16(ip + 4);
    uint8_t nh = ip[6];
    int jumbo_possible = plen == 0 && nh == 0;
    if (plen == 0 && !jumbo_possible && d->wirelen > off + 40)
        plen = d->wirelen - off - 40; /* GSO frame */
    uint64_t ip_end = (uint64_t)off + 40 + plen;
    uint32_t cur = off + 40;
    for (int n = 0;; n++) {
        uint32_t lim = ip_end < d->caplen ? (uint32_t)ip_end : d->caplen;
        if (jumbo_possible && n == 0) /* length unknown until the jumbo option */
            lim = d->caplen;
        if (n > MAX_IP6_EXT)
            return FK__PKT_MALFORMED;
        switch (nh) {
        case 0:    /* hop-by-hop */
        case 43:   /* routing */
        case 60:   /* destination options */
        case 135:  /* mobility */
        case 139:  /* HIP */
        case 140:  /* shim6 */
        case 51: { /* AH: length in 4-byte units minus 2 */
            if (nh == 0 && n != 0)
                return FK__PKT_MALFORMED; /* hop-by-hop only first */
            if ((uint64_t)cur + 2 > lim)
                return jumbo_possible && n == 0 ? FK__PKT_TRUNCATED
                                                : short_status(d, cur, 2, clamp32(ip_end));
            uint32_t hlen =
                nh == 51 ? ((uint32_t)d->f[cur + 1] + 2) * 4 : ((uint32_t)d->f[cur + 1] + 1) * 8;
            if ((uint64_t)cur + hlen > lim)
                return jumbo_possible && n == 0 ? FK__PKT_TRUNCATED
                                                : short_status(d, cur, hlen, clamp32(ip_end));
            if (nh == 0 && jumbo_possible) {
                uint32_t jl = find_jumbo(d->f + cur, hlen);
                if (jl == 0) {
                    plen = d->wirelen > off + 40 ? d->wirelen - off - 40 : 0;
                } else {
                    plen = jl;
                }
                ip_end = (uint64_t)off + 40 + plen;
                jumbo_possible = 0;
                if (ip_end < (uint64_t)cur + hlen)
                    return FK__PKT_MALFORMED;
            }
            p->flags |= FK__PKT_F_IP6EXT;
            nh = d->f[cur];
            cur += hlen;
            continue;
        }
        case 44: { /* fragment */
            if ((uint64_t)cur + 8 > lim)
                return short_status(d, cur, 8, clamp32(ip_end));
            const uint8_t *fh = d->f + cur;
            p->flags |= FK__PKT_F_IP6EXT | FK__PKT_F_FRAG;
            p->frag_off = (uint16_t)(fk__get16(fh + 2) & 0xfff8);
            p->frag_id = fk__get32(fh + 4);
            nh = fh[0];
            cur += 8;
            if (p->frag_off) {
                p->proto = nh;
                p->ip_len = (uint32_t)(ip_end - off);
                p->l4_off = (uint16_t)cur;
                p->payload_off = (uint16_t)cur;
                return FK__PKT_OK;
            }
            p->flags |= FK__PKT_F_FIRST_FRAG;
            continue;
        }
        default:
            break;
        }
        break;
    }
    if (ip_end - off > UINT32_MAX)
        return FK__PKT_MALFORMED;
    p->ip_len = (uint32_t)(ip_end - off);
    p->proto = nh;
    if (nh == 59) { /* no next header */
        p->l4_off = (uint16_t)cur;
        p->payload_off = (uint16_t)cur;
        return FK__PKT_OK;
    }
    uint32_t lim = ip_end < d->caplen ? (uint32_t)ip_end : d->caplen;
    return decode_l4(d, p, cur, lim, clamp32(ip_end));
}

static int decode_ip(const dec *d, fk__packet *p, uint32_t off)
{
    if (off >= d->caplen)
        return FK__PKT_TRUNCATED;
    if (off > 0xffff - 64) /* offsets are 16 bits */
        return FK__PKT_MALFORMED;
    switch (d->f[off] >> 4) {
    case 4:
        p->ethertype = ETH_IPV4;
        return decode_ipv4(d, p, off);
    case 6:
        p->ethertype = ETH_IPV6;
        return decode_ipv6(d, p, off);
    default:
        return FK__PKT_MALFORMED;
    }
}

/* After the link header: VLAN tags (802.1Q, 802.1ad, old 0x9100), then IP. */
static int decode_ether_payload(const dec *d, fk__packet *p, uint32_t off, uint16_t ethertype)
{
    int tags = 0;
    while (ethertype == ETH_VLAN || ethertype == ETH_QINQ || ethertype == ETH_QINQ_OLD) {
        if (++tags > MAX_VLAN_TAGS)
            return FK__PKT_MALFORMED;
        if ((uint64_t)off + 4 > d->caplen)
            return FK__PKT_TRUNCATED;
        uint16_t vid = fk__get16(d->f + off) & 0x0fff;
        if (tags == 1)
            p->vlan = vid;
        else if (tags == 2)
            p->inner_vlan = vid;
        ethertype = fk__get16(d->f + off + 2);
        off += 4;
    }
    p->ethertype = ethertype;
    if (ethertype == ETH_IPV4)
        return decode_ipv4(d, p, off);
    if (ethertype == ETH_IPV6)
        return decode_ipv6(d, p, off);
    return FK__PKT_NOT_IP;
}

/* Address family in a DLT_NULL / DLT_LOOP header: AF_INET is 2 everywhere,
 * AF_INET6 is 10 (Linux), 24 (NetBSD, OpenBSD), 28 (FreeBSD), 30 (macOS). */
static int decode_loop(const dec *d, fk__packet *p, int host_order)
{
    if (d->caplen < 4)
        return FK__PKT_TRUNCATED;
    const uint8_t *f = d->f;
    uint32_t be = fk__get32(f);
    uint32_t le = (uint32_t)f[3] << 24 | (uint32_t)f[2] << 16 | (uint32_t)f[1] << 8 | f[0];
    /* DLT_NULL is in the capturing host's order, which may not be ours:
     * accept whichever reading is a small number. */
    uint32_t fam = host_order ? (le <= 0xffff ? le : be) : be;
    switch (fam) {
    case 2:
        p->ethertype = ETH_IPV4;
        return decode_ipv4(d, p, 4);
    case 10:
    case 24:
    case 28:
    case 30:
        p->ethertype = ETH_IPV6;
        return decode_ipv6(d, p, 4);
    default:
        return FK__PKT_NOT_IP;
    }
}

/* The direction a cooked header tells: PACKET_OUTGOING (4) left through
 * the device, host/broadcast/multicast/otherhost (0-3) arrived; nothing on
 * a loopback device (ARPHRD_LOOPBACK, 772), where libpcap keeps one copy. */
static uint8_t cooked_direction(uint16_t pkttype, uint16_t hatype)
{
    if (hatype == 772)
        return FK_DIRECTION_UNKNOWN;
    if (pkttype == 4)
        return FK_DIRECTION_EGRESS;
    return pkttype <= 3 ? FK_DIRECTION_INGRESS : FK_DIRECTION_UNKNOWN;
}

int fk__packet_decode(fk__packet *out, const uint8_t *frame, uint32_t caplen, uint32_t wirelen,
                      int linktype, int64_t ts_ns, unsigned flags)
{
    memset(out, 0, sizeof *out);
    out->ts_ns = ts_ns;
    out->caplen = caplen;
    out->wirelen = wirelen < caplen ? caplen : wirelen;
    if (!frame && caplen)
        return FK__PKT_MALFORMED;
    dec d = {frame, caplen, out->wirelen, flags, 0};
    int rc;
    switch (linktype) {
    case FK__LINK_EN10MB:
        if (caplen < 14)
            return FK__PKT_TRUNCATED;
        rc = decode_ether_payload(&d, out, 14, fk__get16(frame + 12));
        break;
    case FK__LINK_LINUX_SLL:
        if (caplen < 16)
            return FK__PKT_TRUNCATED;
        out->sll_pkttype = fk__get16(frame);
        out->sll_hatype = fk__get16(frame + 2);
        out->direction = cooked_direction(out->sll_pkttype, out->sll_hatype);
        rc = decode_ether_payload(&d, out, 16, fk__get16(frame + 14));
        break;
    case FK__LINK_LINUX_SLL2:
        if (caplen < 20)
            return FK__PKT_TRUNCATED;
        out->if_index = fk__get32(frame + 4);
        out->sll_hatype = fk__get16(frame + 8);
        out->sll_pkttype = frame[10];
        out->direction = cooked_direction(out->sll_pkttype, out->sll_hatype);
        rc = decode_ether_payload(&d, out, 20, fk__get16(frame));
        break;
    case FK__LINK_NULL:
        rc = decode_loop(&d, out, 1);
        break;
    case FK__LINK_LOOP:
        rc = decode_loop(&d, out, 0);
        break;
    case FK__LINK_RAW_DLT:
    case FK__LINK_RAW_DLT14:
    case FK__LINK_RAW:
        rc = decode_ip(&d, out, 0);
        break;
    case FK__LINK_IPV4:
        out->ethertype = ETH_IPV4;
        rc = decode_ipv4(&d, out, 0);
        break;
    case FK__LINK_IPV6:
        out->ethertype = ETH_IPV6;
        rc = decode_ipv6(&d, out, 0);
        break;
    default:
        return FK__PKT_BAD_LINK;
    }
    if (rc != FK__PKT_OK && rc != FK__PKT_NOT_IP) {
        int64_t ts = out->ts_ns;
        uint32_t w = out->wirelen;
        memset(out, 0, sizeof *out);
        out->ts_ns = ts;
        out->caplen = caplen;
        out->wirelen = w;
    }
    return rc;
}
