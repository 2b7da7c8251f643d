/* flowkit-ipfix's query fast path: a statistics or aggregation query (-s,
 * -A) over raw files of IPFIX messages, answered straight from the
 * records' octets. Each template is compiled once into the offsets and
 * lengths of the fields the query reads (query_get_needs: the filter's
 * fields, the keys, counters and times); each record fills a flow image
 * kept per template (no fk_flow zeroing, no collector session layer),
 * which the query's own filter and tables take in (query_flow), so the
 * answer is the one the collector's path gives.
 *
 * It takes only what it can answer exactly as the collector's path does:
 * well-formed messages and sets, data sets whose template it holds, data
 * templates whose elements it decodes (one address family, no repeated
 * flow key, no sysUpTime, delta or observation times, flow members of
 * fixed length; variable-length and enterprise elements only where they
 * set nothing the query reads: flowkit-export's process, tag and session
 * event elements (observationTimeMilliseconds then gives the times),
 * userName, not its tunnel elements, and reverse (RFC 5103) elements
 * unless the filter reads them), options templates of
 * fixed length without
 * systemInitTimeMilliseconds, sequence numbers that show no exporter
 * restart, at most max_templates (4096) templates. A record's origin
 * (observationDomainId, exporterIPv4/IPv6Address in the record or in an
 * options record naming the domain's origin, as flowkit-collect's ipfix:
 * files carry them) sets only the exporter and domain: it is left unread
 * unless the filter reads the exporter. At the first thing outside that it
 * stops and says why: the caller then empties the query and answers it the
 * general way, from the start. Public API only. */
#ifndef FLOWKIT_IPFIX_FASTQ_H
#define FLOWKIT_IPFIX_FASTQ_H

#include <flowkit/flowkit.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "query.h"

/* The counters of the last line on stderr, as the collector's path
 * counts them for the same input. */
typedef struct fastq_counts {
    uint64_t messages;  /* datagrams = ipfix_messages: one per message of a raw file */
    uint64_t flows;     /* flow records decoded (before the filter) */
    uint64_t options;   /* options records */
    uint64_t templates; /* template records taken in (added, replaced or refreshed) */
    uint64_t sequence_lost;
    /* Data templates compiled with the query's filter: on raw records
     * (fk_filter_raw), or on flows (fk_filter_match; why_flow says why). */
    uint64_t filter_raw, filter_flow;
    const char *why_flow;
} fastq_counts;

typedef struct fastq fastq;

/* A fast path that puts every flow record through q (borrowed); exporter:
 * the address flows carry as theirs (-e); pen: the enterprise number of
 * flowkit-export's elements, as the collector's path is set (--pen; 0 =
 * none). NULL when out of memory. */
fastq *fastq_create(query *q, const fk_addr *exporter, uint32_t pen);
void fastq_destroy(fastq *f);

/* The messages at p[0..len) of a raw file, one session with what was fed
 * before: returns the octets taken (whole messages; the rest is the start
 * of the next message, fed again with what follows), or -1 when the fast
 * path stopped (fastq_why()). */
long fastq_feed(fastq *f, const uint8_t *p, size_t len);

/* The end of a file with left octets not taken: false (and why) when
 * left > 0, a message cut short. */
bool fastq_end(fastq *f, size_t left);

/* Why the fast path stopped; NULL while it has not. */
const char *fastq_why(const fastq *f);

const fastq_counts *fastq_get_counts(const fastq *f);

/* ---- fastq_files.c: the files of a command line -------------------------- */

struct tool;

/* Whether the query is one the fast path may take (-s or -A, no --fields,
 * --quiet or per-flow output). */
bool fastq_eligible(const struct tool *t);

/* Answer the query over the files below paths[0..n) (walk order) through
 * t->q. Returns true when it answered (*counts filled); false when it did
 * not, *why saying what it met: t->q may then hold part of the answer
 * (the caller empties it and answers the general way). */
bool fastq_run(struct tool *t, char **paths, int n, fastq_counts *counts, const char **why);

#endif
