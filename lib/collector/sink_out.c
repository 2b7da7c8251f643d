/* Asynchronous output of the file sinks (see internal.h): the dispatching
 * thread formats records into one of a few large buffers; a writer thread
 * per sink hands full buffers to write(2). On this kind of machine the copy
 * into the page cache is the largest single cost of a text record, so it
 * runs on the other core while the next records are decoded and formatted.
 * The buffers are a ring: [head, tail) are queued for the writer, tail is
 * the one being filled. When every buffer is queued the producer waits
 * (back pressure: the socket buffer absorbs it, drops stay counted). */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include "collector/internal.h"
#include "core/alloc.h"
#include "core/clock.h"
#include "core/error.h"

#define NBUF FK__SINK_OUT_BUFS

struct fk__sink_out {
    pthread_mutex_t mu;
    pthread_cond_t work;  /* writer: something queued, or stop */
    pthread_cond_t space; /* producer: a buffer was written */
    pthread_t thread;
    bool started;
    bool stop;
    int fd;
    size_t size;       /* bytes per buffer */
    char *buf[NBUF];   /* buf[i % NBUF] */
    size_t len[NBUF];  /* queued lengths */
    unsigned head;     /* next buffer the writer takes */
    unsigned tail;     /* buffer being filled (not yet queued) */
    size_t fill;       /* bytes in buf[tail % NBUF] */
    int64_t since_ns;  /* when the first of them was committed */
    atomic_int failed; /* a write failed since the last check (read without the lock) */
    int err;           /* errno of the first failed write not yet reported */
    uint64_t lost;     /* bytes that could not be written, not yet reported */
};

static void write_all(fk__sink_out *o, int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            int e = w < 0 ? errno : EIO;
            pthread_mutex_lock(&o->mu);
            if (!o->err)
                o->err = e;
            o->lost += n;
            atomic_store(&o->failed, 1);
            pthread_mutex_unlock(&o->mu);
            return;
        }
        p += w;
        n -= (size_t)w;
    }
}

static void *writer_main(void *arg)
{
    fk__sink_out *o = arg;
    pthread_mutex_lock(&o->mu);
    for (;;) {
        while (o->head == o->tail && !o->stop)
            pthread_cond_wait(&o->work, &o->mu);
        if (o->head == o->tail)
            break; /* stop, and nothing left */
        unsigned i = o->head % NBUF;
        int fd = o->fd;
        size_t n = o->len[i];
        pthread_mutex_unlock(&o->mu);
        write_all(o, fd, o->buf[i], n);
        pthread_mutex_lock(&o->mu);
        o->head++;
        pthread_cond_broadcast(&o->space);
    }
    pthread_mutex_unlock(&o->mu);
    return NULL;
}

int fk__sink_out_create(fk__sink_out **out, size_t size)
{
    fk__sink_out *o = FK__NEW(fk__sink_out);
    if (!o)
        return fk__error(FK_ENOMEM, "output: out of memory");
    o->fd = -1;
    o->size = size;
    atomic_init(&o->failed, 0);
    pthread_mutex_init(&o->mu, NULL);
    pthread_cond_init(&o->work, NULL);
    pthread_cond_init(&o->space, NULL);
    for (int i = 0; i < NBUF; i++) {
        o->buf[i] = fk__malloc(size);
        if (!o->buf[i]) {
            fk__sink_out_destroy(o);
            return fk__error(FK_ENOMEM, "output: out of memory for buffers");
        }
    }
    /* Signals stay with the application's threads. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(&o->thread, NULL, writer_main, o);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        fk__sink_out_destroy(o);
        return fk__error(FK_EIO, "output: cannot start the writer thread");
    }
    o->started = true;
    *out = o;
    return FK_OK;
}

void fk__sink_out_destroy(fk__sink_out *o)
{
    if (!o)
        return;
    if (o->started) {
        pthread_mutex_lock(&o->mu);
        o->stop = true;
        pthread_cond_signal(&o->work);
        pthread_mutex_unlock(&o->mu);
        pthread_join(o->thread, NULL);
    }
    pthread_cond_destroy(&o->space);
    pthread_cond_destroy(&o->work);
    pthread_mutex_destroy(&o->mu);
    for (int i = 0; i < NBUF; i++)
        fk__free(o->buf[i]);
    fk__free(o);
}

void fk__sink_out_set_fd(fk__sink_out *o, int fd)
{
    /* Called with nothing queued (after a sync): the writer only reads
     * fd under the lock when it takes a buffer. */
    pthread_mutex_lock(&o->mu);
    o->fd = fd;
    o->fill = 0;
    pthread_mutex_unlock(&o->mu);
}

void fk__sink_out_submit(fk__sink_out *o)
{
    if (o->fill == 0)
        return;
    pthread_mutex_lock(&o->mu);
    o->len[o->tail % NBUF] = o->fill;
    o->tail++;
    pthread_cond_signal(&o->work);
    /* The next buffer to fill must not still be queued. */
    while (o->tail - o->head >= NBUF)
        pthread_cond_wait(&o->space, &o->mu);
    pthread_mutex_unlock(&o->mu);
    o->fill = 0;
}

char *fk__sink_out_room(fk__sink_out *o, size_t need)
{
    if (o->size - o->fill < need)
        fk__sink_out_submit(o);
    return o->buf[o->tail % NBUF] + o->fill;
}

void fk__sink_out_commit(fk__sink_out *o, size_t n)
{
    if (o->fill == 0)
        o->since_ns = fk__mono_ns();
    o->fill += n;
}

void fk__sink_out_submit_due(fk__sink_out *o)
{
    /* Waking the writer for every few records would cost more than the
     * writes: hand over a quarter buffer, or what has waited 20 ms. */
    if (o->fill >= o->size / 4 || (o->fill && fk__mono_ns() - o->since_ns >= FK__SINK_OUT_AGE_NS))
        fk__sink_out_submit(o);
}

int64_t fk__sink_out_pending_since(const fk__sink_out *o)
{
    return o->fill ? o->since_ns : -1;
}

int fk__sink_out_check(fk__sink_out *o, const char *what)
{
    /* Called for every record: no lock unless a write failed. */
    if (!atomic_load_explicit(&o->failed, memory_order_relaxed))
        return FK_OK;
    pthread_mutex_lock(&o->mu);
    atomic_store(&o->failed, 0);
    int e = o->err;
    uint64_t lost = o->lost;
    o->err = 0;
    o->lost = 0;
    pthread_mutex_unlock(&o->mu);
    if (!e)
        return FK_OK;
    errno = e;
    return fk__error_errno(FK_EIO, "%s: write failed (%llu bytes lost)", what,
                           (unsigned long long)lost);
}

int fk__sink_out_sync(fk__sink_out *o, const char *what)
{
    fk__sink_out_submit(o);
    pthread_mutex_lock(&o->mu);
    while (o->head != o->tail)
        pthread_cond_wait(&o->space, &o->mu);
    pthread_mutex_unlock(&o->mu);
    return fk__sink_out_check(o, what);
}
