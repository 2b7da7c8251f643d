/* The body of PUT/DELETE /senders/IP, untrusted:
 * {"prefixes":[{"prefix":"198.51.100.0","prefixLen":24},...]} (wasted/netflow's
 * shape). Strict: only those keys, every length bounded, checked before it
 * is read. */
#ifndef FKC_SENDERS_BODY_H
#define FKC_SENDERS_BODY_H

#include <stddef.h>

/* Longest "ADDR/LEN" written per prefix, NUL included. */
#define FKC_PREFIX_TEXT_MAX 64

/* Parse body[0..len) (empty or blanks: no prefixes). On success write each
 * prefix as "ADDR/LEN" into out[0..*n) (at most max) and return 0; on
 * failure return -1 with a message in err. The addresses are not checked
 * here (fk_senders_add_prefix() does). */
int fkc_senders_body_parse(const char *body, size_t len, char (*out)[FKC_PREFIX_TEXT_MAX],
                           size_t max, size_t *n, char *err, size_t errsize);

#endif
