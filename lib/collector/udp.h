/* Internal: UDP sockets of the collector: opening (buffer size, drop
 * reporting), batched receive with recvmmsg, and the kernel's drop counts.
 * Used by the dispatching thread (loop.c) and the worker threads. */
#ifndef FK_COLLECTOR_UDP_H
#define FK_COLLECTOR_UDP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "collector/internal.h"

#define FK__COL_MAX_DGRAM 65536
#define FK__COL_CTRL_SIZE CMSG_SPACE(sizeof(uint32_t))

/* Ask for a receive buffer of bytes (0 = kernel default); logs when only a
 * smaller one is granted. */
int fk__col_set_rcvbuf(int fd, int64_t bytes, const char *what);
/* How a UDP socket shares its port (SO_REUSEPORT). */
typedef enum fk__col_reuse {
    FK__COL_REUSE_NONE,  /* the port is this socket's alone */
    FK__COL_REUSE_FIRST, /* bound alone (refused when any other socket holds the
                          * port), then open to this process's siblings */
    FK__COL_REUSE_JOIN   /* join the SO_REUSEPORT group on the port: a sibling,
                          * or a port shared with another process on purpose */
} fk__col_reuse;
/* A bound UDP socket for u. */
int fk__col_open_udp(const fk__col_uri *u, int64_t rcvbuf, fk__col_reuse reuse, const char *what,
                     int *out);
/* One recvmmsg of up to batch datagrams into bufs (FK__COL_MAX_DGRAM each)
 * and ctrl (FK__COL_CTRL_SIZE each). */
int fk__col_recv_batch(int fd, struct mmsghdr *msgs, struct iovec *iovs,
                       struct sockaddr_storage *addrs, uint8_t *bufs, uint8_t *ctrl, size_t batch);
/* Kernel drops reported with a datagram (SO_RXQ_OVFL) folded into *seen;
 * returns the increase. */
uint64_t fk__col_drops_update(uint32_t *seen, const struct msghdr *m);
/* The socket's kernel drop counter right now (SO_MEMINFO), folded into
 * *seen the same way; returns the increase. Catches drops that no later
 * datagram reported through SO_RXQ_OVFL. */
uint64_t fk__col_drops_poll(uint32_t *seen, int fd);

#endif
