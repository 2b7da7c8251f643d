/* A fake proc root in a temp directory for the proc index tests:
 * <root>/<pid>/{fd/,comm,cmdline,status,cgroup,stat,exe} and <root>/net/. */
#ifndef FK_TEST_FAKE_PROC_H
#define FK_TEST_FAKE_PROC_H

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static inline void fp_write(const char *root, const char *rel, const char *data, size_t len)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    FILE *f = fopen(path, "wb");
    if (!f)
        abort();
    fwrite(data, 1, len, f);
    fclose(f);
}

static inline void fp_proc(const char *root, unsigned pid, const char *comm, unsigned uid,
                           const char *cmdline, size_t cmdlen)
{
    char path[512], buf[512];
    snprintf(path, sizeof path, "%s/%u", root, pid);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/%u/fd", root, pid);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%u/comm", pid);
    snprintf(buf, sizeof buf, "%s\n", comm);
    fp_write(root, path, buf, strlen(buf));
    snprintf(path, sizeof path, "%u/cmdline", pid);
    fp_write(root, path, cmdline, cmdlen);
    snprintf(path, sizeof path, "%u/status", pid);
    snprintf(buf, sizeof buf, "Name:\t%s\nUid:\t%u\t%u\t%u\t%u\n", comm, uid, uid, uid, uid);
    fp_write(root, path, buf, strlen(buf));
    snprintf(path, sizeof path, "%u/cgroup", pid);
    snprintf(buf, sizeof buf, "0::/fake.slice/%s.scope\n", comm);
    fp_write(root, path, buf, strlen(buf));
    snprintf(path, sizeof path, "%u/stat", pid);
    snprintf(buf, sizeof buf, "%u (%s) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 %u 0 0\n", pid, comm,
             5000 + pid);
    fp_write(root, path, buf, strlen(buf));
    snprintf(path, sizeof path, "%s/%u/exe", root, pid);
    snprintf(buf, sizeof buf, "/usr/bin/%s", comm);
    if (symlink(buf, path) != 0)
        abort();
}

static inline void fp_fd(const char *root, unsigned pid, int fd, const char *target)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%u/fd/%d", root, pid, fd);
    unlink(path);
    if (symlink(target, path) != 0)
        abort();
}

static inline void fp_sock(const char *root, unsigned pid, int fd, unsigned long long inode)
{
    char t[64];
    snprintf(t, sizeof t, "socket:[%llu]", inode);
    fp_fd(root, pid, fd, t);
}

static inline int fp_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    return flag == FTW_DP ? rmdir(path) : unlink(path);
}

static inline void fp_rm_tree(const char *path)
{
    nftw(path, fp_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static inline void fp_rm_proc(const char *root, unsigned pid)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%u", root, pid);
    fp_rm_tree(path);
}

#endif
