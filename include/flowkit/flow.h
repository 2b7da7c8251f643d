/**
 * @file flow.h
 * @brief The normalized flow record every part of flowkit speaks.
 *
 * A ::fk_flow comes out of the capture handle's flow table, out of the
 * IPFIX/NetFlow decoders and the collector, and goes into the exporter and
 * the sinks. Counters are IP-layer bytes (IP header + payload), the IPFIX
 * `octetDeltaCount` definition; link-layer headers are not counted.
 * Times are nanoseconds since the Unix epoch, UTC.
 *
 * @since 0.1.0
 */
#ifndef FLOWKIT_FLOW_H
#define FLOWKIT_FLOW_H

#include <flowkit/common.h>

FK_BEGIN_DECLS

/** An IPv4 or IPv6 address. @since 0.1.0 */
typedef struct fk_addr {
    uint8_t family;    /**< 4, 6, or 0 when absent. */
    uint8_t bytes[16]; /**< Network byte order; IPv4 uses bytes[0..3], rest zero. */
} fk_addr;

/** Why a flow record was emitted; values equal IPFIX flowEndReason (IE 136). @since 0.1.0 */
typedef enum fk_end_reason {
    FK_END_UNKNOWN = 0,  /**< Not known (e.g. NetFlow v5 input). */
    FK_END_IDLE = 1,     /**< Idle timeout. */
    FK_END_ACTIVE = 2,   /**< Active timeout: the flow goes on. */
    FK_END_DETECTED = 3, /**< End of flow detected (TCP FIN or RST). */
    FK_END_FORCED = 4,   /**< Forced end (capture stopped, final flush). */
    FK_END_RESOURCES = 5 /**< Lack of resources (flow table full, evicted). */
} fk_end_reason;

/** ::fk_flow::present bit: pid and process are set. @since 0.1.0 */
#define FK_FLOW_HAS_PROCESS 0x01u
/** ::fk_flow::present bit: in_if / out_if are set. @since 0.1.0 */
#define FK_FLOW_HAS_IFACES 0x02u
/** ::fk_flow::present bit: sampling is set. @since 0.1.0 */
#define FK_FLOW_HAS_SAMPLING 0x04u
/** ::fk_flow::present bit: end_reason is set. @since 0.1.0 */
#define FK_FLOW_HAS_END_REASON 0x08u
/** ::fk_flow::present bit: reverse counters (biflow, RFC 5103) are set. @since 0.1.0 */
#define FK_FLOW_HAS_REVERSE 0x10u
/** ::fk_flow::present bit: exporter / odid describe where the record came from. @since 0.1.0 */
#define FK_FLOW_HAS_EXPORTER 0x20u
/** ::fk_flow::present bit: uid is set. @since 0.1.0 */
#define FK_FLOW_HAS_UID 0x40u
/** ::fk_flow::present bit: vni is set (a VXLAN or GENEVE flow). @since 0.2.0 */
#define FK_FLOW_HAS_VNI 0x80u
/** ::fk_flow::present bit: rev_icmp is set (an ICMP or ICMPv6 biflow whose
 *  reverse direction was seen, or a record that carried the RFC 5103
 *  reverse icmpTypeCode). @since 0.2.0 */
#define FK_FLOW_HAS_REV_ICMP 0x100u

/**
 * Which way the first packet of a live flow went through the device it was
 * seen on (::fk_flow::direction): arriving (ingress) or leaving (egress).
 * @since 0.2.0
 */
typedef enum fk_flow_direction {
    FK_DIRECTION_UNKNOWN = 0, /**< Not known (files, most libpcap captures, decoded records). */
    FK_DIRECTION_INGRESS = 1, /**< The first packet arrived on the device. */
    FK_DIRECTION_EGRESS = 2   /**< The first packet left through the device. */
} fk_flow_direction;

/**
 * What carried a tunnelled flow (::fk_flow::tunnel). A decoded record whose
 * template repeats the flow key (an outer and an inner header, RFC 7011
 * section 8) describes the inner flow; the outer header's addresses go to
 * ::fk_flow::outer_src and ::fk_flow::outer_dst and its protocol names the
 * tunnel here.
 * @since 0.2.0
 */
typedef enum fk_tunnel_kind {
    FK_TUNNEL_NONE = 0,   /**< Not tunnelled (or not known to be). */
    FK_TUNNEL_IPIP = 1,   /**< IP in IPv4/IPv6 (outer protocol 4 or 41; SRv6 included). */
    FK_TUNNEL_GRE = 2,    /**< GRE (outer protocol 47). */
    FK_TUNNEL_VXLAN = 3,  /**< VXLAN (outer UDP port 4789). */
    FK_TUNNEL_GENEVE = 4, /**< GENEVE (outer UDP port 6081). */
    FK_TUNNEL_MPLS = 5,   /**< MPLS in IP (outer protocol 137). */
    FK_TUNNEL_OTHER = 255 /**< An outer header of another or unknown protocol. */
} fk_tunnel_kind;

/**
 * Name of a tunnel kind as written in JSON: "ipip", "gre", "vxlan",
 * "geneve", "mpls", "other"; "" for #FK_TUNNEL_NONE and unknown values.
 * @param kind an ::fk_tunnel_kind.
 * @return a static string. Thread-safe.
 * @since 0.2.0
 */
FK_API const char *fk_tunnel_kind_name(int kind);

/** Size of ::fk_flow::process including the terminating NUL. @since 0.1.0 */
#define FK_PROCESS_NAME_MAX 64

/**
 * A normalized, possibly bidirectional flow record.
 *
 * "Forward" is the direction from src to dst, the direction of the first
 * packet seen (capture) or as exported (decoders). Fields not flagged in
 * `present` are zero.
 * @since 0.1.0
 */
typedef struct fk_flow {
    fk_addr src;           /**< Source address. */
    fk_addr dst;           /**< Destination address. */
    uint16_t src_port;     /**< Source port; 0 for protocols without ports. */
    uint16_t dst_port;     /**< Destination port; ICMP: type * 256 + code. */
    uint8_t proto;         /**< IP protocol number (6 TCP, 17 UDP, ...). */
    uint8_t tcp_flags;     /**< OR of TCP flags seen, forward direction. */
    uint8_t rev_tcp_flags; /**< OR of TCP flags seen, reverse direction. */
    uint8_t tos;           /**< IPv4 TOS / IPv6 traffic class of the first packet. */
    uint16_t vlan;         /**< 802.1Q VLAN id (outer), 0 if none. */
    uint16_t version;      /**< Source format: 0 local capture, 1/5/7/9 NetFlow, 10 IPFIX. */
    uint32_t present;      /**< `FK_FLOW_HAS_*` bits. */
    uint64_t bytes;        /**< IP-layer bytes, forward. */
    uint64_t packets;      /**< Packets, forward. */
    uint64_t rev_bytes;    /**< IP-layer bytes, reverse (FK_FLOW_HAS_REVERSE). */
    uint64_t rev_packets;  /**< Packets, reverse (FK_FLOW_HAS_REVERSE). */
    int64_t start_ns;      /**< First packet, ns since the epoch. */
    int64_t end_ns;        /**< Last packet, ns since the epoch. */
    uint32_t in_if;        /**< Ingress interface index (FK_FLOW_HAS_IFACES). */
    uint32_t out_if;       /**< Egress interface index (FK_FLOW_HAS_IFACES). */
    uint32_t sampling;     /**< Sampling interval, 1 in N (FK_FLOW_HAS_SAMPLING). */
    uint8_t end_reason;    /**< ::fk_end_reason (FK_FLOW_HAS_END_REASON). */
    uint32_t odid;         /**< Observation domain / source id (FK_FLOW_HAS_EXPORTER). */
    fk_addr exporter;      /**< Exporter address (FK_FLOW_HAS_EXPORTER). */
    uint32_t pid;          /**< Owning process (FK_FLOW_HAS_PROCESS). */
    char process[FK_PROCESS_NAME_MAX]; /**< Process name, NUL-terminated (FK_FLOW_HAS_PROCESS). */
    /* Appended for the collector (issue #5). The four strings below are
     * borrowed: NUL-terminated, owned by whoever produced the flow and valid
     * only while the flow is being delivered (the collector: until the
     * callback or the output returns). NULL when unknown. Code that keeps a
     * flow longer must copy them or set them to NULL. */
    const char *in_if_name;  /**< Name of `in_if` from the exporter's options data
                                  (interfaceName, else interfaceDescription); borrowed, or NULL. */
    const char *out_if_name; /**< Name of `out_if`, as `in_if_name`; borrowed, or NULL. */
    const char *user;        /**< User name of the owning process (IPFIX userName, 371);
                                  borrowed, or NULL. */
    const char *exe;         /**< Executable path of the owning process (flowkit-export's
                                  processExecutable); borrowed, or NULL. */
    uint32_t uid;            /**< Numeric user id of the owning process (FK_FLOW_HAS_UID). */
    uint8_t event;           /**< 0 for a flow; else this record is a TCP session event
                                  (::fk_session_kind: 1 SYN, 2 FIN, 3 RST) at `end_ns`, as
                                  flowkit-export sends them, and fk_flow_to_json() writes it
                                  as a `"type":"event"` line. */
    /* Since 0.2.0, for decoded records; family 0 = absent. */
    uint8_t tunnel;       /**< ::fk_tunnel_kind of the outer header; #FK_TUNNEL_NONE if none. */
    fk_addr outer_src;    /**< Outer (tunnel) source address, when the record carried one. */
    fk_addr outer_dst;    /**< Outer (tunnel) destination address, when carried. */
    fk_addr next_hop;     /**< IP next hop (ipNextHopIPv4/IPv6Address, IE 15/62). */
    fk_addr bgp_next_hop; /**< BGP next hop (bgpNextHopIPv4/IPv6Address, IE 18/63). */
    /* Since 0.2.0, for live captures and tunnels (issue #16). */
    uint8_t direction; /**< ::fk_flow_direction of the first packet, where the capture knows it
                            (#FK_CAP_BACKEND ebpf/xdp: always). */
    uint32_t vni;      /**< VXLAN/GENEVE virtual network identifier (24 bits; FK_FLOW_HAS_VNI). */
    /** ICMP/ICMPv6 biflow: type * 256 + code of the reverse direction's
     *  first packet (an echo request's reply: 0 * 256 + 0), as dst_port is
     *  the forward direction's (#FK_FLOW_HAS_REV_ICMP). @since 0.2.0 */
    uint16_t rev_icmp;
    uint32_t src_as; /**< Source AS number (bgpSourceAsNumber, IE 16; NetFlow v5/v7
                          src_as), 0 when absent. */
    uint32_t dst_as; /**< Destination AS number (bgpDestinationAsNumber, IE 17), 0 when
                          absent. */
    /** Metadata tags the record carried (flowkit-export's metadataTags
     *  element, `FK_EXPORTER_IE_TAGS` in exporter.h) as
     *  `KEY=VALUE,KEY=VALUE`, every tag valid by the ::fk_tag rules (so it
     *  needs no quoting anywhere); borrowed as `user` and `exe` are, or
     *  NULL. @since 0.2.0 */
    const char *tags;
} fk_flow;

/** Buffer size that always holds fk_addr_format() output. @since 0.1.0 */
#define FK_ADDR_STRLEN 46

/**
 * Format an address as text ("192.0.2.1", "2001:db8::1"; "" when absent).
 *
 * @param addr the address.
 * @param buf output buffer.
 * @param size size of @p buf; #FK_ADDR_STRLEN always suffices.
 * @return length written (without NUL), or `FK_ENOSPACE` / `FK_EINVAL`.
 * Thread-safe.
 * @since 0.1.0
 */
FK_API int fk_addr_format(const fk_addr *addr, char *buf, size_t size);

/**
 * Parse an IPv4 or IPv6 address.
 *
 * @param text the text, e.g. "10.0.0.1" or "::1".
 * @param out the parsed address.
 * @return 0, or `FK_EINVAL` when @p text is not an address.
 * @since 0.1.0; 0.2.0 puts the outputs last
 */
FK_API int fk_addr_parse(const char *text, fk_addr *out);

/**
 * Format a time as RFC 3339 UTC with milliseconds, "2026-11-23T12:00:00.123Z".
 *
 * @param ns nanoseconds since the epoch.
 * @param buf output buffer, at least 25 bytes.
 * @param size size of @p buf.
 * @return length written, or `FK_ENOSPACE`.
 * @since 0.1.0
 */
FK_API int fk_time_format(int64_t ns, char *buf, size_t size);

/** Buffer size that always holds fk_flow_to_json() output. @since 0.1.0 */
#define FK_FLOW_JSON_MAX 4096

/** fk_flow_to_json() writes at most this many bytes of ::fk_flow::in_if_name and
 *  ::fk_flow::out_if_name (before escaping). @since 0.1.0 */
#define FK_FLOW_IFNAME_MAX 64
/** fk_flow_to_json() writes at most this many bytes of ::fk_flow::user. @since 0.1.0 */
#define FK_FLOW_USER_MAX 64
/** fk_flow_to_json() writes at most this many bytes of ::fk_flow::exe. @since 0.1.0 */
#define FK_FLOW_EXE_MAX 256

/**
 * Render a flow as one JSON object (no newline) per the JSON lines contract:
 * `{"type":"flow","src_addr",...,"version"}` plus the optional keys whose
 * `FK_FLOW_HAS_*` bit is set. Reverse counters appear as "rev_bytes",
 * "rev_packets" and "rev_tcp_flags"; the borrowed strings, when not NULL,
 * as "in_if_name", "out_if_name", "user" and "exe" (cut at
 * #FK_FLOW_IFNAME_MAX, #FK_FLOW_USER_MAX, #FK_FLOW_EXE_MAX bytes), and
 * #FK_FLOW_HAS_UID as "uid", #FK_FLOW_HAS_REV_ICMP as "rev_icmp_type" and
 * "rev_icmp_code". A tunnelled record adds "tunnel" (the
 * fk_tunnel_kind_name()), "outer_src_addr" and "outer_dst_addr", and "vni"
 * with #FK_FLOW_HAS_VNI; a non-zero ::fk_flow::vlan adds "vlan"; a known
 * ::fk_flow::direction adds "direction"
 * ("ingress" or "egress"); next hops
 * that are present appear as "next_hop" and "bgp_next_hop". A record with
 * a nonzero ::fk_flow::event is
 * written as a session event instead: `{"type":"event","event":"syn",
 * "time",` the five tuple keys, exporter, odid, version and the process
 * keys `}`. Strings are written by the rule of fk_json_string_format(), so
 * the line is valid UTF-8 whatever bytes the names hold.
 *
 * @param flow the flow.
 * @param buf output buffer.
 * @param size size of @p buf; #FK_FLOW_JSON_MAX always suffices.
 * @return length written (without NUL), or `FK_ENOSPACE`.
 * Thread-safe.
 * @since 0.1.0
 */
FK_API int fk_flow_to_json(const fk_flow *flow, char *buf, size_t size);

FK_END_DECLS

#endif /* FLOWKIT_FLOW_H */
