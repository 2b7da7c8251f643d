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
 * Free a compiled filter. NULL does nothing.
 *
 * @param filter the filter, or NULL.
 * @since 0.2.0
 */
FK_API void fk_filter_destroy(fk_filter *filter);

FK_END_DECLS

#endif /* FLOWKIT_FILTER_H */
