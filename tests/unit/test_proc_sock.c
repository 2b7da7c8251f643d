/* Socket table parsers on recorded data (tests/data/proc, recorded by
 * tests/tools/proc_record.sh in a private netns): the sock_diag reply
 * parser and the /proc/net parser must report the same sockets. */
#include <errno.h>
#include <flowkit/flowkit.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proc/sock.h"
#include "fk_test.h"

#define MAXS 16

typedef struct sockvec {
    fk__sock s[MAXS];
    int n;
} sockvec;

static int collect(void *ctx, const fk__sock *s)
{
    sockvec *v = ctx;
    if (v->n < MAXS)
        v->s[v->n++] = *s;
    return 0;
}

static uint8_t *load(const char *name, size_t *len)
{
    char path[512];
    snprintf(path, sizeof path, "%s/proc/%s", FLOWKIT_TEST_DATA_DIR, name);
    uint8_t *b = fk_test_read_file(path, len);
    assert_non_null(b);
    return b;
}

static const fk__sock *find(const sockvec *v, uint64_t inode)
{
    for (int i = 0; i < v->n; i++)
        if (v->s[i].inode == inode)
            return &v->s[i];
    return NULL;
}

static void check_endpoint(const fk_addr *a, uint16_t port, const char *want, uint16_t want_port)
{
    char buf[FK_ADDR_STRLEN];
    fk_addr_format(a, buf, sizeof buf);
    assert_string_equal(buf, want);
    assert_int_equal(port, want_port);
}

/* The recording: TCP 127.0.0.1:41190 <-> :48751 (listener 48751), TCP ::1
 * 36574 <-> 56263 (listener 56263), UDP 127.0.0.1:52861 connected to
 * :33767 (unconnected), UDP [::]:52924 unconnected; uid 0. */
static void dump_tcp4(void **state)
{
    (void)state;
    size_t len;
    uint8_t *b = load("dump_tcp4.bin", &len);
    sockvec v = {0};
    bool done;
    int nle;
    assert_int_equal(fk__sockdiag_parse(b, len, 6, collect, &v, &done, &nle), 3);
    assert_false(done); /* the tap records data messages only */
    const fk__sock *lst = find(&v, 35825);
    assert_non_null(lst);
    assert_int_equal(lst->state, FK__TCP_LISTEN);
    check_endpoint(&lst->local, lst->lport, "127.0.0.1", 48751);
    check_endpoint(&lst->remote, lst->rport, "0.0.0.0", 0);
    const fk__sock *cli = find(&v, 35826);
    assert_non_null(cli);
    assert_int_equal(cli->proto, 6);
    assert_int_equal(cli->state, FK__TCP_ESTABLISHED);
    assert_int_equal(cli->uid, 0);
    check_endpoint(&cli->local, cli->lport, "127.0.0.1", 41190);
    check_endpoint(&cli->remote, cli->rport, "127.0.0.1", 48751);
    assert_true(cli->cookie != 0);
    const fk__sock *srv = find(&v, 35827);
    assert_non_null(srv);
    check_endpoint(&srv->local, srv->lport, "127.0.0.1", 48751);
    check_endpoint(&srv->remote, srv->rport, "127.0.0.1", 41190);
    free(b);
}

static void dump_tcp6_udp(void **state)
{
    (void)state;
    size_t len;
    uint8_t *b = load("dump_tcp6.bin", &len);
    sockvec v = {0};
    assert_int_equal(fk__sockdiag_parse(b, len, 6, collect, &v, NULL, NULL), 3);
    const fk__sock *cli = find(&v, 35829);
    assert_non_null(cli);
    assert_int_equal(cli->local.family, 6);
    check_endpoint(&cli->local, cli->lport, "::1", 36574);
    check_endpoint(&cli->remote, cli->rport, "::1", 56263);
    free(b);

    b = load("dump_udp4.bin", &len);
    memset(&v, 0, sizeof v);
    assert_int_equal(fk__sockdiag_parse(b, len, 17, collect, &v, NULL, NULL), 2);
    const fk__sock *u = find(&v, 35831);
    assert_non_null(u);
    assert_int_equal(u->proto, 17);
    assert_int_equal(u->state, FK__TCP_CLOSE);
    check_endpoint(&u->local, u->lport, "127.0.0.1", 33767);
    const fk__sock *c = find(&v, 35832);
    assert_non_null(c);
    check_endpoint(&c->remote, c->rport, "127.0.0.1", 33767);
    free(b);

    b = load("dump_udp6.bin", &len);
    memset(&v, 0, sizeof v);
    assert_int_equal(fk__sockdiag_parse(b, len, 17, collect, &v, NULL, NULL), 1);
    check_endpoint(&v.s[0].local, v.s[0].lport, "::", 52924);
    assert_int_equal(v.s[0].inode, 35833);
    free(b);
}

static void exact_replies(void **state)
{
    (void)state;
    size_t len;
    uint8_t *b = load("exact_tcp4.bin", &len);
    sockvec v = {0};
    assert_int_equal(fk__sockdiag_parse(b, len, 6, collect, &v, NULL, NULL), 1);
    assert_int_equal(v.s[0].inode, 35826);
    free(b);

    b = load("exact_udp4.bin", &len);
    memset(&v, 0, sizeof v);
    assert_int_equal(fk__sockdiag_parse(b, len, 17, collect, &v, NULL, NULL), 1);
    assert_int_equal(v.s[0].inode, 35832);
    check_endpoint(&v.s[0].local, v.s[0].lport, "127.0.0.1", 52861);
    free(b);

    /* No such socket: NLMSG_ERROR with ENOENT. */
    b = load("exact_none.bin", &len);
    int nle = 0;
    bool done = true;
    assert_int_equal(fk__sockdiag_parse(b, len, 6, collect, &v, &done, &nle), FK_ENETLINK);
    assert_int_equal(nle, ENOENT);
    assert_int_equal(fk_error_last()->sys_errno, ENOENT);
    free(b);
}

static void truncated_and_malformed(void **state)
{
    (void)state;
    size_t len;
    uint8_t *b = load("dump_tcp4.bin", &len);
    /* Every cut inside the stream is refused, never read past. */
    for (size_t cut = 1; cut < len; cut++) {
        sockvec v = {0};
        int rc = fk__sockdiag_parse(b, cut, 6, collect, &v, NULL, NULL);
        size_t first = ((struct nlmsghdr *)(void *)b)->nlmsg_len;
        if (cut < first)
            assert_int_equal(rc, FK_ETRUNCATED);
        else
            assert_true(rc == FK_ETRUNCATED || rc >= 1);
    }
    /* A length below the header size. */
    uint8_t bad[16];
    memcpy(bad, b, sizeof bad);
    uint32_t tiny = 8;
    memcpy(bad, &tiny, 4);
    assert_int_equal(fk__sockdiag_parse(bad, sizeof bad, 6, NULL, NULL, NULL, NULL), FK_EMALFORMED);
    /* A family that is neither AF_INET nor AF_INET6. */
    uint8_t *copy = malloc(len);
    memcpy(copy, b, len);
    copy[NLMSG_HDRLEN] = 99;
    assert_int_equal(fk__sockdiag_parse(copy, len, 6, NULL, NULL, NULL, NULL), FK_EMALFORMED);
    free(copy);
    free(b);
}

static void done_message(void **state)
{
    (void)state;
    struct nlmsghdr h = {0};
    h.nlmsg_len = NLMSG_HDRLEN + 4;
    h.nlmsg_type = NLMSG_DONE;
    uint8_t buf[NLMSG_HDRLEN + 4] = {0};
    memcpy(buf, &h, sizeof h);
    bool done = false;
    assert_int_equal(fk__sockdiag_parse(buf, sizeof buf, 6, NULL, NULL, &done, NULL), 0);
    assert_true(done);
}

static void requests(void **state)
{
    (void)state;
    uint8_t req[56];
    struct inet_diag_req_v2 r;
    fk__sockdiag_dump_req(req, 6, 17);
    memcpy(&r, req, sizeof r);
    assert_int_equal(r.sdiag_family, AF_INET6);
    assert_int_equal(r.sdiag_protocol, 17);
    assert_int_equal(r.idiag_states, 0xffffffffu);

    fk_addr l, rem;
    fk_addr_parse("10.213.0.1", &l);
    fk_addr_parse("10.213.0.2", &rem);
    fk__sockdiag_exact_req(req, 6, &l, 1000, &rem, 2000);
    memcpy(&r, req, sizeof r);
    assert_int_equal(r.sdiag_family, AF_INET);
    assert_int_equal(ntohs(r.id.idiag_sport), 1000);
    assert_int_equal(ntohs(r.id.idiag_dport), 2000);
    assert_memory_equal(r.id.idiag_src, l.bytes, 4);
    assert_int_equal(r.id.idiag_cookie[0], INET_DIAG_NOCOOKIE);
    /* UDP: the kernel looks up the receiver of src -> dst, so dst is local. */
    fk__sockdiag_exact_req(req, 17, &l, 1000, &rem, 2000);
    memcpy(&r, req, sizeof r);
    assert_int_equal(ntohs(r.id.idiag_dport), 1000);
    assert_memory_equal(r.id.idiag_dst, l.bytes, 4);
}

/* The legacy all-family TCP dump: request layout, and replies that come as
 * TCPDIAG_GETSOCK messages hold the same inet_diag_msg. */
static void legacy_tcp_dump(void **state)
{
    (void)state;
    uint8_t req[FK__SOCKDIAG_COMPAT_REQ_LEN];
    struct inet_diag_req r;
    assert_int_equal(sizeof r, FK__SOCKDIAG_COMPAT_REQ_LEN);
    fk__sockdiag_tcp_compat_req(req, ~(1u << FK__TCP_TIME_WAIT));
    memcpy(&r, req, sizeof r);
    assert_int_equal(r.idiag_family, AF_UNSPEC);
    assert_int_equal(r.idiag_states, ~(1u << FK__TCP_TIME_WAIT));
    assert_int_equal(r.id.idiag_cookie[0], INET_DIAG_NOCOOKIE);
    assert_int_equal(r.id.idiag_sport, 0);

    size_t len;
    uint8_t *b = load("dump_tcp4.bin", &len);
    sockvec plain = {0}, legacy = {0};
    assert_int_equal(fk__sockdiag_parse(b, len, 6, collect, &plain, NULL, NULL), 3);
    for (size_t off = 0; off + sizeof(struct nlmsghdr) <= len;) {
        struct nlmsghdr h;
        memcpy(&h, b + off, sizeof h);
        assert_int_equal(h.nlmsg_type, SOCK_DIAG_BY_FAMILY);
        h.nlmsg_type = TCPDIAG_GETSOCK;
        memcpy(b + off, &h, sizeof h);
        off += NLMSG_ALIGN(h.nlmsg_len);
    }
    assert_int_equal(fk__sockdiag_parse(b, len, 6, collect, &legacy, NULL, NULL), 3);
    assert_memory_equal(plain.s, legacy.s, sizeof plain.s);
    free(b);
}

/* /proc/net text must give the very sockets the netlink dump gave. */
static void procnet_matches_dump(void **state)
{
    (void)state;
    static const struct {
        const char *txt, *bin;
        int family, proto, n;
    } pairs[] = {{"procnet_tcp.txt", "dump_tcp4.bin", 4, 6, 3},
                 {"procnet_tcp6.txt", "dump_tcp6.bin", 6, 6, 3},
                 {"procnet_udp.txt", "dump_udp4.bin", 4, 17, 2},
                 {"procnet_udp6.txt", "dump_udp6.bin", 6, 17, 1}};
    for (size_t i = 0; i < 4; i++) {
        size_t tl, bl;
        uint8_t *t = load(pairs[i].txt, &tl);
        uint8_t *b = load(pairs[i].bin, &bl);
        sockvec a = {0}, d = {0};
        assert_int_equal(
            fk__procnet_parse((const char *)t, tl, pairs[i].family, pairs[i].proto, collect, &a),
            pairs[i].n);
        assert_int_equal(fk__sockdiag_parse(b, bl, pairs[i].proto, collect, &d, NULL, NULL),
                         pairs[i].n);
        for (int k = 0; k < a.n; k++) {
            const fk__sock *x = &a.s[k], *y = find(&d, x->inode);
            assert_non_null(y);
            assert_int_equal(x->state, y->state);
            assert_int_equal(x->lport, y->lport);
            assert_int_equal(x->rport, y->rport);
            assert_int_equal(x->uid, y->uid);
            assert_int_equal(x->local.family, y->local.family);
            assert_memory_equal(x->local.bytes, y->local.bytes, 16);
            assert_memory_equal(x->remote.bytes, y->remote.bytes, 16);
        }
        free(t);
        free(b);
    }
}

static void procnet_malformed(void **state)
{
    (void)state;
    const char *hdr = "  sl  local_address rem_address   st\n";
    char text[256];
    snprintf(text, sizeof text, "%s   0: 0100007G:0016 00000000:0000 0A 0:0 0:0 0 0 0 1\n", hdr);
    assert_int_equal(fk__procnet_parse(text, strlen(text), 4, 6, NULL, NULL), FK_EMALFORMED);
    snprintf(text, sizeof text, "%s   0: 0100007F:0016\n", hdr);
    assert_int_equal(fk__procnet_parse(text, strlen(text), 4, 6, NULL, NULL), FK_EMALFORMED);
    snprintf(text, sizeof text, "%s", hdr);
    assert_int_equal(fk__procnet_parse(text, strlen(text), 4, 6, NULL, NULL), 0);
    snprintf(text, sizeof text,
             "%s   0: 0100007F:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000  "
             "1000 0 4242 1\n",
             hdr);
    sockvec v = {0};
    assert_int_equal(fk__procnet_parse(text, strlen(text), 4, 6, collect, &v), 1);
    assert_int_equal(v.s[0].uid, 1000);
    assert_int_equal(v.s[0].inode, 4242);
    check_endpoint(&v.s[0].local, v.s[0].lport, "127.0.0.1", 22);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(dump_tcp4),         cmocka_unit_test(dump_tcp6_udp),
        cmocka_unit_test(exact_replies),     cmocka_unit_test(truncated_and_malformed),
        cmocka_unit_test(done_message),      cmocka_unit_test(requests),
        cmocka_unit_test(legacy_tcp_dump),   cmocka_unit_test(procnet_matches_dump),
        cmocka_unit_test(procnet_malformed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
