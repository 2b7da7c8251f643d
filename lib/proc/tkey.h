/* Internal: the key of a connection or socket as attribution sees it —
 * protocol, local end, remote end — with both addresses normalised to 16
 * bytes (IPv4 v4-mapped; any all-zero address, v4 or v6, as 16 zeros) and
 * ports in host order. Plain bytes: hash and compare with memcmp. */
#ifndef FK_PROC_TKEY_H
#define FK_PROC_TKEY_H

#include <flowkit/flow.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct fk__tkey {
    uint8_t l[16]; /* local address */
    uint8_t r[16]; /* remote address; 16 zeros = any (listener, unconnected UDP) */
    uint16_t lp, rp;
    uint8_t proto; /* 6 TCP, 17 UDP */
    uint8_t pad[3];
} fk__tkey;

/* Normalise one address into 16 bytes. */
void fk__tkey_addr_norm(uint8_t out[16], const fk_addr *a);
/* Back from 16 bytes (v4-mapped → family 4). */
void fk__tkey_addr(fk_addr *out, const uint8_t in[16]);

void fk__tkey_make(fk__tkey *k, uint8_t proto, const fk_addr *local, uint16_t lport,
                   const fk_addr *remote, uint16_t rport);
uint64_t fk__tkey_hash(const fk__tkey *k);
bool fk__tkey_eq(const fk__tkey *a, const fk__tkey *b);

/* The same local end with the remote end as a wildcard (rp 0, r any). */
void fk__tkey_wild_remote(fk__tkey *out, const fk__tkey *k);

/* "tcp 10.0.0.1:80-10.0.0.2:5555" for logs. */
void fk__tkey_format(const fk__tkey *k, char *buf, size_t size);

#endif
