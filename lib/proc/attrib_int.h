/* Internal to the attribution engine (attrib.c: lifecycle, owner events,
 * housekeeping; attrib_packet.c: the packet path and owner look-ups). */
#ifndef FK_PROC_ATTRIB_INT_H
#define FK_PROC_ATTRIB_INT_H

#include <pthread.h>

#include "core/u64map.h"
#include "proc/attrib.h"
#include "proc/ledger.h"
#include "proc/localaddr.h"
#include "proc/source.h"

#define FK__ATTRIB_SOURCES_MAX 4

/* Later IP fragments carry no ports: they take those of their first
 * fragment (direct-mapped by addresses and IP id). */
#define FK__FRAG_SLOTS 1024
typedef struct fk__frag_slot {
    uint8_t src[16], dst[16];
    uint32_t id;
    uint16_t sport, dport;
    uint8_t proto, used;
} fk__frag_slot;

struct fk__attrib {
    pthread_mutex_t lock; /* everything below */
    fk__attrib_config cfg;
    char *proc_root;
    fk__source *sources[FK__ATTRIB_SOURCES_MAX]; /* asked in this order */
    size_t n_sources;
    fk__localaddr *local; /* rtnetlink's addresses (NULL without netlink) */
    fk__addrset extra_local;
    fk__ledger ledger;
    /* Owner history: tuple hash → tgid | (learnt, s) << 32, from the
     * sources' owner events, so that a packet processed after its socket
     * closed (capture lag, a connection of a few ms) still finds the owner. */
    fk__u64map history;
    int64_t last_gc_sec;
    bool rows_need_info; /* some row still waits for its process information */
    fk__frag_slot frags[FK__FRAG_SLOTS];
    int64_t now_ns;
    int64_t last_expire_ns;
    fk__attrib_stats stats; /* the engine's own counters */
};

/* attrib.c, with the lock held */
/* Apply the owner events every source has waiting. */
void fk__attrib_drain(fk__attrib *a);
/* The row of a process for an owner (tgid), created with what the sources
 * know of it; NULL without memory. */
fk__row *fk__attrib_row_for(fk__attrib *a, const fk__owner *o);
/* The owner of k in the history (UDP: also its wildcard forms); 0 none. */
uint32_t fk__attrib_history_get(const fk__attrib *a, const fk__tkey *k);

#endif
