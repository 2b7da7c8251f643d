/* Flow table: what it hands on, an ended flow as an fk__flow_record (both
 * directions, start, end, end reason) and a TCP SYN/FIN/RST as an
 * fk_session_event. */
#include <string.h>

#include "flow/flow_table_int.h"

/* ---- records and events ------------------------------------------------- */

static void fill_addr(fk_addr *a, const uint8_t *bytes, uint8_t family)
{
    a->family = family;
    memcpy(a->bytes, bytes, 16);
}

void fk__ft_emit_record(fk__flow_table *t, uint32_t i, uint8_t reason)
{
    flow_entry *e = &t->slab[i];
    if (e->packets[0] + e->packets[1] == 0)
        return; /* nothing since the last active-timeout record */
    t->st.records++;
    if (reason == FK_END_RESOURCES)
        t->st.evicted++;
    if (!t->sink.on_flow)
        return;
    int f = e->init_side, r = 1 - f;
    fk__flow_record rec;
    memset(&rec, 0, sizeof rec);
    fk_flow *fl = &rec.flow;
    const flow_key *k = &e->key;
    fill_addr(&fl->src, f == 0 ? k->a : k->b, k->family);
    fill_addr(&fl->dst, f == 0 ? k->b : k->a, k->family);
    if (is_icmp(k->proto)) {
        fl->src_port = 0;
        fl->dst_port = e->first_typecode;
    } else {
        fl->src_port = f == 0 ? k->pa : k->pb;
        fl->dst_port = f == 0 ? k->pb : k->pa;
    }
    fl->proto = k->proto;
    fl->tcp_flags = e->tcp_flags[f];
    fl->rev_tcp_flags = e->tcp_flags[r];
    fl->tos = e->tos;
    fl->vlan = k->vlan;
    fl->version = 0;
    fl->present = FK_FLOW_HAS_REVERSE | FK_FLOW_HAS_END_REASON;
    fl->bytes = e->bytes[f];
    fl->packets = e->packets[f];
    fl->rev_bytes = e->bytes[r];
    fl->rev_packets = e->packets[r];
    if (is_icmp(k->proto) && e->packets[r]) {
        fl->rev_icmp = e->other_typecode;
        fl->present |= FK_FLOW_HAS_REV_ICMP;
    }
    const flow_cold *c = &t->cold[i];
    rec.fwd_first_ns = e->packets[f] ? c->first[f] : 0;
    rec.fwd_last_ns = e->packets[f] ? e->last[f] : 0;
    rec.rev_first_ns = e->packets[r] ? c->first[r] : 0;
    rec.rev_last_ns = e->packets[r] ? e->last[r] : 0;
    if (e->packets[f] && e->packets[r]) {
        fl->start_ns = c->first[f] < c->first[r] ? c->first[f] : c->first[r];
        fl->end_ns = e->last[f] > e->last[r] ? e->last[f] : e->last[r];
    } else if (e->packets[f]) {
        fl->start_ns = c->first[f];
        fl->end_ns = e->last[f];
    } else {
        fl->start_ns = c->first[r];
        fl->end_ns = e->last[r];
    }
    fl->end_reason = reason;
    rec.hash = e->hash;
    t->sink.on_flow(t->sink.ctx, &rec);
}

void fk__ft_emit_event(fk__flow_table *t, const fk__packet *p, uint8_t kind)
{
    t->st.events++;
    if (!t->sink.on_event)
        return;
    fk_session_event ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = kind;
    ev.proto = p->proto;
    ev.vlan = p->vlan;
    ev.time_ns = p->ts_ns;
    fill_addr(&ev.src, p->src, p->ip_version);
    fill_addr(&ev.dst, p->dst, p->ip_version);
    ev.src_port = p->src_port;
    ev.dst_port = p->dst_port;
    t->sink.on_event(t->sink.ctx, &ev);
}
