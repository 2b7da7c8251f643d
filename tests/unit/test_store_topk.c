/* The store's space-saving summary (lib/store/topk.c) against a naive
 * reference written here: the same weighted stream into both, the same
 * keys and counts must come out. The summary's heap keeps lower bounds of
 * its entries' bytes (hits do not touch it) and settles the root before an
 * eviction; the reference scans every entry for the smallest. Weights are
 * random 40-bit numbers, so the smallest entry is unique and both must
 * evict the same one. Also: the space-saving bounds against exact counts;
 * the batch-merged summary (fk__ss_add_batch) against exact counts and its
 * bound; a store that batches top-K updates answers as one that adds
 * every flow at once while the summaries hold every key; the per-address table's LRU order; the
 * time series, whose buckets are zeroed as the ring reaches them, against exact sums; key
 * equality; an address's block set up empty, new or reused. */
#include <stdlib.h>
#include <string.h>

#include "fk_test.h"
#include "store/store_int.h"
#include "store_fixture.h"
#include "store/series.h"
#include "store/topk.h"

#define CAP 16
#define KEYS 200

typedef struct ref_entry {
    uint32_t key;
    uint64_t bytes, error;
} ref_entry;

typedef struct ref_ss {
    ref_entry e[CAP];
    uint32_t n;
} ref_ss;

static void ref_add(ref_ss *r, uint32_t key, uint64_t w)
{
    for (uint32_t i = 0; i < r->n; i++)
        if (r->e[i].key == key) {
            r->e[i].bytes += w;
            return;
        }
    if (r->n < CAP) {
        r->e[r->n++] = (ref_entry){key, w, 0};
        return;
    }
    uint32_t m = 0;
    for (uint32_t i = 1; i < CAP; i++)
        if (r->e[i].bytes < r->e[m].bytes)
            m = i;
    r->e[m] = (ref_entry){key, r->e[m].bytes + w, r->e[m].bytes};
}

static fk__skey key_of(uint32_t k)
{
    fk__skey x;
    memset(&x, 0, sizeof x);
    memcpy(x.b, &k, sizeof k);
    return x;
}

/* A skewed stream: key k about as often as 1 / (1 + k % 50). */
static void run_stream(uint64_t seed, int n)
{
    void *mem = calloc(1, fk__ss_mem(CAP));
    assert_non_null(mem);
    fk__ss ss;
    fk__ss_attach(&ss, mem, CAP, 4);
    ref_ss ref;
    memset(&ref, 0, sizeof ref);
    static uint64_t truth[KEYS];
    memset(truth, 0, sizeof truth);
    uint64_t total = 0, evictions = 0;
    for (int i = 0; i < n; i++) {
        uint32_t k = (uint32_t)(rnd(&seed) % KEYS);
        if (rnd(&seed) % (1 + k % 50) != 0)
            k %= 10; /* heavy hitters: keys 0..9 */
        uint64_t w = rnd(&seed) >> 24;
        fk__skey key = key_of(k);
        evictions += (uint64_t)fk__ss_add(&ss, &key, fk__ss_hash(&key, 4), w, 1, 1);
        ref_add(&ref, k, w);
        truth[k] += w;
        total += w;
    }
    assert_true(evictions > 0);
    assert_int_equal(ss.n, ref.n);
    uint64_t sum = 0;
    for (uint32_t i = 0; i < ref.n; i++) {
        fk__skey key = key_of(ref.e[i].key);
        const fk__ss_entry *e = fk__ss_find(&ss, &key);
        assert_non_null(e);
        assert_int_equal(e->bytes, ref.e[i].bytes);
        assert_int_equal(e->error, ref.e[i].error);
        /* never below the truth, at most error above it */
        assert_true(e->bytes >= truth[ref.e[i].key]);
        assert_true(e->bytes - e->error <= truth[ref.e[i].key]);
        sum += e->bytes;
    }
    assert_int_equal(sum, total); /* every byte is counted once */
    for (uint32_t k = 0; k < KEYS; k++) {
        fk__skey key = key_of(k);
        if (truth[k] > total / CAP) /* a heavy hitter is always held */
            assert_non_null(fk__ss_find(&ss, &key));
    }
    free(mem);
}

static void test_same_as_reference(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 20; seed++)
        run_stream(seed * 0x9e3779b97f4a7c15ull, 20000);
}

/* Distinct keys only (every add after the first CAP evicts). */
static void test_all_distinct(void **state)
{
    (void)state;
    void *mem = calloc(1, fk__ss_mem(CAP));
    assert_non_null(mem);
    fk__ss ss;
    fk__ss_attach(&ss, mem, CAP, 4);
    ref_ss ref;
    memset(&ref, 0, sizeof ref);
    uint64_t seed = 7, evictions = 0;
    for (uint32_t k = 0; k < 5000; k++) {
        uint64_t w = rnd(&seed) >> 24;
        fk__skey key = key_of(k);
        evictions += (uint64_t)fk__ss_add(&ss, &key, fk__ss_hash(&key, 4), w, 1, 1);
        ref_add(&ref, k, w);
    }
    assert_int_equal(evictions, 5000 - CAP);
    for (uint32_t i = 0; i < CAP; i++) {
        fk__skey key = key_of(ref.e[i].key);
        const fk__ss_entry *e = fk__ss_find(&ss, &key);
        assert_non_null(e);
        assert_int_equal(e->bytes, ref.e[i].bytes);
    }
    free(mem);
}

/* Batch-merged space-saving (fk__ss_add_batch) against exact counts:
 * batches of random sizes (1 to BATCH items, with repeats of a key inside
 * a batch). After every batch, each entry must be at least its key's true
 * count and at most `error` above it; error at most total / CAP (the
 * bound docs/store.md states); the counts sum to at most the total; every
 * key with more than total / CAP is held; the index finds every entry;
 * evictions = keys that found the summary full. */
#define BATCH 64
static void batch_stream(uint64_t seed, int n, bool distinct)
{
    void *mem = calloc(1, fk__ss_mem(CAP));
    void *xm = calloc(1, fk__ss_scratch_mem(BATCH, CAP));
    assert_non_null(mem);
    assert_non_null(xm);
    fk__ss ss;
    fk__ss_attach(&ss, mem, CAP, 4);
    fk__ss_scratch x;
    fk__ss_scratch_attach(&x, xm, BATCH, CAP);
    uint64_t *truth = calloc((size_t)n + KEYS, sizeof *truth);
    assert_non_null(truth);
    fk__ss_item items[BATCH];
    uint32_t nb = 0, want = 1 + (uint32_t)(rnd(&seed) % BATCH),
             nkeys = distinct ? (uint32_t)n : KEYS;
    uint64_t total = 0, evictions = 0;
    for (int i = 0; i < n; i++) {
        uint32_t k = distinct ? (uint32_t)i : (uint32_t)(rnd(&seed) % KEYS);
        if (!distinct && rnd(&seed) % (1 + k % 50) != 0)
            k %= 10; /* heavy hitters: keys 0..9 */
        uint64_t w = 1 + (rnd(&seed) >> 44);
        truth[k] += w;
        total += w;
        items[nb] = (fk__ss_item){key_of(k), 0, w, 1, 1};
        items[nb].h = fk__ss_hash(&items[nb].key, 4);
        if (++nb < want && i + 1 < n)
            continue;
        evictions += fk__ss_add_batch(&ss, items, nb, &x);
        nb = 0;
        want = 1 + (uint32_t)(rnd(&seed) % BATCH);
        uint64_t sum = 0;
        for (uint32_t e = 0; e < ss.n; e++) {
            uint32_t kk;
            memcpy(&kk, ss.e[e].key.b, sizeof kk);
            assert_true(ss.e[e].bytes >= truth[kk]);
            assert_true(ss.e[e].bytes - ss.e[e].error <= truth[kk]);
            assert_true(ss.e[e].error * CAP <= total);
            assert_ptr_equal(fk__ss_find(&ss, &ss.e[e].key), &ss.e[e]);
            sum += ss.e[e].bytes;
        }
        assert_true(sum <= total);
        if (i % 997 == 0 || i + 1 == n)
            for (uint32_t kk = 0; kk < nkeys; kk++)
                if (truth[kk] * CAP > total) {
                    fk__skey key = key_of(kk);
                    assert_non_null(fk__ss_find(&ss, &key));
                }
    }
    assert_int_equal(ss.n, CAP);
    assert_true(evictions > 0);
    if (distinct)
        assert_true(evictions >= (uint64_t)n - CAP);
    free(truth);
    free(mem);
    free(xm);
}

static void test_batch_skewed(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 20; seed++)
        batch_stream(seed * 0x9e3779b97f4a7c15ull, 20000, false);
}

static void test_batch_all_distinct(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 4; seed++)
        batch_stream(seed * 0x9e3779b97f4a7c15ull, 5000, true);
}

/* While the summary has room, a batch gives exactly what adding its items
 * one at a time gives (counts, no error, no eviction). */
static void test_batch_exact_while_room(void **state)
{
    (void)state;
    enum { BIG = 256 };
    void *ma = calloc(1, fk__ss_mem(BIG)), *mb = calloc(1, fk__ss_mem(BIG));
    void *xm = calloc(1, fk__ss_scratch_mem(BATCH, BIG));
    assert_non_null(ma);
    assert_non_null(mb);
    assert_non_null(xm);
    fk__ss a, b;
    fk__ss_attach(&a, ma, BIG, 4);
    fk__ss_attach(&b, mb, BIG, 4);
    fk__ss_scratch x;
    fk__ss_scratch_attach(&x, xm, BATCH, BIG);
    uint64_t seed = 5, ev = 0;
    fk__ss_item items[BATCH];
    for (int round = 0; round < 100; round++) {
        uint32_t nb = 1 + (uint32_t)(rnd(&seed) % BATCH);
        for (uint32_t i = 0; i < nb; i++) {
            fk__skey k = key_of((uint32_t)(rnd(&seed) % KEYS)); /* KEYS < BIG */
            uint64_t w = rnd(&seed) >> 40, h = fk__ss_hash(&k, 4);
            items[i] = (fk__ss_item){k, h, w, 2, 1};
            ev += (uint64_t)fk__ss_add(&b, &k, h, w, 2, 1);
        }
        ev += fk__ss_add_batch(&a, items, nb, &x);
    }
    assert_int_equal(ev, 0);
    assert_int_equal(a.n, b.n);
    for (uint32_t e = 0; e < a.n; e++) {
        const fk__ss_entry *o = fk__ss_find(&b, &a.e[e].key);
        assert_non_null(o);
        assert_int_equal(a.e[e].bytes, o->bytes);
        assert_int_equal(a.e[e].packets, o->packets);
        assert_int_equal(a.e[e].flows, o->flows);
        assert_int_equal(a.e[e].error, 0);
    }
    free(ma);
    free(mb);
    free(xm);
}

static fk_store *store_of(bool merge, const char *cap)
{
    fk_store *s = NULL;
    assert_int_equal(fk_store_create(&s), 0);
    fk__store_set_merge_runs(s, merge);
    /* Runs alone: the pre-aggregation (test_store_agg) is off here. */
    assert_int_equal(fk_store_set_text(s, "agg_keys", "0"), 0);
    assert_int_equal(fk_store_set_text(s, "topk_capacity", cap), 0);
    if (strcmp(cap, "8") != 0) /* every peer held too: no eviction anywhere */
        assert_int_equal(fk_store_set_text(s, "ip_peers", "512"), 0);
    assert_int_equal(fk_store_set_text(s, "topk_slot", "60"), 0);
    assert_int_equal(fk_store_set_text(s, "topk_span", "300"), 0); /* slots reused every 6 min */
    assert_int_equal(fk_store_activate(s), 0);
    return s;
}

static fk_store *small_store(bool merge)
{
    return store_of(merge, "8");
}

static void same_stats(fk_store *a, fk_store *b)
{
    fk_store_stats sa, sb;
    assert_int_equal(fk_store_get_stats(a, &sa, sizeof sa), 0);
    assert_int_equal(fk_store_get_stats(b, &sb, sizeof sb), 0);
    assert_int_equal(sa.topk_evictions, sb.topk_evictions);
    assert_int_equal(sa.late, sb.late);
}

/* The same top-K rows of every dimension and window; the stats first or
 * last (either must add the waiting runs). */
static void same_top(fk_store *a, fk_store *b, bool stats_first)
{
    if (stats_first)
        same_stats(a, b);
    static const int64_t windows[] = {60, 120, 300, 900};
    for (int d = 0; d < FK_STORE_DIM_COUNT; d++)
        for (size_t w = 0; w < sizeof windows / sizeof windows[0]; w++) {
            fk_store_row ra[64], rb[64];
            size_t na, nb;
            assert_int_equal(fk_store_get_top(a, d, windows[w], ra, 64, &na), 0);
            assert_int_equal(fk_store_get_top(b, d, windows[w], rb, 64, &nb), 0);
            assert_int_equal(na, nb);
            for (size_t i = 0; i < na; i++) {
                assert_memory_equal(&ra[i].key, &rb[i].key, sizeof ra[i].key);
                assert_int_equal(ra[i].bytes, rb[i].bytes);
                assert_int_equal(ra[i].packets, rb[i].packets);
                assert_int_equal(ra[i].flows, rb[i].flows);
                assert_int_equal(ra[i].error, rb[i].error);
            }
        }
    same_stats(a, b);
}

/* Flows in runs (a source, an exporter, a protocol and a port repeat for a
 * few flows) over 12 one-minute slots, with queries in between (they merge
 * the waiting batches), into summaries that hold every key (cap): the
 * batched store answers exactly as the one that adds every flow at once.
 * With far fewer entries (8) the two evict differently; there the bounds
 * are checked against exact counts (test_batch_* here, test_store_agg's
 * hard ends through the store). */
static void batches_vs_direct(const char *cap)
{
    bool exact = strcmp(cap, "8") != 0;
    fk_store *merged = store_of(true, cap), *direct = store_of(false, cap);
    uint64_t seed = 99;
    int64_t t = INT64_C(1800000000) * 1000000000;
    uint32_t src = 0, exp = 0;
    uint8_t proto = 6;
    uint16_t port = 443;
    for (int i = 0; i < 30000; i++) {
        uint64_t r = rnd(&seed);
        if (r % 4 == 0)
            src = (uint32_t)(rnd(&seed) % 300);
        if (r % 16 == 1)
            exp = (uint32_t)(rnd(&seed) % 3);
        if (r % 8 == 2)
            proto = (rnd(&seed) & 1) ? 6 : 17;
        if (r % 5 == 3)
            port = (uint16_t)(rnd(&seed) % 20);
        fk_flow f;
        memset(&f, 0, sizeof f);
        f.src = v4(0x0a000000u + src);
        f.dst = v4(0xc0a80000u + (uint32_t)(rnd(&seed) % 40));
        f.exporter = v4(0xc0000200u + exp);
        f.present = FK_FLOW_HAS_EXPORTER;
        if (r % 3 == 0) {
            f.present |= FK_FLOW_HAS_PROCESS;
            strcpy(f.process, r % 2 ? "nginx" : "sshd");
        }
        f.proto = proto;
        f.src_port = 40000;
        f.dst_port = port;
        f.bytes = rnd(&seed) >> 40;
        f.packets = 1 + f.bytes % 7;
        t += (int64_t)(rnd(&seed) % 48) * 1000000; /* 30000 flows over ~12 min */
        f.end_ns = t;
        if (r % 50 ==
            0) /* a few a slot or two old (runs of earlier slots), some older than the span */
            f.end_ns -= (r % 3 == 0 ? INT64_C(600) : 90) * INT64_C(1000000000);
        f.start_ns = f.end_ns - 1000000000;
        assert_int_equal(fk_store_add_flow(merged, &f), 0);
        assert_int_equal(fk_store_add_flow(direct, &f), 0);
        if (i % 4999 == 0 && exact)
            same_top(merged, direct, i % 2 == 0);
    }
    fk_store_stats st, sd;
    assert_int_equal(fk_store_get_stats(merged, &st, sizeof st), 0);
    assert_int_equal(fk_store_get_stats(direct, &sd, sizeof sd), 0);
    assert_true(st.late > 0);
    assert_int_equal(st.late, sd.late);
    if (exact) {
        same_top(merged, direct, false);
        assert_int_equal(st.topk_evictions, 0);
    } else {
        assert_true(st.topk_evictions > 1000); /* the eviction regime is counted */
        assert_true(sd.topk_evictions > 1000);
    }
    fk_store_destroy(merged);
    fk_store_destroy(direct);
}

static void test_batches_same_as_direct(void **state)
{
    (void)state;
    batches_vs_direct("4096");
    batches_vs_direct("8");
}

static fk_flow flow_at(int64_t end_ns, uint64_t bytes)
{
    fk_flow f;
    memset(&f, 0, sizeof f);
    f.src = v4(0x0a000001);
    f.dst = v4(0x0a000002);
    f.proto = 6;
    f.dst_port = 443;
    f.bytes = bytes;
    f.packets = 1;
    f.end_ns = end_ns;
    f.start_ns = end_ns - 1000000000;
    return f;
}

/* A run waiting for a slot whose place the next flow's slot takes over:
 * it counts in its own slot, which then goes, not in the new one. */
static void test_runs_slot_reuse(void **state)
{
    (void)state;
    fk_store *s = small_store(true);
    int64_t t = INT64_C(1800000000) * 1000000000 / 60 * 60;
    fk_flow a = flow_at(t, 1000), b = flow_at(t + INT64_C(360) * 1000000000, 7);
    assert_int_equal(fk_store_add_flow(s, &a), 0);
    assert_int_equal(fk_store_add_flow(s, &b), 0); /* 6 slots on: the same place */
    fk_store_row rows[4];
    size_t n;
    for (int d = 0; d < FK_STORE_DIM_EXPORTER; d++) { /* the flow has no exporter, no process */
        assert_int_equal(fk_store_get_top(s, d, 900, rows, 4, &n), 0);
        assert_int_equal(n, 1);
        assert_int_equal(rows[0].bytes, 7);
        assert_int_equal(rows[0].flows, 1);
    }
    fk_store_destroy(s);
}

/* The per-address table evicts the least recently used address (its LRU
 * list lives in an array of its own). */
static void test_atab_lru(void **state)
{
    (void)state;
    enum { N = 4 };
    void *mem = calloc(1, fk__atab_mem(N, 64));
    assert_non_null(mem);
    fk__atab t;
    fk__atab_attach(&t, mem, N, 64);
    int fresh, evicted;
    uint32_t at[8];
    for (uint32_t a = 1; a <= N; a++) { /* 1 2 3 4, then 1 and 3 again */
        fk_addr x = v4(a);
        at[a] = fk__atab_get(&t, &x, fk__atab_hash(&x), &fresh, &evicted);
        assert_true(fresh && !evicted);
    }
    for (uint32_t a = 1; a <= 3; a += 2) {
        fk_addr x = v4(a);
        assert_int_equal(fk__atab_get(&t, &x, fk__atab_hash(&x), &fresh, &evicted), at[a]);
        assert_false(fresh);
    }
    static const uint32_t gone[] = {2, 4, 1, 3}; /* least recently used first */
    for (uint32_t k = 0; k < N; k++) {
        fk_addr x = v4(100 + k);
        uint32_t i = fk__atab_get(&t, &x, fk__atab_hash(&x), &fresh, &evicted);
        assert_true(fresh && evicted);
        assert_int_equal(i, at[gone[k]]); /* its record is reused */
        fk_addr old = v4(gone[k]);
        assert_int_equal(fk__atab_find(&t, &old), FK__ATAB_NONE);
    }
    assert_int_equal(t.n, N);
    free(mem);
}

/* Keys are equal only when all their bytes are: one byte changed
 * anywhere makes them differ (fk__skey_eq compares word by word). */
static void test_skey_eq(void **state)
{
    (void)state;
    fk__skey a, b;
    for (int i = 0; i < FK__SKEY_SIZE; i++)
        a.b[i] = (uint8_t)(i * 7 + 1);
    b = a;
    assert_true(fk__skey_eq(&a, &b));
    for (int i = 0; i < FK__SKEY_SIZE; i++) {
        b = a;
        b.b[i] ^= 0x10;
        assert_false(fk__skey_eq(&a, &b));
        assert_false(fk__skey_eq(&b, &a));
    }
}

/* Each slot of an index that is in use holds an entry. */
static uint32_t used_slots(const fk__sidx *x)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i <= x->mask; i++)
        n += x->slot[i].e != 0;
    return n;
}

/* An address's block is set up empty whether it was never used (as
 * activate zeroed it) or held an evicted address before: the indexes of
 * its peers and protocols hold exactly their entries. */
static void test_ip_blocks_reused_empty(void **state)
{
    (void)state;
    fk_store *s = NULL;
    assert_int_equal(fk_store_create(&s), 0);
    assert_int_equal(fk_store_set_text(s, "max_ips", "4"), 0);
    assert_int_equal(fk_store_set_text(s, "ip_peers", "8"), 0);
    assert_int_equal(fk_store_activate(s), 0);
    for (uint32_t round = 0; round < 40; round++) {
        for (uint32_t k = 0; k < 6; k++) { /* source round, six destinations */
            fk_flow f;
            memset(&f, 0, sizeof f);
            f.src = v4(1000 + round);
            f.dst = v4(50000 + round * 8 + k);
            f.proto = (uint8_t)(k % 2 ? 6 : 17);
            f.dst_port = 80;
            f.bytes = 100;
            f.packets = 1;
            f.end_ns = INT64_C(1800000000000000000) + (int64_t)round * 1000000;
            assert_int_equal(fk_store_add_flow(s, &f), 0);
        }
        fk_store_stats st;
        assert_int_equal(fk_store_get_stats(s, &st, sizeof st), 0); /* flushes the table */
        for (uint32_t i = 0; i < s->ips.n; i++) {
            const fk__ip_rec *r = fk__atab_at(&s->ips, i);
            assert_int_equal(used_slots(&r->peers.idx), r->peers.n);
            assert_int_equal(used_slots(&r->protos.idx), r->protos.n);
        }
        if (round > 0)
            assert_true(st.ips_evicted > 0);
    }
    fk_store_destroy(s);
}

/* A series over memory full of garbage (buckets are zeroed as the ring
 * reaches them, not at attach) against exact per-bucket sums: in-order,
 * late, too old and far-ahead adds, and sums over random ranges. */
static void test_series_lazy(void **state)
{
    (void)state;
    enum { N = 16, BUCKETS = 400 };
    const int64_t step = 10;
    static uint64_t truth[BUCKETS]; /* bytes per bucket number */
    fk__cnt mem[N];
    uint64_t r = 77;
    for (int round = 0; round < 50; round++) {
        memset(mem, 0xa5, sizeof mem);
        memset(truth, 0, sizeof truth);
        fk__series se;
        fk__series_attach(&se, mem, N, step);
        int64_t newest = -1;
        for (int i = 0; i < 300; i++) {
            r = r * 6364136223846793005u + 1442695040888963407u;
            int64_t k;
            uint64_t pick = (r >> 33) % 10;
            if (newest < 0 || pick < 5)
                k = newest < 0 ? (int64_t)((r >> 20) % 50) : newest + (int64_t)((r >> 40) % 3);
            else if (pick < 9)
                k = newest - (int64_t)((r >> 40) % (N + 4)); /* late, maybe out of reach */
            else
                k = newest + N + (int64_t)((r >> 40) % 20); /* a jump past the whole ring */
            if (k < 0)
                k = 0;
            if (k >= BUCKETS)
                break;
            fk__cnt c = {1 + (r >> 50), 1, 1};
            int rc = fk__series_add(&se, k * step + (int64_t)((r >> 8) % step), &c);
            bool reach = newest < 0 || k > newest - N;
            assert_int_equal(rc, reach ? 0 : -1);
            if (reach) {
                if (k > newest)
                    for (int64_t j = newest < 0 ? 0 : newest - N + 1; j <= k - N && j < BUCKETS;
                         j++)
                        if (j >= 0)
                            truth[j] = 0; /* out of reach now */
                truth[k] += c.bytes;
                if (k > newest)
                    newest = k;
            }
            int64_t a = (int64_t)((r >> 12) % (uint64_t)(newest + 2)),
                    b = a + (int64_t)((r >> 24) % 30);
            uint64_t want = 0;
            for (int64_t j = a; j < b && j <= newest; j++)
                if (j > newest - N && j < BUCKETS)
                    want += truth[j];
            assert_int_equal(fk__series_sum(&se, a * step, b * step).bytes, want);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_as_reference),
        cmocka_unit_test(test_all_distinct),
        cmocka_unit_test(test_batches_same_as_direct),
        cmocka_unit_test(test_batch_skewed),
        cmocka_unit_test(test_batch_all_distinct),
        cmocka_unit_test(test_batch_exact_while_room),
        cmocka_unit_test(test_runs_slot_reuse),
        cmocka_unit_test(test_atab_lru),
        cmocka_unit_test(test_skey_eq),
        cmocka_unit_test(test_ip_blocks_reused_empty),
        cmocka_unit_test(test_series_lazy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
