/* flowkit-ipfix's query fast path (fastq.h). The rules it mirrors are the
 * collector's (lib/collector/session.c, codec_ipfix.c) and the decode
 * plan's (lib/ipfix/plan_read.c): what it cannot mirror exactly, it
 * refuses, and the collector's path answers instead. */
#include "fastq_int.h"

#include <stdlib.h>
#include <string.h>

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

/* One record of a decodable data template into its flow image. */
static inline void decode(const tmpl *t, const uint8_t *p, fk_flow *f)
{
    const size_t alen = t->family == 6 ? 16 : 4;
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
    if (t->obs.len) { /* the collector's event fields: times the record lacks */
        int64_t o = ms_to_ns(be(p + t->obs.off, 8));
        if (!t->start.len)
            f->start_ns = 0;
        if (!t->end.len)
            f->end_ns = 0;
        if (f->start_ns == 0 && f->end_ns == 0 && o > 0)
            f->start_ns = f->end_ns = o;
    }
}

/* The records of a data set of a decodable data template into the query:
 * with the filter compiled for the template, a record it rejects is never
 * decoded. */
static void data_records(fq *q, tmpl *t, const uint8_t *p, size_t n)
{
    fk_flow *f = &t->img;
    query *qu = q->q;
    if (!t->raw) {
        for (size_t i = 0; i < n; i++, p += t->reclen) {
            decode(t, p, f);
            (void)query_flow(qu, f);
        }
        return;
    }
    int k = fk_filter_raw_get_const(t->raw);
    if (k == 0)
        return;
    for (size_t i = 0; i < n; i++, p += t->reclen) {
        if (k < 0 && !fk_filter_raw_match(t->raw, p))
            continue;
        decode(t, p, f);
        (void)query_flow_passed(qu, f);
    }
}

/* One record (its fixed fields at p) into the query. */
static inline void one_record(fq *q, tmpl *t, const uint8_t *p)
{
    if (!t->raw) {
        decode(t, p, &t->img);
        (void)query_flow(q->q, &t->img);
    } else if (fk_filter_raw_match(t->raw, p)) {
        decode(t, p, &t->img);
        (void)query_flow_passed(q->q, &t->img);
    }
}

/* The records of a data set of a template with variable-length fields:
 * each one's fixed fields are gathered into q->rec, where the template's
 * offsets point. The collector's walk: records while at least the
 * shortest record is left, then zero padding. false: stop (q->why). */
static bool var_records(fq *q, tmpl *t, const uint8_t *p, size_t len, uint32_t *records)
{
    const size_t min = t->reclen + t->nvar;
    size_t pos = 0, n = 0;
    while (len - pos >= min) {
        size_t at = pos, w = 0;
        for (uint16_t i = 0;; i++) {
            size_t s = t->segs[i];
            if (len - at < s)
                goto past;
            memcpy(q->rec + w, p + at, s);
            w += s;
            at += s;
            if (i == t->nvar)
                break;
            if (len - at < 1)
                goto past;
            size_t l = p[at++];
            if (l == 255) {
                if (len - at < 2)
                    goto past;
                l = rd16(p + at);
                at += 2;
            }
            if (len - at < l)
                goto past;
            at += l;
        }
        one_record(q, t, q->rec);
        n++;
        pos = at;
    }
    for (size_t i = pos; i < len; i++)
        if (p[i] != 0) {
            q->why = "a data set that is not whole records and zero padding";
            return false;
        }
    q->c.flows += n;
    *records += (uint32_t)n;
    return true;
past:
    q->why = "a variable-length record that runs past its set";
    return false;
}

/* One data set. false: stop (q->why). */
static bool data_set(fq *q, domain *d, uint16_t sid, const uint8_t *p, size_t len,
                     uint32_t *records)
{
    tmpl *t = fq_tmpl_find(d, sid);
    if (!t) {
        q->why = "a data set before its template";
        return false;
    }
    if (t->unsupported) {
        q->why = t->unsupported;
        return false;
    }
    if (t->nvar) /* data templates only: options ones of variable length stop above */
        return var_records(q, t, p, len, records);
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
            ok = fq_template_set(q, d, sid == 3, body, blen);
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

fastq *fastq_create(query *q, const fk_addr *exporter, uint32_t pen)
{
    fastq *f = calloc(1, sizeof *f);
    if (f) {
        f->q = q;
        f->pen = pen;
        f->need = query_get_needs(q);
        f->need_unfilt = query_get_needs_unfiltered(q);
        f->filter = query_get_filter(q);
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
            fq_tmpl_free(q->d[i].t[j]);
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
