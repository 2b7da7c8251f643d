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
#include "passthrough_fixture.h"

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
            p = fx_withdrawal(p, (uint16_t)(t + 256));
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
    fx_header(buf, len, d->export_secs, d->seq, d->odid);
    d->seq += *flows;
    return len;
}

static fk_collector *make(const char *path, bool runs, int64_t rotate)
{
    fk_collector *h = fx_collector(path, rotate);
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
    for (size_t off = 0, m; (m = fx_message(b, *len, off)) > 0; off += m) {
        if (fx_passed(b + off))
            (*passed)++;
        else
            memset(b + off + 4, 0, 4);
    }
    return b;
}

/* The files of path (rotated ones first) against those of other. */
static size_t same_files(const char *path, const char *other)
{
    size_t na, nb;
    fk_test_rotated *a = fx_rotated(path, &na), *b = fx_rotated(other, &nb);
    assert_int_equal(na, nb);
    size_t passed = 0;
    for (size_t i = 0; i <= na; i++) {
        size_t la, lb, pa = 0, pb = 0;
        uint8_t *fa = load(i < na ? a[i].name : path, &la, &pa);
        uint8_t *fb = load(i < na ? b[i].name : other, &lb, &pb);
        assert_int_equal(la, lb);
        char what[32];
        snprintf(what, sizeof what, "files %zu", i);
        fx_same_bytes(what, fa, fb, la);
        passed += pa;
        free(fa);
        free(fb);
        remove(i < na ? a[i].name : path);
        remove(i < na ? b[i].name : other);
    }
    free(a);
    free(b);
    return passed;
}

static void run(unsigned seed, int64_t rotate)
{
    char pa[64], pb[64];
    snprintf(pa, sizeof pa, "rawrun_%u_on.ipfix", seed);
    snprintf(pb, sizeof pb, "rawrun_%u_off.ipfix", seed);
    fx_remove_outputs(pa);
    fx_remove_outputs(pb);
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
        fx_feed_both(on, off, &exporter, 4739, buf, len, n);
        flows += n;
    }
    fk_collector_stats sa = fx_same_stats(on, off);
    fk_collector_destroy(on); /* writes the files out */
    fk_collector_destroy(off);
    assert_true(flows > 40000);
    assert_int_equal(sa.records, flows);
    assert_true(sa.templates_withdrawn > 500);
    assert_true(sa.options_records > 1000);
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
