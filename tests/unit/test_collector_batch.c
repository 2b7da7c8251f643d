/* The collector's batch hand-over (fk_collector_set_batch_callback): a
 * collector with both callbacks set, fed IPFIX and NetFlow v5 through the
 * real decoders, must give the batch callback every record the record
 * callback gets, exactly once and in the same order, equal member by
 * member (borrowed strings compared as text, read during the call):
 * - data sets that wait for their template, decoded when it comes in a
 *   later message;
 * - a message of 150 records (batches full at FK_COLLECTOR_BATCH_MAX);
 * - records with interface names (from options data) and with a userName
 *   (borrowed strings: each ends its batch);
 * - v5 records (decoded outside the batch array, copied in);
 * with the plan decoder (direct_decode) on and off. */
#include <flowkit/flowkit.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fk_test.h"

#define MAXREC 1024

typedef struct seen {
    fk_flow f;
    char in_name[FK_FLOW_IFNAME_MAX + 1], out_name[FK_FLOW_IFNAME_MAX + 1];
    char user[FK_FLOW_USER_MAX + 1];
} seen;

typedef struct got {
    seen one[MAXREC], batch[MAXREC];
    size_t none, nbatch, calls, full, last_borrows;
    bool borrow_mid_batch; /* a record with a borrowed string not last of its batch */
} got;

static void keep(seen *s, const fk_flow *f)
{
    s->f = *f;
    snprintf(s->in_name, sizeof s->in_name, "%s", f->in_if_name ? f->in_if_name : "-");
    snprintf(s->out_name, sizeof s->out_name, "%s", f->out_if_name ? f->out_if_name : "-");
    snprintf(s->user, sizeof s->user, "%s", f->user ? f->user : "-");
    s->f.in_if_name = s->f.out_if_name = s->f.user = s->f.exe = s->f.tags = NULL;
}

static void on_flow(const fk_flow *f, void *user)
{
    got *g = user;
    assert_true(g->none < MAXREC);
    keep(&g->one[g->none++], f);
}

static void on_batch(const fk_flow *flows, size_t n, void *user)
{
    got *g = user;
    assert_true(n >= 1 && n <= FK_COLLECTOR_BATCH_MAX);
    g->calls++;
    g->full += n == FK_COLLECTOR_BATCH_MAX;
    for (size_t i = 0; i < n; i++) {
        assert_true(g->nbatch < MAXREC);
        keep(&g->batch[g->nbatch++], &flows[i]);
        bool borrows = flows[i].in_if_name || flows[i].out_if_name || flows[i].user;
        g->last_borrows += borrows;
        if (borrows && i + 1 < n)
            g->borrow_mid_batch = true;
    }
}

static const fk_field_spec if_fields[] = {
    {0, 8, 4, 0},   /* sourceIPv4Address */
    {0, 12, 4, 0},  /* destinationIPv4Address */
    {0, 7, 2, 0},   /* sourceTransportPort */
    {0, 4, 1, 0},   /* protocolIdentifier */
    {0, 1, 8, 0},   /* octetDeltaCount */
    {0, 2, 8, 0},   /* packetDeltaCount */
    {0, 10, 4, 0},  /* ingressInterface */
    {0, 14, 4, 0},  /* egressInterface */
    {0, 152, 8, 0}, /* flowStartMilliseconds */
    {0, 153, 8, 0}, /* flowEndMilliseconds */
};

static const fk_field_spec user_fields[] = {
    {0, 8, 4, 0},           /* sourceIPv4Address */
    {0, 12, 4, 0},          /* destinationIPv4Address */
    {0, 4, 1, 0},           /* protocolIdentifier */
    {0, 1, 8, 0},           /* octetDeltaCount */
    {0, 371, FK_VARLEN, 0}, /* userName */
    {0, 153, 8, 0},         /* flowEndMilliseconds */
};

static const fk_field_spec ifname_opt[] = {
    {0, 10, 4, 0},         /* scope: ingressInterface */
    {0, 82, FK_VARLEN, 0}, /* interfaceName */
};

#define T_SECS 1795435200u

static void put_flow(fk_ipfix_encoder *e, uint32_t i, uint32_t in_if)
{
    fk_addr s, d;
    fk_addr_parse("192.0.2.1", &s);
    fk_addr_parse("198.51.100.9", &d);
    s.bytes[3] = (uint8_t)i;
    assert_int_equal(fk_ipfix_encoder_record_begin(e, 300), 0);
    assert_int_equal(fk_ipfix_encoder_put_addr(e, 0, 8, &s), 0);
    assert_int_equal(fk_ipfix_encoder_put_addr(e, 0, 12, &d), 0);
    assert_int_equal(fk_ipfix_encoder_put_uint(e, 0, 7, 1000 + i), 0);
    assert_int_equal(fk_ipfix_encoder_put_uint(e, 0, 4, i % 2 ? 6 : 17), 0);
    assert_int_equal(fk_ipfix_encoder_put_uint(e, 0, 1, 100 + i), 0);
    assert_int_equal(fk_ipfix_encoder_put_uint(e, 0, 2, 1 + i % 7), 0);
    assert_int_equal(fk_ipfix_encoder_put_uint(e, 0, 10, in_if), 0);
    assert_int_equal(fk_ipfix_encoder_put_uint(e, 0, 14, 0), 0);
    int64_t end = (int64_t)T_SECS * 1000000000LL - 5000000000LL + (int64_t)i * 1000000;
    assert_int_equal(fk_ipfix_encoder_put_time(e, 0, 152, end - 1000000000LL), 0);
    assert_int_equal(fk_ipfix_encoder_put_time(e, 0, 153, end), 0);
    assert_int_equal(fk_ipfix_encoder_record_end(e), 0);
}

static void put_user_flow(fk_ipfix_encoder *e, uint32_t i, const char *name)
{
    fk_addr s, d;
    fk_addr_parse("203.0.113.1", &s);
    fk_addr_parse("198.51.100.9", &d);
    s.bytes[3] = (uint8_t)i;
    assert_int_equal(fk_ipfix_encoder_record_begin(e, 301), 0);
    assert_int_equal(fk_ipfix_encoder_put_addr(e, 0, 8, &s), 0);
    assert_int_equal(fk_ipfix_encoder_put_addr(e, 0, 12, &d), 0);
    assert_int_equal(fk_ipfix_encoder_put_uint(e, 0, 4, 6), 0);
    assert_int_equal(fk_ipfix_encoder_put_uint(e, 0, 1, 7000 + i), 0);
    assert_int_equal(fk_ipfix_encoder_put_bytes(e, 0, 371, name, strlen(name)), 0);
    int64_t end = (int64_t)T_SECS * 1000000000LL - 3000000000LL + (int64_t)i * 1000000;
    assert_int_equal(fk_ipfix_encoder_put_time(e, 0, 153, end), 0);
    assert_int_equal(fk_ipfix_encoder_record_end(e), 0);
}

static void put_ifname(fk_ipfix_encoder *e, uint32_t ifindex, const char *name)
{
    assert_int_equal(fk_ipfix_encoder_record_begin(e, 500), 0);
    assert_int_equal(fk_ipfix_encoder_put_uint(e, 0, 10, ifindex), 0);
    assert_int_equal(fk_ipfix_encoder_put_bytes(e, 0, 82, name, strlen(name)), 0);
    assert_int_equal(fk_ipfix_encoder_record_end(e), 0);
}

static void feed(fk_collector *h, const uint8_t *buf, size_t len)
{
    fk_addr a;
    fk_addr_parse("10.0.0.1", &a);
    assert_true(fk_collector_feed(h, &a, 4739, buf, len) >= 0);
}

/* A NetFlow v5 datagram of n records. */
static size_t v5_packet(uint8_t *p, unsigned n)
{
    memset(p, 0, 24 + 48 * (size_t)n);
    p[1] = 5;
    p[3] = (uint8_t)n;
    uint32_t uptime = 100000, secs = T_SECS;
    uint8_t hdr[8] = {
        (uint8_t)(uptime >> 24), (uint8_t)(uptime >> 16), (uint8_t)(uptime >> 8), (uint8_t)uptime,
        (uint8_t)(secs >> 24),   (uint8_t)(secs >> 16),   (uint8_t)(secs >> 8),   (uint8_t)secs};
    memcpy(p + 4, hdr, 8);
    for (unsigned i = 0; i < n; i++) {
        uint8_t *r = p + 24 + 48 * (size_t)i;
        r[0] = 10, r[1] = 9, r[2] = 0, r[3] = (uint8_t)i; /* srcaddr */
        r[4] = 10, r[5] = 8, r[6] = 0, r[7] = 1;          /* dstaddr */
        r[19] = 1 + (uint8_t)i;                           /* dPkts */
        r[22] = 1, r[23] = (uint8_t)i;                    /* dOctets */
        r[26] = 0x01, r[27] = 0x86, r[28] = 0x9f;         /* First: 99999 ms */
        r[30] = 0x01, r[31] = 0x86, r[32] = 0xa0;         /* Last: 100000 ms */
        r[33] = 0x80;
        r[38] = 17; /* prot */
    }
    return 24 + 48 * (size_t)n;
}

static void every_record_once_in_order(int direct)
{
    got *g = calloc(1, sizeof *g);
    assert_non_null(g);
    fk_collector *h;
    assert_int_equal(fk_collector_create(&h), 0);
    assert_int_equal(fk_collector_set_int(h, FK_COL_DIRECT_DECODE, direct), 0);
    assert_int_equal(fk_collector_set_callback(h, on_flow, g), 0);
    assert_int_equal(fk_collector_set_batch_callback(h, on_batch, g), 0);
    assert_int_equal(fk_collector_activate(h), 0);
    assert_int_equal(fk_collector_set_batch_callback(h, on_batch, g), FK_EACTIVATED);

    fk_ipfix_encoder *e;
    static uint8_t buf[60000];
    size_t len;
    assert_int_equal(fk_ipfix_encoder_create(&e, NULL), 0);
    assert_int_equal(fk_ipfix_encoder_set_int(e, FK_IPFIX_ENC_MTU, sizeof buf), 0);
    assert_int_equal(fk_ipfix_encoder_activate(e), 0);
    assert_int_equal(fk_ipfix_encoder_add_template(e, 300, if_fields, 10, 0), 0);
    assert_int_equal(fk_ipfix_encoder_add_template(e, 301, user_fields, 6, 0), 0);
    assert_int_equal(fk_ipfix_encoder_add_template(e, 500, ifname_opt, 2, 1), 0);
    uint32_t k = 0;
    /* 1: data before its template (kept, decoded with message 2). */
    assert_int_equal(fk_ipfix_encoder_begin(e, 7, T_SECS, buf, sizeof buf), 0);
    for (int i = 0; i < 5; i++)
        put_flow(e, k++, 0);
    assert_int_equal(fk_ipfix_encoder_finish(e, &len), 0);
    feed(h, buf, len);
    assert_int_equal(g->none, 0);
    /* 2: the template mid-stream, then 150 records in one set. */
    assert_int_equal(fk_ipfix_encoder_begin(e, 7, T_SECS, buf, sizeof buf), 0);
    assert_int_equal(fk_ipfix_encoder_write_template(e, 300), 0);
    for (int i = 0; i < 150; i++)
        put_flow(e, k++, 3);
    assert_int_equal(fk_ipfix_encoder_finish(e, &len), 0);
    feed(h, buf, len);
    assert_int_equal(g->none, 155);
    /* 3: interface names, then records naming them, with a userName, and
     * without either. */
    assert_int_equal(fk_ipfix_encoder_begin(e, 7, T_SECS, buf, sizeof buf), 0);
    assert_int_equal(fk_ipfix_encoder_write_template(e, 500), 0);
    put_ifname(e, 1, "eth0");
    put_ifname(e, 2, "wan");
    assert_int_equal(fk_ipfix_encoder_write_template(e, 301), 0);
    for (int i = 0; i < 40; i++)
        put_flow(e, k++, (uint32_t)(i % 4)); /* 1, 2: named; 0, 3: not */
    for (int i = 0; i < 6; i++)
        put_user_flow(e, k++, i % 2 ? "alice" : "bob");
    for (int i = 0; i < 70; i++)
        put_flow(e, k++, 0);
    assert_int_equal(fk_ipfix_encoder_finish(e, &len), 0);
    feed(h, buf, len);
    /* 4: NetFlow v5 (decoded outside the batch array). */
    len = v5_packet(buf, 30);
    feed(h, buf, len);
    fk_ipfix_encoder_destroy(e);

    fk_collector_stats st;
    assert_int_equal(fk_collector_get_stats(h, &st, sizeof st), 0);
    assert_int_equal(st.records, 155 + 40 + 6 + 70 + 30);
    assert_int_equal(g->none, st.records);
    assert_int_equal(g->nbatch, g->none);
    size_t named = 0, users = 0;
    for (size_t i = 0; i < g->none; i++) {
        assert_memory_equal(&g->one[i].f, &g->batch[i].f, sizeof g->one[i].f);
        assert_string_equal(g->one[i].in_name, g->batch[i].in_name);
        assert_string_equal(g->one[i].out_name, g->batch[i].out_name);
        assert_string_equal(g->one[i].user, g->batch[i].user);
        named += strcmp(g->one[i].in_name, "-") != 0;
        users += strcmp(g->one[i].user, "-") != 0;
    }
    assert_int_equal(named, 20); /* the stream did carry borrowed strings */
    assert_int_equal(users, 6);
    assert_int_equal(g->last_borrows, 26);
    assert_false(g->borrow_mid_batch);
    assert_true(g->full >= 2); /* 150 records of one set: full batches */
    assert_true(g->calls < g->none / 2);
    fk_collector_destroy(h);
    free(g);
}

static void batch_plan_decoder(void **state)
{
    (void)state;
    every_record_once_in_order(1);
}

static void batch_record_walk(void **state)
{
    (void)state;
    every_record_once_in_order(0);
}

static void batch_callback_arguments(void **state)
{
    (void)state;
    assert_int_equal(fk_collector_set_batch_callback(NULL, on_batch, NULL), FK_EINVAL);
    fk_collector *h;
    assert_int_equal(fk_collector_create(&h), 0);
    assert_int_equal(fk_collector_set_batch_callback(h, NULL, NULL), 0);
    assert_int_equal(fk_collector_activate(h), 0); /* none: nothing allocated */
    fk_collector_destroy(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(batch_plan_decoder),
        cmocka_unit_test(batch_record_walk),
        cmocka_unit_test(batch_callback_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
