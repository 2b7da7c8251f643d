/* Templates and the template cache: scope (session, domain, template id) per
 * RFC 7011 section 8, caps on count, compiled plans.
 *
 * Every operation costs time independent of the cache's size: templates
 * are found through the library's hash map (core/hmap) keyed by (session,
 * domain, id), and each session keeps its count and the list of its
 * templates, so the per-session cap is checked in O(1) and withdrawing a
 * domain or dropping a session visits only that session's templates (a
 * remote exporter cannot make the collector scan what other exporters
 * sent). */
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/hmap.h"
#include "core/params.h"
#include "ipfix/plan.h"

/* The templates map's key; `zero` keeps the key free of padding bytes. */
typedef struct tkey {
    uint64_t session;
    uint32_t domain;
    uint16_t id;
    uint16_t zero;
} tkey;

/* One transport session's templates: the value of the sessions map. */
typedef struct tsession {
    size_t count;
    fk_template *first; /* linked through s_prev / s_next */
} tsession;

#define MEMO 8 /* memo slots: the top 3 bits of a 32-bit product (memo_slot) */

struct fk_template_cache {
    fk__params params;
    const fk_ie_registry *reg;
    fk__hmap templates; /* tkey -> fk_template * (the cache owns them) */
    fk__hmap sessions;  /* uint64_t session -> tsession */
    /* Templates finds returned, by template id (memo_slot): data sets
     * mostly come from a few templates in turn (softflowd: 1024, 1025,
     * 2048, 2049, which 4 slots put two in one),
     * and this skips the hash. A slot is cleared whenever its template is
     * replaced or removed. */
    const fk_template *memo[MEMO];
    uint64_t steps; /* lookups and templates visited (fk__template_cache_steps) */
};

static const fk_param_info tcache_params[] = {
    {FK_TCACHE_MAX_TEMPLATES, "max_templates", FK_PARAM_INT, 0, 1, 1 << 20, 4096, 0, 0, 0, NULL,
     "templates", "templates kept over all sessions and observation domains"},
    {FK_TCACHE_MAX_PER_SESSION, "max_per_session", FK_PARAM_INT, 0, 1, 1 << 20, 1024, 0, 0, 0, NULL,
     "templates", "templates kept per transport session"},
    {FK_TCACHE_MAX_FIELDS, "max_fields", FK_PARAM_INT, 0, 1, 65535, 512, 0, 0, 0, NULL, "fields",
     "fields accepted in one template"},
};

/* ---------------------------------------------------------------- templates */

uint16_t fk_template_get_id(const fk_template *t)
{
    return t->id;
}

uint16_t fk_template_get_field_count(const fk_template *t)
{
    return t->count;
}

uint16_t fk_template_get_scope_count(const fk_template *t)
{
    return t->scope_count;
}

const fk_field_spec *fk_template_get_field(const fk_template *t, uint16_t index)
{
    return index < t->count ? &t->specs[index] : NULL;
}

const fk_ie *fk_template_get_field_ie(const fk_template *t, uint16_t index)
{
    return index < t->count ? t->plan->fields[index].ie : NULL;
}

size_t fk_template_get_min_record_length(const fk_template *t)
{
    return t->plan->min_len;
}

int fk_template_find_field(const fk_template *t, uint32_t pen, uint16_t id)
{
    id &= 0x7fffu;
    for (uint16_t i = 0; i < t->count; i++)
        if (t->plan->fields[i].id == id && t->plan->fields[i].pen == pen &&
            !t->plan->fields[i].v9_scope)
            return i;
    return FK_ENOTFOUND;
}

int fk__template_new(fk_template **out, uint16_t template_id, const fk_field_spec *fields,
                     uint16_t count, uint16_t scope_count, const fk_ie_registry *reg)
{
    *out = NULL;
    if (template_id < FK_IPFIX_SET_DATA_MIN)
        return fk__error(FK_EMALFORMED, "template: id %u is below 256", (unsigned)template_id);
    fk_template *t = FK__NEW(fk_template);
    if (!t)
        return fk__error(FK_ENOMEM, "template: out of memory");
    int rc = fk__plan_compile(&t->plan, fields, count, scope_count, reg);
    if (rc < 0) {
        fk__free(t);
        return rc;
    }
    t->specs = fk__calloc(count, sizeof *t->specs);
    if (!t->specs) {
        fk__template_free(t);
        return fk__error(FK_ENOMEM, "template: out of memory");
    }
    memcpy(t->specs, fields, (size_t)count * sizeof *t->specs);
    for (uint16_t i = 0; i < count; i++)
        t->specs[i].id &= 0x7fffu;
    t->id = template_id;
    t->count = count;
    t->scope_count = scope_count;
    *out = t;
    return 0;
}

void fk__template_free(fk_template *t)
{
    if (!t)
        return;
    fk__plan_free(t->plan);
    fk__free(t->specs);
    fk__free(t);
}

/* -------------------------------------------------------------------- cache */

int fk_template_cache_create(fk_template_cache **out, const fk_ie_registry *reg)
{
    if (!out)
        return fk__error(FK_EINVAL, "template cache: NULL output");
    *out = NULL;
    fk_template_cache *c = FK__NEW(fk_template_cache);
    if (!c)
        return fk__error(FK_ENOMEM, "template cache: out of memory");
    c->reg = reg;
    fk__hmap_init(&c->templates, sizeof(tkey), sizeof(fk_template *));
    fk__hmap_init(&c->sessions, sizeof(uint64_t), sizeof(tsession));
    int rc = fk__params_init(&c->params, "template cache", tcache_params,
                             sizeof tcache_params / sizeof tcache_params[0]);
    if (rc < 0) {
        fk__free(c);
        return rc;
    }
    *out = c;
    return 0;
}

void fk_template_cache_destroy(fk_template_cache *c)
{
    if (!c)
        return;
    size_t pos = 0;
    void *val;
    while (fk__hmap_next(&c->templates, &pos, NULL, &val))
        fk__template_free(*(fk_template **)val);
    fk__hmap_free(&c->templates);
    fk__hmap_free(&c->sessions);
    fk__params_free(&c->params);
    fk__free(c);
}

int fk_template_cache_set_int(fk_template_cache *c, int param, int64_t value)
{
    if (!c)
        return fk__error(FK_EINVAL, "template cache: NULL handle");
    return fk__params_set_int(&c->params, param, value);
}

int fk_template_cache_set_text(fk_template_cache *c, const char *name, const char *text)
{
    if (!c)
        return fk__error(FK_EINVAL, "template cache: NULL handle");
    return fk__params_set_text(&c->params, name, text);
}

int fk_template_cache_get_int(const fk_template_cache *c, int param, int64_t *out)
{
    if (!c || !out)
        return fk__error(FK_EINVAL, "template cache: NULL argument");
    return fk__params_get_int(&c->params, param, out);
}

const fk_param_info *fk_template_cache_params(size_t *count)
{
    if (count)
        *count = sizeof tcache_params / sizeof tcache_params[0];
    return tcache_params;
}

int fk_template_cache_activate(fk_template_cache *c)
{
    if (!c)
        return fk__error(FK_EINVAL, "template cache: NULL handle");
    c->params.activated = true;
    return 0;
}

static tkey key_of(uint64_t session, uint32_t domain, uint16_t tid)
{
    tkey k;
    memset(&k, 0, sizeof k);
    k.session = session;
    k.domain = domain;
    k.id = tid;
    return k;
}

/* The stored template under (session, domain, tid), or NULL. */
static fk_template *lookup(fk_template_cache *c, uint64_t session, uint32_t domain, uint16_t tid)
{
    c->steps++;
    tkey k = key_of(session, domain, tid);
    fk_template **v = fk__hmap_get(&c->templates, &k);
    return v ? *v : NULL;
}

static tsession *session_find(fk_template_cache *c, uint64_t session)
{
    c->steps++;
    return fk__hmap_get(&c->sessions, &session);
}

static void session_link(tsession *e, fk_template *t)
{
    t->s_prev = NULL;
    t->s_next = e->first;
    if (e->first)
        e->first->s_prev = t;
    e->first = t;
    e->count++;
}

/* Take t out of its session's list (the entry goes with the last one). */
static void session_unlink(fk_template_cache *c, fk_template *t)
{
    tsession *e = session_find(c, t->session);
    if (t->s_prev)
        t->s_prev->s_next = t->s_next;
    else
        e->first = t->s_next;
    if (t->s_next)
        t->s_next->s_prev = t->s_prev;
    if (--e->count == 0)
        fk__hmap_del(&c->sessions, &t->session);
}

/* Fibonacci hashing spreads ids 256, 257, ... and 1024, 2048, ... alike. */
static unsigned memo_slot(uint16_t template_id)
{
    return (unsigned)(((uint32_t)template_id * 0x9E3779B1u) >> 29);
}

static void memo_forget(fk_template_cache *c, const fk_template *t)
{
    unsigned slot = memo_slot(t->id);
    if (c->memo[slot] == t)
        c->memo[slot] = NULL;
}

/* Remove t from the cache and free it. */
static void remove_template(fk_template_cache *c, fk_template *t)
{
    tkey k = key_of(t->session, t->domain, t->id);
    fk__hmap_del(&c->templates, &k);
    session_unlink(c, t);
    memo_forget(c, t);
    fk__template_free(t);
}

/* Remove the templates of session (of domain when !all_domains, data or
 * options ones as options says, or every one when all_kinds); returns how
 * many. Visits only that session's templates. */
static int remove_session(fk_template_cache *c, uint64_t session, bool all_domains, uint32_t domain,
                          bool all_kinds, int options)
{
    tsession *e = session_find(c, session);
    int removed = 0;
    fk_template *t = e ? e->first : NULL;
    while (t) {
        fk_template *next = t->s_next;
        c->steps++;
        if ((all_domains || t->domain == domain) &&
            (all_kinds || (t->scope_count > 0) == options)) {
            bool last = e->count == 1;
            remove_template(c, t); /* deletes e with the session's last one */
            removed++;
            if (last)
                break;
        }
        t = next;
    }
    return removed;
}

/* Replace old (same key) by t in the map and in old's place in its
 * session's list, then free old. */
static void replace_template(fk_template_cache *c, fk_template *old, fk_template *t)
{
    tkey k = key_of(t->session, t->domain, t->id);
    fk_template **v = fk__hmap_get(&c->templates, &k);
    *v = t;
    t->s_prev = old->s_prev;
    t->s_next = old->s_next;
    if (t->s_prev)
        t->s_prev->s_next = t;
    else
        session_find(c, t->session)->first = t;
    if (t->s_next)
        t->s_next->s_prev = t;
    memo_forget(c, old);
    fk__template_free(old);
}

/* Store a new t; FK_ENOMEM (t not stored) when a map cannot grow. */
static int insert_template(fk_template_cache *c, fk_template *t)
{
    void *sv;
    tsession *e = session_find(c, t->session);
    if (!e) {
        if (fk__hmap_put(&c->sessions, &t->session, NULL, &sv) < 0)
            return FK_ENOMEM;
        e = sv;
    }
    tkey k = key_of(t->session, t->domain, t->id);
    if (fk__hmap_put(&c->templates, &k, &t, NULL) < 0) {
        if (e->count == 0)
            fk__hmap_del(&c->sessions, &t->session);
        return FK_ENOMEM;
    }
    session_link(e, t);
    return 0;
}

uint64_t fk__template_cache_steps(const fk_template_cache *c)
{
    return c->steps;
}

/* Whether t is the template these fields describe (an exporter's refresh). */
static bool same_template(const fk_template *t, const fk_field_spec *fields, uint16_t count,
                          uint16_t scope_count)
{
    if (t->count != count || t->scope_count != scope_count)
        return false;
    for (uint16_t i = 0; i < count; i++)
        if (t->specs[i].id != (fields[i].id & 0x7fffu) || t->specs[i].length != fields[i].length ||
            t->specs[i].pen != fields[i].pen || t->specs[i].flags != fields[i].flags)
            return false;
    return true;
}

int fk_template_cache_add(fk_template_cache *c, uint64_t session, uint32_t domain,
                          uint16_t template_id, const fk_field_spec *fields, uint16_t count,
                          uint16_t scope_count, const fk_template **out)
{
    if (out)
        *out = NULL;
    if (!c || (!fields && count))
        return fk__error(FK_EINVAL, "template cache: NULL argument");
    c->params.activated = true;
    int64_t max_fields = fk__params_int(&c->params, FK_TCACHE_MAX_FIELDS);
    if (count > max_fields)
        return fk__error(FK_ERANGE, "template cache: template %u has %u fields (max_fields %lld)",
                         (unsigned)template_id, (unsigned)count, (long long)max_fields);
    fk_template *old = lookup(c, session, domain, template_id);
    if (old && same_template(old, fields, count, scope_count)) {
        /* A refresh of the template held (UDP exporters repeat theirs, some
         * in every message): keep its compiled plan rather than compile the
         * same one again. */
        if (out)
            *out = old;
        return 0;
    }
    if (!old) {
        int64_t max_total = fk__params_int(&c->params, FK_TCACHE_MAX_TEMPLATES);
        int64_t max_session = fk__params_int(&c->params, FK_TCACHE_MAX_PER_SESSION);
        if ((int64_t)c->templates.count >= max_total)
            return fk__error(FK_ERANGE, "template cache: full (max_templates %lld)",
                             (long long)max_total);
        tsession *e = session_find(c, session);
        if (e && (int64_t)e->count >= max_session)
            return fk__error(FK_ERANGE, "template cache: session holds max_per_session %lld",
                             (long long)max_session);
    }
    fk_template *t;
    int rc = fk__template_new(&t, template_id, fields, count, scope_count, c->reg);
    if (rc < 0)
        return rc;
    t->session = session;
    t->domain = domain;
    if (old) {
        replace_template(c, old, t);
    } else if (insert_template(c, t) < 0) {
        fk__template_free(t);
        return fk__error(FK_ENOMEM, "template cache: out of memory");
    }
    if (out)
        *out = t;
    return 0;
}

int fk_template_cache_find(const fk_template_cache *cc, uint64_t session, uint32_t domain,
                           uint16_t template_id, const fk_template **out)
{
    /* Finding changes no template: only the memo and the step count, which
     * belong to the one thread that uses the cache. */
    fk_template_cache *c = (fk_template_cache *)cc;
    unsigned slot = memo_slot(template_id);
    const fk_template *t = c->memo[slot];
    if (!t || t->id != template_id || t->session != session || t->domain != domain) {
        t = lookup(c, session, domain, template_id);
        if (t)
            c->memo[slot] = t;
    }
    *out = t;
    return t ? 0 : FK_ENOTEMPLATE;
}

int fk_template_cache_withdraw(fk_template_cache *c, uint64_t session, uint32_t domain,
                               uint16_t template_id)
{
    if (!c)
        return fk__error(FK_EINVAL, "template cache: NULL handle");
    if (template_id >= FK_IPFIX_SET_DATA_MIN) {
        fk_template *t = lookup(c, session, domain, template_id);
        if (!t)
            return 0;
        remove_template(c, t);
        return 1;
    }
    if (template_id != FK_IPFIX_SET_TEMPLATE && template_id != FK_IPFIX_SET_OPTIONS_TEMPLATE)
        return fk__error(FK_EINVAL, "template cache: cannot withdraw template id %u",
                         (unsigned)template_id);
    return remove_session(c, session, false, domain, false,
                          template_id == FK_IPFIX_SET_OPTIONS_TEMPLATE);
}

int fk_template_cache_drop_session(fk_template_cache *c, uint64_t session)
{
    if (!c)
        return 0;
    return remove_session(c, session, true, 0, true, 0);
}

size_t fk_template_cache_get_count(const fk_template_cache *c)
{
    return c ? c->templates.count : 0;
}
