/* The store's space-saving summary (lib/store/topk.c) against a naive
 * reference written here: the same weighted stream into both, the same
 * keys and counts must come out. The summary's heap keeps lower bounds of
 * its entries' bytes (hits do not touch it) and settles the root before an
 * eviction; the reference scans every entry for the smallest. Weights are
 * random 40-bit numbers, so the smallest entry is unique and both must
 * evict the same one. Also: the space-saving bounds against exact counts. */
#include <stdlib.h>
#include <string.h>

#include "fk_test.h"
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

static uint64_t rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_as_reference),
        cmocka_unit_test(test_all_distinct),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
