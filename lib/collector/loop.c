/* The collector's event loop: datagrams and TCP streams to the session
 * layer, records to the callback and the sinks, the periodic tick, limits,
 * break and reopen requests. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "collector/collector_state.h"
#include "core/error.h"
#include "core/log.h"

void fk__col_deliver(void *user, fk_flow *f)
{
    fk_collector *h = user;
    if (h->limit_reached)
        return;
    if (h->senders) {
        int v = fk_senders_match(h->senders, h->cur_sender ? h->cur_sender : &f->exporter, f);
        if (v <= 0) {
            if (v == 0)
                h->stats.sender_unknown++;
            else
                h->stats.sender_outside++;
            return;
        }
    }
    if (h->scale_sampling && (f->present & FK_FLOW_HAS_SAMPLING) && f->sampling > 1) {
        f->bytes *= f->sampling;
        f->packets *= f->sampling;
        if (f->present & FK_FLOW_HAS_REVERSE) {
            f->rev_bytes *= f->sampling;
            f->rev_packets *= f->sampling;
        }
    }
    h->stats.records++;
    if (h->prefixstats)
        (void)fk_prefixstats_add_flow(h->prefixstats, h->cur_sender ? h->cur_sender : &f->exporter,
                                      f);
    if (h->callbacks) { /* one test when there is neither */
        if (h->cb)
            h->cb(f, h->cb_user);
        if (h->batch_cb)
            fk__col_batch_keep(h, f);
    }
    /* A failure is noted in the sink and counted by fk__col_sinks_account. */
    for (size_t i = 0; i < h->nsinks; i++)
        (void)fk__sink_write(h->sinks[i], f, h->now_ns);
    if (h->count_limit && h->stats.records >= h->count_limit)
        h->limit_reached = true;
}

/* The session layer's pass-through offer (fk__col_raw_fn): taken when
 * every output is an unfiltered ipfix: file and nothing else reads the
 * flows; counted as fk__col_deliver counts records. */
void fk__col_domain_gone(void *user, uint64_t session, uint32_t odid)
{
    fk_collector *h = user;
    for (size_t i = 0; i < h->nsinks; i++)
        if (h->sinks[i]->ops == &fk__sink_ipfix_ops)
            fk__sink_ipfix_forget(h->sinks[i], session, odid);
}

bool fk__col_deliver_raw(void *user, const fk__col_raw_set *rs)
{
    fk_collector *h = user;
    if (h->limit_reached || h->cb || h->batch_cb || h->senders || h->prefixstats ||
        h->scale_sampling || h->nsinks == 0)
        return false;
    for (size_t i = 0; i < h->nsinks; i++)
        if (h->sinks[i]->ops != &fk__sink_ipfix_ops || h->sinks[i]->filter)
            return false;
    if (!rs)
        return true;                                      /* the rest depends on the set */
    uint32_t n = rs->raw->options ? 0 : rs->raw->records; /* options records are not flows */
    if (h->count_limit && h->stats.records + n > h->count_limit)
        return false;
    h->stats.records += n;
    /* A failure is noted in the sink and counted by fk__col_sinks_account. */
    for (size_t i = 0; i < h->nsinks; i++)
        (void)fk__sink_write_raw(h->sinks[i], rs, h->now_ns);
    if (h->count_limit && h->stats.records >= h->count_limit)
        h->limit_reached = true;
    return true;
}

/* The session layer's offer of a run of sets (fk__col_raw_run_fn): as
 * fk__col_deliver_raw for each, when the run's records fit under the
 * count limit. */
bool fk__col_deliver_raw_run(void *user, const fk__col_raw_set *sets, size_t n)
{
    fk_collector *h = user;
    if (!fk__col_deliver_raw(user, NULL))
        return false;
    uint64_t records = 0;
    for (size_t i = 0; i < n; i++)
        records += sets[i].raw->records; /* never options */
    if (h->count_limit && h->stats.records + records > h->count_limit)
        return false;
    h->stats.records += records;
    for (size_t i = 0; i < h->nsinks; i++)
        fk__sink_write_raw_run(h->sinks[i], sets, n, h->now_ns);
    if (h->count_limit && h->stats.records >= h->count_limit)
        h->limit_reached = true;
    return true;
}

/* The session layer's record-plan offer (fk__col_direct_fn): taken when
 * every output is an unfiltered jsonl: sink and nothing else reads the
 * flows or changes them; counted as fk__col_deliver counts records. */
bool fk__col_deliver_direct(void *user, const fk__col_direct_set *ds)
{
    fk_collector *h = user;
    uint32_t n = ds->records;
    if (h->limit_reached || h->cb || h->batch_cb || h->senders || h->prefixstats ||
        h->scale_sampling || h->nsinks == 0 ||
        (h->count_limit && h->stats.records + n > h->count_limit))
        return false;
    for (size_t i = 0; i < h->nsinks; i++)
        if (!fk__sink_takes_direct(h->sinks[i]))
            return false;
    h->stats.records += n;
    h->stats.records_compiled += n;
    /* Failures are noted in the sink and counted by fk__col_sinks_account. */
    for (size_t i = 0; i < h->nsinks; i++)
        fk__sink_write_direct(h->sinks[i], ds, h->now_ns);
    if (h->count_limit && h->stats.records >= h->count_limit)
        h->limit_reached = true;
    return true;
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
    if (!fk__col_allowed(h, &peer.addr)) {
        fk__col_rejected(h, &peer.addr);
        return 0;
    }
    h->cur_sender = &peer.addr;
    int r = fk__col_sessions_message(h->sessions, &peer, data, len, h->now_ns);
    h->cur_sender = NULL;
    return r;
}

/* A dispatch hands control back once a break is requested or it has
 * worked for DISPATCH_BUDGET_NS, whatever is still waiting: the caller's
 * loop (signals, stats, other handles) keeps its pace under a flood. What
 * is left is read by the next dispatch (the fd stays readable, or
 * next_timeout_ms says 0). */
static bool must_yield(const fk_collector *h)
{
    return atomic_load_explicit(&h->break_req, memory_order_relaxed) ||
           fk__mono_ns() - h->now_ns >= DISPATCH_BUDGET_NS;
}

static bool worker_datagram(void *user, const struct sockaddr *from, const uint8_t *data,
                            size_t len)
{
    fk_collector *h = user;
    handle_datagram(h, from, data, len);
    return !h->limit_reached && !must_yield(h);
}

/* Take a UDP socket out of the epoll set (park) or put it back. */
static int set_parked(fk_collector *h, listener *l, bool parked)
{
    struct epoll_event ev;
    memset(&ev, 0, sizeof ev);
    ev.events = parked ? 0 : EPOLLIN;
    ev.data.ptr = &l->tag;
    if (epoll_ctl(h->epfd, EPOLL_CTL_MOD, l->fd, &ev) != 0)
        return fk__error_errno(FK_EIO, "%s: epoll_ctl", l->bound);
    l->parked = parked;
    return FK_OK;
}

/* The batching interval is over: parked sockets are read again. */
static int unpark_due(fk_collector *h)
{
    if (!h->rearm_ns || h->now_ns < h->rearm_ns)
        return FK_OK;
    h->rearm_ns = 0;
    int rc = FK_OK;
    for (size_t i = 0; i < h->nlisteners; i++)
        if (h->listeners[i].parked && set_parked(h, &h->listeners[i], false) != FK_OK)
            rc = FK_EIO;
    return rc;
}

static int read_udp(fk_collector *h, listener *l)
{
    int total = 0;
    bool dry = false, got = false;
    /* Bounded per dispatch so one busy socket cannot starve the others. */
    for (int round = 0; round < 64 && !h->limit_reached && !must_yield(h); round++) {
        int n = fk__col_recv_batch(l->fd, h->msgs, h->iovs, h->addrs, h->bufs, h->ctrl, h->batch);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                dry = true;
                break;
            }
            if (errno == EINTR)
                break;
            return fk__error_errno(FK_EIO, "%s: recvmmsg", l->bound);
        }
        got = got || n > 0;
        for (int i = 0; i < n; i++) {
            h->stats.socket_drops += fk__col_drops_update(&l->drops_seen, &h->msgs[i].msg_hdr);
            int r = handle_datagram(h, (const struct sockaddr *)&h->addrs[i],
                                    h->bufs + (size_t)i * FK__COL_MAX_DGRAM, h->msgs[i].msg_len);
            if (r > 0)
                total += r;
        }
        if ((size_t)n < h->batch) {
            dry = true;
            break;
        }
    }
    if (got)
        h->stats.udp_wakeups++;
    /* Read dry: leave it until the interval is over (datagrams gather in
     * its buffer meanwhile). One still holding datagrams stays armed. */
    if (dry && got && h->recv_interval_ns > 0) {
        int rc = set_parked(h, l, true);
        if (rc < 0)
            return rc;
        if (!h->rearm_ns)
            h->rearm_ns = h->now_ns + h->recv_interval_ns;
    }
    return total;
}

static void poll_drops(fk_collector *h)
{
    for (size_t i = 0; i < h->nlisteners; i++)
        if (h->listeners[i].uri.transport == FK__COL_UDP && !h->workers)
            h->stats.socket_drops +=
                fk__col_drops_poll(&h->listeners[i].drops_seen, h->listeners[i].fd);
}

void fk__col_sinks_account(fk_collector *h, bool final)
{
    for (size_t i = 0; i < h->nsinks; i++) {
        uint64_t failures;
        const char *msg;
        uint64_t lost = fk__sink_take_lost(h->sinks[i], &failures, &msg);
        if (!failures)
            continue;
        h->stats.sink_errors += lost;
        h->sink_lost_unlogged += lost;
        h->sink_failures_unlogged += failures;
        snprintf(h->sink_last_error, sizeof h->sink_last_error, "%s", msg);
    }
    if (!h->sink_failures_unlogged)
        return;
    /* Every failure reaches the log, at most one line a second: the last
     * message and what was lost since the previous line. */
    int64_t now = fk__mono_ns();
    if (!final && now < h->sink_log_next_ns)
        return;
    FK__LOG_ERROR("collector",
                  "%s (output failures: %" PRIu64 ", records lost: %" PRIu64
                  " since the last report)",
                  h->sink_last_error, h->sink_failures_unlogged, h->sink_lost_unlogged);
    h->sink_failures_unlogged = 0;
    h->sink_lost_unlogged = 0;
    h->sink_log_next_ns = now + SINK_LOG_INTERVAL_NS;
}

static void tick(fk_collector *h)
{
    poll_drops(h);
    fk__col_sessions_tick(h->sessions, h->now_ns);
    fk__col_rejected_tick(h, false);
    for (size_t i = 0; i < h->nsinks; i++)
        (void)fk__sink_tick(h->sinks[i], h->now_ns);
    h->next_tick_ns = h->now_ns + TICK_NS;
}

int fk_collector_next_timeout_ms(const fk_collector *h)
{
    if (!h)
        return fk__error(FK_ENOTACTIVATED, "collector: NULL handle");
    if (!h->active)
        return fk__error(FK_ENOTACTIVATED, "collector: not activated");
    if (h->limit_reached || atomic_load(&h->break_req) || h->backlog)
        return 0;
    int64_t now = fk__mono_ns();
    int64_t due = h->next_tick_ns;
    if (h->deadline_ns && h->deadline_ns < due)
        due = h->deadline_ns;
    if (h->rearm_ns && h->rearm_ns < due)
        due = h->rearm_ns;
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

int fk_collector_dispatch(fk_collector *h)
{
    if (!h)
        return fk__error(FK_EINVAL, "fk_collector_dispatch: NULL handle");
    if (!h->active)
        return fk__error(FK_ENOTACTIVATED, "collector: not activated");
    if (atomic_exchange(&h->break_req, 0)) {
        /* The outputs are complete and their losses counted when the
         * caller reads the stats after a break. */
        for (size_t i = 0; i < h->nsinks; i++)
            fk__sink_flush(h->sinks[i]);
        fk__col_sinks_account(h, true);
        fk__col_rejected_tick(h, true);
        return fk__error(FK_EBREAK, "collector: break requested");
    }
    h->now_ns = fk__mono_ns();
    if (h->prefixstats)
        (void)fk_prefixstats_advance(h->prefixstats, fk__real_ns());
    if (h->deadline_ns && h->now_ns >= h->deadline_ns)
        h->limit_reached = true;
    if (h->limit_reached) {
        for (size_t i = 0; i < h->nsinks; i++)
            fk__sink_flush(h->sinks[i]);
        fk__col_sinks_account(h, true);
        fk__col_rejected_tick(h, true);
        return fk__error(FK_EEOF, "collector: count or duration reached");
    }
    if (atomic_exchange(&h->reopen_req, 0)) {
        for (size_t i = 0; i < h->nsinks; i++)
            (void)fk__sink_reopen(h->sinks[i], h->now_ns);
    }
    uint64_t before = h->stats.records;
    int rc = unpark_due(h);
    struct epoll_event evs[64];
    int n = epoll_wait(h->epfd, evs, 64, 0);
    for (int i = 0; i < n && !h->limit_reached && !must_yield(h); i++) {
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
            fk__col_tcp_accept(h, (listener *)tag);
            break;
        case EP_TCP_CONN:
            /* May close the connection; epoll reports each fd once per call,
             * so no later event in evs names it. */
            fk__col_tcp_read(h, (tcpconn *)tag);
            break;
        }
    }
    if (h->workers) {
        uint64_t qdrops = 0, kdrops = 0;
        h->backlog = fk__col_workers_drain(h->workers, worker_datagram, h, &qdrops, &kdrops) > 0;
        h->stats.queue_drops = qdrops;
        h->stats.socket_drops = kdrops;
    }
    if (h->now_ns >= h->next_tick_ns)
        tick(h);
    fk__col_batch_flush(h); /* no record waits for the next dispatch */
    for (size_t i = 0; i < h->nsinks; i++)
        (void)fk__sink_submit(h->sinks[i]);
    fk__col_sinks_account(h, false);
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
    fk__col_sinks_account(h, true);
    fk__col_rejected_tick(h, true);
    return rc;
}

void fk_collector_break(fk_collector *h)
{
    if (!h)
        return;
    /* Safe in a signal handler: the interrupted code's errno survives. */
    int saved = errno;
    atomic_store(&h->break_req, 1);
    if (h->wakefd >= 0) {
        uint64_t one = 1;
        ssize_t r = write(h->wakefd, &one, sizeof one);
        (void)r;
    }
    errno = saved;
}

void fk_collector_reopen(fk_collector *h)
{
    if (!h)
        return;
    /* Safe in a signal handler: the interrupted code's errno survives. */
    int saved = errno;
    atomic_store(&h->reopen_req, 1);
    if (h->wakefd >= 0) {
        uint64_t one = 1;
        ssize_t r = write(h->wakefd, &one, sizeof one);
        (void)r;
    }
    errno = saved;
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
    if (!fk__col_allowed(h, &peer.addr)) {
        fk__col_rejected(h, &peer.addr);
        return 0;
    }
    h->cur_sender = &peer.addr;
    int r = fk__col_sessions_message(h->sessions, &peer, data, len, h->now_ns);
    h->cur_sender = NULL;
    if (h->now_ns >= h->next_tick_ns)
        tick(h);
    fk__col_batch_flush(h);
    return r;
}
