/* Evaluating a compiled flow filter on one fk_flow: a walk over the node
 * array built by parse.c. No allocation, no state: safe from any thread. */
#include "filter/filter_int.h"

#include "core/alloc.h"

#include <string.h>

static bool compare(uint64_t have, fk__fcmp cmp, uint64_t want)
{
    switch (cmp) {
    case FC_EQ:
        return have == want;
    case FC_GT:
        return have > want;
    case FC_LT:
        return have < want;
    case FC_GE:
        return have >= want;
    case FC_LE:
        return have <= want;
    }
    return false;
}

static bool addr_matches(const fk_filter *f, const fk__fnode *n, const fk_addr *a)
{
    for (uint32_t i = 0; i < n->count; i++)
        if (fk__filter_in_net(&f->nets[n->first + i], a))
            return true;
    return false;
}

static bool is_icmp(const fk_flow *fl)
{
    return fl->proto == 1 || fl->proto == 58;
}

static bool num_field(const fk__fnode *n, const fk_flow *fl, uint64_t *out)
{
    switch ((fk__ffield)n->field) {
    case FF_BYTES:
        *out = fl->bytes;
        return true;
    case FF_PACKETS:
        *out = fl->packets;
        return true;
    case FF_REV_BYTES:
        *out = fl->rev_bytes;
        return true;
    case FF_REV_PACKETS:
        *out = fl->rev_packets;
        return true;
    case FF_TOS:
        *out = fl->tos;
        return true;
    case FF_VLAN:
        *out = fl->vlan;
        return true;
    case FF_IN_IF:
        *out = fl->in_if;
        return true;
    case FF_OUT_IF:
        *out = fl->out_if;
        return true;
    case FF_EITHER_IF:
        return false; /* handled by the caller */
    case FF_ICMP_TYPE:
        *out = (uint64_t)(fl->dst_port >> 8);
        return is_icmp(fl);
    case FF_ICMP_CODE:
        *out = (uint64_t)(fl->dst_port & 0xff);
        return is_icmp(fl);
    case FF_DURATION_MS:
        /* in unsigned arithmetic: a span of times from a record (a
         * saturated end, a start before 1970) can exceed INT64_MAX */
        *out = fl->end_ns > fl->start_ns ? ((uint64_t)fl->end_ns - (uint64_t)fl->start_ns) / 1000000
                                         : 0;
        return true;
    }
    return false;
}

static bool eval(const fk_filter *f, uint32_t idx, const fk_flow *fl)
{
    const fk__fnode *n = &f->nodes[idx];
    switch ((fk__fnode_kind)n->kind) {
    case FN_TRUE:
        return true;
    case FN_AND:
        for (uint32_t i = 0; i < n->count; i++)
            if (!eval(f, f->kids[n->first + i], fl))
                return false;
        return true;
    case FN_OR:
        for (uint32_t i = 0; i < n->count; i++)
            if (eval(f, f->kids[n->first + i], fl))
                return true;
        return false;
    case FN_NOT:
        return !eval(f, f->kids[n->first], fl);
    case FN_FAMILY:
        return fl->src.family == n->value && fl->dst.family == n->value;
    case FN_PROTO:
        return fl->proto == n->value;
    case FN_NET:
    case FN_NET_LIST:
        return (n->dir != FD_DST && addr_matches(f, n, &fl->src)) ||
               (n->dir != FD_SRC && addr_matches(f, n, &fl->dst));
    case FN_ROUTER:
        return (fl->present & FK_FLOW_HAS_EXPORTER) && addr_matches(f, n, &fl->exporter);
    case FN_PORT:
        return (n->dir != FD_DST && compare(fl->src_port, n->cmp, n->value)) ||
               (n->dir != FD_SRC && compare(fl->dst_port, n->cmp, n->value));
    case FN_PORT_LIST: {
        const uint64_t *bits = f->ports + (size_t)n->first * 1024;
        return (n->dir != FD_DST && (bits[fl->src_port >> 6] >> (fl->src_port & 63) & 1)) ||
               (n->dir != FD_SRC && (bits[fl->dst_port >> 6] >> (fl->dst_port & 63) & 1));
    }
    case FN_NUM: {
        if (n->field == FF_EITHER_IF)
            return compare(fl->in_if, n->cmp, n->value) || compare(fl->out_if, n->cmp, n->value);
        uint64_t v;
        return num_field(n, fl, &v) && compare(v, n->cmp, n->value);
    }
    case FN_FLAGS:
        return (fl->tcp_flags & n->value) == n->value;
    case FN_FLAGS_NONE:
        return (fl->tcp_flags & n->value) == 0;
    }
    return false;
}

int fk_filter_match(const fk_filter *filter, const fk_flow *flow)
{
    if (!filter || !flow)
        return 0;
    return eval(filter, filter->root, flow) ? 1 : 0;
}

unsigned fk_filter_get_fields(const fk_filter *filter)
{
    if (!filter)
        return 0;
    unsigned m = 0;
    for (uint32_t i = 0; i < filter->nnodes; i++) {
        const fk__fnode *n = &filter->nodes[i];
        switch ((fk__fnode_kind)n->kind) {
        case FN_TRUE:
        case FN_AND:
        case FN_OR:
        case FN_NOT:
            break;
        case FN_FAMILY:
        case FN_NET:
        case FN_NET_LIST:
            m |= FK_FILTER_READS_ADDRS;
            break;
        case FN_PROTO:
            m |= FK_FILTER_READS_PROTO;
            break;
        case FN_ROUTER:
            m |= FK_FILTER_READS_EXPORTER;
            break;
        case FN_PORT:
        case FN_PORT_LIST:
            m |= FK_FILTER_READS_PORTS;
            break;
        case FN_FLAGS:
        case FN_FLAGS_NONE:
            m |= FK_FILTER_READS_TCP_FLAGS;
            break;
        case FN_NUM:
            switch ((fk__ffield)n->field) {
            case FF_BYTES:
                m |= FK_FILTER_READS_BYTES;
                break;
            case FF_PACKETS:
                m |= FK_FILTER_READS_PACKETS;
                break;
            case FF_REV_BYTES:
            case FF_REV_PACKETS:
                m |= FK_FILTER_READS_REVERSE;
                break;
            case FF_TOS:
                m |= FK_FILTER_READS_TOS;
                break;
            case FF_VLAN:
                m |= FK_FILTER_READS_VLAN;
                break;
            case FF_IN_IF:
            case FF_OUT_IF:
            case FF_EITHER_IF:
                m |= FK_FILTER_READS_IFACES;
                break;
            case FF_ICMP_TYPE:
            case FF_ICMP_CODE:
                m |= FK_FILTER_READS_PORTS | FK_FILTER_READS_PROTO;
                break;
            case FF_DURATION_MS:
                m |= FK_FILTER_READS_TIMES;
                break;
            }
            break;
        }
    }
    return m;
}

void fk_filter_destroy(fk_filter *filter)
{
    if (!filter)
        return;
    fk__free(filter->nodes);
    fk__free(filter->kids);
    fk__free(filter->nets);
    fk__free(filter->ports);
    fk__free(filter);
}
