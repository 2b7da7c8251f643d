/* flowkit-ipfix's query fast path, internal: the state fastq.c (messages
 * and records) and fastq_tmpl.c (templates compiled into field offsets)
 * share. */
#ifndef FLOWKIT_IPFIX_FASTQ_INT_H
#define FLOWKIT_IPFIX_FASTQ_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "fastq.h"
#include "qtime.h"
#include "query_int.h"

#define MAX_TEMPLATES 4096 /* the collector's max_templates (per session) */

/* What a flow takes from a record: offset and length (0 = absent). */
typedef struct fld {
    uint16_t off;
    uint16_t len;
} fld;

/* A part of a packed key (aggsmall.h): a field's value at its bit shift. */
enum {
    KP_FIELD, /* the field at off */
    KP_DPORT, /* the destination port by the ICMP rule */
    KP_ADDR6  /* the IPv6 address at off: the whole key */
};
typedef struct kpart {
    uint16_t off;
    uint8_t len, shift, kind;
} kpart;

/* How a template's records go straight into one packed table: one key,
 * or two for a statistic over either end (ip, port). */
typedef struct tplan {
    aggsmall *tab;
    uint8_t nkeys;
    uint8_t nparts[2];
    kpart part[2][5]; /* up to the five key fields (-s record, -A with all) */
} tplan;

typedef struct tmpl {
    uint16_t id;
    bool options;
    const char *unsupported; /* data sets of it end the fast path; NULL = decodable */
    uint32_t reclen;         /* fixed record length; with variable-length fields,
                              * the octets of the fixed ones (their offsets
                              * count only those: the record read into rec) */
    uint16_t nvar;           /* variable-length fields; 0 = records of reclen */
    uint16_t *segs;          /* nvar + 1: fixed octets before each of them, and after */
    uint8_t family;          /* of the addresses: 4 or 6, 0 = none */
    fld src, dst, sport, dport, proto, bytes, packets, flags, tos, vlan, in_if, out_if, icmp;
    fld start, end;
    fld obs; /* observationTimeMilliseconds: the times of a record without them */
    uint8_t start_form, end_form;
    fk_filter_raw *raw; /* the query's filter on this template's records; NULL:
                         * no filter, or it runs on the flow (fk_filter_match) */
    fk_flow img;        /* the flow of the last record: what no field sets stays */
    tplan *plan;        /* non-NULL: records go straight into the packed tables */
    uint8_t nplan;      /* tables in plan (statistics, then -A) */
    bool plan_one;      /* one table, each key one field (KP_FIELD, KP_ADDR6) */
    bool plan_window;   /* -t: records pass with raw times in [win_first, win_last] */
    uint64_t win_first; /* the raw start at or after the window's start */
    uint64_t win_last;  /* the raw end at or before the window's end */
    uint16_t def_len;   /* the template record as it came, in def */
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
    uint32_t pen;            /* flowkit-export's elements' (the collector's FK_COL_PEN) */
    unsigned need;           /* FK_FILTER_READS_* of the query: the fields decoded */
    unsigned need_unfilt;    /* ... where the filter runs on raw records */
    const fk_filter *filter; /* the query's, when records decide it */
    fk_addr exporter;
    fastq_counts c;
    domain *d;
    size_t nd;
    size_t live; /* templates held, all domains (one session) */
    const char *why;
    /* The template record being read: its element ids, lengths and PENs
     * (a set holds at most 65536 / 4 fields). */
    uint16_t ids[65536 / 4], lens[65536 / 4];
    uint32_t pens[65536 / 4];
    uint8_t rec[65536]; /* the fixed fields of a record with variable-length ones */
};
typedef struct fastq fq;

static inline uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static inline uint32_t rd32(const uint8_t *p)
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

/* Templates (fastq_tmpl.c): the one of id in d, or NULL; a template or
 * options template set of d (false: the fast path ends, q->why says why). */
tmpl *fq_tmpl_find(domain *d, uint16_t id);
void fq_tmpl_free(tmpl *t);

/* Plan (fastq_plan.c) how t's records go straight into the query's
 * packed tables, without a flow: sets t->plan when every table of the
 * query takes them (IPv4 or no addresses, or one IPv6 address as the key, the
 * times of the records in the tables' forms, a filter
 * decided on raw records). false: out of memory (q->why). */
bool fq_plan(fq *q, tmpl *t);
bool fq_template_set(fq *q, domain *d, bool options, const uint8_t *p, size_t len);

#endif
