/**
 * @file filter.h
 * @brief Flow filters in nfdump's filter syntax, compiled once, evaluated per record.
 *
 * A filter is text such as `src net 10.0.0.0/8 and dst port in [80 443]`
 * or `proto udp and not (bytes < 1k or host 192.0.2.1)`. fk_filter_compile()
 * turns it into a small program; fk_filter_match() runs that program on one
 * ::fk_flow without allocating. The syntax is the subset of nfdump's filter
 * language (nfdump(1), "FILTER") that a ::fk_flow can answer:
 *
 * | primitive | true when |
 * |---|---|
 * | `any` | always |
 * | `ipv4` / `inet`, `ipv6` / `inet6` | the flow's addresses are of that family |
 * | `proto NAME\|NUMBER` | the IP protocol is that one (`tcp`, `udp`, `icmp`, `icmp6`, `gre`,
 * `esp`, `ah`, `sctp`, ... or 0-255) | | `[src\|dst] ip ADDR`, `[src\|dst] host ADDR` | the address
 * equals ADDR (IPv4 or IPv6) | | `[src\|dst] ip in [LIST]` | the address lies in one of the
 * addresses or CIDR networks of LIST | | `[src\|dst] net CIDR`, `[src\|dst] net ADDR MASK` | the
 * address lies in the network (`10.0.0.0/8`, `172.16/12`, `2001:db8::/32`, `10.0.0.0 255.0.0.0`) |
 * | `[src\|dst] port [CMP] N` | the port compares to N |
 * | `[src\|dst] port in [LIST]` | the port is one of LIST |
 * | `[in\|out] bytes CMP N`, `[in\|out] packets CMP N` | the counter compares to N; `in` (or none)
 * is the forward direction, `out` the reverse of a biflow; N may end in `k`, `m`, `g` (x1000,
 * x1000², x1000³) | | `flags FLAGS` | every TCP flag named (`A S F R P U`, `X` = all) is set in the
 * forward flags; as in nfdump, `not flags FLAGS` is true when none of them is set (`flags S and not
 * flags AFRPU`: SYN only) | | `tos N` | the TOS / traffic class equals N | | `vlan N` | the VLAN id
 * equals N | | `[in\|out] if N` | the ingress / egress (either, without in/out) interface index
 * equals N | | `icmp-type N`, `icmp-code N` | an ICMP/ICMPv6 flow with that type / code | |
 * `duration CMP MS` | end - start, in milliseconds, compares to MS | | `router ip ADDR` | the
 * exporter's address equals ADDR |
 *
 * Without `src` or `dst`, an address or port primitive is true when either
 * end matches. CMP is one of `=`, `==`, `>`, `<`, `>=`, `<=`, `eq`, `gt`,
 * `lt`, `ge`, `le` (absent means `=`). Primitives combine with `and`, `or`,
 * `not` (also `&&`, `||`, `!`) and parentheses; `not` binds tightest, then
 * `and`, then `or`. Keywords are case-insensitive; `#` starts a comment to
 * the end of the line. AS numbers are not carried by ::fk_flow, so `as`
 * primitives are refused with a message saying so.
 *
 * Thread-safety: a compiled filter is immutable; any number of threads may
 * call fk_filter_match() on it at once.
 *
 * @since 0.2.0
 */
#ifndef FLOWKIT_FILTER_H
#define FLOWKIT_FILTER_H

#include <flowkit/common.h>
#include <flowkit/flow.h>

FK_BEGIN_DECLS

/** A compiled flow filter; opaque. @since 0.2.0 */
typedef struct fk_filter fk_filter;

/**
 * Compile a filter expression.
 *
 * @param text the expression, NUL-terminated; copied as needed. An empty
 *        expression (or only blanks and comments) matches every flow.
 * @param out receives the compiled filter, owned by the caller and freed
 *        with fk_filter_destroy(); NULL on failure.
 * @param error_offset if not NULL, receives on a syntax error the byte
 *        offset (0-based) in @p text where the error was found; unchanged
 *        on success.
 * @return 0; `FK_EFILTER` on a syntax error, with a message in
 *         fk_error_last() naming the position ("position 13: expected a
 *         port number, got \"http\""); `FK_EINVAL` on NULL arguments;
 *         `FK_ENOMEM`.
 * Thread-safe.
 * @since 0.2.0
 */
FK_API int fk_filter_compile(const char *text, fk_filter **out, size_t *error_offset);

/**
 * Evaluate a compiled filter on one flow.
 *
 * @param filter the compiled filter.
 * @param flow the flow; not kept.
 * @return 1 when the flow matches, 0 when it does not (also when either
 *         argument is NULL). Never allocates; safe from any thread.
 * @since 0.2.0
 */
FK_API int fk_filter_match(const fk_filter *filter, const fk_flow *flow);

/** @name Flow members a filter reads (fk_filter_get_fields())
 * @{ */
#define FK_FILTER_READS_ADDRS 0x001u     /**< `src`, `dst` (family included). */
#define FK_FILTER_READS_PORTS 0x002u     /**< `src_port`, `dst_port` (ICMP type and code too). */
#define FK_FILTER_READS_PROTO 0x004u     /**< `proto`. */
#define FK_FILTER_READS_BYTES 0x008u     /**< `bytes`. */
#define FK_FILTER_READS_PACKETS 0x010u   /**< `packets`. */
#define FK_FILTER_READS_REVERSE 0x020u   /**< `rev_bytes`, `rev_packets`. */
#define FK_FILTER_READS_TOS 0x040u       /**< `tos`. */
#define FK_FILTER_READS_VLAN 0x080u      /**< `vlan`. */
#define FK_FILTER_READS_IFACES 0x100u    /**< `in_if`, `out_if`. */
#define FK_FILTER_READS_TIMES 0x200u     /**< `start_ns`, `end_ns`. */
#define FK_FILTER_READS_TCP_FLAGS 0x400u /**< `tcp_flags`. */
#define FK_FILTER_READS_EXPORTER 0x800u  /**< `exporter` and `present`. */
/** @} */

/**
 * Which members of a flow a filter reads: a reader that fills flows only
 * for the filter (a query over stored records, say) may leave the others
 * as they are. 0 means the filter is constant (`any`, `not any`): one
 * fk_filter_match() on any flow gives its value.
 *
 * @param filter the compiled filter.
 * @return the `FK_FILTER_READS_*` bits; 0 also for NULL.
 * @since 0.2.0
 */
FK_API unsigned fk_filter_get_fields(const fk_filter *filter);

/**
 * Where one flow member lies in a record of fixed layout (see
 * ::fk_filter_layout): the unsigned big-endian number, or the address, of
 * @c length octets at @c offset. A length of 0: records of the layout do
 * not carry the member.
 * @since 0.2.0
 */
typedef struct fk_filter_field {
    uint16_t offset; /**< octets from the start of the record */
    uint16_t length; /**< octets; 0 = absent */
} fk_filter_field;

/**
 * How a time field of an ::fk_filter_layout is encoded: the IPFIX
 * dateTime types, converted to ns as flowkit's IPFIX decoder converts them.
 * @since 0.2.0
 */
typedef enum fk_filter_time {
    FK_FILTER_TIME_MILLISECONDS = 0, /**< dateTimeMilliseconds: 8 octets, ms since 1970 */
    FK_FILTER_TIME_SECONDS = 1,      /**< dateTimeSeconds: 4 octets, s since 1970 */
    /** dateTimeMicroseconds: 8 octets, NTP format; the low 11 bits of the
     * fraction are ignored and the time rounded to the microsecond. */
    FK_FILTER_TIME_MICROSECONDS = 2,
    FK_FILTER_TIME_NANOSECONDS = 3, /**< dateTimeNanoseconds: 8 octets, NTP format */
} fk_filter_time;

/**
 * The layout of records of one fixed-length template (an IPFIX data
 * template, say): where each flow member a filter can read lies, and how
 * the record's octets become the member, as a decoder of such records
 * fills an ::fk_flow. A member the layout does not place keeps the value
 * of the base flow given to fk_filter_raw_compile().
 *
 * Addresses are 4 octets (IPv4) or 16 (IPv6), in network order; the
 * family of a placed address is its length's. Numbers are unsigned and
 * big-endian, of the lengths their IPFIX elements may have (reduced-size
 * encoding, RFC 7011 6.2): ports and the ICMP type and code 1-2 octets,
 * protocol and TOS 1, TCP flags and VLAN id 1-2, interfaces 1-4, counters
 * 1-8; the TCP flags are their low 8 bits and the VLAN id its low 12.
 * @since 0.2.0
 */
typedef struct fk_filter_layout {
    fk_filter_field src_addr; /**< `src`: 4 or 16 octets */
    fk_filter_field dst_addr; /**< `dst`: 4 or 16 octets, of the family of `src_addr` if placed */
    fk_filter_field src_port; /**< `src_port` */
    fk_filter_field dst_port; /**< `dst_port` */
    /** ICMP type * 256 + code (icmpTypeCodeIPv4 / IPv6): when placed, it is
     * `dst_port` for records whose source port (the base's when not
     * placed) and destination port (0 when not placed) are both 0, as an
     * ICMP flow carries them. */
    fk_filter_field icmp_type_code;
    fk_filter_field proto;     /**< `proto` */
    fk_filter_field tos;       /**< `tos` */
    fk_filter_field tcp_flags; /**< `tcp_flags` */
    fk_filter_field vlan;      /**< `vlan` */
    fk_filter_field in_if;     /**< `in_if` */
    fk_filter_field out_if;    /**< `out_if` */
    fk_filter_field bytes;     /**< `bytes` */
    fk_filter_field packets;   /**< `packets` */
    fk_filter_field start;     /**< `start_ns`: 4 or 8 octets, as `start_time` says */
    fk_filter_field end;       /**< `end_ns`: 4 or 8 octets, as `end_time` says */
    uint8_t start_time;        /**< ::fk_filter_time of `start` */
    uint8_t end_time;          /**< ::fk_filter_time of `end` */
} fk_filter_layout;

/** A filter compiled for the raw records of one layout; opaque. @since 0.2.0 */
typedef struct fk_filter_raw fk_filter_raw;

/**
 * Compile a filter into comparisons on the octets of records of one
 * layout: fk_filter_raw_match() on a record then gives what
 * fk_filter_match() gives on the flow decoded from it, without decoding
 * it. Terms on members the layout does not place are decided here, on the
 * base flow, once.
 *
 * @param filter the compiled filter; borrowed: it must outlive the result.
 * @param layout where the members lie; copied. Placed fields must have
 *        the lengths ::fk_filter_layout states.
 * @param base the values of the members @p layout does not place (the
 *        exporter, reverse counters, times...); read here only, not kept.
 * @param out receives the compiled form, owned by the caller and freed
 *        with fk_filter_raw_destroy(); NULL on failure.
 * @return 0; `FK_EINVAL` on NULL arguments, a field of a length its
 *         member cannot have or a time form out of ::fk_filter_time;
 *         `FK_ENOMEM`. (`duration` reads `start` and `end`, the base's
 *         times where the layout does not place them.)
 * Thread-safe.
 * @since 0.2.0
 */
FK_API int fk_filter_raw_compile(const fk_filter *filter, const fk_filter_layout *layout,
                                 const fk_flow *base, fk_filter_raw **out);

/**
 * Evaluate a filter compiled for a layout on one record of it.
 *
 * @param raw the compiled form.
 * @param record the record's octets: at least up to the end of the
 *        farthest field its layout places; only those fields are read.
 * @return 1 when the flow decoded from the record matches the filter, 0
 *         when it does not (also when either argument is NULL). Never
 *         allocates; safe from any thread.
 * @since 0.2.0
 */
FK_API int fk_filter_raw_match(const fk_filter_raw *raw, const uint8_t *record);

/**
 * Whether a compiled form has the same value for every record (its layout
 * places nothing it reads: `src net 10.0.0.0/8` on IPv6 records, say).
 *
 * @param raw the compiled form.
 * @return 1 or 0, that value; -1 when records decide (also for NULL).
 * @since 0.2.0
 */
FK_API int fk_filter_raw_get_const(const fk_filter_raw *raw);

/**
 * Free a compiled raw form. NULL does nothing.
 *
 * @param raw the compiled form, or NULL.
 * @since 0.2.0
 */
FK_API void fk_filter_raw_destroy(fk_filter_raw *raw);

/**
 * Free a compiled filter. NULL does nothing.
 *
 * @param filter the filter, or NULL.
 * @since 0.2.0
 */
FK_API void fk_filter_destroy(fk_filter *filter);

FK_END_DECLS

#endif /* FLOWKIT_FILTER_H */
