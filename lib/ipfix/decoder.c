/* IPFIX message decoder (RFC 7011): walks one message in a caller buffer,
 * validating every length before reading it; templates go to the cache,
 * data records come out with their compiled plan. */
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "ipfix/plan.h"
#include "core/bytes.h"

enum set_kind { SET_NONE, SET_TEMPLATE, SET_OPTIONS, SET_DATA };

typedef struct sys_init_entry {
    uint64_t session;
    uint32_t domain;
    int64_t ns;
} sys_init_entry;

struct fk_ipfix_decoder {
    fk_template_cache *cache;
    int own_cache;
    /* current message */
    int active;
    uint64_t session;
    const uint8_t *msg;
    size_t msg_len;
    size_t pos; /* next set header */
    fk_ipfix_header hdr;
    fk_ipfix_time_ctx time;
    /* current set */
    int kind;
    uint16_t set_id;
    size_t set_start;
    size_t cur; /* next record / template record */
    size_t set_end;
    const fk_template *tmpl;
    /* scratch */
    uint32_t *offsets; /* for varlen splits */
    size_t offsets_cap;
    fk_field_spec *specs;
    size_t specs_cap;
    sys_init_entry *inits;
    size_t ninits;
};

int fk_ipfix_decoder_create(fk_ipfix_decoder **out, fk_template_cache *cache)
{
    if (!out)
        return fk__error(FK_EINVAL, "ipfix decoder: NULL output");
    *out = NULL;
    fk_ipfix_decoder *d = FK__NEW(fk_ipfix_decoder);
    if (!d)
        return fk__error(FK_ENOMEM, "ipfix decoder: out of memory");
    if (cache) {
        d->cache = cache;
    } else {
        int rc = fk_template_cache_create(&d->cache, NULL);
        if (rc < 0) {
            fk__free(d);
            return rc;
        }
        d->own_cache = 1;
    }
    *out = d;
    return 0;
}

void fk_ipfix_decoder_destroy(fk_ipfix_decoder *d)
{
    if (!d)
        return;
    if (d->own_cache)
        fk_template_cache_destroy(d->cache);
    fk__free(d->offsets);
    fk__free(d->specs);
    fk__free(d->inits);
    fk__free(d);
}

fk_template_cache *fk_ipfix_decoder_get_cache(fk_ipfix_decoder *d)
{
    return d ? d->cache : NULL;
}

int fk_ipfix_decoder_set_sys_init(fk_ipfix_decoder *d, uint64_t session, uint32_t domain,
                                  int64_t sys_init_ns)
{
    if (!d)
        return fk__error(FK_EINVAL, "ipfix decoder: NULL handle");
    for (size_t i = 0; i < d->ninits; i++)
        if (d->inits[i].session == session && d->inits[i].domain == domain) {
            if (sys_init_ns == 0)
                d->inits[i] = d->inits[--d->ninits];
            else
                d->inits[i].ns = sys_init_ns;
            return 0;
        }
    if (sys_init_ns == 0)
        return 0;
    sys_init_entry *n = fk__reallocarray(d->inits, d->ninits + 1, sizeof *n);
    if (!n)
        return fk__error(FK_ENOMEM, "ipfix decoder: out of memory");
    d->inits = n;
    d->inits[d->ninits++] = (sys_init_entry){session, domain, sys_init_ns};
    return 0;
}

int fk_ipfix_parse_header(const uint8_t *msg, size_t len, fk_ipfix_header *out)
{
    if (!out || (!msg && len))
        return fk__error(FK_EINVAL, "ipfix: NULL argument");
    if (len < FK_IPFIX_HEADER_LEN)
        return fk__error(FK_ETRUNCATED, "ipfix: %zu octets cannot hold a message header", len);
    out->version = fk__get16(msg);
    out->length = fk__get16(msg + 2);
    out->export_time = fk__get32(msg + 4);
    out->sequence = fk__get32(msg + 8);
    out->domain = fk__get32(msg + 12);
    if (out->version != FK_IPFIX_VERSION)
        return fk__error(FK_EMALFORMED, "ipfix: version %u is not 10", (unsigned)out->version);
    if (out->length < FK_IPFIX_HEADER_LEN)
        return fk__error(FK_EMALFORMED, "ipfix: message length %u is below 16",
                         (unsigned)out->length);
    if (out->length > len)
        return fk__error(FK_ETRUNCATED, "ipfix: message length %u but only %zu octets",
                         (unsigned)out->length, len);
    return 0;
}

int fk_ipfix_decoder_begin(fk_ipfix_decoder *d, uint64_t session, const uint8_t *msg, size_t len,
                           fk_ipfix_header *hdr)
{
    if (!d)
        return fk__error(FK_EINVAL, "ipfix decoder: NULL handle");
    d->active = 0;
    int rc = fk_ipfix_parse_header(msg, len, &d->hdr);
    if (rc < 0)
        return rc;
    d->session = session;
    d->msg = msg;
    d->msg_len = d->hdr.length;
    d->pos = FK_IPFIX_HEADER_LEN;
    d->kind = SET_NONE;
    d->time.export_time_ns = (int64_t)d->hdr.export_time * 1000000000ll;
    d->time.sys_init_ns = 0;
    for (size_t i = 0; i < d->ninits; i++)
        if (d->inits[i].session == session && d->inits[i].domain == d->hdr.domain)
            d->time.sys_init_ns = d->inits[i].ns;
    d->active = 1;
    if (hdr)
        *hdr = d->hdr;
    return 0;
}

/* Stop the walk with an error naming where it happened. */
#define FAIL(d, code, ...) (((d)->active = 0), fk__error((code), __VA_ARGS__))

static int check_padding(fk_ipfix_decoder *d)
{
    for (size_t i = d->cur; i < d->set_end; i++)
        if (d->msg[i] != 0)
            return FAIL(d, FK_EMALFORMED,
                        "ipfix: set %u at offset %zu: %zu trailing octets are not zero padding "
                        "(set length not a whole number of records)",
                        (unsigned)d->set_id, d->set_start, d->set_end - d->cur);
    d->kind = SET_NONE;
    return 0;
}

static int ensure_specs(fk_ipfix_decoder *d, size_t n)
{
    if (n <= d->specs_cap)
        return 0;
    fk_field_spec *s = fk__reallocarray(d->specs, n, sizeof *s);
    if (!s)
        return FAIL(d, FK_ENOMEM, "ipfix decoder: out of memory");
    d->specs = s;
    d->specs_cap = n;
    return 0;
}

/* One template or options template record at d->cur. */
static int next_template(fk_ipfix_decoder *d, fk_ipfix_item *item)
{
    const uint8_t *m = d->msg;
    size_t avail = d->set_end - d->cur;
    int options = d->kind == SET_OPTIONS;
    uint16_t tid = fk__get16(m + d->cur);
    uint16_t count = fk__get16(m + d->cur + 2);
    size_t p = d->cur + 4;
    memset(item, 0, sizeof *item);
    item->set_id = d->set_id;
    item->template_id = tid;
    if (count == 0) {
        /* Withdrawal (RFC 7011 8.1): all data (2) / options (3) templates, or one id. */
        if (tid < FK_IPFIX_SET_DATA_MIN && tid != d->set_id)
            return FAIL(d, FK_EMALFORMED,
                        "ipfix: set %u at offset %zu: withdrawal of template id %u",
                        (unsigned)d->set_id, d->set_start, (unsigned)tid);
        (void)fk_template_cache_withdraw(d->cache, d->session, d->hdr.domain, tid);
        d->cur = p;
        item->kind = FK_IPFIX_ITEM_WITHDRAWAL;
        return 1;
    }
    if (tid < FK_IPFIX_SET_DATA_MIN)
        return FAIL(d, FK_EMALFORMED, "ipfix: set %u at offset %zu: template id %u is below 256",
                    (unsigned)d->set_id, d->set_start, (unsigned)tid);
    uint16_t scope = 0;
    if (options) {
        if (avail < 6)
            return FAIL(d, FK_EMALFORMED,
                        "ipfix: options template %u at offset %zu: no scope field count",
                        (unsigned)tid, d->cur);
        scope = fk__get16(m + p);
        p += 2;
        if (scope == 0 || scope > count)
            return FAIL(d, FK_EMALFORMED,
                        "ipfix: options template %u: scope field count %u not in 1..%u",
                        (unsigned)tid, (unsigned)scope, (unsigned)count);
    }
    /* Field count past the end of the set: every specifier takes >= 4 octets. */
    if ((size_t)count * 4 > d->set_end - p)
        return FAIL(d, FK_EMALFORMED,
                    "ipfix: template %u at offset %zu: %u fields do not fit in the %zu octets "
                    "left in the set",
                    (unsigned)tid, d->cur, (unsigned)count, d->set_end - p);
    int rc = ensure_specs(d, count);
    if (rc < 0)
        return rc;
    for (uint16_t i = 0; i < count; i++) {
        if (d->set_end - p < 4)
            return FAIL(d, FK_EMALFORMED, "ipfix: template %u: field %u runs past the set end",
                        (unsigned)tid, (unsigned)i);
        uint16_t id = fk__get16(m + p);
        fk_field_spec *s = &d->specs[i];
        s->length = fk__get16(m + p + 2);
        s->id = id & 0x7fffu;
        s->flags = 0;
        s->pen = 0;
        p += 4;
        if (id & 0x8000u) {
            if (d->set_end - p < 4)
                return FAIL(d, FK_EMALFORMED,
                            "ipfix: template %u: enterprise number of field %u runs past the set "
                            "end",
                            (unsigned)tid, (unsigned)i);
            s->pen = fk__get32(m + p);
            p += 4;
        }
    }
    const fk_template *t;
    rc =
        fk_template_cache_add(d->cache, d->session, d->hdr.domain, tid, d->specs, count, scope, &t);
    if (rc < 0) {
        d->active = 0;
        return rc;
    }
    d->cur = p;
    item->kind = FK_IPFIX_ITEM_TEMPLATE;
    item->tmpl = t;
    return 1;
}

static int ensure_offsets(fk_ipfix_decoder *d, size_t n)
{
    if (n <= d->offsets_cap)
        return 0;
    uint32_t *o = fk__reallocarray(d->offsets, n, sizeof *o);
    if (!o)
        return FAIL(d, FK_ENOMEM, "ipfix decoder: out of memory");
    d->offsets = o;
    d->offsets_cap = n;
    return 0;
}

int fk_ipfix_decoder_next(fk_ipfix_decoder *d, fk_ipfix_item *item)
{
    if (!d || !item)
        return fk__error(FK_EINVAL, "ipfix decoder: NULL argument");
    if (!d->active)
        return fk__error(FK_ESTATE, "ipfix decoder: no message being walked");
    const uint8_t *m = d->msg;
    for (;;) {
        if (d->kind == SET_DATA) {
            const fk__plan *plan = d->tmpl->plan;
            size_t avail = d->set_end - d->cur;
            if (avail < plan->min_len || avail == 0) {
                int rc = check_padding(d);
                if (rc < 0)
                    return rc;
                continue;
            }
            const uint32_t *offs;
            size_t rlen;
            if (!plan->fixed_len) {
                int rc = ensure_offsets(d, (size_t)plan->nfields + 1);
                if (rc < 0)
                    return rc;
            }
            if (fk__plan_split(plan, m + d->cur, avail, d->offsets, &offs, &rlen) < 0)
                return FAIL(d, FK_EMALFORMED,
                            "ipfix: data set %u at offset %zu: record at offset %zu runs past "
                            "the set end",
                            (unsigned)d->set_id, d->set_start, d->cur);
            item->kind = FK_IPFIX_ITEM_RECORD;
            item->set_id = d->set_id;
            item->template_id = d->set_id;
            item->tmpl = d->tmpl;
            item->set = NULL;
            item->set_len = 0;
            fk_ipfix_record *r = &item->record;
            r->tmpl = d->tmpl;
            r->data = m + d->cur;
            r->len = rlen;
            r->domain = d->hdr.domain;
            r->template_id = d->set_id;
            r->is_options = d->tmpl->scope_count > 0;
            r->version = FK_IPFIX_VERSION;
            r->time = d->time;
            r->offsets = offs;
            d->cur += rlen;
            return 1;
        }
        if (d->kind == SET_TEMPLATE || d->kind == SET_OPTIONS) {
            size_t min = d->kind == SET_OPTIONS ? 6 : 4;
            if (d->set_end - d->cur < min) {
                /* a lone withdrawal in an options set is 4 octets */
                if (d->kind == SET_OPTIONS && d->set_end - d->cur >= 4 &&
                    fk__get16(m + d->cur + 2) == 0)
                    return next_template(d, item);
                int rc = check_padding(d);
                if (rc < 0)
                    return rc;
                continue;
            }
            return next_template(d, item);
        }
        /* next set */
        if (d->pos == d->msg_len) {
            d->active = 0;
            return 0;
        }
        if (d->msg_len - d->pos < FK_IPFIX_SET_HEADER_LEN)
            return FAIL(d, FK_EMALFORMED,
                        "ipfix: %zu stray octets after the last set at offset %zu",
                        d->msg_len - d->pos, d->pos);
        uint16_t sid = fk__get16(m + d->pos);
        uint16_t slen = fk__get16(m + d->pos + 2);
        if (slen < FK_IPFIX_SET_HEADER_LEN)
            return FAIL(d, FK_EMALFORMED, "ipfix: set %u at offset %zu has length %u (< 4)",
                        (unsigned)sid, d->pos, (unsigned)slen);
        if (slen > d->msg_len - d->pos)
            return FAIL(d, FK_EMALFORMED,
                        "ipfix: set %u at offset %zu has length %u, past the message end (%zu "
                        "octets left)",
                        (unsigned)sid, d->pos, (unsigned)slen, d->msg_len - d->pos);
        d->set_id = sid;
        d->set_start = d->pos;
        d->cur = d->pos + FK_IPFIX_SET_HEADER_LEN;
        d->set_end = d->pos + slen;
        d->pos += slen;
        if (sid == FK_IPFIX_SET_TEMPLATE) {
            d->kind = SET_TEMPLATE;
        } else if (sid == FK_IPFIX_SET_OPTIONS_TEMPLATE) {
            d->kind = SET_OPTIONS;
        } else if (sid >= FK_IPFIX_SET_DATA_MIN) {
            if (fk_template_cache_find(d->cache, d->session, d->hdr.domain, sid, &d->tmpl) < 0) {
                memset(item, 0, sizeof *item);
                item->kind = FK_IPFIX_ITEM_NO_TEMPLATE;
                item->set_id = sid;
                item->template_id = sid;
                item->set = m + d->set_start;
                item->set_len = slen;
                return 1;
            }
            d->kind = SET_DATA;
        } else {
            return FAIL(d, FK_EMALFORMED, "ipfix: set id %u at offset %zu is reserved",
                        (unsigned)sid, d->set_start);
        }
    }
}

/* ------------------------------------------------------------ record access */

int fk_ipfix_record_get_field(const fk_ipfix_record *rec, uint16_t index, fk_ipfix_value *out)
{
    if (!out || !rec || !rec->tmpl)
        return fk__error(FK_EINVAL, "ipfix record: NULL argument");
    return fk__plan_value(rec->tmpl->plan, rec->data, rec->offsets, index, out);
}

int fk_ipfix_record_find_field(const fk_ipfix_record *rec, uint32_t pen, uint16_t id,
                               fk_ipfix_value *out)
{
    if (!out || !rec || !rec->tmpl)
        return fk__error(FK_EINVAL, "ipfix record: NULL argument");
    int rc = fk__ipfix_record_lookup(rec, pen, id, out);
    if (rc == FK_ENOTFOUND)
        return fk__error(FK_ENOTFOUND, "ipfix record: template %u has no element %u/%u",
                         (unsigned)rec->template_id, (unsigned)pen, (unsigned)id);
    return rc;
}

int fk__ipfix_record_lookup(const fk_ipfix_record *rec, uint32_t pen, uint16_t id,
                            fk_ipfix_value *out)
{
    int i = rec->tmpl ? fk_template_find_field(rec->tmpl, pen, id) : FK_ENOTFOUND;
    if (i < 0)
        return FK_ENOTFOUND; /* out untouched, as fk_ipfix_record_find_field leaves it */
    return fk__plan_value(rec->tmpl->plan, rec->data, rec->offsets, (uint16_t)i, out);
}

int fk_ipfix_record_find_nth_field(const fk_ipfix_record *rec, uint32_t pen, uint16_t id,
                                   unsigned nth, fk_ipfix_value *out)
{
    if (!out || !rec || !rec->tmpl)
        return fk__error(FK_EINVAL, "ipfix record: NULL argument");
    const fk__plan *plan = rec->tmpl->plan;
    id &= 0x7fffu;
    for (uint16_t i = 0; i < plan->nfields; i++)
        if (plan->fields[i].id == id && plan->fields[i].pen == pen && !plan->fields[i].v9_scope &&
            nth-- == 0)
            return fk__plan_value(plan, rec->data, rec->offsets, i, out);
    return fk__error(FK_ENOTFOUND, "ipfix record: template %u has fewer occurrences of %u/%u",
                     (unsigned)rec->template_id, (unsigned)pen, (unsigned)id);
}

int fk_ipfix_value_get_uint(const fk_ipfix_value *v, uint64_t *out)
{
    if (!v || !out || (v->len && !v->raw))
        return fk__error(FK_EINVAL, "ipfix: NULL argument");
    if (v->len == 0 || v->len > 8)
        return fk__error(FK_ETYPE, "ipfix: a value of %zu octets is not an unsigned integer",
                         v->len);
    uint64_t x = 0;
    for (size_t i = 0; i < v->len; i++)
        x = x << 8 | v->raw[i];
    *out = x;
    return 0;
}

int fk_ipfix_value_get_str(const fk_ipfix_value *v, char *buf, size_t size)
{
    if (!v || !buf || size == 0 || (v->len && !v->raw))
        return fk__error(FK_EINVAL, "ipfix: NULL argument or empty buffer");
    size_t n = v->len < size - 1 ? v->len : size - 1;
    const uint8_t *nul = n ? memchr(v->raw, 0, n) : NULL;
    if (nul)
        n = (size_t)(nul - v->raw);
    memcpy(buf, v->raw, n);
    buf[n] = '\0';
    return (int)(n > INT32_MAX ? INT32_MAX : n);
}

int fk_ipfix_record_to_flow(const fk_ipfix_record *rec, fk_flow *out)
{
    if (!out || !rec || !rec->tmpl)
        return fk__error(FK_EINVAL, "ipfix record: NULL argument");
    fk__plan_to_flow(rec->tmpl->plan, rec->data, rec->offsets, &rec->time, out);
    out->version = rec->version;
    out->odid = rec->domain;
    out->present |= FK_FLOW_HAS_EXPORTER;
    return 0;
}
