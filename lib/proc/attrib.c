/* The attribution engine: lifecycle, its sources, the owner events they
 * push (owner history, late owners), housekeeping, statistics, rank. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/log.h"
#include "proc/attrib_int.h"
#include "proc/src_sockdiag.h"

void fk__attrib_config_default(fk__attrib_config *c)
{
    memset(c, 0, sizeof *c);
    c->proc_root = "/proc";
    c->history_seconds = 60;
    c->sync_interval_ns = 50000000;
    c->ewma_tau_sec = 5.0;
    c->queries_per_sec = 5000;
    c->scans_per_sec = 2000;
    c->conn_idle_ns = 120 * (int64_t)1000000000;
    c->use_netlink = 1;
}

void fk__proc_desc_clear(fk__proc_desc *d)
{
    fk__free(d->user);
    fk__free(d->exe);
    fk__free(d->cmdline);
    fk__free(d->cgroup);
    memset(d, 0, sizeof *d);
}

/* ---- process rows ------------------------------------------------------------ */

/* Name, exe, user... of a process row from the first source that knows
 * the process; stays pending while a source is busy. */
static void row_fill_info(fk__attrib *a, fk__row *r)
{
    bool busy = false;
    for (size_t i = 0; i < a->n_sources; i++) {
        fk__source *s = a->sources[i];
        if (!s->ops->describe)
            continue;
        fk__proc_desc d;
        memset(&d, 0, sizeof d);
        int rc = s->ops->describe(s, r->pid, &d);
        if (rc == FK__SRC_BUSY) {
            busy = true;
            continue;
        }
        if (rc != FK__SRC_FOUND)
            continue;
        snprintf(r->name, sizeof r->name, "%s", d.name);
        if (d.uid != UINT32_MAX)
            r->uid = d.uid;
        r->user = d.user;
        r->exe = d.exe;
        r->cmdline = d.cmdline;
        r->cgroup = d.cgroup;
        r->needs_info = false;
        return;
    }
    if (busy) {
        a->rows_need_info = true; /* asked again at the next drain or tick */
        return;
    }
    r->needs_info = false; /* gone: the owner's comm (if any) stays its name */
}

fk__row *fk__attrib_row_for(fk__attrib *a, const fk__owner *o)
{
    bool created;
    fk__row *r = fk__ledger_row_get(&a->ledger, o->tgid, 0, &created);
    if (!r || !created)
        return r;
    if (o->comm[0])
        snprintf(r->name, sizeof r->name, "%s", o->comm);
    r->uid = o->uid;
    row_fill_info(a, r);
    return r;
}

static void fill_pending_rows(fk__attrib *a)
{
    if (!a->rows_need_info)
        return;
    a->rows_need_info = false;
    for (size_t i = 0; i < a->ledger.n_rows; i++)
        if (a->ledger.row_list[i]->needs_info)
            row_fill_info(a, a->ledger.row_list[i]);
}

/* ---- owner history and events ------------------------------------------------ */

static uint64_t history_key(const fk__tkey *k)
{
    return fk__tkey_hash(k) | 1u;
}

uint32_t fk__attrib_history_get(const fk__attrib *a, const fk__tkey *k)
{
    uint64_t v;
    if (fk__u64map_get(&a->history, history_key(k), &v))
        return (uint32_t)v;
    if (k->proto != 17)
        return 0;
    fk__tkey w;
    fk__tkey_wild_remote(&w, k);
    if (fk__u64map_get(&a->history, history_key(&w), &v))
        return (uint32_t)v;
    memset(w.l, 0, 16);
    return fk__u64map_get(&a->history, history_key(&w), &v) ? (uint32_t)v : 0;
}

/* One owner a source learnt: into the history; its process gets a row
 * (name, exe... while the process lives); a connection of that socket
 * still without a process moves to it, bytes included. */
static void apply_event(const fk__owner_event *e, void *user)
{
    fk__attrib *a = user;
    if (!e->owner.tgid)
        return;
    int64_t sec = e->owner.time_ns / 1000000000;
    fk__u64map_put(&a->history, history_key(&e->key),
                   (uint64_t)e->owner.tgid | ((uint64_t)sec << 32));
    fk__row *r = fk__attrib_row_for(a, &e->owner);
    fk__conn *c = fk__ledger_conn_find(&a->ledger, &e->key);
    if (!r || !c || (c->owner && c->owner->pid))
        return;
    if (c->owner)
        a->stats.resolved_late++;
    fk__ledger_set_owner(&a->ledger, c, r);
    c->resolved = true;
    a->stats.fixed_up++;
}

void fk__attrib_drain(fk__attrib *a)
{
    for (size_t i = 0; i < a->n_sources; i++)
        a->sources[i]->ops->drain(a->sources[i], apply_event, a);
    fill_pending_rows(a);
}

static bool process_gone(uint32_t pid, void *user)
{
    fk__attrib *a = user;
    for (size_t i = 0; i < a->n_sources; i++) {
        fk__source *s = a->sources[i];
        if (s->ops->describe && s->ops->describe(s, pid, NULL) != FK__SRC_NONE)
            return false;
    }
    return true;
}

/* Drop history entries learnt more than a minute ago and rows that never counted a byte, own no
 * connection and whose process is gone. */
static void gc(fk__attrib *a, int64_t sec)
{
    a->last_gc_sec = sec;
    size_t pos = 0;
    uint64_t k, v;
    while (fk__u64map_next(&a->history, &pos, &k, &v))
        if (sec - (int64_t)(v >> 32) > 60)
            fk__u64map_del_current(&a->history, &pos);
    fk__ledger_gc_rows(&a->ledger, process_gone, a);
}

/* ---- lifecycle ------------------------------------------------------------------ */

int fk__attrib_add_source(fk__attrib *a, fk__source *src)
{
    pthread_mutex_lock(&a->lock);
    int rc = 0;
    if (a->n_sources == FK__ATTRIB_SOURCES_MAX)
        rc = fk__error(FK_ERANGE, "attribution: at most %d sources", FK__ATTRIB_SOURCES_MAX);
    else
        a->sources[a->n_sources++] = src;
    pthread_mutex_unlock(&a->lock);
    return rc;
}

int fk__attrib_create(fk__attrib **out, const fk__attrib_config *cfg)
{
    fk__attrib_config def;
    fk__attrib_config_default(&def);
    if (!cfg)
        cfg = &def;
    if (cfg->history_seconds < 1 || cfg->history_seconds > 86400)
        return fk__error(FK_ERANGE, "attribution: history_seconds = %u is out of range [1, 86400]",
                         cfg->history_seconds);
    fk__attrib *a = FK__NEW(fk__attrib);
    if (!a)
        return fk__error(FK_ENOMEM, "attribution: out of memory");
    a->cfg = *cfg;
    a->proc_root = fk__strdup(cfg->proc_root ? cfg->proc_root : "/proc");
    a->cfg.proc_root = a->proc_root;
    fk__ledger_init(&a->ledger, cfg->history_seconds, fk__ewma_alpha(cfg->ewma_tau_sec));
    a->last_gc_sec = fk__real_ns() / 1000000000;
    pthread_mutex_init(&a->lock, NULL);
    int rc = a->proc_root ? 0 : fk__error(FK_ENOMEM, "attribution: out of memory");
    if (!rc && cfg->use_netlink && (rc = fk__localaddr_open(&a->local)) < 0) {
        if (rc != FK_ENOMEM)
            FK__LOG_WARN("proc",
                         "no rtnetlink address cache (%s); direction from the socket "
                         "table only",
                         fk_error_last()->message);
        rc = rc == FK_ENOMEM ? rc : 0;
    }
    if (!rc && !cfg->no_default_source) {
        fk__src_sockdiag_config sc = {.proc_root = a->proc_root,
                                      .sync_interval_ns = cfg->sync_interval_ns,
                                      .queries_per_sec = cfg->queries_per_sec,
                                      .scans_per_sec = cfg->scans_per_sec,
                                      .use_netlink = cfg->use_netlink};
        fk__source *s = NULL;
        rc = fk__src_sockdiag_open(&s, &sc);
        if (!rc)
            a->sources[a->n_sources++] = s;
    }
    if (rc) {
        fk__attrib_destroy(a);
        return rc;
    }
    pthread_mutex_lock(&a->lock);
    fk__attrib_drain(a);
    pthread_mutex_unlock(&a->lock);
    *out = a;
    return 0;
}

void fk__attrib_destroy(fk__attrib *a)
{
    if (!a)
        return;
    fk__attrib_stats st;
    fk__attrib_get_stats(a, &st);
    FK__LOG_INFO(
        "proc",
        "attribution: packets %llu hits %llu misses %llu conns %llu late %llu queries %llu "
        "(found %llu) history %llu dumps %llu index scans %llu rate-limited %llu fd scans %llu "
        "readlinks %llu handed over %llu fixed up %llu expired %llu events %llu (lost %llu)",
        (unsigned long long)st.packets, (unsigned long long)st.hits, (unsigned long long)st.misses,
        (unsigned long long)st.conns, (unsigned long long)st.resolved_late,
        (unsigned long long)st.queries, (unsigned long long)st.query_hits,
        (unsigned long long)st.history_hits, (unsigned long long)st.dumps,
        (unsigned long long)st.index_scans, (unsigned long long)st.rate_limited,
        (unsigned long long)st.fd_scans, (unsigned long long)st.readlinks,
        (unsigned long long)st.handed_over, (unsigned long long)st.fixed_up,
        (unsigned long long)st.expired, (unsigned long long)st.events,
        (unsigned long long)st.events_lost);
    for (size_t i = 0; i < a->n_sources; i++)
        a->sources[i]->ops->destroy(a->sources[i]);
    fk__ledger_free(&a->ledger);
    fk__u64map_free(&a->history);
    fk__localaddr_close(a->local);
    fk__addrset_free(&a->extra_local);
    fk__free(a->proc_root);
    pthread_mutex_destroy(&a->lock);
    fk__free(a);
}

int fk__attrib_add_local(fk__attrib *a, const fk_addr *addr)
{
    pthread_mutex_lock(&a->lock);
    int rc = fk__addrset_add(&a->extra_local, addr);
    pthread_mutex_unlock(&a->lock);
    return rc;
}

int fk__attrib_sync(fk__attrib *a)
{
    pthread_mutex_lock(&a->lock);
    int rc = 0;
    for (size_t i = 0; i < a->n_sources && !rc; i++)
        if (a->sources[i]->ops->sync)
            rc = a->sources[i]->ops->sync(a->sources[i]);
    fk__attrib_drain(a);
    pthread_mutex_unlock(&a->lock);
    return rc;
}

void fk__attrib_set_sync_interval(fk__attrib *a, int64_t ns)
{
    pthread_mutex_lock(&a->lock);
    a->cfg.sync_interval_ns = ns;
    for (size_t i = 0; i < a->n_sources; i++)
        if (a->sources[i]->ops->set_sync_interval)
            a->sources[i]->ops->set_sync_interval(a->sources[i], ns);
    pthread_mutex_unlock(&a->lock);
}

/* ---- housekeeping ------------------------------------------------------------ */

int fk__attrib_tick(fk__attrib *a, int64_t now_ns)
{
    pthread_mutex_lock(&a->lock);
    if (now_ns > a->now_ns)
        a->now_ns = now_ns;
    int rc = 0;
    if (a->local && fk__localaddr_poll(a->local) < 0)
        FK__LOG_WARN("proc", "%s", fk_error_last()->message);
    for (size_t i = 0; i < a->n_sources; i++) {
        fk__source *s = a->sources[i];
        int r = s->ops->tick ? s->ops->tick(s, now_ns) : 0;
        if (r < 0 && !rc)
            rc = r;
    }
    fk__attrib_drain(a);
    if (a->now_ns - a->last_expire_ns >= 1000000000) {
        fk__ledger_expire(&a->ledger, a->now_ns, a->cfg.conn_idle_ns);
        a->last_expire_ns = a->now_ns;
    }
    int64_t sec = fk__real_ns() / 1000000000;
    if (sec - a->last_gc_sec >= 10)
        gc(a, sec);
    pthread_mutex_unlock(&a->lock);
    return rc;
}

void fk__attrib_gc(fk__attrib *a, int64_t real_sec)
{
    pthread_mutex_lock(&a->lock);
    gc(a, real_sec);
    pthread_mutex_unlock(&a->lock);
}

int fk__attrib_check(fk__attrib *a)
{
    pthread_mutex_lock(&a->lock);
    int rc = fk__ledger_check(&a->ledger);
    pthread_mutex_unlock(&a->lock);
    return rc;
}

void fk__attrib_get_stats(fk__attrib *a, fk__attrib_stats *out)
{
    pthread_mutex_lock(&a->lock);
    *out = a->stats;
    fk__source_stats ss;
    memset(&ss, 0, sizeof ss);
    for (size_t i = 0; i < a->n_sources; i++)
        a->sources[i]->ops->get_stats(a->sources[i], &ss);
    pthread_mutex_unlock(&a->lock);
    out->queries = ss.queries;
    out->query_hits = ss.query_hits;
    out->dumps = ss.dumps;
    out->index_scans = ss.index_scans;
    out->rate_limited = ss.rate_limited;
    out->fd_scans = ss.fd_scans;
    out->readlinks = ss.readlinks;
    out->handed_over = ss.handed_over;
    out->expired = ss.expired;
    out->events = ss.events;
    out->events_lost = ss.events_lost;
    out->owners_evicted = ss.owners_evicted;
}

int fk__attrib_rank(fk__attrib *a, size_t limit, uint32_t recent_sec, uint32_t history,
                    fk_rank_sort key, fk_rank_snapshot **out)
{
    pthread_mutex_lock(&a->lock);
    fk__attrib_drain(a);
    fk__rank_query q = {.limit = limit, .recent_sec = recent_sec, .history = history, .key = key};
    int rc = fk__ledger_rank(&a->ledger, a->now_ns, &q, out);
    if (rc == 0) {
        (*out)->attributed = a->stats.hits;
        (*out)->unattributed = a->stats.misses;
    }
    pthread_mutex_unlock(&a->lock);
    return rc;
}
