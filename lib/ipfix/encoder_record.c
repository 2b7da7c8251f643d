/* IPFIX encoder: a record written field by field (record_begin, put_*,
 * record_end), in any order, variable-length fields included. */
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "ipfix/encoder_int.h"

int fk_ipfix_encoder_record_begin(fk_ipfix_encoder *e, uint16_t template_id)
{
    if (!e || !e->in_msg || e->rec)
        return fk__error(FK_ESTATE, "ipfix encoder: no message open (or a record is open)");
    enc_tmpl *et = fk__enc_find_tmpl(e, template_id);
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
    if (fk__enc_reserve(e, t->id, len, t->plan->min_len) < 0)
        return fk__enc_no_space(len);
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
