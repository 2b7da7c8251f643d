/* Templates compiled into decode plans, and record splitting. Reading
 * values and fk_flow records through a plan is plan_read.c. See plan.h for
 * the contract. */
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "ipfix/plan.h"
#include "ipfix/registry.h"

/* Largest record an IPFIX message can carry: 65535 - message header - set header. */
#define MAX_RECORD_LEN (65535u - FK_IPFIX_HEADER_LEN - FK_IPFIX_SET_HEADER_LEN)

/* Whether a fixed encoded length can hold a value of a type (RFC 7011 6.2
 * reduced-size encoding for integers and float64). */
int fk__ie_length_fits(uint8_t type, uint16_t len)
{
    if (len == FK_VARLEN)
        return type == FK_IE_OCTET_ARRAY || type == FK_IE_STRING || type == FK_IE_UNKNOWN ||
               type == FK_IE_BASIC_LIST || type == FK_IE_SUB_TEMPLATE_LIST ||
               type == FK_IE_SUB_TEMPLATE_MULTI_LIST;
    switch (type) {
    case FK_IE_UNSIGNED8:
    case FK_IE_SIGNED8:
    case FK_IE_BOOLEAN:
        return len == 1;
    case FK_IE_UNSIGNED16:
    case FK_IE_SIGNED16:
        return len >= 1 && len <= 2;
    case FK_IE_UNSIGNED32:
    case FK_IE_SIGNED32:
        return len >= 1 && len <= 4;
    case FK_IE_UNSIGNED64:
    case FK_IE_SIGNED64:
        return len >= 1 && len <= 8;
    case FK_IE_FLOAT32:
    case FK_IE_DATE_TIME_SECONDS:
    case FK_IE_IPV4_ADDRESS:
        return len == 4;
    case FK_IE_FLOAT64:
        return len == 4 || len == 8;
    case FK_IE_DATE_TIME_MILLISECONDS:
    case FK_IE_DATE_TIME_MICROSECONDS:
    case FK_IE_DATE_TIME_NANOSECONDS:
        return len == 8;
    case FK_IE_MAC_ADDRESS:
        return len == 6;
    case FK_IE_IPV6_ADDRESS:
        return len == 16;
    default:
        return 1;
    }
}

static uint8_t flow_op_for(uint32_t pen, uint16_t id)
{
    if (pen == FK_PEN_REVERSE) {
        switch (id) {
        case 1:
        case 85:
            return FK__OP_REV_BYTES;
        case 2:
        case 86:
            return FK__OP_REV_PACKETS;
        case 6:
            return FK__OP_REV_TCP_FLAGS;
        case 32:
        case 139:
            return FK__OP_REV_ICMP;
        default:
            return FK__OP_NONE;
        }
    }
    if (pen != 0)
        return FK__OP_NONE;
    switch (id) {
    case 1:
    case 85:
        return FK__OP_BYTES;
    case 2:
    case 86:
        return FK__OP_PACKETS;
    case 4:
        return FK__OP_PROTO;
    case 5:
        return FK__OP_TOS;
    case 6:
        return FK__OP_TCP_FLAGS;
    case 7:
        return FK__OP_SPORT;
    case 8:
        return FK__OP_SRC4;
    case 10:
        return FK__OP_IN_IF;
    case 11:
        return FK__OP_DPORT;
    case 12:
        return FK__OP_DST4;
    case 14:
        return FK__OP_OUT_IF;
    case 15:
        return FK__OP_NH4;
    case 16:
        return FK__OP_SRC_AS;
    case 17:
        return FK__OP_DST_AS;
    case 18:
        return FK__OP_BGP_NH4;
    case 60:
        return FK__OP_IP_VERSION;
    case 61:
        return FK__OP_DIRECTION;
    case 62:
        return FK__OP_NH6;
    case 63:
        return FK__OP_BGP_NH6;
    case 21:
        return FK__OP_END_UPTIME;
    case 22:
        return FK__OP_START_UPTIME;
    case 27:
        return FK__OP_SRC6;
    case 28:
        return FK__OP_DST6;
    case 32:
    case 139:
        return FK__OP_ICMP;
    case 34:
    case 305:
        return FK__OP_SAMPLING;
    case 351:
        return FK__OP_L2_SEGMENT;
    case 58:
        return FK__OP_VLAN;
    case 136:
        return FK__OP_END_REASON;
    case 150:
        return FK__OP_START_S;
    case 151:
        return FK__OP_END_S;
    case 152:
        return FK__OP_START_MS;
    case 153:
        return FK__OP_END_MS;
    case 154:
        return FK__OP_START_US;
    case 155:
        return FK__OP_END_US;
    case 156:
        return FK__OP_START_NS;
    case 157:
        return FK__OP_END_NS;
    case 158:
        return FK__OP_START_DELTA_US;
    case 159:
        return FK__OP_END_DELTA_US;
    case 160:
        return FK__OP_SYS_INIT_MS;
    default:
        return FK__OP_NONE;
    }
}

void fk__plan_free(fk__plan *p)
{
    if (!p)
        return;
    fk__free(p->fields);
    fk__free(p->fixed_offsets);
    fk__free(p);
}

int fk__plan_compile(fk__plan **out, const fk_field_spec *fields, uint16_t count,
                     uint16_t scope_count, const fk_ie_registry *reg)
{
    *out = NULL;
    if (count == 0 || !fields)
        return fk__error(FK_EMALFORMED, "template: no fields");
    if (scope_count > count)
        return fk__error(FK_EMALFORMED, "template: scope count %u exceeds field count %u",
                         (unsigned)scope_count, (unsigned)count);
    fk__plan *p = FK__NEW(fk__plan);
    if (!p)
        return fk__error(FK_ENOMEM, "template: out of memory");
    p->nfields = count;
    p->scope_count = scope_count;
    p->fields = fk__calloc(count, sizeof *p->fields);
    if (!p->fields) {
        fk__plan_free(p);
        return fk__error(FK_ENOMEM, "template: out of memory");
    }
    uint32_t off = 0, min_len = 0;
    int varlen_seen = 0;
    for (uint16_t i = 0; i < count; i++) {
        const fk_field_spec *s = &fields[i];
        fk__plan_field *f = &p->fields[i];
        if (s->length == 0) {
            fk__plan_free(p);
            return fk__error(FK_EMALFORMED, "template: field %u (element %u/%u) has length 0",
                             (unsigned)i, (unsigned)s->pen, (unsigned)s->id);
        }
        f->pen = s->pen;
        f->id = s->id & 0x7fffu;
        f->length = s->length;
        f->scope = i < scope_count;
        f->v9_scope = (s->flags & FK_FIELD_V9_SCOPE) != 0;
        f->offset = off;
        if (f->v9_scope) {
            f->ie = NULL;
            f->type = FK_IE_OCTET_ARRAY;
        } else {
            (void)fk_ie_lookup(reg, f->pen, f->id, &f->ie);
            f->type = f->ie ? f->ie->type : FK_IE_UNKNOWN;
        }
        f->op = FK__OP_NONE;
        if (!f->v9_scope && fk__ie_length_fits(f->type, f->length) && f->length != FK_VARLEN)
            f->op = flow_op_for(f->pen, f->id);
        if (s->length == FK_VARLEN) {
            varlen_seen = 1;
            min_len += 1;
        } else {
            min_len += s->length;
            if (!varlen_seen)
                off += s->length;
        }
        if (min_len > MAX_RECORD_LEN) {
            fk__plan_free(p);
            return fk__error(FK_EMALFORMED,
                             "template: records would be at least %u octets (limit %u)",
                             (unsigned)min_len, (unsigned)MAX_RECORD_LEN);
        }
    }
    p->min_len = min_len;
    if (!varlen_seen) {
        p->fixed_len = off;
        p->fixed_offsets = fk__calloc((size_t)count + 1, sizeof *p->fixed_offsets);
        if (!p->fixed_offsets) {
            fk__plan_free(p);
            return fk__error(FK_ENOMEM, "template: out of memory");
        }
        for (uint16_t i = 0; i < count; i++)
            p->fixed_offsets[i] = p->fields[i].offset;
        p->fixed_offsets[count] = off;
    }
    /* Slots: the first field of each op wins, except that a delta counter
     * (octet/packetDeltaCount) wins over a total counter. */
    for (int k = 0; k < FK__OP_COUNT; k++)
        p->slot[k] = FK__NO_FIELD;
    for (uint16_t i = 0; i < count; i++) {
        const fk__plan_field *f = &p->fields[i];
        if (f->op == FK__OP_NONE)
            continue;
        uint16_t cur = p->slot[f->op];
        int total = f->id == 85 || f->id == 86;
        if (cur == FK__NO_FIELD) {
            p->slot[f->op] = i;
            p->nslots++;
        } else if (!total && (p->fields[cur].id == 85 || p->fields[cur].id == 86)) {
            p->slot[f->op] = i;
        }
    }
    for (int k = 0; k < FK__OP_COUNT; k++)
        if (p->slot[k] != FK__NO_FIELD) {
            p->opmask |= 1ull << k;
            p->slot_len[k] = p->fields[p->slot[k]].length;
            p->slot_off[k] = p->fixed_len ? p->fields[p->slot[k]].offset : 0;
        }
    fk__plan_segments(p);
    *out = p;
    return 0;
}

int fk__plan_split(const fk__plan *plan, const uint8_t *p, size_t avail, uint32_t *scratch,
                   const uint32_t **offsets_out, size_t *rec_len)
{
    if (plan->fixed_len) {
        if (avail < plan->fixed_len)
            return FK_ETRUNCATED;
        *offsets_out = plan->fixed_offsets;
        *rec_len = plan->fixed_len;
        return 0;
    }
    size_t off = 0;
    for (uint16_t i = 0; i < plan->nfields; i++) {
        uint16_t len = plan->fields[i].length;
        scratch[i] = (uint32_t)off;
        if (len != FK_VARLEN) {
            if (avail - off < len)
                return FK_ETRUNCATED;
            off += len;
            continue;
        }
        if (avail - off < 1)
            return FK_ETRUNCATED;
        size_t vlen = p[off];
        off += 1;
        if (vlen == 255) {
            if (avail - off < 2)
                return FK_ETRUNCATED;
            vlen = (size_t)p[off] << 8 | p[off + 1];
            off += 2;
        }
        if (avail - off < vlen)
            return FK_ETRUNCATED;
        off += vlen;
    }
    scratch[plan->nfields] = (uint32_t)off;
    *offsets_out = scratch;
    *rec_len = off;
    return 0;
}
