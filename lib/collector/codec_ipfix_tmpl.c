/* The IPFIX codec's template half: template and options template sets
 * (RFC 7011 section 8) decoded into the library's template cache, with the
 * domain's own record of each template (definition time and message,
 * the octets of the definition, so that the refresh most UDP exporters send
 * in every message is recognised without decoding it), withdrawals, the
 * per-exporter cap, expiry of UDP templates and what an exporter restart
 * forgets. The domain state is in codec_ipfix_int.h. */
#include <flowkit/ipfix.h>
#include <flowkit/template.h>
#include <string.h>

#include "collector/codec_ipfix_int.h"
#include "core/alloc.h"
#include "core/error.h"
#include "core/bytes.h"

static void forget(ipx_state *s, size_t i)
{
    fk__free(s->t[i].def);
    fk__u64map_del(&s->index, (uint64_t)s->t[i].id + 1);
    s->t[i] = s->t[--s->n];
    if (i < s->n)
        (void)fk__u64map_put(&s->index, (uint64_t)s->t[i].id + 1, i); /* replaces: no allocation */
}

static void withdrawn(ipx_state *s, uint16_t id, fk__col_tmpl_fn fn, void *user)
{
    /* 2 = every data template, 3 = every options template of the domain. */
    for (size_t i = 0; i < s->n;) {
        bool match = id == FK_IPFIX_SET_TEMPLATE           ? !s->t[i].options
                     : id == FK_IPFIX_SET_OPTIONS_TEMPLATE ? s->t[i].options
                                                           : s->t[i].id == id;
        if (match) {
            fn(user, s->t[i].id, FK__TMPL_WITHDRAWN);
            forget(s, i);
        } else {
            i++;
        }
    }
}

/* Length of the template (or withdrawal) record at body[0..avail) of a
 * template set (options: an options template set), as the decoder reads
 * it; 0 when the rest is padding or too short to be a record (the decoder
 * judges it). *id and *fields are the record's template id and field count. */
static size_t template_record_len(const uint8_t *body, size_t avail, bool options, uint16_t *id,
                                  uint16_t *fields)
{
    if (avail < 4)
        return 0;
    *id = fk__get16(body);
    *fields = fk__get16(body + 2);
    if (*fields == 0)
        return 4; /* withdrawal */
    size_t p = options ? 6 : 4;
    for (uint16_t i = 0; i < *fields; i++) {
        if (avail < p + 4)
            return 0;
        p += (fk__get16(body + p) & 0x8000u) ? 8 : 4;
    }
    return p <= avail ? p : 0;
}

/* A template record with the octets of the definition held: the template
 * is as it was, only its definition time and message are new (what the
 * decoder and the cache would do with it, without decoding it). */
static bool refresh(ipx_state *s, const fk__col_hdr *hdr, bool options, const uint8_t *rec,
                    size_t len, uint16_t id, int64_t now_ns)
{
    ipx_tmpl *t = fk__col_ipfix_find(s, id);
    if (!t || !t->def || t->def_len != len || t->def_options != options ||
        memcmp(t->def, rec, len) != 0)
        return false;
    t->defined_ns = now_ns;
    t->serial = hdr->serial;
    return true;
}

/* Keep the octets of a template record the cache just took in, for
 * refresh(); without memory the next refresh is decoded in full. */
static void keep_definition(ipx_tmpl *t, bool options, const uint8_t *rec, size_t len)
{
    if (!t->def || t->def_len < len) {
        fk__free(t->def);
        t->def = fk__malloc(len);
        t->def_len = 0;
        if (!t->def)
            return;
    }
    memcpy(t->def, rec, len);
    t->def_len = (uint16_t)len;
    t->def_options = options;
}

/* Decode one piece of a template set (one record, or what is left) through
 * the library's decoder; tells fn what became of each template. whole: the
 * piece is one template record, kept for refresh() once the cache took it. */
static int decode_templates(fk__col_codec_ctx *cx, ipx_state *s, const fk__col_hdr *hdr,
                            uint16_t set_id, const uint8_t *body, size_t len, bool whole,
                            int64_t now_ns, size_t *room, fk__col_tmpl_fn fn, void *user)
{
    bool options_set = set_id == FK_IPFIX_SET_OPTIONS_TEMPLATE;
    size_t n = fk__col_ipfix_wrap(cx, hdr, set_id, body, len);
    int rc = fk_ipfix_decoder_begin(cx->dec, s->session, cx->scratch, n, NULL);
    if (rc)
        return FK_EMALFORMED;
    fk_ipfix_item it;
    while ((rc = fk_ipfix_decoder_next(cx->dec, &it)) == 1) {
        if (it.kind == FK_IPFIX_ITEM_TEMPLATE) {
            bool options = it.tmpl && fk_template_get_scope_count(it.tmpl) > 0;
            ipx_tmpl *t = fk__col_ipfix_find(s, it.template_id);
            if (t) {
                t->defined_ns = now_ns;
                t->serial = hdr->serial;
                t->options = options;
                if (!it.tmpl || it.tmpl != t->scan_of)
                    t->scan_of = NULL;
                t->raw_of = NULL; /* identical octets took refresh() instead */
                t->rp_of = NULL;  /* a new definition: planned again at its first set */
                if (whole)
                    keep_definition(t, options_set, body, len);
                fn(user, it.template_id, FK__TMPL_REPLACED);
                continue;
            }
            if (s->n == s->cap) {
                size_t cap = s->cap ? s->cap * 2 : 8;
                ipx_tmpl *nt = fk__reallocarray(s->t, cap, sizeof *nt);
                if (!nt) {
                    /* Without a record of it, it could never expire: drop it. */
                    fk_template_cache_withdraw(cx->cache, s->session, s->odid, it.template_id);
                    return fk__error(FK_ENOMEM, "collector: out of memory");
                }
                s->t = nt;
                s->cap = cap;
            }
            if (fk__u64map_put(&s->index, (uint64_t)it.template_id + 1, s->n) != FK_OK) {
                fk_template_cache_withdraw(cx->cache, s->session, s->odid, it.template_id);
                return fk__error(FK_ENOMEM, "collector: out of memory");
            }
            if (s->n == 0 || now_ns < s->oldest_ns)
                s->oldest_ns = now_ns;
            s->t[s->n++] = (ipx_tmpl){.id = it.template_id,
                                      .options = (uint8_t)options,
                                      .defined_ns = now_ns,
                                      .serial = hdr->serial};
            if (whole)
                keep_definition(&s->t[s->n - 1], options_set, body, len);
            if (*room)
                (*room)--;
            fn(user, it.template_id, FK__TMPL_ADDED);
        } else if (it.kind == FK_IPFIX_ITEM_WITHDRAWAL) {
            size_t before = s->n;
            withdrawn(s, it.template_id, fn, user);
            *room += before - s->n; /* what was withdrawn makes room */
        }
    }
    if (rc == FK_ERANGE) {
        /* The cache's own bound (over all sessions) refused it. */
        fn(user, it.template_id, FK__TMPL_REFUSED);
        return FK_OK;
    }
    return rc == 0 ? FK_OK : rc == FK_ENOMEM ? FK_ENOMEM : FK_EMALFORMED;
}

int fk__col_ipfix_templates(fk__col_codec_ctx *cx, void *state, const fk__col_hdr *hdr,
                            uint16_t set_id, const uint8_t *body, size_t len, int64_t now_ns,
                            size_t room, fk__col_tmpl_fn fn, void *user)
{
    ipx_state *s = state;
    if (len + 20 > 65535)
        return FK_EMALFORMED;
    /* The exporter's cap (room: templates it may still add) is checked
     * first, for each template alone: one that would exceed it is counted
     * and skipped without being decoded or reaching the cache. */
    bool options = set_id == FK_IPFIX_SET_OPTIONS_TEMPLATE;
    size_t pos = 0;
    while (pos < len) {
        uint16_t id = 0, fields = 0;
        size_t rlen = template_record_len(body + pos, len - pos, options, &id, &fields);
        bool whole = rlen != 0 && fields > 0; /* one template record, not a withdrawal */
        if (rlen == 0)
            rlen = len - pos; /* padding, or a record the decoder will refuse */
        else if (fields > 0 && room == 0 && !fk__col_ipfix_find(s, id)) {
            fn(user, id, FK__TMPL_REFUSED);
            pos += rlen;
            continue;
        } else if (whole && refresh(s, hdr, options, body + pos, rlen, id, now_ns)) {
            fn(user, id, FK__TMPL_REPLACED);
            pos += rlen;
            continue;
        }
        int rc =
            decode_templates(cx, s, hdr, set_id, body + pos, rlen, whole, now_ns, &room, fn, user);
        if (rc)
            return rc;
        pos += rlen;
    }
    return FK_OK;
}

void fk__col_ipfix_expire(fk__col_codec_ctx *cx, void *state, int64_t cutoff_ns, fk__col_tmpl_fn fn,
                          void *user)
{
    ipx_state *s = state;
    /* Called for every domain at every tick: nothing to look at until the
     * oldest definition is due (refreshes only make templates younger). */
    if (s->n == 0 || cutoff_ns <= s->oldest_ns)
        return;
    int64_t oldest = INT64_MAX;
    for (size_t i = 0; i < s->n;) {
        if (s->t[i].defined_ns < cutoff_ns) {
            fk_template_cache_withdraw(cx->cache, s->session, s->odid, s->t[i].id);
            fn(user, s->t[i].id, FK__TMPL_WITHDRAWN);
            forget(s, i);
        } else {
            if (s->t[i].defined_ns < oldest)
                oldest = s->t[i].defined_ns;
            i++;
        }
    }
    s->oldest_ns = oldest;
}

void fk__col_ipfix_restart(fk__col_codec_ctx *cx, void *state, uint64_t serial, fk__col_tmpl_fn fn,
                           void *user)
{
    ipx_state *s = state;
    for (size_t i = 0; i < s->n;) {
        if (s->t[i].serial != serial) {
            fk_template_cache_withdraw(cx->cache, s->session, s->odid, s->t[i].id);
            fn(user, s->t[i].id, FK__TMPL_WITHDRAWN);
            forget(s, i);
        } else {
            i++;
        }
    }
    if (s->sampling_serial != serial)
        s->sampling = 0;
    if (s->sys_init_serial != serial)
        fk_ipfix_decoder_set_sys_init(cx->dec, s->session, s->odid, 0);
}
