/* flowkit-ipfix's query fast path (fastq.h). The rules it mirrors are the
 * collector's (lib/collector/session.c, codec_ipfix.c) and the decode
 * plan's (lib/ipfix/plan_read.c): what it cannot mirror exactly, it
 * refuses, and the collector's path answers instead. */
#include "fastq.h"

#include <stdlib.h>
#include <string.h>

#define MAX_TEMPLATES 4096 /* the collector's max_templates (per session) */
#define NTP_UNIX_OFFSET 2208988800ll
#define NS_PER_S 1000000000ll

/* ---- templates ------------------------------------------------------------ */

/* What a flow takes from a record: offset and length (0 = absent). */
typedef struct fld {
    uint16_t off;
    uint16_t len;
} fld;

enum { T_NS, T_US, T_MS, T_S, T_FORMS }; /* time forms by precedence */

typedef struct tmpl {
    uint16_t id;
    bool options;
    const char *unsupported; /* data sets of it end the fast path; NULL = decodable */
    uint32_t reclen;         /* fixed record length */
    uint8_t family;          /* of the addresses: 4 or 6, 0 = none */
    fld src, dst, sport, dport, proto, bytes, packets, flags, tos, vlan, in_if, out_if, icmp;
    fld start, end;
    uint8_t start_form, end_form;
    fk_flow img;      /* the flow of the last record: what no field sets stays */
    uint16_t def_len; /* the template record as it came, in def */
    uint8_t def[];
} tmpl;

typedef struct domain {
    uint32_t odid;
    bool seen, have_seq;
    uint32_t next_seq, last_export;
    tmpl **t; /* its templates */
    size_t n, cap;
    tmpl *last; /* the last looked up */
} domain;

struct fastq {
    query *q;
    unsigned need; /* FK_FILTER_READS_* of the query: the fields decoded */
    fk_addr exporter;
    fastq_counts c;
    domain *d;
    size_t nd;
    size_t live; /* templates held, all domains (one session) */
    const char *why;
};
typedef struct fastq fq;

static uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Big-endian unsigned of 1..8 octets (reduced-size encoding). */
static inline uint64_t be(const uint8_t *p, unsigned len)
{
    uint64_t v;
    switch (len) {
    case 1:
        return p[0];
    case 2:
        return rd16(p);
    case 4:
        return rd32(p);
    case 8:
        memcpy(&v, p, 8);
        return __builtin_bswap64(v);
    default:
        v = 0;
        for (unsigned i = 0; i < len; i++)
            v = v << 8 | p[i];
        return v;
    }
}

static domain *domain_get(fq *q, uint32_t odid)
{
    for (size_t i = 0; i < q->nd; i++)
        if (q->d[i].odid == odid)
            return &q->d[i];
    domain *n = realloc(q->d, (q->nd + 1) * sizeof *n);
    if (!n)
        return NULL;
    q->d = n;
    memset(&q->d[q->nd], 0, sizeof *q->d);
    q->d[q->nd].odid = odid;
    return &q->d[q->nd++];
}

static tmpl *tmpl_find(domain *d, uint16_t id)
{
    if (d->last && d->last->id == id)
        return d->last;
    for (size_t i = 0; i < d->n; i++)
        if (d->t[i]->id == id)
            return d->last = d->t[i];
    return NULL;
}

static void tmpl_drop(fq *q, domain *d, uint16_t id)
{
    for (size_t i = 0; i < d->n; i++)
        if (d->t[i]->id == id) {
            if (d->last == d->t[i])
                d->last = NULL;
            free(d->t[i]);
            d->t[i] = d->t[--d->n];
            q->live--;
            return;
        }
}

/* Whether an encoded length holds the element's type (RFC 7011 6.2), as
 * the decode plan judges it: a field that does not fit feeds no flow
 * member there, and is refused here. */
static bool fits(uint16_t id, uint16_t len)
{
    const fk_ie *ie = NULL;
    if (fk_ie_lookup(NULL, 0, id, &ie) != 0 || !ie)
        return false;
    switch (ie->type) {
    case FK_IE_UNSIGNED8:
        return len == 1;
    case FK_IE_UNSIGNED16:
        return len >= 1 && len <= 2;
    case FK_IE_UNSIGNED32:
        return len >= 1 && len <= 4;
    case FK_IE_UNSIGNED64:
        return len >= 1 && len <= 8;
    case FK_IE_DATE_TIME_SECONDS:
    case FK_IE_IPV4_ADDRESS:
        return len == 4;
    case FK_IE_DATE_TIME_MILLISECONDS:
    case FK_IE_DATE_TIME_MICROSECONDS:
    case FK_IE_DATE_TIME_NANOSECONDS:
        return len == 8;
    case FK_IE_IPV6_ADDRESS:
        return len == 16;
    default:
        return false;
    }
}

/* Set *f to the field at off, or refuse a second one. */
static bool take(tmpl *t, fld *f, uint16_t off, uint16_t id, uint16_t len)
{
    if (f->len) {
        t->unsupported = "an element repeated in a template";
        return false;
    }
    if (!fits(id, len)) {
        t->unsupported = "an element of a length its type cannot have";
        return false;
    }
    f->off = off;
    f->len = len;
    return true;
}

/* Compile a data template's fields (ids and lengths, IANA only). */
static void compile_data(tmpl *t, const uint16_t *ids, const uint16_t *lens, uint16_t count,
                         bool enterprise, unsigned need)
{
    fld dbytes = {0, 0}, dpackets = {0, 0}; /* delta counters win over totals */
    fld times[2][T_FORMS];
    memset(times, 0, sizeof times);
    uint32_t off = 0;
    uint8_t fam_src = 0, fam_dst = 0;
    if (enterprise) {
        t->unsupported = "an enterprise element";
        return;
    }
    for (uint16_t i = 0; i < count && !t->unsupported; i++) {
        uint16_t id = ids[i], len = lens[i];
        if (len == FK_VARLEN) {
            t->unsupported = "a variable-length element";
            return;
        }
        bool ok = true;
        switch (id) {
        case 8:
        case 27:
            if (fam_src) {
                t->unsupported = "source addresses of both families or repeated";
                return;
            }
            fam_src = id == 8 ? 4 : 6;
            ok = take(t, &t->src, (uint16_t)off, id, len);
            break;
        case 12:
        case 28:
            if (fam_dst) {
                t->unsupported = "destination addresses of both families or repeated";
                return;
            }
            fam_dst = id == 12 ? 4 : 6;
            ok = take(t, &t->dst, (uint16_t)off, id, len);
            break;
        case 7:
            ok = take(t, &t->sport, (uint16_t)off, id, len);
            break;
        case 11:
            ok = take(t, &t->dport, (uint16_t)off, id, len);
            break;
        case 4:
            ok = take(t, &t->proto, (uint16_t)off, id, len);
            break;
        case 1:
            ok = take(t, &dbytes, (uint16_t)off, id, len);
            break;
        case 2:
            ok = take(t, &dpackets, (uint16_t)off, id, len);
            break;
        case 85:
            ok = take(t, &t->bytes, (uint16_t)off, id, len);
            break;
        case 86:
            ok = take(t, &t->packets, (uint16_t)off, id, len);
            break;
        case 6:
            ok = take(t, &t->flags, (uint16_t)off, id, len);
            break;
        case 5:
            ok = take(t, &t->tos, (uint16_t)off, id, len);
            break;
        case 58:
            ok = take(t, &t->vlan, (uint16_t)off, id, len);
            break;
        case 10:
            ok = take(t, &t->in_if, (uint16_t)off, id, len);
            break;
        case 14:
            ok = take(t, &t->out_if, (uint16_t)off, id, len);
            break;
        case 32:
        case 139:
            ok = take(t, &t->icmp, (uint16_t)off, id, len);
            break;
        case 156:
        case 157:
            ok = take(t, &times[id - 156][T_NS], (uint16_t)off, id, len);
            break;
        case 154:
        case 155:
            ok = take(t, &times[id - 154][T_US], (uint16_t)off, id, len);
            break;
        case 152:
        case 153:
            ok = take(t, &times[id - 152][T_MS], (uint16_t)off, id, len);
            break;
        case 150:
        case 151:
            ok = take(t, &times[id - 150][T_S], (uint16_t)off, id, len);
            break;
        /* A record's own origin (flowkit-collect's ipfix: files, mediators)
         * sets only the flow's exporter and domain: a query that does not
         * read the exporter may leave it. */
        case 130:
        case 131:
        case 149:
            if (need & FK_FILTER_READS_EXPORTER) {
                t->unsupported = "a record's own origin, with a filter on the exporter";
                return;
            }
            break;
        /* What the collector's path reads beyond the plain flow members:
         * sysUpTime and delta times (boot time, export time), the boot
         * time itself (restart detection), ipVersion (picks the family),
         * userName and observationTimeMilliseconds (events). */
        case 21:
        case 22:
        case 158:
        case 159:
        case 160:
        case 60:
        case 371:
        case 323:
            t->unsupported = "an element of times, address family or process";
            return;
        default:
            break; /* no flow member the query or the filter reads */
        }
        if (!ok)
            return;
        off += len;
    }
    if (off > 65535 - 20 - 4) {
        t->unsupported = "records longer than a message";
        return;
    }
    if (fam_src && fam_dst && fam_src != fam_dst) {
        t->unsupported = "source and destination addresses of different families";
        return;
    }
    t->reclen = off;
    t->family = fam_src ? fam_src : fam_dst;
    if (dbytes.len)
        t->bytes = dbytes;
    if (dpackets.len)
        t->packets = dpackets;
    for (int k = 0; k < T_FORMS; k++)
        if (!t->start.len && times[0][k].len) {
            t->start = times[0][k];
            t->start_form = (uint8_t)k;
        }
    for (int k = 0; k < T_FORMS; k++)
        if (!t->end.len && times[1][k].len) {
            t->end = times[1][k];
            t->end_form = (uint8_t)k;
        }
}

/* Compile an options template: its records are only counted here. */
static void compile_options(tmpl *t, const uint16_t *ids, const uint16_t *lens,
                            const uint32_t *pens, uint16_t count, uint16_t scope, unsigned need)
{
    uint32_t off = 0;
    for (uint16_t i = 0; i < count; i++) {
        if (lens[i] == FK_VARLEN) {
            t->unsupported = "a variable-length options element";
            return;
        }
        if (pens[i] == 0 && ids[i] == 160) {
            t->unsupported = "systemInitTimeMilliseconds in options data";
            return;
        }
        off += lens[i];
    }
    /* An options record naming the origin of the domain's records
     * (flowkit-collect's ipfix: files) sets only their exporter and domain. */
    if (scope == 1 && count == 2 && pens[0] == 0 && ids[0] == 149 &&
        (need & FK_FILTER_READS_EXPORTER)) {
        t->unsupported = "an options record naming the records' origin, with a filter on the "
                         "exporter";
        return;
    }
    if (off > 65535 - 20 - 4) {
        t->unsupported = "records longer than a message";
        return;
    }
    t->reclen = off;
}

/* Decode only what the query reads (the template was judged whole). */
static void skip_unread(tmpl *t, unsigned need)
{
    static const fld none = {0, 0};
    if (!(need & QUERY_NEEDS_SRC))
        t->src = none;
    if (!(need & QUERY_NEEDS_DST))
        t->dst = none;
    if (!(need & FK_FILTER_READS_PORTS))
        t->sport = t->dport = t->icmp = none;
    if (!(need & FK_FILTER_READS_PROTO))
        t->proto = none;
    if (!(need & FK_FILTER_READS_TCP_FLAGS))
        t->flags = none;
    if (!(need & FK_FILTER_READS_TOS))
        t->tos = none;
    if (!(need & FK_FILTER_READS_VLAN))
        t->vlan = none;
    if (!(need & FK_FILTER_READS_IFACES))
        t->in_if = t->out_if = none;
}

/* One template set (options: set id 3). false: stop (q->why). */
static bool template_set(fq *q, domain *d, bool options, const uint8_t *p, size_t len)
{
    static uint16_t ids[65536 / 4], lens[65536 / 4];
    static uint32_t pens[65536 / 4];
    size_t pos = 0;
    while (pos < len) {
        if (len - pos < 4) {
            q->why = "padding in a template set";
            return false;
        }
        uint16_t id = rd16(p + pos), count = rd16(p + pos + 2);
        tmpl *old = count ? tmpl_find(d, id) : NULL;
        if (old && old->options == options && old->def_len <= len - pos &&
            memcmp(old->def, p + pos, old->def_len) == 0) {
            /* a refresh (exporters repeat their templates): nothing changes */
            q->c.templates++;
            pos += old->def_len;
            continue;
        }
        if (count == 0) {
            if (id < 256) {
                q->why = "a withdrawal of all templates";
                return false;
            }
            tmpl_drop(q, d, id);
            pos += 4;
            continue;
        }
        if (id < 256) {
            q->why = "a template id below 256";
            return false;
        }
        size_t at = pos + 4;
        uint16_t scope = 0;
        if (options) {
            if (len - pos < 6) {
                q->why = "a truncated template record";
                return false;
            }
            scope = rd16(p + at);
            at += 2;
            if (scope == 0 || scope > count) {
                q->why = "an options template's scope count";
                return false;
            }
        }
        bool enterprise = false;
        for (uint16_t i = 0; i < count; i++) {
            if (len - at < 4) {
                q->why = "a truncated template record";
                return false;
            }
            uint16_t fid = rd16(p + at), flen = rd16(p + at + 2);
            at += 4;
            pens[i] = 0;
            if (fid & 0x8000u) {
                if (len - at < 4) {
                    q->why = "a truncated template record";
                    return false;
                }
                pens[i] = rd32(p + at);
                at += 4;
                enterprise = true;
            }
            if (flen == 0) {
                q->why = "a template field of length 0";
                return false;
            }
            ids[i] = fid & 0x7fffu;
            lens[i] = flen;
        }
        if (!old && q->live >= MAX_TEMPLATES) {
            q->why = "more templates than max_templates";
            return false;
        }
        tmpl *t = calloc(1, sizeof *t + (at - pos));
        if (!t) {
            q->why = "out of memory";
            return false;
        }
        t->id = id;
        t->options = options;
        t->def_len = (uint16_t)(at - pos);
        memcpy(t->def, p + pos, at - pos);
        if (options)
            compile_options(t, ids, lens, pens, count, scope, q->need);
        else
            compile_data(t, ids, lens, count, enterprise, q->need);
        t->img.version = 10;
        t->img.odid = d->odid;
        t->img.exporter = q->exporter;
        t->img.present = FK_FLOW_HAS_EXPORTER;
        if (t->in_if.len || t->out_if.len)
            t->img.present |= FK_FLOW_HAS_IFACES;
        t->img.src.family = t->src.len ? t->family : 0;
        t->img.dst.family = t->dst.len ? t->family : 0;
        skip_unread(t, q->need);
        if (old) {
            for (size_t i = 0; i < d->n; i++)
                if (d->t[i] == old)
                    d->t[i] = t;
            free(old);
            d->last = t;
        } else {
            if (d->n == d->cap) {
                size_t cap = d->cap ? d->cap * 2 : 8;
                tmpl **nt = realloc(d->t, cap * sizeof *nt);
                if (!nt) {
                    free(t);
                    q->why = "out of memory";
                    return false;
                }
                d->t = nt;
                d->cap = cap;
            }
            d->t[d->n++] = t;
            q->live++;
        }
        q->c.templates++;
        pos = at;
    }
    return true;
}

static int64_t ms_to_ns(uint64_t ms)
{
    return ms > (uint64_t)(INT64_MAX / 1000000) ? INT64_MAX : (int64_t)ms * 1000000;
}

static int64_t ntp_to_ns(uint64_t ntp, bool micro)
{
    uint64_t frac = ntp & 0xffffffffu;
    if (micro)
        frac &= ~(uint64_t)0x7ff;
    int64_t sub = (int64_t)((frac * (uint64_t)NS_PER_S) >> 32);
    if (micro)
        sub = (sub + 500) / 1000 * 1000;
    return ((int64_t)(ntp >> 32) - NTP_UNIX_OFFSET) * NS_PER_S + sub;
}

static inline int64_t time_of(const uint8_t *r, fld f, uint8_t form)
{
    switch (form) {
    case T_NS:
        return ntp_to_ns(be(r + f.off, 8), false);
    case T_US:
        return ntp_to_ns(be(r + f.off, 8), true);
    case T_MS:
        return ms_to_ns(be(r + f.off, 8));
    default:
        return (int64_t)rd32(r + f.off) * NS_PER_S;
    }
}

/* The records of a data set of a decodable data template into the query. */
static void data_records(fq *q, tmpl *t, const uint8_t *p, size_t n)
{
    fk_flow *f = &t->img;
    query *qu = q->q;
    const size_t alen = t->family == 6 ? 16 : 4;
    for (size_t i = 0; i < n; i++, p += t->reclen) {
        if (t->src.len) {
            if (alen == 16)
                memcpy(f->src.bytes, p + t->src.off, 16);
            else
                memcpy(f->src.bytes, p + t->src.off, 4);
        }
        if (t->dst.len) {
            if (alen == 16)
                memcpy(f->dst.bytes, p + t->dst.off, 16);
            else
                memcpy(f->dst.bytes, p + t->dst.off, 4);
        }
        if (t->sport.len)
            f->src_port = (uint16_t)be(p + t->sport.off, t->sport.len);
        if (t->dport.len)
            f->dst_port = (uint16_t)be(p + t->dport.off, t->dport.len);
        if (t->proto.len)
            f->proto = p[t->proto.off];
        if (t->bytes.len)
            f->bytes = be(p + t->bytes.off, t->bytes.len);
        if (t->packets.len)
            f->packets = be(p + t->packets.off, t->packets.len);
        if (t->flags.len)
            f->tcp_flags = (uint8_t)be(p + t->flags.off, t->flags.len);
        if (t->tos.len)
            f->tos = p[t->tos.off];
        if (t->vlan.len)
            f->vlan = (uint16_t)(be(p + t->vlan.off, t->vlan.len) & 0x0fffu);
        if (t->in_if.len)
            f->in_if = (uint32_t)be(p + t->in_if.off, t->in_if.len);
        if (t->out_if.len)
            f->out_if = (uint32_t)be(p + t->out_if.off, t->out_if.len);
        if (t->icmp.len) { /* the ICMP type and code stand in for ports */
            uint16_t dp = t->dport.len ? f->dst_port : 0;
            if (f->src_port == 0 && dp == 0)
                dp = (uint16_t)be(p + t->icmp.off, t->icmp.len);
            f->dst_port = dp;
        }
        if (t->start.len)
            f->start_ns = time_of(p, t->start, t->start_form);
        if (t->end.len)
            f->end_ns = time_of(p, t->end, t->end_form);
        (void)query_flow(qu, f);
    }
}

/* One data set. false: stop (q->why). */
static bool data_set(fq *q, domain *d, uint16_t sid, const uint8_t *p, size_t len,
                     uint32_t *records)
{
    tmpl *t = tmpl_find(d, sid);
    if (!t) {
        q->why = "a data set before its template";
        return false;
    }
    if (t->unsupported) {
        q->why = t->unsupported;
        return false;
    }
    size_t n = t->reclen ? len / t->reclen : 0;
    for (size_t i = n * t->reclen; i < len; i++)
        if (p[i] != 0) {
            q->why = "a data set that is not whole records and zero padding";
            return false;
        }
    if (t->reclen == 0) {
        q->why = "a template of no octets";
        return false;
    }
    if (t->options) {
        q->c.options += n;
    } else {
        data_records(q, t, p, n);
        q->c.flows += n;
    }
    *records += (uint32_t)n;
    return true;
}

/* One message of a raw file. false: stop (q->why). */
static bool message(fq *q, const uint8_t *m, size_t len)
{
    if (rd16(m) != 10) {
        q->why = "a message that is not IPFIX";
        return false;
    }
    uint32_t export_secs = rd32(m + 4), seq = rd32(m + 8), odid = rd32(m + 12);
    domain *d = domain_get(q, odid);
    if (!d) {
        q->why = "out of memory";
        return false;
    }
    q->c.messages++;
    /* The collector's restart test (UDP sessions): a sequence number gone
     * back, and a later export time. */
    if (d->seen && seq != d->next_seq) {
        uint32_t back = d->next_seq - seq;
        if (back < 0x80000000u && seq < back && export_secs > d->last_export) {
            q->why = "an exporter restart";
            return false;
        }
    }
    uint32_t records = 0;
    size_t off = 16;
    while (len - off >= 4) {
        uint16_t sid = rd16(m + off), slen = rd16(m + off + 2);
        if (slen < 4 || slen > len - off) {
            q->why = "a malformed set";
            return false;
        }
        const uint8_t *body = m + off + 4;
        size_t blen = slen - 4u;
        bool ok = true;
        if (sid == 2 || sid == 3)
            ok = template_set(q, d, sid == 3, body, blen);
        else if (sid >= 256)
            ok = data_set(q, d, sid, body, blen, &records);
        if (!ok)
            return false;
        off += slen;
    }
    /* The collector's sequence check: a jump forward is loss. */
    if (d->have_seq && seq != d->next_seq) {
        uint32_t diff = seq - d->next_seq;
        if (diff < 0x80000000u)
            q->c.sequence_lost += diff;
    }
    d->have_seq = true;
    d->next_seq = seq + records;
    d->seen = true;
    if (export_secs > d->last_export)
        d->last_export = export_secs;
    return true;
}

fastq *fastq_create(query *q, const fk_addr *exporter)
{
    fastq *f = calloc(1, sizeof *f);
    if (f) {
        f->q = q;
        f->need = query_get_needs(q);
        f->exporter = *exporter;
    }
    return f;
}

void fastq_destroy(fastq *q)
{
    if (!q)
        return;
    for (size_t i = 0; i < q->nd; i++) {
        for (size_t j = 0; j < q->d[i].n; j++)
            free(q->d[i].t[j]);
        free(q->d[i].t);
    }
    free(q->d);
    free(q);
}

long fastq_feed(fastq *q, const uint8_t *p, size_t len)
{
    size_t pos = 0;
    while (len - pos >= 4) {
        size_t mlen = rd16(p + pos + 2);
        if (mlen < 16) {
            q->why = "a message shorter than its header";
            return -1;
        }
        if (mlen > len - pos)
            break;
        if (!message(q, p + pos, mlen))
            return -1;
        pos += mlen;
    }
    return (long)pos;
}

bool fastq_end(fastq *q, size_t left)
{
    if (left > 0 && !q->why)
        q->why = "a file that ends inside a message";
    return left == 0;
}

const char *fastq_why(const fastq *q)
{
    return q->why;
}

const fastq_counts *fastq_get_counts(const fastq *q)
{
    return &q->c;
}
