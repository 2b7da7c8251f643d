/* TCP exporters of the collector: listening, accepting (allowlist and
 * connection limit), reading each connection's byte stream into IPFIX
 * messages (stream.c frames them) for the session layer, closing. */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "collector/collector_state.h"
#include "core/alloc.h"
#include "core/error.h"
#include "core/log.h"

int fk__col_open_tcp(const fk__col_uri *u, int64_t rcvbuf, const char *what, int *out)
{
    int fd = socket(u->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return fk__error_errno(FK_EIO, "%s: socket", what);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (u->ss.ss_family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    int rc = fk__col_set_rcvbuf(fd, rcvbuf, what);
    if (rc == FK_OK && bind(fd, (const struct sockaddr *)&u->ss, u->sslen) != 0)
        rc = fk__error_errno(errno == EACCES ? FK_EPERM : FK_EIO, "%s: bind", what);
    if (rc == FK_OK && listen(fd, 128) != 0)
        rc = fk__error_errno(FK_EIO, "%s: listen", what);
    if (rc) {
        close(fd);
        return rc;
    }
    *out = fd;
    return FK_OK;
}

void fk__col_tcp_close(fk_collector *h, tcpconn *c, bool count_session)
{
    if (h->epfd >= 0)
        epoll_ctl(h->epfd, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    if (count_session && h->sessions)
        fk__col_sessions_close(h->sessions, &c->peer);
    fk__col_stream_free(&c->stream);
    for (tcpconn **pp = &h->conns; *pp; pp = &(*pp)->next) {
        if (*pp == c) {
            *pp = c->next;
            break;
        }
    }
    h->nconns--;
    fk__free(c);
}

void fk__col_tcp_accept(fk_collector *h, listener *l)
{
    int64_t max = fk__params_int(&h->params, FK_COL_MAX_TCP);
    for (;;) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof ss;
        int fd = accept4(l->fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return;
        fk__col_peer peer;
        memset(&peer, 0, sizeof peer);
        fk__col_addr_from_sockaddr((struct sockaddr *)&ss, &peer.addr, &peer.port);
        peer.transport = FK__COL_TCP;
        peer.conn_id = ++h->next_conn_id;
        if (!fk__col_allowed(h, &peer.addr)) {
            fk__col_rejected(h, &peer.addr);
            close(fd);
            continue;
        }
        if ((int64_t)h->nconns >= max) {
            h->stats.tcp_refused++;
            close(fd);
            continue;
        }
        tcpconn *c = FK__NEW(tcpconn);
        if (!c) {
            close(fd);
            continue;
        }
        c->tag.kind = EP_TCP_CONN;
        c->fd = fd;
        c->peer = peer;
        if (fk__col_epoll_add(h, fd, &c->tag) != FK_OK) {
            close(fd);
            fk__free(c);
            continue;
        }
        c->next = h->conns;
        h->conns = c;
        h->nconns++;
        h->stats.tcp_connections++;
    }
}

typedef struct tcp_msg_ctx {
    fk_collector *h;
    tcpconn *c;
    int records;
} tcp_msg_ctx;

static int tcp_message(void *user, const uint8_t *msg, size_t len)
{
    tcp_msg_ctx *t = user;
    t->h->cur_sender = &t->c->peer.addr;
    int r = fk__col_sessions_message(t->h->sessions, &t->c->peer, msg, len, t->h->now_ns);
    t->h->cur_sender = NULL;
    if (r > 0)
        t->records += r;
    return FK_OK;
}

int fk__col_tcp_read(fk_collector *h, tcpconn *c)
{
    tcp_msg_ctx t = {h, c, 0};
    for (int round = 0; round < 16; round++) {
        if (atomic_load_explicit(&h->break_req, memory_order_relaxed) ||
            fk__mono_ns() - h->now_ns >= DISPATCH_BUDGET_NS)
            break; /* the rest stays in the socket for the next dispatch */
        ssize_t n = read(c->fd, h->bufs, FK__COL_MAX_DGRAM);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
            break;
        if (n <= 0) {
            fk__col_tcp_close(h, c, true);
            return t.records;
        }
        h->stats.bytes += (uint64_t)n;
        int rc = fk__col_stream_push(&c->stream, h->bufs, (size_t)n, tcp_message, &t);
        if (rc) {
            /* The stream cannot be framed any more: drop the connection. */
            h->stats.malformed++;
            FK__LOG_WARN("collector", "%s", fk_error_last()->message);
            fk__col_tcp_close(h, c, true);
            return t.records;
        }
    }
    return t.records;
}
