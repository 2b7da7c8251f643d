/* Internal: the bounded table of recent socket owners the kernel told us
 * about, keyed by (proto, local end, remote end). An entry lives while its
 * socket is open and `keep_ns` after the owner closed it (so packets a
 * capture still has in its buffers after the close find their owner), and
 * the table never holds more than `max_entries`: when full, the oldest
 * closed entry goes first, else the oldest open one; evictions are counted.
 * Pure data structure: no I/O, no clock (times are passed in). */
#ifndef FK_BPF_OWNERS_H
#define FK_BPF_OWNERS_H

#include <stdint.h>

#include "bpf/backend.h"

typedef struct fk__bpf_owners fk__bpf_owners;

/* max_entries >= 1; keep_ns >= 0. FK_EINVAL / FK_ENOMEM. */
int fk__bpf_owners_create(fk__bpf_owners **out, uint32_t max_entries, int64_t keep_ns);
void fk__bpf_owners_destroy(fk__bpf_owners *t);

/* Apply one decoded record at time now_ns: an OWNER record inserts or
 * replaces the tuple's entry (exe, may be NULL, is copied); a RELEASE
 * record starts the keep time of every entry of that socket cookie.
 * 0 or FK_ENOMEM. */
int fk__bpf_owners_apply(fk__bpf_owners *t, const fk__bpf_owner *ev, const char *exe,
                         int64_t now_ns);

/* One entry, borrowed: valid until the next apply/expire/destroy. */
typedef struct fk__bpf_owner_entry {
    fk__bpf_owner owner;
    const char *exe;   /* NULL when unknown */
    int64_t added_ns;  /* when it was applied */
    int64_t closed_ns; /* 0 while the socket is open */
} fk__bpf_owner_entry;

/* Look a connection up by its local and remote ends (same family). */
const fk__bpf_owner_entry *fk__bpf_owners_find(const fk__bpf_owners *t, uint8_t proto,
                                               const fk_addr *local, uint16_t lport,
                                               const fk_addr *remote, uint16_t rport);

/* Drop closed entries whose keep time is over. Returns how many. */
uint32_t fk__bpf_owners_expire(fk__bpf_owners *t, int64_t now_ns);

typedef struct fk__bpf_owners_stats {
    uint64_t entries;  /* in the table now */
    uint64_t inserted; /* new tuples */
    uint64_t replaced; /* tuples told again (reuse, another owner) */
    uint64_t released; /* entries whose socket was closed */
    uint64_t expired;  /* entries dropped after their keep time */
    uint64_t evicted;  /* entries dropped because the table was full */
} fk__bpf_owners_stats;

void fk__bpf_owners_get_stats(const fk__bpf_owners *t, fk__bpf_owners_stats *out);

#endif
