/* flowkit-ipfix's query fast path: plans, made once per template, that put
 * its records straight into the query's packed tables (aggsmall.h), the
 * key read from the record's octets and the times kept as the record
 * holds them; the answer is the one the flow path (decode, query_flow)
 * gives, which every other template still takes. */
#include <stdlib.h>
#include <string.h>

#include "fastq_int.h"

/* The part of a key for field bit (AGG_*) of t's records at shift. false:
 * the key does not pack (an address absent, or an IPv6 one beside other
 * fields: v6 says whether the key is one IPv6 address). */
static bool part_of(const tmpl *t, unsigned bit, unsigned shift, bool v6, kpart *out, uint8_t *n)
{
    kpart k = {0, 0, (uint8_t)shift, KP_FIELD};
    fld f = {0, 0};
    switch (bit) {
    case AGG_SRCIP:
    case AGG_DSTIP:
        f = bit == AGG_SRCIP ? t->src : t->dst;
        if (!f.len || t->family != (v6 ? 6 : 4))
            return false;
        if (v6)
            k.kind = KP_ADDR6;
        break;
    case AGG_SRCPORT:
        f = t->sport;
        break;
    case AGG_DSTPORT:
        if (t->icmp.len) { /* the ICMP type and code stand in for ports */
            k.kind = KP_DPORT;
            out[(*n)++] = k;
            return true;
        }
        f = t->dport;
        break;
    default:
        f = t->proto;
        break;
    }
    if (f.len) { /* an absent port or protocol is 0: no part */
        k.off = f.off;
        k.len = (uint8_t)f.len;
        out[(*n)++] = k;
    }
    return true;
}

/* The plan of one table (mask; either: each end in turn) for t: into
 * tabs[0] (IPv4 or no addresses) or tabs[1] (one IPv6 address). */
static bool plan_table(const tmpl *t, aggsmall tabs[2], unsigned mask, bool either, tplan *out)
{
    unsigned sh[5];
    bool v6 = (mask & (AGG_SRCIP | AGG_DSTIP)) && t->family == 6;
    if (v6 ? mask != AGG_SRCIP && mask != AGG_DSTIP : aggs_layout(mask, sh) > 128)
        return false;
    if (v6)
        sh[0] = sh[1] = 0;
    aggsmall *tab = &tabs[v6];
    if (tab->start_form >= 0 && (tab->start_form != t->start_form || tab->end_form != t->end_form))
        return false;
    memset(out, 0, sizeof *out);
    out->tab = tab;
    out->nkeys = either ? 2 : 1;
    for (unsigned i = 0; i < 5; i++) {
        unsigned bit = 1u << i;
        if (!(mask & bit))
            continue;
        if (!part_of(t, bit, sh[i], v6, out->part[0], &out->nparts[0]))
            return false;
        /* either end: the destination's field in the source's slot */
        unsigned other = bit == AGG_SRCIP ? AGG_DSTIP : bit == AGG_SRCPORT ? AGG_DSTPORT : bit;
        if (either && !part_of(t, other, sh[i], v6, out->part[1], &out->nparts[1]))
            return false;
    }
    return true;
}

bool fq_plan(fq *q, tmpl *t)
{
    query *qu = q->q;
    if (t->unsupported || t->options || !t->start.len || !t->end.len || t->obs.len)
        return true;
    if (qu->filter && !t->raw && qu->filter_const != 1)
        return true; /* a filter on flows needs the flow */
    /* -t: the window's ends as raw times of this template's forms (its
     * conversions do not decrease), found once */
    uint64_t first = 0, last = 0;
    if (qu->window && (!qt_raw_from(qu->win_start_ns, t->start_form, &first) ||
                       !qt_raw_until(qu->win_end_ns, t->end_form, &last)))
        return true; /* no record of it is in the window: the flow path says so */
    tplan p[MAX_STATS + 1];
    unsigned n = 0;
    for (int i = 0; i < qu->nstats; i++, n++)
        if (!plan_table(t, qu->stats[i].small, qu->stats[i].table.mask,
                        qu->stats[i].def->either != 0, &p[n]))
            return true;
    if (qu->aggregate && !plan_table(t, qu->aggs, qu->agg.mask, false, &p[n++]))
        return true;
    if (n == 0)
        return true;
    if (!(t->plan = malloc(n * sizeof *t->plan))) {
        q->why = "out of memory";
        return false;
    }
    memcpy(t->plan, p, n * sizeof *p);
    t->nplan = (uint8_t)n;
    t->plan_window = qu->window;
    t->win_first = first;
    t->win_last = last;
    t->plan_one = n == 1;
    for (unsigned k = 0; k < p[0].nkeys; k++)
        if (p[0].nparts[k] != 1 || p[0].part[k][0].kind == KP_DPORT || p[0].part[k][0].shift >= 64)
            t->plan_one = false;
    for (unsigned i = 0; i < n; i++) { /* the tables take this template's time forms */
        p[i].tab->start_form = t->start_form;
        p[i].tab->end_form = t->end_form;
    }
    return true;
}
