/* Version macros agree with the running library. */
#include <flowkit/flowkit.h>
#include <stdio.h>
#include <string.h>

#include "fk_test.h"

static void macros_match_runtime(void **state)
{
    (void)state;
    char expect[32];
    snprintf(expect, sizeof expect, "%d.%d.%d", FK_VERSION_MAJOR, FK_VERSION_MINOR,
             FK_VERSION_PATCH);
    assert_string_equal(FK_VERSION_STRING, expect);
    assert_string_equal(fk_version_string(), FK_VERSION_STRING);
    assert_int_equal(fk_version_number(), FK_VERSION_NUMBER);
    assert_int_equal(FK_VERSION_NUMBER,
                     FK_VERSION_MAJOR * 10000 + FK_VERSION_MINOR * 100 + FK_VERSION_PATCH);
    assert_true(FK_ABI_VERSION >= 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(macros_match_runtime)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
