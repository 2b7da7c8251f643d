/* TCP transport of the exporter: messages queue per destination (bounded
 * by buffer_bytes) and are written as the connection takes them; templates
 * go first on every new connection; a lost connection reconnects with
 * exponential backoff. */
#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
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

void fk__exp_queue_free(exp_dest *d)
{
    msgnode *n = d->head;
    while (n) {
        msgnode *next = n->next;
        fk__free(n);
        n = next;
    }
    d->head = d->tail = NULL;
    d->queued = 0;
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

/* The connection is gone: what was partly written is lost (the collector
 * cannot resynchronise inside a message); templates are resent on the next
 * connect; whole messages stay queued. */
static void tcp_lost(fk_exporter *h, exp_dest *d, int err)
{
    FK__LOG_WARN("exporter", "%s: connection lost: %s", d->uri, err ? strerror(err) : "closed");
    fk__exp_dest_close(h, d);
    d->st.connect_failures++;
    msgnode **pp = &d->head;
    d->tail = NULL;
    while (*pp) {
        msgnode *n = *pp;
        if (n->is_template || n->off > 0) {
            if (!n->is_template) {
                d->queued -= n->len;
                fk__exp_count_dropped(d, n->records);
            }
            *pp = n->next;
            fk__free(n);
        } else {
            d->tail = n;
            pp = &n->next;
        }
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
        if (n->off < n->len)
            continue;
        fk__exp_count_sent(d, n->len, n->records, n->is_template);
        if (!n->is_template)
            d->queued -= n->len;
        if (d->queued == 0)
            d->overflowing = false;
        d->head = n->next;
        if (!d->head)
            d->tail = NULL;
        fk__free(n);
    }
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
        if (n)
            enqueue(d, n);
        else
            fk__exp_count_dropped(d, records);
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
            FK__LOG_DEBUG("exporter", "%s: connect failed: %s", d->uri, strerror(err));
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
        if (h->dests[i].head)
            return true;
    }
    return false;
}
