/* The library's one hash map (lib/core/hmap.h): put/get/replace/delete
 * against a plain array model under many random operations (collisions
 * and backward shifts included), iteration with deletion, struct keys,
 * clear, allocation failure, and the u64map view on top of it. */
#include <stdlib.h>
#include <string.h>

#include <flowkit/errors.h>

#include "core/hmap.h"
#include "core/u64map.h"
#include "fk_test.h"

typedef struct skey {
    uint8_t addr[16];
    uint16_t port;
    uint8_t proto;
    uint8_t pad[5];
} skey;

static skey make_skey(unsigned i)
{
    skey k;
    memset(&k, 0, sizeof k);
    k.addr[15] = (uint8_t)i;
    k.addr[14] = (uint8_t)(i >> 8);
    k.port = (uint16_t)(i * 7);
    k.proto = i % 2 ? 6 : 17;
    return k;
}

/* Random operations on keys 0..N-1 (few keys: long runs, many shifts),
 * checked after each against a model. */
static void matches_a_model(void **state)
{
    (void)state;
    enum { N = 300 };
    static uint64_t model[N];
    static bool present[N];
    memset(present, 0, sizeof present);
    fk__hmap m;
    fk__hmap_init(&m, sizeof(uint32_t), sizeof(uint64_t));
    srand(14);
    size_t count = 0;
    for (int step = 0; step < 200000; step++) {
        uint32_t k = (uint32_t)(rand() % N);
        int op = rand() % 3;
        if (op < 2) {
            uint64_t v = ((uint64_t)rand() << 32) | (uint64_t)step;
            assert_int_equal(fk__hmap_put(&m, &k, &v, NULL), 0);
            count += !present[k];
            present[k] = true;
            model[k] = v;
        } else {
            assert_int_equal(fk__hmap_del(&m, &k), present[k]);
            count -= present[k];
            present[k] = false;
        }
        assert_int_equal(m.count, count);
        if (step % 997 == 0) {
            for (uint32_t j = 0; j < N; j++) {
                uint64_t *v = fk__hmap_get(&m, &j);
                assert_int_equal(v != NULL, present[j]);
                if (v)
                    assert_int_equal(*v, model[j]);
            }
        }
    }
    fk__hmap_free(&m);
    assert_null(fk__hmap_get(&m, &(uint32_t){1}));
}

/* Deleting while iterating gives every remaining entry once. */
static void iteration_with_deletion(void **state)
{
    (void)state;
    fk__hmap m = FK__HMAP_INIT(skey, int);
    enum { N = 5000 };
    for (int i = 0; i < N; i++) {
        skey k = make_skey((unsigned)i);
        int v = i;
        assert_int_equal(fk__hmap_put(&m, &k, &v, NULL), 0);
    }
    static unsigned seen[N];
    memset(seen, 0, sizeof seen);
    size_t pos = 0;
    const void *key;
    void *val;
    while (fk__hmap_next(&m, &pos, &key, &val)) {
        int v = *(int *)val;
        skey want = make_skey((unsigned)v);
        assert_memory_equal(key, &want, sizeof want);
        seen[v]++;
        if (v % 3 == 0)
            fk__hmap_del_current(&m, &pos);
    }
    for (int i = 0; i < N; i++) {
        assert_true(seen[i] >= 1);
        skey k = make_skey((unsigned)i);
        assert_int_equal(fk__hmap_get(&m, &k) != NULL, i % 3 != 0);
    }
    assert_int_equal(m.count, N - (N + 2) / 3);
    /* A value pointer from put is the stored value; put with NULL keeps it. */
    skey k = make_skey(1);
    void *slot;
    assert_int_equal(fk__hmap_put(&m, &k, NULL, &slot), 0);
    assert_int_equal(*(int *)slot, 1);
    *(int *)slot = 99;
    assert_int_equal(*(int *)fk__hmap_get(&m, &k), 99);
    fk__hmap_clear(&m);
    assert_int_equal(m.count, 0);
    assert_null(fk__hmap_get(&m, &k));
    pos = 0;
    assert_false(fk__hmap_next(&m, &pos, &key, &val));
    fk__hmap_free(&m);
}

static void allocation_failure(void **state)
{
    (void)state;
    fk__hmap m;
    fk__hmap_init(&m, 8, 8);
    uint64_t k = 5, v = 6;
    fk_test_alloc_fail_at(1, 1);
    assert_int_equal(fk__hmap_put(&m, &k, &v, NULL), FK_ENOMEM);
    fk_test_alloc_reset();
    assert_int_equal(m.count, 0);
    assert_null(fk__hmap_get(&m, &k));
    /* It grows later, and a failed grow keeps what it holds. */
    for (uint64_t i = 1; i <= 12; i++)
        assert_int_equal(fk__hmap_put(&m, &i, &i, NULL), 0);
    fk_test_alloc_fail_at(1, 1);
    int rc = 0;
    for (uint64_t i = 13; i <= 64 && !rc; i++)
        rc = fk__hmap_put(&m, &i, &i, NULL);
    fk_test_alloc_reset();
    assert_int_equal(rc, FK_ENOMEM);
    for (uint64_t i = 1; i <= 12; i++)
        assert_int_equal(*(uint64_t *)fk__hmap_get(&m, &i), i);
    fk__hmap_free(&m);
}

/* The u64 view: a zeroed map works, key 0 is refused. */
static void u64map_view(void **state)
{
    (void)state;
    fk__u64map m = {0};
    uint64_t v = 0;
    assert_false(fk__u64map_get(&m, 7, &v));
    assert_int_equal(fk__u64map_put(&m, 0, 1), FK_EINVAL);
    for (uint64_t i = 1; i <= 1000; i++)
        assert_int_equal(fk__u64map_put(&m, i, i * 3), 0);
    assert_true(fk__u64map_get(&m, 500, &v));
    assert_int_equal(v, 1500);
    assert_true(fk__u64map_del(&m, 500));
    assert_false(fk__u64map_del(&m, 500));
    size_t pos = 0, n = 0;
    uint64_t key, val;
    while (fk__u64map_next(&m, &pos, &key, &val)) {
        assert_int_equal(val, key * 3);
        n++;
    }
    assert_int_equal(n, 999);
    fk__u64map_clear(&m);
    assert_false(fk__u64map_get(&m, 1, &v));
    fk__u64map_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(matches_a_model),
        cmocka_unit_test(iteration_with_deletion),
        cmocka_unit_test(allocation_failure),
        cmocka_unit_test(u64map_view),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
