/* Internal: the compiled form of a flow filter (flowkit/filter.h).
 *
 * The parser (parse.c) builds a flat array of nodes; the evaluator (eval.c)
 * walks it. `and` / `or` are n-ary: a chain of a thousand `and`s is one
 * node with a thousand children, so the evaluator's recursion depth is the
 * nesting depth of parentheses and `not`, which the parser bounds. */
#ifndef FK_FILTER_INT_H
#define FK_FILTER_INT_H

#include <flowkit/filter.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/* Deepest nesting of parentheses / `not` the parser accepts. */
#define FK__FILTER_MAX_DEPTH 64

typedef enum fk__fnode_kind {
    FN_TRUE,       /* any */
    FN_AND,        /* all children: kids[first .. first+count) */
    FN_OR,         /* any child */
    FN_NOT,        /* kids[first] negated */
    FN_FAMILY,     /* value = 4 or 6 */
    FN_PROTO,      /* value = protocol number */
    FN_NET,        /* nets[first], compared with the address(es) of `dir` */
    FN_NET_LIST,   /* nets[first .. first+count) */
    FN_PORT,       /* port(s) of `dir` compared with value by `cmp` */
    FN_PORT_LIST,  /* bitmap at ports[first * 1024 ..] (65536 bits) */
    FN_NUM,        /* numeric field `field` compared with value by `cmp` */
    FN_FLAGS,      /* every bit of value set in the forward TCP flags */
    FN_FLAGS_NONE, /* no bit of value set (`not flags ...`, as nfdump) */
    FN_ROUTER      /* nets[first] compared with the exporter address */
} fk__fnode_kind;

typedef enum fk__fdir { FD_EITHER, FD_SRC, FD_DST } fk__fdir;

typedef enum fk__fcmp { FC_EQ, FC_GT, FC_LT, FC_GE, FC_LE } fk__fcmp;

/* Numeric fields of FN_NUM. */
typedef enum fk__ffield {
    FF_BYTES,
    FF_PACKETS,
    FF_REV_BYTES,
    FF_REV_PACKETS,
    FF_TOS,
    FF_VLAN,
    FF_IN_IF,
    FF_OUT_IF,
    FF_EITHER_IF,
    FF_ICMP_TYPE,
    FF_ICMP_CODE,
    FF_DURATION_MS
} fk__ffield;

typedef struct fk__fnode {
    uint8_t kind;   /* fk__fnode_kind */
    uint8_t dir;    /* fk__fdir */
    uint8_t cmp;    /* fk__fcmp */
    uint8_t field;  /* fk__ffield */
    uint32_t first; /* index into kids / nets / ports */
    uint32_t count;
    uint64_t value;
} fk__fnode;

/* A network: address family, the masked address and the prefix length. */
typedef struct fk__fnet {
    uint8_t family;
    uint8_t prefix;
    uint8_t bytes[16];
} fk__fnet;

struct fk_filter {
    fk__fnode *nodes; /* nodes[root] is the whole expression */
    uint32_t nnodes, root;
    uint32_t *kids; /* children of FN_AND / FN_OR / FN_NOT */
    uint32_t nkids;
    fk__fnet *nets;
    uint32_t nnets;
    uint64_t *ports; /* port bitmaps, 1024 words each */
    uint32_t nports;
};

/* Whether a lies in net (family, then the prefix's octets). */
static inline bool fk__filter_in_net(const fk__fnet *net, const fk_addr *a)
{
    if (a->family != net->family)
        return false;
    unsigned full = net->prefix / 8, rest = net->prefix % 8;
    if (memcmp(a->bytes, net->bytes, full) != 0)
        return false;
    if (rest == 0)
        return true;
    uint8_t mask = (uint8_t)(0xffu << (8 - rest));
    return (a->bytes[full] & mask) == net->bytes[full];
}

#endif
