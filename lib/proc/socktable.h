/* Internal: a snapshot of the host's socket table (one sock_diag dump or a
 * read of /proc/net), keyed by fk__tkey: socket inode and uid per
 * connection, listener or unconnected UDP socket. Built whole, then
 * swapped in; sockets without an inode (time-wait, orphans) are left out.
 * A zeroed fk__socktable is an empty table. */
#ifndef FK_PROC_SOCKTABLE_H
#define FK_PROC_SOCKTABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/hmap.h"
#include "proc/sock.h"
#include "proc/tkey.h"

typedef struct fk__sockent {
    uint64_t inode;
    uint32_t uid;
} fk__sockent;

typedef struct fk__socktable {
    fk__hmap map; /* fk__tkey → fk__sockent; sizes set at the first put */
} fk__socktable;

void fk__socktable_free(fk__socktable *t);
size_t fk__socktable_count(const fk__socktable *t);
/* Add or update one socket (FK_ENOMEM). */
int fk__socktable_put(fk__socktable *t, const fk__sock *s);
/* fk__sock_cb over fk__socktable_put: ctx is the table. */
int fk__socktable_put_cb(void *ctx, const fk__sock *s);
const fk__sockent *fk__socktable_get(const fk__socktable *t, const fk__tkey *k);
/* Listener / unconnected match: (l, lp, *, 0), then (any, lp, *, 0). */
const fk__sockent *fk__socktable_get_wild(const fk__socktable *t, const fk__tkey *k);
/* Iterate: *pos = 0 first; false at the end. */
bool fk__socktable_next(const fk__socktable *t, size_t *pos, const fk__tkey **key,
                        const fk__sockent **ent);

#endif
