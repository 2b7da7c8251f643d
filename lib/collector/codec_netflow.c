/* The collector's codec for NetFlow, on top of the library's NetFlow
 * decoders (flowkit/netflow.h): v1/v5/v7 through fk_netflow_decode_fixed(),
 * v9 through one fk_netflow handle per (exporter session, source id).
 *
 * The session layer hands over one flowset at a time; it is wrapped in a
 * one-flowset datagram with the original header so the v9 decoder sees the
 * original times. A data flowset the decoder had no template for shows up
 * as a rise of its `no_template` counter and is reported as FK_ENOTEMPLATE,
 * so the session layer can keep it until the template arrives.
 *
 * UDP template lifetime: the v9 decoder has no per-template expiry, so each
 * template's record is kept here with the time it was last defined; when one
 * expires, the handle is rebuilt from the templates still alive. */
#include <flowkit/netflow.h>
#include <stdbool.h>
#include <string.h>

#include "collector/codec.h"
#include "collector/codec_impl.h"
#include "core/alloc.h"
#include "core/error.h"
#include "core/bytes.h"

typedef struct v9_tmpl {
    uint16_t id;
    uint8_t options;
    int64_t defined_ns;
    uint16_t len; /* template record bytes */
    uint8_t *rec;
} v9_tmpl;

typedef struct v9_state {
    fk_netflow *nf;
    v9_tmpl *t;
    size_t n;
    size_t cap;
} v9_state;

static const fk_addr scope_addr = {4, {127, 0, 0, 1}};

static int nf_new(fk__col_codec_ctx *cx, fk_netflow **out)
{
    fk_netflow *nf;
    int rc = fk_netflow_create(&nf);
    if (rc)
        return rc;
    int64_t max = (int64_t)cx->max_templates;
    size_t pc = 0;
    const fk_param_info *pi = fk_netflow_params(&pc);
    const fk_param_info *mt = fk_param_find(pi, pc, "max_templates");
    if (mt && max > mt->max_int)
        max = mt->max_int;
    if (mt && max < mt->min_int)
        max = mt->min_int;
    if (mt)
        fk_netflow_set_int(nf, FK_NETFLOW_MAX_TEMPLATES, max);
    rc = fk_netflow_activate(nf);
    if (rc) {
        fk_netflow_destroy(nf);
        return rc;
    }
    *out = nf;
    return FK_OK;
}

int fk__col_v9_domain_new(fk__col_codec_ctx *cx, void **state)
{
    v9_state *s = FK__NEW(v9_state);
    if (!s)
        return fk__error(FK_ENOMEM, "collector: out of memory");
    int rc = nf_new(cx, &s->nf);
    if (rc) {
        fk__free(s);
        return rc;
    }
    *state = s;
    return FK_OK;
}

void fk__col_v9_domain_free(void *state)
{
    v9_state *s = state;
    if (!s)
        return;
    fk_netflow_destroy(s->nf);
    for (size_t i = 0; i < s->n; i++)
        fk__free(s->t[i].rec);
    fk__free(s->t);
    fk__free(s);
}

/* One-flowset datagram in the context's scratch buffer. */
static size_t wrap(fk__col_codec_ctx *cx, const fk__col_hdr *hdr, uint16_t set_id,
                   const uint8_t *body, size_t len)
{
    uint8_t *p = cx->scratch;
    fk__put16(p, 9);
    fk__put16(p + 2, 0);
    fk__put32(p + 4, hdr->sys_uptime_ms);
    fk__put32(p + 8, hdr->export_secs);
    fk__put32(p + 12, hdr->sequence);
    fk__put32(p + 16, hdr->odid);
    fk__put16(p + 20, set_id);
    fk__put16(p + 22, (uint16_t)(len + 4));
    memcpy(p + 24, body, len);
    return len + 24;
}

typedef struct v9_cb {
    fk__col_emit_fn emit;
    fk__col_ifname_fn ifname;
    void *user;
    uint32_t records;
    uint32_t options;
} v9_cb;

static int on_record(const fk_netflow_record *rec, void *user)
{
    v9_cb *c = user;
    if (rec->kind == FK_NETFLOW_RECORD_OPTIONS) {
        c->options++;
        /* Scope type 2 (interface) with IF_NAME 82 / IF_DESC 83: the decoder
         * puts the interface index (scope value or field 10) in ifindex. */
        const fk_netflow_options *o = rec->options;
        if (o && (o->present & FK_NETFLOW_OPT_IFINDEX) &&
            (o->present & (FK_NETFLOW_OPT_IF_NAME | FK_NETFLOW_OPT_IF_DESC))) {
            fk__col_ifname in = {o->ifindex, o->if_name, strnlen(o->if_name, sizeof o->if_name),
                                 o->if_desc, strnlen(o->if_desc, sizeof o->if_desc)};
            if (in.name_len || in.desc_len)
                c->ifname(c->user, &in);
        }
        return 0;
    }
    if (!rec->flow)
        return 0;
    fk_flow f = *rec->flow;
    c->emit(c->user, &f);
    c->records++;
    return 0;
}

static v9_tmpl *find(v9_state *s, uint16_t id)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->t[i].id == id)
            return &s->t[i];
    return NULL;
}

/* Remember a template record (replacing an older one with the same id). */
static int remember(v9_state *s, uint16_t id, bool options, const uint8_t *rec, size_t len,
                    int64_t now_ns, bool *added)
{
    v9_tmpl *t = find(s, id);
    uint8_t *copy = fk__malloc(len);
    if (!copy)
        return fk__error(FK_ENOMEM, "collector: out of memory");
    memcpy(copy, rec, len);
    *added = t == NULL;
    if (!t) {
        if (s->n == s->cap) {
            size_t cap = s->cap ? s->cap * 2 : 8;
            v9_tmpl *nt = fk__reallocarray(s->t, cap, sizeof *nt);
            if (!nt) {
                fk__free(copy);
                return fk__error(FK_ENOMEM, "collector: out of memory");
            }
            s->t = nt;
            s->cap = cap;
        }
        t = &s->t[s->n++];
        memset(t, 0, sizeof *t);
        t->id = id;
    }
    fk__free(t->rec);
    t->rec = copy;
    t->len = (uint16_t)len;
    t->options = options;
    t->defined_ns = now_ns;
    return FK_OK;
}

int fk__col_v9_templates(fk__col_codec_ctx *cx, void *state, const fk__col_hdr *hdr,
                         uint16_t set_id, const uint8_t *body, size_t len, int64_t now_ns,
                         size_t room, fk__col_tmpl_fn fn, void *user)
{
    v9_state *s = state;
    bool options = set_id == 1;
    /* Split the flowset into its template records (same walk as the
     * decoder), offer each one alone, and remember what was accepted. */
    size_t pos = 0;
    int rc = FK_OK;
    while (rc == FK_OK && len - pos >= (options ? 6u : 4u)) {
        uint16_t id = fk__get16(body + pos);
        if (id == 0)
            break; /* padding */
        size_t need = options ? 6u + fk__get16(body + pos + 2) + fk__get16(body + pos + 4)
                              : 4u + (size_t)fk__get16(body + pos + 2) * 4u;
        if (need > len - pos) {
            rc = fk__error(FK_EMALFORMED, "netflow v9: template %u runs past its flowset", id);
            break;
        }
        if (!find(s, id) && room == 0) {
            fn(user, id, FK__TMPL_REFUSED);
            pos += need;
            continue;
        }
        fk_netflow_stats before, after;
        fk_netflow_get_stats(s->nf, &before, sizeof before);
        size_t n = wrap(cx, hdr, set_id, body + pos, need);
        int drc = fk_netflow_decode(s->nf, &scope_addr, 0, cx->scratch, n, NULL, NULL);
        fk_netflow_get_stats(s->nf, &after, sizeof after);
        if (after.templates + after.options_templates >
            before.templates + before.options_templates) {
            bool added = false;
            rc = remember(s, id, options, body + pos, need, now_ns, &added);
            if (rc == FK_OK) {
                fn(user, id, added ? FK__TMPL_ADDED : FK__TMPL_REPLACED);
                if (added && room)
                    room--;
            }
        } else if (drc == FK_ERANGE || after.refused > before.refused) {
            fn(user, id, FK__TMPL_REFUSED);
        } else {
            rc = drc ? drc : FK_EMALFORMED;
        }
        pos += need;
    }
    return rc == FK_ENOMEM ? rc : (rc ? FK_EMALFORMED : FK_OK);
}

int fk__col_v9_data(fk__col_codec_ctx *cx, void *state, const fk__col_hdr *hdr, uint16_t set_id,
                    const uint8_t *body, size_t len, fk__col_emit_fn emit, fk__col_ifname_fn ifname,
                    void *user, uint32_t *records, uint32_t *options)
{
    v9_state *s = state;
    fk_netflow_stats before, after;
    fk_netflow_get_stats(s->nf, &before, sizeof before);
    size_t n = wrap(cx, hdr, set_id, body, len);
    v9_cb c = {emit, ifname, user, 0, 0};
    int rc = fk_netflow_decode(s->nf, &scope_addr, 0, cx->scratch, n, on_record, &c);
    fk_netflow_get_stats(s->nf, &after, sizeof after);
    *records = c.records;
    *options = c.options;
    if (after.no_template > before.no_template)
        return FK_ENOTEMPLATE;
    if (rc)
        return FK_EMALFORMED;
    return FK_OK;
}

/* Rebuild the decoder from the templates still alive. */
void fk__col_v9_expire(fk__col_codec_ctx *cx, void *state, int64_t cutoff_ns, fk__col_tmpl_fn fn,
                       void *user)
{
    v9_state *s = state;
    bool any = false;
    for (size_t i = 0; i < s->n; i++)
        any |= s->t[i].defined_ns < cutoff_ns;
    if (!any)
        return;
    fk_netflow *nf;
    if (nf_new(cx, &nf) != FK_OK)
        return; /* keep the old state; try again at the next tick */
    fk_netflow_destroy(s->nf);
    s->nf = nf;
    fk__col_hdr hdr = {9, 0, 0, 0, 0, 0};
    for (size_t i = 0; i < s->n;) {
        v9_tmpl *t = &s->t[i];
        if (t->defined_ns < cutoff_ns) {
            fn(user, t->id, FK__TMPL_WITHDRAWN);
            fk__free(t->rec);
            s->t[i] = s->t[--s->n];
            continue;
        }
        size_t n = wrap(cx, &hdr, t->options ? 1 : 0, t->rec, t->len);
        fk_netflow_decode(s->nf, &scope_addr, 0, cx->scratch, n, NULL, NULL);
        i++;
    }
}

int fk__col_fixed(fk__col_codec_ctx *cx, const uint8_t *msg, size_t len, fk__col_emit_fn emit,
                  void *user)
{
    (void)cx;
    fk_flow flows[FK_NETFLOW_FIXED_MAX];
    size_t n = 0;
    int rc = fk_netflow_decode_fixed(msg, len, NULL, NULL, flows, FK_NETFLOW_FIXED_MAX, &n);
    if (rc)
        return rc;
    for (size_t i = 0; i < n; i++)
        emit(user, &flows[i]);
    return (int)n;
}
