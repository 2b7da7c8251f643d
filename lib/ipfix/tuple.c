/* Flow-key resolution of decode plans: address families per record and
 * repeated elements (outer and inner headers). The rules are in
 * docs/ipfix-decoding.md; plan.h says how templates are cut into segments. */
#include <stdbool.h>
#include <string.h>

#include "ipfix/plan.h"

static uint64_t be_read(const uint8_t *p, size_t len)
{
    uint64_t v = 0;
    for (size_t i = 0; i < len && i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

/* The segment member an op feeds; NULL for ops outside the flow key. */
static uint16_t *seg_member(fk__tuple_seg *g, uint8_t op)
{
    switch (op) {
    case FK__OP_SRC4:
        return &g->src4;
    case FK__OP_DST4:
        return &g->dst4;
    case FK__OP_SRC6:
        return &g->src6;
    case FK__OP_DST6:
        return &g->dst6;
    case FK__OP_SPORT:
        return &g->sport;
    case FK__OP_DPORT:
        return &g->dport;
    case FK__OP_PROTO:
        return &g->proto;
    case FK__OP_ICMP:
        return &g->icmp;
    case FK__OP_IP_VERSION:
        return &g->ipver;
    default:
        return NULL;
    }
}

static bool seg_has_family(const fk__tuple_seg *g, int v6)
{
    return v6 ? g->src6 != FK__NO_FIELD || g->dst6 != FK__NO_FIELD
              : g->src4 != FK__NO_FIELD || g->dst4 != FK__NO_FIELD;
}

static bool seg_has_pair(const fk__tuple_seg *g, int v6)
{
    return v6 ? g->src6 != FK__NO_FIELD && g->dst6 != FK__NO_FIELD
              : g->src4 != FK__NO_FIELD && g->dst4 != FK__NO_FIELD;
}

/* Cut the flow-key fields into segments (plan.h). */
void fk__plan_segments(fk__plan *p)
{
    static const fk__tuple_seg empty = {
        FK__NO_FIELD, FK__NO_FIELD, FK__NO_FIELD, FK__NO_FIELD, FK__NO_FIELD,
        FK__NO_FIELD, FK__NO_FIELD, FK__NO_FIELD, FK__NO_FIELD, 0};
    fk__tuple_seg *cur = NULL;
    p->nseg = 0;
    for (uint16_t i = 0; i < p->nfields; i++) {
        uint8_t op = p->fields[i].op;
        fk__tuple_seg probe = empty;
        if (op == FK__OP_NONE || !seg_member(&probe, op))
            continue;
        bool fresh = !cur || *seg_member(cur, op) != FK__NO_FIELD;
        bool family_cut = false;
        if (cur && !fresh && (op == FK__OP_SRC4 || op == FK__OP_DST4))
            fresh = family_cut = seg_has_pair(cur, 1) && !seg_has_family(cur, 0);
        if (cur && !fresh && (op == FK__OP_SRC6 || op == FK__OP_DST6))
            fresh = family_cut = seg_has_pair(cur, 0) && !seg_has_family(cur, 1);
        if (fresh) {
            if (p->nseg == FK__MAX_SEGMENTS)
                continue; /* deeper nesting than we model: ignored */
            cur = &p->seg[p->nseg++];
            *cur = empty;
            cur->family_cut = family_cut;
        }
        *seg_member(cur, op) = i;
    }
    p->tuple_resolve = p->nseg > 1 || (p->nseg == 1 && seg_has_family(&p->seg[0], 0) &&
                                       seg_has_family(&p->seg[0], 1));
}

static bool nonzero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return true;
    return false;
}

static bool field_nonzero(const fk__plan *plan, const uint8_t *rec, const uint32_t *offsets,
                          uint16_t i)
{
    return i != FK__NO_FIELD && nonzero(rec + offsets[i], plan->fields[i].length);
}

static uint64_t field_uint(const fk__plan *plan, const uint8_t *rec, const uint32_t *offsets,
                           uint16_t i)
{
    return i == FK__NO_FIELD ? 0 : be_read(rec + offsets[i], plan->fields[i].length);
}

static void field_addr(const uint8_t *rec, const uint32_t *offsets, uint16_t i, int family,
                       fk_addr *out)
{
    memset(out, 0, sizeof *out);
    if (i == FK__NO_FIELD)
        return;
    out->family = (uint8_t)family;
    memcpy(out->bytes, rec + offsets[i], family == 4 ? 4 : 16);
}

/* The address pair of segment g in one family: the one its ipVersion
 * names, else the non-zero one (IPv4 first), else the one present. Returns
 * 1 for a non-zero pair, 0 for an all-zero pair, -1 when g has no address. */
static int seg_addrs(const fk__plan *plan, const fk__tuple_seg *g, const uint8_t *rec,
                     const uint32_t *offsets, fk_addr *src, fk_addr *dst)
{
    bool has4 = seg_has_family(g, 0), has6 = seg_has_family(g, 1);
    memset(src, 0, sizeof *src);
    memset(dst, 0, sizeof *dst);
    if (!has4 && !has6)
        return -1;
    bool nz4 =
        field_nonzero(plan, rec, offsets, g->src4) || field_nonzero(plan, rec, offsets, g->dst4);
    bool nz6 =
        field_nonzero(plan, rec, offsets, g->src6) || field_nonzero(plan, rec, offsets, g->dst6);
    uint64_t ver = field_uint(plan, rec, offsets, g->ipver);
    bool v6;
    if (ver == 4 && has4)
        v6 = false;
    else if (ver == 6 && has6)
        v6 = true;
    else if (nz4 || nz6)
        v6 = !nz4;
    else
        v6 = !has4;
    field_addr(rec, offsets, v6 ? g->src6 : g->src4, v6 ? 6 : 4, src);
    field_addr(rec, offsets, v6 ? g->dst6 : g->dst4, v6 ? 6 : 4, dst);
    return (v6 ? nz6 : nz4) ? 1 : 0;
}

/* Member `which` (an op) of the key segment; when the key segment lacks
 * it, of the nearest segment after, then before it that is not another
 * header (a segment with a non-zero address pair). */
static uint16_t key_member(const fk__plan *plan, int key, const int *nz, uint8_t which)
{
    fk__tuple_seg g = plan->seg[key];
    uint16_t i = *seg_member(&g, which);
    if (i != FK__NO_FIELD)
        return i;
    for (int k = key + 1; k < plan->nseg; k++) {
        g = plan->seg[k];
        if (nz[k] != 1 && *seg_member(&g, which) != FK__NO_FIELD)
            return *seg_member(&g, which);
    }
    for (int k = key - 1; k >= 0; k--) {
        g = plan->seg[k];
        if (nz[k] != 1 && *seg_member(&g, which) != FK__NO_FIELD)
            return *seg_member(&g, which);
    }
    return FK__NO_FIELD;
}

static uint8_t tunnel_kind(uint64_t proto, uint64_t dport)
{
    switch (proto) {
    case 4:
    case 41:
        return FK_TUNNEL_IPIP;
    case 47:
        return FK_TUNNEL_GRE;
    case 137:
        return FK_TUNNEL_MPLS;
    case 17:
        return dport == 4789 ? FK_TUNNEL_VXLAN : dport == 6081 ? FK_TUNNEL_GENEVE : FK_TUNNEL_OTHER;
    default:
        return FK_TUNNEL_OTHER;
    }
}

static void resolve_tuple(const fk__plan *plan, const uint8_t *rec, const uint32_t *offsets,
                          fk_flow *out)
{
    fk_addr src[FK__MAX_SEGMENTS], dst[FK__MAX_SEGMENTS];
    int nz[FK__MAX_SEGMENTS];
    for (int k = 0; k < plan->nseg; k++)
        nz[k] = seg_addrs(plan, &plan->seg[k], rec, offsets, &src[k], &dst[k]);
    /* ipVersion across a family cut (`8, 12, 27, 28, ..., 60`): one header
     * with both families' elements; the pair of the family it does not
     * name is an unused alternative, not an outer header. */
    for (int k = 1; k < plan->nseg; k++) {
        const fk__tuple_seg *g = &plan->seg[k], *prev = &plan->seg[k - 1];
        if (!g->family_cut || nz[k] < 0 || nz[k - 1] < 0)
            continue;
        uint16_t vi = g->ipver != FK__NO_FIELD ? g->ipver : prev->ipver;
        uint64_t ver = field_uint(plan, rec, offsets, vi);
        if (vi == FK__NO_FIELD || (ver != 4 && ver != 6))
            continue;
        int named = src[k].family == ver ? k : src[k - 1].family == ver ? k - 1 : -1;
        if (named < 0)
            continue;
        nz[named == k ? k - 1 : k] = -1; /* ignored; its ports stay usable */
    }
    int key = -1, last_addr = -1;
    for (int k = 0; k < plan->nseg; k++) {
        if (nz[k] == 1)
            key = k;
        if (nz[k] >= 0)
            last_addr = k;
    }
    if (key < 0)
        key = last_addr >= 0 ? last_addr : plan->nseg - 1;
    out->src = src[key];
    out->dst = dst[key];
    out->src_port =
        (uint16_t)field_uint(plan, rec, offsets, key_member(plan, key, nz, FK__OP_SPORT));
    out->dst_port =
        (uint16_t)field_uint(plan, rec, offsets, key_member(plan, key, nz, FK__OP_DPORT));
    out->proto = (uint8_t)field_uint(plan, rec, offsets, key_member(plan, key, nz, FK__OP_PROTO));
    uint16_t icmp = key_member(plan, key, nz, FK__OP_ICMP);
    if (icmp != FK__NO_FIELD && out->src_port == 0 && out->dst_port == 0)
        out->dst_port = (uint16_t)field_uint(plan, rec, offsets, icmp);
    int outer = -1;
    for (int k = key - 1; nz[key] == 1 && k >= 0 && outer < 0; k--)
        if (nz[k] == 1)
            outer = k;
    if (outer < 0)
        return;
    out->outer_src = src[outer];
    out->outer_dst = dst[outer];
    const fk__tuple_seg *g = &plan->seg[outer];
    out->tunnel = g->proto == FK__NO_FIELD ? FK_TUNNEL_OTHER
                                           : tunnel_kind(field_uint(plan, rec, offsets, g->proto),
                                                         field_uint(plan, rec, offsets, g->dport));
}

/* A next hop from an IPv4/IPv6 element pair: the non-zero one; both
 * non-zero, the flow's family. An all-zero next hop is none. */
static void next_hop(const fk__plan *plan, const uint8_t *rec, const uint32_t *offsets, uint16_t i4,
                     uint16_t i6, int prefer, fk_addr *out)
{
    bool nz4 = field_nonzero(plan, rec, offsets, i4);
    bool nz6 = field_nonzero(plan, rec, offsets, i6);
    if (nz4 && (!nz6 || prefer != 6))
        field_addr(rec, offsets, i4, 4, out);
    else if (nz6)
        field_addr(rec, offsets, i6, 6, out);
}

void fk__plan_tuple(const fk__plan *plan, const uint8_t *rec, const uint32_t *offsets, fk_flow *out)
{
    if (plan->tuple_resolve)
        resolve_tuple(plan, rec, offsets, out);
    const uint16_t *sl = plan->slot;
    if (sl[FK__OP_NH4] != FK__NO_FIELD || sl[FK__OP_NH6] != FK__NO_FIELD)
        next_hop(plan, rec, offsets, sl[FK__OP_NH4], sl[FK__OP_NH6], out->src.family,
                 &out->next_hop);
    if (sl[FK__OP_BGP_NH4] != FK__NO_FIELD || sl[FK__OP_BGP_NH6] != FK__NO_FIELD)
        next_hop(plan, rec, offsets, sl[FK__OP_BGP_NH4], sl[FK__OP_BGP_NH6], out->src.family,
                 &out->bgp_next_hop);
}
