/* A flow as one JSON line (the JSON lines contract in DESIGN.md). */
#include <flowkit/flow.h>
#include <flowkit/session.h>
#include <inttypes.h>
#include <string.h>

#include "core/error.h"
#include "core/strbuf.h"

const char *fk_tunnel_kind_name(int kind)
{
    switch (kind) {
    case FK_TUNNEL_IPIP:
        return "ipip";
    case FK_TUNNEL_GRE:
        return "gre";
    case FK_TUNNEL_VXLAN:
        return "vxlan";
    case FK_TUNNEL_GENEVE:
        return "geneve";
    case FK_TUNNEL_MPLS:
        return "mpls";
    case FK_TUNNEL_OTHER:
        return "other";
    default:
        return "";
    }
}

/* `,"key":"address"` when the address is present. */
static void json_addr(fk__strbuf *o, const char *key, const fk_addr *a)
{
    if (a->family != 4 && a->family != 6)
        return;
    char text[FK_ADDR_STRLEN];
    fk_addr_format(a, text, sizeof text);
    fk__strbuf_printf(o, ",\"%s\":\"%s\"", key, text);
}

int fk_flow_to_json(const fk_flow *f, char *buf, size_t size)
{
    if (!f || !buf || size == 0)
        return fk__error(FK_EINVAL, "fk_flow_to_json: NULL argument");
    char src[FK_ADDR_STRLEN], dst[FK_ADDR_STRLEN], exp[FK_ADDR_STRLEN];
    char start[40], end[40];
    fk_addr_format(&f->src, src, sizeof src);
    fk_addr_format(&f->dst, dst, sizeof dst);
    fk_time_format(f->start_ns, start, sizeof start);
    fk_time_format(f->end_ns, end, sizeof end);

    fk__strbuf o = FK__STRBUF(buf, size);
    if (f->event) {
        /* A session event carried in a flow record (collector). */
        fk__strbuf_printf(
            &o,
            "{\"type\":\"event\",\"event\":\"%s\",\"time\":\"%s\",\"src_addr\":\"%s\","
            "\"dst_addr\":\"%s\",\"src_port\":%u,\"dst_port\":%u,\"proto\":%u",
            fk_session_kind_name(f->event), end, src, dst, f->src_port, f->dst_port, f->proto);
    } else {
        fk__strbuf_printf(
            &o,
            "{\"type\":\"flow\",\"src_addr\":\"%s\",\"dst_addr\":\"%s\",\"src_port\":%u,"
            "\"dst_port\":%u,\"proto\":%u,\"bytes\":%" PRIu64 ",\"packets\":%" PRIu64
            ",\"start\":\"%s\",\"end\":\"%s\",\"tcp_flags\":%u",
            src, dst, f->src_port, f->dst_port, f->proto, f->bytes, f->packets, start, end,
            f->tcp_flags);
    }
    if (f->present & FK_FLOW_HAS_EXPORTER) {
        fk_addr_format(&f->exporter, exp, sizeof exp);
        fk__strbuf_printf(&o, ",\"exporter\":\"%s\",\"odid\":%" PRIu32, exp, f->odid);
    } else {
        fk__strbuf_printf(&o, ",\"exporter\":null,\"odid\":0");
    }
    fk__strbuf_printf(&o, ",\"version\":%u", f->version);
    if ((f->present & FK_FLOW_HAS_REVERSE) && !f->event)
        fk__strbuf_printf(
            &o, ",\"rev_bytes\":%" PRIu64 ",\"rev_packets\":%" PRIu64 ",\"rev_tcp_flags\":%u",
            f->rev_bytes, f->rev_packets, f->rev_tcp_flags);
    if ((f->present & FK_FLOW_HAS_REV_ICMP) && !f->event)
        fk__strbuf_printf(&o, ",\"rev_icmp_type\":%u,\"rev_icmp_code\":%u", f->rev_icmp >> 8u,
                          f->rev_icmp & 0xffu);
    if (f->present & FK_FLOW_HAS_PROCESS) {
        char name[FK_PROCESS_NAME_MAX];
        memcpy(name, f->process, sizeof name);
        name[sizeof name - 1] = '\0';
        fk__strbuf_printf(&o, ",\"pid\":%" PRIu32 ",\"process\":", f->pid);
        fk__strbuf_json_string(&o, name, sizeof name);
    }
    if ((f->present & FK_FLOW_HAS_IFACES) && !f->event)
        fk__strbuf_printf(&o, ",\"in_if\":%" PRIu32 ",\"out_if\":%" PRIu32, f->in_if, f->out_if);
    if ((f->present & FK_FLOW_HAS_SAMPLING) && !f->event)
        fk__strbuf_printf(&o, ",\"sampling\":%" PRIu32, f->sampling);
    if ((f->present & FK_FLOW_HAS_END_REASON) && !f->event)
        fk__strbuf_printf(&o, ",\"end_reason\":%u", f->end_reason);
    if (f->tunnel && !f->event)
        fk__strbuf_printf(&o, ",\"tunnel\":\"%s\"", fk_tunnel_kind_name(f->tunnel));
    json_addr(&o, "outer_src_addr", &f->outer_src);
    json_addr(&o, "outer_dst_addr", &f->outer_dst);
    if (f->vlan && !f->event)
        fk__strbuf_printf(&o, ",\"vlan\":%u", f->vlan);
    if ((f->present & FK_FLOW_HAS_VNI) && !f->event)
        fk__strbuf_printf(&o, ",\"vni\":%" PRIu32, f->vni);
    if ((f->direction == FK_DIRECTION_INGRESS || f->direction == FK_DIRECTION_EGRESS) && !f->event)
        fk__strbuf_printf(&o, ",\"direction\":\"%s\"",
                          f->direction == FK_DIRECTION_INGRESS ? "ingress" : "egress");
    json_addr(&o, "next_hop", &f->next_hop);
    json_addr(&o, "bgp_next_hop", &f->bgp_next_hop);
    /* Borrowed strings (collector): cut so that FK_FLOW_JSON_MAX suffices. */
    if (f->in_if_name) {
        fk__strbuf_printf(&o, ",\"in_if_name\":");
        fk__strbuf_json_string(&o, f->in_if_name, FK_FLOW_IFNAME_MAX);
    }
    if (f->out_if_name) {
        fk__strbuf_printf(&o, ",\"out_if_name\":");
        fk__strbuf_json_string(&o, f->out_if_name, FK_FLOW_IFNAME_MAX);
    }
    if (f->user) {
        fk__strbuf_printf(&o, ",\"user\":");
        fk__strbuf_json_string(&o, f->user, FK_FLOW_USER_MAX);
    }
    if (f->present & FK_FLOW_HAS_UID)
        fk__strbuf_printf(&o, ",\"uid\":%" PRIu32, f->uid);
    if (f->exe) {
        fk__strbuf_printf(&o, ",\"exe\":");
        fk__strbuf_json_string(&o, f->exe, FK_FLOW_EXE_MAX);
    }
    fk__strbuf_printf(&o, "}");
    if (o.overflow)
        return fk__error(FK_ENOSPACE, "fk_flow_to_json: buffer of %zu bytes too small", size);
    return (int)o.len;
}
