/* ClickHouse sink parts: RowBinary encoding byte by byte, URI options, the
 * bounded queue's accounting with the server unreachable, and retries
 * against a fake HTTP server on loopback that refuses the first inserts. */
#include <arpa/inet.h>
#include <flowkit/flowkit.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "collector/internal.h"
#include "collector/sink_clickhouse.h"
#include "fk_test.h"

static uint64_t le(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static fk_flow sample_flow(void)
{
    fk_flow f;
    memset(&f, 0, sizeof f);
    fk_addr_parse("10.1.0.1", &f.src);
    fk_addr_parse("2001:db8::2", &f.dst);
    f.src_port = 40001;
    f.dst_port = 443;
    f.proto = 6;
    f.tcp_flags = 0x12;
    f.bytes = 5000000000ULL;
    f.packets = 7;
    f.start_ns = 1795435200123456789LL; /* 2026-11-23T12:00:00.123Z */
    f.end_ns = 1795435201999000000LL;
    f.version = 10;
    f.present = FK_FLOW_HAS_EXPORTER | FK_FLOW_HAS_SAMPLING | FK_FLOW_HAS_PROCESS;
    fk_addr_parse("192.0.2.9", &f.exporter);
    f.odid = 77;
    f.sampling = 100;
    f.pid = 4242;
    snprintf(f.process, sizeof f.process, "curl");
    return f;
}

static void rowbinary_encoding(void **state)
{
    (void)state;
    fk_flow f = sample_flow();
    uint8_t b[FK__CH_ROW_MAX];
    int n = fk__ch_encode_row(&f, b, sizeof b);
    /* 2 date + 16 times + 32 addrs + 4 ports + 4 u8 + 2 vlan + 32 counters
     * + 16 exporter + 4 odid + 2 version + 8 ifs + 4 sampling + 1 reason
     * + 4 pid + 1 + 4 process = 136, then event 1 + uid null flag 1 + five
     * empty strings (user, exe, interface names, tags) 5 = 143 */
    assert_int_equal(n, 143);
    assert_int_equal(le(b, 2), 20780); /* days 1970-01-01 .. 2026-11-23 */
    assert_int_equal(le(b + 2, 8), 1795435200123ULL);
    assert_int_equal(le(b + 10, 8), 1795435201999ULL);
    static const uint8_t mapped[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 1, 0, 1};
    assert_memory_equal(b + 18, mapped, 16);
    assert_int_equal(b[34], 0x20); /* 2001:db8::2 */
    assert_int_equal(b[35], 0x01);
    assert_int_equal(b[49], 2);
    assert_int_equal(le(b + 50, 2), 40001);
    assert_int_equal(le(b + 52, 2), 443);
    assert_int_equal(b[54], 6);
    assert_int_equal(b[55], 0x12);
    assert_int_equal(le(b + 60, 8), 5000000000ULL);
    assert_int_equal(le(b + 68, 8), 7);
    assert_int_equal(le(b + 76, 8), 0); /* no reverse direction */
    assert_int_equal(b[104], 192);
    assert_int_equal(b[103], 0xff);
    assert_int_equal(le(b + 108, 4), 77);
    assert_int_equal(le(b + 112, 2), 10);
    assert_int_equal(le(b + 122, 4), 100);
    assert_int_equal(le(b + 127, 4), 4242);
    assert_int_equal(b[131], 4);
    assert_memory_equal(b + 132, "curl", 4);
    assert_int_equal(b[136], 0); /* event: flow */
    assert_int_equal(b[137], 1); /* uid: NULL */
    static const uint8_t empty5[5] = {0, 0, 0, 0, 0};
    assert_memory_equal(b + 138, empty5, 5);
    /* The record's tags (issue #16): the last column, a String. */
    f.tags = "account-id=123456789012,region=eu-west-1";
    n = fk__ch_encode_row(&f, b, sizeof b);
    assert_int_equal(n, 142 + 1 + 40);
    assert_int_equal(b[142], 40);
    assert_memory_equal(b + 143, f.tags, 40);
    f.tags = NULL;
    /* Absent optional fields come out as zeros, even if the struct has data. */
    f.present = 0;
    n = fk__ch_encode_row(&f, b, sizeof b);
    assert_int_equal(n, 139);
    assert_int_equal(le(b + 108, 4), 0);
    assert_int_equal(le(b + 122, 4), 0);
    assert_int_equal(b[131], 0);
    /* Too small a buffer is refused, not overrun. */
    assert_int_equal(fk__ch_encode_row(&f, b, 64), FK_ENOSPACE);
    char sql[1400];
    assert_true(fk__ch_create_sql("db", "t", sql, sizeof sql) > 0);
    assert_non_null(strstr(sql, ", tags String DEFAULT ''"));
    assert_non_null(strstr(sql, "CREATE TABLE IF NOT EXISTS db.t ("));
    assert_non_null(strstr(sql, "PARTITION BY date"));
    assert_int_equal(fk__ch_create_sql("db", "t", sql, 20), FK_ENOSPACE);
}

static void uri_options(void **state)
{
    (void)state;
    fk__ch_config c;
    assert_int_equal(fk__ch_uri_parse("clickhouse://127.0.0.1:18123/flows.f", &c), 0);
    assert_string_equal(c.host, "127.0.0.1");
    assert_string_equal(c.port, "18123");
    assert_string_equal(c.db, "flows");
    assert_string_equal(c.table, "f");
    assert_int_equal(c.create, 1);
    assert_int_equal(fk__ch_uri_parse("clickhouse://[::1]/a.b?batch_rows=10&queue_rows=20&"
                                      "flush_ms=5&drain_ms=0&create=0&user=u",
                                      &c),
                     0);
    assert_string_equal(c.host, "::1");
    assert_string_equal(c.port, "8123");
    assert_int_equal(c.batch_rows, 10);
    assert_int_equal(c.queue_rows, 20);
    assert_int_equal(c.flush_ns, 5000000);
    assert_int_equal(c.drain_ns, 0);
    assert_int_equal(c.create, 0);
    assert_string_equal(c.user, "u");
    static const char *bad[] = {
        "clickhouse://h:1/notable",    "clickhouse://h:0/a.b",  "clickhouse://h:1/a.b;drop",
        "clickhouse://h:1/a.b?x=1",    "clickhouse:///a.b",     "clickhouse://h:1/a.b?batch_rows=0",
        "clickhouse://h:1/a.b?create", "clickhouse://[::1/a.b", "clickhouse://h:99999/a.b",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(fk__ch_uri_parse(bad[i], &c), FK_EINVAL);
    fk_collector *h;
    assert_int_equal(fk_collector_create(&h), 0);
    assert_int_equal(fk_collector_add_output(h, "clickhouse://h:1/a"), FK_EINVAL);
    assert_int_equal(fk_collector_add_output(h, "clickhouse://127.0.0.1:1/a.b"), 0);
    fk_collector_destroy(h);
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void queue_bound_counts_drops(void **state)
{
    (void)state;
    /* Port 1 on loopback refuses connections: nothing can be written. */
    fk__sink *k;
    assert_int_equal(fk__sink_create(&k, "clickhouse://127.0.0.1:1/db.t?batch_rows=10&"
                                         "queue_rows=100&flush_ms=10&drain_ms=100"),
                     0);
    assert_int_equal(fk__sink_open(k, 0), 0);
    fk_flow f = sample_flow();
    for (int i = 0; i < 150; i++)
        assert_int_equal(fk__sink_write(k, &f, 0), 0);
    sleep_ms(300);
    fk__ch_counters c;
    fk__sink_clickhouse_counters(k, &c);
    assert_int_equal(c.queued, 100);
    assert_int_equal(c.dropped, 50);
    assert_int_equal(c.written, 0);
    assert_true(c.failures >= 1);
    assert_true(c.retried >= 10);
    assert_int_equal(c.retried % 10, 0); /* whole batches */
    fk_collector_stats st;
    memset(&st, 0, sizeof st);
    fk__sink_clickhouse_stats(k, &st);
    assert_int_equal(st.db_rows_dropped, 50);
    assert_int_equal(st.db_rows_queued, 100);
    fk__sink_destroy(k); /* gives up after drain_ms */
}

/* ---- fake ClickHouse ---------------------------------------------------- */

typedef struct fake {
    int lfd;
    int port;
    int refuse; /* answer 500 to this many requests first */
    int requests;
    _Atomic size_t body_bytes; /* accepted (200) bodies */
    _Atomic int saw_insert;
} fake;

static void *fake_main(void *arg)
{
    fake *fk = arg;
    for (;;) {
        int fd = accept(fk->lfd, NULL, NULL);
        if (fd < 0)
            return NULL;
        char buf[1 << 16];
        size_t got = 0;
        long clen = -1;
        char *body = NULL;
        while (got < sizeof buf) {
            ssize_t r = recv(fd, buf + got, sizeof buf - got, 0);
            if (r <= 0)
                break;
            got += (size_t)r;
            if (!body) {
                char *e = memmem(buf, got, "\r\n\r\n", 4);
                if (e) {
                    body = e + 4;
                    char *cl = strcasestr(buf, "Content-Length:");
                    clen = cl ? strtol(cl + 15, NULL, 10) : 0;
                }
            }
            if (body && (size_t)(buf + got - body) >= (size_t)clen)
                break;
        }
        if (strstr(buf, "query=INSERT%20INTO%20db.t%20"))
            fk->saw_insert = 1;
        int n = fk->requests++;
        const char *resp;
        if (n < fk->refuse) {
            resp = "HTTP/1.1 500 Internal Server Error\r\nConnection: close\r\n\r\nCode: 252, "
                   "e.displayText() = DB::Exception: Too many parts\n";
        } else {
            resp = "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n";
            if (body && clen > 0)
                fk->body_bytes += (size_t)clen;
        }
        ssize_t w = send(fd, resp, strlen(resp), MSG_NOSIGNAL);
        (void)w;
        close(fd);
    }
}

static void retries_then_writes(void **state)
{
    (void)state;
    fake fk;
    memset(&fk, 0, sizeof fk);
    fk.refuse = 2;
    fk.lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(fk.lfd, (struct sockaddr *)&sa, sizeof sa), 0);
    socklen_t sl = sizeof sa;
    getsockname(fk.lfd, (struct sockaddr *)&sa, &sl);
    assert_int_equal(listen(fk.lfd, 8), 0);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, fake_main, &fk), 0);

    char uri[128];
    snprintf(uri, sizeof uri,
             "clickhouse://127.0.0.1:%d/db.t?batch_rows=1000&flush_ms=20&create=0&drain_ms=5000",
             ntohs(sa.sin_port));
    fk__sink *k;
    assert_int_equal(fk__sink_create(&k, uri), 0);
    assert_int_equal(fk__sink_open(k, 0), 0);
    fk_flow f = sample_flow();
    for (int i = 0; i < 30; i++)
        assert_int_equal(fk__sink_write(k, &f, 0), 0);
    fk__ch_counters c;
    for (int i = 0; i < 100; i++) {
        sleep_ms(20);
        fk__sink_clickhouse_counters(k, &c);
        if (c.written == 30)
            break;
    }
    assert_int_equal(c.written, 30);
    assert_int_equal(c.retried, 60); /* the 30-row batch refused twice */
    assert_int_equal(c.failures, 2);
    assert_int_equal(c.dropped, 0);
    assert_int_equal(c.queued, 0);
    assert_int_equal(fk.body_bytes, 30 * 143);
    assert_true(fk.saw_insert);
    /* Rows still pending at destroy are sent before it returns. */
    for (int i = 0; i < 5; i++)
        assert_int_equal(fk__sink_write(k, &f, 0), 0);
    fk__sink_destroy(k);
    assert_int_equal(fk.body_bytes, 35 * 143);
    shutdown(fk.lfd, SHUT_RDWR);
    close(fk.lfd);
    pthread_join(th, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rowbinary_encoding),
        cmocka_unit_test(uri_options),
        cmocka_unit_test(queue_bound_counts_drops),
        cmocka_unit_test(retries_then_writes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
