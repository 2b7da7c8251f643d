/* Internal: UDP receive threads. Each worker reads its own SO_REUSEPORT
 * socket per UDP listener with recvmmsg and queues the datagrams (bounded;
 * overflow counted) for the dispatching thread, which decodes them: session
 * state stays single-threaded and callbacks run on the dispatching thread. */
#ifndef FK_COLLECTOR_WORKERS_H
#define FK_COLLECTOR_WORKERS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "collector/internal.h"
#include "collector/udp.h"

typedef struct fk__col_workers fk__col_workers;

/* Returns false to stop the drain after this datagram (the rest stay
 * queued for the next drain). */
typedef bool (*fk__col_dgram_fn)(void *user, const struct sockaddr *from, const uint8_t *data,
                                 size_t len);

/* Start n threads. fds[i] is the already-bound socket of uris[i]: worker 0
 * reads it (without owning it); workers 1..n-1 open siblings. wakefd (an
 * eventfd) is written when datagrams are queued. */
int fk__col_workers_start(fk__col_workers **out, int n, const fk__col_uri *uris, const int *fds,
                          size_t nuris, int64_t rcvbuf, size_t queue_size, size_t batch,
                          int wakefd);
/* Stop and join the threads, close their sockets, free the queue. NULL ok. */
void fk__col_workers_stop(fk__col_workers *w);
/* Hand the queued datagrams to fn (on the calling thread) until it returns
 * false. Returns how many are left queued; the running totals of queue
 * and kernel drops are stored. */
int fk__col_workers_drain(fk__col_workers *w, fk__col_dgram_fn fn, void *user,
                          uint64_t *queue_drops, uint64_t *kernel_drops);

#endif
