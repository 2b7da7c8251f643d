/* The fk_collector handle: parameters, lifecycle, sockets (UDP through
 * recvmmsg, TCP with IPFIX framing), the event loop and delivery to the
 * callback and the sinks. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/epoll.h>
#include <linux/sock_diag.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <flowkit/exporter.h>

#include "collector/internal.h"
#include "collector/sink_clickhouse.h"
#include "collector/workers.h"
#include "core/alloc.h"
#include "core/error.h"
#include "core/log.h"
#include "core/params.h"

#define NS 1000000000LL
#define MAX_DGRAM FK__COL_MAX_DGRAM
#define TICK_NS (NS / 4)

static const fk_param_info collector_params[] = {
    {FK_COL_WORKERS, "workers", FK_PARAM_INT, 0, 0, 64, 0, 0, 0, 0, NULL, "threads",
     "UDP receive threads, SO_REUSEPORT (0 = none)"},
    {FK_COL_SOCKET_BUFFER, "socket_buffer", FK_PARAM_INT, 0, 0, 1 << 30, 16 << 20, 0, 0, 0, NULL,
     "bytes", "socket receive buffer (0 = kernel default)"},
    {FK_COL_RECV_BATCH, "recv_batch", FK_PARAM_INT, 0, 1, 1024, 64, 0, 0, 0, NULL, "datagrams",
     "datagrams read per recvmmsg call"},
    {FK_COL_MAX_TCP, "max_tcp_connections", FK_PARAM_INT, 0, 1, 65536, 1024, 0, 0, 0, NULL,
     "connections", "concurrent TCP exporters; more are refused and counted"},
    {FK_COL_QUEUE_SIZE, "queue_size", FK_PARAM_INT, 0, 16, 1 << 20, 16384, 0, 0, 0, NULL,
     "datagrams", "datagrams queued between worker threads and the dispatching thread"},
    {FK_COL_TEMPLATE_TIMEOUT, "template_timeout", FK_PARAM_INT, 0, 0, 7 * 86400, 1800, 0, 0, 0,
     NULL, "s", "UDP template lifetime (0 = never expires)"},
    {FK_COL_PENDING_BYTES, "pending_bytes", FK_PARAM_INT, 0, 0, 1 << 28, 1 << 20, 0, 0, 0, NULL,
     "bytes", "data sets kept per exporter while their template is unknown (0 = none)"},
    {FK_COL_PENDING_AGE, "pending_age", FK_PARAM_INT, 0, 1, 86400, 60, 0, 0, 0, NULL, "s",
     "how long a data set waits for its template"},
    {FK_COL_MAX_TEMPLATES, "max_templates", FK_PARAM_INT, 0, 1, 1 << 20, 4096, 0, 0, 0, NULL,
     "templates", "templates kept per exporter session"},
    {FK_COL_MAX_EXPORTERS, "max_exporters", FK_PARAM_INT, 0, 1, 1 << 24, 65536, 0, 0, 0, NULL,
     "sessions", "exporter sessions kept at once"},
    {FK_COL_SCALE_SAMPLING, "scale_sampling", FK_PARAM_BOOL, FK_PARAM_RUNTIME, 0, 1, 0, 0, 0, 0,
     NULL, "", "multiply bytes and packets by the sampling rate"},
    {FK_COL_PENDING_TOTAL, "pending_total", FK_PARAM_INT, 0, 0, 1LL << 34, 64 << 20, 0, 0, 0, NULL,
     "bytes", "data sets kept over all exporters while their template is unknown"},
    {FK_COL_EXPORT_TOLERANCE, "export_time_tolerance", FK_PARAM_INT, 0, 0, 86400, 10, 0, 0, 0, NULL,
     "s", "allowed exporter clock skew (0 = no checks)"},
    {FK_COL_MAX_INTERFACES, "max_interfaces", FK_PARAM_INT, 0, 0, 1 << 20, 4096, 0, 0, 0, NULL,
     "names", "interface names kept per domain (0 = none)"},
    {FK_COL_PEN, "pen", FK_PARAM_INT, 0, 0, UINT32_MAX, FK_EXPORTER_DEFAULT_PEN, 0, 0, 0, NULL, "",
     "PEN of flowkit-export's process fields (0 = ignore)"},
    {FK_COL_SESSION_TIMEOUT, "session_timeout", FK_PARAM_INT, 0, 0, 7 * 86400, 3600, 0, 0, 0, NULL,
     "s", "forget a silent UDP exporter after this long (0 = never)"},
    {FK_COL_ROTATE_BYTES, "rotate_bytes", FK_PARAM_INT, 0, 0, INT64_MAX, 0, 0, 0, 0, NULL, "bytes",
     "start a new output file after this many bytes (0 = never)"},
    {FK_COL_ROTATE_SECONDS, "rotate_seconds", FK_PARAM_INT, 0, 0, 365 * 86400, 0, 0, 0, 0, NULL,
     "s", "start a new output file after this many seconds (0 = never)"},
    {FK_COL_DURATION, "duration", FK_PARAM_INT, 0, 0, 365 * 86400, 0, 0, 0, 0, NULL, "s",
     "stop after SECS seconds (0 = no limit)"},
    {FK_COL_COUNT, "count", FK_PARAM_INT, 0, 0, INT64_MAX, 0, 0, 0, 0, NULL, "records",
     "stop after N records (0 = no limit)"},
};

#define NPARAMS (sizeof collector_params / sizeof collector_params[0])

enum { EP_WAKE = 1, EP_UDP = 2, EP_TCP_LISTEN = 3, EP_TCP_CONN = 4 };

typedef struct ep_tag {
    int kind;
} ep_tag;

typedef struct listener {
    ep_tag tag;
    fk__col_uri uri;
    int fd;
    uint32_t drops_seen; /* last SO_RXQ_OVFL value */
    char bound[80];
} listener;

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
    fk__col_cidr *allow;
    size_t nallow;
    fk_collector_flow_fn cb;
    void *cb_user;

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

    int64_t next_tick_ns;
    int64_t deadline_ns; /* 0 = none */
    uint64_t count_limit;
    bool limit_reached;
    int64_t now_ns; /* refreshed at each dispatch */
    int scale_sampling;
    int sink_error_logged;
};

#define CTRL_SIZE FK__COL_CTRL_SIZE

const fk_param_info *fk_collector_params(size_t *count)
{
    if (count)
        *count = NPARAMS;
    return collector_params;
}

int fk_collector_create(fk_collector **out)
{
    if (!out)
        return fk__error(FK_EINVAL, "fk_collector_create: NULL out");
    fk_collector *h = FK__NEW(fk_collector);
    if (!h)
        return fk__error(FK_ENOMEM, "collector: out of memory");
    int rc = fk__params_init(&h->params, "collector", collector_params, NPARAMS);
    if (rc) {
        fk__free(h);
        return rc;
    }
    h->epfd = -1;
    h->wakefd = -1;
    h->wake_tag.kind = EP_WAKE;
    h->codec = &fk__col_codec_default;
    atomic_init(&h->break_req, 0);
    atomic_init(&h->reopen_req, 0);
    *out = h;
    return FK_OK;
}

static void close_conn(fk_collector *h, tcpconn *c, bool count_session)
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

/* Undo activate: sockets, threads, sessions, buffers (sinks are closed). */
static void deactivate(fk_collector *h)
{
    fk__col_workers_stop(h->workers);
    h->workers = NULL;
    while (h->conns)
        close_conn(h, h->conns, false);
    for (size_t i = 0; i < h->nlisteners; i++) {
        if (h->listeners[i].fd >= 0)
            close(h->listeners[i].fd);
        h->listeners[i].fd = -1;
    }
    if (h->wakefd >= 0)
        close(h->wakefd);
    if (h->epfd >= 0)
        close(h->epfd);
    h->wakefd = h->epfd = -1;
    for (size_t i = 0; i < h->nsinks; i++) {
        fk__sink *k = h->sinks[i];
        fk__sink_flush(k);
        if (k->path && k->fp) {
            fclose(k->fp);
            k->fp = NULL;
        }
        k->fp = NULL;
    }
    fk__col_sessions_destroy(h->sessions);
    h->sessions = NULL;
    fk__free(h->msgs);
    fk__free(h->iovs);
    fk__free(h->addrs);
    fk__free(h->bufs);
    fk__free(h->ctrl);
    h->msgs = NULL;
    h->iovs = NULL;
    h->addrs = NULL;
    h->bufs = NULL;
    h->ctrl = NULL;
    h->active = false;
    h->params.activated = false;
}

void fk_collector_destroy(fk_collector *h)
{
    if (!h)
        return;
    if (h->active)
        deactivate(h);
    for (size_t i = 0; i < h->nsinks; i++)
        fk__sink_destroy(h->sinks[i]);
    fk__free(h->sinks);
    fk__free(h->listeners);
    fk__free(h->allow);
    fk__params_free(&h->params);
    fk__free(h);
}

int fk_collector_set_int(fk_collector *h, int param, int64_t value)
{
    if (!h)
        return fk__error(FK_EINVAL, "fk_collector_set_int: NULL handle");
    int rc = fk__params_set_int(&h->params, param, value);
    if (rc == FK_OK && param == FK_COL_SCALE_SAMPLING)
        h->scale_sampling = (int)value;
    return rc;
}

int fk_collector_set_double(fk_collector *h, int param, double value)
{
    if (!h)
        return fk__error(FK_EINVAL, "fk_collector_set_double: NULL handle");
    return fk__params_set_double(&h->params, param, value);
}

int fk_collector_set_str(fk_collector *h, int param, const char *value)
{
    if (!h)
        return fk__error(FK_EINVAL, "fk_collector_set_str: NULL handle");
    return fk__params_set_str(&h->params, param, value);
}

static int set_int_any(void *h, int id, int64_t v)
{
    return fk_collector_set_int(h, id, v);
}

int fk_collector_set_text(fk_collector *h, const char *name, const char *text)
{
    static const fk__param_setters typed = {set_int_any, NULL, NULL};
    if (!h)
        return fk__error(FK_EINVAL, "fk_collector_set_text: NULL handle");
    return fk__params_set_text_with(&h->params, &typed, h, name, text);
}

int fk_collector_get_int(const fk_collector *h, int param, int64_t *out)
{
    if (!h || !out)
        return fk__error(FK_EINVAL, "fk_collector_get_int: NULL argument");
    return fk__params_get_int(&h->params, param, out);
}

int fk_collector_add_listener(fk_collector *h, const char *uri)
{
    if (!h || !uri)
        return fk__error(FK_EINVAL, "fk_collector_add_listener: NULL argument");
    if (h->active)
        return fk__error(FK_EACTIVATED, "collector: listeners cannot be added after activate");
    fk__col_uri u;
    int rc = fk__col_uri_parse(uri, &u);
    if (rc)
        return rc;
    listener *l = fk__reallocarray(h->listeners, h->nlisteners + 1, sizeof *l);
    if (!l)
        return fk__error(FK_ENOMEM, "collector: out of memory");
    h->listeners = l;
    memset(&l[h->nlisteners], 0, sizeof *l);
    l[h->nlisteners].uri = u;
    l[h->nlisteners].fd = -1;
    l[h->nlisteners].tag.kind = u.transport == FK__COL_UDP ? EP_UDP : EP_TCP_LISTEN;
    h->nlisteners++;
    return FK_OK;
}

int fk_collector_add_output(fk_collector *h, const char *uri)
{
    if (!h || !uri)
        return fk__error(FK_EINVAL, "fk_collector_add_output: NULL argument");
    if (h->active)
        return fk__error(FK_EACTIVATED, "collector: outputs cannot be added after activate");
    fk__sink *k;
    int rc = fk__sink_create(&k, uri);
    if (rc)
        return rc;
    fk__sink **s = fk__reallocarray(h->sinks, h->nsinks + 1, sizeof *s);
    if (!s) {
        fk__sink_destroy(k);
        return fk__error(FK_ENOMEM, "collector: out of memory");
    }
    h->sinks = s;
    s[h->nsinks++] = k;
    return FK_OK;
}

int fk_collector_add_allow(fk_collector *h, const char *cidr)
{
    if (!h || !cidr)
        return fk__error(FK_EINVAL, "fk_collector_add_allow: NULL argument");
    if (h->active)
        return fk__error(FK_EACTIVATED, "collector: allowlist cannot change after activate");
    fk__col_cidr c;
    int rc = fk__col_cidr_parse(cidr, &c);
    if (rc)
        return rc;
    fk__col_cidr *a = fk__reallocarray(h->allow, h->nallow + 1, sizeof *a);
    if (!a)
        return fk__error(FK_ENOMEM, "collector: out of memory");
    h->allow = a;
    a[h->nallow++] = c;
    return FK_OK;
}

int fk_collector_set_callback(fk_collector *h, fk_collector_flow_fn fn, void *user)
{
    if (!h)
        return fk__error(FK_EINVAL, "fk_collector_set_callback: NULL handle");
    h->cb = fn;
    h->cb_user = user;
    return FK_OK;
}

/* ---- delivery ----------------------------------------------------------- */

static void deliver(void *user, fk_flow *f)
{
    fk_collector *h = user;
    if (h->limit_reached)
        return;
    if (h->scale_sampling && (f->present & FK_FLOW_HAS_SAMPLING) && f->sampling > 1) {
        f->bytes *= f->sampling;
        f->packets *= f->sampling;
        if (f->present & FK_FLOW_HAS_REVERSE) {
            f->rev_bytes *= f->sampling;
            f->rev_packets *= f->sampling;
        }
    }
    h->stats.records++;
    if (h->cb)
        h->cb(f, h->cb_user);
    for (size_t i = 0; i < h->nsinks; i++) {
        if (fk__sink_write(h->sinks[i], f, h->now_ns) != FK_OK) {
            h->stats.sink_errors++;
            if (!h->sink_error_logged++)
                FK__LOG_ERROR("collector", "%s", fk_error_last()->message);
        }
    }
    if (h->count_limit && h->stats.records >= h->count_limit)
        h->limit_reached = true;
}

static bool allowed(const fk_collector *h, const fk_addr *a)
{
    return h->nallow == 0 || fk__col_cidr_match(h->allow, h->nallow, a);
}

static int handle_datagram(fk_collector *h, const struct sockaddr *from, const uint8_t *data,
                           size_t len)
{
    fk__col_peer peer;
    memset(&peer, 0, sizeof peer);
    fk__col_addr_from_sockaddr(from, &peer.addr, &peer.port);
    peer.transport = FK__COL_UDP;
    h->stats.datagrams++;
    h->stats.bytes += len;
    if (!allowed(h, &peer.addr)) {
        h->stats.allowlist_rejected++;
        return 0;
    }
    return fk__col_sessions_message(h->sessions, &peer, data, len, h->now_ns);
}

/* ---- activate ----------------------------------------------------------- */

static int set_rcvbuf(int fd, int64_t bytes, const char *what)
{
    if (bytes <= 0)
        return FK_OK;
    int v = (int)bytes;
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &v, sizeof v) == 0)
        return FK_OK;
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof v) != 0)
        return fk__error_errno(FK_EIO, "%s: SO_RCVBUF", what);
    int got = 0;
    socklen_t gl = sizeof got;
    getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &got, &gl);
    FK__LOG_INFO("collector",
                 "%s: receive buffer %d bytes (asked %d; SO_RCVBUFFORCE needs CAP_NET_ADMIN)", what,
                 got, v);
    return FK_OK;
}

int fk__col_open_udp(const fk__col_uri *u, int64_t rcvbuf, bool reuseport, const char *what,
                     int *out)
{
    int fd = socket(u->ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return fk__error_errno(FK_EIO, "%s: socket", what);
    int one = 1;
    if (u->ss.ss_family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    if (reuseport)
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof one);
    int rc = set_rcvbuf(fd, rcvbuf, what);
    if (rc == FK_OK && bind(fd, (const struct sockaddr *)&u->ss, u->sslen) != 0)
        rc = fk__error_errno(errno == EACCES ? FK_EPERM : FK_EIO, "%s: bind", what);
    if (rc) {
        close(fd);
        return rc;
    }
    *out = fd;
    return FK_OK;
}

static int open_listener(fk_collector *h, listener *l, bool reuseport)
{
    char what[80];
    fk__col_uri_format(l->uri.transport, (const struct sockaddr *)&l->uri.ss, what, sizeof what);
    int64_t rcvbuf = fk__params_int(&h->params, FK_COL_SOCKET_BUFFER);
    int fd;
    if (l->uri.transport == FK__COL_UDP) {
        int rc = fk__col_open_udp(&l->uri, rcvbuf, reuseport, what, &fd);
        if (rc)
            return rc;
    } else {
        fd = socket(l->uri.ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
            return fk__error_errno(FK_EIO, "%s: socket", what);
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (l->uri.ss.ss_family == AF_INET6)
            setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
        int rc = set_rcvbuf(fd, rcvbuf, what);
        if (rc == FK_OK && bind(fd, (const struct sockaddr *)&l->uri.ss, l->uri.sslen) != 0)
            rc = fk__error_errno(errno == EACCES ? FK_EPERM : FK_EIO, "%s: bind", what);
        if (rc == FK_OK && listen(fd, 128) != 0)
            rc = fk__error_errno(FK_EIO, "%s: listen", what);
        if (rc) {
            close(fd);
            return rc;
        }
    }
    l->fd = fd;
    /* Record the port actually bound (port 0 = any free port). */
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0) {
        memcpy(&l->uri.ss, &ss, sl);
        l->uri.sslen = sl;
    }
    fk__col_uri_format(l->uri.transport, (const struct sockaddr *)&l->uri.ss, l->bound,
                       sizeof l->bound);
    return FK_OK;
}

static int epoll_add(fk_collector *h, int fd, ep_tag *tag)
{
    struct epoll_event ev;
    memset(&ev, 0, sizeof ev);
    ev.events = EPOLLIN;
    ev.data.ptr = tag;
    if (epoll_ctl(h->epfd, EPOLL_CTL_ADD, fd, &ev) != 0)
        return fk__error_errno(FK_EIO, "collector: epoll_ctl");
    return FK_OK;
}

static int alloc_batch(fk_collector *h)
{
    size_t b = h->batch;
    h->msgs = fk__calloc(b, sizeof *h->msgs);
    h->iovs = fk__calloc(b, sizeof *h->iovs);
    h->addrs = fk__calloc(b, sizeof *h->addrs);
    h->bufs = fk__calloc(b, MAX_DGRAM);
    h->ctrl = fk__calloc(b, CTRL_SIZE);
    if (!h->msgs || !h->iovs || !h->addrs || !h->bufs || !h->ctrl)
        return fk__error(FK_ENOMEM, "collector: out of memory for receive buffers");
    return FK_OK;
}

static void worker_datagram(void *user, const struct sockaddr *from, const uint8_t *data,
                            size_t len)
{
    handle_datagram(user, from, data, len);
}

int fk_collector_activate(fk_collector *h)
{
    if (!h)
        return fk__error(FK_EINVAL, "fk_collector_activate: NULL handle");
    if (h->active)
        return fk__error(FK_EACTIVATED, "collector: already activated");
    memset(&h->stats, 0, sizeof h->stats);
    h->active = true;
    h->limit_reached = false;
    h->now_ns = fk__mono_ns();
    fk__col_limits lim = {
        fk__params_int(&h->params, FK_COL_TEMPLATE_TIMEOUT) * NS,
        fk__params_int(&h->params, FK_COL_PENDING_AGE) * NS,
        (size_t)fk__params_int(&h->params, FK_COL_PENDING_BYTES),
        (size_t)fk__params_int(&h->params, FK_COL_PENDING_TOTAL),
        (size_t)fk__params_int(&h->params, FK_COL_MAX_TEMPLATES),
        (size_t)fk__params_int(&h->params, FK_COL_MAX_EXPORTERS),
        fk__params_int(&h->params, FK_COL_SESSION_TIMEOUT) * NS,
        fk__params_int(&h->params, FK_COL_EXPORT_TOLERANCE) * NS,
        (size_t)fk__params_int(&h->params, FK_COL_MAX_INTERFACES),
        (uint32_t)fk__params_int(&h->params, FK_COL_PEN),
    };
    int workers = (int)fk__params_int(&h->params, FK_COL_WORKERS);
    h->batch = (size_t)fk__params_int(&h->params, FK_COL_RECV_BATCH);
    h->scale_sampling = (int)fk__params_int(&h->params, FK_COL_SCALE_SAMPLING);
    int rc = fk__col_sessions_create(&h->sessions, h->codec, &lim, &h->stats, deliver, h);
    /* Receive buffers only when there are sockets to read (feed-only
     * collectors, as in tests and fuzzing, need none). */
    if (rc == FK_OK && h->nlisteners > 0)
        rc = alloc_batch(h);
    if (rc == FK_OK) {
        h->epfd = epoll_create1(EPOLL_CLOEXEC);
        h->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (h->epfd < 0 || h->wakefd < 0)
            rc = fk__error_errno(FK_EIO, "collector: epoll/eventfd");
        else
            rc = epoll_add(h, h->wakefd, &h->wake_tag);
    }
    for (size_t i = 0; rc == FK_OK && i < h->nlisteners; i++) {
        listener *l = &h->listeners[i];
        rc = open_listener(h, l, workers > 0);
        /* With workers, the threads read UDP; this socket only holds the port. */
        if (rc == FK_OK && !(workers > 0 && l->uri.transport == FK__COL_UDP))
            rc = epoll_add(h, l->fd, &l->tag);
    }
    int64_t rotate_b = fk__params_int(&h->params, FK_COL_ROTATE_BYTES);
    int64_t rotate_s = fk__params_int(&h->params, FK_COL_ROTATE_SECONDS);
    for (size_t i = 0; rc == FK_OK && i < h->nsinks; i++) {
        h->sinks[i]->rotate_bytes = rotate_b;
        h->sinks[i]->rotate_ns = rotate_s * NS;
        /* Process and event elements go into IPFIX files under the PEN they
         * were read with (the default one when that is 0). */
        uint32_t pen = (uint32_t)fk__params_int(&h->params, FK_COL_PEN);
        h->sinks[i]->pen = pen ? pen : FK_EXPORTER_DEFAULT_PEN;
        rc = fk__sink_open(h->sinks[i], h->now_ns);
    }
    if (rc == FK_OK && workers > 0) {
        /* Worker 0 reads the listener sockets themselves; the others open
         * SO_REUSEPORT siblings bound to the same (resolved) address. */
        size_t cap = h->nlisteners ? h->nlisteners : 1, n = 0;
        fk__col_uri *uris = fk__calloc(cap, sizeof *uris);
        int *fds = fk__calloc(cap, sizeof *fds);
        if (!uris || !fds)
            rc = fk__error(FK_ENOMEM, "collector: out of memory");
        for (size_t i = 0; rc == FK_OK && i < h->nlisteners; i++)
            if (h->listeners[i].uri.transport == FK__COL_UDP) {
                uris[n] = h->listeners[i].uri;
                fds[n++] = h->listeners[i].fd;
            }
        if (rc == FK_OK && n > 0)
            rc = fk__col_workers_start(&h->workers, workers, uris, fds, n,
                                       fk__params_int(&h->params, FK_COL_SOCKET_BUFFER),
                                       (size_t)fk__params_int(&h->params, FK_COL_QUEUE_SIZE),
                                       h->batch, h->wakefd);
        fk__free(fds);
        fk__free(uris);
    }
    if (rc) {
        deactivate(h);
        return rc;
    }
    int64_t dur = fk__params_int(&h->params, FK_COL_DURATION);
    h->deadline_ns = dur > 0 ? h->now_ns + dur * NS : 0;
    h->count_limit = (uint64_t)fk__params_int(&h->params, FK_COL_COUNT);
    h->next_tick_ns = h->now_ns + TICK_NS;
    h->params.activated = true;
    return FK_OK;
}

int fk_collector_listener_uri(const fk_collector *h, size_t index, char *buf, size_t size)
{
    if (!h || !buf)
        return fk__error(FK_EINVAL, "fk_collector_listener_uri: NULL argument");
    if (!h->active)
        return fk__error(FK_ENOTACTIVATED, "collector: not activated");
    if (index >= h->nlisteners)
        return fk__error(FK_ENOTFOUND, "collector: no listener %zu", index);
    size_t n = strlen(h->listeners[index].bound);
    if (n + 1 > size)
        return fk__error(FK_ENOSPACE, "collector: buffer of %zu bytes too small", size);
    memcpy(buf, h->listeners[index].bound, n + 1);
    return (int)n;
}

int fk_collector_get_fd(const fk_collector *h)
{
    if (!h)
        return fk__error(FK_EINVAL, "fk_collector_get_fd: NULL handle");
    if (!h->active)
        return fk__error(FK_ENOTACTIVATED, "collector: not activated");
    return h->epfd;
}

int fk_collector_next_timeout_ms(const fk_collector *h)
{
    if (!h)
        return fk__error(FK_EINVAL, "fk_collector_next_timeout_ms: NULL handle");
    if (!h->active)
        return fk__error(FK_ENOTACTIVATED, "collector: not activated");
    if (h->limit_reached || atomic_load(&h->break_req))
        return 0;
    int64_t now = fk__mono_ns();
    int64_t due = h->next_tick_ns;
    if (h->deadline_ns && h->deadline_ns < due)
        due = h->deadline_ns;
    /* Records waiting in a sink's buffer go out soon after the last one. */
    for (size_t i = 0; i < h->nsinks; i++) {
        int64_t d = fk__sink_submit_due_ns(h->sinks[i]);
        if (d >= 0 && d < due)
            due = d;
    }
    int64_t left = due - now;
    if (left <= 0)
        return 0;
    return (int)((left + 999999) / 1000000);
}

/* ---- I/O ---------------------------------------------------------------- */

static uint32_t cmsg_drops(const struct msghdr *m)
{
    for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR((struct msghdr *)m, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_RXQ_OVFL) {
            uint32_t v;
            memcpy(&v, CMSG_DATA(c), sizeof v);
            return v;
        }
    }
    return 0;
}

int fk__col_recv_batch(int fd, struct mmsghdr *msgs, struct iovec *iovs,
                       struct sockaddr_storage *addrs, uint8_t *bufs, uint8_t *ctrl, size_t batch)
{
    for (size_t i = 0; i < batch; i++) {
        iovs[i].iov_base = bufs + i * MAX_DGRAM;
        iovs[i].iov_len = MAX_DGRAM;
        memset(&msgs[i].msg_hdr, 0, sizeof msgs[i].msg_hdr);
        msgs[i].msg_hdr.msg_name = &addrs[i];
        msgs[i].msg_hdr.msg_namelen = sizeof addrs[i];
        msgs[i].msg_hdr.msg_iov = &iovs[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
        msgs[i].msg_hdr.msg_control = ctrl + i * CTRL_SIZE;
        msgs[i].msg_hdr.msg_controllen = CTRL_SIZE;
    }
    return recvmmsg(fd, msgs, (unsigned)batch, MSG_DONTWAIT, NULL);
}

/* Kernel drops: SO_RXQ_OVFL carries the socket's running drop count. */
uint64_t fk__col_drops_update(uint32_t *seen, const struct msghdr *m)
{
    uint32_t v = cmsg_drops(m);
    /* Datagrams queued before a SO_MEMINFO poll carry older counts. */
    if (v == 0 || v == *seen || v - *seen > 0x80000000u)
        return 0;
    uint32_t d = v - *seen;
    *seen = v;
    return d;
}

uint64_t fk__col_drops_poll(uint32_t *seen, int fd)
{
    uint32_t mem[SK_MEMINFO_VARS];
    socklen_t len = sizeof mem;
    if (fd < 0 || getsockopt(fd, SOL_SOCKET, SO_MEMINFO, mem, &len) != 0 ||
        len < sizeof(uint32_t) * (SK_MEMINFO_DROPS + 1))
        return 0;
    uint32_t v = mem[SK_MEMINFO_DROPS];
    if (v == *seen || v - *seen > 0x80000000u) /* older than what we know */
        return 0;
    uint32_t d = v - *seen;
    *seen = v;
    return d;
}

static int read_udp(fk_collector *h, listener *l)
{
    int total = 0;
    /* Bounded per dispatch so one busy socket cannot starve the others. */
    for (int round = 0; round < 64 && !h->limit_reached; round++) {
        int n = fk__col_recv_batch(l->fd, h->msgs, h->iovs, h->addrs, h->bufs, h->ctrl, h->batch);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
                break;
            return fk__error_errno(FK_EIO, "%s: recvmmsg", l->bound);
        }
        for (int i = 0; i < n; i++) {
            h->stats.socket_drops += fk__col_drops_update(&l->drops_seen, &h->msgs[i].msg_hdr);
            int r = handle_datagram(h, (const struct sockaddr *)&h->addrs[i],
                                    h->bufs + (size_t)i * MAX_DGRAM, h->msgs[i].msg_len);
            if (r > 0)
                total += r;
        }
        if ((size_t)n < h->batch)
            break;
    }
    return total;
}

static void accept_tcp(fk_collector *h, listener *l)
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
        if (!allowed(h, &peer.addr)) {
            h->stats.allowlist_rejected++;
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
        if (epoll_add(h, fd, &c->tag) != FK_OK) {
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
    int r = fk__col_sessions_message(t->h->sessions, &t->c->peer, msg, len, t->h->now_ns);
    if (r > 0)
        t->records += r;
    return FK_OK;
}

static int read_tcp(fk_collector *h, tcpconn *c)
{
    tcp_msg_ctx t = {h, c, 0};
    for (int round = 0; round < 16; round++) {
        ssize_t n = read(c->fd, h->bufs, MAX_DGRAM);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
            break;
        if (n <= 0) {
            close_conn(h, c, true);
            return t.records;
        }
        h->stats.bytes += (uint64_t)n;
        int rc = fk__col_stream_push(&c->stream, h->bufs, (size_t)n, tcp_message, &t);
        if (rc) {
            /* The stream cannot be framed any more: drop the connection. */
            h->stats.malformed++;
            FK__LOG_WARN("collector", "%s", fk_error_last()->message);
            close_conn(h, c, true);
            return t.records;
        }
    }
    return t.records;
}

static void poll_drops(fk_collector *h)
{
    for (size_t i = 0; i < h->nlisteners; i++)
        if (h->listeners[i].uri.transport == FK__COL_UDP && !h->workers)
            h->stats.socket_drops +=
                fk__col_drops_poll(&h->listeners[i].drops_seen, h->listeners[i].fd);
}

static void tick(fk_collector *h)
{
    poll_drops(h);
    fk__col_sessions_tick(h->sessions, h->now_ns);
    for (size_t i = 0; i < h->nsinks; i++)
        if (fk__sink_tick(h->sinks[i], h->now_ns) != FK_OK)
            h->stats.sink_errors++;
    h->next_tick_ns = h->now_ns + TICK_NS;
}

int fk_collector_dispatch(fk_collector *h)
{
    if (!h)
        return fk__error(FK_EINVAL, "fk_collector_dispatch: NULL handle");
    if (!h->active)
        return fk__error(FK_ENOTACTIVATED, "collector: not activated");
    if (atomic_exchange(&h->break_req, 0))
        return fk__error(FK_EBREAK, "collector: break requested");
    h->now_ns = fk__mono_ns();
    if (h->deadline_ns && h->now_ns >= h->deadline_ns)
        h->limit_reached = true;
    if (h->limit_reached) {
        for (size_t i = 0; i < h->nsinks; i++)
            fk__sink_flush(h->sinks[i]);
        return fk__error(FK_EEOF, "collector: count or duration reached");
    }
    if (atomic_exchange(&h->reopen_req, 0)) {
        for (size_t i = 0; i < h->nsinks; i++)
            if (fk__sink_reopen(h->sinks[i], h->now_ns) != FK_OK) {
                h->stats.sink_errors++;
                FK__LOG_ERROR("collector", "%s", fk_error_last()->message);
            }
    }
    uint64_t before = h->stats.records;
    int rc = FK_OK;
    struct epoll_event evs[64];
    int n = epoll_wait(h->epfd, evs, 64, 0);
    for (int i = 0; i < n && !h->limit_reached; i++) {
        ep_tag *tag = evs[i].data.ptr;
        switch (tag->kind) {
        case EP_WAKE: {
            uint64_t v;
            if (read(h->wakefd, &v, sizeof v) < 0 && errno != EAGAIN)
                rc = fk__error_errno(FK_EIO, "collector: eventfd");
            break;
        }
        case EP_UDP: {
            int r = read_udp(h, (listener *)tag);
            if (r < 0)
                rc = r;
            break;
        }
        case EP_TCP_LISTEN:
            accept_tcp(h, (listener *)tag);
            break;
        case EP_TCP_CONN:
            /* May close the connection; epoll reports each fd once per call,
             * so no later event in evs names it. */
            read_tcp(h, (tcpconn *)tag);
            break;
        }
    }
    if (h->workers) {
        uint64_t qdrops = 0, kdrops = 0;
        fk__col_workers_drain(h->workers, worker_datagram, h, &qdrops, &kdrops);
        h->stats.queue_drops = qdrops;
        h->stats.socket_drops = kdrops;
    }
    if (h->now_ns >= h->next_tick_ns)
        tick(h);
    for (size_t i = 0; i < h->nsinks; i++)
        if (fk__sink_submit(h->sinks[i]) != FK_OK)
            h->stats.sink_errors++;
    if (rc < 0)
        return rc;
    uint64_t delivered = h->stats.records - before;
    return delivered > INT32_MAX ? INT32_MAX : (int)delivered;
}

int fk_collector_run(fk_collector *h)
{
    if (!h)
        return fk__error(FK_EINVAL, "fk_collector_run: NULL handle");
    if (!h->active)
        return fk__error(FK_ENOTACTIVATED, "collector: not activated");
    int rc = FK_OK;
    for (;;) {
        if (h->limit_reached)
            break;
        if (h->deadline_ns && fk__mono_ns() >= h->deadline_ns)
            break;
        int timeout = fk_collector_next_timeout_ms(h);
        struct epoll_event ev;
        if (timeout != 0 && !atomic_load(&h->break_req)) {
            int n = epoll_wait(h->epfd, &ev, 1, timeout);
            if (n < 0 && errno != EINTR) {
                rc = fk__error_errno(FK_EIO, "collector: epoll_wait");
                break;
            }
        }
        int r = fk_collector_dispatch(h);
        if (r == FK_EEOF)
            break;
        if (r == FK_EBREAK) {
            rc = FK_EBREAK;
            break;
        }
        if (r < 0) {
            rc = r;
            break;
        }
    }
    for (size_t i = 0; i < h->nsinks; i++)
        fk__sink_flush(h->sinks[i]);
    return rc;
}

void fk_collector_break(fk_collector *h)
{
    if (!h)
        return;
    atomic_store(&h->break_req, 1);
    if (h->wakefd >= 0) {
        uint64_t one = 1;
        ssize_t r = write(h->wakefd, &one, sizeof one);
        (void)r;
    }
}

void fk_collector_reopen(fk_collector *h)
{
    if (!h)
        return;
    atomic_store(&h->reopen_req, 1);
    if (h->wakefd >= 0) {
        uint64_t one = 1;
        ssize_t r = write(h->wakefd, &one, sizeof one);
        (void)r;
    }
}

int fk_collector_feed(fk_collector *h, const fk_addr *exporter, uint16_t port, const uint8_t *data,
                      size_t len)
{
    if (!h || !exporter || (!data && len))
        return fk__error(FK_EINVAL, "fk_collector_feed: NULL argument");
    if (!h->active)
        return fk__error(FK_ENOTACTIVATED, "collector: not activated");
    fk__col_peer peer;
    memset(&peer, 0, sizeof peer);
    peer.addr = *exporter;
    peer.port = port;
    peer.transport = FK__COL_UDP;
    h->now_ns = fk__mono_ns();
    h->stats.datagrams++;
    h->stats.bytes += len;
    if (!allowed(h, &peer.addr)) {
        h->stats.allowlist_rejected++;
        return 0;
    }
    int r = fk__col_sessions_message(h->sessions, &peer, data, len, h->now_ns);
    if (h->now_ns >= h->next_tick_ns)
        tick(h);
    return r;
}

int fk__collector_use_codec(fk_collector *h, const fk__col_codec *codec)
{
    if (h->active)
        return fk__error(FK_EACTIVATED, "collector: codec cannot change after activate");
    h->codec = codec;
    return FK_OK;
}

int fk_collector_domains(const fk_collector *h, fk_collector_domain *out, size_t capacity,
                         size_t *count)
{
    if (!h || !count || (!out && capacity))
        return fk__error(FK_EINVAL, "fk_collector_domains: NULL argument");
    if (!h->active)
        return fk__error(FK_ENOTACTIVATED, "collector: not activated");
    *count = fk__col_sessions_domains(h->sessions, out, capacity);
    return FK_OK;
}

int fk_collector_get_stats(const fk_collector *h, fk_collector_stats *out)
{
    if (!h || !out)
        return fk__error(FK_EINVAL, "fk_collector_get_stats: NULL argument");
    *out = h->stats;
    for (size_t i = 0; i < h->nsinks; i++)
        if (h->sinks[i]->ops == &fk__sink_clickhouse_ops)
            fk__sink_clickhouse_stats(h->sinks[i], out);
    /* Drops the kernel made since the last datagram or tick. */
    for (size_t i = 0; h->active && !h->workers && i < h->nlisteners; i++) {
        if (h->listeners[i].uri.transport != FK__COL_UDP)
            continue;
        uint32_t seen = h->listeners[i].drops_seen;
        out->socket_drops += fk__col_drops_poll(&seen, h->listeners[i].fd);
    }
    return FK_OK;
}
