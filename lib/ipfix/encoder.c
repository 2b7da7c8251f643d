/* IPFIX message encoder (RFC 7011): writes messages into caller buffers up to
 * an MTU; template / options template / data sets; padding; sequence numbers
 * counting data records per observation domain. This file: the handle, its
 * templates (compiled for add_flow), messages and sets. Records field by
 * field are in encoder_record.c, records from an fk_flow in encoder_flow.c. */
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/params.h"
#include "ipfix/encoder_int.h"

static const fk_param_info enc_params[] = {
    {FK_IPFIX_ENC_MTU, "mtu", FK_PARAM_INT, 0, 64, 65535, 1400, 0, 0, 0, NULL, "bytes",
     "largest IPFIX message written"},
    {FK_IPFIX_ENC_PAD_SETS, "pad_sets", FK_PARAM_BOOL, 0, 0, 1, 0, 0, 0, 0, NULL, "",
     "pad sets to a multiple of 4 octets (only where padding cannot look like a record)"},
};

int fk_ipfix_encoder_create(fk_ipfix_encoder **out, const fk_ie_registry *reg)
{
    if (!out)
        return fk__error(FK_EINVAL, "ipfix encoder: NULL output");
    *out = NULL;
    fk_ipfix_encoder *e = FK__NEW(fk_ipfix_encoder);
    if (!e)
        return fk__error(FK_ENOMEM, "ipfix encoder: out of memory");
    int rc = fk__params_init(&e->params, "ipfix encoder", enc_params,
                             sizeof enc_params / sizeof enc_params[0]);
    if (rc < 0) {
        fk__free(e);
        return rc;
    }
    e->reg = reg;
    e->set_start = SIZE_MAX;
    *out = e;
    return 0;
}

static void free_tmpl(enc_tmpl *t)
{
    fk__template_free(t->t);
    fk__free(t->fix_off);
    fk__free(t->steps);
}

void fk_ipfix_encoder_destroy(fk_ipfix_encoder *e)
{
    if (!e)
        return;
    for (size_t i = 0; i < e->ntmpls; i++)
        free_tmpl(&e->tmpls[i]);
    fk__free(e->tmpls);
    fk__free(e->seqs);
    fk__free(e->vl_off);
    fk__free(e->vl_len);
    fk__free(e->pool);
    fk__params_free(&e->params);
    fk__free(e);
}

int fk_ipfix_encoder_set_int(fk_ipfix_encoder *e, int param, int64_t value)
{
    if (!e)
        return fk__error(FK_EINVAL, "ipfix encoder: NULL handle");
    return fk__params_set_int(&e->params, param, value);
}

int fk_ipfix_encoder_set_text(fk_ipfix_encoder *e, const char *name, const char *text)
{
    if (!e)
        return fk__error(FK_EINVAL, "ipfix encoder: NULL handle");
    return fk__params_set_text(&e->params, name, text);
}

int fk_ipfix_encoder_get_int(const fk_ipfix_encoder *e, int param, int64_t *out)
{
    if (!e || !out)
        return fk__error(FK_EINVAL, "ipfix encoder: NULL argument");
    return fk__params_get_int(&e->params, param, out);
}

const fk_param_info *fk_ipfix_encoder_params(size_t *count)
{
    if (count)
        *count = sizeof enc_params / sizeof enc_params[0];
    return enc_params;
}

int fk_ipfix_encoder_activate(fk_ipfix_encoder *e)
{
    if (!e)
        return fk__error(FK_EINVAL, "ipfix encoder: NULL handle");
    e->params.activated = true;
    return 0;
}

enc_tmpl *fk__enc_find_tmpl(fk_ipfix_encoder *e, uint16_t tid)
{
    for (size_t i = 0; i < e->ntmpls; i++)
        if (e->tmpls[i].t->id == tid)
            return &e->tmpls[i];
    return NULL;
}

int fk_ipfix_encoder_add_template(fk_ipfix_encoder *e, uint16_t template_id,
                                  const fk_field_spec *fields, uint16_t count, uint16_t scope_count)
{
    if (!e || !fields)
        return fk__error(FK_EINVAL, "ipfix encoder: NULL argument");
    if (e->rec && e->rec->t->id == template_id)
        return fk__error(FK_ESTATE, "ipfix encoder: template %u has an open record",
                         (unsigned)template_id);
    if (count > 512)
        return fk__error(FK_EINVAL, "ipfix encoder: template %u has %u fields (max 512)",
                         (unsigned)template_id, (unsigned)count);
    enc_tmpl nt = {0};
    int rc = fk__template_new(&nt.t, template_id, fields, count, scope_count, e->reg);
    if (rc < 0)
        return rc;
    nt.fix_off = fk__calloc(count, sizeof *nt.fix_off);
    if (!nt.fix_off) {
        free_tmpl(&nt);
        return fk__error(FK_ENOMEM, "ipfix encoder: out of memory");
    }
    nt.steps = fk__calloc(count, sizeof *nt.steps);
    if (!nt.steps) {
        free_tmpl(&nt);
        return fk__error(FK_ENOMEM, "ipfix encoder: out of memory");
    }
    for (uint16_t i = 0; i < count; i++) {
        const fk__plan_field *pf = &nt.t->plan->fields[i];
        nt.fix_off[i] = nt.fix_len;
        if (fields[i].length == FK_VARLEN)
            nt.has_varlen = 1;
        else
            nt.fix_len += fields[i].length;
        uint8_t op = pf->op;
        if (pf->pen == 0 && pf->id == 149 && fields[i].length <= 4 && !pf->v9_scope)
            op = ENC_OP_ODID;
        if (op == FK__OP_NONE || op == FK__OP_START_UPTIME || op == FK__OP_END_UPTIME ||
            op == FK__OP_START_DELTA_US || op == FK__OP_END_DELTA_US || op == FK__OP_SYS_INIT_MS)
            continue;
        static const uint8_t straight[] = {
            FK__OP_SRC4,  FK__OP_DST4,   FK__OP_SRC6,      FK__OP_DST6,  FK__OP_SPORT,
            FK__OP_DPORT, FK__OP_PROTO,  FK__OP_TCP_FLAGS, FK__OP_BYTES, FK__OP_PACKETS,
            FK__OP_IN_IF, FK__OP_OUT_IF, FK__OP_START_MS,  FK__OP_END_MS};
        int covered = 0;
        if (op != ENC_OP_ODID && nt.t->plan->slot[op] == i)
            for (size_t k = 0; k < sizeof straight; k++)
                covered |= straight[k] == op;
        if (covered) {
            nt.covered++;
            continue;
        }
        enc_step *st = &nt.steps[nt.nsteps++];
        st->off = nt.fix_off[i];
        st->field = i;
        st->len = (uint8_t)fields[i].length;
        st->op = op;
    }
    nt.unique_ids = 1;
    for (uint16_t i = 0; i < count && nt.unique_ids; i++)
        for (uint16_t j = 0; j < i; j++) {
            const fk__plan_field *a = &nt.t->plan->fields[i], *b = &nt.t->plan->fields[j];
            if (a->id == b->id && a->pen == b->pen && a->v9_scope == b->v9_scope) {
                nt.unique_ids = 0;
                break;
            }
        }
    if (count > e->vl_cap) {
        uint32_t *a = fk__reallocarray(e->vl_off, count, sizeof *a);
        if (a)
            e->vl_off = a;
        uint32_t *b = a ? fk__reallocarray(e->vl_len, count, sizeof *b) : NULL;
        if (b)
            e->vl_len = b;
        if (!a || !b) {
            free_tmpl(&nt);
            return fk__error(FK_ENOMEM, "ipfix encoder: out of memory");
        }
        e->vl_cap = count;
    }
    enc_tmpl *old = fk__enc_find_tmpl(e, template_id);
    if (old) {
        free_tmpl(old);
        e->last = NULL;
        *old = nt;
        return 0;
    }
    enc_tmpl *n = fk__reallocarray(e->tmpls, e->ntmpls + 1, sizeof *n);
    if (!n) {
        free_tmpl(&nt);
        return fk__error(FK_ENOMEM, "ipfix encoder: out of memory");
    }
    e->tmpls = n;
    e->last = NULL;
    e->tmpls[e->ntmpls++] = nt;
    return 0;
}

static dom_seq *find_seq(const fk_ipfix_encoder *e, uint32_t domain)
{
    for (size_t i = 0; i < e->nseqs; i++)
        if (e->seqs[i].domain == domain)
            return &e->seqs[i];
    return NULL;
}

uint32_t fk_ipfix_encoder_get_sequence(const fk_ipfix_encoder *e, uint32_t domain)
{
    const dom_seq *s = e ? find_seq(e, domain) : NULL;
    return s ? s->count : 0;
}

int fk_ipfix_encoder_begin(fk_ipfix_encoder *e, uint32_t domain, uint32_t export_time, uint8_t *buf,
                           size_t size)
{
    if (!e || !buf)
        return fk__error(FK_EINVAL, "ipfix encoder: NULL argument");
    e->params.activated = true;
    size_t mtu = (size_t)fk__params_int(&e->params, FK_IPFIX_ENC_MTU);
    e->limit = size < mtu ? size : mtu;
    if (e->limit < FK_IPFIX_HEADER_LEN)
        return fk__error(FK_ENOSPACE, "ipfix encoder: %zu octets cannot hold a message header",
                         size);
    if (!find_seq(e, domain)) {
        dom_seq *n = fk__reallocarray(e->seqs, e->nseqs + 1, sizeof *n);
        if (!n)
            return fk__error(FK_ENOMEM, "ipfix encoder: out of memory");
        e->seqs = n;
        e->seqs[e->nseqs++] = (dom_seq){domain, 0};
    }
    e->buf = buf;
    e->pos = FK_IPFIX_HEADER_LEN;
    e->domain = domain;
    e->seq_at_begin = find_seq(e, domain)->count;
    e->records = 0;
    e->pad = (int)fk__params_int(&e->params, FK_IPFIX_ENC_PAD_SETS);
    e->set_start = SIZE_MAX;
    wr16(buf, FK_IPFIX_VERSION);
    wr16(buf + 2, 0);
    wr32(buf + 4, export_time);
    wr32(buf + 8, e->seq_at_begin);
    wr32(buf + 12, domain);
    e->in_msg = 1;
    return 0;
}

/* Padding the open set would add: only where it cannot be taken for a record. */
static size_t pad_len(const fk_ipfix_encoder *e)
{
    if (!e->pad || e->set_start == SIZE_MAX)
        return 0;
    size_t p = (4 - (e->pos - e->set_start) % 4) % 4;
    return p < e->set_min_rec ? p : 0;
}

static void close_set(fk_ipfix_encoder *e)
{
    if (e->set_start == SIZE_MAX)
        return;
    size_t p = pad_len(e);
    memset(e->buf + e->pos, 0, p);
    e->pos += p;
    wr16(e->buf + e->set_start + 2, (uint16_t)(e->pos - e->set_start));
    e->set_start = SIZE_MAX;
}

/* Make room for `len` octets in a set `set_id`; opens a new set if needed. */
int fk__enc_reserve(fk_ipfix_encoder *e, uint16_t set_id, size_t len, uint32_t min_rec)
{
    if (e->set_start != SIZE_MAX && e->set_id == set_id) {
        if (e->limit - e->pos < len)
            return FK_ENOSPACE;
        return 0;
    }
    size_t pad = pad_len(e);
    if (e->limit - e->pos < pad + FK_IPFIX_SET_HEADER_LEN + len)
        return FK_ENOSPACE;
    close_set(e);
    e->set_start = e->pos;
    e->set_id = set_id;
    e->set_min_rec = min_rec;
    wr16(e->buf + e->pos, set_id);
    wr16(e->buf + e->pos + 2, 0);
    e->pos += FK_IPFIX_SET_HEADER_LEN;
    return 0;
}

int fk__enc_no_space(size_t need)
{
    return fk__error(FK_ENOSPACE, "ipfix encoder: %zu octets do not fit in the message", need);
}

int fk_ipfix_encoder_write_template(fk_ipfix_encoder *e, uint16_t template_id)
{
    if (!e || !e->in_msg)
        return fk__error(FK_ESTATE, "ipfix encoder: no message open");
    enc_tmpl *et = fk__enc_find_tmpl(e, template_id);
    if (!et)
        return fk__error(FK_ENOTEMPLATE, "ipfix encoder: no template %u", (unsigned)template_id);
    const fk_template *t = et->t;
    int options = t->scope_count > 0;
    size_t len = 4 + (options ? 2 : 0);
    for (uint16_t i = 0; i < t->count; i++)
        len += t->specs[i].pen ? 8 : 4;
    uint16_t sid = options ? FK_IPFIX_SET_OPTIONS_TEMPLATE : FK_IPFIX_SET_TEMPLATE;
    if (fk__enc_reserve(e, sid, len, 4) < 0)
        return fk__enc_no_space(len);
    uint8_t *p = e->buf + e->pos;
    wr16(p, t->id);
    wr16(p + 2, t->count);
    p += 4;
    if (options) {
        wr16(p, t->scope_count);
        p += 2;
    }
    for (uint16_t i = 0; i < t->count; i++) {
        const fk_field_spec *s = &t->specs[i];
        wr16(p, (uint16_t)(s->id | (s->pen ? 0x8000u : 0)));
        wr16(p + 2, s->length);
        p += 4;
        if (s->pen) {
            wr32(p, s->pen);
            p += 4;
        }
    }
    e->pos += len;
    return 0;
}

int fk_ipfix_encoder_write_withdrawal(fk_ipfix_encoder *e, uint16_t template_id, int options)
{
    if (!e || !e->in_msg)
        return fk__error(FK_ESTATE, "ipfix encoder: no message open");
    uint16_t sid = options ? FK_IPFIX_SET_OPTIONS_TEMPLATE : FK_IPFIX_SET_TEMPLATE;
    if (template_id < FK_IPFIX_SET_DATA_MIN && template_id != sid)
        return fk__error(FK_EINVAL, "ipfix encoder: cannot withdraw template id %u in set %u",
                         (unsigned)template_id, (unsigned)sid);
    if (fk__enc_reserve(e, sid, 4, 4) < 0)
        return fk__enc_no_space(4);
    wr16(e->buf + e->pos, template_id);
    wr16(e->buf + e->pos + 2, 0);
    e->pos += 4;
    return 0;
}

int fk_ipfix_encoder_finish(fk_ipfix_encoder *e, size_t *len)
{
    if (!e || !e->in_msg)
        return fk__error(FK_ESTATE, "ipfix encoder: no message open");
    close_set(e); /* an open record (FK_ENOSPACE) waits for the next message */
    wr16(e->buf + 2, (uint16_t)e->pos);
    wr32(e->buf + 8, e->seq_at_begin);
    dom_seq *s = find_seq(e, e->domain);
    s->count += e->records;
    if (len)
        *len = e->pos;
    e->in_msg = 0;
    return 0;
}

size_t fk_ipfix_encode_bound(size_t records, size_t record_len, size_t template_octets)
{
    /* worst case: every record and the templates each in their own set, each
     * set padded by up to 3 octets */
    size_t per = record_len + FK_IPFIX_SET_HEADER_LEN + 3;
    if (record_len > SIZE_MAX / 2 || (records && per > (SIZE_MAX - 64) / records))
        return SIZE_MAX;
    size_t total = FK_IPFIX_HEADER_LEN + records * per;
    if (template_octets > SIZE_MAX - total - FK_IPFIX_SET_HEADER_LEN - 3)
        return SIZE_MAX;
    return total + template_octets + FK_IPFIX_SET_HEADER_LEN + 3;
}
