/* Internal: the attribution engine the capture handle drives.
 *
 *   capture dispatch thread ─ per decoded TCP/UDP packet ─► fk__attrib_packet()
 *   capture dispatch thread ─ about every 100 ms        ─► fk__attrib_tick()
 *   capture workers         ─ per flow / session event  ─► fk__attrib_fill_flow/_session()
 *   any thread              ─ fk_capture_rank()         ─► fk__attrib_rank()
 *
 * The packet path runs on the thread that calls dispatch, whatever
 * `workers` is set to (lib/capture/attribution.c), before the packet goes
 * to the flow table or a worker. Every call takes the engine's mutex. A
 * packet's connection (proto, local end, remote end) is looked up in the
 * ledger (ledger.h), which caches its owner; only the first packet of a
 * connection (or a retry of an unresolved one) asks the attribution
 * sources (source.h) — the sock_diag source may then make one blocking,
 * rate-limited exact sock_diag query for the tuple, under the mutex, and
 * hands anything slower (a /proc scan) to its watcher thread. Owners that
 * sources learn later arrive as owner events: they go into the owner
 * history and move a connection still counted as "unknown TCP"/"unknown
 * UDP" to its process, bytes included. Unresolved connections are retried
 * with a back-off. */
#ifndef FK_PROC_ATTRIB_H
#define FK_PROC_ATTRIB_H

#include <flowkit/flow.h>
#include <flowkit/rank.h>
#include <stdint.h>

typedef struct fk__attrib fk__attrib;

typedef enum fk__dir {
    FK__DIR_UNKNOWN = 0, /* decide from the local address set */
    FK__DIR_OUT = 1,     /* src is the local end */
    FK__DIR_IN = 2,      /* dst is the local end */
    FK__DIR_BOTH = 3     /* both ends are local (loopback): each is accounted */
} fk__dir;

typedef struct fk__attrib_config {
    const char *proc_root;    /* default "/proc" */
    uint32_t history_seconds; /* per-second ring length; default 60 */
    int64_t sync_interval_ns; /* socket dump cadence (watcher) after a miss; default 50 ms */
    double ewma_tau_sec;      /* EWMA time constant; default 5 s */
    uint32_t queries_per_sec; /* exact sock_diag queries allowed; default 5000 */
    uint32_t scans_per_sec;   /* targeted index rescans allowed; default 2000 */
    int64_t conn_idle_ns;     /* drop idle connection entries; default 120 s */
    int use_netlink;          /* 1 sock_diag + rtnetlink (default), 0 /proc/net only */
    int no_default_source;    /* tests: start without the sock_diag source */
} fk__attrib_config;

void fk__attrib_config_default(fk__attrib_config *c);

int fk__attrib_create(fk__attrib **out, const fk__attrib_config *cfg);
void fk__attrib_destroy(fk__attrib *a);

/* One decoded packet. Addresses of the same family; ports host order. */
typedef struct fk__attrib_pkt {
    fk_addr src, dst;
    uint16_t sport, dport;
    uint8_t proto;     /* only 6 and 17 are attributed; others are ignored */
    uint8_t tcp_flags; /* SYN without ACK re-resolves a reused tuple */
    uint8_t dir;       /* fk__dir hint */
    uint32_t ip_len;   /* IP-layer bytes */
    int64_t ts_ns;
    uint8_t frag;     /* 0 not fragmented, 1 first fragment, 2 later fragment (no ports) */
    uint32_t frag_id; /* IP identification of a fragment */
    uint32_t ifindex; /* interface it was captured on; 0 unknown */
} fk__attrib_pkt;

/* Account one packet. *pid_out (optional) gets the owner of the local end
 * that sent or received it (0 unknown); name_out (optional, 64 bytes) its
 * name. Returns 0, 1 when ignored (not TCP/UDP, no local end), or a
 * negative status. */
int fk__attrib_packet(fk__attrib *a, const fk__attrib_pkt *p, uint32_t *pid_out, char *name_out);

/* Housekeeping at time now_ns: notifications, periodic sync, expiry. */
int fk__attrib_tick(fk__attrib *a, int64_t now_ns);

/* The collection tick() runs every 10 s, now, at wall-clock second
 * real_sec: owner history older than a minute, rows of gone processes that
 * never counted a byte and own no connection. */
void fk__attrib_gc(fk__attrib *a, int64_t real_sec);

/* Tests: check the ledger's ownership rule (fk__ledger_check). */
int fk__attrib_check(fk__attrib *a);

/* Force a full sync now (socket dump, index refresh). */
int fk__attrib_sync(fk__attrib *a);

/* Build a snapshot at the engine's current time. recent_sec in
 * [1, history_seconds]; limit 0 = all rows; history: seconds of per-second
 * history per row, [0, history_seconds]. */
int fk__attrib_rank(fk__attrib *a, size_t limit, uint32_t recent_sec, uint32_t history,
                    fk_rank_sort key, fk_rank_snapshot **out);

typedef struct fk__attrib_stats {
    uint64_t packets;        /* TCP/UDP packets with a local end */
    uint64_t hits;           /* packets attributed to a process */
    uint64_t misses;         /* packets counted as unknown */
    uint64_t conns;          /* connection entries created */
    uint64_t resolved_late;  /* connections resolved after their first packet */
    uint64_t queries;        /* exact sock_diag queries */
    uint64_t query_hits;     /* ... that found the socket */
    uint64_t dumps;          /* full socket table dumps */
    uint64_t index_scans;    /* targeted index rescans */
    uint64_t rate_limited;   /* lookups skipped by the rate limits */
    uint64_t fd_scans;       /* fd directories read (index) */
    uint64_t readlinks;      /* fd links read (index) */
    uint64_t history_hits;   /* owners found in the watcher's socket history */
    uint64_t handed_over;    /* sockets handed to the watcher (index busy or not found) */
    uint64_t fixed_up;       /* connections moved to an owner that came as an event */
    uint64_t expired;        /* ... whose owner was not found in time */
    uint64_t events;         /* owner events the sources pushed */
    uint64_t events_lost;    /* ... lost (queue or kernel buffer full) */
    uint64_t owners_evicted; /* remembered owners dropped early (table full) */
} fk__attrib_stats;

void fk__attrib_get_stats(fk__attrib *a, fk__attrib_stats *out);

/* The owner of a connection already seen by fk__attrib_packet() (no I/O):
 * the local end that is the source first, then the destination. Returns
 * the pid (0 unknown) and copies the name (FK_PROCESS_NAME_MAX bytes). */
uint32_t fk__attrib_owner(fk__attrib *a, uint8_t proto, const fk_addr *src, uint16_t sport,
                          const fk_addr *dst, uint16_t dport, char *name);
/* Storage for the strings the fill functions hand out. It belongs to the
 * caller (the thread delivering the record, for the time of the callback):
 * the process row they come from may be dropped by the watcher as soon as
 * the engine's lock is released, so no pointer into it ever leaves. */
#define FK__ATTRIB_EXE_MAX 4096
typedef struct fk__attrib_strs {
    char user[FK_FLOW_USER_MAX + 1];
    char exe[FK__ATTRIB_EXE_MAX];
} fk__attrib_strs;
/* Set pid/process (and the HAS_PROCESS bit), uid (HAS_UID) and user/exe
 * (pointing into *strs, NULL when unknown) of a flow or session event when
 * its owner is known; nothing changes otherwise. */
struct fk_session_event;
void fk__attrib_fill_flow(fk__attrib *a, fk_flow *f, fk__attrib_strs *strs);
void fk__attrib_fill_session(fk__attrib *a, struct fk_session_event *e, fk__attrib_strs *strs);

/* Change the sync interval at run time. */
void fk__attrib_set_sync_interval(fk__attrib *a, int64_t ns);

/* Add a source (the engine owns it from now on, and asks the sources in
 * the order they were added). FK_ERANGE when the list is full. */
struct fk__source;
int fk__attrib_add_source(fk__attrib *a, struct fk__source *src);

/* Tests: declare an address local (in addition to rtnetlink's). */
int fk__attrib_add_local(fk__attrib *a, const fk_addr *addr);

#endif
