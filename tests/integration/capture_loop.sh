#!/bin/bash
# The handle driven by the caller's own event loop (poll on fk_capture_get_fd
# with fk_capture_next_timeout_ms, fk_capture_dispatch) on a live device with
# 2 workers: fk_capture_break() from another thread ends the wait promptly
# (FK_EBREAK once), and the BPF filter changed after activate ("tcp" ->
# "udp") applies to the traffic that follows.
. "$FLOWKIT_SOURCE_DIR/tests/integration/capture_common.bash"

NS=fkco$$
N=$(fk_netns_free_subnet) || fail "no free 10.213.x subnet"
fk_netns_add "$NS" "$N" || fail "cannot create netns"
IF=${NS}h

cat >"$WORK/loop.c" <<'CEOF'
#include <flowkit/flowkit.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static unsigned long udp_packets, tcp_flows, tcp_events;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void on_event(const fk_capture_event *ev, void *user)
{
    (void)user;
    if (ev->type == FK_CAPTURE_EVENT_SESSION)
        tcp_events++;
    else if (ev->type == FK_CAPTURE_EVENT_FLOW && ev->flow->proto == 17)
        udp_packets += ev->flow->packets + ev->flow->rev_packets;
    else if (ev->type == FK_CAPTURE_EVENT_FLOW && ev->flow->proto == 6)
        tcp_flows++;
}

static void *breaker(void *arg)
{
    struct timespec ts = {0, 300 * 1000000};
    nanosleep(&ts, NULL);
    fk_capture_break(arg);
    return NULL;
}

/* One round of the caller's loop; returns dispatch's result. */
static int step(fk_capture *h)
{
    int ms = fk_capture_next_timeout_ms(h);
    if (ms < 0 || ms > 1000) {
        fprintf(stderr, "next_timeout_ms = %d\n", ms);
        return -1000;
    }
    struct pollfd pfd = {.fd = fk_capture_get_fd(h), .events = POLLIN};
    poll(&pfd, 1, ms);
    return fk_capture_dispatch(h, 1000);
}

int main(int argc, char **argv)
{
    fk_capture *h;
    fk_capture_create(&h);
    fk_capture_add_device(h, argv[1]);
    fk_capture_set_int(h, FK_CAP_WORKERS, 2);
    fk_capture_set_str(h, FK_CAP_FILTER, "tcp");
    fk_capture_set_callback(h, on_event, NULL);
    if (fk_capture_activate(h) < 0) {
        fprintf(stderr, "activate: %s\n", fk_error_last()->message);
        return 1;
    }
    pthread_t t;
    double t0 = now();
    pthread_create(&t, NULL, breaker, h);
    int rc;
    while ((rc = step(h)) >= 0 && now() - t0 < 5)
        ;
    double waited = now() - t0;
    pthread_join(t, NULL);
    if (rc != FK_EBREAK || waited < 0.25 || waited > 1.5) {
        fprintf(stderr, "break: rc %d after %.3f s\n", rc, waited);
        return 1;
    }
    if (fk_capture_set_str(h, FK_CAP_FILTER, "udp") != 0) {
        fprintf(stderr, "runtime filter: %s\n", fk_error_last()->message);
        return 1;
    }
    printf("filter udp\n");
    fflush(stdout);
    t0 = now();
    while (now() - t0 < 3) {
        rc = step(h);
        if (rc < 0) {
            fprintf(stderr, "dispatch: %d %s\n", rc, fk_error_last()->message);
            return 1;
        }
    }
    fk_capture_stop(h);
    fk_capture_destroy(h);
    printf("waited %.3f udp_packets %lu tcp_flows %lu tcp_events %lu\n", waited, udp_packets,
           tcp_flows, tcp_events);
    return 0;
}
CEOF
$CC $SANFLAGS -std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Werror -I"$SRC/include" -I"$BUILD/include" \
    "$WORK/loop.c" -L"$LIBDIR" -lflowkit -lpthread -Wl,-rpath,"$LIBDIR" -o "$WORK/loop" ||
    fail "cannot build loop.c"
"$WORK/loop" "$IF" >"$WORK/loop.out" 2>"$WORK/loop.err" &
LPID=$!
fk_netns_on_exit "kill -9 $LPID"
wait_for "$WORK/loop.out" '^filter udp' 10 || fail "loop did not reach the filter change: $(cat "$WORK/loop.err")"
fk_netns_exec "$NS" $PY -c "
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(20):
    s.sendto(b'u' * 10, ('10.213.$N.1', 9))
t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
t.settimeout(2)
try:
    t.connect(('10.213.$N.1', 8081))
except OSError:
    pass" || fail "sender failed"
rc=0
wait $LPID || rc=$?
cat "$WORK/loop.out" "$WORK/loop.err"
[ $rc = 0 ] || fail "loop exited with $rc"
grep -q 'udp_packets 20 tcp_flows 0 tcp_events 0$' "$WORK/loop.out" ||
    fail "after the runtime filter change: expected 20 UDP packets and no TCP"
echo PASS
