/* Boundary tests of every length check in the IPFIX decoder: a message, a
 * set, a data record, a variable-length field (1- and 3-octet prefixes), a
 * template and an enterprise field specifier each exactly as long as what
 * remains (accepted) and one octet longer (refused). A decoder that accepts
 * one octet past any end fails here. */
#include <flowkit/flowkit.h>
#include <string.h>

#include "fk_test.h"

typedef struct buf {
    uint8_t b[512];
    size_t n;
} buf;

static void put8(buf *m, unsigned v)
{
    m->b[m->n++] = (uint8_t)v;
}
static void put16(buf *m, unsigned v)
{
    put8(m, v >> 8);
    put8(m, v & 0xff);
}
static void put32(buf *m, uint32_t v)
{
    put16(m, v >> 16);
    put16(m, v & 0xffff);
}
static void patch16(buf *m, size_t at, size_t v)
{
    m->b[at] = (uint8_t)(v >> 8);
    m->b[at + 1] = (uint8_t)v;
}
static void header(buf *m)
{
    m->n = 0;
    put16(m, 10);
    put16(m, 0);
    put32(m, 1700000000);
    put32(m, 0);
    put32(m, 1);
}

/* Walk a message: returns the walk's final status (0 or < 0), counts
 * records (and templates in `templates`). */
static int templates;
static int walk(const uint8_t *p, size_t n, int *records)
{
    templates = 0;
    fk_ipfix_decoder *d;
    assert_int_equal(fk_ipfix_decoder_create(&d, NULL), 0);
    *records = 0;
    int rc = fk_ipfix_decoder_begin(d, 1, p, n, NULL);
    fk_ipfix_item it;
    while (rc == 0) {
        rc = fk_ipfix_decoder_next(d, &it);
        if (rc != 1)
            break;
        rc = 0;
        if (it.kind == FK_IPFIX_ITEM_RECORD)
            (*records)++;
        if (it.kind == FK_IPFIX_ITEM_TEMPLATE)
            templates++;
    }
    fk_ipfix_decoder_destroy(d);
    return rc;
}

/* Template 256: one 4-octet element (octetDeltaCount) and a data set with
 * one record 0x01020304. `extra` is added to the data set's length field. */
static void template_and_record(buf *m, int extra)
{
    header(m);
    put16(m, 2);
    put16(m, 12);
    put16(m, 256);
    put16(m, 1);
    put16(m, 1);
    put16(m, 4);
    put16(m, 256);
    put16(m, (unsigned)(8 + extra));
    put32(m, 0x01020304);
    patch16(m, 2, m->n);
}

static void message_length(void **state)
{
    (void)state;
    buf m;
    int n;
    template_and_record(&m, 0);
    assert_int_equal(walk(m.b, m.n, &n), 0);
    assert_int_equal(n, 1);
    /* header says one octet more than the buffer holds */
    patch16(&m, 2, m.n + 1);
    assert_true(walk(m.b, m.n, &n) < 0);
    assert_int_equal(fk_error_last()->code, FK_ETRUNCATED);
}

static void set_length(void **state)
{
    (void)state;
    buf m;
    int n;
    /* the data set runs one octet past the message end */
    template_and_record(&m, 1);
    assert_true(walk(m.b, m.n, &n) < 0);
    assert_int_equal(fk_error_last()->code, FK_EMALFORMED);
    assert_int_equal(n, 0); /* nothing of that set is delivered */
    /* ... even when the buffer holds that octet */
    m.b[m.n] = 0;
    assert_true(walk(m.b, m.n + 1, &n) < 0);
    assert_int_equal(n, 0);
    /* a set header cut by the message end */
    template_and_record(&m, 0);
    put16(&m, 256);
    patch16(&m, 2, m.n);
    assert_true(walk(m.b, m.n, &n) < 0);
}

static void record_length(void **state)
{
    (void)state;
    buf m;
    int n;
    /* the set ends one octet before the record does: the three octets left
     * are not padding (non-zero) */
    template_and_record(&m, -1);
    m.n -= 1;
    patch16(&m, 2, m.n);
    assert_true(walk(m.b, m.n, &n) < 0);
    assert_int_equal(n, 0);
    assert_int_equal(fk_error_last()->code, FK_EMALFORMED);
}

/* Template 257: one variable-length octetArray (dataLinkFrameSection 315);
 * a record whose prefix announces `announced` octets when `have` follow. */
static void varlen(buf *m, int three, size_t announced, size_t have)
{
    header(m);
    put16(m, 2);
    put16(m, 12);
    put16(m, 257);
    put16(m, 1);
    put16(m, 315);
    put16(m, 65535);
    size_t at = m->n;
    put16(m, 257);
    put16(m, 0);
    if (three) {
        put8(m, 255);
        put16(m, (unsigned)announced);
    } else {
        put8(m, (unsigned)announced);
    }
    for (size_t i = 0; i < have; i++)
        put8(m, 0xab);
    patch16(m, at + 2, m->n - at);
    patch16(m, 2, m->n);
}

static void varlen_length(void **state)
{
    (void)state;
    buf m;
    int n;
    for (int three = 0; three < 2; three++) {
        varlen(&m, three, 7, 7);
        assert_int_equal(walk(m.b, m.n, &n), 0);
        assert_int_equal(n, 1);
        varlen(&m, three, 8, 7);
        assert_true(walk(m.b, m.n, &n) < 0);
        assert_int_equal(fk_error_last()->code, FK_EMALFORMED);
        assert_int_equal(n, 0);
    }
}

/* A template set whose template announces `count` fields, the last one
 * enterprise-specific when `pen`, with `cut` octets removed from its end. */
static void template_set(buf *m, unsigned count, int pen, size_t cut)
{
    header(m);
    size_t at = m->n;
    put16(m, 2);
    put16(m, 0);
    put16(m, 258);
    put16(m, count);
    for (unsigned i = 0; i < count; i++) {
        if (pen && i == count - 1) {
            put16(m, 0x8000u | 1);
            put16(m, 4);
            put32(m, 32473);
        } else {
            put16(m, 1 + i);
            put16(m, 4);
        }
    }
    m->n -= cut;
    patch16(m, at + 2, m->n - at);
    patch16(m, 2, m->n);
}

static void template_length(void **state)
{
    (void)state;
    buf m;
    int n;
    template_set(&m, 3, 0, 0);
    assert_int_equal(walk(m.b, m.n, &n), 0);
    assert_int_equal(templates, 1);
    /* one field specifier short (the count says 3, 2 fit) */
    template_set(&m, 3, 0, 4);
    assert_true(walk(m.b, m.n, &n) < 0);
    assert_int_equal(fk_error_last()->code, FK_EMALFORMED);
    assert_int_equal(templates, 0);
    /* ... and one octet short */
    template_set(&m, 3, 0, 1);
    assert_true(walk(m.b, m.n, &n) < 0);
    assert_int_equal(templates, 0);
    /* an enterprise number exactly at the set end, then one octet short */
    template_set(&m, 2, 1, 0);
    assert_int_equal(walk(m.b, m.n, &n), 0);
    assert_int_equal(templates, 1);
    template_set(&m, 2, 1, 1);
    memset(m.b + m.n, 0x5a, 8); /* whatever follows in the buffer */
    assert_true(walk(m.b, m.n, &n) < 0);
    assert_int_equal(fk_error_last()->code, FK_EMALFORMED);
    assert_int_equal(templates, 0);
}

/* The collector's own set walk (lib/collector/session.c): the same
 * boundaries count as malformed, never as records. */
static void collector_set_length(void **state)
{
    (void)state;
    fk_collector *h;
    assert_int_equal(fk_collector_create(&h), 0);
    assert_int_equal(fk_collector_set_int(h, FK_COL_WORKERS, 0), 0);
    assert_int_equal(fk_collector_activate(h), 0);
    fk_addr a;
    assert_int_equal(fk_addr_parse("192.0.2.1", &a), 0);
    buf m;
    template_and_record(&m, 0);
    assert_int_equal(fk_collector_feed(h, &a, 1000, m.b, m.n), 1);
    template_and_record(&m, 1);
    m.b[m.n] = 0;
    assert_int_equal(fk_collector_feed(h, &a, 1001, m.b, m.n + 1), 0);
    fk_collector_stats st;
    assert_int_equal(fk_collector_get_stats(h, &st, sizeof st), 0);
    assert_int_equal(st.records, 1);
    assert_true(st.malformed >= 1);
    fk_collector_destroy(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(message_length),  cmocka_unit_test(set_length),
        cmocka_unit_test(record_length),   cmocka_unit_test(varlen_length),
        cmocka_unit_test(template_length), cmocka_unit_test(collector_set_length),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
