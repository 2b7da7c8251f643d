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

static inline int64_t time_of(const uint8_t *r, fld f, uint8_t form)
{
    return qt_to_ns(form == T_S ? rd32(r + f.off) : be(r + f.off, 8), form);
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
        int64_t o = qt_ms_to_ns(be(p + t->obs.off, 8));
        if (!t->start.len)
            f->start_ns = 0;
        if (!t->end.len)
            f->end_ns = 0;
        if (f->start_ns == 0 && f->end_ns == 0 && o > 0)
            f->start_ns = f->end_ns = o;
    }
}

/* A part of a packed key from the record at p. */
static inline uint64_t part_value(const tmpl *t, const kpart *k, const uint8_t *p)
{
    if (k->kind == KP_FIELD)
        return be(p + k->off, k->len);
    /* decode()'s ICMP rule */
    uint16_t dp = t->dport.len ? (uint16_t)be(p + t->dport.off, t->dport.len) : 0;
    uint16_t sp = t->sport.len ? (uint16_t)be(p + t->sport.off, t->sport.len) : 0;
    if (sp == 0 && dp == 0)
        dp = (uint16_t)be(p + t->icmp.off, t->icmp.len);
    return dp;
}

/* A field of 1..8 octets, 8 (counters, times) first. */
static inline uint64_t rd_n(const uint8_t *p, unsigned len)
{
    return len == 8 ? be(p, 8) : be(p, len);
}

static inline uint64_t raw_time(const uint8_t *p, fld f, uint8_t form)
{
    return form == T_S ? rd32(p + f.off) : be(p + f.off, 8);
}

/* A key of one part (t->plan_one). */
static inline aggs_key key_one(const kpart *kp, const uint8_t *p)
{
    aggs_key key = {0, 0};
    if (kp->kind == KP_ADDR6) {
        key.hi = be(p + kp->off, 8);
        key.lo = be(p + kp->off + 8, 8);
    } else {
        key.lo = rd_n(p + kp->off, kp->len) << kp->shift;
    }
    return key;
}

/* One record of a planned template (fq_plan) into the query's totals and
 * packed tables: what query_flow_passed() does with the decoded flow. */
static inline __attribute__((always_inline)) void direct(query *qu, const tmpl *t, const uint8_t *p)
{
    uint64_t packets = t->packets.len ? rd_n(p + t->packets.off, t->packets.len) : 0;
    uint64_t bytes = t->bytes.len ? rd_n(p + t->bytes.off, t->bytes.len) : 0;
    uint64_t first = raw_time(p, t->start, t->start_form);
    uint64_t last = raw_time(p, t->end, t->end_form);
    if (t->plan_window && (first < t->win_first || last > t->win_last))
        return; /* outside -t */
    qu->flows++;
    qu->packets += packets;
    qu->bytes += bytes;
    if (t->plan_one) { /* one table, keys of one field each: no loops over parts */
        const tplan *pl = t->plan;
        if (aggs_add(pl->tab, key_one(&pl->part[0][0], p), packets, bytes, first, last) < 0)
            qu->oom = true;
        if (pl->nkeys == 2 &&
            aggs_add(pl->tab, key_one(&pl->part[1][0], p), packets, bytes, first, last) < 0)
            qu->oom = true;
        return;
    }
    for (unsigned i = 0; i < t->nplan; i++) {
        const tplan *pl = &t->plan[i];
        for (unsigned k = 0; k < pl->nkeys; k++) {
            aggs_key key = {0, 0};
            for (unsigned j = 0; j < pl->nparts[k]; j++) {
                const kpart *kp = &pl->part[k][j];
                if (kp->kind == KP_ADDR6) {
                    key.hi = be(p + kp->off, 8);
                    key.lo = be(p + kp->off + 8, 8);
                } else if (kp->shift >= 64) { /* aggs_layout(): addresses of wide keys */
                    key.hi |= part_value(t, kp, p) << (kp->shift - 64);
                } else {
                    key.lo |= part_value(t, kp, p) << kp->shift;
                }
            }
            if (aggs_add(pl->tab, key, packets, bytes, first, last) < 0)
                qu->oom = true;
        }
    }
}

/* The records of a data set of a decodable data template into the query:
 * with the filter compiled for the template, a record it rejects is never
 * decoded. */
static void data_records(fq *q, tmpl *t, const uint8_t *p, size_t n)
{
    fk_flow *f = &t->img;
    query *qu = q->q;
    int k = t->raw ? fk_filter_raw_get_const(t->raw) : 1;
    if (k == 0)
        return;
    if (t->plan) {
        for (size_t i = 0; i < n; i++, p += t->reclen)
            if (k > 0 || fk_filter_raw_match(t->raw, p))
                direct(qu, t, p);
        return;
    }
    if (!t->raw) {
        for (size_t i = 0; i < n; i++, p += t->reclen) {
            decode(t, p, f);
            (void)query_flow(qu, f);
        }
        return;
    }
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
    if (t->raw && !fk_filter_raw_match(t->raw, p))
        return;
    if (t->plan) {
        direct(q->q, t, p);
    } else if (!t->raw) {
        decode(t, p, &t->img);
        (void)query_flow(q->q, &t->img);
    } else {
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
