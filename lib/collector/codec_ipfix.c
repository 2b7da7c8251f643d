/* The collector's codec for IPFIX, on top of the library's IPFIX decoder
 * and template cache (flowkit/ipfix.h, flowkit/template.h). One cache holds
 * the templates of every session, scoped by (session id, observation
 * domain, template id) as RFC 7011 section 8 asks.
 *
 * The session layer hands over one set at a time; it is wrapped in a
 * one-set message with the original header (export time matters for
 * relative times). Template sets are decoded in codec_ipfix_tmpl.c, which
 * also keeps their definition times for the UDP template lifetime; this
 * file decodes data sets and plans pass-through. Options records teach the domain its sampling
 * interval (samplingPacketInterval 305, samplingInterval 34) and the exporter's boot time
 * (systemInitTimeMilliseconds 160); flow records without their own sampling field get the domain's.
 * Options records that name an interface go to the session layer, which keeps the names per domain.
 * Flow records get flowkit-export's process fields under the configured PEN.
 *
 * Every template and options value remembers the message (serial) that
 * defined it, so that when an exporter restart shows in the middle of a
 * message (a new systemInitTimeMilliseconds) the session layer can drop what
 * earlier messages taught while keeping what this message defined. */
#include <flowkit/ipfix.h>
#include <flowkit/template.h>
#include <string.h>

#include "collector/codec_ipfix_int.h"
#include "core/alloc.h"
#include "core/error.h"
#include "core/bytes.h"
#include "ipfix/plan.h"

int fk__col_ipfix_ctx_init(fk__col_codec_ctx *cx)
{
    int rc = fk_template_cache_create(&cx->cache, NULL);
    if (rc)
        return rc;
    int64_t per_session = (int64_t)cx->max_templates;
    int64_t total = per_session * 64 < 65536 ? 65536 : per_session * 64;
    if (total > (1 << 20))
        total = 1 << 20;
    if (per_session > total)
        per_session = total;
    if (fk_template_cache_set_int(cx->cache, FK_TCACHE_MAX_PER_SESSION, per_session) != FK_OK ||
        fk_template_cache_set_int(cx->cache, FK_TCACHE_MAX_TEMPLATES, total) != FK_OK ||
        fk_template_cache_activate(cx->cache) != FK_OK ||
        fk_ipfix_decoder_create(&cx->dec, cx->cache) != FK_OK) {
        int code = fk_error_last()->code;
        fk__col_ipfix_ctx_fini(cx);
        return code ? code : FK_ENOMEM;
    }
    return FK_OK;
}

void fk__col_ipfix_ctx_fini(fk__col_codec_ctx *cx)
{
    fk_ipfix_decoder_destroy(cx->dec);
    fk_template_cache_destroy(cx->cache);
    cx->dec = NULL;
    cx->cache = NULL;
}

int fk__col_ipfix_domain_new(fk__col_codec_ctx *cx, void **state, uint64_t session, uint32_t odid)
{
    (void)cx;
    ipx_state *s = FK__NEW(ipx_state);
    if (!s)
        return fk__error(FK_ENOMEM, "collector: out of memory");
    s->session = session;
    s->odid = odid;
    *state = s;
    return FK_OK;
}

void fk__col_ipfix_domain_free(fk__col_codec_ctx *cx, void *state)
{
    ipx_state *s = state;
    if (!s)
        return;
    fk_template_cache_withdraw(cx->cache, s->session, s->odid, FK_IPFIX_SET_TEMPLATE);
    fk_template_cache_withdraw(cx->cache, s->session, s->odid, FK_IPFIX_SET_OPTIONS_TEMPLATE);
    fk_ipfix_decoder_set_sys_init(cx->dec, s->session, s->odid, 0);
    fk__u64map_free(&s->index);
    for (size_t i = 0; i < s->n; i++)
        fk__free(s->t[i].def);
    fk__free(s->t);
    fk__free(s);
}

/* One-set message in the scratch buffer; returns its length. */
size_t fk__col_ipfix_wrap(fk__col_codec_ctx *cx, const fk__col_hdr *hdr, uint16_t set_id,
                          const uint8_t *body, size_t len)
{
    uint8_t *p = cx->scratch;
    size_t total = len + 20;
    fk__put16(p, 10);
    fk__put16(p + 2, (uint16_t)total);
    fk__put32(p + 4, hdr->export_secs);
    fk__put32(p + 8, hdr->sequence);
    fk__put32(p + 12, hdr->odid);
    fk__put16(p + 16, set_id);
    fk__put16(p + 18, (uint16_t)(len + 4));
    memcpy(p + 20, body, len);
    return total;
}

/* An options record of exactly scope observationDomainId (149) and
 * exporterIPv4Address (130) or exporterIPv6Address (131) names where the
 * records of this domain come from: flowkit-collect's ipfix: files write
 * one ahead of the data sets they store as an exporter sent them, each
 * exporter's domain in a domain of the file's (sink_ipfix.c). */
static void learn_relay(ipx_state *s, const fk_ipfix_record *rec)
{
    const fk_field_spec *scope = fk_template_get_field(rec->tmpl, 0);
    fk_ipfix_value odid, addr;
    if (fk_template_get_scope_count(rec->tmpl) != 1 ||
        fk_template_get_field_count(rec->tmpl) != 2 || !scope || scope->pen != 0 ||
        scope->id != 149 || fk__ipfix_record_lookup(rec, 0, 149, &odid) != 0 || odid.len != 4 ||
        (fk__ipfix_record_lookup(rec, 0, 130, &addr) != 0 &&
         fk__ipfix_record_lookup(rec, 0, 131, &addr) != 0))
        return;
    s->relayed = true;
    s->relay_exporter = addr.addr;
    s->relay_odid = (uint32_t)odid.u;
}

static void apply_options(fk__col_codec_ctx *cx, ipx_state *s, const fk__col_hdr *hdr,
                          const fk_ipfix_record *rec)
{
    fk_ipfix_value v;
    if (fk_template_get_scope_count(rec->tmpl) == 1 && fk_template_get_field_count(rec->tmpl) == 2)
        learn_relay(s, rec);
    if (fk__ipfix_record_lookup(rec, 0, 305, &v) == 0 && v.u > 0 && v.u <= UINT32_MAX) {
        s->sampling = (uint32_t)v.u;
        s->sampling_serial = hdr->serial;
    } else if (fk__ipfix_record_lookup(rec, 0, 34, &v) == 0 && v.u > 0 && v.u <= UINT32_MAX) {
        s->sampling = (uint32_t)v.u;
        s->sampling_serial = hdr->serial;
    }
    if (fk__ipfix_record_lookup(rec, 0, 160, &v) == 0 && v.i > 0) {
        fk_ipfix_decoder_set_sys_init(cx->dec, s->session, s->odid, v.i);
        s->sys_init_serial = hdr->serial;
        s->seen_sys_init = v.i;
    }
}

static unsigned tmpl_scan(const fk__col_codec_ctx *cx, ipx_tmpl *t, const fk_template *tmpl,
                          fk__col_ipfix_at *own, const fk__col_ipfix_at **at);

/* What the set's template carries beyond the plan, scanned once per
 * template object: exporters that send a few records per set and their
 * templates in every message (softflowd) paid a scan per set. */
static unsigned set_scan(const fk__col_codec_ctx *cx, ipx_state *s, uint16_t set_id,
                         const fk_template *tmpl, fk__col_ipfix_at *own,
                         const fk__col_ipfix_at **at)
{
    return tmpl_scan(cx, fk__col_ipfix_find(s, set_id), tmpl, own, at);
}

/* set_scan with the domain's entry t of the template (NULL: none). */
static unsigned tmpl_scan(const fk__col_codec_ctx *cx, ipx_tmpl *t, const fk_template *tmpl,
                          fk__col_ipfix_at *own, const fk__col_ipfix_at **at)
{
    if (!t) {
        fk__col_ipfix_fields_at(tmpl, own);
        *at = own;
        return fk__col_ipfix_scan(cx, tmpl);
    }
    if (t->scan_of != tmpl) {
        t->scan = fk__col_ipfix_scan(cx, tmpl);
        fk__col_ipfix_fields_at(tmpl, &t->at);
        t->scan_of = tmpl;
    }
    *at = &t->at;
    return t->scan;
}

/* Ops whose value needs the decoder's state for the domain: sysUpTime
 * times (its boot time) and the boot time itself. */
#define DIRECT_NEEDS_DECODER                                                                       \
    ((1ull << FK__OP_START_UPTIME) | (1ull << FK__OP_END_UPTIME) | (1ull << FK__OP_SYS_INIT_MS))

/* Where the next record is decoded: the collector's batch slot
 * (fk__col_flowbuf), else the context's own. */
static inline fk_flow *flow_slot(fk__col_codec_ctx *cx)
{
    return cx->out->next;
}

/* The direct path (cx->direct): a data set of a fixed-length data template
 * whose records are flows the plan alone gives (nothing that
 * fk__col_ipfix_scan finds, no sysUpTime times, no relayed origin), the set
 * a whole number of records plus zero padding, is turned into flows
 * straight from the plan: the same flows as the decoder's walk below
 * gives, without wrapping the set into a message and walking it record by
 * record. Returns 1 when it took the set (records emitted), 0 to decode it. */
static int direct(fk__col_codec_ctx *cx, ipx_state *s, const fk__col_hdr *hdr, uint16_t set_id,
                  const uint8_t *body, size_t len, fk__col_emit_fn emit, void *user,
                  uint32_t *records)
{
    const fk_template *tmpl;
    if (s->relayed ||
        fk_template_cache_find(cx->cache, s->session, hdr->odid, set_id, &tmpl) != FK_OK)
        return 0;
    const fk__plan *pl = tmpl->plan;
    fk__col_ipfix_at own;
    const fk__col_ipfix_at *at;
    if (tmpl->scope_count > 0 || pl->fixed_len == 0 || (pl->opmask & DIRECT_NEEDS_DECODER) ||
        set_scan(cx, s, set_id, tmpl, &own, &at) != 0)
        return 0;
    size_t n = len / pl->fixed_len, used = n * pl->fixed_len;
    for (size_t i = used; i < len; i++)
        if (body[i] != 0)
            return 0; /* not padding: the decoder reports it */
    fk_ipfix_time_ctx tc = {(int64_t)hdr->export_secs * 1000000000ll, 0};
    for (size_t i = 0; i < n; i++) {
        fk_flow *f = flow_slot(cx);
        fk__plan_to_flow(pl, body + i * pl->fixed_len, pl->fixed_offsets, &tc, f);
        /* as fk_ipfix_record_to_flow and the walk below */
        f->version = FK_IPFIX_VERSION;
        f->odid = hdr->odid;
        f->present |= FK_FLOW_HAS_EXPORTER;
        if (!(f->present & FK_FLOW_HAS_SAMPLING) && s->sampling) {
            f->sampling = s->sampling;
            f->present |= FK_FLOW_HAS_SAMPLING;
        }
        emit(user, f);
        (*records)++;
    }
    return 1;
}

int fk__col_ipfix_direct(fk__col_codec_ctx *cx, void *state, const fk__col_hdr *hdr,
                         uint16_t set_id, const uint8_t *body, size_t len, fk__col_direct *out)
{
    ipx_state *s = state;
    const fk_template *tmpl;
    ipx_tmpl *t;
    out->uncompiled = false;
    /* What direct() takes, no more: the flows must be the ones it gives. */
    if (!cx->direct || s->relayed || len + 20 > 65535 || !(t = fk__col_ipfix_find(s, set_id)) ||
        fk_template_cache_find(cx->cache, s->session, hdr->odid, set_id, &tmpl) != FK_OK)
        return FK_EUNSUPPORTED;
    const fk__plan *pl = tmpl->plan;
    fk__col_ipfix_at own;
    const fk__col_ipfix_at *at;
    if (tmpl->scope_count > 0 || pl->fixed_len == 0 || (pl->opmask & DIRECT_NEEDS_DECODER) ||
        tmpl_scan(cx, t, tmpl, &own, &at) != 0)
        return FK_EUNSUPPORTED;
    if (t->rp_of != tmpl) {
        t->rp_why = fk__recplan_compile(pl, &t->rp);
        t->rp_of = tmpl;
        out->uncompiled = t->rp_why != FK__RECPLAN_OK;
    }
    if (t->rp_why != FK__RECPLAN_OK)
        return FK_EUNSUPPORTED;
    size_t n = len / pl->fixed_len;
    for (size_t i = n * pl->fixed_len; i < len; i++)
        if (body[i] != 0)
            return FK_EUNSUPPORTED; /* not padding: the decoder reports it */
    s->seen_sys_init = 0;           /* as data() */
    out->plan = &t->rp;
    out->records = (uint32_t)n;
    out->sampling = s->sampling;
    return FK_OK;
}

int fk__col_ipfix_data(fk__col_codec_ctx *cx, void *state, const fk__col_hdr *hdr, uint16_t set_id,
                       const uint8_t *body, size_t len, fk__col_emit_fn emit,
                       fk__col_ifname_fn ifname, void *user, uint32_t *records, uint32_t *options)
{
    ipx_state *s = state;
    *records = 0;
    *options = 0;
    s->seen_sys_init = 0;
    if (len + 20 > 65535)
        return FK_EMALFORMED;
    if (cx->direct && direct(cx, s, hdr, set_id, body, len, emit, user, records))
        return FK_OK;
    size_t n = fk__col_ipfix_wrap(cx, hdr, set_id, body, len);
    int rc = fk_ipfix_decoder_begin(cx->dec, s->session, cx->scratch, n, NULL);
    if (rc)
        return FK_EMALFORMED;
    fk_ipfix_item it;
    int scan = -1; /* fk__col_ipfix_scan of the set's template */
    fk__col_ipfix_at own;
    const fk__col_ipfix_at *at = NULL; /* its field indexes */
    while ((rc = fk_ipfix_decoder_next(cx->dec, &it)) == 1) {
        if (it.kind == FK_IPFIX_ITEM_NO_TEMPLATE)
            return FK_ENOTEMPLATE;
        if (it.kind != FK_IPFIX_ITEM_RECORD)
            continue;
        if (it.record.is_options) {
            apply_options(cx, s, hdr, &it.record);
            fk__col_ipfix_report_ifname(&it.record, ifname, user);
            (*options)++;
            continue;
        }
        fk_flow *f = flow_slot(cx);
        if (fk_ipfix_record_to_flow(&it.record, f) != FK_OK)
            return FK_EMALFORMED;
        if (scan < 0) /* one template per data set */
            scan = (int)set_scan(cx, s, set_id, it.record.tmpl, &own, &at);
        if (scan & FK__COL_IPFIX_EXTRAS) {
            fk__col_ipfix_process_fields(cx, &it.record, f);
            fk__col_ipfix_event_fields(cx, &it.record, f);
            fk__col_ipfix_tunnel_fields(cx, &it.record, f);
            fk__col_ipfix_tag_fields(cx, &it.record, f);
            if (f->user || f->exe || f->tags)
                cx->out->ends = true; /* they point into cx */
        }
        if (scan & FK__COL_IPFIX_ORIGIN)
            fk__col_ipfix_record_origin(&it.record, at, f);
        else if (s->relayed) {
            f->exporter = s->relay_exporter;
            f->odid = s->relay_odid;
            f->present |= FK__FLOW_OWN_EXPORTER | FK__FLOW_OWN_ODID;
        }
        fk_ipfix_value v; /* flow records may carry the boot time too (nProbe, YAF) */
        if ((scan & FK__COL_IPFIX_BOOT) && at->boot >= 0 &&
            fk_ipfix_record_get_field(&it.record, (uint16_t)at->boot, &v) == 0 && v.i > 0)
            s->seen_sys_init = v.i;
        if (!(f->present & FK_FLOW_HAS_SAMPLING) && s->sampling) {
            f->sampling = s->sampling;
            f->present |= FK_FLOW_HAS_SAMPLING;
        }
        emit(user, f);
        (*records)++;
    }
    return rc == 0 ? FK_OK : rc == FK_ENOMEM ? FK_ENOMEM : FK_EMALFORMED;
}

int fk__col_ipfix_raw(fk__col_codec_ctx *cx, void *state, uint16_t set_id, const uint8_t *body,
                      size_t len, unsigned flags, int64_t end_limit_ns, fk__col_raw *out)
{
    ipx_state *s = state;
    ipx_tmpl *t = fk__col_ipfix_find(s, set_id);
    const fk_template *tmpl;
    if (!t || set_id == 65535 ||
        fk_template_cache_find(cx->cache, s->session, s->odid, set_id, &tmpl) != FK_OK)
        return FK_EUNSUPPORTED;
    /* Planned once per definition (the layout hash tells the output
     * whether its fields changed); identical refreshes keep the plan. */
    if (t->raw_of != tmpl) {
        (void)fk__col_raw_analyze(tmpl, cx->pen, &t->raw_plan);
        t->raw_of = tmpl;
    }
    const fk__col_raw_plan *pl = &t->raw_plan;
    if (t->options && !pl->ok)
        s->options_not_stored = true; /* a reader of the file will not learn it */
    if (!pl->ok || (pl->reverse && !(flags & FK__COL_RAW_BIFLOW)) ||
        (!pl->options && s->sampling && !pl->sampling && s->options_not_stored))
        return FK_EUNSUPPORTED;
    /* What is left after whole records is padding (RFC 7011 3.3.1). */
    out->tmpl = tmpl;
    out->layout = pl->layout;
    out->record_len = pl->record_len;
    out->options = pl->options;
    out->records = (uint32_t)(len / pl->record_len);
    out->late = pl->options ? 0 : fk__col_raw_late(pl, body, out->records, end_limit_ns);
    if (!pl->options)
        s->seen_sys_init = 0;
    return FK_OK;
}

int64_t fk__col_ipfix_sys_init(void *state)
{
    const ipx_state *s = state;
    return s->seen_sys_init;
}
