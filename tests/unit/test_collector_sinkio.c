/* Collector file sinks under volume: the writer thread (sink_out.c) keeps
 * every byte and its order across many buffers, a flush is a barrier, a
 * failed write is reported once and counted; the IPFIX file sink writes
 * all eight of its record layouts so that a decoder gets back every field,
 * with correct sequence numbers, message lengths and templates at the start
 * of every file. */
#include <arpa/inet.h>
#include <flowkit/flowkit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "collector/internal.h"
#include "fk_test.h"
#include "core/bytes.h"

/* A flow that exercises the fields the sinks write; variant v selects the
 * flow family (bit 0), exporter family (bit 1) and biflow (bit 2). */
static fk_flow make_flow(unsigned i, int v)
{
    fk_flow f;
    memset(&f, 0, sizeof f);
    if (v & 1) {
        fk_addr_parse("2001:db8::1", &f.src);
        fk_addr_parse("2001:db8:ffff::2", &f.dst);
        f.src.bytes[15] = (uint8_t)i;
    } else {
        fk_addr_parse("10.1.2.3", &f.src);
        fk_addr_parse("192.0.2.200", &f.dst);
        f.src.bytes[3] = (uint8_t)i;
    }
    fk_addr_parse((v & 2) ? "2001:db8::99" : "198.51.100.7", &f.exporter);
    f.src_port = (uint16_t)(1000 + i);
    f.dst_port = 443;
    f.proto = (i & 1) ? 17 : 6;
    f.tcp_flags = (uint8_t)(i & 0x3f);
    f.bytes = 1000000007ull * i + 1;
    f.packets = i + 2;
    f.start_ns = 1795435200000000000LL + (int64_t)i * 1000000;
    f.end_ns = f.start_ns + 1500000000LL;
    f.version = 10;
    f.odid = 7 + (uint32_t)v;
    f.present = FK_FLOW_HAS_EXPORTER;
    if (i % 3 == 0) {
        f.present |= FK_FLOW_HAS_IFACES;
        f.in_if = i;
        f.out_if = i + 100000;
    }
    if (i % 5 == 0) {
        f.present |= FK_FLOW_HAS_SAMPLING;
        f.sampling = 100 + i;
    }
    if (i % 7 == 0) {
        f.present |= FK_FLOW_HAS_END_REASON;
        f.end_reason = 3;
    }
    if (v & 4) {
        f.present |= FK_FLOW_HAS_REVERSE;
        f.rev_bytes = 77ull * i;
        f.rev_packets = i;
        f.rev_tcp_flags = 0x12;
    }
    return f;
}

/* One IPFIX message (domain 1, template 256 of `fs`) with `count` records:
 * make_flow(i, 0), or *one when given; returns its length. */
static size_t encode_msg(const fk_field_spec *fs, size_t nfs, unsigned count, const fk_flow *one,
                         uint8_t *buf, size_t size)
{
    fk_ipfix_encoder *e;
    size_t n;
    assert_int_equal(fk_ipfix_encoder_create(&e, NULL), 0);
    assert_int_equal(fk_ipfix_encoder_add_template(e, 256, fs, nfs, 0), 0);
    assert_int_equal(fk_ipfix_encoder_begin(e, 1, 1795435200, buf, size), 0);
    assert_int_equal(fk_ipfix_encoder_write_template(e, 256), 0);
    for (unsigned i = 0; i < count; i++) {
        fk_flow f = one ? *one : make_flow(i, 0);
        assert_int_equal(fk_ipfix_encoder_add_flow(e, 256, &f), 0);
    }
    assert_int_equal(fk_ipfix_encoder_finish(e, &n), 0);
    fk_ipfix_encoder_destroy(e);
    return n;
}

static void tmpdir(char *dir)
{
    assert_non_null(mkdtemp(dir));
}

static void rmdir_r(const char *dir)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

/* 60,000 JSON lines (several 1 MiB buffers, so the ring wraps and the
 * producer waits for the writer): after a flush the file holds exactly the
 * reference text of every record, in order. */
static void text_volume_in_order(void **state)
{
    (void)state;
    char dir[] = "/tmp/fk_sinkio_XXXXXX";
    tmpdir(dir);
    char path[256], uri[300];
    snprintf(path, sizeof path, "%s/out.jsonl", dir);
    snprintf(uri, sizeof uri, "jsonl:%s", path);
    fk__sink *k;
    assert_int_equal(fk__sink_create(&k, uri), 0);
    assert_int_equal(fk__sink_open(k, 0), 0);
    enum { N = 60000 };
    size_t expect_len = 0;
    for (unsigned i = 0; i < N; i++) {
        fk_flow f = make_flow(i, (int)(i % 8));
        assert_int_equal(fk__sink_write(k, &f, 0), 0);
        char line[FK_FLOW_JSON_MAX];
        expect_len += (size_t)fk_flow_to_json(&f, line, sizeof line) + 1;
        if (i % 9000 == 0)
            assert_int_equal(fk__sink_submit(k), 0); /* hands over, no wait */
    }
    assert_int_equal(fk__sink_flush(k), 0);
    size_t len;
    char *text = (char *)fk_test_read_file(path, &len);
    assert_non_null(text);
    assert_int_equal(len, expect_len);
    assert_int_equal(k->written, expect_len);
    size_t off = 0;
    for (unsigned i = 0; i < N; i++) {
        fk_flow f = make_flow(i, (int)(i % 8));
        char line[FK_FLOW_JSON_MAX];
        int n = fk_flow_to_json(&f, line, sizeof line);
        assert_true(off + (size_t)n < len);
        assert_memory_equal(text + off, line, (size_t)n);
        assert_int_equal(text[off + (size_t)n], '\n');
        off += (size_t)n + 1;
    }
    free(text);
    fk__sink_destroy(k);
    rmdir_r(dir);
}

/* A full device: the failure comes back from the flush as FK_EIO naming
 * the file, once; later flushes of nothing succeed. Through the handle it
 * is counted in sink_errors. */
static void write_failure_reported(void **state)
{
    (void)state;
    if (access("/dev/full", W_OK) != 0)
        skip();
    fk__sink *k;
    assert_int_equal(fk__sink_create(&k, "csv:/dev/full"), 0);
    assert_int_equal(fk__sink_open(k, 0), 0);
    fk_flow f = make_flow(1, 0);
    assert_int_equal(fk__sink_write(k, &f, 0), 0);
    assert_int_equal(fk__sink_flush(k), FK_EIO);
    assert_non_null(strstr(fk_error_last()->message, "/dev/full"));
    assert_int_equal(fk__sink_flush(k), 0);
    fk__sink_destroy(k);

    fk_collector *h;
    assert_int_equal(fk_collector_create(&h), 0);
    assert_int_equal(fk_collector_add_output(h, "jsonl:/dev/full"), 0);
    assert_int_equal(fk_collector_activate(h), 0);
    /* One IPFIX message with one record, through the real decoder. */
    static const fk_field_spec fs[] = {{0, 8, 4, 0}, {0, 12, 4, 0}, {0, 1, 8, 0}};
    uint8_t buf[1500];
    size_t n = encode_msg(fs, 3, 1, &f, buf, sizeof buf);
    fk_addr exp;
    fk_addr_parse("192.0.2.1", &exp);
    assert_int_equal(fk_collector_feed(h, &exp, 4739, buf, n), 1);
    fk_collector_stats st;
    memset(&st, 0, sizeof st);
    /* Handed to the writer within ~20 ms; reported at a later dispatch. */
    for (int i = 0; i < 500 && st.sink_errors == 0; i++) {
        struct timespec ts = {0, 10000000};
        nanosleep(&ts, NULL);
        assert_true(fk_collector_dispatch(h) >= 0);
        assert_int_equal(fk_collector_get_stats(h, &st, sizeof st), 0);
    }
    assert_int_equal(st.records, 1);
    assert_int_equal(st.sink_errors, 1);
    fk_collector_destroy(h);
}

/* Decoding records that lack the optional elements (process fields,
 * observation time) must not take the error path per record: a missed
 * lookup formats an error message, and doing that for every record made the
 * collector eight times slower. The thread's error record stays clear. */
static void plain_records_set_no_error(void **state)
{
    (void)state;
    fk_collector *h;
    assert_int_equal(fk_collector_create(&h), 0);
    assert_int_equal(fk_collector_activate(h), 0);
    static const fk_field_spec fs[] = {{0, 8, 4, 0},  {0, 12, 4, 0},  {0, 7, 2, 0},
                                       {0, 11, 2, 0}, {0, 4, 1, 0},   {0, 1, 8, 0},
                                       {0, 2, 8, 0},  {0, 152, 8, 0}, {0, 153, 8, 0}};
    uint8_t buf[1500];
    size_t n = encode_msg(fs, 9, 20, NULL, buf, sizeof buf);
    fk_addr exp;
    fk_addr_parse("192.0.2.1", &exp);
    fk_error_clear();
    assert_int_equal(fk_collector_feed(h, &exp, 4739, buf, n), 20);
    assert_int_equal(fk_error_last()->code, 0);
    fk_collector_destroy(h);
}

/* Records in an output buffer are timed work: the next timeout is due
 * about 20 ms after they were written, and the dispatch then hands them to
 * the writer, so they reach the file without a flush or more traffic. */
static void buffered_records_reach_the_file(void **state)
{
    (void)state;
    char dir[] = "/tmp/fk_sinkio_XXXXXX";
    tmpdir(dir);
    char path[256], uri[300];
    snprintf(path, sizeof path, "%s/out.jsonl", dir);
    snprintf(uri, sizeof uri, "jsonl:%s", path);
    fk_collector *h;
    assert_int_equal(fk_collector_create(&h), 0);
    assert_int_equal(fk_collector_add_output(h, uri), 0);
    assert_int_equal(fk_collector_activate(h), 0);
    static const fk_field_spec fs[] = {{0, 8, 4, 0}, {0, 12, 4, 0}, {0, 1, 8, 0}};
    uint8_t buf[1500];
    size_t n = encode_msg(fs, 3, 7, NULL, buf, sizeof buf);
    fk_addr exp;
    fk_addr_parse("192.0.2.1", &exp);
    assert_int_equal(fk_collector_feed(h, &exp, 4739, buf, n), 7);
    assert_true(fk_collector_dispatch(h) >= 0);
    int t = fk_collector_next_timeout_ms(h);
    assert_true(t >= 0 && t <= 20);
    size_t len = 0;
    for (int i = 0; i < 500 && len == 0; i++) {
        struct timespec ts = {0, 10000000};
        nanosleep(&ts, NULL);
        assert_true(fk_collector_dispatch(h) >= 0);
        uint8_t *b = fk_test_read_file(path, &len);
        free(b);
    }
    /* Written in one block: all seven lines at once. */
    char *text = (char *)fk_test_read_file(path, &len);
    assert_non_null(text);
    int lines = 0;
    for (size_t i = 0; i < len; i++)
        lines += text[i] == '\n';
    assert_int_equal(lines, 7);
    free(text);
    fk_collector_destroy(h);
    rmdir_r(dir);
}

/* Walk an IPFIX file: every message decodes, sequence numbers count the
 * records before each message, and each record matches make_flow. Returns
 * the number of template sets met; *records the data records. */
static int check_ipfix_file(const char *path, unsigned *records, unsigned first)
{
    size_t len;
    uint8_t *file = fk_test_read_file(path, &len);
    assert_non_null(file);
    fk_ipfix_decoder *d;
    assert_int_equal(fk_ipfix_decoder_create(&d, NULL), 0);
    size_t off = 0;
    unsigned n = 0;
    int template_sets = 0;
    uint32_t seq = 0;
    bool have_seq = false;
    while (off < len) {
        fk_ipfix_header hdr;
        assert_int_equal(fk_ipfix_parse_header(file + off, len - off, &hdr), 0);
        assert_true(hdr.length <= 65535 && off + hdr.length <= len);
        if (have_seq)
            assert_int_equal(hdr.sequence, seq);
        seq = hdr.sequence;
        have_seq = true;
        if (fk__get16(file + off + 16) == 2)
            template_sets++;
        if (off == 0) /* a file starts with the templates */
            assert_int_equal(fk__get16(file + 16), 2);
        assert_int_equal(fk_ipfix_decoder_begin(d, 1, file + off, hdr.length, NULL), 0);
        fk_ipfix_item it;
        int rc;
        while ((rc = fk_ipfix_decoder_next(d, &it)) == 1) {
            assert_int_not_equal(it.kind, FK_IPFIX_ITEM_NO_TEMPLATE);
            if (it.kind != FK_IPFIX_ITEM_RECORD)
                continue;
            if (first == ~0u) { /* records are numbered across rotated files */
                fk_ipfix_value port;
                assert_int_equal(fk_ipfix_record_find_field(&it.record, 0, 7, &port), 0);
                first = (unsigned)port.u - 1000;
            }
            unsigned i = first + n;
            int v = (int)(i % 8);
            fk_flow want = make_flow(i, v), got;
            assert_int_equal(it.template_id, 256 + v);
            assert_int_equal(fk_ipfix_record_to_flow(&it.record, &got), 0);
            assert_memory_equal(got.src.bytes, want.src.bytes, 16);
            assert_memory_equal(got.dst.bytes, want.dst.bytes, 16);
            assert_int_equal(got.src.family, want.src.family);
            assert_int_equal(got.src_port, want.src_port);
            assert_int_equal(got.dst_port, want.dst_port);
            assert_int_equal(got.proto, want.proto);
            assert_int_equal(got.tcp_flags, want.tcp_flags);
            assert_int_equal(got.bytes, want.bytes);
            assert_int_equal(got.packets, want.packets);
            assert_int_equal(got.start_ns, want.start_ns);
            assert_int_equal(got.end_ns, want.end_ns);
            fk_ipfix_value val;
            assert_int_equal(fk_ipfix_record_find_field(&it.record, 0, 10, &val), 0);
            assert_int_equal(val.u, want.in_if);
            assert_int_equal(fk_ipfix_record_find_field(&it.record, 0, 14, &val), 0);
            assert_int_equal(val.u, want.out_if);
            assert_int_equal(fk_ipfix_record_find_field(&it.record, 0, 305, &val), 0);
            assert_int_equal(val.u, want.sampling);
            assert_int_equal(fk_ipfix_record_find_field(&it.record, 0, 136, &val), 0);
            assert_int_equal(val.u, want.end_reason);
            assert_int_equal(fk_ipfix_record_find_field(&it.record, 0, 149, &val), 0);
            assert_int_equal(val.u, want.odid);
            assert_int_equal(fk_ipfix_record_find_field(&it.record, 0, (v & 2) ? 131 : 130, &val),
                             0);
            assert_memory_equal(val.addr.bytes, want.exporter.bytes, 16);
            if (v & 4) {
                assert_int_equal(fk_ipfix_record_find_field(&it.record, FK_PEN_REVERSE, 1, &val),
                                 0);
                assert_int_equal(val.u, want.rev_bytes);
                assert_int_equal(fk_ipfix_record_find_field(&it.record, FK_PEN_REVERSE, 2, &val),
                                 0);
                assert_int_equal(val.u, want.rev_packets);
                assert_int_equal(fk_ipfix_record_find_field(&it.record, FK_PEN_REVERSE, 6, &val),
                                 0);
                assert_int_equal(val.u, want.rev_tcp_flags);
            } else {
                assert_int_not_equal(
                    fk_ipfix_record_find_field(&it.record, FK_PEN_REVERSE, 1, &val), 0);
            }
            n++;
            seq++;
        }
        assert_int_equal(rc, 0);
        off += hdr.length;
    }
    fk_ipfix_decoder_destroy(d);
    free(file);
    *records = n;
    return template_sets;
}

/* Every layout, enough records for several 64 KiB messages, a reopen (the
 * file continues with the templates again) and a rotation by size (the new
 * file starts with them). */
static void ipfix_file_all_layouts(void **state)
{
    (void)state;
    char dir[] = "/tmp/fk_sinkio_XXXXXX";
    tmpdir(dir);
    char path[256], uri[300];
    snprintf(path, sizeof path, "%s/flows.ipfix", dir);
    snprintf(uri, sizeof uri, "ipfix:%s", path);
    fk__sink *k;
    assert_int_equal(fk__sink_create(&k, uri), 0);
    k->biflow = true; /* the biflow layouts too (ipfix_biflow = 1) */
    assert_int_equal(fk__sink_open(k, 0), 0);
    enum { N = 5000 };
    for (unsigned i = 0; i < N; i++) {
        fk_flow f = make_flow(i, (int)(i % 8));
        assert_int_equal(fk__sink_write(k, &f, 0), 0);
        if (i == 1234)
            assert_int_equal(fk__sink_submit(k), 0);
    }
    assert_int_equal(fk__sink_reopen(k, 0), 0);
    for (unsigned i = N; i < N + 800; i++) {
        fk_flow f = make_flow(i, (int)(i % 8));
        assert_int_equal(fk__sink_write(k, &f, 0), 0);
    }
    assert_int_equal(fk__sink_flush(k), 0);
    unsigned n = 0;
    assert_int_equal(check_ipfix_file(path, &n, 0), 2);
    assert_int_equal(n, N + 800);

    /* A record without addresses cannot be written: refused, nothing half-written. */
    fk_flow bad = make_flow(1, 0);
    bad.src.family = 0;
    assert_int_equal(fk__sink_write(k, &bad, 0), FK_EINVAL);
    fk__sink_destroy(k);
    assert_int_equal(check_ipfix_file(path, &n, 0), 2);
    assert_int_equal(n, N + 800);

    /* Rotation every ~100 KB: each file decodes on its own. */
    snprintf(path, sizeof path, "%s/r/flows.ipfix", dir);
    snprintf(uri, sizeof uri, "ipfix:%s", path);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "mkdir -p %s/r", dir);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(fk__sink_create(&k, uri), 0);
    k->biflow = true;
    k->rotate_bytes = 100000;
    assert_int_equal(fk__sink_open(k, 0), 0);
    for (unsigned i = 0; i < 3000; i++) {
        fk_flow f = make_flow(i, (int)(i % 8));
        assert_int_equal(fk__sink_write(k, &f, 0), 0);
        /* Messages close at submit time once 20 ms old; force it now and then. */
        if (i % 500 == 499)
            assert_int_equal(fk__sink_flush(k), 0);
    }
    fk__sink_destroy(k);
    snprintf(cmd, sizeof cmd, "ls %s/r/flows.ipfix* > %s/list", dir, dir);
    assert_int_equal(system(cmd), 0);
    snprintf(cmd, sizeof cmd, "%s/list", dir);
    FILE *lf = fopen(cmd, "r");
    assert_non_null(lf);
    char line[300];
    unsigned total = 0, files = 0;
    while (fgets(line, sizeof line, lf)) {
        line[strcspn(line, "\n")] = '\0';
        size_t flen;
        uint8_t *b = fk_test_read_file(line, &flen);
        assert_non_null(b);
        free(b);
        if (flen == 0)
            continue;
        files++;
        unsigned m = 0;
        assert_true(check_ipfix_file(line, &m, ~0u) >= 1);
        total += m;
    }
    fclose(lf);
    assert_int_equal(total, 3000);
    assert_true(files >= 2);
    rmdir_r(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(text_volume_in_order),
        cmocka_unit_test(write_failure_reported),
        cmocka_unit_test(plain_records_set_no_error),
        cmocka_unit_test(buffered_records_reach_the_file),
        cmocka_unit_test(ipfix_file_all_layouts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
