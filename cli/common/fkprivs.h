/* cli/common: least privilege for the flowkit tools.
 *
 * A tool opens what needs privileges first (capture handles, listening
 * sockets, BPF programs, cgroup limits), then calls fkcli_privs_drop():
 *  - started as root: switch to `user` (--user / -Z), or to
 *    FKCLI_DEFAULT_USER ("flowkit", the system user the package creates)
 *    when that user exists; the groups become that user's primary group
 *    only;
 *  - in any case: keep only the capabilities in `keep` (effective and
 *    permitted; inheritable and ambient cleared; bounding set reduced to
 *    `keep` where the process may change it), and set no_new_privs, so no
 *    later execve() can gain anything.
 * Started as root with no --user and no "flowkit" user, the process stays
 * uid 0 but with only `keep` (`--user root` asks for that explicitly).
 *
 * What the tools keep: attribution on, CAP_SYS_PTRACE and
 * CAP_DAC_READ_SEARCH (reading /proc/PID/fd and /proc/PID/exe of other
 * users' processes, which the socket-to-process index must go on doing);
 * otherwise nothing.
 *
 * No libcap (and no libcap-dev): capget/capset through syscall(2), prctl. */
#ifndef FKPRIVS_H
#define FKPRIVS_H

#include <stddef.h>
#include <stdint.h>

/* The user a tool started as root switches to by default, if it exists. */
#define FKCLI_DEFAULT_USER "flowkit"

/* A capability as a bit of `keep` (numbers of <linux/capability.h>). */
#define FKCLI_CAP(n) (UINT64_C(1) << (n))

/* What was done, for --check style reports and tests. */
typedef struct fkcli_privs_result {
    int switched;      /* 1: uid/gid changed */
    unsigned uid, gid; /* the ids the process runs as now */
    uint64_t kept;     /* capabilities left in the effective set */
} fkcli_privs_result;

/* Drop as described above. `user` NULL: the default user if it exists;
 * `user` given and unknown, or given while not root (and not the current
 * user): -2 (bad usage) with a message in err. A failing system call: -1
 * with the call named. Thread-safety: call before starting threads that must not keep
 * privileges (the ids of every thread change together; capabilities are
 * per thread, so threads started earlier keep theirs). */
int fkcli_privs_drop(const char *user, uint64_t keep, fkcli_privs_result *out, char *err,
                     size_t errsize);

/* At option time: a --user that does not exist is bad usage (exit 2). */
void fkcli_privs_check_user(const char *user);

/* fkcli_privs_drop() for a tool: exit 2 on bad usage, 1 on a failure. */
void fkcli_drop_privileges(const char *user, uint64_t keep);

/* The capabilities of the attribution (see above). */
uint64_t fkcli_privs_attribution_caps(void);

#endif
