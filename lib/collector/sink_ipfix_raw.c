/* IPFIX file output, pass-through half (the rest is sink_ipfix.c): the
 * data sets an exporter sent are stored as they came (the collector
 * decides which: fk__col_deliver_raw). Each exporter's observation domain
 * (transport session x domain id) gets a domain of the file's, numbered
 * from 1 in order of appearance (0 holds flowkit's own records), so the
 * exporter's template ids and options data keep their scope unchanged.
 * Ahead of its first set in each file, a domain gets an options record
 * naming its origin (template 65535: scope observationDomainId = the
 * exporter's domain id, then exporterIPv4Address or exporterIPv6Address;
 * the collector never passes an exporter's template 65535 through), and
 * every template goes ahead of its first use in the file (again when the
 * exporter changes its fields). Options sets of fixed length (sampling,
 * interface names, boot time) are stored too, and the last few of each
 * domain are kept to go ahead of its records in the next file. A message
 * holds the sets of one domain with their message's export time; its
 * sequence number counts the domain's records before it in the file. */
#include <flowkit/template.h>
#include <string.h>

#include "collector/internal.h"
#include "collector/sink_ipfix_int.h"
#include "core/alloc.h"
#include "core/bytes.h"
#include "core/error.h"
#include "core/hmap.h"

#define ORIGIN_TID 65535
#define KEEP_OPTS 4   /* options sets kept per domain for the next file */
#define KEEP_MAX 4096 /* bytes of one kept options set (template + data) */

typedef struct raw_tmpl {
    uint64_t layout; /* the exporter's template as last written */
    uint32_t epoch;  /* the file (ipfix_priv.epoch) it was last written to */
} raw_tmpl;

typedef struct raw_kept {
    uint16_t tid;
    size_t len;
    uint8_t *sets; /* its template set and its data set, as written */
} raw_kept;

/* Slots of a domain's template cache: an exporter's data sets come from a
 * handful of templates at a time (softflowd: IPv4, IPv6, options). */
#define TCACHE 8 /* the slot is the top 3 bits of a 32-bit product (tmpl_get) */

typedef struct raw_dom {
    uint32_t file_odid;
    uint32_t epoch;    /* the file its origin record was written to */
    uint32_t sequence; /* its records in this file before the open message */
    fk__hmap tmpls;    /* uint32_t template id -> raw_tmpl */
    /* Direct-mapped by template id: what fk__hmap_get(&tmpls) gives, without
     * hashing. Values of tmpls move when it grows, so every put into it
     * empties the cache (tmpl_put); a raw_tmpl is never removed otherwise.
     * Template withdrawal, redefinition and exporter restarts need nothing
     * here: they change the exporter's layout, which raw_meta compares on
     * every set; a new file changes ipfix_priv.epoch, compared likewise. */
    struct {
        uint32_t tid; /* 0 = empty (data set ids are >= 256) */
        raw_tmpl *t;
    } tcache[TCACHE];
    raw_kept kept[KEEP_OPTS];
} raw_dom;

/* d's state of template tid, or NULL. */
static raw_tmpl *tmpl_get(raw_dom *d, uint32_t tid)
{
    /* Fibonacci hashing: exporters number templates 256, 257, ... or
     * 1024, 2048, ... (softflowd); both spread over the slots. */
    unsigned slot = (unsigned)((tid * 0x9E3779B1u) >> 29);
    if (d->tcache[slot].tid == tid)
        return d->tcache[slot].t;
    raw_tmpl *t = fk__hmap_get(&d->tmpls, &tid);
    if (t) {
        d->tcache[slot].tid = tid;
        d->tcache[slot].t = t;
    }
    return t;
}

/* Add template tid to d (zeroed): NULL when out of memory. */
static raw_tmpl *tmpl_put(raw_dom *d, uint32_t tid)
{
    void *out;
    memset(d->tcache, 0, sizeof d->tcache); /* the values may have moved */
    if (fk__hmap_put(&d->tmpls, &tid, NULL, &out) != FK_OK)
        return NULL;
    return out;
}

static void raw_dom_free(raw_dom *d)
{
    fk__hmap_free(&d->tmpls);
    for (int i = 0; i < KEEP_OPTS; i++)
        fk__free(d->kept[i].sets);
    fk__free(d);
}

void fk__ipfix_raw_free_all(ipfix_priv *p)
{
    size_t pos = 0;
    const void *key;
    void *val;
    while (fk__hmap_next(&p->raw, &pos, &key, &val))
        raw_dom_free(*(raw_dom **)val);
    fk__hmap_free(&p->raw);
    p->last_dom = NULL;
}

void fk__sink_ipfix_forget(fk__sink *k, uint64_t session, uint32_t odid)
{
    ipfix_priv *p = k->priv;
    if (!p)
        return;
    raw_key key;
    memset(&key, 0, sizeof key);
    key.session = session;
    key.odid = odid;
    raw_dom **slot = fk__hmap_get(&p->raw, &key);
    if (!slot)
        return;
    raw_dom *d = *slot;
    if (p->msg && p->msg_odid == d->file_odid)
        (void)fk__ipfix_end_message(k); /* its sequence number lives in d */
    if (p->last_dom == d)
        p->last_dom = NULL;
    (void)fk__hmap_del(&p->raw, &key);
    raw_dom_free(d);
}

size_t fk__sink_ipfix_raw_domains(const fk__sink *k)
{
    const ipfix_priv *p = k->priv;
    return p ? p->raw.count : 0;
}

static raw_dom *raw_domain(ipfix_priv *p, const fk__col_raw_set *rs)
{
    if (p->last_dom && p->last_key.session == rs->session && p->last_key.odid == rs->odid)
        return p->last_dom;
    raw_key key;
    memset(&key, 0, sizeof key);
    key.session = rs->session;
    key.odid = rs->odid;
    raw_dom **slot = fk__hmap_get(&p->raw, &key);
    if (slot) {
        p->last_key = key;
        p->last_dom = *slot;
        return *slot;
    }
    raw_dom *d = FK__NEW(raw_dom);
    if (!d)
        return NULL;
    fk__hmap_init(&d->tmpls, sizeof(uint32_t), sizeof(raw_tmpl));
    d->file_odid = p->next_odid++;
    if (p->next_odid == 0)
        p->next_odid = 1; /* 2^32 domains: numbers come round */
    d->epoch = p->epoch - 1;
    if (fk__hmap_put(&p->raw, &key, &d, NULL) != FK_OK) {
        fk__hmap_free(&d->tmpls);
        fk__free(d);
        return NULL;
    }
    p->last_key = key;
    p->last_dom = d;
    return d;
}

/* Bytes of t's template set. */
static size_t template_set_size(const fk_template *t)
{
    size_t n = 4 + 4 + (fk_template_get_scope_count(t) ? 2 : 0);
    uint16_t c = fk_template_get_field_count(t);
    for (uint16_t i = 0; i < c; i++)
        n += fk_template_get_field(t, i)->pen ? 8 : 4;
    return n;
}

static uint8_t *put_template_set(uint8_t *q, const fk_template *t, uint16_t tid)
{
    uint8_t *set = q;
    uint16_t c = fk_template_get_field_count(t), scope = fk_template_get_scope_count(t);
    q = fk__put16(q + 4, tid);
    q = fk__put16(q, c);
    if (scope)
        q = fk__put16(q, scope);
    for (uint16_t i = 0; i < c; i++) {
        const fk_field_spec *f = fk_template_get_field(t, i);
        q = fk__put16(q, f->id | (f->pen ? 0x8000u : 0));
        q = fk__put16(q, f->length);
        if (f->pen)
            q = fk__put32(q, f->pen);
    }
    fk__put16(set, scope ? 3 : 2);
    fk__put16(set + 2, (unsigned)(q - set));
    return q;
}

#define ORIGIN_BYTES (4 + 6 + 8 + 4 + 4 + 16) /* its template set and its record */

/* The options template and record naming the domain's origin. */
static uint8_t *put_origin(uint8_t *q, const fk__col_raw_set *rs)
{
    bool v6 = rs->peer->addr.family == 6;
    q = fk__put16(q, 3);
    q = fk__put16(q, 4 + 6 + 8);
    q = fk__put16(q, ORIGIN_TID);
    q = fk__put16(q, 2); /* fields */
    q = fk__put16(q, 1); /* scope fields */
    q = fk__put16(q, 149);
    q = fk__put16(q, 4);
    q = fk__put16(q, v6 ? 131 : 130);
    q = fk__put16(q, v6 ? 16 : 4);
    q = fk__put16(q, ORIGIN_TID);
    q = fk__put16(q, v6 ? 4 + 4 + 16 : 4 + 4 + 4);
    q = fk__put32(q, rs->odid);
    memcpy(q, rs->peer->addr.bytes, v6 ? 16 : 4);
    return q + (v6 ? 16 : 4);
}

static size_t kept_bytes(const raw_dom *d)
{
    size_t n = 0;
    for (int i = 0; i < KEEP_OPTS; i++)
        n += d->kept[i].len;
    return n;
}

/* A message of domain d exported at export_secs with room for need more
 * bytes: the open one when it is that and has the room. */
static void raw_room(fk__sink *k, ipfix_priv *p, raw_dom *d, uint32_t export_secs, size_t need)
{
    if (p->msg &&
        (p->msg_odid != d->file_odid || p->msg_export != export_secs || p->len + need > MSG_MAX))
        (void)fk__ipfix_end_message(k); /* a failure is noted; the set goes on */
    if (p->msg)
        return;
    if (p->need_templates) { /* flowkit's own templates open every file, in domain 0 */
        fk__ipfix_begin_message(k, p);
        (void)fk__ipfix_end_message(k);
    }
    fk__ipfix_begin_message(k, p);
    p->msg_odid = d->file_odid;
    p->msg_export = export_secs;
    p->msg_seq = &d->sequence;
}

/* The domain's origin and kept options, and the set's template, where
 * this file does not have them yet. */
static int raw_meta(fk__sink *k, ipfix_priv *p, raw_dom *d, const fk__col_raw_set *rs)
{
    uint32_t tid = rs->set_id;
    raw_tmpl *t = tmpl_get(d, tid);
    bool fresh = d->epoch != p->epoch;
    bool tmpl = !t || t->layout != rs->raw->layout || t->epoch != p->epoch;
    if (!fresh && !tmpl)
        return FK_OK;
    if (!t && !(t = tmpl_put(d, tid)))
        return fk__error(FK_ENOMEM, "ipfix:%s: out of memory", k->path);
    if (fresh) {
        if (p->msg && p->msg_odid == d->file_odid)
            (void)fk__ipfix_end_message(k); /* its sequence starts again in this file */
        d->sequence = 0;
    }
    raw_room(k, p, d, rs->export_secs,
             (fresh ? ORIGIN_BYTES + kept_bytes(d) : 0) + template_set_size(rs->raw->tmpl));
    uint8_t *q = p->msg + p->len;
    if (fresh) {
        q = put_origin(q, rs);
        for (int i = 0; i < KEEP_OPTS; i++) {
            if (!d->kept[i].len)
                continue;
            memcpy(q, d->kept[i].sets, d->kept[i].len);
            q += d->kept[i].len;
            uint32_t ktid = d->kept[i].tid;
            raw_tmpl *kt = tmpl_get(d, ktid);
            if (kt)
                kt->epoch = p->epoch;
            /* kept records are not counted again: the reader sees options */
        }
        d->epoch = p->epoch;
        t = tmpl_get(d, tid); /* still there: no put since */
        tmpl = t->layout != rs->raw->layout || t->epoch != p->epoch;
    }
    if (tmpl) {
        q = put_template_set(q, rs->raw->tmpl, rs->set_id);
        t->layout = rs->raw->layout;
        t->epoch = p->epoch;
    }
    p->len = (size_t)(q - p->msg);
    return FK_OK;
}

/* Keep a copy of an options set (with its template) for the next file. */
static void raw_keep(raw_dom *d, const fk__col_raw_set *rs, size_t body)
{
    size_t len = template_set_size(rs->raw->tmpl) + 4 + body;
    int slot = -1;
    for (int i = 0; i < KEEP_OPTS && slot < 0; i++)
        if (d->kept[i].len && d->kept[i].tid == rs->set_id)
            slot = i;
    for (int i = 0; i < KEEP_OPTS && slot < 0; i++)
        if (!d->kept[i].len)
            slot = i;
    if (slot < 0 || len > KEEP_MAX)
        return; /* documented: a reader of the next file may miss it */
    uint8_t *b = fk__malloc(len);
    if (!b)
        return;
    uint8_t *q = put_template_set(b, rs->raw->tmpl, rs->set_id);
    q = fk__put16(q, rs->set_id);
    q = fk__put16(q, (unsigned)(body + 4));
    memcpy(q, rs->body, body);
    fk__free(d->kept[slot].sets);
    d->kept[slot] = (raw_kept){rs->set_id, len, b};
}

int fk__sink_ipfix_raw(fk__sink *k, const fk__col_raw_set *rs)
{
    ipfix_priv *p = k->priv;
    const fk__col_raw *r = rs->raw;
    size_t body = (size_t)r->records * r->record_len;
    raw_dom *d = raw_domain(p, rs);
    if (!d)
        return fk__error(FK_ENOMEM, "ipfix:%s: out of memory", k->path);
    /* A lost write (out_check) may take what raw_meta wrote: then again. */
    for (int attempt = 0; attempt < 3; attempt++) {
        int rc = raw_meta(k, p, d, rs);
        if (rc)
            return rc;
        uint32_t epoch = p->epoch, tid = rs->set_id;
        const raw_tmpl *t = tmpl_get(d, tid);
        if (d->epoch != epoch || !t || t->epoch != epoch)
            continue;
        raw_room(k, p, d, rs->export_secs, body + 4);
        if (p->epoch != epoch)
            continue;
        uint8_t *q = fk__put16(p->msg + p->len, rs->set_id);
        q = fk__put16(q, (unsigned)(body + 4));
        memcpy(q, rs->body, body);
        p->len += body + 4;
        if (r->options)
            raw_keep(d, rs, body);
        else
            p->records += r->records;
        return FK_OK;
    }
    return fk__error(FK_EIO, "ipfix:%s: writes keep failing", k->path);
}

bool fk__sink_ipfix_raw_run(fk__sink *k, const fk__col_raw_set *sets, size_t n, bool may_end)
{
    ipfix_priv *p = k->priv;
    raw_dom *d = raw_domain(p, &sets[0]);
    if (!d || d->epoch != p->epoch)
        return false; /* the file needs the domain's origin first */
    size_t bytes = 0;
    for (size_t i = 0; i < n; i++) {
        const fk__col_raw *r = sets[i].raw;
        const raw_tmpl *t = tmpl_get(d, sets[i].set_id);
        if (!t || t->layout != r->layout || t->epoch != p->epoch)
            return false; /* a template first */
        bytes += 4 + (size_t)r->records * r->record_len;
    }
    uint32_t export_secs = sets[0].export_secs;
    bool open = p->msg && p->msg_odid == d->file_odid && p->msg_export == export_secs;
    if (open ? p->len + bytes > MSG_MAX : !may_end || p->need_templates || 16 + bytes > MSG_MAX)
        return false; /* one by one, the message ends where it did */
    if (!open) {
        uint32_t epoch = p->epoch;
        raw_room(k, p, d, export_secs, bytes);
        if (p->epoch != epoch)
            return false; /* a lost write: the origin and templates again */
    }
    /* A set without padding is, header and all, what the file holds: the
     * sets that follow one another in the message are copied at once. */
    uint8_t *q = p->msg + p->len;
    uint32_t records = 0;
    for (size_t i = 0; i < n;) {
        const uint8_t *from = sets[i].body - 4, *end = from;
        size_t j = i;
        for (; j < n && sets[j].body - 4 == end; j++) {
            size_t body = (size_t)sets[j].raw->records * sets[j].raw->record_len;
            if (fk__get16(end + 2) != body + 4)
                break; /* padded: its length is written anew */
            end = sets[j].body + body;
            records += sets[j].raw->records;
        }
        if (j > i) {
            memcpy(q, from, (size_t)(end - from));
            q += end - from;
            i = j;
            continue;
        }
        size_t body = (size_t)sets[i].raw->records * sets[i].raw->record_len;
        q = fk__put16(q, sets[i].set_id);
        q = fk__put16(q, (unsigned)(body + 4));
        memcpy(q, sets[i].body, body);
        q += body;
        records += sets[i].raw->records;
        i++;
    }
    p->len = (size_t)(q - p->msg);
    p->records += records;
    return true;
}
