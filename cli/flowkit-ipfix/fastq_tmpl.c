/* flowkit-ipfix's query fast path: templates, kept per observation domain
 * (withdrawals and redefinitions as the collector applies them) and
 * compiled once into the offsets of the fields the query reads; what the
 * fast path cannot decode exactly is marked, and ends it. */
#include <stdlib.h>
#include <string.h>

#include "fastq_int.h"

tmpl *fq_tmpl_find(domain *d, uint16_t id)
{
    if (d->last && d->last->id == id)
        return d->last;
    for (size_t i = 0; i < d->n; i++)
        if (d->t[i]->id == id)
            return d->last = d->t[i];
    return NULL;
}

void fq_tmpl_free(tmpl *t)
{
    if (t) {
        fk_filter_raw_destroy(t->raw);
        free(t->segs);
        free(t->plan);
    }
    free(t);
}

static void tmpl_drop(fq *q, domain *d, uint16_t id)
{
    for (size_t i = 0; i < d->n; i++)
        if (d->t[i]->id == id) {
            if (d->last == d->t[i])
                d->last = NULL;
            fq_tmpl_free(d->t[i]);
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

/* What an enterprise element of a data template is to the query: false
 * (and why in t) when the collector's path reads it into something the
 * query reads or that changes what the record is. */
static bool enterprise_ok(tmpl *t, uint32_t pen, uint16_t id, uint32_t tool_pen, unsigned need)
{
    if (pen == FK_PEN_REVERSE) { /* rev_bytes, rev_packets: only a filter reads them */
        if (need & FK_FILTER_READS_REVERSE) {
            t->unsupported = "a reverse element, with a filter on the reverse counters";
            return false;
        }
        return true;
    }
    if (pen != tool_pen || tool_pen == 0)
        return true; /* no flow member */
    switch (id) {
    case FK_EXPORTER_IE_TUNNEL_TYPE:
    case FK_EXPORTER_IE_TUNNEL_SRC_V4:
    case FK_EXPORTER_IE_TUNNEL_DST_V4:
    case FK_EXPORTER_IE_TUNNEL_SRC_V6:
    case FK_EXPORTER_IE_TUNNEL_DST_V6:
    case FK_EXPORTER_IE_VNI:
        t->unsupported = "a tunnel element";
        return false;
    default: /* process, uid, exe, tags, session event kind: nothing the query reads */
        return true;
    }
}

/* Compile a data template's fields. Offsets count only the fixed-length
 * fields: a record with variable-length ones is read gathered (segs). */
static void compile_data(tmpl *t, const uint16_t *ids, const uint16_t *lens, const uint32_t *pens,
                         uint16_t count, uint32_t tool_pen, unsigned need)
{
    fld dbytes = {0, 0}, dpackets = {0, 0}; /* delta counters win over totals */
    fld times[2][T_FORMS];
    memset(times, 0, sizeof times);
    uint32_t off = 0;
    uint8_t fam_src = 0, fam_dst = 0;
    uint32_t run = 0; /* fixed octets since the last variable-length field */
    for (uint16_t i = 0; i < count && !t->unsupported; i++) {
        uint16_t id = ids[i], len = lens[i];
        bool ok = true;
        if (pens[i] != 0) {
            if (!enterprise_ok(t, pens[i], id, tool_pen, need))
                return;
            id = 0; /* no flow member below */
        }
        /* a flow member of variable length fails take(): no type fits it */
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
         * (userName only sets the user, which the query does not read.) */
        case 21:
        case 22:
        case 158:
        case 159:
        case 160:
        case 60:
            t->unsupported = "an element of times or address family";
            return;
        case 323: /* the times of a record without them (events) */
            ok = take(t, &t->obs, (uint16_t)off, id, len);
            break;
        default:
            break; /* no flow member the query or the filter reads */
        }
        if (!ok)
            return;
        if (len == FK_VARLEN) {
            t->segs[t->nvar++] = (uint16_t)run;
            run = 0;
        } else {
            off += len;
            run += len;
        }
    }
    if (t->segs)
        t->segs[t->nvar] = (uint16_t)run;
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

/* Compile the query's filter for t's records (a decodable data template):
 * true when it runs on them, false when on flows (or there is none). */
static bool filter_raw(fq *q, tmpl *t)
{
    if (!q->filter || t->options || t->unsupported)
        return false;
    fk_filter_layout l;
    memset(&l, 0, sizeof l);
    const struct {
        fk_filter_field *to;
        fld from;
    } map[] = {{&l.src_addr, t->src},   {&l.dst_addr, t->dst},        {&l.src_port, t->sport},
               {&l.dst_port, t->dport}, {&l.icmp_type_code, t->icmp}, {&l.proto, t->proto},
               {&l.tos, t->tos},        {&l.tcp_flags, t->flags},     {&l.vlan, t->vlan},
               {&l.in_if, t->in_if},    {&l.out_if, t->out_if},       {&l.bytes, t->bytes},
               {&l.packets, t->packets}};
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
        map[i].to->offset = map[i].from.off;
        map[i].to->length = map[i].from.len;
    }
    static const uint8_t forms[T_FORMS] = {FK_FILTER_TIME_NANOSECONDS, FK_FILTER_TIME_MICROSECONDS,
                                           FK_FILTER_TIME_MILLISECONDS, FK_FILTER_TIME_SECONDS};
    l.start = (fk_filter_field){t->start.off, t->start.len};
    l.end = (fk_filter_field){t->end.off, t->end.len};
    l.start_time = forms[t->start_form];
    l.end_time = forms[t->end_form];
    /* event records take their times from observationTimeMilliseconds,
     * which a layout does not place */
    const char *why = "the filter reads the times of event records (duration)";
    if (!t->obs.len || !(fk_filter_get_fields(q->filter) & FK_FILTER_READS_TIMES)) {
        if (fk_filter_raw_compile(q->filter, &l, &t->img, &t->raw) == 0) {
            q->c.filter_raw++;
            return true;
        }
        why = "the filter could not be compiled for its records";
    }
    q->c.filter_flow++;
    if (!q->c.why_flow) /* the messages are fixed per cause: keep the first */
        q->c.why_flow = why;
    return false;
}

/* One template set (options: set id 3). false: stop (q->why). */
bool fq_template_set(fq *q, domain *d, bool options, const uint8_t *p, size_t len)
{
    uint16_t *ids = q->ids, *lens = q->lens;
    uint32_t *pens = q->pens;
    size_t pos = 0;
    while (pos < len) {
        if (len - pos < 4) {
            q->why = "padding in a template set";
            return false;
        }
        uint16_t id = rd16(p + pos), count = rd16(p + pos + 2);
        tmpl *old = count ? fq_tmpl_find(d, id) : NULL;
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
        uint16_t nvar = 0;
        uint32_t min_len = 0;
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
            }
            if (flen == 0) {
                q->why = "a template field of length 0";
                return false;
            }
            ids[i] = fid & 0x7fffu;
            lens[i] = flen;
            min_len += flen == 65535 ? 1 : flen;
            nvar += flen == 65535;
        }
        if (min_len > 65535 - 20 - 4) {
            /* The collector refuses the template as malformed (the decode
             * plan's MAX_RECORD_LEN) and counts no template: its path
             * answers, with those counters. */
            q->why = "a template whose records are longer than a message";
            return false;
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
        if (!options && nvar && !(t->segs = malloc((nvar + 1u) * sizeof *t->segs))) {
            free(t);
            q->why = "out of memory";
            return false;
        }
        if (options)
            compile_options(t, ids, lens, pens, count, scope, q->need);
        else
            compile_data(t, ids, lens, pens, count, q->pen, q->need);
        t->img.version = 10;
        t->img.odid = d->odid;
        t->img.exporter = q->exporter;
        t->img.present = FK_FLOW_HAS_EXPORTER;
        if (t->in_if.len || t->out_if.len)
            t->img.present |= FK_FLOW_HAS_IFACES;
        t->img.src.family = t->src.len ? t->family : 0;
        t->img.dst.family = t->dst.len ? t->family : 0;
        skip_unread(t, filter_raw(q, t) ? q->need_unfilt : q->need);
        if (!options && !fq_plan(q, t)) {
            fq_tmpl_free(t);
            return false;
        }
        if (old) {
            for (size_t i = 0; i < d->n; i++)
                if (d->t[i] == old)
                    d->t[i] = t;
            fq_tmpl_free(old);
            d->last = t;
        } else {
            if (d->n == d->cap) {
                size_t cap = d->cap ? d->cap * 2 : 8;
                tmpl **nt = realloc(d->t, cap * sizeof *nt);
                if (!nt) {
                    fq_tmpl_free(t);
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
