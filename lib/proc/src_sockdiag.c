/* The sock_diag attribution source: its operations. A lookup tries the
 * last socket dump, then an exact sock_diag query for the tuple
 * (rate-limited), then maps the socket inode to a process with the /proc
 * index (a targeted rescan on a miss, rate-limited); when the index is
 * busy or misses, the socket goes to the watcher thread (sockwatch.c),
 * whose answer comes back through drain. Without netlink the socket table
 * is /proc/net, read at each sync, and there is no watcher. */
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/log.h"
#include "proc/src_sockdiag_int.h"

static fk__src_sockdiag *sd(fk__source *s)
{
    return (fk__src_sockdiag *)s;
}

static bool take_token(fk__sd_rate *b)
{
    int64_t now = fk__mono_ns();
    if (b->last_ns) {
        b->tokens += (double)(now - b->last_ns) * 1e-9 * b->per_sec;
        if (b->tokens > b->per_sec)
            b->tokens = b->per_sec; /* at most one second of burst */
    }
    b->last_ns = now;
    if (b->tokens < 1.0)
        return false;
    b->tokens -= 1.0;
    return true;
}

bool fk__sd_index_enter(fk__src_sockdiag *s)
{
    if (!s->watching || pthread_equal(pthread_self(), s->watcher)) {
        pthread_mutex_lock(&s->ilock);
        return true;
    }
    return pthread_mutex_trylock(&s->ilock) == 0;
}

void fk__sd_index_leave(fk__src_sockdiag *s)
{
    pthread_mutex_unlock(&s->ilock);
}

void fk__sd_learn(fk__src_sockdiag *s, const fk__tkey *k, uint32_t pid, uint32_t uid)
{
    if (s->n_events == s->cap_events) {
        size_t nc = s->cap_events ? s->cap_events * 2 : 256;
        fk__owner_event *n =
            nc > FK__SD_EVENTS_MAX ? NULL : fk__reallocarray(s->events, nc, sizeof *n);
        if (!n) {
            s->stats.events_lost++;
            return;
        }
        s->events = n;
        s->cap_events = nc;
    }
    fk__owner_event *e = &s->events[s->n_events++];
    memset(e, 0, sizeof *e);
    e->key = *k;
    e->owner.tgid = e->owner.pid = pid;
    e->owner.uid = uid;
    e->owner.time_ns = fk__real_ns();
    s->stats.events++;
    atomic_store(&s->n_ready, s->n_events);
}

/* With lock held: the socket table again (sock_diag, or /proc/net), and
 * the index refreshed. */
static int sync_locked(fk__src_sockdiag *s)
{
    fk__socktable fresh;
    memset(&fresh, 0, sizeof fresh);
    int n = -1;
    if (s->diag) {
        n = fk__sockdiag_dump_all(s->diag, fk__socktable_put_cb, &fresh);
        if (n < 0)
            FK__LOG_WARN("proc", "sock_diag dump failed (%s); reading /proc/net",
                         fk_error_last()->message);
    }
    if (n < 0)
        n = fk__procnet_read_all(s->proc_root, fk__socktable_put_cb, &fresh);
    if (n < 0) {
        fk__socktable_free(&fresh);
        return n;
    }
    fk__socktable_free(&s->socks);
    s->socks = fresh;
    s->stats.dumps++;
    s->last_sync_mono = fk__mono_ns();
    pthread_mutex_lock(&s->ilock); /* (no watcher in this mode, or not yet) */
    int rc = fk__pidindex_refresh(s->index);
    pthread_mutex_unlock(&s->ilock);
    return rc;
}

/* With lock held: the process holding a socket inode — what the watcher
 * learnt, the index, then a targeted rescan (rate-limited). */
static uint32_t owner_of(fk__src_sockdiag *s, uint64_t inode, uint32_t uid)
{
    uint64_t v;
    if (fk__u64map_get(&s->seen_inodes, inode, &v) && v)
        return (uint32_t)v;
    if (!fk__sd_index_enter(s))
        return 0; /* the watcher is scanning: the socket is handed over */
    uint32_t pid = fk__pidindex_lookup(s->index, inode);
    if (!pid) {
        if (take_token(&s->scan_rate)) {
            s->stats.index_scans++;
            /* With a watcher the cheap search (recent owners, new and
             * changed processes at most every 10 ms); the rest (youngest
             * processes, the sweep) is the watcher's job, off the packet
             * path. Without one the full search (its sweep over every
             * process is gated, once per 100 ms). */
            pid = s->watching ? fk__pidindex_find_cheap(s->index, inode, uid)
                              : fk__pidindex_find(s->index, inode, uid, true);
        } else {
            s->stats.rate_limited++;
        }
    }
    if (pid)
        fk__pidindex_proc(s->index, pid); /* its name, exe... while it lives */
    fk__sd_index_leave(s);
    return pid;
}

/* With lock held: ask the kernel for the one socket of k. */
static uint64_t exact_query(fk__src_sockdiag *s, const fk__tkey *k, int64_t ts_ns, uint32_t *uid)
{
    if (!take_token(&s->query_rate)) {
        s->stats.rate_limited++;
        return 0;
    }
    fk_addr l, r;
    fk__tkey_addr(&l, k->l);
    fk__tkey_addr(&r, k->r);
    fk__sock found;
    s->stats.queries++;
    int q = fk__sockdiag_query(s->diag, k->proto, &l, k->lp, &r, k->rp, &found);
    if (q == 1 && found.lport != k->lp) {
        /* Not the socket asked for (a listener is fine: same local port). */
        FK__LOG_DEBUG("proc", "exact query for port %u answered with port %u", k->lp, found.lport);
        q = 0;
    }
    if (q == 1 && found.inode) {
        s->stats.query_hits++;
        *uid = found.uid;
        fk__socktable_put(&s->socks, &found);
        return found.inode;
    }
    if (fk__log_enabled(FK_LOG_DEBUG)) {
        int64_t lag = fk__real_ns() - ts_ns;
        FK__LOG_DEBUG("proc", "exact query: %s (state %d), %.1f ms after the packet, port %u%s%s",
                      q == 1   ? "no inode"
                      : q == 0 ? "no socket"
                               : "failed",
                      q == 1 ? found.state : -1, (double)lag / 1e6, k->lp, q < 0 ? ": " : "",
                      q < 0 ? fk_error_last()->message : "");
    }
    return 0;
}

/* A burst of first packets would take and release the lock back to back
 * and starve the watcher waiting to publish a dump: let it in first. */
static void lock_for_lookup(fk__src_sockdiag *s)
{
    if (atomic_load_explicit(&s->watcher_waiting, memory_order_relaxed))
        sched_yield();
    pthread_mutex_lock(&s->lock);
}

static int sd_lookup(fk__source *src, const fk__tkey *k, unsigned flags, int64_t ts_ns,
                     fk__owner *out)
{
    fk__src_sockdiag *s = sd(src);
    lock_for_lookup(s);
    int64_t mono = fk__mono_ns();
    const fk__sockent *n;
    uint64_t inode = 0;
    uint32_t uid = UINT32_MAX;
    if (flags & FK__LOOKUP_LISTENER) {
        /* TCP: the SYN before accept. */
        if ((n = fk__socktable_get_wild(&s->socks, k)) != NULL) {
            inode = n->inode;
            uid = n->uid;
        }
    } else {
        if (flags & FK__LOOKUP_FIRST) {
            if (mono - s->last_new_conn_mono > 2000000000)
                fk__sd_watch_wake(s); /* traffic starts: dump now */
            s->last_new_conn_mono = mono;
        }
        if ((n = fk__socktable_get(&s->socks, k)) != NULL ||
            /* UDP: an unconnected socket from the table is as good as exact. */
            (k->proto == 17 && (n = fk__socktable_get_wild(&s->socks, k)) != NULL)) {
            inode = n->inode;
            uid = n->uid;
        }
        if (!inode && s->diag)
            inode = exact_query(s, k, ts_ns, &uid);
        /* A socket that sent this connection's first packet is gone
         * already: the capture lags behind connections this short. (Packets
         * to a port nobody listens on had no socket to miss.) */
        if (!inode && (flags & FK__LOOKUP_LOCAL_SENT) && (flags & FK__LOOKUP_FIRST))
            fk__sd_note_miss(s);
    }
    uint32_t pid = inode ? owner_of(s, inode, uid) : 0;
    int rc = pid ? FK__SRC_FOUND : FK__SRC_NONE;
    if (inode && !pid && s->watching) {
        fk__sd_pending p = {.key = *k, .inode = inode, .uid = uid, .since_mono = mono};
        if (fk__sd_pending_push(s, &p)) {
            s->n_pend_fresh++;
            s->stats.handed_over++;
            fk__sd_watch_wake(s);
            rc = FK__SRC_LATER;
        } else {
            s->stats.rate_limited++;
        }
    }
    if (inode && !pid && fk__log_enabled(FK_LOG_DEBUG) && fk__sd_index_enter(s)) {
        char t[2 * FK_ADDR_STRLEN + 32];
        fk__tkey_format(k, t, sizeof t);
        fk__pidindex_explain(s->index, inode);
        fk__sd_index_leave(s);
        FK__LOG_DEBUG("proc", "socket inode %llu (uid %u) of %s has no process yet",
                      (unsigned long long)inode, uid, t);
    }
    pthread_mutex_unlock(&s->lock);
    if (pid) {
        memset(out, 0, sizeof *out);
        out->tgid = out->pid = pid;
        out->uid = uid;
        out->time_ns = fk__real_ns();
    }
    return rc;
}

static size_t sd_drain(fk__source *src, fk__owner_event_cb cb, void *user)
{
    fk__src_sockdiag *s = sd(src);
    if (!atomic_load_explicit(&s->n_ready, memory_order_relaxed))
        return 0;
    pthread_mutex_lock(&s->lock);
    fk__owner_event *ev = s->events;
    size_t n = s->n_events;
    s->events = NULL;
    s->n_events = s->cap_events = 0;
    atomic_store(&s->n_ready, 0);
    pthread_mutex_unlock(&s->lock);
    for (size_t i = 0; i < n; i++)
        cb(&ev[i], user);
    fk__free(ev);
    return n;
}

static bool sd_has_socket(fk__source *src, const fk__tkey *k)
{
    fk__src_sockdiag *s = sd(src);
    lock_for_lookup(s);
    bool has = fk__socktable_get(&s->socks, k) != NULL;
    pthread_mutex_unlock(&s->lock);
    return has;
}

static int sd_describe(fk__source *src, uint32_t pid, fk__proc_desc *out)
{
    fk__src_sockdiag *s = sd(src);
    if (!fk__sd_index_enter(s))
        return FK__SRC_BUSY;
    const fk__proc *p = fk__pidindex_proc(s->index, pid);
    if (p && out) {
        memset(out, 0, sizeof *out);
        snprintf(out->name, sizeof out->name, "%s", p->name);
        out->uid = p->uid;
        out->user = fk__strdup(p->user);
        out->exe = fk__strdup(p->exe);
        out->cmdline = fk__strdup(p->cmdline);
        out->cgroup = fk__strdup(p->cgroup);
    }
    fk__sd_index_leave(s);
    return p ? FK__SRC_FOUND : FK__SRC_NONE;
}

static int sd_sync(fk__source *src)
{
    fk__src_sockdiag *s = sd(src);
    pthread_mutex_lock(&s->lock);
    int rc = sync_locked(s);
    pthread_mutex_unlock(&s->lock);
    return rc;
}

static int sd_tick(fk__source *src, int64_t now_ns)
{
    (void)now_ns;
    fk__src_sockdiag *s = sd(src);
    int rc = 0;
    pthread_mutex_lock(&s->lock);
    if (!s->watching && !s->cfg.passive &&
        fk__mono_ns() - s->last_sync_mono >= s->cfg.sync_interval_ns)
        rc = sync_locked(s);
    pthread_mutex_unlock(&s->lock);
    return rc;
}

static void sd_set_sync_interval(fk__source *src, int64_t ns)
{
    fk__src_sockdiag *s = sd(src);
    pthread_mutex_lock(&s->lock);
    s->cfg.sync_interval_ns = ns;
    pthread_mutex_unlock(&s->lock);
}

static void sd_get_stats(fk__source *src, fk__source_stats *out)
{
    fk__src_sockdiag *s = sd(src);
    pthread_mutex_lock(&s->lock);
    const fk__source_stats *x = &s->stats;
    out->queries += x->queries;
    out->query_hits += x->query_hits;
    out->dumps += x->dumps;
    out->index_scans += x->index_scans;
    out->rate_limited += x->rate_limited;
    out->handed_over += x->handed_over;
    out->expired += x->expired;
    out->events += x->events;
    out->events_lost += x->events_lost;
    fk__pidindex_stats ps = s->istats;
    if (!s->watching) {
        pthread_mutex_lock(&s->ilock);
        fk__pidindex_get_stats(s->index, &ps);
        pthread_mutex_unlock(&s->ilock);
    }
    out->fd_scans += ps.fd_scans;
    out->readlinks += ps.readlinks;
    pthread_mutex_unlock(&s->lock);
}

static void sd_destroy(fk__source *src)
{
    fk__src_sockdiag *s = sd(src);
    if (!s)
        return;
    fk__sd_watch_stop(s);
    fk__sockdiag_close(s->watch_diag);
    fk__sockdiag_close(s->diag);
    fk__u64map_free(&s->seen_inodes);
    fk__u64map_free(&s->w_known);
    fk__u64map_free(&s->w_tries);
    fk__free(s->pend);
    fk__free(s->events);
    fk__socktable_free(&s->socks);
    fk__pidindex_destroy(s->index);
    fk__free(s->proc_root);
    pthread_mutex_destroy(&s->ilock);
    pthread_mutex_destroy(&s->lock);
    fk__free(s);
}

static const fk__source_ops sockdiag_ops = {
    .name = "sockdiag",
    .lookup = sd_lookup,
    .drain = sd_drain,
    .has_socket = sd_has_socket,
    .describe = sd_describe,
    .sync = sd_sync,
    .tick = sd_tick,
    .get_fd = NULL,
    .set_sync_interval = sd_set_sync_interval,
    .get_stats = sd_get_stats,
    .destroy = sd_destroy,
};

int fk__src_sockdiag_open(fk__source **out, const fk__src_sockdiag_config *cfg)
{
    fk__src_sockdiag *s = FK__NEW(fk__src_sockdiag);
    if (!s)
        return fk__error(FK_ENOMEM, "attribution: out of memory");
    s->base.ops = &sockdiag_ops;
    s->cfg = *cfg;
    s->proc_root = fk__strdup(cfg->proc_root ? cfg->proc_root : "/proc");
    s->cfg.proc_root = s->proc_root;
    s->query_rate.per_sec = s->query_rate.tokens = cfg->queries_per_sec;
    s->scan_rate.per_sec = s->scan_rate.tokens = cfg->scans_per_sec;
    atomic_init(&s->n_ready, 0);
    atomic_init(&s->watcher_waiting, 0);
    pthread_mutex_init(&s->lock, NULL);
    pthread_mutex_init(&s->ilock, NULL);
    int rc = s->proc_root ? 0 : fk__error(FK_ENOMEM, "attribution: out of memory");
    if (!rc)
        rc = fk__pidindex_create(&s->index, s->proc_root);
    if (!rc && cfg->use_netlink) {
        /* Without sock_diag (no permission): /proc/net. */
        rc = fk__sockdiag_open(&s->diag);
        if (rc < 0 && rc != FK_ENOMEM)
            FK__LOG_WARN("proc", "no sock_diag (%s); reading /proc/net", fk_error_last()->message);
        rc = rc == FK_ENOMEM ? rc : 0;
    }
    if (!rc)
        rc = sd_sync(&s->base);
    if (!rc && s->diag && !cfg->passive) {
        fk__sd_watch_first_pass(s);
        rc = fk__sd_watch_start(s);
    }
    if (rc) {
        sd_destroy(&s->base);
        return rc;
    }
    *out = &s->base;
    return 0;
}
