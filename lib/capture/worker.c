/* Worker threads: each owns one flow-table shard, reads packets from its
 * bounded input queue and returns events through its bounded output queue.
 * Signals are blocked in workers so handlers run on the caller's threads. */
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "capture/capture_int.h"
#include "core/alloc.h"
#include "core/error.h"
#include "core/log.h"

/* Messages handled between two stats publications. */
#define WORKER_BATCH 256

static void signal_fd(int fd)
{
    uint64_t one = 1;
    ssize_t n = write(fd, &one, sizeof one);
    (void)n; /* EAGAIN: the counter is already non-zero, i.e. readable */
}

static void publish(fk__cap_worker *w)
{
    fk__flow_stats st;
    fk__flow_table_stats(w->table, &st);
    atomic_store_explicit(&w->st_active, st.active, memory_order_relaxed);
    atomic_store_explicit(&w->st_created, st.created, memory_order_relaxed);
    atomic_store_explicit(&w->st_evicted, st.evicted, memory_order_relaxed);
    atomic_store_explicit(&w->st_records, st.records, memory_order_relaxed);
    atomic_store_explicit(&w->st_events, st.events, memory_order_relaxed);
    atomic_store_explicit(&w->st_frag_misses, st.frag_misses, memory_order_relaxed);
}

/* Queue an event for the dispatch thread. Live capture drops (and counts)
 * when the queue is full; replay and flush wait instead, because the
 * dispatch thread drains the queues while it waits on us. */
static void push_event(fk__cap_worker *w, const fk__cap_evt *e, size_t size, bool *pushed)
{
    for (;;) {
        void *slot = fk__spsc_reserve(&w->out);
        if (slot) {
            memcpy(slot, e, size);
            fk__spsc_commit(&w->out);
            *pushed = true;
            return;
        }
        if (!w->flushing && !w->h->offline) {
            atomic_fetch_add_explicit(&w->event_drops, 1, memory_order_relaxed);
            return;
        }
        signal_fd(w->h->events_fd);
        sched_yield();
    }
}

typedef struct worker_ctx {
    fk__cap_worker *w;
    bool pushed;
    int64_t clock; /* newest packet or tick time seen by this worker */
    fk__pkt_batch batch;
} worker_ctx;

static void worker_on_flow(void *ctx, const fk__flow_record *rec)
{
    worker_ctx *c = ctx;
    fk__cap_evt e;
    e.kind = FK__EVT_FLOW;
    e.u.flow = rec->flow;
    push_event(c->w, &e, offsetof(fk__cap_evt, u) + sizeof e.u.flow, &c->pushed);
}

static void worker_on_event(void *ctx, const fk_session_event *ev)
{
    worker_ctx *c = ctx;
    fk__cap_evt e;
    e.kind = FK__EVT_SESSION;
    e.u.session = *ev;
    push_event(c->w, &e, offsetof(fk__cap_evt, u) + sizeof e.u.session, &c->pushed);
}

static void *worker_main(void *arg)
{
    fk__cap_worker *w = arg;
    worker_ctx *c = (worker_ctx *)w->ctx;
    for (;;) {
        size_t n = 0;
        fk__cap_msg *m;
        bool quit = false;
        while (n < WORKER_BATCH && (m = fk__spsc_peek(&w->in)) != NULL) {
            switch (m->kind) {
            case FK__MSG_PACKET:
                /* The clock moves with packet time, as on the inline path. */
                if (m->pkt.ts_ns > c->clock)
                    c->clock = m->pkt.ts_ns;
                fk__batch_add(w->table, &c->batch, &m->pkt, c->clock);
                break;
            case FK__MSG_TICK:
                fk__batch_flush(w->table, &c->batch);
                if (m->now_ns > c->clock)
                    c->clock = m->now_ns;
                fk__flow_table_expire(w->table, c->clock);
                break;
            case FK__MSG_FLUSH: {
                w->flushing = true;
                fk__batch_flush(w->table, &c->batch);
                if (m->now_ns > c->clock)
                    c->clock = m->now_ns;
                fk__flow_table_expire(w->table, c->clock);
                fk__flow_table_flush(w->table);
                fk__cap_evt e = {.kind = FK__EVT_FLUSHED};
                push_event(w, &e, offsetof(fk__cap_evt, u), &c->pushed);
                w->flushing = false;
                break;
            }
            case FK__MSG_QUIT:
                quit = true;
                break;
            }
            fk__spsc_release(&w->in);
            n++;
            if (quit)
                break;
        }
        fk__batch_flush(w->table, &c->batch);
        publish(w);
        if (c->pushed) {
            c->pushed = false;
            signal_fd(w->h->events_fd);
        }
        if (quit)
            return NULL;
        if (n)
            continue;
        /* Sleep until the dispatch thread pushes: it writes wake_fd when it
         * sees `sleeping` after publishing (fences on both sides). */
        atomic_store(&w->sleeping, 1);
        atomic_thread_fence(memory_order_seq_cst);
        if (fk__spsc_count(&w->in) == 0) {
            struct pollfd pfd = {.fd = w->wake_fd, .events = POLLIN};
            poll(&pfd, 1, 1000);
        }
        uint64_t v;
        ssize_t r = read(w->wake_fd, &v, sizeof v);
        (void)r;
        atomic_store(&w->sleeping, 0);
    }
}

int fk__worker_start(fk__cap_worker *w, fk_capture *h, size_t index, const fk__flow_config *cfg)
{
    memset(w, 0, sizeof *w);
    w->h = h;
    w->index = index;
    w->wake_fd = -1;
    atomic_init(&w->sleeping, 0);
    worker_ctx *c = FK__NEW(worker_ctx);
    if (!c)
        return fk__error(FK_ENOMEM, "capture: out of memory for worker %zu", index);
    c->w = w;
    w->ctx = c;
    int rc = fk__spsc_init(&w->in, (size_t)fk__params_int(&h->params, FK_CAP_QUEUE_SIZE),
                           sizeof(fk__cap_msg));
    if (rc == 0)
        rc = fk__spsc_init(&w->out, (size_t)fk__params_int(&h->params, FK_CAP_EVENT_QUEUE_SIZE),
                           sizeof(fk__cap_evt));
    if (rc < 0)
        return rc;
    size_t quarter = fk__spsc_capacity(&w->in) / 4;
    w->wake_every = (unsigned)(quarter < 1 ? 1 : quarter > 256 ? 256 : quarter);
    w->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (w->wake_fd < 0)
        return fk__error_errno(FK_EIO, "capture: eventfd for worker %zu", index);
    fk__flow_sink sink = {.on_flow = worker_on_flow, .on_event = worker_on_event, .ctx = c};
    rc = fk__flow_table_create(&w->table, cfg, &sink);
    if (rc < 0)
        return rc;
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int err = pthread_create(&w->thread, NULL, worker_main, w);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (err) {
        errno = err;
        return fk__error_errno(FK_EIO, "capture: cannot start worker %zu", index);
    }
    w->started = true;
    return 0;
}

void fk__worker_wake(fk__cap_worker *w)
{
    w->pending = false;
    w->since_wake = 0;
    atomic_thread_fence(memory_order_seq_cst);
    if (atomic_load(&w->sleeping))
        signal_fd(w->wake_fd);
}

bool fk__worker_push(fk_capture *h, fk__cap_worker *w, const fk__cap_msg *m, bool wait)
{
    size_t size = m->kind == FK__MSG_PACKET ? sizeof *m : offsetof(fk__cap_msg, pkt);
    for (;;) {
        void *slot = fk__spsc_reserve(&w->in);
        if (slot) {
            memcpy(slot, m, size);
            fk__spsc_commit(&w->in);
            w->pending = true;
            return true;
        }
        if (!wait)
            return false;
        /* The worker may itself wait for room in its event queue. */
        fk__worker_wake(w);
        for (size_t i = 0; i < h->nworkers; i++)
            fk__worker_drain(h, &h->workers[i]);
        sched_yield();
    }
}

static void deliver(fk_capture *h, const fk__cap_evt *e)
{
    if (!h->cb)
        return;
    fk_capture_event ev = {0};
    fk__cap_evt copy;
    fk__attrib_strs strs; /* user/exe of copy point here: valid during the callback */
    if (h->attrib) {      /* the owning process, from the attribution engine */
        copy = *e;
        if (e->kind == FK__EVT_FLOW)
            fk__attrib_fill_flow(h->attrib, &copy.u.flow, &strs);
        else
            fk__attrib_fill_session(h->attrib, &copy.u.session, &strs);
        e = &copy;
    }
    if (e->kind == FK__EVT_FLOW) {
        ev.type = FK_CAPTURE_EVENT_FLOW;
        ev.flow = &e->u.flow;
    } else {
        ev.type = FK_CAPTURE_EVENT_SESSION;
        ev.session = &e->u.session;
    }
    h->cb(&ev, h->user);
}

size_t fk__worker_drain(fk_capture *h, fk__cap_worker *w)
{
    size_t n = 0;
    fk__cap_evt *e;
    while ((e = fk__spsc_peek(&w->out)) != NULL) {
        if (e->kind == FK__EVT_FLUSHED)
            w->flushed++;
        else
            deliver(h, e);
        fk__spsc_release(&w->out);
        n++;
    }
    return n;
}

void fk__worker_stop(fk__cap_worker *w)
{
    if (w->started) {
        fk__cap_msg quit = {.kind = FK__MSG_QUIT};
        for (;;) {
            void *slot = fk__spsc_reserve(&w->in);
            if (slot) {
                memcpy(slot, &quit, offsetof(fk__cap_msg, pkt));
                fk__spsc_commit(&w->in);
                break;
            }
            /* Discard events (destroy delivers nothing) so the worker runs. */
            while (fk__spsc_peek(&w->out))
                fk__spsc_release(&w->out);
            fk__worker_wake(w);
            sched_yield();
        }
        fk__worker_wake(w);
        /* The worker may wait for room for its last events. */
        for (;;) {
            while (fk__spsc_peek(&w->out))
                fk__spsc_release(&w->out);
            if (pthread_tryjoin_np(w->thread, NULL) == 0)
                break;
            sched_yield();
        }
        w->started = false;
    }
    fk__flow_table_destroy(w->table);
    w->table = NULL;
    fk__spsc_free(&w->in);
    fk__spsc_free(&w->out);
    if (w->wake_fd >= 0)
        close(w->wake_fd);
    w->wake_fd = -1;
    fk__free(w->ctx);
    w->ctx = NULL;
}
