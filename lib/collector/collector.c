/* The fk_collector handle: parameters, listeners, outputs, allowlist,
 * activation (sockets, sessions, sinks, worker threads) and statistics. The
 * event loop is loop.c, TCP connections tcp.c, UDP sockets udp.c. */
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <flowkit/exporter.h>

#include "collector/collector_state.h"
#include "collector/sink_clickhouse.h"
#include "core/alloc.h"
#include "core/error.h"
#include "core/sized.h"

static const fk_param_info collector_params[] = {
    {FK_COL_WORKERS, "workers", FK_PARAM_INT, 0, 0, 64, 0, 0, 0, 0, NULL, "threads",
     "UDP receive threads, SO_REUSEPORT (0 = none)"},
    {FK_COL_SOCKET_BUFFER, "socket_buffer", FK_PARAM_INT, 0, 0, 1 << 30, 16 << 20, 0, 0, 0, NULL,
     "bytes", "socket receive buffer (0 = kernel default)"},
    {FK_COL_RECV_BATCH, "recv_batch", FK_PARAM_INT, 0, 1, 1024, 64, 0, 0, 0, NULL, "datagrams",
     "datagrams read per recvmmsg call"},
    {FK_COL_RECV_INTERVAL, "recv_interval", FK_PARAM_INT, 0, 0, 1000, 20, 0, 0, 0, NULL, "ms",
     "a UDP socket read dry is left alone this long, so each wake-up reads many datagrams "
     "(0 = read each at once)"},
    {FK_COL_MAX_TCP, "max_tcp_connections", FK_PARAM_INT, 0, 1, 65536, 1024, 0, 0, 0, NULL,
     "connections", "concurrent TCP exporters; more are refused and counted"},
    {FK_COL_QUEUE_SIZE, "queue_size", FK_PARAM_INT, 0, 16, 1 << 20, 16384, 0, 0, 0, NULL,
     "datagrams", "datagrams queued between worker threads and the dispatching thread"},
    {FK_COL_SHARE_PORT, "share_port", FK_PARAM_BOOL, 0, 0, 1, 0, 0, 0, 0, NULL, "",
     "with workers: share UDP ports another process holds with SO_REUSEPORT (default: refuse "
     "them)"},
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
    {FK_COL_IPFIX_BIFLOW, "ipfix_biflow", FK_PARAM_BOOL, 0, 0, 1, 0, 0, 0, 0, NULL, "",
     "ipfix: outputs write biflows as one record with RFC 5103 reverse counters (1) or two "
     "records, one per direction (0)"},
    {FK_COL_IPFIX_PASSTHROUGH, "ipfix_passthrough", FK_PARAM_BOOL, 0, 0, 1, 1, 0, 0, 0, NULL, "",
     "ipfix: outputs store IPFIX data sets as they came when nothing else needs the flows (1) "
     "or always decode and encode them again (0)"},
    {FK_COL_DIRECT_DECODE, "direct_decode", FK_PARAM_BOOL, 0, 0, 1, 1, 0, 0, 0, NULL, "",
     "IPFIX data sets of fixed-length templates that need nothing beyond the flow fields are "
     "turned into flows without the decoder's record walk, and written to jsonl: outputs "
     "straight from their bytes when nothing else reads the flows (1), or always walked (0); "
     "the flows and lines are the same"},
    {FK_COL_DURATION, "duration", FK_PARAM_INT, 0, 0, 365 * 86400, 0, 0, 0, 0, NULL, "s",
     "stop after SECS seconds (0 = no limit)"},
    {FK_COL_COUNT, "count", FK_PARAM_INT, 0, 0, INT64_MAX, 0, 0, 0, 0, NULL, "records",
     "stop after N records (0 = no limit)"},
};

#define NPARAMS (sizeof collector_params / sizeof collector_params[0])

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

/* Undo activate: sockets, threads, sessions, buffers (sinks are closed). */
static void deactivate(fk_collector *h)
{
    fk__col_workers_stop(h->workers);
    h->workers = NULL;
    while (h->conns)
        fk__col_tcp_close(h, h->conns, false);
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
    fk__col_sinks_account(h, true);
    fk__col_sessions_destroy(h->sessions);
    h->sessions = NULL;
    fk__col_batch_free(h);
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
    fk__tagset_clear(&h->tags);
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
    int rc = fk__col_uri_parse(&u, uri);
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

int fk_collector_add_tag(fk_collector *h, const char *key, const char *value)
{
    if (!h)
        return fk__error(FK_EINVAL, "fk_collector_add_tag: NULL argument");
    if (h->active)
        return fk__error(FK_EACTIVATED, "collector: tags cannot be added after activate");
    return fk__tagset_add(&h->tags, "collector", key, value);
}

int fk_collector_add_output_filtered(fk_collector *h, const char *uri, const char *filter)
{
    if (!h || !uri || !filter)
        return fk__error(FK_EINVAL, "fk_collector_add_output_filtered: NULL argument");
    fk_filter *f;
    int rc = fk_filter_compile(filter, &f, NULL);
    if (rc)
        return rc;
    rc = fk_collector_add_output(h, uri);
    if (rc) {
        fk_filter_destroy(f);
        return rc;
    }
    h->sinks[h->nsinks - 1]->filter = f;
    return FK_OK;
}

void fk__collector_raw_runs(fk_collector *h, bool on)
{
    h->raw_runs_off = !on;
}

/* Whether the pass-through can ever be taken (fk__col_deliver_raw checks
 * the rest per set): outputs are fixed at activate, and with any other
 * output the per-set analysis (end times of every record) would be
 * wasted work on the decoding path. */
static bool outputs_take_raw(const fk_collector *h)
{
    if (h->nsinks == 0)
        return false;
    for (size_t i = 0; i < h->nsinks; i++)
        if (h->sinks[i]->ops != &fk__sink_ipfix_ops || h->sinks[i]->filter)
            return false;
    return true;
}

static bool outputs_take_direct(const fk_collector *h)
{
    if (h->nsinks == 0)
        return false;
    for (size_t i = 0; i < h->nsinks; i++)
        if (!fk__sink_takes_direct(h->sinks[i]))
            return false;
    return true;
}

int fk_collector_add_allow(fk_collector *h, const char *cidr)
{
    if (!h || !cidr)
        return fk__error(FK_EINVAL, "fk_collector_add_allow: NULL argument");
    if (h->active)
        return fk__error(FK_EACTIVATED, "collector: allowlist cannot change after activate");
    fk__cidr c;
    int rc = fk__cidr_parse(cidr, "allow", &c);
    if (rc)
        return rc;
    fk__cidr *a = fk__reallocarray(h->allow, h->nallow + 1, sizeof *a);
    if (!a)
        return fk__error(FK_ENOMEM, "collector: out of memory");
    h->allow = a;
    a[h->nallow++] = c;
    return FK_OK;
}

int fk_collector_set_callback(fk_collector *h, fk_collector_flow_cb fn, void *user)
{
    if (!h)
        return fk__error(FK_EINVAL, "fk_collector_set_callback: NULL handle");
    h->cb = fn;
    h->cb_user = user;
    h->callbacks = h->cb || h->batch_cb;
    return FK_OK;
}

int fk_collector_set_senders(fk_collector *h, fk_senders *senders)
{
    if (!h)
        return fk__error(FK_EINVAL, "fk_collector_set_senders: NULL handle");
    h->senders = senders;
    return FK_OK;
}

int fk_collector_set_prefixstats(fk_collector *h, fk_prefixstats *ps)
{
    if (!h)
        return fk__error(FK_EINVAL, "fk_collector_set_prefixstats: NULL handle");
    h->prefixstats = ps;
    return FK_OK;
}

/* ---- delivery ----------------------------------------------------------- */

/* ---- activate ----------------------------------------------------------- */

static int open_listener(fk_collector *h, listener *l, fk__col_reuse reuse)
{
    char what[80];
    fk__col_uri_format(l->uri.transport, (const struct sockaddr *)&l->uri.ss, what, sizeof what);
    int64_t rcvbuf = fk__params_int(&h->params, FK_COL_SOCKET_BUFFER);
    int fd;
    if (l->uri.transport == FK__COL_UDP) {
        int rc = fk__col_open_udp(&l->uri, rcvbuf, reuse, what, &fd);
        if (rc)
            return rc;
    } else {
        int rc = fk__col_open_tcp(&l->uri, rcvbuf, what, &fd);
        if (rc)
            return rc;
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

static int alloc_batch(fk_collector *h)
{
    size_t b = h->batch;
    h->msgs = fk__calloc(b, sizeof *h->msgs);
    h->iovs = fk__calloc(b, sizeof *h->iovs);
    h->addrs = fk__calloc(b, sizeof *h->addrs);
    h->bufs = fk__calloc(b, FK__COL_MAX_DGRAM);
    h->ctrl = fk__calloc(b, FK__COL_CTRL_SIZE);
    if (!h->msgs || !h->iovs || !h->addrs || !h->bufs || !h->ctrl)
        return fk__error(FK_ENOMEM, "collector: out of memory for receive buffers");
    return FK_OK;
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
        fk__params_int(&h->params, FK_COL_DIRECT_DECODE) != 0,
        NULL, /* flowbuf: below */
    };
    int workers = (int)fk__params_int(&h->params, FK_COL_WORKERS);
    h->batch = (size_t)fk__params_int(&h->params, FK_COL_RECV_BATCH);
    h->recv_interval_ns = fk__params_int(&h->params, FK_COL_RECV_INTERVAL) * 1000000;
    h->rearm_ns = 0;
    h->scale_sampling = (int)fk__params_int(&h->params, FK_COL_SCALE_SAMPLING);
    int rc = fk__col_batch_alloc(h);
    lim.flowbuf = h->fbuf.flows ? &h->fbuf : NULL;
    if (rc == FK_OK)
        rc = fk__col_sessions_create(&h->sessions, h->codec, &lim, &h->stats, fk__col_deliver, h);
    if (rc == FK_OK && fk__params_int(&h->params, FK_COL_IPFIX_PASSTHROUGH) &&
        outputs_take_raw(h)) {
        fk__col_sessions_set_raw(
            h->sessions, fk__col_deliver_raw,
            fk__params_int(&h->params, FK_COL_IPFIX_BIFLOW) ? FK__COL_RAW_BIFLOW : 0);
        fk__col_sessions_set_domain_gone(h->sessions, fk__col_domain_gone);
        if (!h->raw_runs_off)
            fk__col_sessions_set_raw_run(h->sessions, fk__col_deliver_raw_run);
    }
    /* The JSON lines writer compiled per template: only when every output
     * could take it (fk__col_deliver_direct checks the rest per set). */
    if (rc == FK_OK && fk__params_int(&h->params, FK_COL_DIRECT_DECODE) && outputs_take_direct(h))
        fk__col_sessions_set_direct(h->sessions, fk__col_deliver_direct);
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
            rc = fk__col_epoll_add(h, h->wakefd, &h->wake_tag);
    }
    for (size_t i = 0; rc == FK_OK && i < h->nlisteners; i++) {
        listener *l = &h->listeners[i];
        fk__col_reuse reuse = workers == 0                                    ? FK__COL_REUSE_NONE
                              : fk__params_int(&h->params, FK_COL_SHARE_PORT) ? FK__COL_REUSE_JOIN
                                                                              : FK__COL_REUSE_FIRST;
        rc = open_listener(h, l, reuse);
        /* With workers, the threads read UDP; this socket only holds the port. */
        if (rc == FK_OK && !(workers > 0 && l->uri.transport == FK__COL_UDP))
            rc = fk__col_epoll_add(h, l->fd, &l->tag);
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
        h->sinks[i]->biflow = fk__params_int(&h->params, FK_COL_IPFIX_BIFLOW) != 0;
        h->sinks[i]->tags = h->tags.v;
        h->sinks[i]->ntags = h->tags.n;
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

int fk_collector_get_listener_uri(const fk_collector *h, size_t index, char *buf, size_t size)
{
    if (!h || !buf)
        return fk__error(FK_EINVAL, "fk_collector_get_listener_uri: NULL argument");
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

/* ---- I/O ---------------------------------------------------------------- */

int fk__collector_use_codec(fk_collector *h, const fk__col_codec *codec)
{
    if (h->active)
        return fk__error(FK_EACTIVATED, "collector: codec cannot change after activate");
    h->codec = codec;
    return FK_OK;
}

int fk_collector_get_domains(const fk_collector *h, fk_collector_domain *out, size_t capacity,
                             size_t *count)
{
    if (!h || !count || (!out && capacity))
        return fk__error(FK_EINVAL, "fk_collector_get_domains: NULL argument");
    if (!h->active)
        return fk__error(FK_ENOTACTIVATED, "collector: not activated");
    *count = fk__col_sessions_domains(h->sessions, out, capacity);
    return FK_OK;
}

static int fill_stats(const fk_collector *h, fk_collector_stats *out)
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

int fk_collector_get_stats(const fk_collector *h, fk_collector_stats *out, size_t size)
{
    if (!h || !out || size < sizeof(uint64_t))
        return fk__error(FK_EINVAL, "collector: NULL argument or size %zu below 8", size);
    fk_collector_stats st;
    int rc = fill_stats(h, &st);
    if (rc == 0)
        fk__copy_sized(out, size, &st, sizeof st);
    return rc;
}
