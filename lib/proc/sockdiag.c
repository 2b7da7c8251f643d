/* sock_diag: request building and reply parsing (pure), and the netlink I/O
 * through libnl-3. The v2 request is built here because libnl-idiag-3 only
 * speaks the legacy TCP-only inet_diag_req. */
#include "proc/sock.h"

#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>
#include <limits.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>

#include "core/alloc.h"
#include "core/error.h"

_Static_assert(sizeof(struct inet_diag_req_v2) == 56, "inet_diag_req_v2 layout");
_Static_assert(sizeof(struct inet_diag_msg) == 72, "inet_diag_msg layout");
_Static_assert(sizeof(struct inet_diag_req) == FK__SOCKDIAG_COMPAT_REQ_LEN, "inet_diag_req layout");

static void addr_to_words(__be32 words[4], const fk_addr *a)
{
    memset(words, 0, 16);
    if (a && a->family == 4)
        memcpy(words, a->bytes, 4);
    else if (a && a->family == 6)
        memcpy(words, a->bytes, 16);
}

static void words_to_addr(fk_addr *a, const __be32 words[4], int family)
{
    memset(a, 0, sizeof *a);
    a->family = (uint8_t)(family == AF_INET6 ? 6 : 4);
    memcpy(a->bytes, words, family == AF_INET6 ? 16 : 4);
}

void fk__sockdiag_dump_req(uint8_t out[56], int family, int proto)
{
    struct inet_diag_req_v2 r;
    memset(&r, 0, sizeof r);
    r.sdiag_family = (uint8_t)(family == 6 ? AF_INET6 : AF_INET);
    r.sdiag_protocol = (uint8_t)proto;
    r.idiag_states = ~0u; /* every state, listeners and time-wait included */
    memcpy(out, &r, sizeof r);
}

void fk__sockdiag_tcp_compat_req(uint8_t out[FK__SOCKDIAG_COMPAT_REQ_LEN], uint32_t states)
{
    struct inet_diag_req r;
    memset(&r, 0, sizeof r);
    r.idiag_family = AF_UNSPEC; /* ignored: the kernel answers for both families */
    r.idiag_states = states;
    r.id.idiag_cookie[0] = INET_DIAG_NOCOOKIE;
    r.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
    memcpy(out, &r, sizeof r);
}

void fk__sockdiag_exact_req(uint8_t out[56], int proto, const fk_addr *local, uint16_t lport,
                            const fk_addr *remote, uint16_t rport)
{
    struct inet_diag_req_v2 r;
    memset(&r, 0, sizeof r);
    r.sdiag_family = (uint8_t)(local->family == 6 ? AF_INET6 : AF_INET);
    r.sdiag_protocol = (uint8_t)proto;
    r.idiag_states = ~0u;
    /* TCP (inet_diag_find_one_icsk) looks up dst→src, i.e. src is the local
     * end; UDP (udp_dump_one) looks up the receiver of src→dst, i.e. dst is
     * the local end. */
    const fk_addr *src = local, *dst = remote;
    uint16_t sport = lport, dport = rport;
    if (proto == IPPROTO_UDP) {
        src = remote;
        dst = local;
        sport = rport;
        dport = lport;
    }
    r.id.idiag_sport = htons(sport);
    r.id.idiag_dport = htons(dport);
    addr_to_words(r.id.idiag_src, src);
    addr_to_words(r.id.idiag_dst, dst);
    r.id.idiag_cookie[0] = INET_DIAG_NOCOOKIE;
    r.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
    memcpy(out, &r, sizeof r);
}

int fk__sockdiag_parse(const uint8_t *buf, size_t len, int proto, fk__sock_cb cb, void *ctx,
                       bool *done, int *nl_errno)
{
    int count = 0;
    size_t off = 0;
    if (done)
        *done = false;
    if (nl_errno)
        *nl_errno = 0;
    while (off < len) {
        struct nlmsghdr h;
        if (len - off < sizeof h)
            return fk__error(FK_ETRUNCATED, "sock_diag: %zu bytes left, need a netlink header",
                             len - off);
        memcpy(&h, buf + off, sizeof h);
        if (h.nlmsg_len < sizeof h)
            return fk__error(FK_EMALFORMED, "sock_diag: netlink length %u below header size",
                             (unsigned)h.nlmsg_len);
        if (h.nlmsg_len > len - off)
            return fk__error(FK_ETRUNCATED, "sock_diag: message of %u bytes, %zu left",
                             (unsigned)h.nlmsg_len, len - off);
        const uint8_t *payload = buf + off + NLMSG_HDRLEN;
        size_t plen = h.nlmsg_len >= NLMSG_HDRLEN ? h.nlmsg_len - NLMSG_HDRLEN : 0;
        if (h.nlmsg_type == NLMSG_DONE) {
            if (done)
                *done = true;
            return count;
        }
        if (h.nlmsg_type == NLMSG_ERROR) {
            struct nlmsgerr e;
            if (plen < sizeof e.error)
                return fk__error(FK_ETRUNCATED, "sock_diag: short NLMSG_ERROR");
            memcpy(&e.error, payload, sizeof e.error);
            if (e.error != 0) {
                /* The kernel sends -errno; a hostile reply may send anything. */
                int err = e.error > 0 ? e.error : e.error == INT_MIN ? INT_MAX : -e.error;
                if (nl_errno)
                    *nl_errno = err;
                return fk__error_set(FK_ENETLINK, err, "sock_diag: kernel error %d", err);
            }
            if (done) /* an ACK */
                *done = true;
            return count;
        }
        if (h.nlmsg_type == SOCK_DIAG_BY_FAMILY || h.nlmsg_type == TCPDIAG_GETSOCK) {
            struct inet_diag_msg m;
            if (plen < sizeof m)
                return fk__error(FK_ETRUNCATED, "sock_diag: inet_diag_msg of %zu bytes", plen);
            memcpy(&m, payload, sizeof m);
            if (m.idiag_family != AF_INET && m.idiag_family != AF_INET6)
                return fk__error(FK_EMALFORMED, "sock_diag: family %u", m.idiag_family);
            fk__sock s;
            memset(&s, 0, sizeof s);
            s.proto = (uint8_t)proto;
            s.state = m.idiag_state;
            words_to_addr(&s.local, m.id.idiag_src, m.idiag_family);
            words_to_addr(&s.remote, m.id.idiag_dst, m.idiag_family);
            s.lport = ntohs(m.id.idiag_sport);
            s.rport = ntohs(m.id.idiag_dport);
            s.uid = m.idiag_uid;
            s.inode = m.idiag_inode;
            s.ifindex = m.id.idiag_if;
            s.cookie = (uint64_t)m.id.idiag_cookie[0] | ((uint64_t)m.id.idiag_cookie[1] << 32);
            count++;
            if (cb && cb(ctx, &s))
                return count;
        }
        /* Other types (NOOP, OVERRUN) are skipped. */
        off += NLMSG_ALIGN(h.nlmsg_len);
        if (off > len)
            off = len;
    }
    return count;
}

/* ---- libnl-3 I/O ----------------------------------------------------------- */

struct fk__sockdiag {
    struct nl_sock *sk;
    bool no_compat; /* the kernel refused the legacy all-family TCP dump */
    fk__sockdiag_tap tap;
    void *tap_ctx;
};

typedef struct recv_state {
    fk__sockdiag *d;
    int proto;
    fk__sock_cb cb;
    void *ctx;
    int count;
    int status;
    int nl_errno;
    bool stop;
} recv_state;

static int on_valid(struct nl_msg *msg, void *arg)
{
    recv_state *st = arg;
    struct nlmsghdr *h = nlmsg_hdr(msg);
    if (st->d->tap)
        st->d->tap(st->d->tap_ctx, (const uint8_t *)h, h->nlmsg_len);
    if (st->stop)
        return NL_SKIP;
    bool done = false;
    int n = fk__sockdiag_parse((const uint8_t *)h, h->nlmsg_len, st->proto, st->cb, st->ctx, &done,
                               &st->nl_errno);
    if (n < 0) {
        st->status = n;
        st->stop = true;
        return NL_SKIP;
    }
    st->count += n;
    return NL_OK;
}

/* libnl reports an NLMSG_ERROR through the error callback, not NL_CB_VALID. */
static int on_error(struct sockaddr_nl *nla, struct nlmsgerr *err, void *arg)
{
    (void)nla;
    recv_state *st = arg;
    if (st->d->tap) {
        /* Rebuild the message as received for the tap: header + nlmsgerr. */
        struct nlmsghdr *h = (struct nlmsghdr *)((uint8_t *)err - NLMSG_HDRLEN);
        st->d->tap(st->d->tap_ctx, (const uint8_t *)h, h->nlmsg_len);
    }
    st->nl_errno = -err->error;
    return NL_STOP;
}

int fk__sockdiag_open(fk__sockdiag **out)
{
    fk__sockdiag *d = FK__NEW(fk__sockdiag);
    if (!d)
        return fk__error(FK_ENOMEM, "sock_diag: out of memory");
    d->sk = nl_socket_alloc();
    if (!d->sk) {
        fk__free(d);
        return fk__error(FK_ENOMEM, "sock_diag: nl_socket_alloc failed");
    }
    int err = nl_connect(d->sk, NETLINK_SOCK_DIAG);
    if (err < 0) {
        nl_socket_free(d->sk);
        fk__free(d);
        return fk__error(err == -NLE_PERM ? FK_EPERM : FK_ENETLINK,
                         "sock_diag: nl_connect(NETLINK_SOCK_DIAG): %s", nl_geterror(err));
    }
    /* Replies to exact queries are single messages without an ACK. */
    nl_socket_disable_auto_ack(d->sk);
    nl_socket_enable_msg_peek(d->sk);
    *out = d;
    return 0;
}

void fk__sockdiag_close(fk__sockdiag *d)
{
    if (!d)
        return;
    nl_socket_free(d->sk);
    fk__free(d);
}

void fk__sockdiag_set_tap(fk__sockdiag *d, fk__sockdiag_tap tap, void *ctx)
{
    d->tap = tap;
    d->tap_ctx = ctx;
}

static int transact(fk__sockdiag *d, int type, const uint8_t *req, size_t len, int flags,
                    recv_state *st)
{
    struct nl_msg *msg = nlmsg_alloc_simple(type, NLM_F_REQUEST | flags);
    if (!msg)
        return fk__error(FK_ENOMEM, "sock_diag: nlmsg_alloc_simple failed");
    if (nlmsg_append(msg, (void *)req, len, NLMSG_ALIGNTO) < 0) {
        nlmsg_free(msg);
        return fk__error(FK_ENOMEM, "sock_diag: nlmsg_append failed");
    }
    int err = nl_send_auto(d->sk, msg);
    nlmsg_free(msg);
    if (err < 0)
        return fk__error(FK_ENETLINK, "sock_diag: nl_send_auto: %s", nl_geterror(err));

    struct nl_cb *cb = nl_cb_alloc(NL_CB_DEFAULT);
    if (!cb)
        return fk__error(FK_ENOMEM, "sock_diag: nl_cb_alloc failed");
    nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, on_valid, st);
    nl_cb_err(cb, NL_CB_CUSTOM, on_error, st);
    err = nl_recvmsgs(d->sk, cb);
    nl_cb_put(cb);
    if (st->status < 0)
        return st->status;
    if (err < 0 && st->nl_errno == 0)
        return fk__error(FK_ENETLINK, "sock_diag: nl_recvmsgs: %s", nl_geterror(err));
    return 0;
}

static int dump_v2(fk__sockdiag *d, int family, int proto, uint32_t states, fk__sock_cb cb,
                   void *ctx)
{
    uint8_t req[56];
    fk__sockdiag_dump_req(req, family, proto);
    memcpy(req + offsetof(struct inet_diag_req_v2, idiag_states), &states, sizeof states);
    recv_state st = {d, proto, cb, ctx, 0, 0, 0, false};
    int rc = transact(d, SOCK_DIAG_BY_FAMILY, req, sizeof req, NLM_F_DUMP, &st);
    if (rc < 0)
        return rc;
    if (st.nl_errno)
        return fk__error_set(FK_ENETLINK, st.nl_errno, "sock_diag: dump family %d proto %d", family,
                             proto);
    return st.count;
}

int fk__sockdiag_dump(fk__sockdiag *d, int family, int proto, fk__sock_cb cb, void *ctx)
{
    return dump_v2(d, family, proto, ~0u, cb, ctx);
}

/* TCP of both families in one walk of the kernel's socket hash (the
 * legacy request is the only one that takes AF_UNSPEC); 0 = refused. */
static int dump_tcp_compat(fk__sockdiag *d, uint32_t states, fk__sock_cb cb, void *ctx, int *n)
{
    uint8_t req[FK__SOCKDIAG_COMPAT_REQ_LEN];
    fk__sockdiag_tcp_compat_req(req, states);
    recv_state st = {d, 6, cb, ctx, 0, 0, 0, false};
    int rc = transact(d, TCPDIAG_GETSOCK, req, sizeof req, NLM_F_DUMP, &st);
    if (rc < 0)
        return rc;
    if (st.nl_errno) {
        if (st.count == 0)
            return 0; /* EINVAL, ENOENT...: a kernel without it */
        return fk__error_set(FK_ENETLINK, st.nl_errno, "sock_diag: TCP dump");
    }
    *n = st.count;
    return 1;
}

int fk__sockdiag_dump_all(fk__sockdiag *d, fk__sock_cb cb, void *ctx)
{
    /* Time-wait and half-open (request) sockets have no inode, no owner. */
    const uint32_t states = ~((1u << FK__TCP_TIME_WAIT) | (1u << FK__TCP_NEW_SYN_RECV));
    static const int pairs[4][2] = {{4, 6}, {6, 6}, {4, 17}, {6, 17}};
    int total = 0, first = 0;
    if (!d->no_compat) {
        int rc = dump_tcp_compat(d, states, cb, ctx, &total);
        if (rc < 0)
            return rc;
        if (rc == 0)
            d->no_compat = true;
        else
            first = 2; /* TCP done, both families */
    }
    for (int i = first; i < 4; i++) {
        int n = dump_v2(d, pairs[i][0], pairs[i][1], states, cb, ctx);
        if (n < 0) {
            /* No IPv6 in this kernel is not an error. */
            if (pairs[i][0] == 6 && fk_error_last()->sys_errno == EAFNOSUPPORT)
                continue;
            return n;
        }
        total += n;
    }
    return total;
}

typedef struct one_state {
    fk__sock *out;
    int found;
} one_state;

static int keep_one(void *ctx, const fk__sock *s)
{
    one_state *o = ctx;
    *o->out = *s;
    o->found = 1;
    return 1;
}

int fk__sockdiag_query(fk__sockdiag *d, int proto, const fk_addr *local, uint16_t lport,
                       const fk_addr *remote, uint16_t rport, fk__sock *out)
{
    uint8_t req[56];
    fk__sockdiag_exact_req(req, proto, local, lport, remote, rport);
    one_state o = {out, 0};
    recv_state st = {d, proto, keep_one, &o, 0, 0, 0, false};
    int rc = transact(d, SOCK_DIAG_BY_FAMILY, req, sizeof req, 0, &st);
    if (rc < 0)
        return rc;
    if (st.nl_errno == ENOENT)
        return 0;
    if (st.nl_errno)
        return fk__error_set(FK_ENETLINK, st.nl_errno, "sock_diag: exact query");
    return o.found;
}
