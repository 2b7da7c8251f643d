#include "proc/attrib.h"

#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <flowkit/session.h>

#include "core/alloc.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/log.h"
#include "proc/account.h"
#include "proc/localaddr.h"
#include "proc/pidindex.h"
#include "proc/sock.h"

/* ---- keys ------------------------------------------------------------------ */

/* A connection or socket key: addresses as 16 bytes (IPv4 v4-mapped, any
 * all-zero address as 16 zeros), ports host order. */
typedef struct tkey {
    uint8_t l[16];
    uint8_t r[16];
    uint16_t lp, rp;
    uint8_t proto;
    uint8_t pad[3];
} tkey;

static void norm_addr(uint8_t out[16], const fk_addr *a)
{
    memset(out, 0, 16);
    if (a->family == 4) {
        if (!(a->bytes[0] | a->bytes[1] | a->bytes[2] | a->bytes[3]))
            return;
        out[10] = out[11] = 0xff;
        memcpy(out + 12, a->bytes, 4);
    } else if (a->family == 6) {
        static const uint8_t mapped_any[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (memcmp(a->bytes, mapped_any, 16) == 0)
            return; /* ::ffff:0.0.0.0 is the v4 wildcard */
        memcpy(out, a->bytes, 16);
    }
}

static void make_key(tkey *k, uint8_t proto, const fk_addr *l, uint16_t lp, const fk_addr *r,
                     uint16_t rp)
{
    memset(k, 0, sizeof *k);
    k->proto = proto;
    norm_addr(k->l, l);
    norm_addr(k->r, r);
    k->lp = lp;
    k->rp = rp;
}

static uint64_t key_hash(const tkey *k)
{
    const uint8_t *p = (const uint8_t *)k;
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < sizeof *k; i++) {
        h ^= p[i];
        h *= 1099511628211ull;
    }
    return h ^ (h >> 29);
}

static bool key_eq(const tkey *a, const tkey *b)
{
    return memcmp(a, b, sizeof *a) == 0;
}

static void key_addr(fk_addr *out, const uint8_t in[16])
{
    static const uint8_t prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    memset(out, 0, sizeof *out);
    if (memcmp(in, prefix, 12) == 0) {
        out->family = 4;
        memcpy(out->bytes, in + 12, 4);
    } else {
        out->family = 6;
        memcpy(out->bytes, in, 16);
    }
}

/* ---- socket table (rebuilt at each sync) --------------------------------------- */

typedef struct snode {
    tkey key;
    uint64_t inode;
    uint32_t uid;
    uint32_t next; /* index + 1 into nodes, 0 = end */
} snode;

typedef struct stable {
    snode *nodes;
    size_t count, cap;
    uint32_t *buckets; /* index + 1 */
    size_t nbuckets;   /* power of two */
} stable;

static void stable_free(stable *t)
{
    fk__free(t->nodes);
    fk__free(t->buckets);
    memset(t, 0, sizeof *t);
}

static int stable_rehash(stable *t, size_t nb)
{
    uint32_t *b = fk__calloc(nb, sizeof *b);
    if (!b)
        return fk__error(FK_ENOMEM, "attribution: out of memory for the socket table");
    fk__free(t->buckets);
    t->buckets = b;
    t->nbuckets = nb;
    for (size_t i = 0; i < t->count; i++) {
        size_t s = key_hash(&t->nodes[i].key) & (nb - 1);
        t->nodes[i].next = b[s];
        b[s] = (uint32_t)(i + 1);
    }
    return 0;
}

static const snode *stable_get(const stable *t, const tkey *k)
{
    if (!t->nbuckets)
        return NULL;
    for (uint32_t i = t->buckets[key_hash(k) & (t->nbuckets - 1)]; i; i = t->nodes[i - 1].next)
        if (key_eq(&t->nodes[i - 1].key, k))
            return &t->nodes[i - 1];
    return NULL;
}

static int stable_put(stable *t, const fk__sock *s)
{
    if (!s->inode)
        return 0; /* time-wait and orphans have no owner */
    tkey k;
    make_key(&k, s->proto, &s->local, s->lport, &s->remote, s->rport);
    snode *existing = (snode *)stable_get(t, &k);
    if (existing) {
        existing->inode = s->inode;
        existing->uid = s->uid;
        return 0;
    }
    if (t->count == t->cap) {
        size_t nc = t->cap ? t->cap * 2 : 256;
        snode *n = fk__reallocarray(t->nodes, nc, sizeof *n);
        if (!n)
            return fk__error(FK_ENOMEM, "attribution: out of memory for the socket table");
        t->nodes = n;
        t->cap = nc;
    }
    if (t->count + 1 > t->nbuckets) {
        int rc = stable_rehash(t, t->nbuckets ? t->nbuckets * 2 : 256);
        if (rc)
            return rc;
    }
    snode *n = &t->nodes[t->count++];
    n->key = k;
    n->inode = s->inode;
    n->uid = s->uid;
    size_t b = key_hash(&k) & (t->nbuckets - 1);
    n->next = t->buckets[b];
    t->buckets[b] = (uint32_t)t->count;
    return 0;
}

static int stable_put_cb(void *ctx, const fk__sock *s)
{
    return stable_put(ctx, s) < 0;
}

/* Listener / unconnected match: (l, lp, *, 0), then (any, lp, *, 0). */
static const snode *stable_get_wild(const stable *t, const tkey *k)
{
    tkey w = *k;
    memset(w.r, 0, 16);
    w.rp = 0;
    const snode *n = stable_get(t, &w);
    if (n)
        return n;
    memset(w.l, 0, 16);
    return stable_get(t, &w);
}

/* ---- rows and connections ------------------------------------------------------ */

/* Bytes of a row through one device (interface index). */
typedef struct rowdev {
    uint32_t ifindex;
    uint64_t sent, recv;
} rowdev;

typedef struct row {
    uint32_t pid;
    uint32_t uid;
    uint8_t proto; /* unknown rows */
    char name[FK__PROC_NAME_MAX];
    char *user, *exe, *cmdline, *cgroup;
    uint64_t sent_bytes, recv_bytes, sent_packets, recv_packets;
    fk__ring ring;
    bool needs_info; /* created while the index was busy: the watcher fills it */
    rowdev *devs;
    size_t ndevs, capdevs;
    long out_index; /* scratch for rank */
} row;

typedef struct conn {
    tkey key;
    struct conn *next;
    row *owner;
    bool resolved;
    uint32_t tries;
    int64_t retry_ns;
    uint64_t sent_bytes, recv_bytes, sent_packets, recv_packets;
    int64_t first_ns, last_ns;
    uint32_t ifindex; /* device of its first packet; its bytes count there */
} conn;

typedef struct bucket_rate {
    double tokens;
    double per_sec;
    int64_t last_ns;
} bucket_rate;

/* Later IP fragments carry no ports: they take those of their first
 * fragment (direct-mapped by addresses and IP id). */
#define FRAG_SLOTS 1024
typedef struct frag_slot {
    uint8_t src[16], dst[16];
    uint32_t id;
    uint16_t sport, dport;
    uint8_t proto, used;
} frag_slot;

/* Interface names, learnt when an index is first seen (an interface that
 * goes away keeps its name in the rank). */
typedef struct ifname {
    uint32_t ifindex;
    char name[FK_RANK_DEV_NAME_MAX];
} ifname;

/* A socket the packet path found (inode) but could not map to a process
 * without scanning /proc: the watcher does that, then fixes the
 * connection up. */
typedef struct pending {
    tkey key;
    uint64_t inode;
    uint32_t uid;
    uint32_t pid; /* the watcher's answer */
    int64_t since_mono;
} pending;
#define PENDING_MAX 8192
#define PENDING_RETRY_NS INT64_C(2000000000)

struct fk__attrib {
    pthread_mutex_t lock;
    /* The pid index has its own lock: the watcher scans /proc holding only
     * ilock, so the packet path never waits for a scan (it try-locks and
     * hands the socket to the watcher when the index is busy). Order:
     * lock, then ilock. */
    pthread_mutex_t ilock;
    pending *pend; /* under lock */
    size_t n_pend, cap_pend, n_pend_fresh;
    fk__u64map w_known;        /* watcher only: inode → pid of sockets it mapped */
    fk__u64map w_tries;        /* watcher only: inode → finds that failed */
    fk__pidindex_stats istats; /* the index's counters, copied by the watcher */
    int64_t last_dump_mono;
    ifname *ifnames;
    size_t n_ifnames, cap_ifnames;
    frag_slot frags[FRAG_SLOTS];
    fk__attrib_config cfg;
    char *proc_root;
    fk__sockdiag *diag;
    fk__localaddr *local;
    fk__addrset extra_local;
    fk__pidindex *index;
    stable socks;
    fk__u64map rows; /* key → row* (pid, or proto << 32 for unknown rows) */
    row **row_list;
    size_t n_rows, cap_rows;
    conn **conns;
    size_t nconn_buckets, n_conns;
    int64_t now_ns;
    int64_t last_sync_mono;
    int64_t last_expire_ns;
    bucket_rate query_rate, scan_rate;
    double alpha;
    fk__attrib_stats stats;
    /* Socket history: tuple hash → pid | (last seen, s) << 32, filled by the
     * watcher so that a packet processed after its socket closed (capture
     * lag, a connection of a few ms) still finds the owner. */
    fk__u64map history;
    fk__u64map seen_inodes; /* inode → pid the watcher found (published to the packet path) */
    int64_t last_history_gc;
    /* Watcher thread (sock_diag mode): dumps the sockets every sync
     * interval and resolves new ones off the packet path. */
    fk__sockdiag *watch_diag;
    pthread_t watcher;
    bool watching;
    bool stop;
    pthread_cond_t wake;
    int64_t last_refresh_mono;
    int64_t last_new_conn_mono; /* traffic after a pause: dump at once */
    int64_t last_miss_mono;     /* a connection's socket was gone: dump fast */
    int64_t last_watch_sweep;
    atomic_int watcher_waiting;
};

static bool take_token(bucket_rate *b)
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

/* Enter the pid index: blocking for the watcher thread and without a
 * watcher; the packet path only try-locks (false: the watcher is scanning). */
static bool index_enter(fk__attrib *a)
{
    if (!a->watching || pthread_equal(pthread_self(), a->watcher)) {
        pthread_mutex_lock(&a->ilock);
        return true;
    }
    return pthread_mutex_trylock(&a->ilock) == 0;
}

static void index_leave(fk__attrib *a)
{
    pthread_mutex_unlock(&a->ilock);
}

/* Name, exe, user... of a process row from the index (index entered). */
static void row_fill_info(fk__attrib *a, row *r)
{
    const fk__proc *p = fk__pidindex_proc(a->index, r->pid);
    r->needs_info = false;
    if (!p)
        return;
    snprintf(r->name, sizeof r->name, "%s", p->name);
    r->uid = p->uid;
    r->user = fk__strdup(p->user);
    r->exe = fk__strdup(p->exe);
    r->cmdline = fk__strdup(p->cmdline);
    r->cgroup = fk__strdup(p->cgroup);
}

static void row_free(row *r)
{
    fk__free(r->user);
    fk__free(r->exe);
    fk__free(r->cmdline);
    fk__free(r->cgroup);
    fk__ring_free(&r->ring);
    fk__free(r->devs);
    fk__free(r);
}

/* Count bytes of a row on a device (0 = unknown device: not counted). */
static void row_dev_add(row *r, uint32_t ifindex, int64_t sent, int64_t recv)
{
    if (!ifindex)
        return;
    size_t i = 0;
    while (i < r->ndevs && r->devs[i].ifindex != ifindex)
        i++;
    if (i == r->ndevs) {
        if (r->ndevs == r->capdevs) {
            size_t nc = r->capdevs ? r->capdevs * 2 : 2;
            rowdev *n = fk__reallocarray(r->devs, nc, sizeof *n);
            if (!n)
                return; /* the totals stay right; only the device split loses these */
            r->devs = n;
            r->capdevs = nc;
        }
        r->devs[r->ndevs++] = (rowdev){.ifindex = ifindex};
    }
    r->devs[i].sent += (uint64_t)sent;
    r->devs[i].recv += (uint64_t)recv;
}

/* With the lock held: remember the name of an interface index. */
static void learn_ifname(fk__attrib *a, uint32_t ifindex)
{
    if (!ifindex)
        return;
    for (size_t i = 0; i < a->n_ifnames; i++)
        if (a->ifnames[i].ifindex == ifindex)
            return;
    if (a->n_ifnames == a->cap_ifnames) {
        size_t nc = a->cap_ifnames ? a->cap_ifnames * 2 : 8;
        ifname *n = fk__reallocarray(a->ifnames, nc, sizeof *n);
        if (!n)
            return;
        a->ifnames = n;
        a->cap_ifnames = nc;
    }
    ifname *e = &a->ifnames[a->n_ifnames++];
    memset(e, 0, sizeof *e);
    e->ifindex = ifindex;
    char buf[IF_NAMESIZE > FK_RANK_DEV_NAME_MAX ? IF_NAMESIZE : FK_RANK_DEV_NAME_MAX] = "";
    if (if_indextoname(ifindex, buf))
        snprintf(e->name, sizeof e->name, "%s", buf);
}

static const char *ifname_of(const fk__attrib *a, uint32_t ifindex)
{
    for (size_t i = 0; ifindex && i < a->n_ifnames; i++)
        if (a->ifnames[i].ifindex == ifindex)
            return a->ifnames[i].name;
    return "";
}

/* The row of a pid (its info loaded from the index, which the caller may
 * already hold) or of an unknown protocol (pid 0). */
static row *row_get_(fk__attrib *a, uint32_t pid, uint8_t proto, bool index_held)
{
    uint64_t key = pid ? pid : ((uint64_t)proto << 32), v;
    if (fk__u64map_get(&a->rows, key, &v))
        return (row *)(uintptr_t)v;
    row *r = FK__NEW(row);
    if (!r)
        return NULL;
    if (fk__ring_init(&r->ring, a->cfg.history_seconds, a->alpha) < 0) {
        fk__free(r);
        return NULL;
    }
    r->pid = pid;
    r->uid = UINT32_MAX;
    if (pid) {
        if (index_held) {
            row_fill_info(a, r);
        } else if (index_enter(a)) {
            row_fill_info(a, r);
            index_leave(a);
        } else {
            r->needs_info = true; /* the watcher fills it in */
        }
    } else {
        r->proto = proto;
        snprintf(r->name, sizeof r->name, "unknown %s", proto == 6 ? "TCP" : "UDP");
    }
    if (a->n_rows == a->cap_rows) {
        size_t nc = a->cap_rows ? a->cap_rows * 2 : 32;
        row **n = fk__reallocarray(a->row_list, nc, sizeof *n);
        if (!n) {
            row_free(r);
            return NULL;
        }
        a->row_list = n;
        a->cap_rows = nc;
    }
    if (fk__u64map_put(&a->rows, key, (uint64_t)(uintptr_t)r) < 0) {
        row_free(r);
        return NULL;
    }
    a->row_list[a->n_rows++] = r;
    return r;
}

static row *row_get(fk__attrib *a, uint32_t pid, uint8_t proto)
{
    return row_get_(a, pid, proto, false);
}

static conn *conn_find(fk__attrib *a, const tkey *k)
{
    if (!a->nconn_buckets)
        return NULL;
    for (conn *c = a->conns[key_hash(k) & (a->nconn_buckets - 1)]; c; c = c->next)
        if (key_eq(&c->key, k))
            return c;
    return NULL;
}

static int conn_grow(fk__attrib *a)
{
    size_t nb = a->nconn_buckets ? a->nconn_buckets * 2 : 1024;
    conn **b = fk__calloc(nb, sizeof *b);
    if (!b)
        return fk__error(FK_ENOMEM, "attribution: out of memory for connections");
    for (size_t i = 0; i < a->nconn_buckets; i++) {
        conn *c = a->conns[i];
        while (c) {
            conn *next = c->next;
            size_t s = key_hash(&c->key) & (nb - 1);
            c->next = b[s];
            b[s] = c;
            c = next;
        }
    }
    fk__free(a->conns);
    a->conns = b;
    a->nconn_buckets = nb;
    return 0;
}

static conn *conn_new(fk__attrib *a, const tkey *k)
{
    if (a->n_conns + 1 > a->nconn_buckets && conn_grow(a) < 0)
        return NULL;
    conn *c = FK__NEW(conn);
    if (!c)
        return NULL;
    c->key = *k;
    size_t s = key_hash(k) & (a->nconn_buckets - 1);
    c->next = a->conns[s];
    a->conns[s] = c;
    a->n_conns++;
    a->stats.conns++;
    if (a->watching && fk__mono_ns() - a->last_new_conn_mono > 2000000000) {
        a->last_new_conn_mono = fk__mono_ns();
        pthread_cond_signal(&a->wake); /* traffic starts: dump now */
    } else {
        a->last_new_conn_mono = fk__mono_ns();
    }
    return c;
}

/* ---- socket history and the watcher ------------------------------------------------ */

static uint64_t history_key(const tkey *k)
{
    return key_hash(k) | 1u;
}

static void history_put(fk__attrib *a, const tkey *k, uint32_t pid, int64_t sec)
{
    fk__u64map_put(&a->history, history_key(k), (uint64_t)pid | ((uint64_t)sec << 32));
}

static uint32_t history_get(const fk__attrib *a, const tkey *k)
{
    uint64_t v;
    return fk__u64map_get(&a->history, history_key(k), &v) ? (uint32_t)v : 0;
}

/* Drop entries not seen for a minute (rebuild: the map shifts on delete). */
static void history_gc(fk__attrib *a, int64_t sec)
{
    if (sec - a->last_history_gc < 10)
        return;
    a->last_history_gc = sec;
    fk__u64map fresh = {0};
    for (size_t i = 0; i < a->history.cap; i++) {
        if (a->history.keys[i] && sec - (int64_t)(a->history.vals[i] >> 32) <= 60 &&
            fk__u64map_put(&fresh, a->history.keys[i], a->history.vals[i]) < 0) {
            fk__u64map_free(&fresh);
            return;
        }
    }
    fk__u64map_free(&a->history);
    a->history = fresh;
    /* Rows that never counted a byte and whose process is gone. */
    if (index_enter(a)) {
        for (size_t i = 0; i < a->n_rows;) {
            row *r = a->row_list[i];
            if (r->pid && !r->sent_packets && !r->recv_packets &&
                !fk__pidindex_proc(a->index, r->pid)) {
                fk__u64map_del(&a->rows, r->pid);
                a->row_list[i] = a->row_list[--a->n_rows];
                row_free(r);
                continue;
            }
            i++;
        }
        index_leave(a);
    }
    /* The inode sets only need what the current dump still shows. */
    fk__u64map_clear(&a->seen_inodes);
    fk__u64map_clear(&a->w_known);
    fk__u64map_clear(&a->w_tries);
}

/* Watcher, index entered (ilock, not lock): the owners of a batch of
 * sockets (pending entries; pid 0 = not known yet). Batched so that the
 * cost does not grow with the number of sockets: lookups, then a targeted
 * search (recent owners, new and changed processes, the youngest ones;
 * the sweep over every process at most every `sweep_gap_ns`) for the
 * first unknown socket, lookups again (a search rescans what changed, so
 * the sockets of the same process hit), at most 3 searches. */
static void resolve_batch(fk__attrib *a, pending *v, size_t n, int64_t mono, int64_t sweep_gap_ns,
                          uint64_t *scans)
{
    for (int round = 0; round <= 3; round++) {
        size_t pick = n;
        for (size_t i = 0; i < n; i++) {
            if (!v[i].pid)
                v[i].pid = fk__pidindex_lookup(a->index, v[i].inode);
            if (!v[i].pid && pick == n)
                pick = i;
        }
        if (pick == n || round == 3)
            break;
        bool sweep = mono - a->last_watch_sweep >= sweep_gap_ns;
        if (sweep)
            a->last_watch_sweep = mono;
        (*scans)++;
        v[pick].pid = fk__pidindex_find_watch(a->index, v[pick].inode, v[pick].uid, sweep);
        if (!v[pick].pid)
            v[pick].pid = UINT32_MAX; /* not found: not searched again in this batch */
    }
    for (size_t i = 0; i < n; i++) {
        if (v[i].pid == UINT32_MAX)
            v[i].pid = 0;
        if (v[i].pid)
            fk__u64map_put(&a->w_known, v[i].inode, v[i].pid);
    }
}

/* Watcher, index entered: owners of the sockets of a fresh dump that it
 * has not mapped yet, into w_known (each tried at 3 dumps at most; the
 * sweep at most every 5 s). */
static void scan_dump(fk__attrib *a, const stable *t, int64_t mono, uint64_t *scans)
{
    pending *v = NULL;
    size_t n = 0;
    if (t->count)
        v = fk__calloc(t->count, sizeof *v);
    if (!v)
        return;
    for (size_t i = 0; i < t->count; i++) {
        const snode *s = &t->nodes[i];
        uint64_t known, tries = 0;
        if (fk__u64map_get(&a->w_known, s->inode, &known))
            continue;
        fk__u64map_get(&a->w_tries, s->inode, &tries);
        if (tries >= 3)
            continue;
        v[n++] = (pending){.key = s->key, .inode = s->inode, .uid = s->uid, .since_mono = 0};
    }
    resolve_batch(a, v, n, mono, INT64_C(5000000000), scans);
    for (size_t i = 0; i < n; i++) {
        if (!v[i].pid) {
            uint64_t tries = 0;
            fk__u64map_get(&a->w_tries, v[i].inode, &tries);
            fk__u64map_put(&a->w_tries, v[i].inode, tries + 1);
        }
        if (fk__log_enabled(FK_LOG_DEBUG)) {
            char l[FK_ADDR_STRLEN], rr[FK_ADDR_STRLEN];
            fk_addr la, ra;
            key_addr(&la, v[i].key.l);
            key_addr(&ra, v[i].key.r);
            fk_addr_format(&la, l, sizeof l);
            fk_addr_format(&ra, rr, sizeof rr);
            FK__LOG_DEBUG("proc", "watcher: inode %llu %s:%u-%s:%u is pid %u",
                          (unsigned long long)v[i].inode, l, v[i].key.lp, rr, v[i].key.rp,
                          v[i].pid);
        }
    }
    fk__free(v);
}

/* With the lock held: what the watcher learnt goes to the packet path (the
 * owners of the sockets of the dump, by inode and in the tuple history). */
static void publish_dump(fk__attrib *a, const stable *t, int64_t sec)
{
    for (size_t i = 0; i < t->count; i++) {
        const snode *n = &t->nodes[i];
        uint64_t v;
        if (!fk__u64map_get(&a->w_known, n->inode, &v) || !v)
            continue;
        uint64_t old;
        if (!fk__u64map_get(&a->seen_inodes, n->inode, &old)) {
            fk__u64map_put(&a->seen_inodes, n->inode, v);
            row_get(a, (uint32_t)v, 0); /* name, exe, user... while the process lives */
        }
        history_put(a, &n->key, (uint32_t)v, sec);
    }
}

static void move_counts(conn *c, row *from, row *to);

/* With the lock held: hand a socket over to the watcher (bounded). */
static bool pending_push(fk__attrib *a, const pending *p)
{
    if (a->n_pend == a->cap_pend) {
        size_t nc = a->cap_pend ? a->cap_pend * 2 : 64;
        if (nc > PENDING_MAX)
            return false;
        pending *n = fk__reallocarray(a->pend, nc, sizeof *n);
        if (!n)
            return false;
        a->pend = n;
        a->cap_pend = nc;
    }
    a->pend[a->n_pend++] = *p;
    return true;
}

/* With the lock held: the connections of the handed-over sockets whose
 * owner is now known move to it; the others are handed over again (for
 * PENDING_RETRY_NS) and retried at the next dump. */
static void publish_pending(fk__attrib *a, const pending *todo, size_t n, int64_t mono)
{
    for (size_t i = 0; i < n; i++) {
        const pending *p = &todo[i];
        if (!p->pid) {
            if (mono - p->since_mono >= PENDING_RETRY_NS || !pending_push(a, p))
                a->stats.expired++;
            continue;
        }
        uint64_t old;
        if (!fk__u64map_get(&a->seen_inodes, p->inode, &old))
            fk__u64map_put(&a->seen_inodes, p->inode, p->pid);
        conn *c = conn_find(a, &p->key);
        if (!c || (c->owner && c->owner->pid))
            continue;
        row *r = row_get(a, p->pid, 0);
        if (!r)
            continue;
        if (c->owner) {
            move_counts(c, c->owner, r);
            a->stats.resolved_late++;
        }
        c->owner = r;
        c->resolved = true;
        a->stats.fixed_up++;
    }
}

/* The dump cadence. A dump is what attributes a connection whose socket is
 * gone by the time its first packet is processed (a connection shorter
 * than the capture's lag): its owner is then found in the history of
 * earlier dumps. Every other connection is found by the exact query, so
 * the dumps (each walks the kernel's whole socket hash: about 0.3 ms here)
 * run fast only for MISS_HOLD_NS after such a miss, ten times slower (at
 * most 1 s) otherwise. */
#define MISS_HOLD_NS INT64_C(5000000000)
static int64_t watch_interval(const fk__attrib *a)
{
    int64_t interval = a->cfg.sync_interval_ns;
    if (fk__mono_ns() - a->last_miss_mono >= MISS_HOLD_NS) {
        interval *= 10;
        if (interval < a->cfg.sync_interval_ns || interval > 1000000000)
            interval = a->cfg.sync_interval_ns > 1000000000 ? a->cfg.sync_interval_ns : 1000000000;
    }
    return interval;
}

/* With the lock held: a connection's socket was not found. The first miss
 * after a quiet spell wakes the watcher for a dump now. */
static void note_miss(fk__attrib *a)
{
    int64_t mono = fk__mono_ns();
    if (a->watching && mono - a->last_miss_mono >= MISS_HOLD_NS)
        pthread_cond_signal(&a->wake);
    a->last_miss_mono = mono;
}

static void *watch_main(void *arg)
{
    fk__attrib *a = arg;
    pthread_mutex_lock(&a->lock);
    while (!a->stop) {
        /* Sleep until the next dump, or until the packet path hands over
         * sockets. */
        if (!a->n_pend_fresh) {
            int64_t due = a->last_dump_mono + watch_interval(a) - fk__mono_ns();
            if (due > 0) {
                struct timespec until;
                clock_gettime(CLOCK_MONOTONIC, &until);
                int64_t ns = (int64_t)until.tv_nsec + due;
                until.tv_sec += (time_t)(ns / 1000000000);
                until.tv_nsec = (long)(ns % 1000000000);
                pthread_cond_timedwait(&a->wake, &a->lock, &until);
            }
        }
        if (a->stop)
            break;
        int64_t mono = fk__mono_ns();
        bool dump = mono - a->last_dump_mono >= watch_interval(a);
        /* Fresh hand-overs now; the retried ones only with a dump. */
        pending *todo = NULL;
        size_t ntodo = 0;
        if (a->n_pend && (dump || a->n_pend_fresh)) {
            todo = a->pend;
            ntodo = a->n_pend;
            a->pend = NULL;
            a->n_pend = a->cap_pend = 0;
        }
        a->n_pend_fresh = 0;
        pthread_mutex_unlock(&a->lock);

        /* The slow part without the lock: the dump, and /proc under ilock. */
        stable fresh;
        memset(&fresh, 0, sizeof fresh);
        int n = dump ? fk__sockdiag_dump_all(a->watch_diag, stable_put_cb, &fresh) : -1;
        uint64_t scans = 0;
        pthread_mutex_lock(&a->ilock);
        if (dump && mono - a->last_refresh_mono >= 1000000000) {
            fk__pidindex_refresh(a->index);
            a->last_refresh_mono = mono;
        }
        resolve_batch(a, todo, ntodo, mono, 100000000, &scans);
        if (n >= 0)
            scan_dump(a, &fresh, mono, &scans);
        fk__pidindex_stats ist;
        fk__pidindex_get_stats(a->index, &ist);
        pthread_mutex_unlock(&a->ilock);

        atomic_store(&a->watcher_waiting, 1);
        pthread_mutex_lock(&a->lock);
        atomic_store(&a->watcher_waiting, 0);
        a->istats = ist;
        a->stats.index_scans += scans;
        if (n >= 0) {
            stable_free(&a->socks);
            a->socks = fresh;
            a->stats.dumps++;
            a->last_dump_mono = mono;
        } else {
            stable_free(&fresh);
            if (dump)
                a->last_dump_mono = mono; /* failed: try again next interval */
        }
        struct timespec rt;
        clock_gettime(CLOCK_REALTIME, &rt);
        if (n >= 0)
            publish_dump(a, &a->socks, rt.tv_sec);
        publish_pending(a, todo, ntodo, mono);
        fk__free(todo);
        /* Rows created while the index was busy. */
        for (size_t i = 0; i < a->n_rows; i++) {
            if (a->row_list[i]->needs_info) {
                pthread_mutex_lock(&a->ilock);
                row_fill_info(a, a->row_list[i]);
                pthread_mutex_unlock(&a->ilock);
            }
        }
        history_gc(a, rt.tv_sec);
    }
    pthread_mutex_unlock(&a->lock);
    return NULL;
}

static int start_watcher(fk__attrib *a)
{
    int rc = fk__sockdiag_open(&a->watch_diag);
    if (rc < 0)
        return rc;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&a->wake, &ca);
    pthread_condattr_destroy(&ca);
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    /* Under the lock: the watcher starts by taking it, so it sees its own
     * id and `watching` set (index_enter tells the threads apart). */
    pthread_mutex_lock(&a->lock);
    int err = pthread_create(&a->watcher, NULL, watch_main, a);
    a->watching = err == 0;
    pthread_mutex_unlock(&a->lock);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (err) {
        pthread_cond_destroy(&a->wake);
        return fk__error_set(FK_EIO, err, "attribution: cannot start the socket watcher");
    }
    return 0;
}

static void stop_watcher(fk__attrib *a)
{
    if (!a->watching)
        return;
    pthread_mutex_lock(&a->lock);
    a->stop = true;
    pthread_cond_signal(&a->wake);
    pthread_mutex_unlock(&a->lock);
    pthread_join(a->watcher, NULL);
    pthread_cond_destroy(&a->wake);
    a->watching = false;
}

/* ---- lifecycle ------------------------------------------------------------------ */

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
    a->alpha = fk__ewma_alpha(cfg->ewma_tau_sec);
    a->query_rate.per_sec = a->query_rate.tokens = cfg->queries_per_sec;
    a->scan_rate.per_sec = a->scan_rate.tokens = cfg->scans_per_sec;
    pthread_mutex_init(&a->lock, NULL);
    pthread_mutex_init(&a->ilock, NULL);
    int rc = a->proc_root ? 0 : fk__error(FK_ENOMEM, "attribution: out of memory");
    if (!rc)
        rc = fk__pidindex_create(&a->index, a->proc_root);
    if (!rc && cfg->use_netlink) {
        rc = fk__sockdiag_open(&a->diag);
        if (!rc && (rc = fk__localaddr_open(&a->local)) < 0)
            FK__LOG_WARN("proc",
                         "no rtnetlink address cache (%s); direction from the socket "
                         "table only",
                         fk_error_last()->message);
        rc = rc == FK_ENOMEM ? rc : 0;
    }
    if (!rc)
        rc = fk__attrib_sync(a);
    if (!rc && a->diag) {
        pthread_mutex_lock(&a->lock);
        uint64_t scans = 0;
        pthread_mutex_lock(&a->ilock);
        scan_dump(a, &a->socks, fk__mono_ns(), &scans);
        pthread_mutex_unlock(&a->ilock);
        publish_dump(a, &a->socks, time(NULL));
        a->stats.index_scans += scans;
        a->last_refresh_mono = a->last_dump_mono = fk__mono_ns();
        pthread_mutex_unlock(&a->lock);
        rc = start_watcher(a);
    }
    if (rc) {
        fk__attrib_destroy(a);
        return rc;
    }
    *out = a;
    return 0;
}

void fk__attrib_destroy(fk__attrib *a)
{
    if (!a)
        return;
    stop_watcher(a);
    fk__sockdiag_close(a->watch_diag);
    fk__u64map_free(&a->history);
    fk__u64map_free(&a->seen_inodes);
    fk__u64map_free(&a->w_known);
    fk__u64map_free(&a->w_tries);
    fk__free(a->pend);
    fk__pidindex_stats ps = {0};
    if (a->index)
        fk__pidindex_get_stats(a->index, &ps);
    FK__LOG_INFO(
        "proc",
        "attribution: packets %llu hits %llu misses %llu conns %llu late %llu queries %llu "
        "(found %llu) history %llu dumps %llu index scans %llu rate-limited %llu fd scans %llu "
        "readlinks %llu handed over %llu fixed up %llu expired %llu",
        (unsigned long long)a->stats.packets, (unsigned long long)a->stats.hits,
        (unsigned long long)a->stats.misses, (unsigned long long)a->stats.conns,
        (unsigned long long)a->stats.resolved_late, (unsigned long long)a->stats.queries,
        (unsigned long long)a->stats.query_hits, (unsigned long long)a->stats.history_hits,
        (unsigned long long)a->stats.dumps, (unsigned long long)a->stats.index_scans,
        (unsigned long long)a->stats.rate_limited, (unsigned long long)ps.fd_scans,
        (unsigned long long)ps.readlinks, (unsigned long long)a->stats.handed_over,
        (unsigned long long)a->stats.fixed_up, (unsigned long long)a->stats.expired);
    for (size_t i = 0; i < a->nconn_buckets; i++) {
        conn *c = a->conns[i];
        while (c) {
            conn *next = c->next;
            fk__free(c);
            c = next;
        }
    }
    fk__free(a->conns);
    for (size_t i = 0; i < a->n_rows; i++)
        row_free(a->row_list[i]);
    fk__free(a->row_list);
    fk__free(a->ifnames);
    fk__u64map_free(&a->rows);
    stable_free(&a->socks);
    fk__pidindex_destroy(a->index);
    fk__localaddr_close(a->local);
    fk__addrset_free(&a->extra_local);
    fk__sockdiag_close(a->diag);
    fk__free(a->proc_root);
    pthread_mutex_destroy(&a->ilock);
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

static int sync_locked(fk__attrib *a)
{
    stable fresh;
    memset(&fresh, 0, sizeof fresh);
    int n = -1;
    if (a->diag) {
        n = fk__sockdiag_dump_all(a->diag, stable_put_cb, &fresh);
        if (n < 0)
            FK__LOG_WARN("proc", "sock_diag dump failed (%s); reading /proc/net",
                         fk_error_last()->message);
    }
    if (n < 0)
        n = fk__procnet_read_all(a->proc_root, stable_put_cb, &fresh);
    if (n < 0) {
        stable_free(&fresh);
        return n;
    }
    stable_free(&a->socks);
    a->socks = fresh;
    a->stats.dumps++;
    a->last_sync_mono = fk__mono_ns();
    pthread_mutex_lock(&a->ilock); /* (no watcher in this mode, or not yet) */
    int rc = fk__pidindex_refresh(a->index);
    pthread_mutex_unlock(&a->ilock);
    return rc;
}

int fk__attrib_sync(fk__attrib *a)
{
    pthread_mutex_lock(&a->lock);
    int rc = sync_locked(a);
    pthread_mutex_unlock(&a->lock);
    return rc;
}

/* ---- the packet path ---------------------------------------------------------- */

static bool is_local(const fk__attrib *a, const fk_addr *addr)
{
    return (a->local && fk__addrset_has(fk__localaddr_set(a->local), addr)) ||
           fk__addrset_has(&a->extra_local, addr);
}

static void move_counts(conn *c, row *from, row *to)
{
    from->sent_bytes -= c->sent_bytes;
    from->recv_bytes -= c->recv_bytes;
    from->sent_packets -= c->sent_packets;
    from->recv_packets -= c->recv_packets;
    to->sent_bytes += c->sent_bytes;
    to->recv_bytes += c->recv_bytes;
    to->sent_packets += c->sent_packets;
    to->recv_packets += c->recv_packets;
    row_dev_add(from, c->ifindex, -(int64_t)c->sent_bytes, -(int64_t)c->recv_bytes);
    row_dev_add(to, c->ifindex, (int64_t)c->sent_bytes, (int64_t)c->recv_bytes);
}

/* The process holding a socket inode: the index, what the watcher learnt
 * while the socket was open, then a targeted rescan (rate-limited). */
static uint32_t owner_of(fk__attrib *a, uint64_t inode, uint32_t uid)
{
    uint64_t v;
    if (fk__u64map_get(&a->seen_inodes, inode, &v) && v)
        return (uint32_t)v;
    if (!index_enter(a))
        return 0; /* the watcher is scanning: resolve() hands the socket over */
    uint32_t pid = fk__pidindex_lookup(a->index, inode);
    if (!pid) {
        if (take_token(&a->scan_rate)) {
            a->stats.index_scans++;
            /* With a watcher the cheap search (recent owners, new and
             * changed processes at most every 10 ms); the rest (youngest
             * processes, the sweep) is the watcher's job, off the packet
             * path. Without one the full search (its sweep over every
             * process is gated, once per 100 ms). */
            pid = a->watching ? fk__pidindex_find_cheap(a->index, inode, uid)
                              : fk__pidindex_find(a->index, inode, uid, true);
        } else {
            a->stats.rate_limited++;
        }
    }
    if (pid)
        row_get_(a, pid, 0, true); /* its name, exe... while the index is ours */
    index_leave(a);
    return pid;
}

/* The owner of a connection, at its first packet (sent by the local end
 * when `local_sent`) or a retry. */
static void resolve(fk__attrib *a, conn *c, int64_t now, bool local_sent)
{
    const tkey *k = &c->key;
    const snode *s = stable_get(&a->socks, k);
    uint64_t inode = s ? s->inode : 0;
    uint32_t uid = s ? s->uid : UINT32_MAX;
    /* UDP: an unconnected socket from the table is as good as exact. */
    if (!inode && k->proto == 17 && (s = stable_get_wild(&a->socks, k)) != NULL) {
        inode = s->inode;
        uid = s->uid;
    }
    if (!inode && a->diag) {
        if (take_token(&a->query_rate)) {
            fk_addr l, r;
            key_addr(&l, k->l);
            key_addr(&r, k->r);
            fk__sock found;
            a->stats.queries++;
            int q = fk__sockdiag_query(a->diag, k->proto, &l, k->lp, &r, k->rp, &found);
            if (q == 1 && found.lport != k->lp) {
                /* Not the socket asked for (a listener is fine: same local port). */
                FK__LOG_DEBUG("proc", "exact query for port %u answered with port %u", k->lp,
                              found.lport);
                q = 0;
            }
            if (q == 1 && found.inode) {
                a->stats.query_hits++;
                inode = found.inode;
                uid = found.uid;
                stable_put(&a->socks, &found);
            } else if (fk__log_enabled(FK_LOG_DEBUG)) {
                struct timespec rt;
                clock_gettime(CLOCK_REALTIME, &rt);
                int64_t lag = (int64_t)rt.tv_sec * 1000000000 + rt.tv_nsec - now;
                FK__LOG_DEBUG("proc",
                              "exact query: %s (state %d), %.1f ms after the packet, port %u%s%s",
                              q == 1   ? "no inode"
                              : q == 0 ? "no socket"
                                       : "failed",
                              q == 1 ? found.state : -1, (double)lag / 1e6, k->lp,
                              q < 0 ? ": " : "", q < 0 ? fk_error_last()->message : "");
            }
        } else {
            a->stats.rate_limited++;
        }
    }
    uint32_t pid = inode ? owner_of(a, inode, uid) : 0;
    if (!pid && a->watching) {
        /* Closed already (a short connection, or the capture lags): the
         * watcher may have seen the socket alive. */
        pid = history_get(a, k);
        if (!pid && k->proto == 17) {
            tkey w = *k;
            memset(w.r, 0, 16);
            w.rp = 0;
            if (!(pid = history_get(a, &w))) {
                memset(w.l, 0, 16);
                pid = history_get(a, &w);
            }
        }
        if (pid)
            a->stats.history_hits++;
    }
    if (!inode && !pid && (s = stable_get_wild(&a->socks, k)) != NULL) {
        inode = s->inode; /* TCP listener: the SYN before accept */
        uid = s->uid;
        pid = owner_of(a, inode, uid);
    }
    /* A socket that sent this connection's first packet is gone already:
     * the capture lags behind connections this short. (Packets to a port
     * nobody listens on had no socket to miss.) */
    if (!inode && local_sent && c->tries == 0)
        note_miss(a);
    if (inode && !pid && a->watching) {
        pending p = {.key = *k, .inode = inode, .uid = uid, .since_mono = fk__mono_ns()};
        if (pending_push(a, &p)) {
            a->n_pend_fresh++;
            a->stats.handed_over++;
            pthread_cond_signal(&a->wake);
        } else {
            a->stats.rate_limited++;
        }
    }
    if (inode && !pid && fk__log_enabled(FK_LOG_DEBUG) && index_enter(a)) {
        char l[FK_ADDR_STRLEN], rr[FK_ADDR_STRLEN];
        fk_addr la, ra;
        key_addr(&la, k->l);
        key_addr(&ra, k->r);
        fk_addr_format(&la, l, sizeof l);
        fk_addr_format(&ra, rr, sizeof rr);
        fk__pidindex_explain(a->index, inode);
        index_leave(a);
        FK__LOG_DEBUG("proc", "socket inode %llu (uid %u) of %s %s:%u-%s:%u has no process yet",
                      (unsigned long long)inode, uid, k->proto == 6 ? "tcp" : "udp", l, k->lp, rr,
                      k->rp);
    }
    row *r = pid ? row_get(a, pid, 0) : NULL;
    if (r) {
        if (c->owner && c->owner != r) {
            move_counts(c, c->owner, r);
            a->stats.resolved_late++;
        }
        c->owner = r;
        c->resolved = true;
        return;
    }
    if (!c->owner)
        c->owner = row_get(a, 0, k->proto);
    c->tries++;
    int64_t backoff = (int64_t)5000000 << (c->tries < 9 ? c->tries : 9); /* 10 ms .. 2.56 s */
    c->retry_ns = now + backoff;
    if (c->tries >= 12)
        c->resolved = true; /* give up: stays unknown */
}

static row *account(fk__attrib *a, const tkey *k, bool sent, const fk__attrib_pkt *p)
{
    conn *c = conn_find(a, k);
    if (!c) {
        c = conn_new(a, k);
        if (!c)
            return NULL;
        c->first_ns = p->ts_ns;
        c->ifindex = p->ifindex;
        learn_ifname(a, p->ifindex);
        resolve(a, c, p->ts_ns, sent);
    } else if (!c->resolved && p->ts_ns >= c->retry_ns) {
        resolve(a, c, p->ts_ns, sent);
    } else if (k->proto == 6 && (p->tcp_flags & 0x12) == 0x02 &&
               c->sent_packets + c->recv_packets && p->ts_ns - c->last_ns > 1000000000) {
        /* A fresh SYN on an old tuple: a new connection, maybe a new owner. */
        c->resolved = false;
        c->tries = 0;
        resolve(a, c, p->ts_ns, sent);
    }
    if (!c->owner)
        return NULL;
    row *r = c->owner;
    uint64_t len = p->ip_len;
    int64_t sec = p->ts_ns / 1000000000;
    if (sent) {
        c->sent_bytes += len;
        c->sent_packets++;
        r->sent_bytes += len;
        r->sent_packets++;
        fk__ring_add(&r->ring, sec, len, 0);
        row_dev_add(r, c->ifindex, (int64_t)len, 0);
    } else {
        c->recv_bytes += len;
        c->recv_packets++;
        r->recv_bytes += len;
        r->recv_packets++;
        fk__ring_add(&r->ring, sec, 0, len);
        row_dev_add(r, c->ifindex, 0, (int64_t)len);
    }
    c->last_ns = p->ts_ns;
    if (r->pid)
        a->stats.hits++;
    else
        a->stats.misses++;
    return r;
}

static frag_slot *frag_lookup(fk__attrib *a, const fk__attrib_pkt *p)
{
    uint8_t s[16], d[16];
    norm_addr(s, &p->src);
    norm_addr(d, &p->dst);
    uint32_t h = p->frag_id * 2654435761u;
    for (int i = 0; i < 16; i++)
        h = (h ^ s[i] ^ ((uint32_t)d[i] << 8)) * 16777619u;
    frag_slot *f = &a->frags[(h ^ p->proto) % FRAG_SLOTS];
    if (p->frag == 1) {
        memcpy(f->src, s, 16);
        memcpy(f->dst, d, 16);
        f->id = p->frag_id;
        f->proto = p->proto;
        f->sport = p->sport;
        f->dport = p->dport;
        f->used = 1;
        return f;
    }
    if (f->used && f->id == p->frag_id && f->proto == p->proto && !memcmp(f->src, s, 16) &&
        !memcmp(f->dst, d, 16))
        return f;
    return NULL;
}

/* The owner of a connection, copied out under the lock (uid UINT32_MAX
 * and empty strings when unknown; strs may be NULL). */
static uint32_t owner_copy(fk__attrib *a, uint8_t proto, const fk_addr *src, uint16_t sport,
                           const fk_addr *dst, uint16_t dport, char *name, uint32_t *uid,
                           fk__attrib_strs *strs)
{
    *uid = UINT32_MAX;
    if (strs)
        strs->user[0] = strs->exe[0] = '\0';
    if (proto != 6 && proto != 17)
        return 0;
    pthread_mutex_lock(&a->lock);
    uint32_t pid = 0;
    for (int side = 0; side < 2 && !pid; side++) {
        tkey k;
        if (side == 0)
            make_key(&k, proto, src, sport, dst, dport);
        else
            make_key(&k, proto, dst, dport, src, sport);
        const conn *c = conn_find(a, &k);
        /* (a row still without its name stays out of flows and events) */
        if (c && c->owner && c->owner->pid && !c->owner->needs_info) {
            const row *r = c->owner;
            pid = r->pid;
            if (name)
                snprintf(name, FK_PROCESS_NAME_MAX, "%s", r->name);
            *uid = r->uid;
            if (strs) {
                snprintf(strs->user, sizeof strs->user, "%s", r->user ? r->user : "");
                snprintf(strs->exe, sizeof strs->exe, "%s", r->exe ? r->exe : "");
            }
        }
    }
    pthread_mutex_unlock(&a->lock);
    return pid;
}

uint32_t fk__attrib_owner(fk__attrib *a, uint8_t proto, const fk_addr *src, uint16_t sport,
                          const fk_addr *dst, uint16_t dport, char *name)
{
    uint32_t uid;
    return owner_copy(a, proto, src, sport, dst, dport, name, &uid, NULL);
}

void fk__attrib_fill_flow(fk__attrib *a, fk_flow *f, fk__attrib_strs *strs)
{
    char name[FK_PROCESS_NAME_MAX];
    uint32_t uid;
    uint32_t pid =
        owner_copy(a, f->proto, &f->src, f->src_port, &f->dst, f->dst_port, name, &uid, strs);
    if (!pid)
        return;
    f->pid = pid;
    memcpy(f->process, name, sizeof f->process);
    f->present |= FK_FLOW_HAS_PROCESS;
    if (uid != UINT32_MAX) {
        f->uid = uid;
        f->present |= FK_FLOW_HAS_UID;
    }
    f->user = strs->user[0] ? strs->user : NULL;
    f->exe = strs->exe[0] ? strs->exe : NULL;
}

void fk__attrib_fill_session(fk__attrib *a, fk_session_event *e, fk__attrib_strs *strs)
{
    char name[FK_PROCESS_NAME_MAX];
    uint32_t uid;
    uint32_t pid =
        owner_copy(a, e->proto, &e->src, e->src_port, &e->dst, e->dst_port, name, &uid, strs);
    if (!pid)
        return;
    e->pid = pid;
    memcpy(e->process, name, sizeof e->process);
    e->present |= FK_SESSION_HAS_PROCESS;
    if (uid != UINT32_MAX) {
        e->uid = uid;
        e->present |= FK_SESSION_HAS_UID;
    }
    e->user = strs->user[0] ? strs->user : NULL;
    e->exe = strs->exe[0] ? strs->exe : NULL;
}

void fk__attrib_set_sync_interval(fk__attrib *a, int64_t ns)
{
    pthread_mutex_lock(&a->lock);
    a->cfg.sync_interval_ns = ns;
    pthread_mutex_unlock(&a->lock);
}

int fk__attrib_packet(fk__attrib *a, const fk__attrib_pkt *pin, uint32_t *pid_out, char *name_out)
{
    if (pid_out)
        *pid_out = 0;
    if (name_out)
        name_out[0] = '\0';
    if (pin->proto != 6 && pin->proto != 17)
        return 1;
    /* A backlog of packets would take and release the lock back to back
     * and starve the watcher waiting for it: let it in first. */
    if (atomic_load_explicit(&a->watcher_waiting, memory_order_relaxed))
        sched_yield();
    pthread_mutex_lock(&a->lock);
    fk__attrib_pkt copy;
    const fk__attrib_pkt *p = pin;
    if (pin->frag) {
        frag_slot *f = frag_lookup(a, pin);
        if (!f) {
            pthread_mutex_unlock(&a->lock);
            return 1; /* its first fragment was not seen */
        }
        copy = *pin;
        copy.sport = f->sport;
        copy.dport = f->dport;
        copy.tcp_flags = pin->frag == 2 ? 0 : pin->tcp_flags;
        p = &copy;
    }
    if (p->ts_ns > a->now_ns)
        a->now_ns = p->ts_ns;
    bool out = false, in = false;
    if (p->dir == FK__DIR_OUT)
        out = true;
    else if (p->dir == FK__DIR_IN)
        in = true;
    else {
        out = is_local(a, &p->src);
        in = is_local(a, &p->dst);
        if (!out && !in) {
            /* Addresses unknown to rtnetlink: ask the socket table. */
            tkey k;
            make_key(&k, p->proto, &p->src, p->sport, &p->dst, p->dport);
            if (stable_get(&a->socks, &k))
                out = true;
            else {
                make_key(&k, p->proto, &p->dst, p->dport, &p->src, p->sport);
                in = stable_get(&a->socks, &k) != NULL;
            }
        }
    }
    row *who = NULL;
    if (out) {
        tkey k;
        make_key(&k, p->proto, &p->src, p->sport, &p->dst, p->dport);
        who = account(a, &k, true, p);
    }
    if (in) {
        tkey k;
        make_key(&k, p->proto, &p->dst, p->dport, &p->src, p->sport);
        row *r = account(a, &k, false, p);
        if (!who || !who->pid)
            who = r;
    }
    if (out || in)
        a->stats.packets++;
    if (who && pid_out)
        *pid_out = who->pid;
    if (who && name_out)
        snprintf(name_out, FK_PROCESS_NAME_MAX, "%s", who->name);
    pthread_mutex_unlock(&a->lock);
    return out || in ? 0 : 1;
}

/* ---- housekeeping ------------------------------------------------------------ */

static void expire_conns(fk__attrib *a)
{
    for (size_t i = 0; i < a->nconn_buckets; i++) {
        conn **pp = &a->conns[i];
        while (*pp) {
            conn *c = *pp;
            if (a->now_ns - c->last_ns > a->cfg.conn_idle_ns) {
                *pp = c->next;
                fk__free(c);
                a->n_conns--;
            } else {
                pp = &c->next;
            }
        }
    }
}

int fk__attrib_tick(fk__attrib *a, int64_t now_ns)
{
    pthread_mutex_lock(&a->lock);
    if (now_ns > a->now_ns)
        a->now_ns = now_ns;
    int rc = 0;
    if (a->local && fk__localaddr_poll(a->local) < 0)
        FK__LOG_WARN("proc", "%s", fk_error_last()->message);
    if (!a->watching && fk__mono_ns() - a->last_sync_mono >= a->cfg.sync_interval_ns)
        rc = sync_locked(a);
    if (a->now_ns - a->last_expire_ns >= 1000000000) {
        expire_conns(a);
        a->last_expire_ns = a->now_ns;
    }
    pthread_mutex_unlock(&a->lock);
    return rc;
}

void fk__attrib_get_stats(fk__attrib *a, fk__attrib_stats *out)
{
    pthread_mutex_lock(&a->lock);
    *out = a->stats;
    fk__pidindex_stats ps = a->istats;
    if (!a->watching)
        fk__pidindex_get_stats(a->index, &ps);
    out->fd_scans = ps.fd_scans;
    out->readlinks = ps.readlinks;
    pthread_mutex_unlock(&a->lock);
}

/* ---- rank --------------------------------------------------------------------- */

typedef struct rank_item {
    row *r;
    double sent_rate, recv_rate;
} rank_item;

static double sort_value(const rank_item *it, fk_rank_sort key)
{
    switch (key) {
    case FK_RANK_SORT_RATE:
        return it->sent_rate + it->recv_rate;
    case FK_RANK_SORT_SENT_RATE:
        return it->sent_rate;
    case FK_RANK_SORT_RECV_RATE:
        return it->recv_rate;
    case FK_RANK_SORT_BYTES:
        return (double)(it->r->sent_bytes + it->r->recv_bytes);
    case FK_RANK_SORT_SENT_BYTES:
        return (double)it->r->sent_bytes;
    case FK_RANK_SORT_RECV_BYTES:
        return (double)it->r->recv_bytes;
    }
    return 0.0;
}

/* Insertion into a sorted array keeps this qsort-free and key-parametric. */
static void sort_items(rank_item *items, size_t n, fk_rank_sort key)
{
    for (size_t i = 1; i < n; i++) {
        rank_item x = items[i];
        double v = sort_value(&x, key);
        size_t j = i;
        while (j > 0) {
            double w = sort_value(&items[j - 1], key);
            /* Descending; ties by total bytes, then pid ascending. */
            bool before =
                v > w || (v == w && (x.r->sent_bytes + x.r->recv_bytes >
                                         items[j - 1].r->sent_bytes + items[j - 1].r->recv_bytes ||
                                     (x.r->sent_bytes + x.r->recv_bytes ==
                                          items[j - 1].r->sent_bytes + items[j - 1].r->recv_bytes &&
                                      x.r->pid < items[j - 1].r->pid)));
            if (!before)
                break;
            items[j] = items[j - 1];
            j--;
        }
        items[j] = x;
    }
}

static char *dup_or_empty(const char *s)
{
    return fk__strdup(s ? s : "");
}

int fk__attrib_rank(fk__attrib *a, size_t limit, uint32_t recent_sec, fk_rank_sort key,
                    fk_rank_snapshot **out)
{
    if (!out)
        return fk__error(FK_EINVAL, "rank: out must not be NULL");
    if (recent_sec < 1 || recent_sec > a->cfg.history_seconds)
        return fk__error(FK_ERANGE, "rank: recent_sec = %u is out of range [1, %u]", recent_sec,
                         a->cfg.history_seconds);
    if ((int)key < FK_RANK_SORT_RATE || key > FK_RANK_SORT_RECV_BYTES)
        return fk__error(FK_EINVAL, "rank: unknown sort key %d", (int)key);
    pthread_mutex_lock(&a->lock);
    int rc = 0;
    int64_t now_sec = a->now_ns / 1000000000;
    rank_item *items = fk__calloc(a->n_rows ? a->n_rows : 1, sizeof *items);
    fk_rank_snapshot *snap = FK__NEW(fk_rank_snapshot);
    fk_rank_row *rows = NULL;
    size_t n = 0;
    if (!items || !snap) {
        rc = fk__error(FK_ENOMEM, "rank: out of memory");
        goto done;
    }
    for (size_t i = 0; i < a->n_rows; i++) {
        row *r = a->row_list[i];
        r->out_index = -1;
        if (!r->sent_bytes && !r->recv_bytes)
            continue;
        uint64_t s, v;
        fk__ring_window(&r->ring, now_sec, recent_sec, &s, &v);
        items[n].r = r;
        items[n].sent_rate = (double)s / recent_sec;
        items[n].recv_rate = (double)v / recent_sec;
        n++;
    }
    sort_items(items, n, key);
    if (limit && n > limit)
        n = limit;
    rows = fk__calloc(n ? n : 1, sizeof *rows);
    if (!rows) {
        rc = fk__error(FK_ENOMEM, "rank: out of memory");
        goto done;
    }
    snap->rows = rows;
    for (size_t i = 0; i < n; i++) {
        const row *r = items[i].r;
        fk_rank_row *o = &rows[i];
        items[i].r->out_index = (long)i;
        o->pid = r->pid;
        o->uid = r->uid;
        o->proto = r->proto;
        o->name = dup_or_empty(r->name);
        o->user = dup_or_empty(r->user);
        o->exe = dup_or_empty(r->exe);
        o->cmdline = dup_or_empty(r->cmdline);
        o->cgroup = dup_or_empty(r->cgroup);
        snap->count = i + 1;
        if (!o->name || !o->user || !o->exe || !o->cmdline || !o->cgroup) {
            rc = fk__error(FK_ENOMEM, "rank: out of memory");
            goto done;
        }
        o->sent_bytes = r->sent_bytes;
        o->recv_bytes = r->recv_bytes;
        o->sent_packets = r->sent_packets;
        o->recv_packets = r->recv_packets;
        o->sent_rate = items[i].sent_rate;
        o->recv_rate = items[i].recv_rate;
        o->sent_ewma = r->ring.sent_ewma;
        o->recv_ewma = r->ring.recv_ewma;
        o->dev = "";
        if (r->ndevs) {
            fk_rank_dev *d = fk__calloc(r->ndevs, sizeof *d);
            if (!d) {
                rc = fk__error(FK_ENOMEM, "rank: out of memory");
                goto done;
            }
            size_t nd = 0;
            for (size_t j = 0; j < r->ndevs; j++) {
                if (!r->devs[j].sent && !r->devs[j].recv)
                    continue; /* its connections moved to another row */
                /* Most bytes first (insertion; a row has few devices). */
                fk_rank_dev x = {.ifindex = r->devs[j].ifindex,
                                 .sent_bytes = r->devs[j].sent,
                                 .recv_bytes = r->devs[j].recv};
                snprintf(x.name, sizeof x.name, "%s", ifname_of(a, x.ifindex));
                size_t k = nd++;
                while (k > 0 &&
                       (d[k - 1].sent_bytes + d[k - 1].recv_bytes < x.sent_bytes + x.recv_bytes ||
                        (d[k - 1].sent_bytes + d[k - 1].recv_bytes == x.sent_bytes + x.recv_bytes &&
                         d[k - 1].ifindex > x.ifindex))) {
                    d[k] = d[k - 1];
                    k--;
                }
                d[k] = x;
            }
            o->devs = d;
            o->dev_count = nd;
            if (nd)
                o->dev = d[0].name;
        }
    }
    /* Drill-down: count, allocate, fill. */
    for (size_t b = 0; b < a->nconn_buckets; b++)
        for (conn *c = a->conns[b]; c; c = c->next)
            if (c->owner && c->owner->out_index >= 0)
                rows[c->owner->out_index].conn_count++;
    for (size_t i = 0; i < n; i++) {
        if (!rows[i].conn_count)
            continue;
        rows[i].conns = fk__calloc(rows[i].conn_count, sizeof(fk_rank_conn));
        if (!rows[i].conns) {
            rc = fk__error(FK_ENOMEM, "rank: out of memory");
            goto done;
        }
        rows[i].conn_count = 0;
    }
    for (size_t b = 0; b < a->nconn_buckets; b++) {
        for (conn *c = a->conns[b]; c; c = c->next) {
            if (!c->owner || c->owner->out_index < 0)
                continue;
            fk_rank_row *o = &rows[c->owner->out_index];
            fk_rank_conn *x = (fk_rank_conn *)&o->conns[o->conn_count++];
            key_addr(&x->local, c->key.l);
            key_addr(&x->remote, c->key.r);
            x->local_port = c->key.lp;
            x->remote_port = c->key.rp;
            x->proto = c->key.proto;
            x->sent_bytes = c->sent_bytes;
            x->recv_bytes = c->recv_bytes;
            x->sent_packets = c->sent_packets;
            x->recv_packets = c->recv_packets;
            x->first_ns = c->first_ns;
            x->last_ns = c->last_ns;
            x->ifindex = c->ifindex;
            snprintf(x->dev, sizeof x->dev, "%s", ifname_of(a, c->ifindex));
        }
    }
    snap->time_ns = a->now_ns;
    snap->window_sec = recent_sec;
    snap->attributed = a->stats.hits;
    snap->unattributed = a->stats.misses;
done:
    for (size_t i = 0; i < a->n_rows; i++)
        a->row_list[i]->out_index = -1;
    pthread_mutex_unlock(&a->lock);
    fk__free(items);
    if (rc) {
        if (snap && !snap->rows)
            fk__free(rows);
        fk_rank_snapshot_destroy(snap);
        return rc;
    }
    *out = snap;
    return 0;
}
