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
 * closed when full, and at a dispatch once it has waited 20 ms. The
 * exporters' own data sets stored unchanged (pass-through) are written by
 * sink_ipfix_raw.c into the same messages. */
#include <flowkit/template.h>
#include <flowkit/exporter.h>
#include <string.h>

#include "collector/internal.h"
#include "collector/sink_ipfix_int.h"
#include "core/alloc.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/bytes.h"
#include "ipfix/flow_template.h"

#define NTEMPLATES 48
#define T_PROC 8        /* flow template + 8: with process elements */
#define T_EVENT 16      /* 256 + 16 + v: session event (v & 4: with process elements) */
#define T_ICMP 32       /* biflow template + 32: with the reverse ICMP type and code */
#define T_DIR 64        /* + flowDirection */
#define T_TUNNEL 128    /* + the tunnel elements */
#define T_TUNNEL_V6 256 /* ... with IPv6 outer addresses */
#define T_TAGS 512      /* + metadataTags */
/* Longest string stored (the collector's own caps are below). */
#define STR_MAX 1024
/* Output buffers (sink_out.c); messages are written straight into them. */
#define OUT_BUFFER (1 << 20)

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

static void ipfix_free_priv(void *priv)
{
    ipfix_priv *p = priv;
    if (!p)
        return;
    fk__sink_out_destroy(p->out);
    fk__ipfix_raw_free_all(p);
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

void fk__ipfix_begin_message(fk__sink *k, ipfix_priv *p)
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

int fk__ipfix_end_message(fk__sink *k)
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
        (void)fk__ipfix_end_message(k); /* a failure is noted; this record goes on */
    if (!p->msg)
        fk__ipfix_begin_message(k, p);
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

static int ipfix_flush(fk__sink *k)
{
    int rc = fk__ipfix_end_message(k);
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
        rc = fk__ipfix_end_message(k);
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
