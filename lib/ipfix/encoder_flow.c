/* IPFIX encoder: a record from an fk_flow in one call (add_flow), the
 * exporter's hot path: the template's fields fed by the flow were compiled
 * at add_template into straight-line stores plus a list of the rarer ones. */
#include <string.h>

#include "core/error.h"
#include "ipfix/encoder_int.h"

/* Big-endian store of the low len octets of v, saturated to the field size. */
static inline void put_sat(uint8_t *p, uint64_t v, unsigned len)
{
    switch (len) {
    case 1:
        p[0] = v > 0xffu ? 0xffu : (uint8_t)v;
        return;
    case 2:
        v = v > 0xffffu ? 0xffffu : v;
        p[0] = (uint8_t)(v >> 8);
        p[1] = (uint8_t)v;
        return;
    case 4: {
        uint32_t x = __builtin_bswap32(v > 0xffffffffu ? 0xffffffffu : (uint32_t)v);
        memcpy(p, &x, 4);
        return;
    }
    case 8: {
        uint64_t x = __builtin_bswap64(v);
        memcpy(p, &x, 8);
        return;
    }
    default:
        if (len < 8 && (v >> (len * 8)) != 0)
            v = ((uint64_t)1 << (len * 8)) - 1;
        wr_be(p, v, len);
        return;
    }
}

/* Write the extra flow-fed fields (duplicates of an op, observationDomainId)
 * of a record at p. */
static void fill_steps(uint8_t *p, const enc_tmpl *et, const fk_flow *fl, int fixed,
                       const uint32_t *fix_off)
{
    for (uint16_t k = 0; k < et->nsteps; k++) {
        const enc_step *st = &et->steps[k];
        uint8_t *d = p + (fixed ? st->off : fix_off[st->field]);
        unsigned len = st->len;
        switch (st->op) {
        case FK__OP_SRC4:
            if (fl->src.family == 4)
                memcpy(d, fl->src.bytes, 4);
            break;
        case FK__OP_DST4:
            if (fl->dst.family == 4)
                memcpy(d, fl->dst.bytes, 4);
            break;
        case FK__OP_SRC6:
            if (fl->src.family == 6)
                memcpy(d, fl->src.bytes, 16);
            break;
        case FK__OP_DST6:
            if (fl->dst.family == 6)
                memcpy(d, fl->dst.bytes, 16);
            break;
        case FK__OP_SPORT:
            put_sat(d, fl->src_port, len);
            break;
        case FK__OP_DPORT:
            put_sat(d, fl->dst_port, len);
            break;
        case FK__OP_PROTO:
            d[0] = fl->proto;
            break;
        case FK__OP_BYTES:
            put_sat(d, fl->bytes, len);
            break;
        case FK__OP_PACKETS:
            put_sat(d, fl->packets, len);
            break;
        case FK__OP_REV_BYTES:
            put_sat(d, fl->rev_bytes, len);
            break;
        case FK__OP_REV_PACKETS:
            put_sat(d, fl->rev_packets, len);
            break;
        case FK__OP_TCP_FLAGS:
            put_sat(d, fl->tcp_flags, len);
            break;
        case FK__OP_REV_TCP_FLAGS:
            put_sat(d, fl->rev_tcp_flags, len);
            break;
        case FK__OP_TOS:
            d[0] = fl->tos;
            break;
        case FK__OP_VLAN:
            put_sat(d, fl->vlan, len);
            break;
        case FK__OP_IN_IF:
            put_sat(d, fl->in_if, len);
            break;
        case FK__OP_OUT_IF:
            put_sat(d, fl->out_if, len);
            break;
        case FK__OP_SAMPLING:
            put_sat(d, fl->sampling, len);
            break;
        case FK__OP_END_REASON:
            d[0] = fl->end_reason;
            break;
        case FK__OP_ICMP:
            if (fl->proto == 1 || fl->proto == 58)
                put_sat(d, fl->dst_port, len);
            break;
        case FK__OP_REV_ICMP:
            if (fl->present & FK_FLOW_HAS_REV_ICMP)
                put_sat(d, fl->rev_icmp, len);
            break;
        case FK__OP_DIRECTION: /* IANA: 0 ingress, 1 egress */
            put_sat(d, fl->direction == FK_DIRECTION_EGRESS ? 1 : 0, len);
            break;
        case FK__OP_L2_SEGMENT:
            if (fl->tunnel == FK_TUNNEL_VXLAN && (fl->present & FK_FLOW_HAS_VNI) && len == 8)
                put_sat(d, (1ull << 56) | (fl->vni & 0xffffffu), len);
            break;
        case ENC_OP_ODID:
            put_sat(d, fl->odid, len);
            break;
        case FK__OP_START_S:
        case FK__OP_END_S: {
            int64_t ns = st->op == FK__OP_START_S ? fl->start_ns : fl->end_ns;
            if (ns >= 0)
                put_sat(d, (uint64_t)(ns / 1000000000), 4);
            break;
        }
        case FK__OP_START_MS:
        case FK__OP_END_MS: {
            int64_t ns = st->op == FK__OP_START_MS ? fl->start_ns : fl->end_ns;
            if (ns >= 0)
                put_sat(d, (uint64_t)(ns / 1000000), 8);
            break;
        }
        case FK__OP_START_US:
        case FK__OP_END_US: {
            int64_t ns = st->op == FK__OP_START_US ? fl->start_ns : fl->end_ns;
            if (ns >= 0)
                put_sat(d, fk__ns_to_ntp(ns / 1000 * 1000) & ~(uint64_t)0x7ff, 8);
            break;
        }
        case FK__OP_START_NS:
        case FK__OP_END_NS: {
            int64_t ns = st->op == FK__OP_START_NS ? fl->start_ns : fl->end_ns;
            if (ns >= 0)
                put_sat(d, fk__ns_to_ntp(ns), 8);
            break;
        }
        default:
            break;
        }
    }
}

#define HAS(op) (sl[op] != FK__NO_FIELD)
#define DST(op) (p + (fixed ? plan->slot_off[op] : off[sl[op]]))
#define LEN(op) (plan->slot_len[op])

/* Write every flow-fed field of a record at p through the plan's slots:
 * straight-line code whose branches do not change from record to record. */
static inline __attribute__((always_inline)) void
fill_flow(uint8_t *p, const enc_tmpl *et, const fk_flow *fl, int fixed, const uint32_t *off)
{
    const fk__plan *plan = et->t->plan;
    const uint16_t *sl = plan->slot;
    /* every field below is written (zero when not applicable), so that a
     * template fully covered here needs no memset */
    static const uint8_t zeros[16] = {0};
    if (HAS(FK__OP_SRC4))
        memcpy(DST(FK__OP_SRC4), fl->src.family == 4 ? fl->src.bytes : zeros, 4);
    if (HAS(FK__OP_DST4))
        memcpy(DST(FK__OP_DST4), fl->dst.family == 4 ? fl->dst.bytes : zeros, 4);
    if (HAS(FK__OP_SRC6))
        memcpy(DST(FK__OP_SRC6), fl->src.family == 6 ? fl->src.bytes : zeros, 16);
    if (HAS(FK__OP_DST6))
        memcpy(DST(FK__OP_DST6), fl->dst.family == 6 ? fl->dst.bytes : zeros, 16);
    if (HAS(FK__OP_SPORT))
        put_sat(DST(FK__OP_SPORT), fl->src_port, LEN(FK__OP_SPORT));
    if (HAS(FK__OP_DPORT))
        put_sat(DST(FK__OP_DPORT), fl->dst_port, LEN(FK__OP_DPORT));
    if (HAS(FK__OP_PROTO))
        *DST(FK__OP_PROTO) = fl->proto;
    if (HAS(FK__OP_TCP_FLAGS))
        put_sat(DST(FK__OP_TCP_FLAGS), fl->tcp_flags, LEN(FK__OP_TCP_FLAGS));
    if (HAS(FK__OP_BYTES))
        put_sat(DST(FK__OP_BYTES), fl->bytes, LEN(FK__OP_BYTES));
    if (HAS(FK__OP_PACKETS))
        put_sat(DST(FK__OP_PACKETS), fl->packets, LEN(FK__OP_PACKETS));
    if (HAS(FK__OP_IN_IF))
        put_sat(DST(FK__OP_IN_IF), fl->in_if, LEN(FK__OP_IN_IF));
    if (HAS(FK__OP_OUT_IF))
        put_sat(DST(FK__OP_OUT_IF), fl->out_if, LEN(FK__OP_OUT_IF));
    if (HAS(FK__OP_START_MS))
        put_sat(DST(FK__OP_START_MS), fl->start_ns > 0 ? (uint64_t)(fl->start_ns / 1000000) : 0, 8);
    if (HAS(FK__OP_END_MS))
        put_sat(DST(FK__OP_END_MS), fl->end_ns > 0 ? (uint64_t)(fl->end_ns / 1000000) : 0, 8);
    if (et->nsteps) /* everything else: rarer elements, duplicates, times in other units */
        fill_steps(p, et, fl, fixed, off);
}

int fk_ipfix_encoder_add_flow(fk_ipfix_encoder *e, uint16_t template_id, const fk_flow *flow)
{
    if (!e || !flow)
        return fk__error(FK_EINVAL, "ipfix encoder: NULL argument");
    if (!e->in_msg || e->rec)
        return fk__error(FK_ESTATE, "ipfix encoder: no message open (or a record is open)");
    enc_tmpl *et =
        e->last && e->last->t->id == template_id ? e->last : fk__enc_find_tmpl(e, template_id);
    if (!et)
        return fk__error(FK_ENOTEMPLATE, "ipfix encoder: no template %u", (unsigned)template_id);
    e->last = et;
    if (et->has_varlen) { /* variable-length fields stay empty */
        int rc = fk_ipfix_encoder_record_begin(e, template_id);
        if (rc < 0)
            return rc;
        fill_flow(e->fixed, et, flow, 0, et->fix_off);
        rc = fk_ipfix_encoder_record_end(e);
        if (rc < 0)
            e->rec = NULL; /* add_flow appends all or nothing */
        return rc;
    }
    size_t len = et->fix_len;
    if (len + FK_IPFIX_HEADER_LEN + FK_IPFIX_SET_HEADER_LEN > MAX_MSG)
        return fk__error(FK_ERANGE, "ipfix encoder: a %zu-octet record cannot fit any message",
                         len);
    /* fast path: the open set is this template's and the record fits */
    if (!(e->set_start != SIZE_MAX && e->set_id == template_id && e->limit - e->pos >= len) &&
        fk__enc_reserve(e, template_id, len, et->t->plan->min_len) < 0)
        return fk__enc_no_space(len);
    uint8_t *p = e->buf + e->pos;
    if (et->covered != et->t->count) /* fields not fed by the flow are zero */
        memset(p, 0, len);
    fill_flow(p, et, flow, 1, et->t->plan->fixed_offsets);
    e->pos += len;
    e->records++;
    return 0;
}
