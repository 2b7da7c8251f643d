/* Rank JSON: the row keys (uid, cmdline, EWMAs added after the first ones),
 * escaping, the connection drill-down (FK_RANK_JSON_CONNS: most bytes
 * first, cut at FK_RANK_JSON_CONNS_MAX), buffer bounds, errors. */
#include <flowkit/flowkit.h>
#include <float.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fk_test.h"

/* ---- a small JSON syntax checker (the output must parse) ---------------- */

static const char *ws(const char *p)
{
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
        p++;
    return p;
}

static const char *value(const char *p);

static const char *string(const char *p)
{
    if (*p++ != '"')
        return NULL;
    while (*p != '"') {
        unsigned char c = (unsigned char)*p;
        if (c < 0x20)
            return NULL; /* raw control characters are not JSON */
        if (c == '\\') {
            p++;
            if (*p == 'u') {
                for (int i = 1; i <= 4; i++)
                    if (!strchr("0123456789abcdefABCDEF", p[i]) || !p[i])
                        return NULL;
                p += 5;
                continue;
            }
            if (!*p || !strchr("\"\\/bfnrt", *p))
                return NULL;
        }
        p++;
    }
    return p + 1;
}

static const char *number(const char *p)
{
    const char *s = p;
    if (*p == '-')
        p++;
    if (*p < '0' || *p > '9')
        return NULL;
    while ((*p >= '0' && *p <= '9') || *p == '.' || *p == 'e' || *p == 'E' || *p == '+' ||
           *p == '-')
        p++;
    return p > s ? p : NULL;
}

static const char *value(const char *p)
{
    p = ws(p);
    if (*p == '{' || *p == '[') {
        char close = *p == '{' ? '}' : ']';
        bool obj = *p == '{';
        p = ws(p + 1);
        if (*p == close)
            return p + 1;
        for (;;) {
            if (obj) {
                p = string(ws(p));
                if (!p || *(p = ws(p)) != ':')
                    return NULL;
                p++;
            }
            p = value(p);
            if (!p)
                return NULL;
            p = ws(p);
            if (*p == close)
                return p + 1;
            if (*p != ',')
                return NULL;
            p++;
        }
    }
    if (*p == '"')
        return string(p);
    if (!strncmp(p, "null", 4))
        return p + 4;
    if (!strncmp(p, "true", 4))
        return p + 4;
    if (!strncmp(p, "false", 5))
        return p + 5;
    return number(p);
}

static void assert_valid_json(const char *text)
{
    const char *end = value(text);
    if (!end || *ws(end)) {
        print_error("not valid JSON near offset %ld: %.80s\n", end ? (long)(end - text) : -1L,
                    end ? end : text);
        fail();
    }
}

static size_t count_of(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

/* ---- snapshots built by hand ------------------------------------------- */

static fk_rank_conn make_conn(const char *l, uint16_t lp, const char *r, uint16_t rp, uint8_t proto,
                              uint64_t sent, uint64_t recv)
{
    fk_rank_conn c;
    memset(&c, 0, sizeof c);
    assert_int_equal(fk_addr_parse(l, &c.local), 0);
    assert_int_equal(fk_addr_parse(r, &c.remote), 0);
    c.local_port = lp;
    c.remote_port = rp;
    c.proto = proto;
    c.sent_bytes = sent;
    c.recv_bytes = recv;
    c.sent_packets = sent / 100;
    c.recv_packets = recv / 100;
    c.first_ns = INT64_C(1700000000123000000);
    c.last_ns = INT64_C(1700000005456000000);
    c.ifindex = 3;
    snprintf(c.dev, sizeof c.dev, "veth0");
    return c;
}

static fk_rank_row base_row(void)
{
    static const fk_rank_dev devs[1] = {{"eth0", 2, 1000, 2000}};
    fk_rank_row r;
    memset(&r, 0, sizeof r);
    r.pid = 4242;
    r.uid = 1000;
    r.name = "cu\"rl";
    r.user = "alice";
    r.exe = "/usr/bin/curl";
    r.cmdline = "curl -H \"X: a\\b\"\t\x01";
    r.cgroup = "";
    r.sent_bytes = 1000;
    r.recv_bytes = 2000;
    r.sent_packets = 10;
    r.recv_packets = 20;
    r.sent_rate = 100.25;
    r.recv_rate = 0.0;
    r.sent_ewma = 1234.56;
    r.recv_ewma = 7.04;
    r.dev = devs[0].name;
    r.dev_count = 1;
    r.devs = devs;
    return r;
}

static fk_rank_snapshot snap_of(const fk_rank_row *rows, size_t n)
{
    fk_rank_snapshot s;
    memset(&s, 0, sizeof s);
    s.time_ns = INT64_C(1700000006000000000);
    s.window_sec = 2;
    s.count = n;
    s.rows = rows;
    return s;
}

static void row_has_new_keys_after_the_old_ones(void **state)
{
    (void)state;
    fk_rank_row r = base_row();
    fk_rank_snapshot s = snap_of(&r, 1);
    char buf[FK_RANK_JSON_HEAD_MAX + FK_RANK_JSON_ROW_MAX];
    int n = fk_rank_snapshot_to_json(&s, buf, sizeof buf);
    assert_true(n > 0);
    assert_int_equal((size_t)n, strlen(buf));
    assert_string_equal(
        buf, "{\"type\":\"rank\",\"time\":\"2023-11-14T22:13:26.000Z\",\"window\":2,\"processes\":["
             "{\"pid\":4242,\"name\":\"cu\\\"rl\",\"user\":\"alice\",\"exe\":\"/usr/bin/curl\","
             "\"sent_bytes\":1000,\"recv_bytes\":2000,\"sent_rate\":100.2,\"recv_rate\":0.0,"
             "\"sent_packets\":10,\"recv_packets\":20,\"connections\":0,\"dev\":\"eth0\","
             "\"devs\":[{\"name\":\"eth0\",\"ifindex\":2,\"sent_bytes\":1000,\"recv_bytes\":2000}],"
             "\"uid\":1000,\"cmdline\":\"curl -H \\\"X: a\\\\b\\\"\\u0009\\u0001\","
             "\"sent_ewma\":1234.6,\"recv_ewma\":7.0}]}");
    assert_valid_json(buf);
    /* The _ex form with no flags writes the same. */
    char ex[sizeof buf];
    assert_int_equal(fk_rank_snapshot_to_json_ex(&s, 0, ex, sizeof ex), n);
    assert_string_equal(ex, buf);
}

static void unknown_uid_and_rates_are_null(void **state)
{
    (void)state;
    fk_rank_row r = base_row();
    r.uid = UINT32_MAX;
    r.sent_ewma = NAN;
    r.recv_ewma = INFINITY;
    r.sent_rate = 1e300; /* clamped: a row keeps a fixed bound */
    fk_rank_snapshot s = snap_of(&r, 1);
    char buf[FK_RANK_JSON_HEAD_MAX + FK_RANK_JSON_ROW_MAX];
    assert_true(fk_rank_snapshot_to_json(&s, buf, sizeof buf) > 0);
    assert_valid_json(buf);
    assert_non_null(strstr(buf, ",\"uid\":null,\"cmdline\":"));
    assert_non_null(strstr(buf, ",\"sent_ewma\":null,\"recv_ewma\":null}"));
    assert_non_null(strstr(buf, ",\"sent_rate\":10000000000000000000.0,"));
    /* uid 0 is root, not unknown. */
    r.uid = 0;
    assert_true(fk_rank_snapshot_to_json(&s, buf, sizeof buf) > 0);
    assert_non_null(strstr(buf, ",\"uid\":0,"));
}

static void conns_most_bytes_first_and_cut(void **state)
{
    (void)state;
    enum { N = FK_RANK_JSON_CONNS_MAX + 4 };
    fk_rank_conn cs[N];
    /* Bytes (k * 7) % N * 1000 + 500: distinct, not in list order. */
    for (int k = 0; k < N; k++) {
        uint64_t b = (uint64_t)((k * 7) % N) * 1000 + 500;
        cs[k] = make_conn("10.213.1.1", (uint16_t)(40000 + k), "10.213.1.2", 80, 6, b, b / 2);
    }
    cs[3] = make_conn("fd00:213::1", 5353, "fd00:213::2", 53, 17, 999999, 1);
    /* Equal bytes: snapshot order decides. */
    cs[5] = make_conn("10.213.1.1", 50005, "10.213.1.2", 81, 6, 888888, 0);
    cs[9] = make_conn("10.213.1.1", 50009, "10.213.1.2", 81, 6, 888888, 0);
    fk_rank_row rows[2] = {base_row(), base_row()};
    rows[0].conns = cs;
    rows[0].conn_count = N;
    rows[1].pid = 7;
    rows[1].conns = cs;
    rows[1].conn_count = 2; /* only two: both listed */
    fk_rank_snapshot s = snap_of(rows, 2);
    size_t size = fk_rank_snapshot_json_size(&s, FK_RANK_JSON_CONNS);
    assert_int_equal(size, FK_RANK_JSON_HEAD_MAX + 2 * FK_RANK_JSON_ROW_MAX +
                               (FK_RANK_JSON_CONNS_MAX + 2) * FK_RANK_JSON_CONN_MAX);
    char *buf = malloc(size);
    assert_non_null(buf);
    int n = fk_rank_snapshot_to_json_ex(&s, FK_RANK_JSON_CONNS, buf, size);
    assert_true(n > 0);
    assert_valid_json(buf);
    /* The full count stays visible; the list is cut. */
    assert_int_equal(count_of(buf, "\"connections\":20,"), 1);
    assert_int_equal(count_of(buf, "{\"proto\":"), FK_RANK_JSON_CONNS_MAX + 2);
    const char *row0 = strstr(buf, "{\"pid\":4242");
    const char *row1 = strstr(buf, "{\"pid\":7,");
    assert_non_null(row0);
    assert_non_null(row1);
    /* The biggest first, exactly as documented. */
    const char *c0 = strstr(row0, ",\"conns\":[{");
    assert_non_null(c0);
    const char *want0 =
        ",\"conns\":[{\"proto\":\"udp\",\"local\":\"fd00:213::1\",\"local_port\":5353,"
        "\"remote\":\"fd00:213::2\",\"remote_port\":53,\"sent_bytes\":999999,\"recv_bytes\":1,"
        "\"sent_packets\":9999,\"recv_packets\":0,\"first\":\"2023-11-14T22:13:20.123Z\","
        "\"last\":\"2023-11-14T22:13:25.456Z\",\"dev\":\"veth0\",\"state\":null},{\"proto\":"
        "\"tcp\","
        "\"local\":\"10.213.1.1\",\"local_port\":50005,";
    assert_memory_equal(c0, want0, strlen(want0));
    /* Then 50009 (same bytes, later), then descending bytes. */
    const char *p50009 = strstr(row0, "\"local_port\":50009,");
    assert_non_null(p50009);
    uint64_t prev = UINT64_MAX;
    size_t listed = 0;
    for (const char *p = strstr(c0, ",\"sent_bytes\":"); p && p < row1;
         p = strstr(p + 1, ",\"sent_bytes\":")) {
        const char *q = p + strlen(",\"sent_bytes\":");
        uint64_t b = strtoull(q, NULL, 10);
        const char *rb = strstr(q, "\"recv_bytes\":") + strlen("\"recv_bytes\":");
        b += strtoull(rb, NULL, 10);
        assert_true(b <= prev);
        prev = b;
        listed++;
    }
    assert_int_equal(listed, FK_RANK_JSON_CONNS_MAX);
    /* Left out: the four smallest of the others (500, 2500, 4500, 5500
     * bytes sent; 1500, 3500 and 15500 were replaced by cs[9], cs[3], cs[5]). */
    for (int k = 0; k < N; k++) {
        uint64_t b = (uint64_t)((k * 7) % N) * 1000 + 500;
        char key[64];
        snprintf(key, sizeof key, "\"local_port\":%d,", 40000 + k);
        const char *at = strstr(row0, key);
        bool shown = at && at < row1;
        if (k == 3 || k == 5 || k == 9)
            continue;
        assert_int_equal(shown, b >= 6500);
    }
    /* Row 1: its two connections, the bigger first (cs[1] 7500 > cs[0] 500). */
    assert_non_null(strstr(row1, ",\"conns\":[{\"proto\":\"tcp\",\"local\":\"10.213.1.1\","
                                 "\"local_port\":40001,"));
    assert_int_equal(count_of(row1, "{\"proto\":"), 2);
    /* Without the flag: no "conns" at all, same count. */
    assert_true(fk_rank_snapshot_to_json_ex(&s, 0, buf, size) > 0);
    assert_null(strstr(buf, "\"conns\""));
    assert_int_equal(count_of(buf, "\"connections\":20,"), 1);
    free(buf);
}

static void buffer_too_small_and_bad_arguments(void **state)
{
    (void)state;
    fk_rank_conn cs[1] = {make_conn("10.213.1.1", 1, "10.213.1.2", 2, 6, 10, 20)};
    fk_rank_row r = base_row();
    r.conns = cs;
    r.conn_count = 1;
    fk_rank_snapshot s = snap_of(&r, 1);
    char buf[FK_RANK_JSON_HEAD_MAX + FK_RANK_JSON_ROW_MAX + FK_RANK_JSON_CONN_MAX];
    int n = fk_rank_snapshot_to_json_ex(&s, FK_RANK_JSON_CONNS, buf, sizeof buf);
    assert_true(n > 0);
    /* Exactly enough (text + NUL) works; one byte less is FK_ENOSPACE. */
    char *tight = malloc((size_t)n + 1);
    assert_non_null(tight);
    assert_int_equal(fk_rank_snapshot_to_json_ex(&s, FK_RANK_JSON_CONNS, tight, (size_t)n + 1), n);
    assert_string_equal(tight, buf);
    assert_int_equal(fk_rank_snapshot_to_json_ex(&s, FK_RANK_JSON_CONNS, tight, (size_t)n),
                     FK_ENOSPACE);
    assert_int_equal(fk_error_last()->code, FK_ENOSPACE);
    assert_int_equal(fk_rank_snapshot_to_json(&s, tight, 10), FK_ENOSPACE);
    free(tight);
    assert_int_equal(fk_rank_snapshot_to_json_ex(NULL, 0, buf, sizeof buf), FK_EINVAL);
    assert_int_equal(fk_rank_snapshot_to_json_ex(&s, 0, NULL, sizeof buf), FK_EINVAL);
    assert_int_equal(fk_rank_snapshot_to_json_ex(&s, 0, buf, 0), FK_EINVAL);
    assert_int_equal(fk_rank_snapshot_to_json_ex(&s, 0x80, buf, sizeof buf), FK_EINVAL);
    assert_int_equal(fk_rank_snapshot_json_size(NULL, 0), FK_RANK_JSON_HEAD_MAX);
    /* No rows: an empty list, in the size given for it (widest window). */
    fk_rank_snapshot empty = snap_of(NULL, 0);
    empty.window_sec = UINT32_MAX;
    empty.time_ns = INT64_MIN;
    size_t esize = fk_rank_snapshot_json_size(&empty, FK_RANK_JSON_CONNS);
    assert_int_equal(esize, FK_RANK_JSON_HEAD_MAX);
    int en = fk_rank_snapshot_to_json_ex(&empty, FK_RANK_JSON_CONNS, buf, esize);
    assert_true(en > 0 && (size_t)en < esize);
    assert_non_null(strstr(buf, ",\"window\":4294967295,\"processes\":[]}"));
    assert_valid_json(buf);
}

/* The worst row: every text field longer than its cut and made only of a
 * byte written as a six-byte \u00XX escape, every number at its widest,
 * more devices than are listed, 16-byte names without a NUL. */
/* FK_RANK_JSON_HISTORY: the per-second history, worst-case numbers, fits
 * the size fk_rank_snapshot_json_size() gives; a row without history says
 * null. */
static void history_fits_and_reads_back(void **state)
{
    (void)state;
    fk_rank_second h[3] = {{INT64_MIN, UINT64_MAX, UINT64_MAX},
                           {INT64_MIN + 1, 0, UINT64_MAX},
                           {INT64_MIN + 2, 12, 0}};
    fk_rank_row rows[2] = {base_row(), base_row()};
    rows[0].history = h;
    rows[0].history_count = 3;
    rows[1].pid = 7;
    fk_rank_snapshot s = snap_of(rows, 2);
    size_t size = fk_rank_snapshot_json_size(&s, FK_RANK_JSON_HISTORY);
    assert_int_equal(size, FK_RANK_JSON_HEAD_MAX + 2 * FK_RANK_JSON_ROW_MAX +
                               (3 + 2 + 2) * FK_RANK_JSON_SECOND_MAX);
    char *buf = malloc(size);
    assert_non_null(buf);
    assert_true(fk_rank_snapshot_to_json_ex(&s, FK_RANK_JSON_HISTORY, buf, size) > 0);
    assert_valid_json(buf);
    assert_non_null(strstr(buf, ",\"history\":{\"start\":-9223372036854775808,\"sent\":["
                                "18446744073709551615,0,12],\"recv\":[18446744073709551615,"
                                "18446744073709551615,0]}}"));
    assert_non_null(strstr(buf, ",\"history\":null}"));
    free(buf);
}

static void worst_case_row_fits_the_bound(void **state)
{
    (void)state;
    enum { LONG = 3 * FK_RANK_JSON_TEXT_MAX };
    char *text = malloc(LONG + 1);
    assert_non_null(text);
    memset(text, 0x01, LONG);
    text[LONG] = '\0';
    fk_rank_dev devs[FK_RANK_JSON_DEVS_MAX + 3];
    for (size_t d = 0; d < sizeof devs / sizeof devs[0]; d++) {
        memset(devs[d].name, 0x1f, sizeof devs[d].name); /* no NUL */
        devs[d].ifindex = UINT32_MAX;
        devs[d].sent_bytes = UINT64_MAX;
        devs[d].recv_bytes = UINT64_MAX;
    }
    fk_rank_conn cs[FK_RANK_JSON_CONNS_MAX + 2];
    for (size_t k = 0; k < sizeof cs / sizeof cs[0]; k++) {
        cs[k] = make_conn("1111:2222:3333:4444:5555:6666:7777:8888", 65535,
                          "aaaa:bbbb:cccc:dddd:eeee:ffff:1234:5678", 65535, 255, UINT64_MAX,
                          UINT64_MAX);
        cs[k].sent_packets = cs[k].recv_packets = UINT64_MAX;
        cs[k].first_ns = INT64_MIN;
        cs[k].last_ns = INT64_MAX;
        memset(cs[k].dev, 0x7f, sizeof cs[k].dev); /* DEL, escaped; no NUL */
    }
    fk_rank_row rows[3];
    for (int i = 0; i < 3; i++) {
        fk_rank_row *r = &rows[i];
        memset(r, 0, sizeof *r);
        r->pid = UINT32_MAX;
        r->uid = UINT32_MAX - 1;
        r->name = r->user = r->exe = r->cmdline = r->cgroup = text;
        r->sent_bytes = r->recv_bytes = r->sent_packets = r->recv_packets = UINT64_MAX;
        r->sent_rate = r->recv_rate = -1e300;
        r->sent_ewma = r->recv_ewma = -DBL_MAX;
        r->dev = devs[0].name;
        r->dev_count = sizeof devs / sizeof devs[0];
        r->devs = devs;
        r->conns = cs;
        r->conn_count = sizeof cs / sizeof cs[0];
    }
    /* Rows alone: within FK_RANK_JSON_ROW_MAX each. */
    fk_rank_snapshot one = snap_of(rows, 1);
    size_t big = FK_RANK_JSON_HEAD_MAX + 3 * FK_RANK_JSON_ROW_MAX +
                 3 * FK_RANK_JSON_CONNS_MAX * FK_RANK_JSON_CONN_MAX;
    char *buf = malloc(big);
    assert_non_null(buf);
    int n1 = fk_rank_snapshot_to_json(&one, buf, big);
    assert_true(n1 > 0);
    assert_valid_json(buf);
    /* Every text byte written really is the worst escape, to its cut. */
    size_t escaped = count_of(buf, "\\u0001");
    assert_int_equal(escaped, 2 * FK_RANK_JSON_NAME_MAX + 2 * FK_RANK_JSON_TEXT_MAX);
    assert_int_equal(count_of(buf, "\\u001f"), (FK_RANK_JSON_DEVS_MAX + 1) * FK_RANK_DEV_NAME_MAX);
    assert_int_equal(count_of(buf, "{\"name\":"), FK_RANK_JSON_DEVS_MAX);
    size_t row_len = (size_t)n1 - strlen("{\"type\":\"rank\",\"time\":\"2023-11-14T22:13:26.000Z\","
                                         "\"window\":2,\"processes\":[]}");
    print_message("worst row: %zu bytes (bound %d)\n", row_len, FK_RANK_JSON_ROW_MAX);
    assert_true(row_len <= FK_RANK_JSON_ROW_MAX);
    /* The old bound (12288) was too small for this row. */
    assert_true(row_len > 12288);
    fk_rank_snapshot three = snap_of(rows, 3);
    assert_int_equal(fk_rank_snapshot_json_size(&three, 0),
                     FK_RANK_JSON_HEAD_MAX + 3 * FK_RANK_JSON_ROW_MAX);
    int n3 = fk_rank_snapshot_to_json(&three, buf, fk_rank_snapshot_json_size(&three, 0));
    assert_true(n3 > 0);
    assert_valid_json(buf);
    /* With connections: within FK_RANK_JSON_CONN_MAX each. */
    size_t need = fk_rank_snapshot_json_size(&three, FK_RANK_JSON_CONNS);
    assert_int_equal(need, big);
    int nc = fk_rank_snapshot_to_json_ex(&three, FK_RANK_JSON_CONNS, buf, need);
    assert_true(nc > 0);
    assert_valid_json(buf);
    assert_int_equal(count_of(buf, "{\"proto\":255,"), 3 * FK_RANK_JSON_CONNS_MAX);
    assert_int_equal(count_of(buf, "\\u007f"), 3 * FK_RANK_JSON_CONNS_MAX * FK_RANK_DEV_NAME_MAX);
    size_t per_conn = (size_t)(nc - n3) / (3 * FK_RANK_JSON_CONNS_MAX);
    print_message("worst connection: %zu bytes (bound %d)\n", per_conn, FK_RANK_JSON_CONN_MAX);
    assert_true(per_conn <= FK_RANK_JSON_CONN_MAX);
    free(buf);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(row_has_new_keys_after_the_old_ones),
        cmocka_unit_test(unknown_uid_and_rates_are_null),
        cmocka_unit_test(conns_most_bytes_first_and_cut),
        cmocka_unit_test(buffer_too_small_and_bad_arguments),
        cmocka_unit_test(worst_case_row_fits_the_bound),
        cmocka_unit_test(history_fits_and_reads_back),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
