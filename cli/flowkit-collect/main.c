/* flowkit-collect: the NetFlow / IPFIX collector.
 *
 *   flowkit-collect [-l URI]... [-o URI]... [--allow CIDR]... [--workers N]
 *                   [--template-timeout SECS] [--scale-sampling]
 *                   [--duration SECS] [--count N] [--stats SECS] [--pen N]
 *                   [--export-time-tolerance SECS] [--max-interfaces N]
 *
 * Exit codes: 0 success (limit reached or SIGINT/SIGTERM), 1 runtime
 * failure, 2 bad usage. Public flowkit API only. */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fkcli.h"

static const char *const param_names[] = {
    "workers", "template_timeout",      "scale_sampling", "duration", "count",
    "pen",     "export_time_tolerance", "max_interfaces", NULL};
#define NPARAM_OPTS 8
#define PARAM_BASE 1000

enum { OPT_HELP = 500, OPT_VERSION, OPT_ALLOW, OPT_STATS, OPT_SET, OPT_LIST };

static const char *const default_listeners[] = {"udp://0.0.0.0:2055", "udp://0.0.0.0:4739",
                                                "tcp://0.0.0.0:4739"};

static void usage(const fkcli_params *p)
{
    printf("Usage: %s [options]\n"
           "Receive NetFlow v1/v5/v7/v9 and IPFIX from exporters and write the flows as\n"
           "JSON lines (default, to stdout), CSV or IPFIX files.\n"
           "\n"
           "  -l, --listen URI           listen on udp://ADDR:PORT or tcp://ADDR:PORT\n"
           "                             (IPv6: udp://[ADDR]:PORT; repeatable; default\n"
           "                             udp://0.0.0.0:2055, udp://0.0.0.0:4739,\n"
           "                             tcp://0.0.0.0:4739)\n"
           "  -o, --output URI           jsonl:-, jsonl:PATH, csv:PATH, ipfix:PATH\n"
           "                             clickhouse://HOST:PORT/DB.TABLE[?batch_rows=N&\n"
           "                             flush_ms=N&queue_rows=N&drain_ms=N] (docs/clickhouse.md)\n"
           "                             (repeatable; default jsonl:-)\n"
           "  --allow CIDR               accept exporters from this network only\n"
           "                             (repeatable; default: every exporter)\n"
           "  --stats SECS               print counters to stderr every SECS seconds\n",
           fkcli_prog());
    fkcli_param_help(stdout, p, param_names);
    printf("  --set NAME=VALUE           any collector parameter (see --list-params)\n"
           "  --list-params              print the collector's parameter table and exit\n"
           "  -h, --help                 show this help and exit\n"
           "  -V, --version              show the version and exit\n"
           "\n"
           "Data sets that arrive before their template are kept (per exporter, bounded)\n"
           "and decoded when the template arrives. Every loss is counted (--stats).\n"
           "Interface names from options data appear as \"in_if_name\"/\"out_if_name\";\n"
           "flowkit-export's process fields (under --pen) as \"pid\", \"process\", \"uid\",\n"
           "\"exe\"; IANA userName as \"user\". Exporter clocks off by more than\n"
           "--export-time-tolerance and exporter restarts are counted (--stats).\n"
           "SIGINT/SIGTERM flush the outputs and exit 0; SIGHUP reopens output files.\n"
           "Exit status: 0 success, 1 runtime failure, 2 bad usage.\n");
}

static int set_text(void *h, const char *name, const char *text)
{
    return fk_collector_set_text(h, name, text);
}

static void on_stop(void *h)
{
    fk_collector_break(h);
}

static void on_hup(void *h)
{
    fk_collector_reopen(h);
}

static void print_stats(fk_collector *h)
{
    fk_collector_stats s;
    if (fk_collector_get_stats(h, &s) != 0)
        return;
    fprintf(
        stderr,
        "%s: stats datagrams=%" PRIu64 " messages=%" PRIu64 " records=%" PRIu64 " bytes=%" PRIu64
        " socket_drops=%" PRIu64 " queue_drops=%" PRIu64 " malformed=%" PRIu64
        " unsupported=%" PRIu64 " allowlist_rejected=%" PRIu64 " pending_sets=%" PRIu64
        " pending_decoded=%" PRIu64 " pending_records=%" PRIu64 " pending_expired=%" PRIu64
        " pending_overflow=%" PRIu64 " sequence_gaps=%" PRIu64 " sequence_lost=%" PRIu64
        " templates=%" PRIu64 " templates_withdrawn=%" PRIu64 " template_limit=%" PRIu64
        " exporter_limit=%" PRIu64 " options_records=%" PRIu64 " tcp_connections=%" PRIu64
        " tcp_refused=%" PRIu64 " sessions=%" PRIu64 " sink_errors=%" PRIu64
        " db_rows_written=%" PRIu64 " db_rows_retried=%" PRIu64 " db_rows_dropped=%" PRIu64
        " db_rows_queued=%" PRIu64 " export_time_skewed=%" PRIu64 " records_after_export=%" PRIu64
        " exporter_restarts=%" PRIu64 " interface_names=%" PRIu64 " interface_limit=%" PRIu64 "\n",
        fkcli_prog(), s.datagrams, s.messages, s.records, s.bytes, s.socket_drops, s.queue_drops,
        s.malformed, s.unsupported, s.allowlist_rejected, s.pending_sets, s.pending_decoded,
        s.pending_records, s.pending_expired, s.pending_overflow, s.sequence_gaps, s.sequence_lost,
        s.templates, s.templates_withdrawn, s.template_limit, s.exporter_limit, s.options_records,
        s.tcp_connections, s.tcp_refused, s.sessions, s.sink_errors, s.db_rows_written,
        s.db_rows_retried, s.db_rows_dropped, s.db_rows_queued, s.export_time_skewed,
        s.records_after_export, s.exporter_restarts, s.interface_names, s.interface_limit);
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int main(int argc, char **argv)
{
    fkcli_init(argv[0]);
    fk_collector *h;
    if (fk_collector_create(&h) != 0)
        fkcli_lib_error(FKCLI_EXIT_FAILURE, "create");
    fkcli_params params = {"collector", NULL, 0, h, set_text};
    params.table = fk_collector_params(&params.count);

    static const struct option fixed[] = {
        {"listen", required_argument, NULL, 'l'},
        {"output", required_argument, NULL, 'o'},
        {"allow", required_argument, NULL, OPT_ALLOW},
        {"stats", required_argument, NULL, OPT_STATS},
        {"set", required_argument, NULL, OPT_SET},
        {"list-params", no_argument, NULL, OPT_LIST},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
    };
    enum { NFIXED = sizeof fixed / sizeof fixed[0] };
    struct option opts[NFIXED + NPARAM_OPTS + 1];
    char names[NPARAM_OPTS * 48];
    memcpy(opts, fixed, sizeof fixed);
    int np =
        fkcli_param_options(opts + NFIXED, names, NPARAM_OPTS, &params, param_names, PARAM_BASE);
    memset(&opts[NFIXED + np], 0, sizeof opts[0]);

    int nlisten = 0, noutput = 0;
    uint64_t stats_secs = 0;
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":l:o:hV", opts, NULL)) != -1) {
        switch (c) {
        case 'l':
            if (fk_collector_add_listener(h, optarg) != 0)
                fkcli_lib_error(FKCLI_EXIT_USAGE, "-l");
            nlisten++;
            break;
        case 'o':
            if (fk_collector_add_output(h, optarg) != 0)
                fkcli_lib_error(FKCLI_EXIT_USAGE, "-o");
            noutput++;
            break;
        case OPT_ALLOW:
            if (fk_collector_add_allow(h, optarg) != 0)
                fkcli_lib_error(FKCLI_EXIT_USAGE, "--allow");
            break;
        case OPT_STATS:
            stats_secs = fkcli_parse_u64("--stats", optarg, 1, 86400);
            break;
        case OPT_SET:
            fkcli_set(&params, 1, optarg);
            break;
        case OPT_LIST:
            fkcli_list_params(stdout, &params, 1);
            fk_collector_destroy(h);
            return FKCLI_EXIT_OK;
        case 'h':
            usage(&params);
            fk_collector_destroy(h);
            return FKCLI_EXIT_OK;
        case 'V':
            fkcli_print_version();
            fk_collector_destroy(h);
            return FKCLI_EXIT_OK;
        case ':':
            fkcli_usage("option %s needs a value", argv[optind - 1]);
        case '?':
            if (optopt)
                fkcli_usage("unknown option -%c", optopt);
            fkcli_usage("unknown option %s", argv[optind - 1]);
        default:
            if (c >= PARAM_BASE && c < PARAM_BASE + np) {
                fkcli_param_set(&params, param_names, c - PARAM_BASE, optarg);
                break;
            }
            fkcli_usage("unexpected option");
        }
    }
    if (optind < argc)
        fkcli_usage("unexpected argument \"%s\"", argv[optind]);
    for (int i = 0; nlisten == 0 && i < 3; i++)
        if (fk_collector_add_listener(h, default_listeners[i]) != 0)
            fkcli_lib_error(FKCLI_EXIT_FAILURE, "default listener");
    if (noutput == 0 && fk_collector_add_output(h, "jsonl:-") != 0)
        fkcli_lib_error(FKCLI_EXIT_FAILURE, "default output");

    if (fk_collector_activate(h) != 0)
        fkcli_lib_error(FKCLI_EXIT_FAILURE, "cannot start");
    char uri[80];
    for (size_t i = 0; fk_collector_listener_uri(h, i, uri, sizeof uri) > 0; i++)
        fprintf(stderr, "%s: listening on %s\n", fkcli_prog(), uri);
    if (fkcli_signals(on_stop, on_hup, h) != 0)
        fkcli_fail("cannot install signal handlers: %s", strerror(errno));

    struct pollfd pfd = {fk_collector_get_fd(h), POLLIN, 0};
    int64_t next_stats = stats_secs ? now_ms() + (int64_t)stats_secs * 1000 : 0;
    int status = FKCLI_EXIT_OK;
    for (;;) {
        int timeout = fk_collector_next_timeout_ms(h);
        if (next_stats) {
            int64_t left = next_stats - now_ms();
            if (left < 0)
                left = 0;
            if (timeout < 0 || left < timeout)
                timeout = (int)left;
        }
        if (timeout != 0 && poll(&pfd, 1, timeout) < 0 && errno != EINTR) {
            fprintf(stderr, "%s: poll: %s\n", fkcli_prog(), strerror(errno));
            status = FKCLI_EXIT_FAILURE;
            break;
        }
        int rc = fk_collector_dispatch(h);
        if (rc == FK_EEOF || rc == FK_EBREAK)
            break;
        if (rc < 0) {
            fprintf(stderr, "%s: %s\n", fkcli_prog(), fk_error_last()->message);
            status = FKCLI_EXIT_FAILURE;
            break;
        }
        if (next_stats && now_ms() >= next_stats) {
            print_stats(h);
            next_stats += (int64_t)stats_secs * 1000;
        }
    }
    if (stats_secs)
        print_stats(h);
    fk_collector_destroy(h);
    return status;
}
