/* Internal: the sock_diag attribution source — the host's socket table
 * from netlink sock_diag (or /proc/net without netlink) and the socket
 * inode → pid index over /proc. With netlink, a watcher thread dumps the
 * socket table periodically and searches /proc off the packet path; the
 * owners it finds reach the engine through drain. */
#ifndef FK_PROC_SRC_SOCKDIAG_H
#define FK_PROC_SRC_SOCKDIAG_H

#include <stdint.h>

#include "proc/source.h"

typedef struct fk__src_sockdiag_config {
    const char *proc_root;    /* "/proc" or a fake tree (tests) */
    int64_t sync_interval_ns; /* socket dump cadence after a miss */
    uint32_t queries_per_sec; /* exact sock_diag queries allowed */
    uint32_t scans_per_sec;   /* targeted index rescans allowed */
    int use_netlink;          /* 1 sock_diag + watcher thread, 0 /proc/net, no thread */
    int passive;              /* behind the BPF source: no watcher thread, no periodic sync
                                 (the table is read at open; misses make exact queries) */
} fk__src_sockdiag_config;

/* Open the source: the first socket table and index are read here. */
int fk__src_sockdiag_open(fk__source **out, const fk__src_sockdiag_config *cfg);

#endif
