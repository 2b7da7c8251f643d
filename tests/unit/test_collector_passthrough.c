/* The ipfix: output's pass-through (data sets stored as they came) keeps,
 * per exporter domain, which of the exporter's templates the file holds;
 * it finds a set's domain and template through small caches in front of
 * its hash maps. The exports here make those caches earn their keep and
 * go stale if they could: templates withdrawn (one id, or every data
 * template of the domain) and redefined with other fields between the
 * sets of one message and across messages, ids that share a cache slot,
 * more templates per domain than the map holds before it grows (its
 * values move), exporters that restart (sequence reset: their templates
 * go), several exporters and domains interleaved, and files rotated every
 * few messages. Every file written, read back on its own by a collector
 * as flowkit-ipfix reads files, must give byte for byte the JSON lines of
 * the flows a collector decoding the same exports delivers (the general
 * path), and the pass-through collector the same counters. */
#include <flowkit/flowkit.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "passthrough_fixture.h"

typedef struct out {
    char *text;
    size_t len, cap;
} out;

static void on_flow(const fk_flow *f, void *user)
{
    out *o = user;
    char line[FK_FLOW_JSON_MAX + 1];
    int n = fk_flow_to_json(f, line, FK_FLOW_JSON_MAX);
    assert_true(n > 0);
    line[n++] = '\n';
    if (o->len + (size_t)n + 1 > o->cap) {
        o->cap = (o->len + (size_t)n + 1) * 2;
        o->text = realloc(o->text, o->cap);
        assert_non_null(o->text);
    }
    memcpy(o->text + o->len, line, (size_t)n);
    o->len += (size_t)n;
    o->text[o->len] = '\0';
}

/* Elements a pass-through template may hold besides its addresses and end
 * time, with the lengths an exporter may give them. */
static const struct {
    uint32_t pen;
    uint16_t id, len[2];
} extra[] = {
    {0, 7, {2, 2}},   {0, 11, {2, 2}}, {0, 4, {1, 1}},  {0, 1, {8, 4}},    {0, 2, {8, 4}},
    {0, 152, {8, 8}}, {0, 6, {1, 2}},  {0, 10, {4, 2}}, {0, 14, {4, 2}},   {0, 5, {1, 1}},
    {0, 58, {2, 2}},  {0, 61, {1, 1}}, {0, 16, {4, 2}}, {9999, 1, {3, 5}},
};
#define NEXTRA (sizeof extra / sizeof extra[0])

typedef struct tmpl {
    uint16_t n;
    uint32_t pen[20];
    uint16_t id[20], len[20];
} tmpl;

/* Both addresses of one family, an absolute end time, then a few extra
 * elements, all in a random order. */
static void draw(tmpl *t)
{
    bool v6 = rand() % 3 == 0;
    t->n = 0;
    t->id[t->n] = v6 ? 27 : 8, t->len[t->n] = v6 ? 16 : 4, t->pen[t->n++] = 0;
    t->id[t->n] = v6 ? 28 : 12, t->len[t->n] = v6 ? 16 : 4, t->pen[t->n++] = 0;
    bool ms = rand() % 2;
    t->id[t->n] = ms ? 153 : 151, t->len[t->n] = ms ? 8 : 4, t->pen[t->n++] = 0;
    int k = rand() % 7;
    for (int i = 0; i < k; i++) {
        size_t e = (size_t)rand() % NEXTRA;
        t->pen[t->n] = extra[e].pen;
        t->id[t->n] = extra[e].id;
        t->len[t->n++] = extra[e].len[rand() % 2];
    }
    for (uint16_t i = t->n - 1; i > 0; i--) {
        uint16_t j = (uint16_t)(rand() % (i + 1));
        uint32_t pen = t->pen[i];
        uint16_t id = t->id[i], len = t->len[i];
        t->pen[i] = t->pen[j], t->id[i] = t->id[j], t->len[i] = t->len[j];
        t->pen[j] = pen, t->id[j] = id, t->len[j] = len;
    }
}

/* Template ids: 256.. and multiples of 1024 (as softflowd numbers them),
 * more than a domain's map holds before it first grows (12). */
static const uint16_t ids[] = {256, 257, 258, 259, 260, 261,  262,  263,  264,  265, 266,
                               267, 268, 269, 270, 271, 1024, 2048, 3072, 4096, 5120};
#define NIDS (sizeof ids / sizeof ids[0])

/* An exporter domain as the test drives it. */
typedef struct dom {
    uint16_t port; /* its transport session */
    uint32_t odid;
    uint32_t seq; /* data records sent */
    uint32_t export_secs;
    bool defined[NIDS];
    tmpl t[NIDS];
} dom;

static uint8_t *template_set(uint8_t *p, const tmpl *t, uint16_t tid)
{
    uint8_t *set = p;
    p = fk__put16(p, 2);
    p += 2;
    p = fk__put16(p, tid);
    p = fk__put16(p, t->n);
    for (uint16_t i = 0; i < t->n; i++) {
        p = fk__put16(p, t->id[i] | (t->pen[i] ? 0x8000u : 0));
        p = fk__put16(p, t->len[i]);
        if (t->pen[i])
            p = fk__put32(p, t->pen[i]);
    }
    fk__put16(set + 2, (unsigned)(p - set));
    return p;
}

static uint8_t *data_set(uint8_t *p, const dom *d, const tmpl *t, uint16_t tid, int records)
{
    uint8_t *set = p;
    p = fk__put16(p, tid);
    p += 2;
    for (int r = 0; r < records; r++)
        for (uint16_t i = 0; i < t->n; i++) {
            if (t->id[i] == 151 || t->id[i] == 152 || t->id[i] == 153) {
                uint64_t secs = d->export_secs - (uint64_t)(rand() % 30) - (t->id[i] == 152) * 5;
                if (t->len[i] == 4)
                    p = fk__put32(p, (uint32_t)secs);
                else
                    p = fk__put32(fk__put32(p, (uint32_t)(secs * 1000 >> 32)),
                                  (uint32_t)(secs * 1000 + (uint64_t)(rand() % 1000)));
                continue;
            }
            for (uint16_t b = 0; b < t->len[i]; b++)
                *p++ = (uint8_t)(rand() % 4 ? rand() : 0);
        }
    fk__put16(set + 2, (unsigned)(p - set));
    return p;
}

/* One message of domain d: a random run of definitions, withdrawals and
 * data sets (data only for what is defined at that point). Returns its
 * length; *records counts its data records. */
static size_t message(uint8_t *buf, dom *d, uint32_t *records)
{
    uint8_t *p = buf + 16;
    uint32_t n = 0;
    int sets = 1 + rand() % 10;
    for (int s = 0; s < sets && p - buf < 60000; s++) {
        size_t i = (size_t)rand() % NIDS;
        int what = rand() % 12;
        if (what == 0) {
            p = fx_withdrawal(p, ids[i]);
            d->defined[i] = false;
        } else if (what == 1 && rand() % 8 == 0) {
            p = fx_withdrawal(p, 2);
            memset(d->defined, 0, sizeof d->defined);
        } else if (what <= 3 || !d->defined[i]) {
            if (!d->defined[i] || rand() % 2)
                draw(&d->t[i]); /* a new layout, or the same one again */
            p = template_set(p, &d->t[i], ids[i]);
            d->defined[i] = true;
        } else {
            int r = 1 + rand() % 6;
            p = data_set(p, d, &d->t[i], ids[i], r);
            n += (uint32_t)r;
        }
    }
    size_t len = (size_t)(p - buf);
    fx_header(buf, len, d->export_secs, d->seq, d->odid);
    d->seq += n;
    *records = n;
    return len;
}

static fk_collector *make(const char *path, int64_t rotate, out *flows)
{
    fk_collector *h = fx_collector(path, rotate);
    if (flows)
        fk_collector_set_callback(h, on_flow, flows);
    assert_int_equal(fk_collector_activate(h), 0);
    return h;
}

/* Read an ipfix: file back as flowkit-ipfix does (one collector per file:
 * each file stands alone), its flows appended to o. Returns the number of
 * its messages in an exporter's domain (> 0: what the pass-through
 * wrote). */
static size_t read_back(const char *path, out *o)
{
    size_t len;
    uint8_t *b = fk_test_read_file(path, &len);
    assert_non_null(b);
    fk_collector *h;
    assert_int_equal(fk_collector_create(&h), 0);
    assert_int_equal(fk_collector_set_int(h, FK_COL_TEMPLATE_TIMEOUT, 0), 0);
    assert_int_equal(fk_collector_set_int(h, FK_COL_SESSION_TIMEOUT, 0), 0);
    assert_int_equal(fk_collector_set_int(h, FK_COL_EXPORT_TOLERANCE, 0), 0);
    fk_collector_set_callback(h, on_flow, o);
    assert_int_equal(fk_collector_activate(h), 0);
    fk_addr reader;
    fk_addr_parse("127.0.0.1", &reader);
    size_t passed = 0;
    for (size_t off = 0, m; (m = fx_message(b, len, off)) > 0; off += m) {
        passed += fx_passed(b + off);
        assert_true(fk_collector_feed(h, &reader, 1, b + off, m) >= 0);
    }
    fk_collector_stats st;
    fk_collector_get_stats(h, &st, sizeof st);
    assert_int_equal(st.malformed, 0);
    assert_int_equal(st.pending_sets, 0); /* every template ahead of its data */
    fk_collector_destroy(h);
    free(b);
    return passed;
}

static void run(unsigned seed, int64_t rotate)
{
    char path[64];
    snprintf(path, sizeof path, "passthrough_%u.ipfix", seed);
    fx_remove_outputs(path);
    out live = {0}, file = {0};
    fk_collector *pt = make(path, rotate, NULL), *dec = make(NULL, 0, &live);
    fk_addr exporters[2];
    fk_addr_parse("192.0.2.7", &exporters[0]);
    fk_addr_parse("2001:db8::9", &exporters[1]);
    /* Two exporters x two ports (four transport sessions) x two domains. */
    static dom doms[8];
    memset(doms, 0, sizeof doms);
    for (size_t i = 0; i < 8; i++) {
        doms[i].port = (uint16_t)(4000 + i / 2 % 2);
        doms[i].odid = (uint32_t)(i / 4);
        doms[i].export_secs = 1795435200u;
    }
    srand(seed);
    static uint8_t buf[65536];
    uint64_t records = 0, restarts = 0;
    for (int round = 0; round < 3000; round++) {
        size_t di = (size_t)rand() % 8;
        dom *d = &doms[di];
        const fk_addr *exporter = &exporters[di % 2];
        d->export_secs += (uint32_t)(rand() % 2);
        if (rand() % 150 == 0 && d->seq > 100) { /* the exporter restarts */
            d->seq = 0;
            d->export_secs += 2;
            memset(d->defined, 0, sizeof d->defined);
            restarts++;
        }
        uint32_t n;
        size_t len = message(buf, d, &n);
        fx_feed_both(pt, dec, exporter, d->port, buf, len, n);
        records += n;
    }
    fk_collector_stats sa = fx_same_stats(pt, dec);
    fk_collector_destroy(pt); /* writes the file out */
    fk_collector_destroy(dec);
    assert_true(records > 20000);
    assert_int_equal(sa.records, records);
    assert_true(sa.templates_withdrawn > 500);
    assert_true(sa.exporter_restarts > 0 && sa.exporter_restarts <= restarts);

    size_t nrot;
    fk_test_rotated *rot = fx_rotated(path, &nrot);
    assert_true(rotate ? nrot > 20 : nrot == 0);
    size_t passed = 0;
    for (size_t i = 0; i < nrot; i++) {
        passed += read_back(rot[i].name, &file);
        remove(rot[i].name);
    }
    free(rot);
    passed += read_back(path, &file);
    remove(path);
    assert_true(passed > 1000); /* the sets went through, not the decoder */
    assert_int_equal(file.len, live.len);
    fx_same_bytes("the flows of the files and the live ones", file.text, live.text, live.len);
    free(file.text);
    free(live.text);
}

static void redefined_in_one_file(void **state)
{
    (void)state;
    run(18, 0);
}

static void redefined_across_rotations(void **state)
{
    (void)state;
    run(19, 40000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(redefined_in_one_file),
        cmocka_unit_test(redefined_across_rotations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
