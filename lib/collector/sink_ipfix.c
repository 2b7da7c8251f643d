/* IPFIX file output (RFC 5655): the file is a sequence of IPFIX messages;
 * the first message of every file (and of every file after rotation or
 * reopen) carries the templates, so each file can be read on its own.
 *
 * Eight data templates cover the combinations of flow address family,
 * exporter address family and biflow (RFC 5103 reverse counters):
 * id = 256 + (flow is IPv6) + 2 * (exporter is IPv6) + 4 * (biflow).
 * A flow that names its process (pid, uid, user or executable) uses
 * id + 8, the same fields followed by flowkit-export's process elements
 * (processId, userId, processName, userName, processExecutable; the
 * enterprise ones under the sink's PEN, k->pen). TCP session events
 * (fk_flow::event) use 272 + (IPv6) + 2 * (exporter IPv6) + 4 * (process):
 * the tuple, tcpControlBits, observationTimeMilliseconds and
 * sessionEventKind as flowkit-export sends them (docs/exporter-elements.md),
 * then the observation domain and exporter, then the process elements.
 * Not stored: tos, vlan, interface names, the source version
 * (docs/collector-performance.md says so).
 *
 * Plain flows keep fixed layouts, so records are written field by field straight
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

#define MSG_MAX 65535
#define NTEMPLATES 24
#define T_PROC 8   /* flow template + 8: with process elements */
#define T_EVENT 16 /* 256 + 16 + v: session event (v & 4: with process elements) */
/* Longest string stored (the collector's own caps are below). */
#define STR_MAX 1024
/* Output buffers (sink_out.c); messages are written straight into them. */
#define OUT_BUFFER (1 << 20)

typedef struct ipfix_priv {
    fk__sink_out *out; /* started at the first open */
    bool need_templates;
    uint8_t *msg;      /* the open message (in the output buffer), or NULL */
    size_t len;        /* its length so far */
    size_t set;        /* offset of the open data set's header; 0 = none */
    uint16_t set_tid;  /* template of the open data set */
    uint32_t records;  /* data records in the open message */
    uint32_t sequence; /* data records in earlier messages */
    int64_t begun_ns;  /* when the open message was started */
} ipfix_priv;

/* One field of a template: element id, length, enterprise number. */
typedef struct tfield {
    uint16_t ie;
    uint16_t len;
    uint32_t pen;
} tfield;

static bool has_process(const fk_flow *f)
{
    return (f->present & (FK_FLOW_HAS_PROCESS | FK_FLOW_HAS_UID)) || f->user || f->exe;
}

static uint16_t template_for(const fk_flow *f)
{
    int v = (f->src.family == 6) + 2 * (f->exporter.family == 6);
    if (__builtin_expect(f->event != 0, 0))
        return (uint16_t)(256 + T_EVENT + v + 4 * has_process(f));
    return (uint16_t)(256 + v + 4 * ((f->present & FK_FLOW_HAS_REVERSE) != 0) +
                      (__builtin_expect(has_process(f), 0) ? T_PROC : 0));
}

/* flowkit-export's process elements (docs/exporter-elements.md). */
static int process_fields(tfield *f, int n, uint32_t pen)
{
    f[n++] = (tfield){FK_EXPORTER_IE_PROCESS_ID, 4, pen};
    f[n++] = (tfield){FK_EXPORTER_IE_USER_ID, 4, pen};
    f[n++] = (tfield){FK_EXPORTER_IE_PROCESS_NAME, 65535, pen};
    f[n++] = (tfield){FK_EXPORTER_IE_USER_NAME, 65535, 0}; /* IANA */
    f[n++] = (tfield){FK_EXPORTER_IE_PROCESS_EXE, 65535, pen};
    return n;
}

/* The leading fields of flow and event templates: the tuple (IPv6
 * addresses when v6) and tcpControlBits; returns how many (6). */
static int tuple_fields(tfield *f, bool v6)
{
    int n = 0;
    f[n++] = (tfield){v6 ? 27 : 8, v6 ? 16 : 4, 0};  /* source address */
    f[n++] = (tfield){v6 ? 28 : 12, v6 ? 16 : 4, 0}; /* destination address */
    f[n++] = (tfield){7, 2, 0};                      /* sourceTransportPort */
    f[n++] = (tfield){11, 2, 0};                     /* destinationTransportPort */
    f[n++] = (tfield){4, 1, 0};                      /* protocolIdentifier */
    f[n++] = (tfield){6, 2, 0};                      /* tcpControlBits */
    return n;
}

/* The fields of event template 256 + T_EVENT + v. */
static int event_fields(int v, tfield *f, uint32_t pen)
{
    bool exp6 = v & 2;
    int n = tuple_fields(f, v & 1);
    f[n++] = (tfield){323, 8, 0}; /* observationTimeMilliseconds */
    f[n++] = (tfield){FK_EXPORTER_IE_EVENT_KIND, 1, pen};
    f[n++] = (tfield){149, 4, 0};                          /* observationDomainId */
    f[n++] = (tfield){exp6 ? 131 : 130, exp6 ? 16 : 4, 0}; /* exporter address */
    if (v & 4)
        n = process_fields(f, n, pen);
    return n;
}

/* The fields of template 256 + v, in record order; returns how many. */
static int template_fields(int v, tfield *f, uint32_t pen)
{
    if (v >= T_EVENT)
        return event_fields(v - T_EVENT, f, pen);
    bool v6 = v & 1, exp6 = v & 2, rev = v & 4;
    int n = tuple_fields(f, v6);
    f[n++] = (tfield){1, 8, 0};   /* octetDeltaCount */
    f[n++] = (tfield){2, 8, 0};   /* packetDeltaCount */
    f[n++] = (tfield){152, 8, 0}; /* flowStartMilliseconds */
    f[n++] = (tfield){153, 8, 0}; /* flowEndMilliseconds */
    f[n++] = (tfield){10, 4, 0};  /* ingressInterface */
    f[n++] = (tfield){14, 4, 0};  /* egressInterface */
    f[n++] = (tfield){305, 4, 0}; /* samplingPacketInterval */
    f[n++] = (tfield){136, 1, 0}; /* flowEndReason */
    f[n++] = (tfield){149, 4, 0}; /* observationDomainId (of the exporter) */
    f[n++] = (tfield){exp6 ? 131 : 130, exp6 ? 16 : 4, 0}; /* exporter address */
    if (rev) {
        f[n++] = (tfield){1, 8, FK_PEN_REVERSE}; /* reverseOctetDeltaCount */
        f[n++] = (tfield){2, 8, FK_PEN_REVERSE}; /* reversePacketDeltaCount */
        f[n++] = (tfield){6, 2, FK_PEN_REVERSE}; /* reverseTcpControlBits */
    }
    if (v & T_PROC)
        n = process_fields(f, n, pen);
    return n;
}

static uint8_t *put8(uint8_t *p, unsigned v)
{
    *p = (uint8_t)v;
    return p + 1;
}

static uint8_t *put_addr(uint8_t *p, const fk_addr *a, bool v6)
{
    size_t n = v6 ? 16 : 4;
    if (a->family == (v6 ? 6 : 4))
        memcpy(p, a->bytes, n);
    else
        memset(p, 0, n);
    return p + n;
}

static uint64_t msecs(int64_t ns)
{
    return ns > 0 ? (uint64_t)(ns / 1000000) : 0;
}

/* Record length of flow template 256 + v (v < 8). */
static size_t record_len(int v)
{
    return 68 + ((v & 1) ? 24 : 0) + ((v & 2) ? 12 : 0) + ((v & 4) ? 18 : 0);
}

static size_t cut(const char *s, size_t max)
{
    return s ? strnlen(s, max) : 0;
}

/* Bytes of one variable-length string field: length prefix + text. */
static size_t str_len(size_t n)
{
    return (n < 255 ? 1 : 3) + n;
}

static uint8_t *put_str(uint8_t *p, const char *s, size_t n)
{
    if (n < 255) {
        *p++ = (uint8_t)n;
    } else { /* RFC 7011 7: 255, then a two-octet length */
        *p++ = 255;
        p = fk__put16(p, (unsigned)n);
    }
    if (n)
        memcpy(p, s, n);
    return p + n;
}

/* The process elements: processId, userId, processName, userName,
 * processExecutable; unknown values as flowkit-export sends them (pid 0,
 * uid 4294967295, empty strings). */
static size_t process_len(const fk_flow *f)
{
    size_t name = (f->present & FK_FLOW_HAS_PROCESS) ? cut(f->process, sizeof f->process) : 0;
    return 8 + str_len(name) + str_len(cut(f->user, STR_MAX)) + str_len(cut(f->exe, STR_MAX));
}

static uint8_t *put_process(uint8_t *p, const fk_flow *f)
{
    bool proc = f->present & FK_FLOW_HAS_PROCESS;
    p = fk__put32(p, proc ? f->pid : 0);
    p = fk__put32(p, (f->present & FK_FLOW_HAS_UID) ? f->uid : UINT32_MAX);
    p = put_str(p, f->process, proc ? cut(f->process, sizeof f->process) : 0);
    p = put_str(p, f->user, cut(f->user, STR_MAX));
    return put_str(p, f->exe, cut(f->exe, STR_MAX));
}

/* Length of a record of template 256 + v with the strings of f. */
static size_t any_record_len(int v, const fk_flow *f)
{
    if (v >= T_EVENT) {
        int e = v - T_EVENT;
        return 32 + ((e & 1) ? 24 : 0) + ((e & 2) ? 12 : 0) + ((e & 4) ? process_len(f) : 0);
    }
    return record_len(v & 7) + ((v & T_PROC) ? process_len(f) : 0);
}

/* The bit of tcpControlBits that made each event kind: SYN, FIN, RST. */
static const uint8_t event_flag[4] = {0, 0x02, 0x01, 0x04};

static uint8_t *put_event(uint8_t *p, const fk_flow *f, int e)
{
    bool v6 = e & 1, exp6 = e & 2;
    p = put_addr(p, &f->src, v6);
    p = put_addr(p, &f->dst, v6);
    p = fk__put16(p, f->src_port);
    p = fk__put16(p, f->dst_port);
    p = put8(p, f->proto);
    p = fk__put16(p, f->tcp_flags ? f->tcp_flags : event_flag[f->event < 4 ? f->event : 0]);
    p = fk__put64(p, msecs(f->end_ns ? f->end_ns : f->start_ns));
    p = put8(p, f->event);
    p = fk__put32(p, f->odid);
    p = put_addr(p, &f->exporter, exp6);
    if (e & 4)
        p = put_process(p, f);
    return p;
}

static uint8_t *put_record(uint8_t *p, const fk_flow *f, int v)
{
    bool v6 = v & 1, exp6 = v & 2;
    uint32_t has = f->present;
    p = put_addr(p, &f->src, v6);
    p = put_addr(p, &f->dst, v6);
    p = fk__put16(p, f->src_port);
    p = fk__put16(p, f->dst_port);
    p = put8(p, f->proto);
    p = fk__put16(p, f->tcp_flags);
    p = fk__put64(p, f->bytes);
    p = fk__put64(p, f->packets);
    p = fk__put64(p, msecs(f->start_ns));
    p = fk__put64(p, msecs(f->end_ns));
    p = fk__put32(p, (has & FK_FLOW_HAS_IFACES) ? f->in_if : 0);
    p = fk__put32(p, (has & FK_FLOW_HAS_IFACES) ? f->out_if : 0);
    p = fk__put32(p, (has & FK_FLOW_HAS_SAMPLING) ? f->sampling : 0);
    p = put8(p, (has & FK_FLOW_HAS_END_REASON) ? f->end_reason : 0);
    p = fk__put32(p, f->odid);
    p = put_addr(p, &f->exporter, exp6);
    if (v & 4) {
        p = fk__put64(p, f->rev_bytes);
        p = fk__put64(p, f->rev_packets);
        p = fk__put16(p, f->rev_tcp_flags);
    }
    return p;
}

int fk__sink_ipfix_priv(fk__sink *k)
{
    ipfix_priv *p = FK__NEW(ipfix_priv);
    if (!p)
        return fk__error(FK_ENOMEM, "ipfix output: out of memory");
    k->priv = p;
    return FK_OK;
}

static void ipfix_free_priv(void *priv)
{
    ipfix_priv *p = priv;
    if (!p)
        return;
    fk__sink_out_destroy(p->out);
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
    return FK_OK;
}

static void begin_message(fk__sink *k, ipfix_priv *p)
{
    p->msg = (uint8_t *)fk__sink_out_room(p->out, MSG_MAX);
    p->begun_ns = fk__mono_ns();
    p->len = 16;
    p->set = 0;
    p->records = 0;
    if (p->need_templates) {
        uint8_t *q = p->msg + 16 + 4;
        for (int v = 0; v < NTEMPLATES; v++) {
            tfield f[32];
            int n = template_fields(v, f, k->pen);
            q = fk__put16(q, 256u + (unsigned)v);
            q = fk__put16(q, (unsigned)n);
            for (int i = 0; i < n; i++) {
                q = fk__put16(q, f[i].ie | (f[i].pen ? 0x8000u : 0));
                q = fk__put16(q, f[i].len);
                if (f[i].pen)
                    q = fk__put32(q, f[i].pen);
            }
        }
        size_t set_len = (size_t)(q - (p->msg + 16));
        fk__put16(p->msg + 16, 2);
        fk__put16(p->msg + 18, (unsigned)set_len);
        p->len += set_len;
        p->need_templates = false;
    }
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
    h = fk__put32(h, (uint32_t)(fk__real_ns() / 1000000000));
    h = fk__put32(h, p->sequence);
    fk__put32(h, 0); /* observation domain of the file; the exporter's is in each record */
    fk__sink_out_commit(p->out, p->len);
    k->written += p->len;
    p->sequence += p->records;
    p->msg = NULL;
    return fk__sink_out_check(p->out, k->path);
}

static int ipfix_write(fk__sink *k, const fk_flow *f)
{
    ipfix_priv *p = k->priv;
    if (f->src.family != 4 && f->src.family != 6)
        return fk__error(FK_EINVAL, "ipfix:%s: flow without addresses", k->path);
    uint16_t tid = template_for(f);
    int v = tid - 256;
    size_t need = (v < 8 ? record_len(v) : any_record_len(v, f)) +
                  (p->msg && p->set && p->set_tid == tid ? 0 : 4);
    if (p->msg && p->len + need > MSG_MAX) {
        int rc = end_message(k);
        if (rc)
            return rc;
    }
    if (!p->msg)
        begin_message(k, p);
    if (!p->set || p->set_tid != tid) {
        close_set(p);
        p->set = p->len;
        p->set_tid = tid;
        fk__put16(p->msg + p->len, tid);
        p->len += 4;
    }
    uint8_t *end;
    if (__builtin_expect(v < 8, 1)) {
        end = put_record(p->msg + p->len, f, v);
    } else if (v < T_EVENT) {
        end = put_process(put_record(p->msg + p->len, f, v & 7), f);
    } else {
        end = put_event(p->msg + p->len, f, v - T_EVENT);
    }
    p->len = (size_t)(end - p->msg);
    p->records++;
    return FK_OK;
}

static int ipfix_flush(fk__sink *k)
{
    int rc = end_message(k);
    int rc2 = fk__sink_out_sync(((ipfix_priv *)k->priv)->out, k->path);
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
    int rc2 = fk__sink_out_check(p->out, k->path);
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
