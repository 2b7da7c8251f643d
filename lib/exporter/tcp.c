/* TCP transport of the exporter: messages queue per destination (bounded
 * by buffer_bytes) and are written as the connection takes them; templates
 * go first on every new connection; a lost connection reconnects with
 * exponential backoff.
 *
 * Delivery is counted when the collector's TCP acknowledges it, not when
 * the kernel takes it: a message written to the socket moves to the sent
 * list and counts as sent once SIOCOUTQ (bytes written and not yet
 * acknowledged; still valid after a reset) says every byte of it was
 * acknowledged. When the connection breaks, the messages the collector's
 * TCP never acknowledged (and one cut part-way) are replayed, in order and
 * with their sequence numbers, at the head of the queue on the next
 * connection (records_resent): the collector never received them, so the
 * replay duplicates nothing. What the collector's kernel acknowledged but
 * the collector process never read (it was killed with data in its receive
 * buffer) cannot be seen from here: IPFIX over TCP has no acknowledgement
 * of its own. */
#include <errno.h>
#include <linux/sockios.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/bytes.h"
#include "core/log.h"
#include "exporter/exporter_state.h"

static msgnode *node_new(const uint8_t *buf, size_t len, uint32_t records, bool is_template)
{
    msgnode *n = fk__malloc(sizeof *n + len);
    if (!n)
        return NULL;
    n->next = NULL;
    n->len = (uint32_t)len;
    n->off = 0;
    n->end = 0;
    n->records = records;
    n->is_template = is_template;
    memcpy(n->data, buf, len);
    return n;
}

static void enqueue(exp_dest *d, msgnode *n)
{
    if (d->tail)
        d->tail->next = n;
    else
        d->head = n;
    d->tail = n;
    if (!n->is_template)
        d->queued += n->len;
}

static void free_chain(msgnode *n)
{
    while (n) {
        msgnode *next = n->next;
        fk__free(n);
        n = next;
    }
}

void fk__exp_queue_free(exp_dest *d)
{
    free_chain(d->head);
    free_chain(d->sent_head);
    d->head = d->tail = NULL;
    d->sent_head = d->sent_tail = NULL;
    d->queued = 0;
    d->held = 0;
}

/* Messages on the sent list that the collector's TCP acknowledged are
 * delivered: counted as sent and freed. */
static void tcp_acked(exp_dest *d)
{
    if (!d->sent_head || d->fd < 0)
        return;
    int outq = 0;
    if (ioctl(d->fd, SIOCOUTQ, &outq) != 0 || outq < 0 || (uint64_t)outq > d->wrote)
        return;
    uint64_t acked = d->wrote - (uint64_t)outq;
    while (d->sent_head && d->sent_head->end <= acked) {
        msgnode *n = d->sent_head;
        d->sent_head = n->next;
        if (!d->sent_head)
            d->sent_tail = NULL;
        fk__exp_count_sent(d, n->len, n->records, n->is_template);
        d->held -= n->records;
        fk__free(n);
    }
}

void fk__exp_tcp_check_acked(fk_exporter *h)
{
    for (size_t i = 0; i < h->ndests; i++)
        if (h->dests[i].state == D_UP)
            tcp_acked(&h->dests[i]);
}

bool fk__exp_tcp_unacked(const fk_exporter *h)
{
    for (size_t i = 0; i < h->ndests; i++)
        if (h->dests[i].sent_head)
            return true;
    return false;
}

/* Collect template messages into a chain (to be put at the queue head). */
static void emit_tcp_template(exp_dest *d, const uint8_t *buf, size_t len, msgnode **chain)
{
    msgnode *n = node_new(buf, len, 0, true);
    if (!n) {
        fk__exp_count_dropped(d, 0);
        return;
    }
    if (chain) {
        while (*chain)
            chain = &(*chain)->next;
        *chain = n;
    } else {
        enqueue(d, n);
    }
}

static void tcp_flush(fk_exporter *h, exp_dest *d);

static void schedule_reconnect(fk_exporter *h, exp_dest *d)
{
    d->state = D_DOWN;
    d->next_connect_ns = fk__exp_now(h) + d->backoff_ms * 1000000;
    d->backoff_ms = d->backoff_ms * 2 > h->rc_max_ms ? h->rc_max_ms : d->backoff_ms * 2;
}

/* The connection is gone. What its TCP acknowledged is delivered; every
 * data message after that (written but unacknowledged, or cut part-way) goes
 * back to the head of the queue, in order, for the next connection;
 * templates are sent again anyway. */
static void tcp_lost(fk_exporter *h, exp_dest *d, int err)
{
    char eb[128];
    FK__LOG_WARN("exporter", "%s: connection lost: %s", d->uri,
                 err ? fk__strerror_r(err, eb, sizeof eb) : "closed");
    tcp_acked(d); /* SIOCOUTQ still tells after a reset */
    fk__exp_dest_close(h, d);
    d->st.connect_failures++;
    msgnode *chain = d->sent_head;
    msgnode *n = d->head;
    if (d->sent_tail)
        d->sent_tail->next = d->head;
    else
        chain = n;
    d->sent_head = d->sent_tail = NULL;
    d->wrote = 0;
    d->head = d->tail = NULL;
    d->queued = 0;
    msgnode **pp = &d->head;
    for (n = chain; n;) {
        msgnode *next = n->next;
        if (n->is_template) {
            fk__free(n);
        } else {
            if (n->end || n->off) {
                d->st.records_resent += n->records;
                d->st.messages_resent++;
            }
            n->off = 0;
            n->end = 0;
            n->next = NULL;
            *pp = n;
            pp = &n->next;
            d->tail = n;
            d->queued += n->len;
        }
        n = next;
    }
    d->tmpl_sent = 0;
    schedule_reconnect(h, d);
}

static uint32_t node_seq(const msgnode *n)
{
    return fk__get32(n->data + 8);
}

static void tcp_connected(fk_exporter *h, exp_dest *d)
{
    d->state = D_UP;
    d->overflowing = false;
    d->st.connects++;
    d->backoff_ms = h->rc_min_ms;
    FK__LOG_INFO("exporter", "%s: connected", d->uri);
    /* Templates first, with the sequence number of the first queued record. */
    uint32_t seq = d->head ? node_seq(d->head) : d->seq;
    msgnode *chain = NULL;
    fk__exp_build_templates(h, d, 0, seq, emit_tcp_template, &chain);
    if (chain) {
        msgnode *last = chain;
        while (last->next)
            last = last->next;
        last->next = d->head;
        if (!d->head)
            d->tail = last;
        d->head = chain;
    }
    d->tmpl_sent = h->ntmpls;
    fk__exp_dest_set_events(h, d, EPOLLIN | EPOLLRDHUP);
    tcp_flush(h, d);
}

void fk__exp_tcp_connect(fk_exporter *h, exp_dest *d)
{
    fk__exp_dest_close(h, d);
    int fd = socket(d->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        d->st.connect_failures++;
        schedule_reconnect(h, d);
        return;
    }
    d->fd = fd;
    if (connect(fd, (struct sockaddr *)&d->addr, d->addrlen) == 0) {
        tcp_connected(h, d);
    } else if (errno == EINPROGRESS) {
        d->state = D_CONNECTING;
        fk__exp_dest_set_events(h, d, EPOLLOUT);
    } else {
        fk__exp_dest_close(h, d);
        d->st.connect_failures++;
        schedule_reconnect(h, d);
    }
}

/* A collector never sends on an IPFIX session: readable means closed. */
static bool tcp_peer_closed(exp_dest *d, int *err)
{
    char c[256];
    for (;;) {
        ssize_t n = recv(d->fd, c, sizeof c, MSG_DONTWAIT);
        if (n > 0)
            continue;
        if (n == 0) {
            *err = 0;
            return true;
        }
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return false;
        *err = errno;
        return true;
    }
}

static void tcp_flush(fk_exporter *h, exp_dest *d)
{
    if (d->state != D_UP)
        return;
    int err = 0;
    if (d->head && tcp_peer_closed(d, &err)) {
        tcp_lost(h, d, err);
        return;
    }
    while (d->head) {
        msgnode *n = d->head;
        ssize_t w = send(d->fd, n->data + n->off, n->len - n->off, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
            tcp_lost(h, d, errno);
            return;
        }
        n->off += (uint32_t)w;
        d->wrote += (uint64_t)w;
        if (n->off < n->len)
            continue;
        if (!n->is_template)
            d->queued -= n->len;
        if (d->queued == 0)
            d->overflowing = false;
        d->head = n->next;
        if (!d->head)
            d->tail = NULL;
        /* Delivered once acknowledged (tcp_acked). */
        n->end = d->wrote;
        n->next = NULL;
        if (d->sent_tail)
            d->sent_tail->next = n;
        else
            d->sent_head = n;
        d->sent_tail = n;
    }
    tcp_acked(d);
    fk__exp_dest_set_events(h, d, EPOLLIN | EPOLLRDHUP | (d->head ? EPOLLOUT : 0));
}

/* Queue the finished message in h->msg (bounded) and write what the
 * connection takes. */
void fk__exp_tcp_deliver(fk_exporter *h, exp_dest *d)
{
    uint8_t *buf = h->msg.buf;
    size_t len = h->msg.len;
    uint32_t records = h->msg.records;
    if (d->state == D_UP && d->tmpl_sent < h->ntmpls) {
        fk__exp_build_templates(h, d, d->tmpl_sent, d->seq, emit_tcp_template, NULL);
        d->tmpl_sent = h->ntmpls;
    }
    fk__exp_msg_header(buf, len, fk__exp_export_time(), d->seq, h->odid);
    d->seq += records; /* also when dropped: the collector sees the gap */
    /* Once one message did not fit, every newer one is dropped too until the
     * destination is back or its queue has drained, so what is kept is the
     * oldest run of records and the loss is one gap, not holes filled by
     * later, smaller messages. */
    if (d->overflowing || d->queued + len > h->buffer_bytes) {
        d->overflowing = true;
        fk__exp_count_dropped(d, records);
    } else {
        msgnode *n = node_new(buf, len, records, false);
        if (n) {
            enqueue(d, n);
            d->held += records;
        } else {
            fk__exp_count_dropped(d, records);
        }
    }
    tcp_flush(h, d);
}

void fk__exp_tcp_event(fk_exporter *h, exp_dest *d, uint32_t ev)
{
    if (d->state == D_CONNECTING) {
        int err = 0;
        socklen_t l = sizeof err;
        if (getsockopt(d->fd, SOL_SOCKET, SO_ERROR, &err, &l) != 0)
            err = errno;
        if (err == 0 && (ev & EPOLLOUT)) {
            tcp_connected(h, d);
        } else if (err != 0 || (ev & (EPOLLERR | EPOLLHUP))) {
            char eb[128];
            FK__LOG_DEBUG("exporter", "%s: connect failed: %s", d->uri,
                          fk__strerror_r(err, eb, sizeof eb));
            fk__exp_dest_close(h, d);
            d->st.connect_failures++;
            schedule_reconnect(h, d);
        }
        return;
    }
    if (d->state != D_UP)
        return;
    int err = 0;
    if ((ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) && tcp_peer_closed(d, &err)) {
        tcp_lost(h, d, err);
        return;
    }
    if (ev & EPOLLOUT)
        tcp_flush(h, d);
}

bool fk__exp_tcp_pending(const fk_exporter *h)
{
    for (size_t i = 0; i < h->ndests; i++) {
        if (h->dests[i].head || h->dests[i].sent_head)
            return true;
    }
    return false;
}
