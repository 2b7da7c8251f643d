/* Least privilege for the tools (see fkprivs.h). */
#include "fkprivs.h"

#include "fkcli.h"

#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static int refuse(char *err, size_t errsize, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int refuse(char *err, size_t errsize, const char *fmt, ...)
{
    if (err && errsize) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errsize, fmt, ap);
        va_end(ap);
    }
    return -1;
}

void fkcli_privs_check_user(const char *user)
{
    if (user && !getpwnam(user))
        fkcli_usage("--user %s: no such user", user);
}

void fkcli_drop_privileges(const char *user, uint64_t keep)
{
    char err[512];
    int rc = fkcli_privs_drop(user, keep, NULL, err, sizeof err);
    if (rc == -2)
        fkcli_usage("%s", err);
    if (rc != 0)
        fkcli_fail("dropping privileges: %s", err);
}

uint64_t fkcli_privs_attribution_caps(void)
{
    return FKCLI_CAP(CAP_SYS_PTRACE) | FKCLI_CAP(CAP_DAC_READ_SEARCH);
}

/* This thread's capability sets (64 bits each), through capget(2). */
static int caps_get(uint64_t *effective, uint64_t *permitted)
{
    struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct data[2];
    memset(data, 0, sizeof data);
    if (syscall(SYS_capget, &hdr, data) != 0)
        return -1;
    *effective = data[0].effective | (uint64_t)data[1].effective << 32;
    *permitted = data[0].permitted | (uint64_t)data[1].permitted << 32;
    return 0;
}

static int caps_set(uint64_t effective, uint64_t permitted)
{
    struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct data[2];
    memset(data, 0, sizeof data);
    data[0].effective = (uint32_t)effective;
    data[1].effective = (uint32_t)(effective >> 32);
    data[0].permitted = (uint32_t)permitted;
    data[1].permitted = (uint32_t)(permitted >> 32);
    return syscall(SYS_capset, &hdr, data) == 0 ? 0 : -1;
}

/* Remove every capability outside `keep` from the bounding set, where this
 * process may (CAP_SETPCAP); without it the set stays, and no_new_privs
 * keeps execve() from using it. */
static void bounding_reduce(uint64_t keep)
{
    for (int cap = 0; cap < 64; cap++) {
        int in = prctl(PR_CAPBSET_READ, cap, 0, 0, 0);
        if (in < 0)
            break; /* past the kernel's last capability */
        if (in == 1 && !(keep & FKCLI_CAP(cap)) && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0)
            break; /* EPERM: no CAP_SETPCAP */
    }
}

int fkcli_privs_drop(const char *user, uint64_t keep, fkcli_privs_result *out, char *err,
                     size_t errsize)
{
    fkcli_privs_result res = {0, (unsigned)geteuid(), (unsigned)getegid(), 0};
    uid_t uid = geteuid();
    gid_t gid = getegid();
    int switching = 0;
    struct passwd *pw = getpwnam(user ? user : FKCLI_DEFAULT_USER);
    if (!pw && user) {
        refuse(err, errsize, "--user %s: no such user", user);
        return -2;
    }
    if (pw && pw->pw_uid != uid) {
        if (geteuid() != 0) {
            if (user) {
                refuse(err, errsize, "--user %s: only root can change the user", user);
                return -2;
            }
        } else {
            uid = pw->pw_uid;
            gid = pw->pw_gid;
            switching = 1;
        }
    }

    uint64_t eff = 0, perm = 0;
    if (caps_get(&eff, &perm) != 0)
        return refuse(err, errsize, "capget: %s", strerror(errno));
    bounding_reduce(keep);
    if (switching) {
        /* Keep the permitted set across the change of uid in this thread;
         * every other thread leaves uid 0 without it and so loses all its
         * capabilities (the library's attribution watcher keeps its own
         * two, see lib/proc/sockwatch.c). */
        if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0)
            return refuse(err, errsize, "prctl(PR_SET_KEEPCAPS): %s", strerror(errno));
        if (setgroups(1, &gid) != 0)
            return refuse(err, errsize, "setgroups(%u): %s", (unsigned)gid, strerror(errno));
        if (setresgid(gid, gid, gid) != 0)
            return refuse(err, errsize, "setresgid(%u): %s", (unsigned)gid, strerror(errno));
        if (setresuid(uid, uid, uid) != 0)
            return refuse(err, errsize, "setresuid(%u): %s", (unsigned)uid, strerror(errno));
        prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
        res.switched = 1;
    }
    uint64_t want = perm & keep;
    if (caps_set(want, want) != 0)
        return refuse(err, errsize, "capset: %s", strerror(errno));
    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        return refuse(err, errsize, "prctl(PR_SET_NO_NEW_PRIVS): %s", strerror(errno));
    if (caps_get(&eff, &perm) != 0)
        return refuse(err, errsize, "capget: %s", strerror(errno));
    /* The way back must be closed: no capability outside `keep` left. */
    if ((perm | eff) & ~keep)
        return refuse(err, errsize, "capabilities 0x%llx remain after dropping privileges",
                      (unsigned long long)((perm | eff) & ~keep));
    res.uid = (unsigned)geteuid();
    res.gid = (unsigned)getegid();
    res.kept = eff;
    if (out)
        *out = res;
    return 0;
}
