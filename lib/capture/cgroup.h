/* Internal: CPU and memory limits for the capturing process via cgroups.
 *
 * fk__cgroup_apply() creates a child group "flowkit-<pid>" below the
 * process's current group, writes the limits and moves the whole process
 * (cgroup.procs) into it; fk__cgroup_restore() moves it back to the groups
 * it was in and removes the child.
 *
 * cgroup v2 is used when the unified hierarchy offers the needed controllers
 * in the current group's cgroup.controllers (cpu.max "quota period",
 * memory.max); the parent's cgroup.subtree_control gets "+cpu"/"+memory" if
 * missing (the kernel refuses that, EBUSY, when the parent holds processes
 * and is not the root: reported as FK_EUNSUPPORTED). Otherwise cgroup v1
 * hierarchies that have the controllers (cpu.cfs_period_us = 100000 and
 * cpu.cfs_quota_us = cores * 100000; memory.limit_in_bytes). */
#ifndef FK_CAPTURE_CGROUP_H
#define FK_CAPTURE_CGROUP_H

#include <stdint.h>

typedef struct fk__cgroup fk__cgroup;

typedef struct fk__cgroup_config {
    double cpu_cores;  /* 0 = no CPU limit */
    int64_t mem_bytes; /* 0 = no memory limit */
    int version;       /* 0 auto (v2 if usable, else v1), 1 or 2 */
} fk__cgroup_config;

/* Apply the limits. *out is NULL when there is nothing to limit. Errors:
 * FK_EPERM (not permitted), FK_EUNSUPPORTED (no usable hierarchy), FK_EIO.
 * On failure nothing is left behind (groups removed, process moved back). */
int fk__cgroup_apply(fk__cgroup **out, const fk__cgroup_config *cfg);

/* Move the process back and remove the groups; NULL is a no-op. Problems
 * are logged, not returned. */
void fk__cgroup_restore(fk__cgroup *cg);

/* The version in use (1 or 2). */
int fk__cgroup_version(const fk__cgroup *cg);

/* Directory of the group created for a controller ("cpu", "memory"), or
 * NULL when that controller is not limited. Borrowed. */
const char *fk__cgroup_dir(const fk__cgroup *cg, const char *controller);

#endif
