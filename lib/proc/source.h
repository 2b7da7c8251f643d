/* Internal: an attribution source — who owns the local socket of a
 * connection. Shaped like libpcap's backends (pcap-int.h): the engine
 * (attrib.c) holds a list of sources and only calls their operations; each
 * source lives in its own file (src_sockdiag.c: sock_diag or /proc/net
 * plus the /proc inode index; a BPF source learns owners in the kernel).
 *
 * Data flows one way, from the sources to the engine:
 *   - lookup: the engine asks at a connection's first packet (and retries);
 *   - drain: owners a source learnt on its own (a watcher thread, a BPF ring
 *     buffer) are pushed to the engine as events. The engine keeps them in
 *     its owner history (so a later first packet of a socket already closed
 *     still finds its owner) and moves any connection still without an owner
 *     to it, bytes included: a late owner attributes the whole connection.
 *
 * Threads: the engine calls every operation with its own lock held, from
 * the capture's dispatch thread (lookup, drain, tick) or any thread (drain,
 * describe, get_stats). A source that runs threads of its own protects its
 * state itself and never calls into the engine: what they learn waits in
 * the source until the next drain. */
#ifndef FK_PROC_SOURCE_H
#define FK_PROC_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proc/tkey.h"

#define FK__OWNER_COMM_MAX 16

/* Who owns a socket, as a source learnt it. */
typedef struct fk__owner {
    uint32_t tgid; /* the process (what /proc and users call its pid); 0 = unknown */
    uint32_t pid;  /* the thread that used the socket (kernel pid); tgid when not known */
    uint32_t uid;  /* UINT32_MAX when unknown */
    char comm[FK__OWNER_COMM_MAX]; /* "" when unknown (the engine asks describe) */
    uint64_t cgroup_id;            /* cgroup v2 id; 0 when unknown */
    int64_t time_ns;               /* when the source learnt it (CLOCK_REALTIME) */
} fk__owner;

/* One owner learnt by a source: the socket's key is a connection, or has a
 * wildcard remote end (r all zero, rp 0) for a listening or unconnected
 * UDP socket. */
typedef struct fk__owner_event {
    fk__tkey key;
    fk__owner owner;
} fk__owner_event;

typedef void (*fk__owner_event_cb)(const fk__owner_event *event, void *user);

/* What the rank shows of a process. Strings are allocated (fk__strdup) and
 * belong to the caller once describe returned 1; NULL when unknown. */
typedef struct fk__proc_desc {
    uint32_t uid; /* UINT32_MAX unknown */
    char name[64];
    char *user, *exe, *cmdline, *cgroup;
} fk__proc_desc;

/* Counters a source adds to the engine's statistics (each adds its own). */
typedef struct fk__source_stats {
    uint64_t queries;        /* exact socket queries */
    uint64_t query_hits;     /* ... that found the socket */
    uint64_t dumps;          /* full socket table dumps */
    uint64_t index_scans;    /* targeted index rescans */
    uint64_t rate_limited;   /* lookups skipped by rate limits or full queues */
    uint64_t fd_scans;       /* fd directories read */
    uint64_t readlinks;      /* fd links read */
    uint64_t handed_over;    /* sockets whose owner search went off the packet path */
    uint64_t expired;        /* ... whose owner was not found in time */
    uint64_t events;         /* owner events pushed to the engine */
    uint64_t events_lost;    /* owner events lost (queue or kernel buffer full) */
    uint64_t owners_evicted; /* remembered owners dropped early: their table was full */
} fk__source_stats;

/* lookup results */
enum {
    FK__SRC_NONE = 0,  /* no such socket known */
    FK__SRC_FOUND = 1, /* *out holds the owner */
    FK__SRC_LATER = 2, /* the socket exists; its owner will come through drain */
    FK__SRC_BUSY = 3   /* describe: cannot tell now, ask again later */
};

/* lookup flags */
enum {
    FK__LOOKUP_FIRST = 1u << 0,      /* the connection's first packet */
    FK__LOOKUP_LOCAL_SENT = 1u << 1, /* ... sent by the local end */
    FK__LOOKUP_LISTENER = 1u << 2    /* the exact socket and the history missed: a
                                        listening socket of the local end will do */
};

typedef struct fk__source fk__source;

typedef struct fk__source_ops {
    const char *name; /* "sockdiag", "procnet", "bpf" */
    /* The owner of the socket of connection k (see FK__SRC_*). May block
     * briefly (an exact kernel query); a source rate-limits itself. ts_ns
     * is the packet's time (for logs). */
    int (*lookup)(fk__source *s, const fk__tkey *k, unsigned flags, int64_t ts_ns, fk__owner *out);
    /* Push the owners learnt since the last call to cb; returns how many.
     * Cheap when there is nothing (the engine calls it per packet). */
    size_t (*drain)(fk__source *s, fk__owner_event_cb cb, void *user);
    /* Whether the source knows a socket with key k right now (no I/O):
     * tells the direction of a packet whose addresses rtnetlink does not
     * know. May be NULL. */
    bool (*has_socket)(fk__source *s, const fk__tkey *k);
    /* Process information of pid: FK__SRC_FOUND (1, *out filled when not
     * NULL), FK__SRC_NONE (the process is gone or unknown) or FK__SRC_BUSY.
     * May be NULL (the engine keeps the owner's comm). */
    int (*describe)(fk__source *s, uint32_t pid, fk__proc_desc *out);
    /* A full refresh now (tests, start-up). May be NULL. */
    int (*sync)(fk__source *s);
    /* Housekeeping about every 100 ms at time now_ns. May be NULL. */
    int (*tick)(fk__source *s, int64_t now_ns);
    /* A pollable fd that becomes readable when drain has work, or -1. May be NULL. */
    int (*get_fd)(fk__source *s);
    /* How often the socket table is polled (sources that poll). May be NULL. */
    void (*set_sync_interval)(fk__source *s, int64_t ns);
    /* Add this source's counters to *out. */
    void (*get_stats)(fk__source *s, fk__source_stats *out);
    void (*destroy)(fk__source *s);
} fk__source_ops;

/* Every source starts with this header. */
struct fk__source {
    const fk__source_ops *ops;
};

void fk__proc_desc_clear(fk__proc_desc *d); /* frees the strings */

#endif
