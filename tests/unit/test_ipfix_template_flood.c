/* The template cache under a template flood (issue 15: 20 spoofable
 * sources x 4,096 templates stalled the collector): adding a template,
 * checking the per-session cap, withdrawing a domain's templates and
 * dropping a session cost work independent of what other sessions hold.
 * Work is counted (templates and sessions visited), not timed. */
#include <flowkit/flowkit.h>
#include <string.h>

#include "fk_test.h"
#include "ipfix/plan.h"

#define SESSIONS 20
#define PER_SESSION 4096

static fk_template_cache *flood_cache(void)
{
    fk_template_cache *c;
    assert_int_equal(fk_template_cache_create(&c, NULL), 0);
    assert_int_equal(fk_template_cache_set_int(c, FK_TCACHE_MAX_TEMPLATES, 1 << 20), 0);
    assert_int_equal(fk_template_cache_set_int(c, FK_TCACHE_MAX_PER_SESSION, PER_SESSION), 0);
    assert_int_equal(fk_template_cache_activate(c), 0);
    return c;
}

static int add(fk_template_cache *c, uint64_t session, uint32_t domain, uint16_t id, uint16_t scope)
{
    fk_field_spec f[2] = {{0, 8, 4, 0}, {0, 2, 8, 0}};
    return fk_template_cache_add(c, session, domain, id, f, 2, scope, NULL);
}

static void flood_costs_per_template(void **state)
{
    (void)state;
    fk_template_cache *c = flood_cache();
    uint64_t before = fk__template_cache_steps(c);
    for (uint64_t s = 1; s <= SESSIONS; s++)
        for (unsigned i = 0; i < PER_SESSION; i++)
            assert_int_equal(add(c, s, 7, (uint16_t)(256 + i), 0), 0);
    uint64_t adds = (uint64_t)SESSIONS * PER_SESSION;
    assert_int_equal(fk_template_cache_get_count(c), adds);
    /* A scan of the cache per add would visit adds^2 / 2 (3.4e9) templates. */
    uint64_t work = fk__template_cache_steps(c) - before;
    assert_true(work <= 8 * adds);

    /* The cap of a full session is checked without looking at the others. */
    before = fk__template_cache_steps(c);
    assert_int_equal(add(c, 1, 7, 256 + PER_SESSION, 0), FK_ERANGE);
    assert_true(fk__template_cache_steps(c) - before <= 16);
    /* Redefining a template replaces it in place. */
    assert_int_equal(add(c, 1, 7, 256, 0), 0);
    assert_int_equal(fk_template_cache_get_count(c), adds);

    /* Withdrawing a domain's templates, or dropping a session, visits that
     * session's templates only. */
    before = fk__template_cache_steps(c);
    assert_int_equal(fk_template_cache_withdraw(c, 3, 7, FK_IPFIX_SET_TEMPLATE), PER_SESSION);
    assert_true(fk__template_cache_steps(c) - before <= 4 * PER_SESSION);
    before = fk__template_cache_steps(c);
    assert_int_equal(fk_template_cache_drop_session(c, 4), PER_SESSION);
    assert_true(fk__template_cache_steps(c) - before <= 4 * PER_SESSION);
    /* A session that holds nothing costs nothing to drop. */
    before = fk__template_cache_steps(c);
    assert_int_equal(fk_template_cache_drop_session(c, 3), 0);
    assert_true(fk__template_cache_steps(c) - before <= 4);
    assert_int_equal(fk_template_cache_get_count(c), adds - 2 * PER_SESSION);

    /* Everything else is still there; the emptied sessions take new ones. */
    const fk_template *t;
    assert_int_equal(fk_template_cache_find(c, 5, 7, 256 + PER_SESSION - 1, &t), 0);
    assert_int_equal(fk_template_cache_find(c, 3, 7, 300, &t), FK_ENOTEMPLATE);
    assert_int_equal(add(c, 3, 7, 300, 0), 0);
    assert_int_equal(add(c, 4, 7, 300, 0), 0);
    for (uint64_t s = 1; s <= SESSIONS; s++)
        fk_template_cache_drop_session(c, s);
    assert_int_equal(fk_template_cache_get_count(c), 0);
    fk_template_cache_destroy(c);
}

static void withdraw_keeps_other_domains_and_kinds(void **state)
{
    (void)state;
    fk_template_cache *c = flood_cache();
    for (unsigned i = 0; i < 50; i++) {
        assert_int_equal(add(c, 9, 1, (uint16_t)(256 + i), 0), 0);  /* data, domain 1 */
        assert_int_equal(add(c, 9, 2, (uint16_t)(256 + i), 0), 0);  /* data, domain 2 */
        assert_int_equal(add(c, 9, 1, (uint16_t)(1000 + i), 1), 0); /* options, domain 1 */
        assert_int_equal(add(c, 10, 1, (uint16_t)(256 + i), 0), 0); /* other session */
    }
    assert_int_equal(fk_template_cache_withdraw(c, 9, 1, FK_IPFIX_SET_TEMPLATE), 50);
    assert_int_equal(fk_template_cache_withdraw(c, 9, 1, FK_IPFIX_SET_TEMPLATE), 0);
    const fk_template *t;
    assert_int_equal(fk_template_cache_find(c, 9, 1, 256, &t), FK_ENOTEMPLATE);
    assert_int_equal(fk_template_cache_find(c, 9, 2, 256, &t), 0);
    assert_int_equal(fk_template_cache_find(c, 9, 1, 1000, &t), 0);
    assert_int_equal(fk_template_cache_find(c, 10, 1, 256, &t), 0);
    assert_int_equal(fk_template_cache_withdraw(c, 9, 1, FK_IPFIX_SET_OPTIONS_TEMPLATE), 50);
    assert_int_equal(fk_template_cache_withdraw(c, 9, 2, 300), 1);
    assert_int_equal(fk_template_cache_get_count(c), 49 + 50);
    assert_int_equal(fk_template_cache_drop_session(c, 9), 49);
    assert_int_equal(fk_template_cache_drop_session(c, 10), 50);
    assert_int_equal(fk_template_cache_get_count(c), 0);
    fk_template_cache_destroy(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(flood_costs_per_template),
        cmocka_unit_test(withdraw_keeps_other_domains_and_kinds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
