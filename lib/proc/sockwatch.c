/* The sock_diag source's watcher thread: dumps the socket table every
 * sync interval (fast after a miss), maps the sockets of each dump and the
 * sockets handed over by lookups to their processes by scanning /proc off
 * the packet path, and queues what it learnt for the engine (drain). */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/caps.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/log.h"
#include "proc/src_sockdiag_int.h"

void fk__sd_watch_wake(fk__src_sockdiag *s)
{
    if (s->watching)
        pthread_cond_signal(&s->wake);
}

/* The dump cadence. A dump is what attributes a connection whose socket is
 * gone by the time its first packet is processed (a connection shorter
 * than the capture's lag): its owner is then found in the history of
 * earlier dumps. Every other connection is found by the exact query, so
 * the dumps (each walks the kernel's whole socket hash: about 0.3 ms here)
 * run fast only for MISS_HOLD_NS after such a miss, ten times slower (at
 * most 1 s) otherwise. */
#define MISS_HOLD_NS INT64_C(5000000000)
static int64_t watch_interval(const fk__src_sockdiag *s)
{
    int64_t interval = s->cfg.sync_interval_ns;
    if (fk__mono_ns() - s->last_miss_mono >= MISS_HOLD_NS) {
        interval *= 10;
        if (interval < s->cfg.sync_interval_ns || interval > 1000000000)
            interval = s->cfg.sync_interval_ns > 1000000000 ? s->cfg.sync_interval_ns : 1000000000;
    }
    return interval;
}

void fk__sd_note_miss(fk__src_sockdiag *s)
{
    int64_t mono = fk__mono_ns();
    if (mono - s->last_miss_mono >= MISS_HOLD_NS)
        fk__sd_watch_wake(s); /* the first miss after a quiet spell: dump now */
    s->last_miss_mono = mono;
}

bool fk__sd_pending_push(fk__src_sockdiag *s, const fk__sd_pending *p)
{
    if (s->n_pend == s->cap_pend) {
        size_t nc = s->cap_pend ? s->cap_pend * 2 : 64;
        if (nc > FK__SD_PENDING_MAX)
            return false;
        fk__sd_pending *n = fk__reallocarray(s->pend, nc, sizeof *n);
        if (!n)
            return false;
        s->pend = n;
        s->cap_pend = nc;
    }
    s->pend[s->n_pend++] = *p;
    return true;
}

/* Index entered (ilock, not lock): the owners of a batch of sockets (pid 0
 * = not known yet). Batched so that the cost does not grow with the number
 * of sockets: lookups, then a targeted search (recent owners, new and
 * changed processes, the youngest ones; the sweep over every process at
 * most every `sweep_gap_ns`) for the first unknown socket, lookups again (a
 * search rescans what changed, so the sockets of the same process hit), at
 * most 3 searches. */
static void resolve_batch(fk__src_sockdiag *s, fk__sd_pending *v, size_t n, int64_t mono,
                          int64_t sweep_gap_ns, uint64_t *scans)
{
    for (int round = 0; round <= 3; round++) {
        size_t pick = n;
        for (size_t i = 0; i < n; i++) {
            if (!v[i].pid)
                v[i].pid = fk__pidindex_lookup(s->index, v[i].inode);
            if (!v[i].pid && pick == n)
                pick = i;
        }
        if (pick == n || round == 3)
            break;
        bool sweep = mono - s->last_watch_sweep >= sweep_gap_ns;
        if (sweep)
            s->last_watch_sweep = mono;
        (*scans)++;
        v[pick].pid = fk__pidindex_find_watch(s->index, v[pick].inode, v[pick].uid, sweep);
        if (!v[pick].pid)
            v[pick].pid = UINT32_MAX; /* not found: not searched again in this batch */
    }
    for (size_t i = 0; i < n; i++) {
        if (v[i].pid == UINT32_MAX)
            v[i].pid = 0;
        if (v[i].pid)
            fk__u64map_put(&s->w_known, v[i].inode, v[i].pid);
    }
}

/* Index entered: owners of the sockets of a fresh dump that the watcher
 * has not mapped yet, into w_known (each tried at 3 dumps at most; the
 * sweep at most every 5 s). */
static void scan_dump(fk__src_sockdiag *s, const fk__socktable *t, int64_t mono, uint64_t *scans)
{
    fk__sd_pending *v = NULL;
    size_t n = 0;
    if (fk__socktable_count(t))
        v = fk__calloc(fk__socktable_count(t), sizeof *v);
    if (!v)
        return;
    size_t pos = 0;
    const fk__tkey *key;
    const fk__sockent *x;
    while (fk__socktable_next(t, &pos, &key, &x)) {
        uint64_t known, tries = 0;
        if (fk__u64map_get(&s->w_known, x->inode, &known))
            continue;
        fk__u64map_get(&s->w_tries, x->inode, &tries);
        if (tries >= 3)
            continue;
        v[n++] = (fk__sd_pending){.key = *key, .inode = x->inode, .uid = x->uid};
    }
    resolve_batch(s, v, n, mono, INT64_C(5000000000), scans);
    for (size_t i = 0; i < n; i++) {
        if (!v[i].pid) {
            uint64_t tries = 0;
            fk__u64map_get(&s->w_tries, v[i].inode, &tries);
            fk__u64map_put(&s->w_tries, v[i].inode, tries + 1);
        }
        if (fk__log_enabled(FK_LOG_DEBUG)) {
            char kt[2 * FK_ADDR_STRLEN + 32];
            fk__tkey_format(&v[i].key, kt, sizeof kt);
            FK__LOG_DEBUG("proc", "watcher: inode %llu %s is pid %u",
                          (unsigned long long)v[i].inode, kt, v[i].pid);
        }
    }
    fk__free(v);
}

/* With lock held: the owners of the dump's sockets go to the lookups (by
 * inode) and, once per socket and forgetting period, to the engine. */
static void publish_dump(fk__src_sockdiag *s, const fk__socktable *t)
{
    size_t pos = 0;
    const fk__tkey *key;
    const fk__sockent *n;
    while (fk__socktable_next(t, &pos, &key, &n)) {
        uint64_t v, old;
        if (!fk__u64map_get(&s->w_known, n->inode, &v) || !v)
            continue;
        if (fk__u64map_get(&s->seen_inodes, n->inode, &old))
            continue;
        fk__u64map_put(&s->seen_inodes, n->inode, v);
        fk__sd_learn(s, key, (uint32_t)v, n->uid);
    }
}

/* With lock held: the owners of the handed-over sockets go to the engine;
 * the others are handed over again (for FK__SD_PENDING_RETRY_NS) and
 * retried at the next dump. */
static void publish_pending(fk__src_sockdiag *s, const fk__sd_pending *todo, size_t n, int64_t mono)
{
    for (size_t i = 0; i < n; i++) {
        const fk__sd_pending *p = &todo[i];
        if (!p->pid) {
            if (mono - p->since_mono >= FK__SD_PENDING_RETRY_NS || !fk__sd_pending_push(s, p))
                s->stats.expired++;
            continue;
        }
        uint64_t old;
        if (!fk__u64map_get(&s->seen_inodes, p->inode, &old))
            fk__u64map_put(&s->seen_inodes, p->inode, p->pid);
        fk__sd_learn(s, &p->key, p->pid, p->uid);
    }
}

/* With lock held: every 10 s the inode sets start again from what the
 * current dumps show (so each socket's owner is pushed again: the engine's
 * history keeps live sockets fresh). */
static void forget(fk__src_sockdiag *s, int64_t sec)
{
    if (sec - s->last_forget_sec < 10)
        return;
    s->last_forget_sec = sec;
    fk__u64map_clear(&s->seen_inodes);
    fk__u64map_clear(&s->w_known);
    fk__u64map_clear(&s->w_tries);
}

void fk__sd_watch_first_pass(fk__src_sockdiag *s)
{
    pthread_mutex_lock(&s->lock);
    uint64_t scans = 0;
    pthread_mutex_lock(&s->ilock);
    scan_dump(s, &s->socks, fk__mono_ns(), &scans);
    pthread_mutex_unlock(&s->ilock);
    publish_dump(s, &s->socks);
    s->stats.index_scans += scans;
    s->last_refresh_mono = s->last_dump_mono = fk__mono_ns();
    s->last_forget_sec = time(NULL);
    pthread_mutex_unlock(&s->lock);
}

static void *watch_main(void *arg)
{
    fk__src_sockdiag *s = arg;
    /* This thread reads other users' /proc/PID/fd and nothing else that
     * needs a privilege: it keeps only that, also when the program drops
     * root later (core/caps.h). */
    fk__caps_thread_begin(fk__caps_proc_read());
    pthread_mutex_lock(&s->lock);
    while (!s->stop) {
        /* Sleep until the next dump, or until a lookup hands sockets over. */
        if (!s->n_pend_fresh) {
            int64_t due = s->last_dump_mono + watch_interval(s) - fk__mono_ns();
            if (due > 0) {
                struct timespec until;
                clock_gettime(CLOCK_MONOTONIC, &until);
                int64_t ns = (int64_t)until.tv_nsec + due;
                until.tv_sec += (time_t)(ns / 1000000000);
                until.tv_nsec = (long)(ns % 1000000000);
                pthread_cond_timedwait(&s->wake, &s->lock, &until);
            }
        }
        if (s->stop)
            break;
        int64_t mono = fk__mono_ns();
        bool dump = mono - s->last_dump_mono >= watch_interval(s);
        /* Fresh hand-overs now; the retried ones only with a dump. */
        fk__sd_pending *todo = NULL;
        size_t ntodo = 0;
        if (s->n_pend && (dump || s->n_pend_fresh)) {
            todo = s->pend;
            ntodo = s->n_pend;
            s->pend = NULL;
            s->n_pend = s->cap_pend = 0;
        }
        s->n_pend_fresh = 0;
        pthread_mutex_unlock(&s->lock);

        /* The slow part without the lock: the dump, and /proc under ilock. */
        fk__caps_thread_settle(fk__caps_proc_read());
        fk__socktable fresh;
        memset(&fresh, 0, sizeof fresh);
        int n = dump ? fk__sockdiag_dump_all(s->watch_diag, fk__socktable_put_cb, &fresh) : -1;
        uint64_t scans = 0;
        pthread_mutex_lock(&s->ilock);
        if (dump && mono - s->last_refresh_mono >= 1000000000) {
            fk__pidindex_refresh(s->index);
            s->last_refresh_mono = mono;
        }
        resolve_batch(s, todo, ntodo, mono, 100000000, &scans);
        if (n >= 0)
            scan_dump(s, &fresh, mono, &scans);
        fk__pidindex_stats ist;
        fk__pidindex_get_stats(s->index, &ist);
        pthread_mutex_unlock(&s->ilock);

        atomic_store(&s->watcher_waiting, 1);
        pthread_mutex_lock(&s->lock);
        atomic_store(&s->watcher_waiting, 0);
        s->istats = ist;
        s->stats.index_scans += scans;
        if (n >= 0) {
            fk__socktable_free(&s->socks);
            s->socks = fresh;
            s->stats.dumps++;
            s->last_dump_mono = mono;
        } else {
            fk__socktable_free(&fresh);
            if (dump)
                s->last_dump_mono = mono; /* failed: try again next interval */
        }
        if (n >= 0)
            publish_dump(s, &s->socks);
        publish_pending(s, todo, ntodo, mono);
        fk__free(todo);
        forget(s, time(NULL));
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

int fk__sd_watch_start(fk__src_sockdiag *s)
{
    int rc = fk__sockdiag_open(&s->watch_diag);
    if (rc < 0)
        return rc;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->wake, &ca);
    pthread_condattr_destroy(&ca);
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    /* Under the lock: the watcher starts by taking it, so it sees its own
     * id and `watching` set (fk__sd_index_enter tells the threads apart). */
    pthread_mutex_lock(&s->lock);
    int err = pthread_create(&s->watcher, NULL, watch_main, s);
    s->watching = err == 0;
    pthread_mutex_unlock(&s->lock);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (err) {
        pthread_cond_destroy(&s->wake);
        return fk__error_set(FK_EIO, err, "attribution: cannot start the socket watcher");
    }
    return 0;
}

void fk__sd_watch_stop(fk__src_sockdiag *s)
{
    if (!s->watching)
        return;
    pthread_mutex_lock(&s->lock);
    s->stop = true;
    pthread_cond_signal(&s->wake);
    pthread_mutex_unlock(&s->lock);
    pthread_join(s->watcher, NULL);
    pthread_cond_destroy(&s->wake);
    s->watching = false;
}
