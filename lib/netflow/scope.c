/* The NetFlow session's scope table (exporter address x port x source id,
 * on core/hmap) and what each scope holds: templates sorted by id,
 * samplers and interface names announced by options data. */
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/hmap.h"
#include "netflow/session_int.h"

void fk__nf_scope_free(nf_scope *s)
{
    for (size_t i = 0; i < s->ntpl; i++)
        fk__nf_tpl_free(s->tpl[i]);
    fk__free(s->tpl);
    fk__free(s->samplers);
    fk__free(s->ifnames);
    fk__free(s);
}

/* The scope map's key: (address, port, source id) without padding bytes. */
typedef struct scope_key {
    uint8_t addr[16];
    uint32_t source_id;
    uint16_t port;
    uint16_t family;
} scope_key;

static scope_key key_of(const fk_addr *a, uint16_t port, uint32_t source_id)
{
    scope_key k;
    memcpy(k.addr, a->bytes, 16);
    k.source_id = source_id;
    k.port = port;
    k.family = (uint16_t)a->family;
    return k;
}

nf_scope *fk__nf_scope_find(const fk_netflow *h, const fk_addr *a, uint16_t port,
                            uint32_t source_id)
{
    scope_key k = key_of(a, port, source_id);
    nf_scope **v = fk__hmap_get(&h->scopes, &k);
    return v ? *v : NULL;
}

/* Find or create; NULL with the error recorded (FK_ENOMEM or refused). */
nf_scope *fk__nf_scope_get(fk_netflow *h, const fk_addr *a, uint16_t port, uint32_t source_id)
{
    nf_scope *s = fk__nf_scope_find(h, a, port, source_id);
    if (s)
        return s;
    if (h->scopes.count >= h->max_scopes) {
        h->st.refused++;
        fk__error(FK_ERANGE, "netflow: scope limit of %zu reached", h->max_scopes);
        return NULL;
    }
    s = FK__NEW(nf_scope);
    if (!s) {
        fk__error(FK_ENOMEM, "netflow: out of memory creating a scope");
        return NULL;
    }
    s->addr = *a;
    s->port = port;
    s->source_id = source_id;
    scope_key k = key_of(a, port, source_id);
    if (fk__hmap_put(&h->scopes, &k, &s, NULL) < 0) {
        fk__free(s);
        fk__error(FK_ENOMEM, "netflow: out of memory growing the scope table");
        return NULL;
    }
    return s;
}

void fk__nf_scopes_init(fk_netflow *h)
{
    fk__hmap_init(&h->scopes, sizeof(scope_key), sizeof(nf_scope *));
}

void fk__nf_scopes_free(fk_netflow *h)
{
    size_t pos = 0;
    void *val;
    while (fk__hmap_next(&h->scopes, &pos, NULL, &val))
        fk__nf_scope_free(*(nf_scope **)val);
    fk__hmap_free(&h->scopes);
}

nf_template *fk__nf_tpl_find(const nf_scope *s, uint16_t id, size_t *pos)
{
    size_t lo = 0, hi = s->ntpl;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (s->tpl[mid]->id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (pos)
        *pos = lo;
    return lo < s->ntpl && s->tpl[lo]->id == id ? s->tpl[lo] : NULL;
}

/* Grow an array of elements to hold one more; false on failure. */
static bool grow(void **arr, size_t *cap, size_t n, size_t elem)
{
    if (n < *cap)
        return true;
    size_t ncap = *cap ? *cap * 2 : 4;
    void *p = fk__reallocarray(*arr, ncap, elem);
    if (!p)
        return false;
    *arr = p;
    *cap = ncap;
    return true;
}

/* Takes ownership of t (frees it on failure). */
int fk__nf_tpl_store(fk_netflow *h, nf_scope *s, nf_template *t)
{
    size_t pos;
    nf_template *old = fk__nf_tpl_find(s, t->id, &pos);
    if (old) {
        fk__nf_tpl_free(old);
        s->tpl[pos] = t;
        return 0;
    }
    if (s->ntpl >= h->max_templates) {
        fk__nf_tpl_free(t);
        h->st.refused++;
        return fk__error(FK_ERANGE, "netflow v9: template limit of %zu reached for a scope",
                         h->max_templates);
    }
    if (!grow((void **)&s->tpl, &s->captpl, s->ntpl, sizeof *s->tpl)) {
        fk__nf_tpl_free(t);
        return fk__error(FK_ENOMEM, "netflow v9: out of memory storing a template");
    }
    memmove(&s->tpl[pos + 1], &s->tpl[pos], (s->ntpl - pos) * sizeof *s->tpl);
    s->tpl[pos] = t;
    s->ntpl++;
    return 0;
}

int fk__nf_tpl_remove(nf_scope *s, uint16_t id)
{
    size_t pos;
    nf_template *t = fk__nf_tpl_find(s, id, &pos);
    if (!t)
        return FK_ENOTFOUND;
    fk__nf_tpl_free(t);
    memmove(&s->tpl[pos], &s->tpl[pos + 1], (s->ntpl - pos - 1) * sizeof *s->tpl);
    s->ntpl--;
    return 0;
}

const nf_sampler *fk__nf_sampler_find(const nf_scope *s, uint64_t id)
{
    for (size_t i = 0; i < s->nsamplers; i++)
        if (s->samplers[i].id == id)
            return &s->samplers[i];
    return NULL;
}

void fk__nf_learn_sampler(fk_netflow *h, nf_scope *s, uint64_t id, uint32_t interval)
{
    for (size_t i = 0; i < s->nsamplers; i++) {
        if (s->samplers[i].id == id) {
            s->samplers[i].interval = interval;
            return;
        }
    }
    if (s->nsamplers >= h->max_templates) {
        h->st.refused++;
        return;
    }
    if (!grow((void **)&s->samplers, &s->capsamplers, s->nsamplers, sizeof *s->samplers))
        return; /* out of memory: the sampler stays unknown */
    s->samplers[s->nsamplers++] = (nf_sampler){.id = id, .interval = interval};
}

void fk__nf_learn_ifname(fk_netflow *h, nf_scope *s, uint32_t ifindex, const char *name)
{
    for (size_t i = 0; i < s->nifnames; i++) {
        if (s->ifnames[i].ifindex == ifindex) {
            snprintf(s->ifnames[i].name, sizeof s->ifnames[i].name, "%s", name);
            return;
        }
    }
    if (s->nifnames >= h->max_templates) {
        h->st.refused++;
        return;
    }
    if (!grow((void **)&s->ifnames, &s->capifnames, s->nifnames, sizeof *s->ifnames))
        return;
    nf_ifname *e = &s->ifnames[s->nifnames++];
    e->ifindex = ifindex;
    snprintf(e->name, sizeof e->name, "%s", name);
}
