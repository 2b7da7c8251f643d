/* The attribution engine with scripted sources (source.h) instead of the
 * host's socket table: the order sources are asked in, owners pushed after
 * a connection's first packet (they take the bytes counted so far), the
 * owner history for sockets already gone, and process information from
 * describe or, when the process is gone, the owner's comm. */
#include <flowkit/flowkit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "fk_test.h"
#include "proc/attrib.h"
#include "proc/ledger.h"
#include "proc/source.h"

#define SEC 1000000000LL

static int64_t now_sec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec;
}

/* A source that answers from a fixed table and pushes queued events. */
typedef struct script {
    fk__source base;
    fk__tkey known[4];
    fk__owner known_owner[4];
    size_t n_known;
    int unknown_answer; /* FK__SRC_NONE or FK__SRC_LATER */
    fk__owner_event queue[8];
    size_t n_queue;
    unsigned lookups, drained;
} script;

static int sc_lookup(fk__source *s, const fk__tkey *k, unsigned flags, int64_t ts_ns,
                     fk__owner *out)
{
    (void)ts_ns;
    script *x = (script *)s;
    x->lookups++;
    if (flags & FK__LOOKUP_LISTENER)
        return FK__SRC_NONE;
    for (size_t i = 0; i < x->n_known; i++) {
        if (fk__tkey_eq(&x->known[i], k)) {
            *out = x->known_owner[i];
            return FK__SRC_FOUND;
        }
    }
    return x->unknown_answer;
}

static size_t sc_drain(fk__source *s, fk__owner_event_cb cb, void *user)
{
    script *x = (script *)s;
    size_t n = x->n_queue;
    for (size_t i = 0; i < n; i++)
        cb(&x->queue[i], user);
    x->n_queue = 0;
    x->drained += (unsigned)n;
    return n;
}

static int sc_describe(fk__source *s, uint32_t pid, fk__proc_desc *out)
{
    (void)s;
    if (pid != 700)
        return FK__SRC_NONE; /* only 700 is alive */
    if (out) {
        snprintf(out->name, sizeof out->name, "alive");
        out->uid = 1000;
        out->exe = fk__strdup("/usr/bin/alive");
    }
    return FK__SRC_FOUND;
}

static void sc_get_stats(fk__source *s, fk__source_stats *out)
{
    out->events += ((script *)s)->drained;
}

static void sc_destroy(fk__source *s)
{
    (void)s; /* the test owns it */
}

static const fk__source_ops script_ops = {
    .name = "script",
    .lookup = sc_lookup,
    .drain = sc_drain,
    .describe = sc_describe,
    .get_stats = sc_get_stats,
    .destroy = sc_destroy,
};

static fk__attrib *engine_with(script *a, script *b)
{
    fk__attrib_config c;
    fk__attrib_config_default(&c);
    c.use_netlink = 0;
    c.no_default_source = 1;
    c.history_seconds = 10;
    fk__attrib *e;
    assert_int_equal(fk__attrib_create(&e, &c), 0);
    a->base.ops = &script_ops;
    assert_int_equal(fk__attrib_add_source(e, &a->base), 0);
    if (b) {
        b->base.ops = &script_ops;
        assert_int_equal(fk__attrib_add_source(e, &b->base), 0);
    }
    fk_addr l;
    fk_addr_parse("10.9.0.1", &l);
    assert_int_equal(fk__attrib_add_local(e, &l), 0);
    return e;
}

static void key(fk__tkey *k, unsigned lport, unsigned rport)
{
    fk_addr l, r;
    fk_addr_parse("10.9.0.1", &l);
    fk_addr_parse("10.9.0.2", &r);
    fk__tkey_make(k, 6, &l, (uint16_t)lport, &r, (uint16_t)rport);
}

static fk__owner owner(uint32_t tgid, const char *comm)
{
    fk__owner o;
    memset(&o, 0, sizeof o);
    o.tgid = o.pid = tgid;
    o.uid = 1000;
    snprintf(o.comm, sizeof o.comm, "%s", comm);
    o.time_ns = 1000 * SEC;
    return o;
}

/* One TCP packet of the local port lport: sent (out) or received. */
static uint32_t pkt(fk__attrib *e, unsigned lport, unsigned rport, bool out, unsigned len,
                    int64_t ts)
{
    fk__attrib_pkt p;
    memset(&p, 0, sizeof p);
    fk_addr_parse("10.9.0.1", out ? &p.src : &p.dst);
    fk_addr_parse("10.9.0.2", out ? &p.dst : &p.src);
    p.sport = (uint16_t)(out ? lport : rport);
    p.dport = (uint16_t)(out ? rport : lport);
    p.proto = 6;
    p.ip_len = len;
    p.ts_ns = ts;
    uint32_t pid;
    assert_int_equal(fk__attrib_packet(e, &p, &pid, NULL), 0);
    return pid;
}

static const fk_rank_row *row_of(const fk_rank_snapshot *s, uint32_t pid)
{
    for (size_t i = 0; i < s->count; i++)
        if (s->rows[i].pid == pid)
            return &s->rows[i];
    return NULL;
}

static void sources_are_asked_in_order(void **state)
{
    (void)state;
    script a = {.unknown_answer = FK__SRC_NONE}, b = {.unknown_answer = FK__SRC_NONE};
    key(&a.known[0], 1000, 80);
    a.known_owner[0] = owner(700, "first");
    a.n_known = 1;
    key(&b.known[0], 1000, 80);
    b.known_owner[0] = owner(701, "second");
    key(&b.known[1], 1001, 80);
    b.known_owner[1] = owner(702, "second");
    b.n_known = 2;
    fk__attrib *e = engine_with(&a, &b);
    assert_int_equal(pkt(e, 1000, 80, true, 100, 1000 * SEC), 700); /* a answers first */
    assert_int_equal(b.lookups, 0);
    assert_int_equal(pkt(e, 1001, 80, true, 100, 1000 * SEC), 702); /* a does not know it */
    fk_rank_snapshot *s;
    assert_int_equal(fk__attrib_rank(e, 0, 1, 0, FK_RANK_SORT_BYTES, &s), 0);
    const fk_rank_row *r = row_of(s, 700);
    assert_non_null(r);
    assert_string_equal(r->name, "alive"); /* describe wins over comm */
    assert_string_equal(r->exe, "/usr/bin/alive");
    r = row_of(s, 702);
    assert_non_null(r);
    assert_string_equal(r->name, "second"); /* gone: the owner's comm */
    assert_int_equal(r->uid, 1000);
    fk_rank_snapshot_destroy(s);
    fk__attrib_destroy(e);
}

static void late_owner_takes_the_bytes(void **state)
{
    (void)state;
    script a = {.unknown_answer = FK__SRC_LATER};
    fk__attrib *e = engine_with(&a, NULL);
    int64_t t = 2000 * SEC;
    /* Unknown at its first packets: counted as unknown TCP. */
    assert_int_equal(pkt(e, 40000, 443, true, 400, t), 0);
    assert_int_equal(pkt(e, 40000, 443, false, 1500, t), 0);
    /* The source learns the owner later and pushes it. */
    key(&a.queue[0].key, 40000, 443);
    a.queue[0].owner = owner(703, "late");
    a.n_queue = 1;
    assert_int_equal(pkt(e, 40000, 443, false, 60, t + SEC / 10), 703);
    fk_rank_snapshot *s;
    assert_int_equal(fk__attrib_rank(e, 0, 1, 0, FK_RANK_SORT_BYTES, &s), 0);
    assert_int_equal(s->count, 1); /* unknown TCP is empty again, so absent */
    assert_int_equal(s->rows[0].pid, 703);
    assert_string_equal(s->rows[0].name, "late");
    assert_int_equal(s->rows[0].sent_bytes, 400);
    assert_int_equal(s->rows[0].recv_bytes, 1560);
    assert_int_equal(s->rows[0].conn_count, 1);
    fk_rank_snapshot_destroy(s);
    /* A flow record of that connection names it too. */
    char name[FK_PROCESS_NAME_MAX];
    fk_addr l, r;
    fk_addr_parse("10.9.0.1", &l);
    fk_addr_parse("10.9.0.2", &r);
    assert_int_equal(fk__attrib_owner(e, 6, &r, 443, &l, 40000, name), 703);
    assert_string_equal(name, "late");
    fk__attrib_stats st;
    fk__attrib_get_stats(e, &st);
    assert_int_equal(st.fixed_up, 1);
    assert_int_equal(st.resolved_late, 1);
    assert_int_equal(st.events, 1);
    assert_int_equal(st.hits, 1);
    assert_int_equal(st.misses, 2);
    fk__attrib_destroy(e);
}

static void history_serves_sockets_already_gone(void **state)
{
    (void)state;
    script a = {.unknown_answer = FK__SRC_NONE};
    fk__attrib *e = engine_with(&a, NULL);
    /* The owner arrives before the first packet, and the socket is gone
     * when that packet is processed: the history answers. */
    key(&a.queue[0].key, 40001, 443);
    a.queue[0].owner = owner(704, "short");
    a.n_queue = 1;
    assert_int_equal(fk__attrib_tick(e, 3000 * SEC), 0);
    assert_int_equal(pkt(e, 40001, 443, true, 200, 3000 * SEC), 704);
    fk__attrib_stats st;
    fk__attrib_get_stats(e, &st);
    assert_int_equal(st.history_hits, 1);
    assert_int_equal(st.fixed_up, 0); /* no connection existed to move */
    fk__attrib_destroy(e);
}

/* An allocator that fails the first allocation of one size (a row). */
static size_t fail_size;
static void *fail_malloc(size_t size, void *user)
{
    (void)user;
    if (fail_size && size == fail_size) {
        fail_size = 0;
        return NULL;
    }
    return malloc(size);
}
static void *fail_realloc(void *p, size_t size, void *user)
{
    (void)user;
    return realloc(p, size);
}
static void fail_free(void *p, void *user)
{
    (void)user;
    free(p);
}

/* #14: a connection whose unknown row could not be allocated has no owner;
 * an owner event then makes a row that never counted a packet its owner.
 * The collection must not free that row while the connection points at it
 * (before the fix it did: the next packet wrote into freed memory, which
 * ASan reports, and the bytes were lost). */
static void collection_keeps_rows_that_own_connections(void **state)
{
    (void)state;
    script a = {.unknown_answer = FK__SRC_LATER};
    fk__attrib *e = engine_with(&a, NULL);
    int64_t t = 4000 * SEC;
    static const fk_allocator failing = {fail_malloc, fail_realloc, fail_free, NULL};
    fail_size = sizeof(fk__row);
    assert_int_equal(fk_set_allocator(&failing), 0);
    assert_int_equal(pkt(e, 40002, 443, true, 100, t), 0); /* no row for unknown TCP */
    fk_set_allocator(NULL);
    assert_int_equal(fail_size, 0); /* the row allocation did fail */
    /* The owner comes late; its process (705) is gone already. */
    key(&a.queue[0].key, 40002, 443);
    a.queue[0].owner = owner(705, "gone");
    a.n_queue = 1;
    assert_int_equal(fk__attrib_tick(e, t + SEC / 10), 0);
    assert_int_equal(fk__attrib_check(e), 0);
    fk__attrib_gc(e, now_sec() + 3600);
    assert_int_equal(fk__attrib_check(e), 0);
    assert_int_equal(pkt(e, 40002, 443, true, 300, t + SEC / 5), 705);
    fk_rank_snapshot *s;
    assert_int_equal(fk__attrib_rank(e, 0, 1, 0, FK_RANK_SORT_BYTES, &s), 0);
    const fk_rank_row *r = row_of(s, 705);
    assert_non_null(r);
    assert_string_equal(r->name, "gone");
    assert_int_equal(r->sent_bytes, 300);
    fk_rank_snapshot_destroy(s);
    /* Once the connection expires nothing holds the row: with packets it
     * stays (its totals), and the rule still holds. */
    assert_int_equal(fk__attrib_tick(e, t + 200 * SEC), 0);
    fk__attrib_gc(e, now_sec() + 7200);
    assert_int_equal(fk__attrib_check(e), 0);
    fk__attrib_destroy(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sources_are_asked_in_order),
        cmocka_unit_test(late_owner_takes_the_bytes),
        cmocka_unit_test(history_serves_sockets_already_gone),
        cmocka_unit_test(collection_keeps_rows_that_own_connections),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
