/* fk_exporter: URIs, parameters, message building, sequence numbers,
 * template refresh, flush timer, TCP buffering and reconnect. Messages are
 * received on 127.0.0.1 sockets and decoded by the small independent
 * reader below (RFC 7011 layout), not by the exporter's own code. */
#include <arpa/inet.h>
#include <errno.h>
#include <flowkit/flowkit.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "exporter/exporter_internal.h"
#include "exporter/msg.h"
#include "fk_test.h"

/* ---- a minimal IPFIX reader ------------------------------------------- */

typedef struct tfield {
    uint16_t id, len;
    uint32_t pen;
} tfield;
typedef struct ttmpl {
    uint16_t id;
    int n;
    tfield f[64];
} ttmpl;
typedef struct tcache {
    ttmpl t[64];
    int n;
} tcache;
typedef struct trec {
    const ttmpl *t;
    const uint8_t *p;
    size_t len;
} trec;
typedef struct tmsg {
    uint8_t raw[65536];
    size_t size;
    uint16_t version, length;
    uint32_t etime, seq, odid;
    int ntemplates, nrec;
    uint16_t template_ids[64];
    trec rec[256];
} tmsg;

static uint16_t g16(const uint8_t *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}
static uint32_t g32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}
static uint64_t gN(const uint8_t *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = (v << 8) | p[i];
    return v;
}

static const ttmpl *cache_find(const tcache *c, uint16_t id)
{
    for (int i = 0; i < c->n; i++) {
        if (c->t[i].id == id)
            return &c->t[i];
    }
    return NULL;
}

/* Size of one record of template t at p, or 0 when malformed. */
static size_t rec_size(const ttmpl *t, const uint8_t *p, size_t avail)
{
    size_t off = 0;
    for (int i = 0; i < t->n; i++) {
        size_t l = t->f[i].len;
        if (l == 65535) {
            if (off >= avail)
                return 0;
            l = p[off++];
            if (l == 255) {
                l = g16(p + off);
                off += 2;
            }
        }
        off += l;
        if (off > avail)
            return 0;
    }
    return off;
}

static void decode(tcache *c, tmsg *m)
{
    const uint8_t *b = m->raw;
    assert_true(m->size >= 16);
    m->version = g16(b);
    m->length = g16(b + 2);
    m->etime = g32(b + 4);
    m->seq = g32(b + 8);
    m->odid = g32(b + 12);
    assert_int_equal(m->version, 10);
    assert_int_equal(m->length, m->size);
    m->ntemplates = m->nrec = 0;
    size_t off = 16;
    while (off < m->size) {
        assert_true(off + 4 <= m->size);
        uint16_t sid = g16(b + off), slen = g16(b + off + 2);
        assert_true(slen >= 4 && off + slen <= m->size);
        size_t end = off + slen, p = off + 4;
        if (sid == 2) {
            while (p + 4 <= end) {
                ttmpl t = {.id = g16(b + p), .n = g16(b + p + 2)};
                p += 4;
                assert_true(t.n <= 64);
                for (int i = 0; i < t.n; i++) {
                    uint16_t id = g16(b + p);
                    t.f[i].len = g16(b + p + 2);
                    p += 4;
                    if (id & 0x8000) {
                        t.f[i].pen = g32(b + p);
                        p += 4;
                    }
                    t.f[i].id = id & 0x7fff;
                }
                assert_true(p <= end);
                ttmpl *slot = (ttmpl *)cache_find(c, t.id);
                if (!slot)
                    slot = &c->t[c->n++];
                *slot = t;
                m->template_ids[m->ntemplates++] = t.id;
            }
        } else {
            assert_true(sid >= 256);
            const ttmpl *t = cache_find(c, sid);
            assert_non_null(t); /* templates always precede their data */
            while (p < end) {
                size_t n = rec_size(t, b + p, end - p);
                if (n == 0)
                    break; /* padding */
                m->rec[m->nrec].t = t;
                m->rec[m->nrec].p = b + p;
                m->rec[m->nrec].len = n;
                m->nrec++;
                p += n;
            }
        }
        off = end;
    }
}

/* Field of a record by (pen, id): pointer and length, NULL if absent. */
static const uint8_t *rec_field(const trec *r, uint32_t pen, uint16_t id, size_t *len)
{
    size_t off = 0;
    for (int i = 0; i < r->t->n; i++) {
        size_t l = r->t->f[i].len;
        if (l == 65535) {
            l = r->p[off++];
            if (l == 255) {
                l = g16(r->p + off);
                off += 2;
            }
        }
        if (r->t->f[i].id == id && r->t->f[i].pen == pen) {
            *len = l;
            return r->p + off;
        }
        off += l;
    }
    return NULL;
}

static uint64_t rec_uint(const trec *r, uint32_t pen, uint16_t id)
{
    size_t l = 0;
    const uint8_t *p = rec_field(r, pen, id, &l);
    assert_non_null(p);
    return gN(p, l);
}

static void rec_str(const trec *r, uint32_t pen, uint16_t id, char *out, size_t cap)
{
    size_t l = 0;
    const uint8_t *p = rec_field(r, pen, id, &l);
    assert_non_null(p);
    assert_true(l < cap);
    memcpy(out, p, l);
    out[l] = '\0';
}

/* ---- sockets ---------------------------------------------------------- */

static int udp_listener(uint16_t *port)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    assert_true(fd >= 0);
    int big = 4 << 20;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t l = sizeof a;
    getsockname(fd, (struct sockaddr *)&a, &l);
    *port = ntohs(a.sin_port);
    return fd;
}

static int tcp_listener(uint16_t port, uint16_t *out_port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {
        .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK), .sin_port = htons(port)};
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t l = sizeof a;
    getsockname(fd, (struct sockaddr *)&a, &l);
    if (out_port)
        *out_port = ntohs(a.sin_port);
    return fd;
}

/* Receive one datagram within 2 s; false if none. */
static bool recv_msg(int fd, tmsg *m, int timeout_ms)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (poll(&p, 1, timeout_ms) != 1)
        return false;
    ssize_t n = recv(fd, m->raw, sizeof m->raw, 0);
    if (n <= 0)
        return false;
    m->size = (size_t)n;
    return true;
}

/* Read one IPFIX message from a TCP stream (blocking, 2 s). */
static bool read_full(int fd, uint8_t *b, size_t n)
{
    size_t got = 0;
    while (got < n) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 2000) != 1)
            return false;
        ssize_t r = recv(fd, b + got, n - got, 0);
        if (r <= 0)
            return false;
        got += (size_t)r;
    }
    return true;
}

static bool tcp_recv_msg(int fd, tmsg *m)
{
    if (!read_full(fd, m->raw, 16))
        return false;
    size_t len = g16(m->raw + 2);
    assert_true(len >= 16);
    if (!read_full(fd, m->raw + 16, len - 16))
        return false;
    m->size = len;
    return true;
}

static fk_exporter *make_exporter(const char *uri, int chunk)
{
    fk_exporter *h;
    assert_int_equal(fk_exporter_create(&h), 0);
    assert_int_equal(fk_exporter_add_destination(h, uri), 0);
    assert_int_equal(fk_exporter_set_int(h, FK_EXP_CHUNK_SIZE, chunk), 0);
    return h;
}

static fk_exporter *udp_exporter(uint16_t port, int chunk)
{
    char uri[64];
    snprintf(uri, sizeof uri, "udp://127.0.0.1:%u", port);
    return make_exporter(uri, chunk);
}

static fk_flow v4_flow(uint32_t i)
{
    fk_flow f;
    memset(&f, 0, sizeof f);
    fk_addr_parse("10.213.0.1", &f.src);
    fk_addr_parse("10.213.0.2", &f.dst);
    f.src_port = (uint16_t)(40000 + i);
    f.dst_port = 443;
    f.proto = 6;
    f.tcp_flags = 0x1b;
    f.bytes = 1000 + i;
    f.packets = 10 + i;
    f.start_ns = INT64_C(1700000000123) * 1000000;
    f.end_ns = INT64_C(1700000005456) * 1000000 + 999999;
    f.present = FK_FLOW_HAS_END_REASON;
    f.end_reason = FK_END_DETECTED;
    return f;
}

/* ---- tests ------------------------------------------------------------ */

static void params_and_lifecycle(void **state)
{
    (void)state;
    size_t n = 0;
    const fk_param_info *t = fk_exporter_params(&n);
    assert_true(n >= 11);
    const fk_param_info *pen = fk_param_find(t, n, "pen");
    assert_non_null(pen);
    assert_int_equal(pen->default_int, 32473);
    assert_non_null(fk_param_find(t, n, "chunk-size"));

    fk_exporter *h;
    assert_int_equal(fk_exporter_create(&h), 0);
    int64_t v;
    assert_int_equal(fk_exporter_get_int(h, FK_EXP_MTU, &v), 0);
    assert_int_equal(v, 1400);
    assert_int_equal(fk_exporter_set_int(h, FK_EXP_MTU, 1023), FK_ERANGE);
    assert_non_null(strstr(fk_error_last()->message, "[1024, 65535]"));
    assert_int_equal(fk_exporter_set_text(h, "odid", "77"), 0);
    assert_int_equal(fk_exporter_get_int(h, FK_EXP_ODID, &v), 0);
    assert_int_equal(v, 77);
    assert_int_equal(fk_exporter_set_text(h, "odid", "x"), FK_EINVAL);
    assert_int_equal(fk_exporter_set_text(h, "nope", "1"), FK_ENOTFOUND);
    assert_int_equal(fk_exporter_set_str(h, FK_EXP_ODID, "1"), FK_ETYPE);
    /* No destination: activate refuses and the handle stays configurable. */
    assert_int_equal(fk_exporter_activate(h), FK_ESTATE);
    assert_int_equal(fk_exporter_add_destination(h, "udp://nowhere"), FK_EINVAL);
    fk_flow f = v4_flow(0);
    assert_int_equal(fk_exporter_add_flow(h, &f), FK_ENOTACTIVATED);
    assert_int_equal(fk_exporter_add_destination(h, "udp://127.0.0.1:9"), 0);
    assert_int_equal(fk_exporter_set_int(h, FK_EXP_RECONNECT_MIN_MS, 5000), 0);
    assert_int_equal(fk_exporter_set_int(h, FK_EXP_RECONNECT_MAX_MS, 1000), 0);
    assert_int_equal(fk_exporter_activate(h), FK_ERANGE);
    assert_int_equal(fk_exporter_set_int(h, FK_EXP_RECONNECT_MAX_MS, 5000), 0);
    assert_int_equal(fk_exporter_activate(h), 0);
    assert_int_equal(fk_exporter_activate(h), FK_EACTIVATED);
    assert_int_equal(fk_exporter_set_int(h, FK_EXP_MTU, 1500), FK_EACTIVATED);
    assert_int_equal(fk_exporter_add_destination(h, "udp://127.0.0.1:10"), FK_EACTIVATED);
    assert_int_equal(fk_exporter_get_destination_count(h), 1);
    fk_exporter_stats st;
    assert_int_equal(fk_exporter_get_destination_stats(h, 1, &st, sizeof st), FK_ERANGE);
    fk_exporter_destroy(h);
    fk_exporter_destroy(NULL);
    assert_int_equal(fk_exporter_create(NULL), FK_EINVAL);
}

static void alloc_failures(void **state)
{
    (void)state;
    for (unsigned long k = 1; k < 6; k++) {
        fk_exporter *h = NULL;
        fk_test_alloc_fail_at(k, 1);
        int rc = fk_exporter_create(&h);
        if (rc == 0)
            rc = fk_exporter_add_destination(h, "udp://127.0.0.1:9");
        fk_exporter_destroy(h);
        long live = fk_test_alloc_live();
        fk_test_alloc_reset();
        assert_true(rc == 0 || rc == FK_ENOMEM);
        assert_int_equal(live, 0);
    }
}

static void udp_flows_roundtrip(void **state)
{
    (void)state;
    uint16_t port;
    int rx = udp_listener(&port);
    fk_exporter *h = udp_exporter(port, 0);
    assert_int_equal(fk_exporter_set_int(h, FK_EXP_ODID, 4242), 0);
    assert_int_equal(fk_exporter_activate(h), 0);
    for (uint32_t i = 0; i < 3; i++) {
        fk_flow f = v4_flow(i);
        assert_int_equal(fk_exporter_add_flow(h, &f), 0);
    }
    fk_flow f6 = v4_flow(9);
    fk_addr_parse("fd00:213::1", &f6.src);
    fk_addr_parse("fd00:213::2", &f6.dst);
    f6.present |= FK_FLOW_HAS_PROCESS;
    f6.pid = 4321;
    strcpy(f6.process, "curl");
    assert_int_equal(fk_exporter_add_flow(h, &f6), 0);
    fk_flow bad = v4_flow(0);
    bad.dst.family = 6;
    assert_int_equal(fk_exporter_add_flow(h, &bad), FK_EINVAL);
    /* Nothing leaves before the flush interval. */
    static tmsg m;
    static tcache c;
    memset(&c, 0, sizeof c);
    assert_false(recv_msg(rx, &m, 0));
    assert_int_equal(fk_exporter_flush(h), 0);

    assert_true(recv_msg(rx, &m, 2000));
    decode(&c, &m);
    assert_int_equal(m.nrec, 0);
    assert_int_equal(m.ntemplates, 2);
    assert_int_equal(m.odid, 4242);
    assert_int_equal(m.seq, 0);
    const ttmpl *t4 = cache_find(&c, 256), *t6p = cache_find(&c, 256 + 1 + 2);
    assert_non_null(t4);
    assert_non_null(t6p);
    assert_int_equal(t4->f[0].id, 8);   /* sourceIPv4Address */
    assert_int_equal(t6p->f[0].id, 27); /* sourceIPv6Address */
    /* Process elements carry the enterprise bit and the PEN. */
    int enterprise = 0;
    for (int i = 0; i < t6p->n; i++) {
        if (t6p->f[i].pen == FK_EXPORTER_DEFAULT_PEN)
            enterprise++;
    }
    assert_int_equal(enterprise, 4); /* userName is IANA 371 */

    assert_true(recv_msg(rx, &m, 2000));
    decode(&c, &m);
    assert_int_equal(m.seq, 0);
    assert_int_equal(m.nrec, 4);
    assert_true(m.etime > 1700000000u);
    for (int i = 0; i < 3; i++) {
        const trec *r = &m.rec[i];
        assert_int_equal(r->t->id, 256);
        assert_int_equal(rec_uint(r, 0, 8), 0x0ad50001);
        assert_int_equal(rec_uint(r, 0, 12), 0x0ad50002);
        assert_int_equal(rec_uint(r, 0, 7), 40000 + i);
        assert_int_equal(rec_uint(r, 0, 11), 443);
        assert_int_equal(rec_uint(r, 0, 4), 6);
        assert_int_equal(rec_uint(r, 0, 6), 0x1b);
        assert_int_equal(rec_uint(r, 0, 1), 1000 + i);
        assert_int_equal(rec_uint(r, 0, 2), 10 + i);
        assert_int_equal(rec_uint(r, 0, 152), UINT64_C(1700000000123));
        assert_int_equal(rec_uint(r, 0, 153), UINT64_C(1700000005456));
        assert_int_equal(rec_uint(r, 0, 136), 3);
    }
    const trec *r6 = &m.rec[3];
    assert_int_equal(r6->t->id, 259);
    size_t l;
    const uint8_t *a = rec_field(r6, 0, 27, &l);
    assert_int_equal(l, 16);
    assert_memory_equal(a, f6.src.bytes, 16);
    assert_int_equal(rec_uint(r6, FK_EXPORTER_DEFAULT_PEN, FK_EXPORTER_IE_PROCESS_ID), 4321);
    char name[300];
    rec_str(r6, FK_EXPORTER_DEFAULT_PEN, FK_EXPORTER_IE_PROCESS_NAME, name, sizeof name);
    assert_string_equal(name, "curl");
    rec_str(r6, 0, FK_EXPORTER_IE_USER_NAME, name, sizeof name);
    assert_string_equal(name, "");
    /* pid and name without FK_FLOW_HAS_UID: the uid is sent as (uid_t)-1. */
    assert_int_equal(rec_uint(r6, FK_EXPORTER_DEFAULT_PEN, FK_EXPORTER_IE_USER_ID), UINT32_MAX);

    /* The next message continues the sequence: 4 records were sent. */
    fk_flow f = v4_flow(5);
    assert_int_equal(fk_exporter_add_flow(h, &f), 0);
    assert_int_equal(fk_exporter_flush(h), 0);
    assert_true(recv_msg(rx, &m, 2000));
    decode(&c, &m);
    assert_int_equal(m.nrec, 1);
    assert_int_equal(m.seq, 4);
    fk_exporter_stats st;
    assert_int_equal(fk_exporter_get_stats(h, &st, sizeof st), 0);
    assert_int_equal(st.records_in, 5);
    assert_int_equal(st.records_sent, 5);
    assert_int_equal(st.messages_sent, 3);
    assert_int_equal(st.template_messages, 1);
    assert_int_equal(st.records_dropped, 0);
    fk_exporter_destroy(h);
    close(rx);
}

static void mtu_and_chunk_packing(void **state)
{
    (void)state;
    static tmsg m;
    static tcache c;
    for (int pass = 0; pass < 2; pass++) {
        memset(&c, 0, sizeof c);
        uint16_t port;
        int rx = udp_listener(&port);
        int chunk = pass == 0 ? 0 : 7;
        fk_exporter *h = udp_exporter(port, chunk);
        assert_int_equal(fk_exporter_set_int(h, FK_EXP_MTU, 1024), 0);
        assert_int_equal(fk_exporter_activate(h), 0);
        for (uint32_t i = 0; i < 100; i++) {
            fk_flow f = v4_flow(i);
            assert_int_equal(fk_exporter_add_flow(h, &f), 0);
        }
        assert_int_equal(fk_exporter_flush(h), 0);
        uint32_t expect_seq = 0, total = 0;
        int data_msgs = 0;
        while (recv_msg(rx, &m, 200)) {
            assert_true(m.size <= 1024);
            decode(&c, &m);
            if (m.nrec == 0)
                continue;
            assert_int_equal(m.seq, expect_seq);
            for (int i = 0; i < m.nrec; i++)
                assert_int_equal(rec_uint(&m.rec[i], 0, 7), 40000 + total + (uint32_t)i);
            expect_seq += (uint32_t)m.nrec;
            total += (uint32_t)m.nrec;
            data_msgs++;
            if (chunk)
                assert_true(m.nrec <= chunk);
            else if (total < 100) /* full messages: another 51-byte record would not fit */
                assert_true(m.size + 51 > 1024);
        }
        assert_int_equal(total, 100);
        assert_int_equal(data_msgs, chunk ? 15 : 6);
        assert_int_equal(fk__exporter_dest_seq(h, 0), 100);
        fk_exporter_destroy(h);
        close(rx);
    }
}

static void sequence_per_destination(void **state)
{
    (void)state;
    static tmsg m;
    static tcache c;
    memset(&c, 0, sizeof c);
    uint16_t p1, p2;
    int r1 = udp_listener(&p1), r2 = udp_listener(&p2);
    fk_exporter *h = udp_exporter(p1, 2);
    char uri[64];
    snprintf(uri, sizeof uri, "udp://127.0.0.1:%u", p2);
    assert_int_equal(fk_exporter_add_destination(h, uri), 0);
    assert_int_equal(fk_exporter_activate(h), 0);
    for (uint32_t i = 0; i < 5; i++) {
        fk_flow f = v4_flow(i);
        assert_int_equal(fk_exporter_add_flow(h, &f), 0);
    }
    assert_int_equal(fk_exporter_flush(h), 0);
    for (int k = 0; k < 2; k++) {
        int rx = k ? r2 : r1;
        uint32_t seqs[8];
        int n = 0;
        while (recv_msg(rx, &m, 200)) {
            decode(&c, &m);
            if (m.nrec)
                seqs[n++] = m.seq;
        }
        assert_int_equal(n, 3);
        assert_int_equal(seqs[0], 0);
        assert_int_equal(seqs[1], 2);
        assert_int_equal(seqs[2], 4);
    }
    fk_exporter_stats st;
    assert_int_equal(fk_exporter_get_destination_stats(h, 1, &st, sizeof st), 0);
    assert_int_equal(st.records_sent, 5);
    fk_exporter_destroy(h);
    close(r1);
    close(r2);
}

/* Number of template-only messages and data messages now waiting. */
static void drain_counts(int rx, tcache *c, int *tmpl, int *data)
{
    static tmsg m;
    *tmpl = *data = 0;
    while (recv_msg(rx, &m, 100)) {
        decode(c, &m);
        if (m.nrec)
            (*data)++;
        else
            (*tmpl)++;
    }
}

static void template_refresh_schedule(void **state)
{
    (void)state;
    static tcache c;
    memset(&c, 0, sizeof c);
    uint16_t port;
    int rx = udp_listener(&port);
    fk_exporter *h = udp_exporter(port, 1);
    assert_int_equal(fk_exporter_set_int(h, FK_EXP_TEMPLATE_REFRESH_SEC, 10), 0);
    assert_int_equal(fk_exporter_set_int(h, FK_EXP_TEMPLATE_REFRESH_MSGS, 0), 0);
    assert_int_equal(fk_exporter_activate(h), 0);
    int64_t s = INT64_C(1000000000);
    fk_flow f = v4_flow(0);
    int tm, dm;
    /* By time: templates at t=1 (first use), none at t=5 and t=10.9, again at t=11. */
    static const struct {
        int64_t t;
        int templates;
    } steps[] = {{1, 1}, {5, 0}, {10, 0}, {11, 1}, {12, 0}, {21, 1}};
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        fk__exporter_set_clock(h, steps[i].t * s - (steps[i].t == 10 ? -900000000 : 0));
        assert_int_equal(fk_exporter_add_flow(h, &f), 0);
        drain_counts(rx, &c, &tm, &dm);
        assert_int_equal(dm, 1);
        assert_int_equal(tm, steps[i].templates);
    }
    /* A new template variant goes out before its first record even between refreshes. */
    fk_flow f6 = f;
    fk_addr_parse("::1", &f6.src);
    fk_addr_parse("::2", &f6.dst);
    assert_int_equal(fk_exporter_add_flow(h, &f6), 0);
    drain_counts(rx, &c, &tm, &dm);
    assert_int_equal(tm, 1);
    assert_int_equal(dm, 1);
    assert_int_equal(fk__exporter_template_count(h), 2);
    fk_exporter_destroy(h);

    /* By message count: templates before messages 1, 4, 7 with refresh = 3. */
    memset(&c, 0, sizeof c);
    h = udp_exporter(port, 1);
    assert_int_equal(fk_exporter_set_int(h, FK_EXP_TEMPLATE_REFRESH_SEC, 0), 0);
    assert_int_equal(fk_exporter_set_int(h, FK_EXP_TEMPLATE_REFRESH_MSGS, 3), 0);
    assert_int_equal(fk_exporter_activate(h), 0);
    for (int i = 1; i <= 8; i++) {
        assert_int_equal(fk_exporter_add_flow(h, &f), 0);
        drain_counts(rx, &c, &tm, &dm);
        assert_int_equal(dm, 1);
        assert_int_equal(tm, (i == 1 || i == 4 || i == 7) ? 1 : 0);
    }
    fk_exporter_destroy(h);
    close(rx);
}

static void flush_timer(void **state)
{
    (void)state;
    static tcache c;
    memset(&c, 0, sizeof c);
    uint16_t port;
    int rx = udp_listener(&port);
    fk_exporter *h = udp_exporter(port, 0);
    assert_int_equal(fk_exporter_set_int(h, FK_EXP_FLUSH_INTERVAL_MS, 100), 0);
    assert_int_equal(fk_exporter_get_fd(h), FK_ENOTACTIVATED);
    assert_int_equal(fk_exporter_next_timeout_ms(h), FK_ENOTACTIVATED);
    assert_int_equal(fk_exporter_activate(h), 0);
    int fd = fk_exporter_get_fd(h);
    assert_true(fd >= 0);
    int64_t t0 = INT64_C(5000000000);
    fk__exporter_set_clock(h, t0);
    assert_int_equal(fk_exporter_next_timeout_ms(h), -1);
    fk_flow f = v4_flow(0);
    assert_int_equal(fk_exporter_add_flow(h, &f), 0);
    assert_int_equal(fk_exporter_next_timeout_ms(h), 100);
    fk__exporter_set_clock(h, t0 + 60000000);
    assert_int_equal(fk_exporter_add_flow(h, &f), 0);
    assert_int_equal(fk_exporter_next_timeout_ms(h), 40);
    assert_int_equal(fk_exporter_dispatch(h), 0);
    int tm, dm;
    drain_counts(rx, &c, &tm, &dm);
    assert_int_equal(dm, 0);
    fk__exporter_set_clock(h, t0 + 100000000);
    assert_int_equal(fk_exporter_next_timeout_ms(h), 0);
    assert_int_equal(fk_exporter_dispatch(h), 0);
    drain_counts(rx, &c, &tm, &dm);
    assert_int_equal(dm, 1);
    assert_int_equal(fk_exporter_next_timeout_ms(h), -1);
    fk_exporter_destroy(h);
    close(rx);
}

static void events_and_biflows(void **state)
{
    (void)state;
    static tmsg m;
    static tcache c;
    memset(&c, 0, sizeof c);
    uint16_t port;
    int rx = udp_listener(&port);
    fk_exporter *h = udp_exporter(port, 0);
    /* biflow is 0 (uniflow) by default */
    assert_int_equal(fk_exporter_set_int(h, FK_EXP_PEN, 99999), 0);
    assert_int_equal(fk_exporter_activate(h), 0);
    fk_session_event ev;
    memset(&ev, 0, sizeof ev);
    fk_addr_parse("10.213.0.1", &ev.src);
    fk_addr_parse("10.213.0.2", &ev.dst);
    ev.src_port = 5555;
    ev.dst_port = 80;
    ev.proto = 6;
    ev.kind = FK_SESSION_SYN;
    ev.vlan = 12;
    ev.time_ns = INT64_C(1700000000777000000);
    char longexe[400];
    memset(longexe, 'x', sizeof longexe - 1);
    longexe[sizeof longexe - 1] = '\0';
    fk_exporter_process proc = {
        .pid = 77, .uid = 1000, .name = "nc", .user = "alice", .exe = longexe};
    assert_int_equal(fk_exporter_add_event_process(h, &ev, &proc), 0);
    ev.kind = 9;
    assert_int_equal(fk_exporter_add_event(h, &ev), FK_EINVAL);
    /* Process from the event itself; RST sets the RST bit. */
    ev.kind = FK_SESSION_RST;
    ev.present = FK_SESSION_HAS_PROCESS;
    ev.pid = 31;
    strcpy(ev.process, "sshd");
    ev.present |= FK_SESSION_HAS_UID; /* uid 0 is root, sent as such */
    ev.user = "root";
    ev.exe = "/usr/sbin/sshd";
    assert_int_equal(fk_exporter_add_event(h, &ev), 0);
    fk_flow f = v4_flow(1);
    f.present |= FK_FLOW_HAS_REVERSE;
    f.rev_bytes = 7777;
    f.rev_packets = 7;
    f.rev_tcp_flags = 0x12;
    assert_int_equal(fk_exporter_add_flow(h, &f), 0);
    assert_int_equal(fk_exporter_flush(h), 0);
    assert_true(recv_msg(rx, &m, 2000));
    decode(&c, &m);
    assert_int_equal(m.ntemplates, 2);
    assert_true(recv_msg(rx, &m, 2000));
    decode(&c, &m);
    assert_int_equal(m.nrec, 4);
    const trec *e = &m.rec[0];
    assert_int_equal(e->t->id, 256 + 8 + 2);
    assert_int_equal(rec_uint(e, 99999, FK_EXPORTER_IE_EVENT_KIND), 1);
    assert_int_equal(rec_uint(e, 0, 323), UINT64_C(1700000000777));
    assert_int_equal(rec_uint(e, 0, 6), 0x02);
    assert_int_equal(rec_uint(e, 0, 58), 12);
    assert_int_equal(rec_uint(e, 99999, FK_EXPORTER_IE_USER_ID), 1000);
    char s[300];
    rec_str(e, 0, FK_EXPORTER_IE_USER_NAME, s, sizeof s);
    assert_string_equal(s, "alice");
    rec_str(e, 99999, FK_EXPORTER_IE_PROCESS_EXE, s, sizeof s);
    assert_int_equal(strlen(s), 254); /* truncated to a one-octet length */
    const trec *rst = &m.rec[1];
    assert_int_equal(rst->t->id, 256 + 8 + 2);
    assert_int_equal(rec_uint(rst, 99999, FK_EXPORTER_IE_EVENT_KIND), 3);
    assert_int_equal(rec_uint(rst, 0, 6), 0x04);
    assert_int_equal(rec_uint(rst, 99999, FK_EXPORTER_IE_PROCESS_ID), 31);
    rec_str(rst, 99999, FK_EXPORTER_IE_PROCESS_NAME, s, sizeof s);
    assert_string_equal(s, "sshd");
    assert_int_equal(rec_uint(rst, 99999, FK_EXPORTER_IE_USER_ID), 0);
    rec_str(rst, 0, FK_EXPORTER_IE_USER_NAME, s, sizeof s);
    assert_string_equal(s, "root");
    rec_str(rst, 99999, FK_EXPORTER_IE_PROCESS_EXE, s, sizeof s);
    assert_string_equal(s, "/usr/sbin/sshd");
    /* Biflow split in two unidirectional records, the second reversed. */
    assert_int_equal(rec_uint(&m.rec[2], 0, 1), 1001);
    assert_int_equal(rec_uint(&m.rec[3], 0, 1), 7777);
    assert_int_equal(rec_uint(&m.rec[3], 0, 2), 7);
    assert_int_equal(rec_uint(&m.rec[3], 0, 6), 0x12);
    assert_int_equal(rec_uint(&m.rec[3], 0, 8), 0x0ad50002);
    assert_int_equal(rec_uint(&m.rec[3], 0, 11), 40001);
    /* ICMP echo: the reply direction has type 0 (echo reply), no "source port". */
    fk_flow icmp = v4_flow(2);
    icmp.proto = 1;
    icmp.src_port = 0;
    icmp.dst_port = 8 << 8;
    icmp.present |= FK_FLOW_HAS_REVERSE;
    icmp.rev_packets = 1;
    assert_int_equal(fk_exporter_add_flow(h, &icmp), 0);
    assert_int_equal(fk_exporter_flush(h), 0);
    assert_true(recv_msg(rx, &m, 2000));
    decode(&c, &m);
    assert_int_equal(m.nrec, 2);
    assert_int_equal(rec_uint(&m.rec[0], 0, 11), 2048);
    assert_int_equal(rec_uint(&m.rec[1], 0, 7), 0);
    assert_int_equal(rec_uint(&m.rec[1], 0, 11), 0);
    assert_int_equal(rec_uint(&m.rec[1], 0, 8), 0x0ad50002);
    fk_exporter_destroy(h);

    /* biflow = 1: one record with RFC 5103 reverse elements. */
    memset(&c, 0, sizeof c);
    h = udp_exporter(port, 0);
    assert_int_equal(fk_exporter_set_int(h, FK_EXP_BIFLOW, 1), 0);
    assert_int_equal(fk_exporter_activate(h), 0);
    assert_int_equal(fk_exporter_add_flow(h, &f), 0);
    assert_int_equal(fk_exporter_flush(h), 0);
    assert_true(recv_msg(rx, &m, 2000));
    decode(&c, &m);
    assert_true(recv_msg(rx, &m, 2000));
    decode(&c, &m);
    assert_int_equal(m.nrec, 1);
    assert_int_equal(rec_uint(&m.rec[0], 29305, 1), 7777);
    assert_int_equal(rec_uint(&m.rec[0], 29305, 2), 7);
    assert_int_equal(rec_uint(&m.rec[0], 29305, 6), 0x12);
    fk_exporter_destroy(h);
    close(rx);
}

static void caller_templates(void **state)
{
    (void)state;
    static tmsg m;
    static tcache c;
    memset(&c, 0, sizeof c);
    uint16_t port;
    int rx = udp_listener(&port);
    fk_exporter *h = udp_exporter(port, 0);
    const fk_field_spec fields[] = {
        {.id = 1, .length = 8}, {.id = 8, .length = 4}, {.pen = 12345, .id = 7, .length = 65535}};
    assert_int_equal(fk_exporter_add_template(h, 1024, fields, 3), 0);
    assert_int_equal(fk_exporter_add_template(h, 1024, fields, 3), FK_EEXIST);
    assert_int_equal(fk_exporter_add_template(h, 300, fields, 3), FK_ERANGE);
    assert_int_equal(fk_exporter_add_template(h, 1025, fields, 0), FK_ERANGE);
    const fk_field_spec zero[] = {{.id = 1, .length = 0}};
    assert_int_equal(fk_exporter_add_template(h, 1026, zero, 1), FK_EINVAL);
    const fk_field_spec scope[] = {{.id = 1, .length = 4, .flags = FK_FIELD_V9_SCOPE}};
    assert_int_equal(fk_exporter_add_template(h, 1026, scope, 1), FK_EINVAL);
    assert_int_equal(fk_exporter_activate(h), 0);
    const uint8_t rec[] = {0, 0, 0, 0, 0, 0, 1, 0, 192, 0, 2, 1, 3, 'a', 'b', 'c'};
    assert_int_equal(fk_exporter_add_record(h, 1024, rec, sizeof rec), 0);
    assert_int_equal(fk_exporter_add_record(h, 1024, rec, sizeof rec - 1), FK_EMALFORMED);
    assert_int_equal(fk_exporter_add_record(h, 1024, rec, 12), FK_EMALFORMED);
    assert_int_equal(fk_exporter_add_record(h, 2000, rec, sizeof rec), FK_ENOTEMPLATE);
    assert_int_equal(fk_exporter_add_record(h, 256, rec, sizeof rec), FK_ENOTEMPLATE);
    assert_int_equal(fk_exporter_flush(h), 0);
    assert_true(recv_msg(rx, &m, 2000));
    decode(&c, &m);
    assert_int_equal(m.ntemplates, 1);
    assert_int_equal(m.template_ids[0], 1024);
    const ttmpl *t = cache_find(&c, 1024);
    assert_int_equal(t->n, 3);
    assert_int_equal(t->f[2].pen, 12345);
    assert_int_equal(t->f[2].len, 65535);
    assert_true(recv_msg(rx, &m, 2000));
    decode(&c, &m);
    assert_int_equal(m.nrec, 1);
    assert_int_equal(m.rec[0].len, sizeof rec);
    assert_memory_equal(m.rec[0].p, rec, sizeof rec);
    fk_exporter_destroy(h);
    close(rx);
}

/* A TCP collector that is away: messages are buffered up to buffer_bytes,
 * the rest dropped and counted; on connect templates come first, then the
 * buffered messages in order with their sequence numbers (gaps where
 * messages were dropped). Then the collector restarts: records queued
 * while it is down arrive on the new connection. */
static void tcp_buffer_and_reconnect(void **state)
{
    (void)state;
    static tmsg m;
    static tcache c;
    memset(&c, 0, sizeof c);
    uint16_t port;
    int probe = tcp_listener(0, &port); /* reserve a port, not listening yet */
    char uri[64];
    snprintf(uri, sizeof uri, "tcp://127.0.0.1:%u", port);
    fk_exporter *h = make_exporter(uri, 1);
    /* Each 1-record message is 16 + 4 + 51 = 71 bytes: 10 fit in 750. */
    assert_int_equal(fk_exporter_set_int(h, FK_EXP_BUFFER_BYTES, 750), 0);
    assert_int_equal(fk_exporter_set_int(h, FK_EXP_RECONNECT_MIN_MS, 100), 0);
    assert_int_equal(fk_exporter_set_int(h, FK_EXP_RECONNECT_MAX_MS, 400), 0);
    int64_t t = INT64_C(10000000000);
    fk__exporter_set_clock(h, t);
    assert_int_equal(fk_exporter_activate(h), 0);
    /* Refused connect (immediate or through the event). */
    for (int i = 0; i < 20; i++) {
        fk_exporter_poll(h, 10);
        fk_exporter_stats st;
        fk_exporter_get_destination_stats(h, 0, &st, sizeof st);
        if (st.connect_failures)
            break;
    }
    for (uint32_t i = 0; i < 15; i++) {
        fk_flow f = v4_flow(i);
        assert_int_equal(fk_exporter_add_flow(h, &f), 0);
    }
    fk_exporter_stats st;
    assert_int_equal(fk_exporter_get_stats(h, &st, sizeof st), 0);
    assert_int_equal(st.records_in, 15);
    assert_int_equal(st.records_dropped, 5);
    assert_int_equal(st.messages_dropped, 5);
    assert_int_equal(st.buffered_bytes, 710);
    assert_true(st.connect_failures >= 1);
    assert_int_equal(st.connects, 0);
    /* Backoff: next attempt 100 ms after the failure, then 200, 400, 400. */
    assert_int_equal(fk_exporter_next_timeout_ms(h), 100);
    t += 100000000;
    fk__exporter_set_clock(h, t);
    assert_int_equal(fk_exporter_dispatch(h), 0); /* connect again: refused again */
    for (int i = 0; i < 20 && fk_exporter_next_timeout_ms(h) != 200; i++)
        fk_exporter_poll(h, 10);
    assert_int_equal(fk_exporter_next_timeout_ms(h), 200);

    assert_int_equal(listen(probe, 4), 0);
    t += 200000000;
    fk__exporter_set_clock(h, t);
    int conn = -1;
    for (int i = 0; i < 100 && conn < 0; i++) {
        fk_exporter_poll(h, 10);
        struct pollfd p = {.fd = probe, .events = POLLIN};
        if (poll(&p, 1, 10) == 1)
            conn = accept(probe, NULL, NULL);
    }
    assert_true(conn >= 0);
    for (int i = 0; i < 50; i++) {
        fk_exporter_poll(h, 10);
        fk_exporter_get_stats(h, &st, sizeof st);
        if (st.buffered_bytes == 0)
            break;
    }
    assert_int_equal(st.connects, 1);
    assert_int_equal(st.buffered_bytes, 0);
    assert_true(tcp_recv_msg(conn, &m));
    decode(&c, &m);
    assert_int_equal(m.ntemplates, 1);
    assert_int_equal(m.seq, 0);
    for (uint32_t i = 0; i < 10; i++) {
        assert_true(tcp_recv_msg(conn, &m));
        decode(&c, &m);
        assert_int_equal(m.nrec, 1);
        assert_int_equal(m.seq, i);
        assert_int_equal(rec_uint(&m.rec[0], 0, 7), 40000 + i);
    }
    /* Connected: new records go straight through with seq 15 (5 were dropped). */
    fk_flow f = v4_flow(100);
    assert_int_equal(fk_exporter_add_flow(h, &f), 0);
    assert_true(tcp_recv_msg(conn, &m));
    decode(&c, &m);
    assert_int_equal(m.seq, 15);

    /* Collector restart: close both ends of the collector. */
    close(conn);
    close(probe);
    for (int i = 0; i < 50; i++) {
        fk_exporter_poll(h, 10);
        fk_exporter_get_stats(h, &st, sizeof st);
        if (st.connect_failures >= 3)
            break;
    }
    for (uint32_t i = 0; i < 3; i++) {
        fk_flow g = v4_flow(200 + i);
        assert_int_equal(fk_exporter_add_flow(h, &g), 0);
    }
    fk_exporter_get_stats(h, &st, sizeof st);
    assert_int_equal(st.buffered_bytes, 3 * 71);
    probe = tcp_listener(port, NULL);
    assert_int_equal(listen(probe, 4), 0);
    t += INT64_C(1000000000);
    fk__exporter_set_clock(h, t);
    conn = -1;
    for (int i = 0; i < 100 && conn < 0; i++) {
        fk_exporter_poll(h, 10);
        struct pollfd p = {.fd = probe, .events = POLLIN};
        if (poll(&p, 1, 10) == 1)
            conn = accept(probe, NULL, NULL);
    }
    assert_true(conn >= 0);
    fk__exporter_set_clock(h, 0);
    assert_int_equal(fk_exporter_drain(h, 2000), 0);
    memset(&c, 0, sizeof c); /* new session: templates again */
    assert_true(tcp_recv_msg(conn, &m));
    decode(&c, &m);
    assert_int_equal(m.ntemplates, 1);
    assert_int_equal(m.seq, 16);
    for (uint32_t i = 0; i < 3; i++) {
        assert_true(tcp_recv_msg(conn, &m));
        decode(&c, &m);
        assert_int_equal(m.seq, 16 + i);
        assert_int_equal(rec_uint(&m.rec[0], 0, 7), 40200 + i);
    }
    fk_exporter_get_stats(h, &st, sizeof st);
    assert_int_equal(st.connects, 2);
    assert_int_equal(st.records_in, 19);
    assert_int_equal(st.records_sent + st.records_dropped, 19);
    assert_int_equal(st.records_dropped, 5);
    fk_exporter_destroy(h);
    close(conn);
    close(probe);
}

/* Overflow while the TCP collector is away: once a message did not fit, a
 * later and smaller one (a session event) that would fit in what is left is
 * dropped too, so the buffer holds the oldest run of records and the loss is
 * one gap. */
static void tcp_overflow_keeps_oldest_run(void **state)
{
    (void)state;
    uint16_t port;
    int probe = tcp_listener(0, &port); /* reserved, never listening: refused */
    char uri[64];
    snprintf(uri, sizeof uri, "tcp://127.0.0.1:%u", port);
    fk_session_event ev;
    memset(&ev, 0, sizeof ev);
    fk_addr_parse("10.213.0.1", &ev.src);
    fk_addr_parse("10.213.0.2", &ev.dst);
    ev.src_port = 5555;
    ev.dst_port = 80;
    ev.proto = 6;
    ev.kind = FK_SESSION_SYN;
    ev.time_ns = INT64_C(1700000000777000000);
    /* The size of an event's message, from an exporter of its own. */
    fk_exporter *h = make_exporter(uri, 1);
    assert_int_equal(fk_exporter_activate(h), 0);
    assert_int_equal(fk_exporter_add_event(h, &ev), 0);
    fk_exporter_stats st;
    assert_int_equal(fk_exporter_get_stats(h, &st, sizeof st), 0);
    size_t ev_len = (size_t)st.buffered_bytes;
    fk_exporter_destroy(h);
    assert_true(ev_len > 0 && ev_len < 71);

    /* 10 one-flow messages of 71 bytes, then room for the event only. */
    h = make_exporter(uri, 1);
    assert_int_equal(fk_exporter_set_int(h, FK_EXP_BUFFER_BYTES, (int64_t)(710 + ev_len)), 0);
    assert_int_equal(fk_exporter_activate(h), 0);
    for (uint32_t i = 0; i < 11; i++) {
        fk_flow f = v4_flow(i);
        assert_int_equal(fk_exporter_add_flow(h, &f), 0);
    }
    assert_int_equal(fk_exporter_get_stats(h, &st, sizeof st), 0);
    assert_int_equal(st.records_dropped, 1); /* the 11th flow */
    assert_int_equal(st.buffered_bytes, 710);
    /* The event would fit in what is left, but it comes after a drop. */
    assert_int_equal(fk_exporter_add_event(h, &ev), 0);
    assert_int_equal(fk_exporter_get_stats(h, &st, sizeof st), 0);
    assert_int_equal(st.records_dropped, 2);
    assert_int_equal(st.buffered_bytes, 710);
    assert_int_equal(st.records_in, 12);
    fk_exporter_destroy(h);
    close(probe);
}

/* Metadata tags (issue #16): the metadataTags element in every flow and
 * event record while the exporter has tags, changed at run time. */
static void tags_in_records(void **state)
{
    (void)state;
    uint16_t port;
    int rx = udp_listener(&port);
    fk_exporter *h = udp_exporter(port, 0);
    assert_int_equal(fk_exporter_add_tag(h, "account-id", "123456789012"), 0);
    assert_int_equal(fk_exporter_add_tag(h, "region", "eu-west-1"), 0);
    assert_int_equal(fk_exporter_add_tag(h, "Bad Key", "x"), FK_EINVAL);
    assert_int_equal(fk_exporter_add_tag(h, "vpc-id", "a,b"), FK_EINVAL);
    assert_int_equal(fk_exporter_add_tag(h, NULL, "x"), FK_EINVAL);
    /* More than FK_EXPORTER_TAGS_MAX bytes in all: refused, nothing changed. */
    char longv[FK_TAG_VALUE_MAX + 1];
    memset(longv, 'v', FK_TAG_VALUE_MAX);
    longv[FK_TAG_VALUE_MAX] = '\0';
    int added = 0, rc = 0;
    for (int i = 0; i < 12 && rc == 0; i++) {
        char key[16];
        snprintf(key, sizeof key, "k%d", i);
        rc = fk_exporter_add_tag(h, key, longv);
        added += rc == 0;
    }
    assert_int_equal(rc, FK_ERANGE);
    assert_int_equal(added, 7); /* 40 bytes of 2 tags + 7 of 132 fit 1024, not 8 */
    fk_exporter_clear_tags(h);
    assert_int_equal(fk_exporter_add_tag(h, "account-id", "123456789012"), 0);
    assert_int_equal(fk_exporter_add_tag(h, "region", "eu-west-1"), 0);
    assert_int_equal(fk_exporter_activate(h), 0);
    fk_flow f = v4_flow(1);
    assert_int_equal(fk_exporter_add_flow(h, &f), 0);
    /* At run time: a key given again keeps its place. */
    assert_int_equal(fk_exporter_add_tag(h, "account-id", "210987654321"), 0);
    fk_session_event ev;
    memset(&ev, 0, sizeof ev);
    fk_addr_parse("10.213.0.1", &ev.src);
    fk_addr_parse("10.213.0.2", &ev.dst);
    ev.proto = 6;
    ev.kind = FK_SESSION_SYN;
    ev.time_ns = INT64_C(1700000000777000000);
    assert_int_equal(fk_exporter_add_event(h, &ev), 0);
    fk_exporter_clear_tags(h);
    assert_int_equal(fk_exporter_add_flow(h, &f), 0);
    assert_int_equal(fk_exporter_flush(h), 0);
    static tmsg m;
    static tcache c;
    memset(&c, 0, sizeof c);
    assert_true(recv_msg(rx, &m, 2000));
    decode(&c, &m);
    assert_int_equal(m.ntemplates, 3);
    assert_true(recv_msg(rx, &m, 2000));
    decode(&c, &m);
    assert_int_equal(m.nrec, 3);
    char text[FK_EXPORTER_TAGS_MAX + 1];
    assert_int_equal(m.rec[0].t->id, 256 + 256);
    rec_str(&m.rec[0], FK_EXPORTER_DEFAULT_PEN, FK_EXPORTER_IE_TAGS, text, sizeof text);
    assert_string_equal(text, "account-id=123456789012,region=eu-west-1");
    assert_int_equal(m.rec[1].t->id, 256 + 8 + 256); /* an event with tags */
    rec_str(&m.rec[1], FK_EXPORTER_DEFAULT_PEN, FK_EXPORTER_IE_TAGS, text, sizeof text);
    assert_string_equal(text, "account-id=210987654321,region=eu-west-1");
    assert_int_equal(m.rec[2].t->id, 256); /* cleared: the template without */
    fk_exporter_clear_tags(NULL);
    fk_exporter_destroy(h);
    close(rx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(params_and_lifecycle),
        cmocka_unit_test(alloc_failures),
        cmocka_unit_test(udp_flows_roundtrip),
        cmocka_unit_test(mtu_and_chunk_packing),
        cmocka_unit_test(sequence_per_destination),
        cmocka_unit_test(template_refresh_schedule),
        cmocka_unit_test(flush_timer),
        cmocka_unit_test(events_and_biflows),
        cmocka_unit_test(caller_templates),
        cmocka_unit_test(tcp_buffer_and_reconnect),
        cmocka_unit_test(tcp_overflow_keeps_oldest_run),
        cmocka_unit_test(tags_in_records),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
