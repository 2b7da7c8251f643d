/* IPFIX codec: registry, template cache, decoder (golden bytes, every data
 * type, reduced size, varlen, options, withdrawal, malformed input, time
 * forms), JSON, encoder (golden bytes, MTU, sequence numbers, padding) and
 * allocation failures. */
#include <flowkit/flowkit.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fk_test.h"
#include "ipfix/plan.h"

/* ------------------------------------------------------------ byte builder */

typedef struct mb {
    uint8_t b[70000];
    size_t n;
} mb;

static void u8(mb *m, unsigned v)
{
    m->b[m->n++] = (uint8_t)v;
}
static void u16(mb *m, unsigned v)
{
    u8(m, v >> 8);
    u8(m, v & 0xff);
}
static void u32(mb *m, uint32_t v)
{
    u16(m, v >> 16);
    u16(m, v & 0xffff);
}
static void u64(mb *m, uint64_t v)
{
    u32(m, (uint32_t)(v >> 32));
    u32(m, (uint32_t)v);
}
static void raw(mb *m, const void *p, size_t n)
{
    memcpy(m->b + m->n, p, n);
    m->n += n;
}
/* message header; length patched by msg_end */
static void msg_begin(mb *m, uint32_t export_time, uint32_t seq, uint32_t domain)
{
    m->n = 0;
    u16(m, 10);
    u16(m, 0);
    u32(m, export_time);
    u32(m, seq);
    u32(m, domain);
}
static void msg_end(mb *m)
{
    m->b[2] = (uint8_t)(m->n >> 8);
    m->b[3] = (uint8_t)m->n;
}
static size_t set_begin(mb *m, unsigned id)
{
    size_t at = m->n;
    u16(m, id);
    u16(m, 0);
    return at;
}
static void set_end(mb *m, size_t at)
{
    size_t len = m->n - at;
    m->b[at + 2] = (uint8_t)(len >> 8);
    m->b[at + 3] = (uint8_t)len;
}

/* Walk a whole message; returns the last status, counts items by kind. */
typedef struct walk {
    int records, templates, withdrawals, notemplate;
    fk_flow flows[16];
    char json[4][2048];
} walk;

static int walk_msg(fk_ipfix_decoder *d, uint64_t session, const uint8_t *p, size_t n, walk *w)
{
    memset(w, 0, sizeof *w);
    int rc = fk_ipfix_decoder_begin(d, session, p, n, NULL);
    if (rc < 0)
        return rc;
    fk_ipfix_item it;
    while ((rc = fk_ipfix_decoder_next(d, &it)) == 1) {
        switch (it.kind) {
        case FK_IPFIX_ITEM_RECORD:
            if (w->records < 16)
                assert_int_equal(fk_ipfix_record_to_flow(&it.record, &w->flows[w->records]), 0);
            if (w->records < 4)
                assert_true(fk_ipfix_record_to_json(&it.record, w->json[w->records],
                                                    sizeof w->json[0]) > 0);
            w->records++;
            break;
        case FK_IPFIX_ITEM_TEMPLATE:
            w->templates++;
            break;
        case FK_IPFIX_ITEM_WITHDRAWAL:
            w->withdrawals++;
            break;
        case FK_IPFIX_ITEM_NO_TEMPLATE:
            w->notemplate++;
            break;
        default:
            fail();
        }
    }
    return rc;
}

/* RFC 7011 appendix A.2-style message: one template (256: source and
 * destination IPv4 address, next hop, packetDeltaCount, octetDeltaCount; all
 * 4 octets) and a data set with three records. Export time 1700000000,
 * sequence 0, observation domain 12345. */
static const uint8_t golden_a2[] = {
    0x00, 0x0a, 0x00, 0x6c, 0x65, 0x53, 0xf1, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x30,
    0x39, /* header */
    0x00, 0x02, 0x00, 0x1c, 0x01, 0x00, 0x00, 0x05, 0x00, 0x08, 0x00, 0x04, 0x00, 0x0c, 0x00,
    0x04, 0x00, 0x0f, 0x00, 0x04, 0x00, 0x02, 0x00, 0x04, 0x00, 0x01, 0x00, 0x04, /* template */
    0x01, 0x00, 0x00, 0x40, /* data set 256, 64 octets */
    0xc0, 0x00, 0x02, 0x0c, 0xc0, 0x00, 0x02, 0x19, 0xc0, 0x00, 0x02, 0x01, 0x00, 0x00, 0x00,
    0x10, 0x00, 0x00, 0x06, 0x40, /* 192.0.2.12 -> 192.0.2.25 16 pkts 1600 B */
    0xc0, 0x00, 0x02, 0x17, 0xc6, 0x33, 0x64, 0x02, 0xc0, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00,
    0x1f, 0x00, 0x00, 0x06, 0x40, /* 192.0.2.23 -> 198.51.100.2 31 pkts */
    0xc0, 0x00, 0x02, 0x2d, 0xcb, 0x00, 0x71, 0x07, 0xc0, 0x00, 0x02, 0x03, 0x00, 0x00, 0x00,
    0x2d, 0x00, 0x00, 0x11, 0x94, /* 192.0.2.45 -> 203.0.113.7 45 pkts 4500 B */
};

static const fk_field_spec a2_fields[] = {
    {0, 8, 4, 0}, {0, 12, 4, 0}, {0, 15, 4, 0}, {0, 2, 4, 0}, {0, 1, 4, 0}};

static void addr4(fk_addr *a, uint8_t x, uint8_t y, uint8_t z, uint8_t w)
{
    memset(a, 0, sizeof *a);
    a->family = 4;
    a->bytes[0] = x;
    a->bytes[1] = y;
    a->bytes[2] = z;
    a->bytes[3] = w;
}

/* ------------------------------------------------------------------ tests */

static void registry_lookups(void **state)
{
    (void)state;
    const fk_ie *ie;
    assert_int_equal(fk_ie_lookup(NULL, 0, 1, &ie), 0);
    assert_string_equal(ie->name, "octetDeltaCount");
    assert_int_equal(ie->type, FK_IE_UNSIGNED64);
    assert_int_equal(ie->semantics, FK_IE_SEM_DELTA_COUNTER);
    assert_string_equal(ie->units, "octets");
    assert_int_equal(fk_ie_lookup_name(NULL, "flowStartNanoseconds", &ie), 0);
    assert_int_equal(ie->id, 156);
    assert_int_equal(ie->type, FK_IE_DATE_TIME_NANOSECONDS);
    assert_int_equal(fk_ie_lookup_name(NULL, "sourceIPv6Address", &ie), 0);
    assert_int_equal(ie->id, 27);
    assert_int_equal(ie->type, FK_IE_IPV6_ADDRESS);
    /* enterprise bit is ignored */
    assert_int_equal(fk_ie_lookup(NULL, 0, 0x8000 | 4, &ie), 0);
    assert_string_equal(ie->name, "protocolIdentifier");
    /* RFC 5103 reverse elements */
    assert_int_equal(fk_ie_lookup(NULL, FK_PEN_REVERSE, 2, &ie), 0);
    assert_string_equal(ie->name, "reversePacketDeltaCount");
    assert_int_equal(ie->type, FK_IE_UNSIGNED64);
    assert_int_equal(fk_ie_lookup_name(NULL, "reverseOctetDeltaCount", &ie), 0);
    assert_int_equal(ie->pen, FK_PEN_REVERSE);
    assert_int_equal(ie->id, 1);
    /* not reversible: observationDomainId, paddingOctets */
    assert_int_equal(fk_ie_lookup(NULL, FK_PEN_REVERSE, 149, &ie), FK_ENOTFOUND);
    assert_null(ie);
    assert_int_equal(fk_ie_lookup(NULL, FK_PEN_REVERSE, 210, &ie), FK_ENOTFOUND);
    assert_int_equal(fk_ie_lookup(NULL, 0, 32767, &ie), FK_ENOTFOUND);
    assert_int_equal(fk_ie_lookup_name(NULL, "noSuchElement", &ie), FK_ENOTFOUND);
    /* table size: the registry has ~480 elements plus the reverse ones */
    int n = fk_ie_get_builtin((size_t)-1, NULL);
    assert_true(n > 800);
    size_t iana = 0;
    for (int i = 0; i < n; i++) {
        assert_int_equal(fk_ie_get_builtin((size_t)i, &ie), 0);
        assert_non_null(ie->name);
        assert_non_null(ie->units);
        const fk_ie *back;
        assert_int_equal(fk_ie_lookup_name(NULL, ie->name, &back), 0);
        assert_ptr_equal(back, ie);
        assert_int_equal(fk_ie_lookup(NULL, ie->pen, ie->id, &back), 0);
        assert_ptr_equal(back, ie);
        iana += ie->pen == 0;
    }
    assert_true(iana > 450);
    assert_int_equal(fk_ie_get_builtin((size_t)n, &ie), FK_ERANGE);
    assert_string_equal(fk_ie_type_name(FK_IE_SUB_TEMPLATE_MULTI_LIST), "subTemplateMultiList");
    assert_string_equal(fk_ie_type_name(99), "unknown");
    assert_string_equal(fk_ie_semantics_name(FK_IE_SEM_SNMP_GAUGE), "snmpGauge");
}

static void registry_enterprise(void **state)
{
    (void)state;
    fk_ie_registry *reg;
    assert_int_equal(fk_ie_registry_create(&reg), 0);
    fk_ie e = {32473, 1, FK_IE_STRING, FK_IE_SEM_DEFAULT, "processName", NULL};
    assert_int_equal(fk_ie_registry_add(reg, &e), 0);
    fk_ie e2 = {32473, 2, FK_IE_UNSIGNED32, FK_IE_SEM_IDENTIFIER, "processId", ""};
    assert_int_equal(fk_ie_registry_add(reg, &e2), 0);
    assert_int_equal(fk_ie_registry_add(reg, &e2), FK_EEXIST);
    fk_ie dupname = {32473, 3, FK_IE_UNSIGNED32, 0, "octetDeltaCount", ""};
    assert_int_equal(fk_ie_registry_add(reg, &dupname), FK_EEXIST);
    fk_ie bad = {0, 3, FK_IE_UNSIGNED32, 0, "x", ""};
    assert_int_equal(fk_ie_registry_add(reg, &bad), FK_EINVAL);
    bad.pen = FK_PEN_REVERSE;
    assert_int_equal(fk_ie_registry_add(reg, &bad), FK_EINVAL);
    bad.pen = 5;
    bad.id = 40000;
    assert_int_equal(fk_ie_registry_add(reg, &bad), FK_EINVAL);
    const fk_ie *ie;
    assert_int_equal(fk_ie_lookup(reg, 32473, 1, &ie), 0);
    assert_string_equal(ie->name, "processName");
    assert_string_equal(ie->units, "");
    assert_int_equal(fk_ie_lookup_name(reg, "processId", &ie), 0);
    assert_int_equal(ie->id, 2);
    assert_int_equal(fk_ie_lookup(NULL, 32473, 1, &ie), FK_ENOTFOUND);
    /* built-ins still visible through a registry */
    assert_int_equal(fk_ie_lookup_name(reg, "octetDeltaCount", &ie), 0);
    for (uint16_t i = 10; i < 100; i++) { /* growth */
        char name[32];
        snprintf(name, sizeof name, "x%u", (unsigned)i);
        fk_ie x = {99, i, FK_IE_UNSIGNED8, 0, name, "octets"};
        assert_int_equal(fk_ie_registry_add(reg, &x), 0);
    }
    assert_int_equal(fk_ie_lookup_name(reg, "x77", &ie), 0);
    assert_int_equal(ie->id, 77);
    assert_string_equal(ie->units, "octets");
    fk_ie_registry_destroy(reg);
    fk_ie_registry_destroy(NULL);
}

static void decode_golden_a2(void **state)
{
    (void)state;
    fk_ipfix_decoder *d;
    assert_int_equal(fk_ipfix_decoder_create(&d, NULL), 0);
    fk_ipfix_header h;
    assert_int_equal(fk_ipfix_decoder_begin(d, 7, golden_a2, sizeof golden_a2, &h), 0);
    assert_int_equal(h.version, 10);
    assert_int_equal(h.length, 108);
    assert_int_equal(h.export_time, 1700000000u);
    assert_int_equal(h.sequence, 0);
    assert_int_equal(h.domain, 12345);
    fk_ipfix_item it;
    assert_int_equal(fk_ipfix_decoder_next(d, &it), 1);
    assert_int_equal(it.kind, FK_IPFIX_ITEM_TEMPLATE);
    assert_int_equal(fk_template_get_id(it.tmpl), 256);
    assert_int_equal(fk_template_get_field_count(it.tmpl), 5);
    assert_int_equal(fk_template_get_scope_count(it.tmpl), 0);
    assert_int_equal(fk_template_get_min_record_length(it.tmpl), 20);
    assert_string_equal(fk_template_get_field_ie(it.tmpl, 2)->name, "ipNextHopIPv4Address");
    assert_null(fk_template_get_field(it.tmpl, 5));
    static const uint64_t pk[] = {16, 31, 45}, by[] = {1600, 1600, 4500};
    static const uint8_t dst[3][4] = {{192, 0, 2, 25}, {198, 51, 100, 2}, {203, 0, 113, 7}};
    for (int r = 0; r < 3; r++) {
        assert_int_equal(fk_ipfix_decoder_next(d, &it), 1);
        assert_int_equal(it.kind, FK_IPFIX_ITEM_RECORD);
        assert_int_equal(it.record.len, 20);
        assert_int_equal(it.record.template_id, 256);
        assert_int_equal(it.record.domain, 12345);
        fk_ipfix_value v;
        assert_int_equal(fk_ipfix_record_find_field(&it.record, 0, 2, &v), 0);
        assert_int_equal(v.u, pk[r]);
        assert_string_equal(v.ie->name, "packetDeltaCount");
        assert_int_equal(fk_ipfix_record_find_field(&it.record, 0, 12, &v), 0);
        assert_int_equal(v.addr.family, 4);
        assert_memory_equal(v.addr.bytes, dst[r], 4);
        assert_int_equal(fk_ipfix_record_find_field(&it.record, 0, 7, &v), FK_ENOTFOUND);
        assert_int_equal(fk_ipfix_record_get_field(&it.record, 5, &v), FK_ERANGE);
        fk_flow f;
        assert_int_equal(fk_ipfix_record_to_flow(&it.record, &f), 0);
        assert_int_equal(f.packets, pk[r]);
        assert_int_equal(f.bytes, by[r]);
        assert_int_equal(f.src.family, 4);
        assert_memory_equal(f.dst.bytes, dst[r], 4);
        assert_int_equal(f.version, 10);
        assert_int_equal(f.odid, 12345);
        assert_true(f.present & FK_FLOW_HAS_EXPORTER);
        assert_false(f.present & FK_FLOW_HAS_REVERSE);
    }
    assert_int_equal(fk_ipfix_decoder_next(d, &it), 0);
    assert_int_equal(fk_ipfix_decoder_next(d, &it), FK_ESTATE);
    /* the template persists: a data-only message in the same scope decodes */
    assert_int_equal(fk_template_cache_get_count(fk_ipfix_decoder_get_cache(d)), 1);
    mb *m = test_malloc(sizeof *m);
    msg_begin(m, 1700000001, 3, 12345);
    size_t s = set_begin(m, 256);
    raw(m, golden_a2 + 48, 20);
    set_end(m, s);
    msg_end(m);
    walk w;
    assert_int_equal(walk_msg(d, 7, m->b, m->n, &w), 0);
    assert_int_equal(w.records, 1);
    /* another session or domain does not see it */
    assert_int_equal(walk_msg(d, 8, m->b, m->n, &w), 0);
    assert_int_equal(w.records, 0);
    assert_int_equal(w.notemplate, 1);
    m->b[15] ^= 1;
    assert_int_equal(walk_msg(d, 7, m->b, m->n, &w), 0);
    assert_int_equal(w.notemplate, 1);
    test_free(m);
    fk_ipfix_decoder_destroy(d);
}

static void encode_golden_a2(void **state)
{
    (void)state;
    fk_ipfix_encoder *e;
    assert_int_equal(fk_ipfix_encoder_create(&e, NULL), 0);
    assert_int_equal(fk_ipfix_encoder_add_template(e, 256, a2_fields, 5, 0), 0);
    uint8_t buf[1500];
    assert_int_equal(fk_ipfix_encoder_begin(e, 12345, 1700000000u, buf, sizeof buf), 0);
    assert_int_equal(fk_ipfix_encoder_write_template(e, 256), 0);
    static const uint8_t rows[3][3][4] = {{{192, 0, 2, 12}, {192, 0, 2, 25}, {192, 0, 2, 1}},
                                          {{192, 0, 2, 23}, {198, 51, 100, 2}, {192, 0, 2, 2}},
                                          {{192, 0, 2, 45}, {203, 0, 113, 7}, {192, 0, 2, 3}}};
    static const uint64_t pk[] = {16, 31, 45}, by[] = {1600, 1600, 4500};
    for (int r = 0; r < 3; r++) {
        fk_addr a;
        assert_int_equal(fk_ipfix_encoder_record_begin(e, 256), 0);
        addr4(&a, rows[r][0][0], rows[r][0][1], rows[r][0][2], rows[r][0][3]);
        assert_int_equal(fk_ipfix_encoder_put_addr(e, 0, 8, &a), 0);
        addr4(&a, rows[r][1][0], rows[r][1][1], rows[r][1][2], rows[r][1][3]);
        assert_int_equal(fk_ipfix_encoder_put_addr(e, 0, 12, &a), 0);
        addr4(&a, rows[r][2][0], rows[r][2][1], rows[r][2][2], rows[r][2][3]);
        assert_int_equal(fk_ipfix_encoder_put_addr(e, 0, 15, &a), 0);
        assert_int_equal(fk_ipfix_encoder_put_uint(e, 0, 2, pk[r]), 0);
        assert_int_equal(fk_ipfix_encoder_put_uint(e, 0, 1, by[r]), 0);
        /* wrong kinds are refused */
        assert_int_equal(fk_ipfix_encoder_put_uint(e, 0, 7, 1), FK_ENOTFOUND);
        assert_int_equal(fk_ipfix_encoder_put_uint(e, 0, 8, 1), FK_ETYPE);
        assert_int_equal(fk_ipfix_encoder_put_uint(e, 0, 1, 1ull << 32), FK_ERANGE);
        assert_int_equal(fk_ipfix_encoder_put_double(e, 0, 1, 1.0), FK_ETYPE);
        assert_int_equal(fk_ipfix_encoder_record_end(e), 0);
    }
    size_t len;
    assert_int_equal(fk_ipfix_encoder_finish(e, &len), 0);
    assert_int_equal(len, sizeof golden_a2);
    assert_memory_equal(buf, golden_a2, sizeof golden_a2);
    assert_int_equal(fk_ipfix_encoder_get_sequence(e, 12345), 3);
    assert_int_equal(fk_ipfix_encoder_get_sequence(e, 1), 0);
    assert_true(len <= fk_ipfix_encode_bound(3, 20, 24));
    fk_ipfix_encoder_destroy(e);
    fk_ipfix_encoder_destroy(NULL);
}

/* Every abstract data type, encoded by the encoder and checked byte-wise and
 * by the decoder. Signed and float32 types use enterprise elements. */
static void every_data_type(void **state)
{
    (void)state;
    fk_ie_registry *reg;
    assert_int_equal(fk_ie_registry_create(&reg), 0);
    static const struct {
        uint16_t id;
        uint8_t type;
        const char *name;
    } ent[] = {{1, FK_IE_SIGNED8, "s8"},
               {2, FK_IE_SIGNED16, "s16"},
               {3, FK_IE_SIGNED32, "s32"},
               {4, FK_IE_SIGNED64, "s64"},
               {5, FK_IE_FLOAT32, "f32"}};
    for (size_t i = 0; i < 5; i++) {
        fk_ie x = {4242, ent[i].id, ent[i].type, FK_IE_SEM_QUANTITY, ent[i].name, ""};
        assert_int_equal(fk_ie_registry_add(reg, &x), 0);
    }
    const fk_field_spec f[] = {
        {0, 210, 3, 0},         /* octetArray paddingOctets */
        {0, 4, 1, 0},           /* unsigned8 */
        {0, 7, 2, 0},           /* unsigned16 */
        {0, 10, 4, 0},          /* unsigned32 */
        {0, 1, 8, 0},           /* unsigned64 */
        {4242, 1, 1, 0},        /* signed8 */
        {4242, 2, 2, 0},        /* signed16 */
        {4242, 3, 4, 0},        /* signed32 */
        {4242, 4, 8, 0},        /* signed64 */
        {4242, 5, 4, 0},        /* float32 */
        {0, 320, 8, 0},         /* float64 absoluteError */
        {0, 276, 1, 0},         /* boolean dataRecordsReliability */
        {0, 56, 6, 0},          /* macAddress */
        {0, 82, FK_VARLEN, 0},  /* string interfaceName */
        {0, 150, 4, 0},         /* dateTimeSeconds */
        {0, 152, 8, 0},         /* dateTimeMilliseconds */
        {0, 154, 8, 0},         /* dateTimeMicroseconds */
        {0, 156, 8, 0},         /* dateTimeNanoseconds */
        {0, 8, 4, 0},           /* ipv4Address */
        {0, 27, 16, 0},         /* ipv6Address */
        {0, 291, FK_VARLEN, 0}, /* basicList */
        {0, 292, FK_VARLEN, 0}, /* subTemplateList */
        {0, 293, FK_VARLEN, 0}, /* subTemplateMultiList */
    };
    const uint16_t nf = sizeof f / sizeof f[0];
    fk_ipfix_encoder *e;
    assert_int_equal(fk_ipfix_encoder_create(&e, reg), 0);
    assert_int_equal(fk_ipfix_encoder_add_template(e, 300, f, nf, 0), 0);
    uint8_t buf[2000];
    assert_int_equal(fk_ipfix_encoder_begin(e, 1, 1000, buf, sizeof buf), 0);
    assert_int_equal(fk_ipfix_encoder_write_template(e, 300), 0);
    assert_int_equal(fk_ipfix_encoder_record_begin(e, 300), 0);
    assert_int_equal(fk_ipfix_encoder_put_bytes(e, 0, 210, "\0\0\0", 3), 0);
    assert_int_equal(fk_ipfix_encoder_put_bytes(e, 0, 210, "\0\0", 2), FK_ERANGE);
    assert_int_equal(fk_ipfix_encoder_put_uint(e, 0, 4, 6), 0);
    assert_int_equal(fk_ipfix_encoder_put_uint(e, 0, 4, 256), FK_ERANGE);
    assert_int_equal(fk_ipfix_encoder_put_uint(e, 0, 7, 443), 0);
    assert_int_equal(fk_ipfix_encoder_put_uint(e, 0, 10, 0xdeadbeef), 0);
    assert_int_equal(fk_ipfix_encoder_put_uint(e, 0, 1, 0x0102030405060708ull), 0);
    assert_int_equal(fk_ipfix_encoder_put_uint(e, 4242, 1, (uint64_t)-5), 0);
    assert_int_equal(fk_ipfix_encoder_put_uint(e, 4242, 1, (uint64_t)-129), FK_ERANGE);
    assert_int_equal(fk_ipfix_encoder_put_uint(e, 4242, 1, 128), FK_ERANGE);
    assert_int_equal(fk_ipfix_encoder_put_uint(e, 4242, 2, (uint64_t)-300), 0);
    assert_int_equal(fk_ipfix_encoder_put_uint(e, 4242, 3, (uint64_t)-70000), 0);
    assert_int_equal(fk_ipfix_encoder_put_uint(e, 4242, 4, (uint64_t)INT64_MIN), 0);
    assert_int_equal(fk_ipfix_encoder_put_double(e, 4242, 5, 1.5), 0);
    assert_int_equal(fk_ipfix_encoder_put_double(e, 0, 320, -0.125), 0);
    assert_int_equal(fk_ipfix_encoder_put_uint(e, 0, 276, 1), 0);
    static const uint8_t mac[6] = {0x00, 0x11, 0x22, 0xaa, 0xbb, 0xcc};
    assert_int_equal(fk_ipfix_encoder_put_bytes(e, 0, 56, mac, 6), 0);
    assert_int_equal(fk_ipfix_encoder_put_bytes(e, 0, 82, "eth0 \"x\"", 8), 0);
    const int64_t t0 = 1700000000123456789ll;
    assert_int_equal(fk_ipfix_encoder_put_time(e, 0, 150, t0), 0);
    assert_int_equal(fk_ipfix_encoder_put_time(e, 0, 152, t0), 0);
    assert_int_equal(fk_ipfix_encoder_put_time(e, 0, 154, t0), 0);
    assert_int_equal(fk_ipfix_encoder_put_time(e, 0, 156, t0), 0);
    assert_int_equal(fk_ipfix_encoder_put_time(e, 0, 156, -1), FK_ERANGE);
    assert_int_equal(fk_ipfix_encoder_put_time(e, 0, 4, t0), FK_ETYPE);
    fk_addr a4, a6;
    assert_int_equal(fk_addr_parse("10.1.2.3", &a4), 0);
    assert_int_equal(fk_addr_parse("2001:db8::1", &a6), 0);
    assert_int_equal(fk_ipfix_encoder_put_addr(e, 0, 8, &a6), FK_ETYPE);
    assert_int_equal(fk_ipfix_encoder_put_addr(e, 0, 8, &a4), 0);
    assert_int_equal(fk_ipfix_encoder_put_addr(e, 0, 27, &a6), 0);
    static const uint8_t bl[] = {0xff, 0x00, 0x04, 0x00, 0x04, 0x0a, 0x00, 0x00, 0x01};
    assert_int_equal(fk_ipfix_encoder_put_bytes(e, 0, 291, bl, sizeof bl), 0);
    assert_int_equal(fk_ipfix_encoder_put_bytes(e, 0, 292, "\x01\x01\x00", 3), 0);
    /* subTemplateMultiList left empty */
    assert_int_equal(fk_ipfix_encoder_record_end(e), 0);
    size_t len;
    assert_int_equal(fk_ipfix_encoder_finish(e, &len), 0);

    /* golden bytes of the record */
    mb *exp = test_malloc(sizeof *exp);
    exp->n = 0;
    u8(exp, 0), u8(exp, 0), u8(exp, 0);
    u8(exp, 6);
    u16(exp, 443);
    u32(exp, 0xdeadbeef);
    u64(exp, 0x0102030405060708ull);
    u8(exp, 0xfb);
    u16(exp, 0xfed4);
    u32(exp, 0xfffeee90u);
    u64(exp, 0x8000000000000000ull);
    u32(exp, 0x3fc00000u);
    u64(exp, 0xbfc0000000000000ull);
    u8(exp, 1);
    raw(exp, mac, 6);
    u8(exp, 8);
    raw(exp, "eth0 \"x\"", 8);
    u32(exp, 1700000000u);
    u64(exp, 1700000000123ull);
    /* micro: NTP seconds, fraction of .123456 s */
    uint64_t ntp_sec = 1700000000ull + 2208988800ull;
    u64(exp, ntp_sec << 32 | ((((123456000ull << 32) + 999999999) / 1000000000ull) & ~0x7ffull));
    u64(exp, ntp_sec << 32 | ((123456789ull << 32) + 999999999) / 1000000000ull);
    raw(exp, a4.bytes, 4);
    raw(exp, a6.bytes, 16);
    u8(exp, sizeof bl);
    raw(exp, bl, sizeof bl);
    u8(exp, 3);
    raw(exp, "\x01\x01\x00", 3);
    u8(exp, 0);
    size_t tlen = 4 + 4 + nf * 4 + 5 * 4; /* set header + template header + specs + PENs */
    size_t rec_at = 16 + tlen + 4;
    assert_int_equal(len, rec_at + exp->n);
    assert_memory_equal(buf + rec_at, exp->b, exp->n);

    /* decode it back */
    fk_template_cache *c;
    assert_int_equal(fk_template_cache_create(&c, reg), 0);
    fk_ipfix_decoder *d;
    assert_int_equal(fk_ipfix_decoder_create(&d, c), 0);
    assert_int_equal(fk_ipfix_decoder_begin(d, 1, buf, len, NULL), 0);
    fk_ipfix_item it;
    assert_int_equal(fk_ipfix_decoder_next(d, &it), 1);
    assert_int_equal(it.kind, FK_IPFIX_ITEM_TEMPLATE);
    assert_int_equal(fk_ipfix_decoder_next(d, &it), 1);
    assert_int_equal(it.kind, FK_IPFIX_ITEM_RECORD);
    fk_ipfix_value v;
    const fk_ipfix_record *r = &it.record;
    assert_int_equal(fk_ipfix_record_get_field(r, 0, &v), 0);
    assert_int_equal(v.type, FK_IE_OCTET_ARRAY);
    assert_int_equal(v.len, 3);
    assert_int_equal(fk_ipfix_record_find_field(r, 0, 4, &v), 0);
    assert_int_equal(v.u, 6);
    assert_int_equal(fk_ipfix_record_find_field(r, 0, 7, &v), 0);
    assert_int_equal(v.u, 443);
    assert_int_equal(fk_ipfix_record_find_field(r, 0, 10, &v), 0);
    assert_int_equal(v.u, 0xdeadbeef);
    assert_int_equal(fk_ipfix_record_find_field(r, 0, 1, &v), 0);
    assert_int_equal(v.u, 0x0102030405060708ull);
    assert_int_equal(fk_ipfix_record_find_field(r, 4242, 1, &v), 0);
    assert_int_equal(v.i, -5);
    assert_int_equal(fk_ipfix_record_find_field(r, 4242, 2, &v), 0);
    assert_int_equal(v.i, -300);
    assert_int_equal(fk_ipfix_record_find_field(r, 4242, 3, &v), 0);
    assert_int_equal(v.i, -70000);
    assert_int_equal(fk_ipfix_record_find_field(r, 4242, 4, &v), 0);
    assert_true(v.i == INT64_MIN);
    assert_int_equal(fk_ipfix_record_find_field(r, 4242, 5, &v), 0);
    assert_true(v.f == 1.5);
    assert_int_equal(fk_ipfix_record_find_field(r, 0, 320, &v), 0);
    assert_true(v.f == -0.125);
    assert_int_equal(fk_ipfix_record_find_field(r, 0, 276, &v), 0);
    assert_int_equal(v.u, 1);
    assert_int_equal(fk_ipfix_record_find_field(r, 0, 56, &v), 0);
    assert_memory_equal(v.raw, mac, 6);
    assert_int_equal(fk_ipfix_record_find_field(r, 0, 82, &v), 0);
    assert_int_equal(v.len, 8);
    assert_memory_equal(v.raw, "eth0 \"x\"", 8);
    assert_int_equal(fk_ipfix_record_find_field(r, 0, 150, &v), 0);
    assert_true(v.i == 1700000000000000000ll);
    assert_int_equal(fk_ipfix_record_find_field(r, 0, 152, &v), 0);
    assert_true(v.i == 1700000000123000000ll);
    assert_int_equal(fk_ipfix_record_find_field(r, 0, 154, &v), 0);
    assert_true(llabs(v.i - 1700000000123456000ll) < 1000); /* 2^-21 s resolution */
    assert_int_equal(fk_ipfix_record_find_field(r, 0, 156, &v), 0);
    assert_true(v.i == t0);
    assert_int_equal(fk_ipfix_record_find_field(r, 0, 8, &v), 0);
    assert_memory_equal(&v.addr, &a4, sizeof a4);
    assert_int_equal(fk_ipfix_record_find_field(r, 0, 27, &v), 0);
    assert_memory_equal(&v.addr, &a6, sizeof a6);
    assert_int_equal(fk_ipfix_record_find_field(r, 0, 291, &v), 0);
    assert_int_equal(v.type, FK_IE_BASIC_LIST);
    assert_int_equal(v.len, sizeof bl);
    assert_memory_equal(v.raw, bl, sizeof bl);
    assert_int_equal(fk_ipfix_record_find_field(r, 0, 293, &v), 0);
    assert_int_equal(v.len, 0);

    char json[4096];
    int jl = fk_ipfix_record_to_json(r, json, sizeof json);
    assert_true(jl > 0);
    assert_int_equal((size_t)jl, strlen(json));
    static const char *const expect[] = {
        "{\"template_id\":300,\"domain\":1,",
        "\"paddingOctets\":\"000000\"",
        "\"protocolIdentifier\":6,",
        "\"sourceTransportPort\":443,",
        "\"ingressInterface\":3735928559,",
        "\"octetDeltaCount\":72623859790382856,",
        "\"s8\":-5,",
        "\"s16\":-300,",
        "\"s32\":-70000,",
        "\"s64\":-9223372036854775808,",
        "\"f32\":1.5,",
        "\"absoluteError\":-0.125,",
        "\"dataRecordsReliability\":true,",
        "\"sourceMacAddress\":\"00:11:22:aa:bb:cc\",",
        "\"interfaceName\":\"eth0 \\\"x\\\"\",",
        "\"flowStartSeconds\":\"2023-11-14T22:13:20Z\",",
        "\"flowStartMilliseconds\":\"2023-11-14T22:13:20.123Z\",",
        "\"flowStartMicroseconds\":\"2023-11-14T22:13:20.123456Z\",",
        "\"flowStartNanoseconds\":\"2023-11-14T22:13:20.123456789Z\",",
        "\"sourceIPv4Address\":\"10.1.2.3\",",
        "\"sourceIPv6Address\":\"2001:db8::1\",",
        "\"basicList\":\"ff00040004 0a000001\"",
        "\"subTemplateList\":\"010100\",",
        "\"subTemplateMultiList\":\"\"}",
    };
    for (size_t i = 0; i < sizeof expect / sizeof expect[0]; i++) {
        if (i == 21) {
            assert_non_null(strstr(json, "\"basicList\":\"ff000400040a000001\","));
            continue;
        }
        if (!strstr(json, expect[i]))
            fail_msg("missing %s in %s", expect[i], json);
    }
    /* too small a buffer */
    assert_int_equal(fk_ipfix_record_to_json(r, json, 40), FK_ENOSPACE);
    assert_int_equal(fk_ipfix_decoder_next(d, &it), 0);
    fk_ipfix_decoder_destroy(d);
    fk_template_cache_destroy(c);
    fk_ipfix_encoder_destroy(e);
    fk_ie_registry_destroy(reg);
    test_free(exp);
}

/* RFC 7011 6.2 reduced-size encoding and signed sign extension, hand-built. */
static void reduced_size(void **state)
{
    (void)state;
    mb *m = test_malloc(sizeof *m);
    msg_begin(m, 100, 0, 1);
    size_t s = set_begin(m, 2);
    u16(m, 400), u16(m, 5);
    u16(m, 1), u16(m, 3);   /* octetDeltaCount in 3 octets */
    u16(m, 2), u16(m, 1);   /* packetDeltaCount in 1 octet */
    u16(m, 10), u16(m, 2);  /* ingressInterface in 2 */
    u16(m, 434), u16(m, 2); /* mibObjectValueInteger (signed32) in 2 */
    u16(m, 85), u16(m, 5);  /* octetTotalCount in 5 */
    set_end(m, s);
    s = set_begin(m, 400);
    u8(m, 0x01), u16(m, 0x0203); /* 66051 */
    u8(m, 200);
    u16(m, 7);
    u16(m, 0xfffe); /* -2 */
    u8(m, 0x01), u32(m, 0);
    set_end(m, s);
    msg_end(m);
    fk_ipfix_decoder *d;
    assert_int_equal(fk_ipfix_decoder_create(&d, NULL), 0);
    assert_int_equal(fk_ipfix_decoder_begin(d, 0, m->b, m->n, NULL), 0);
    fk_ipfix_item it;
    assert_int_equal(fk_ipfix_decoder_next(d, &it), 1);
    assert_int_equal(fk_ipfix_decoder_next(d, &it), 1);
    assert_int_equal(it.kind, FK_IPFIX_ITEM_RECORD);
    fk_ipfix_value v;
    assert_int_equal(fk_ipfix_record_find_field(&it.record, 0, 1, &v), 0);
    assert_int_equal(v.u, 66051);
    assert_int_equal(fk_ipfix_record_find_field(&it.record, 0, 2, &v), 0);
    assert_int_equal(v.u, 200);
    assert_int_equal(fk_ipfix_record_find_field(&it.record, 0, 434, &v), 0);
    assert_int_equal(v.i, -2);
    assert_int_equal(fk_ipfix_record_find_field(&it.record, 0, 85, &v), 0);
    assert_int_equal(v.u, 1ull << 32);
    fk_flow f;
    assert_int_equal(fk_ipfix_record_to_flow(&it.record, &f), 0);
    assert_int_equal(f.bytes, 66051); /* delta wins over total */
    assert_int_equal(f.packets, 200);
    assert_int_equal(f.in_if, 7);
    assert_true(f.present & FK_FLOW_HAS_IFACES);
    assert_int_equal(fk_ipfix_decoder_next(d, &it), 0);
    fk_ipfix_decoder_destroy(d);

    /* encoder writes reduced sizes and refuses values that do not fit */
    const fk_field_spec rf[] = {{0, 1, 3, 0}, {0, 2, 1, 0}};
    fk_ipfix_encoder *e;
    assert_int_equal(fk_ipfix_encoder_create(&e, NULL), 0);
    assert_int_equal(fk_ipfix_encoder_add_template(e, 400, rf, 2, 0), 0);
    uint8_t buf[100];
    assert_int_equal(fk_ipfix_encoder_begin(e, 1, 100, buf, sizeof buf), 0);
    assert_int_equal(fk_ipfix_encoder_record_begin(e, 400), 0);
    assert_int_equal(fk_ipfix_encoder_put_uint(e, 0, 1, 1u << 24), FK_ERANGE);
    assert_int_equal(fk_ipfix_encoder_put_uint(e, 0, 1, 66051), 0);
    assert_int_equal(fk_ipfix_encoder_put_uint(e, 0, 2, 200), 0);
    assert_int_equal(fk_ipfix_encoder_record_end(e), 0);
    /* add_flow saturates instead */
    fk_flow big = {0};
    big.bytes = 1ull << 40;
    big.packets = 3;
    assert_int_equal(fk_ipfix_encoder_add_flow(e, 400, &big), 0);
    size_t len;
    assert_int_equal(fk_ipfix_encoder_finish(e, &len), 0);
    static const uint8_t want[] = {0x01, 0x90, 0x00, 0x0c, 0x01, 0x02,
                                   0x03, 0xc8, 0xff, 0xff, 0xff, 0x03};
    assert_int_equal(len, 16 + sizeof want);
    assert_memory_equal(buf + 16, want, sizeof want);
    fk_ipfix_encoder_destroy(e);
    test_free(m);
}

/* Variable-length fields with the 1-byte and the 3-byte length prefix. */
static void varlen_prefixes(void **state)
{
    (void)state;
    mb *m = test_malloc(sizeof *m);
    msg_begin(m, 100, 0, 1);
    size_t s = set_begin(m, 2);
    u16(m, 500), u16(m, 3);
    u16(m, 82), u16(m, 65535); /* interfaceName varlen */
    u16(m, 4), u16(m, 1);
    u16(m, 96), u16(m, 65535); /* applicationName varlen */
    set_end(m, s);
    s = set_begin(m, 500);
    /* record 1: 1-byte prefix "eth0", proto 6, 3-byte prefix 300 x 'a' */
    u8(m, 4), raw(m, "eth0", 4);
    u8(m, 6);
    u8(m, 255), u16(m, 300);
    for (int i = 0; i < 300; i++)
        u8(m, 'a');
    /* record 2: 3-byte prefix for a short value (legal), empty value */
    u8(m, 255), u16(m, 2), raw(m, "lo", 2);
    u8(m, 17);
    u8(m, 0);
    set_end(m, s);
    msg_end(m);
    fk_ipfix_decoder *d;
    assert_int_equal(fk_ipfix_decoder_create(&d, NULL), 0);
    assert_int_equal(fk_ipfix_decoder_begin(d, 0, m->b, m->n, NULL), 0);
    fk_ipfix_item it;
    assert_int_equal(fk_ipfix_decoder_next(d, &it), 1);
    assert_int_equal(fk_template_get_min_record_length(it.tmpl), 3);
    assert_int_equal(fk_ipfix_decoder_next(d, &it), 1);
    fk_ipfix_value v;
    assert_int_equal(it.record.len, 1 + 4 + 1 + 3 + 300);
    assert_int_equal(fk_ipfix_record_find_field(&it.record, 0, 82, &v), 0);
    assert_int_equal(v.len, 4);
    assert_memory_equal(v.raw, "eth0", 4);
    assert_int_equal(fk_ipfix_record_find_field(&it.record, 0, 96, &v), 0);
    assert_int_equal(v.len, 300);
    assert_int_equal(v.raw[299], 'a');
    assert_int_equal(fk_ipfix_record_find_field(&it.record, 0, 4, &v), 0);
    assert_int_equal(v.u, 6);
    fk_flow f;
    assert_int_equal(fk_ipfix_record_to_flow(&it.record, &f), 0);
    assert_int_equal(f.proto, 6); /* flow ops work after a varlen field too */
    assert_int_equal(fk_ipfix_decoder_next(d, &it), 1);
    assert_int_equal(it.record.len, 3 + 2 + 1 + 1);
    assert_int_equal(fk_ipfix_record_find_field(&it.record, 0, 82, &v), 0);
    assert_int_equal(v.len, 2);
    assert_memory_equal(v.raw, "lo", 2);
    assert_int_equal(fk_ipfix_record_find_field(&it.record, 0, 96, &v), 0);
    assert_int_equal(v.len, 0);
    assert_int_equal(fk_ipfix_record_to_flow(&it.record, &f), 0);
    assert_int_equal(f.proto, 17);
    assert_int_equal(fk_ipfix_decoder_next(d, &it), 0);

    /* varlen running past the set end is malformed */
    size_t at = m->n - 1 - 1 - 2 - 3; /* record 2's first prefix */
    m->b[at + 2] = 50;                /* claims 50 octets */
    walk w;
    assert_int_equal(walk_msg(d, 1, m->b, m->n, &w), FK_EMALFORMED);
    assert_int_equal(w.records, 1);
    fk_ipfix_decoder_destroy(d);

    /* encoder: 1-byte prefix below 255 octets, 3-byte from 255 */
    const fk_field_spec vf[] = {{0, 82, FK_VARLEN, 0}, {0, 4, 1, 0}};
    fk_ipfix_encoder *e;
    assert_int_equal(fk_ipfix_encoder_create(&e, NULL), 0);
    assert_int_equal(fk_ipfix_encoder_add_template(e, 501, vf, 2, 0), 0);
    uint8_t buf[2000];
    char big[255];
    memset(big, 'b', sizeof big);
    assert_int_equal(fk_ipfix_encoder_begin(e, 1, 100, buf, sizeof buf), 0);
    assert_int_equal(fk_ipfix_encoder_record_begin(e, 501), 0);
    assert_int_equal(fk_ipfix_encoder_put_bytes(e, 0, 82, big, 254), 0);
    assert_int_equal(fk_ipfix_encoder_record_end(e), 0);
    assert_int_equal(fk_ipfix_encoder_record_begin(e, 501), 0);
    assert_int_equal(fk_ipfix_encoder_put_bytes(e, 0, 82, big, 255), 0);
    assert_int_equal(fk_ipfix_encoder_put_uint(e, 0, 4, 1), 0);
    assert_int_equal(fk_ipfix_encoder_record_end(e), 0);
    size_t len;
    assert_int_equal(fk_ipfix_encoder_finish(e, &len), 0);
    assert_int_equal(len, 16 + 4 + (1 + 254 + 1) + (3 + 255 + 1));
    assert_int_equal(buf[20], 254);
    assert_int_equal(buf[20 + 256], 255);
    assert_int_equal(buf[20 + 257], 0);
    assert_int_equal(buf[20 + 258], 255);
    fk_ipfix_encoder_destroy(e);
    test_free(m);
}

static void options_template_and_sysuptime(void **state)
{
    (void)state;
    /* options template 257: scope observationDomainId; systemInitTimeMilliseconds,
     * samplingInterval. Data template 258 with flowStart/EndSysUpTime. */
    mb *m = test_malloc(sizeof *m);
    msg_begin(m, 1700000100, 0, 9);
    size_t s = set_begin(m, 3);
    u16(m, 257), u16(m, 3), u16(m, 1);
    u16(m, 149), u16(m, 4);
    u16(m, 160), u16(m, 8);
    u16(m, 34), u16(m, 4);
    set_end(m, s);
    s = set_begin(m, 2);
    u16(m, 258), u16(m, 3);
    u16(m, 22), u16(m, 4);
    u16(m, 21), u16(m, 4);
    u16(m, 2), u16(m, 4);
    set_end(m, s);
    s = set_begin(m, 257);
    u32(m, 9), u64(m, 1700000000000ull), u32(m, 100);
    set_end(m, s);
    s = set_begin(m, 258);
    u32(m, 5000), u32(m, 65000), u32(m, 3);
    set_end(m, s);
    msg_end(m);
    fk_ipfix_decoder *d;
    assert_int_equal(fk_ipfix_decoder_create(&d, NULL), 0);
    assert_int_equal(fk_ipfix_decoder_begin(d, 0, m->b, m->n, NULL), 0);
    fk_ipfix_item it;
    assert_int_equal(fk_ipfix_decoder_next(d, &it), 1);
    assert_int_equal(it.kind, FK_IPFIX_ITEM_TEMPLATE);
    assert_int_equal(it.set_id, 3);
    assert_int_equal(fk_template_get_scope_count(it.tmpl), 1);
    assert_int_equal(fk_ipfix_decoder_next(d, &it), 1);
    assert_int_equal(fk_ipfix_decoder_next(d, &it), 1);
    assert_int_equal(it.kind, FK_IPFIX_ITEM_RECORD);
    assert_int_equal(it.record.is_options, 1);
    fk_ipfix_value v;
    assert_int_equal(fk_ipfix_record_find_field(&it.record, 0, 160, &v), 0);
    /* the collector learns the boot time from options data */
    assert_int_equal(fk_ipfix_decoder_set_sys_init(d, 0, 9, v.i), 0);
    char json[512];
    assert_true(fk_ipfix_record_to_json(&it.record, json, sizeof json) > 0);
    assert_string_equal(json, "{\"template_id\":257,\"domain\":9,\"observationDomainId\":9,"
                              "\"systemInitTimeMilliseconds\":\"2023-11-14T22:13:20.000Z\","
                              "\"samplingInterval\":100}");
    fk_flow f;
    assert_int_equal(fk_ipfix_record_to_flow(&it.record, &f), 0);
    assert_int_equal(f.sampling, 100);
    assert_true(f.present & FK_FLOW_HAS_SAMPLING);
    assert_int_equal(fk_ipfix_decoder_next(d, &it), 1);
    assert_int_equal(it.record.is_options, 0);
    /* boot time was unknown when this message began */
    assert_int_equal(fk_ipfix_record_to_flow(&it.record, &f), 0);
    assert_int_equal(f.start_ns, 0);
    assert_int_equal(fk_ipfix_decoder_next(d, &it), 0);
    /* next message of the domain: known now */
    walk w;
    assert_int_equal(walk_msg(d, 0, m->b, m->n, &w), 0);
    assert_int_equal(w.records, 2);
    assert_true(w.flows[1].start_ns == 1700000005000000000ll);
    assert_true(w.flows[1].end_ns == 1700000065000000000ll);
    assert_int_equal(w.flows[1].packets, 3);
    /* a different domain does not get it */
    m->b[15] = 10;
    assert_int_equal(walk_msg(d, 0, m->b, m->n, &w), 0);
    assert_int_equal(w.flows[1].start_ns, 0);
    assert_int_equal(fk_ipfix_decoder_set_sys_init(d, 0, 9, 0), 0);
    fk_ipfix_decoder_destroy(d);
    test_free(m);
}

/* One record per time form; start/end come out absolute. */
static void time_forms(void **state)
{
    (void)state;
    const int64_t S = 1700000000ll * 1000000000ll;
    struct {
        uint16_t s_id, e_id, len;
        uint64_t sv, ev;
        int64_t want_s, want_e;
    } cases[] = {
        {150, 151, 4, 1700000000, 1700000002, S, S + 2000000000ll},
        {152, 153, 8, 1700000000250ull, 1700000000750ull, S + 250000000, S + 750000000},
        {154, 155, 8, (1700000000ull + 2208988800ull) << 32 | 0x80000000u,
         (1700000001ull + 2208988800ull) << 32, S + 500000000, S + 1000000000},
        {156, 157, 8, (1700000000ull + 2208988800ull) << 32 | 1,
         (1700000000ull + 2208988800ull) << 32 | 0x40000000u, S, S + 250000000},
        /* delta microseconds before the export time (1700000010) */
        {158, 159, 4, 10000000, 2500000, S, S + 7500000000ll},
        /* sysUpTime with systemInitTimeMilliseconds in the same record */
        {22, 21, 4, 1000, 3000, S + 1000000000, S + 3000000000ll},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        mb *m = test_malloc(sizeof *m);
        msg_begin(m, 1700000010, 0, 1);
        size_t s = set_begin(m, 2);
        int uptime = cases[c].s_id == 22;
        u16(m, 256), u16(m, uptime ? 3 : 2);
        u16(m, cases[c].s_id), u16(m, cases[c].len);
        u16(m, cases[c].e_id), u16(m, cases[c].len);
        if (uptime)
            u16(m, 160), u16(m, 8);
        set_end(m, s);
        s = set_begin(m, 256);
        if (cases[c].len == 4)
            u32(m, (uint32_t)cases[c].sv), u32(m, (uint32_t)cases[c].ev);
        else
            u64(m, cases[c].sv), u64(m, cases[c].ev);
        if (uptime)
            u64(m, 1700000000000ull);
        set_end(m, s);
        msg_end(m);
        fk_ipfix_decoder *d;
        assert_int_equal(fk_ipfix_decoder_create(&d, NULL), 0);
        walk w;
        assert_int_equal(walk_msg(d, 0, m->b, m->n, &w), 0);
        assert_int_equal(w.records, 1);
        if (w.flows[0].start_ns != cases[c].want_s || w.flows[0].end_ns != cases[c].want_e)
            fail_msg("case %zu (ids %u/%u): start %lld end %lld", c, cases[c].s_id, cases[c].e_id,
                     (long long)w.flows[0].start_ns, (long long)w.flows[0].end_ns);
        fk_ipfix_decoder_destroy(d);
        test_free(m);
    }
}

static void flow_fields_and_reverse(void **state)
{
    (void)state;
    const fk_field_spec f[] = {
        {0, 27, 16, 0},
        {0, 28, 16, 0},
        {0, 7, 2, 0},
        {0, 11, 2, 0},
        {0, 4, 1, 0},
        {0, 6, 2, 0},
        {0, 1, 8, 0},
        {0, 2, 8, 0},
        {FK_PEN_REVERSE, 1, 8, 0},
        {FK_PEN_REVERSE, 2, 4, 0},
        {FK_PEN_REVERSE, 6, 1, 0},
        {0, 10, 4, 0},
        {0, 14, 4, 0},
        {0, 136, 1, 0},
        {0, 5, 1, 0},
        {0, 58, 2, 0},
        {0, 152, 8, 0},
        {0, 153, 8, 0},
        {0, 305, 4, 0},
    };
    uint16_t nf = sizeof f / sizeof f[0];
    fk_ipfix_encoder *e;
    assert_int_equal(fk_ipfix_encoder_create(&e, NULL), 0);
    assert_int_equal(fk_ipfix_encoder_add_template(e, 999, f, nf, 0), 0);
    fk_flow in = {0};
    assert_int_equal(fk_addr_parse("2001:db8::10", &in.src), 0);
    assert_int_equal(fk_addr_parse("2001:db8::20", &in.dst), 0);
    in.src_port = 40000;
    in.dst_port = 443;
    in.proto = 6;
    in.tcp_flags = 0x1b;
    in.rev_tcp_flags = 0x12;
    in.bytes = 123456789012ull;
    in.packets = 1000;
    in.rev_bytes = 55555;
    in.rev_packets = 77;
    in.in_if = 3;
    in.out_if = 4;
    in.end_reason = FK_END_DETECTED;
    in.tos = 0x28;
    in.vlan = 100;
    in.sampling = 10;
    in.start_ns = 1700000000123000000ll;
    in.end_ns = 1700000005456000000ll;
    uint8_t buf[512];
    assert_int_equal(fk_ipfix_encoder_begin(e, 42, 1700000006, buf, sizeof buf), 0);
    assert_int_equal(fk_ipfix_encoder_write_template(e, 999), 0);
    assert_int_equal(fk_ipfix_encoder_add_flow(e, 999, &in), 0);
    assert_int_equal(fk_ipfix_encoder_add_flow(e, 1000, &in), FK_ENOTEMPLATE);
    size_t len;
    assert_int_equal(fk_ipfix_encoder_finish(e, &len), 0);
    fk_ipfix_decoder *d;
    assert_int_equal(fk_ipfix_decoder_create(&d, NULL), 0);
    walk w;
    assert_int_equal(walk_msg(d, 0, buf, len, &w), 0);
    assert_int_equal(w.records, 1);
    fk_flow *o = &w.flows[0];
    assert_memory_equal(&o->src, &in.src, sizeof in.src);
    assert_memory_equal(&o->dst, &in.dst, sizeof in.dst);
    assert_int_equal(o->src_port, 40000);
    assert_int_equal(o->dst_port, 443);
    assert_int_equal(o->proto, 6);
    assert_int_equal(o->tcp_flags, 0x1b);
    assert_int_equal(o->rev_tcp_flags, 0x12);
    assert_int_equal(o->bytes, in.bytes);
    assert_int_equal(o->packets, 1000);
    assert_int_equal(o->rev_bytes, 55555);
    assert_int_equal(o->rev_packets, 77);
    assert_int_equal(o->in_if, 3);
    assert_int_equal(o->out_if, 4);
    assert_int_equal(o->end_reason, FK_END_DETECTED);
    assert_int_equal(o->tos, 0x28);
    assert_int_equal(o->vlan, 100);
    assert_int_equal(o->sampling, 10);
    assert_true(o->start_ns == in.start_ns);
    assert_true(o->end_ns == in.end_ns);
    assert_int_equal(o->odid, 42);
    assert_int_equal(o->present, FK_FLOW_HAS_REVERSE | FK_FLOW_HAS_IFACES | FK_FLOW_HAS_SAMPLING |
                                     FK_FLOW_HAS_END_REASON | FK_FLOW_HAS_EXPORTER);
    assert_non_null(strstr(w.json[0], "\"reverseOctetDeltaCount\":55555"));
    assert_non_null(strstr(w.json[0], "\"sourceIPv6Address\":\"2001:db8::10\""));
    char fj[FK_FLOW_JSON_MAX];
    assert_true(fk_flow_to_json(o, fj, sizeof fj) > 0);
    assert_non_null(strstr(fj, "\"src_addr\":\"2001:db8::10\""));

    /* ICMP type/code goes to dst_port */
    const fk_field_spec icf[] = {{0, 8, 4, 0}, {0, 12, 4, 0}, {0, 4, 1, 0}, {0, 32, 2, 0}};
    assert_int_equal(fk_ipfix_encoder_add_template(e, 1001, icf, 4, 0), 0);
    fk_flow ic = {0};
    assert_int_equal(fk_addr_parse("10.0.0.1", &ic.src), 0);
    assert_int_equal(fk_addr_parse("10.0.0.2", &ic.dst), 0);
    ic.proto = 1;
    ic.dst_port = 8 * 256;
    assert_int_equal(fk_ipfix_encoder_begin(e, 42, 1700000006, buf, sizeof buf), 0);
    assert_int_equal(fk_ipfix_encoder_write_template(e, 1001), 0);
    assert_int_equal(fk_ipfix_encoder_add_flow(e, 1001, &ic), 0);
    assert_int_equal(fk_ipfix_encoder_finish(e, &len), 0);
    assert_int_equal(walk_msg(d, 0, buf, len, &w), 0);
    assert_int_equal(w.flows[0].dst_port, 8 * 256);
    assert_int_equal(w.flows[0].proto, 1);
    assert_int_equal(fk_ipfix_encoder_get_sequence(e, 42), 2);
    fk_ipfix_decoder_destroy(d);
    fk_ipfix_encoder_destroy(e);
}

static void withdrawal(void **state)
{
    (void)state;
    fk_ipfix_decoder *d;
    assert_int_equal(fk_ipfix_decoder_create(&d, NULL), 0);
    walk w;
    assert_int_equal(walk_msg(d, 1, golden_a2, sizeof golden_a2, &w), 0);
    assert_int_equal(fk_template_cache_get_count(fk_ipfix_decoder_get_cache(d)), 1);
    /* withdraw 256 then send data: no template */
    mb *m = test_malloc(sizeof *m);
    msg_begin(m, 1, 0, 12345);
    size_t s = set_begin(m, 2);
    u16(m, 256), u16(m, 0);
    set_end(m, s);
    s = set_begin(m, 256);
    raw(m, golden_a2 + 48, 20);
    set_end(m, s);
    msg_end(m);
    assert_int_equal(walk_msg(d, 1, m->b, m->n, &w), 0);
    assert_int_equal(w.withdrawals, 1);
    assert_int_equal(w.notemplate, 1);
    assert_int_equal(w.records, 0);
    assert_int_equal(fk_template_cache_get_count(fk_ipfix_decoder_get_cache(d)), 0);
    /* "all data templates" (id 2) removes data templates only */
    fk_template_cache *c = fk_ipfix_decoder_get_cache(d);
    const fk_field_spec one[] = {{0, 1, 8, 0}};
    assert_int_equal(fk_template_cache_add(c, 1, 12345, 300, one, 1, 0, NULL), 0);
    assert_int_equal(fk_template_cache_add(c, 1, 12345, 301, one, 1, 0, NULL), 0);
    assert_int_equal(fk_template_cache_add(c, 1, 12345, 302, one, 1, 1, NULL), 0);
    assert_int_equal(fk_template_cache_add(c, 1, 99, 300, one, 1, 0, NULL), 0);
    msg_begin(m, 1, 0, 12345);
    s = set_begin(m, 2);
    u16(m, 2), u16(m, 0);
    set_end(m, s);
    msg_end(m);
    assert_int_equal(walk_msg(d, 1, m->b, m->n, &w), 0);
    assert_int_equal(w.withdrawals, 1);
    assert_int_equal(fk_template_cache_get_count(c), 2);
    /* options: all options templates (id 3) in an options template set */
    msg_begin(m, 1, 0, 12345);
    s = set_begin(m, 3);
    u16(m, 3), u16(m, 0);
    set_end(m, s);
    msg_end(m);
    assert_int_equal(walk_msg(d, 1, m->b, m->n, &w), 0);
    assert_int_equal(w.withdrawals, 1);
    assert_int_equal(fk_template_cache_get_count(c), 1);
    /* withdrawing id 3 inside a template set (2) is malformed */
    msg_begin(m, 1, 0, 12345);
    s = set_begin(m, 2);
    u16(m, 3), u16(m, 0);
    set_end(m, s);
    msg_end(m);
    assert_int_equal(walk_msg(d, 1, m->b, m->n, &w), FK_EMALFORMED);
    /* encoder writes withdrawals */
    fk_ipfix_encoder *e;
    assert_int_equal(fk_ipfix_encoder_create(&e, NULL), 0);
    uint8_t buf[64];
    assert_int_equal(fk_ipfix_encoder_begin(e, 99, 5, buf, sizeof buf), 0);
    assert_int_equal(fk_ipfix_encoder_write_withdrawal(e, 300, 0), 0);
    assert_int_equal(fk_ipfix_encoder_write_withdrawal(e, 7, 0), FK_EINVAL);
    size_t len;
    assert_int_equal(fk_ipfix_encoder_finish(e, &len), 0);
    static const uint8_t want[] = {0x00, 0x02, 0x00, 0x08, 0x01, 0x2c, 0x00, 0x00};
    assert_int_equal(len, 24);
    assert_memory_equal(buf + 16, want, 8);
    assert_int_equal(walk_msg(d, 1, buf, len, &w), 0);
    assert_int_equal(fk_template_cache_get_count(c), 0);
    fk_ipfix_encoder_destroy(e);
    fk_ipfix_decoder_destroy(d);
    test_free(m);
}

/* Malformed inputs: each must stop the walk with the expected status. */
static void malformed(void **state)
{
    (void)state;
    fk_ipfix_decoder *d;
    assert_int_equal(fk_ipfix_decoder_create(&d, NULL), 0);
    mb *m = test_malloc(sizeof *m);
    walk w;
    fk_ipfix_header h;

    /* header problems */
    assert_int_equal(fk_ipfix_parse_header(golden_a2, 15, &h), FK_ETRUNCATED);
    memcpy(m->b, golden_a2, sizeof golden_a2);
    m->b[1] = 9;
    assert_int_equal(walk_msg(d, 0, m->b, sizeof golden_a2, &w), FK_EMALFORMED);
    m->b[1] = 10;
    m->b[3] = 15; /* length < 16 */
    assert_int_equal(walk_msg(d, 0, m->b, sizeof golden_a2, &w), FK_EMALFORMED);
    /* message length beyond the buffer */
    assert_int_equal(walk_msg(d, 0, golden_a2, sizeof golden_a2 - 1, &w), FK_ETRUNCATED);
    /* truncated set: set length beyond the message */
    memcpy(m->b, golden_a2, sizeof golden_a2);
    m->b[44 + 3] = 0x44;
    assert_int_equal(walk_msg(d, 0, m->b, sizeof golden_a2, &w), FK_EMALFORMED);
    assert_int_equal(w.templates, 1);
    /* set length below 4 */
    memcpy(m->b, golden_a2, sizeof golden_a2);
    m->b[44 + 3] = 3;
    assert_int_equal(walk_msg(d, 0, m->b, sizeof golden_a2, &w), FK_EMALFORMED);
    /* stray octets after the last set */
    memcpy(m->b, golden_a2, sizeof golden_a2);
    m->b[3] = 0x6c + 2;
    m->b[108] = 0, m->b[109] = 0;
    assert_int_equal(walk_msg(d, 0, m->b, sizeof golden_a2 + 2, &w), FK_EMALFORMED);
    assert_int_equal(w.records, 3);
    /* reserved set ids 0, 1, 4..255 */
    static const unsigned reserved[] = {0, 1, 4, 255};
    for (size_t i = 0; i < 4; i++) {
        msg_begin(m, 1, 0, 1);
        size_t s = set_begin(m, reserved[i]);
        u32(m, 0);
        set_end(m, s);
        msg_end(m);
        assert_int_equal(walk_msg(d, 0, m->b, m->n, &w), FK_EMALFORMED);
    }
    /* zero-length field */
    msg_begin(m, 1, 0, 1);
    size_t s = set_begin(m, 2);
    u16(m, 256), u16(m, 2), u16(m, 1), u16(m, 8), u16(m, 2), u16(m, 0);
    set_end(m, s);
    msg_end(m);
    assert_int_equal(walk_msg(d, 0, m->b, m->n, &w), FK_EMALFORMED);
    /* field count past the end of the set */
    msg_begin(m, 1, 0, 1);
    s = set_begin(m, 2);
    u16(m, 256), u16(m, 3), u16(m, 1), u16(m, 8), u16(m, 2), u16(m, 8);
    set_end(m, s);
    msg_end(m);
    assert_int_equal(walk_msg(d, 0, m->b, m->n, &w), FK_EMALFORMED);
    /* enterprise number cut off by the set end */
    msg_begin(m, 1, 0, 1);
    s = set_begin(m, 2);
    u16(m, 256), u16(m, 1), u16(m, 0x8001), u16(m, 8), u16(m, 0);
    set_end(m, s);
    msg_end(m);
    assert_int_equal(walk_msg(d, 0, m->b, m->n, &w), FK_EMALFORMED);
    /* huge counts: 65535 fields claimed */
    msg_begin(m, 1, 0, 1);
    s = set_begin(m, 2);
    u16(m, 256), u16(m, 65535), u16(m, 1), u16(m, 8);
    set_end(m, s);
    msg_end(m);
    assert_int_equal(walk_msg(d, 0, m->b, m->n, &w), FK_EMALFORMED);
    /* 600 fields really present exceed max_fields (512): refused, not stored */
    msg_begin(m, 1, 0, 1);
    s = set_begin(m, 2);
    u16(m, 256), u16(m, 600);
    for (int i = 0; i < 600; i++)
        u16(m, 210), u16(m, 1);
    set_end(m, s);
    msg_end(m);
    size_t held = fk_template_cache_get_count(fk_ipfix_decoder_get_cache(d));
    assert_int_equal(walk_msg(d, 0, m->b, m->n, &w), FK_ERANGE);
    assert_int_equal(fk_template_cache_get_count(fk_ipfix_decoder_get_cache(d)), held);
    /* template id below 256 */
    msg_begin(m, 1, 0, 1);
    s = set_begin(m, 2);
    u16(m, 255), u16(m, 1), u16(m, 1), u16(m, 8);
    set_end(m, s);
    msg_end(m);
    assert_int_equal(walk_msg(d, 0, m->b, m->n, &w), FK_EMALFORMED);
    /* options template with scope count 0 or > field count */
    for (unsigned sc = 0; sc <= 2; sc += 2) {
        msg_begin(m, 1, 0, 1);
        s = set_begin(m, 3);
        u16(m, 256), u16(m, 1), u16(m, sc), u16(m, 149), u16(m, 4);
        set_end(m, s);
        msg_end(m);
        assert_int_equal(walk_msg(d, 0, m->b, m->n, &w), FK_EMALFORMED);
    }
    /* set length not a whole number of records: non-zero trailing octets */
    msg_begin(m, 1, 0, 1);
    s = set_begin(m, 2);
    u16(m, 256), u16(m, 1), u16(m, 1), u16(m, 4);
    set_end(m, s);
    s = set_begin(m, 256);
    u32(m, 10), u32(m, 20), u16(m, 0x0102);
    set_end(m, s);
    msg_end(m);
    assert_int_equal(walk_msg(d, 0, m->b, m->n, &w), FK_EMALFORMED);
    assert_int_equal(w.records, 2);
    /* ... while zero padding shorter than a record is fine */
    m->b[m->n - 2] = 0, m->b[m->n - 1] = 0;
    assert_int_equal(walk_msg(d, 0, m->b, m->n, &w), 0);
    assert_int_equal(w.records, 2);
    /* template records padded at the end of a template set */
    msg_begin(m, 1, 0, 1);
    s = set_begin(m, 2);
    u16(m, 256), u16(m, 1), u16(m, 1), u16(m, 4), u16(m, 0), u8(m, 0);
    set_end(m, s);
    msg_end(m);
    assert_int_equal(walk_msg(d, 0, m->b, m->n, &w), 0);
    assert_int_equal(w.templates, 1);
    /* a template whose records cannot fit any message */
    msg_begin(m, 1, 0, 1);
    s = set_begin(m, 2);
    u16(m, 256), u16(m, 2), u16(m, 210), u16(m, 65000), u16(m, 210), u16(m, 600);
    set_end(m, s);
    msg_end(m);
    assert_int_equal(walk_msg(d, 0, m->b, m->n, &w), FK_EMALFORMED);
    /* next() without begin, after an error */
    fk_ipfix_item it;
    assert_int_equal(fk_ipfix_decoder_next(d, &it), FK_ESTATE);
    /* a field whose length does not suit its type still walks, value refused */
    msg_begin(m, 1, 0, 1);
    s = set_begin(m, 2);
    u16(m, 256), u16(m, 2), u16(m, 8), u16(m, 3), u16(m, 1), u16(m, 9);
    set_end(m, s);
    s = set_begin(m, 256);
    u8(m, 1), u8(m, 2), u8(m, 3);
    for (int i = 0; i < 9; i++)
        u8(m, 1);
    set_end(m, s);
    msg_end(m);
    assert_int_equal(fk_ipfix_decoder_begin(d, 0, m->b, m->n, NULL), 0);
    assert_int_equal(fk_ipfix_decoder_next(d, &it), 1);
    assert_int_equal(fk_ipfix_decoder_next(d, &it), 1);
    fk_ipfix_value v;
    assert_int_equal(fk_ipfix_record_find_field(&it.record, 0, 8, &v), FK_EMALFORMED);
    assert_int_equal(fk_ipfix_record_find_field(&it.record, 0, 1, &v), FK_EMALFORMED);
    fk_flow f;
    assert_int_equal(fk_ipfix_record_to_flow(&it.record, &f), 0);
    assert_int_equal(f.src.family, 0); /* not used for the flow */
    char json[256];
    assert_true(fk_ipfix_record_to_json(&it.record, json, sizeof json) > 0);
    assert_non_null(strstr(json, "\"sourceIPv4Address\":\"010203\""));
    fk_ipfix_decoder_destroy(d);
    test_free(m);
}

static void template_cache_scope_and_caps(void **state)
{
    (void)state;
    fk_template_cache *c;
    assert_int_equal(fk_template_cache_create(&c, NULL), 0);
    size_t n;
    const fk_param_info *p = fk_template_cache_params(&n);
    assert_int_equal(n, 3);
    assert_string_equal(p[0].name, "max_templates");
    assert_int_equal(fk_template_cache_set_int(c, FK_TCACHE_MAX_TEMPLATES, 0), FK_ERANGE);
    assert_int_equal(fk_template_cache_set_int(c, FK_TCACHE_MAX_TEMPLATES, 300), 0);
    assert_int_equal(fk_template_cache_set_int(c, FK_TCACHE_MAX_PER_SESSION, 200), 0);
    assert_int_equal(fk_template_cache_set_int(c, 77, 1), FK_ENOTFOUND);
    int64_t v;
    assert_int_equal(fk_template_cache_get_int(c, FK_TCACHE_MAX_FIELDS, &v), 0);
    assert_int_equal(v, 512);
    assert_int_equal(fk_template_cache_activate(c), 0);
    assert_int_equal(fk_template_cache_set_int(c, FK_TCACHE_MAX_TEMPLATES, 10), FK_EACTIVATED);
    const fk_field_spec a[] = {{0, 1, 8, 0}, {0, 2, 8, 0}};
    const fk_field_spec b[] = {{0, 8, 4, 0}};
    const fk_template *t1, *t2, *t;
    assert_int_equal(fk_template_cache_add(c, 1, 1, 256, a, 2, 0, &t1), 0);
    assert_int_equal(fk_template_cache_add(c, 1, 2, 256, b, 1, 0, &t2), 0);
    assert_int_equal(fk_template_cache_add(c, 2, 1, 256, b, 1, 0, NULL), 0);
    assert_int_equal(fk_template_cache_find(c, 1, 1, 256, &t), 0);
    assert_ptr_equal(t, t1);
    assert_int_equal(fk_template_get_field_count(t), 2);
    assert_int_equal(fk_template_cache_find(c, 1, 2, 256, &t), 0);
    assert_int_equal(fk_template_get_field_count(t), 1);
    assert_int_equal(fk_template_cache_find(c, 3, 1, 256, &t), FK_ENOTEMPLATE);
    assert_null(t);
    assert_int_equal(fk_template_cache_get_count(c), 3);
    /* replace keeps the count */
    assert_int_equal(fk_template_cache_add(c, 1, 1, 256, b, 1, 0, &t), 0);
    assert_int_equal(fk_template_cache_get_count(c), 3);
    assert_int_equal(fk_template_find_field(t, 0, 8), 0);
    assert_int_equal(fk_template_find_field(t, 0, 1), FK_ENOTFOUND);
    /* the same fields again (an exporter's refresh) keep the stored template
     * and its plan; other fields under the same id replace it */
    const fk_template *again;
    assert_int_equal(fk_template_cache_add(c, 1, 1, 256, b, 1, 0, &again), 0);
    assert_ptr_equal(again, t);
    const fk_field_spec b16[] = {{0, 8, 16, 0}};
    assert_int_equal(fk_template_cache_add(c, 1, 1, 256, b16, 1, 0, &again), 0);
    assert_int_equal(fk_template_get_field(again, 0)->length, 16);
    assert_int_equal(fk_template_cache_add(c, 1, 1, 256, b, 1, 0, &again), 0);
    assert_int_equal(fk_template_get_field(again, 0)->length, 4);
    assert_int_equal(fk_template_cache_get_count(c), 3);
    assert_int_equal(fk_template_cache_add(c, 1, 1, 255, b, 1, 0, NULL), FK_EMALFORMED);
    assert_int_equal(fk_template_cache_add(c, 1, 1, 300, b, 0, 0, NULL), FK_EMALFORMED);
    assert_int_equal(fk_template_cache_add(c, 1, 1, 300, b, 1, 2, NULL), FK_EMALFORMED);
    /* per-session cap then total cap; growth of the table on the way */
    int rc = 0;
    uint16_t id;
    for (id = 300; id < 600; id++)
        if ((rc = fk_template_cache_add(c, 5, 1, id, a, 2, 0, NULL)) < 0)
            break;
    assert_int_equal(rc, FK_ERANGE);
    assert_int_equal(id, 500);
    for (id = 300; id < 600; id++)
        if ((rc = fk_template_cache_add(c, 6, 1, id, a, 2, 0, NULL)) < 0)
            break;
    assert_int_equal(rc, FK_ERANGE);
    assert_int_equal(fk_template_cache_get_count(c), 300);
    assert_int_equal(fk_template_cache_find(c, 5, 1, 499, &t), 0);
    assert_int_equal(fk_template_cache_drop_session(c, 5), 200);
    assert_int_equal(fk_template_cache_get_count(c), 100);
    assert_int_equal(fk_template_cache_withdraw(c, 1, 2, 256), 1);
    assert_int_equal(fk_template_cache_withdraw(c, 1, 2, 256), 0);
    assert_int_equal(fk_template_cache_withdraw(c, 1, 2, 17), FK_EINVAL);
    fk_template_cache_destroy(c);
    fk_template_cache_destroy(NULL);
}

/* v9-style use: scope fields flagged, ids colliding with IPFIX ids. */
static void v9_scope_fields(void **state)
{
    (void)state;
    fk_template_cache *c;
    assert_int_equal(fk_template_cache_create(&c, NULL), 0);
    const fk_field_spec f[] = {{0, 1, 4, FK_FIELD_V9_SCOPE}, {0, 34, 4, 0}};
    const fk_template *t;
    assert_int_equal(fk_template_cache_add(c, 9, 0, 256, f, 2, 1, &t), 0);
    assert_null(fk_template_get_field_ie(t, 0));
    assert_int_equal(fk_template_find_field(t, 0, 1), FK_ENOTFOUND);
    static const uint8_t rec[] = {0, 0, 0, 7, 0, 0, 0, 50};
    fk_ipfix_record r = {0};
    r.tmpl = t;
    r.data = rec;
    r.len = sizeof rec;
    r.template_id = 256;
    r.version = 9;
    const uint32_t *offs;
    size_t rl;
    assert_int_equal(fk__plan_split(t->plan, rec, sizeof rec, NULL, &offs, &rl), 0);
    r.offsets = offs;
    char json[256];
    assert_true(fk_ipfix_record_to_json(&r, json, sizeof json) > 0);
    assert_string_equal(json, "{\"template_id\":256,\"domain\":0,\"scopeSystem\":\"00000007\","
                              "\"samplingInterval\":50}");
    fk_flow fl;
    assert_int_equal(fk_ipfix_record_to_flow(&r, &fl), 0);
    assert_int_equal(fl.version, 9);
    assert_int_equal(fl.sampling, 50);
    fk_template_cache_destroy(c);
}

static void encoder_mtu_sequence_padding(void **state)
{
    (void)state;
    fk_ipfix_encoder *e;
    assert_int_equal(fk_ipfix_encoder_create(&e, NULL), 0);
    assert_int_equal(fk_ipfix_encoder_set_int(e, FK_IPFIX_ENC_MTU, 63), FK_ERANGE);
    assert_int_equal(fk_ipfix_encoder_set_int(e, FK_IPFIX_ENC_MTU, 100), 0);
    assert_int_equal(fk_ipfix_encoder_set_int(e, FK_IPFIX_ENC_PAD_SETS, 1), 0);
    int64_t v;
    assert_int_equal(fk_ipfix_encoder_get_int(e, FK_IPFIX_ENC_MTU, &v), 0);
    assert_int_equal(v, 100);
    size_t n;
    assert_non_null(fk_ipfix_encoder_params(&n));
    assert_int_equal(n, 2);
    const fk_field_spec f5[] = {{0, 4, 1, 0}, {0, 10, 4, 0}}; /* 5-octet records */
    assert_int_equal(fk_ipfix_encoder_add_template(e, 256, f5, 2, 0), 0);
    uint8_t buf[2000];
    size_t len;
    uint8_t scratch;
    assert_int_equal(fk_ipfix_encoder_begin(e, 1, 0, &scratch, 15), FK_ENOSPACE);
    assert_int_equal(fk_ipfix_encoder_record_begin(e, 256), FK_ESTATE);
    /* fill one message: 16 header + 4+8+4 template set (16) + 4 set header = 36;
     * 100 - 36 = 64 -> 12 records of 5 (60) + padding? 60+4 = 64 -> pad 0 */
    assert_int_equal(fk_ipfix_encoder_begin(e, 7, 1, buf, sizeof buf), 0);
    assert_int_equal(fk_ipfix_encoder_activate(e), 0);
    assert_int_equal(fk_ipfix_encoder_set_int(e, FK_IPFIX_ENC_MTU, 200), FK_EACTIVATED);
    assert_int_equal(fk_ipfix_encoder_write_template(e, 256), 0);
    int recs = 0;
    fk_flow fl = {0};
    for (;;) {
        fl.proto = (uint8_t)recs;
        int rc = fk_ipfix_encoder_add_flow(e, 256, &fl);
        if (rc == FK_ENOSPACE)
            break;
        assert_int_equal(rc, 0);
        recs++;
    }
    assert_int_equal(fk_ipfix_encoder_finish(e, &len), 0);
    assert_true(len <= 100);
    assert_int_equal(recs, 12);
    assert_int_equal(fk_ipfix_encoder_get_sequence(e, 7), 12);
    /* second message: 11 records of 5 = 55 -> set 59 -> padded by 1 to 60 */
    assert_int_equal(fk_ipfix_encoder_begin(e, 7, 2, buf, sizeof buf), 0);
    for (int i = 0; i < 11; i++)
        assert_int_equal(fk_ipfix_encoder_add_flow(e, 256, &fl), 0);
    assert_int_equal(fk_ipfix_encoder_finish(e, &len), 0);
    assert_int_equal(len, 16 + 60);
    assert_int_equal(buf[8], 0);
    assert_int_equal(buf[11], 12); /* sequence = records before this message */
    assert_int_equal(buf[16 + 3], 60);
    assert_int_equal(buf[16 + 59], 0);
    assert_int_equal(fk_ipfix_encoder_get_sequence(e, 7), 23);
    /* the padded message decodes to 11 records */
    fk_ipfix_decoder *d;
    assert_int_equal(fk_ipfix_decoder_create(&d, NULL), 0);
    const fk_template *t;
    assert_int_equal(fk_template_cache_add(fk_ipfix_decoder_get_cache(d), 0, 7, 256, f5, 2, 0, &t),
                     0);
    walk w;
    assert_int_equal(walk_msg(d, 0, buf, len, &w), 0);
    assert_int_equal(w.records, 11);
    /* record_end with FK_ENOSPACE keeps the record for the next message */
    const fk_field_spec fs[] = {{0, 82, FK_VARLEN, 0}};
    assert_int_equal(fk_ipfix_encoder_add_template(e, 257, fs, 1, 0), 0);
    assert_int_equal(fk_ipfix_encoder_begin(e, 7, 3, buf, sizeof buf), 0);
    assert_int_equal(fk_ipfix_encoder_record_begin(e, 257), 0);
    char big[90];
    memset(big, 'x', sizeof big);
    assert_int_equal(fk_ipfix_encoder_put_bytes(e, 0, 82, big, sizeof big), 0);
    assert_int_equal(fk_ipfix_encoder_record_end(e), FK_ENOSPACE);
    assert_int_equal(fk_ipfix_encoder_put_bytes(e, 0, 82, big, 60), 0);
    assert_int_equal(fk_ipfix_encoder_finish(e, &len), 0);
    assert_int_equal(len, 16);
    assert_int_equal(fk_ipfix_encoder_begin(e, 7, 3, buf, sizeof buf), 0);
    assert_int_equal(fk_ipfix_encoder_write_template(e, 257), 0);
    assert_int_equal(fk_ipfix_encoder_record_end(e), 0);
    assert_int_equal(fk_ipfix_encoder_finish(e, &len), 0);
    assert_int_equal(fk_ipfix_encoder_get_sequence(e, 7), 24);
    assert_int_equal(walk_msg(d, 0, buf, len, &w), 0);
    assert_int_equal(w.records, 1);
    assert_int_equal(fk_ipfix_encoder_finish(e, &len), FK_ESTATE);
    assert_true(fk_ipfix_encode_bound(SIZE_MAX / 2, 100, 0) == SIZE_MAX);
    assert_int_equal(fk_ipfix_encode_bound(0, 0, 0), 16 + 4 + 3);
    fk_ipfix_decoder_destroy(d);
    fk_ipfix_encoder_destroy(e);
}

/* Every allocation of create / template compile / decode / encode can fail
 * cleanly: FK_ENOMEM or success, never a crash or a leak. */
static void allocation_failures(void **state)
{
    (void)state;
    int saw_enomem = 0;
    for (unsigned long nth = 1; nth < 60; nth++) {
        fk_test_alloc_fail_at(nth, 1);
        fk_ipfix_decoder *d = NULL;
        fk_ipfix_encoder *e = NULL;
        fk_ie_registry *reg = NULL;
        int rc = fk_ie_registry_create(&reg);
        if (rc == 0) {
            fk_ie x = {5, 1, FK_IE_STRING, 0, "ent", ""};
            rc = fk_ie_registry_add(reg, &x);
        }
        if (rc == 0)
            rc = fk_ipfix_decoder_create(&d, NULL);
        if (rc == 0) {
            rc = fk_ipfix_decoder_begin(d, 0, golden_a2, sizeof golden_a2, NULL);
            fk_ipfix_item it;
            while (rc == 0 && (rc = fk_ipfix_decoder_next(d, &it)) == 1)
                rc = 0;
        }
        if (rc == 0)
            rc = fk_ipfix_encoder_create(&e, reg);
        if (rc == 0)
            rc = fk_ipfix_encoder_add_template(e, 256, a2_fields, 5, 0);
        if (rc == 0) {
            uint8_t buf[200];
            rc = fk_ipfix_encoder_begin(e, 1, 1, buf, sizeof buf);
            if (rc == 0)
                rc = fk_ipfix_encoder_write_template(e, 256);
        }
        if (rc == 0)
            rc = fk_ipfix_decoder_set_sys_init(d, 0, 1, 5);
        fk_ipfix_decoder_destroy(d);
        fk_ipfix_encoder_destroy(e);
        fk_ie_registry_destroy(reg);
        assert_true(rc == 0 || rc == FK_ENOMEM);
        saw_enomem |= rc == FK_ENOMEM;
        assert_int_equal(fk_test_alloc_live(), 0);
        fk_test_alloc_reset();
        if (rc == 0)
            break;
    }
    assert_true(saw_enomem);
}

/* set_* finds a field by element whatever the order of the calls; with an
 * element twice in a template, the first occurrence is the one set. */
static void encoder_set_order_and_duplicates(void **state)
{
    (void)state;
    fk_ipfix_encoder *e = NULL;
    assert_int_equal(fk_ipfix_encoder_create(&e, NULL), 0);
    const fk_field_spec f[] = {{0, 7, 2, 0}, {0, 11, 2, 0}, {0, 4, 1, 0}};
    const fk_field_spec d[] = {{0, 7, 2, 0}, {0, 4, 1, 0}, {0, 7, 2, 0}};
    assert_int_equal(fk_ipfix_encoder_add_template(e, 256, f, 3, 0), 0);
    assert_int_equal(fk_ipfix_encoder_add_template(e, 257, d, 3, 0), 0);
    uint8_t a[200], b[200], c[200];
    size_t la = 0, lb = 0, lc = 0;
    /* in template order */
    assert_int_equal(fk_ipfix_encoder_begin(e, 1, 100, a, sizeof a), 0);
    assert_int_equal(fk_ipfix_encoder_record_begin(e, 256), 0);
    assert_int_equal(fk_ipfix_encoder_put_uint(e, 0, 7, 1000), 0);
    assert_int_equal(fk_ipfix_encoder_put_uint(e, 0, 11, 2000), 0);
    assert_int_equal(fk_ipfix_encoder_put_uint(e, 0, 4, 17), 0);
    assert_int_equal(fk_ipfix_encoder_record_end(e), 0);
    assert_int_equal(fk_ipfix_encoder_finish(e, &la), 0);
    /* reversed, with a repeat */
    assert_int_equal(fk_ipfix_encoder_begin(e, 2, 100, b, sizeof b), 0);
    assert_int_equal(fk_ipfix_encoder_record_begin(e, 256), 0);
    assert_int_equal(fk_ipfix_encoder_put_uint(e, 0, 4, 17), 0);
    assert_int_equal(fk_ipfix_encoder_put_uint(e, 0, 11, 9), 0);
    assert_int_equal(fk_ipfix_encoder_put_uint(e, 0, 7, 1000), 0);
    assert_int_equal(fk_ipfix_encoder_put_uint(e, 0, 11, 2000), 0);
    assert_int_equal(fk_ipfix_encoder_record_end(e), 0);
    assert_int_equal(fk_ipfix_encoder_finish(e, &lb), 0);
    assert_int_equal(la, lb);
    assert_memory_equal(a + 16, b + 16, la - 16); /* sets equal; headers differ by domain */
    /* duplicate element: both sets of 7 land in the first field */
    assert_int_equal(fk_ipfix_encoder_begin(e, 3, 100, c, sizeof c), 0);
    assert_int_equal(fk_ipfix_encoder_record_begin(e, 257), 0);
    assert_int_equal(fk_ipfix_encoder_put_uint(e, 0, 7, 1), 0);
    assert_int_equal(fk_ipfix_encoder_put_uint(e, 0, 4, 6), 0);
    assert_int_equal(fk_ipfix_encoder_put_uint(e, 0, 7, 0x0102), 0);
    assert_int_equal(fk_ipfix_encoder_record_end(e), 0);
    assert_int_equal(fk_ipfix_encoder_finish(e, &lc), 0);
    static const uint8_t rec[] = {0x01, 0x01, 0x00, 0x09, 0x01, 0x02, 0x06, 0x00, 0x00};
    assert_int_equal(lc, 16 + sizeof rec);
    assert_memory_equal(c + 16, rec, sizeof rec);
    fk_ipfix_encoder_destroy(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(registry_lookups),
        cmocka_unit_test(encoder_set_order_and_duplicates),
        cmocka_unit_test(registry_enterprise),
        cmocka_unit_test(decode_golden_a2),
        cmocka_unit_test(encode_golden_a2),
        cmocka_unit_test(every_data_type),
        cmocka_unit_test(reduced_size),
        cmocka_unit_test(varlen_prefixes),
        cmocka_unit_test(options_template_and_sysuptime),
        cmocka_unit_test(time_forms),
        cmocka_unit_test(flow_fields_and_reverse),
        cmocka_unit_test(withdrawal),
        cmocka_unit_test(malformed),
        cmocka_unit_test(template_cache_scope_and_caps),
        cmocka_unit_test(v9_scope_fields),
        cmocka_unit_test(encoder_mtu_sequence_padding),
        cmocka_unit_test(allocation_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
