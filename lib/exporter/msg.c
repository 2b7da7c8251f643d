/* IPFIX message and record building for the exporter. Element numbers are
 * from the IANA IPFIX registry; reverse elements from RFC 5103 (PEN 29305).
 * docs/exporter-elements.md lists every template. */
#include "exporter/msg.h"

#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/bytes.h"
#include "ipfix/flow_template.h"

/* The parts of flowkit's template description (ipfix/flow_template.h)
 * that a built-in variant is made of: what a probe sees (tos, vlan). */
static unsigned variant_parts(unsigned mask)
{
    return FK__FT_TOS_VLAN | ((mask & FK__TMPL_V6) ? FK__FT_V6 : 0) |
           ((mask & FK__TMPL_PROC) ? FK__FT_PROCESS : 0) |
           ((mask & FK__TMPL_REV) ? FK__FT_REVERSE : 0) |
           ((mask & FK__TMPL_EVENT) ? FK__FT_EVENT : 0) |
           ((mask & FK__TMPL_ICMP) ? FK__FT_REV_ICMP : 0) |
           ((mask & FK__TMPL_DIR) ? FK__FT_DIRECTION : 0) |
           ((mask & FK__TMPL_TUNNEL) ? FK__FT_TUNNEL : 0) |
           ((mask & FK__TMPL_TUNNEL_V6) ? FK__FT_TUNNEL_V6 : 0) |
           ((mask & FK__TMPL_TAGS) ? FK__FT_TAGS : 0);
}

size_t fk__exp_builtin_fields(unsigned mask, uint32_t pen, fk_field_spec *out, size_t cap)
{
    return fk__ft_fields(out, cap, variant_parts(mask), pen);
}

int fk__exp_template_init(fk__exp_template *t, uint16_t id, const fk_field_spec *fields,
                          size_t count)
{
    memset(t, 0, sizeof *t);
    if (count == 0 || count > 512)
        return fk__error(FK_ERANGE, "exporter: template %u has %zu fields, expected [1, 512]", id,
                         count);
    t->fields = fk__calloc(count, sizeof *fields);
    if (!t->fields)
        return fk__error(FK_ENOMEM, "exporter: out of memory for template %u", id);
    t->id = id;
    t->nfields = (uint16_t)count;
    for (size_t i = 0; i < count; i++) {
        if (fields[i].length == 0 || fields[i].id == 0 || fields[i].id > 0x7fff ||
            fields[i].flags != 0) {
            fk__free(t->fields);
            t->fields = NULL;
            return fk__error(FK_EINVAL,
                             "exporter: template %u field %zu: id %u length %u is not valid", id, i,
                             fields[i].id, fields[i].length);
        }
        t->fields[i] = fields[i];
        if (fields[i].length == FK__IPFIX_VARLEN) {
            t->variable = true;
            t->min_len += 1;
        } else {
            t->min_len += fields[i].length;
        }
    }
    return FK_OK;
}

void fk__exp_template_free(fk__exp_template *t)
{
    if (t) {
        fk__free(t->fields);
        t->fields = NULL;
    }
}

size_t fk__exp_template_wire_len(const fk__exp_template *t)
{
    size_t n = 4;
    for (size_t i = 0; i < t->nfields; i++)
        n += t->fields[i].pen ? 8 : 4;
    return n;
}

int fk__exp_record_check(const fk__exp_template *t, const uint8_t *rec, size_t len)
{
    size_t off = 0;
    for (size_t i = 0; i < t->nfields; i++) {
        size_t flen = t->fields[i].length;
        if (flen == FK__IPFIX_VARLEN) {
            if (off >= len)
                goto bad;
            flen = rec[off++];
            if (flen == 255) {
                if (off + 2 > len)
                    goto bad;
                flen = ((size_t)rec[off] << 8) | rec[off + 1];
                off += 2;
            }
        }
        if (flen > len - off)
            goto bad;
        off += flen;
    }
    if (off == len)
        return FK_OK;
bad:
    return fk__error(FK_EMALFORMED, "exporter: record of %zu bytes does not match template %u", len,
                     t->id);
}

void fk__exp_msg_reset(fk__exp_msg *m)
{
    m->len = FK__IPFIX_HDR_LEN;
    m->records = 0;
    m->set_off = 0;
    m->set_id = 0;
}

void fk__exp_msg_close(fk__exp_msg *m)
{
    if (m->set_off) {
        fk__put16(m->buf + m->set_off + 2, (uint16_t)(m->len - m->set_off));
        m->set_off = 0;
        m->set_id = 0;
    }
}

int fk__exp_msg_add(fk__exp_msg *m, uint16_t tid, const uint8_t *rec, size_t len)
{
    bool new_set = m->set_off == 0 || m->set_id != tid;
    size_t need = len + (new_set ? FK__IPFIX_SET_HDR_LEN : 0);
    if (need > m->cap - m->len)
        return FK_ENOSPACE;
    if (new_set) {
        fk__exp_msg_close(m);
        m->set_off = m->len;
        m->set_id = tid;
        fk__put16(m->buf + m->len, tid);
        fk__put16(m->buf + m->len + 2, 0);
        m->len += FK__IPFIX_SET_HDR_LEN;
    }
    memcpy(m->buf + m->len, rec, len);
    m->len += len;
    m->records++;
    return FK_OK;
}

void fk__exp_msg_header(uint8_t *buf, size_t len, uint32_t export_time, uint32_t seq, uint32_t odid)
{
    uint8_t *p = fk__put16(buf, FK__IPFIX_VERSION);
    p = fk__put16(p, (uint16_t)len);
    p = fk__put32(p, export_time);
    p = fk__put32(p, seq);
    fk__put32(p, odid);
}

size_t fk__exp_template_msg(uint8_t *buf, size_t cap, const fk__exp_template *const *templates,
                            size_t count, size_t first, size_t *next)
{
    size_t len = FK__IPFIX_HDR_LEN + FK__IPFIX_SET_HDR_LEN;
    size_t i = first;
    for (; i < count; i++) {
        const fk__exp_template *t = templates[i];
        size_t w = fk__exp_template_wire_len(t);
        if (w > cap - len)
            break;
        uint8_t *p = fk__put16(buf + len, t->id);
        p = fk__put16(p, t->nfields);
        for (size_t k = 0; k < t->nfields; k++) {
            const fk_field_spec *f = &t->fields[k];
            p = fk__put16(p, (uint16_t)(f->id | (f->pen ? 0x8000u : 0)));
            p = fk__put16(p, f->length);
            if (f->pen)
                p = fk__put32(p, f->pen);
        }
        len += w;
    }
    *next = i;
    if (i == first)
        return 0;
    fk__put16(buf + FK__IPFIX_HDR_LEN, FK__IPFIX_TEMPLATE_SET_ID);
    fk__put16(buf + FK__IPFIX_HDR_LEN + 2, (uint16_t)(len - FK__IPFIX_HDR_LEN));
    return len;
}

/* The process values as written: strings cut to the one-octet length form. */
static const fk__ft_process *proc_values(fk__ft_process *out, const fk_exporter_process *proc)
{
    if (!proc)
        return NULL;
    out->pid = proc->pid;
    out->uid = proc->uid;
    out->name = proc->name;
    out->user = proc->user;
    out->exe = proc->exe;
    out->name_len = proc->name ? strnlen(proc->name, FK__EXP_STR_MAX) : 0;
    out->user_len = proc->user ? strnlen(proc->user, FK__EXP_STR_MAX) : 0;
    out->exe_len = proc->exe ? strnlen(proc->exe, FK__EXP_STR_MAX) : 0;
    return out;
}

size_t fk__exp_encode_flow(uint8_t *out, const fk_flow *f, const fk_exporter_process *proc,
                           bool with_reverse, unsigned *mask)
{
    unsigned m = (f->src.family == 6 ? FK__TMPL_V6 : 0) | (proc ? FK__TMPL_PROC : 0) |
                 (with_reverse ? FK__TMPL_REV : 0) |
                 (with_reverse && (f->present & FK_FLOW_HAS_REV_ICMP) ? FK__TMPL_ICMP : 0);
    unsigned live = fk__ft_live_parts(f);
    m |= ((live & FK__FT_DIRECTION) ? FK__TMPL_DIR : 0) |
         ((live & FK__FT_TUNNEL) ? FK__TMPL_TUNNEL : 0) |
         ((live & FK__FT_TUNNEL_V6) ? FK__TMPL_TUNNEL_V6 : 0) |
         (fk__ft_tags_len(f) ? FK__TMPL_TAGS : 0);
    fk__ft_process pv;
    uint8_t *p = fk__ft_write(out, variant_parts(m), f, proc_values(&pv, proc));
    *mask = m;
    return (size_t)(p - out);
}

size_t fk__exp_encode_event(uint8_t *out, const fk_session_event *ev,
                            const fk_exporter_process *proc, const char *tags, unsigned *mask)
{
    fk_flow f;
    memset(&f, 0, sizeof f);
    f.src = ev->src;
    f.dst = ev->dst;
    f.src_port = ev->src_port;
    f.dst_port = ev->dst_port;
    f.proto = ev->proto;
    f.vlan = ev->vlan;
    f.end_ns = ev->time_ns;
    f.event = ev->kind; /* tcp_flags 0: the flag that made the event */
    f.tags = tags;
    unsigned m = FK__TMPL_EVENT | (ev->src.family == 6 ? FK__TMPL_V6 : 0) |
                 (proc ? FK__TMPL_PROC : 0) | (fk__ft_tags_len(&f) ? FK__TMPL_TAGS : 0);
    fk__ft_process pv;
    uint8_t *p = fk__ft_write(out, variant_parts(m), &f, proc_values(&pv, proc));
    *mask = m;
    return (size_t)(p - out);
}

int fk_exporter_register_elements(fk_ie_registry *reg, uint32_t pen)
{
    static const fk_ie elements[] = {
        {0, FK_EXPORTER_IE_PROCESS_ID, FK_IE_UNSIGNED32, FK_IE_SEM_IDENTIFIER, "processId", ""},
        {0, FK_EXPORTER_IE_PROCESS_NAME, FK_IE_STRING, FK_IE_SEM_DEFAULT, "processName", ""},
        {0, FK_EXPORTER_IE_PROCESS_EXE, FK_IE_STRING, FK_IE_SEM_DEFAULT, "processExecutable", ""},
        {0, FK_EXPORTER_IE_USER_ID, FK_IE_UNSIGNED32, FK_IE_SEM_IDENTIFIER, "userId", ""},
        {0, FK_EXPORTER_IE_EVENT_KIND, FK_IE_UNSIGNED8, FK_IE_SEM_IDENTIFIER, "sessionEventKind",
         ""},
        {0, FK_EXPORTER_IE_TUNNEL_TYPE, FK_IE_UNSIGNED8, FK_IE_SEM_IDENTIFIER, "tunnelType", ""},
        {0, FK_EXPORTER_IE_TUNNEL_SRC_V4, FK_IE_IPV4_ADDRESS, FK_IE_SEM_DEFAULT,
         "tunnelSourceIPv4Address", ""},
        {0, FK_EXPORTER_IE_TUNNEL_DST_V4, FK_IE_IPV4_ADDRESS, FK_IE_SEM_DEFAULT,
         "tunnelDestinationIPv4Address", ""},
        {0, FK_EXPORTER_IE_TUNNEL_SRC_V6, FK_IE_IPV6_ADDRESS, FK_IE_SEM_DEFAULT,
         "tunnelSourceIPv6Address", ""},
        {0, FK_EXPORTER_IE_TUNNEL_DST_V6, FK_IE_IPV6_ADDRESS, FK_IE_SEM_DEFAULT,
         "tunnelDestinationIPv6Address", ""},
        {0, FK_EXPORTER_IE_VNI, FK_IE_UNSIGNED32, FK_IE_SEM_IDENTIFIER, "virtualNetworkId", ""},
        {0, FK_EXPORTER_IE_TAGS, FK_IE_STRING, FK_IE_SEM_DEFAULT, "metadataTags", ""},
    };
    if (!reg)
        return fk__error(FK_EINVAL, "exporter: NULL registry");
    for (size_t i = 0; i < sizeof elements / sizeof elements[0]; i++) {
        fk_ie ie = elements[i];
        ie.pen = pen;
        int rc = fk_ie_registry_add(reg, &ie);
        if (rc)
            return rc;
    }
    return FK_OK;
}
