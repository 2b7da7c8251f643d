/* Internal: UDP receive threads. Each worker reads its own SO_REUSEPORT
 * socket per UDP listener with recvmmsg and queues the datagrams (bounded;
 * overflow counted) for the dispatching thread, which decodes them: session
 * state stays single-threaded and callbacks run on the dispatching thread. */
#ifndef FK_COLLECTOR_WORKERS_H
#define FK_COLLECTOR_WORKERS_H

#include <stdint.h>
#include <sys/socket.h>

#include "collector/internal.h"

typedef struct fk__col_workers fk__col_workers;

typedef void (*fk__col_dgram_fn)(void *user, const struct sockaddr *from, const uint8_t *data,
                                 size_t len);

/* Start n threads. fds[i] is the already-bound socket of uris[i]: worker 0
 * reads it (without owning it); workers 1..n-1 open siblings. wakefd (an
 * eventfd) is written when datagrams are queued. */
int fk__col_workers_start(fk__col_workers **out, int n, const fk__col_uri *uris, const int *fds,
                          size_t nuris, int64_t rcvbuf, size_t queue_size, size_t batch,
                          int wakefd);
/* Stop and join the threads, close their sockets, free the queue. NULL ok. */
void fk__col_workers_stop(fk__col_workers *w);
/* Hand every queued datagram to fn (on the calling thread). Returns how
 * many; the running totals of queue and kernel drops are stored. */
int fk__col_workers_drain(fk__col_workers *w, fk__col_dgram_fn fn, void *user,
                          uint64_t *queue_drops, uint64_t *kernel_drops);

/* Shared with collector.c. */
int fk__col_open_udp(const fk__col_uri *u, int64_t rcvbuf, bool reuseport, const char *what,
                     int *out);
int fk__col_recv_batch(int fd, struct mmsghdr *msgs, struct iovec *iovs,
                       struct sockaddr_storage *addrs, uint8_t *bufs, uint8_t *ctrl, size_t batch);
uint64_t fk__col_drops_update(uint32_t *seen, const struct msghdr *m);
/* The socket's kernel drop counter right now (SO_MEMINFO), folded into
 * *seen the same way; returns the increase. Catches drops that no later
 * datagram reported through SO_RXQ_OVFL. */
uint64_t fk__col_drops_poll(uint32_t *seen, int fd);

#define FK__COL_MAX_DGRAM 65536
#define FK__COL_CTRL_SIZE CMSG_SPACE(sizeof(uint32_t))

#endif
