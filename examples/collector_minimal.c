/* collector_minimal: the smallest useful collector - listen for NetFlow and
 * IPFIX, print every flow record from a callback.
 *
 *   collector_minimal [-l URI]... [-c COUNT] [-t SECONDS]
 *
 *   -l URI      listen on udp://ADDR:PORT or tcp://ADDR:PORT (repeatable;
 *               default udp://127.0.0.1:4739); port 0 picks a free port
 *   -c COUNT    exit after COUNT records
 *   -t SECONDS  exit after SECONDS
 *
 * Prints "listening on URI" to stderr for each listener (with the bound port),
 * then one JSON line per flow on stdout. Ctrl-C stops it. Templates, options
 * records (sampling, interface names), sequence tracking and data that arrives
 * before its template are all handled inside the handle. */
#define _POSIX_C_SOURCE 200809L
#include <flowkit/flowkit.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static fk_collector *col;

static void on_signal(int sig)
{
    (void)sig;
    fk_collector_break(col); /* safe from a signal handler */
}

/* Called on the thread that runs fk_collector_run(), once per flow record.
 * The record is borrowed for the call: copy what you keep. */
static void on_flow(const fk_flow *flow, void *user)
{
    unsigned long *count = user;
    char json[FK_FLOW_JSON_MAX];
    if (fk_flow_to_json(flow, json, sizeof json) >= 0)
        printf("%s\n", json);
    ++*count;
}

static int fail(const char *what)
{
    const fk_error *e = fk_error_last();
    fprintf(stderr, "collector_minimal: %s: %s (%s)\n", what, e->message, fk_status_name(e->code));
    fk_collector_destroy(col);
    return 1;
}

int main(int argc, char **argv)
{
    unsigned long records = 0;
    int listeners = 0, opt;
    if (fk_collector_create(&col) < 0)
        return fail("create");
    while ((opt = getopt(argc, argv, "l:c:t:")) != -1) {
        int rc;
        if (opt == 'l') {
            rc = fk_collector_add_listener(col, optarg);
            listeners++;
        } else if (opt == 'c') {
            rc = fk_collector_set_int(col, FK_COL_COUNT, atoll(optarg));
        } else if (opt == 't') {
            rc = fk_collector_set_int(col, FK_COL_DURATION, atoll(optarg));
        } else {
            fprintf(stderr, "usage: collector_minimal [-l URI]... [-c COUNT] [-t SECONDS]\n");
            fk_collector_destroy(col);
            return 2;
        }
        if (rc < 0)
            return fail(opt == 'l' ? "-l" : opt == 'c' ? "-c" : "-t");
    }
    if (listeners == 0 && fk_collector_add_listener(col, "udp://127.0.0.1:4739") < 0)
        return fail("listener");
    if (fk_collector_set_callback(col, on_flow, &records) < 0 || fk_collector_activate(col) < 0)
        return fail("activate");

    char uri[128];
    for (size_t i = 0; fk_collector_get_listener_uri(col, i, uri, sizeof uri) >= 0; i++)
        fprintf(stderr, "listening on %s\n", uri);

    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    /* Blocks until the count or duration limit, or a signal. */
    int rc = fk_collector_run(col);
    if (rc < 0 && rc != FK_EBREAK)
        return fail("run");
    fflush(stdout);

    fk_collector_stats st;
    fk_collector_get_stats(col, &st, sizeof st);
    fprintf(stderr, "%lu records, %llu templates, %llu malformed, %llu lost by sequence\n", records,
            (unsigned long long)st.templates, (unsigned long long)st.malformed,
            (unsigned long long)st.sequence_lost);
    fk_collector_destroy(col);
    return 0;
}
