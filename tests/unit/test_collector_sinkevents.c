/* Session events and process / string fields through the outputs (issue
 * #5): the IPFIX file keeps events as events (their own templates, with
 * flowkit-export's elements) and flows with process fields in layouts with
 * the process elements; reading the file back with the collector gives the
 * same records. The ClickHouse row encoding carries the appended columns. */
#include <flowkit/flowkit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "collector/internal.h"
#include "collector/sink_clickhouse.h"
#include "fk_test.h"

#define T0 1795435200123000000LL /* 2026-11-23T12:00:00.123Z */

static fk_addr addr(const char *s)
{
    fk_addr a;
    assert_int_equal(fk_addr_parse(s, &a), 0);
    return a;
}

/* Record i of the test set: 0 plain IPv4 flow, 1 IPv6 flow with every
 * process field, 2 IPv4 SYN without process, 3 IPv6 FIN with process from
 * an IPv6 exporter, 4 IPv4 RST with only a user name, 5 biflow with a pid
 * and no uid. */
static fk_flow record(int i)
{
    fk_flow f;
    memset(&f, 0, sizeof f);
    bool v6 = i == 1 || i == 3;
    f.src = addr(v6 ? "2001:db8::1" : "192.0.2.1");
    f.dst = addr(v6 ? "2001:db8::2" : "198.51.100.2");
    f.src_port = (uint16_t)(40000 + i);
    f.dst_port = 443;
    f.proto = 6;
    f.version = 10;
    f.exporter = addr(i == 3 ? "2001:db8::99" : "10.0.0.9");
    f.odid = 7;
    f.present = FK_FLOW_HAS_EXPORTER;
    if (i == 2 || i == 3 || i == 4) {
        f.event = (uint8_t)(i - 1); /* SYN, FIN, RST */
        f.start_ns = f.end_ns = T0 + i * 1000000LL;
    } else {
        f.bytes = 1000u + (unsigned)i;
        f.packets = 3;
        f.tcp_flags = 0x1b;
        f.start_ns = T0;
        f.end_ns = T0 + 5000000000LL;
        f.end_reason = FK_END_DETECTED;
        f.present |= FK_FLOW_HAS_END_REASON;
    }
    if (i == 1 || i == 3) {
        f.present |= FK_FLOW_HAS_PROCESS | FK_FLOW_HAS_UID;
        f.pid = 4242;
        snprintf(f.process, sizeof f.process, "curl");
        f.uid = 1000;
        f.user = "alice";
        f.exe = "/usr/bin/curl";
    }
    if (i == 4)
        f.user = "bob";
    if (i == 5) {
        f.present |= FK_FLOW_HAS_PROCESS | FK_FLOW_HAS_REVERSE;
        f.pid = 77;
        snprintf(f.process, sizeof f.process, "sshd");
        f.rev_bytes = 500;
        f.rev_packets = 2;
        f.rev_tcp_flags = 0x12;
    }
    return f;
}
#define NREC 6

typedef struct got {
    unsigned n;
    fk_flow f[16];
    char user[16][80], exe[16][300];
    bool has_user[16], has_exe[16];
} got;

static void on_flow(const fk_flow *f, void *user)
{
    got *g = user;
    if (g->n >= 16)
        return;
    g->f[g->n] = *f;
    g->has_user[g->n] = f->user != NULL;
    g->has_exe[g->n] = f->exe != NULL;
    snprintf(g->user[g->n], sizeof g->user[0], "%s", f->user ? f->user : "");
    snprintf(g->exe[g->n], sizeof g->exe[0], "%s", f->exe ? f->exe : "");
    g->f[g->n].user = g->f[g->n].exe = NULL;
    g->n++;
}

static uint16_t be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

/* Feed every message of an IPFIX file to a collector with pen (0 =
 * default); returns what it delivered in g. */
static void read_back(const char *path, int64_t pen, got *g)
{
    size_t len;
    uint8_t *file = fk_test_read_file(path, &len);
    assert_non_null(file);
    fk_collector *h;
    assert_int_equal(fk_collector_create(&h), 0);
    assert_int_equal(fk_collector_set_callback(h, on_flow, g), 0);
    if (pen)
        assert_int_equal(fk_collector_set_int(h, FK_COL_PEN, pen), 0);
    assert_int_equal(fk_collector_activate(h), 0);
    fk_addr from = addr("127.0.0.1");
    for (size_t off = 0; off + 16 <= len;) {
        size_t n = be16(file + off + 2);
        assert_true(n >= 16 && off + n <= len);
        assert_true(fk_collector_feed(h, &from, 4739, file + off, n) >= 0);
        off += n;
    }
    fk_collector_destroy(h);
    free(file);
}

static void write_file(const char *path, uint32_t pen)
{
    char uri[300];
    snprintf(uri, sizeof uri, "ipfix:%s", path);
    fk__sink *k;
    assert_int_equal(fk__sink_create(&k, uri), 0);
    if (pen)
        k->pen = pen;
    k->biflow = true; /* biflow records as such (ipfix_biflow = 1) */
    assert_int_equal(fk__sink_open(k, 0), 0);
    for (int i = 0; i < NREC; i++) {
        fk_flow f = record(i);
        assert_int_equal(fk__sink_write(k, &f, 0), 0);
    }
    assert_int_equal(fk__sink_flush(k), 0);
    fk__sink_destroy(k);
}

static void check_same(const got *g, bool with_pen)
{
    assert_int_equal(g->n, NREC);
    for (int i = 0; i < NREC; i++) {
        fk_flow w = record(i);
        const fk_flow *f = &g->f[i];
        assert_int_equal(f->src_port, w.src_port);
        assert_memory_equal(f->src.bytes, w.src.bytes, 16);
        assert_memory_equal(f->dst.bytes, w.dst.bytes, 16);
        assert_int_equal(f->proto, 6);
        assert_int_equal(f->start_ns, w.start_ns);
        assert_int_equal(f->end_ns, w.end_ns);
        /* The user name is an IANA element: back whatever the PEN. */
        assert_int_equal(g->has_user[i], w.user != NULL);
        if (w.user)
            assert_string_equal(g->user[i], w.user);
        if (!with_pen) {
            assert_int_equal(f->event, 0);
            assert_false(f->present & (FK_FLOW_HAS_PROCESS | FK_FLOW_HAS_UID));
            continue;
        }
        assert_int_equal(f->event, w.event);
        if (w.event) {
            /* The kind's bit in tcpControlBits, for readers without the PEN. */
            static const uint8_t bit[4] = {0, 0x02, 0x01, 0x04};
            assert_int_equal(f->tcp_flags, bit[w.event]);
            assert_int_equal(f->bytes, 0);
        } else {
            assert_int_equal(f->bytes, w.bytes);
            assert_int_equal(f->packets, w.packets);
            assert_int_equal(f->tcp_flags, w.tcp_flags);
            assert_int_equal(f->end_reason, FK_END_DETECTED);
        }
        assert_int_equal(f->present & FK_FLOW_HAS_PROCESS, w.present & FK_FLOW_HAS_PROCESS);
        assert_int_equal(f->present & FK_FLOW_HAS_UID, w.present & FK_FLOW_HAS_UID);
        assert_int_equal(f->present & FK_FLOW_HAS_REVERSE, w.present & FK_FLOW_HAS_REVERSE);
        if (w.present & FK_FLOW_HAS_PROCESS) {
            assert_int_equal(f->pid, w.pid);
            assert_string_equal(f->process, w.process);
        }
        if (w.present & FK_FLOW_HAS_UID)
            assert_int_equal(f->uid, w.uid);
        if (w.present & FK_FLOW_HAS_REVERSE) {
            assert_int_equal(f->rev_bytes, w.rev_bytes);
            assert_int_equal(f->rev_tcp_flags, w.rev_tcp_flags);
        }
        assert_int_equal(g->has_exe[i], w.exe != NULL);
        if (w.exe)
            assert_string_equal(g->exe[i], w.exe);
    }
}

/* Template ids of the data sets of an IPFIX file, in order. */
static unsigned data_templates(const char *path, uint16_t *ids, unsigned cap)
{
    size_t len;
    uint8_t *file = fk_test_read_file(path, &len);
    assert_non_null(file);
    unsigned n = 0;
    for (size_t off = 0; off + 16 <= len;) {
        size_t mlen = be16(file + off + 2);
        for (size_t s = off + 16; s + 4 <= off + mlen;) {
            uint16_t id = be16(file + s), slen = be16(file + s + 2);
            assert_true(slen >= 4);
            if (id >= 256 && n < cap)
                ids[n++] = id;
            s += slen;
        }
        off += mlen;
    }
    free(file);
    return n;
}

static void ipfix_file_keeps_events_and_process(void **state)
{
    (void)state;
    char dir[] = "/tmp/fk_sinkev_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/a.ipfix", dir);
    write_file(path, 0);
    uint16_t ids[16];
    assert_int_equal(data_templates(path, ids, 16), NREC);
    /* plain flow, flow + process (v6), event, event v6 + exporter v6 +
     * process, event + process (user only), biflow + process. */
    static const uint16_t want[NREC] = {256, 265, 272, 279, 276, 268};
    for (int i = 0; i < NREC; i++)
        assert_int_equal(ids[i], want[i]);

    got *g = calloc(1, sizeof *g);
    assert_non_null(g);
    read_back(path, 0, g);
    check_same(g, true);
    /* A reader with another PEN sees flows (the kind only in the TCP bits),
     * never process fields; userName is IANA and comes back. */
    memset(g, 0, sizeof *g);
    read_back(path, 12345, g);
    check_same(g, false);

    /* Written under the collector's own PEN, read back with that PEN. */
    snprintf(path, sizeof path, "%s/b.ipfix", dir);
    write_file(path, 12345);
    memset(g, 0, sizeof *g);
    read_back(path, 12345, g);
    check_same(g, true);
    memset(g, 0, sizeof *g);
    read_back(path, 0, g);
    check_same(g, false);
    free(g);
    unlink(path);
    snprintf(path, sizeof path, "%s/a.ipfix", dir);
    unlink(path);
    rmdir(dir);
}

/* Long strings use the three-octet length form; many records with process
 * fields fill several messages, all of which decode. */
static void ipfix_long_strings_and_volume(void **state)
{
    (void)state;
    char dir[] = "/tmp/fk_sinkev_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256], uri[300];
    snprintf(path, sizeof path, "%s/v.ipfix", dir);
    snprintf(uri, sizeof uri, "ipfix:%s", path);
    fk__sink *k;
    assert_int_equal(fk__sink_create(&k, uri), 0);
    k->biflow = true;
    assert_int_equal(fk__sink_open(k, 0), 0);
    char exe[301];
    memset(exe, 'x', 300);
    exe[0] = '/';
    exe[300] = '\0';
    enum { N = 2000 };
    for (int i = 0; i < N; i++) {
        fk_flow f = record(i % NREC);
        f.dst_port = (uint16_t)i;
        if (i % 3 == 0)
            f.exe = exe;
        assert_int_equal(fk__sink_write(k, &f, 0), 0);
    }
    assert_int_equal(fk__sink_flush(k), 0);
    fk__sink_destroy(k);
    size_t len;
    uint8_t *file = fk_test_read_file(path, &len);
    assert_non_null(file);
    assert_true(len > 65535); /* several messages */
    fk_ipfix_decoder *d;
    assert_int_equal(fk_ipfix_decoder_create(&d, NULL), 0);
    unsigned n = 0, long_exe = 0;
    for (size_t off = 0; off < len;) {
        fk_ipfix_header hdr;
        assert_int_equal(fk_ipfix_parse_header(file + off, len - off, &hdr), 0);
        assert_int_equal(hdr.sequence, n);
        assert_int_equal(fk_ipfix_decoder_begin(d, 1, file + off, hdr.length, NULL), 0);
        fk_ipfix_item it;
        int rc;
        while ((rc = fk_ipfix_decoder_next(d, &it)) == 1) {
            assert_int_not_equal(it.kind, FK_IPFIX_ITEM_NO_TEMPLATE);
            if (it.kind != FK_IPFIX_ITEM_RECORD)
                continue;
            fk_ipfix_value v;
            assert_int_equal(fk_ipfix_record_find_field(&it.record, 0, 11, &v), 0);
            assert_int_equal(v.u, n);
            if (fk_ipfix_record_find_field(&it.record, FK_EXPORTER_DEFAULT_PEN, 4, &v) == 0 &&
                v.len == 300) {
                assert_memory_equal(v.raw, exe, 300);
                long_exe++;
            }
            n++;
        }
        assert_int_equal(rc, 0);
        off += hdr.length;
    }
    assert_int_equal(n, N);
    /* An executable path alone makes a record use the process layout. */
    unsigned want = 0;
    for (int i = 0; i < N; i++)
        want += i % 3 == 0;
    assert_int_equal(long_exe, want);
    fk_ipfix_decoder_destroy(d);
    free(file);
    unlink(path);
    rmdir(dir);
}

static uint64_t le(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

/* The appended ClickHouse columns: event, uid, user, exe, in_if_name,
 * out_if_name after the 25 original ones. */
static void clickhouse_row_has_event_and_strings(void **state)
{
    (void)state;
    uint8_t b[FK__CH_ROW_MAX];
    /* A plain IPv4 flow: 132 bytes of old columns (no process name). */
    fk_flow f = record(0);
    int n = fk__ch_encode_row(&f, b, sizeof b);
    assert_int_equal(n, 132 + 7);
    assert_int_equal(b[132], 0); /* flow */
    assert_int_equal(b[133], 1); /* uid NULL */

    /* The IPv6 FIN with its process and interface names. */
    f = record(3);
    f.in_if_name = "eth0";
    f.out_if_name = "wan-uplink";
    n = fk__ch_encode_row(&f, b, sizeof b);
    assert_int_equal(le(b + 2, 8), (uint64_t)(f.start_ns / 1000000));
    assert_int_equal(le(b + 127, 4), 4242);
    assert_int_equal(b[131], 4);
    assert_memory_equal(b + 132, "curl", 4);
    const uint8_t *p = b + 136;
    assert_int_equal(*p++, 2); /* fin */
    assert_int_equal(*p++, 0); /* uid present */
    assert_int_equal(le(p, 4), 1000);
    p += 4;
    assert_int_equal(*p++, 5);
    assert_memory_equal(p, "alice", 5);
    p += 5;
    assert_int_equal(*p++, 13);
    assert_memory_equal(p, "/usr/bin/curl", 13);
    p += 13;
    assert_int_equal(*p++, 4);
    assert_memory_equal(p, "eth0", 4);
    p += 4;
    assert_int_equal(*p++, 10);
    assert_memory_equal(p, "wan-uplink", 10);
    p += 10;
    assert_int_equal(*p++, 0); /* no tags */
    assert_int_equal(n, (int)(p - b));

    /* A 300-byte path: two-byte LEB128 length (300 = 0xac 0x02). */
    char exe[301];
    memset(exe, 'y', 300);
    exe[300] = '\0';
    f = record(4); /* RST with only a user */
    f.exe = exe;
    n = fk__ch_encode_row(&f, b, sizeof b);
    p = b + 132;
    assert_int_equal(*p++, 3); /* rst */
    assert_int_equal(*p++, 1); /* uid NULL */
    assert_int_equal(*p++, 3);
    assert_memory_equal(p, "bob", 3);
    p += 3;
    assert_int_equal(p[0], 0xac);
    assert_int_equal(p[1], 0x02);
    assert_memory_equal(p + 2, exe, 300);
    p += 302;
    assert_int_equal(p[0], 0);
    assert_int_equal(p[1], 0);
    assert_int_equal(p[2], 0);
    assert_int_equal(n, (int)(p + 3 - b));
    /* Too small a buffer for the strings is refused, not overrun. */
    assert_int_equal(fk__ch_encode_row(&f, b, 300), FK_ENOSPACE);

    /* The schema names the new columns, at the end, with defaults. */
    char sql[2048];
    assert_true(fk__ch_create_sql("db", "t", sql, sizeof sql) > 0);
    const char *pr = strstr(sql, "process String, event Enum8('flow' = 0, 'syn' = 1");
    assert_non_null(pr);
    assert_non_null(
        strstr(pr, "uid Nullable(UInt32) DEFAULT NULL, user String DEFAULT '', "
                   "exe String DEFAULT '', in_if_name String DEFAULT '', out_if_name String"));
    assert_non_null(
        strstr(fk__ch_columns, ",pid,process,event,uid,user,exe,in_if_name,out_if_name"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ipfix_file_keeps_events_and_process),
        cmocka_unit_test(ipfix_long_strings_and_volume),
        cmocka_unit_test(clickhouse_row_has_event_and_strings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
