/* capture_epoll: drive a capture handle from your own epoll loop.
 *
 *   capture_epoll [-i DEV | -r FILE]... [-f BPF]
 *
 * The handle runs in this thread (workers = 0) and exposes one pollable fd:
 * when it is readable, or when fk_capture_next_timeout_ms() passes, call
 * fk_capture_dispatch(). The same loop also watches a signalfd so Ctrl-C
 * ends the capture cleanly (flows flushed). Any other fd of your program -
 * sockets, timers, pipes - can sit in the same epoll set.
 *
 * Prints session events and flows as JSON lines, then a summary. */
/* POSIX.1-2008 for getopt, clock_gettime, sigaction-family calls. */
#define _POSIX_C_SOURCE 200809L
#include <flowkit/flowkit.h>

#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

struct counts {
    uint64_t sessions, flows, errors;
};

static void on_event(const fk_capture_event *ev, void *user)
{
    struct counts *c = user;
    char json[FK_FLOW_JSON_MAX];
    if (ev->type == FK_CAPTURE_EVENT_SESSION) {
        c->sessions++;
        if (fk_session_event_to_json(ev->session, json, sizeof json) >= 0)
            puts(json);
    } else if (ev->type == FK_CAPTURE_EVENT_FLOW) {
        c->flows++;
        if (fk_flow_to_json(ev->flow, json, sizeof json) >= 0)
            puts(json);
    } else {
        c->errors++;
        fprintf(stderr, "capture_epoll: %s\n", ev->message);
    }
}

static int fail(const char *what)
{
    const fk_error *e = fk_error_last();
    fprintf(stderr, "capture_epoll: %s: %s (%s)\n", what, e->message, fk_status_name(e->code));
    return 1;
}

int main(int argc, char **argv)
{
    fk_capture *cap;
    struct counts counts = {0};
    if (fk_capture_create(&cap) < 0)
        return fail("create");
    int opt, rc = 0;
    while ((opt = getopt(argc, argv, "i:r:f:")) != -1 && rc == 0) {
        if (opt == 'i')
            rc = fk_capture_add_device(cap, optarg);
        else if (opt == 'r')
            rc = fk_capture_add_file(cap, optarg);
        else if (opt == 'f')
            rc = fk_capture_set_str(cap, FK_CAP_FILTER, optarg);
        else {
            fprintf(stderr, "usage: capture_epoll [-i DEV | -r FILE]... [-f BPF]\n");
            fk_capture_destroy(cap);
            return 2;
        }
    }
    if (rc < 0 || fk_capture_set_int(cap, FK_CAP_WORKERS, 0) < 0 ||
        fk_capture_set_callback(cap, on_event, &counts) < 0 || fk_capture_activate(cap) < 0) {
        rc = fail("setup");
        fk_capture_destroy(cap);
        return rc;
    }

    /* SIGINT/SIGTERM arrive as a readable fd instead of a handler. */
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGTERM);
    sigprocmask(SIG_BLOCK, &mask, NULL);
    int sfd = signalfd(-1, &mask, SFD_CLOEXEC);

    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN};
    ev.data.fd = fk_capture_get_fd(cap);
    epoll_ctl(ep, EPOLL_CTL_ADD, ev.data.fd, &ev);
    ev.data.fd = sfd;
    epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &ev);

    for (;;) {
        struct epoll_event ready[4];
        /* Never sleep past the handle's next deadline (flow timeouts). */
        int n = epoll_wait(ep, ready, 4, fk_capture_next_timeout_ms(cap));
        int stop = 0;
        for (int i = 0; i < n; i++)
            if (ready[i].data.fd == sfd)
                stop = 1;
        if (stop) {
            fk_capture_stop(cap); /* flush flows: their events arrive now */
            break;
        }
        /* Readable or timed out: let the handle do its work. */
        int r = fk_capture_dispatch(cap, 256);
        if (r == FK_EEOF)
            break; /* files read to the end; flows already flushed */
        if (r < 0 && r != FK_EBREAK) {
            rc = fail("dispatch");
            break;
        }
    }

    fk_capture_stats st;
    fk_capture_get_stats(cap, &st, sizeof st);
    fprintf(stderr,
            "packets %" PRIu64 ", session events %" PRIu64 ", flows %" PRIu64
            ", kernel drops %" PRIu64 "\n",
            st.packets, counts.sessions, counts.flows, st.kernel_drops);
    close(ep);
    close(sfd);
    fk_capture_destroy(cap);
    return rc;
}
