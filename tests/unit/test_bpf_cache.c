/* The per-CPU flow cache's user-space side (lib/bpf/flow_cache.c) on a
 * slot array of its own (anonymous shared memory standing in for the
 * mmap'ed map): which slots the sweep adds to a flow, what ending a flow
 * adds, marks and frees, and the reaping of slots whose end record was
 * lost. The programs' side runs in tests/integration/capture_ebpf_cache.sh. */
#include <flowkit/flow.h>
#include <string.h>
#include <sys/mman.h>

#include "bpf/flow_cache.h"
#include "core/alloc.h"
#include "fk_test.h"

#define NCPUS 2u
#define PER_CPU 4u

#include "bpf_cache_fixture.h"

static void setup_cache(fk__bpf_cache *c, size_t cap)
{
    memset(c, 0, sizeof *c);
    c->map_len = NCPUS * PER_CPU * sizeof(struct fk__bpf_cache_slot);
    void *m = mmap(NULL, c->map_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    assert_true(m != MAP_FAILED);
    c->slots = m;
    c->ncpus = NCPUS;
    c->per_cpu = PER_CPU;
    c->ends = fk__calloc(cap, sizeof *c->ends);
    c->seen = fk__calloc(NCPUS * PER_CPU, 1);
    c->miss = fk__calloc(NCPUS * PER_CPU, 1);
    c->matched = fk__calloc(NCPUS * PER_CPU, 1);
    c->next = fk__calloc(NCPUS * PER_CPU, sizeof *c->next);
    assert_non_null(c->ends);
    assert_non_null(c->seen);
    assert_non_null(c->miss);
    assert_non_null(c->matched);
    assert_non_null(c->next);
    c->cap = cap;
}

typedef struct ended {
    int n;
    struct fk__bpf_flow_key k[4];
    struct fk__bpf_flow_val v[4];
} ended;

static void on_end(const struct fk__bpf_flow_key *k, const struct fk__bpf_flow_val *v, int reason,
                   void *ctx)
{
    ended *e = ctx;
    assert_int_equal(reason, FK_END_IDLE);
    assert_true(e->n < 4);
    e->k[e->n] = *k;
    e->v[e->n] = *v;
    e->n++;
}

static void merge_same_incarnation(void **state)
{
    (void)state;
    fk__bpf_cache c;
    setup_cache(&c, 4);
    struct fk__bpf_flow_key k = key_of(2);
    put(&c, 0, &k, 1000, FK__BPF_SLOT_ACTIVE, 0, 40, 2, 5000);
    put(&c, 1, &k, 1000, FK__BPF_SLOT_ACTIVE, 1, 70, 3, 7000);
    struct fk__bpf_flow_val v = val_of(1000);
    fk__bpf_cache_merge(&c, &k, &v);
    assert_int_equal(v.bytes[0], 140);
    assert_int_equal(v.packets[0], 3);
    assert_int_equal(v.bytes[1], 70);
    assert_int_equal(v.packets[1], 3);
    assert_int_equal(v.last_ns[0], 5000);
    assert_int_equal(v.last_ns[1], 7000);
    assert_int_equal(v.first_ns[0], 1000); /* first times come from the map only */
    /* another incarnation, a draining slot, another key: not added */
    put(&c, 0, &k, 999, FK__BPF_SLOT_ACTIVE, 0, 40, 2, 9000);
    put(&c, 1, &k, 1000, FK__BPF_SLOT_DRAINING, 0, 40, 2, 9000);
    v = val_of(1000);
    fk__bpf_cache_merge(&c, &k, &v);
    struct fk__bpf_flow_key other = key_of(3);
    fk__bpf_cache_merge(&c, &other, &v);
    assert_int_equal(v.bytes[0], 100);
    assert_int_equal(v.packets[0], 1);
    assert_int_equal(v.last_ns[0], 1000);
    fk__bpf_cache_unmap(&c);
}

static void finish_adds_and_frees(void **state)
{
    (void)state;
    fk__bpf_cache c;
    setup_cache(&c, 4);
    struct fk__bpf_flow_key k = key_of(2), k2 = key_of(9);
    put(&c, 0, &k, 1000, FK__BPF_SLOT_ACTIVE, 0, 40, 2, 5000);
    /* marked by the kernel (a TCP flow it ended) */
    put(&c, 1, &k, 1000, FK__BPF_SLOT_DRAINING, 1, 70, 3, 7000);
    struct fk__bpf_flow_val v = val_of(1000);
    ended e = {0};
    fk__bpf_cache_defer(&c, &k, &v, FK_END_IDLE, on_end, &e);
    assert_int_equal(e.n, 0); /* not before finish */
    /* k2's incarnation 2000 is not ended: its slot stays */
    if (slot(&c, 0, &k2) != slot(&c, 0, &k))
        put(&c, 0, &k2, 2000, FK__BPF_SLOT_ACTIVE, 0, 5, 1, 6000);
    fk__bpf_cache_finish(&c, on_end, &e);
    assert_int_equal(e.n, 1);
    assert_memory_equal(&e.k[0], &k, sizeof k);
    assert_int_equal(e.v[0].bytes[0], 140);
    assert_int_equal(e.v[0].packets[0], 3);
    assert_int_equal(e.v[0].bytes[1], 70);
    assert_int_equal(e.v[0].packets[1], 3);
    assert_int_equal(e.v[0].last_ns[1], 7000);
    assert_int_equal(slot(&c, 0, &k)->state, FK__BPF_SLOT_EMPTY);
    assert_int_equal(slot(&c, 1, &k)->state, FK__BPF_SLOT_EMPTY);
    if (slot(&c, 0, &k2) != slot(&c, 0, &k))
        assert_int_equal(slot(&c, 0, &k2)->state, FK__BPF_SLOT_ACTIVE);
    assert_true(c.grace_periods >= 2);
    /* nothing deferred: no grace period */
    uint64_t gp = c.grace_periods;
    fk__bpf_cache_finish(&c, on_end, &e);
    assert_int_equal(c.grace_periods, gp);
    fk__bpf_cache_unmap(&c);
}

static void finish_keeps_next_incarnation(void **state)
{
    (void)state;
    fk__bpf_cache c;
    setup_cache(&c, 4);
    struct fk__bpf_flow_key k = key_of(2);
    /* the key came back (incarnation 2000) and took CPU 0's slot */
    put(&c, 0, &k, 2000, FK__BPF_SLOT_ACTIVE, 0, 40, 2, 5000);
    struct fk__bpf_flow_val v = val_of(1000);
    ended e = {0};
    fk__bpf_cache_defer(&c, &k, &v, FK_END_IDLE, on_end, &e);
    fk__bpf_cache_finish(&c, on_end, &e);
    assert_int_equal(e.n, 1);
    assert_int_equal(e.v[0].bytes[0], 100);
    assert_int_equal(e.v[0].packets[0], 1);
    assert_int_equal(slot(&c, 0, &k)->state, FK__BPF_SLOT_ACTIVE);
    assert_int_equal(slot(&c, 0, &k)->bytes[0], 40);
    fk__bpf_cache_unmap(&c);
}

static void defer_grows(void **state)
{
    (void)state;
    fk__bpf_cache c;
    setup_cache(&c, 1);
    ended e = {0};
    for (uint8_t i = 0; i < 3; i++) {
        struct fk__bpf_flow_key k = key_of((uint8_t)(20 + i));
        struct fk__bpf_flow_val v = val_of(1000u + i);
        fk__bpf_cache_defer(&c, &k, &v, FK_END_IDLE, on_end, &e);
    }
    assert_int_equal(e.n, 0);
    assert_true(c.cap >= 3);
    fk__bpf_cache_finish(&c, on_end, &e);
    assert_int_equal(e.n, 3);
    for (int i = 0; i < 3; i++)
        assert_int_equal(e.k[i].b[3], 20 + i);
    fk__bpf_cache_unmap(&c);
}

static void reap_lost_ends(void **state)
{
    (void)state;
    fk__bpf_cache c;
    setup_cache(&c, 4);
    struct fk__bpf_flow_key k = key_of(2), k2 = key_of(7);
    put(&c, 1, &k, 1000, FK__BPF_SLOT_DRAINING, 0, 40, 2, 5000);
    fk__bpf_cache_reap(&c); /* its end record may still be in the ring */
    assert_int_equal(slot(&c, 1, &k)->state, FK__BPF_SLOT_DRAINING);
    assert_int_equal(c.reaped, 0);
    fk__bpf_cache_reap(&c); /* a sweep later: lost */
    assert_int_equal(slot(&c, 1, &k)->state, FK__BPF_SLOT_EMPTY);
    assert_int_equal(c.reaped, 1);
    /* freed in between (its record came): a later DRAINING starts over */
    put(&c, 0, &k2, 1000, FK__BPF_SLOT_DRAINING, 0, 40, 2, 5000);
    fk__bpf_cache_reap(&c);
    slot(&c, 0, &k2)->state = FK__BPF_SLOT_EMPTY;
    fk__bpf_cache_reap(&c);
    slot(&c, 0, &k2)->state = FK__BPF_SLOT_DRAINING;
    fk__bpf_cache_reap(&c);
    assert_int_equal(slot(&c, 0, &k2)->state, FK__BPF_SLOT_DRAINING);
    assert_int_equal(c.reaped, 1);
    fk__bpf_cache_unmap(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(merge_same_incarnation),
        cmocka_unit_test(finish_adds_and_frees),
        cmocka_unit_test(finish_keeps_next_incarnation),
        cmocka_unit_test(defer_grows),
        cmocka_unit_test(reap_lost_ends),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
