/* The ipfix: output's pass-through stores the consecutive data sets of a
 * message that may pass unchanged as one run (one offer, one room check,
 * one copy where sets carry no padding). A file written that way must be
 * byte for byte the file written offering each set by itself: the same
 * stream goes into two collectors, runs on and off, and their files are
 * compared (the export time of flowkit's own messages, which follows the
 * clock, left out). The stream mixes, within messages: sets that pass
 * (IPv4 and IPv6 templates, with and without padding), sets that are
 * decoded (a template without an end time: flowkit's own records, in
 * another domain of the file), options sets (decoded, then stored),
 * template definitions, redefinitions and withdrawals between data sets,
 * runs longer than the session layer gathers at once, two exporter domains
 * interleaved, export times that change, messages that fill the file's
 * messages, and files rotated by size. */
#include <flowkit/flowkit.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector/internal.h"
#include "core/bytes.h"
#include "fk_test.h"

enum { V4 = 256, V6 = 257, NOEND = 258, OPTS = 259 };

typedef struct dom {
    uint32_t odid, seq, export_secs;
    bool defined[4];
    int wide[4]; /* the layout in use: octetDeltaCount of 4 or 8 bytes */
} dom;

static uint8_t *field(uint8_t *p, uint16_t id, uint16_t len)
{
    return fk__put16(fk__put16(p, id), len);
}

static uint8_t *template_set(uint8_t *p, dom *d, int t)
{
    uint8_t *set = p;
    uint16_t bytes = d->wide[t] ? 8 : 4;
    p = fk__put16(p, t == OPTS - 256 ? 3 : 2) + 2;
    switch (t + 256) {
    case V4:
        p = fk__put16(fk__put16(p, V4), 5);
        p = field(field(field(field(field(p, 8, 4), 12, 4), 151, 4), 1, bytes), 7, 2);
        break;
    case V6:
        p = fk__put16(fk__put16(p, V6), 5);
        p = field(field(field(field(field(p, 27, 16), 28, 16), 153, 8), 1, bytes), 4, 1);
        break;
    case NOEND:
        p = fk__put16(fk__put16(p, NOEND), 4);
        p = field(field(field(field(p, 8, 4), 12, 4), 150, 4), 2, bytes);
        break;
    default:
        p = fk__put16(fk__put16(fk__put16(p, OPTS), 3), 1);
        p = field(field(field(p, 149, 4), 34, 4), 35, 1);
    }
    fk__put16(set + 2, (unsigned)(p - set));
    d->defined[t] = true;
    return p;
}

static size_t record_len(const dom *d, int t)
{
    size_t extra = d->wide[t] ? 8 : 4;
    switch (t + 256) {
    case V4:
        return 4 + 4 + 4 + extra + 2;
    case V6:
        return 16 + 16 + 8 + extra + 1;
    case NOEND:
        return 4 + 4 + 4 + extra;
    default:
        return 9;
    }
}

/* Records of template t (their end times a little before the export
 * time), then 0-3 bytes of padding. Returns the flow records written. */
static uint8_t *data_set(uint8_t *p, const dom *d, int t, int records, uint32_t *flows)
{
    uint8_t *set = p;
    p = fk__put16(p, (unsigned)(t + 256)) + 2;
    for (int r = 0; r < records; r++) {
        uint8_t *rec = p;
        for (size_t i = 0; i < record_len(d, t); i++)
            *p++ = (uint8_t)rand();
        uint32_t end = d->export_secs - (uint32_t)(rand() % 30);
        if (t + 256 == V4 || t + 256 == NOEND)
            fk__put32(rec + 8, end);
        else if (t + 256 == V6)
            fk__put64(rec + 32, (uint64_t)end * 1000u + (uint64_t)(rand() % 1000));
        else
            fk__put32(rec, d->odid);
    }
    int pad = rand() % 4;
    for (int i = 0; i < pad; i++)
        *p++ = 0;
    fk__put16(set + 2, (unsigned)(p - set));
    if (t + 256 != OPTS)
        *flows += (uint32_t)records;
    return p;
}

/* One message of d: definitions, withdrawals and data sets at random, or
 * (one in 20) a long run of small IPv4 and IPv6 data sets. */
static size_t message(uint8_t *buf, dom *d, uint32_t *flows)
{
    uint8_t *p = buf + 16;
    *flows = 0;
    bool long_run = rand() % 20 == 0 && d->defined[0] && d->defined[1];
    int sets = long_run ? 40 + rand() % 30 : 1 + rand() % 12;
    for (int s = 0; s < sets; s++) {
        int t = long_run ? rand() % 2 : rand() % 4;
        int what = long_run ? 9 : rand() % 16;
        if (what == 0 && t < 3) {
            p = fk__put16(fk__put16(fk__put16(fk__put16(p, 2), 8), (unsigned)(t + 256)), 0);
            d->defined[t] = false;
        } else if (what <= 2 || !d->defined[t]) {
            if (what == 1)
                d->wide[t] = !d->wide[t]; /* redefined with other fields */
            p = template_set(p, d, t);
        } else {
            p = data_set(p, d, t, 1 + rand() % (long_run ? 2 : 8), flows);
        }
    }
    size_t len = (size_t)(p - buf);
    fk__put16(buf, 10);
    fk__put16(buf + 2, (unsigned)len);
    fk__put32(buf + 4, d->export_secs);
    fk__put32(buf + 8, d->seq);
    fk__put32(buf + 12, d->odid);
    d->seq += *flows;
    return len;
}

static fk_collector *make(const char *path, bool runs, int64_t rotate)
{
    char uri[80];
    snprintf(uri, sizeof uri, "ipfix:%s", path);
    fk_collector *h;
    assert_int_equal(fk_collector_create(&h), 0);
    assert_int_equal(fk_collector_add_output(h, uri), 0);
    if (rotate)
        assert_int_equal(fk_collector_set_int(h, FK_COL_ROTATE_BYTES, rotate), 0);
    fk__collector_raw_runs(h, runs);
    assert_int_equal(fk_collector_activate(h), 0);
    return h;
}

/* The file at path, with the export time of flowkit's own messages
 * (domain 0) zeroed; *passed counts the messages of an exporter's domain. */
static uint8_t *load(const char *path, size_t *len, size_t *passed)
{
    uint8_t *b = fk_test_read_file(path, len);
    assert_non_null(b);
    size_t off = 0;
    while (off + 16 <= *len) {
        size_t mlen = fk__get16(b + off + 2);
        assert_true(mlen >= 16 && off + mlen <= *len);
        if (fk__get32(b + off + 12) == 0)
            memset(b + off + 4, 0, 4);
        else
            (*passed)++;
        off += mlen;
    }
    assert_int_equal(off, *len);
    return b;
}

/* The files of path (rotated ones first) against those of other. */
static size_t same_files(const char *path, const char *other)
{
    static fk_test_rotated a[512], b[512];
    size_t na = fk_test_list_rotated(path, a, 512), nb = fk_test_list_rotated(other, b, 512);
    assert_int_equal(na, nb);
    size_t passed = 0;
    for (size_t i = 0; i <= na; i++) {
        size_t la, lb, pa = 0, pb = 0;
        uint8_t *fa = load(i < na ? a[i].name : path, &la, &pa);
        uint8_t *fb = load(i < na ? b[i].name : other, &lb, &pb);
        assert_int_equal(la, lb);
        if (memcmp(fa, fb, la) != 0) {
            size_t at = 0;
            while (fa[at] == fb[at])
                at++;
            fail_msg("file %zu differs at byte %zu of %zu", i, at, la);
        }
        passed += pa;
        free(fa);
        free(fb);
        remove(i < na ? a[i].name : path);
        remove(i < na ? b[i].name : other);
    }
    return passed;
}

static void run(unsigned seed, int64_t rotate)
{
    char pa[64], pb[64];
    snprintf(pa, sizeof pa, "rawrun_%u_on.ipfix", seed);
    snprintf(pb, sizeof pb, "rawrun_%u_off.ipfix", seed);
    static fk_test_rotated left[512];
    for (int k = 0; k < 2; k++) { /* left by a failed run */
        size_t n = fk_test_list_rotated(k ? pb : pa, left, 512);
        for (size_t i = 0; i < n; i++)
            remove(left[i].name);
        remove(k ? pb : pa);
    }
    fk_collector *on = make(pa, true, rotate), *off = make(pb, false, rotate);
    fk_addr exporter;
    fk_addr_parse("192.0.2.7", &exporter);
    dom doms[2];
    memset(doms, 0, sizeof doms);
    for (uint32_t i = 0; i < 2; i++) {
        doms[i].odid = 7 + i;
        doms[i].export_secs = 1795435200u;
    }
    srand(seed);
    static uint8_t buf[65536];
    uint64_t flows = 0;
    for (int round = 0; round < 4000; round++) {
        dom *d = &doms[rand() % 2];
        d->export_secs += (uint32_t)(rand() % 8 == 0);
        uint32_t n;
        size_t len = message(buf, d, &n);
        int ra = fk_collector_feed(on, &exporter, 4739, buf, len);
        int rb = fk_collector_feed(off, &exporter, 4739, buf, len);
        assert_int_equal(ra, rb);
        assert_int_equal(ra, (int)n);
        flows += n;
    }
    fk_collector_stats sa, sb;
    fk_collector_get_stats(on, &sa, sizeof sa);
    fk_collector_get_stats(off, &sb, sizeof sb);
    fk_collector_destroy(on); /* writes the files out */
    fk_collector_destroy(off);
    assert_true(flows > 40000);
    assert_int_equal(sa.records, flows);
    assert_true(sa.templates_withdrawn > 500);
    assert_true(sa.options_records > 1000);
    sa.export_time_skewed = sb.export_time_skewed = 0; /* read against the clock */
    assert_memory_equal(&sa, &sb, sizeof sa);
    assert_true(same_files(pa, pb) > 100); /* the sets went through, not the decoder */
}

static void runs_write_what_sets_one_by_one_write(void **state)
{
    (void)state;
    run(41, 0);
}

static void runs_and_rotation_by_size(void **state)
{
    (void)state;
    run(42, 30000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(runs_write_what_sets_one_by_one_write),
        cmocka_unit_test(runs_and_rotation_by_size),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
