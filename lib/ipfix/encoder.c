/* IPFIX message encoder (RFC 7011): writes messages into caller buffers up to
 * an MTU; template / options template / data sets; padding; sequence numbers
 * counting data records per observation domain. */
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/params.h"
#include "ipfix/plan.h"

#define MAX_MSG 65535u

/* One field that fk_ipfix_encoder_add_flow() fills from fk_flow. */
typedef struct enc_step {
    uint32_t off; /* offset in the record (fixed templates) */
    uint16_t field;
    uint8_t len;
    uint8_t op; /* fk__flow_op, or ENC_OP_ODID */
} enc_step;

#define ENC_OP_ODID 200

typedef struct enc_tmpl {
    fk_template *t;
    uint32_t *fix_off; /* offset of each fixed field in the fixed block */
    uint32_t fix_len;
    int has_varlen;
    enc_step *steps; /* compiled once: fields fed by add_flow, in record order */
    uint16_t nsteps;
    uint16_t covered; /* fields written by fill_flow's straight-line part */
    int unique_ids;   /* no element twice: a field found by position is the first match */
} enc_tmpl;

typedef struct dom_seq {
    uint32_t domain;
    uint32_t count;
} dom_seq;

struct fk_ipfix_encoder {
    fk__params params;
    const fk_ie_registry *reg;
    enc_tmpl *tmpls;
    size_t ntmpls;
    enc_tmpl *last; /* last template used by add_flow */
    dom_seq *seqs;
    size_t nseqs;
    /* message */
    int in_msg;
    uint8_t *buf;
    size_t limit;
    size_t pos;
    uint32_t domain;
    uint32_t seq_at_begin;
    uint32_t records;
    int pad;
    /* open set */
    size_t set_start; /* SIZE_MAX when none */
    uint16_t set_id;
    uint32_t set_min_rec; /* smallest record of the open set, for padding */
    /* open record */
    enc_tmpl *rec;
    uint16_t next_field; /* set_* calls usually follow the template's order */
    uint8_t fixed[MAX_MSG];
    uint32_t *vl_off; /* per field: offset in pool */
    uint32_t *vl_len; /* per field: length, for varlen fields */
    size_t vl_cap;
    uint8_t *pool;
    size_t pool_len;
    size_t pool_cap;
};

static const fk_param_info enc_params[] = {
    {FK_IPFIX_ENC_MTU, "mtu", FK_PARAM_INT, 0, 64, 65535, 1400, 0, 0, 0, NULL, "bytes",
     "largest IPFIX message written"},
    {FK_IPFIX_ENC_PAD_SETS, "pad_sets", FK_PARAM_BOOL, 0, 0, 1, 0, 0, 0, 0, NULL, "",
     "pad sets to a multiple of 4 octets (only where padding cannot look like a record)"},
};

static inline void wr16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static inline void wr32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static inline void wr_be(uint8_t *p, uint64_t v, size_t len)
{
    for (size_t i = len; i > 0; i--) {
        p[i - 1] = (uint8_t)v;
        v >>= 8;
    }
}

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

static enc_tmpl *find_tmpl(fk_ipfix_encoder *e, uint16_t tid)
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
    enc_tmpl *old = find_tmpl(e, template_id);
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
static int reserve(fk_ipfix_encoder *e, uint16_t set_id, size_t len, uint32_t min_rec)
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

static int no_space(size_t need)
{
    return fk__error(FK_ENOSPACE, "ipfix encoder: %zu octets do not fit in the message", need);
}

int fk_ipfix_encoder_write_template(fk_ipfix_encoder *e, uint16_t template_id)
{
    if (!e || !e->in_msg)
        return fk__error(FK_ESTATE, "ipfix encoder: no message open");
    enc_tmpl *et = find_tmpl(e, template_id);
    if (!et)
        return fk__error(FK_ENOTEMPLATE, "ipfix encoder: no template %u", (unsigned)template_id);
    const fk_template *t = et->t;
    int options = t->scope_count > 0;
    size_t len = 4 + (options ? 2 : 0);
    for (uint16_t i = 0; i < t->count; i++)
        len += t->specs[i].pen ? 8 : 4;
    uint16_t sid = options ? FK_IPFIX_SET_OPTIONS_TEMPLATE : FK_IPFIX_SET_TEMPLATE;
    if (reserve(e, sid, len, 4) < 0)
        return no_space(len);
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
    if (reserve(e, sid, 4, 4) < 0)
        return no_space(4);
    wr16(e->buf + e->pos, template_id);
    wr16(e->buf + e->pos + 2, 0);
    e->pos += 4;
    return 0;
}

int fk_ipfix_encoder_record_begin(fk_ipfix_encoder *e, uint16_t template_id)
{
    if (!e || !e->in_msg || e->rec)
        return fk__error(FK_ESTATE, "ipfix encoder: no message open (or a record is open)");
    enc_tmpl *et = find_tmpl(e, template_id);
    if (!et)
        return fk__error(FK_ENOTEMPLATE, "ipfix encoder: no template %u", (unsigned)template_id);
    e->rec = et;
    e->next_field = 0;
    memset(e->fixed, 0, et->fix_len);
    if (et->has_varlen) {
        memset(e->vl_len, 0, et->t->count * sizeof *e->vl_len);
        e->pool_len = 0;
    }
    return 0;
}

static int field_index(fk_ipfix_encoder *e, uint32_t pen, uint16_t id)
{
    if (!e || !e->rec)
        return fk__error(FK_ESTATE, "ipfix encoder: no open record");
    /* The field after the last one set is tried first; with no element
     * twice in the template it is also the one the search would find. */
    const fk_template *t = e->rec->t;
    uint16_t h = e->next_field;
    if (e->rec->unique_ids && h < t->count) {
        const fk__plan_field *f = &t->plan->fields[h];
        if (f->id == (id & 0x7fffu) && f->pen == pen && !f->v9_scope) {
            e->next_field = (uint16_t)(h + 1);
            return h;
        }
    }
    int i = fk_template_find_field(t, pen, id);
    if (i < 0)
        return fk__error(FK_ENOTFOUND, "ipfix encoder: template %u has no element %u/%u",
                         (unsigned)t->id, (unsigned)pen, (unsigned)id);
    e->next_field = (uint16_t)(i + 1);
    return i;
}

static int is_int_type(uint8_t type)
{
    return (type >= FK_IE_UNSIGNED8 && type <= FK_IE_SIGNED64) || type == FK_IE_BOOLEAN ||
           type == FK_IE_DATE_TIME_SECONDS || type == FK_IE_DATE_TIME_MILLISECONDS ||
           type == FK_IE_UNKNOWN;
}

static int put_uint_at(fk_ipfix_encoder *e, int i, uint64_t v, int saturate)
{
    const fk__plan_field *f = &e->rec->t->plan->fields[i];
    if (!is_int_type(f->type) || f->length == FK_VARLEN || f->length > 8)
        return fk__error(FK_ETYPE, "ipfix encoder: element %u/%u is not an integer field",
                         (unsigned)f->pen, (unsigned)f->id);
    size_t len = f->length;
    int sign = f->type >= FK_IE_SIGNED8 && f->type <= FK_IE_SIGNED64;
    if (len < 8) {
        unsigned bits = (unsigned)len * 8;
        int fits;
        if (sign) {
            int64_t s = (int64_t)v;
            int64_t lim = (int64_t)1 << (bits - 1);
            fits = s >= -lim && s < lim;
        } else {
            fits = (v >> bits) == 0;
        }
        if (!fits) {
            if (!saturate)
                return fk__error(FK_ERANGE,
                                 "ipfix encoder: value %llu does not fit element %u/%u in %zu "
                                 "octets",
                                 (unsigned long long)v, (unsigned)f->pen, (unsigned)f->id, len);
            v = sign ? v : (((uint64_t)1 << bits) - 1);
        }
    }
    wr_be(e->fixed + e->rec->fix_off[i], v, len);
    return 0;
}

int fk_ipfix_encoder_put_uint(fk_ipfix_encoder *e, uint32_t pen, uint16_t id, uint64_t value)
{
    int i = field_index(e, pen, id);
    return i < 0 ? i : put_uint_at(e, i, value, 0);
}

static int put_double_at(fk_ipfix_encoder *e, int i, double v)
{
    const fk__plan_field *f = &e->rec->t->plan->fields[i];
    uint8_t *p = e->fixed + e->rec->fix_off[i];
    if ((f->type != FK_IE_FLOAT32 && f->type != FK_IE_FLOAT64) ||
        (f->length != 4 && f->length != 8) || (f->type == FK_IE_FLOAT32 && f->length != 4))
        return fk__error(FK_ETYPE, "ipfix encoder: element %u/%u is not a float field",
                         (unsigned)f->pen, (unsigned)f->id);
    if (f->length == 4) {
        float fl = (float)v;
        uint32_t b;
        memcpy(&b, &fl, 4);
        wr32(p, b);
    } else {
        uint64_t b;
        memcpy(&b, &v, 8);
        wr_be(p, b, 8);
    }
    return 0;
}

int fk_ipfix_encoder_put_double(fk_ipfix_encoder *e, uint32_t pen, uint16_t id, double value)
{
    int i = field_index(e, pen, id);
    return i < 0 ? i : put_double_at(e, i, value);
}

static int put_addr_at(fk_ipfix_encoder *e, int i, const fk_addr *a)
{
    const fk__plan_field *f = &e->rec->t->plan->fields[i];
    uint8_t *p = e->fixed + e->rec->fix_off[i];
    if (f->type == FK_IE_IPV4_ADDRESS && f->length == 4 && a->family == 4)
        memcpy(p, a->bytes, 4);
    else if (f->type == FK_IE_IPV6_ADDRESS && f->length == 16 && a->family == 6)
        memcpy(p, a->bytes, 16);
    else
        return fk__error(FK_ETYPE, "ipfix encoder: element %u/%u cannot hold an IPv%u address",
                         (unsigned)f->pen, (unsigned)f->id, (unsigned)a->family);
    return 0;
}

int fk_ipfix_encoder_put_addr(fk_ipfix_encoder *e, uint32_t pen, uint16_t id, const fk_addr *addr)
{
    if (!addr)
        return fk__error(FK_EINVAL, "ipfix encoder: NULL address");
    int i = field_index(e, pen, id);
    return i < 0 ? i : put_addr_at(e, i, addr);
}

static int put_time_at(fk_ipfix_encoder *e, int i, int64_t ns)
{
    const fk__plan_field *f = &e->rec->t->plan->fields[i];
    uint8_t *p = e->fixed + e->rec->fix_off[i];
    if (ns < 0)
        return fk__error(FK_ERANGE, "ipfix encoder: time before 1970");
    switch (f->type) {
    case FK_IE_DATE_TIME_SECONDS:
        if (f->length != 4)
            break;
        if (ns / 1000000000 > 0xffffffffll)
            return fk__error(FK_ERANGE, "ipfix encoder: time past 2106 for dateTimeSeconds");
        wr32(p, (uint32_t)(ns / 1000000000));
        return 0;
    case FK_IE_DATE_TIME_MILLISECONDS:
        if (f->length != 8)
            break;
        wr_be(p, (uint64_t)(ns / 1000000), 8);
        return 0;
    case FK_IE_DATE_TIME_MICROSECONDS:
        if (f->length != 8)
            break;
        wr_be(p, fk__ns_to_ntp(ns / 1000 * 1000) & ~(uint64_t)0x7ff, 8);
        return 0;
    case FK_IE_DATE_TIME_NANOSECONDS:
        if (f->length != 8)
            break;
        wr_be(p, fk__ns_to_ntp(ns), 8);
        return 0;
    default:
        break;
    }
    return fk__error(FK_ETYPE, "ipfix encoder: element %u/%u is not a time field", (unsigned)f->pen,
                     (unsigned)f->id);
}

int fk_ipfix_encoder_put_time(fk_ipfix_encoder *e, uint32_t pen, uint16_t id, int64_t ns)
{
    int i = field_index(e, pen, id);
    return i < 0 ? i : put_time_at(e, i, ns);
}

int fk_ipfix_encoder_put_bytes(fk_ipfix_encoder *e, uint32_t pen, uint16_t id, const void *data,
                               size_t len)
{
    int i = field_index(e, pen, id);
    if (i < 0)
        return i;
    if (!data && len)
        return fk__error(FK_EINVAL, "ipfix encoder: NULL data");
    const fk__plan_field *f = &e->rec->t->plan->fields[i];
    if (f->length != FK_VARLEN) {
        int padded = f->type == FK_IE_STRING;
        if (len > f->length || (!padded && len != f->length))
            return fk__error(FK_ERANGE, "ipfix encoder: element %u/%u takes %u octets, not %zu",
                             (unsigned)f->pen, (unsigned)f->id, (unsigned)f->length, len);
        uint8_t *p = e->fixed + e->rec->fix_off[i];
        memset(p, 0, f->length);
        if (len)
            memcpy(p, data, len);
        return 0;
    }
    if (len > 65535)
        return fk__error(FK_ERANGE, "ipfix encoder: %zu octets exceed a variable-length field",
                         len);
    if (e->pool_len + len > e->pool_cap) {
        size_t ncap = e->pool_cap ? e->pool_cap : 1024;
        while (ncap < e->pool_len + len)
            ncap *= 2;
        uint8_t *n = fk__realloc(e->pool, ncap);
        if (!n)
            return fk__error(FK_ENOMEM, "ipfix encoder: out of memory");
        e->pool = n;
        e->pool_cap = ncap;
    }
    if (len)
        memcpy(e->pool + e->pool_len, data, len);
    e->vl_off[i] = (uint32_t)e->pool_len;
    e->vl_len[i] = (uint32_t)len;
    e->pool_len += len;
    return 0;
}

int fk_ipfix_encoder_record_end(fk_ipfix_encoder *e)
{
    if (!e || !e->rec || !e->in_msg)
        return fk__error(FK_ESTATE, "ipfix encoder: no open record");
    enc_tmpl *et = e->rec;
    const fk_template *t = et->t;
    size_t len = et->fix_len;
    if (et->has_varlen)
        for (uint16_t i = 0; i < t->count; i++)
            if (t->specs[i].length == FK_VARLEN)
                len += (e->vl_len[i] < 255 ? 1 : 3) + e->vl_len[i];
    if (len + FK_IPFIX_HEADER_LEN + FK_IPFIX_SET_HEADER_LEN > MAX_MSG)
        return fk__error(FK_ERANGE, "ipfix encoder: a %zu-octet record cannot fit any message",
                         len);
    if (reserve(e, t->id, len, t->plan->min_len) < 0)
        return no_space(len);
    uint8_t *p = e->buf + e->pos;
    if (!et->has_varlen) {
        memcpy(p, e->fixed, len);
    } else {
        for (uint16_t i = 0; i < t->count; i++) {
            uint16_t fl = t->specs[i].length;
            if (fl != FK_VARLEN) {
                memcpy(p, e->fixed + et->fix_off[i], fl);
                p += fl;
                continue;
            }
            uint32_t vl = e->vl_len[i];
            if (vl < 255) {
                *p++ = (uint8_t)vl;
            } else {
                p[0] = 255;
                wr16(p + 1, (uint16_t)vl);
                p += 3;
            }
            if (vl)
                memcpy(p, e->pool + e->vl_off[i], vl);
            p += vl;
        }
    }
    e->pos += len;
    e->records++;
    e->rec = NULL;
    return 0;
}

/* Big-endian store of the low len octets of v, saturated to the field size. */
static inline void put_sat(uint8_t *p, uint64_t v, unsigned len)
{
    switch (len) {
    case 1:
        p[0] = v > 0xffu ? 0xffu : (uint8_t)v;
        return;
    case 2:
        v = v > 0xffffu ? 0xffffu : v;
        p[0] = (uint8_t)(v >> 8);
        p[1] = (uint8_t)v;
        return;
    case 4: {
        uint32_t x = __builtin_bswap32(v > 0xffffffffu ? 0xffffffffu : (uint32_t)v);
        memcpy(p, &x, 4);
        return;
    }
    case 8: {
        uint64_t x = __builtin_bswap64(v);
        memcpy(p, &x, 8);
        return;
    }
    default:
        if (len < 8 && (v >> (len * 8)) != 0)
            v = ((uint64_t)1 << (len * 8)) - 1;
        wr_be(p, v, len);
        return;
    }
}

/* Write the extra flow-fed fields (duplicates of an op, observationDomainId)
 * of a record at p. */
static void fill_steps(uint8_t *p, const enc_tmpl *et, const fk_flow *fl, int fixed,
                       const uint32_t *fix_off)
{
    for (uint16_t k = 0; k < et->nsteps; k++) {
        const enc_step *st = &et->steps[k];
        uint8_t *d = p + (fixed ? st->off : fix_off[st->field]);
        unsigned len = st->len;
        switch (st->op) {
        case FK__OP_SRC4:
            if (fl->src.family == 4)
                memcpy(d, fl->src.bytes, 4);
            break;
        case FK__OP_DST4:
            if (fl->dst.family == 4)
                memcpy(d, fl->dst.bytes, 4);
            break;
        case FK__OP_SRC6:
            if (fl->src.family == 6)
                memcpy(d, fl->src.bytes, 16);
            break;
        case FK__OP_DST6:
            if (fl->dst.family == 6)
                memcpy(d, fl->dst.bytes, 16);
            break;
        case FK__OP_SPORT:
            put_sat(d, fl->src_port, len);
            break;
        case FK__OP_DPORT:
            put_sat(d, fl->dst_port, len);
            break;
        case FK__OP_PROTO:
            d[0] = fl->proto;
            break;
        case FK__OP_BYTES:
            put_sat(d, fl->bytes, len);
            break;
        case FK__OP_PACKETS:
            put_sat(d, fl->packets, len);
            break;
        case FK__OP_REV_BYTES:
            put_sat(d, fl->rev_bytes, len);
            break;
        case FK__OP_REV_PACKETS:
            put_sat(d, fl->rev_packets, len);
            break;
        case FK__OP_TCP_FLAGS:
            put_sat(d, fl->tcp_flags, len);
            break;
        case FK__OP_REV_TCP_FLAGS:
            put_sat(d, fl->rev_tcp_flags, len);
            break;
        case FK__OP_TOS:
            d[0] = fl->tos;
            break;
        case FK__OP_VLAN:
            put_sat(d, fl->vlan, len);
            break;
        case FK__OP_IN_IF:
            put_sat(d, fl->in_if, len);
            break;
        case FK__OP_OUT_IF:
            put_sat(d, fl->out_if, len);
            break;
        case FK__OP_SAMPLING:
            put_sat(d, fl->sampling, len);
            break;
        case FK__OP_END_REASON:
            d[0] = fl->end_reason;
            break;
        case FK__OP_ICMP:
            if (fl->proto == 1 || fl->proto == 58)
                put_sat(d, fl->dst_port, len);
            break;
        case ENC_OP_ODID:
            put_sat(d, fl->odid, len);
            break;
        case FK__OP_START_S:
        case FK__OP_END_S: {
            int64_t ns = st->op == FK__OP_START_S ? fl->start_ns : fl->end_ns;
            if (ns >= 0)
                put_sat(d, (uint64_t)(ns / 1000000000), 4);
            break;
        }
        case FK__OP_START_MS:
        case FK__OP_END_MS: {
            int64_t ns = st->op == FK__OP_START_MS ? fl->start_ns : fl->end_ns;
            if (ns >= 0)
                put_sat(d, (uint64_t)(ns / 1000000), 8);
            break;
        }
        case FK__OP_START_US:
        case FK__OP_END_US: {
            int64_t ns = st->op == FK__OP_START_US ? fl->start_ns : fl->end_ns;
            if (ns >= 0)
                put_sat(d, fk__ns_to_ntp(ns / 1000 * 1000) & ~(uint64_t)0x7ff, 8);
            break;
        }
        case FK__OP_START_NS:
        case FK__OP_END_NS: {
            int64_t ns = st->op == FK__OP_START_NS ? fl->start_ns : fl->end_ns;
            if (ns >= 0)
                put_sat(d, fk__ns_to_ntp(ns), 8);
            break;
        }
        default:
            break;
        }
    }
}

#define HAS(op) (sl[op] != FK__NO_FIELD)
#define DST(op) (p + (fixed ? plan->slot_off[op] : off[sl[op]]))
#define LEN(op) (plan->slot_len[op])

/* Write every flow-fed field of a record at p through the plan's slots:
 * straight-line code whose branches do not change from record to record. */
static inline __attribute__((always_inline)) void
fill_flow(uint8_t *p, const enc_tmpl *et, const fk_flow *fl, int fixed, const uint32_t *off)
{
    const fk__plan *plan = et->t->plan;
    const uint16_t *sl = plan->slot;
    /* every field below is written (zero when not applicable), so that a
     * template fully covered here needs no memset */
    static const uint8_t zeros[16] = {0};
    if (HAS(FK__OP_SRC4))
        memcpy(DST(FK__OP_SRC4), fl->src.family == 4 ? fl->src.bytes : zeros, 4);
    if (HAS(FK__OP_DST4))
        memcpy(DST(FK__OP_DST4), fl->dst.family == 4 ? fl->dst.bytes : zeros, 4);
    if (HAS(FK__OP_SRC6))
        memcpy(DST(FK__OP_SRC6), fl->src.family == 6 ? fl->src.bytes : zeros, 16);
    if (HAS(FK__OP_DST6))
        memcpy(DST(FK__OP_DST6), fl->dst.family == 6 ? fl->dst.bytes : zeros, 16);
    if (HAS(FK__OP_SPORT))
        put_sat(DST(FK__OP_SPORT), fl->src_port, LEN(FK__OP_SPORT));
    if (HAS(FK__OP_DPORT))
        put_sat(DST(FK__OP_DPORT), fl->dst_port, LEN(FK__OP_DPORT));
    if (HAS(FK__OP_PROTO))
        *DST(FK__OP_PROTO) = fl->proto;
    if (HAS(FK__OP_TCP_FLAGS))
        put_sat(DST(FK__OP_TCP_FLAGS), fl->tcp_flags, LEN(FK__OP_TCP_FLAGS));
    if (HAS(FK__OP_BYTES))
        put_sat(DST(FK__OP_BYTES), fl->bytes, LEN(FK__OP_BYTES));
    if (HAS(FK__OP_PACKETS))
        put_sat(DST(FK__OP_PACKETS), fl->packets, LEN(FK__OP_PACKETS));
    if (HAS(FK__OP_IN_IF))
        put_sat(DST(FK__OP_IN_IF), fl->in_if, LEN(FK__OP_IN_IF));
    if (HAS(FK__OP_OUT_IF))
        put_sat(DST(FK__OP_OUT_IF), fl->out_if, LEN(FK__OP_OUT_IF));
    if (HAS(FK__OP_START_MS))
        put_sat(DST(FK__OP_START_MS), fl->start_ns > 0 ? (uint64_t)(fl->start_ns / 1000000) : 0, 8);
    if (HAS(FK__OP_END_MS))
        put_sat(DST(FK__OP_END_MS), fl->end_ns > 0 ? (uint64_t)(fl->end_ns / 1000000) : 0, 8);
    if (et->nsteps) /* everything else: rarer elements, duplicates, times in other units */
        fill_steps(p, et, fl, fixed, off);
}

int fk_ipfix_encoder_add_flow(fk_ipfix_encoder *e, uint16_t template_id, const fk_flow *flow)
{
    if (!e || !flow)
        return fk__error(FK_EINVAL, "ipfix encoder: NULL argument");
    if (!e->in_msg || e->rec)
        return fk__error(FK_ESTATE, "ipfix encoder: no message open (or a record is open)");
    enc_tmpl *et = e->last && e->last->t->id == template_id ? e->last : find_tmpl(e, template_id);
    if (!et)
        return fk__error(FK_ENOTEMPLATE, "ipfix encoder: no template %u", (unsigned)template_id);
    e->last = et;
    if (et->has_varlen) { /* variable-length fields stay empty */
        int rc = fk_ipfix_encoder_record_begin(e, template_id);
        if (rc < 0)
            return rc;
        fill_flow(e->fixed, et, flow, 0, et->fix_off);
        rc = fk_ipfix_encoder_record_end(e);
        if (rc < 0)
            e->rec = NULL; /* add_flow appends all or nothing */
        return rc;
    }
    size_t len = et->fix_len;
    if (len + FK_IPFIX_HEADER_LEN + FK_IPFIX_SET_HEADER_LEN > MAX_MSG)
        return fk__error(FK_ERANGE, "ipfix encoder: a %zu-octet record cannot fit any message",
                         len);
    /* fast path: the open set is this template's and the record fits */
    if (!(e->set_start != SIZE_MAX && e->set_id == template_id && e->limit - e->pos >= len) &&
        reserve(e, template_id, len, et->t->plan->min_len) < 0)
        return no_space(len);
    uint8_t *p = e->buf + e->pos;
    if (et->covered != et->t->count) /* fields not fed by the flow are zero */
        memset(p, 0, len);
    fill_flow(p, et, flow, 1, et->t->plan->fixed_offsets);
    e->pos += len;
    e->records++;
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
