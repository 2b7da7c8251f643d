/* flowkit-export: capture (live or pcap) → TCP session events and flows →
 * IPFIX to one or more collectors, and/or JSON lines on stdout.
 * Public API only. Exit: 0 ok, 1 runtime failure, 2 bad usage. */
#include <errno.h>
#include <flowkit/capture.h>
#include <flowkit/flowkit.h>
#include <getopt.h>
#include <math.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "export.h"
#include "fkcli.h"
#include "fkprivs.h"

/* SIGINT/SIGTERM (through cli/common): end the capture's wait. */
static void on_stop(void *cap)
{
    fk_capture_break(cap);
}

/* The lines' tags, when the metadata provider has new values: copied
 * without waiting for it (see fkimds.h). */
static void update_line_tags(app *a)
{
    if (!a->imds || !fkimds_poll(a->imds, &a->imds_generation, &a->imds_values))
        return;
    a->nline_tags = fkimds_merge(a->tags.v, a->tags.n, &a->imds_values, a->line_tags);
    if (!a->exp)
        return;
    /* The IPFIX records' metadataTags: the same tags from the next record on. */
    fk_exporter_clear_tags(a->exp);
    for (size_t i = 0; i < a->nline_tags; i++) {
        if (fk_exporter_add_tag(a->exp, a->line_tags[i].key, a->line_tags[i].value) != 0 &&
            !a->tags_cut++)
            fprintf(stderr, "%s: imds: %s: the IPFIX records carry the tags before it\n",
                    fkcli_prog(), fk_error_last()->message);
    }
}

/* A JSON line with the tags added; n is fk_*_to_json()'s result. */
static void print_json(app *a, char *buf, int n, size_t size)
{
    if (n >= 0)
        n = fkcli_tags_json(a->line_tags, a->nline_tags, buf, (size_t)n, size);
    if (n >= 0)
        printf("%s\n", buf);
}

/* A flow on stdout in the --format asked for. */
static void print_flow(app *a, const fk_flow *f)
{
    char buf[FK_FLOWLOG_MAX];
    _Static_assert(FK_FLOWLOG_MAX >=
                       FK_FLOW_JSON_MAX + FK_TAG_MAX * (FK_TAG_KEY_MAX + FK_TAG_VALUE_MAX + 6) + 16,
                   "a JSON line with every tag fits");
    int n;
    switch (a->format) {
    case FORMAT_VPCFLOW:
        n = fk_flow_to_vpcflow(f, a->line_tags, a->nline_tags, buf, sizeof buf);
        break;
    case FORMAT_FLOWLOG:
        n = fk_flow_to_flowlog(f, a->line_tags, a->nline_tags, buf, sizeof buf);
        break;
    default:
        print_json(a, buf, fk_flow_to_json(f, buf, sizeof buf), sizeof buf);
        return;
    }
    if (n > 0)
        fwrite(buf, 1, (size_t)n, stdout);
}

static void on_event(const fk_capture_event *ev, void *user)
{
    app *a = user;
    char buf[FK_FLOWLOG_MAX];
    if (ev->type == FK_CAPTURE_EVENT_FLOW && ev->flow) {
        if (!a->flows)
            return;
        a->flows_seen++;
        if (a->flow_filter && !fk_filter_match(a->flow_filter, ev->flow)) {
            a->flows_filtered++;
            return;
        }
        if (a->exp && fk_exporter_add_flow(a->exp, ev->flow) != 0)
            a->add_errors++;
        if (a->json)
            print_flow(a, ev->flow);
    } else if (ev->type == FK_CAPTURE_EVENT_SESSION && ev->session) {
        if (ev->session->kind > FK_SESSION_RST || !(a->events & (1u << ev->session->kind)))
            return;
        a->events_seen++;
        if (a->exp && fk_exporter_add_event(a->exp, ev->session) != 0)
            a->add_errors++;
        if (a->json && a->format == FORMAT_JSON) /* the text formats: flows only */
            print_json(a, buf, fk_session_event_to_json(ev->session, buf, sizeof buf), sizeof buf);
    } else if (ev->type == FK_CAPTURE_EVENT_ERROR) {
        a->capture_errors++; /* a damaged file, a lost device: exit 1 */
        fprintf(stderr, "%s: %s%s%s\n", fkcli_prog(), ev->device ? ev->device : "",
                ev->device ? ": " : "", ev->message ? ev->message : fk_strerror(ev->error));
    }
}

static int run(app *a)
{
    int cfd = fk_capture_get_fd(a->cap);
    int efd = a->exp ? fk_exporter_get_fd(a->exp) : -1;
    int rc = 0;
    bool ended = false;
    while (!fkcli_stop_signal()) {
        if (fkcli_stats_requested())
            export_print_stats(a);
        update_line_tags(a);
        int r = fk_capture_dispatch(a->cap, 4096);
        if (a->exp)
            fk_exporter_dispatch(a->exp);
        if (a->json)
            fflush(stdout);
        if (r == FK_EEOF) {
            ended = true;
            break;
        }
        if (r == FK_EBREAK)
            continue; /* the stop signal is recorded by cli/common */
        if (r < 0) {
            fprintf(stderr, "%s: capture: %s\n", fkcli_prog(), fk_error_last()->message);
            rc = 1;
            break;
        }
        if (r > 0)
            continue; /* more may be waiting (files read at full speed) */
        int t = fk_capture_next_timeout_ms(a->cap);
        int et = a->exp ? fk_exporter_next_timeout_ms(a->exp) : -1;
        if (t < 0 || (et >= 0 && et < t))
            t = et;
        struct pollfd p[2] = {{.fd = cfd, .events = POLLIN}, {.fd = efd, .events = POLLIN}};
        poll(p, efd >= 0 ? 2 : 1, t);
    }
    if (!ended)
        fk_capture_stop(a->cap); /* final flush: callbacks run here */
    if (a->exp) {
        (void)fk_exporter_drain(a->exp, a->drain_ms);
        /* The exit status says whether every record reached every TCP
         * collector (acknowledged by its TCP). Over UDP nothing says whether
         * a datagram arrived: send errors stay counted (--stats) but do not
         * change the exit status. */
        unsigned long long dropped = 0, buffered = 0, bytes = 0;
        size_t n = fk_exporter_get_destination_count(a->exp);
        for (size_t i = 0; i < n && i < a->collectors.n; i++) {
            if (strncmp(a->collectors.v[i], "tcp://", 6) != 0)
                continue;
            fk_exporter_stats s;
            if (fk_exporter_get_destination_stats(a->exp, i, &s, sizeof s) != 0)
                continue;
            dropped += s.records_dropped;
            buffered += s.records_buffered;
            bytes += s.buffered_bytes;
        }
        if (dropped || buffered) {
            fprintf(stderr,
                    "%s: not delivered: %llu records dropped, %llu still buffered "
                    "(%llu bytes) for unreachable TCP collectors at exit\n",
                    fkcli_prog(), dropped, buffered, bytes);
            if (rc == 0)
                rc = 1;
        }
    }
    if (a->json)
        fflush(stdout);
    return rc;
}

enum {
    OPT_EVENTS = 256,
    OPT_FLOWS,
    OPT_INTERVAL,
    OPT_CHUNK,
    OPT_ODID,
    OPT_PEN,
    OPT_MTU,
    OPT_BIFLOW,
    OPT_UNIFLOW,
    OPT_SET,
    OPT_CONFIG,
    OPT_STDOUT,
    OPT_DURATION,
    OPT_STATS,
    OPT_DRAIN,
    OPT_NICE,
    OPT_CHECK,
    OPT_LIST,
    OPT_ATTRIBUTION,
    OPT_FLOW_FILTER,
    OPT_FORMAT,
    OPT_TAG,
    OPT_IMDS,
    OPT_IMDS_URL,
    OPT_IMDS_REFRESH,
    OPT_IMDS_TIMEOUT
};

static const struct option long_opts[] = {
    {"interface", required_argument, NULL, 'i'},
    {"read", required_argument, NULL, 'r'},
    {"filter", required_argument, NULL, 'f'},
    {"collector", required_argument, NULL, 'c'},
    {"events", required_argument, NULL, OPT_EVENTS},
    {"flows", no_argument, NULL, OPT_FLOWS},
    {"interval", required_argument, NULL, OPT_INTERVAL},
    {"chunk-size", required_argument, NULL, OPT_CHUNK},
    {"odid", required_argument, NULL, OPT_ODID},
    {"pen", required_argument, NULL, OPT_PEN},
    {"mtu", required_argument, NULL, OPT_MTU},
    {"biflow", no_argument, NULL, OPT_BIFLOW},
    {"uniflow", no_argument, NULL, OPT_UNIFLOW},
    {"set", required_argument, NULL, OPT_SET},
    {"config", required_argument, NULL, OPT_CONFIG},
    {"stdout", no_argument, NULL, OPT_STDOUT},
    {"duration", required_argument, NULL, OPT_DURATION},
    {"stats", no_argument, NULL, OPT_STATS},
    {"drain-timeout", required_argument, NULL, OPT_DRAIN},
    {"nice", required_argument, NULL, OPT_NICE},
    {"check", no_argument, NULL, OPT_CHECK},
    {"list-params", no_argument, NULL, OPT_LIST},
    {"attribution", required_argument, NULL, OPT_ATTRIBUTION},
    {"flow-filter", required_argument, NULL, OPT_FLOW_FILTER},
    {"format", required_argument, NULL, OPT_FORMAT},
    {"tag", required_argument, NULL, OPT_TAG},
    {"imds", no_argument, NULL, OPT_IMDS},
    {"imds-url", required_argument, NULL, OPT_IMDS_URL},
    {"imds-refresh", required_argument, NULL, OPT_IMDS_REFRESH},
    {"imds-timeout", required_argument, NULL, OPT_IMDS_TIMEOUT},
    {"user", required_argument, NULL, 'Z'},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};
static const char short_opts[] = ":i:r:f:c:Z:hV";

/* Parse the command line (after the config file, so it wins). Returns 1
 * when the program is done (--help, --version, --list-params), else 0;
 * bad usage exits 2. */
static int parse_args(app *a, int argc, char **argv)
{
    /* Pass 1: --config first, then the FLOWKIT_* variables over it, so that
     * the command line overrides both. */
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, short_opts, long_opts, NULL)) != -1)
        if (c == OPT_CONFIG)
            export_load_config(a, optarg);
    export_load_env(a);
    optind = 1;
    while ((c = getopt_long(argc, argv, short_opts, long_opts, NULL)) != -1) {
        switch (c) {
        case 'i':
            export_apply(a, "-i", "interface", optarg, false);
            break;
        case 'r':
            export_apply(a, "-r", "read", optarg, false);
            break;
        case 'f':
            export_apply(a, "-f", "filter", optarg, false);
            break;
        case 'c':
            export_apply(a, "-c", "collector", optarg, false);
            break;
        case 'Z':
            export_apply(a, "--user", "user", optarg, false);
            break;
        case OPT_EVENTS:
            export_apply(a, "--events", "events", optarg, false);
            break;
        case OPT_FLOWS:
            a->flows = a->flows_set = true;
            break;
        case OPT_FLOW_FILTER:
            export_apply(a, "--flow-filter", "flow_filter", optarg, false);
            break;
        case OPT_INTERVAL:
            export_apply(a, "--interval", "interval", optarg, false);
            break;
        case OPT_CHUNK:
            export_set_param(a, "--chunk-size", "exporter.chunk_size", optarg);
            break;
        case OPT_ODID:
            export_set_param(a, "--odid", "exporter.odid", optarg);
            break;
        case OPT_PEN:
            export_set_param(a, "--pen", "exporter.pen", optarg);
            break;
        case OPT_MTU:
            export_set_param(a, "--mtu", "exporter.mtu", optarg);
            break;
        case OPT_BIFLOW:
        case OPT_UNIFLOW:
            export_set_param(a, c == OPT_BIFLOW ? "--biflow" : "--uniflow", "exporter.biflow",
                             c == OPT_BIFLOW ? "1" : "0");
            break;
        case OPT_SET: {
            char *eq = strchr(optarg, '=');
            if (!eq || eq == optarg)
                fkcli_usage("--set expects NAME=VALUE, got \"%s\"", optarg);
            *eq = '\0';
            export_set_param(a, "--set", optarg, eq + 1);
            break;
        }
        case OPT_CONFIG:
            break;
        case OPT_STDOUT:
            export_apply(a, "--stdout", "stdout", "yes", false);
            break;
        case OPT_FORMAT:
            export_apply(a, "--format", "format", optarg, false);
            break;
        case OPT_TAG:
            export_apply(a, "--tag", "tag", optarg, false);
            break;
        case OPT_IMDS:
            export_apply(a, "--imds", "imds", "yes", false);
            break;
        case OPT_IMDS_URL:
            export_apply(a, "--imds-url", "imds_url", optarg, false);
            break;
        case OPT_IMDS_REFRESH:
            export_apply(a, "--imds-refresh", "imds_refresh", optarg, false);
            break;
        case OPT_IMDS_TIMEOUT:
            export_apply(a, "--imds-timeout", "imds_timeout", optarg, false);
            break;
        case OPT_DURATION:
            export_apply(a, "--duration", "duration", optarg, false);
            break;
        case OPT_STATS:
            a->stats = true;
            break;
        case OPT_DRAIN:
            export_apply(a, "--drain-timeout", "drain_timeout", optarg, false);
            break;
        case OPT_NICE:
            export_apply(a, "--nice", "nice", optarg, false);
            break;
        case OPT_ATTRIBUTION:
            export_set_param(a, "--attribution", "capture.attribution", optarg);
            break;
        case OPT_CHECK:
            a->check = true;
            break;
        case OPT_LIST: {
            fkcli_params ps[2];
            export_params(a, ps);
            fkcli_list_params(stdout, ps, 2);
            return 1;
        }
        case 'h':
            export_help();
            return 1;
        case 'V':
            fkcli_print_version();
            return 1;
        case ':':
            fkcli_usage("option %s needs a value", argv[optind - 1]);
        default:
            if (optopt && optopt < 256)
                fkcli_usage("unknown option -%c", optopt);
            fkcli_usage("unknown option %s", argv[optind - 1]);
        }
    }
    if (optind < argc)
        fkcli_usage("unexpected argument \"%s\"", argv[optind]);
    return 0;
}

/* Everything the app owns. */
static void app_free(app *a)
{
    fk_exporter_destroy(a->exp);
    fk_capture_destroy(a->cap);
    fkcli_strlist_free(&a->devices);
    fkcli_strlist_free(&a->collectors);
    fkcli_strlist_free(&a->cfg_devices);
    fkcli_strlist_free(&a->cfg_collectors);
    free(a->file);
    free(a->filter);
    fk_filter_destroy(a->flow_filter);
    free(a->source_host);
    free(a->user);
    fkimds_stop(a->imds);
    free(a->imds_url);
    fkcli_tags_free(&a->tags);
    fkcli_origins_free(a->origins);
}

int main(int argc, char **argv)
{
    fkcli_init(argv[0]);
    app a;
    memset(&a, 0, sizeof a);
    a.drain_ms = 5000;
    a.nice_value = DEFAULT_NICE;
    a.imds_refresh_ms = 300000;
    a.imds_timeout_ms = 1000;
    if (fk_capture_create(&a.cap) != 0 || fk_exporter_create(&a.exp) != 0)
        fkcli_lib_error(FKCLI_EXIT_FAILURE, "create");
    if (!(a.origins = fkcli_origins_new()))
        fkcli_fail("out of memory");
    /* Attribution races the sockets it looks up: a connection of 10 ms is
     * gone before a kernel block held for the default 10 ms reaches it.
     * Blocks retired after 1 ms (unless set otherwise below) keep the lag
     * short; only a live capture is affected. */
    fk_capture_set_int(a.cap, FK_CAP_BUFFER_TIMEOUT, 1);
    if (parse_args(&a, argc, argv)) {
        app_free(&a);
        return FKCLI_EXIT_OK;
    }
    export_finish_setup(&a);
    if (a.check) {
        export_print_settings(&a);
        app_free(&a);
        return FKCLI_EXIT_OK;
    }
    if (a.collectors.n == 0) {
        fk_exporter_destroy(a.exp); /* --stdout only */
        a.exp = NULL;
    }
    for (size_t i = 0; a.exp && i < a.tags.n; i++)
        if (fk_exporter_add_tag(a.exp, a.tags.v[i].key, a.tags.v[i].value) != 0)
            fkcli_lib_error(FKCLI_EXIT_USAGE, "--tag");
    if (a.exp && fk_exporter_activate(a.exp) != 0)
        fkcli_lib_error(FKCLI_EXIT_FAILURE, "exporter");
    /* Before activate, so that the capture's threads inherit it (nice is
     * per thread on Linux). Not allowed (not root, no CAP_SYS_NICE): carry
     * on at the current priority, said on stderr when a nice value was
     * asked for (or with --stats). */
    if (!a.file && setpriority(PRIO_PROCESS, 0, a.nice_value) != 0 && (a.nice_given || a.stats))
        fprintf(stderr, "%s: cannot set nice %d: %s\n", fkcli_prog(), a.nice_value,
                strerror(errno));
    fk_capture_set_callback(a.cap, on_event, &a);
    if (fk_capture_activate(a.cap) != 0)
        fkcli_lib_error(FKCLI_EXIT_FAILURE, "capture");
    const char *source;
    if (!a.file && fk_capture_get_attribution_source(a.cap, &source) == 0)
        fprintf(stderr, "%s: attribution: %s\n", fkcli_prog(), source);
    if (fkcli_signals(on_stop, NULL, a.cap) != 0)
        fkcli_fail("cannot install signal handlers: %s", strerror(errno));
    /* Everything privileged is open: from here on, the user of --user (or
     * "flowkit") and only the capabilities attribution still needs. */
    const char *attr = "off";
    fk_capture_get_attribution_source(a.cap, &attr);
    fkcli_drop_privileges(a.user, strcmp(attr, "off") ? fkcli_privs_attribution_caps() : 0);
    a.nline_tags = fkimds_merge(a.tags.v, a.tags.n, &a.imds_values, a.line_tags);
    if (a.imds_url) {
        /* Unprivileged, beside the data path: it never waits for it. */
        char err[300];
        a.imds = fkimds_start(a.imds_url, a.imds_refresh_ms, a.imds_timeout_ms, err, sizeof err);
        if (!a.imds)
            fkcli_fail("imds: %s", err);
    }
    if (a.json && a.format == FORMAT_VPCFLOW)
        printf("%s\n", fk_flow_get_vpcflow_header());
    int rc = run(&a);
    if (a.stats)
        export_print_stats(&a);
    if (a.imds && !a.stats) {
        fkimds_stats is;
        fkimds_get_stats(a.imds, &is);
        if (is.failures)
            fprintf(stderr, "%s: imds: %llu of %llu refreshes failed, the last values kept (%s)\n",
                    fkcli_prog(), (unsigned long long)is.failures,
                    (unsigned long long)(is.failures + is.refreshes), is.last_error);
    }
    if (a.add_errors)
        fprintf(stderr, "%s: %llu records could not be queued\n", fkcli_prog(),
                (unsigned long long)a.add_errors);
    /* A damaged input file (truncated, an impossible capture length) or a
     * device lost: what was exported is not all there was. */
    if (a.capture_errors && rc == 0) {
        fprintf(stderr, "%s: %llu capture error(s): exit 1\n", fkcli_prog(),
                (unsigned long long)a.capture_errors);
        rc = FKCLI_EXIT_FAILURE;
    }
    app_free(&a);
    return rc;
}
