/* Internal: the BPF attribution source's user-space side.
 *
 *   kernel (owner.bpf.c) ─ ring buffer ─► fk__bpf_drain() ─ decode ─► callback
 *
 * fk__bpf_event_decode() is a pure function over the bytes of one ring
 * buffer record (fuzzed); the loader (loader.c) loads the programs, attaches
 * them to the root of the cgroup v2 hierarchy through BPF links (they go
 * away with the process, even on a crash) and drains the ring. Built without
 * libbpf/clang, the loader reports the backend unavailable. */
#ifndef FK_BPF_BACKEND_H
#define FK_BPF_BACKEND_H

#include <flowkit/flow.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FK__BPF_OWNER_KIND_OWNER 1   /* tuple -> owner, at the first packet */
#define FK__BPF_OWNER_KIND_RELEASE 2 /* the owner closed the socket (cookie) */

/* One decoded ring buffer record. */
typedef struct fk__bpf_owner {
    uint8_t kind;          /* FK__BPF_OWNER_KIND_* */
    uint8_t proto;         /* 6 or 17 */
    uint8_t egress;        /* OWNER: 1 seen leaving (local = source), 0 arriving */
    fk_addr local, remote; /* OWNER only; same family */
    uint16_t lport, rport; /* host order; OWNER only */
    uint32_t pid, tgid, uid, gid;
    uint64_t cgroup;
    uint64_t cookie;
    int64_t ts_mono_ns;    /* when the kernel wrote it (CLOCK_MONOTONIC) */
    int64_t since_mono_ns; /* when the owner took the socket */
    char comm[16];         /* NUL-terminated (at most 15 characters, as the kernel's) */
} fk__bpf_owner;

/* Decode one record. 0 on success; FK_ETRUNCATED (short), FK_EMALFORMED
 * (wrong version, kind, protocol, family, port 0, non-zero padding or
 * address bytes beyond an IPv4 address) or FK_EUNSUPPORTED (newer
 * version). Records a message with fk__error on failure. */
int fk__bpf_event_decode(const void *data, size_t len, fk__bpf_owner *out);

/* ---- loader ---------------------------------------------------------------- */

typedef struct fk__bpf fk__bpf;

typedef struct fk__bpf_config {
    const char *cgroup_path; /* cgroup v2 directory; default /sys/fs/cgroup/unified,
                                then /sys/fs/cgroup when that is v2 */
    uint32_t ring_bytes;     /* ring buffer size, power of two >= 4096; default 4 MiB */
    /* Tell only about packets through these devices (the capture's); none
     * (or more than 256) = every device. */
    const uint32_t *ifindexes;
    size_t n_ifindexes;
} fk__bpf_config;

/* True when this build has the BPF backend (clang BPF target, libbpf,
 * bpftool found at build time). */
bool fk__bpf_built(void);

/* Load the programs and attach them. Fails with FK_EUNSUPPORTED (backend
 * not built, or refused because the environment variable FLOWKIT_BPF_REFUSE
 * is set: how tests simulate a kernel without BPF), FK_EPERM (no
 * privilege), FK_ENOTFOUND (no cgroup v2 hierarchy) or FK_EIO (the kernel
 * refused a program or an attachment; the message says which). */
int fk__bpf_open(fk__bpf **out, const fk__bpf_config *cfg);

/* Detach everything and free (NULL: nothing). */
void fk__bpf_close(fk__bpf *b);

/* Decoded records go to this callback; a non-zero return stops the drain. */
typedef int (*fk__bpf_owner_cb)(const fk__bpf_owner *o, void *ctx);

/* Consume every record now in the ring (non-blocking). Returns the number
 * of records handed to cb, or a negative status. Records that do not
 * decode are counted (malformed) and skipped. */
int fk__bpf_drain(fk__bpf *b, fk__bpf_owner_cb cb, void *ctx);

/* The ring buffer's pollable fd (readable when records wait), -1 if none. */
int fk__bpf_get_fd(const fk__bpf *b);

typedef struct fk__bpf_stats {
    uint64_t events;       /* records the kernel submitted */
    uint64_t drained;      /* records decoded in user space */
    uint64_t malformed;    /* records that did not decode */
    uint64_t lost_ring;    /* records dropped in the kernel: ring buffer full */
    uint64_t lost_storage; /* sockets the kernel could not give an owner record */
    uint64_t seeded;       /* sockets older than the programs, given an owner at open */
} fk__bpf_stats;

void fk__bpf_get_stats(const fk__bpf *b, fk__bpf_stats *out);

#endif
