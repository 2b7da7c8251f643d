/* The BPF attribution source: ring buffer record decoding, the table of
 * recent owners, and (as root, in a build with the BPF backend) the real
 * programs loaded into the kernel and fed by this process's own sockets. */
#include <arpa/inet.h>
#include <errno.h>
#include <flowkit/flowkit.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bpf/backend.h"
#include "bpf/event.h"
#include "bpf/owners.h"
#include "fk_test.h"

/* ---- records ---------------------------------------------------------------- */

static struct fk__bpf_event make_event(uint8_t family, const char *laddr, uint16_t lport,
                                       const char *raddr, uint16_t rport)
{
    struct fk__bpf_event e;
    memset(&e, 0, sizeof e);
    e.version = FK__BPF_EVENT_VERSION;
    e.kind = FK__BPF_EV_OWNER;
    e.proto = 6;
    e.family = family;
    e.dir = FK__BPF_DIR_EGRESS;
    e.lport = lport;
    e.rport = rport;
    e.pid = 4243;
    e.tgid = 4242;
    e.uid = 1000;
    e.gid = 100;
    e.cgroup = 77;
    e.cookie = 9001;
    e.ts_ns = 5000000000ull;
    e.since_ns = 4000000000ull;
    assert_int_equal(inet_pton(family == 4 ? AF_INET : AF_INET6, laddr, e.laddr), 1);
    assert_int_equal(inet_pton(family == 4 ? AF_INET : AF_INET6, raddr, e.raddr), 1);
    memcpy(e.comm, "curl", 5);
    return e;
}

static void decode_owner_v4_v6(void **state)
{
    (void)state;
    struct fk__bpf_event e = make_event(4, "10.0.0.1", 40000, "10.0.0.2", 80);
    fk__bpf_owner o;
    assert_int_equal(fk__bpf_event_decode(&e, sizeof e, &o), 0);
    assert_int_equal(o.kind, FK__BPF_OWNER_KIND_OWNER);
    assert_int_equal(o.proto, 6);
    assert_int_equal(o.egress, 1);
    assert_int_equal(o.local.family, 4);
    assert_int_equal(o.local.bytes[0], 10);
    assert_int_equal(o.local.bytes[3], 1);
    assert_int_equal(o.remote.bytes[3], 2);
    assert_int_equal(o.lport, 40000);
    assert_int_equal(o.rport, 80);
    assert_int_equal(o.pid, 4243);
    assert_int_equal(o.tgid, 4242);
    assert_int_equal(o.uid, 1000);
    assert_int_equal(o.gid, 100);
    assert_int_equal(o.cgroup, 77);
    assert_int_equal(o.cookie, 9001);
    assert_int_equal(o.ts_mono_ns, 5000000000ll);
    assert_int_equal(o.since_mono_ns, 4000000000ll);
    assert_string_equal(o.comm, "curl");

    e = make_event(6, "fd00::1", 5353, "fd00::2", 53);
    e.proto = 17;
    e.dir = FK__BPF_DIR_INGRESS;
    memset(e.comm, 'x', sizeof e.comm - 1); /* a full 15-character name */
    assert_int_equal(fk__bpf_event_decode(&e, sizeof e, &o), 0);
    assert_int_equal(o.egress, 0);
    assert_int_equal(o.local.family, 6);
    assert_int_equal(o.local.bytes[15], 1);
    assert_int_equal(o.remote.bytes[15], 2);
    assert_int_equal(strlen(o.comm), 15);
}

static void decode_release(void **state)
{
    (void)state;
    struct fk__bpf_event e;
    memset(&e, 0, sizeof e);
    e.version = FK__BPF_EVENT_VERSION;
    e.kind = FK__BPF_EV_RELEASE;
    e.proto = 17;
    e.family = 6;
    e.cookie = 12;
    e.tgid = 3;
    fk__bpf_owner o;
    assert_int_equal(fk__bpf_event_decode(&e, sizeof e, &o), 0);
    assert_int_equal(o.kind, FK__BPF_OWNER_KIND_RELEASE);
    assert_int_equal(o.cookie, 12);
    assert_int_equal(o.tgid, 3);
}

static void expect_bad(struct fk__bpf_event e, size_t len, int code, const char *words)
{
    fk__bpf_owner o;
    assert_int_equal(fk__bpf_event_decode(&e, len, &o), code);
    const char *msg = fk_error_last()->message;
    if (!strstr(msg, words))
        fail_msg("message \"%s\" lacks \"%s\"", msg, words);
}

static void decode_rejects(void **state)
{
    (void)state;
    const struct fk__bpf_event good = make_event(4, "10.0.0.1", 40000, "10.0.0.2", 80);
    struct fk__bpf_event e = good;
    expect_bad(e, 0, FK_ETRUNCATED, "empty");
    expect_bad(e, sizeof e - 1, FK_ETRUNCATED, "bytes");
    e.version = 0;
    expect_bad(e, sizeof e, FK_EMALFORMED, "version");
    e.version = FK__BPF_EVENT_VERSION + 1;
    expect_bad(e, 1, FK_EUNSUPPORTED, "newer");
    e = good;
    e.kind = 9;
    expect_bad(e, sizeof e, FK_EMALFORMED, "kind");
    e = good;
    e.proto = 1;
    expect_bad(e, sizeof e, FK_EMALFORMED, "protocol");
    e = good;
    e.family = 5;
    expect_bad(e, sizeof e, FK_EMALFORMED, "family");
    e = good;
    e.pad[1] = 1;
    expect_bad(e, sizeof e, FK_EMALFORMED, "reserved");
    e = good;
    e.reserved = 1;
    expect_bad(e, sizeof e, FK_EMALFORMED, "reserved");
    e = good;
    memset(e.comm, 'a', sizeof e.comm);
    expect_bad(e, sizeof e, FK_EMALFORMED, "terminated");
    e = good;
    e.dir = 0;
    expect_bad(e, sizeof e, FK_EMALFORMED, "direction");
    e = good;
    e.lport = 0;
    expect_bad(e, sizeof e, FK_EMALFORMED, "port 0");
    e = good;
    e.raddr[7] = 1;
    expect_bad(e, sizeof e, FK_EMALFORMED, "IPv4");
    /* a longer record (a future kernel side appending fields) still decodes */
    uint8_t longer[sizeof e + 8];
    memset(longer, 0xee, sizeof longer);
    memcpy(longer, &good, sizeof good);
    fk__bpf_owner o;
    assert_int_equal(fk__bpf_event_decode(longer, sizeof longer, &o), 0);
}

/* ---- the table of recent owners ---------------------------------------------- */

static fk__bpf_owner owner_of(const char *l, uint16_t lport, const char *r, uint16_t rport,
                              uint32_t tgid, uint64_t cookie)
{
    struct fk__bpf_event e = make_event(4, l, lport, r, rport);
    e.tgid = tgid;
    e.cookie = cookie;
    fk__bpf_owner o;
    assert_int_equal(fk__bpf_event_decode(&e, sizeof e, &o), 0);
    return o;
}

static fk__bpf_owner release_of(uint64_t cookie)
{
    fk__bpf_owner o;
    memset(&o, 0, sizeof o);
    o.kind = FK__BPF_OWNER_KIND_RELEASE;
    o.cookie = cookie;
    return o;
}

static uint32_t find_tgid(const fk__bpf_owners *t, const fk__bpf_owner *o)
{
    const fk__bpf_owner_entry *e =
        fk__bpf_owners_find(t, o->proto, &o->local, o->lport, &o->remote, o->rport);
    return e ? e->owner.tgid : 0;
}

static void owners_find_replace(void **state)
{
    (void)state;
    fk__bpf_owners *t;
    assert_int_equal(fk__bpf_owners_create(&t, 8, 1000), 0);
    fk__bpf_owner a = owner_of("10.0.0.1", 1000, "10.0.0.2", 80, 11, 1);
    fk__bpf_owner b = owner_of("10.0.0.1", 1001, "10.0.0.2", 80, 12, 2);
    assert_int_equal(fk__bpf_owners_apply(t, &a, "/usr/bin/curl", 10), 0);
    assert_int_equal(fk__bpf_owners_apply(t, &b, NULL, 10), 0);
    assert_int_equal(find_tgid(t, &a), 11);
    assert_int_equal(find_tgid(t, &b), 12);
    const fk__bpf_owner_entry *e = fk__bpf_owners_find(t, 6, &a.local, a.lport, &a.remote, a.rport);
    assert_string_equal(e->exe, "/usr/bin/curl");
    /* other protocol, swapped ends, other port: no answer */
    assert_null(fk__bpf_owners_find(t, 17, &a.local, a.lport, &a.remote, a.rport));
    assert_null(fk__bpf_owners_find(t, 6, &a.remote, a.rport, &a.local, a.lport));
    assert_null(fk__bpf_owners_find(t, 6, &a.local, 999, &a.remote, a.rport));
    /* the tuple reused by another process: the newest owner answers */
    fk__bpf_owner a2 = owner_of("10.0.0.1", 1000, "10.0.0.2", 80, 13, 3);
    assert_int_equal(fk__bpf_owners_apply(t, &a2, NULL, 20), 0);
    assert_int_equal(find_tgid(t, &a), 13);
    fk__bpf_owners_stats st;
    fk__bpf_owners_get_stats(t, &st);
    assert_int_equal(st.entries, 2);
    assert_int_equal(st.inserted, 2);
    assert_int_equal(st.replaced, 1);
    fk__bpf_owners_destroy(t);
}

static void owners_keep_after_close(void **state)
{
    (void)state;
    fk__bpf_owners *t;
    assert_int_equal(fk__bpf_owners_create(&t, 8, 1000), 0);
    /* one unconnected UDP socket (cookie 5) talking to two peers */
    fk__bpf_owner a = owner_of("10.0.0.1", 5000, "10.0.0.2", 53, 21, 5);
    fk__bpf_owner b = owner_of("10.0.0.1", 5000, "10.0.0.3", 53, 21, 5);
    fk__bpf_owner c = owner_of("10.0.0.1", 6000, "10.0.0.3", 53, 22, 6);
    a.proto = b.proto = c.proto = 17;
    assert_int_equal(fk__bpf_owners_apply(t, &a, NULL, 100), 0);
    assert_int_equal(fk__bpf_owners_apply(t, &b, NULL, 110), 0);
    assert_int_equal(fk__bpf_owners_apply(t, &c, NULL, 120), 0);
    fk__bpf_owner rel = release_of(5);
    assert_int_equal(fk__bpf_owners_apply(t, &rel, NULL, 200), 0);
    fk__bpf_owners_stats st;
    fk__bpf_owners_get_stats(t, &st);
    assert_int_equal(st.released, 2);
    /* kept for 1000 ns after the close, open sockets stay */
    assert_int_equal(fk__bpf_owners_expire(t, 1199), 0);
    assert_int_equal(find_tgid(t, &a), 21);
    assert_int_equal(find_tgid(t, &b), 21);
    assert_int_equal(fk__bpf_owners_expire(t, 1200), 2);
    assert_int_equal(find_tgid(t, &a), 0);
    assert_int_equal(find_tgid(t, &b), 0);
    assert_int_equal(find_tgid(t, &c), 22);
    assert_int_equal(fk__bpf_owners_expire(t, 1000000), 0);
    /* a release of an unknown cookie changes nothing */
    rel = release_of(99);
    assert_int_equal(fk__bpf_owners_apply(t, &rel, NULL, 300), 0);
    fk__bpf_owners_get_stats(t, &st);
    assert_int_equal(st.entries, 1);
    assert_int_equal(st.expired, 2);
    fk__bpf_owners_destroy(t);
}

static void owners_bounded(void **state)
{
    (void)state;
    fk__bpf_owners *t;
    assert_int_equal(fk__bpf_owners_create(&t, 3, 1000000), 0);
    fk__bpf_owner o[5];
    for (int i = 0; i < 5; i++)
        o[i] = owner_of("10.0.0.1", (uint16_t)(2000 + i), "10.0.0.2", 80, (uint32_t)(30 + i),
                        (uint64_t)(40 + i));
    for (int i = 0; i < 3; i++)
        assert_int_equal(fk__bpf_owners_apply(t, &o[i], "/bin/x", 10), 0);
    /* o[1] closed: it goes first when the table is full, before older open ones */
    fk__bpf_owner rel = release_of(41);
    assert_int_equal(fk__bpf_owners_apply(t, &rel, NULL, 20), 0);
    assert_int_equal(fk__bpf_owners_apply(t, &o[3], NULL, 30), 0);
    assert_int_equal(find_tgid(t, &o[1]), 0);
    assert_int_equal(find_tgid(t, &o[0]), 30);
    /* none closed: the oldest open one goes */
    assert_int_equal(fk__bpf_owners_apply(t, &o[4], NULL, 40), 0);
    assert_int_equal(find_tgid(t, &o[0]), 0);
    assert_int_equal(find_tgid(t, &o[2]), 32);
    assert_int_equal(find_tgid(t, &o[3]), 33);
    assert_int_equal(find_tgid(t, &o[4]), 34);
    fk__bpf_owners_stats st;
    fk__bpf_owners_get_stats(t, &st);
    assert_int_equal(st.entries, 3);
    assert_int_equal(st.evicted, 2);
    /* the evicted socket's release finds nothing; a live one's still works */
    rel = release_of(40);
    assert_int_equal(fk__bpf_owners_apply(t, &rel, NULL, 50), 0);
    rel = release_of(42);
    assert_int_equal(fk__bpf_owners_apply(t, &rel, NULL, 50), 0);
    fk__bpf_owners_get_stats(t, &st);
    assert_int_equal(st.released, 2);
    assert_int_equal(fk__bpf_owners_create(&t, 0, 1), FK_EINVAL);
    fk__bpf_owners_destroy(NULL);
    fk__bpf_owners_destroy(t);
}

/* ---- the real programs (root, BPF backend built) ----------------------------- */

typedef struct seen {
    fk__bpf_owners *owners;
    int releases;
} seen;

static int collect(const fk__bpf_owner *o, void *ctx)
{
    seen *s = ctx;
    if (o->kind == FK__BPF_OWNER_KIND_RELEASE)
        s->releases++;
    assert_int_equal(fk__bpf_owners_apply(s->owners, o, NULL, 0), 0);
    return 0;
}

static uint16_t port_of(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    assert_int_equal(getsockname(fd, (struct sockaddr *)&ss, &len), 0);
    return ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
                                         : ((struct sockaddr_in6 *)&ss)->sin6_port);
}

static void loopback(int family, fk_addr *a)
{
    memset(a, 0, sizeof *a);
    a->family = family == AF_INET ? 4 : 6;
    if (family == AF_INET) {
        a->bytes[0] = 127;
        a->bytes[3] = 1;
    } else {
        a->bytes[15] = 1;
    }
}

static int listener(int family, int type, uint16_t *port)
{
    int fd = socket(family, type, 0);
    assert_true(fd >= 0);
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    socklen_t len;
    if (family == AF_INET) {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
        s4->sin_family = AF_INET;
        s4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        len = sizeof *s4;
    } else {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
        s6->sin6_family = AF_INET6;
        s6->sin6_addr = in6addr_loopback;
        len = sizeof *s6;
    }
    assert_int_equal(bind(fd, (struct sockaddr *)&ss, len), 0);
    if (type == SOCK_STREAM)
        assert_int_equal(listen(fd, 8), 0);
    *port = port_of(fd);
    return fd;
}

static void peer_addr(int family, uint16_t port, struct sockaddr_storage *ss, socklen_t *len)
{
    memset(ss, 0, sizeof *ss);
    if (family == AF_INET) {
        struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
        s4->sin_family = AF_INET;
        s4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        s4->sin_port = htons(port);
        *len = sizeof *s4;
    } else {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
        s6->sin6_family = AF_INET6;
        s6->sin6_addr = in6addr_loopback;
        s6->sin6_port = htons(port);
        *len = sizeof *s6;
    }
}

/* A child that connects (TCP) or sends one datagram (UDP) and exits at once;
 * returns its pid and the local port it used (through a pipe). */
static pid_t short_client(int family, int type, uint16_t port, uint16_t *cport)
{
    int p[2];
    assert_int_equal(pipe(p), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct sockaddr_storage ss;
        socklen_t len;
        peer_addr(family, port, &ss, &len);
        int fd = socket(family, type, 0);
        int ok = fd >= 0;
        if (type == SOCK_STREAM)
            ok = ok && connect(fd, (struct sockaddr *)&ss, len) == 0 && write(fd, "hi", 2) == 2;
        else
            ok = ok && sendto(fd, "hi", 2, 0, (struct sockaddr *)&ss, len) == 2;
        uint16_t mine = ok ? port_of(fd) : 0;
        _exit(write(p[1], &mine, sizeof mine) == sizeof mine && ok ? 0 : 1);
    }
    close(p[1]);
    assert_int_equal(read(p[0], cport, sizeof *cport), (ssize_t)sizeof *cport);
    close(p[0]);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    return pid;
}

static void drain_all(fk__bpf *b, seen *s)
{
    /* the records are in the ring before the packets leave: one drain sees them */
    assert_true(fk__bpf_drain(b, collect, s) >= 0);
}

/* A listener made before the programs were attached: the connections it
 * accepts are still ours (its owner record was seeded at open). */
static void check_old_listener(fk__bpf *b, int tl, uint16_t tport)
{
    seen s = {0};
    assert_int_equal(fk__bpf_owners_create(&s.owners, 4096, 1000000000), 0);
    fk_addr lo;
    loopback(AF_INET, &lo);
    uint16_t ccport;
    pid_t tc = short_client(AF_INET, SOCK_STREAM, tport, &ccport);
    int acc = accept(tl, NULL, NULL);
    assert_true(acc >= 0);
    close(acc);
    drain_all(b, &s);
    const fk__bpf_owner_entry *e = fk__bpf_owners_find(s.owners, 6, &lo, tport, &lo, ccport);
    assert_non_null(e);
    assert_int_equal(e->owner.tgid, (uint32_t)getpid());
    e = fk__bpf_owners_find(s.owners, 6, &lo, ccport, &lo, tport);
    assert_non_null(e);
    assert_int_equal(e->owner.tgid, (uint32_t)tc);
    fk__bpf_owners_destroy(s.owners);
}

static void check_family(fk__bpf *b, int family)
{
    seen s = {0};
    assert_int_equal(fk__bpf_owners_create(&s.owners, 4096, 1000000000), 0);
    fk_addr lo;
    loopback(family, &lo);
    uint16_t tport, uport, ccport, ucport;
    int tl = listener(family, SOCK_STREAM, &tport);
    int ul = listener(family, SOCK_DGRAM, &uport);
    pid_t tc = short_client(family, SOCK_STREAM, tport, &ccport);
    pid_t uc = short_client(family, SOCK_DGRAM, uport, &ucport);
    int acc = accept(tl, NULL, NULL);
    assert_true(acc >= 0);
    assert_int_equal(write(acc, "ok", 2), 2); /* server side sends after the client left */
    close(acc);
    char buf[8];
    assert_int_equal(recv(ul, buf, sizeof buf, 0), 2);
    drain_all(b, &s);

    const fk__bpf_owner_entry *e;
    /* client side: the child that has already exited, by pid and name */
    e = fk__bpf_owners_find(s.owners, 6, &lo, ccport, &lo, tport);
    assert_non_null(e);
    assert_int_equal(e->owner.tgid, (uint32_t)tc);
    e = fk__bpf_owners_find(s.owners, 17, &lo, ucport, &lo, uport);
    assert_non_null(e);
    assert_int_equal(e->owner.tgid, (uint32_t)uc);
    /* server side: the accepted socket inherits the listener's owner (us) */
    e = fk__bpf_owners_find(s.owners, 6, &lo, tport, &lo, ccport);
    assert_non_null(e);
    assert_int_equal(e->owner.tgid, (uint32_t)getpid());
    e = fk__bpf_owners_find(s.owners, 17, &lo, uport, &lo, ucport);
    assert_non_null(e);
    assert_int_equal(e->owner.tgid, (uint32_t)getpid());
    assert_true(s.releases >= 2); /* both children closed their sockets */
    close(tl);
    close(ul);
    fk__bpf_owners_destroy(s.owners);
}

static void real_programs(void **state)
{
    (void)state;
    fk__bpf *b = NULL;
    if (!fk__bpf_built()) {
        assert_int_equal(fk__bpf_open(&b, NULL), FK_EUNSUPPORTED);
        assert_non_null(strstr(fk_error_last()->message, "no BPF backend"));
        fprintf(stderr, "!!! SKIP: real BPF programs: this build has no BPF backend\n");
        skip();
    }
    if (geteuid() != 0) {
        fprintf(stderr, "!!! SKIP: real BPF programs need root\n");
        skip();
    }
    /* the simulated refusal names its cause */
    assert_int_equal(setenv("FLOWKIT_BPF_REFUSE", "1", 1), 0);
    assert_int_equal(fk__bpf_open(&b, NULL), FK_EUNSUPPORTED);
    assert_non_null(strstr(fk_error_last()->message, "FLOWKIT_BPF_REFUSE"));
    assert_int_equal(unsetenv("FLOWKIT_BPF_REFUSE"), 0);
    fk__bpf_config cfg = {.ring_bytes = 1000};
    assert_int_equal(fk__bpf_open(&b, &cfg), FK_ERANGE);
    cfg.cgroup_path = "/tmp";
    cfg.ring_bytes = 0;
    assert_int_equal(fk__bpf_open(&b, &cfg), FK_ENOTFOUND);

    uint16_t old_port;
    int old = listener(AF_INET, SOCK_STREAM, &old_port);
    /* Only loopback's packets are told about: everything here goes through lo. */
    uint32_t lo_index = if_nametoindex("lo");
    assert_true(lo_index > 0);
    fk__bpf_config only_lo = {.ifindexes = &lo_index, .n_ifindexes = 1};
    int rc = fk__bpf_open(&b, &only_lo);
    if (rc != 0)
        fail_msg("fk__bpf_open: %s", fk_error_last()->message);
    assert_true(fk__bpf_get_fd(b) >= 0);
    check_old_listener(b, old, old_port);
    close(old);
    check_family(b, AF_INET);
    check_family(b, AF_INET6);
    fk__bpf_stats st;
    fk__bpf_get_stats(b, &st);
    assert_true(st.drained >= 8);
    assert_int_equal(st.malformed, 0);
    assert_true(st.seeded >= 1); /* at least the old listener */
    fk__bpf_close(b);

    /* A device filter without lo: none of our loopback sockets is told about. */
    uint32_t other = lo_index + 100000;
    fk__bpf_config not_lo = {.ifindexes = &other, .n_ifindexes = 1};
    assert_int_equal(fk__bpf_open(&b, &not_lo), 0);
    seen s = {0};
    assert_int_equal(fk__bpf_owners_create(&s.owners, 4096, 1000000000), 0);
    uint16_t tport, cport;
    int tl = listener(AF_INET, SOCK_STREAM, &tport);
    short_client(AF_INET, SOCK_STREAM, tport, &cport);
    int acc = accept(tl, NULL, NULL);
    assert_true(acc >= 0);
    close(acc);
    close(tl);
    drain_all(b, &s);
    fk_addr lo;
    loopback(AF_INET, &lo);
    assert_null(fk__bpf_owners_find(s.owners, 6, &lo, cport, &lo, tport));
    assert_null(fk__bpf_owners_find(s.owners, 6, &lo, tport, &lo, cport));
    fk__bpf_owners_destroy(s.owners);
    fk__bpf_close(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(decode_owner_v4_v6),      cmocka_unit_test(decode_release),
        cmocka_unit_test(decode_rejects),          cmocka_unit_test(owners_find_replace),
        cmocka_unit_test(owners_keep_after_close), cmocka_unit_test(owners_bounded),
        cmocka_unit_test(real_programs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
