/* UDP sockets of the collector (see udp.h). */
#include <errno.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <string.h>
#include <unistd.h>

#include "collector/udp.h"
#include "core/error.h"
#include "core/log.h"

int fk__col_set_rcvbuf(int fd, int64_t bytes, const char *what)
{
    if (bytes <= 0)
        return FK_OK;
    int v = (int)bytes;
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &v, sizeof v) == 0)
        return FK_OK;
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof v) != 0)
        return fk__error_errno(FK_EIO, "%s: SO_RCVBUF", what);
    int got = 0;
    socklen_t gl = sizeof got;
    getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &got, &gl);
    FK__LOG_INFO("collector",
                 "%s: receive buffer %d bytes (asked %d; SO_RCVBUFFORCE needs CAP_NET_ADMIN)", what,
                 got, v);
    return FK_OK;
}

int fk__col_open_udp(const fk__col_uri *u, int64_t rcvbuf, fk__col_reuse reuse, const char *what,
                     int *out)
{
    int fd = socket(u->ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return fk__error_errno(FK_EIO, "%s: socket", what);
    int one = 1;
    if (u->ss.ss_family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    if (reuse == FK__COL_REUSE_JOIN)
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof one);
    int rc = fk__col_set_rcvbuf(fd, rcvbuf, what);
    if (rc == FK_OK && bind(fd, (const struct sockaddr *)&u->ss, u->sslen) != 0) {
        if (errno == EADDRINUSE && reuse == FK__COL_REUSE_FIRST)
            rc = fk__error_errno(FK_EIO,
                                 "%s: the port is held by another socket (another collector?); "
                                 "share_port = 1 shares it with SO_REUSEPORT",
                                 what);
        else
            rc = fk__error_errno(errno == EACCES ? FK_EPERM : FK_EIO, "%s: bind", what);
    }
    /* Bound alone, so no other process shares the port; now this process's
     * worker sockets may join (the kernel checks the option of the sockets
     * already bound, and the group forms around this one). */
    if (rc == FK_OK && reuse == FK__COL_REUSE_FIRST &&
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0)
        rc = fk__error_errno(FK_EIO, "%s: SO_REUSEPORT", what);
    if (rc) {
        close(fd);
        return rc;
    }
    *out = fd;
    return FK_OK;
}

static uint32_t cmsg_drops(const struct msghdr *m)
{
    for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR((struct msghdr *)m, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_RXQ_OVFL) {
            uint32_t v;
            memcpy(&v, CMSG_DATA(c), sizeof v);
            return v;
        }
    }
    return 0;
}

int fk__col_recv_batch(int fd, struct mmsghdr *msgs, struct iovec *iovs,
                       struct sockaddr_storage *addrs, uint8_t *bufs, uint8_t *ctrl, size_t batch)
{
    for (size_t i = 0; i < batch; i++) {
        iovs[i].iov_base = bufs + i * FK__COL_MAX_DGRAM;
        iovs[i].iov_len = FK__COL_MAX_DGRAM;
        memset(&msgs[i].msg_hdr, 0, sizeof msgs[i].msg_hdr);
        msgs[i].msg_hdr.msg_name = &addrs[i];
        msgs[i].msg_hdr.msg_namelen = sizeof addrs[i];
        msgs[i].msg_hdr.msg_iov = &iovs[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
        msgs[i].msg_hdr.msg_control = ctrl + i * FK__COL_CTRL_SIZE;
        msgs[i].msg_hdr.msg_controllen = FK__COL_CTRL_SIZE;
    }
    return recvmmsg(fd, msgs, (unsigned)batch, MSG_DONTWAIT, NULL);
}

/* Kernel drops: SO_RXQ_OVFL carries the socket's running drop count. */
uint64_t fk__col_drops_update(uint32_t *seen, const struct msghdr *m)
{
    uint32_t v = cmsg_drops(m);
    /* Datagrams queued before a SO_MEMINFO poll carry older counts. */
    if (v == 0 || v == *seen || v - *seen > 0x80000000u)
        return 0;
    uint32_t d = v - *seen;
    *seen = v;
    return d;
}

uint64_t fk__col_drops_poll(uint32_t *seen, int fd)
{
    uint32_t mem[SK_MEMINFO_VARS];
    socklen_t len = sizeof mem;
    if (fd < 0 || getsockopt(fd, SOL_SOCKET, SO_MEMINFO, mem, &len) != 0 ||
        len < sizeof(uint32_t) * (SK_MEMINFO_DROPS + 1))
        return 0;
    uint32_t v = mem[SK_MEMINFO_DROPS];
    if (v == *seen || v - *seen > 0x80000000u) /* older than what we know */
        return 0;
    uint32_t d = v - *seen;
    *seen = v;
    return d;
}
