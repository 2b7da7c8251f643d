/* flowkit's IPFIX flow and event templates and their records (see
 * flow_template.h): the description and the writer follow the same order. */
#include "ipfix/flow_template.h"

/* IANA information elements. */
enum {
    IE_OCTETS = 1,
    IE_PACKETS = 2,
    IE_PROTOCOL = 4,
    IE_TOS = 5,
    IE_TCP_FLAGS = 6,
    IE_SRC_PORT = 7,
    IE_SRC_V4 = 8,
    IE_INGRESS = 10,
    IE_DST_PORT = 11,
    IE_DST_V4 = 12,
    IE_EGRESS = 14,
    IE_SRC_V6 = 27,
    IE_DST_V6 = 28,
    IE_ICMP_V4 = 32,
    IE_ICMP_V6 = 139,
    IE_VLAN = 58,
    IE_DIRECTION = 61,
    IE_L2_SEGMENT = 351,
    IE_EXPORTER_V4 = 130,
    IE_EXPORTER_V6 = 131,
    IE_END_REASON = 136,
    IE_ODID = 149,
    IE_START_MS = 152,
    IE_END_MS = 153,
    IE_SAMPLING = 305,
    IE_OBSERVATION_MS = 323
};

size_t fk__ft_fields(fk_field_spec *out, size_t cap, unsigned parts, uint32_t pen)
{
    fk_field_spec f[FK__FT_FIELDS_MAX];
    size_t n = 0;
    bool v6 = parts & FK__FT_V6, exp6 = parts & FK__FT_ORIGIN_V6, event = parts & FK__FT_EVENT;
#define ADD(i, l, p) (f[n].id = (i), f[n].length = (l), f[n].pen = (p), f[n].flags = 0, n++)
    ADD(v6 ? IE_SRC_V6 : IE_SRC_V4, v6 ? 16 : 4, 0);
    ADD(v6 ? IE_DST_V6 : IE_DST_V4, v6 ? 16 : 4, 0);
    ADD(IE_SRC_PORT, 2, 0);
    ADD(IE_DST_PORT, 2, 0);
    ADD(IE_PROTOCOL, 1, 0);
    ADD(IE_TCP_FLAGS, 2, 0);
    if (event) {
        if (parts & FK__FT_TOS_VLAN)
            ADD(IE_VLAN, 2, 0);
        ADD(IE_OBSERVATION_MS, 8, 0);
        ADD(FK_EXPORTER_IE_EVENT_KIND, 1, pen);
    } else {
        if (parts & FK__FT_TOS_VLAN) {
            ADD(IE_TOS, 1, 0);
            ADD(IE_VLAN, 2, 0);
        }
        ADD(IE_OCTETS, 8, 0);
        ADD(IE_PACKETS, 8, 0);
        ADD(IE_START_MS, 8, 0);
        ADD(IE_END_MS, 8, 0);
        if (parts & FK__FT_INTERFACES) {
            ADD(IE_INGRESS, 4, 0);
            ADD(IE_EGRESS, 4, 0);
            ADD(IE_SAMPLING, 4, 0);
        }
        ADD(IE_END_REASON, 1, 0);
    }
    if (parts & FK__FT_ORIGIN) {
        ADD(IE_ODID, 4, 0);
        ADD(exp6 ? IE_EXPORTER_V6 : IE_EXPORTER_V4, exp6 ? 16 : 4, 0);
    }
    if (!event && (parts & FK__FT_REVERSE)) {
        ADD(IE_OCTETS, 8, FK_PEN_REVERSE);
        ADD(IE_PACKETS, 8, FK_PEN_REVERSE);
        ADD(IE_TCP_FLAGS, 2, FK_PEN_REVERSE);
        if (parts & FK__FT_REV_ICMP)
            ADD(v6 ? IE_ICMP_V6 : IE_ICMP_V4, 2, FK_PEN_REVERSE);
    }
    if (!event && (parts & FK__FT_DIRECTION))
        ADD(IE_DIRECTION, 1, 0);
    if (!event && (parts & FK__FT_TUNNEL)) {
        bool t6 = parts & FK__FT_TUNNEL_V6;
        ADD(FK_EXPORTER_IE_TUNNEL_TYPE, 1, pen);
        ADD(t6 ? FK_EXPORTER_IE_TUNNEL_SRC_V6 : FK_EXPORTER_IE_TUNNEL_SRC_V4, t6 ? 16 : 4, pen);
        ADD(t6 ? FK_EXPORTER_IE_TUNNEL_DST_V6 : FK_EXPORTER_IE_TUNNEL_DST_V4, t6 ? 16 : 4, pen);
        ADD(FK_EXPORTER_IE_VNI, 4, pen);
        ADD(IE_L2_SEGMENT, 8, 0);
    }
    if (parts & FK__FT_PROCESS) {
        ADD(FK_EXPORTER_IE_PROCESS_ID, 4, pen);
        ADD(FK_EXPORTER_IE_USER_ID, 4, pen);
        ADD(FK_EXPORTER_IE_PROCESS_NAME, FK_VARLEN, pen);
        ADD(FK_EXPORTER_IE_USER_NAME, FK_VARLEN, 0); /* IANA userName */
        ADD(FK_EXPORTER_IE_PROCESS_EXE, FK_VARLEN, pen);
    }
    if (parts & FK__FT_TAGS)
        ADD(FK_EXPORTER_IE_TAGS, FK_VARLEN, pen);
#undef ADD
    if (n > cap)
        return 0;
    memcpy(out, f, n * sizeof f[0]);
    return n;
}

size_t fk__ft_record_len(unsigned parts, const fk__ft_process *proc, size_t tags_len)
{
    size_t addr = (parts & FK__FT_V6) ? 16 : 4;
    size_t n = 2 * addr + 7; /* tuple */
    if (parts & FK__FT_EVENT)
        n += ((parts & FK__FT_TOS_VLAN) ? 2 : 0) + 9;
    else
        n += ((parts & FK__FT_TOS_VLAN) ? 3 : 0) + 32 + ((parts & FK__FT_INTERFACES) ? 12 : 0) + 1 +
             ((parts & FK__FT_REVERSE) ? 18 + ((parts & FK__FT_REV_ICMP) ? 2 : 0) : 0) +
             ((parts & FK__FT_DIRECTION) ? 1 : 0) +
             ((parts & FK__FT_TUNNEL) ? 1 + ((parts & FK__FT_TUNNEL_V6) ? 32 : 8) + 4 + 8 : 0);
    if (parts & FK__FT_ORIGIN)
        n += 4 + ((parts & FK__FT_ORIGIN_V6) ? 16 : 4);
    if ((parts & FK__FT_PROCESS) && proc)
        n += 8 + fk__ft_str_len(proc->name_len) + fk__ft_str_len(proc->user_len) +
             fk__ft_str_len(proc->exe_len);
    if (parts & FK__FT_TAGS)
        n += fk__ft_str_len(tags_len);
    return n;
}

/* The bit of tcpControlBits that made each event kind: SYN, FIN, RST. */
static const uint8_t event_flag[4] = {0, 0x02, 0x01, 0x04};

uint8_t *fk__ft_write(uint8_t *p, unsigned parts, const fk_flow *f, const fk__ft_process *proc)
{
    bool v6 = parts & FK__FT_V6;
    uint32_t has = f->present;
    p = fk__ft_put_addr(p, &f->src, v6);
    p = fk__ft_put_addr(p, &f->dst, v6);
    p = fk__put16(p, f->src_port);
    p = fk__put16(p, f->dst_port);
    *p++ = f->proto;
    if (parts & FK__FT_EVENT) {
        p = fk__put16(p, f->tcp_flags ? f->tcp_flags : event_flag[f->event < 4 ? f->event : 0]);
        if (parts & FK__FT_TOS_VLAN)
            p = fk__put16(p, f->vlan);
        p = fk__put64(p, fk__ft_ms(f->end_ns ? f->end_ns : f->start_ns));
        *p++ = f->event;
    } else {
        p = fk__put16(p, f->tcp_flags);
        if (parts & FK__FT_TOS_VLAN) {
            *p++ = f->tos;
            p = fk__put16(p, f->vlan);
        }
        p = fk__put64(p, f->bytes);
        p = fk__put64(p, f->packets);
        p = fk__put64(p, fk__ft_ms(f->start_ns));
        p = fk__put64(p, fk__ft_ms(f->end_ns));
        if (parts & FK__FT_INTERFACES) {
            p = fk__put32(p, (has & FK_FLOW_HAS_IFACES) ? f->in_if : 0);
            p = fk__put32(p, (has & FK_FLOW_HAS_IFACES) ? f->out_if : 0);
            p = fk__put32(p, (has & FK_FLOW_HAS_SAMPLING) ? f->sampling : 0);
        }
        *p++ = (has & FK_FLOW_HAS_END_REASON) ? f->end_reason : 0;
    }
    if (parts & FK__FT_ORIGIN) {
        p = fk__put32(p, f->odid);
        p = fk__ft_put_addr(p, &f->exporter, parts & FK__FT_ORIGIN_V6);
    }
    if (!(parts & FK__FT_EVENT) && (parts & FK__FT_REVERSE)) {
        p = fk__put64(p, f->rev_bytes);
        p = fk__put64(p, f->rev_packets);
        p = fk__put16(p, f->rev_tcp_flags);
        if (parts & FK__FT_REV_ICMP)
            p = fk__put16(p, (f->present & FK_FLOW_HAS_REV_ICMP) ? f->rev_icmp : 0);
    }
    if (!(parts & FK__FT_EVENT) && (parts & FK__FT_DIRECTION))
        *p++ = f->direction == FK_DIRECTION_EGRESS ? 1 : 0; /* IANA: 0 ingress, 1 egress */
    if (!(parts & FK__FT_EVENT) && (parts & FK__FT_TUNNEL)) {
        bool t6 = parts & FK__FT_TUNNEL_V6, vni = has & FK_FLOW_HAS_VNI;
        *p++ = f->tunnel;
        p = fk__ft_put_addr(p, &f->outer_src, t6);
        p = fk__ft_put_addr(p, &f->outer_dst, t6);
        p = fk__put32(p, vni ? f->vni & 0xffffffu : FK__FT_NO_VNI);
        /* IANA layer2SegmentId: encapsulation type 0x01 (VXLAN) in the top
         * octet, the VNI below; 0 for other tunnels. */
        p = fk__put64(p, vni && f->tunnel == FK_TUNNEL_VXLAN ? (1ull << 56) | (f->vni & 0xffffffu)
                                                             : 0);
    }
    if ((parts & FK__FT_PROCESS) && proc) {
        p = fk__put32(p, proc->pid);
        p = fk__put32(p, proc->uid);
        p = fk__ft_put_str(p, proc->name, proc->name_len);
        p = fk__ft_put_str(p, proc->user, proc->user_len);
        p = fk__ft_put_str(p, proc->exe, proc->exe_len);
    }
    if (parts & FK__FT_TAGS)
        p = fk__ft_put_str(p, f->tags, fk__ft_tags_len(f));
    return p;
}

/* ICMP "ports" are type * 256 + code of the forward packets: the reply
 * direction gets the reply type where there is one. */
static uint16_t icmp_reply(uint8_t proto, uint16_t type_code)
{
    unsigned type = type_code >> 8;
    if (proto == 1 && (type == 8 || type == 13 || type == 15 || type == 17))
        return (uint16_t)((type == 8 ? 0 : type + 1) << 8);
    if (proto == 58 && type == 128)
        return 129 << 8;
    return type_code;
}

unsigned fk__ft_live_parts(const fk_flow *f)
{
    if (f->event)
        return 0;
    unsigned parts = 0;
    if (f->direction == FK_DIRECTION_INGRESS || f->direction == FK_DIRECTION_EGRESS)
        parts |= FK__FT_DIRECTION;
    if (f->tunnel != FK_TUNNEL_NONE)
        parts |= FK__FT_TUNNEL | (f->outer_src.family == 6 ? FK__FT_TUNNEL_V6 : 0);
    return parts;
}

int fk__ft_split_biflow(const fk_flow *f, fk_flow *out, fk_flow *rev)
{
    *out = *f;
    out->present &= ~(FK_FLOW_HAS_REVERSE | FK_FLOW_HAS_REV_ICMP);
    out->rev_bytes = out->rev_packets = 0;
    out->rev_tcp_flags = 0;
    out->rev_icmp = 0;
    if (!(f->present & FK_FLOW_HAS_REVERSE) || f->rev_packets == 0)
        return 1;
    *rev = *out;
    rev->src = f->dst;
    rev->dst = f->src;
    rev->src_port = f->dst_port;
    rev->dst_port = f->src_port;
    if (f->proto == 1 || f->proto == 58) {
        rev->src_port = 0;
        rev->dst_port =
            (f->present & FK_FLOW_HAS_REV_ICMP) ? f->rev_icmp : icmp_reply(f->proto, f->dst_port);
    }
    rev->in_if = f->out_if;
    rev->out_if = f->in_if;
    rev->in_if_name = f->out_if_name;
    rev->out_if_name = f->in_if_name;
    rev->bytes = f->rev_bytes;
    rev->packets = f->rev_packets;
    rev->tcp_flags = f->rev_tcp_flags;
    /* The reply goes the other way, through the other tunnel end. */
    rev->direction = f->direction == FK_DIRECTION_INGRESS  ? FK_DIRECTION_EGRESS
                     : f->direction == FK_DIRECTION_EGRESS ? FK_DIRECTION_INGRESS
                                                           : FK_DIRECTION_UNKNOWN;
    rev->outer_src = f->outer_dst;
    rev->outer_dst = f->outer_src;
    return 2;
}
