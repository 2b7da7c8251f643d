/* The body of POST /stats/SENDER, untrusted (wasted/netflow's shape):
 *   {"198.51.100.0/24": {"all": ["2026-12-06 09:05", "2026-12-06"],
 *                        "proto": ["2026-12"], "dstport:443": ["2026"]}, ...}
 * prefix → name → list of bucket names. Strict: strings without escapes,
 * every length bounded and checked before it is read, at most `max`
 * (prefix, name, bucket) cells. Names and buckets are checked by the
 * handler (stats_api.c), not here. */
#ifndef FKC_STATS_BODY_H
#define FKC_STATS_BODY_H

#include <flowkit/flowkit.h>
#include <stdbool.h>
#include <stddef.h>

/* Most cells one request may ask for. */
#define FKC_STATS_CELLS_MAX 2048

typedef struct fkc_stats_cell {
    char prefix[64]; /* "198.51.100.0/24" as given */
    char name[64];   /* "all", "proto", "srcip:2001:db8::1", "dstport:other" */
    char bucket[24]; /* "2026-12-06 09:05" as given */
} fkc_stats_cell;

/* Parse body[0..len) into out[0..*n) in the body's order (at most max); 0,
 * or -1 with a message in err. An empty body is an error. */
int fkc_stats_body_parse(const char *body, size_t len, fkc_stats_cell *out, size_t max, size_t *n,
                         char *err, size_t errsize);

/* What a cell's name asks for: a field's rows, all of them or one value's
 * ("dstport:443", "srcip:2001:db8::1", "proto:other"). */
typedef struct fkc_stats_selector {
    fk_prefixstats_field field;
    enum { FKC_SEL_ALL, FKC_SEL_NUMBER, FKC_SEL_ADDR, FKC_SEL_OTHER } which;
    uint32_t number;
    fk_addr addr;
} fkc_stats_selector;

/* Check every cell's name and bucket into sel[i] and buckets[i], before any
 * is answered (a request is answered whole or refused); 0, or -1 with a
 * message in err. */
int fkc_stats_cells_check(const fkc_stats_cell *cells, size_t n, fkc_stats_selector *sel,
                          fk_prefixstats_bucket *buckets, char *err, size_t errsize);
/* srcip and dstip take addresses; the other fields numbers. */
bool fkc_stats_addr_field(fk_prefixstats_field f);

#endif
