/* Internal: the NetFlow session's data model, shared by its parts: the
 * handle (session.c), the scope table (scope.c), v9 template compiling
 * (v9_template.c), record decoding (record.c), datagram decoding (decode.c)
 * and the options JSON (options_json.c). */
#ifndef FK_NETFLOW_SESSION_INT_H
#define FK_NETFLOW_SESSION_INT_H

#include <flowkit/netflow.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/hmap.h"
#include "core/params.h"
#include "ipfix/plan.h"

/* What a template field feeds. Flow fields first, then options fields. */
enum op_kind {
    OP_SRC4,
    OP_DST4,
    OP_SRC6,
    OP_DST6,
    OP_SPORT,
    OP_DPORT,
    OP_PROTO,
    OP_TCP_FLAGS,
    OP_TOS,
    OP_BYTES,
    OP_PACKETS,
    OP_IN_IF,
    OP_OUT_IF,
    OP_VLAN,
    OP_SRC_AS, /* NetFlow v9 SRC_AS (16) */
    OP_DST_AS, /* DST_AS (17) */
    OP_ICMP_TYPECODE,
    OP_ICMP_TYPE,
    OP_ICMP_CODE,
    OP_END_REASON,
    OP_SAMPLING,   /* interval carried by the flow record itself */
    OP_SAMPLER_ID, /* names a sampler announced by options data */
    OP_INIT_MS,    /* systemInitTimeMilliseconds */
    OP_START,      /* time forms: see time_form */
    OP_END,
    /* options records */
    OPT_INTERVAL,
    OPT_ALGORITHM,
    OPT_SAMPLER_ID,
    OPT_IFINDEX,
    OPT_IF_NAME,
    OPT_IF_DESC,
    OPT_SAMPLER_NAME
};

/* Time forms for OP_START / OP_END, best first. */
enum time_form {
    TF_NONE,
    TF_MS,
    TF_SEC,
    TF_US,
    TF_NS,
    TF_UPTIME,
    TF_DELTA_US,
    TF_OBS_MS,
    TF_OBS_SEC
};

typedef struct nf_op {
    uint16_t offset;
    uint8_t length;
    uint8_t kind;
    uint8_t form; /* time_form for OP_START / OP_END */
} nf_op;

typedef struct nf_template {
    uint16_t id;
    bool options;
    uint16_t record_len;
    size_t nfields;
    size_t nops;
    fk_netflow_field *fields; /* points into the same allocation */
    nf_op *ops;
    bool has_sampling, has_sampler_id;
    fk_template *ipx; /* the same template in the IPFIX layer, or NULL */
} nf_template;

typedef struct nf_sampler {
    uint64_t id;
    uint32_t interval;
} nf_sampler;

typedef struct nf_ifname {
    uint32_t ifindex;
    char name[FK_NETFLOW_NAME_MAX];
} nf_ifname;

typedef struct nf_scope {
    fk_addr addr;
    uint16_t port;
    uint32_t source_id;
    nf_template **tpl; /* sorted by id */
    size_t ntpl, captpl;
    nf_sampler *samplers; /* samplers[0..n): id 0 = scope-wide */
    size_t nsamplers, capsamplers;
    nf_ifname *ifnames;
    size_t nifnames, capifnames;
    bool have_seq_fixed, have_seq_v9;
    uint32_t next_seq_fixed, next_seq_v9;
} nf_scope;

struct fk_netflow {
    fk__params params;
    fk__hmap scopes; /* scope key -> nf_scope * (owned); see scope.c */
    size_t max_templates, max_scopes;
    fk_netflow_stats st;
};

/* One datagram being decoded: where it came from and whom to tell. */
typedef struct decode_ctx {
    fk_netflow *h;
    nf_scope *scope;
    const fk_netflow_header *hdr;
    const fk_addr *exporter;
    uint16_t port;
    fk_netflow_record_cb cb;
    void *user;
} decode_ctx;

/* True when all n bytes at p are zero. */
static inline bool fk__nf_all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return false;
    return true;
}

/* ---- scope.c: scopes, their templates, samplers and interface names ---- */

/* The scope of (a, port, source_id), or NULL. */
nf_scope *fk__nf_scope_find(const fk_netflow *h, const fk_addr *a, uint16_t port,
                            uint32_t source_id);
/* Find or create; NULL with the error recorded (FK_ENOMEM or refused). */
nf_scope *fk__nf_scope_get(fk_netflow *h, const fk_addr *a, uint16_t port, uint32_t source_id);
/* Free a scope and everything it holds. */
void fk__nf_scope_free(nf_scope *s);
/* Set up the empty scope table; free every scope and the table. */
void fk__nf_scopes_init(fk_netflow *h);
void fk__nf_scopes_free(fk_netflow *h);
/* Template id of a scope, or NULL; *pos (if pos) is where it is or would go. */
nf_template *fk__nf_tpl_find(const nf_scope *s, uint16_t id, size_t *pos);
/* Store t in s, replacing one of the same id; takes ownership of t (frees it
 * on failure). */
int fk__nf_tpl_store(fk_netflow *h, nf_scope *s, nf_template *t);
/* Remove template id from s; FK_ENOTFOUND when s has none. */
int fk__nf_tpl_remove(nf_scope *s, uint16_t id);
/* The sampler id announced in s, or NULL. */
const nf_sampler *fk__nf_sampler_find(const nf_scope *s, uint64_t id);
/* Remember a sampler's interval / an interface's name (bounded by
 * max_templates; refusals counted). */
void fk__nf_learn_sampler(fk_netflow *h, nf_scope *s, uint64_t id, uint32_t interval);
void fk__nf_learn_ifname(fk_netflow *h, nf_scope *s, uint32_t ifindex, const char *name);

/* ---- v9_template.c: compiling a template into field operations -------- */

/* Build a template from its wire fields (type/length pairs at p; the first
 * nscope are scope fields of an options template). */
int fk__nf_tpl_compile(nf_template **out, uint16_t id, bool options, const uint8_t *p,
                       size_t nscope, size_t nfields);
/* Free a compiled template (NULL is fine). */
void fk__nf_tpl_free(nf_template *t);

/* ---- record.c: one data record to the callback ------------------------- */

/* Decode a flow / options record of template t at r and hand it to c->cb. */
int fk__nf_deliver_flow(decode_ctx *c, const nf_template *t, const uint8_t *r);
int fk__nf_deliver_options(decode_ctx *c, const nf_template *t, const uint8_t *r);

#endif
