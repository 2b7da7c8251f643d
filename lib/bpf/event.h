/* Internal: the record the kernel side (owner.bpf.c) writes into the ring
 * buffer, shared by the BPF program and the user-space decoder. Fixed-width
 * fields, no padding holes, host byte order except where said. */
#ifndef FK_BPF_EVENT_H
#define FK_BPF_EVENT_H

#include <linux/types.h>

#define FK__BPF_EVENT_VERSION 1
#define FK__BPF_COMM_LEN 16
#define FK__BPF_MAX_IFACES 256 /* devices the kernel side can filter on */

/* kind */
enum {
    FK__BPF_EV_OWNER = 1,  /* a socket's first packet on this tuple: tuple -> owner */
    FK__BPF_EV_RELEASE = 2 /* the socket was closed by its owner (cookie only) */
};

/* dir: which side of the packet is the local end */
enum { FK__BPF_DIR_EGRESS = 1, FK__BPF_DIR_INGRESS = 2 };

struct fk__bpf_event {
    __u8 version;   /* FK__BPF_EVENT_VERSION */
    __u8 kind;      /* FK__BPF_EV_* */
    __u8 proto;     /* 6 TCP, 17 UDP (OWNER) */
    __u8 family;    /* 4 or 6: the packet's IP version (OWNER) */
    __u8 dir;       /* FK__BPF_DIR_* (OWNER) */
    __u8 pad[3];    /* zero */
    __u16 lport;    /* host order */
    __u16 rport;    /* host order */
    __u32 reserved; /* zero */
    __u32 pid;      /* thread id of the owner */
    __u32 tgid;     /* process id of the owner */
    __u32 uid;
    __u32 gid;
    __u64 cgroup;   /* cgroup v2 id */
    __u64 cookie;   /* socket cookie */
    __u64 ts_ns;    /* CLOCK_MONOTONIC (bpf_ktime_get_ns) */
    __u64 since_ns; /* CLOCK_MONOTONIC when the owner took the socket */
    __u8 laddr[16]; /* network order; IPv4 in the first 4 bytes, rest zero */
    __u8 raddr[16];
    char comm[FK__BPF_COMM_LEN]; /* task name, NUL-padded */
};

#define FK__BPF_EVENT_SIZE 112

/* The value of the socket storage map (fk_owners): who owns a socket. User
 * space writes it too, for sockets that existed before the programs were
 * attached (seed.c). */
struct fk__bpf_sock_owner {
    __u32 pid;
    __u32 tgid;
    __u32 uid;
    __u32 gid;
    __u64 cgroup;
    __u64 since_ns;
    __u64 announced; /* hash of the last tuple told to user space; 0 none */
    char comm[FK__BPF_COMM_LEN];
};

#endif
