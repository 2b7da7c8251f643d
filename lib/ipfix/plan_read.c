/* Reading records through a compiled plan (plan.c): one field's value
 * (fk__plan_value) and the normalization of a record into fk_flow
 * (fk__plan_to_flow); the NTP time conversions shared with NetFlow. See
 * plan.h for the contract. */
#include <string.h>

#include "core/error.h"
#include "ipfix/plan.h"
#include "ipfix/registry.h"

/* Seconds between the NTP epoch (1900) and the Unix epoch (1970). */
#define NTP_UNIX_OFFSET 2208988800ull
#define NS_PER_S 1000000000ll

static inline uint64_t be_read(const uint8_t *p, size_t len)
{
    switch (len) {
    case 1:
        return p[0];
    case 2:
        return (uint64_t)p[0] << 8 | p[1];
    case 4: {
        uint32_t v;
        memcpy(&v, p, 4);
        return __builtin_bswap32(v);
    }
    case 8: {
        uint64_t v;
        memcpy(&v, p, 8);
        return __builtin_bswap64(v);
    }
    default: {
        uint64_t v = 0;
        for (size_t i = 0; i < len; i++)
            v = v << 8 | p[i];
        return v;
    }
    }
}

/* Milliseconds to ns, saturating: exporters may send any 64-bit value. */
static int64_t ms_to_ns(uint64_t ms)
{
    return ms > (uint64_t)(INT64_MAX / 1000000) ? INT64_MAX : (int64_t)ms * 1000000;
}

static int64_t add_sat(int64_t a, int64_t b)
{
    int64_t r;
    if (__builtin_add_overflow(a, b, &r))
        return b > 0 ? INT64_MAX : INT64_MIN;
    return r;
}

int64_t fk__ntp_to_ns(uint64_t ntp, int micro)
{
    uint64_t sec = ntp >> 32;
    uint64_t frac = ntp & 0xffffffffu;
    if (micro)
        frac &= ~(uint64_t)0x7ff; /* RFC 7011 6.1.9: the low 11 bits are not significant */
    int64_t s = (int64_t)sec - (int64_t)NTP_UNIX_OFFSET;
    int64_t sub = (int64_t)((frac * (uint64_t)NS_PER_S) >> 32);
    if (micro) /* 2^-21 s steps: give back the nearest microsecond */
        sub = (sub + 500) / 1000 * 1000;
    return s * NS_PER_S + sub;
}

uint64_t fk__ns_to_ntp(int64_t ns)
{
    int64_t s = ns / NS_PER_S;
    int64_t rem = ns % NS_PER_S;
    if (rem < 0) {
        rem += NS_PER_S;
        s--;
    }
    uint64_t sec = (uint64_t)(s + (int64_t)NTP_UNIX_OFFSET) & 0xffffffffu;
    /* round up so that ntp_to_ns gives back the same ns */
    uint64_t frac = (((uint64_t)rem << 32) + (uint64_t)NS_PER_S - 1) / (uint64_t)NS_PER_S;
    if (frac > 0xffffffffu)
        frac = 0xffffffffu;
    return sec << 32 | frac;
}

/* Value octets of field i: start and length (prefix skipped). */
static inline const uint8_t *field_value(const fk__plan *plan, const uint8_t *rec,
                                         const uint32_t *offsets, uint16_t i, size_t *len)
{
    const uint8_t *v = rec + offsets[i];
    if (plan->fields[i].length != FK_VARLEN) {
        *len = plan->fields[i].length;
        return v;
    }
    if (v[0] < 255) {
        *len = v[0];
        return v + 1;
    }
    *len = (size_t)v[1] << 8 | v[2];
    return v + 3;
}

int fk__plan_value(const fk__plan *plan, const uint8_t *rec, const uint32_t *offsets, uint16_t i,
                   fk_ipfix_value *out)
{
    memset(out, 0, sizeof *out);
    if (i >= plan->nfields)
        return fk__error(FK_ERANGE, "record: field index %u past the %u fields", (unsigned)i,
                         (unsigned)plan->nfields);
    const fk__plan_field *f = &plan->fields[i];
    size_t len;
    const uint8_t *v = field_value(plan, rec, offsets, i, &len);
    out->ie = f->ie;
    out->pen = f->pen;
    out->id = f->id;
    out->type = f->type;
    out->raw = v;
    out->len = len;
    if (f->type == FK_IE_UNKNOWN || f->type == FK_IE_OCTET_ARRAY || f->type == FK_IE_STRING ||
        f->type == FK_IE_MAC_ADDRESS || f->type >= FK_IE_BASIC_LIST) {
        if (f->type == FK_IE_MAC_ADDRESS && len != 6)
            goto bad;
        return 0;
    }
    if (len == 0 || !fk__ie_length_fits(f->type, (uint16_t)len))
        goto bad;
    switch (f->type) {
    case FK_IE_UNSIGNED8:
    case FK_IE_UNSIGNED16:
    case FK_IE_UNSIGNED32:
    case FK_IE_UNSIGNED64:
    case FK_IE_BOOLEAN:
        out->u = be_read(v, len);
        out->i = (int64_t)out->u;
        break;
    case FK_IE_SIGNED8:
    case FK_IE_SIGNED16:
    case FK_IE_SIGNED32:
    case FK_IE_SIGNED64: {
        uint64_t u = be_read(v, len);
        unsigned bits = (unsigned)len * 8;
        if (bits < 64 && (u >> (bits - 1)) & 1)
            u |= ~(uint64_t)0 << bits;
        out->i = (int64_t)u;
        out->u = u;
        break;
    }
    case FK_IE_FLOAT32:
    case FK_IE_FLOAT64:
        if (len == 4) {
            uint32_t b = (uint32_t)be_read(v, 4);
            float fl;
            memcpy(&fl, &b, 4);
            out->f = fl;
        } else {
            uint64_t b = be_read(v, 8);
            memcpy(&out->f, &b, 8);
        }
        break;
    case FK_IE_DATE_TIME_SECONDS:
        out->u = be_read(v, 4);
        out->i = (int64_t)out->u * NS_PER_S;
        break;
    case FK_IE_DATE_TIME_MILLISECONDS:
        out->u = be_read(v, 8);
        out->i = ms_to_ns(out->u);
        break;
    case FK_IE_DATE_TIME_MICROSECONDS:
    case FK_IE_DATE_TIME_NANOSECONDS:
        out->u = be_read(v, 8);
        out->i = fk__ntp_to_ns(out->u, f->type == FK_IE_DATE_TIME_MICROSECONDS);
        break;
    case FK_IE_IPV4_ADDRESS:
        out->addr.family = 4;
        memcpy(out->addr.bytes, v, 4);
        break;
    case FK_IE_IPV6_ADDRESS:
        out->addr.family = 6;
        memcpy(out->addr.bytes, v, 16);
        break;
    default:
        break;
    }
    return 0;
bad:
    return fk__error(FK_EMALFORMED, "record: element %u/%u (%s) cannot be %zu octets long",
                     (unsigned)f->pen, (unsigned)f->id, fk_ie_type_name(f->type), len);
}

#define HAS(op) ((m >> (op)) & 1u)
#define BIT(op) (1ull << (op))
/* Groups of ops tested together first: most templates carry few of them. */
#define OPS_MORE                                                                                   \
    (BIT(FK__OP_IN_IF) | BIT(FK__OP_OUT_IF) | BIT(FK__OP_REV_BYTES) | BIT(FK__OP_REV_PACKETS) |    \
     BIT(FK__OP_REV_TCP_FLAGS) | BIT(FK__OP_TOS) | BIT(FK__OP_VLAN) | BIT(FK__OP_SRC_AS) |         \
     BIT(FK__OP_DST_AS) | BIT(FK__OP_SAMPLING) | BIT(FK__OP_END_REASON) | BIT(FK__OP_ICMP) |       \
     BIT(FK__OP_DIRECTION) | BIT(FK__OP_L2_SEGMENT) | BIT(FK__OP_REV_ICMP))
#define OPS_TIME                                                                                   \
    (BIT(FK__OP_START_S) | BIT(FK__OP_END_S) | BIT(FK__OP_START_MS) | BIT(FK__OP_END_MS) |         \
     BIT(FK__OP_START_US) | BIT(FK__OP_END_US) | BIT(FK__OP_START_NS) | BIT(FK__OP_END_NS) |       \
     BIT(FK__OP_START_UPTIME) | BIT(FK__OP_END_UPTIME) | BIT(FK__OP_START_DELTA_US) |              \
     BIT(FK__OP_END_DELTA_US) | BIT(FK__OP_SYS_INIT_MS))
#define OPS_NEXT_HOP (BIT(FK__OP_NH4) | BIT(FK__OP_NH6) | BIT(FK__OP_BGP_NH4) | BIT(FK__OP_BGP_NH6))
#define VAL(op) (rec + so[op])
#define LEN(op) (plan->slot_len[op])

/* The flow fields beyond addresses, ports, protocol and counters. */
static void more_ops(const fk__plan *plan, const uint8_t *rec, const uint32_t *so, fk_flow *out)
{
    const uint64_t m = plan->opmask;
    if (HAS(FK__OP_IN_IF)) {
        out->in_if = (uint32_t)be_read(VAL(FK__OP_IN_IF), LEN(FK__OP_IN_IF));
        out->present |= FK_FLOW_HAS_IFACES;
    }
    if (HAS(FK__OP_OUT_IF)) {
        out->out_if = (uint32_t)be_read(VAL(FK__OP_OUT_IF), LEN(FK__OP_OUT_IF));
        out->present |= FK_FLOW_HAS_IFACES;
    }
    if (HAS(FK__OP_REV_BYTES) | HAS(FK__OP_REV_PACKETS) | HAS(FK__OP_REV_TCP_FLAGS)) {
        out->present |= FK_FLOW_HAS_REVERSE;
        if (HAS(FK__OP_REV_BYTES))
            out->rev_bytes = be_read(VAL(FK__OP_REV_BYTES), LEN(FK__OP_REV_BYTES));
        if (HAS(FK__OP_REV_PACKETS))
            out->rev_packets = be_read(VAL(FK__OP_REV_PACKETS), LEN(FK__OP_REV_PACKETS));
        if (HAS(FK__OP_REV_TCP_FLAGS))
            out->rev_tcp_flags =
                (uint8_t)be_read(VAL(FK__OP_REV_TCP_FLAGS), LEN(FK__OP_REV_TCP_FLAGS));
    }
    if (HAS(FK__OP_TOS))
        out->tos = *VAL(FK__OP_TOS);
    if (HAS(FK__OP_VLAN))
        out->vlan = (uint16_t)(be_read(VAL(FK__OP_VLAN), LEN(FK__OP_VLAN)) & 0x0fffu);
    if (HAS(FK__OP_SRC_AS))
        out->src_as = (uint32_t)be_read(VAL(FK__OP_SRC_AS), LEN(FK__OP_SRC_AS));
    if (HAS(FK__OP_DST_AS))
        out->dst_as = (uint32_t)be_read(VAL(FK__OP_DST_AS), LEN(FK__OP_DST_AS));
    if (HAS(FK__OP_SAMPLING)) {
        out->sampling = (uint32_t)be_read(VAL(FK__OP_SAMPLING), LEN(FK__OP_SAMPLING));
        out->present |= FK_FLOW_HAS_SAMPLING;
    }
    if (HAS(FK__OP_END_REASON)) {
        out->end_reason = *VAL(FK__OP_END_REASON);
        out->present |= FK_FLOW_HAS_END_REASON;
    }
    if (HAS(FK__OP_ICMP) && out->dst_port == 0 && out->src_port == 0)
        out->dst_port = (uint16_t)be_read(VAL(FK__OP_ICMP), LEN(FK__OP_ICMP));
    if (HAS(FK__OP_DIRECTION)) {
        uint64_t d = be_read(VAL(FK__OP_DIRECTION), LEN(FK__OP_DIRECTION));
        out->direction = d == 0 ? FK_DIRECTION_INGRESS : d == 1 ? FK_DIRECTION_EGRESS : 0;
    }
    if (HAS(FK__OP_L2_SEGMENT)) {
        uint64_t seg = be_read(VAL(FK__OP_L2_SEGMENT), LEN(FK__OP_L2_SEGMENT));
        if (LEN(FK__OP_L2_SEGMENT) == 8 && seg >> 56 == 1) { /* VXLAN */
            if (out->tunnel == FK_TUNNEL_NONE)
                out->tunnel = FK_TUNNEL_VXLAN;
            out->vni = (uint32_t)(seg & 0xffffffu);
            out->present |= FK_FLOW_HAS_VNI;
        }
    }
    if (HAS(FK__OP_REV_ICMP)) {
        out->rev_icmp = (uint16_t)be_read(VAL(FK__OP_REV_ICMP), LEN(FK__OP_REV_ICMP));
        out->present |= FK_FLOW_HAS_REV_ICMP;
    }
}

/* Start and end times: absolute forms by precision, then sysUpTime (needs
 * the boot time), then delta microseconds before the export time. */
static void time_ops(const fk__plan *plan, const uint8_t *rec, const uint32_t *so,
                     const fk_ipfix_time_ctx *tc, fk_flow *out)
{
    const uint64_t m = plan->opmask;
    int64_t sys_init = tc ? tc->sys_init_ns : 0;
    if (HAS(FK__OP_SYS_INIT_MS))
        sys_init = ms_to_ns(be_read(VAL(FK__OP_SYS_INIT_MS), 8));
    int64_t export_ns = tc ? tc->export_time_ns : 0;
    if (HAS(FK__OP_START_NS))
        out->start_ns = fk__ntp_to_ns(be_read(VAL(FK__OP_START_NS), 8), 0);
    else if (HAS(FK__OP_START_US))
        out->start_ns = fk__ntp_to_ns(be_read(VAL(FK__OP_START_US), 8), 1);
    else if (HAS(FK__OP_START_MS))
        out->start_ns = ms_to_ns(be_read(VAL(FK__OP_START_MS), 8));
    else if (HAS(FK__OP_START_S))
        out->start_ns = (int64_t)be_read(VAL(FK__OP_START_S), 4) * NS_PER_S;
    else if (HAS(FK__OP_START_UPTIME) && sys_init != 0)
        out->start_ns = add_sat(
            sys_init, ms_to_ns(be_read(VAL(FK__OP_START_UPTIME), LEN(FK__OP_START_UPTIME))));
    else if (HAS(FK__OP_START_DELTA_US))
        out->start_ns = add_sat(
            export_ns,
            -(int64_t)be_read(VAL(FK__OP_START_DELTA_US), LEN(FK__OP_START_DELTA_US)) * 1000);
    if (HAS(FK__OP_END_NS))
        out->end_ns = fk__ntp_to_ns(be_read(VAL(FK__OP_END_NS), 8), 0);
    else if (HAS(FK__OP_END_US))
        out->end_ns = fk__ntp_to_ns(be_read(VAL(FK__OP_END_US), 8), 1);
    else if (HAS(FK__OP_END_MS))
        out->end_ns = ms_to_ns(be_read(VAL(FK__OP_END_MS), 8));
    else if (HAS(FK__OP_END_S))
        out->end_ns = (int64_t)be_read(VAL(FK__OP_END_S), 4) * NS_PER_S;
    else if (HAS(FK__OP_END_UPTIME) && sys_init != 0)
        out->end_ns =
            add_sat(sys_init, ms_to_ns(be_read(VAL(FK__OP_END_UPTIME), LEN(FK__OP_END_UPTIME))));
    else if (HAS(FK__OP_END_DELTA_US))
        out->end_ns =
            add_sat(export_ns,
                    -(int64_t)be_read(VAL(FK__OP_END_DELTA_US), LEN(FK__OP_END_DELTA_US)) * 1000);
}

/* Copying a constant zero flow compiles to a few vector stores; memset of the
 * same size became `rep stos`, which cost half of the whole decode. */
static const fk_flow zero_flow;

int fk__plan_to_flow(const fk__plan *plan, const uint8_t *rec, const uint32_t *offsets,
                     const fk_ipfix_time_ctx *tc, fk_flow *out)
{
    memcpy(out, &zero_flow, sizeof *out);
    if (plan->nslots == 0)
        return 0;
    const uint16_t *sl = plan->slot;
    const uint64_t m = plan->opmask;
    /* value offsets by op: constant for fixed templates, else from the split */
    uint32_t varoff[FK__OP_COUNT];
    const uint32_t *so = plan->slot_off;
    if (!plan->fixed_len) {
        for (uint64_t b = m; b; b &= b - 1) { /* only the ops present are read */
            int k = __builtin_ctzll(b);
            varoff[k] = offsets[sl[k]];
        }
        so = varoff;
    }
    if (HAS(FK__OP_SRC4)) {
        out->src.family = 4;
        memcpy(out->src.bytes, VAL(FK__OP_SRC4), 4);
    } else if (HAS(FK__OP_SRC6)) {
        out->src.family = 6;
        memcpy(out->src.bytes, VAL(FK__OP_SRC6), 16);
    }
    if (HAS(FK__OP_DST4)) {
        out->dst.family = 4;
        memcpy(out->dst.bytes, VAL(FK__OP_DST4), 4);
    } else if (HAS(FK__OP_DST6)) {
        out->dst.family = 6;
        memcpy(out->dst.bytes, VAL(FK__OP_DST6), 16);
    }
    if (HAS(FK__OP_SPORT))
        out->src_port = (uint16_t)be_read(VAL(FK__OP_SPORT), LEN(FK__OP_SPORT));
    if (HAS(FK__OP_DPORT))
        out->dst_port = (uint16_t)be_read(VAL(FK__OP_DPORT), LEN(FK__OP_DPORT));
    if (HAS(FK__OP_PROTO))
        out->proto = *VAL(FK__OP_PROTO);
    if (HAS(FK__OP_BYTES))
        out->bytes = be_read(VAL(FK__OP_BYTES), LEN(FK__OP_BYTES));
    if (HAS(FK__OP_PACKETS))
        out->packets = be_read(VAL(FK__OP_PACKETS), LEN(FK__OP_PACKETS));
    if (HAS(FK__OP_TCP_FLAGS))
        out->tcp_flags = (uint8_t)be_read(VAL(FK__OP_TCP_FLAGS), LEN(FK__OP_TCP_FLAGS));
    if (m & OPS_MORE)
        more_ops(plan, rec, so, out);
    if (m & OPS_TIME)
        time_ops(plan, rec, so, tc, out);
    if (plan->tuple_resolve | ((m & OPS_NEXT_HOP) != 0))
        fk__plan_tuple(plan, rec, offsets, out);
    return 0;
}
