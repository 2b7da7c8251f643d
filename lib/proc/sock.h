/* Internal: the socket table of the host — TCP and UDP sockets, IPv4 and
 * IPv6, from netlink sock_diag (inet_diag_req_v2) or /proc/net as fallback.
 *
 * The reply and text parsers are pure functions over bytes, so unit tests
 * feed them recorded replies; the netlink I/O (libnl-3) lives apart. */
#ifndef FK_PROC_SOCK_H
#define FK_PROC_SOCK_H

#include <flowkit/flow.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One socket as the kernel reports it. Addresses keep their own family (an
 * IPv6 socket may hold a v4-mapped address). */
typedef struct fk__sock {
    uint8_t proto; /* 6 TCP, 17 UDP */
    uint8_t state; /* kernel TCP state number (UDP: 7 = unconnected, 1 = connected) */
    fk_addr local;
    fk_addr remote;
    uint16_t lport; /* host order */
    uint16_t rport; /* host order */
    uint32_t uid;
    uint32_t ifindex;
    uint64_t inode; /* 0 for time-wait / orphaned sockets */
    uint64_t cookie;
} fk__sock;

/* Kernel TCP states we care about (include/net/tcp_states.h). */
enum {
    FK__TCP_ESTABLISHED = 1,
    FK__TCP_TIME_WAIT = 6,
    FK__TCP_CLOSE = 7,
    FK__TCP_LISTEN = 10,
    FK__TCP_NEW_SYN_RECV = 12
};

/* Called once per socket parsed; return non-zero to stop. */
typedef int (*fk__sock_cb)(void *ctx, const fk__sock *s);

/* ---- sock_diag (pure) ---------------------------------------------------- */

/* Build the payload (struct inet_diag_req_v2, 56 bytes) of a dump request
 * for every socket of (family 4|6, proto 6|17) in any state. */
void fk__sockdiag_dump_req(uint8_t out[56], int family, int proto);

/* Build the payload (struct inet_diag_req) of the legacy TCPDIAG_GETSOCK
 * dump: the TCP sockets of both families in the given states (bit
 * 1 << state), in one walk of the kernel's hash tables where the v2 request
 * walks them once per family. Replies come as TCPDIAG_GETSOCK messages
 * holding the same inet_diag_msg. */
#define FK__SOCKDIAG_COMPAT_REQ_LEN 60
void fk__sockdiag_tcp_compat_req(uint8_t out[FK__SOCKDIAG_COMPAT_REQ_LEN], uint32_t states);

/* Build the payload of an exact query for one socket by tuple, with the
 * cookie left as INET_DIAG_NOCOOKIE. `local`/`remote` use the family of
 * `local`. The kernel looks UDP sockets up as a receiver of remote→local, TCP
 * as local→remote; this function orders the id fields accordingly. */
void fk__sockdiag_exact_req(uint8_t out[56], int proto, const fk_addr *local, uint16_t lport,
                            const fk_addr *remote, uint16_t rport);

/* Parse a buffer holding one or more netlink messages of a sock_diag reply
 * (as received, native byte order for the netlink headers). Each
 * SOCK_DIAG_BY_FAMILY (or legacy TCPDIAG_GETSOCK) message is decoded into an fk__sock (with `proto`
 * from the request, since inet_diag_msg does not carry it) and handed to cb. Returns the number of
 * sockets parsed (>= 0) and sets *done when NLMSG_DONE was seen; FK_ENETLINK for an NLMSG_ERROR
 * with a non-zero error (the errno is put in *nl_errno when not NULL; ENOENT means "no such
 * socket"); FK_EMALFORMED / FK_ETRUNCATED for bad lengths. */
int fk__sockdiag_parse(const uint8_t *buf, size_t len, int proto, fk__sock_cb cb, void *ctx,
                       bool *done, int *nl_errno);

/* ---- /proc/net/{tcp,udp}{,6} (pure) ---------------------------------------- */

/* Parse the text of /proc/net/tcp, tcp6, udp or udp6 (family 4 or 6 selects
 * the address width). Returns the number of sockets, or FK_EMALFORMED. */
int fk__procnet_parse(const char *text, size_t len, int family, int proto, fk__sock_cb cb,
                      void *ctx);

/* Read <proc_root>/net/{tcp,tcp6,udp,udp6} and parse them all. Missing
 * files (no IPv6) are skipped. Returns the total or a negative status. */
int fk__procnet_read_all(const char *proc_root, fk__sock_cb cb, void *ctx);

/* ---- sock_diag over libnl-3 ------------------------------------------------ */

typedef struct fk__sockdiag fk__sockdiag;

/* Open a NETLINK_SOCK_DIAG socket (FK_ENETLINK / FK_EPERM / FK_ENOMEM). */
int fk__sockdiag_open(fk__sockdiag **out);
void fk__sockdiag_close(fk__sockdiag *d);

/* Dump every TCP and UDP socket of both families that can have an owner
 * (not time-wait, not a half-open request) into cb: TCP through one
 * legacy all-family dump where the kernel has it, UDP per family.
 * Returns the number of sockets or a negative status. */
int fk__sockdiag_dump_all(fk__sockdiag *d, fk__sock_cb cb, void *ctx);

/* Dump one (family, proto) pair, every state. */
int fk__sockdiag_dump(fk__sockdiag *d, int family, int proto, fk__sock_cb cb, void *ctx);

/* Exact query. Returns 1 and fills *out when the kernel has the socket, 0
 * when it has none, or a negative status. */
int fk__sockdiag_query(fk__sockdiag *d, int proto, const fk_addr *local, uint16_t lport,
                       const fk_addr *remote, uint16_t rport, fk__sock *out);

/* Optional raw-reply tap for recording test data: every message received is
 * passed to tap (bytes of one netlink message) before parsing. */
typedef void (*fk__sockdiag_tap)(void *ctx, const uint8_t *msg, size_t len);
void fk__sockdiag_set_tap(fk__sockdiag *d, fk__sockdiag_tap tap, void *ctx);

#endif
