/* Record plans (recplan.h): a decode plan's flow slots turned into field
 * reads, with fk__plan_to_flow's rules decided once per template (which
 * time form wins, which address family, delta over total counters: the
 * decode plan's slots already chose). */
#include "collector/recplan.h"

#define HAS(op) ((plan->opmask >> (op)) & 1u)
#define BIT(op) (1ull << (op))

/* Field op's read (recplan.h): the 8-byte window ending where the field
 * ends, or the record's first 8 bytes for a field that ends before byte
 * 8; absent: mask 0. The plan's records are at least 8 bytes long. */
static fk__recplan_at at(const fk__plan *plan, int op)
{
    fk__recplan_at a = {0};
    if (HAS(op)) {
        a.off = (uint16_t)plan->slot_off[op];
        a.len = (uint8_t)plan->slot_len[op];
        unsigned end = (unsigned)a.off + a.len;
        a.win = (uint16_t)(end >= 8 ? end - 8 : 0);
        a.shr = (uint8_t)(8 * (a.win + 8 - end));
        a.mask = a.len >= 8 ? UINT64_MAX : (UINT64_C(1) << (8 * a.len)) - 1;
    }
    return a;
}

/* The time form fk__plan_to_flow's time_ops would use (sysUpTime refused
 * before this is called). */
static uint8_t time_form(const fk__plan *plan, int ns, int us, int ms, int s, int delta,
                         fk__recplan_at *out)
{
    static const uint8_t kinds[] = {FK__RECPLAN_T_NS, FK__RECPLAN_T_US, FK__RECPLAN_T_MS,
                                    FK__RECPLAN_T_S, FK__RECPLAN_T_DELTA_US};
    const int ops[] = {ns, us, ms, s, delta};
    for (int i = 0; i < 5; i++)
        if (HAS(ops[i])) {
            *out = at(plan, ops[i]);
            return kinds[i];
        }
    *out = (fk__recplan_at){0};
    return FK__RECPLAN_T_NONE;
}

int fk__recplan_compile(const fk__plan *plan, fk__recplan *out)
{
    *out = (fk__recplan){0};
    if (plan->fixed_len == 0)
        return FK__RECPLAN_WHY_VARLEN;
    if (plan->scope_count > 0)
        return FK__RECPLAN_WHY_OPTIONS;
    if (plan->fixed_len > UINT16_MAX)
        return FK__RECPLAN_WHY_TOO_LONG;
    if (plan->fixed_len < 8)
        return FK__RECPLAN_WHY_SHORT;
    for (int op = 0; op < FK__OP_COUNT; op++)
        if (HAS(op) && plan->slot_len[op] > 16) /* at() keeps lengths in 8 bits */
            return FK__RECPLAN_WHY_TOO_LONG;
    if (plan->tuple_resolve || HAS(FK__OP_NH4) || HAS(FK__OP_NH6) || HAS(FK__OP_BGP_NH4) ||
        HAS(FK__OP_BGP_NH6))
        return FK__RECPLAN_WHY_TUPLE;
    if (HAS(FK__OP_START_UPTIME) || HAS(FK__OP_END_UPTIME) || HAS(FK__OP_SYS_INIT_MS))
        return FK__RECPLAN_WHY_UPTIME;
    out->record_len = (uint16_t)plan->fixed_len;
    if (HAS(FK__OP_SRC4)) {
        out->src_family = 4;
        out->src = at(plan, FK__OP_SRC4);
    } else if (HAS(FK__OP_SRC6)) {
        out->src_family = 6;
        out->src = at(plan, FK__OP_SRC6);
    }
    if (HAS(FK__OP_DST4)) {
        out->dst_family = 4;
        out->dst = at(plan, FK__OP_DST4);
    } else if (HAS(FK__OP_DST6)) {
        out->dst_family = 6;
        out->dst = at(plan, FK__OP_DST6);
    }
    out->sport = at(plan, FK__OP_SPORT);
    out->dport = at(plan, FK__OP_DPORT);
    out->proto = at(plan, FK__OP_PROTO);
    out->icmp = at(plan, FK__OP_ICMP);
    out->bytes = at(plan, FK__OP_BYTES);
    out->packets = at(plan, FK__OP_PACKETS);
    out->tcp_flags = at(plan, FK__OP_TCP_FLAGS);
    out->start_kind = time_form(plan, FK__OP_START_NS, FK__OP_START_US, FK__OP_START_MS,
                                FK__OP_START_S, FK__OP_START_DELTA_US, &out->start);
    out->end_kind = time_form(plan, FK__OP_END_NS, FK__OP_END_US, FK__OP_END_MS, FK__OP_END_S,
                              FK__OP_END_DELTA_US, &out->end);
    out->reverse = HAS(FK__OP_REV_BYTES) || HAS(FK__OP_REV_PACKETS) || HAS(FK__OP_REV_TCP_FLAGS);
    out->rev_bytes = at(plan, FK__OP_REV_BYTES);
    out->rev_packets = at(plan, FK__OP_REV_PACKETS);
    out->rev_tcp_flags = at(plan, FK__OP_REV_TCP_FLAGS);
    out->rev_icmp = at(plan, FK__OP_REV_ICMP);
    out->ifaces = HAS(FK__OP_IN_IF) || HAS(FK__OP_OUT_IF);
    out->in_if = at(plan, FK__OP_IN_IF);
    out->out_if = at(plan, FK__OP_OUT_IF);
    out->sampling = at(plan, FK__OP_SAMPLING);
    out->end_reason = at(plan, FK__OP_END_REASON);
    out->vlan = at(plan, FK__OP_VLAN);
    out->direction = at(plan, FK__OP_DIRECTION);
    out->l2_segment = at(plan, FK__OP_L2_SEGMENT);
    return FK__RECPLAN_OK;
}
