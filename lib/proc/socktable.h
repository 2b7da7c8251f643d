/* Internal: a snapshot of the host's socket table (one sock_diag dump or a
 * read of /proc/net), keyed by fk__tkey: socket inode and uid per
 * connection, listener or unconnected UDP socket. Built whole, then
 * swapped in; sockets without an inode (time-wait, orphans) are left out. */
#ifndef FK_PROC_SOCKTABLE_H
#define FK_PROC_SOCKTABLE_H

#include <stddef.h>
#include <stdint.h>

#include "proc/sock.h"
#include "proc/tkey.h"

typedef struct fk__socknode {
    fk__tkey key;
    uint64_t inode;
    uint32_t uid;
    uint32_t next; /* index + 1 into nodes, 0 = end */
} fk__socknode;

typedef struct fk__socktable {
    fk__socknode *nodes;
    size_t count, cap;
    uint32_t *buckets; /* index + 1 */
    size_t nbuckets;   /* power of two */
} fk__socktable;

void fk__socktable_free(fk__socktable *t);
/* Add or update one socket (FK_ENOMEM). */
int fk__socktable_put(fk__socktable *t, const fk__sock *s);
/* fk__sock_cb over fk__socktable_put: ctx is the table. */
int fk__socktable_put_cb(void *ctx, const fk__sock *s);
const fk__socknode *fk__socktable_get(const fk__socktable *t, const fk__tkey *k);
/* Listener / unconnected match: (l, lp, *, 0), then (any, lp, *, 0). */
const fk__socknode *fk__socktable_get_wild(const fk__socktable *t, const fk__tkey *k);

#endif
