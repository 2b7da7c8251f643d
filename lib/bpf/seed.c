/* Owners for the sockets that existed before the programs were attached.
 *
 * The kernel side learns a socket's owner when the socket is created or
 * used through a hook (connect, UDP send/receive). A listening TCP socket
 * made before the capture started goes through none of them again, and the
 * connections it accepts inherit its (empty) record: every server-side
 * connection of an old server would then stay without an event. So, once
 * the programs are attached, every TCP and UDP socket of every process gets
 * its record from user space: the socket is borrowed through pidfd_getfd(2)
 * (root), and written into the socket storage map with its fd as the key.
 * Sockets created meanwhile are seen by the hooks; a record written twice
 * holds the same owner. */
#ifdef FK_HAVE_BPF

#include <bpf/bpf.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "bpf/event.h"
#include "bpf/seed.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif

static void read_comm(const char *proc_root, long pid, char comm[FK__BPF_COMM_LEN])
{
    char path[256];
    memset(comm, 0, FK__BPF_COMM_LEN);
    snprintf(path, sizeof path, "%s/%ld/comm", proc_root, pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return;
    if (fgets(comm, FK__BPF_COMM_LEN, f))
        comm[strcspn(comm, "\n")] = '\0';
    fclose(f);
}

static void read_ids(const char *proc_root, long pid, uint32_t *uid, uint32_t *gid)
{
    char path[256], line[256];
    snprintf(path, sizeof path, "%s/%ld/status", proc_root, pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return;
    while (fgets(line, sizeof line, f)) {
        unsigned a;
        if (sscanf(line, "Uid: %u", &a) == 1)
            *uid = a;
        else if (sscanf(line, "Gid: %u", &a) == 1)
            *gid = a;
    }
    fclose(f);
}

static bool inet_stream_or_dgram(int fd)
{
    int domain = 0, proto = 0;
    socklen_t len = sizeof domain;
    if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) != 0)
        return false;
    len = sizeof proto;
    if (getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &proto, &len) != 0)
        return false;
    return (domain == AF_INET || domain == AF_INET6) && (proto == 6 || proto == 17);
}

/* The sockets of one process. Returns how many got a record. */
static uint64_t seed_process(int map_fd, const char *proc_root, long pid, int64_t now_ns)
{
    char path[256], link[64];
    snprintf(path, sizeof path, "%s/%ld/fd", proc_root, pid);
    DIR *d = opendir(path);
    if (!d)
        return 0;
    int pidfd = -1;
    uint64_t n = 0;
    struct fk__bpf_sock_owner o;
    bool have_owner = false;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        char *end;
        long fdnum = strtol(de->d_name, &end, 10);
        if (*end || end == de->d_name)
            continue;
        char fdpath[600];
        snprintf(fdpath, sizeof fdpath, "%s/%s", path, de->d_name);
        ssize_t k = readlink(fdpath, link, sizeof link - 1);
        if (k <= 0)
            continue;
        link[k] = '\0';
        if (strncmp(link, "socket:[", 8) != 0)
            continue;
        if (pidfd < 0 && (pidfd = (int)syscall(SYS_pidfd_open, (pid_t)pid, 0)) < 0)
            break; /* gone, or no pidfd support */
        int fd = (int)syscall(SYS_pidfd_getfd, pidfd, (int)fdnum, 0);
        if (fd < 0)
            continue;
        if (inet_stream_or_dgram(fd)) {
            if (!have_owner) {
                memset(&o, 0, sizeof o);
                o.pid = o.tgid = (uint32_t)pid;
                read_ids(proc_root, pid, &o.uid, &o.gid);
                read_comm(proc_root, pid, o.comm);
                o.since_ns = (uint64_t)now_ns;
                have_owner = true;
            }
            /* BPF_NOEXIST: a record the hooks made meanwhile is newer. */
            if (bpf_map_update_elem(map_fd, &fd, &o, BPF_NOEXIST) == 0)
                n++;
        }
        close(fd);
    }
    if (pidfd >= 0)
        close(pidfd);
    closedir(d);
    return n;
}

uint64_t fk__bpf_seed_existing(int map_fd, const char *proc_root)
{
    const char *root = proc_root ? proc_root : "/proc";
    DIR *d = opendir(root);
    if (!d)
        return 0;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    int64_t now = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
    uint64_t n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        char *end;
        long pid = strtol(de->d_name, &end, 10);
        if (*end || end == de->d_name || pid <= 0)
            continue;
        n += seed_process(map_fd, root, pid, now);
    }
    closedir(d);
    return n;
}

#else
/* Without the BPF backend there is nothing to seed (ISO C wants a declaration). */
typedef int fk__bpf_seed_unavailable;
#endif /* FK_HAVE_BPF */
