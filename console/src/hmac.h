/* SHA-256 (FIPS 180-4) and HMAC-SHA256 (RFC 2104), for the signed
 * /senders requests (wasted/netflow's scheme: a hex HMAC-SHA256 of the
 * body, or of the auth key for requests without a body). */
#ifndef FKC_HMAC_H
#define FKC_HMAC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FKC_SHA256_LEN 32

void fkc_sha256(const void *data, size_t len, uint8_t out[FKC_SHA256_LEN]);
void fkc_hmac_sha256(const void *key, size_t key_len, const void *data, size_t len,
                     uint8_t out[FKC_SHA256_LEN]);
/* True when hex (64 hex digits, either case) is the HMAC of data under key;
 * the comparison takes the same time whatever differs. */
bool fkc_hmac_sha256_check(const void *key, size_t key_len, const void *data, size_t len,
                           const char *hex);

#endif
