/* File sinks on a full disk (issue 15, item 2), simulated without root by
 * a file size limit (RLIMIT_FSIZE: writes past it fail with EFBIG after a
 * short write, as on a full file system): the file always ends at a record
 * boundary, every line or message in it is whole, what the writer could not
 * write is counted in records (file + lost = written), and once there is
 * room again the next records follow on a fresh line. The real full disk
 * (tmpfs) is tests/integration/collect_disk_full.sh. */
#include <flowkit/flowkit.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "collector/internal.h"
#include "core/bytes.h"
#include "fk_test.h"

#define LIMIT 20000 /* bytes the file may grow to */

static fk_flow make_flow(unsigned i)
{
    fk_flow f;
    memset(&f, 0, sizeof f);
    fk_addr_parse("10.1.2.3", &f.src);
    fk_addr_parse("192.0.2.200", &f.dst);
    fk_addr_parse("198.51.100.7", &f.exporter);
    f.src_port = (uint16_t)(1000 + i);
    f.dst_port = 443;
    f.proto = 6;
    f.bytes = 1000 + i;
    f.packets = 2;
    f.start_ns = 1795435200000000000LL;
    f.end_ns = f.start_ns + 1500000000LL;
    f.version = 10;
    f.present = FK_FLOW_HAS_EXPORTER;
    return f;
}

static void limit_file_size(rlim_t bytes)
{
    struct rlimit rl;
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &rl), 0);
    rl.rlim_cur = bytes;
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &rl), 0);
}

static char *read_file(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    assert_non_null(b);
    assert_int_equal(fread(b, 1, (size_t)n, fp), (size_t)n);
    b[n] = '\0';
    fclose(fp);
    *len = (size_t)n;
    return b;
}

/* Records in a text file: JSON lines (first '{', each ending in '}') or CSV
 * rows (first 0: the header once, at the start, then rows of this test's 25
 * columns). The file must end with a newline. */
static size_t whole_lines(const char *path, char first)
{
    size_t len;
    char *b = read_file(path, &len);
    size_t lines = 0;
    if (len)
        assert_int_equal(b[len - 1], '\n');
    for (char *p = b; p < b + len;) {
        char *nl = memchr(p, '\n', (size_t)(b + len - p));
        assert_non_null(nl);
        if (first == '{') {
            assert_int_equal(*p, '{');
            assert_int_equal(nl[-1], '}');
        } else if (p == b && strncmp(p, "start,", 6) == 0) {
            p = nl + 1;
            continue; /* the header */
        } else {
            size_t commas = 0;
            for (char *q = p; q < nl; q++)
                commas += *q == ',';
            assert_int_equal(commas, 25); /* 26 columns, the last: tags */
        }
        lines++;
        p = nl + 1;
    }
    free(b);
    return lines;
}

/* Write n flows numbered from base; flush; returns the records lost. */
static uint64_t write_flows(fk__sink *k, unsigned base, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        fk_flow f = make_flow(base + i);
        fk__sink_write(k, &f, 0);
    }
    fk__sink_flush(k);
    uint64_t failures;
    const char *msg;
    uint64_t lost = fk__sink_take_lost(k, &failures, &msg);
    if (lost)
        assert_non_null(strstr(msg, "records lost"));
    return lost;
}

static void text_full_then_room(const char *scheme, char first)
{
    char dir[] = "/tmp/fk-sinkfull-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256], uri[300];
    snprintf(path, sizeof path, "%s/out", dir);
    snprintf(uri, sizeof uri, "%s:%s", scheme, path);
    signal(SIGXFSZ, SIG_IGN);
    limit_file_size(LIMIT);

    fk__sink *k;
    assert_int_equal(fk__sink_create(&k, uri), 0);
    assert_int_equal(fk__sink_open(k, 0), 0);
    /* Far more than fits: the writer hits the limit part-way through a
     * buffer, in the middle of a record. */
    uint64_t lost = write_flows(k, 0, 2000);
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_true(sb.st_size <= LIMIT);
    assert_true(sb.st_size > LIMIT / 2);
    size_t lines = whole_lines(path, first);
    assert_true(lost > 0);
    assert_int_equal(lines + lost, 2000);

    /* Still full: everything of the next batch is lost and counted. */
    lost = write_flows(k, 2000, 10);
    assert_int_equal(lost, 10);
    assert_int_equal(whole_lines(path, first), lines);

    /* Room again: the next records follow on lines of their own. */
    limit_file_size(RLIM_INFINITY);
    assert_int_equal(write_flows(k, 3000, 10), 0);
    assert_int_equal(whole_lines(path, first), lines + 10);
    fk__sink_destroy(k);
    unlink(path);
    rmdir(dir);
}

static void jsonl_full_disk(void **state)
{
    (void)state;
    text_full_then_room("jsonl", '{');
}

static void csv_full_disk(void **state)
{
    (void)state;
    text_full_then_room("csv", 0);
}

/* IPFIX file: the messages in the file cover it exactly (no cut message),
 * their sequence numbers count the records before them, and once there is
 * room again the next message carries the templates. */
static void ipfix_full_disk(void **state)
{
    (void)state;
    char dir[] = "/tmp/fk-sinkfull-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256], uri[300];
    snprintf(path, sizeof path, "%s/out", dir);
    snprintf(uri, sizeof uri, "ipfix:%s", path);
    signal(SIGXFSZ, SIG_IGN);
    /* Larger than the first message (templates + a few hundred records). */
    limit_file_size(200000);
    fk__sink *k;
    assert_int_equal(fk__sink_create(&k, uri), 0);
    assert_int_equal(fk__sink_open(k, 0), 0);
    uint64_t lost = write_flows(k, 0, 20000);
    assert_true(lost > 0);
    limit_file_size(RLIM_INFINITY);
    assert_int_equal(write_flows(k, 30000, 10), 0);
    fk__sink_destroy(k);

    size_t len;
    char *b = read_file(path, &len);
    const uint8_t *m = (const uint8_t *)b;
    size_t off = 0, messages = 0;
    bool last_has_templates = false;
    uint32_t last_seq = 0;
    while (off < len) {
        assert_true(len - off >= 16);
        assert_int_equal(fk__get16(m + off), 10);
        size_t mlen = fk__get16(m + off + 2);
        assert_true(mlen >= 16 && mlen <= len - off);
        last_seq = fk__get32(m + off + 8);
        last_has_templates = fk__get16(m + off + 16) == 2;
        off += mlen;
        messages++;
    }
    assert_int_equal(off, len);
    assert_true(messages >= 2);
    /* The last message (the 10 records after the room came back) starts
     * with the templates again; its sequence number counts the written and
     * the lost records before it. */
    assert_true(last_has_templates);
    assert_int_equal(last_seq, 20000);
    free(b);
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(jsonl_full_disk),
        cmocka_unit_test(csv_full_disk),
        cmocka_unit_test(ipfix_full_disk),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
