/* NetFlow v9 template compiling (RFC 3954): each template field is mapped
 * once to an operation feeding fk_flow or fk_netflow_options, so a data
 * record is decoded without per-field lookups; the IPFIX layer gets its own
 * view of the template for typed access and JSON. */
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "netflow/nf_internal.h"
#include "netflow/session_int.h"

void fk__nf_tpl_free(nf_template *t)
{
    if (t)
        fk__template_free(t->ipx);
    fk__free(t);
}

static int time_rank(uint8_t form)
{
    static const int rank[] = {
        [TF_NONE] = 99,  [TF_MS] = 0,       [TF_SEC] = 1,    [TF_US] = 2,     [TF_NS] = 3,
        [TF_UPTIME] = 4, [TF_DELTA_US] = 5, [TF_OBS_MS] = 6, [TF_OBS_SEC] = 7};
    return rank[form];
}

/* Map one data-template field to an op; returns false when the field does
 * not feed fk_flow (or has a length we do not read). *prio orders the
 * alternatives for counters (lower wins). */
static bool flow_op(uint16_t type, uint16_t len, nf_op *op, int *prio)
{
    *prio = 0;
    op->form = TF_NONE;
    bool uint_ok = len >= 1 && len <= 8;
    switch (type) {
    case 8:
        op->kind = OP_SRC4;
        return len == 4;
    case 12:
        op->kind = OP_DST4;
        return len == 4;
    case 27:
        op->kind = OP_SRC6;
        return len == 16;
    case 28:
        op->kind = OP_DST6;
        return len == 16;
    case 7:
        op->kind = OP_SPORT;
        return uint_ok;
    case 11:
        op->kind = OP_DPORT;
        return uint_ok;
    case 4:
        op->kind = OP_PROTO;
        return uint_ok;
    case 6:
        op->kind = OP_TCP_FLAGS;
        return uint_ok;
    case 5:
        op->kind = OP_TOS;
        return uint_ok;
    case 1:
    case 23:
    case 85:
        op->kind = OP_BYTES;
        *prio = type == 1 ? 0 : type == 23 ? 1 : 2;
        return uint_ok;
    case 2:
    case 24:
    case 86:
        op->kind = OP_PACKETS;
        *prio = type == 2 ? 0 : type == 24 ? 1 : 2;
        return uint_ok;
    case 16:
        op->kind = OP_SRC_AS;
        return len >= 1 && len <= 4;
    case 17:
        op->kind = OP_DST_AS;
        return len >= 1 && len <= 4;
    case 10:
        op->kind = OP_IN_IF;
        return uint_ok;
    case 14:
        op->kind = OP_OUT_IF;
        return uint_ok;
    case 58:
    case 243:
        op->kind = OP_VLAN;
        *prio = type == 58 ? 0 : 1;
        return uint_ok;
    case 32:
    case 139:
        op->kind = OP_ICMP_TYPECODE;
        return uint_ok;
    case 176:
    case 178:
        op->kind = OP_ICMP_TYPE;
        return uint_ok;
    case 177:
    case 179:
        op->kind = OP_ICMP_CODE;
        return uint_ok;
    case 136:
        op->kind = OP_END_REASON;
        return uint_ok;
    case 34:
    case 50:
        op->kind = OP_SAMPLING;
        *prio = type == 34 ? 0 : 1;
        return uint_ok;
    case 48:
    case 302:
        op->kind = OP_SAMPLER_ID;
        *prio = type == 48 ? 0 : 1;
        return uint_ok;
    case 160:
        op->kind = OP_INIT_MS;
        return uint_ok;
    case 22:
    case 21:
        op->kind = type == 22 ? OP_START : OP_END;
        op->form = TF_UPTIME;
        return uint_ok;
    case 150:
    case 151:
        op->kind = type == 150 ? OP_START : OP_END;
        op->form = TF_SEC;
        return uint_ok;
    case 152:
    case 153:
        op->kind = type == 152 ? OP_START : OP_END;
        op->form = TF_MS;
        return uint_ok;
    case 154:
    case 155:
        op->kind = type == 154 ? OP_START : OP_END;
        op->form = TF_US;
        return len == 8;
    case 156:
    case 157:
        op->kind = type == 156 ? OP_START : OP_END;
        op->form = TF_NS;
        return len == 8;
    case 158:
    case 159:
        op->kind = type == 158 ? OP_START : OP_END;
        op->form = TF_DELTA_US;
        return uint_ok;
    case 322: /* observationTimeSeconds: an event's time, start = end */
    case 323: /* observationTimeMilliseconds */
        op->kind = OP_START;
        op->form = type == 322 ? TF_OBS_SEC : TF_OBS_MS;
        return uint_ok;
    default:
        return false;
    }
}

static bool options_op(uint16_t type, uint16_t len, nf_op *op, int *prio)
{
    *prio = 0;
    op->form = TF_NONE;
    bool uint_ok = len >= 1 && len <= 8;
    switch (type) {
    case 34:
    case 50:
    case 305: /* samplingPacketInterval */
        op->kind = OPT_INTERVAL;
        *prio = type == 34 ? 1 : type == 50 ? 0 : 2;
        return uint_ok;
    case 35:
    case 49:
        op->kind = OPT_ALGORITHM;
        *prio = type == 35 ? 1 : 0;
        return uint_ok;
    case 48:
    case 302:
        op->kind = OPT_SAMPLER_ID;
        *prio = type == 48 ? 0 : 1;
        return uint_ok;
    case 10:
        op->kind = OPT_IFINDEX;
        return uint_ok;
    case 82:
        op->kind = OPT_IF_NAME;
        return len >= 1;
    case 83:
        op->kind = OPT_IF_DESC;
        return len >= 1;
    case 84:
    case 335: /* selectorName */
        op->kind = OPT_SAMPLER_NAME;
        *prio = type == 84 ? 0 : 1;
        return len >= 1;
    default:
        return false;
    }
}

/* The template in the IPFIX layer, so records get typed access by element
 * and JSON by IANA name. Best effort: templates the IPFIX layer cannot
 * represent (zero-length fields, vendor types >= 32768 that are no IANA
 * elements, lengths of 65535 that IPFIX reads as variable) have none. */
static int ipfix_view(nf_template *t, size_t nscope)
{
    t->ipx = NULL;
    for (size_t i = 0; i < t->nfields; i++)
        if (t->fields[i].length == 0 || t->fields[i].length == FK_VARLEN ||
            t->fields[i].type >= 0x8000)
            return 0;
    fk_field_spec *specs = fk__calloc(t->nfields, sizeof *specs);
    if (!specs)
        return fk__error(FK_ENOMEM, "netflow v9: out of memory compiling template %u", t->id);
    for (size_t i = 0; i < t->nfields; i++) {
        specs[i].id = t->fields[i].type;
        specs[i].length = t->fields[i].length;
        specs[i].flags = i < nscope ? FK_FIELD_V9_SCOPE : 0;
    }
    int rc = fk__template_new(&t->ipx, t->id, specs, (uint16_t)t->nfields, (uint16_t)nscope, NULL);
    fk__free(specs);
    if (rc == 0 && (!t->ipx->plan->fixed_offsets || t->ipx->plan->fixed_len != t->record_len)) {
        fk__template_free(t->ipx);
        t->ipx = NULL;
    }
    if (rc < 0)
        t->ipx = NULL;
    return rc == FK_ENOMEM ? rc : 0;
}

/* Build a template from its wire fields (type/length pairs at p; the first
 * nscope are scope fields of an options template). */
int fk__nf_tpl_compile(nf_template **out, uint16_t id, bool options, const uint8_t *p,
                       size_t nscope, size_t nfields)
{
    *out = NULL;
    size_t size = sizeof(nf_template) + nfields * (sizeof(fk_netflow_field) + sizeof(nf_op));
    nf_template *t = fk__calloc(1, size);
    if (!t)
        return fk__error(FK_ENOMEM, "netflow v9: out of memory compiling template %u", id);
    t->id = id;
    t->options = options;
    t->nfields = nfields;
    t->fields = (fk_netflow_field *)(t + 1);
    t->ops = (nf_op *)(t->fields + nfields);
    int best[OPT_SAMPLER_NAME + 1];
    size_t where[OPT_SAMPLER_NAME + 1];
    for (size_t k = 0; k <= OPT_SAMPLER_NAME; k++)
        best[k] = 1000;
    size_t off = 0;
    for (size_t i = 0; i < nfields; i++) {
        uint16_t type = fk__nf_rd16(p + 4 * i);
        uint16_t len = fk__nf_rd16(p + 4 * i + 2);
        if (off + len > 65535) {
            fk__free(t);
            return fk__error(FK_EMALFORMED, "netflow v9: template %u records exceed 65535 bytes",
                             id);
        }
        fk_netflow_field *f = &t->fields[i];
        f->type = type;
        f->length = len;
        f->offset = (uint16_t)off;
        f->scope = i < nscope;
        nf_op op = {.offset = (uint16_t)off, .length = (uint8_t)(len > 255 ? 255 : len)};
        int prio = 0;
        bool use = false;
        if (i < nscope)
            use = false; /* scope fields are read directly, below */
        else if (options)
            use = options_op(type, len, &op, &prio);
        else
            use = flow_op(type, len, &op, &prio);
        if (use && (op.kind == OP_START || op.kind == OP_END))
            prio = time_rank(op.form);
        if (use && prio < best[op.kind]) {
            if (best[op.kind] == 1000) {
                where[op.kind] = t->nops;
                t->ops[t->nops++] = op;
            } else {
                t->ops[where[op.kind]] = op;
            }
            best[op.kind] = prio;
        }
        off += len;
    }
    /* Zero-length fields occur (Cisco sends a System scope of length 0) and
     * take no room; a record of length 0 cannot be walked. */
    if (off == 0) {
        fk__free(t);
        return fk__error(FK_EMALFORMED, "netflow v9: template %u has only zero-length fields", id);
    }
    t->record_len = (uint16_t)off;
    for (size_t i = 0; i < t->nops; i++) {
        if (t->ops[i].kind == OP_SAMPLING)
            t->has_sampling = true;
        if (t->ops[i].kind == OP_SAMPLER_ID)
            t->has_sampler_id = true;
    }
    int rc = ipfix_view(t, nscope);
    if (rc == FK_ENOMEM) {
        fk__free(t);
        return rc;
    }
    *out = t;
    return 0;
}
