/* NetFlow v9 record decoding: a data record through its template's
 * operations into fk_flow (flow records) or fk_netflow_options (options
 * records, whose samplers and interface names the scope learns), then to
 * the caller's callback. */
#include <string.h>

#include "netflow/nf_internal.h"
#include "netflow/session_int.h"

/* Templates may carry both an IPv4 and an IPv6 address pair, one of them
 * zero (Juniper, Cisco with one template for both families). The family is
 * chosen once per record, never per field: the non-zero pair (IPv4 first),
 * else the pair present. Templates with an IPFIX view get the full rule
 * (ipVersion, repeated elements) from fk__plan_tuple() instead. */
static void set_addrs(fk_flow *f, const uint8_t *const a4[2], const uint8_t *const a6[2])
{
    bool nz4 = (a4[0] && !fk__nf_all_zero(a4[0], 4)) || (a4[1] && !fk__nf_all_zero(a4[1], 4));
    bool nz6 = (a6[0] && !fk__nf_all_zero(a6[0], 16)) || (a6[1] && !fk__nf_all_zero(a6[1], 16));
    bool has4 = a4[0] || a4[1];
    bool v6 = nz4 || nz6 ? !nz4 : !has4;
    const uint8_t *const *a = v6 ? a6 : a4;
    fk_addr *out[2] = {&f->src, &f->dst};
    for (int i = 0; i < 2; i++) {
        memset(out[i], 0, sizeof *out[i]);
        if (!a[i])
            continue;
        out[i]->family = v6 ? 6 : 4;
        memcpy(out[i]->bytes, a[i], v6 ? 16 : 4);
    }
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

int fk__nf_deliver_flow(decode_ctx *c, const nf_template *t, const uint8_t *r)
{
    fk_flow f;
    memset(&f, 0, sizeof f);
    f.version = 9;
    uint64_t start = 0, end = 0, sampler_id = 0, icmp_tc = 0;
    uint8_t start_form = TF_NONE, end_form = TF_NONE;
    int64_t init_ms = 0;
    bool have_init = false, have_sampler = false, have_tc = false, have_type = false;
    uint64_t icmp_type = 0, icmp_code = 0;
    const uint8_t *a4[2] = {NULL, NULL}, *a6[2] = {NULL, NULL};
    for (size_t i = 0; i < t->nops; i++) {
        const nf_op *op = &t->ops[i];
        const uint8_t *p = r + op->offset;
        uint64_t v = 0;
        if (op->kind != OP_SRC4 && op->kind != OP_DST4 && op->kind != OP_SRC6 &&
            op->kind != OP_DST6)
            v = fk__nf_rdn(p, op->length);
        switch (op->kind) {
        case OP_SRC4:
            a4[0] = a4[0] ? a4[0] : p;
            break;
        case OP_DST4:
            a4[1] = a4[1] ? a4[1] : p;
            break;
        case OP_SRC6:
            a6[0] = a6[0] ? a6[0] : p;
            break;
        case OP_DST6:
            a6[1] = a6[1] ? a6[1] : p;
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
        case OP_SRC_AS:
            f.src_as = (uint32_t)v;
            break;
        case OP_DST_AS:
            f.dst_as = (uint32_t)v;
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
    set_addrs(&f, a4, a6);
    if (t->ipx)
        fk__plan_tuple(t->ipx->plan, r, t->ipx->plan->fixed_offsets, &f);
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
        const nf_sampler *s = have_sampler ? fk__nf_sampler_find(c->scope, sampler_id) : NULL;
        if (!s)
            s = fk__nf_sampler_find(c->scope, 0);
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

int fk__nf_deliver_options(decode_ctx *c, const nf_template *t, const uint8_t *r)
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
        fk__nf_learn_sampler(c->h, c->scope,
                             (o.present & FK_NETFLOW_OPT_SAMPLER_ID) ? o.sampler_id : 0,
                             o.sampling_interval);
    if ((o.present & FK_NETFLOW_OPT_IF_NAME) && (o.present & FK_NETFLOW_OPT_IFINDEX))
        fk__nf_learn_ifname(c->h, c->scope, o.ifindex, o.if_name);
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
