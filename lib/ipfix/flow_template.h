/* Internal: the one description of flowkit's own IPFIX flow and event
 * templates, and the one writer of their records. Both IPFIX writers of
 * fk_flow build their templates and records here: the exporter (parts
 * FK__FT_TOS_VLAN, what a probe sees) and the collector's IPFIX file
 * (FK__FT_INTERFACES | FK__FT_ORIGIN, what a collector heard); the generic
 * encoder (encoder.c) fills any template from fk_flow through its plan, and
 * takes these templates like any other (test_ipfix_writers.c checks that
 * all three agree). docs/exporter-elements.md lists the elements.
 *
 * Record layout, in this order (parts in brackets):
 *   flows:  tuple [tos vlan] octets packets start end
 *           [ingress egress samplingInterval] endReason [odid exporter]
 *           [reverse octets packets tcpFlags] [flowDirection]
 *           [tunnelType outerSource outerDestination virtualNetworkId
 *            layer2SegmentId] [process] [metadataTags]
 *   events: tuple [vlan] observationTime eventKind [odid exporter] [process]
 *           [metadataTags]
 * where tuple = source, destination, ports, protocol, tcpControlBits and
 * process = processId, userId, processName, userName, processExecutable
 * (the enterprise ones under the caller's PEN, userName IANA). */
#ifndef FK_IPFIX_FLOW_TEMPLATE_H
#define FK_IPFIX_FLOW_TEMPLATE_H

#include <flowkit/exporter.h>
#include <flowkit/flow.h>
#include <flowkit/template.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/bytes.h"

/* Parts of a template. */
enum {
    FK__FT_V6 = 1u << 0,         /* IPv6 tuple (else IPv4) */
    FK__FT_EVENT = 1u << 1,      /* a TCP session event, not a flow */
    FK__FT_REVERSE = 1u << 2,    /* RFC 5103 reverse counters (flows) */
    FK__FT_PROCESS = 1u << 3,    /* the process elements */
    FK__FT_TOS_VLAN = 1u << 4,   /* ipClassOfService (flows) and vlanId */
    FK__FT_INTERFACES = 1u << 5, /* ingress/egressInterface, samplingPacketInterval (flows) */
    FK__FT_ORIGIN = 1u << 6,     /* observationDomainId and exporter address */
    FK__FT_ORIGIN_V6 = 1u << 7,  /* ... the exporter address is IPv6 */
    FK__FT_REV_ICMP = 1u << 8,   /* with REVERSE: the reverse icmpTypeCode (ICMP biflows) */
    FK__FT_DIRECTION = 1u << 9,  /* flowDirection (flows whose direction is known) */
    FK__FT_TUNNEL = 1u << 10,    /* tunnel type, outer addresses, VNI (tunnelled flows) */
    FK__FT_TUNNEL_V6 = 1u << 11, /* ... the outer addresses are IPv6 */
    FK__FT_TAGS = 1u << 12       /* metadataTags, the record's f->tags */
};

/* virtualNetworkId of a tunnel without one (VNIs have 24 bits). */
#define FK__FT_NO_VNI 0xffffffffu

/* Most fields of any template. */
#define FK__FT_FIELDS_MAX 40
/* Longest string value written with a one-octet length. */
#define FK__FT_SHORT_STR 254

/* The fields of the template of parts, in record order; returns how many
 * (0 when cap is too small). */
size_t fk__ft_fields(fk_field_spec *out, size_t cap, unsigned parts, uint32_t pen);

/* The process values of a record and the bytes of each string to write
 * (the caller cuts them). */
typedef struct fk__ft_process {
    uint32_t pid, uid;
    const char *name, *user, *exe;
    size_t name_len, user_len, exe_len;
} fk__ft_process;

/* Length of a string value with its RFC 7011 section 7 length prefix. */
static inline size_t fk__ft_str_len(size_t n)
{
    return (n < 255 ? 1 : 3) + n;
}

/* Bytes of f->tags written as metadataTags (0: none). */
static inline size_t fk__ft_tags_len(const fk_flow *f)
{
    return f->tags ? strnlen(f->tags, FK_EXPORTER_TAGS_MAX) : 0;
}

/* Length of a record of parts (proc: when FK__FT_PROCESS; tags_len:
 * fk__ft_tags_len() of the flow, when FK__FT_TAGS). */
size_t fk__ft_record_len(unsigned parts, const fk__ft_process *proc, size_t tags_len);

/* A string value: one length octet below 255, else 255 and two octets. */
static inline uint8_t *fk__ft_put_str(uint8_t *p, const char *s, size_t n)
{
    if (n < 255) {
        *p++ = (uint8_t)n;
    } else {
        *p++ = 255;
        p = fk__put16(p, (uint16_t)n);
    }
    if (n)
        memcpy(p, s, n);
    return p + n;
}

/* An address of the template's family; zeros when a is of the other one. */
static inline uint8_t *fk__ft_put_addr(uint8_t *p, const fk_addr *a, bool v6)
{
    size_t n = v6 ? 16 : 4;
    if (a->family == (v6 ? 6 : 4))
        memcpy(p, a->bytes, n);
    else
        memset(p, 0, n);
    return p + n;
}

/* Milliseconds since the epoch; times before it are 0. */
static inline uint64_t fk__ft_ms(int64_t ns)
{
    return ns > 0 ? (uint64_t)(ns / 1000000) : 0;
}

/* Write the record of f under the template of parts at p (room for
 * fk__ft_record_len bytes); returns the end. Events take their kind from
 * f->event, their time from f->end_ns (f->start_ns when 0) and, when
 * f->tcp_flags is 0, the flag that made the event. */
uint8_t *fk__ft_write(uint8_t *p, unsigned parts, const fk_flow *f, const fk__ft_process *proc);

/* FK__FT_DIRECTION, FK__FT_TUNNEL and FK__FT_TUNNEL_V6 as f needs them
 * (a direction known, a tunnel); 0 for events. */
unsigned fk__ft_live_parts(const fk_flow *f);

/* Uniflow export of a biflow (RFC 5103 section 2: each direction its own
 * record, for collectors that ignore reverse elements): out is f's forward
 * direction alone, rev its reverse direction (addresses, ports and
 * interfaces swapped, the reverse counters and flags as its own, the ICMP
 * reply type where there is one, the direction and the outer addresses
 * swapped, the same times, tunnel, process and origin).
 * Returns 2 when f carries reverse packets, else 1 (rev untouched). */
int fk__ft_split_biflow(const fk_flow *f, fk_flow *out, fk_flow *rev);

#endif
