/* Internal: L2-L4 decode of one captured frame into a flat view.
 *
 * fk__packet_decode() reads a frame once and fills an fk__packet: offsets of
 * each layer inside the frame, the L3/L4 fields the flow table needs, and the
 * IP-layer length. It never allocates, never keeps a pointer to the frame
 * and never reads outside [frame, frame + caplen). It is reentrant and
 * thread-safe (no state besides its arguments).
 *
 * Link types are the pcap LINKTYPE_/DLT_ numbers (FK__LINK_*). Supported:
 * Ethernet with any number of 802.1Q / 802.1ad (QinQ) tags, Linux cooked
 * SLL and SLL2 (libpcap's "any" device), BSD loopback DLT_NULL (host byte
 * order family) and DLT_LOOP (network byte order), raw IP (DLT_RAW 12 and
 * 14, LINKTYPE_RAW 101, LINKTYPE_IPV4 228, LINKTYPE_IPV6 229).
 *
 * Byte counting: ip_len is the IP-layer length taken from the IP header
 * (IPv4 total length; IPv6 40 + payload length), not from the captured
 * length, so a snaplen-truncated frame still counts its full size (the IPFIX
 * octetDeltaCount definition). An IPv4 total length of 0 (TSO/GSO frames
 * captured before segmentation) falls back to the wire length minus the
 * link header. IPv6 jumbograms (payload length 0 with a hop-by-hop jumbo
 * option) use the jumbo payload length.
 *
 * Fragments: only the first fragment (offset 0) carries L4 ports. Later
 * fragments decode with FK__PKT_F_FRAG set, FK__PKT_F_FIRST_FRAG clear, ports
 * 0 and frag_id set; the flow table counts them to the flow of the first
 * fragment with the same (src, dst, frag_id) when it saw it, and for IPv4 the
 * same protocol (fk__frag_proto): an IPv6 fragment's next header is the
 * first header of the fragmentable part (destination options, 60, in a
 * later fragment whose first one says 17 after them), so RFC 8200
 * identifies a datagram without it.
 *
 * Tunnels: with FK__DECODE_TUNNELS, UDP to port 4789 (VXLAN) or 6081
 * (GENEVE) whose header is valid is decoded further: the view then describes
 * the innermost IP packet (addresses, ports, ip_len of the inner packet),
 * FK__PKT_F_TUNNEL is set, tunnel_vni holds the VNI, tunnel_kind says which
 * (fk_tunnel_kind) and outer_src / outer_dst / outer_family keep the outer IP
 * header's addresses (of the outermost tunnel when tunnels nest, as the
 * VNI). Without the flag the UDP packet itself is the flow.
 *
 * Direction: a Linux cooked header (SLL, SLL2) says whether the frame was
 * outgoing; direction is then 2 (egress) or 1 (ingress), else 0 (unknown;
 * also on a loopback device, where libpcap keeps one copy of each packet). */
#ifndef FK_PACKET_PACKET_H
#define FK_PACKET_PACKET_H

#include <stddef.h>
#include <stdint.h>

/* pcap link types (LINKTYPE_* values as stored in pcap files, and the DLT_*
 * values libpcap reports on Linux). */
#define FK__LINK_NULL 0         /* BSD loopback, 4-byte family in host order */
#define FK__LINK_EN10MB 1       /* Ethernet */
#define FK__LINK_RAW_DLT 12     /* DLT_RAW on Linux/most BSDs: raw IPv4/IPv6 */
#define FK__LINK_RAW_DLT14 14   /* DLT_RAW on OpenBSD */
#define FK__LINK_RAW 101        /* LINKTYPE_RAW */
#define FK__LINK_LOOP 108       /* OpenBSD loopback, 4-byte family in network order */
#define FK__LINK_LINUX_SLL 113  /* Linux cooked v1 */
#define FK__LINK_IPV4 228       /* raw IPv4 */
#define FK__LINK_IPV6 229       /* raw IPv6 */
#define FK__LINK_LINUX_SLL2 276 /* Linux cooked v2 */

/* fk__packet_decode() flags. */
#define FK__DECODE_TUNNELS 0x01u /* look inside VXLAN (UDP 4789) and GENEVE (UDP 6081) */

/* fk__packet.flags bits. */
#define FK__PKT_F_FRAG 0x01u       /* part of a fragmented IP datagram */
#define FK__PKT_F_FIRST_FRAG 0x02u /* ... and it is the first fragment (has L4 header) */
#define FK__PKT_F_TUNNEL 0x04u     /* view describes the inner packet of a tunnel */
#define FK__PKT_F_L4 0x08u         /* an L4 header was decoded (ports/flags valid) */
#define FK__PKT_F_IPOPTS 0x10u     /* IPv4 options present */
#define FK__PKT_F_IP6EXT 0x20u     /* IPv6 extension headers present */

/* Decode result. Everything but FK__PKT_OK means "not counted to a flow";
 * the caller counts them per status. */
typedef enum fk__pkt_status {
    FK__PKT_OK = 0,        /* an IPv4/IPv6 packet, view filled */
    FK__PKT_NOT_IP = 1,    /* valid frame that carries no IP (ARP, LLDP, ...) */
    FK__PKT_TRUNCATED = 2, /* a header needed for the view is cut by caplen */
    FK__PKT_MALFORMED = 3, /* a header is invalid (bad version, IHL, lengths) */
    FK__PKT_BAD_LINK = 4   /* unsupported link type */
} fk__pkt_status;

/* Number of distinct fk__pkt_status values (for per-status counters). */
#define FK__PKT_STATUS_COUNT 5

/* Flat view of a decoded frame. Offsets are from the start of the frame.
 * Addresses are in network byte order (IPv4 in bytes 0..3, rest zero); ports,
 * lengths and ids in host byte order. */
typedef struct fk__packet {
    int64_t ts_ns;         /* capture timestamp, ns since the epoch (as given) */
    uint32_t caplen;       /* captured bytes */
    uint32_t wirelen;      /* original frame length */
    uint32_t ip_len;       /* IP-layer bytes: IP header + payload, from the header */
    uint32_t frag_id;      /* IPv4 identification / IPv6 fragment id (FK__PKT_F_FRAG) */
    uint32_t if_index;     /* SLL2 interface index, else 0 */
    uint32_t tunnel_vni;   /* VXLAN/GENEVE VNI (FK__PKT_F_TUNNEL) */
    uint32_t tcp_seq;      /* TCP sequence number (proto 6 with FK__PKT_F_L4) */
    uint32_t tcp_ack;      /* TCP acknowledgement number */
    uint16_t l3_off;       /* offset of the (innermost) IP header */
    uint16_t l4_off;       /* offset of the L4 header (valid with FK__PKT_F_L4) */
    uint16_t payload_off;  /* offset of the L4 payload (<= caplen) */
    uint16_t ethertype;    /* ethertype of the L3 header (0x0800 / 0x86dd for IP) */
    uint16_t vlan;         /* outer VLAN id (12 bits), 0 if untagged */
    uint16_t inner_vlan;   /* second VLAN id (QinQ), 0 if none */
    uint16_t src_port;     /* TCP/UDP/SCTP source port; 0 for ICMP */
    uint16_t dst_port;     /* TCP/UDP/SCTP destination port; ICMP/ICMPv6: type*256+code */
    uint16_t frag_off;     /* fragment offset in bytes (FK__PKT_F_FRAG) */
    uint16_t sll_pkttype;  /* SLL/SLL2 packet type (0 host, 4 outgoing, ...), else 0 */
    uint16_t sll_hatype;   /* SLL/SLL2 ARPHRD_ device type (772 loopback), else 0 */
    uint8_t ip_version;    /* 4 or 6 */
    uint8_t proto;         /* L4 protocol after IPv6 extension headers */
    uint8_t tos;           /* IPv4 TOS / IPv6 traffic class */
    uint8_t ttl;           /* IPv4 TTL / IPv6 hop limit */
    uint8_t tcp_flags;     /* TCP flags byte (FIN 0x01 SYN 0x02 RST 0x04 PSH 0x08 ACK 0x10 ...) */
    uint8_t flags;         /* FK__PKT_F_* */
    uint8_t tunnel_kind;   /* fk_tunnel_kind (FK__PKT_F_TUNNEL) */
    uint8_t outer_family;  /* 4 or 6: the tunnel's outer IP header (FK__PKT_F_TUNNEL) */
    uint8_t direction;     /* fk_flow_direction from a cooked header, else 0 */
    uint8_t src[16];       /* source address */
    uint8_t dst[16];       /* destination address */
    uint8_t outer_src[16]; /* the tunnel's outer source address (FK__PKT_F_TUNNEL) */
    uint8_t outer_dst[16]; /* ... and destination */
} fk__packet;

/* The protocol that, with the addresses and frag_id, identifies the
 * datagram a fragment belongs to: IPv4's protocol field (RFC 791); 0 for
 * IPv6 (RFC 8200: source, destination and identification only). */
static inline uint8_t fk__frag_proto(const fk__packet *p)
{
    return p->ip_version == 4 ? p->proto : 0;
}

/* Decode one frame. out is always fully written (zeroed on failure apart
 * from ts_ns/caplen/wirelen). linktype: FK__LINK_*; flags: FK__DECODE_*.
 * Returns an fk__pkt_status; it records no error message (hot path). */
int fk__packet_decode(fk__packet *out, const uint8_t *frame, uint32_t caplen, uint32_t wirelen,
                      int linktype, int64_t ts_ns, unsigned flags);

/* Name of an fk__pkt_status ("ok", "not_ip", "truncated", "malformed",
 * "bad_link"); "unknown" otherwise. */
const char *fk__pkt_status_name(int status);

/* 1 when fk__packet_decode() knows the link type. */
int fk__packet_link_supported(int linktype);

#endif /* FK_PACKET_PACKET_H */
