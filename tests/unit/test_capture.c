/* The capture handle through its public API: parameters, lifecycle, offline
 * replay of a crafted pcap against its ground truth (workers 0 and N), run
 * limits, break, and the pcap store (rotation, keep). Plus the internal
 * SPSC ring and store file naming. */
#include <flowkit/flowkit.h>
#include <dirent.h>
#include <pcap/pcap.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "capture/capture_int.h"
#include "capture/spsc.h"
#include "core/alloc.h"
#include "capture/store.h"
#include "fk_test.h"
#include "core/bytes.h"

/* ---- crafting a pcap with known content ------------------------------- */

typedef struct pcap_w {
    FILE *f;
    size_t count;
} pcap_w;

static void pw_open(pcap_w *w, const char *path)
{
    w->f = fopen(path, "wb");
    assert_non_null(w->f);
    w->count = 0;
    uint32_t magic = 0xa1b2c3d4, snap = 65535, link = 1;
    uint16_t vmaj = 2, vmin = 4;
    int32_t zone = 0;
    uint32_t sig = 0;
    fwrite(&magic, 4, 1, w->f);
    fwrite(&vmaj, 2, 1, w->f);
    fwrite(&vmin, 2, 1, w->f);
    fwrite(&zone, 4, 1, w->f);
    fwrite(&sig, 4, 1, w->f);
    fwrite(&snap, 4, 1, w->f);
    fwrite(&link, 4, 1, w->f);
}

/* t_ms: milliseconds after the base time. */
static void pw_add(pcap_w *w, int64_t t_ms, const uint8_t *frame, size_t caplen, size_t len)
{
    uint32_t sec = (uint32_t)(1700000000 + t_ms / 1000), usec = (uint32_t)(t_ms % 1000) * 1000;
    uint32_t cl = (uint32_t)caplen, ol = (uint32_t)len;
    fwrite(&sec, 4, 1, w->f);
    fwrite(&usec, 4, 1, w->f);
    fwrite(&cl, 4, 1, w->f);
    fwrite(&ol, 4, 1, w->f);
    fwrite(frame, 1, caplen, w->f);
    w->count++;
}

static void pw_close(pcap_w *w)
{
    fclose(w->f);
}

static const uint8_t A4[4] = {10, 213, 0, 1}, B4[4] = {10, 213, 0, 2};
static const uint8_t A6[16] = {0xfd, 0, 0x02, 0x13, [15] = 1};
static const uint8_t B6[16] = {0xfd, 0, 0x02, 0x13, [15] = 2};

static size_t eth(uint8_t *f, unsigned type)
{
    static const uint8_t macs[12] = {2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1};
    memcpy(f, macs, 12);
    fk__put16(f + 12, type);
    return 14;
}

/* Ethernet + IPv4 + l4 bytes; returns frame length. */
static size_t ip4(uint8_t *f, const uint8_t *src, const uint8_t *dst, uint8_t proto,
                  const uint8_t *l4, size_t l4len)
{
    size_t o = eth(f, 0x0800);
    uint8_t *ip = f + o;
    memset(ip, 0, 20);
    ip[0] = 0x45;
    fk__put16(ip + 2, (unsigned)(20 + l4len));
    fk__put16(ip + 4, 1);
    fk__put16(ip + 6, 0x4000);
    ip[8] = 64;
    ip[9] = proto;
    memcpy(ip + 12, src, 4);
    memcpy(ip + 16, dst, 4);
    memcpy(ip + 20, l4, l4len);
    return o + 20 + l4len;
}

static size_t ip6(uint8_t *f, const uint8_t *src, const uint8_t *dst, uint8_t proto,
                  const uint8_t *l4, size_t l4len)
{
    size_t o = eth(f, 0x86dd);
    uint8_t *ip = f + o;
    memset(ip, 0, 40);
    ip[0] = 0x60;
    fk__put16(ip + 4, (unsigned)l4len);
    ip[6] = proto;
    ip[7] = 64;
    memcpy(ip + 8, src, 16);
    memcpy(ip + 24, dst, 16);
    memcpy(ip + 40, l4, l4len);
    return o + 40 + l4len;
}

static size_t tcp(uint8_t *t, unsigned sport, unsigned dport, uint8_t flags, size_t payload)
{
    memset(t, 0, 20 + payload);
    fk__put16(t, sport);
    fk__put16(t + 2, dport);
    fk__put32(t + 4, 1000);
    fk__put32(t + 8, 2000);
    t[12] = 5 << 4;
    t[13] = flags;
    fk__put16(t + 14, 65535);
    memset(t + 20, 'x', payload);
    return 20 + payload;
}

static size_t udp(uint8_t *u, unsigned sport, unsigned dport, size_t payload)
{
    memset(u, 0, 8 + payload);
    fk__put16(u, sport);
    fk__put16(u + 2, dport);
    fk__put16(u + 4, (unsigned)(8 + payload));
    memset(u + 8, 'u', payload);
    return 8 + payload;
}

static size_t icmp_echo(uint8_t *c, uint8_t type, size_t payload)
{
    memset(c, 0, 8 + payload);
    c[0] = type;
    fk__put16(c + 4, 77);
    fk__put16(c + 6, 1);
    return 8 + payload;
}

enum { FIN = 0x01, SYN = 0x02, RST = 0x04, PSH = 0x08, ACK = 0x10 };

/* The ground truth of the crafted file. */
typedef struct truth {
    size_t packets;
    uint64_t wire_bytes;
} truth;

/* Writes: an IPv4 TCP session with a clean close (t 0..400 ms), an IPv4 UDP
 * exchange (1 s), an ICMP echo + reply (2 s), an IPv6 TCP SYN answered by
 * RST (3 s), an ARP frame, a truncated IPv4 frame, and a late UDP packet at
 * 40 s that makes the 1-3 s flows idle-expire (idle timeout 15 s). */
static truth write_sample(const char *path)
{
    pcap_w w;
    truth t = {0};
    uint8_t f[2048], l4[1600];
    size_t n;
    pw_open(&w, path);
#define ADD(ms, len)                                                                               \
    do {                                                                                           \
        pw_add(&w, (ms), f, (len), (len));                                                         \
        t.wire_bytes += (len);                                                                     \
    } while (0)
    /* TCP 10.213.0.1:40000 -> 10.213.0.2:80 */
    n = tcp(l4, 40000, 80, SYN, 0);
    ADD(0, ip4(f, A4, B4, 6, l4, n)); /* fwd 40 */
    n = tcp(l4, 80, 40000, SYN | ACK, 0);
    ADD(10, ip4(f, B4, A4, 6, l4, n)); /* rev 40 */
    n = tcp(l4, 40000, 80, ACK, 0);
    ADD(20, ip4(f, A4, B4, 6, l4, n)); /* fwd 40 */
    n = tcp(l4, 40000, 80, PSH | ACK, 100);
    ADD(100, ip4(f, A4, B4, 6, l4, n)); /* fwd 140 */
    n = tcp(l4, 80, 40000, PSH | ACK, 1000);
    ADD(200, ip4(f, B4, A4, 6, l4, n)); /* rev 1040 */
    n = tcp(l4, 40000, 80, FIN | ACK, 0);
    ADD(300, ip4(f, A4, B4, 6, l4, n)); /* fwd 40 */
    n = tcp(l4, 80, 40000, FIN | ACK, 0);
    ADD(400, ip4(f, B4, A4, 6, l4, n)); /* rev 40 */
    n = tcp(l4, 40000, 80, ACK, 0);
    ADD(410, ip4(f, A4, B4, 6, l4, n)); /* fwd 40 */
    /* UDP 10.213.0.1:5353 -> 10.213.0.2:53, two requests and one answer */
    n = udp(l4, 5353, 53, 20);
    ADD(1000, ip4(f, A4, B4, 17, l4, n)); /* 48 */
    ADD(1001, ip4(f, A4, B4, 17, l4, n)); /* 48 */
    n = udp(l4, 53, 5353, 100);
    ADD(1010, ip4(f, B4, A4, 17, l4, n)); /* 128 */
    /* ICMP echo request and reply: one flow */
    n = icmp_echo(l4, 8, 56);
    ADD(2000, ip4(f, A4, B4, 1, l4, n)); /* 84 */
    n = icmp_echo(l4, 0, 56);
    ADD(2001, ip4(f, B4, A4, 1, l4, n)); /* 84 */
    /* IPv6 TCP [fd00:213::1]:40001 -> [fd00:213::2]:443, SYN then RST|ACK */
    n = tcp(l4, 40001, 443, SYN, 0);
    ADD(3000, ip6(f, A6, B6, 6, l4, n)); /* 60 */
    n = tcp(l4, 443, 40001, RST | ACK, 0);
    ADD(3001, ip6(f, B6, A6, 6, l4, n)); /* 60 */
    /* ARP (not IP) */
    n = eth(f, 0x0806);
    memset(f + n, 0, 28);
    ADD(3500, n + 28);
    /* Truncated IPv4: header cut after 10 bytes */
    n = eth(f, 0x0800);
    memset(f + n, 0, 10);
    f[n] = 0x45;
    ADD(3600, n + 10);
    /* Late UDP at 40 s */
    n = udp(l4, 6000, 7000, 10);
    ADD(40000, ip4(f, A4, B4, 17, l4, n)); /* 38 */
#undef ADD
    t.packets = w.count;
    pw_close(&w);
    return t;
}

/* ---- collecting events ------------------------------------------------- */

typedef struct collected {
    fk_session_event events[64];
    size_t nevents;
    fk_flow flows[64];
    size_t nflows;
    size_t errors;
    int break_after; /* call fk_capture_break after this many events, 0 = never */
    fk_capture *h;
} collected;

static void collect(const fk_capture_event *ev, void *user)
{
    collected *c = user;
    if (ev->type == FK_CAPTURE_EVENT_SESSION && c->nevents < 64)
        c->events[c->nevents++] = *ev->session;
    else if (ev->type == FK_CAPTURE_EVENT_FLOW && c->nflows < 64)
        c->flows[c->nflows++] = *ev->flow;
    else if (ev->type == FK_CAPTURE_EVENT_ERROR)
        c->errors++;
    if (c->break_after && c->nevents + c->nflows == (size_t)c->break_after)
        fk_capture_break(c->h);
}

static const fk_flow *find_flow(const collected *c, uint8_t proto, uint16_t sport, uint16_t dport)
{
    for (size_t i = 0; i < c->nflows; i++) {
        const fk_flow *f = &c->flows[i];
        if (f->proto == proto && f->src_port == sport && f->dst_port == dport)
            return f;
    }
    return NULL;
}

static const fk_session_event *find_event(const collected *c, int kind, uint16_t sport)
{
    for (size_t i = 0; i < c->nevents; i++) {
        if (c->events[i].kind == kind && c->events[i].src_port == sport)
            return &c->events[i];
    }
    return NULL;
}

static char tmpdir[64];
static char sample[128];
static truth sample_truth;

static int setup_files(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/fk_test_capture.XXXXXX");
    if (!mkdtemp(tmpdir))
        return -1;
    snprintf(sample, sizeof sample, "%s/sample.pcap", tmpdir);
    sample_truth = write_sample(sample);
    return 0;
}

static int teardown_files(void **state)
{
    (void)state;
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static int64_t ms_ns(int64_t ms)
{
    return (INT64_C(1700000000) * 1000 + ms) * 1000000;
}

/* Run the sample through a handle with n workers; check everything. */
static void replay_and_check(int workers)
{
    fk_capture *h;
    collected *c = calloc(1, sizeof *c);
    assert_non_null(c);
    assert_int_equal(fk_capture_create(&h), 0);
    assert_int_equal(fk_capture_set_int(h, FK_CAP_WORKERS, workers), 0);
    assert_int_equal(fk_capture_add_file(h, sample), 0);
    assert_int_equal(fk_capture_set_callback(h, collect, c), 0);
    assert_int_equal(fk_capture_activate(h), 0);
    assert_int_equal(fk_capture_get_source_count(h), 1);
    assert_string_equal(fk_capture_get_source_name(h, 0), sample);
    assert_true(fk_capture_get_fd(h) >= 0);
    assert_int_equal(fk_capture_next_timeout_ms(h), 0);
    assert_int_equal(fk_capture_run(h), 0);
    assert_int_equal(fk_capture_dispatch(h, 0), FK_EEOF);

    fk_capture_stats st;
    assert_int_equal(fk_capture_get_stats(h, &st, sizeof st), 0);
    assert_int_equal(st.packets, sample_truth.packets);
    assert_int_equal(st.bytes, sample_truth.wire_bytes);
    assert_int_equal(st.non_ip, 1);
    assert_int_equal(st.decode_errors, 1);
    assert_int_equal(st.queue_drops, 0);
    assert_int_equal(st.event_drops, 0);
    assert_int_equal(st.kernel_drops, 0);
    assert_int_equal(st.flows_active, 0);
    assert_int_equal(st.flows_created, 5);
    assert_int_equal(st.flows_emitted, 5);
    assert_int_equal(st.flows_evicted, 0);
    assert_int_equal(st.session_events, 5);

    /* Session events: SYN, FIN of each side (v4), SYN and RST (v6). */
    assert_int_equal(c->nevents, 5);
    const fk_session_event *e = find_event(c, FK_SESSION_SYN, 40000);
    assert_non_null(e);
    assert_int_equal(e->time_ns, ms_ns(0));
    assert_int_equal(e->dst_port, 80);
    assert_int_equal(e->proto, 6);
    assert_memory_equal(e->src.bytes, A4, 4);
    e = find_event(c, FK_SESSION_FIN, 40000);
    assert_non_null(e);
    assert_int_equal(e->time_ns, ms_ns(300));
    e = find_event(c, FK_SESSION_FIN, 80);
    assert_non_null(e);
    assert_int_equal(e->time_ns, ms_ns(400));
    assert_memory_equal(e->src.bytes, B4, 4);
    e = find_event(c, FK_SESSION_SYN, 40001);
    assert_non_null(e);
    assert_int_equal(e->src.family, 6);
    e = find_event(c, FK_SESSION_RST, 443);
    assert_non_null(e);
    assert_int_equal(e->time_ns, ms_ns(3001));
    assert_memory_equal(e->src.bytes, B6, 16);

    /* Flows. */
    assert_int_equal(c->nflows, 5);
    const fk_flow *f = find_flow(c, 6, 40000, 80);
    assert_non_null(f);
    assert_int_equal(f->packets, 5);
    assert_int_equal(f->bytes, 40 + 40 + 140 + 40 + 40);
    assert_int_equal(f->rev_packets, 3);
    assert_int_equal(f->rev_bytes, 40 + 1040 + 40);
    assert_int_equal(f->start_ns, ms_ns(0));
    assert_int_equal(f->end_ns, ms_ns(410));
    assert_int_equal(f->end_reason, FK_END_DETECTED);
    assert_int_equal(f->tcp_flags, SYN | ACK | PSH | FIN);
    assert_int_equal(f->rev_tcp_flags, SYN | ACK | PSH | FIN);

    f = find_flow(c, 17, 5353, 53);
    assert_non_null(f);
    assert_int_equal(f->packets, 2);
    assert_int_equal(f->bytes, 96);
    assert_int_equal(f->rev_packets, 1);
    assert_int_equal(f->rev_bytes, 128);
    assert_int_equal(f->end_reason, FK_END_IDLE);

    f = find_flow(c, 1, 0, 8 * 256);
    assert_non_null(f);
    assert_int_equal(f->packets, 1);
    assert_int_equal(f->rev_packets, 1);
    assert_int_equal(f->bytes + f->rev_bytes, 168);
    assert_int_equal(f->end_reason, FK_END_IDLE);

    f = find_flow(c, 6, 40001, 443);
    assert_non_null(f);
    assert_int_equal(f->src.family, 6);
    assert_int_equal(f->bytes, 60);
    assert_int_equal(f->rev_bytes, 60);
    assert_int_equal(f->end_reason, FK_END_DETECTED);

    /* The last flow is still open at the end of the file: forced. */
    f = find_flow(c, 17, 6000, 7000);
    assert_non_null(f);
    assert_int_equal(f->bytes, 38);
    assert_int_equal(f->end_reason, FK_END_FORCED);

    assert_int_equal(c->errors, 0);
    fk_capture_destroy(h);
    free(c);
}

static void replay_matches_truth_inline(void **state)
{
    (void)state;
    replay_and_check(0);
}

static void replay_matches_truth_workers(void **state)
{
    (void)state;
    replay_and_check(1);
    replay_and_check(3);
}

/* ---- parameters and lifecycle ------------------------------------------ */

static void param_table_is_consistent(void **state)
{
    (void)state;
    size_t n = 0;
    const fk_param_info *t = fk_capture_params(&n);
    assert_non_null(t);
    assert_true(n >= 20);
    for (size_t i = 0; i < n; i++) {
        assert_true(t[i].id >= 100 && t[i].id < 700);
        assert_non_null(t[i].name);
        assert_non_null(t[i].help);
        assert_non_null(t[i].unit);
        for (size_t j = i + 1; j < n; j++) {
            assert_int_not_equal(t[i].id, t[j].id);
            assert_string_not_equal(t[i].name, t[j].name);
        }
        if (t[i].type == FK_PARAM_INT || t[i].type == FK_PARAM_BOOL) {
            assert_true(t[i].min_int <= t[i].default_int);
            assert_true(t[i].default_int <= t[i].max_int);
        }
    }
    assert_int_equal(fk_param_find(t, n, "queue-size")->id, FK_CAP_QUEUE_SIZE);
    assert_int_equal(fk_param_find(t, n, "filter")->flags & FK_PARAM_RUNTIME, FK_PARAM_RUNTIME);
    assert_int_equal(fk_param_find(t, n, "workers")->flags & FK_PARAM_RUNTIME, 0);
}

static void params_bounds_and_types(void **state)
{
    (void)state;
    fk_capture *h;
    assert_int_equal(fk_capture_create(&h), 0);
    int64_t v;
    double d;
    const char *s;
    assert_int_equal(fk_capture_get_int(h, FK_CAP_QUEUE_SIZE, &v), 0);
    assert_int_equal(v, 8192);
    assert_int_equal(fk_capture_set_int(h, FK_CAP_QUEUE_SIZE, 15), FK_ERANGE);
    assert_string_equal(fk_error_last()->message,
                        "capture: queue_size = 15 is out of range [16, 16777216]");
    assert_int_equal(fk_capture_get_int(h, FK_CAP_QUEUE_SIZE, &v), 0);
    assert_int_equal(v, 8192); /* not clamped */
    assert_int_equal(fk_capture_set_int(h, FK_CAP_WORKERS, 65), FK_ERANGE);
    assert_int_equal(fk_capture_set_int(h, FK_CAP_WORKERS, -1), FK_ERANGE);
    assert_int_equal(fk_capture_set_int(h, FK_CAP_SNAPLEN, 63), FK_ERANGE);
    assert_int_equal(fk_capture_set_int(h, FK_CAP_PROMISC, 2), FK_ERANGE);
    assert_int_equal(fk_capture_set_int(h, FK_CAP_MEMORY_LIMIT, 1 << 20), FK_ERANGE);
    assert_non_null(strstr(fk_error_last()->message, "0 or [16777216,"));
    assert_int_equal(fk_capture_set_int(h, FK_CAP_MEMORY_LIMIT, 0), 0);
    assert_int_equal(fk_capture_set_int(h, FK_CAP_MEMORY_LIMIT, 64 << 20), 0);
    assert_int_equal(fk_capture_set_text(h, "memory-limit", "1000"), FK_ERANGE);
    assert_int_equal(fk_capture_get_int(h, FK_CAP_MEMORY_LIMIT, &v), 0);
    assert_int_equal(v, 64 << 20);
    assert_int_equal(fk_capture_set_double(h, FK_CAP_CPU_LIMIT, -0.5), FK_ERANGE);
    assert_int_equal(fk_capture_set_double(h, FK_CAP_CPU_LIMIT, 0.25), 0);
    assert_int_equal(fk_capture_get_double(h, FK_CAP_CPU_LIMIT, &d), 0);
    assert_true(d == 0.25);
    assert_int_equal(fk_capture_set_double(h, FK_CAP_QUEUE_SIZE, 1.0), FK_ETYPE);
    assert_int_equal(fk_capture_set_str(h, FK_CAP_WORKERS, "2"), FK_ETYPE);
    assert_int_equal(fk_capture_set_int(h, 4242, 1), FK_ENOTFOUND);
    assert_int_equal(fk_capture_set_text(h, "queue-size", "1024"), 0);
    assert_int_equal(fk_capture_get_int(h, FK_CAP_QUEUE_SIZE, &v), 0);
    assert_int_equal(v, 1024);
    assert_int_equal(fk_capture_set_text(h, "duration", "2.5"), 0);
    assert_int_equal(fk_capture_get_double(h, FK_CAP_DURATION, &d), 0);
    assert_true(d == 2.5);
    assert_int_equal(fk_capture_set_text(h, "filter", "udp"), 0);
    assert_int_equal(fk_capture_get_str(h, FK_CAP_FILTER, &s), 0);
    assert_string_equal(s, "udp");
    assert_int_equal(fk_capture_set_text(h, "nope", "1"), FK_ENOTFOUND);
    assert_int_equal(fk_capture_add_device(h, ""), FK_EINVAL);
    assert_int_equal(fk_capture_add_device(h, "eth0"), 0);
    assert_int_equal(fk_capture_add_device(h, "eth0"), FK_EEXIST);
    /* Not activated: */
    assert_int_equal(fk_capture_dispatch(h, 0), FK_ENOTACTIVATED);
    assert_int_equal(fk_capture_get_fd(h), FK_ENOTACTIVATED);
    assert_int_equal(fk_capture_next_timeout_ms(h), FK_ENOTACTIVATED);
    assert_int_equal(fk_capture_stop(h), FK_ENOTACTIVATED);
    assert_int_equal(fk_capture_get_source_count(h), 0);
    assert_null(fk_capture_get_source_name(h, 0));
    fk_capture_destroy(h);
    fk_capture_destroy(NULL);
    fk_capture_break(NULL);
    assert_int_equal(fk_capture_create(NULL), FK_EINVAL);
}

static void set_after_activate(void **state)
{
    (void)state;
    fk_capture *h;
    assert_int_equal(fk_capture_create(&h), 0);
    assert_int_equal(fk_capture_add_file(h, sample), 0);
    assert_int_equal(fk_capture_set_str(h, FK_CAP_FILTER, "tcp"), 0);
    assert_int_equal(fk_capture_activate(h), 0);
    assert_int_equal(fk_capture_activate(h), FK_EACTIVATED);
    assert_int_equal(fk_capture_set_int(h, FK_CAP_QUEUE_SIZE, 64), FK_EACTIVATED);
    assert_string_equal(fk_error_last()->message,
                        "capture: parameter queue_size cannot change after activate");
    assert_int_equal(fk_capture_set_double(h, FK_CAP_DURATION, 1.0), FK_EACTIVATED);
    assert_int_equal(fk_capture_add_file(h, sample), FK_EACTIVATED);
    assert_int_equal(fk_capture_add_device(h, "lo"), FK_EACTIVATED);
    assert_int_equal(fk_capture_clear_sources(h), FK_EACTIVATED);
    assert_int_equal(fk_capture_set_callback(h, collect, NULL), FK_EACTIVATED);
    /* The filter is runtime-settable; a bad one is refused and the old kept. */
    assert_int_equal(fk_capture_set_str(h, FK_CAP_FILTER, "tcp port"), FK_EFILTER);
    assert_non_null(strstr(fk_error_last()->message, "tcp port"));
    const char *s;
    assert_int_equal(fk_capture_get_str(h, FK_CAP_FILTER, &s), 0);
    assert_string_equal(s, "tcp");
    /* Switch to udp before reading: only the 4 UDP packets pass. */
    assert_int_equal(fk_capture_set_str(h, FK_CAP_FILTER, "udp"), 0);
    assert_int_equal(fk_capture_run(h), 0);
    fk_capture_stats st;
    assert_int_equal(fk_capture_get_stats(h, &st, sizeof st), 0);
    assert_int_equal(st.packets, 4);
    assert_int_equal(st.flows_emitted, 2);
    fk_capture_destroy(h);
}

static void failed_activate_stays_configurable(void **state)
{
    (void)state;
    fk_capture *h;
    char missing[160];
    snprintf(missing, sizeof missing, "%s/missing.pcap", tmpdir);
    assert_int_equal(fk_capture_create(&h), 0);
    /* Missing file. */
    assert_int_equal(fk_capture_add_file(h, missing), 0);
    assert_int_equal(fk_capture_activate(h), FK_ENOTFOUND);
    assert_non_null(strstr(fk_error_last()->message, "missing.pcap"));
    assert_int_equal(fk_capture_get_fd(h), FK_ENOTACTIVATED);
    assert_int_equal(fk_capture_clear_sources(h), 0);
    /* Devices and files mixed. */
    assert_int_equal(fk_capture_add_file(h, sample), 0);
    assert_int_equal(fk_capture_add_device(h, "lo"), 0);
    assert_int_equal(fk_capture_activate(h), FK_EINVAL);
    assert_int_equal(fk_capture_clear_sources(h), 0);
    assert_int_equal(fk_capture_add_file(h, sample), 0);
    /* Bad filter: pcap's message is passed on. */
    assert_int_equal(fk_capture_set_str(h, FK_CAP_FILTER, "no such thing ((("), 0);
    assert_int_equal(fk_capture_activate(h), FK_EFILTER);
    assert_non_null(strstr(fk_error_last()->message, "no such thing"));
    /* Store directory that does not exist. */
    assert_int_equal(fk_capture_set_str(h, FK_CAP_FILTER, NULL), 0);
    assert_int_equal(fk_capture_set_str(h, FK_CAP_PCAP_STORE, "/nonexistent-fk/dir/x.pcap"), 0);
    assert_int_equal(fk_capture_activate(h), FK_ENOTFOUND);
    assert_int_equal(fk_capture_set_str(h, FK_CAP_PCAP_STORE, NULL), 0);
    /* Still configurable: change a parameter, then activate for real. */
    assert_int_equal(fk_capture_set_int(h, FK_CAP_WORKERS, 2), 0);
    assert_int_equal(fk_capture_activate(h), 0);
    assert_int_equal(fk_capture_run(h), 0);
    fk_capture_stats st;
    assert_int_equal(fk_capture_get_stats(h, &st, sizeof st), 0);
    assert_int_equal(st.packets, sample_truth.packets);
    fk_capture_destroy(h);
}

static void missing_device_is_enodev(void **state)
{
    (void)state;
    fk_capture *h;
    assert_int_equal(fk_capture_create(&h), 0);
    assert_int_equal(fk_capture_add_device(h, "fkno0dev"), 0);
    int rc = fk_capture_activate(h);
    if (rc == FK_EPERM) {
        fk_capture_destroy(h);
        skip(); /* not allowed to capture at all here: nothing to learn */
    }
    assert_int_equal(rc, FK_ENODEV);
    assert_string_equal(fk_error_last()->message, "fkno0dev: no such device");
    fk_capture_destroy(h);
}

/* The default device list: every entry is a kernel interface that is up
 * and not loopback (nothing is opened). */
static void default_devices_are_up_non_loopback(void **state)
{
    (void)state;
    char **names = NULL;
    size_t n = 0;
    int rc = fk__capture_default_devices(&names, &n);
    if (rc == FK_ENODEV)
        skip(); /* no interface up here besides loopback */
    assert_int_equal(rc, 0);
    assert_true(n >= 1);
    for (size_t i = 0; i < n; i++) {
        char path[300];
        snprintf(path, sizeof path, "/sys/class/net/%s/flags", names[i]);
        FILE *f = fopen(path, "r");
        assert_non_null(f);
        unsigned flags = 0;
        assert_int_equal(fscanf(f, "%x", &flags), 1);
        fclose(f);
        assert_true(flags & 0x1);  /* IFF_UP */
        assert_false(flags & 0x8); /* IFF_LOOPBACK */
        assert_string_not_equal(names[i], "any");
        fk__free(names[i]);
    }
    fk__free(names);
}

/* ---- run limits, break, dispatch --------------------------------------- */

static void packet_count_limit(void **state)
{
    (void)state;
    fk_capture *h;
    collected *c = calloc(1, sizeof *c);
    assert_int_equal(fk_capture_create(&h), 0);
    assert_int_equal(fk_capture_add_file(h, sample), 0);
    assert_int_equal(fk_capture_set_int(h, FK_CAP_PACKET_COUNT, 3), 0);
    assert_int_equal(fk_capture_set_callback(h, collect, c), 0);
    assert_int_equal(fk_capture_activate(h), 0);
    assert_int_equal(fk_capture_run(h), 0);
    fk_capture_stats st;
    assert_int_equal(fk_capture_get_stats(h, &st, sizeof st), 0);
    assert_int_equal(st.packets, 3);
    /* Final flush: the half-open TCP flow ends forced, with 2 + 1 packets. */
    assert_int_equal(c->nflows, 1);
    assert_int_equal(c->flows[0].end_reason, FK_END_FORCED);
    assert_int_equal(c->flows[0].packets, 2);
    assert_int_equal(c->flows[0].rev_packets, 1);
    assert_int_equal(c->nevents, 1);
    fk_capture_destroy(h);
    free(c);
}

static void dispatch_in_steps_and_break(void **state)
{
    (void)state;
    fk_capture *h;
    collected *c = calloc(1, sizeof *c);
    assert_int_equal(fk_capture_create(&h), 0);
    assert_int_equal(fk_capture_add_file(h, sample), 0);
    c->h = h;
    c->break_after = 1; /* break at the first event (the SYN) */
    assert_int_equal(fk_capture_set_callback(h, collect, c), 0);
    assert_int_equal(fk_capture_activate(h), 0);
    /* The SYN's event (delivered by this dispatch) asks for a break: the
     * next dispatch reports it, once, and reads nothing. */
    assert_int_equal(fk_capture_dispatch(h, 2), 2);
    assert_int_equal(c->nevents, 1);
    assert_int_equal(fk_capture_dispatch(h, 2), FK_EBREAK);
    fk_capture_stats st0;
    assert_int_equal(fk_capture_get_stats(h, &st0, sizeof st0), 0);
    assert_int_equal(st0.packets, 2);
    assert_int_equal(fk_capture_dispatch(h, 5), 5);
    fk_capture_break(h);
    assert_int_equal(fk_capture_run(h), FK_EBREAK);
    assert_int_equal(fk_capture_run(h), 0);
    assert_int_equal(fk_capture_dispatch(h, 0), FK_EEOF);
    assert_int_equal(fk_capture_stop(h), 0); /* again: nothing */
    fk_capture_stats st;
    assert_int_equal(fk_capture_get_stats(h, &st, sizeof st), 0);
    assert_int_equal(st.packets, sample_truth.packets);
    assert_int_equal(c->nflows, 5);
    fk_capture_destroy(h);
    free(c);
}

typedef struct reenter {
    fk_capture *h;
    int dispatch_rc, run_rc, stop_rc, filter_rc;
    int calls;
} reenter;

static void reenter_cb(const fk_capture_event *ev, void *user)
{
    (void)ev;
    reenter *r = user;
    if (r->calls++)
        return;
    r->dispatch_rc = fk_capture_dispatch(r->h, 0);
    r->run_rc = fk_capture_run(r->h);
    r->stop_rc = fk_capture_stop(r->h);
    r->filter_rc = fk_capture_set_str(r->h, FK_CAP_FILTER, "udp");
}

/* The callback cannot re-enter the handle's loop or change its filter. */
static void callback_cannot_reenter(void **state)
{
    (void)state;
    fk_capture *h;
    reenter r = {0};
    assert_int_equal(fk_capture_create(&h), 0);
    r.h = h;
    assert_int_equal(fk_capture_add_file(h, sample), 0);
    assert_int_equal(fk_capture_set_callback(h, reenter_cb, &r), 0);
    assert_int_equal(fk_capture_activate(h), 0);
    assert_int_equal(fk_capture_run(h), 0);
    assert_int_equal(r.dispatch_rc, FK_ESTATE);
    assert_int_equal(r.run_rc, FK_ESTATE);
    assert_int_equal(r.stop_rc, FK_ESTATE);
    assert_int_equal(r.filter_rc, FK_ESTATE);
    fk_capture_stats st;
    assert_int_equal(fk_capture_get_stats(h, &st, sizeof st), 0);
    assert_int_equal(st.packets, sample_truth.packets); /* the outer run went on */
    fk_capture_destroy(h);
}

static void stop_flushes_early(void **state)
{
    (void)state;
    for (int workers = 0; workers <= 2; workers += 2) {
        fk_capture *h;
        collected *c = calloc(1, sizeof *c);
        assert_int_equal(fk_capture_create(&h), 0);
        assert_int_equal(fk_capture_add_file(h, sample), 0);
        assert_int_equal(fk_capture_set_int(h, FK_CAP_WORKERS, workers), 0);
        assert_int_equal(fk_capture_set_callback(h, collect, c), 0);
        assert_int_equal(fk_capture_activate(h), 0);
        assert_int_equal(fk_capture_dispatch(h, 11), 11); /* TCP + UDP */
        assert_int_equal(fk_capture_stop(h), 0);
        assert_int_equal(fk_capture_dispatch(h, 0), FK_EEOF);
        assert_int_equal(c->nflows, 2);
        const fk_flow *f = find_flow(c, 17, 5353, 53);
        assert_non_null(f);
        assert_int_equal(f->end_reason, FK_END_FORCED);
        fk_capture_destroy(h);
        free(c);
    }
}

/* Two files are merged by timestamp: a one-packet file whose packet falls
 * inside the sample's UDP exchange joins that flow. */
static void two_files_merge(void **state)
{
    (void)state;
    char second[160];
    snprintf(second, sizeof second, "%s/second.pcap", tmpdir);
    pcap_w w;
    pw_open(&w, second);
    uint8_t f[256], l4[64];
    size_t n = udp(l4, 5353, 53, 20);
    size_t len = ip4(f, A4, B4, 17, l4, n);
    pw_add(&w, 1005, f, len, len); /* between the two requests of the sample */
    pw_close(&w);
    fk_capture *h;
    collected *c = calloc(1, sizeof *c);
    assert_int_equal(fk_capture_create(&h), 0);
    assert_int_equal(fk_capture_add_file(h, sample), 0);
    assert_int_equal(fk_capture_add_file(h, second), 0);
    assert_int_equal(fk_capture_set_callback(h, collect, c), 0);
    assert_int_equal(fk_capture_activate(h), 0);
    assert_int_equal(fk_capture_get_source_count(h), 2);
    assert_int_equal(fk_capture_run(h), 0);
    const fk_flow *fl = find_flow(c, 17, 5353, 53);
    assert_non_null(fl);
    /* Read one file after the other, the 1005 ms packet would come after
     * the 40 s one, when this flow has idled out: a flow of its own. */
    assert_int_equal(fl->packets, 3);
    assert_int_equal(fl->end_ns, ms_ns(1010));
    assert_int_equal(c->nflows, 5);
    fk_capture_destroy(h);
    free(c);
}

/* With workers, a later IP fragment (no ports: another hash) must reach the
 * worker that saw its first fragment, so each datagram counts to its flow. */
static void fragments_follow_first_fragment(void **state)
{
    (void)state;
    char path[160];
    snprintf(path, sizeof path, "%s/frags.pcap", tmpdir);
    pcap_w w;
    pw_open(&w, path);
    uint8_t f[256], l4[128];
    for (unsigned i = 0; i < 16; i++) {
        /* First fragment: UDP header + 32 bytes, MF set, offset 0. */
        size_t n = udp(l4, 20000 + i, 9000, 32 + 40);
        size_t len = ip4(f, A4, B4, 17, l4, 8 + 32);
        fk__put16(f + 14 + 4, 100 + i); /* identification */
        fk__put16(f + 14 + 6, 0x2000);  /* MF */
        pw_add(&w, i * 10, f, len, len);
        /* Second fragment: the remaining 40 bytes at offset 40 (5 units). */
        len = ip4(f, A4, B4, 17, l4 + 40, n - 40);
        fk__put16(f + 14 + 4, 100 + i);
        fk__put16(f + 14 + 6, 5);
        pw_add(&w, i * 10, f, len, len);
    }
    pw_close(&w);
    for (int workers = 0; workers <= 3; workers += 3) {
        fk_capture *h;
        collected *c = calloc(1, sizeof *c);
        assert_int_equal(fk_capture_create(&h), 0);
        assert_int_equal(fk_capture_add_file(h, path), 0);
        assert_int_equal(fk_capture_set_int(h, FK_CAP_WORKERS, workers), 0);
        assert_int_equal(fk_capture_set_callback(h, collect, c), 0);
        assert_int_equal(fk_capture_activate(h), 0);
        assert_int_equal(fk_capture_run(h), 0);
        assert_int_equal(c->nflows, 16);
        for (size_t i = 0; i < c->nflows; i++) {
            assert_int_equal(c->flows[i].dst_port, 9000);
            assert_int_equal(c->flows[i].packets, 2);
            assert_int_equal(c->flows[i].bytes, (20 + 40) + (20 + 40));
        }
        fk_capture_destroy(h);
        free(c);
    }
}

/* A packet that comes after its flow's idle timeout starts a new flow: the
 * clock is advanced (expiring the old flow) before the packet is counted,
 * also when nothing else happened in between. */
static void idle_gap_splits_flow(void **state)
{
    (void)state;
    char path[160];
    snprintf(path, sizeof path, "%s/gap.pcap", tmpdir);
    pcap_w w;
    pw_open(&w, path);
    uint8_t f[256], l4[64];
    size_t n = udp(l4, 1111, 2222, 10);
    size_t len = ip4(f, A4, B4, 17, l4, n);
    pw_add(&w, 0, f, len, len);
    pw_add(&w, 20000, f, len, len); /* 20 s later, idle timeout 15 s */
    pw_close(&w);
    for (int workers = 0; workers <= 2; workers += 2) {
        fk_capture *h;
        collected *c = calloc(1, sizeof *c);
        assert_int_equal(fk_capture_create(&h), 0);
        assert_int_equal(fk_capture_add_file(h, path), 0);
        assert_int_equal(fk_capture_set_int(h, FK_CAP_WORKERS, workers), 0);
        assert_int_equal(fk_capture_set_callback(h, collect, c), 0);
        assert_int_equal(fk_capture_activate(h), 0);
        assert_int_equal(fk_capture_run(h), 0);
        assert_int_equal(c->nflows, 2);
        assert_int_equal(c->flows[0].packets, 1);
        assert_int_equal(c->flows[0].end_reason, FK_END_IDLE);
        assert_int_equal(c->flows[0].start_ns, ms_ns(0));
        assert_int_equal(c->flows[1].packets, 1);
        assert_int_equal(c->flows[1].end_reason, FK_END_FORCED);
        assert_int_equal(c->flows[1].start_ns, ms_ns(20000));
        fk_capture_destroy(h);
        free(c);
    }
}

/* ---- pcap store -------------------------------------------------------- */

static size_t count_pcap(const char *path)
{
    char err[PCAP_ERRBUF_SIZE];
    pcap_t *p = pcap_open_offline(path, err);
    if (!p)
        return (size_t)-1;
    struct pcap_pkthdr *hdr;
    const u_char *data;
    size_t n = 0;
    while (pcap_next_ex(p, &hdr, &data) == 1)
        n++;
    pcap_close(p);
    return n;
}

/* Files in dir (sorted names), returned count. */
static size_t list_dir(const char *dir, char names[][256], size_t max)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || n >= max)
            continue;
        snprintf(names[n++], 256, "%s", e->d_name);
    }
    closedir(d);
    qsort(names, n, 256, (int (*)(const void *, const void *))strcmp);
    return n;
}

static void store_rotates_and_keeps(void **state)
{
    (void)state;
    char dir[160];
    snprintf(dir, sizeof dir, "%s/store1/", tmpdir);
    fk_capture *h;
    assert_int_equal(fk_capture_create(&h), 0);
    assert_int_equal(fk_capture_add_file(h, sample), 0);
    assert_int_equal(fk_capture_set_str(h, FK_CAP_PCAP_STORE, dir), 0);
    /* Header 24 + records of 16 + 54..1094 bytes: ~3 packets per file. */
    assert_int_equal(fk_capture_set_int(h, FK_CAP_PCAP_ROTATE_BYTES, 300), 0);
    assert_int_equal(fk_capture_activate(h), 0); /* creates the directory */
    assert_int_equal(fk_capture_run(h), 0);
    fk_capture_stats st;
    assert_int_equal(fk_capture_get_stats(h, &st, sizeof st), 0);
    assert_int_equal(st.store_packets, sample_truth.packets);
    assert_int_equal(st.store_errors, 0);
    fk_capture_destroy(h);

    char names[64][256];
    size_t n = list_dir(dir, names, 64);
    assert_int_equal(n, st.store_files);
    assert_true(n >= 5);
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s%s", dir, names[i]);
        struct stat sb;
        assert_int_equal(stat(path, &sb), 0);
        size_t k = count_pcap(path);
        assert_true(k >= 1 && k != (size_t)-1);
        /* Never over the limit unless the file holds one packet. */
        assert_true(sb.st_size <= 300 || k == 1);
        total += k;
        char expect[64];
        snprintf(expect, sizeof expect, "-%06zu.pcap", i);
        assert_non_null(strstr(names[i], expect));
        assert_int_equal(strncmp(names[i], "flowkit-20231114-", 17), 0);
    }
    assert_int_equal(total, sample_truth.packets);

    /* Keep 2 files, rotate by packet time every 2 s, file pattern. */
    char pattern[200];
    snprintf(pattern, sizeof pattern, "%s/store2-%%H%%M.pcap", tmpdir);
    assert_int_equal(fk_capture_create(&h), 0);
    assert_int_equal(fk_capture_add_file(h, sample), 0);
    assert_int_equal(fk_capture_set_str(h, FK_CAP_PCAP_STORE, pattern), 0);
    assert_int_equal(fk_capture_set_int(h, FK_CAP_PCAP_ROTATE_SECONDS, 2), 0);
    assert_int_equal(fk_capture_set_int(h, FK_CAP_PCAP_KEEP_FILES, 2), 0);
    assert_int_equal(fk_capture_activate(h), 0);
    assert_int_equal(fk_capture_run(h), 0);
    assert_int_equal(fk_capture_get_stats(h, &st, sizeof st), 0);
    fk_capture_destroy(h);
    /* Files start at 0 s (TCP, UDP), 2 s (ICMP, v6, ARP, trunc), 40 s. */
    assert_int_equal(st.store_files, 3);
    char p1[256], p2[256], p0[256];
    snprintf(p0, sizeof p0, "%s/store2-2213-000000.pcap", tmpdir);
    snprintf(p1, sizeof p1, "%s/store2-2213-000001.pcap", tmpdir);
    snprintf(p2, sizeof p2, "%s/store2-2214-000002.pcap", tmpdir);
    assert_int_equal(access(p0, F_OK), -1); /* deleted: keep 2 */
    assert_int_equal(count_pcap(p1), 6);
    assert_int_equal(count_pcap(p2), 1);
}

static void store_names(void **state)
{
    (void)state;
    char buf[256];
    int64_t t = INT64_C(1700000000) * 1000000000; /* 2023-11-14 22:13:20 UTC */
    assert_int_equal(fk__store_format_name(buf, sizeof buf, "/d", 1, NULL, 0, 7, t), 0);
    assert_string_equal(buf, "/d/flowkit-20231114-221320-000007.pcap");
    assert_int_equal(fk__store_format_name(buf, sizeof buf, "/d/", 1, "eth0", 1, 0, t), 0);
    assert_string_equal(buf, "/d/flowkit-eth0-20231114-221320-000000.pcap");
    assert_int_equal(fk__store_format_name(buf, sizeof buf, "/x/cap-%Y.pcap", 0, NULL, 0, 3, t), 0);
    assert_string_equal(buf, "/x/cap-2023.pcap");
    assert_int_equal(fk__store_format_name(buf, sizeof buf, "/x/cap.pcap", 0, "veth1", 1, 12, t),
                     0);
    assert_string_equal(buf, "/x/cap-veth1-000012.pcap");
    assert_int_equal(fk__store_format_name(buf, sizeof buf, "/x.y/cap", 0, NULL, 1, 1, t), 0);
    assert_string_equal(buf, "/x.y/cap-000001");
    assert_int_equal(fk__store_format_name(buf, 12, "/x/cap.pcap", 0, NULL, 1, 1, t), FK_ENOSPACE);
}

/* ---- SPSC ring ---------------------------------------------------------- */

static void ring_basics(void **state)
{
    (void)state;
    fk__spsc r;
    assert_int_equal(fk__spsc_init(&r, 0, 8), FK_EINVAL);
    assert_int_equal(fk__spsc_init(&r, 5, 8), 0);
    assert_int_equal(fk__spsc_capacity(&r), 8);
    assert_null(fk__spsc_peek(&r));
    for (int i = 0; i < 8; i++) {
        int *slot = fk__spsc_reserve(&r);
        assert_non_null(slot);
        *slot = i;
        fk__spsc_commit(&r);
    }
    assert_null(fk__spsc_reserve(&r)); /* full */
    assert_int_equal(fk__spsc_count(&r), 8);
    for (int i = 0; i < 8; i++) {
        int *slot = fk__spsc_peek(&r);
        assert_non_null(slot);
        assert_int_equal(*slot, i);
        fk__spsc_release(&r);
    }
    assert_null(fk__spsc_peek(&r));
    assert_non_null(fk__spsc_reserve(&r));
    fk__spsc_free(&r);
}

typedef struct ring_job {
    fk__spsc *r;
    uint64_t n;
    uint64_t sum;
} ring_job;

static void *ring_consumer(void *arg)
{
    ring_job *j = arg;
    uint64_t got = 0, expect = 0;
    while (got < j->n) {
        uint64_t *slot = fk__spsc_peek(j->r);
        if (!slot)
            continue;
        if (*slot != expect)
            return NULL; /* order broken: sum stays short */
        j->sum += *slot;
        expect++;
        got++;
        fk__spsc_release(j->r);
    }
    return NULL;
}

static void ring_two_threads(void **state)
{
    (void)state;
    fk__spsc r;
    assert_int_equal(fk__spsc_init(&r, 64, sizeof(uint64_t)), 0);
    ring_job j = {.r = &r, .n = 200000};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, ring_consumer, &j), 0);
    for (uint64_t i = 0; i < j.n;) {
        uint64_t *slot = fk__spsc_reserve(&r);
        if (!slot)
            continue;
        *slot = i++;
        fk__spsc_commit(&r);
    }
    pthread_join(t, NULL);
    assert_int_equal(j.sum, j.n * (j.n - 1) / 2);
    fk__spsc_free(&r);
}

static void create_survives_alloc_failures(void **state)
{
    (void)state;
    for (unsigned long n = 1; n <= 40; n++) {
        fk_capture *h = NULL;
        fk_test_alloc_fail_at(n, 0);
        int rc = fk_capture_create(&h);
        if (rc == 0) {
            rc = fk_capture_add_file(h, sample);
            if (rc == 0)
                rc = fk_capture_activate(h);
            if (rc == 0)
                rc = fk_capture_run(h);
            fk_capture_destroy(h);
        }
        fk_test_alloc_reset();
        assert_int_equal(fk_test_alloc_live(), 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(param_table_is_consistent),
        cmocka_unit_test(params_bounds_and_types),
        cmocka_unit_test(set_after_activate),
        cmocka_unit_test(failed_activate_stays_configurable),
        cmocka_unit_test(missing_device_is_enodev),
        cmocka_unit_test(default_devices_are_up_non_loopback),
        cmocka_unit_test(replay_matches_truth_inline),
        cmocka_unit_test(replay_matches_truth_workers),
        cmocka_unit_test(packet_count_limit),
        cmocka_unit_test(dispatch_in_steps_and_break),
        cmocka_unit_test(stop_flushes_early),
        cmocka_unit_test(callback_cannot_reenter),
        cmocka_unit_test(two_files_merge),
        cmocka_unit_test(fragments_follow_first_fragment),
        cmocka_unit_test(idle_gap_splits_flow),
        cmocka_unit_test(store_rotates_and_keeps),
        cmocka_unit_test(store_names),
        cmocka_unit_test(ring_basics),
        cmocka_unit_test(ring_two_threads),
        cmocka_unit_test(create_survives_alloc_failures),
    };
    return cmocka_run_group_tests(tests, setup_files, teardown_files);
}
