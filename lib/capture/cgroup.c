#include "capture/cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/log.h"

#define CG_PATH_MAX 4096
#define CFS_PERIOD_US 100000

typedef struct cg_group {
    char controllers[32]; /* "cpu", "memory" or "cpu,memory" (v2) */
    char *orig;           /* directory the process was in */
    char *child;          /* directory created for it */
    bool created;
    bool moved;
} cg_group;

struct fk__cgroup {
    int version;
    cg_group groups[2];
    size_t count;
};

static int write_text(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    size_t len = strlen(text);
    ssize_t n = write(fd, text, len);
    int err = n < 0 ? errno : 0;
    close(fd);
    if (n < 0)
        return -err;
    return (size_t)n == len ? 0 : -EIO;
}

static int read_text(const char *path, char *buf, size_t size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    ssize_t n = read(fd, buf, size - 1);
    int err = errno;
    close(fd);
    if (n < 0)
        return -err;
    buf[n] = '\0';
    return 0;
}

static bool has_token(const char *list, const char *token, char sep)
{
    size_t tl = strlen(token);
    for (const char *p = list; p && *p;) {
        const char *end = strchr(p, sep);
        size_t len = end ? (size_t)(end - p) : strcspn(p, "\n");
        if (len == tl && strncmp(p, token, tl) == 0)
            return true;
        p = end ? end + 1 : NULL;
    }
    return false;
}

/* Undo mountinfo's octal escapes (\040 for space) in place. */
static void unescape(char *s)
{
    char *w = s;
    for (char *r = s; *r;) {
        if (r[0] == '\\' && r[1] >= '0' && r[1] <= '7' && r[2] >= '0' && r[2] <= '7' &&
            r[3] >= '0' && r[3] <= '7') {
            *w++ = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
            r += 4;
        } else {
            *w++ = *r++;
        }
    }
    *w = '\0';
}

/* Path of the process in the hierarchy holding `controller` (v1), or in the
 * unified hierarchy (controller NULL). */
static bool self_cgroup_path(const char *controller, char *out, size_t size)
{
    FILE *f = fopen("/proc/self/cgroup", "re");
    if (!f)
        return false;
    char line[CG_PATH_MAX + 128];
    bool found = false;
    while (!found && fgets(line, sizeof line, f)) {
        char *c1 = strchr(line, ':');
        char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (!c2)
            continue;
        *c2 = '\0';
        const char *list = c1 + 1;
        bool match = controller ? has_token(list, controller, ',')
                                : (strncmp(line, "0:", 2) == 0 && list[0] == '\0');
        if (match) {
            char *path = c2 + 1;
            path[strcspn(path, "\n")] = '\0';
            snprintf(out, size, "%s", path);
            found = true;
        }
    }
    fclose(f);
    return found;
}

/* Mount point of the v1 hierarchy with `controller`, or of cgroup2 (NULL),
 * and the root of that mount. */
static bool find_mount(const char *controller, char *mnt, size_t mnt_size, char *root,
                       size_t root_size)
{
    FILE *f = fopen("/proc/self/mountinfo", "re");
    if (!f)
        return false;
    char line[CG_PATH_MAX * 2];
    bool found = false;
    while (!found && fgets(line, sizeof line, f)) {
        /* id parent maj:min root mountpoint opts [optional...] - fstype source superopts */
        char *fields[6] = {0};
        char *save = NULL;
        char *tok = strtok_r(line, " \n", &save);
        int i = 0;
        while (tok && i < 6) {
            fields[i++] = tok;
            tok = strtok_r(NULL, " \n", &save);
        }
        while (tok && strcmp(tok, "-") != 0)
            tok = strtok_r(NULL, " \n", &save);
        if (i < 6 || !tok)
            continue;
        char *fstype = strtok_r(NULL, " \n", &save);
        char *source = strtok_r(NULL, " \n", &save);
        char *super = strtok_r(NULL, " \n", &save);
        (void)source;
        if (!fstype)
            continue;
        bool match = controller ? (strcmp(fstype, "cgroup") == 0 && super &&
                                   has_token(super, controller, ','))
                                : strcmp(fstype, "cgroup2") == 0;
        if (match) {
            unescape(fields[3]);
            unescape(fields[4]);
            snprintf(root, root_size, "%s", fields[3]);
            snprintf(mnt, mnt_size, "%s", fields[4]);
            found = true;
        }
    }
    fclose(f);
    return found;
}

/* Directory of the process's current group for a controller (NULL: v2). */
static bool current_dir(const char *controller, char *out, size_t size)
{
    char path[CG_PATH_MAX], mnt[CG_PATH_MAX], root[CG_PATH_MAX];
    if (!self_cgroup_path(controller, path, sizeof path) ||
        !find_mount(controller, mnt, sizeof mnt, root, sizeof root))
        return false;
    const char *rel = path;
    size_t rl = strlen(root);
    if (strcmp(root, "/") != 0 && strncmp(path, root, rl) == 0 &&
        (path[rl] == '/' || path[rl] == '\0'))
        rel = path + rl;
    if (strcmp(rel, "/") == 0)
        rel = "";
    int n = snprintf(out, size, "%s%s", mnt, rel);
    return n > 0 && (size_t)n < size;
}

static int perm_or_io(int err)
{
    return (err == EACCES || err == EPERM || err == EROFS) ? FK_EPERM : FK_EIO;
}

static int write_in(const char *dir, const char *file, const char *text)
{
    char path[CG_PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    int rc = write_text(path, text);
    if (rc < 0) {
        errno = -rc;
        return fk__error_errno(perm_or_io(-rc), "cgroup: writing \"%s\" to %s", text, path);
    }
    return 0;
}

static int move_pid(const char *dir)
{
    char pid[24];
    snprintf(pid, sizeof pid, "%ld", (long)getpid());
    return write_in(dir, "cgroup.procs", pid);
}

static void group_restore(cg_group *g)
{
    if (g->moved) {
        if (move_pid(g->orig) < 0)
            FK__LOG_WARN("capture", "%s", fk_error_last()->message);
        g->moved = false;
    }
    if (g->created && g->child) {
        char eb[128];
        if (rmdir(g->child) < 0)
            FK__LOG_WARN("capture", "cgroup: cannot remove %s: %s", g->child,
                         fk__strerror_r(errno, eb, sizeof eb));
        g->created = false;
    }
    fk__free(g->orig);
    fk__free(g->child);
    g->orig = g->child = NULL;
}

void fk__cgroup_restore(fk__cgroup *cg)
{
    if (!cg)
        return;
    for (size_t i = cg->count; i-- > 0;)
        group_restore(&cg->groups[i]);
    fk__free(cg);
}

/* Create the child under `orig`, write the limits, move the process in. */
static int group_setup(cg_group *g, int version, const char *orig, const fk__cgroup_config *cfg,
                       bool cpu, bool mem)
{
    char child[CG_PATH_MAX];
    int n = snprintf(child, sizeof child, "%s/flowkit-%ld", orig, (long)getpid());
    if (n < 0 || (size_t)n >= sizeof child)
        return fk__error(FK_EINVAL, "cgroup: path too long below %s", orig);
    g->orig = fk__strdup(orig);
    g->child = fk__strdup(child);
    if (!g->orig || !g->child)
        return fk__error(FK_ENOMEM, "cgroup: out of memory");
    if (mkdir(child, 0755) < 0) {
        if (errno != EEXIST)
            return fk__error_errno(perm_or_io(errno),
                                   "cgroup: cannot create %s (needs root or a delegated group)",
                                   child);
    } else {
        g->created = true;
    }
    char text[64];
    int rc = 0;
    if (cpu) {
        int64_t quota = (int64_t)(cfg->cpu_cores * CFS_PERIOD_US + 0.5);
        if (quota < 1000)
            quota = 1000; /* the kernel's minimum quota: 1 ms */
        if (version == 2) {
            snprintf(text, sizeof text, "%" PRId64 " %d", quota, CFS_PERIOD_US);
            rc = write_in(child, "cpu.max", text);
        } else {
            snprintf(text, sizeof text, "%d", CFS_PERIOD_US);
            rc = write_in(child, "cpu.cfs_period_us", text);
            if (rc == 0) {
                snprintf(text, sizeof text, "%" PRId64, quota);
                rc = write_in(child, "cpu.cfs_quota_us", text);
            }
        }
        if (rc < 0)
            return rc;
    }
    if (mem) {
        snprintf(text, sizeof text, "%" PRId64, cfg->mem_bytes);
        rc = write_in(child, version == 2 ? "memory.max" : "memory.limit_in_bytes", text);
        if (rc < 0)
            return rc;
    }
    rc = move_pid(child);
    if (rc < 0)
        return rc;
    g->moved = true;
    return 0;
}

static bool v2_usable(bool cpu, bool mem, char *dir, size_t size)
{
    char controllers[512];
    char path[CG_PATH_MAX + 32];
    if (!current_dir(NULL, dir, size))
        return false;
    snprintf(path, sizeof path, "%s/cgroup.controllers", dir);
    if (read_text(path, controllers, sizeof controllers) < 0)
        return false;
    return (!cpu || has_token(controllers, "cpu", ' ')) &&
           (!mem || has_token(controllers, "memory", ' '));
}

static int v2_enable(const char *dir, bool cpu, bool mem)
{
    char path[CG_PATH_MAX + 32], have[512];
    snprintf(path, sizeof path, "%s/cgroup.subtree_control", dir);
    if (read_text(path, have, sizeof have) < 0)
        return fk__error_errno(FK_EIO, "cgroup: reading %s", path);
    char want[32] = "";
    if (cpu && !has_token(have, "cpu", ' '))
        strcat(want, "+cpu ");
    if (mem && !has_token(have, "memory", ' '))
        strcat(want, "+memory");
    if (!want[0])
        return 0;
    int rc = write_text(path, want);
    if (rc == -EBUSY)
        return fk__error(FK_EUNSUPPORTED,
                         "cgroup v2: cannot enable controllers in %s: the group holds processes "
                         "(no-internal-process rule); start flowkit in a group of its own",
                         path);
    if (rc < 0) {
        errno = -rc;
        return fk__error_errno(perm_or_io(-rc), "cgroup: writing \"%s\" to %s", want, path);
    }
    return 0;
}

int fk__cgroup_apply(fk__cgroup **out, const fk__cgroup_config *cfg)
{
    *out = NULL;
    bool cpu = cfg->cpu_cores > 0;
    bool mem = cfg->mem_bytes > 0;
    if (!cpu && !mem)
        return 0;
    fk__cgroup *cg = FK__NEW(fk__cgroup);
    if (!cg)
        return fk__error(FK_ENOMEM, "cgroup: out of memory");
    char dir[CG_PATH_MAX];
    int rc;
    if (cfg->version != 1 && v2_usable(cpu, mem, dir, sizeof dir)) {
        cg->version = 2;
        cg->count = 1;
        snprintf(cg->groups[0].controllers, sizeof cg->groups[0].controllers, "%s%s%s",
                 cpu ? "cpu" : "", cpu && mem ? "," : "", mem ? "memory" : "");
        rc = v2_enable(dir, cpu, mem);
        if (rc == 0)
            rc = group_setup(&cg->groups[0], 2, dir, cfg, cpu, mem);
    } else if (cfg->version == 2) {
        rc = fk__error(FK_EUNSUPPORTED,
                       "cgroup v2: the unified hierarchy does not offer the %s%s%s controller%s "
                       "here",
                       cpu ? "cpu" : "", cpu && mem ? " and " : "", mem ? "memory" : "",
                       cpu && mem ? "s" : "");
    } else {
        cg->version = 1;
        char cpu_dir[CG_PATH_MAX] = "", mem_dir[CG_PATH_MAX] = "";
        rc = 0;
        if (cpu && !current_dir("cpu", cpu_dir, sizeof cpu_dir))
            rc = fk__error(FK_EUNSUPPORTED, "cgroup: no cgroup v2 with the cpu controller and "
                                            "no cgroup v1 cpu hierarchy mounted");
        if (rc == 0 && mem && !current_dir("memory", mem_dir, sizeof mem_dir))
            rc = fk__error(FK_EUNSUPPORTED, "cgroup: no cgroup v2 with the memory controller "
                                            "and no cgroup v1 memory hierarchy mounted");
        if (rc == 0 && cpu && mem && strcmp(cpu_dir, mem_dir) == 0) {
            /* Both controllers on one v1 hierarchy: one group. */
            cg_group *g = &cg->groups[cg->count++];
            snprintf(g->controllers, sizeof g->controllers, "cpu,memory");
            rc = group_setup(g, 1, cpu_dir, cfg, true, true);
        } else {
            if (rc == 0 && cpu) {
                cg_group *g = &cg->groups[cg->count++];
                snprintf(g->controllers, sizeof g->controllers, "cpu");
                rc = group_setup(g, 1, cpu_dir, cfg, true, false);
            }
            if (rc == 0 && mem) {
                cg_group *g = &cg->groups[cg->count++];
                snprintf(g->controllers, sizeof g->controllers, "memory");
                rc = group_setup(g, 1, mem_dir, cfg, false, true);
            }
        }
    }
    if (rc < 0) {
        fk__cgroup_restore(cg);
        return rc;
    }
    *out = cg;
    return 0;
}

int fk__cgroup_version(const fk__cgroup *cg)
{
    return cg ? cg->version : 0;
}

const char *fk__cgroup_dir(const fk__cgroup *cg, const char *controller)
{
    if (!cg)
        return NULL;
    for (size_t i = 0; i < cg->count; i++) {
        if (has_token(cg->groups[i].controllers, controller, ','))
            return cg->groups[i].child;
    }
    return NULL;
}
