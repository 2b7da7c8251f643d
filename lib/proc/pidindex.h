/* Internal: socket inode → pid index over a proc root ("/proc", or a fake
 * tree in tests), maintained incrementally: a refresh lists the pids and
 * rescans the fd directory only of processes that are new or whose fd
 * directory signature (size = open fd count on Linux >= 6.2, mtime, inode)
 * changed. A miss triggers a targeted rescan (recent owners first, then
 * new or changed processes, then processes of the socket's uid). */
#ifndef FK_PROC_PIDINDEX_H
#define FK_PROC_PIDINDEX_H

#include <stdbool.h>
#include <stdint.h>

#include "core/u64map.h"

#define FK__PROC_NAME_MAX 64

/* What we know of one process; strings are owned by the index. */
typedef struct fk__proc {
    uint32_t pid;
    uint32_t uid;
    bool info_loaded;
    bool alive;
    uint64_t starttime; /* clock ticks since boot, from stat; tells pid reuse */
    char name[FK__PROC_NAME_MAX];
    char *exe;
    char *cmdline;
    char *user;
    char *cgroup;
    /* fd directory signature at the last scan */
    int64_t fd_size;
    int64_t fd_mtime_ns;
    uint64_t fd_ino;
    uint64_t *inodes; /* socket inodes at the last scan */
    size_t n_inodes, cap_inodes;
    uint64_t seen_gen;
    int64_t first_seen_ns; /* monotonic: young processes are searched early */
} fk__proc;

typedef struct fk__pidindex_stats {
    uint64_t refreshes;  /* list passes over the proc root */
    uint64_t fd_scans;   /* fd directories read */
    uint64_t readlinks;  /* fd links read */
    uint64_t miss_scans; /* targeted rescans after a miss */
    uint64_t sweeps;     /* ... that went on to every process of the uid */
} fk__pidindex_stats;

typedef struct fk__pidindex fk__pidindex;

/* Name, exe, command line, uid, user and cgroup of p->pid from
 * <root>/<pid>/... (p->uid = UINT32_MAX first; strings allocated, owned by
 * p). Fields stay empty when the process is gone. */
void fk__proc_load_info(const char *root, fk__proc *p);

int fk__pidindex_create(fk__pidindex **out, const char *proc_root);
void fk__pidindex_destroy(fk__pidindex *ix);

/* List the pids; scan new ones; rescan those whose signature changed; drop
 * those gone. */
int fk__pidindex_refresh(fk__pidindex *ix);

/* No I/O: the pid owning a socket inode, or 0. */
uint32_t fk__pidindex_lookup(const fk__pidindex *ix, uint64_t inode);

/* Lookup, then on a miss a targeted rescan (with `sweep`, at last every
 * process of the uid, at most once per 100 ms). uid is the socket's owner from
 * the socket table (UINT32_MAX if unknown) and narrows the last resort
 * sweep. Returns the pid or 0. */
uint32_t fk__pidindex_find(fk__pidindex *ix, uint64_t inode, uint32_t uid, bool sweep);
/* Without the sweep, and without a refresh when one ran in the last 10 ms
 * (for best-effort callers that must stay cheap). */
uint32_t fk__pidindex_find_cheap(fk__pidindex *ix, uint64_t inode, uint32_t uid);
/* Off the packet path: the cheap variant's refresh gating, plus the
 * youngest processes, plus the sweep when `sweep` (still at most every
 * 100 ms). */
uint32_t fk__pidindex_find_watch(fk__pidindex *ix, uint64_t inode, uint32_t uid, bool sweep);

/* Process info (loaded on first use: comm, exe, cmdline, uid, user,
 * cgroup). Borrowed until the next refresh/find; NULL if unknown. */
const fk__proc *fk__pidindex_proc(fk__pidindex *ix, uint32_t pid);

/* Debug: log which process holds an inode and what the index knows of it. */
void fk__pidindex_explain(fk__pidindex *ix, uint64_t inode);

void fk__pidindex_get_stats(const fk__pidindex *ix, fk__pidindex_stats *out);

#endif
