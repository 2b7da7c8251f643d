/* The fk_collector handle over real loopback sockets, with the fake codec:
 * parameters and lifecycle, UDP (IPv4 and IPv6) and TCP listeners, TCP
 * messages split across writes, the allowlist, count/duration limits,
 * break from another thread, worker threads and sampling scaling. */
#include <arpa/inet.h>
#include <flowkit/flowkit.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "collector/internal.h"
#include "fk_col_fake.h"
#include "fk_test.h"

typedef struct got {
    unsigned n;
    uint64_t bytes;
    fk_flow last;
} got;

static void on_flow(const fk_flow *f, void *user)
{
    got *g = user;
    g->n++;
    g->bytes += f->bytes;
    g->last = *f;
}

static fk_collector *make(got *g)
{
    fk_collector *h;
    assert_int_equal(fk_collector_create(&h), 0);
    assert_int_equal(fk__collector_use_codec(h, &fk_col_fake_codec), 0);
    assert_int_equal(fk_collector_set_callback(h, on_flow, g), 0);
    return h;
}

/* Parse the bound "udp://127.0.0.1:PORT" back into a sockaddr. */
static socklen_t bound_addr(fk_collector *h, size_t i, struct sockaddr_storage *ss)
{
    char uri[80];
    assert_true(fk_collector_get_listener_uri(h, i, uri, sizeof uri) > 0);
    fk__col_uri u;
    assert_int_equal(fk__col_uri_parse(&u, uri), 0);
    *ss = u.ss;
    return u.sslen;
}

static void send_udp(const struct sockaddr_storage *to, socklen_t tl, const fk_col_msg *m)
{
    int fd = socket(to->ss_family, SOCK_DGRAM, 0);
    assert_true(fd >= 0);
    assert_int_equal(sendto(fd, m->buf, m->len, 0, (const struct sockaddr *)to, tl),
                     (ssize_t)m->len);
    close(fd);
}

/* Waits are bounded generously (sanitizers on a loaded machine are slow);
 * the tests assert on what arrived, never on how fast. */
#define WAIT_NS (60LL * 1000000000LL)

static int64_t mono_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static void pump(fk_collector *h, got *g, unsigned want)
{
    int64_t end = mono_ns() + WAIT_NS;
    while (g->n < want && mono_ns() < end) {
        assert_true(fk_collector_dispatch(h) >= 0);
        if (g->n < want)
            usleep(5000);
    }
}

static void params_and_lifecycle(void **state)
{
    (void)state;
    size_t n = 0;
    const fk_param_info *t = fk_collector_params(&n);
    assert_true(n >= 10);
    assert_non_null(fk_param_find(t, n, "template-timeout"));
    assert_non_null(fk_param_find(t, n, "scale_sampling"));
    got g = {0};
    fk_collector *h = make(&g);
    assert_int_equal(fk_collector_set_int(h, FK_COL_WORKERS, 65), FK_ERANGE);
    assert_non_null(strstr(fk_error_last()->message, "workers = 65 is out of range [0, 64]"));
    assert_int_equal(fk_collector_set_int(h, FK_COL_TEMPLATE_TIMEOUT, 60), 0);
    int64_t v;
    assert_int_equal(fk_collector_get_int(h, FK_COL_TEMPLATE_TIMEOUT, &v), 0);
    assert_int_equal(v, 60);
    assert_int_equal(fk_collector_set_str(h, FK_COL_WORKERS, "x"), FK_ETYPE);
    assert_int_equal(fk_collector_add_listener(h, "udp://localhost:1"), FK_EINVAL);
    assert_int_equal(fk_collector_add_output(h, "xml:-"), FK_EINVAL);
    assert_int_equal(fk_collector_add_allow(h, "10.0.0.0/99"), FK_EINVAL);
    assert_int_equal(fk_collector_dispatch(h), FK_ENOTACTIVATED);
    assert_int_equal(fk_collector_get_fd(h), FK_ENOTACTIVATED);
    /* A listener on an address this host does not have: activate fails and
     * the handle stays configurable. */
    assert_int_equal(fk_collector_add_listener(h, "udp://192.0.2.55:0"), 0);
    assert_true(fk_collector_activate(h) < 0);
    assert_non_null(strstr(fk_error_last()->message, "udp://192.0.2.55:0"));
    assert_int_equal(fk_collector_set_int(h, FK_COL_TEMPLATE_TIMEOUT, 61), 0);
    fk_collector_destroy(h);

    h = make(&g);
    assert_int_equal(fk_collector_add_listener(h, "udp://127.0.0.1:0"), 0);
    assert_int_equal(fk_collector_activate(h), 0);
    assert_true(fk_collector_get_fd(h) >= 0);
    assert_int_equal(fk_collector_activate(h), FK_EACTIVATED);
    assert_int_equal(fk_collector_set_int(h, FK_COL_TEMPLATE_TIMEOUT, 5), FK_EACTIVATED);
    assert_int_equal(fk_collector_set_int(h, FK_COL_SCALE_SAMPLING, 1), 0);
    assert_int_equal(fk_collector_add_listener(h, "udp://127.0.0.1:0"), FK_EACTIVATED);
    int ms = fk_collector_next_timeout_ms(h);
    assert_true(ms >= 0 && ms <= 250);
    fk_collector_destroy(h);
    fk_collector_destroy(NULL);
}

static void udp_v4_v6_and_tcp_split(void **state)
{
    (void)state;
    got g = {0};
    fk_collector *h = make(&g);
    assert_int_equal(fk_collector_add_listener(h, "udp://127.0.0.1:0"), 0);
    assert_int_equal(fk_collector_add_listener(h, "tcp://127.0.0.1:0"), 0);
    int have_v6 = fk_collector_add_listener(h, "udp://[::1]:0") == 0;
    assert_int_equal(fk_collector_activate(h), 0);
    struct sockaddr_storage ss;
    socklen_t sl = bound_addr(h, 0, &ss);

    fk_col_msg m;
    fk_col_msg_ipfix(&m, 1, 0);
    fk_col_add_template(&m, 256, 4);
    fk_col_add_data(&m, 256, 4, 3, 10, 0);
    fk_col_msg_finish(&m);
    send_udp(&ss, sl, &m);
    pump(h, &g, 3);
    assert_int_equal(g.n, 3);
    char ex[FK_ADDR_STRLEN];
    fk_addr_format(&g.last.exporter, ex, sizeof ex);
    assert_string_equal(ex, "127.0.0.1");
    assert_int_equal(g.last.version, 10);

    if (have_v6) {
        sl = bound_addr(h, 2, &ss);
        send_udp(&ss, sl, &m);
        pump(h, &g, 6);
        assert_int_equal(g.n, 6);
        fk_addr_format(&g.last.exporter, ex, sizeof ex);
        assert_string_equal(ex, "::1");
    }
    unsigned base = g.n;

    /* TCP: two messages written in three pieces cut mid-header and mid-set. */
    sl = bound_addr(h, 1, &ss);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_int_equal(connect(fd, (struct sockaddr *)&ss, sl), 0);
    uint8_t stream[2 * sizeof m.buf / 64];
    size_t len = 0;
    fk_col_msg_ipfix(&m, 1, 0);
    fk_col_add_template(&m, 300, 4);
    fk_col_add_data(&m, 300, 4, 2, 5, 0);
    fk_col_msg_finish(&m);
    memcpy(stream, m.buf, m.len);
    len = m.len;
    fk_col_msg_ipfix(&m, 1, 2);
    fk_col_add_data(&m, 300, 4, 4, 5, 0);
    fk_col_msg_finish(&m);
    memcpy(stream + len, m.buf, m.len);
    len += m.len;
    size_t cuts[4] = {0, 7, 30, len};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(write(fd, stream + cuts[i], cuts[i + 1] - cuts[i]),
                         (ssize_t)(cuts[i + 1] - cuts[i]));
        usleep(20000);
        fk_collector_dispatch(h);
    }
    pump(h, &g, base + 6);
    assert_int_equal(g.n, base + 6);
    fk_collector_stats st;
    assert_int_equal(fk_collector_get_stats(h, &st, sizeof st), 0);
    assert_int_equal(st.tcp_connections, 1);
    uint64_t sessions = st.sessions;
    /* Closing the connection ends its session (and its templates). */
    close(fd);
    for (int64_t end = mono_ns() + WAIT_NS; mono_ns() < end; usleep(5000)) {
        fk_collector_dispatch(h);
        fk_collector_get_stats(h, &st, sizeof st);
        if (st.sessions < sessions)
            break;
    }
    assert_int_equal(st.sessions, sessions - 1);
    /* A stream that cannot be framed is dropped and counted. */
    fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_int_equal(connect(fd, (struct sockaddr *)&ss, sl), 0);
    assert_int_equal(write(fd, "\x00\x09\x00\x20garbagegarbagegarbagegarbage", 32), 32);
    for (int64_t end = mono_ns() + WAIT_NS; st.malformed == 0 && mono_ns() < end;) {
        usleep(5000);
        fk_collector_dispatch(h);
        fk_collector_get_stats(h, &st, sizeof st);
    }
    assert_int_equal(st.malformed, 1);
    close(fd);
    fk_collector_destroy(h);
}

static void allowlist_rejects(void **state)
{
    (void)state;
    got g = {0};
    fk_collector *h = make(&g);
    assert_int_equal(fk_collector_add_listener(h, "udp://127.0.0.1:0"), 0);
    assert_int_equal(fk_collector_add_allow(h, "10.0.0.0/8"), 0);
    assert_int_equal(fk_collector_activate(h), 0);
    struct sockaddr_storage ss;
    socklen_t sl = bound_addr(h, 0, &ss);
    fk_col_msg m;
    fk_col_msg_v5(&m, 0, 2, 0);
    send_udp(&ss, sl, &m);
    fk_collector_stats st = {0};
    for (int64_t end = mono_ns() + WAIT_NS; st.allowlist_rejected == 0 && mono_ns() < end;) {
        usleep(5000);
        fk_collector_dispatch(h);
        fk_collector_get_stats(h, &st, sizeof st);
    }
    assert_int_equal(st.allowlist_rejected, 1);
    assert_int_equal(g.n, 0);
    /* feed() goes through the same allowlist. */
    fk_addr ok;
    fk_addr_parse("10.9.8.7", &ok);
    assert_int_equal(fk_collector_feed(h, &ok, 9, m.buf, m.len), 2);
    assert_int_equal(g.n, 2);
    fk_collector_destroy(h);
}

static void count_limit_and_scaling(void **state)
{
    (void)state;
    got g = {0};
    fk_collector *h = make(&g);
    assert_int_equal(fk_collector_set_int(h, FK_COL_COUNT, 3), 0);
    assert_int_equal(fk_collector_set_int(h, FK_COL_SCALE_SAMPLING, 1), 0);
    assert_int_equal(fk_collector_add_listener(h, "udp://127.0.0.1:0"), 0);
    assert_int_equal(fk_collector_activate(h), 0);
    struct sockaddr_storage ss;
    socklen_t sl = bound_addr(h, 0, &ss);
    fk_col_msg m;
    fk_col_msg_ipfix(&m, 1, 0);
    fk_col_add_template(&m, 256, 8);
    fk_col_add_data(&m, 256, 8, 5, 10, 100);
    fk_col_msg_finish(&m);
    send_udp(&ss, sl, &m);
    assert_int_equal(fk_collector_run(h), 0);
    assert_int_equal(g.n, 3);
    assert_int_equal(g.bytes, 3 * 1000);
    assert_int_equal(g.last.sampling, 100);
    fk_collector_destroy(h);
}

static void duration_limit(void **state)
{
    (void)state;
    got g = {0};
    fk_collector *h = make(&g);
    assert_int_equal(fk_collector_set_int(h, FK_COL_DURATION, 1), 0);
    assert_int_equal(fk_collector_add_listener(h, "udp://127.0.0.1:0"), 0);
    /* The duration counts from activate, so the clock starts before it: a
     * loaded machine may take long between activate and run. */
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    assert_int_equal(fk_collector_activate(h), 0);
    assert_int_equal(fk_collector_run(h), 0);
    clock_gettime(CLOCK_MONOTONIC, &b);
    double secs = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
    /* Behaviour only: run() returned 0 and not before the duration (how
     * late it returns depends on the machine's load). */
    assert_true(secs >= 0.99);
    fk_collector_destroy(h);
}

static void *breaker(void *arg)
{
    usleep(100000);
    fk_collector_break(arg);
    return NULL;
}

static void break_from_another_thread(void **state)
{
    (void)state;
    got g = {0};
    fk_collector *h = make(&g);
    assert_int_equal(fk_collector_add_listener(h, "tcp://127.0.0.1:0"), 0);
    assert_int_equal(fk_collector_activate(h), 0);
    pthread_t t;
    pthread_create(&t, NULL, breaker, h);
    assert_int_equal(fk_collector_run(h), FK_EBREAK);
    pthread_join(t, NULL);
    fk_collector_destroy(h);
}

static void workers_receive_everything(void **state)
{
    (void)state;
    got g = {0};
    fk_collector *h = make(&g);
    assert_int_equal(fk_collector_set_int(h, FK_COL_WORKERS, 2), 0);
    assert_int_equal(fk_collector_add_listener(h, "udp://127.0.0.1:0"), 0);
    assert_int_equal(fk_collector_activate(h), 0);
    struct sockaddr_storage ss;
    socklen_t sl = bound_addr(h, 0, &ss);
    fk_col_msg m;
    /* 40 exporters (source ports) so SO_REUSEPORT spreads them. */
    for (int i = 0; i < 40; i++) {
        fk_col_msg_v5(&m, 0, 2, 0);
        send_udp(&ss, sl, &m);
    }
    pump(h, &g, 80);
    assert_int_equal(g.n, 80);
    fk_collector_stats st;
    fk_collector_get_stats(h, &st, sizeof st);
    assert_int_equal(st.datagrams, 40);
    assert_int_equal(st.queue_drops, 0);
    fk_collector_destroy(h);
}

/* A small receive buffer overflows while nobody reads: every datagram is
 * either received or counted as a kernel drop. */
static void kernel_drops_are_counted(void **state)
{
    (void)state;
    got g = {0};
    fk_collector *h = make(&g);
    assert_int_equal(fk_collector_set_int(h, FK_COL_SOCKET_BUFFER, 8192), 0);
    assert_int_equal(fk_collector_add_listener(h, "udp://127.0.0.1:0"), 0);
    assert_int_equal(fk_collector_activate(h), 0);
    struct sockaddr_storage ss;
    socklen_t sl = bound_addr(h, 0, &ss);
    fk_col_msg m;
    fk_col_msg_v5(&m, 0, 20, 0); /* ~1 KB datagrams */
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    for (int i = 0; i < 300; i++)
        sendto(fd, m.buf, m.len, 0, (struct sockaddr *)&ss, sl);
    close(fd);
    fk_collector_stats st = {0};
    /* Every datagram is already received or dropped; read until all are
     * accounted for. */
    for (int64_t end = mono_ns() + WAIT_NS; mono_ns() < end; usleep(2000)) {
        fk_collector_dispatch(h);
        assert_int_equal(fk_collector_get_stats(h, &st, sizeof st), 0);
        if (st.datagrams + st.socket_drops >= 300)
            break;
    }
    assert_true(st.socket_drops > 0);
    assert_int_equal(st.datagrams + st.socket_drops, 300);
    assert_int_equal(g.n, st.datagrams * 20);
    fk_collector_destroy(h);
}

/* True when the collector's fd reports something to read within ms. */
static bool fd_ready(fk_collector *h, int ms)
{
    struct pollfd p = {fk_collector_get_fd(h), POLLIN, 0};
    return poll(&p, 1, ms) == 1;
}

/* recv_interval (#18): a UDP socket read dry leaves the fd's set until the
 * interval is over, whatever arrives meanwhile; next_timeout_ms says when
 * it is back; then one read takes everything that gathered. With 0 the fd
 * is ready as soon as a datagram arrives. */
static void recv_interval_parks_a_dry_socket(void **state)
{
    (void)state;
    for (int interval = 0; interval <= 1000; interval += 1000) {
        got g = {0};
        fk_collector *h = make(&g);
        assert_int_equal(fk_collector_set_int(h, FK_COL_RECV_INTERVAL, interval), 0);
        assert_int_equal(fk_collector_add_listener(h, "udp://127.0.0.1:0"), 0);
        assert_int_equal(fk_collector_activate(h), 0);
        struct sockaddr_storage ss;
        socklen_t sl = bound_addr(h, 0, &ss);
        fk_col_msg m;
        fk_col_msg_ipfix(&m, 1, 0);
        fk_col_add_template(&m, 256, 8);
        fk_col_add_data(&m, 256, 8, 1, 10, 1);
        fk_col_msg_finish(&m);
        send_udp(&ss, sl, &m);
        assert_true(fd_ready(h, 60000));
        pump(h, &g, 1);
        assert_int_equal(g.n, 1);
        /* Three more while it is parked (or not). */
        for (int i = 0; i < 3; i++)
            send_udp(&ss, sl, &m);
        fk_collector_stats st;
        if (interval) {
            /* Nothing wakes the fd inside the interval; the timeout is the
             * rest of it (the tick is further away). */
            assert_false(fd_ready(h, 100));
            int t = fk_collector_next_timeout_ms(h);
            assert_true(t >= 0 && t <= interval);
            assert_false(fd_ready(h, 0));
            /* When it is over, one dispatch reads the three. */
            int64_t end = mono_ns() + WAIT_NS;
            while (g.n < 4 && mono_ns() < end) {
                t = fk_collector_next_timeout_ms(h);
                fd_ready(h, t < 0 ? 1000 : t);
                assert_true(fk_collector_dispatch(h) >= 0);
            }
            assert_int_equal(g.n, 4);
            assert_int_equal(fk_collector_get_stats(h, &st, sizeof st), 0);
            assert_int_equal(st.datagrams, 4);
            assert_int_equal(st.udp_wakeups, 2);
        } else {
            assert_true(fd_ready(h, 60000));
            pump(h, &g, 4);
            assert_int_equal(g.n, 4);
        }
        fk_collector_destroy(h);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(params_and_lifecycle),
        cmocka_unit_test(udp_v4_v6_and_tcp_split),
        cmocka_unit_test(allowlist_rejects),
        cmocka_unit_test(count_limit_and_scaling),
        cmocka_unit_test(duration_limit),
        cmocka_unit_test(break_from_another_thread),
        cmocka_unit_test(workers_receive_everything),
        cmocka_unit_test(kernel_drops_are_counted),
        cmocka_unit_test(recv_interval_parks_a_dry_socket),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
