/* The fixture of the ipfix: output's pass-through tests
 * (test_collector_rawrun, test_collector_passthrough): each feeds one
 * stream of IPFIX messages into two collectors and compares what they
 * count and write. Here: the message header and a withdrawal set, a
 * collector writing an ipfix: file, the files of an output left by a
 * failed run removed, both collectors fed, their counters compared, the
 * messages of a file walked, and two buffers compared. */
#ifndef FK_TEST_PASSTHROUGH_FIXTURE_H
#define FK_TEST_PASSTHROUGH_FIXTURE_H

#include <flowkit/flowkit.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/bytes.h"
#include "fk_test.h"

/* The header of a message of len bytes at buf (its sets follow it). */
static inline void fx_header(uint8_t *buf, size_t len, uint32_t export_secs, uint32_t seq,
                             uint32_t odid)
{
    fk__put16(buf, 10);
    fk__put16(buf + 2, (unsigned)len);
    fk__put32(buf + 4, export_secs);
    fk__put32(buf + 8, seq);
    fk__put32(buf + 12, odid);
}

/* A withdrawal: template id tid (2: every data template) with no fields. */
static inline uint8_t *fx_withdrawal(uint8_t *p, uint16_t tid)
{
    return fk__put16(fk__put16(fk__put16(fk__put16(p, 2), 8), tid), 0);
}

/* A collector writing the ipfix: file path (no output when path is NULL),
 * rotated by size when rotate > 0; the caller activates it. */
static inline fk_collector *fx_collector(const char *path, int64_t rotate)
{
    fk_collector *h;
    assert_int_equal(fk_collector_create(&h), 0);
    if (path) {
        char uri[300];
        snprintf(uri, sizeof uri, "ipfix:%s", path);
        assert_int_equal(fk_collector_add_output(h, uri), 0);
    }
    if (rotate)
        assert_int_equal(fk_collector_set_int(h, FK_COL_ROTATE_BYTES, rotate), 0);
    return h;
}

/* At most this many rotated files of one output. */
enum { FX_MAX_ROTATED = 4096 };

/* The rotated files of path (fk_test_list_rotated), *n of them, in an
 * array the caller frees. */
static inline fk_test_rotated *fx_rotated(const char *path, size_t *n)
{
    fk_test_rotated *list = calloc(FX_MAX_ROTATED, sizeof *list);
    assert_non_null(list);
    *n = fk_test_list_rotated(path, list, FX_MAX_ROTATED);
    return list;
}

/* Removes path and its rotated files (left by a failed run). */
static inline void fx_remove_outputs(const char *path)
{
    size_t n;
    fk_test_rotated *left = fx_rotated(path, &n);
    for (size_t i = 0; i < n; i++)
        remove(left[i].name);
    remove(path);
    free(left);
}

/* The message at buf, len bytes, from exporter:port into a and b: both
 * must deliver its n data records. */
static inline void fx_feed_both(fk_collector *a, fk_collector *b, const fk_addr *exporter,
                                uint16_t port, const uint8_t *buf, size_t len, uint32_t n)
{
    int ra = fk_collector_feed(a, exporter, port, buf, len);
    int rb = fk_collector_feed(b, exporter, port, buf, len);
    assert_int_equal(ra, rb);
    assert_int_equal(ra, (int)n);
}

/* The counters of a, which must be those of b (but for export_time_skewed,
 * read against the clock). */
static inline fk_collector_stats fx_same_stats(fk_collector *a, fk_collector *b)
{
    fk_collector_stats sa, sb;
    fk_collector_get_stats(a, &sa, sizeof sa);
    fk_collector_get_stats(b, &sb, sizeof sb);
    sa.export_time_skewed = sb.export_time_skewed = 0;
    assert_memory_equal(&sa, &sb, sizeof sa);
    return sa;
}

/* The length of the message at off in a file of len bytes, its framing
 * checked; 0 past the last one, where the file must end. Walk a file with
 * for (size_t off = 0, m; (m = fx_message(b, len, off)) > 0; off += m). */
static inline size_t fx_message(const uint8_t *b, size_t len, size_t off)
{
    if (off + 16 > len) {
        assert_int_equal(off, len);
        return 0;
    }
    size_t mlen = fk__get16(b + off + 2);
    assert_true(mlen >= 16 && off + mlen <= len);
    return mlen;
}

/* Whether the message at m is in an exporter's domain, not in flowkit's
 * own (domain 0): what the pass-through wrote. */
static inline bool fx_passed(const uint8_t *m)
{
    return fk__get32(m + 12) != 0;
}

/* a and b, len bytes, must be the same; else the test fails naming what
 * and the first byte (and line) that differs. */
static inline void fx_same_bytes(const char *what, const void *a, const void *b, size_t len)
{
    if (memcmp(a, b, len) == 0)
        return;
    const uint8_t *x = a, *y = b;
    size_t at = 0, line = 1;
    for (; x[at] == y[at]; at++)
        line += x[at] == '\n';
    fail_msg("%s differ at byte %zu of %zu (line %zu)", what, at, len, line);
}

#endif
