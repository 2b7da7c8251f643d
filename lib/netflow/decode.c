/* NetFlow datagram decoding: v1/v5/v7 through the fixed parser, v9 flowset
 * by flowset (templates, options templates, data) within its scope, with
 * sequence tracking per scope. */
#include <string.h>

#include "core/error.h"
#include "netflow/nf_internal.h"
#include "netflow/session_int.h"

static int template_flowset(decode_ctx *c, const uint8_t *p, size_t n)
{
    size_t pos = 0;
    while (n - pos >= 4) {
        uint16_t id = fk__nf_rd16(p + pos);
        uint16_t count = fk__nf_rd16(p + pos + 2);
        if (id == 0 && fk__nf_all_zero(p + pos, n - pos))
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
        int rc = fk__nf_tpl_compile(&t, id, false, p + pos + 4, 0, count);
        if (rc)
            return rc;
        rc = fk__nf_tpl_store(c->h, c->scope, t);
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
        if (id == 0 && fk__nf_all_zero(p + pos, n - pos))
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
        int rc = fk__nf_tpl_compile(&t, id, true, p + pos + 6, slen / 4u, (slen + olen) / 4u);
        if (rc)
            return rc;
        rc = fk__nf_tpl_store(c->h, c->scope, t);
        if (rc)
            return rc;
        c->h->st.options_templates++;
        pos += need;
    }
    return 0;
}

static int data_flowset(decode_ctx *c, uint16_t id, const uint8_t *p, size_t n)
{
    const nf_template *t = fk__nf_tpl_find(c->scope, id, NULL);
    if (!t) {
        c->h->st.no_template++;
        return 0;
    }
    for (size_t pos = 0; n - pos >= t->record_len; pos += t->record_len) {
        int rc =
            t->options ? fk__nf_deliver_options(c, t, p + pos) : fk__nf_deliver_flow(c, t, p + pos);
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
    nf_scope *scope = fk__nf_scope_get(h, exporter, port, hdr.source_id);
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
    nf_scope *scope = fk__nf_scope_get(h, exporter, port, hdr.source_id);
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
    case 6:
    case 7:
        return decode_fixed(h, exporter, exporter_port, b, len, cb, user);
    case 9:
        return decode_v9(h, exporter, exporter_port, b, len, cb, user);
    default:
        h->st.unsupported++;
        return fk__error(FK_EUNSUPPORTED, "netflow: version %u is not NetFlow 1, 5, 6, 7 or 9",
                         version);
    }
}
