/* Reading what a ClickHouse server answers over its HTTP interface
 * (untrusted bytes): the HTTP response (status line, headers, a body
 * framed by Content-Length, chunked transfer coding, or the end of the
 * connection) and TabSeparated rows with their escapes. Everything works
 * in place on the caller's buffer, reads nothing past `len` and allocates
 * nothing. Used by history.c; fuzzed by tests/fuzz/fuzz_http_history.c. */
#ifndef FKC_CHREPLY_H
#define FKC_CHREPLY_H

#include <flowkit/flowkit.h>
#include <stddef.h>
#include <stdint.h>

/* Parse a complete HTTP/1.x response in buf[0..len); buf has room for
 * len + 1 bytes. On success return 0 with the status code and the body,
 * decoded in place (chunks joined) and NUL-terminated: *body points into
 * buf. -1: not a complete, well-formed response (truncated, bad status
 * line, bad chunk sizes, Content-Length beyond the data). */
int fkc_ch_response_parse(char *buf, size_t len, int *status, char **body, size_t *body_len);

/* A cursor over TabSeparated rows. */
typedef struct fkc_tsv {
    char *p, *end;
} fkc_tsv;

/* The next row: its fields unescaped in place (\t \n \r \\ \0 \b \f \'
 * and \N for NULL, which reads as ""), each NUL-terminated, pointers in
 * fields[0..max). Returns the number of fields, 0 at the end, -1 when the
 * row is malformed: more than max fields, no final newline (a cut
 * answer), or a bad escape. */
int fkc_tsv_next(fkc_tsv *t, char **fields, int max);

/* A decimal unsigned number and nothing else. 0 or -1. */
int fkc_tsv_u64(const char *s, uint64_t *out);
/* 32 hex digits (ClickHouse's hex() of a FixedString(16) address):
 * IPv4-mapped (::ffff:a.b.c.d) becomes IPv4, all zero is "absent"
 * (family 0), anything else IPv6. 0 or -1. */
int fkc_tsv_addr(const char *s, fk_addr *out);

#endif
