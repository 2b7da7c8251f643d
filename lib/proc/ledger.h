/* Internal: the attribution ledger — rows (one per process, plus one
 * "unknown" row per protocol) and the connections that count into them.
 * A connection's bytes count in its owner row; when the owner changes (an
 * owner found late), the connection's bytes move along. Pure bookkeeping:
 * no locks, no I/O (the engine holds its lock around every call).
 *
 * Ownership: the ledger owns every row and connection. A connection points
 * at its owner row, and that pointer is counted in the row's `refs`: it is
 * set only through fk__ledger_set_owner() and dropped when the connection
 * expires. A row is freed only with the ledger, or by fk__ledger_gc_rows()
 * when no connection refers to it (refs 0) and it never counted a packet. */
#ifndef FK_PROC_LEDGER_H
#define FK_PROC_LEDGER_H

#include <flowkit/rank.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/hmap.h"
#include "core/u64map.h"
#include "proc/account.h"
#include "proc/tkey.h"

#define FK__ROW_NAME_MAX 64

/* Bytes of a row through one device (interface index). */
typedef struct fk__rowdev {
    uint32_t ifindex;
    uint64_t sent, recv;
} fk__rowdev;

typedef struct fk__row {
    uint32_t pid;  /* 0: the unknown row of `proto` */
    uint32_t uid;  /* UINT32_MAX unknown */
    uint8_t proto; /* unknown rows */
    char name[FK__ROW_NAME_MAX];
    char *user, *exe, *cmdline, *cgroup; /* owned; NULL unknown */
    uint64_t sent_bytes, recv_bytes, sent_packets, recv_packets;
    fk__ring ring;
    uint32_t refs;   /* connections whose owner it is */
    bool needs_info; /* its process information is still to be asked for */
    fk__rowdev *devs;
    size_t ndevs, capdevs;
    long out_index; /* scratch for rank */
} fk__row;

typedef struct fk__conn {
    fk__tkey key;
    fk__row *owner; /* set only by fk__ledger_set_owner */
    bool resolved;  /* owner final (or given up): no more lookups */
    uint32_t tries;
    int64_t retry_ns;
    uint64_t sent_bytes, recv_bytes, sent_packets, recv_packets;
    int64_t first_ns, last_ns;
    uint32_t ifindex;               /* device of its first packet; its bytes count there */
    uint8_t flags_sent, flags_recv; /* TCP flags seen each way, OR-ed */
} fk__conn;

/* Interface names, learnt when an index is first seen (an interface that
 * goes away keeps its name in the rank). */
typedef struct fk__ifname {
    uint32_t ifindex;
    char name[FK_RANK_DEV_NAME_MAX];
} fk__ifname;

typedef struct fk__ledger {
    uint32_t history_seconds; /* per-second ring length of each row */
    double alpha;             /* EWMA factor */
    fk__u64map rows;          /* key → row* (pid, or proto << 32 for unknown rows) */
    fk__row **row_list;
    size_t n_rows, cap_rows;
    fk__hmap conns; /* fk__tkey → fk__conn* */
    fk__ifname *ifnames;
    size_t n_ifnames, cap_ifnames;
} fk__ledger;

void fk__ledger_init(fk__ledger *l, uint32_t history_seconds, double alpha);
void fk__ledger_free(fk__ledger *l);

/* The row of a pid, or of an unknown protocol (pid 0), or NULL. */
fk__row *fk__ledger_row_find(const fk__ledger *l, uint32_t pid, uint8_t proto);
/* Find or create it (a new process row has needs_info set). NULL: no memory. */
fk__row *fk__ledger_row_get(fk__ledger *l, uint32_t pid, uint8_t proto, bool *created);

fk__conn *fk__ledger_conn_find(const fk__ledger *l, const fk__tkey *k);
/* A new connection (no owner); NULL: no memory. */
fk__conn *fk__ledger_conn_add(fk__ledger *l, const fk__tkey *k);
/* Make `to` the owner of c; the bytes c counted so far move from its old
 * owner to `to`. */
void fk__ledger_set_owner(fk__ledger *l, fk__conn *c, fk__row *to);
/* Count one packet of c in c and its owner (c must have one); tcp_flags
 * are the packet's (0 for UDP). */
void fk__ledger_count(fk__ledger *l, fk__conn *c, bool sent, uint32_t len, uint8_t tcp_flags,
                      int64_t ts_ns);
/* The fk_rank_tcp_state of a TCP connection from the flags seen each way. */
uint8_t fk__ledger_tcp_state(const fk__conn *c);
/* Iterate the connections: *pos = 0 first; NULL at the end. */
fk__conn *fk__ledger_conn_next(const fk__ledger *l, size_t *pos);
/* Drop the connections idle for more than idle_ns at now_ns. */
void fk__ledger_expire(fk__ledger *l, int64_t now_ns, int64_t idle_ns);
/* Drop process rows that never counted a packet, that no connection refers
 * to, and for which gone(pid) says the process is gone. Returns how many. */
typedef bool (*fk__ledger_gone_cb)(uint32_t pid, void *user);
size_t fk__ledger_gc_rows(fk__ledger *l, fk__ledger_gone_cb gone, void *user);

/* Check the ownership rule: every row's refs equals the number of
 * connections it owns. 0, or FK_ESTATE naming the first row that differs. */
int fk__ledger_check(const fk__ledger *l);

/* Remember the name of an interface index (once). */
void fk__ledger_learn_ifname(fk__ledger *l, uint32_t ifindex);
const char *fk__ledger_ifname(const fk__ledger *l, uint32_t ifindex);

/* What a snapshot holds: at most `limit` rows (0 = all) in `key` order,
 * rates over `recent_sec` complete seconds, and `history` complete
 * seconds of per-second bytes per row (0 = none). */
typedef struct fk__rank_query {
    size_t limit;
    uint32_t recent_sec; /* [1, history_seconds] */
    uint32_t history;    /* [0, history_seconds] */
    fk_rank_sort key;
} fk__rank_query;

/* A snapshot of the rows at now_ns (see fk__attrib_rank). */
int fk__ledger_rank(fk__ledger *l, int64_t now_ns, const fk__rank_query *q, fk_rank_snapshot **out);

#endif
