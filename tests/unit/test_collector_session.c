/* The collector's session layer with a fake codec: data before template
 * (kept, decoded later, bounded in bytes and age), sequence gaps for IPFIX,
 * v9 and v5, template scoping per exporter and domain, UDP template expiry,
 * TCP withdrawal on close, and the caps. */
#include <flowkit/flowkit.h>
#include <stdlib.h>
#include <string.h>

#include "collector/internal.h"
#include "fk_col_fake.h"
#include "fk_test.h"

#define SEC 1000000000LL

typedef struct sink_rec {
    fk_flow last;
    unsigned n;
    uint64_t bytes;
    unsigned gone;          /* domain_gone calls */
    uint64_t gone_sessions; /* sum of their session ids */
    uint64_t gone_odids;    /* sum of their domain ids */
} sink_rec;

static void on_gone(void *user, uint64_t session, uint32_t odid)
{
    sink_rec *r = user;
    r->gone++;
    r->gone_sessions += session;
    r->gone_odids += odid;
}

static void on_flow(void *user, fk_flow *f)
{
    sink_rec *r = user;
    r->last = *f;
    r->n++;
    r->bytes += f->bytes;
}

typedef struct fixture {
    fk__col_sessions *s;
    fk_collector_stats st;
    sink_rec rec;
    fk__col_limits lim;
    fk__col_peer a, b;
    fk_col_msg m;
} fixture;

static fixture *fx_new(size_t pending_bytes)
{
    fixture *f = calloc(1, sizeof *f);
    f->lim.template_timeout_ns = 30 * SEC;
    f->lim.pending_age_ns = 10 * SEC;
    f->lim.pending_bytes = pending_bytes;
    f->lim.pending_total = 1 << 30;
    f->lim.max_templates = 8;
    f->lim.max_sessions = 4;
    f->lim.session_timeout_ns = 600 * SEC;
    assert_int_equal(
        fk__col_sessions_create(&f->s, &fk_col_fake_codec, &f->lim, &f->st, on_flow, &f->rec), 0);
    fk_addr_parse("127.0.0.1", &f->a.addr);
    f->a.port = 40000;
    f->a.transport = FK__COL_UDP;
    fk_addr_parse("::1", &f->b.addr);
    f->b.port = 40000;
    f->b.transport = FK__COL_UDP;
    return f;
}

static void fx_free(fixture *f)
{
    fk__col_sessions_destroy(f->s);
    assert_int_equal(fk_col_fake_live_domains(), 0);
    free(f);
}

static int send_msg(fixture *f, const fk__col_peer *p, int64_t now)
{
    fk_col_msg_finish(&f->m);
    return fk__col_sessions_message(f->s, p, f->m.buf, f->m.len, now);
}

static void data_before_template_is_decoded_later(void **state)
{
    (void)state;
    fixture *f = fx_new(1 << 16);
    /* Two data sets for template 300 arrive first. */
    fk_col_msg_ipfix(&f->m, 7, 0);
    fk_col_add_data(&f->m, 300, 8, 3, 111, 0);
    assert_int_equal(send_msg(f, &f->a, 1 * SEC), 0);
    fk_col_msg_ipfix(&f->m, 7, 3);
    fk_col_add_data(&f->m, 300, 8, 2, 222, 0);
    assert_int_equal(send_msg(f, &f->a, 2 * SEC), 0);
    assert_int_equal(f->st.pending_sets, 2);
    assert_true(fk__col_sessions_pending_bytes(f->s, &f->a) > 0);
    /* A template for another domain does not release them. */
    fk_col_msg_ipfix(&f->m, 8, 0);
    fk_col_add_template(&f->m, 300, 8);
    assert_int_equal(send_msg(f, &f->a, 3 * SEC), 0);
    assert_int_equal(f->rec.n, 0);
    /* The template arrives: both sets decode, in order, with the exporter stamped. */
    fk_col_msg_ipfix(&f->m, 7, 5);
    fk_col_add_template(&f->m, 300, 8);
    assert_int_equal(send_msg(f, &f->a, 4 * SEC), 5);
    assert_int_equal(f->rec.n, 5);
    assert_int_equal(f->rec.bytes, 3 * 111 + 2 * 222);
    assert_int_equal(f->rec.last.bytes, 222);
    assert_int_equal(f->rec.last.odid, 7);
    assert_int_equal(f->rec.last.version, 10);
    assert_true(f->rec.last.present & FK_FLOW_HAS_EXPORTER);
    char buf[FK_ADDR_STRLEN];
    fk_addr_format(&f->rec.last.exporter, buf, sizeof buf);
    assert_string_equal(buf, "127.0.0.1");
    assert_int_equal(f->st.pending_decoded, 2);
    assert_int_equal(f->st.pending_records, 5);
    assert_int_equal(f->st.pending_expired, 0);
    assert_int_equal(fk__col_sessions_pending_bytes(f->s, &f->a), 0);
    /* Later data decodes directly. */
    fk_col_msg_ipfix(&f->m, 7, 5);
    fk_col_add_data(&f->m, 300, 8, 1, 5, 0);
    assert_int_equal(send_msg(f, &f->a, 5 * SEC), 1);
    fx_free(f);
}

static void pending_is_bounded_in_bytes_and_age(void **state)
{
    (void)state;
    /* Room for about two 200-byte sets per session. */
    fixture *f = fx_new(600);
    for (int i = 0; i < 5; i++) {
        fk_col_msg_ipfix(&f->m, 1, 0);
        fk_col_add_data(&f->m, 400, 20, 10, 1, 0);
        send_msg(f, &f->a, (int64_t)(1 + i) * SEC);
        assert_true(fk__col_sessions_pending_bytes(f->s, &f->a) <= 600);
    }
    assert_int_equal(f->st.pending_sets, 5);
    assert_true(f->st.pending_overflow >= 2);
    uint64_t kept = f->st.pending_sets - f->st.pending_overflow;
    /* Kept sets expire after pending_age (10 s). */
    fk__col_sessions_tick(f->s, 6 * SEC);
    assert_int_equal(f->st.pending_expired, 0);
    fk__col_sessions_tick(f->s, 30 * SEC);
    assert_int_equal(f->st.pending_expired, kept);
    assert_int_equal(fk__col_sessions_pending_bytes(f->s, &f->a), 0);
    /* The template now finds nothing left to decode. */
    fk_col_msg_ipfix(&f->m, 1, 0);
    fk_col_add_template(&f->m, 400, 20);
    assert_int_equal(send_msg(f, &f->a, 31 * SEC), 0);
    /* A set larger than the whole budget is refused outright. */
    fk_col_msg_ipfix(&f->m, 1, 0);
    fk_col_add_data(&f->m, 401, 20, 40, 1, 0);
    uint64_t before = f->st.pending_overflow;
    send_msg(f, &f->a, 32 * SEC);
    assert_int_equal(f->st.pending_overflow, before + 1);
    fx_free(f);
}

static void pending_total_bounds_all_exporters(void **state)
{
    (void)state;
    fixture *f = fx_new(600);
    fk__col_sessions_destroy(f->s);
    f->lim.pending_total = 700;
    assert_int_equal(
        fk__col_sessions_create(&f->s, &fk_col_fake_codec, &f->lim, &f->st, on_flow, &f->rec), 0);
    fk_col_msg_ipfix(&f->m, 1, 0);
    fk_col_add_data(&f->m, 400, 20, 20, 1, 0); /* ~450 bytes kept */
    send_msg(f, &f->a, SEC);
    assert_int_equal(f->st.pending_overflow, 0);
    /* Exporter b has room of its own (600) but not in the total (700). */
    send_msg(f, &f->b, SEC);
    assert_int_equal(f->st.pending_overflow, 1);
    assert_int_equal(fk__col_sessions_pending_bytes(f->s, &f->b), 0);
    /* When a's sets are decoded, the budget is free again. */
    fk_col_msg_ipfix(&f->m, 1, 0);
    fk_col_add_template(&f->m, 400, 20);
    assert_int_equal(send_msg(f, &f->a, SEC), 20);
    fk_col_msg_ipfix(&f->m, 1, 0);
    fk_col_add_data(&f->m, 401, 20, 20, 1, 0);
    send_msg(f, &f->b, SEC);
    assert_true(fk__col_sessions_pending_bytes(f->s, &f->b) > 0);
    fx_free(f);
}

static void pending_off_counts_overflow(void **state)
{
    (void)state;
    fixture *f = fx_new(0);
    fk_col_msg_ipfix(&f->m, 1, 0);
    fk_col_add_data(&f->m, 300, 8, 1, 1, 0);
    send_msg(f, &f->a, SEC);
    assert_int_equal(f->st.pending_sets, 0);
    assert_int_equal(f->st.pending_overflow, 1);
    fx_free(f);
}

static void ipfix_sequence_gaps(void **state)
{
    (void)state;
    fixture *f = fx_new(1 << 16);
    fk_col_msg_ipfix(&f->m, 1, 100);
    fk_col_add_template(&f->m, 256, 4);
    fk_col_add_data(&f->m, 256, 4, 4, 1, 0);
    send_msg(f, &f->a, SEC);
    /* Next expected: 104. Template-only message with 104: no gap, no step. */
    fk_col_msg_ipfix(&f->m, 1, 104);
    fk_col_add_template(&f->m, 257, 4);
    send_msg(f, &f->a, SEC);
    fk_col_msg_ipfix(&f->m, 1, 104);
    fk_col_add_data(&f->m, 256, 4, 2, 1, 0);
    send_msg(f, &f->a, SEC);
    assert_int_equal(f->st.sequence_gaps, 0);
    /* 106 expected, 110 arrives: 4 records lost. */
    fk_col_msg_ipfix(&f->m, 1, 110);
    fk_col_add_data(&f->m, 256, 4, 1, 1, 0);
    send_msg(f, &f->a, SEC);
    assert_int_equal(f->st.sequence_gaps, 1);
    assert_int_equal(f->st.sequence_lost, 4);
    /* A late (older) message is not loss. */
    fk_col_msg_ipfix(&f->m, 1, 108);
    fk_col_add_data(&f->m, 256, 4, 1, 1, 0);
    send_msg(f, &f->a, SEC);
    assert_int_equal(f->st.sequence_gaps, 1);
    /* Another domain keeps its own count; wrap-around is handled. */
    fk_col_msg_ipfix(&f->m, 2, 0xfffffffeu);
    fk_col_add_template(&f->m, 256, 4);
    fk_col_add_data(&f->m, 256, 4, 3, 1, 0);
    send_msg(f, &f->a, SEC);
    fk_col_msg_ipfix(&f->m, 2, 1);
    fk_col_add_data(&f->m, 256, 4, 1, 1, 0);
    send_msg(f, &f->a, SEC);
    assert_int_equal(f->st.sequence_gaps, 1);
    fk_col_msg_ipfix(&f->m, 2, 7);
    send_msg(f, &f->a, SEC);
    assert_int_equal(f->st.sequence_gaps, 2);
    assert_int_equal(f->st.sequence_lost, 4 + 5);
    fx_free(f);
}

static void v9_and_v5_sequence_gaps(void **state)
{
    (void)state;
    fixture *f = fx_new(1 << 16);
    /* v9 counts packets. */
    for (uint32_t seq = 10; seq < 13; seq++) {
        fk_col_msg_v9(&f->m, 5, seq);
        fk_col_add_template(&f->m, 256, 4);
        send_msg(f, &f->a, SEC);
    }
    assert_int_equal(f->st.sequence_gaps, 0);
    fk_col_msg_v9(&f->m, 5, 15);
    fk_col_add_template(&f->m, 256, 4);
    fk_col_add_data(&f->m, 256, 4, 2, 9, 0);
    assert_int_equal(send_msg(f, &f->a, SEC), 2);
    assert_int_equal(f->rec.last.version, 9);
    assert_int_equal(f->rec.last.odid, 5);
    assert_int_equal(f->st.sequence_gaps, 1);
    assert_int_equal(f->st.sequence_lost, 2);
    /* v5 counts flows; engine id names the domain. */
    fk_col_msg_v5(&f->m, 1000, 3, 4);
    assert_int_equal(send_msg(f, &f->b, SEC), 3);
    assert_int_equal(f->rec.last.version, 5);
    assert_int_equal(f->rec.last.odid, 4);
    fk_col_msg_v5(&f->m, 1003, 2, 4);
    send_msg(f, &f->b, SEC);
    assert_int_equal(f->st.sequence_gaps, 1);
    fk_col_msg_v5(&f->m, 1010, 1, 4);
    send_msg(f, &f->b, SEC);
    assert_int_equal(f->st.sequence_gaps, 2);
    assert_int_equal(f->st.sequence_lost, 2 + 5);
    /* Truncated v5 is malformed, not a crash. */
    uint64_t bad = f->st.malformed;
    fk_col_msg_v5(&f->m, 1011, 3, 4);
    fk__col_sessions_message(f->s, &f->b, f->m.buf, 30, SEC);
    assert_int_equal(f->st.malformed, bad + 1);
    fx_free(f);
}

static void templates_are_scoped_by_exporter_and_domain(void **state)
{
    (void)state;
    fixture *f = fx_new(0);
    /* Same template id 256 with different record lengths in two domains
     * of exporter a and in exporter b. */
    fk_col_msg_ipfix(&f->m, 1, 0);
    fk_col_add_template(&f->m, 256, 4);
    send_msg(f, &f->a, SEC);
    fk_col_msg_ipfix(&f->m, 2, 0);
    fk_col_add_template(&f->m, 256, 8);
    send_msg(f, &f->a, SEC);
    fk_col_msg_ipfix(&f->m, 1, 0);
    fk_col_add_template(&f->m, 256, 16);
    send_msg(f, &f->b, SEC);
    /* 48 bytes of data = 12, 6 and 3 records. */
    uint16_t lens[3] = {4, 8, 16};
    uint32_t odids[3] = {1, 2, 1};
    const fk__col_peer *peers[3] = {&f->a, &f->a, &f->b};
    int want[3] = {12, 6, 3};
    for (int i = 0; i < 3; i++) {
        fk_col_msg_ipfix(&f->m, odids[i], 0);
        fk_col_set_begin(&f->m, 256);
        for (int j = 0; j < 12; j++)
            fk_col_put32(&f->m, 1);
        fk_col_set_end(&f->m);
        (void)lens;
        assert_int_equal(send_msg(f, peers[i], SEC), want[i]);
    }
    assert_int_equal(fk__col_sessions_count(f->s), 2);
    fx_free(f);
}

static void udp_templates_expire_tcp_templates_go_with_connection(void **state)
{
    (void)state;
    fixture *f = fx_new(0);
    fk_col_msg_ipfix(&f->m, 1, 0);
    fk_col_add_template(&f->m, 256, 4);
    send_msg(f, &f->a, 1 * SEC);
    fk__col_sessions_tick(f->s, 20 * SEC);
    fk_col_msg_ipfix(&f->m, 1, 0);
    fk_col_add_data(&f->m, 256, 4, 1, 1, 0);
    assert_int_equal(send_msg(f, &f->a, 20 * SEC), 1);
    /* template_timeout is 30 s */
    fk__col_sessions_tick(f->s, 32 * SEC);
    assert_int_equal(f->st.templates_withdrawn, 1);
    assert_int_equal(send_msg(f, &f->a, 33 * SEC), 0);

    /* TCP: no lifetime, but explicit withdrawal and connection close. */
    fk__col_peer t = f->a;
    t.transport = FK__COL_TCP;
    t.conn_id = 1;
    fk_col_msg_ipfix(&f->m, 1, 0);
    fk_col_add_template(&f->m, 256, 4);
    fk_col_add_template(&f->m, 257, 4);
    send_msg(f, &t, 40 * SEC);
    fk__col_sessions_tick(f->s, 1000 * SEC);
    fk_col_msg_ipfix(&f->m, 1, 0);
    fk_col_add_data(&f->m, 256, 4, 1, 1, 0);
    assert_int_equal(send_msg(f, &t, 1000 * SEC), 1);
    fk_col_msg_ipfix(&f->m, 1, 0);
    fk_col_add_template(&f->m, 256, 0); /* withdrawal */
    send_msg(f, &t, 1000 * SEC);
    uint64_t w = f->st.templates_withdrawn;
    fk_col_msg_ipfix(&f->m, 1, 0);
    fk_col_add_data(&f->m, 256, 4, 1, 1, 0);
    assert_int_equal(send_msg(f, &t, 1000 * SEC), 0);
    fk__col_sessions_close(f->s, &t);
    assert_int_equal(f->st.templates_withdrawn, w + 1); /* 257 went with the connection */
    fx_free(f);
}

/* Outputs that keep state per exporter domain hear of every domain that
 * ends with its session: a TCP connection closed, a UDP session timed out
 * (each once, with the session's id); the sessions freed at destroy are
 * not announced (the outputs go with them). */
static void ended_domains_are_announced(void **state)
{
    (void)state;
    fixture *f = fx_new(0);
    fk__col_sessions_set_domain_gone(f->s, on_gone);
    fk__col_peer t = f->a;
    t.transport = FK__COL_TCP;
    t.conn_id = 1;
    for (uint32_t odid = 7; odid <= 8; odid++) {
        fk_col_msg_ipfix(&f->m, odid, 0);
        fk_col_add_template(&f->m, 256, 4);
        send_msg(f, &t, 1 * SEC);
    }
    fk_col_msg_ipfix(&f->m, 9, 0); /* UDP exporter a, domain 9 */
    fk_col_add_template(&f->m, 256, 4);
    send_msg(f, &f->a, 1 * SEC);
    fk_col_msg_ipfix(&f->m, 10, 0); /* UDP exporter b stays */
    fk_col_add_template(&f->m, 256, 4);
    send_msg(f, &f->b, 1 * SEC);
    assert_int_equal(fk__col_sessions_count(f->s), 3);
    assert_int_equal(f->rec.gone, 0);
    fk__col_sessions_close(f->s, &t);
    assert_int_equal(f->rec.gone, 2);
    assert_int_equal(f->rec.gone_odids, 7 + 8);
    uint64_t tcp_sessions = f->rec.gone_sessions;
    assert_true(tcp_sessions > 0 && tcp_sessions % 2 == 0); /* one id, twice */
    fk__col_sessions_close(f->s, &t);                       /* closed already: nothing more */
    assert_int_equal(f->rec.gone, 2);
    /* b keeps its session alive; a's times out (session_timeout 600 s). */
    fk_col_msg_ipfix(&f->m, 10, 0);
    fk_col_add_template(&f->m, 256, 4);
    send_msg(f, &f->b, 500 * SEC);
    fk__col_sessions_tick(f->s, 700 * SEC);
    assert_int_equal(fk__col_sessions_count(f->s), 1);
    assert_int_equal(f->rec.gone, 3);
    assert_int_equal(f->rec.gone_odids, 7 + 8 + 9);
    assert_true(f->rec.gone_sessions - tcp_sessions != tcp_sessions / 2);
    /* a comes back: a new session, whose end is announced again. */
    fk_col_msg_ipfix(&f->m, 9, 0);
    fk_col_add_template(&f->m, 256, 4);
    send_msg(f, &f->a, 701 * SEC);
    fk__col_sessions_tick(f->s, 1400 * SEC);
    assert_int_equal(f->rec.gone, 5); /* a's new session and b's */
    assert_int_equal(f->rec.gone_odids, 7 + 8 + 9 + 9 + 10);
    fk_col_msg_ipfix(&f->m, 11, 0);
    fk_col_add_template(&f->m, 256, 4);
    send_msg(f, &f->b, 1401 * SEC);
    fk__col_sessions_destroy(f->s);
    assert_int_equal(f->rec.gone, 5);
    assert_int_equal(fk_col_fake_live_domains(), 0);
    free(f);
}

static void caps_on_templates_and_sessions(void **state)
{
    (void)state;
    fixture *f = fx_new(0);
    fk_col_msg_ipfix(&f->m, 1, 0);
    for (uint16_t id = 256; id < 256 + 12; id++)
        fk_col_add_template(&f->m, id, 4);
    send_msg(f, &f->a, SEC);
    assert_int_equal(f->st.templates, 8);
    assert_int_equal(f->st.template_limit, 4);
    /* max_sessions = 4: the fifth exporter is refused and counted. */
    for (uint16_t port = 1; port <= 5; port++) {
        fk__col_peer p = f->a;
        p.port = port;
        fk_col_msg_ipfix(&f->m, 1, 0);
        send_msg(f, &p, SEC);
    }
    assert_int_equal(fk__col_sessions_count(f->s), 4);
    assert_int_equal(f->st.exporter_limit, 2);
    /* Silent UDP sessions are forgotten after session_timeout. */
    fk__col_sessions_tick(f->s, 700 * SEC);
    assert_int_equal(fk__col_sessions_count(f->s), 0);
    assert_int_equal(f->st.sessions, 0);
    fx_free(f);
}

static void malformed_and_unsupported_are_counted(void **state)
{
    (void)state;
    fixture *f = fx_new(1 << 10);
    const uint8_t junk[] = {0, 42, 0, 0, 1, 2, 3};
    fk__col_sessions_message(f->s, &f->a, junk, sizeof junk, SEC);
    assert_int_equal(f->st.unsupported, 1);
    fk__col_sessions_message(f->s, &f->a, junk, 2, SEC);
    assert_int_equal(f->st.malformed, 1);
    /* IPFIX length larger than the datagram. */
    fk_col_msg_ipfix(&f->m, 1, 0);
    fk_col_msg_finish(&f->m);
    f->m.buf[3] = 200;
    fk__col_sessions_message(f->s, &f->a, f->m.buf, f->m.len, SEC);
    assert_int_equal(f->st.malformed, 2);
    /* A set whose length runs past the message. */
    fk_col_msg_ipfix(&f->m, 1, 0);
    fk_col_add_template(&f->m, 256, 4);
    fk_col_set_begin(&f->m, 256);
    fk_col_put32(&f->m, 1);
    fk_col_set_end(&f->m);
    f->m.buf[f->m.len - 5] = 0x40;
    send_msg(f, &f->a, SEC);
    assert_int_equal(f->st.malformed, 3);
    assert_int_equal(f->rec.n, 0);
    fx_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(data_before_template_is_decoded_later),
        cmocka_unit_test(pending_is_bounded_in_bytes_and_age),
        cmocka_unit_test(pending_off_counts_overflow),
        cmocka_unit_test(pending_total_bounds_all_exporters),
        cmocka_unit_test(ipfix_sequence_gaps),
        cmocka_unit_test(v9_and_v5_sequence_gaps),
        cmocka_unit_test(templates_are_scoped_by_exporter_and_domain),
        cmocka_unit_test(udp_templates_expire_tcp_templates_go_with_connection),
        cmocka_unit_test(ended_domains_are_announced),
        cmocka_unit_test(caps_on_templates_and_sessions),
        cmocka_unit_test(malformed_and_unsupported_are_counted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
