/* The status table, fk_strerror/fk_status_name and the thread-local record. */
#include <flowkit/flowkit.h>
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "core/error.h"
#include "fk_test.h"

static void every_code_has_name_and_text(void **state)
{
    (void)state;
#define CHECK(name, value, text)                                                                   \
    assert_string_equal(fk_status_name(value), #name);                                             \
    assert_string_equal(fk_strerror(value), text);                                                 \
    assert_true((value) <= 0);
    FK_STATUS_TABLE(CHECK)
#undef CHECK
    assert_int_equal(FK_OK, 0);
    assert_int_equal(FK_ERANGE, -3);
}

static void unknown_codes(void **state)
{
    (void)state;
    assert_string_equal(fk_status_name(-9999), "FK_UNKNOWN");
    assert_string_equal(fk_strerror(42), "unknown status");
}

static void codes_are_unique(void **state)
{
    (void)state;
    static const int codes[] = {
#define CODE(name, value, text) value,
        FK_STATUS_TABLE(CODE)
#undef CODE
    };
    size_t n = sizeof codes / sizeof codes[0];
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            assert_int_not_equal(codes[i], codes[j]);
}

static void last_error_records_context_and_errno(void **state)
{
    (void)state;
    fk_error_clear();
    assert_int_equal(fk_error_last()->code, FK_OK);
    assert_string_equal(fk_error_last()->message, "");

    assert_int_equal(fk__error(FK_ENODEV, "%s: no such device", "eth9"), FK_ENODEV);
    assert_int_equal(fk_error_last()->code, FK_ENODEV);
    assert_int_equal(fk_error_last()->sys_errno, 0);
    assert_string_equal(fk_error_last()->message, "eth9: no such device");

    errno = EACCES;
    assert_int_equal(fk__error_errno(FK_EPERM, "open %s", "/x"), FK_EPERM);
    assert_int_equal(fk_error_last()->sys_errno, EACCES);
    assert_non_null(strstr(fk_error_last()->message, "open /x: "));
    assert_int_equal(errno, EACCES);

    fk_error_clear();
    assert_int_equal(fk_error_last()->code, FK_OK);
}

static void long_messages_are_truncated_not_overflowed(void **state)
{
    (void)state;
    char big[2000];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    fk__error(FK_EINVAL, "%s", big);
    assert_true(strlen(fk_error_last()->message) < 1000);
}

static void *other_thread(void *arg)
{
    (void)arg;
    fk__error(FK_EIO, "from the other thread");
    return NULL;
}

static void last_error_is_per_thread(void **state)
{
    (void)state;
    fk__error(FK_ERANGE, "main thread");
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, other_thread, NULL), 0);
    pthread_join(t, NULL);
    assert_int_equal(fk_error_last()->code, FK_ERANGE);
    assert_string_equal(fk_error_last()->message, "main thread");
}

static void errno_mapping(void **state)
{
    (void)state;
    assert_int_equal(fk__status_from_errno(ENOMEM), FK_ENOMEM);
    assert_int_equal(fk__status_from_errno(EACCES), FK_EPERM);
    assert_int_equal(fk__status_from_errno(ENODEV), FK_ENODEV);
    assert_int_equal(fk__status_from_errno(EBADF), FK_EIO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_code_has_name_and_text),
        cmocka_unit_test(unknown_codes),
        cmocka_unit_test(codes_are_unique),
        cmocka_unit_test(last_error_records_context_and_errno),
        cmocka_unit_test(long_messages_are_truncated_not_overflowed),
        cmocka_unit_test(last_error_is_per_thread),
        cmocka_unit_test(errno_mapping),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
