/* The packet path on the dispatch thread: read sources, count, store,
 * decode, route to the flow table (or a worker), advance the flow clock,
 * deliver events, end the capture. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "capture/capture_int.h"
#include "core/alloc.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/log.h"

void fk__flow_to_callback(void *ctx, const fk__flow_record *rec)
{
    fk_capture *h = ctx;
    if (!h->cb)
        return;
    fk_capture_event ev = {0};
    ev.type = FK_CAPTURE_EVENT_FLOW;
    ev.flow = &rec->flow;
    fk_flow copy;
    fk__attrib_strs strs; /* user/exe of copy point here: valid during the callback */
    if (h->attrib) {      /* the owning process, from the attribution engine */
        copy = rec->flow;
        fk__attrib_fill_flow(h->attrib, &copy, &strs);
        ev.flow = &copy;
    }
    h->cb(&ev, h->user);
}

void fk__session_to_callback(void *ctx, const fk_session_event *sev)
{
    fk_capture *h = ctx;
    if (!h->cb)
        return;
    fk_capture_event ev = {0};
    ev.type = FK_CAPTURE_EVENT_SESSION;
    ev.session = sev;
    fk_session_event copy;
    fk__attrib_strs strs;
    if (h->attrib) {
        copy = *sev;
        fk__attrib_fill_session(h->attrib, &copy, &strs);
        ev.session = &copy;
    }
    h->cb(&ev, h->user);
}

/* An error of one source to the callback (or the log when there is none). */
static void deliver_error(fk_capture *h, const char *device, int code, const char *msg)
{
    if (!h->cb) {
        FK__LOG_WARN("capture", "%s", msg); /* nobody else would hear of it */
        return;
    }
    fk_capture_event ev = {0};
    ev.type = FK_CAPTURE_EVENT_ERROR;
    ev.error = code;
    ev.message = msg;
    ev.device = device;
    h->cb(&ev, h->user);
}

int fk__dispatch_start(fk_capture *h)
{
    fk__flow_config cfg;
    fk__flow_config_default(&cfg);
    int64_t max_flows = fk__params_int(&h->params, FK_CAP_MAX_FLOWS);
    cfg.idle_timeout_ns = fk__params_int(&h->params, FK_CAP_IDLE_TIMEOUT) * INT64_C(1000000000);
    cfg.active_timeout_ns = fk__params_int(&h->params, FK_CAP_ACTIVE_TIMEOUT) * INT64_C(1000000000);
    h->decode_flags = fk__params_int(&h->params, FK_CAP_DECODE_TUNNELS) ? FK__DECODE_TUNNELS : 0;
    cfg.tunnels = h->decode_flags != 0;
    size_t n = (size_t)fk__params_int(&h->params, FK_CAP_WORKERS);
    int rc = 0;
    if (h->backend->counts_flows) {
        /* the backend counts flows itself: no table, no workers */
    } else if (n == 0) {
        cfg.max_flows = (uint32_t)max_flows;
        fk__flow_sink sink = {
            .on_flow = fk__flow_to_callback, .on_event = fk__session_to_callback, .ctx = h};
        rc = fk__flow_table_create(&h->table, &cfg, &sink);
    } else {
        /* max_flows is the total: shards share it. */
        cfg.max_flows = (uint32_t)((max_flows + (int64_t)n - 1) / (int64_t)n);
        h->workers = fk__calloc(n, sizeof *h->workers);
        h->frag_routes = fk__calloc(FK__FRAG_ROUTES, sizeof *h->frag_routes);
        if (!h->workers || !h->frag_routes)
            rc = fk__error(FK_ENOMEM, "capture: out of memory for workers");
        for (size_t i = 0; rc == 0 && i < n; i++) {
            h->nworkers++;
            rc = fk__worker_start(&h->workers[i], h, i, &cfg);
        }
    }
    if (rc == 0 && fk__capture_attribution(h) != FK__ATTRIBUTION_OFF)
        rc = fk__cap_attrib_start(h);
    if (rc < 0)
        return rc;
    h->packet_limit = (uint64_t)fk__params_int(&h->params, FK_CAP_PACKET_COUNT);
    double dur = fk__params_double(&h->params, FK_CAP_DURATION);
    h->deadline_mono = dur > 0 ? fk__mono_ns() + (int64_t)(dur * 1e9) : 0;
    h->batch.n = 0;
    h->clock_ns = h->offline ? 0 : fk__real_ns();
    h->next_tick_ns = h->offline ? 0 : h->clock_ns + FK__CAP_TICK_NS;
    return 0;
}

void fk__dispatch_teardown(fk_capture *h)
{
    for (size_t i = 0; i < h->nworkers; i++)
        fk__worker_stop(&h->workers[i]);
    fk__free(h->workers);
    h->workers = NULL;
    fk__free(h->frag_routes);
    h->frag_routes = NULL;
    h->nworkers = 0;
    fk__flow_table_destroy(h->table);
    h->table = NULL;
    fk__attrib_destroy(h->attrib);
    h->attrib = NULL;
    h->attribution_source = NULL;
}

static void store_failed(fk_capture *h, fk__cap_source *s)
{
    h->store_errors++;
    if (s->store_failing)
        return;
    s->store_failing = true;
    char msg[512];
    snprintf(msg, sizeof msg, "%s", fk_error_last()->message);
    deliver_error(h, s->name, fk_error_last()->code, msg);
}

/* Advance every table's clock to now (expire idle/active flows). */
static void tick(fk_capture *h, int64_t now, bool wait)
{
    if (h->table) {
        fk__batch_flush(h->table, &h->batch);
        fk__flow_table_expire(h->table, now);
    } else {
        fk__cap_msg m = {.kind = FK__MSG_TICK, .now_ns = now};
        /* A skipped tick is harmless: the next one carries a later time. */
        for (size_t i = 0; i < h->nworkers; i++)
            fk__worker_push(h, &h->workers[i], &m, wait);
    }
    h->next_tick_ns = now + FK__CAP_TICK_NS;
    if (h->backend->tick)
        h->backend->tick(h, now);
    for (size_t i = 0; i < h->nsources; i++) {
        fk__cap_source *s = &h->sources[i];
        if (s->store && !s->offline && fk__store_flush(s->store) < 0)
            store_failed(h, s);
    }
}

static size_t frag_slot(const fk__packet *p)
{
    uint32_t x = 2166136261u;
    for (int i = 0; i < 16; i++)
        x = (x ^ (uint32_t)(p->src[i] ^ p->dst[i])) * 16777619u;
    x = (x ^ p->frag_id) * 16777619u;
    x = (x ^ fk__frag_proto(p)) * 16777619u;
    return x % FK__FRAG_ROUTES;
}

/* The worker for a packet: the symmetric flow hash; for later fragments the
 * worker their first fragment went to (when still remembered). */
static size_t pick_worker(fk_capture *h, const fk__packet *p)
{
    size_t w = fk__flow_hash(p) % h->nworkers;
    if (!(p->flags & FK__PKT_F_FRAG))
        return w;
    fk__frag_route *r = &h->frag_routes[frag_slot(p)];
    if (p->flags & FK__PKT_F_FIRST_FRAG) {
        memcpy(r->src, p->src, 16);
        memcpy(r->dst, p->dst, 16);
        r->id = p->frag_id;
        r->proto = fk__frag_proto(p);
        r->used = 1;
        r->worker = (uint16_t)w;
    } else if (r->used && r->id == p->frag_id && r->proto == fk__frag_proto(p) &&
               memcmp(r->src, p->src, 16) == 0 && memcmp(r->dst, p->dst, 16) == 0) {
        w = r->worker;
    }
    return w;
}

static void handle_packet(fk_capture *h, fk__cap_source *s, const struct pcap_pkthdr *hdr,
                          const u_char *data)
{
    if (h->limit_reached)
        return;
    int64_t ts = (int64_t)hdr->ts.tv_sec * 1000000000 + (int64_t)hdr->ts.tv_usec * s->ts_scale;
    h->packets++;
    h->bytes += hdr->len;
    if (s->store) {
        if (fk__store_write(s->store, ts, data, hdr->caplen, hdr->len) < 0)
            store_failed(h, s);
        else
            s->store_failing = false;
    }
    /* The clock moves first: a flow idle past its timeout ends before this
     * packet can extend it (the tables also expire per packet, see below
     * and worker.c; the per-second tick serves quiet links and the store). */
    if (ts > h->clock_ns)
        h->clock_ns = ts;
    if (h->next_tick_ns == 0)
        h->next_tick_ns = ts + FK__CAP_TICK_NS;
    else if (h->clock_ns >= h->next_tick_ns)
        tick(h, h->clock_ns, h->offline);
    fk__packet pkt;
    int st = fk__packet_decode(&pkt, data, hdr->caplen, hdr->len, s->linktype, ts, h->decode_flags);
    if (st == FK__PKT_OK) {
        if (h->attrib)
            fk__cap_attrib_packet(h, s, &pkt);
        if (h->table) {
            fk__batch_add(h->table, &h->batch, &pkt, h->clock_ns);
        } else {
            fk__cap_worker *w = &h->workers[pick_worker(h, &pkt)];
            fk__cap_msg *m = fk__spsc_reserve(&w->in);
            if (m) {
                m->kind = FK__MSG_PACKET;
                m->pkt = pkt;
                fk__spsc_commit(&w->in);
                w->pending = true;
                /* A kernel block may hold thousands of packets: do not let
                 * a sleeping worker's queue fill up before the batch ends. */
                if (++w->since_wake >= w->wake_every)
                    fk__worker_wake(w);
            } else if (h->offline) {
                /* A file can wait: no drops in replay. */
                fk__cap_msg msg = {.kind = FK__MSG_PACKET, .pkt = pkt};
                fk__worker_push(h, w, &msg, true);
            } else {
                h->queue_drops++;
                if (w->since_wake)
                    fk__worker_wake(w);
            }
        }
    } else if (st == FK__PKT_NOT_IP) {
        h->non_ip++;
    } else {
        h->decode_errors++;
    }
    if (h->packet_limit && h->packets >= h->packet_limit) {
        h->limit_reached = true;
        if (!s->offline && s->pcap)
            pcap_breakloop(s->pcap);
    }
}

static void pcap_cb(u_char *user, const struct pcap_pkthdr *hdr, const u_char *data)
{
    fk__cap_source *s = (fk__cap_source *)user;
    handle_packet(s->h, s, hdr, data);
}

static void source_failed(fk_capture *h, fk__cap_source *s, const char *what)
{
    char msg[PCAP_ERRBUF_SIZE + 256];
    /* Offline sources: fk__source_next() worded the failure. */
    const char *detail = s->offline ? fk_error_last()->message
                         : s->pcap  ? pcap_geterr(s->pcap)
                                    : "";
    snprintf(msg, sizeof msg, "%s: %s: %s", s->name, what, detail);
    fk__error(FK_EPCAP, "%s", msg);
    deliver_error(h, s->name, FK_EPCAP, msg);
    fk__source_close(s);
}

static int64_t source_ts(const fk__cap_source *s)
{
    return (int64_t)s->next_hdr->ts.tv_sec * 1000000000 + (int64_t)s->next_hdr->ts.tv_usec;
}

/* Files: merge by timestamp (each handle keeps its next packet, valid until
 * its next read). Returns true when every file is read. */
static bool read_offline(fk_capture *h, int max)
{
    uint64_t start = h->packets;
    if (h->nsources == 1) { /* one file: nothing to merge, no lookahead */
        fk__cap_source *s = &h->sources[0];
        while (!s->done) {
            if ((max > 0 && h->packets - start >= (uint64_t)max) || h->limit_reached ||
                atomic_load_explicit(&h->break_flag, memory_order_relaxed))
                return false;
            int r = fk__source_next(s);
            if (r == 1)
                handle_packet(h, s, s->next_hdr, s->next_data);
            else if (r == 0)
                fk__source_close(s);
            else
                source_failed(h, s, "read error");
        }
        return true;
    }
    for (;;) {
        if (max > 0 && h->packets - start >= (uint64_t)max)
            return false;
        if (h->limit_reached || atomic_load_explicit(&h->break_flag, memory_order_relaxed))
            return false;
        fk__cap_source *best = NULL;
        for (size_t i = 0; i < h->nsources; i++) {
            fk__cap_source *s = &h->sources[i];
            if (s->done)
                continue;
            if (!s->has_next) {
                int r = fk__source_next(s);
                if (r == 1) {
                    s->has_next = true;
                } else if (r == 0) {
                    fk__source_close(s);
                    continue;
                } else {
                    source_failed(h, s, "read error");
                    continue;
                }
            }
            if (!best || source_ts(s) < source_ts(best))
                best = s;
        }
        if (!best)
            return true;
        best->has_next = false;
        handle_packet(h, best, best->next_hdr, best->next_data);
    }
}

/* Live devices: what each has now, without blocking. Returns true when
 * every device failed. */
bool fk__dispatch_read_live(fk_capture *h, int max)
{
    uint64_t start = h->packets;
    bool any_open = false;
    for (size_t i = 0; i < h->nsources; i++) {
        fk__cap_source *s = &h->sources[i];
        if (s->done)
            continue;
        int cnt = -1;
        if (max > 0) {
            uint64_t got = h->packets - start;
            if (got >= (uint64_t)max) {
                any_open = true;
                continue;
            }
            cnt = max - (int)got;
        }
        int r = pcap_dispatch(s->pcap, cnt, pcap_cb, (u_char *)s);
        if (r == PCAP_ERROR)
            source_failed(h, s, "capture failed");
        else
            any_open = true;
        if (h->limit_reached)
            break;
    }
    return !any_open && !h->limit_reached;
}

static void wake_workers(fk_capture *h)
{
    for (size_t i = 0; i < h->nworkers; i++) {
        if (h->workers[i].pending)
            fk__worker_wake(&h->workers[i]);
    }
}

static void drain_workers(fk_capture *h)
{
    for (size_t i = 0; i < h->nworkers; i++)
        fk__worker_drain(h, &h->workers[i]);
}

static void drain_fd(int fd)
{
    uint64_t v;
    ssize_t r = read(fd, &v, sizeof v);
    (void)r;
}

/* End the capture: close sources and store files, flush every table and
 * deliver what it emits. */
/* Live devices outside immediate mode hand packets over in blocks retired
 * at the latest after buffer_timeout: read what the kernel still holds
 * before closing, for at most buffer_timeout + 50 ms. */
void fk__dispatch_drain_live(fk_capture *h)
{
    if (h->offline || h->limit_reached || fk__params_int(&h->params, FK_CAP_IMMEDIATE))
        return;
    int64_t end =
        fk__mono_ns() + (fk__params_int(&h->params, FK_CAP_BUFFER_TIMEOUT) + 50) * INT64_C(1000000);
    while (!h->limit_reached) {
        int64_t left = end - fk__mono_ns();
        if (left <= 0)
            break;
        struct timespec ts = {0, 10 * 1000000};
        nanosleep(&ts, NULL);
        if (fk__dispatch_read_live(h, 0))
            break;
    }
}

static void finish(fk_capture *h)
{
    if (h->finished)
        return;
    if (!h->offline)
        h->backend->finish(h);
    for (size_t i = 0; i < h->nsources; i++) {
        fk__cap_source *s = &h->sources[i];
        fk__source_close(s);
        if (s->store && fk__store_close_file(s->store) < 0)
            store_failed(h, s);
    }
    if (h->table) {
        fk__batch_flush(h->table, &h->batch);
        if (h->clock_ns)
            fk__flow_table_expire(h->table, h->clock_ns);
        fk__flow_table_flush(h->table);
    } else if (h->nworkers) {
        fk__cap_msg m = {.kind = FK__MSG_FLUSH, .now_ns = h->clock_ns};
        for (size_t i = 0; i < h->nworkers; i++) {
            h->workers[i].flushed = 0;
            fk__worker_push(h, &h->workers[i], &m, true);
            fk__worker_wake(&h->workers[i]);
        }
        for (;;) {
            drain_workers(h);
            size_t done = 0;
            for (size_t i = 0; i < h->nworkers; i++)
                done += h->workers[i].flushed > 0;
            if (done == h->nworkers)
                break;
            struct pollfd pfd = {.fd = h->events_fd, .events = POLLIN};
            poll(&pfd, 1, 10);
            drain_fd(h->events_fd);
        }
    }
    h->finished = true;
    uint64_t one = 1;
    ssize_t r = write(h->ready_fd, &one, sizeof one);
    (void)r;
}

static int dispatch_impl(fk_capture *h, int max)
{
    if (!h->activated)
        return fk__error(FK_ENOTACTIVATED, "capture: not activated");
    if (h->finished)
        return fk__error(FK_EEOF, "capture: the capture has ended");
    if (atomic_exchange(&h->break_flag, 0)) {
        drain_fd(h->break_fd);
        return fk__error(FK_EBREAK, "capture: interrupted by fk_capture_break()");
    }
    if (h->nworkers)
        drain_fd(h->events_fd);
    uint64_t start = h->packets;
    bool all_read = false, all_failed = false;
    if (h->offline)
        all_read = read_offline(h, max);
    else
        all_failed = h->backend->read(h, max);
    if (!h->offline) {
        int64_t now = fk__real_ns();
        if (now > h->clock_ns)
            h->clock_ns = now;
        if (h->clock_ns >= h->next_tick_ns)
            tick(h, h->clock_ns, false);
        if (h->attrib)
            fk__cap_attrib_tick(h, h->clock_ns);
    }
    if (h->table)
        fk__batch_flush(h->table, &h->batch); /* events of this call, in this call */
    wake_workers(h);
    drain_workers(h);
    int n = (int)(h->packets - start);
    bool timed_out = h->deadline_mono && fk__mono_ns() >= h->deadline_mono;
    if (all_read || all_failed || h->limit_reached || timed_out)
        finish(h);
    if (all_failed)
        return fk__error(FK_EPCAP, "capture: every device failed (see the error events)");
    return n;
}

int fk_capture_next_timeout_ms(const fk_capture *h)
{
    if (!h || !h->activated)
        return fk__error(FK_ENOTACTIVATED, "capture: not activated");
    if (h->finished || h->offline || atomic_load(&((fk_capture *)h)->break_flag))
        return 0;
    for (size_t i = 0; i < h->nworkers; i++) {
        if (fk__spsc_count(&h->workers[i].out))
            return 0;
    }
    int64_t wait = h->next_tick_ns - fk__real_ns();
    if (h->deadline_mono) {
        int64_t left = h->deadline_mono - fk__mono_ns();
        if (left < wait)
            wait = left;
    }
    if (wait <= 0)
        return 0;
    int64_t ms = (wait + 999999) / 1000000;
    return ms > 1000 ? 1000 : (int)ms;
}

int fk_capture_dispatch(fk_capture *h, int max)
{
    if (!h)
        return fk__error(FK_EINVAL, "capture: NULL handle");
    if (h->busy)
        return fk__error(FK_ESTATE, "capture: dispatch called from the handle's own callback");
    h->busy = true;
    int rc = dispatch_impl(h, max);
    h->busy = false;
    return rc;
}

int fk_capture_run(fk_capture *h)
{
    for (;;) {
        int rc = fk_capture_dispatch(h, 0);
        if (rc == FK_EEOF)
            return 0;
        if (rc < 0)
            return rc;
        if (rc > 0)
            continue;
        int ms = fk_capture_next_timeout_ms(h);
        if (ms > 0) {
            struct pollfd pfd = {.fd = h->epoll_fd, .events = POLLIN};
            if (poll(&pfd, 1, ms) < 0 && errno != EINTR)
                return fk__error_errno(FK_EIO, "capture: poll");
        }
    }
}

int fk_capture_stop(fk_capture *h)
{
    if (!h)
        return fk__error(FK_EINVAL, "capture: NULL handle");
    if (!h->activated)
        return fk__error(FK_ENOTACTIVATED, "capture: not activated");
    if (h->busy)
        return fk__error(FK_ESTATE, "capture: stop called from the handle's own callback");
    h->busy = true;
    finish(h);
    h->busy = false;
    return 0;
}
