/* Internal: the host's own addresses, from rtnetlink through libnl-route-3
 * (an rtnl_addr cache kept current by a cache manager that follows address
 * notifications), copied into a flat set for lookups on the packet path. */
#ifndef FK_PROC_LOCALADDR_H
#define FK_PROC_LOCALADDR_H

#include <flowkit/flow.h>
#include <stdbool.h>
#include <stddef.h>

/* A flat, sorted set of addresses (pure; tests fill it by hand). */
typedef struct fk__addrset {
    fk_addr *addrs;
    size_t count, cap;
} fk__addrset;

void fk__addrset_free(fk__addrset *s);
int fk__addrset_add(fk__addrset *s, const fk_addr *a); /* keeps it sorted, no duplicates */
bool fk__addrset_has(const fk__addrset *s, const fk_addr *a);

typedef struct fk__localaddr fk__localaddr;

/* Open the cache manager and fill the set. */
int fk__localaddr_open(fk__localaddr **out);
void fk__localaddr_close(fk__localaddr *l);
/* Apply pending notifications without blocking; returns 1 if the set
 * changed, 0 if not, or a negative status. */
int fk__localaddr_poll(fk__localaddr *l);
/* Borrowed until the next poll. */
const fk__addrset *fk__localaddr_set(const fk__localaddr *l);

#endif
