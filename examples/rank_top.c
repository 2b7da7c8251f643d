/* rank_top: which process uses the network - a per-process rank printed
 * every few seconds (the C version of go-netflow's SDK example).
 *
 *   rank_top [-i DEV]... [-d SECS] [-c COUNT] [-n ROWS]
 *
 *   -i DEV    capture on DEV (repeatable; default: every device that is up)
 *   -d SECS   refresh delay (default 2)
 *   -c COUNT  print COUNT ranks, then exit (default: until Ctrl-C)
 *   -n ROWS   rows per rank (default 10)
 *
 * Needs root (or CAP_NET_RAW + CAP_NET_ADMIN + CAP_SYS_PTRACE): capturing
 * and reading other users' sockets. The capture runs in this thread; the
 * rank is an immutable snapshot, freed after printing. */
#define _POSIX_C_SOURCE 200809L
#include <flowkit/flowkit.h>

#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static fk_capture *cap;

static void on_signal(int sig)
{
    (void)sig;
    fk_capture_break(cap);
}

static int fail(const char *what)
{
    const fk_error *e = fk_error_last();
    fprintf(stderr, "rank_top: %s: %s (%s)\n", what, e->message, fk_status_name(e->code));
    fk_capture_destroy(cap);
    return 1;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void print_rank(const fk_rank_snapshot *s)
{
    char when[40];
    fk_time_format(s->time_ns, when, sizeof when);
    printf("\n%s  %zu rows, rates over %us\n", when, s->count, s->window_sec);
    printf("%7s %-10s %-16s %12s %12s %10s %10s\n", "PID", "USER", "PROGRAM", "SENT", "RECEIVED",
           "SENT/s", "RECV/s");
    for (size_t i = 0; i < s->count; i++) {
        const fk_rank_row *r = &s->rows[i];
        printf("%7" PRIu32 " %-10.10s %-16.16s %12" PRIu64 " %12" PRIu64 " %10.0f %10.0f\n", r->pid,
               r->user, r->name, r->sent_bytes, r->recv_bytes, r->sent_rate, r->recv_rate);
    }
    fflush(stdout);
}

int main(int argc, char **argv)
{
    int delay = 2, count = 0, rows = 10, opt, rc = 0;
    if (fk_capture_create(&cap) < 0)
        return fail("create");
    while ((opt = getopt(argc, argv, "i:d:c:n:")) != -1) {
        if (opt == 'i')
            rc = fk_capture_add_device(cap, optarg);
        else if (opt == 'd')
            delay = atoi(optarg);
        else if (opt == 'c')
            count = atoi(optarg);
        else if (opt == 'n')
            rows = atoi(optarg);
        else {
            fprintf(stderr, "usage: rank_top [-i DEV]... [-d SECS] [-c COUNT] [-n ROWS]\n");
            fk_capture_destroy(cap);
            return 2;
        }
        if (rc < 0)
            return fail(optarg);
    }
    if (delay < 1 || rows < 1) {
        fprintf(stderr, "rank_top: -d and -n take positive numbers\n");
        fk_capture_destroy(cap);
        return 2;
    }
    /* Attribution on; keep enough history for the refresh window. */
    if (fk_capture_set_int(cap, FK_CAP_ATTRIBUTION, 1) < 0 ||
        fk_capture_set_int(cap, FK_CAP_HISTORY_SECONDS, delay > 60 ? delay : 60) < 0 ||
        fk_capture_activate(cap) < 0)
        return fail("activate");

    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    struct pollfd pfd = {.fd = fk_capture_get_fd(cap), .events = POLLIN};
    double next = now_s() + delay;
    for (int printed = 0; count == 0 || printed < count;) {
        int wait = fk_capture_next_timeout_ms(cap);
        int until_print = (int)((next - now_s()) * 1000);
        poll(&pfd, 1, until_print < wait ? (until_print > 0 ? until_print : 0) : wait);
        int r = fk_capture_dispatch(cap, 0);
        if (r == FK_EBREAK || r == FK_EEOF)
            break;
        if (r < 0)
            return fail("dispatch");
        if (now_s() >= next) {
            fk_rank_snapshot *snap;
            if (fk_capture_rank(cap, (size_t)rows, (uint32_t)delay, FK_RANK_SORT_RATE, &snap) < 0)
                return fail("rank");
            print_rank(snap);
            fk_rank_snapshot_destroy(snap);
            next += delay;
            printed++;
        }
    }
    fk_capture_destroy(cap);
    return 0;
}
