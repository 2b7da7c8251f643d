/* The exporter's templates: built-in variants defined on first use, the
 * caller's own, and the template messages announcing them. */
#include <string.h>

#include "core/alloc.h"
#include "exporter/exporter_state.h"

static int template_append(fk_exporter *h, fk__exp_template *t)
{
    if (h->ntmpls == h->tmpl_cap) {
        size_t cap = h->tmpl_cap ? h->tmpl_cap * 2 : 8;
        fk__exp_template **n = fk__reallocarray(h->tmpls, cap, sizeof *n);
        if (!n)
            return fk__error(FK_ENOMEM, "exporter: out of memory for templates");
        h->tmpls = n;
        h->tmpl_cap = cap;
    }
    h->tmpls[h->ntmpls++] = t;
    return FK_OK;
}

static int template_new(fk_exporter *h, uint16_t id, const fk_field_spec *fields, size_t count)
{
    fk__exp_template *t = FK__NEW(fk__exp_template);
    if (!t)
        return fk__error(FK_ENOMEM, "exporter: out of memory for template %u", id);
    int rc = fk__exp_template_init(t, id, fields, count);
    if (rc == FK_OK)
        rc = template_append(h, t);
    if (rc) {
        fk__exp_template_free(t);
        fk__free(t);
    }
    return rc;
}

int fk__exp_builtin_template(fk_exporter *h, unsigned mask, uint16_t *tid)
{
    if (h->builtin[mask] < 0) {
        fk_field_spec f[32];
        size_t n = fk__exp_builtin_fields(mask, h->pen, f, 32);
        int rc = template_new(h, (uint16_t)(FK__TMPL_BASE + mask), f, n);
        if (rc)
            return rc;
        h->builtin[mask] = (int)(h->ntmpls - 1);
    }
    *tid = (uint16_t)(FK__TMPL_BASE + mask);
    return FK_OK;
}

const fk__exp_template *fk__exp_template_find(const fk_exporter *h, uint16_t id)
{
    for (size_t i = 0; i < h->ntmpls; i++) {
        if (h->tmpls[i]->id == id)
            return h->tmpls[i];
    }
    return NULL;
}

static size_t mtu_param(const fk_exporter *h)
{
    return h->active ? h->mtu : (size_t)fk__params_int(&h->params, FK_EXP_MTU);
}

int fk_exporter_add_template(fk_exporter *h, uint16_t template_id, const fk_field_spec *fields,
                             size_t count)
{
    if (!h || !fields)
        return fk__error(FK_EINVAL, "exporter: NULL argument");
    if (template_id < FK_EXPORTER_USER_TEMPLATE_MIN)
        return fk__error(FK_ERANGE, "exporter: template id %u is out of range [%d, 65535]",
                         template_id, FK_EXPORTER_USER_TEMPLATE_MIN);
    if (fk__exp_template_find(h, template_id))
        return fk__error(FK_EEXIST, "exporter: template %u is already defined", template_id);
    size_t wire = 4;
    for (size_t i = 0; i < count && i <= 512; i++)
        wire += fields[i].pen ? 8 : 4;
    if (count <= 512 && wire + FK__IPFIX_HDR_LEN + FK__IPFIX_SET_HDR_LEN > mtu_param(h))
        return fk__error(FK_ERANGE, "exporter: template %u (%zu bytes) does not fit the MTU",
                         template_id, wire);
    return template_new(h, template_id, fields, count);
}

/* Template messages for templates [first, ntmpls), each handed to `emit`. */
void fk__exp_build_templates(fk_exporter *h, exp_dest *d, size_t first, uint32_t seq,
                             fk__exp_emit_fn emit, msgnode **chain)
{
    size_t i = first;
    while (i < h->ntmpls) {
        size_t next;
        size_t len = fk__exp_template_msg(
            h->scratch, h->mtu, (const fk__exp_template *const *)h->tmpls, h->ntmpls, i, &next);
        if (len == 0) /* cannot happen: sizes are checked when templates are added */
            break;
        fk__exp_msg_header(h->scratch, len, fk__exp_export_time(), seq, h->odid);
        emit(d, h->scratch, len, chain);
        i = next;
    }
}
