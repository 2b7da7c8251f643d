/* Compiling nfdump-syntax flow filters (flowkit/filter.h) into the node
 * array of filter_int.h: a hand-written lexer and recursive-descent parser.
 *
 *   expr    := term { ("or" | "||") term }
 *   term    := unary { ("and" | "&&") unary }
 *   unary   := ("not" | "!") unary | "(" expr ")" | primitive
 *
 * Every error names the byte position where it was found. */
#include "filter/filter_int.h"
#include "filter/parse_int.h"

#include "core/alloc.h"
#include "core/error.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- building ------------------------------------------------------------ */

static int grow(void **arr, uint32_t *cap, uint32_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    uint32_t n = *cap ? *cap * 2 : 16;
    while (n < need)
        n *= 2;
    void *a = fk__reallocarray(*arr, n, elem);
    if (!a)
        return fk__error(FK_ENOMEM, "filter: out of memory");
    *arr = a;
    *cap = n;
    return 0;
}

static int add_node(parser *p, fk__fnode node, uint32_t *out)
{
    fk_filter *f = p->f;
    if (grow((void **)&f->nodes, &p->cap_nodes, f->nnodes + 1, sizeof *f->nodes) < 0)
        return FK_ENOMEM;
    f->nodes[f->nnodes] = node;
    *out = f->nnodes++;
    return 0;
}

static int add_net(parser *p, const fk__fnet *net)
{
    fk_filter *f = p->f;
    if (grow((void **)&f->nets, &p->cap_nets, f->nnets + 1, sizeof *f->nets) < 0)
        return FK_ENOMEM;
    f->nets[f->nnets++] = *net;
    return 0;
}

/* A node over children (FN_AND, FN_OR, FN_NOT); the children get copied
 * into one contiguous run of kids. */
static int add_parent(parser *p, fk__fnode_kind kind, const uint32_t *kids, uint32_t n,
                      uint32_t *out)
{
    fk_filter *f = p->f;
    if (grow((void **)&f->kids, &p->cap_kids, f->nkids + n, sizeof *f->kids) < 0)
        return FK_ENOMEM;
    memcpy(f->kids + f->nkids, kids, n * sizeof *kids);
    fk__fnode node = {.kind = (uint8_t)kind, .first = f->nkids, .count = n};
    f->nkids += n;
    return add_node(p, node, out);
}

/* ---- primitives ---------------------------------------------------------- */

static const struct {
    const char *name;
    uint8_t number;
} protocols[] = {
    {"icmp", 1},        {"igmp", 2},       {"ggp", 3},    {"ipip", 4},       {"ipencap", 4},
    {"st", 5},          {"tcp", 6},        {"egp", 8},    {"igp", 9},        {"pup", 12},
    {"udp", 17},        {"hmp", 20},       {"rdp", 27},   {"dccp", 33},      {"ipv6", 41},
    {"ipv6-route", 43}, {"ipv6-frag", 44}, {"idrp", 45},  {"rsvp", 46},      {"gre", 47},
    {"esp", 50},        {"ah", 51},        {"icmp6", 58}, {"ipv6-icmp", 58}, {"ipv6-nonxt", 59},
    {"ipv6-opts", 60},  {"eigrp", 88},     {"ospf", 89},  {"ax.25", 93},     {"ipip4", 94},
    {"etherip", 97},    {"encap", 98},     {"pim", 103},  {"ipcomp", 108},   {"vrrp", 112},
    {"l2tp", 115},      {"isis", 124},     {"sctp", 132}, {"fc", 133},       {"udplite", 136},
    {"mpls-in-ip", 137}};

static int proto(parser *p, uint32_t *out)
{
    fk__fp_next(p);
    uint64_t v = 0;
    if (p->tok.kind == TK_WORD && isdigit((unsigned char)p->text[p->tok.at])) {
        if (fk__fp_number(p, false, 255, "expected a protocol number 0-255 or name", &v) < 0)
            return FK_EFILTER;
    } else {
        size_t i;
        for (i = 0; i < sizeof protocols / sizeof protocols[0]; i++)
            if (fk__fp_is_word(p, protocols[i].name))
                break;
        if (i == sizeof protocols / sizeof protocols[0])
            return fk__fp_fail(p, "expected a protocol name (tcp, udp, icmp, ...) or number");
        v = protocols[i].number;
        fk__fp_next(p);
    }
    return add_node(p, (fk__fnode){.kind = FN_PROTO, .value = v}, out);
}

/* `[ a b, c ]` of addresses / networks into consecutive nets. */
static int addr_list(parser *p, fk__fdir dir, uint32_t *out)
{
    fk__fp_next(p); /* "in" */
    if (p->tok.kind != TK_LB)
        return fk__fp_fail(p, "expected '[' to start an address list");
    fk__fp_next(p);
    uint32_t first = p->f->nnets;
    while (p->tok.kind != TK_RB) {
        if (p->tok.kind == TK_COMMA) {
            fk__fp_next(p);
            continue;
        }
        fk__fnet net;
        if (fk__fp_address(p, true, "expected an address or network in the list", &net) < 0 ||
            add_net(p, &net) < 0)
            return FK_EFILTER;
    }
    if (p->f->nnets == first)
        return fk__fp_fail(p, "empty address list");
    fk__fp_next(p);
    return add_node(
        p,
        (fk__fnode){
            .kind = FN_NET_LIST, .dir = (uint8_t)dir, .first = first, .count = p->f->nnets - first},
        out);
}

static int host(parser *p, fk__fdir dir, uint32_t *out)
{
    fk__fp_next(p); /* "ip" / "host" */
    if (fk__fp_is_word(p, "in"))
        return addr_list(p, dir, out);
    fk__fnet net;
    uint32_t first = p->f->nnets;
    if (fk__fp_address(p, false, "expected an IPv4 or IPv6 address", &net) < 0 ||
        add_net(p, &net) < 0)
        return FK_EFILTER;
    return add_node(p, (fk__fnode){.kind = FN_NET, .dir = (uint8_t)dir, .first = first, .count = 1},
                    out);
}

static int net(parser *p, fk__fdir dir, uint32_t *out)
{
    fk__fp_next(p); /* "net" */
    char buf[64];
    fk__fnet n;
    if (p->tok.kind != TK_WORD || !fk__fp_tok_text(p, buf, sizeof buf))
        return fk__fp_fail(p, "expected a network (10.0.0.0/8, 2001:db8::/32 or ADDR MASK)");
    bool has_prefix = strchr(buf, '/') != NULL;
    if (!fk__fp_net_text(buf, true, &n))
        return fk__fp_fail(p, "expected a network (10.0.0.0/8, 2001:db8::/32 or ADDR MASK)");
    fk__fp_next(p);
    if (!has_prefix) {
        /* ADDR MASK (IPv4 only) */
        char mask[64];
        int bits;
        if (n.family != 4 || p->tok.kind != TK_WORD || !fk__fp_tok_text(p, mask, sizeof mask) ||
            (bits = fk__fp_mask_prefix(mask)) < 0)
            return fk__fp_fail(
                p, "expected a prefix length (/N) or an IPv4 netmask after the network");
        fk__fp_next(p);
        n.prefix = (uint8_t)bits;
        for (unsigned b = n.prefix; b < 32; b++)
            n.bytes[b / 8] &= (uint8_t) ~(0x80u >> (b % 8));
    }
    uint32_t first = p->f->nnets;
    if (add_net(p, &n) < 0)
        return FK_ENOMEM;
    return add_node(p, (fk__fnode){.kind = FN_NET, .dir = (uint8_t)dir, .first = first, .count = 1},
                    out);
}

static int port(parser *p, fk__fdir dir, uint32_t *out)
{
    fk__fp_next(p); /* "port" */
    if (!fk__fp_is_word(p, "in")) {
        fk__fcmp c = fk__fp_comparator(p);
        uint64_t v;
        if (fk__fp_number(p, false, 65535, "expected a port number 0-65535", &v) < 0)
            return FK_EFILTER;
        return add_node(
            p, (fk__fnode){.kind = FN_PORT, .dir = (uint8_t)dir, .cmp = (uint8_t)c, .value = v},
            out);
    }
    fk__fp_next(p);
    if (p->tok.kind != TK_LB)
        return fk__fp_fail(p, "expected '[' to start a port list");
    fk__fp_next(p);
    fk_filter *f = p->f;
    uint32_t words = (f->nports + 1) * 1024;
    uint32_t cap_words = p->cap_ports * 1024;
    if (words > cap_words) {
        uint32_t cap = p->cap_ports ? p->cap_ports * 2 : 1;
        uint64_t *a = fk__reallocarray(f->ports, (size_t)cap * 1024, sizeof *a);
        if (!a)
            return fk__error(FK_ENOMEM, "filter: out of memory");
        f->ports = a;
        p->cap_ports = cap;
    }
    uint64_t *bits = f->ports + (size_t)f->nports * 1024;
    memset(bits, 0, 1024 * sizeof *bits);
    bool any = false;
    while (p->tok.kind != TK_RB) {
        if (p->tok.kind == TK_COMMA) {
            fk__fp_next(p);
            continue;
        }
        uint64_t v;
        if (fk__fp_number(p, false, 65535, "expected a port number 0-65535 in the list", &v) < 0)
            return FK_EFILTER;
        bits[v >> 6] |= 1ull << (v & 63);
        any = true;
    }
    if (!any)
        return fk__fp_fail(p, "empty port list");
    fk__fp_next(p);
    return add_node(p, (fk__fnode){.kind = FN_PORT_LIST, .dir = (uint8_t)dir, .first = f->nports++},
                    out);
}

/* FIELD [CMP] NUMBER */
static int num(parser *p, fk__ffield field, bool scaled, uint64_t max, const char *what,
               uint32_t *out)
{
    fk__fp_next(p);
    fk__fcmp c = fk__fp_comparator(p);
    uint64_t v;
    if (fk__fp_number(p, scaled, max, what, &v) < 0)
        return FK_EFILTER;
    return add_node(
        p, (fk__fnode){.kind = FN_NUM, .field = (uint8_t)field, .cmp = (uint8_t)c, .value = v},
        out);
}

static int flags(parser *p, uint32_t *out)
{
    fk__fp_next(p);
    uint64_t mask = 0;
    if (p->tok.kind != TK_WORD)
        return fk__fp_fail(p, "expected TCP flags (letters of AFSRPUX)");
    for (size_t i = 0; i < p->tok.len; i++) {
        switch (toupper((unsigned char)p->text[p->tok.at + i])) {
        case 'F':
            mask |= 0x01;
            break;
        case 'S':
            mask |= 0x02;
            break;
        case 'R':
            mask |= 0x04;
            break;
        case 'P':
            mask |= 0x08;
            break;
        case 'A':
            mask |= 0x10;
            break;
        case 'U':
            mask |= 0x20;
            break;
        case 'X':
            mask |= 0x3f;
            break;
        default:
            return fk__fp_fail_at(p, p->tok.at + i, "expected TCP flags (letters of AFSRPUX)");
        }
    }
    fk__fp_next(p);
    return add_node(p, (fk__fnode){.kind = FN_FLAGS, .value = mask}, out);
}

static int primitive(parser *p, uint32_t *out)
{
    const uint64_t u64max = UINT64_MAX;
    if (fk__fp_is_word(p, "any")) {
        fk__fp_next(p);
        return add_node(p, (fk__fnode){.kind = FN_TRUE}, out);
    }
    if (fk__fp_is_word(p, "ipv4") || fk__fp_is_word(p, "inet") || fk__fp_is_word(p, "ipv6") ||
        fk__fp_is_word(p, "inet6")) {
        uint64_t fam = (fk__fp_is_word(p, "ipv4") || fk__fp_is_word(p, "inet")) ? 4 : 6;
        fk__fp_next(p);
        return add_node(p, (fk__fnode){.kind = FN_FAMILY, .value = fam}, out);
    }
    if (fk__fp_is_word(p, "proto"))
        return proto(p, out);
    fk__fdir dir = FD_EITHER;
    bool dir_given = false;
    if (fk__fp_is_word(p, "src") || fk__fp_is_word(p, "dst")) {
        dir = fk__fp_is_word(p, "src") ? FD_SRC : FD_DST;
        dir_given = true;
        fk__fp_next(p);
    }
    if (fk__fp_is_word(p, "ip") || fk__fp_is_word(p, "host"))
        return host(p, dir, out);
    if (fk__fp_is_word(p, "net"))
        return net(p, dir, out);
    if (fk__fp_is_word(p, "port"))
        return port(p, dir, out);
    if (fk__fp_is_word(p, "as"))
        return fk__fp_fail(
            p, "AS numbers are not carried by flowkit's flow records: 'as' is not supported");
    if (dir_given)
        return fk__fp_fail(p, "expected ip, host, net or port after src/dst");
    if (fk__fp_is_word(p, "in") || fk__fp_is_word(p, "out")) {
        bool in = fk__fp_is_word(p, "in");
        fk__fp_next(p);
        if (fk__fp_is_word(p, "bytes"))
            return num(p, in ? FF_BYTES : FF_REV_BYTES, true, u64max, "expected a byte count", out);
        if (fk__fp_is_word(p, "packets"))
            return num(p, in ? FF_PACKETS : FF_REV_PACKETS, true, u64max, "expected a packet count",
                       out);
        if (fk__fp_is_word(p, "if"))
            return num(p, in ? FF_IN_IF : FF_OUT_IF, false, UINT32_MAX,
                       "expected an interface index", out);
        return fk__fp_fail(p, "expected bytes, packets or if after in/out");
    }
    if (fk__fp_is_word(p, "bytes"))
        return num(p, FF_BYTES, true, u64max, "expected a byte count", out);
    if (fk__fp_is_word(p, "packets"))
        return num(p, FF_PACKETS, true, u64max, "expected a packet count", out);
    if (fk__fp_is_word(p, "if"))
        return num(p, FF_EITHER_IF, false, UINT32_MAX, "expected an interface index", out);
    if (fk__fp_is_word(p, "tos"))
        return num(p, FF_TOS, false, 255, "expected a TOS value 0-255", out);
    if (fk__fp_is_word(p, "vlan"))
        return num(p, FF_VLAN, false, 4095, "expected a VLAN id 0-4095", out);
    if (fk__fp_is_word(p, "icmp-type"))
        return num(p, FF_ICMP_TYPE, false, 255, "expected an ICMP type 0-255", out);
    if (fk__fp_is_word(p, "icmp-code"))
        return num(p, FF_ICMP_CODE, false, 255, "expected an ICMP code 0-255", out);
    if (fk__fp_is_word(p, "duration"))
        return num(p, FF_DURATION_MS, false, u64max, "expected a duration in milliseconds", out);
    if (fk__fp_is_word(p, "flags"))
        return flags(p, out);
    if (fk__fp_is_word(p, "router")) {
        fk__fp_next(p);
        if (!fk__fp_is_word(p, "ip"))
            return fk__fp_fail(p, "expected 'ip' after 'router'");
        fk__fp_next(p);
        fk__fnet n;
        uint32_t first = p->f->nnets;
        if (fk__fp_address(p, false, "expected the router's IPv4 or IPv6 address", &n) < 0 ||
            add_net(p, &n) < 0)
            return FK_EFILTER;
        return add_node(p, (fk__fnode){.kind = FN_ROUTER, .first = first, .count = 1}, out);
    }
    if (p->tok.kind == TK_END)
        return fk__fp_fail(p, "expected a filter primitive");
    return fk__fp_fail(p, "unknown filter primitive");
}

/* ---- expressions --------------------------------------------------------- */

static int expr(parser *p, uint32_t *out);

static int unary(parser *p, uint32_t *out)
{
    if (p->tok.kind == TK_NOT || fk__fp_is_word(p, "not") || p->tok.kind == TK_LP) {
        if (++p->depth > FK__FILTER_MAX_DEPTH)
            return fk__fp_fail(p, "nested too deeply");
        int rc;
        if (p->tok.kind == TK_LP) {
            fk__fp_next(p);
            rc = expr(p, out);
            if (rc == 0 && p->tok.kind != TK_RP)
                rc = fk__fp_fail(p, "expected ')'");
            if (rc == 0)
                fk__fp_next(p);
        } else {
            fk__fp_next(p);
            uint32_t kid;
            rc = unary(p, &kid);
            if (rc == 0 && p->f->nodes[kid].kind == FN_FLAGS) {
                /* nfdump: `not flags AFRPU` is true when none of them is set
                 * (its man page: "flags S and not flags AFRPU" = SYN only). */
                p->f->nodes[kid].kind = FN_FLAGS_NONE;
                *out = kid;
            } else if (rc == 0)
                rc = add_parent(p, FN_NOT, &kid, 1, out);
        }
        p->depth--;
        return rc;
    }
    return primitive(p, out);
}

/* A chain of operands joined by one operator, as one n-ary node. */
static int chain(parser *p, fk__fnode_kind kind, uint32_t *out)
{
    bool is_or = kind == FN_OR;
    uint32_t *kids = NULL, n = 0, cap = 0;
    int rc;
    for (;;) {
        uint32_t kid;
        rc = is_or ? chain(p, FN_AND, &kid) : unary(p, &kid);
        if (rc < 0)
            break;
        if ((rc = grow((void **)&kids, &cap, n + 1, sizeof *kids)) < 0)
            break;
        kids[n++] = kid;
        bool more = is_or ? (p->tok.kind == TK_OR || fk__fp_is_word(p, "or"))
                          : (p->tok.kind == TK_AND || fk__fp_is_word(p, "and"));
        if (!more)
            break;
        fk__fp_next(p);
    }
    if (rc == 0)
        rc = n == 1 ? (*out = kids[0], 0) : add_parent(p, kind, kids, n, out);
    fk__free(kids);
    return rc;
}

static int expr(parser *p, uint32_t *out)
{
    return chain(p, FN_OR, out);
}

int fk_filter_compile(const char *text, fk_filter **out, size_t *error_offset)
{
    if (!out || !text)
        return fk__error(FK_EINVAL, "fk_filter_compile: NULL argument");
    *out = NULL;
    fk_filter *f = fk__calloc(1, sizeof *f);
    if (!f)
        return fk__error(FK_ENOMEM, "filter: out of memory");
    parser p = {.text = text, .f = f};
    fk__fp_next(&p);
    int rc;
    if (p.tok.kind == TK_END)
        rc = add_node(&p, (fk__fnode){.kind = FN_TRUE}, &f->root);
    else {
        rc = expr(&p, &f->root);
        if (rc == 0 && p.tok.kind != TK_END)
            rc = fk__fp_fail(&p, p.tok.kind == TK_RP ? "unbalanced ')'"
                                                     : "expected 'and', 'or' or the end");
    }
    if (rc < 0) {
        if (error_offset)
            *error_offset = p.err_at;
        fk_filter_destroy(f);
        return rc;
    }
    *out = f;
    return 0;
}
