/* Internal: the collector handle's state, shared by its parts: the handle
 * and activation (collector.c), the event loop and delivery (loop.c), TCP
 * connections (tcp.c) and UDP sockets (udp.c). */
#ifndef FK_COLLECTOR_STATE_H
#define FK_COLLECTOR_STATE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/epoll.h>

#include "collector/internal.h"
#include "collector/udp.h"
#include "collector/workers.h"
#include "core/error.h"
#include "core/params.h"
#include "flow/tagset.h"

#define NS 1000000000LL
#define TICK_NS (NS / 4)
/* Longest stretch of decoding in one dispatch (loop.c, must_yield). */
#define DISPATCH_BUDGET_NS (NS / 20)

enum { EP_WAKE = 1, EP_UDP = 2, EP_TCP_LISTEN = 3, EP_TCP_CONN = 4 };

typedef struct ep_tag {
    int kind;
} ep_tag;

typedef struct listener {
    ep_tag tag;
    fk__col_uri uri;
    int fd;
    uint32_t drops_seen; /* last SO_RXQ_OVFL value */
    bool parked;         /* out of the epoll set until the batching interval ends */
    char bound[80];
} listener;

/* An exporter address refused by the allowlist, for the rate-limited log
 * line (reject_log.c). */
typedef struct fk__col_reject_slot {
    bool used;
    char text[FK_ADDR_STRLEN]; /* the address as fk_addr_format() writes it */
    int64_t next_ns;           /* no line for this address before then */
    uint64_t suppressed;       /* refusals since its last line */
} fk__col_reject_slot;
#define REJECT_LOG_SLOTS 16
#define REJECT_LOG_INTERVAL_NS (10 * NS)

typedef struct tcpconn {
    ep_tag tag;
    struct tcpconn *next;
    int fd;
    fk__col_peer peer;
    fk__col_stream stream;
} tcpconn;

struct fk_collector {
    fk__params params;
    listener *listeners;
    size_t nlisteners;
    fk__sink **sinks;
    size_t nsinks;
    fk__tagset tags; /* fk_collector_add_tag; the sinks borrow them */
    fk__cidr *allow;
    size_t nallow;
    fk_collector_flow_cb cb;
    void *cb_user;
    fk_collector_batch_cb batch_cb; /* records in arrays (batch.c) */
    void *batch_user;
    fk__col_flowbuf fbuf;        /* the batch being filled; flows allocated at activate */
    bool callbacks;              /* cb || batch_cb */
    fk_senders *senders;         /* borrowed; NULL = no check */
    fk_prefixstats *prefixstats; /* borrowed; NULL = none */
    const fk_addr *cur_sender;   /* where the message being decoded came from */

    bool active;
    int epfd;
    ep_tag wake_tag;
    int wakefd;
    atomic_int break_req;
    atomic_int reopen_req;
    fk__col_sessions *sessions;
    fk_collector_stats stats;
    tcpconn *conns;
    size_t nconns;
    uint32_t next_conn_id;
    fk__col_workers *workers;
    const fk__col_codec *codec;

    /* recvmmsg state */
    size_t batch;
    struct mmsghdr *msgs;
    struct iovec *iovs;
    struct sockaddr_storage *addrs;
    uint8_t *bufs;
    uint8_t *ctrl;
    /* Receive batching (recv_interval): a UDP socket drained dry is parked
     * (left out of the epoll set) until rearm_ns, so that each wake-up
     * reads what arrived over the interval in one go. */
    int64_t recv_interval_ns; /* 0 = read as soon as a datagram arrives */
    int64_t rearm_ns;         /* when parked sockets come back; 0 = none parked */
    uint64_t wakeups;         /* dispatches that read UDP */

    int64_t next_tick_ns;
    int64_t deadline_ns; /* 0 = none */
    uint64_t count_limit;
    bool limit_reached;
    bool raw_runs_off; /* tests: pass-through sets offered one by one (fk__collector_raw_runs) */
    bool backlog;      /* worker datagrams left queued by the last dispatch */
    int64_t now_ns;    /* refreshed at each dispatch */
    int scale_sampling;
    /* Output failures not yet in the log (fk__col_sinks_account). */
    uint64_t sink_failures_unlogged;
    uint64_t sink_lost_unlogged;
    int64_t sink_log_next_ns;
    char sink_last_error[256];
    /* Exporters refused by the allowlist, for the log (reject_log.c). */
    fk__col_reject_slot rejects[REJECT_LOG_SLOTS];
};

/* True when a may send (no allowlist, or a matches it). */
static inline bool fk__col_allowed(const fk_collector *h, const fk_addr *a)
{
    return h->nallow == 0 || fk__cidr_match(h->allow, h->nallow, a);
}

/* Add fd to the handle's epoll set, reporting tag. */
static inline int fk__col_epoll_add(fk_collector *h, int fd, ep_tag *tag)
{
    struct epoll_event ev;
    memset(&ev, 0, sizeof ev);
    ev.events = EPOLLIN;
    ev.data.ptr = tag;
    if (epoll_ctl(h->epfd, EPOLL_CTL_ADD, fd, &ev) != 0)
        return fk__error_errno(FK_EIO, "collector: epoll_ctl");
    return FK_OK;
}

/* ---- loop.c ------------------------------------------------------------ */

/* The session layer's flow callback: scaling, counting, callback, sinks. */
void fk__col_deliver(void *user, fk_flow *f);

/* ---- batch.c ----------------------------------------------------------- */

/* The batch array, at activate when a batch callback is set (FK_ENOMEM);
 * freed (after handing over what it holds) at deactivate. */
int fk__col_batch_alloc(fk_collector *h);
void fk__col_batch_free(fk_collector *h);
/* Hand the records held to the batch callback (nothing when none). */
void fk__col_batch_flush(fk_collector *h);

/* Keep the delivered record f in the batch (it may already sit in its
 * slot: decoded there); the batch goes out when full or when f carries a
 * borrowed string (valid only until this delivery returns: fbuf.ends). */
static inline void fk__col_batch_keep(fk_collector *h, const fk_flow *f)
{
    fk_flow *slot = h->fbuf.next;
    if (f != slot)
        *slot = *f;
    h->fbuf.next = slot + 1;
    if (slot + 1 == h->fbuf.end || h->fbuf.ends)
        fk__col_batch_flush(h);
}
/* The session layer's pass-through offer (ipfix_passthrough). */
bool fk__col_deliver_raw(void *user, const fk__col_raw_set *rs);
/* The same for a run of sets (fk__col_raw_run_fn). */
bool fk__col_deliver_raw_run(void *user, const fk__col_raw_set *sets, size_t n);
/* An exporter domain ended (fk__col_domain_gone_fn): the ipfix: outputs
 * forget it. */
void fk__col_domain_gone(void *user, uint64_t session, uint32_t odid);
/* The record-plan offer (fk__col_direct_fn). */
bool fk__col_deliver_direct(void *user, const fk__col_direct_set *ds);
/* Count the records the outputs lost (stats.sink_errors) and log their
 * failures, at most one line per SINK_LOG_INTERVAL_NS unless final. */
void fk__col_sinks_account(fk_collector *h, bool final);
#define SINK_LOG_INTERVAL_NS NS

/* ---- reject_log.c ------------------------------------------------------ */

/* Count a datagram or connection from a (refused by the allowlist) and log
 * it: an address's first refusal at once, then at most one line per
 * REJECT_LOG_INTERVAL_NS per address with the count since its last line. */
void fk__col_rejected(fk_collector *h, const fk_addr *a);
/* Log the refusals not yet reported whose interval is over (all if final). */
void fk__col_rejected_tick(fk_collector *h, bool final);

/* ---- tcp.c ------------------------------------------------------------- */

/* A bound, listening TCP socket for u. */
int fk__col_open_tcp(const fk__col_uri *u, int64_t rcvbuf, const char *what, int *out);
/* Accept every pending connection of l (refused ones counted). */
void fk__col_tcp_accept(fk_collector *h, listener *l);
/* Read what c has and decode its messages; returns the records delivered.
 * Closes c when the exporter closed it or its stream cannot be framed. */
int fk__col_tcp_read(fk_collector *h, tcpconn *c);
/* Close c and unlink it; count_session ends its session in the session layer. */
void fk__col_tcp_close(fk_collector *h, tcpconn *c, bool count_session);

#endif
