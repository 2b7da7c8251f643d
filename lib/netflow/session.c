/* The NetFlow decoding session handle: parameters, lifetime, statistics and
 * the lookups of what exporters announced (sampling, interface names). The
 * scope table is scope.c, template compiling v9_template.c, decoding
 * decode.c and record.c. */
#include <inttypes.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/sized.h"
#include "core/params.h"
#include "netflow/session_int.h"

static const fk_param_info netflow_params[] = {
    {FK_NETFLOW_MAX_TEMPLATES, "max_templates", FK_PARAM_INT, 0, 1, 65280, 1024, 0, 0, 0, NULL,
     "templates",
     "templates (data and options) kept per scope; also bounds samplers and interface names"},
    {FK_NETFLOW_MAX_SCOPES, "max_scopes", FK_PARAM_INT, 0, 1, 1 << 20, 4096, 0, 0, 0, NULL,
     "scopes", "scopes (exporter address x port x source id) kept"},
};

/* ---- handle ---------------------------------------------------------- */

const fk_param_info *fk_netflow_params(size_t *count)
{
    if (count)
        *count = sizeof netflow_params / sizeof netflow_params[0];
    return netflow_params;
}

int fk_netflow_create(fk_netflow **out)
{
    if (!out)
        return fk__error(FK_EINVAL, "fk_netflow_create: NULL argument");
    *out = NULL;
    fk_netflow *h = FK__NEW(fk_netflow);
    if (!h)
        return fk__error(FK_ENOMEM, "netflow: out of memory creating a session");
    fk__nf_scopes_init(h);
    size_t n;
    const fk_param_info *t = fk_netflow_params(&n);
    int rc = fk__params_init(&h->params, "netflow", t, n);
    if (rc) {
        fk__free(h);
        return rc;
    }
    *out = h;
    return 0;
}

void fk_netflow_destroy(fk_netflow *h)
{
    if (!h)
        return;
    fk__nf_scopes_free(h);
    fk__params_free(&h->params);
    fk__free(h);
}

int fk_netflow_set_int(fk_netflow *h, fk_netflow_param param, int64_t value)
{
    if (!h)
        return fk__error(FK_EINVAL, "fk_netflow_set_int: NULL handle");
    return fk__params_set_int(&h->params, (int)param, value);
}

int fk_netflow_set_text(fk_netflow *h, const char *name, const char *text)
{
    if (!h)
        return fk__error(FK_EINVAL, "fk_netflow_set_text: NULL handle");
    return fk__params_set_text(&h->params, name, text);
}

int fk_netflow_get_int(const fk_netflow *h, fk_netflow_param param, int64_t *out)
{
    if (!h || !out)
        return fk__error(FK_EINVAL, "fk_netflow_get_int: NULL argument");
    return fk__params_get_int(&h->params, (int)param, out);
}

int fk_netflow_activate(fk_netflow *h)
{
    if (!h)
        return fk__error(FK_EINVAL, "fk_netflow_activate: NULL handle");
    if (h->params.activated)
        return fk__error(FK_EACTIVATED, "netflow: already activated");
    h->max_templates = (size_t)fk__params_int(&h->params, FK_NETFLOW_MAX_TEMPLATES);
    h->max_scopes = (size_t)fk__params_int(&h->params, FK_NETFLOW_MAX_SCOPES);
    h->params.activated = true;
    return 0;
}

static int fill_stats(const fk_netflow *h, fk_netflow_stats *out)
{
    if (!h || !out)
        return fk__error(FK_EINVAL, "fk_netflow_get_stats: NULL argument");
    *out = h->st;
    return 0;
}

int fk_netflow_get_stats(const fk_netflow *h, fk_netflow_stats *out, size_t size)
{
    if (!h || !out || size < sizeof(uint64_t))
        return fk__error(FK_EINVAL, "netflow: NULL argument or size %zu below 8", size);
    fk_netflow_stats st;
    int rc = fill_stats(h, &st);
    if (rc == 0)
        fk__copy_sized(out, size, &st, sizeof st);
    return rc;
}

/* ---- lookups ---------------------------------------------------------- */

int fk_netflow_get_sampling(const fk_netflow *h, const fk_addr *exporter, uint16_t exporter_port,
                            uint32_t source_id, uint64_t sampler_id, uint32_t *interval)
{
    if (!h || !exporter || !interval)
        return fk__error(FK_EINVAL, "fk_netflow_get_sampling: NULL argument");
    const nf_scope *s = fk__nf_scope_find(h, exporter, exporter_port, source_id);
    const nf_sampler *e = s ? fk__nf_sampler_find(s, sampler_id) : NULL;
    if (!e)
        return fk__error(FK_ENOTFOUND, "netflow: no sampling announced for sampler %" PRIu64,
                         sampler_id);
    *interval = e->interval;
    return 0;
}

int fk_netflow_get_interface_name(const fk_netflow *h, const fk_addr *exporter,
                                  uint16_t exporter_port, uint32_t source_id, uint32_t ifindex,
                                  char *buf, size_t size)
{
    if (!h || !exporter || !buf)
        return fk__error(FK_EINVAL, "fk_netflow_get_interface_name: NULL argument");
    const nf_scope *s = fk__nf_scope_find(h, exporter, exporter_port, source_id);
    for (size_t i = 0; s && i < s->nifnames; i++) {
        if (s->ifnames[i].ifindex != ifindex)
            continue;
        size_t n = strlen(s->ifnames[i].name);
        if (n + 1 > size)
            return fk__error(FK_ENOSPACE, "netflow: interface name needs %zu bytes, have %zu",
                             n + 1, size);
        memcpy(buf, s->ifnames[i].name, n + 1);
        return (int)n;
    }
    return fk__error(FK_ENOTFOUND, "netflow: no name announced for ifindex %u", ifindex);
}

int fk_netflow_forget_template(fk_netflow *h, const fk_addr *exporter, uint16_t exporter_port,
                               uint32_t source_id, uint16_t template_id)
{
    if (!h || !exporter)
        return fk__error(FK_EINVAL, "fk_netflow_forget_template: NULL argument");
    nf_scope *s = fk__nf_scope_find(h, exporter, exporter_port, source_id);
    if (!s || fk__nf_tpl_remove(s, template_id))
        return fk__error(FK_ENOTFOUND, "netflow: no template %u in this scope", template_id);
    return 0;
}
