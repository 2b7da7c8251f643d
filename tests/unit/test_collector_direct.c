/* The collector's direct decoding (parameter direct_decode): data sets of
 * plain fixed-length templates turned into flows straight from the
 * compiled template must give exactly the flows, JSON lines and counters
 * of the decoder's record walk; and JSON lines outputs written straight
 * from the records by the writer compiled per template (recplan.h) must be
 * byte for byte the lines of the flows. Two collectors, one with it and one
 * without, are fed the same random exports: templates drawn from the
 * elements the flow reads (both address families, reduced-size integers,
 * every time form, reverse and enterprise elements, unknown and
 * variable-length elements, repeated keys, padding), options data with a
 * sampling interval or the exporter's boot time, and corrupted sets. */
#include <flowkit/flowkit.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/bytes.h"
#include "fk_test.h"

typedef struct elem {
    uint32_t pen;
    uint16_t id;
    uint16_t len[4]; /* lengths to draw from (0 = none) */
} elem;

/* Elements of the flow (and around it), with the lengths an exporter may
 * use: reduced-size encodings, odd ones the plan refuses, variable length. */
static const elem pool[] = {
    {0, 8, {4}},           {0, 12, {4}},         {0, 27, {16}},    {0, 28, {16}},
    {0, 7, {2, 1}},        {0, 11, {2, 1}},      {0, 4, {1}},      {0, 1, {8, 4, 2, 1}},
    {0, 2, {8, 4, 1}},     {0, 85, {8, 4}},      {0, 86, {8, 4}},  {0, 6, {1, 2}},
    {0, 10, {2, 4}},       {0, 14, {2, 4}},      {0, 150, {4}},    {0, 151, {4}},
    {0, 152, {8}},         {0, 153, {8}},        {0, 154, {8}},    {0, 155, {8}},
    {0, 156, {8}},         {0, 157, {8}},        {0, 158, {4}},    {0, 159, {4}},
    {0, 21, {4}},          {0, 22, {4}},         {0, 160, {8}},    {0, 136, {1}},
    {0, 61, {1}},          {0, 32, {2}},         {0, 139, {2}},    {0, 58, {2}},
    {0, 5, {1}},           {0, 16, {2, 4}},      {0, 17, {4}},     {0, 15, {4}},
    {0, 62, {16}},         {0, 18, {4}},         {0, 63, {16}},    {0, 351, {8}},
    {0, 305, {4}},         {0, 34, {4}},         {0, 60, {1}},     {0, 999, {5, 1}},
    {0, 82, {0xffff, 8}},  {0, 130, {4}},        {0, 149, {4}},    {29305, 1, {8, 4}},
    {29305, 2, {8}},       {29305, 6, {1}},      {29305, 32, {2}}, {9999, 1, {3}},
    {32473, 1, {4}},       {32473, 2, {0xffff}}, {0, 176, {1}},    {0, 177, {1}},
    {32473, 30, {0xffff}}, /* metadataTags */
};
#define NPOOL (sizeof pool / sizeof pool[0])

typedef struct out {
    char *text;
    size_t len, cap;
} out;

static void append(out *o, const char *s, size_t n)
{
    if (o->len + n + 1 > o->cap) {
        o->cap = (o->len + n + 1) * 2;
        o->text = realloc(o->text, o->cap);
        assert_non_null(o->text);
    }
    memcpy(o->text + o->len, s, n);
    o->len += n;
    o->text[o->len] = '\0';
}

/* The JSON line plus the fields no text form shows. */
static void on_flow(const fk_flow *f, void *user)
{
    char line[FK_FLOW_JSON_MAX + 128];
    int n = fk_flow_to_json(f, line, FK_FLOW_JSON_MAX);
    assert_true(n > 0);
    n += snprintf(line + n, sizeof line - (size_t)n, " tos=%u as=%u/%u icmp=%u\n", f->tos,
                  f->src_as, f->dst_as, f->rev_icmp);
    append(user, line, (size_t)n);
}

typedef struct tmpl {
    uint16_t n;
    uint32_t pen[24];
    uint16_t id[24], len[24];
} tmpl;

static void draw_template(tmpl *t)
{
    t->n = (uint16_t)(1 + rand() % 14);
    for (uint16_t i = 0; i < t->n; i++) {
        /* the flow key first, mostly, so that most templates are flows */
        const elem *e = &pool[i < 2 && rand() % 4 ? (size_t)(rand() % 4) : (size_t)rand() % NPOOL];
        int k = 0;
        while (k < 4 && e->len[k])
            k++;
        t->pen[i] = e->pen;
        t->id[i] = e->id;
        t->len[i] = e->len[rand() % k];
    }
}

/* Indexes in pool of the elements a record plan takes (one address
 * family per template, no sysUpTime, boot time, next hop, origin,
 * process or variable-length element). */
static const uint8_t plain[] = {4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15, 16, 17,
                                18, 19, 20, 21, 22, 23, 27, 28, 29, 30, 31, 32, 33, 34,
                                39, 40, 41, 42, 43, 47, 48, 49, 50, 51, 54, 55};

/* A template a record plan mostly takes: one family's addresses, then
 * plain elements in any order (repeats make some refused still). */
static void draw_plain(tmpl *t)
{
    int v6 = rand() % 2;
    t->n = (uint16_t)(2 + rand() % 14);
    for (uint16_t i = 0; i < t->n; i++) {
        const elem *e = i < 2 ? &pool[2 * v6 + i] : &pool[plain[rand() % (int)sizeof plain]];
        int k = 0;
        while (k < 4 && e->len[k])
            k++;
        t->pen[i] = e->pen;
        t->id[i] = e->id;
        t->len[i] = e->len[rand() % k];
    }
}

/* A message: header, optionally a template set, one data set of
 * `records` records (random values, zeros often), padding. */
static size_t build(uint8_t *buf, const tmpl *t, uint16_t tid, bool with_template, int records,
                    uint32_t seq, int padding)
{
    uint8_t *p = buf + 16;
    if (with_template) {
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
    }
    uint8_t *set = p;
    p = fk__put16(p, tid);
    p += 2;
    for (int r = 0; r < records; r++)
        for (uint16_t i = 0; i < t->n; i++) {
            size_t n = t->len[i];
            if (n == 0xffff) {
                n = (size_t)(rand() % 6);
                *p++ = (uint8_t)n;
            }
            int zero = rand() % 5 == 0;
            for (size_t b = 0; b < n; b++)
                *p++ = zero ? 0 : (uint8_t)(rand() % 3 ? rand() : 0);
        }
    for (int i = 0; i < padding; i++)
        *p++ = (uint8_t)(rand() % 8 == 0 ? 1 : 0); /* now and then not padding */
    fk__put16(set + 2, (unsigned)(p - set));
    size_t len = (size_t)(p - buf);
    fk__put16(buf, 10);
    fk__put16(buf + 2, (unsigned)len);
    fk__put32(buf + 4, 1795435200u + (uint32_t)(rand() % 3));
    fk__put32(buf + 8, seq);
    fk__put32(buf + 12, (uint32_t)(rand() % 2));
    return len;
}

/* An options record: sampling interval 1 in N for the domain. */
static size_t build_sampling(uint8_t *buf, uint32_t odid, uint32_t interval)
{
    uint8_t *p = buf + 16;
    p = fk__put16(p, 3);
    p = fk__put16(p, 4 + 6 + 8);
    p = fk__put16(p, 300);
    p = fk__put16(p, 2);
    p = fk__put16(p, 1);
    p = fk__put16(p, 149); /* scope: observationDomainId */
    p = fk__put16(p, 4);
    p = fk__put16(p, 305); /* samplingPacketInterval */
    p = fk__put16(p, 4);
    p = fk__put16(p, 300);
    p = fk__put16(p, 12);
    p = fk__put32(p, odid);
    p = fk__put32(p, interval);
    size_t len = (size_t)(p - buf);
    fk__put16(buf, 10);
    fk__put16(buf + 2, (unsigned)len);
    fk__put32(buf + 4, 1795435200u);
    fk__put32(buf + 8, 0);
    fk__put32(buf + 12, odid);
    return len;
}

/* An options record: the exporter's boot time (sysUpTime times count
 * from it). */
static size_t build_boot(uint8_t *buf, uint32_t odid, uint64_t boot_ms)
{
    uint8_t *p = buf + 16;
    p = fk__put16(p, 3);
    p = fk__put16(p, 4 + 6 + 8);
    p = fk__put16(p, 301);
    p = fk__put16(p, 2);
    p = fk__put16(p, 1);
    p = fk__put16(p, 149); /* scope: observationDomainId */
    p = fk__put16(p, 4);
    p = fk__put16(p, 160); /* systemInitTimeMilliseconds */
    p = fk__put16(p, 8);
    p = fk__put16(p, 301);
    p = fk__put16(p, 16);
    p = fk__put32(p, odid);
    p = fk__put32(p, (uint32_t)(boot_ms >> 32));
    p = fk__put32(p, (uint32_t)boot_ms);
    size_t len = (size_t)(p - buf);
    fk__put16(buf, 10);
    fk__put16(buf + 2, (unsigned)len);
    fk__put32(buf + 4, 1795435200u);
    fk__put32(buf + 8, 0);
    fk__put32(buf + 12, odid);
    return len;
}

/* An options record: the name of interface ifindex (interfaceName, 82,
 * 8 octets), scoped by ingressInterface (10). */
static size_t build_ifname(uint8_t *buf, uint32_t odid, uint32_t ifindex)
{
    uint8_t *p = buf + 16;
    p = fk__put16(p, 3);
    p = fk__put16(p, 4 + 6 + 8);
    p = fk__put16(p, 302);
    p = fk__put16(p, 2);
    p = fk__put16(p, 1);
    p = fk__put16(p, 10); /* scope: ingressInterface */
    p = fk__put16(p, 4);
    p = fk__put16(p, 82); /* interfaceName */
    p = fk__put16(p, 8);
    p = fk__put16(p, 302);
    p = fk__put16(p, 16);
    p = fk__put32(p, ifindex);
    memcpy(p, "eth\"x\0\0\0", 8);
    p[4] = (uint8_t)('0' + ifindex % 10);
    p += 8;
    size_t len = (size_t)(p - buf);
    fk__put16(buf, 10);
    fk__put16(buf + 2, (unsigned)len);
    fk__put32(buf + 4, 1795435200u);
    fk__put32(buf + 8, 0);
    fk__put32(buf + 12, odid);
    return len;
}

static fk_collector *make(int direct, out *o)
{
    fk_collector *h;
    assert_int_equal(fk_collector_create(&h), 0);
    assert_int_equal(fk_collector_set_int(h, FK_COL_DIRECT_DECODE, direct), 0);
    fk_collector_set_callback(h, on_flow, o);
    assert_int_equal(fk_collector_activate(h), 0);
    return h;
}

static void direct_matches_walk(void **state)
{
    (void)state;
    out a = {0}, b = {0};
    fk_collector *fast = make(1, &a), *walk = make(0, &b);
    fk_addr exporter;
    fk_addr_parse("192.0.2.7", &exporter);
    srand(18);
    static uint8_t buf[65536];
    uint64_t records = 0;
    for (int round = 0; round < 3000; round++) {
        uint16_t port = (uint16_t)(4000 + rand() % 3);
        if (rand() % 20 == 0) {
            size_t n = build_sampling(buf, (uint32_t)(rand() % 2), (uint32_t)(rand() % 100));
            assert_int_equal(fk_collector_feed(fast, &exporter, port, buf, n),
                             fk_collector_feed(walk, &exporter, port, buf, n));
        }
        if (rand() % 40 == 0) {
            size_t n = build_boot(buf, (uint32_t)(rand() % 2), 1795435000000ull);
            assert_int_equal(fk_collector_feed(fast, &exporter, port, buf, n),
                             fk_collector_feed(walk, &exporter, port, buf, n));
        }
        tmpl t;
        draw_template(&t);
        uint16_t tid = (uint16_t)(256 + rand() % 4);
        int records_per_set = rand() % 8;
        size_t n = build(buf, &t, tid, rand() % 4 != 0, records_per_set, (uint32_t)round,
                         rand() % 3 == 0 ? rand() % 5 : 0);
        if (rand() % 50 == 0) /* a cut or bent set */
            buf[16 + rand() % (int)(n - 16)] ^= (uint8_t)(1 + rand() % 255);
        int ra = fk_collector_feed(fast, &exporter, port, buf, n);
        int rb = fk_collector_feed(walk, &exporter, port, buf, n);
        assert_int_equal(ra, rb);
        records += ra > 0 ? (uint64_t)ra : 0;
    }
    assert_true(records > 5000); /* the draw makes flows, not only refusals */
    assert_int_equal(a.len, b.len);
    assert_memory_equal(a.text, b.text, a.len);
    fk_collector_stats sa, sb;
    fk_collector_get_stats(fast, &sa, sizeof sa);
    fk_collector_get_stats(walk, &sb, sizeof sb);
    assert_int_equal(sa.records, records);
    sa.export_time_skewed = sb.export_time_skewed = 0; /* read against the clock */
    assert_memory_equal(&sa, &sb, sizeof sa);
    fk_collector_destroy(fast);
    fk_collector_destroy(walk);
    free(a.text);
    free(b.text);
}

static fk_collector *make_json_rot(int direct, const char *path, bool tags, int64_t rotate)
{
    fk_collector *h;
    char uri[256];
    snprintf(uri, sizeof uri, "jsonl:%s", path);
    remove(path);
    assert_int_equal(fk_collector_create(&h), 0);
    assert_int_equal(fk_collector_set_int(h, FK_COL_DIRECT_DECODE, direct), 0);
    assert_int_equal(fk_collector_add_output(h, uri), 0);
    if (tags) {
        assert_int_equal(fk_collector_add_tag(h, "site", "lab-1"), 0);
        assert_int_equal(fk_collector_add_tag(h, "env", "test"), 0);
    }
    if (rotate)
        assert_int_equal(fk_collector_set_int(h, FK_COL_ROTATE_BYTES, rotate), 0);
    assert_int_equal(fk_collector_activate(h), 0);
    return h;
}

static fk_collector *make_json(int direct, const char *path, bool tags)
{
    return make_json_rot(direct, path, tags, 0);
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *text = malloc((size_t)n + 1);
    assert_non_null(text);
    assert_int_equal(fread(text, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return text;
}

/* The same random exports as direct_matches_walk (and interface names,
 * IPv4 and IPv6 exporters), into two jsonl: outputs: one written by the
 * compiled writer where it can, one always through flows. */
static void run_compiled(bool tags)
{
    char pa[64], pb[64];
    snprintf(pa, sizeof pa, "recplan_compiled_%d.jsonl", (int)tags);
    snprintf(pb, sizeof pb, "recplan_flows_%d.jsonl", (int)tags);
    fk_collector *fast = make_json(1, pa, tags), *walk = make_json(0, pb, tags);
    fk_addr exporters[2];
    fk_addr_parse("192.0.2.7", &exporters[0]);
    fk_addr_parse("2001:db8::7", &exporters[1]);
    srand(tags ? 19 : 20);
    static uint8_t buf[65536];
    uint64_t records = 0;
    for (int round = 0; round < 4000; round++) {
        const fk_addr *exporter = &exporters[rand() % 2];
        uint16_t port = (uint16_t)(4000 + rand() % 3);
        size_t n = 0;
        if (rand() % 20 == 0)
            n = build_sampling(buf, (uint32_t)(rand() % 2), (uint32_t)(rand() % 100));
        else if (rand() % 40 == 0)
            n = build_boot(buf, (uint32_t)(rand() % 2), 1795435000000ull);
        else if (rand() % 60 == 0)
            n = build_ifname(buf, (uint32_t)(rand() % 2), (uint32_t)(rand() % 4));
        if (n)
            assert_int_equal(fk_collector_feed(fast, exporter, port, buf, n),
                             fk_collector_feed(walk, exporter, port, buf, n));
        tmpl t;
        if (rand() % 3)
            draw_plain(&t);
        else
            draw_template(&t);
        uint16_t tid = (uint16_t)(256 + rand() % 4);
        int records_per_set = rand() % 8;
        n = build(buf, &t, tid, rand() % 4 != 0, records_per_set, (uint32_t)round,
                  rand() % 3 == 0 ? rand() % 5 : 0);
        if (rand() % 50 == 0) /* a cut or bent set */
            buf[16 + rand() % (int)(n - 16)] ^= (uint8_t)(1 + rand() % 255);
        int ra = fk_collector_feed(fast, exporter, port, buf, n);
        int rb = fk_collector_feed(walk, exporter, port, buf, n);
        assert_int_equal(ra, rb);
        records += ra > 0 ? (uint64_t)ra : 0;
    }
    fk_collector_stats sa, sb;
    fk_collector_get_stats(fast, &sa, sizeof sa);
    fk_collector_get_stats(walk, &sb, sizeof sb);
    fk_collector_destroy(fast); /* writes the files out */
    fk_collector_destroy(walk);
    assert_int_equal(sa.records, records);
    /* Both paths ran: most records were written by the compiled writer,
     * and some templates could not be compiled. */
    fprintf(stderr, "records %llu compiled %llu uncompiled templates %llu\n",
            (unsigned long long)records, (unsigned long long)sa.records_compiled,
            (unsigned long long)sa.templates_uncompiled);
    assert_true(sa.records_compiled > records / 3);
    assert_true(sa.templates_uncompiled > 0);
    assert_int_equal(sb.records_compiled, 0);
    assert_int_equal(sb.templates_uncompiled, 0);
    sa.records_compiled = sa.templates_uncompiled = 0;
    sa.export_time_skewed = sb.export_time_skewed = 0; /* read against the clock */
    assert_memory_equal(&sa, &sb, sizeof sa);
    size_t la, lb;
    char *a = slurp(pa, &la), *b = slurp(pb, &lb);
    assert_true(records > 5000);
    if (la != lb || memcmp(a, b, la) != 0) {
        size_t i = 0, line = 1;
        for (; i < la && i < lb && a[i] == b[i]; i++)
            line += a[i] == '\n';
        fail_msg("line %zu differs (byte %zu)", line, i);
    }
    assert_non_null(strstr(a, "\"sampling\":"));
    assert_non_null(strstr(a, "\"direction\":"));
    assert_non_null(strstr(a, "\"in_if_name\":"));
    assert_true(!tags || strstr(a, "\"tags\":{") != NULL);
    free(a);
    free(b);
    remove(pa);
    remove(pb);
}

/* The outputs rotate by size every few records: the compiled writer puts
 * each line in the same file as the flow path (it checks rotation record
 * by record whenever a rotation could fall inside a set). */
static void compiled_json_rotates_alike(void **state)
{
    (void)state;
    const char *pa = "recplan_rot_c.jsonl", *pb = "recplan_rot_f.jsonl";
    fk_collector *fast = make_json_rot(1, pa, false, 3000);
    fk_collector *walk = make_json_rot(0, pb, false, 3000);
    fk_addr exporter;
    fk_addr_parse("192.0.2.9", &exporter);
    srand(21);
    static uint8_t buf[65536];
    for (int round = 0; round < 300; round++) {
        tmpl t;
        draw_plain(&t);
        size_t n = build(buf, &t, 256, true, 1 + rand() % 40, (uint32_t)round, 0);
        assert_int_equal(fk_collector_feed(fast, &exporter, 4000, buf, n),
                         fk_collector_feed(walk, &exporter, 4000, buf, n));
    }
    fk_collector_stats sa;
    fk_collector_get_stats(fast, &sa, sizeof sa);
    fk_collector_destroy(fast);
    fk_collector_destroy(walk);
    assert_true(sa.records_compiled > sa.records / 2);
    static fk_test_rotated ra[4096], rb[4096];
    size_t na = fk_test_list_rotated(pa, ra, 4096), nb = fk_test_list_rotated(pb, rb, 4096);
    assert_true(na > 20); /* it did rotate, many times */
    assert_int_equal(na, nb);
    for (size_t i = 0; i <= na; i++) {
        size_t la, lb;
        char *a = slurp(i < na ? ra[i].name : pa, &la), *b = slurp(i < na ? rb[i].name : pb, &lb);
        assert_int_equal(la, lb);
        assert_memory_equal(a, b, la);
        free(a);
        free(b);
        remove(i < na ? ra[i].name : pa);
        remove(i < na ? rb[i].name : pb);
    }
}

static void compiled_json_matches_flows(void **state)
{
    (void)state;
    run_compiled(false);
}

static void compiled_json_with_tags(void **state)
{
    (void)state;
    run_compiled(true);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(direct_matches_walk),
        cmocka_unit_test(compiled_json_matches_flows),
        cmocka_unit_test(compiled_json_with_tags),
        cmocka_unit_test(compiled_json_rotates_alike),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
