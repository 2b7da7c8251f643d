/* inode → pid index over a fake proc root: incremental refresh (only new or
 * changed processes rescanned), targeted rescans on a miss, process info. */
#include <flowkit/flowkit.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "proc/pidindex.h"
#include "fk_test.h"
#include "fake_proc.h"

static char root[256];

static int setup(void **state)
{
    (void)state;
    snprintf(root, sizeof root, "/tmp/fk_fakeproc_XXXXXX");
    if (!mkdtemp(root))
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    fp_rm_tree(root);
    return 0;
}

static void pause_ms(long ms)
{
    struct timespec ts = {0, ms * 1000000L};
    nanosleep(&ts, NULL);
}

static void incremental_refresh(void **state)
{
    (void)state;
    fp_proc(root, 100, "server", 0, "server\0-p\0080\0", 14);
    fp_sock(root, 100, 3, 1001);
    fp_sock(root, 100, 4, 1002);
    fp_fd(root, 100, 5, "/dev/null");
    fp_proc(root, 200, "client", 1000, "client", 6);
    fp_sock(root, 200, 3, 2001);

    fk__pidindex *ix;
    assert_int_equal(fk__pidindex_create(&ix, root), 0);
    assert_int_equal(fk__pidindex_refresh(ix), 0);
    assert_int_equal(fk__pidindex_lookup(ix, 1001), 100);
    assert_int_equal(fk__pidindex_lookup(ix, 1002), 100);
    assert_int_equal(fk__pidindex_lookup(ix, 2001), 200);
    assert_int_equal(fk__pidindex_lookup(ix, 9999), 0);
    fk__pidindex_stats st;
    fk__pidindex_get_stats(ix, &st);
    assert_int_equal(st.fd_scans, 2);
    assert_int_equal(st.readlinks, 4);

    /* Nothing changed: no fd directory is read again. */
    assert_int_equal(fk__pidindex_refresh(ix), 0);
    fk__pidindex_get_stats(ix, &st);
    assert_int_equal(st.fd_scans, 2);
    assert_int_equal(st.readlinks, 4);

    /* pid 200 opens a socket: only pid 200 is rescanned. */
    pause_ms(20);
    fp_sock(root, 200, 4, 2002);
    assert_int_equal(fk__pidindex_refresh(ix), 0);
    fk__pidindex_get_stats(ix, &st);
    assert_int_equal(st.fd_scans, 3);
    assert_int_equal(st.readlinks, 6);
    assert_int_equal(fk__pidindex_lookup(ix, 2002), 200);

    /* A new process is scanned; an exited one leaves the index. */
    fp_proc(root, 300, "newcomer", 0, "newcomer", 8);
    fp_sock(root, 300, 7, 3001);
    fp_rm_proc(root, 100);
    assert_int_equal(fk__pidindex_refresh(ix), 0);
    assert_int_equal(fk__pidindex_lookup(ix, 3001), 300);
    assert_int_equal(fk__pidindex_lookup(ix, 1001), 0);
    assert_null(fk__pidindex_proc(ix, 100));
    fk__pidindex_get_stats(ix, &st);
    assert_int_equal(st.fd_scans, 4);
    fk__pidindex_destroy(ix);
}

static void miss_finds_same_count_replacement(void **state)
{
    (void)state;
    fp_proc(root, 400, "looper", 0, "looper", 6);
    fp_sock(root, 400, 3, 4001);
    fp_proc(root, 500, "idle", 0, "idle", 4);
    fp_sock(root, 500, 3, 5001);
    fk__pidindex *ix;
    assert_int_equal(fk__pidindex_create(&ix, root), 0);
    assert_int_equal(fk__pidindex_refresh(ix), 0);

    /* Like a client closing fd 3 and connecting again: same fd count, and
     * the directory times put back, so the signature does not change (as on
     * real procfs, where the fd directory's mtime never moves). */
    char path[512];
    snprintf(path, sizeof path, "%s/400/fd", root);
    struct stat before;
    assert_int_equal(stat(path, &before), 0);
    pause_ms(20);
    fp_sock(root, 400, 3, 4002);
    struct timespec times[2] = {before.st_atim, before.st_mtim};
    assert_int_equal(utimensat(AT_FDCWD, path, times, 0), 0);

    assert_int_equal(fk__pidindex_refresh(ix), 0);
    assert_int_equal(fk__pidindex_lookup(ix, 4002), 0); /* refresh alone misses it */
    fk__pidindex_stats st0, st1;
    fk__pidindex_get_stats(ix, &st0);
    assert_int_equal(fk__pidindex_find(ix, 4002, 0, true), 400);
    fk__pidindex_get_stats(ix, &st1);
    assert_int_equal(st1.miss_scans, st0.miss_scans + 1);
    /* The old socket is gone from the index. */
    assert_int_equal(fk__pidindex_lookup(ix, 4001), 0);
    /* A hit needs no scan at all. */
    assert_int_equal(fk__pidindex_find(ix, 4002, 0, true), 400);
    fk__pidindex_stats st2;
    fk__pidindex_get_stats(ix, &st2);
    assert_int_equal(st2.fd_scans, st1.fd_scans);
    /* Unknown inode: 0, after the sweep. */
    assert_int_equal(fk__pidindex_find(ix, 77777, UINT32_MAX, true), 0);
    fk__pidindex_destroy(ix);
    fp_rm_proc(root, 400);
    fp_rm_proc(root, 500);
}

static void uid_narrows_the_sweep(void **state)
{
    (void)state;
    fp_proc(root, 600, "alice", 1000, "alice", 5);
    fp_proc(root, 700, "bob", 2000, "bob", 3);
    fp_fd(root, 700, 3, "/dev/null"); /* not a socket: 700 is no recent owner */
    fk__pidindex *ix;
    assert_int_equal(fk__pidindex_create(&ix, root), 0);
    assert_int_equal(fk__pidindex_refresh(ix), 0);
    /* A socket appears in bob's table without changing the signature. */
    char path[512];
    snprintf(path, sizeof path, "%s/700/fd", root);
    struct stat before;
    stat(path, &before);
    pause_ms(20);
    fp_sock(root, 700, 3, 7001);
    struct timespec times[2] = {before.st_atim, before.st_mtim};
    utimensat(AT_FDCWD, path, times, 0);
    /* Directory owners are the test's uid here; narrowing uses what stat says. */
    struct stat pst;
    snprintf(path, sizeof path, "%s/700", root);
    stat(path, &pst);
    assert_int_equal(fk__pidindex_find(ix, 7001, pst.st_uid + 1, true),
                     0); /* wrong uid: not swept */
    /* Not a socket holder, fd count unchanged: only the sweep finds it
     * (young processes get no pass of their own: under process churn that
     * made every miss expensive). The cheap variant has no sweep, and the
     * sweep runs at most every 100 ms. */
    assert_int_equal(fk__pidindex_find_cheap(ix, 7001, pst.st_uid), 0);
    pause_ms(110);
    assert_int_equal(fk__pidindex_find(ix, 7001, pst.st_uid, true), 700);
    fk__pidindex_destroy(ix);
    fp_rm_proc(root, 600);
    fp_rm_proc(root, 700);
}

static void process_info(void **state)
{
    (void)state;
    fp_proc(root, 800, "curl", 0, "curl\0-s\0http://x\0", 18);
    fk__pidindex *ix;
    assert_int_equal(fk__pidindex_create(&ix, root), 0);
    assert_int_equal(fk__pidindex_refresh(ix), 0);
    const fk__proc *p = fk__pidindex_proc(ix, 800);
    assert_non_null(p);
    assert_string_equal(p->name, "curl");
    assert_string_equal(p->exe, "/usr/bin/curl");
    assert_string_equal(p->cmdline, "curl -s http://x");
    assert_string_equal(p->cgroup, "/fake.slice/curl.scope");
    assert_int_equal(p->uid, 0);
    assert_string_equal(p->user, "root");
    assert_int_equal(p->starttime, 5800);
    assert_null(fk__pidindex_proc(ix, 999));
    fk__pidindex_destroy(ix);
    fp_rm_proc(root, 800);
}

static void bad_root(void **state)
{
    (void)state;
    fk__pidindex *ix;
    assert_int_equal(fk__pidindex_create(&ix, "/nonexistent/proc"), 0);
    assert_int_equal(fk__pidindex_refresh(ix), FK_EIO);
    fk__pidindex_destroy(ix);
    fk__pidindex_destroy(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(incremental_refresh, setup, teardown),
        cmocka_unit_test_setup_teardown(miss_finds_same_count_replacement, setup, teardown),
        cmocka_unit_test_setup_teardown(uid_narrows_the_sweep, setup, teardown),
        cmocka_unit_test_setup_teardown(process_info, setup, teardown),
        cmocka_unit_test(bad_root),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
