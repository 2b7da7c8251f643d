/* A second collector on a UDP port that a collector with worker threads
 * (SO_REUSEPORT) already holds (issue 15, item 10): refused at activate
 * with a message naming share_port, unless share_port asks to share; the
 * first collector's workers still form their group; a port held without
 * workers is refused either way. */
#include <flowkit/flowkit.h>
#include <stdio.h>
#include <string.h>

#include "fk_test.h"

static fk_collector *listener(const char *uri, int workers, int share)
{
    fk_collector *h;
    assert_int_equal(fk_collector_create(&h), 0);
    assert_int_equal(fk_collector_set_int(h, FK_COL_WORKERS, workers), 0);
    assert_int_equal(fk_collector_set_int(h, FK_COL_SHARE_PORT, share), 0);
    assert_int_equal(fk_collector_set_int(h, FK_COL_SOCKET_BUFFER, 0), 0);
    assert_int_equal(fk_collector_add_listener(h, uri), 0);
    return h;
}

static void bound_uri(fk_collector *h, char *buf, size_t size)
{
    assert_true(fk_collector_get_listener_uri(h, 0, buf, size) > 0);
}

static void second_collector_refused(void **state)
{
    (void)state;
    char uri[80];
    fk_collector *a = listener("udp://127.0.0.1:0", 2, 0);
    assert_int_equal(fk_collector_activate(a), 0);
    bound_uri(a, uri, sizeof uri);

    /* With workers, without: both refused, the first saying how to share. */
    fk_collector *b = listener(uri, 2, 0);
    assert_int_equal(fk_collector_activate(b), FK_EIO);
    assert_non_null(strstr(fk_error_last()->message, "share_port"));
    fk_collector_destroy(b);
    b = listener(uri, 0, 0);
    assert_true(fk_collector_activate(b) < 0);
    fk_collector_destroy(b);

    /* Asked to share: joins the group. */
    b = listener(uri, 2, 1);
    assert_int_equal(fk_collector_activate(b), 0);
    fk_collector_destroy(b);
    fk_collector_destroy(a);

    /* A port held by a collector without workers is refused too. */
    a = listener("udp://127.0.0.1:0", 0, 0);
    assert_int_equal(fk_collector_activate(a), 0);
    bound_uri(a, uri, sizeof uri);
    b = listener(uri, 2, 0);
    assert_int_equal(fk_collector_activate(b), FK_EIO);
    fk_collector_destroy(b);
    fk_collector_destroy(a);
}

/* The port is free again once the first collector is gone. */
static void port_free_after_destroy(void **state)
{
    (void)state;
    char uri[80];
    fk_collector *a = listener("udp://127.0.0.1:0", 3, 0);
    assert_int_equal(fk_collector_activate(a), 0);
    bound_uri(a, uri, sizeof uri);
    fk_collector_destroy(a);
    fk_collector *b = listener(uri, 3, 0);
    assert_int_equal(fk_collector_activate(b), 0);
    fk_collector_destroy(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(second_collector_refused),
        cmocka_unit_test(port_free_after_destroy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
