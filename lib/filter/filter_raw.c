/* A compiled flow filter (filter_int.h) turned into comparisons on the
 * octets of records of one fixed layout (flowkit/filter.h,
 * fk_filter_raw_compile): a record the filter rejects costs a few loads
 * and compares, and no flow is ever built for it.
 *
 * The tree keeps the filter's shape (n-ary and / or, not), with every term
 * on a member the layout does not place decided here on the base flow and
 * folded away: on IPv6 records, `src net 10.0.0.0/8 and ...` is a constant
 * false. Address prefixes become masked compares of one 32-bit word
 * (IPv4) or two 64-bit words (IPv6); numbers are read big-endian at their
 * encoded width, then cut to the member's width as a decoder does. */
#include "filter/filter_int.h"

#include "core/alloc.h"
#include "core/error.h"
#include "ipfix/plan.h"

#include <string.h>

typedef enum rop {
    R_TRUE,
    R_FALSE,
    R_AND,
    R_OR,
    R_NOT,
    R_NET4,       /* (be32 & mask) == value */
    R_NET6,       /* the same on two 64-bit halves */
    R_CMP,        /* number compared with value by cmp */
    R_BITS,       /* bit `number` of the port bitmap */
    R_FLAGS_ALL,  /* (number & value) == value */
    R_FLAGS_NONE, /* (number & value) == 0 */
    R_DUR,        /* duration in ms (end - start, each its field's or the base's) by cmp */
    R_EQ,         /* R_CMP by each cmp (FC_EQ .. FC_LE in order): one switch per term */
    R_GT,
    R_LT,
    R_GE,
    R_LE,
} rop;

_Static_assert(R_GT - R_EQ == FC_GT - FC_EQ && R_LT - R_EQ == FC_LT - FC_EQ &&
                   R_GE - R_EQ == FC_GE - FC_EQ && R_LE - R_EQ == FC_LE - FC_EQ,
               "R_EQ .. R_LE follow fk__fcmp's order");

/* Where a number comes from: the field at off/len, or the destination
 * port with the ICMP type and code standing in for it. */
enum { S_FIELD, S_DPORT_ICMP };

typedef struct rnode {
    uint8_t op, cmp, src, shift;
    uint16_t off, len;
    uint32_t first, count; /* kids of R_AND / R_OR / R_NOT */
    uint64_t mask, value;  /* R_NET6: the high half */
    uint64_t mask2, value2;
    const uint64_t *bits; /* R_BITS: the filter's bitmap (borrowed) */
    /* R_DUR: the end's field (off/len the start's; a length of 0: the
     * base's time, in mask / mask2 as int64), their fk_filter_time forms */
    uint16_t off2, len2;
    uint8_t form, form2;
} rnode;

struct fk_filter_raw {
    rnode *nodes;
    uint32_t nnodes, cap_nodes, root;
    uint32_t *kids;
    uint32_t nkids, cap_kids;
    int konst;            /* 0 / 1 when every record gives it; -1 */
    fk_filter_layout lay; /* for S_DPORT_ICMP */
    uint16_t base_sport;  /* the source port when the layout places none */
};

/* ---- reading records ----------------------------------------------------- */

static inline uint64_t be_at(const uint8_t *p, unsigned len)
{
    uint64_t v = 0;
    switch (len) {
    case 1:
        return p[0];
    case 2:
        return (uint64_t)p[0] << 8 | p[1];
    case 4:
        return (uint64_t)p[0] << 24 | (uint64_t)p[1] << 16 | (uint64_t)p[2] << 8 | p[3];
    case 8:
        memcpy(&v, p, 8);
        return __builtin_bswap64(v);
    default:
        for (unsigned i = 0; i < len; i++)
            v = v << 8 | p[i];
        return v;
    }
}

static uint64_t dport_icmp(const fk_filter_raw *r, const uint8_t *p)
{
    const fk_filter_layout *l = &r->lay;
    uint16_t dp =
        l->dst_port.length ? (uint16_t)be_at(p + l->dst_port.offset, l->dst_port.length) : 0;
    uint16_t sp = l->src_port.length ? (uint16_t)be_at(p + l->src_port.offset, l->src_port.length)
                                     : r->base_sport;
    if (sp == 0 && dp == 0)
        dp = (uint16_t)be_at(p + l->icmp_type_code.offset, l->icmp_type_code.length);
    return dp;
}

/* A time field of form (fk_filter_time) to ns, as the IPFIX decoder
 * converts it (plan_read.c); len 0: the base's, in base. */
static inline int64_t time_ns(const uint8_t *p, unsigned len, unsigned form, uint64_t base)
{
    if (!len)
        return (int64_t)base;
    switch (form) {
    case FK_FILTER_TIME_SECONDS:
        return (int64_t)be_at(p, 4) * 1000000000ll;
    case FK_FILTER_TIME_MICROSECONDS:
        return fk__ntp_to_ns(be_at(p, 8), 1);
    case FK_FILTER_TIME_NANOSECONDS:
        return fk__ntp_to_ns(be_at(p, 8), 0);
    default: { /* milliseconds, saturating */
        uint64_t ms = be_at(p, 8);
        return ms > (uint64_t)(INT64_MAX / 1000000) ? INT64_MAX : (int64_t)ms * 1000000;
    }
    }
}

/* fk_filter_match()'s duration (eval.c): in unsigned arithmetic, 0 when
 * the end is not after the start. */
static inline uint64_t duration_ms(int64_t start, int64_t end)
{
    return end > start ? ((uint64_t)end - (uint64_t)start) / 1000000 : 0;
}

static inline __attribute__((always_inline)) uint64_t number(const fk_filter_raw *r, const rnode *n,
                                                             const uint8_t *p)
{
    uint64_t v = n->src == S_FIELD ? be_at(p + n->off, n->len) : dport_icmp(r, p);
    return (v >> n->shift) & n->mask;
}

static inline bool compare(uint64_t have, uint8_t cmp, uint64_t want)
{
    switch ((fk__fcmp)cmp) {
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

/* R_DUR, out of line: the time conversions stay out of the hot terms. */
static __attribute__((noinline)) bool dur_match(const rnode *n, const uint8_t *p)
{
    return compare(duration_ms(time_ns(p + n->off, n->len, n->form, n->mask),
                               time_ns(p + n->off2, n->len2, n->form2, n->mask2)),
                   n->cmp, n->value);
}

/* A term (op R_NET4 and after), inlined where it is evaluated. */
static inline __attribute__((always_inline)) bool term(const fk_filter_raw *r, const rnode *n,
                                                       const uint8_t *p)
{
    switch ((rop)n->op) {
    case R_NET4:
        return (be_at(p + n->off, 4) & n->mask) == n->value;
    case R_NET6:
        return (be_at(p + n->off, 8) & n->mask) == n->value &&
               (be_at(p + n->off + 8, 8) & n->mask2) == n->value2;
    case R_CMP:
        return compare(number(r, n, p), n->cmp, n->value);
    case R_BITS: {
        uint64_t v = number(r, n, p);
        return n->bits[v >> 6] >> (v & 63) & 1;
    }
    case R_FLAGS_ALL:
        return (number(r, n, p) & n->value) == n->value;
    case R_FLAGS_NONE:
        return (number(r, n, p) & n->value) == 0;
    case R_DUR:
        return dur_match(n, p);
    case R_EQ:
        return number(r, n, p) == n->value;
    case R_GT:
        return number(r, n, p) > n->value;
    case R_LT:
        return number(r, n, p) < n->value;
    case R_GE:
        return number(r, n, p) >= n->value;
    case R_LE:
        return number(r, n, p) <= n->value;
    default:
        return false;
    }
}

static bool eval(const fk_filter_raw *r, uint32_t idx, const uint8_t *p);

/* Node idx: a term in line, and, or, not by a call. */
static inline __attribute__((always_inline)) bool node(const fk_filter_raw *r, uint32_t idx,
                                                       const uint8_t *p)
{
    const rnode *n = &r->nodes[idx];
    return n->op >= R_NET4 ? term(r, n, p) : eval(r, idx, p);
}

static bool eval(const fk_filter_raw *r, uint32_t idx, const uint8_t *p)
{
    const rnode *n = &r->nodes[idx];
    switch ((rop)n->op) {
    case R_TRUE:
        return true;
    case R_FALSE:
        return false;
    case R_AND:
        for (uint32_t i = 0; i < n->count; i++)
            if (!node(r, r->kids[n->first + i], p))
                return false;
        return true;
    case R_OR:
        for (uint32_t i = 0; i < n->count; i++)
            if (node(r, r->kids[n->first + i], p))
                return true;
        return false;
    case R_NOT:
        return !node(r, r->kids[n->first], p);
    default:
        return term(r, n, p);
    }
}

int fk_filter_raw_match(const fk_filter_raw *raw, const uint8_t *record)
{
    if (!raw || !record)
        return 0;
    if (raw->konst >= 0)
        return raw->konst;
    return node(raw, raw->root, record) ? 1 : 0;
}

int fk_filter_raw_get_const(const fk_filter_raw *raw)
{
    return raw ? raw->konst : -1;
}

void fk_filter_raw_destroy(fk_filter_raw *raw)
{
    if (!raw)
        return;
    fk__free(raw->nodes);
    fk__free(raw->kids);
    fk__free(raw);
}

/* ---- compiling ----------------------------------------------------------- */

/* What building a term gives: a constant, or a node. */
#define V_FALSE UINT32_MAX
#define V_TRUE (UINT32_MAX - 1)
#define V_ERR (UINT32_MAX - 2) /* the error is in fk_error_last() */

typedef struct comp {
    fk_filter_raw *r;
    const fk_filter *f;
    const fk_flow *base;
} comp;

static uint32_t konst(bool v)
{
    return v ? V_TRUE : V_FALSE;
}

static uint32_t oom(void)
{
    (void)fk__error(FK_ENOMEM, "filter: out of memory");
    return V_ERR;
}

static uint32_t add(comp *c, const rnode *n)
{
    fk_filter_raw *r = c->r;
    if (r->nnodes >= V_ERR - 1)
        return oom();
    if (r->nnodes == r->cap_nodes) {
        uint32_t cap = r->cap_nodes ? r->cap_nodes * 2 : 16;
        rnode *a = fk__reallocarray(r->nodes, cap, sizeof *a);
        if (!a)
            return oom();
        r->nodes = a;
        r->cap_nodes = cap;
    }
    r->nodes[r->nnodes] = *n;
    return r->nnodes++;
}

/* A node over kids[0..n) (nodes, no constants), copied to one run. */
static uint32_t add_parent(comp *c, rop op, const uint32_t *kids, uint32_t n)
{
    fk_filter_raw *r = c->r;
    if (r->nkids + (uint64_t)n > UINT32_MAX / 2)
        return oom();
    if (r->nkids + n > r->cap_kids) {
        uint32_t cap = r->cap_kids ? r->cap_kids : 16;
        while (cap < r->nkids + n)
            cap *= 2;
        uint32_t *a = fk__reallocarray(r->kids, cap, sizeof *a);
        if (!a)
            return oom();
        r->kids = a;
        r->cap_kids = cap;
    }
    rnode node = {.op = (uint8_t)op, .first = r->nkids, .count = n};
    memcpy(r->kids + r->nkids, kids, n * sizeof *kids);
    r->nkids += n;
    return add(c, &node);
}

/* And / or over built terms (kids[0..n), each a node or a constant; the
 * array is the caller's and is rewritten): constants fold away; one term
 * left stands alone. */
static uint32_t join(comp *c, bool is_and, uint32_t *kids, uint32_t n)
{
    const uint32_t absorb = is_and ? V_FALSE : V_TRUE, neutral = is_and ? V_TRUE : V_FALSE;
    uint32_t keep = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (kids[i] == V_ERR)
            return V_ERR;
        if (kids[i] == absorb)
            return absorb;
    }
    for (uint32_t i = 0; i < n; i++)
        if (kids[i] != neutral)
            kids[keep++] = kids[i];
    if (keep == 0)
        return neutral;
    if (keep == 1)
        return kids[0];
    return add_parent(c, is_and ? R_AND : R_OR, kids, keep);
}

static uint32_t negate(comp *c, uint32_t v)
{
    if (v == V_ERR)
        return V_ERR;
    if (v == V_TRUE || v == V_FALSE)
        return v == V_TRUE ? V_FALSE : V_TRUE;
    return add_parent(c, R_NOT, &v, 1);
}

/* The numbers a layout may place. */
typedef enum mem {
    M_SPORT,
    M_DPORT,
    M_PROTO,
    M_TOS,
    M_FLAGS,
    M_VLAN,
    M_IN_IF,
    M_OUT_IF,
    M_BYTES,
    M_PACKETS
} mem;

/* The member's value where the layout does not place it, and its width
 * as a mask. Fills n's source when it does (true). */
static bool source(const comp *c, mem m, rnode *n, uint64_t *base_value)
{
    const fk_filter_layout *l = &c->r->lay;
    const fk_flow *b = c->base;
    const fk_filter_field *fld = NULL;
    switch (m) {
    case M_SPORT:
        fld = &l->src_port, *base_value = b->src_port, n->mask = 0xffff;
        break;
    case M_DPORT:
        fld = &l->dst_port, *base_value = b->dst_port, n->mask = 0xffff;
        if (l->icmp_type_code.length) {
            n->src = S_DPORT_ICMP;
            return true;
        }
        break;
    case M_PROTO:
        fld = &l->proto, *base_value = b->proto, n->mask = 0xff;
        break;
    case M_TOS:
        fld = &l->tos, *base_value = b->tos, n->mask = 0xff;
        break;
    case M_FLAGS:
        fld = &l->tcp_flags, *base_value = b->tcp_flags, n->mask = 0xff;
        break;
    case M_VLAN:
        fld = &l->vlan, *base_value = b->vlan, n->mask = 0x0fff;
        break;
    case M_IN_IF:
        fld = &l->in_if, *base_value = b->in_if, n->mask = 0xffffffffu;
        break;
    case M_OUT_IF:
        fld = &l->out_if, *base_value = b->out_if, n->mask = 0xffffffffu;
        break;
    case M_BYTES:
        fld = &l->bytes, *base_value = b->bytes, n->mask = UINT64_MAX;
        break;
    case M_PACKETS:
        fld = &l->packets, *base_value = b->packets, n->mask = UINT64_MAX;
        break;
    }
    if (!fld->length)
        return false;
    n->src = S_FIELD;
    n->off = fld->offset;
    n->len = fld->length;
    return true;
}

/* A term on one number: (member >> shift) & mask, then op with value
 * (R_CMP by cmp, R_BITS in bits, R_FLAGS_*). */
static uint32_t leaf(comp *c, rop op, mem m, unsigned shift, uint64_t mask, uint8_t cmp,
                     uint64_t value, const uint64_t *bits)
{
    rnode n;
    memset(&n, 0, sizeof n);
    uint64_t base_value = 0;
    bool placed = source(c, m, &n, &base_value);
    n.op = (uint8_t)op;
    n.cmp = cmp;
    n.shift = (uint8_t)shift;
    n.mask &= mask;
    n.value = value;
    n.bits = bits;
    if (placed && op == R_CMP && cmp <= FC_LE) /* the comparison in the op */
        n.op = (uint8_t)(R_EQ + (cmp - FC_EQ));
    if (placed)
        return add(c, &n);
    uint64_t v = (base_value >> shift) & n.mask;
    switch (op) {
    case R_CMP:
        return konst(compare(v, cmp, value));
    case R_BITS:
        return konst(bits[v >> 6] >> (v & 63) & 1);
    case R_FLAGS_ALL:
        return konst((v & value) == value);
    case R_FLAGS_NONE:
        return konst((v & value) == 0);
    default:
        return konst(false);
    }
}

/* One side's address in one network. */
static uint32_t net_side(comp *c, const fk__fnet *net, const fk_filter_field *fld,
                         const fk_addr *base_addr)
{
    if (!fld->length)
        return konst(fk__filter_in_net(net, base_addr));
    if ((fld->length == 4 ? 4 : 6) != net->family)
        return V_FALSE;
    if (net->prefix == 0)
        return V_TRUE;
    rnode n;
    memset(&n, 0, sizeof n);
    n.off = fld->offset;
    unsigned p = net->prefix;
    if (net->family == 4) {
        n.op = R_NET4;
        n.mask = (uint32_t)(0xffffffffu << (32 - p));
        n.value = be_at(net->bytes, 4) & n.mask;
    } else {
        n.op = R_NET6;
        n.mask = p >= 64 ? UINT64_MAX : UINT64_MAX << (64 - p);
        n.mask2 = p <= 64 ? 0 : UINT64_MAX << (128 - p);
        n.value = be_at(net->bytes, 8) & n.mask;
        n.value2 = be_at(net->bytes + 8, 8) & n.mask2;
    }
    return add(c, &n);
}

static uint32_t build(comp *c, uint32_t idx, unsigned depth);

/* The terms of kids (built) or of nets × sides, and-ed or or-ed. */
static uint32_t build_list(comp *c, const fk__fnode *nd, unsigned depth)
{
    const fk_filter *f = c->f;
    const fk_filter_layout *l = &c->r->lay;
    bool nets = nd->kind == FN_NET || nd->kind == FN_NET_LIST;
    uint32_t n = nets ? nd->count * 2 : nd->count;
    uint32_t *kids = fk__reallocarray(NULL, n ? n : 1, sizeof *kids);
    if (!kids)
        return oom();
    uint32_t k = 0;
    for (uint32_t i = 0; i < nd->count; i++) {
        if (!nets) {
            kids[k++] = build(c, f->kids[nd->first + i], depth + 1);
            continue;
        }
        const fk__fnet *net = &f->nets[nd->first + i];
        if (nd->dir != FD_DST)
            kids[k++] = net_side(c, net, &l->src_addr, &c->base->src);
        if (nd->dir != FD_SRC)
            kids[k++] = net_side(c, net, &l->dst_addr, &c->base->dst);
    }
    uint32_t v = join(c, nd->kind == FN_AND, kids, k);
    fk__free(kids);
    return v;
}

/* `duration` by cmp with value: on the times the layout places (the
 * base's where it does not); none placed, decided here. */
static uint32_t duration(comp *c, uint8_t cmp, uint64_t value)
{
    const fk_filter_layout *l = &c->r->lay;
    const fk_flow *b = c->base;
    if (!l->start.length && !l->end.length)
        return konst(compare(duration_ms(b->start_ns, b->end_ns), cmp, value));
    rnode n;
    memset(&n, 0, sizeof n);
    n.op = R_DUR;
    n.cmp = cmp;
    n.value = value;
    n.off = l->start.offset;
    n.len = l->start.length;
    n.form = l->start_time;
    n.mask = (uint64_t)b->start_ns;
    n.off2 = l->end.offset;
    n.len2 = l->end.length;
    n.form2 = l->end_time;
    n.mask2 = (uint64_t)b->end_ns;
    return add(c, &n);
}

/* Either side's term, as `dir` asks: src_term / dst_term built by the caller. */
static uint32_t sides(comp *c, uint8_t dir, uint32_t src_term, uint32_t dst_term)
{
    uint32_t kids[2], k = 0;
    if (dir != FD_DST)
        kids[k++] = src_term;
    if (dir != FD_SRC)
        kids[k++] = dst_term;
    return join(c, false, kids, k);
}

static uint32_t build_num(comp *c, const fk__fnode *nd)
{
    const fk_flow *b = c->base;
    switch ((fk__ffield)nd->field) {
    case FF_BYTES:
        return leaf(c, R_CMP, M_BYTES, 0, UINT64_MAX, nd->cmp, nd->value, NULL);
    case FF_PACKETS:
        return leaf(c, R_CMP, M_PACKETS, 0, UINT64_MAX, nd->cmp, nd->value, NULL);
    case FF_REV_BYTES: /* no layout places the reverse direction */
        return konst(compare(b->rev_bytes, nd->cmp, nd->value));
    case FF_REV_PACKETS:
        return konst(compare(b->rev_packets, nd->cmp, nd->value));
    case FF_TOS:
        return leaf(c, R_CMP, M_TOS, 0, UINT64_MAX, nd->cmp, nd->value, NULL);
    case FF_VLAN:
        return leaf(c, R_CMP, M_VLAN, 0, UINT64_MAX, nd->cmp, nd->value, NULL);
    case FF_IN_IF:
        return leaf(c, R_CMP, M_IN_IF, 0, UINT64_MAX, nd->cmp, nd->value, NULL);
    case FF_OUT_IF:
        return leaf(c, R_CMP, M_OUT_IF, 0, UINT64_MAX, nd->cmp, nd->value, NULL);
    case FF_EITHER_IF:
        return sides(c, FD_EITHER, leaf(c, R_CMP, M_IN_IF, 0, UINT64_MAX, nd->cmp, nd->value, NULL),
                     leaf(c, R_CMP, M_OUT_IF, 0, UINT64_MAX, nd->cmp, nd->value, NULL));
    case FF_ICMP_TYPE:
    case FF_ICMP_CODE: {
        uint32_t proto[2] = {leaf(c, R_CMP, M_PROTO, 0, UINT64_MAX, FC_EQ, 1, NULL),
                             leaf(c, R_CMP, M_PROTO, 0, UINT64_MAX, FC_EQ, 58, NULL)};
        uint32_t both[2] = {join(c, false, proto, 2),
                            leaf(c, R_CMP, M_DPORT, nd->field == FF_ICMP_TYPE ? 8 : 0, 0xff,
                                 nd->cmp, nd->value, NULL)};
        return join(c, true, both, 2);
    }
    case FF_DURATION_MS:
        return duration(c, nd->cmp, nd->value);
    }
    return konst(false);
}

static uint8_t family_of(const fk_filter_field *fld, const fk_addr *base_addr)
{
    return fld->length ? (fld->length == 4 ? 4 : 6) : base_addr->family;
}

static uint32_t build(comp *c, uint32_t idx, unsigned depth)
{
    const fk_filter *f = c->f;
    const fk__fnode *nd = &f->nodes[idx];
    const fk_filter_layout *l = &c->r->lay;
    const fk_flow *b = c->base;
    if (depth > FK__FILTER_MAX_DEPTH * 2 + 2) { /* the parser bounds it; never trust a tree */
        (void)fk__error(FK_EINVAL, "filter: nested too deep");
        return V_ERR;
    }
    switch ((fk__fnode_kind)nd->kind) {
    case FN_TRUE:
        return V_TRUE;
    case FN_AND:
    case FN_OR:
    case FN_NET:
    case FN_NET_LIST:
        return build_list(c, nd, depth);
    case FN_NOT:
        return negate(c, build(c, f->kids[nd->first], depth + 1));
    case FN_FAMILY:
        return konst(family_of(&l->src_addr, &b->src) == nd->value &&
                     family_of(&l->dst_addr, &b->dst) == nd->value);
    case FN_PROTO:
        return leaf(c, R_CMP, M_PROTO, 0, UINT64_MAX, FC_EQ, nd->value, NULL);
    case FN_ROUTER: {
        bool m = false;
        for (uint32_t i = 0; i < nd->count && (b->present & FK_FLOW_HAS_EXPORTER); i++)
            m = m || fk__filter_in_net(&f->nets[nd->first + i], &b->exporter);
        return konst(m);
    }
    case FN_PORT:
        return sides(c, nd->dir, leaf(c, R_CMP, M_SPORT, 0, UINT64_MAX, nd->cmp, nd->value, NULL),
                     leaf(c, R_CMP, M_DPORT, 0, UINT64_MAX, nd->cmp, nd->value, NULL));
    case FN_PORT_LIST: {
        const uint64_t *bits = f->ports + (size_t)nd->first * 1024;
        return sides(c, nd->dir, leaf(c, R_BITS, M_SPORT, 0, UINT64_MAX, 0, 0, bits),
                     leaf(c, R_BITS, M_DPORT, 0, UINT64_MAX, 0, 0, bits));
    }
    case FN_NUM:
        return build_num(c, nd);
    case FN_FLAGS:
        return leaf(c, R_FLAGS_ALL, M_FLAGS, 0, UINT64_MAX, 0, nd->value, NULL);
    case FN_FLAGS_NONE:
        return leaf(c, R_FLAGS_NONE, M_FLAGS, 0, UINT64_MAX, 0, nd->value, NULL);
    }
    (void)fk__error(FK_EINVAL, "filter: a node of unknown kind");
    return V_ERR;
}

static bool len_in(const fk_filter_field *fld, unsigned lo, unsigned hi)
{
    return fld->length == 0 || (fld->length >= lo && fld->length <= hi);
}

static bool addr_ok(const fk_filter_field *fld)
{
    return fld->length == 0 || fld->length == 4 || fld->length == 16;
}

/* A time field: 4 octets of seconds, 8 of the other forms. */
static bool time_ok(const fk_filter_field *fld, uint8_t form)
{
    if (form > FK_FILTER_TIME_NANOSECONDS)
        return false;
    return fld->length == 0 || fld->length == (form == FK_FILTER_TIME_SECONDS ? 4 : 8);
}

int fk_filter_raw_compile(const fk_filter *filter, const fk_filter_layout *layout,
                          const fk_flow *base, fk_filter_raw **out)
{
    if (out)
        *out = NULL;
    if (!filter || !layout || !base || !out)
        return fk__error(FK_EINVAL, "filter: NULL argument");
    const fk_filter_layout *l = layout;
    if (!addr_ok(&l->src_addr) || !addr_ok(&l->dst_addr) ||
        (l->src_addr.length && l->dst_addr.length && l->src_addr.length != l->dst_addr.length) ||
        !len_in(&l->src_port, 1, 2) || !len_in(&l->dst_port, 1, 2) ||
        !len_in(&l->icmp_type_code, 1, 2) || !len_in(&l->proto, 1, 1) || !len_in(&l->tos, 1, 1) ||
        !len_in(&l->tcp_flags, 1, 2) || !len_in(&l->vlan, 1, 2) || !len_in(&l->in_if, 1, 4) ||
        !len_in(&l->out_if, 1, 4) || !len_in(&l->bytes, 1, 8) || !len_in(&l->packets, 1, 8) ||
        !time_ok(&l->start, l->start_time) || !time_ok(&l->end, l->end_time))
        return fk__error(FK_EINVAL, "filter: a layout field of a length its member cannot have");
    fk_filter_raw *r = FK__NEW(fk_filter_raw);
    if (!r)
        return fk__error(FK_ENOMEM, "filter: out of memory");
    r->lay = *layout;
    r->base_sport = base->src_port;
    comp c = {r, filter, base};
    uint32_t v = build(&c, filter->root, 0);
    if (v == V_ERR) {
        int code = fk_error_last()->code;
        fk_filter_raw_destroy(r);
        return code < 0 ? code : FK_ENOMEM;
    }
    r->konst = v == V_TRUE ? 1 : v == V_FALSE ? 0 : -1;
    r->root = r->konst < 0 ? v : 0;
    *out = r;
    return 0;
}
