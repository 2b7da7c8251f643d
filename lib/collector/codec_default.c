/* The production codec: dispatch by version to the NetFlow and IPFIX
 * adapters. Each domain state starts with its version so the calls that
 * only get the state know where to go. */
#include <string.h>

#include "collector/codec.h"
#include "collector/codec_impl.h"
#include "core/alloc.h"
#include "core/error.h"

typedef struct domain_box {
    uint16_t version;
    void *inner;
} domain_box;

static int ctx_new(void **out, const fk__col_codec_cfg *cfg)
{
    fk__col_codec_ctx *cx = FK__NEW(fk__col_codec_ctx);
    if (!cx)
        return fk__error(FK_ENOMEM, "collector: out of memory for decoders");
    cx->max_templates = cfg->max_templates;
    cx->pen = cfg->pen;
    cx->direct = cfg->direct;
    cx->stats = cfg->stats;
    cx->own_out.flows = cx->own_out.next = &cx->own_flow;
    cx->own_out.end = &cx->own_flow + 1;
    cx->out = cfg->out ? cfg->out : &cx->own_out;
    int rc = fk__col_ipfix_ctx_init(cx);
    if (rc) {
        fk__free(cx);
        return rc;
    }
    *out = cx;
    return FK_OK;
}

static void ctx_free(void *ctx)
{
    if (!ctx)
        return;
    fk__col_ipfix_ctx_fini(ctx);
    fk__free(ctx);
}

static int domain_new(void *ctx, void **state, uint64_t session, uint16_t version, uint32_t odid)
{
    domain_box *b = FK__NEW(domain_box);
    if (!b)
        return fk__error(FK_ENOMEM, "collector: out of memory");
    b->version = version;
    int rc = version == 9 ? fk__col_v9_domain_new(ctx, &b->inner)
                          : fk__col_ipfix_domain_new(ctx, &b->inner, session, odid);
    if (rc) {
        fk__free(b);
        return rc;
    }
    *state = b;
    return FK_OK;
}

static void domain_free(void *ctx, void *state)
{
    domain_box *b = state;
    if (!b)
        return;
    if (b->version == 9)
        fk__col_v9_domain_free(b->inner);
    else
        fk__col_ipfix_domain_free(ctx, b->inner);
    fk__free(b);
}

static int templates(void *ctx, void *state, const fk__col_hdr *hdr, uint16_t set_id,
                     const uint8_t *body, size_t len, int64_t now_ns, size_t room,
                     fk__col_tmpl_fn fn, void *user)
{
    domain_box *b = state;
    if (b->version == 9)
        return fk__col_v9_templates(ctx, b->inner, hdr, set_id, body, len, now_ns, room, fn, user);
    return fk__col_ipfix_templates(ctx, b->inner, hdr, set_id, body, len, now_ns, room, fn, user);
}

static int data(void *ctx, void *state, const fk__col_hdr *hdr, uint16_t set_id,
                const uint8_t *body, size_t len, fk__col_emit_fn emit, fk__col_ifname_fn ifname,
                void *user, uint32_t *records, uint32_t *options)
{
    domain_box *b = state;
    if (b->version == 9)
        return fk__col_v9_data(ctx, b->inner, hdr, set_id, body, len, emit, ifname, user, records,
                               options);
    return fk__col_ipfix_data(ctx, b->inner, hdr, set_id, body, len, emit, ifname, user, records,
                              options);
}

static void expire(void *ctx, void *state, int64_t cutoff_ns, fk__col_tmpl_fn fn, void *user)
{
    domain_box *b = state;
    if (b->version == 9)
        fk__col_v9_expire(ctx, b->inner, cutoff_ns, fn, user);
    else
        fk__col_ipfix_expire(ctx, b->inner, cutoff_ns, fn, user);
}

static int fixed(void *ctx, const uint8_t *msg, size_t len, fk__col_emit_fn emit, void *user)
{
    return fk__col_fixed(ctx, msg, len, emit, user);
}

static int64_t sys_init(void *ctx, void *state)
{
    (void)ctx;
    domain_box *b = state;
    return b->version == 10 ? fk__col_ipfix_sys_init(b->inner) : 0;
}

static void restart(void *ctx, void *state, uint64_t serial, fk__col_tmpl_fn fn, void *user)
{
    domain_box *b = state;
    if (b->version == 10)
        fk__col_ipfix_restart(ctx, b->inner, serial, fn, user);
    else /* NetFlow v9 keeps no serials: everything goes */
        fk__col_v9_expire(ctx, b->inner, INT64_MAX, fn, user);
}

/* IPFIX only: NetFlow v9 sets are always decoded. */
static int raw(void *ctx, void *state, uint16_t set_id, const uint8_t *body, size_t len,
               unsigned flags, int64_t end_limit_ns, fk__col_raw *out)
{
    domain_box *b = state;
    if (b->version != 10)
        return FK_EUNSUPPORTED;
    return fk__col_ipfix_raw(ctx, b->inner, set_id, body, len, flags, end_limit_ns, out);
}

/* IPFIX only, as raw(). */
static int direct(void *ctx, void *state, const fk__col_hdr *hdr, uint16_t set_id,
                  const uint8_t *body, size_t len, fk__col_direct *out)
{
    domain_box *b = state;
    out->uncompiled = false;
    if (b->version != 10)
        return FK_EUNSUPPORTED;
    return fk__col_ipfix_direct(ctx, b->inner, hdr, set_id, body, len, out);
}

const fk__col_codec fk__col_codec_default = {ctx_new,   ctx_free, domain_new, domain_free,
                                             templates, data,     expire,     fixed,
                                             sys_init,  restart,  raw,        direct};
