/* Parsing of the untrusted text values the HTTP API takes: query
 * parameters and the scalar fields of POST /ingest. Each returns 0 or -1
 * and never reads past the NUL. */
#ifndef FKC_ARGS_H
#define FKC_ARGS_H

#include <flowkit/flowkit.h>
#include <stdbool.h>
#include <stdint.h>

/* Decimal integer within [min, max], nothing else around it. */
int fkc_parse_int(const char *s, int64_t min, int64_t max, int64_t *out);
/* RFC 3339 ("2026-12-06T02:00:00.123Z", "...+01:00") or a number of Unix
 * seconds (fraction allowed) -> ns since the epoch. */
int fkc_parse_time(const char *s, int64_t *out_ns);
/* A duration: seconds, or a number with s, m, h or d ("15m", "8h"). */
int fkc_parse_duration(const char *s, int64_t min_sec, int64_t max_sec, int64_t *out_sec);
/* "tcp", "udp", "icmp", "icmpv6", "sctp", "gre", "esp" or 0..255. */
int fkc_parse_proto(const char *s, int *out);
/* Name of a protocol number ("tcp"), or NULL when it has none here. */
const char *fkc_proto_name(int proto);
/* "src", "dst", "pair", "port", "proto", "exporter", "process" -> FK_STORE_DIM_*. */
int fkc_parse_dim(const char *s, int *out);
const char *fkc_dim_name(int dim);

#endif
