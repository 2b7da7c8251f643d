/* capture_flows: capture on devices (or replay pcap files) and print every
 * TCP session event and flow record as a JSON line, then the counters.
 *
 *   capture_flows [-i DEV]... [-r FILE]... [-o NAME=VALUE]...
 *
 *   -i DEV          capture on DEV (repeatable; default: every device up)
 *   -r FILE         replay FILE instead (repeatable)
 *   -o NAME=VALUE   set any capture parameter by name, e.g. -o filter=tcp,
 *                   -o workers=2, -o duration=5, -o pcap_store=/tmp/x/
 *   -l              list the parameters and exit
 *
 * SIGINT/SIGTERM end the capture cleanly: the flow table is flushed and the
 * counters printed. "ready" goes to stderr once the capture is active. */
#include <flowkit/flowkit.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static fk_capture *capture;

static void on_signal(int sig)
{
    (void)sig;
    fk_capture_break(capture); /* async-signal-safe */
}

static void on_event(const fk_capture_event *ev, void *user)
{
    (void)user;
    char buf[FK_FLOW_JSON_MAX];
    if (ev->type == FK_CAPTURE_EVENT_SESSION) {
        if (fk_session_event_to_json(ev->session, buf, sizeof buf) >= 0)
            printf("%s\n", buf);
    } else if (ev->type == FK_CAPTURE_EVENT_FLOW) {
        if (fk_flow_to_json(ev->flow, buf, sizeof buf) >= 0)
            printf("%s\n", buf);
    } else {
        fprintf(stderr, "capture_flows: %s\n", ev->message);
    }
    fflush(stdout);
}

static int fail(const char *what)
{
    const fk_error *e = fk_error_last();
    fprintf(stderr, "capture_flows: %s: %s (%s)\n", what, e->message, fk_status_name(e->code));
    return 1;
}

static void list_params(void)
{
    size_t n;
    const fk_param_info *t = fk_capture_params(&n);
    for (size_t i = 0; i < n; i++)
        printf("%-20s %-6s %s%s\n", t[i].name, fk_param_type_name(t[i].type), t[i].help,
               t[i].flags & FK_PARAM_RUNTIME ? " (runtime)" : "");
}

int main(int argc, char **argv)
{
    if (fk_capture_create(&capture) < 0)
        return fail("create");
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "-l") == 0) {
            list_params();
            fk_capture_destroy(capture);
            return 0;
        }
        if (i + 1 >= argc || arg[0] != '-' || strlen(arg) != 2) {
            fprintf(stderr, "usage: capture_flows [-i DEV]... [-r FILE]... [-o NAME=VALUE]... "
                            "| -l\n");
            fk_capture_destroy(capture);
            return 2;
        }
        const char *val = argv[++i];
        int rc = 0;
        if (arg[1] == 'i') {
            rc = fk_capture_add_device(capture, val);
        } else if (arg[1] == 'r') {
            rc = fk_capture_add_file(capture, val);
        } else if (arg[1] == 'o') {
            char name[64];
            const char *eq = strchr(val, '=');
            if (!eq || (size_t)(eq - val) >= sizeof name) {
                fprintf(stderr, "capture_flows: -o wants NAME=VALUE, got \"%s\"\n", val);
                fk_capture_destroy(capture);
                return 2;
            }
            memcpy(name, val, (size_t)(eq - val));
            name[eq - val] = '\0';
            rc = fk_capture_set_text(capture, name, eq + 1);
        } else {
            fprintf(stderr, "capture_flows: unknown option %s\n", arg);
            fk_capture_destroy(capture);
            return 2;
        }
        if (rc < 0) {
            fail(arg);
            fk_capture_destroy(capture);
            return 2;
        }
    }
    fk_capture_set_callback(capture, on_event, NULL);
    if (fk_capture_activate(capture) < 0) {
        fail("activate");
        fk_capture_destroy(capture);
        return 1;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    for (size_t i = 0; i < fk_capture_get_source_count(capture); i++)
        fprintf(stderr, "capture_flows: source %s\n", fk_capture_get_source_name(capture, i));
    fprintf(stderr, "ready\n");

    int rc = fk_capture_run(capture);
    if (rc < 0 && rc != FK_EBREAK)
        fail("run");
    fk_capture_stop(capture); /* after a break: flush what is left */

    fk_capture_stats st;
    fk_capture_get_stats(capture, &st, sizeof st);
    printf("{\"type\":\"stats\",\"packets\":%" PRIu64 ",\"bytes\":%" PRIu64
           ",\"kernel_drops\":%" PRIu64 ",\"queue_drops\":%" PRIu64 ",\"decode_errors\":%" PRIu64
           ",\"non_ip\":%" PRIu64 ",\"event_drops\":%" PRIu64 ",\"flows_created\":%" PRIu64
           ",\"flows_evicted\":%" PRIu64 ",\"flows_emitted\":%" PRIu64
           ",\"session_events\":%" PRIu64 ",\"store_files\":%" PRIu64 ",\"store_packets\":%" PRIu64
           ",\"store_errors\":%" PRIu64 ",\"kernel_map_full\":%" PRIu64
           ",\"kernel_events_lost\":%" PRIu64 ",\"frags_unmatched\":%" PRIu64
           ",\"tunnels_undecoded\":%" PRIu64 ",\"kernel_cache_orphans\":%" PRIu64 "}\n",
           st.packets, st.bytes, st.kernel_drops, st.queue_drops, st.decode_errors, st.non_ip,
           st.event_drops, st.flows_created, st.flows_evicted, st.flows_emitted, st.session_events,
           st.store_files, st.store_packets, st.store_errors, st.kernel_map_full,
           st.kernel_events_lost, st.frags_unmatched, st.tunnels_undecoded,
           st.kernel_cache_orphans);
    fk_capture_destroy(capture);
    return rc < 0 && rc != FK_EBREAK ? 1 : 0;
}
