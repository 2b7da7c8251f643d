/* Internal to the sock_diag source (src_sockdiag.c: its operations;
 * sockwatch.c: its watcher thread). */
#ifndef FK_PROC_SRC_SOCKDIAG_INT_H
#define FK_PROC_SRC_SOCKDIAG_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/u64map.h"
#include "proc/pidindex.h"
#include "proc/sock.h"
#include "proc/socktable.h"
#include "proc/src_sockdiag.h"

/* A socket the packet path found (inode) but could not map to a process
 * without scanning /proc: the watcher does that and pushes the owner. */
typedef struct fk__sd_pending {
    fk__tkey key;
    uint64_t inode;
    uint32_t uid;
    uint32_t pid; /* the watcher's answer */
    int64_t since_mono;
} fk__sd_pending;
#define FK__SD_PENDING_MAX 8192
#define FK__SD_PENDING_RETRY_NS INT64_C(2000000000)
#define FK__SD_EVENTS_MAX 65536

typedef struct fk__sd_rate {
    double tokens;
    double per_sec;
    int64_t last_ns;
} fk__sd_rate;

typedef struct fk__src_sockdiag {
    fk__source base;
    fk__src_sockdiag_config cfg;
    char *proc_root;
    /* `lock` guards everything below but the watcher-only fields; the
     * pid index has its own `ilock` so the watcher scans /proc without
     * `lock` (lookups only try-lock it and hand the socket over when it is
     * busy). Order: lock, then ilock. */
    pthread_mutex_t lock;
    pthread_mutex_t ilock;
    fk__pidindex *index;  /* under ilock */
    fk__sockdiag *diag;   /* the lookups' socket (exact queries, sync) */
    fk__socktable socks;  /* the last dump */
    fk__sd_pending *pend; /* handed over to the watcher */
    size_t n_pend, cap_pend, n_pend_fresh;
    fk__owner_event *events; /* learnt, waiting for drain */
    size_t n_events, cap_events;
    atomic_size_t n_ready;      /* n_events, read without the lock by drain */
    atomic_int watcher_waiting; /* the watcher waits for `lock`: lookups yield */
    fk__u64map seen_inodes;     /* inode → pid the watcher found (for lookups) */
    fk__source_stats stats;
    fk__pidindex_stats istats; /* the index's counters, copied by the watcher */
    fk__sd_rate query_rate, scan_rate;
    int64_t last_sync_mono;
    int64_t last_dump_mono;
    int64_t last_new_conn_mono; /* traffic after a pause: dump at once */
    int64_t last_miss_mono;     /* a connection's socket was gone: dump fast */
    /* Watcher thread (netlink mode). */
    fk__sockdiag *watch_diag;
    pthread_t watcher;
    bool watching;
    bool stop;
    pthread_cond_t wake;
    /* watcher only */
    fk__u64map w_known; /* inode → pid of sockets it mapped */
    fk__u64map w_tries; /* inode → finds that failed */
    int64_t last_refresh_mono;
    int64_t last_watch_sweep;
    int64_t last_forget_sec;
} fk__src_sockdiag;

/* sockwatch.c */
int fk__sd_watch_start(fk__src_sockdiag *s);
void fk__sd_watch_stop(fk__src_sockdiag *s);
/* With lock held: wake the watcher. */
void fk__sd_watch_wake(fk__src_sockdiag *s);
/* With lock held: a connection's socket was not found (dump faster). */
void fk__sd_note_miss(fk__src_sockdiag *s);
/* With lock held: hand a socket over to the watcher (bounded). */
bool fk__sd_pending_push(fk__src_sockdiag *s, const fk__sd_pending *p);
/* The first pass at open (lock and ilock taken inside). */
void fk__sd_watch_first_pass(fk__src_sockdiag *s);

/* src_sockdiag.c: with lock held, queue an owner for the engine. */
void fk__sd_learn(fk__src_sockdiag *s, const fk__tkey *k, uint32_t pid, uint32_t uid);
/* Enter the pid index: blocking for the watcher thread and without a
 * watcher; other threads only try-lock (false: the watcher is scanning). */
bool fk__sd_index_enter(fk__src_sockdiag *s);
void fk__sd_index_leave(fk__src_sockdiag *s);

#endif
