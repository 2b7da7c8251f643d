#include "proc/pidindex.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/log.h"

#define MRU_LEN 8
#define SWEEP_GAP_NS 100000000  /* 100 ms */
#define REFRESH_GAP_NS 10000000 /* 10 ms */
#define YOUNG_NS INT64_C(10000000000)
#define YOUNG_MAX 32

struct fk__pidindex {
    char *root;
    fk__u64map procs;  /* pid → fk__proc* */
    fk__u64map inodes; /* socket inode → pid */
    uint64_t gen;
    uint64_t find_gen;
    uint32_t mru[MRU_LEN]; /* pids that most recently gained a socket */
    int64_t last_sweep_ns; /* the uid sweep of a miss is the expensive step */
    int64_t last_refresh_ns;
    fk__pidindex_stats stats;
};

/* Per-entry marker of the last find pass that rescanned it. */
typedef struct proc_slot {
    fk__proc p;
    uint64_t find_gen;
} proc_slot;

static void proc_free(fk__proc *p)
{
    fk__free(p->exe);
    fk__free(p->cmdline);
    fk__free(p->user);
    fk__free(p->cgroup);
    fk__free(p->inodes);
    fk__free(p);
}

int fk__pidindex_create(fk__pidindex **out, const char *proc_root)
{
    fk__pidindex *ix = FK__NEW(fk__pidindex);
    if (!ix)
        return fk__error(FK_ENOMEM, "proc index: out of memory");
    ix->root = fk__strdup(proc_root ? proc_root : "/proc");
    if (!ix->root) {
        fk__free(ix);
        return fk__error(FK_ENOMEM, "proc index: out of memory");
    }
    *out = ix;
    return 0;
}

void fk__pidindex_destroy(fk__pidindex *ix)
{
    if (!ix)
        return;
    size_t pos = 0;
    uint64_t pid, v;
    while (fk__u64map_next(&ix->procs, &pos, &pid, &v))
        proc_free((fk__proc *)(uintptr_t)v);
    fk__u64map_free(&ix->procs);
    fk__u64map_free(&ix->inodes);
    fk__free(ix->root);
    fk__free(ix);
}

static fk__proc *get_proc(const fk__pidindex *ix, uint32_t pid)
{
    uint64_t v;
    return fk__u64map_get(&ix->procs, pid, &v) ? (fk__proc *)(uintptr_t)v : NULL;
}

/* Parse "socket:[12345]". */
static uint64_t socket_inode(const char *link)
{
    if (strncmp(link, "socket:[", 8) != 0)
        return 0;
    char *end;
    unsigned long long v = strtoull(link + 8, &end, 10);
    return *end == ']' ? v : 0;
}

static bool read_fd_sig(const fk__pidindex *ix, uint32_t pid, int64_t *size, int64_t *mtime,
                        uint64_t *ino)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%u/fd", ix->root, pid);
    struct stat st;
    if (stat(path, &st) < 0)
        return false;
    *size = st.st_size;
    *mtime = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
    *ino = st.st_ino;
    return true;
}

static int add_inode(fk__proc *p, uint64_t ino)
{
    if (p->n_inodes == p->cap_inodes) {
        size_t nc = p->cap_inodes ? p->cap_inodes * 2 : 8;
        uint64_t *n = fk__reallocarray(p->inodes, nc, sizeof *n);
        if (!n)
            return fk__error(FK_ENOMEM, "proc index: out of memory");
        p->inodes = n;
        p->cap_inodes = nc;
    }
    p->inodes[p->n_inodes++] = ino;
    return 0;
}

static void drop_inodes(fk__pidindex *ix, fk__proc *p)
{
    for (size_t i = 0; i < p->n_inodes; i++) {
        uint64_t owner;
        if (fk__u64map_get(&ix->inodes, p->inodes[i], &owner) && owner == p->pid)
            fk__u64map_del(&ix->inodes, p->inodes[i]);
    }
    p->n_inodes = 0;
}

static void mru_push(fk__pidindex *ix, uint32_t pid)
{
    size_t i = 0;
    while (i < MRU_LEN - 1 && ix->mru[i] != pid)
        i++;
    memmove(ix->mru + 1, ix->mru, i * sizeof ix->mru[0]);
    ix->mru[0] = pid;
}

/* Read the fd directory of p and replace its inode set. */
static int scan_fds(fk__pidindex *ix, fk__proc *p)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%u/fd", ix->root, p->pid);
    read_fd_sig(ix, p->pid, &p->fd_size, &p->fd_mtime_ns, &p->fd_ino);
    DIR *d = opendir(path);
    ix->stats.fd_scans++;
    drop_inodes(ix, p);
    if (!d)
        return 0; /* gone, or not ours to read: no sockets known */
    int dfd = dirfd(d);
    struct dirent *e;
    bool gained = false;
    int rc = 0;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char link[64];
        ssize_t n = readlinkat(dfd, e->d_name, link, sizeof link - 1);
        ix->stats.readlinks++;
        if (n <= 0)
            continue;
        link[n] = '\0';
        uint64_t ino = socket_inode(link);
        if (!ino)
            continue;
        if ((rc = add_inode(p, ino)) < 0)
            break;
        uint64_t owner;
        if (!fk__u64map_get(&ix->inodes, ino, &owner) || !get_proc(ix, (uint32_t)owner)) {
            if ((rc = fk__u64map_put(&ix->inodes, ino, p->pid)) < 0)
                break;
            gained = true;
        }
    }
    closedir(d);
    if (gained)
        mru_push(ix, p->pid);
    return rc;
}

static fk__proc *new_proc(fk__pidindex *ix, uint32_t pid)
{
    proc_slot *s = FK__NEW(proc_slot);
    if (!s)
        return NULL;
    fk__proc *p = &s->p;
    p->pid = pid;
    p->alive = true;
    p->first_seen_ns = fk__mono_ns();
    char path[512];
    snprintf(path, sizeof path, "%s/%u", ix->root, pid);
    struct stat st;
    p->uid = stat(path, &st) == 0 ? st.st_uid : UINT32_MAX;
    if (fk__u64map_put(&ix->procs, pid, (uint64_t)(uintptr_t)p) < 0) {
        fk__free(s);
        return NULL;
    }
    return p;
}

/* p is the entry the iteration at *pos just gave. */
static void remove_proc(fk__pidindex *ix, fk__proc *p, size_t *pos)
{
    drop_inodes(ix, p);
    fk__u64map_del_current(&ix->procs, pos);
    for (size_t i = 0; i < MRU_LEN; i++)
        if (ix->mru[i] == p->pid)
            ix->mru[i] = 0;
    proc_free(p);
}

static bool parse_pid(const char *name, uint32_t *pid)
{
    if (name[0] < '1' || name[0] > '9')
        return false;
    char *end;
    unsigned long v = strtoul(name, &end, 10);
    if (*end || v > UINT32_MAX)
        return false;
    *pid = (uint32_t)v;
    return true;
}

int fk__pidindex_refresh(fk__pidindex *ix)
{
    DIR *d = opendir(ix->root);
    if (!d)
        return fk__error_errno(FK_EIO, "proc index: %s", ix->root);
    ix->gen++;
    ix->stats.refreshes++;
    ix->last_refresh_ns = fk__mono_ns();
    struct dirent *e;
    int rc = 0;
    while ((e = readdir(d)) != NULL) {
        uint32_t pid;
        if (!parse_pid(e->d_name, &pid))
            continue;
        fk__proc *p = get_proc(ix, pid);
        if (!p) {
            p = new_proc(ix, pid);
            if (!p) {
                rc = fk__error(FK_ENOMEM, "proc index: out of memory");
                break;
            }
            p->seen_gen = ix->gen;
            if ((rc = scan_fds(ix, p)) < 0)
                break;
            continue;
        }
        p->seen_gen = ix->gen;
        int64_t size, mtime;
        uint64_t ino;
        if (!read_fd_sig(ix, pid, &size, &mtime, &ino))
            continue;
        if (size != p->fd_size || mtime != p->fd_mtime_ns || ino != p->fd_ino)
            if ((rc = scan_fds(ix, p)) < 0)
                break;
    }
    closedir(d);
    if (rc < 0)
        return rc;
    /* Drop what has gone. */
    size_t pos = 0;
    uint64_t pid, v;
    while (fk__u64map_next(&ix->procs, &pos, &pid, &v)) {
        fk__proc *p = (fk__proc *)(uintptr_t)v;
        if (p->seen_gen != ix->gen)
            remove_proc(ix, p, &pos);
    }
    return 0;
}

uint32_t fk__pidindex_lookup(const fk__pidindex *ix, uint64_t inode)
{
    uint64_t pid;
    return fk__u64map_get(&ix->inodes, inode, &pid) ? (uint32_t)pid : 0;
}

static bool rescan_once(fk__pidindex *ix, fk__proc *p)
{
    proc_slot *s = (proc_slot *)p;
    if (s->find_gen == ix->find_gen)
        return false;
    s->find_gen = ix->find_gen;
    scan_fds(ix, p);
    return true;
}

static uint32_t find(fk__pidindex *ix, uint64_t inode, uint32_t uid, bool cheap, bool with_young,
                     bool sweep);

uint32_t fk__pidindex_find(fk__pidindex *ix, uint64_t inode, uint32_t uid, bool sweep)
{
    return find(ix, inode, uid, false, true, sweep);
}

uint32_t fk__pidindex_find_cheap(fk__pidindex *ix, uint64_t inode, uint32_t uid)
{
    return find(ix, inode, uid, true, false, false);
}

uint32_t fk__pidindex_find_watch(fk__pidindex *ix, uint64_t inode, uint32_t uid, bool sweep)
{
    return find(ix, inode, uid, true, true, sweep);
}

static uint32_t find(fk__pidindex *ix, uint64_t inode, uint32_t uid, bool cheap, bool with_young,
                     bool sweep)
{
    uint32_t pid = fk__pidindex_lookup(ix, inode);
    if (pid || !inode)
        return pid;
    ix->stats.miss_scans++;
    ix->find_gen++;
    /* 1. Recent socket owners: a client opening connection after connection. */
    uint32_t mru[MRU_LEN];
    memcpy(mru, ix->mru, sizeof mru);
    for (size_t i = 0; i < MRU_LEN; i++) {
        fk__proc *p = mru[i] ? get_proc(ix, mru[i]) : NULL;
        if (p && rescan_once(ix, p) && (pid = fk__pidindex_lookup(ix, inode)) != 0)
            return pid;
    }
    /* 2. New processes and changed fd sets (the cheap variant not again
     * within 10 ms: a storm of misses would rescan every new process). */
    if ((!cheap || fk__mono_ns() - ix->last_refresh_ns >= REFRESH_GAP_NS) &&
        fk__pidindex_refresh(ix) == 0 && (pid = fk__pidindex_lookup(ix, inode)) != 0)
        return pid;
    /* 3. Processes of the socket's uid that hold sockets (most network
     * users), then every other process of that uid (all uids when
     * unknown). The second pass is the expensive one: at most once per
     * SWEEP_GAP_NS, so a storm of misses for sockets that are already
     * closed cannot stall the packet path. */
    int64_t now = fk__mono_ns();
    /* 3a. The youngest processes (a short-lived client whose socket took
     * the place of a closed file: same fd count). Only the YOUNG_MAX
     * newest: under process churn (builds, scripts) every process is
     * young, and rescanning them all made each miss cost thousands of
     * readlinks. */
    fk__proc *young[YOUNG_MAX];
    size_t ny = 0;
    size_t pos = 0;
    uint64_t key, v;
    while (with_young && fk__u64map_next(&ix->procs, &pos, &key, &v)) {
        fk__proc *p = (fk__proc *)(uintptr_t)v;
        if (p->n_inodes || now - p->first_seen_ns >= YOUNG_NS ||
            (uid != UINT32_MAX && p->uid != uid))
            continue;
        /* Keep the YOUNG_MAX newest, newest first (insertion). */
        size_t k = ny < YOUNG_MAX ? ny++ : YOUNG_MAX;
        while (k > 0 && young[k - 1]->first_seen_ns < p->first_seen_ns) {
            if (k < YOUNG_MAX)
                young[k] = young[k - 1];
            k--;
        }
        if (k < YOUNG_MAX)
            young[k] = p;
    }
    for (size_t i = 0; i < ny; i++)
        if (rescan_once(ix, young[i]) && (pid = fk__pidindex_lookup(ix, inode)) != 0)
            return pid;
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1) {
            if (!sweep || (ix->last_sweep_ns && now - ix->last_sweep_ns < SWEEP_GAP_NS))
                return 0;
            ix->last_sweep_ns = now;
            ix->stats.sweeps++;
        }
        pos = 0;
        while (fk__u64map_next(&ix->procs, &pos, &key, &v)) {
            fk__proc *p = (fk__proc *)(uintptr_t)v;
            /* Pass 0: socket holders (a socket that replaced another
             * leaves the fd count, the signature, unchanged). */
            bool likely = p->n_inodes > 0;
            if ((uid != UINT32_MAX && p->uid != uid) || (pass == 0 && !likely))
                continue;
            if (rescan_once(ix, p) && (pid = fk__pidindex_lookup(ix, inode)) != 0)
                return pid;
        }
    }
    return 0;
}

/* Read a small file into buf (NUL-terminated); returns length or -1. */
static ssize_t read_small(const char *path, char *buf, size_t size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    size_t n = 0;
    while (n + 1 < size) {
        ssize_t r = read(fd, buf + n, size - 1 - n);
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    buf[n] = '\0';
    return (ssize_t)n;
}

static void load_info(fk__pidindex *ix, fk__proc *p)
{
    fk__proc_load_info(ix->root, p);
}

void fk__proc_load_info(const char *root, fk__proc *p)
{
    char path[512], buf[4096];
    p->info_loaded = true;

    snprintf(path, sizeof path, "%s/%u/comm", root, p->pid);
    ssize_t n = read_small(path, buf, sizeof p->name);
    if (n > 0) {
        if (buf[n - 1] == '\n')
            buf[n - 1] = '\0';
        memcpy(p->name, buf, (size_t)n + 1 <= sizeof p->name ? (size_t)n + 1 : sizeof p->name);
        p->name[sizeof p->name - 1] = '\0';
    }

    snprintf(path, sizeof path, "%s/%u/exe", root, p->pid);
    n = readlink(path, buf, sizeof buf - 1);
    if (n > 0) {
        buf[n] = '\0';
        p->exe = fk__strdup(buf);
    }

    snprintf(path, sizeof path, "%s/%u/cmdline", root, p->pid);
    n = read_small(path, buf, sizeof buf);
    if (n > 0) {
        while (n > 0 && buf[n - 1] == '\0')
            n--;
        for (ssize_t i = 0; i < n; i++)
            if (buf[i] == '\0')
                buf[i] = ' ';
        buf[n] = '\0';
        p->cmdline = fk__strdup(buf);
    }
    if (!p->name[0] && p->exe) {
        const char *slash = strrchr(p->exe, '/');
        snprintf(p->name, sizeof p->name, "%s", slash ? slash + 1 : p->exe);
    }

    snprintf(path, sizeof path, "%s/%u/status", root, p->pid);
    if (read_small(path, buf, sizeof buf) > 0) {
        char *u = strstr(buf, "\nUid:");
        if (u)
            p->uid = (uint32_t)strtoul(u + 5, NULL, 10);
    }
    if (p->uid != UINT32_MAX) {
        struct passwd pw, *res = NULL;
        char pwbuf[1024];
        if (getpwuid_r(p->uid, &pw, pwbuf, sizeof pwbuf, &res) == 0 && res)
            p->user = fk__strdup(res->pw_name);
        else {
            snprintf(buf, sizeof buf, "%u", p->uid);
            p->user = fk__strdup(buf);
        }
    }

    /* cgroup v2 line "0::/path"; else the first line's path. */
    snprintf(path, sizeof path, "%s/%u/cgroup", root, p->pid);
    if (read_small(path, buf, sizeof buf) > 0) {
        char *line = strstr(buf, "0::");
        char *start = line == buf || (line && line[-1] == '\n') ? line + 3 : NULL;
        if (!start) {
            char *c = strchr(buf, ':');
            c = c ? strchr(c + 1, ':') : NULL;
            start = c ? c + 1 : NULL;
        }
        if (start) {
            char *nl = strchr(start, '\n');
            if (nl)
                *nl = '\0';
            p->cgroup = fk__strdup(start);
        }
    }

    snprintf(path, sizeof path, "%s/%u/stat", root, p->pid);
    if (read_small(path, buf, sizeof buf) > 0) {
        /* Field 22 (starttime) counts from after the ")" closing comm. */
        char *c = strrchr(buf, ')');
        int field = 2;
        for (; c && *c; c++) {
            if (*c == ' ' && ++field == 22) {
                p->starttime = strtoull(c + 1, NULL, 10);
                break;
            }
        }
    }
}

const fk__proc *fk__pidindex_proc(fk__pidindex *ix, uint32_t pid)
{
    fk__proc *p = get_proc(ix, pid);
    if (!p)
        return NULL;
    if (!p->info_loaded)
        load_info(ix, p);
    return p;
}

void fk__pidindex_get_stats(const fk__pidindex *ix, fk__pidindex_stats *out)
{
    *out = ix->stats;
}

void fk__pidindex_explain(fk__pidindex *ix, uint64_t inode)
{
    DIR *d = opendir(ix->root);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        uint32_t pid;
        if (!parse_pid(e->d_name, &pid))
            continue;
        char path[512];
        snprintf(path, sizeof path, "%s/%u/fd", ix->root, pid);
        DIR *f = opendir(path);
        if (!f)
            continue;
        struct dirent *g;
        while ((g = readdir(f)) != NULL) {
            char link[64];
            ssize_t n = readlinkat(dirfd(f), g->d_name, link, sizeof link - 1);
            if (n <= 0)
                continue;
            link[n] = '\0';
            if (socket_inode(link) != inode)
                continue;
            fk__proc *p = get_proc(ix, pid);
            int64_t size = -1, mtime = 0;
            uint64_t ino = 0;
            read_fd_sig(ix, pid, &size, &mtime, &ino);
            FK__LOG_DEBUG("proc",
                          "explain: inode %llu is fd %s of pid %u; index: %s uid %u n_inodes %zu "
                          "sig %lld/%lld now, age %.1f ms, mru0 %u",
                          (unsigned long long)inode, g->d_name, pid, p ? "known" : "unknown",
                          p ? p->uid : 0, p ? p->n_inodes : 0, p ? (long long)p->fd_size : -1,
                          (long long)size,
                          p ? (double)(fk__mono_ns() - p->first_seen_ns) / 1e6 : -1.0, ix->mru[0]);
        }
        closedir(f);
    }
    closedir(d);
}
