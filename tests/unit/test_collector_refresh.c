/* Template refreshes through the collector's real IPFIX codec, which skips
 * decoding a template record whose octets equal the definition it holds:
 * an identical refresh changes nothing, a changed definition of the same id
 * (reduced-size fields, IPv6, variable-length fields) decodes anew and so
 * does going back to the first one; a withdrawal mid-stream forgets the
 * definition (data waits for the template again); a malformed redefinition
 * leaves the old template in force; a redefinition that names each record's
 * own origin is read as such, and back; hundreds of templates refreshed in one
 * domain keep their own layouts. Messages are built by hand, octet by octet. */
#include <flowkit/flowkit.h>
#include <stdlib.h>
#include <string.h>

#include "core/bytes.h"
#include "fk_test.h"

#define NREC 64

typedef struct got {
    unsigned n;
    fk_flow f[NREC];
} got;

static void on_flow(const fk_flow *f, void *user)
{
    got *g = user;
    if (g->n < NREC)
        g->f[g->n] = *f;
    g->n++;
}

static fk_collector *make(got *g)
{
    fk_collector *h;
    assert_int_equal(fk_collector_create(&h), 0);
    assert_int_equal(fk_collector_set_callback(h, on_flow, g), 0);
    assert_int_equal(fk_collector_set_int(h, FK_COL_MAX_TEMPLATES, 1024), 0);
    assert_int_equal(fk_collector_activate(h), 0);
    return h;
}

/* An IPFIX message under construction: sets are opened and closed in turn. */
typedef struct msg {
    uint8_t b[8192];
    size_t len;
    size_t set; /* offset of the open set's header */
} msg;

static void m_begin(msg *m)
{
    memset(m, 0, sizeof *m);
    m->len = 16;
    fk__put16(m->b, 10);
    fk__put32(m->b + 4, 1767232800); /* export time 2026-01-01T02:00:00Z */
    fk__put32(m->b + 12, 1);         /* observation domain */
}

static void u8(msg *m, uint8_t v)
{
    m->b[m->len++] = v;
}

static void u16(msg *m, uint16_t v)
{
    fk__put16(m->b + m->len, v);
    m->len += 2;
}

static void u32(msg *m, uint32_t v)
{
    fk__put32(m->b + m->len, v);
    m->len += 4;
}

static void u64(msg *m, uint64_t v)
{
    u32(m, (uint32_t)(v >> 32));
    u32(m, (uint32_t)v);
}

static void set_open(msg *m, uint16_t id)
{
    m->set = m->len;
    u16(m, id);
    u16(m, 0);
}

static void set_close(msg *m)
{
    fk__put16(m->b + m->set + 2, (uint16_t)(m->len - m->set));
}

/* A template record: count (id, length) pairs. */
static void tmpl(msg *m, uint16_t tid, const uint16_t (*fields)[2], uint16_t count)
{
    u16(m, tid);
    u16(m, count);
    for (uint16_t i = 0; i < count; i++) {
        u16(m, fields[i][0]);
        u16(m, fields[i][1]);
    }
}

static int feed(fk_collector *h, msg *m)
{
    fk__put16(m->b + 2, (uint16_t)m->len);
    fk_addr ex;
    fk_addr_parse("192.0.2.9", &ex);
    return fk_collector_feed(h, &ex, 4739, m->b, m->len);
}

/* src, dst (IPv4), bytes in 8 octets */
static const uint16_t T_FULL[][2] = {{8, 4}, {12, 4}, {1, 8}};
/* the same elements with octetDeltaCount reduced to 4 octets, packets in 2 */
static const uint16_t T_REDUCED[][2] = {{8, 4}, {12, 4}, {1, 4}, {2, 2}};
/* IPv6 addresses, a variable-length interfaceName, bytes in 2 octets */
static const uint16_t T_V6VAR[][2] = {{27, 16}, {28, 16}, {82, 65535}, {1, 2}};

static void rec_full(msg *m, uint8_t last, uint64_t bytes)
{
    u32(m, 0x0a000000u | last);
    u32(m, 0xc0000201u);
    u64(m, bytes);
}

static void rec_reduced(msg *m, uint8_t last, uint32_t bytes, uint16_t packets)
{
    u32(m, 0x0a000000u | last);
    u32(m, 0xc0000201u);
    u32(m, bytes);
    u16(m, packets);
}

static void rec_v6var(msg *m, const char *ifname, uint16_t bytes)
{
    fk_addr a;
    fk_addr_parse("2001:db8::1", &a);
    memcpy(m->b + m->len, a.bytes, 16);
    m->len += 16;
    fk_addr_parse("2001:db8::2", &a);
    memcpy(m->b + m->len, a.bytes, 16);
    m->len += 16;
    u8(m, (uint8_t)strlen(ifname));
    memcpy(m->b + m->len, ifname, strlen(ifname));
    m->len += strlen(ifname);
    u16(m, bytes);
}

static void addr_is(const fk_addr *a, const char *want)
{
    char buf[FK_ADDR_STRLEN];
    fk_addr_format(a, buf, sizeof buf);
    assert_string_equal(buf, want);
}

static uint64_t templates_seen(fk_collector *h)
{
    fk_collector_stats st;
    memset(&st, 0, sizeof st);
    assert_int_equal(fk_collector_get_stats(h, &st, sizeof st), 0);
    return st.templates;
}

static void identical_refresh_then_changed_definitions(void **state)
{
    (void)state;
    got g = {0};
    fk_collector *h = make(&g);
    msg m;
    /* Each message: the template set, then a data set of one record. */
    for (int i = 0; i < 3; i++) {
        m_begin(&m);
        set_open(&m, 2);
        tmpl(&m, 256, T_FULL, 3);
        set_close(&m);
        set_open(&m, 256);
        rec_full(&m, (uint8_t)(i + 1), 1000u + (unsigned)i);
        set_close(&m);
        assert_int_equal(feed(h, &m), 1);
    }
    assert_int_equal(g.n, 3);
    assert_int_equal(g.f[2].bytes, 1002);
    addr_is(&g.f[2].src, "10.0.0.3");
    assert_int_equal(templates_seen(h), 3); /* every refresh is counted */
    /* The same id with reduced-size fields: the new layout decodes. */
    m_begin(&m);
    set_open(&m, 2);
    tmpl(&m, 256, T_REDUCED, 4);
    set_close(&m);
    set_open(&m, 256);
    rec_reduced(&m, 7, 70000, 9);
    rec_reduced(&m, 8, 80000, 10);
    set_close(&m);
    assert_int_equal(feed(h, &m), 2);
    assert_int_equal(g.f[4].bytes, 80000);
    assert_int_equal(g.f[4].packets, 10);
    addr_is(&g.f[4].src, "10.0.0.8");
    /* Data alone keeps that layout; then IPv6 with a varlen field. */
    m_begin(&m);
    set_open(&m, 256);
    rec_reduced(&m, 9, 90000, 11);
    set_close(&m);
    assert_int_equal(feed(h, &m), 1);
    assert_int_equal(g.f[5].packets, 11);
    m_begin(&m);
    set_open(&m, 2);
    tmpl(&m, 256, T_V6VAR, 4);
    set_close(&m);
    set_open(&m, 256);
    rec_v6var(&m, "eth0", 300);
    rec_v6var(&m, "a-longer-name", 301);
    set_close(&m);
    assert_int_equal(feed(h, &m), 2);
    addr_is(&g.f[7].dst, "2001:db8::2");
    assert_int_equal(g.f[7].bytes, 301);
    /* Back to the first definition, octet for octet the one held before. */
    m_begin(&m);
    set_open(&m, 2);
    tmpl(&m, 256, T_FULL, 3);
    set_close(&m);
    set_open(&m, 256);
    rec_full(&m, 4, 4444);
    set_close(&m);
    assert_int_equal(feed(h, &m), 1);
    assert_int_equal(g.f[8].bytes, 4444);
    assert_int_equal(g.f[8].packets, 0);
    addr_is(&g.f[8].src, "10.0.0.4");
    assert_int_equal(templates_seen(h), 6);
    fk_collector_destroy(h);
}

static void withdrawal_mid_stream_forgets_the_definition(void **state)
{
    (void)state;
    got g = {0};
    fk_collector *h = make(&g);
    msg m;
    m_begin(&m);
    set_open(&m, 2);
    tmpl(&m, 300, T_FULL, 3);
    set_close(&m);
    set_open(&m, 300);
    rec_full(&m, 1, 10);
    set_close(&m);
    assert_int_equal(feed(h, &m), 1);
    /* Withdrawal of 300, then data for it: kept until the template returns. */
    m_begin(&m);
    set_open(&m, 2);
    u16(&m, 300);
    u16(&m, 0);
    set_close(&m);
    set_open(&m, 300);
    rec_full(&m, 2, 20);
    set_close(&m);
    feed(h, &m);
    assert_int_equal(g.n, 1);
    fk_collector_stats st;
    memset(&st, 0, sizeof st);
    fk_collector_get_stats(h, &st, sizeof st);
    assert_int_equal(st.templates_withdrawn, 1);
    assert_int_equal(st.pending_sets, 1);
    /* The same octets again define it anew: the kept data decodes. */
    m_begin(&m);
    set_open(&m, 2);
    tmpl(&m, 300, T_FULL, 3);
    set_close(&m);
    set_open(&m, 300);
    rec_full(&m, 3, 30);
    set_close(&m);
    feed(h, &m);
    assert_int_equal(g.n, 3);
    assert_int_equal(g.f[1].bytes, 20);
    assert_int_equal(g.f[2].bytes, 30);
    fk_collector_destroy(h);
}

static void malformed_redefinition_keeps_the_old_template(void **state)
{
    (void)state;
    got g = {0};
    fk_collector *h = make(&g);
    msg m;
    m_begin(&m);
    set_open(&m, 2);
    tmpl(&m, 257, T_REDUCED, 4);
    set_close(&m);
    assert_int_equal(feed(h, &m), 0);
    /* A field of length 0 cannot be compiled: the record is refused. */
    static const uint16_t bad[][2] = {{8, 4}, {12, 0}};
    m_begin(&m);
    set_open(&m, 2);
    tmpl(&m, 257, bad, 2);
    set_close(&m);
    feed(h, &m);
    /* The template held decodes; its own refresh changes nothing. */
    m_begin(&m);
    set_open(&m, 2);
    tmpl(&m, 257, T_REDUCED, 4);
    set_close(&m);
    set_open(&m, 257);
    rec_reduced(&m, 5, 555, 5);
    set_close(&m);
    assert_int_equal(feed(h, &m), 1);
    assert_int_equal(g.f[0].bytes, 555);
    assert_int_equal(g.f[0].packets, 5);
    fk_collector_destroy(h);
}

/* What the data path reads beyond the flow fields (here the record's own
 * observationDomainId) follows the definition in force. */
static void redefinition_with_origin_field(void **state)
{
    (void)state;
    static const uint16_t T_ORIGIN[][2] = {{8, 4}, {12, 4}, {1, 8}, {149, 4}};
    got g = {0};
    fk_collector *h = make(&g);
    msg m;
    for (int i = 0; i < 3; i++) {
        m_begin(&m);
        set_open(&m, 2);
        if (i == 1)
            tmpl(&m, 258, T_ORIGIN, 4);
        else
            tmpl(&m, 258, T_FULL, 3);
        set_close(&m);
        set_open(&m, 258);
        rec_full(&m, 1, 100);
        if (i == 1)
            u32(&m, 77);
        set_close(&m);
        assert_int_equal(feed(h, &m), 1);
    }
    assert_int_equal(g.f[0].odid, 1);
    assert_int_equal(g.f[1].odid, 77);
    assert_int_equal(g.f[2].odid, 1);
    fk_collector_destroy(h);
}

static void many_templates_refreshed_keep_their_layouts(void **state)
{
    (void)state;
    enum { N = 400 };
    got g = {0};
    fk_collector *h = make(&g);
    msg m;
    /* Template 256+i has i % 3 + 1 octets of packetDeltaCount after the
     * full layout's fields: three layouts shuffled over N ids. */
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < N; i += 50) {
            m_begin(&m);
            set_open(&m, 2);
            for (int k = i; k < i + 50; k++) {
                uint16_t f[4][2] = {{8, 4}, {12, 4}, {1, 8}, {2, (uint16_t)(k % 3 + 1)}};
                tmpl(&m, (uint16_t)(256 + k), (const uint16_t(*)[2])f, 4);
            }
            set_close(&m);
            assert_int_equal(feed(h, &m), 0);
        }
    }
    assert_int_equal(templates_seen(h), 2 * N);
    uint64_t sum = 0, want = 0;
    unsigned total = 0;
    for (int k = 0; k < N; k++) {
        m_begin(&m);
        set_open(&m, (uint16_t)(256 + k));
        rec_full(&m, (uint8_t)k, (uint64_t)k);
        int plen = k % 3 + 1;
        for (int b = 0; b < plen; b++)
            u8(&m, b == plen - 1 ? (uint8_t)(k % 200) : 0);
        set_close(&m);
        g.n = 0;
        assert_int_equal(feed(h, &m), 1);
        assert_int_equal(g.n, 1);
        assert_int_equal(g.f[0].bytes, (uint64_t)k);
        sum += g.f[0].packets;
        want += (uint64_t)(k % 200);
        total++;
    }
    assert_int_equal(total, N);
    assert_int_equal(sum, want);
    fk_collector_destroy(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(identical_refresh_then_changed_definitions),
        cmocka_unit_test(withdrawal_mid_stream_forgets_the_definition),
        cmocka_unit_test(malformed_redefinition_keeps_the_old_template),
        cmocka_unit_test(redefinition_with_origin_field),
        cmocka_unit_test(many_templates_refreshed_keep_their_layouts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
