/* UDP receive threads feeding a bounded queue (see workers.h). */
#include "collector/workers.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/log.h"

typedef struct slot {
    struct sockaddr_storage from;
    size_t len;
    size_t cap;
    uint8_t *data; /* grown on demand, reused */
} slot;

typedef struct worker {
    struct fk__col_workers *w;
    pthread_t thread;
    bool started;
    bool own_fds; /* worker 0 borrows the listener sockets */
    int *fds;
    uint32_t *seen;
    size_t nfds;
    struct mmsghdr *msgs;
    struct iovec *iovs;
    struct sockaddr_storage *addrs;
    uint8_t *bufs;
    uint8_t *ctrl;
} worker;

struct fk__col_workers {
    pthread_mutex_t mu;
    slot *ring;
    size_t cap;
    size_t head; /* next slot to drain (consumer) */
    size_t tail; /* next slot to fill (producers) */
    atomic_uint_fast64_t queue_drops;
    atomic_uint_fast64_t kernel_drops;
    atomic_int stop;
    int stopfd;
    int wakefd;
    size_t batch;
    worker *ws;
    int n;
};

static void push_batch(worker *wk, int n)
{
    struct fk__col_workers *w = wk->w;
    int queued = 0;
    pthread_mutex_lock(&w->mu);
    for (int i = 0; i < n; i++) {
        size_t len = wk->msgs[i].msg_len;
        if (w->tail - w->head >= w->cap) {
            atomic_fetch_add(&w->queue_drops, 1);
            continue;
        }
        slot *s = &w->ring[w->tail % w->cap];
        if (s->cap < len) {
            uint8_t *d = fk__realloc(s->data, len);
            if (!d) {
                atomic_fetch_add(&w->queue_drops, 1);
                continue;
            }
            s->data = d;
            s->cap = len;
        }
        memcpy(s->data, wk->bufs + (size_t)i * FK__COL_MAX_DGRAM, len);
        memcpy(&s->from, &wk->addrs[i], sizeof s->from);
        s->len = len;
        w->tail++;
        queued++;
    }
    pthread_mutex_unlock(&w->mu);
    if (queued) {
        uint64_t one = 1;
        ssize_t r = write(w->wakefd, &one, sizeof one);
        (void)r;
    }
}

static void *worker_main(void *arg)
{
    worker *wk = arg;
    struct fk__col_workers *w = wk->w;
    struct pollfd pfd[65];
    size_t np = wk->nfds < 64 ? wk->nfds : 64;
    for (size_t i = 0; i < np; i++) {
        pfd[i].fd = wk->fds[i];
        pfd[i].events = POLLIN;
    }
    pfd[np].fd = w->stopfd;
    pfd[np].events = POLLIN;
    while (!atomic_load(&w->stop)) {
        int ready = poll(pfd, np + 1, 100);
        for (size_t i = 0; i < np; i++)
            atomic_fetch_add(&w->kernel_drops, fk__col_drops_poll(&wk->seen[i], wk->fds[i]));
        if (ready <= 0)
            continue;
        for (size_t i = 0; i < np; i++) {
            if (!(pfd[i].revents & POLLIN))
                continue;
            for (int round = 0; round < 16; round++) {
                int n = fk__col_recv_batch(wk->fds[i], wk->msgs, wk->iovs, wk->addrs, wk->bufs,
                                           wk->ctrl, w->batch);
                if (n <= 0)
                    break;
                for (int j = 0; j < n; j++)
                    atomic_fetch_add(&w->kernel_drops,
                                     fk__col_drops_update(&wk->seen[i], &wk->msgs[j].msg_hdr));
                push_batch(wk, n);
                if ((size_t)n < w->batch)
                    break;
            }
        }
    }
    return NULL;
}

static void worker_free(worker *wk)
{
    if (wk->own_fds)
        for (size_t i = 0; i < wk->nfds; i++)
            if (wk->fds[i] >= 0)
                close(wk->fds[i]);
    fk__free(wk->fds);
    fk__free(wk->seen);
    fk__free(wk->msgs);
    fk__free(wk->iovs);
    fk__free(wk->addrs);
    fk__free(wk->bufs);
    fk__free(wk->ctrl);
}

void fk__col_workers_stop(fk__col_workers *w)
{
    if (!w)
        return;
    atomic_store(&w->stop, 1);
    uint64_t one = 1;
    ssize_t r = write(w->stopfd, &one, sizeof one);
    (void)r;
    for (int i = 0; i < w->n; i++) {
        if (w->ws[i].started)
            pthread_join(w->ws[i].thread, NULL);
        worker_free(&w->ws[i]);
    }
    for (size_t i = 0; i < w->cap; i++)
        fk__free(w->ring[i].data);
    fk__free(w->ring);
    fk__free(w->ws);
    close(w->stopfd);
    pthread_mutex_destroy(&w->mu);
    fk__free(w);
}

static int worker_init(fk__col_workers *w, worker *wk, int index, const fk__col_uri *uris,
                       const int *fds, size_t nuris, int64_t rcvbuf)
{
    wk->w = w;
    wk->own_fds = index > 0;
    wk->nfds = nuris;
    wk->fds = fk__calloc(nuris, sizeof *wk->fds);
    wk->seen = fk__calloc(nuris, sizeof *wk->seen);
    wk->msgs = fk__calloc(w->batch, sizeof *wk->msgs);
    wk->iovs = fk__calloc(w->batch, sizeof *wk->iovs);
    wk->addrs = fk__calloc(w->batch, sizeof *wk->addrs);
    wk->bufs = fk__calloc(w->batch, FK__COL_MAX_DGRAM);
    wk->ctrl = fk__calloc(w->batch, FK__COL_CTRL_SIZE);
    if (!wk->fds || !wk->seen || !wk->msgs || !wk->iovs || !wk->addrs || !wk->bufs || !wk->ctrl)
        return fk__error(FK_ENOMEM, "collector: out of memory for workers");
    for (size_t i = 0; i < nuris; i++)
        wk->fds[i] = -1;
    for (size_t i = 0; i < nuris; i++) {
        if (index == 0) {
            wk->fds[i] = fds[i];
            continue;
        }
        char what[96];
        fk__col_uri_format(uris[i].transport, (const struct sockaddr *)&uris[i].ss, what,
                           sizeof what);
        int rc = fk__col_open_udp(&uris[i], rcvbuf, FK__COL_REUSE_JOIN, what, &wk->fds[i]);
        if (rc)
            return rc;
    }
    return FK_OK;
}

int fk__col_workers_start(fk__col_workers **out, int n, const fk__col_uri *uris, const int *fds,
                          size_t nuris, int64_t rcvbuf, size_t queue_size, size_t batch, int wakefd)
{
    if (nuris > 64)
        return fk__error(FK_ERANGE, "collector: workers serve at most 64 UDP listeners");
    fk__col_workers *w = FK__NEW(fk__col_workers);
    if (!w)
        return fk__error(FK_ENOMEM, "collector: out of memory for workers");
    pthread_mutex_init(&w->mu, NULL);
    atomic_init(&w->queue_drops, 0);
    atomic_init(&w->kernel_drops, 0);
    atomic_init(&w->stop, 0);
    w->wakefd = wakefd;
    w->batch = batch;
    w->cap = queue_size;
    w->stopfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    w->ring = fk__calloc(queue_size, sizeof *w->ring);
    w->ws = fk__calloc((size_t)n, sizeof *w->ws);
    if (w->stopfd < 0 || !w->ring || !w->ws) {
        int rc = w->stopfd < 0 ? fk__error_errno(FK_EIO, "collector: eventfd")
                               : fk__error(FK_ENOMEM, "collector: out of memory for workers");
        fk__col_workers_stop(w);
        return rc;
    }
    w->n = n;
    int rc = FK_OK;
    for (int i = 0; rc == FK_OK && i < n; i++)
        rc = worker_init(w, &w->ws[i], i, uris, fds, nuris, rcvbuf);
    for (int i = 0; rc == FK_OK && i < n; i++) {
        if (pthread_create(&w->ws[i].thread, NULL, worker_main, &w->ws[i]) != 0)
            rc = fk__error(FK_EIO, "collector: cannot start worker thread %d", i);
        else
            w->ws[i].started = true;
    }
    if (rc) {
        fk__col_workers_stop(w);
        return rc;
    }
    *out = w;
    return FK_OK;
}

int fk__col_workers_drain(fk__col_workers *w, fk__col_dgram_fn fn, void *user,
                          uint64_t *queue_drops, uint64_t *kernel_drops)
{
    pthread_mutex_lock(&w->mu);
    size_t head = w->head, tail = w->tail;
    pthread_mutex_unlock(&w->mu);
    /* Slots in [head, tail) belong to this thread until head moves on. */
    size_t i = head;
    while (i != tail) {
        slot *s = &w->ring[i % w->cap];
        i++;
        if (!fn(user, (const struct sockaddr *)&s->from, s->data, s->len))
            break;
    }
    pthread_mutex_lock(&w->mu);
    w->head = i;
    pthread_mutex_unlock(&w->mu);
    *queue_drops = atomic_load(&w->queue_drops);
    *kernel_drops = atomic_load(&w->kernel_drops);
    return (int)(tail - i);
}
