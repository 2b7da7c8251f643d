/* The NetFlow decoding session: v1/v5/v7 through the fixed parser, v9
 * (RFC 3954) with templates and options templates per scope (exporter
 * address × port × source id), compiled once into a plan of field
 * operations so a data record is decoded without per-field lookups. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/params.h"
#include "core/strbuf.h"
#include "ipfix/plan.h"
#include "netflow/nf_internal.h"

static const fk_param_info netflow_params[] = {
    {FK_NETFLOW_MAX_TEMPLATES, "max_templates", FK_PARAM_INT, 0, 1, 65280, 1024, 0, 0, 0, NULL,
     "templates",
     "templates (data and options) kept per scope; also bounds samplers and interface names"},
    {FK_NETFLOW_MAX_SCOPES, "max_scopes", FK_PARAM_INT, 0, 1, 1 << 20, 4096, 0, 0, 0, NULL,
     "scopes", "scopes (exporter address x port x source id) kept"},
};

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
    nf_scope **slots; /* open addressing, power-of-two capacity */
    size_t cap, nscopes;
    size_t max_templates, max_scopes;
    fk_netflow_stats st;
};

/* ---- handle ---------------------------------------------------------- */

const fk_param_info *fk_netflow_params(size_t *count)
{
    if (count)
        *count = sizeof netflow_params / sizeof netflow_params[0];
    return netflow_params;
}

int fk_netflow_create(fk_netflow **out)
{
    if (!out)
        return fk__error(FK_EINVAL, "fk_netflow_create: NULL argument");
    *out = NULL;
    fk_netflow *h = FK__NEW(fk_netflow);
    if (!h)
        return fk__error(FK_ENOMEM, "netflow: out of memory creating a session");
    size_t n;
    const fk_param_info *t = fk_netflow_params(&n);
    int rc = fk__params_init(&h->params, "netflow", t, n);
    if (rc) {
        fk__free(h);
        return rc;
    }
    *out = h;
    return 0;
}

static void tpl_free(nf_template *t)
{
    if (t)
        fk__template_free(t->ipx);
    fk__free(t);
}

static void scope_free(nf_scope *s)
{
    for (size_t i = 0; i < s->ntpl; i++)
        tpl_free(s->tpl[i]);
    fk__free(s->tpl);
    fk__free(s->samplers);
    fk__free(s->ifnames);
    fk__free(s);
}

void fk_netflow_destroy(fk_netflow *h)
{
    if (!h)
        return;
    for (size_t i = 0; i < h->cap; i++)
        if (h->slots[i])
            scope_free(h->slots[i]);
    fk__free(h->slots);
    fk__params_free(&h->params);
    fk__free(h);
}

int fk_netflow_set_int(fk_netflow *h, fk_netflow_param param, int64_t value)
{
    if (!h)
        return fk__error(FK_EINVAL, "fk_netflow_set_int: NULL handle");
    return fk__params_set_int(&h->params, (int)param, value);
}

int fk_netflow_set_text(fk_netflow *h, const char *name, const char *text)
{
    if (!h)
        return fk__error(FK_EINVAL, "fk_netflow_set_text: NULL handle");
    return fk__params_set_text(&h->params, name, text);
}

int fk_netflow_get_int(const fk_netflow *h, fk_netflow_param param, int64_t *out)
{
    if (!h || !out)
        return fk__error(FK_EINVAL, "fk_netflow_get_int: NULL argument");
    return fk__params_get_int(&h->params, (int)param, out);
}

int fk_netflow_activate(fk_netflow *h)
{
    if (!h)
        return fk__error(FK_EINVAL, "fk_netflow_activate: NULL handle");
    if (h->params.activated)
        return fk__error(FK_EACTIVATED, "netflow: already activated");
    h->max_templates = (size_t)fk__params_int(&h->params, FK_NETFLOW_MAX_TEMPLATES);
    h->max_scopes = (size_t)fk__params_int(&h->params, FK_NETFLOW_MAX_SCOPES);
    h->params.activated = true;
    return 0;
}

int fk_netflow_stats_get(const fk_netflow *h, fk_netflow_stats *out)
{
    if (!h || !out)
        return fk__error(FK_EINVAL, "fk_netflow_stats_get: NULL argument");
    *out = h->st;
    return 0;
}

/* ---- scopes ---------------------------------------------------------- */

static uint64_t scope_hash(const fk_addr *a, uint16_t port, uint32_t source_id)
{
    uint64_t x = 1469598103934665603ull; /* FNV-1a */
    const uint8_t *b = a->bytes;
    for (int i = 0; i < 16; i++)
        x = (x ^ b[i]) * 1099511628211ull;
    x = (x ^ a->family) * 1099511628211ull;
    x = (x ^ port) * 1099511628211ull;
    x = (x ^ source_id) * 1099511628211ull;
    return x ^ (x >> 29);
}

static bool scope_is(const nf_scope *s, const fk_addr *a, uint16_t port, uint32_t source_id)
{
    return s->port == port && s->source_id == source_id && s->addr.family == a->family &&
           memcmp(s->addr.bytes, a->bytes, 16) == 0;
}

static nf_scope *scope_find(const fk_netflow *h, const fk_addr *a, uint16_t port,
                            uint32_t source_id)
{
    if (!h->cap)
        return NULL;
    size_t mask = h->cap - 1;
    for (size_t i = (size_t)scope_hash(a, port, source_id) & mask;; i = (i + 1) & mask) {
        nf_scope *s = h->slots[i];
        if (!s)
            return NULL;
        if (scope_is(s, a, port, source_id))
            return s;
    }
}

static void slot_insert(nf_scope **slots, size_t cap, nf_scope *s)
{
    size_t mask = cap - 1;
    size_t i = (size_t)scope_hash(&s->addr, s->port, s->source_id) & mask;
    while (slots[i])
        i = (i + 1) & mask;
    slots[i] = s;
}

/* Find or create; NULL with the error recorded (FK_ENOMEM or refused). */
static nf_scope *scope_get(fk_netflow *h, const fk_addr *a, uint16_t port, uint32_t source_id)
{
    nf_scope *s = scope_find(h, a, port, source_id);
    if (s)
        return s;
    if (h->nscopes >= h->max_scopes) {
        h->st.refused++;
        fk__error(FK_ERANGE, "netflow: scope limit of %zu reached", h->max_scopes);
        return NULL;
    }
    if ((h->nscopes + 1) * 2 > h->cap) {
        size_t ncap = h->cap ? h->cap * 2 : 16;
        nf_scope **ns = fk__calloc(ncap, sizeof *ns);
        if (!ns) {
            fk__error(FK_ENOMEM, "netflow: out of memory growing the scope table");
            return NULL;
        }
        for (size_t i = 0; i < h->cap; i++)
            if (h->slots[i])
                slot_insert(ns, ncap, h->slots[i]);
        fk__free(h->slots);
        h->slots = ns;
        h->cap = ncap;
    }
    s = FK__NEW(nf_scope);
    if (!s) {
        fk__error(FK_ENOMEM, "netflow: out of memory creating a scope");
        return NULL;
    }
    s->addr = *a;
    s->port = port;
    s->source_id = source_id;
    slot_insert(h->slots, h->cap, s);
    h->nscopes++;
    return s;
}

static nf_template *tpl_find(const nf_scope *s, uint16_t id, size_t *pos)
{
    size_t lo = 0, hi = s->ntpl;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (s->tpl[mid]->id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (pos)
        *pos = lo;
    return lo < s->ntpl && s->tpl[lo]->id == id ? s->tpl[lo] : NULL;
}

/* Grow an array of elements to hold one more; false on failure. */
static bool grow(void **arr, size_t *cap, size_t n, size_t elem)
{
    if (n < *cap)
        return true;
    size_t ncap = *cap ? *cap * 2 : 4;
    void *p = fk__reallocarray(*arr, ncap, elem);
    if (!p)
        return false;
    *arr = p;
    *cap = ncap;
    return true;
}

/* Takes ownership of t (frees it on failure). */
static int tpl_store(fk_netflow *h, nf_scope *s, nf_template *t)
{
    size_t pos;
    nf_template *old = tpl_find(s, t->id, &pos);
    if (old) {
        tpl_free(old);
        s->tpl[pos] = t;
        return 0;
    }
    if (s->ntpl >= h->max_templates) {
        tpl_free(t);
        h->st.refused++;
        return fk__error(FK_ERANGE, "netflow v9: template limit of %zu reached for a scope",
                         h->max_templates);
    }
    if (!grow((void **)&s->tpl, &s->captpl, s->ntpl, sizeof *s->tpl)) {
        tpl_free(t);
        return fk__error(FK_ENOMEM, "netflow v9: out of memory storing a template");
    }
    memmove(&s->tpl[pos + 1], &s->tpl[pos], (s->ntpl - pos) * sizeof *s->tpl);
    s->tpl[pos] = t;
    s->ntpl++;
    return 0;
}

/* ---- template compilation --------------------------------------------- */

static int time_rank(uint8_t form)
{
    static const int rank[] = {
        [TF_NONE] = 99,  [TF_MS] = 0,       [TF_SEC] = 1,    [TF_US] = 2,     [TF_NS] = 3,
        [TF_UPTIME] = 4, [TF_DELTA_US] = 5, [TF_OBS_MS] = 6, [TF_OBS_SEC] = 7};
    return rank[form];
}

/* Map one data-template field to an op; returns false when the field does
 * not feed fk_flow (or has a length we do not read). *prio orders the
 * alternatives for counters (lower wins). */
static bool flow_op(uint16_t type, uint16_t len, nf_op *op, int *prio)
{
    *prio = 0;
    op->form = TF_NONE;
    bool uint_ok = len >= 1 && len <= 8;
    switch (type) {
    case 8:
        op->kind = OP_SRC4;
        return len == 4;
    case 12:
        op->kind = OP_DST4;
        return len == 4;
    case 27:
        op->kind = OP_SRC6;
        return len == 16;
    case 28:
        op->kind = OP_DST6;
        return len == 16;
    case 7:
        op->kind = OP_SPORT;
        return uint_ok;
    case 11:
        op->kind = OP_DPORT;
        return uint_ok;
    case 4:
        op->kind = OP_PROTO;
        return uint_ok;
    case 6:
        op->kind = OP_TCP_FLAGS;
        return uint_ok;
    case 5:
        op->kind = OP_TOS;
        return uint_ok;
    case 1:
    case 23:
    case 85:
        op->kind = OP_BYTES;
        *prio = type == 1 ? 0 : type == 23 ? 1 : 2;
        return uint_ok;
    case 2:
    case 24:
    case 86:
        op->kind = OP_PACKETS;
        *prio = type == 2 ? 0 : type == 24 ? 1 : 2;
        return uint_ok;
    case 10:
        op->kind = OP_IN_IF;
        return uint_ok;
    case 14:
        op->kind = OP_OUT_IF;
        return uint_ok;
    case 58:
    case 243:
        op->kind = OP_VLAN;
        *prio = type == 58 ? 0 : 1;
        return uint_ok;
    case 32:
    case 139:
        op->kind = OP_ICMP_TYPECODE;
        return uint_ok;
    case 176:
    case 178:
        op->kind = OP_ICMP_TYPE;
        return uint_ok;
    case 177:
    case 179:
        op->kind = OP_ICMP_CODE;
        return uint_ok;
    case 136:
        op->kind = OP_END_REASON;
        return uint_ok;
    case 34:
    case 50:
        op->kind = OP_SAMPLING;
        *prio = type == 34 ? 0 : 1;
        return uint_ok;
    case 48:
    case 302:
        op->kind = OP_SAMPLER_ID;
        *prio = type == 48 ? 0 : 1;
        return uint_ok;
    case 160:
        op->kind = OP_INIT_MS;
        return uint_ok;
    case 22:
    case 21:
        op->kind = type == 22 ? OP_START : OP_END;
        op->form = TF_UPTIME;
        return uint_ok;
    case 150:
    case 151:
        op->kind = type == 150 ? OP_START : OP_END;
        op->form = TF_SEC;
        return uint_ok;
    case 152:
    case 153:
        op->kind = type == 152 ? OP_START : OP_END;
        op->form = TF_MS;
        return uint_ok;
    case 154:
    case 155:
        op->kind = type == 154 ? OP_START : OP_END;
        op->form = TF_US;
        return len == 8;
    case 156:
    case 157:
        op->kind = type == 156 ? OP_START : OP_END;
        op->form = TF_NS;
        return len == 8;
    case 158:
    case 159:
        op->kind = type == 158 ? OP_START : OP_END;
        op->form = TF_DELTA_US;
        return uint_ok;
    case 322: /* observationTimeSeconds: an event's time, start = end */
    case 323: /* observationTimeMilliseconds */
        op->kind = OP_START;
        op->form = type == 322 ? TF_OBS_SEC : TF_OBS_MS;
        return uint_ok;
    default:
        return false;
    }
}

static bool options_op(uint16_t type, uint16_t len, nf_op *op, int *prio)
{
    *prio = 0;
    op->form = TF_NONE;
    bool uint_ok = len >= 1 && len <= 8;
    switch (type) {
    case 34:
    case 50:
    case 305: /* samplingPacketInterval */
        op->kind = OPT_INTERVAL;
        *prio = type == 34 ? 1 : type == 50 ? 0 : 2;
        return uint_ok;
    case 35:
    case 49:
        op->kind = OPT_ALGORITHM;
        *prio = type == 35 ? 1 : 0;
        return uint_ok;
    case 48:
    case 302:
        op->kind = OPT_SAMPLER_ID;
        *prio = type == 48 ? 0 : 1;
        return uint_ok;
    case 10:
        op->kind = OPT_IFINDEX;
        return uint_ok;
    case 82:
        op->kind = OPT_IF_NAME;
        return len >= 1;
    case 83:
        op->kind = OPT_IF_DESC;
        return len >= 1;
    case 84:
    case 335: /* selectorName */
        op->kind = OPT_SAMPLER_NAME;
        *prio = type == 84 ? 0 : 1;
        return len >= 1;
    default:
        return false;
    }
}

/* The template in the IPFIX layer, so records get typed access by element
 * and JSON by IANA name. Best effort: templates the IPFIX layer cannot
 * represent (zero-length fields, vendor types >= 32768 that are no IANA
 * elements, lengths of 65535 that IPFIX reads as variable) have none. */
static int ipfix_view(nf_template *t, size_t nscope)
{
    t->ipx = NULL;
    for (size_t i = 0; i < t->nfields; i++)
        if (t->fields[i].length == 0 || t->fields[i].length == FK_VARLEN ||
            t->fields[i].type >= 0x8000)
            return 0;
    fk_field_spec *specs = fk__calloc(t->nfields, sizeof *specs);
    if (!specs)
        return fk__error(FK_ENOMEM, "netflow v9: out of memory compiling template %u", t->id);
    for (size_t i = 0; i < t->nfields; i++) {
        specs[i].id = t->fields[i].type;
        specs[i].length = t->fields[i].length;
        specs[i].flags = i < nscope ? FK_FIELD_V9_SCOPE : 0;
    }
    int rc = fk__template_new(&t->ipx, t->id, specs, (uint16_t)t->nfields, (uint16_t)nscope, NULL);
    fk__free(specs);
    if (rc == 0 && (!t->ipx->plan->fixed_offsets || t->ipx->plan->fixed_len != t->record_len)) {
        fk__template_free(t->ipx);
        t->ipx = NULL;
    }
    if (rc < 0)
        t->ipx = NULL;
    return rc == FK_ENOMEM ? rc : 0;
}

/* Build a template from its wire fields (type/length pairs at p; the first
 * nscope are scope fields of an options template). */
static int tpl_compile(nf_template **out, uint16_t id, bool options, const uint8_t *p,
                       size_t nscope, size_t nfields)
{
    *out = NULL;
    size_t size = sizeof(nf_template) + nfields * (sizeof(fk_netflow_field) + sizeof(nf_op));
    nf_template *t = fk__calloc(1, size);
    if (!t)
        return fk__error(FK_ENOMEM, "netflow v9: out of memory compiling template %u", id);
    t->id = id;
    t->options = options;
    t->nfields = nfields;
    t->fields = (fk_netflow_field *)(t + 1);
    t->ops = (nf_op *)(t->fields + nfields);
    int best[OPT_SAMPLER_NAME + 1];
    size_t where[OPT_SAMPLER_NAME + 1];
    for (size_t k = 0; k <= OPT_SAMPLER_NAME; k++)
        best[k] = 1000;
    size_t off = 0;
    for (size_t i = 0; i < nfields; i++) {
        uint16_t type = fk__nf_rd16(p + 4 * i);
        uint16_t len = fk__nf_rd16(p + 4 * i + 2);
        if (off + len > 65535) {
            fk__free(t);
            return fk__error(FK_EMALFORMED, "netflow v9: template %u records exceed 65535 bytes",
                             id);
        }
        fk_netflow_field *f = &t->fields[i];
        f->type = type;
        f->length = len;
        f->offset = (uint16_t)off;
        f->scope = i < nscope;
        nf_op op = {.offset = (uint16_t)off, .length = (uint8_t)(len > 255 ? 255 : len)};
        int prio = 0;
        bool use = false;
        if (i < nscope)
            use = false; /* scope fields are read directly, below */
        else if (options)
            use = options_op(type, len, &op, &prio);
        else
            use = flow_op(type, len, &op, &prio);
        if (use && (op.kind == OP_START || op.kind == OP_END))
            prio = time_rank(op.form);
        if (use && prio < best[op.kind]) {
            if (best[op.kind] == 1000) {
                where[op.kind] = t->nops;
                t->ops[t->nops++] = op;
            } else {
                t->ops[where[op.kind]] = op;
            }
            best[op.kind] = prio;
        }
        off += len;
    }
    /* Zero-length fields occur (Cisco sends a System scope of length 0) and
     * take no room; a record of length 0 cannot be walked. */
    if (off == 0) {
        fk__free(t);
        return fk__error(FK_EMALFORMED, "netflow v9: template %u has only zero-length fields", id);
    }
    t->record_len = (uint16_t)off;
    for (size_t i = 0; i < t->nops; i++) {
        if (t->ops[i].kind == OP_SAMPLING)
            t->has_sampling = true;
        if (t->ops[i].kind == OP_SAMPLER_ID)
            t->has_sampler_id = true;
    }
    int rc = ipfix_view(t, nscope);
    if (rc == FK_ENOMEM) {
        fk__free(t);
        return rc;
    }
    *out = t;
    return 0;
}

/* ---- record decoding -------------------------------------------------- */

static bool all_zero(const uint8_t *p, size_t n);

/* Templates may carry both an IPv4 and an IPv6 address element, one of them
 * zero (Juniper, Cisco with one template for both families): an all-zero
 * address never replaces one already set. */
static void set_addr(fk_addr *a, const uint8_t *p, int family)
{
    if (a->family && all_zero(p, family == 4 ? 4 : 16))
        return;
    memset(a, 0, sizeof *a);
    a->family = (uint8_t)family;
    memcpy(a->bytes, p, family == 4 ? 4 : 16);
}

/* NTP-format timestamp (RFC 7011 dateTimeMicro/Nanoseconds) to epoch ns. */
static int64_t ntp_to_ns(uint64_t v, bool micro)
{
    uint64_t secs = v >> 32;
    uint64_t frac = v & 0xffffffffu;
    if (micro)
        frac &= ~(uint64_t)0x7ff;
    return ((int64_t)secs - 2208988800LL) * 1000000000LL + (int64_t)((frac * 1000000000u) >> 32);
}

typedef struct decode_ctx {
    fk_netflow *h;
    nf_scope *scope;
    const fk_netflow_header *hdr;
    const fk_addr *exporter;
    uint16_t port;
    fk_netflow_record_cb cb;
    void *user;
} decode_ctx;

static int64_t time_value(uint8_t form, uint64_t v, const fk_netflow_header *hdr, bool have_init,
                          int64_t init_ms)
{
    switch (form) {
    case TF_MS:
    case TF_OBS_MS:
        return v > (uint64_t)INT64_MAX / 1000000 ? 0 : (int64_t)v * 1000000;
    case TF_SEC:
    case TF_OBS_SEC:
        return v > (uint64_t)INT64_MAX / 1000000000 ? 0 : (int64_t)v * 1000000000;
    case TF_US:
        return ntp_to_ns(v, true);
    case TF_NS:
        return ntp_to_ns(v, false);
    case TF_UPTIME:
        if (have_init)
            return (init_ms + (int64_t)(v & 0xffffffffu)) * 1000000;
        return fk__nf_uptime_to_ns(hdr->export_ns, hdr->sys_uptime_ms, (uint32_t)v);
    case TF_DELTA_US:
        return hdr->export_ns - (int64_t)(v & 0xffffffffu) * 1000;
    default:
        return 0;
    }
}

static const nf_sampler *sampler_find(const nf_scope *s, uint64_t id)
{
    for (size_t i = 0; i < s->nsamplers; i++)
        if (s->samplers[i].id == id)
            return &s->samplers[i];
    return NULL;
}

/* The IPFIX view of a record (NULL when the template has none). */
static const fk_ipfix_record *ipfix_record(fk_ipfix_record *out, const decode_ctx *c,
                                           const nf_template *t, const uint8_t *r)
{
    if (!t->ipx)
        return NULL;
    memset(out, 0, sizeof *out);
    out->tmpl = t->ipx;
    out->data = r;
    out->len = t->record_len;
    out->domain = c->hdr->source_id;
    out->template_id = t->id;
    out->is_options = t->options;
    out->version = 9;
    out->time.export_time_ns = c->hdr->export_ns;
    out->time.sys_init_ns = c->hdr->export_ns - (int64_t)c->hdr->sys_uptime_ms * 1000000;
    out->offsets = t->ipx->plan->fixed_offsets;
    return out;
}

static int deliver_flow(decode_ctx *c, const nf_template *t, const uint8_t *r)
{
    fk_flow f;
    memset(&f, 0, sizeof f);
    f.version = 9;
    uint64_t start = 0, end = 0, sampler_id = 0, icmp_tc = 0;
    uint8_t start_form = TF_NONE, end_form = TF_NONE;
    int64_t init_ms = 0;
    bool have_init = false, have_sampler = false, have_tc = false, have_type = false;
    uint64_t icmp_type = 0, icmp_code = 0;
    for (size_t i = 0; i < t->nops; i++) {
        const nf_op *op = &t->ops[i];
        const uint8_t *p = r + op->offset;
        uint64_t v = 0;
        if (op->kind != OP_SRC4 && op->kind != OP_DST4 && op->kind != OP_SRC6 &&
            op->kind != OP_DST6)
            v = fk__nf_rdn(p, op->length);
        switch (op->kind) {
        case OP_SRC4:
            set_addr(&f.src, p, 4);
            break;
        case OP_DST4:
            set_addr(&f.dst, p, 4);
            break;
        case OP_SRC6:
            set_addr(&f.src, p, 6);
            break;
        case OP_DST6:
            set_addr(&f.dst, p, 6);
            break;
        case OP_SPORT:
            f.src_port = (uint16_t)v;
            break;
        case OP_DPORT:
            f.dst_port = (uint16_t)v;
            break;
        case OP_PROTO:
            f.proto = (uint8_t)v;
            break;
        case OP_TCP_FLAGS:
            f.tcp_flags = (uint8_t)v;
            break;
        case OP_TOS:
            f.tos = (uint8_t)v;
            break;
        case OP_BYTES:
            f.bytes = v;
            break;
        case OP_PACKETS:
            f.packets = v;
            break;
        case OP_IN_IF:
            f.in_if = (uint32_t)v;
            f.present |= FK_FLOW_HAS_IFACES;
            break;
        case OP_OUT_IF:
            f.out_if = (uint32_t)v;
            f.present |= FK_FLOW_HAS_IFACES;
            break;
        case OP_VLAN:
            f.vlan = (uint16_t)(v & 0xfff);
            break;
        case OP_ICMP_TYPECODE:
            icmp_tc = v;
            have_tc = true;
            break;
        case OP_ICMP_TYPE:
            icmp_type = v;
            have_type = true;
            break;
        case OP_ICMP_CODE:
            icmp_code = v;
            break;
        case OP_END_REASON:
            f.end_reason = (uint8_t)v;
            f.present |= FK_FLOW_HAS_END_REASON;
            break;
        case OP_SAMPLING:
            if (v) {
                f.sampling = v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
                f.present |= FK_FLOW_HAS_SAMPLING;
            }
            break;
        case OP_SAMPLER_ID:
            sampler_id = v;
            have_sampler = true;
            break;
        case OP_INIT_MS:
            /* Keep init + uptime (ms) * 10^6 inside int64. */
            init_ms = v > (uint64_t)INT64_MAX / 1000000 - 0xffffffffu ? 0 : (int64_t)v;
            have_init = true;
            break;
        case OP_START:
            start = v;
            start_form = op->form;
            break;
        case OP_END:
            end = v;
            end_form = op->form;
            break;
        default:
            break;
        }
    }
    if (start_form != TF_NONE)
        f.start_ns = time_value(start_form, start, c->hdr, have_init, init_ms);
    if (end_form != TF_NONE)
        f.end_ns = time_value(end_form, end, c->hdr, have_init, init_ms);
    if (start_form == TF_NONE && end_form != TF_NONE)
        f.start_ns = f.end_ns;
    if (end_form == TF_NONE && start_form != TF_NONE)
        f.end_ns = f.start_ns;
    if (f.proto == 1 || f.proto == 58) {
        if (have_tc && (icmp_tc || !f.dst_port)) {
            f.dst_port = (uint16_t)icmp_tc;
            f.src_port = 0;
        } else if (have_type) {
            f.dst_port = (uint16_t)((icmp_type & 0xff) << 8 | (icmp_code & 0xff));
            f.src_port = 0;
        }
    }
    if (!(f.present & FK_FLOW_HAS_SAMPLING)) {
        const nf_sampler *s = have_sampler ? sampler_find(c->scope, sampler_id) : NULL;
        if (!s)
            s = sampler_find(c->scope, 0);
        if (s && s->interval) {
            f.sampling = s->interval;
            f.present |= FK_FLOW_HAS_SAMPLING;
        }
    }
    f.exporter = *c->exporter;
    f.odid = c->hdr->source_id;
    f.present |= FK_FLOW_HAS_EXPORTER;
    c->h->st.flows++;
    if (!c->cb)
        return 0;
    fk_ipfix_record ipx;
    fk_netflow_record rec = {.kind = FK_NETFLOW_RECORD_FLOW,
                             .header = c->hdr,
                             .exporter = c->exporter,
                             .exporter_port = c->port,
                             .template_id = t->id,
                             .ipfix = ipfix_record(&ipx, c, t, r),
                             .flow = &f,
                             .fields = t->fields,
                             .field_count = t->nfields,
                             .data = r,
                             .length = t->record_len};
    return c->cb(&rec, c->user);
}

/* Copy a string field: stops at the first NUL, drops trailing spaces. */
static void copy_name(char *dst, const uint8_t *p, size_t len)
{
    size_t n = 0;
    while (n < len && n < FK_NETFLOW_NAME_MAX - 1 && p[n])
        n++;
    memcpy(dst, p, n);
    while (n > 0 && dst[n - 1] == ' ')
        n--;
    dst[n] = '\0';
}

static void learn_sampler(fk_netflow *h, nf_scope *s, uint64_t id, uint32_t interval)
{
    for (size_t i = 0; i < s->nsamplers; i++) {
        if (s->samplers[i].id == id) {
            s->samplers[i].interval = interval;
            return;
        }
    }
    if (s->nsamplers >= h->max_templates) {
        h->st.refused++;
        return;
    }
    if (!grow((void **)&s->samplers, &s->capsamplers, s->nsamplers, sizeof *s->samplers))
        return; /* out of memory: the sampler stays unknown */
    s->samplers[s->nsamplers++] = (nf_sampler){.id = id, .interval = interval};
}

static void learn_ifname(fk_netflow *h, nf_scope *s, uint32_t ifindex, const char *name)
{
    for (size_t i = 0; i < s->nifnames; i++) {
        if (s->ifnames[i].ifindex == ifindex) {
            snprintf(s->ifnames[i].name, sizeof s->ifnames[i].name, "%s", name);
            return;
        }
    }
    if (s->nifnames >= h->max_templates) {
        h->st.refused++;
        return;
    }
    if (!grow((void **)&s->ifnames, &s->capifnames, s->nifnames, sizeof *s->ifnames))
        return;
    nf_ifname *e = &s->ifnames[s->nifnames++];
    e->ifindex = ifindex;
    snprintf(e->name, sizeof e->name, "%s", name);
}

static int deliver_options(decode_ctx *c, const nf_template *t, const uint8_t *r)
{
    fk_netflow_options o;
    memset(&o, 0, sizeof o);
    for (size_t i = 0; i < t->nfields && t->fields[i].scope; i++) {
        const fk_netflow_field *f = &t->fields[i];
        uint64_t v = f->length <= 8 ? fk__nf_rdn(r + f->offset, f->length) : 0;
        if (i == 0) {
            o.scope_type = f->type;
            o.scope_value = v;
        }
        if (f->type == 2 && f->length <= 4) {
            o.ifindex = (uint32_t)v;
            o.present |= FK_NETFLOW_OPT_IFINDEX;
        }
    }
    for (size_t i = 0; i < t->nops; i++) {
        const nf_op *op = &t->ops[i];
        const uint8_t *p = r + op->offset;
        switch (op->kind) {
        case OPT_INTERVAL: {
            uint64_t v = fk__nf_rdn(p, op->length);
            o.sampling_interval = v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
            o.present |= FK_NETFLOW_OPT_SAMPLING_INTERVAL;
            break;
        }
        case OPT_ALGORITHM:
            o.sampling_algorithm = (uint8_t)fk__nf_rdn(p, op->length);
            o.present |= FK_NETFLOW_OPT_SAMPLING_ALGORITHM;
            break;
        case OPT_SAMPLER_ID:
            o.sampler_id = fk__nf_rdn(p, op->length);
            o.present |= FK_NETFLOW_OPT_SAMPLER_ID;
            break;
        case OPT_IFINDEX:
            o.ifindex = (uint32_t)fk__nf_rdn(p, op->length);
            o.present |= FK_NETFLOW_OPT_IFINDEX;
            break;
        case OPT_IF_NAME:
            copy_name(o.if_name, p, op->length);
            o.present |= FK_NETFLOW_OPT_IF_NAME;
            break;
        case OPT_IF_DESC:
            copy_name(o.if_desc, p, op->length);
            o.present |= FK_NETFLOW_OPT_IF_DESC;
            break;
        case OPT_SAMPLER_NAME:
            copy_name(o.sampler_name, p, op->length);
            o.present |= FK_NETFLOW_OPT_SAMPLER_NAME;
            break;
        default:
            break;
        }
    }
    if (o.present & FK_NETFLOW_OPT_SAMPLING_INTERVAL)
        learn_sampler(c->h, c->scope, (o.present & FK_NETFLOW_OPT_SAMPLER_ID) ? o.sampler_id : 0,
                      o.sampling_interval);
    if ((o.present & FK_NETFLOW_OPT_IF_NAME) && (o.present & FK_NETFLOW_OPT_IFINDEX))
        learn_ifname(c->h, c->scope, o.ifindex, o.if_name);
    c->h->st.options_records++;
    if (!c->cb)
        return 0;
    fk_ipfix_record ipx;
    fk_netflow_record rec = {.kind = FK_NETFLOW_RECORD_OPTIONS,
                             .header = c->hdr,
                             .exporter = c->exporter,
                             .exporter_port = c->port,
                             .template_id = t->id,
                             .ipfix = ipfix_record(&ipx, c, t, r),
                             .options = &o,
                             .fields = t->fields,
                             .field_count = t->nfields,
                             .data = r,
                             .length = t->record_len};
    return c->cb(&rec, c->user);
}

/* ---- flowsets ---------------------------------------------------------- */

static bool all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return false;
    return true;
}

static int template_flowset(decode_ctx *c, const uint8_t *p, size_t n)
{
    size_t pos = 0;
    while (n - pos >= 4) {
        uint16_t id = fk__nf_rd16(p + pos);
        uint16_t count = fk__nf_rd16(p + pos + 2);
        if (id == 0 && all_zero(p + pos, n - pos))
            break; /* padding */
        if (id < 256)
            return fk__error(FK_EMALFORMED, "netflow v9: template id %u is reserved (< 256)", id);
        if (count == 0)
            return fk__error(FK_EMALFORMED, "netflow v9: template %u has no fields", id);
        size_t need = 4 + (size_t)count * 4;
        if (need > n - pos)
            return fk__error(FK_EMALFORMED,
                             "netflow v9: template %u field count %u runs %zu bytes past the "
                             "flowset end",
                             id, count, need - (n - pos));
        nf_template *t;
        int rc = tpl_compile(&t, id, false, p + pos + 4, 0, count);
        if (rc)
            return rc;
        rc = tpl_store(c->h, c->scope, t);
        if (rc)
            return rc;
        c->h->st.templates++;
        pos += need;
    }
    return 0;
}

static int options_template_flowset(decode_ctx *c, const uint8_t *p, size_t n)
{
    size_t pos = 0;
    while (n - pos >= 6) {
        uint16_t id = fk__nf_rd16(p + pos);
        uint16_t slen = fk__nf_rd16(p + pos + 2);
        uint16_t olen = fk__nf_rd16(p + pos + 4);
        if (id == 0 && all_zero(p + pos, n - pos))
            break;
        if (id < 256)
            return fk__error(FK_EMALFORMED,
                             "netflow v9: options template id %u is reserved (< 256)", id);
        if (slen % 4 || olen % 4)
            return fk__error(FK_EMALFORMED,
                             "netflow v9: options template %u scope/option lengths %u/%u are "
                             "not multiples of 4",
                             id, slen, olen);
        if (slen + olen == 0)
            return fk__error(FK_EMALFORMED, "netflow v9: options template %u has no fields", id);
        size_t need = 6 + (size_t)slen + olen;
        if (need > n - pos)
            return fk__error(FK_EMALFORMED,
                             "netflow v9: options template %u fields run %zu bytes past the "
                             "flowset end",
                             id, need - (n - pos));
        nf_template *t;
        int rc = tpl_compile(&t, id, true, p + pos + 6, slen / 4u, (slen + olen) / 4u);
        if (rc)
            return rc;
        rc = tpl_store(c->h, c->scope, t);
        if (rc)
            return rc;
        c->h->st.options_templates++;
        pos += need;
    }
    return 0;
}

static int data_flowset(decode_ctx *c, uint16_t id, const uint8_t *p, size_t n)
{
    const nf_template *t = tpl_find(c->scope, id, NULL);
    if (!t) {
        c->h->st.no_template++;
        return 0;
    }
    for (size_t pos = 0; n - pos >= t->record_len; pos += t->record_len) {
        int rc = t->options ? deliver_options(c, t, p + pos) : deliver_flow(c, t, p + pos);
        if (rc)
            return rc;
    }
    return 0;
}

/* Records a sequence observation; counts the gap when it moves forward. */
static void track_seq(fk_netflow *h, bool *have, uint32_t *next, uint32_t seq, uint32_t step)
{
    if (*have && seq != *next) {
        uint32_t gap = seq - *next;
        if (gap < 0x80000000u)
            h->st.sequence_lost += gap;
    }
    *have = true;
    *next = seq + step;
}

static int decode_v9(fk_netflow *h, const fk_addr *exporter, uint16_t port, const uint8_t *buf,
                     size_t len, fk_netflow_record_cb cb, void *user)
{
    if (len < 20) {
        h->st.malformed++;
        return fk__error(FK_ETRUNCATED, "netflow v9: datagram of %zu bytes, header needs 20", len);
    }
    fk_netflow_header hdr;
    memset(&hdr, 0, sizeof hdr);
    hdr.version = 9;
    hdr.count = fk__nf_rd16(buf + 2);
    hdr.sys_uptime_ms = fk__nf_rd32(buf + 4);
    hdr.unix_secs = fk__nf_rd32(buf + 8);
    hdr.sequence = fk__nf_rd32(buf + 12);
    hdr.source_id = fk__nf_rd32(buf + 16);
    hdr.export_ns = (int64_t)hdr.unix_secs * 1000000000;
    nf_scope *scope = scope_get(h, exporter, port, hdr.source_id);
    if (!scope)
        return fk_error_last()->code;
    track_seq(h, &scope->have_seq_v9, &scope->next_seq_v9, hdr.sequence, 1);

    decode_ctx c = {h, scope, &hdr, exporter, port, cb, user};
    int first_err = 0;
    size_t off = 20;
    while (len - off >= 4) {
        uint16_t id = fk__nf_rd16(buf + off);
        uint16_t flen = fk__nf_rd16(buf + off + 2);
        if (flen < 4) {
            h->st.malformed++;
            if (!first_err)
                first_err = fk__error(FK_EMALFORMED,
                                      "netflow v9: flowset %u at offset %zu has length %u (< 4)",
                                      id, off, flen);
            break;
        }
        if (flen > len - off) {
            h->st.malformed++;
            if (!first_err)
                first_err = fk__error(FK_ETRUNCATED,
                                      "netflow v9: flowset %u at offset %zu has length %u, "
                                      "only %zu bytes left",
                                      id, off, flen, len - off);
            break;
        }
        const uint8_t *body = buf + off + 4;
        size_t blen = (size_t)flen - 4;
        int rc = 0;
        bool is_cb = false;
        if (id == 0) {
            rc = template_flowset(&c, body, blen);
        } else if (id == 1) {
            rc = options_template_flowset(&c, body, blen);
        } else if (id >= 256) {
            rc = data_flowset(&c, id, body, blen);
            is_cb = rc != 0 && rc != FK_ENOMEM;
        } /* 2..255: reserved, skipped */
        if (rc) {
            if (is_cb)
                return rc; /* the callback asked to stop */
            if (rc != FK_ERANGE && rc != FK_ENOMEM)
                h->st.malformed++;
            if (!first_err)
                first_err = rc;
        }
        off += flen;
    }
    return first_err;
}

static int decode_fixed(fk_netflow *h, const fk_addr *exporter, uint16_t port, const uint8_t *buf,
                        size_t len, fk_netflow_record_cb cb, void *user)
{
    fk_flow flows[FK_NETFLOW_FIXED_MAX];
    fk_netflow_header hdr;
    size_t n = 0;
    int rc = fk__nf_fixed_parse(&hdr, flows, FK_NETFLOW_FIXED_MAX, &n, buf, len, exporter);
    if (rc) {
        h->st.malformed++;
        return rc;
    }
    /* Without a scope (limit reached) the flows still go out, untracked. */
    nf_scope *scope = scope_get(h, exporter, port, hdr.source_id);
    if (scope && hdr.version != 1)
        track_seq(h, &scope->have_seq_fixed, &scope->next_seq_fixed, hdr.sequence, hdr.count);
    size_t rlen = fk__nf_fixed_record_size(hdr.version);
    size_t first = hdr.version == 1 ? 16 : 24;
    for (size_t i = 0; i < n; i++) {
        h->st.flows++;
        if (!cb)
            continue;
        fk_netflow_record rec = {.kind = FK_NETFLOW_RECORD_FLOW,
                                 .header = &hdr,
                                 .exporter = exporter,
                                 .exporter_port = port,
                                 .flow = &flows[i],
                                 .data = buf + first + i * rlen,
                                 .length = rlen};
        rc = cb(&rec, user);
        if (rc)
            return rc;
    }
    return 0;
}

int fk_netflow_decode(fk_netflow *h, const fk_addr *exporter, uint16_t exporter_port,
                      const void *buf, size_t len, fk_netflow_record_cb cb, void *user)
{
    if (!h || !exporter || (!buf && len))
        return fk__error(FK_EINVAL, "fk_netflow_decode: NULL argument");
    if (!h->params.activated)
        return fk__error(FK_ENOTACTIVATED, "netflow: decode before fk_netflow_activate()");
    h->st.packets++;
    const uint8_t *b = buf;
    if (len < 2) {
        h->st.malformed++;
        return fk__error(FK_ETRUNCATED, "netflow: datagram of %zu bytes has no version", len);
    }
    unsigned version = fk__nf_rd16(b);
    switch (version) {
    case 1:
    case 5:
    case 7:
        return decode_fixed(h, exporter, exporter_port, b, len, cb, user);
    case 9:
        return decode_v9(h, exporter, exporter_port, b, len, cb, user);
    default:
        h->st.unsupported++;
        return fk__error(FK_EUNSUPPORTED, "netflow: version %u is not NetFlow 1, 5, 7 or 9",
                         version);
    }
}

/* ---- lookups and JSON -------------------------------------------------- */

int fk_netflow_sampling(const fk_netflow *h, const fk_addr *exporter, uint16_t exporter_port,
                        uint32_t source_id, uint64_t sampler_id, uint32_t *interval)
{
    if (!h || !exporter || !interval)
        return fk__error(FK_EINVAL, "fk_netflow_sampling: NULL argument");
    const nf_scope *s = scope_find(h, exporter, exporter_port, source_id);
    const nf_sampler *e = s ? sampler_find(s, sampler_id) : NULL;
    if (!e)
        return fk__error(FK_ENOTFOUND, "netflow: no sampling announced for sampler %" PRIu64,
                         sampler_id);
    *interval = e->interval;
    return 0;
}

int fk_netflow_interface_name(const fk_netflow *h, const fk_addr *exporter, uint16_t exporter_port,
                              uint32_t source_id, uint32_t ifindex, char *buf, size_t size)
{
    if (!h || !exporter || !buf)
        return fk__error(FK_EINVAL, "fk_netflow_interface_name: NULL argument");
    const nf_scope *s = scope_find(h, exporter, exporter_port, source_id);
    for (size_t i = 0; s && i < s->nifnames; i++) {
        if (s->ifnames[i].ifindex != ifindex)
            continue;
        size_t n = strlen(s->ifnames[i].name);
        if (n + 1 > size)
            return fk__error(FK_ENOSPACE, "netflow: interface name needs %zu bytes, have %zu",
                             n + 1, size);
        memcpy(buf, s->ifnames[i].name, n + 1);
        return (int)n;
    }
    return fk__error(FK_ENOTFOUND, "netflow: no name announced for ifindex %u", ifindex);
}

int fk_netflow_forget_template(fk_netflow *h, const fk_addr *exporter, uint16_t exporter_port,
                               uint32_t source_id, uint16_t template_id)
{
    if (!h || !exporter)
        return fk__error(FK_EINVAL, "fk_netflow_forget_template: NULL argument");
    nf_scope *s = scope_find(h, exporter, exporter_port, source_id);
    size_t pos;
    nf_template *t = s ? tpl_find(s, template_id, &pos) : NULL;
    if (!t)
        return fk__error(FK_ENOTFOUND, "netflow: no template %u in this scope", template_id);
    tpl_free(t);
    memmove(&s->tpl[pos], &s->tpl[pos + 1], (s->ntpl - pos - 1) * sizeof *s->tpl);
    s->ntpl--;
    return 0;
}

static void jstring(fk__strbuf *j, const char *key, const char *s)
{
    fk__strbuf_printf(j, ",\"%s\":", key);
    fk__strbuf_json_string(j, s, SIZE_MAX);
}

int fk_netflow_options_to_json(const fk_netflow_record *rec, char *buf, size_t size)
{
    if (!rec || !buf || !size || rec->kind != FK_NETFLOW_RECORD_OPTIONS || !rec->options ||
        !rec->header)
        return fk__error(FK_EINVAL, "fk_netflow_options_to_json: not an options record");
    const fk_netflow_options *o = rec->options;
    char addr[FK_ADDR_STRLEN] = "";
    if (rec->exporter && fk_addr_format(rec->exporter, addr, sizeof addr) < 0)
        addr[0] = '\0';
    fk__strbuf j = FK__STRBUF(buf, size);
    fk__strbuf_printf(
        &j,
        "{\"type\":\"options\",\"exporter\":\"%s\",\"odid\":%" PRIu32
        ",\"version\":%u,\"template_id\":%u,\"scope_type\":%u,\"scope_value\":%" PRIu64,
        addr, rec->header->source_id, rec->header->version, rec->template_id, o->scope_type,
        o->scope_value);
    if (o->present & FK_NETFLOW_OPT_SAMPLING_INTERVAL)
        fk__strbuf_printf(&j, ",\"sampling_interval\":%" PRIu32, o->sampling_interval);
    if (o->present & FK_NETFLOW_OPT_SAMPLING_ALGORITHM)
        fk__strbuf_printf(&j, ",\"sampling_algorithm\":%u", o->sampling_algorithm);
    if (o->present & FK_NETFLOW_OPT_SAMPLER_ID)
        fk__strbuf_printf(&j, ",\"sampler_id\":%" PRIu64, o->sampler_id);
    if (o->present & FK_NETFLOW_OPT_IFINDEX)
        fk__strbuf_printf(&j, ",\"ifindex\":%" PRIu32, o->ifindex);
    if (o->present & FK_NETFLOW_OPT_IF_NAME)
        jstring(&j, "if_name", o->if_name);
    if (o->present & FK_NETFLOW_OPT_IF_DESC)
        jstring(&j, "if_desc", o->if_desc);
    if (o->present & FK_NETFLOW_OPT_SAMPLER_NAME)
        jstring(&j, "sampler_name", o->sampler_name);
    fk__strbuf_printf(&j, "}");
    if (j.overflow)
        return fk__error(FK_ENOSPACE, "fk_netflow_options_to_json: buffer of %zu bytes too small",
                         size);
    return (int)j.len;
}
