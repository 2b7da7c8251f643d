/* Asynchronous output of the file sinks (see internal.h): the dispatching
 * thread formats records into one of a few large buffers; a writer thread
 * per sink hands full buffers to write(2). On this kind of machine the copy
 * into the page cache is the largest single cost of a text record, so it
 * runs on the other core while the next records are decoded and formatted.
 * The buffers are a ring: [head, tail) are queued for the writer, tail is
 * the one being filled. When every buffer is queued the producer waits
 * (back pressure: the socket buffer absorbs it, drops stay counted).
 *
 * Whole units or nothing: the producer commits units (a text record, an
 * IPFIX message) and says how many records each holds. When a write fails
 * part-way (a full disk), the file is cut back to the end of the last whole
 * unit written, so it always ends at a record boundary and the next write
 * does not glue onto half a line; the records of the units that did not
 * make it are counted as lost. Until the producer has seen a failure (check),
 * the buffers queued after it are dropped and counted too: an IPFIX sink
 * must send its templates again before more data goes to that file. An
 * output that cannot be cut back (a pipe) gets the rest of the cut unit
 * first at the next write, so the stream stays framed. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
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

/* One committed unit: where it ends in its buffer, how many records. */
typedef struct unit {
    uint32_t end;
    uint32_t records;
} unit;

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
    unit *units[NBUF]; /* units of each buffer, in order */
    size_t nunits[NBUF];
    size_t capunits;   /* per buffer; a full list merges into its last unit */
    unsigned head;     /* next buffer the writer takes */
    unsigned tail;     /* buffer being filled (not yet queued) */
    size_t fill;       /* bytes in buf[tail % NBUF] */
    int64_t since_ns;  /* when the first of them was committed */
    atomic_int failed; /* a write failed since the last check (read without the lock) */
    int err;           /* errno of the first failed write not yet reported */
    uint64_t lost;     /* records that could not be written, not yet reported */
    char *rest;        /* writer: the unwritten rest of a cut unit (unseekable fd) */
    size_t nrest;
};

static uint64_t records_after(const unit *u, size_t n, size_t from)
{
    uint64_t r = 0;
    for (size_t i = 0; i < n; i++)
        if (u[i].end > from)
            r += u[i].records;
    return r;
}

/* Write n bytes; returns how many went out (n, or fewer with *err set). */
static size_t write_some(int fd, const char *p, size_t n, int *err)
{
    size_t done = 0;
    while (done < n) {
        ssize_t w = write(fd, p + done, n - done);
        if (w > 0) {
            done += (size_t)w;
            continue;
        }
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            /* A non-blocking descriptor (an inherited stdout): wait for room. */
            struct pollfd pfd = {.fd = fd, .events = POLLOUT};
            if (poll(&pfd, 1, -1) >= 0 || errno == EINTR)
                continue;
        }
        *err = w < 0 ? errno : EIO;
        return done;
    }
    return n;
}

static void note_failure(fk__sink_out *o, int err, uint64_t records)
{
    pthread_mutex_lock(&o->mu);
    if (!o->err)
        o->err = err;
    o->lost += records;
    atomic_store(&o->failed, 1);
    pthread_mutex_unlock(&o->mu);
}

/* Write buffer i; on a failure keep the output at a unit boundary and
 * count the records that did not make it. */
static void write_buffer(fk__sink_out *o, int fd, unsigned i)
{
    const char *p = o->buf[i];
    size_t n = o->len[i];
    const unit *u = o->units[i];
    size_t nu = o->nunits[i];
    if (atomic_load(&o->failed)) {
        /* The producer has not seen the last failure yet. */
        note_failure(o, 0, records_after(u, nu, 0));
        return;
    }
    int err = 0;
    if (o->nrest) {
        size_t w = write_some(fd, o->rest, o->nrest, &err);
        memmove(o->rest, o->rest + w, o->nrest - w);
        o->nrest -= w;
        if (o->nrest) {
            note_failure(o, err, records_after(u, nu, 0));
            return;
        }
    }
    int flags = fcntl(fd, F_GETFL);
    off_t start = lseek(fd, 0, flags >= 0 && (flags & O_APPEND) ? SEEK_END : SEEK_CUR);
    size_t done = write_some(fd, p, n, &err);
    if (done == n)
        return;
    /* The last whole unit written ends at keep. */
    size_t keep = 0, cut_end = n;
    for (size_t k = 0; k < nu; k++) {
        if (u[k].end <= done) {
            keep = u[k].end;
        } else {
            cut_end = u[k].end;
            break;
        }
    }
    uint64_t lost = records_after(u, nu, keep);
    if (done > keep) {
        if (start >= 0 && ftruncate(fd, start + (off_t)keep) == 0) {
            lseek(fd, start + (off_t)keep, SEEK_SET);
        } else if (o->rest) {
            /* Cannot cut back: finish the unit before anything else. */
            memcpy(o->rest, p + done, cut_end - done);
            o->nrest = cut_end - done;
        }
    }
    note_failure(o, err, lost);
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
        pthread_mutex_unlock(&o->mu);
        write_buffer(o, fd, i);
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
    /* A unit per 128 bytes is more than text records need; IPFIX messages
     * are far larger. */
    o->capunits = size / 128 + 1;
    o->rest = fk__malloc(size);
    for (int i = 0; i < NBUF; i++) {
        o->buf[i] = fk__malloc(size);
        o->units[i] = fk__reallocarray(NULL, o->capunits, sizeof(unit));
        if (!o->buf[i] || !o->units[i] || !o->rest) {
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
    for (int i = 0; i < NBUF; i++) {
        fk__free(o->buf[i]);
        fk__free(o->units[i]);
    }
    fk__free(o->rest);
    fk__free(o);
}

void fk__sink_out_set_fd(fk__sink_out *o, int fd)
{
    /* Called with nothing queued (after a sync): the writer only reads
     * fd under the lock when it takes a buffer. */
    pthread_mutex_lock(&o->mu);
    o->fd = fd;
    o->fill = 0;
    o->nunits[o->tail % NBUF] = 0;
    o->nrest = 0; /* a new file starts clean */
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
    o->nunits[o->tail % NBUF] = 0;
}

char *fk__sink_out_room(fk__sink_out *o, size_t need)
{
    if (o->size - o->fill < need)
        fk__sink_out_submit(o);
    return o->buf[o->tail % NBUF] + o->fill;
}

void fk__sink_out_commit(fk__sink_out *o, size_t n, uint32_t records)
{
    if (o->fill == 0)
        o->since_ns = fk__mono_ns();
    o->fill += n;
    unsigned i = o->tail % NBUF;
    unit *u = o->units[i];
    size_t k = o->nunits[i];
    if (k == o->capunits) {
        /* Coarser but still whole: the last unit takes this one in. */
        u[k - 1].end = (uint32_t)o->fill;
        u[k - 1].records += records;
        return;
    }
    u[k] = (unit){(uint32_t)o->fill, records};
    o->nunits[i] = k + 1;
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

int fk__sink_out_check(fk__sink_out *o, const char *what, uint64_t *lost_records)
{
    *lost_records = 0;
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
    *lost_records = lost;
    errno = e ? e : EIO;
    return fk__error_errno(FK_EIO, "%s: write failed (%llu records lost)", what,
                           (unsigned long long)lost);
}

int fk__sink_out_sync(fk__sink_out *o, const char *what, uint64_t *lost_records)
{
    fk__sink_out_submit(o);
    pthread_mutex_lock(&o->mu);
    while (o->head != o->tail)
        pthread_cond_wait(&o->space, &o->mu);
    pthread_mutex_unlock(&o->mu);
    return fk__sink_out_check(o, what, lost_records);
}
