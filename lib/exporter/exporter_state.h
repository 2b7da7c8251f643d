/* Internal: the exporter's state, shared by its parts: the handle and the
 * message flow (exporter.c), templates (templates.c), records in
 * (records.c), destinations (dest.c) and their transports (udp.c, tcp.c). */
#ifndef FK_EXPORTER_STATE_H
#define FK_EXPORTER_STATE_H

#include <flowkit/exporter.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

#include "core/clock.h"

#include "core/error.h"
#include "core/params.h"
#include "core/uri.h"
#include "exporter/msg.h"
#include "flow/tagset.h"

enum dest_state { D_UDP, D_DOWN, D_CONNECTING, D_UP };

typedef struct msgnode {
    struct msgnode *next;
    uint32_t len, off, records;
    bool is_template;
    uint64_t end; /* on the sent list: stream offset just past it (0 = not written) */
    uint8_t data[];
} msgnode;

typedef struct exp_dest {
    char *uri;
    fk__uri u; /* host and port as given */
    bool tcp;
    struct sockaddr_storage addr;
    socklen_t addrlen;
    int fd;
    int state;
    uint32_t seq;
    size_t tmpl_sent; /* templates [0, tmpl_sent) announced on this session */
    int64_t last_tmpl_ns;
    uint64_t msgs_since_tmpl;
    msgnode *head, *tail;
    size_t queued;                  /* bytes of data messages queued */
    msgnode *sent_head, *sent_tail; /* written to the connection, not yet acknowledged */
    uint64_t wrote;                 /* bytes written on the current connection */
    uint64_t held;                  /* data records queued or not yet acknowledged */
    bool overflowing; /* dropping new data messages until the queue drains or a reconnect */
    int64_t backoff_ms, next_connect_ns;
    uint32_t ev_mask; /* registered epoll events, 0 = not registered */
    fk_exporter_stats st;
} exp_dest;

struct fk_exporter {
    fk__params params;
    exp_dest *dests;
    size_t ndests;
    fk__exp_template **tmpls;
    size_t ntmpls, tmpl_cap;
    int builtin[FK__TMPL_BUILTIN_COUNT]; /* index into tmpls, -1 = not defined yet */
    fk__exp_msg msg;
    int64_t msg_first_ns;
    uint8_t *scratch; /* template messages */
    int epfd;
    bool active;
    uint64_t records_in;
    int64_t fake_now;
    /* parameters cached at activate */
    uint32_t odid, pen;
    size_t mtu, chunk, buffer_bytes;
    int64_t flush_ns, refresh_ns, rc_min_ms, rc_max_ms;
    uint64_t refresh_msgs;
    bool biflow;
    /* fk_exporter_add_tag: the set, and as the metadataTags value */
    fk__tagset tags;
    char tags_text[FK_EXPORTER_TAGS_MAX + 1];
};

#define CHECK_ACTIVE(h)                                                                            \
    do {                                                                                           \
        if (!(h))                                                                                  \
            return fk__error(FK_EINVAL, "exporter: NULL handle");                                  \
        if (!(h)->active)                                                                          \
            return fk__error(FK_ENOTACTIVATED, "exporter: not activated");                         \
    } while (0)

/* Monotonic now in ns (the test clock when one is set). */
static inline int64_t fk__exp_now(const fk_exporter *h)
{
    return h->fake_now ? h->fake_now : fk__mono_ns();
}

/* Export time of a message header: seconds since the epoch. */
static inline uint32_t fk__exp_export_time(void)
{
    return (uint32_t)time(NULL);
}

/* ---- exporter.c -------------------------------------------------------- */

/* Put a data record of template tid into the open message (emitting the
 * message first when it is full). */
int fk__exp_queue_record(fk_exporter *h, uint16_t tid, const uint8_t *rec, size_t len);

/* ---- templates.c ------------------------------------------------------- */

/* The template id of built-in variant mask, defined on first use. */
int fk__exp_builtin_template(fk_exporter *h, unsigned mask, uint16_t *tid);
/* Template id, or NULL. */
const fk__exp_template *fk__exp_template_find(const fk_exporter *h, uint16_t id);
/* How template messages reach a destination: sent at once or chained. */
typedef void (*fk__exp_emit_fn)(exp_dest *d, const uint8_t *buf, size_t len, msgnode **chain);
/* Template messages for templates [first, ntmpls), each handed to emit. */
void fk__exp_build_templates(fk_exporter *h, exp_dest *d, size_t first, uint32_t seq,
                             fk__exp_emit_fn emit, msgnode **chain);

/* ---- dest.c: one destination's socket and counters --------------------- */

/* Resolve the destination's host and port into d->addr. */
int fk__exp_dest_resolve(exp_dest *d);
/* Close the socket (and leave epoll). */
void fk__exp_dest_close(fk_exporter *h, exp_dest *d);
/* Register the socket for ev in the handle's epoll set. */
void fk__exp_dest_set_events(fk_exporter *h, exp_dest *d, uint32_t ev);
void fk__exp_count_sent(exp_dest *d, size_t len, uint32_t records, bool is_template);
void fk__exp_count_dropped(exp_dest *d, uint32_t records);

/* ---- udp.c ------------------------------------------------------------- */

/* Open and connect the UDP socket. */
int fk__exp_udp_open(exp_dest *d);
/* Send the finished message in h->msg (templates first when due). */
void fk__exp_udp_deliver(fk_exporter *h, exp_dest *d, int64_t now);

/* ---- tcp.c ------------------------------------------------------------- */

/* Start connecting (or schedule a retry). */
void fk__exp_tcp_connect(fk_exporter *h, exp_dest *d);
/* Queue the finished message in h->msg (bounded) and write what the
 * connection takes. */
void fk__exp_tcp_deliver(fk_exporter *h, exp_dest *d);
/* The socket of d is ready for ev (epoll events). */
void fk__exp_tcp_event(fk_exporter *h, exp_dest *d, uint32_t ev);
/* True while any destination holds queued or unacknowledged messages. */
bool fk__exp_tcp_pending(const fk_exporter *h);
/* Count what the collectors' TCP acknowledged since the last look. */
void fk__exp_tcp_check_acked(fk_exporter *h);
/* True while any destination waits for an acknowledgement. */
bool fk__exp_tcp_unacked(const fk_exporter *h);
/* How often the acknowledgements are looked at while some are awaited. */
#define FK__EXP_ACK_POLL_NS 20000000LL
/* Free the queued messages of d. */
void fk__exp_queue_free(exp_dest *d);

#endif
