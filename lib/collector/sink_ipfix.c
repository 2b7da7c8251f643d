/* IPFIX file output (RFC 5655): the file is a sequence of IPFIX messages;
 * the first message of every file (and of every file after rotation or
 * reopen) carries the templates, so each file can be read on its own.
 *
 * Eight data templates cover the combinations of flow address family,
 * exporter address family and biflow (RFC 5103 reverse counters):
 * id = 256 + (flow is IPv6) + 2 * (exporter is IPv6) + 4 * (biflow).
 * Biflow records are written only with ipfix_biflow = 1 (k->biflow);
 * by default a flow with reverse packets becomes two records, one per
 * direction, so that readers ignoring RFC 5103 count every byte.
 * A flow that names its process (pid, uid, user or executable) uses
 * id + 8, the same fields followed by flowkit-export's process elements
 * (processId, userId, processName, userName, processExecutable; the
 * enterprise ones under the sink's PEN, k->pen). TCP session events
 * (fk_flow::event) use 272 + (IPv6) + 2 * (exporter IPv6) + 4 * (process):
 * the tuple, tcpControlBits, observationTimeMilliseconds and
 * sessionEventKind as flowkit-export sends them (docs/exporter-elements.md),
 * then the observation domain and exporter, then the process elements.
 * A biflow of ICMP whose reverse direction was seen (FK_FLOW_HAS_REV_ICMP)
 * uses id + 32: the reverse icmpTypeCodeIPv4/IPv6 (PEN 29305) follows the
 * reverse counters.
 * Live and tunnel fields add to the id: + 64 with flowDirection, + 128
 * with the tunnel elements (tunnelType, outer addresses, virtualNetworkId,
 * layer2SegmentId), + 256 when the outer addresses are IPv6, + 512 with
 * the record's metadataTags (events: + 512 only). Those templates (ids
 * 320 and up) are written when a record first needs them, in the message
 * that carries it; the 48 plain ones start every file.
 * Not stored: tos, vlan, interface names, the source version
 * (docs/collector-performance.md says so).
 *
 * Templates and records come from flowkit's one template description
 * (ipfix/flow_template.h, parts FK__FT_INTERFACES | FK__FT_ORIGIN). Plain
 * flows keep fixed layouts, so records are written field by field straight
 * into the output buffer (sink_out.c), one data set per run of records with
 * the same template, up to 64 KiB per message. The message header carries
 * the export time at which the message was started and, as sequence
 * number, the data records written before it (RFC 7011 3.1). A message is
 * closed when full, and at a dispatch once it has waited 20 ms. */
#include <flowkit/template.h>
#include <flowkit/exporter.h>
#include <string.h>

#include "collector/internal.h"
#include "core/alloc.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/bytes.h"
#include "core/hmap.h"
#include "ipfix/flow_template.h"

#define MSG_MAX 65535
#define NTEMPLATES 48
#define T_PROC 8        /* flow template + 8: with process elements */
#define T_EVENT 16      /* 256 + 16 + v: session event (v & 4: with process elements) */
#define T_ICMP 32       /* biflow template + 32: with the reverse ICMP type and code */
#define T_DIR 64        /* + flowDirection */
#define T_TUNNEL 128    /* + the tunnel elements */
#define T_TUNNEL_V6 256 /* ... with IPv6 outer addresses */
#define T_TAGS 512      /* + metadataTags */
#define T_ALL 1024      /* variants in all: ids 256 .. 1279 */
/* Longest string stored (the collector's own caps are below). */
#define STR_MAX 1024
/* Output buffers (sink_out.c); messages are written straight into them. */
#define OUT_BUFFER (1 << 20)

/* Pass-through (see the end of this file): an exporter's observation
 * domain, by (session, domain), gets a domain of the file's. */
typedef struct raw_key {
    uint64_t session;
    uint32_t odid;
    uint32_t zero; /* no padding in hashed keys */
} raw_key;
struct raw_dom;
typedef struct ipfix_priv {
    fk__sink_out *out;   /* started at the first open */
    fk__hmap raw;        /* raw_key -> struct raw_dom * */
    uint32_t epoch;      /* changes with each file (and lost write): templates again */
    uint32_t next_odid;  /* next domain of the file's for an exporter's domain */
    uint32_t msg_odid;   /* the open message's domain: 0 = flowkit's own records */
    uint32_t msg_export; /* its export time when it holds an exporter's sets, else 0 */
    uint32_t *msg_seq;   /* its domain's record count (sequence number) */
    bool need_templates;
    uint8_t *msg;      /* the open message (in the output buffer), or NULL */
    size_t len;        /* its length so far */
    size_t set;        /* offset of the open data set's header; 0 = none */
    uint16_t set_tid;  /* template of the open data set */
    uint32_t records;  /* data records in the open message */
    uint32_t sequence; /* data records in earlier messages */
    int64_t begun_ns;  /* when the open message was started */
    /* variants >= NTEMPLATES announced in this file (written on demand) */
    uint8_t announced[T_ALL / 8];
} ipfix_priv;

static bool has_process(const fk_flow *f)
{
    return (f->present & (FK_FLOW_HAS_PROCESS | FK_FLOW_HAS_UID)) || f->user || f->exe;
}

static uint16_t template_for(const fk_flow *f)
{
    int v = (f->src.family == 6) + 2 * (f->exporter.family == 6);
    int tags = f->tags && f->tags[0] ? T_TAGS : 0;
    if (__builtin_expect(f->event != 0, 0))
        return (uint16_t)(256 + T_EVENT + v + 4 * has_process(f) + tags);
    bool rev = f->present & FK_FLOW_HAS_REVERSE;
    unsigned live = fk__ft_live_parts(f);
    int extra = ((live & FK__FT_DIRECTION) ? T_DIR : 0) | ((live & FK__FT_TUNNEL) ? T_TUNNEL : 0) |
                ((live & FK__FT_TUNNEL_V6) ? T_TUNNEL_V6 : 0) | tags;
    return (uint16_t)(256 + v + 4 * rev + (__builtin_expect(has_process(f), 0) ? T_PROC : 0) +
                      (rev && (f->present & FK_FLOW_HAS_REV_ICMP) ? T_ICMP : 0) + extra);
}

/* The parts of flowkit's template description (ipfix/flow_template.h)
 * that template 256 + v is made of: what a collector heard (interfaces,
 * sampling, observation domain and exporter address). */
static unsigned template_parts(int v)
{
    unsigned icmp = (v & T_ICMP) ? FK__FT_REV_ICMP : 0;
    unsigned tags = (v & T_TAGS) ? FK__FT_TAGS : 0;
    unsigned live = ((v & T_DIR) ? FK__FT_DIRECTION : 0) | ((v & T_TUNNEL) ? FK__FT_TUNNEL : 0) |
                    ((v & T_TUNNEL_V6) ? FK__FT_TUNNEL_V6 : 0);
    v &= ~(T_ICMP | T_DIR | T_TUNNEL | T_TUNNEL_V6 | T_TAGS);
    if (v >= T_EVENT) {
        int e = v - T_EVENT;
        return FK__FT_EVENT | FK__FT_ORIGIN | ((e & 1) ? FK__FT_V6 : 0) |
               ((e & 2) ? FK__FT_ORIGIN_V6 : 0) | ((e & 4) ? FK__FT_PROCESS : 0) | tags;
    }
    return FK__FT_INTERFACES | FK__FT_ORIGIN | ((v & 1) ? FK__FT_V6 : 0) |
           ((v & 2) ? FK__FT_ORIGIN_V6 : 0) | ((v & 4) ? FK__FT_REVERSE | icmp : 0) |
           ((v & T_PROC) ? FK__FT_PROCESS : 0) | live | tags;
}

/* One template record (id 256 + v) at q; returns its end. */
static uint8_t *put_template(uint8_t *q, int v, uint32_t pen)
{
    fk_field_spec f[FK__FT_FIELDS_MAX];
    size_t n = fk__ft_fields(f, FK__FT_FIELDS_MAX, template_parts(v), pen);
    q = fk__put16(q, 256u + (unsigned)v);
    q = fk__put16(q, (unsigned)n);
    for (size_t i = 0; i < n; i++) {
        q = fk__put16(q, f[i].id | (f[i].pen ? 0x8000u : 0));
        q = fk__put16(q, f[i].length);
        if (f[i].pen)
            q = fk__put32(q, f[i].pen);
    }
    return q;
}

/* Bytes of a template set holding the template of variant v. */
static size_t template_set_len(int v, uint32_t pen)
{
    uint8_t tmp[4 + 4 + FK__FT_FIELDS_MAX * 8];
    return 4 + (size_t)(put_template(tmp + 4, v, pen) - (tmp + 4));
}

static size_t cut(const char *s, size_t max)
{
    return s ? strnlen(s, max) : 0;
}

/* The process elements of f; unknown values as flowkit-export sends them
 * (pid 0, uid 4294967295, empty strings). */
static const fk__ft_process *proc_values(fk__ft_process *out, const fk_flow *f)
{
    bool proc = f->present & FK_FLOW_HAS_PROCESS;
    out->pid = proc ? f->pid : 0;
    out->uid = (f->present & FK_FLOW_HAS_UID) ? f->uid : UINT32_MAX;
    out->name = f->process;
    out->name_len = proc ? cut(f->process, sizeof f->process) : 0;
    out->user = f->user;
    out->user_len = cut(f->user, STR_MAX);
    out->exe = f->exe;
    out->exe_len = cut(f->exe, STR_MAX);
    return out;
}

int fk__sink_ipfix_priv(fk__sink *k)
{
    ipfix_priv *p = FK__NEW(ipfix_priv);
    if (!p)
        return fk__error(FK_ENOMEM, "ipfix output: out of memory");
    fk__hmap_init(&p->raw, sizeof(raw_key), sizeof(struct raw_dom *));
    p->next_odid = 1;
    k->priv = p;
    return FK_OK;
}

static void raw_free_all(ipfix_priv *p);

static void ipfix_free_priv(void *priv)
{
    ipfix_priv *p = priv;
    if (!p)
        return;
    fk__sink_out_destroy(p->out);
    raw_free_all(p);
    fk__free(p);
}

static int ipfix_open(fk__sink *k)
{
    ipfix_priv *p = k->priv;
    if (!p->out) {
        int rc = fk__sink_out_create(&p->out, OUT_BUFFER);
        if (rc)
            return rc;
    }
    fflush(k->fp);
    fk__sink_out_set_fd(p->out, fileno(k->fp));
    /* Whatever was open belonged to the previous file. */
    p->msg = NULL;
    p->need_templates = true;
    p->epoch++; /* pass-through domains and templates are written again */
    return FK_OK;
}

static void begin_message(fk__sink *k, ipfix_priv *p)
{
    p->msg = (uint8_t *)fk__sink_out_room(p->out, MSG_MAX);
    p->begun_ns = fk__mono_ns();
    p->msg_odid = 0;
    p->msg_export = 0;
    p->msg_seq = &p->sequence;
    p->len = 16;
    p->set = 0;
    p->records = 0;
    if (p->need_templates) {
        uint8_t *q = p->msg + 16 + 4;
        for (int v = 0; v < NTEMPLATES; v++) {
            if ((v & T_ICMP) && !(template_parts(v) & FK__FT_REV_ICMP))
                continue; /* ids no record uses */
            q = put_template(q, v, k->pen);
        }
        memset(p->announced, 0, sizeof p->announced);
        size_t set_len = (size_t)(q - (p->msg + 16));
        fk__put16(p->msg + 16, 2);
        fk__put16(p->msg + 18, (unsigned)set_len);
        p->len += set_len;
        p->need_templates = false;
    }
}

/* Notes records the writer lost. A lost message may have carried the
 * templates, so the open message (begun without them) is dropped and
 * counted, and the next one carries them again. */
static int out_check(fk__sink *k, int rc, uint64_t lost)
{
    ipfix_priv *p = k->priv;
    if (!rc)
        return FK_OK;
    if (p->msg) {
        lost += p->records;
        p->msg = NULL;
    }
    p->need_templates = true;
    p->epoch++; /* and the pass-through domains and templates */
    fk__sink_note_failure(k, lost);
    return rc;
}

static void close_set(ipfix_priv *p)
{
    if (p->set)
        fk__put16(p->msg + p->set + 2, (unsigned)(p->len - p->set));
    p->set = 0;
}

static int end_message(fk__sink *k)
{
    ipfix_priv *p = k->priv;
    if (!p->msg)
        return FK_OK;
    close_set(p);
    uint8_t *h = p->msg;
    h = fk__put16(h, 10);
    h = fk__put16(h, (unsigned)p->len);
    h = fk__put32(h, p->msg_export ? p->msg_export : (uint32_t)(fk__real_ns() / 1000000000));
    h = fk__put32(h, *p->msg_seq);
    /* Own records: domain 0, the exporter's domain is in each record; an
     * exporter's sets: the file's domain for it (pass-through). */
    fk__put32(h, p->msg_odid);
    fk__sink_out_commit(p->out, p->len, p->records);
    k->written += p->len;
    *p->msg_seq += p->records;
    p->msg = NULL;
    uint64_t lost;
    int rc = fk__sink_out_check(p->out, k->path, &lost);
    return out_check(k, rc, lost);
}

static bool announced(const ipfix_priv *p, int v)
{
    return v < NTEMPLATES || (p->announced[v / 8] & (1u << (v % 8)));
}

static int write_record(fk__sink *k, const fk_flow *f)
{
    ipfix_priv *p = k->priv;
    uint16_t tid = template_for(f);
    int v = tid - 256;
    unsigned parts = template_parts(v);
    fk__ft_process pv;
    const fk__ft_process *proc = (parts & FK__FT_PROCESS) ? proc_values(&pv, f) : NULL;
    size_t tmpl = announced(p, v) ? 0 : template_set_len(v, k->pen);
    size_t need = fk__ft_record_len(parts, proc, fk__ft_tags_len(f)) + 4 + tmpl;
    /* A message of passed-through sets carries their export time, not
     * the file's: own records start a new one. */
    if (p->msg && (p->len + need > MSG_MAX || p->msg_odid))
        (void)end_message(k); /* a failure is noted; this record goes on */
    if (!p->msg)
        begin_message(k, p);
    if (!announced(p, v)) { /* its template first, in this message */
        close_set(p);
        uint8_t *q = put_template(p->msg + p->len + 4, v, k->pen);
        size_t set_len = (size_t)(q - (p->msg + p->len));
        fk__put16(p->msg + p->len, 2);
        fk__put16(p->msg + p->len + 2, (unsigned)set_len);
        p->len += set_len;
        p->announced[v / 8] |= (uint8_t)(1u << (v % 8));
    }
    if (!p->set || p->set_tid != tid) {
        close_set(p);
        p->set = p->len;
        p->set_tid = tid;
        fk__put16(p->msg + p->len, tid);
        p->len += 4;
    }
    uint8_t *end = fk__ft_write(p->msg + p->len, parts, f, proc);
    p->len = (size_t)(end - p->msg);
    p->records++;
    return FK_OK;
}

/* A biflow goes out as one record with reverse counters (k->biflow) or as
 * one record per direction (fk__ft_split_biflow). */
static int ipfix_write(fk__sink *k, const fk_flow *f)
{
    if (f->src.family != 4 && f->src.family != 6)
        return fk__error(FK_EINVAL, "ipfix:%s: flow without addresses", k->path);
    if (k->biflow || f->event || !(f->present & FK_FLOW_HAS_REVERSE))
        return write_record(k, f);
    fk_flow fwd, rev;
    int n = fk__ft_split_biflow(f, &fwd, &rev);
    int rc = write_record(k, &fwd);
    return rc || n == 1 ? rc : write_record(k, &rev);
}

/* ---- pass-through ------------------------------------------------------ */

/* The data sets an exporter sent are stored as they came (the collector
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

typedef struct raw_dom {
    uint32_t file_odid;
    uint32_t epoch;    /* the file its origin record was written to */
    uint32_t sequence; /* its records in this file before the open message */
    fk__hmap tmpls;    /* uint32_t template id -> raw_tmpl */
    raw_kept kept[KEEP_OPTS];
} raw_dom;

static void raw_free_all(ipfix_priv *p)
{
    size_t pos = 0;
    const void *key;
    void *val;
    while (fk__hmap_next(&p->raw, &pos, &key, &val)) {
        raw_dom *d = *(raw_dom **)val;
        fk__hmap_free(&d->tmpls);
        for (int i = 0; i < KEEP_OPTS; i++)
            fk__free(d->kept[i].sets);
        fk__free(d);
    }
    fk__hmap_free(&p->raw);
}

static raw_dom *raw_domain(ipfix_priv *p, const fk__col_raw_set *rs)
{
    raw_key key;
    memset(&key, 0, sizeof key);
    key.session = rs->session;
    key.odid = rs->odid;
    raw_dom **slot = fk__hmap_get(&p->raw, &key);
    if (slot)
        return *slot;
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
        (void)end_message(k); /* a failure is noted; the set goes on */
    if (p->msg)
        return;
    if (p->need_templates) { /* flowkit's own templates open every file, in domain 0 */
        begin_message(k, p);
        (void)end_message(k);
    }
    begin_message(k, p);
    p->msg_odid = d->file_odid;
    p->msg_export = export_secs;
    p->msg_seq = &d->sequence;
}

/* The domain's origin and kept options, and the set's template, where
 * this file does not have them yet. */
static int raw_meta(fk__sink *k, ipfix_priv *p, raw_dom *d, const fk__col_raw_set *rs)
{
    uint32_t tid = rs->set_id;
    raw_tmpl *t = fk__hmap_get(&d->tmpls, &tid);
    bool fresh = d->epoch != p->epoch;
    bool tmpl = !t || t->layout != rs->raw->layout || t->epoch != p->epoch;
    if (!fresh && !tmpl)
        return FK_OK;
    if (!t) {
        void *out;
        if (fk__hmap_put(&d->tmpls, &tid, NULL, &out) != FK_OK)
            return fk__error(FK_ENOMEM, "ipfix:%s: out of memory", k->path);
        t = out;
    }
    if (fresh) {
        if (p->msg && p->msg_odid == d->file_odid)
            (void)end_message(k); /* its sequence starts again in this file */
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
            raw_tmpl *kt = fk__hmap_get(&d->tmpls, &ktid);
            if (kt)
                kt->epoch = p->epoch;
            /* kept records are not counted again: the reader sees options */
        }
        d->epoch = p->epoch;
        t = fk__hmap_get(&d->tmpls, &tid); /* still there: no put since */
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
        const raw_tmpl *t = fk__hmap_get(&d->tmpls, &tid);
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

static int ipfix_flush(fk__sink *k)
{
    int rc = end_message(k);
    uint64_t lost;
    int rc2 = fk__sink_out_sync(((ipfix_priv *)k->priv)->out, k->path, &lost);
    rc2 = out_check(k, rc2, lost);
    return rc ? rc : rc2;
}

static int ipfix_submit(fk__sink *k)
{
    ipfix_priv *p = k->priv;
    int rc = FK_OK;
    if (p->msg && fk__mono_ns() - p->begun_ns >= FK__SINK_OUT_AGE_NS) {
        /* The message waited long enough: it goes out with what precedes it. */
        rc = end_message(k);
        fk__sink_out_submit(p->out);
    } else if (!p->msg) {
        fk__sink_out_submit_due(p->out);
    }
    uint64_t lost;
    int rc2 = fk__sink_out_check(p->out, k->path, &lost);
    rc2 = out_check(k, rc2, lost);
    return rc ? rc : rc2;
}

static int64_t ipfix_pending_since(const fk__sink *k)
{
    const ipfix_priv *p = k->priv;
    if (p->msg)
        return p->begun_ns;
    return p->out ? fk__sink_out_pending_since(p->out) : -1;
}

static void ipfix_close(fk__sink *k)
{
    (void)ipfix_flush(k);
}

const fk__sink_ops fk__sink_ipfix_ops = {"ipfix",      ipfix_open,         ipfix_write,
                                         ipfix_flush,  ipfix_close,        ipfix_free_priv,
                                         ipfix_submit, ipfix_pending_since};
