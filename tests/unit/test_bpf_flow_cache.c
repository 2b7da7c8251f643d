/* The per-CPU flow cache's user-space side (lib/bpf/flow_cache.c) with a
 * memfd standing in for the mmap'ed slot array (fk__bpf_cache_map maps it
 * as it maps the kernel's): what the sweep's merge adds to a flow, with and
 * without its index; what ending a flow adds, frees and leaves alone; the
 * orphan safety net (a slot of a (key, gen) no entry has is drained after
 * two sweeps, emitted on its own and counted); and the bound on the
 * deferred list. The programs' side runs in capture_ebpf_cache.sh. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <flowkit/flow.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bpf/flow_cache.h"
#include "fk_test.h"

#define NCPUS 4u
#define PER_CPU 8u

#include "bpf_cache_fixture.h"

static void open_cache(fk__bpf_cache *c)
{
    int fd = memfd_create("fk_cache", 0);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, (off_t)(NCPUS * PER_CPU * sizeof(struct fk__bpf_cache_slot))),
                     0);
    assert_int_equal(fk__bpf_cache_map(c, fd, NCPUS, PER_CPU), 0);
    close(fd); /* the mapping keeps it */
}

typedef struct ended {
    int n;
    int reason[4];
    struct fk__bpf_flow_key k[4];
    struct fk__bpf_flow_val v[4];
} ended;

static void on_end(const struct fk__bpf_flow_key *k, const struct fk__bpf_flow_val *v, int reason,
                   void *ctx)
{
    ended *e = ctx;
    if (e->n < 4) {
        e->k[e->n] = *k;
        e->v[e->n] = *v;
        e->reason[e->n] = reason;
    }
    e->n++;
}

/* k's slots of gen 1000 on CPUs 0 and 1 (side 0 and side 1), a later
 * incarnation's on CPU 2, a DRAINING one on CPU 3. */
static void plant(fk__bpf_cache *c, const struct fk__bpf_flow_key *k)
{
    put(c, 0, k, 1000, FK__BPF_SLOT_ACTIVE, 0, 40, 2, 5000);
    put(c, 1, k, 1000, FK__BPF_SLOT_ACTIVE, 1, 70, 3, 7000);
    put(c, 2, k, 2000, FK__BPF_SLOT_ACTIVE, 0, 11, 1, 9000);
    put(c, 3, k, 1000, FK__BPF_SLOT_DRAINING, 0, 13, 1, 9000);
}

static void check_merged(const struct fk__bpf_flow_val *v)
{
    assert_int_equal(v->bytes[0], 140);
    assert_int_equal(v->packets[0], 3);
    assert_int_equal(v->bytes[1], 70);
    assert_int_equal(v->packets[1], 3);
    assert_int_equal(v->last_ns[0], 5000);
    assert_int_equal(v->last_ns[1], 7000);
    assert_int_equal(v->first_ns[0], 1000); /* first times come from the map only */
}

static void merge_same_incarnation(void **state)
{
    (void)state;
    fk__bpf_cache c;
    open_cache(&c);
    struct fk__bpf_flow_key k = key_of(2), other = key_of(3);
    plant(&c, &k);
    struct fk__bpf_flow_val v = val_of(1000);
    fk__bpf_cache_merge(&c, &k, &v); /* no index: a probe per CPU */
    check_merged(&v);
    v = val_of(1000);
    fk__bpf_cache_index(&c); /* the sweep's way */
    fk__bpf_cache_merge(&c, &k, &v);
    check_merged(&v);
    struct fk__bpf_flow_val w = val_of(1000);
    fk__bpf_cache_merge(&c, &other, &w);
    assert_int_equal(w.packets[0], 1);
    fk__bpf_cache_unmap(&c);
}

static void finish_adds_once_and_frees(void **state)
{
    (void)state;
    fk__bpf_cache c;
    open_cache(&c);
    struct fk__bpf_flow_key k = key_of(2);
    plant(&c, &k);
    ended e = {0};
    struct fk__bpf_flow_val v = val_of(1000);
    fk__bpf_cache_defer(&c, &k, &v, FK_END_IDLE, on_end, &e);
    assert_int_equal(e.n, 0);
    fk__bpf_cache_finish(&c, on_end, &e);
    assert_int_equal(e.n, 1);
    assert_int_equal(e.reason[0], FK_END_IDLE);
    /* CPUs 0, 1 and the DRAINING CPU 3 (marked by the kernel) */
    assert_int_equal(e.v[0].packets[0], 1 + 2 + 1);
    assert_int_equal(e.v[0].packets[1], 3);
    assert_int_equal(c.grace_periods, 2);
    assert_int_equal(slot(&c, 0, &k)->state, FK__BPF_SLOT_EMPTY);
    assert_int_equal(slot(&c, 1, &k)->state, FK__BPF_SLOT_EMPTY);
    assert_int_equal(slot(&c, 3, &k)->state, FK__BPF_SLOT_EMPTY);
    assert_int_equal(slot(&c, 2, &k)->state, FK__BPF_SLOT_ACTIVE); /* the next incarnation's */
    fk__bpf_cache_finish(&c, on_end, &e); /* nothing deferred: nothing, no wait */
    assert_int_equal(e.n, 1);
    assert_int_equal(c.grace_periods, 2);
    assert_int_equal(c.orphans, 0);
    fk__bpf_cache_unmap(&c);
}

/* One sweep of a map holding only key `live`'s entry of gen 2000. */
static void sweep(fk__bpf_cache *c, const struct fk__bpf_flow_key *live, bool complete,
                  bool detached, ended *e)
{
    fk__bpf_cache_index(c);
    struct fk__bpf_flow_val v = val_of(2000);
    fk__bpf_cache_merge(c, live, &v);
    fk__bpf_cache_orphans(c, complete, detached, on_end, e);
    fk__bpf_cache_finish(c, on_end, e);
}

static void orphan_drained_after_two_sweeps(void **state)
{
    (void)state;
    fk__bpf_cache c;
    open_cache(&c);
    struct fk__bpf_flow_key k = key_of(2), live = key_of(4);
    put(&c, 0, &k, 12345, FK__BPF_SLOT_ACTIVE, 1, 500, 50, 90000); /* no entry has it */
    put(&c, 1, &live, 2000, FK__BPF_SLOT_ACTIVE, 0, 60, 6, 8000);
    ended e = {0};
    sweep(&c, &live, true, false, &e);
    assert_int_equal(e.n, 0); /* one sweep: the entry may just have been missed */
    sweep(&c, &live, false, false, &e);
    assert_int_equal(e.n, 0); /* a sweep that did not read the whole map counts for nothing */
    sweep(&c, &live, true, false, &e);
    assert_int_equal(e.n, 1);
    assert_memory_equal(&e.k[0], &k, sizeof k);
    assert_int_equal(e.reason[0], FK_END_FORCED);
    assert_int_equal(e.v[0].packets[1], 50);
    assert_int_equal(e.v[0].bytes[1], 500);
    assert_int_equal(e.v[0].packets[0], 0);
    assert_int_equal(e.v[0].init_side, 1);
    assert_int_equal(e.v[0].first_ns[1], 12345); /* the gen: a time within the flow */
    assert_int_equal(e.v[0].last_ns[1], 90000);
    assert_int_equal(c.orphans, 1);
    assert_int_equal(slot(&c, 0, &k)->state, FK__BPF_SLOT_EMPTY);
    assert_int_equal(slot(&c, 1, &live)->state, FK__BPF_SLOT_ACTIVE); /* matched each time */
    sweep(&c, &live, true, false, &e);
    sweep(&c, &live, true, false, &e);
    assert_int_equal(e.n, 1);
    /* with the programs detached (the final flush) one sweep is enough */
    put(&c, 2, &k, 777, FK__BPF_SLOT_ACTIVE, 0, 5, 1, 100);
    sweep(&c, &live, true, true, &e);
    assert_int_equal(e.n, 2);
    assert_int_equal(e.v[1].packets[0], 1);
    assert_int_equal(e.v[1].first_ns[0], 100); /* gen 777 is after its last: not a time */
    assert_int_equal(c.orphans, 2);
    fk__bpf_cache_unmap(&c);
}

/* A slot freed and claimed again between two sweeps starts afresh. */
static void orphan_count_restarts_on_reclaim(void **state)
{
    (void)state;
    fk__bpf_cache c;
    open_cache(&c);
    struct fk__bpf_flow_key k = key_of(2), live = key_of(4);
    ended e = {0};
    put(&c, 0, &k, 12345, FK__BPF_SLOT_ACTIVE, 0, 5, 1, 100000);
    sweep(&c, &live, true, false, &e);
    slot(&c, 0, &k)->state = FK__BPF_SLOT_EMPTY; /* as a kernel restart would leave it */
    sweep(&c, &live, true, false, &e);
    put(&c, 0, &k, 12345, FK__BPF_SLOT_ACTIVE, 0, 5, 1, 100000);
    sweep(&c, &live, true, false, &e);
    assert_int_equal(e.n, 0);
    sweep(&c, &live, true, false, &e);
    assert_int_equal(e.n, 1);
    fk__bpf_cache_unmap(&c);
}

static void deferred_list_is_bounded(void **state)
{
    (void)state;
    fk__bpf_cache c;
    open_cache(&c);
    ended e = {0};
    struct fk__bpf_flow_key k = key_of(2);
    for (uint32_t i = 0; i < FK__BPF_CACHE_ENDS_MAX; i++) {
        struct fk__bpf_flow_val v = val_of(1000 + i);
        fk__bpf_cache_defer(&c, &k, &v, FK_END_IDLE, on_end, &e);
    }
    assert_int_equal(e.n, 0);
    assert_int_equal(c.nends, FK__BPF_CACHE_ENDS_MAX);
    struct fk__bpf_flow_val v = val_of(1);
    fk__bpf_cache_defer(&c, &k, &v, FK_END_IDLE, on_end, &e); /* full: the batch first */
    assert_int_equal(e.n, FK__BPF_CACHE_ENDS_MAX);
    assert_int_equal(c.nends, 1);
    assert_true(c.cap <= FK__BPF_CACHE_ENDS_MAX);
    fk__bpf_cache_finish(&c, on_end, &e);
    assert_int_equal(e.n, FK__BPF_CACHE_ENDS_MAX + 1);
    fk__bpf_cache_unmap(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(merge_same_incarnation),
        cmocka_unit_test(finish_adds_once_and_frees),
        cmocka_unit_test(orphan_drained_after_two_sweeps),
        cmocka_unit_test(orphan_count_restarts_on_reclaim),
        cmocka_unit_test(deferred_list_is_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
