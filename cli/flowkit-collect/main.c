/* flowkit-collect: the NetFlow / IPFIX collector.
 *
 *   flowkit-collect [-l URI]... [-o URI]... [--allow CIDR]... [--workers N]
 *                   [--template-timeout SECS] [--scale-sampling]
 *                   [--duration SECS] [--count N] [--stats SECS] [--pen N]
 *                   [--export-time-tolerance SECS] [--max-interfaces N]
 *                   [--rotate SECS] [--rotate-seconds SECS] [--rotate-bytes N]
 *                   [--http [ADDR:]PORT [--http-token-file FILE] ...]
 *                   [--senders FILE [--senders-keys FILE] [--prefix-stats]]
 *
 * Exit codes: 0 success (limit reached or SIGINT/SIGTERM), 1 runtime
 * failure, 2 bad usage. Public flowkit API only. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "collect.h"
#include "fkcli.h"
#include "fkprivs.h"
#include "server.h"

static const char *const param_names[] = {
    "workers",       "template_timeout",      "scale_sampling", "duration",       "count",
    "pen",           "export_time_tolerance", "max_interfaces", "rotate_seconds", "rotate_bytes",
    "recv_interval", "ipfix_biflow",          "share_port",     "queue_size",     NULL};
#define NPARAM_OPTS 14
#define PARAM_BASE 1000

enum {
    OPT_HELP = 500,
    OPT_VERSION,
    OPT_ALLOW,
    OPT_STATS,
    OPT_SET,
    OPT_LIST,
    OPT_FILTER,
    OPT_HTTP,
    OPT_HTTP_TOKEN,
    OPT_HTTP_ROOT,
    OPT_HTTP_BODY,
    OPT_HTTP_CONNS,
    OPT_HTTP_FEEDS,
    OPT_HTTP_HISTORY,
    OPT_STORE,
    OPT_STORE_CIDR,
    OPT_SENDERS,
    OPT_SENDERS_KEYS,
    OPT_CONFIG,
    OPT_CHECK,
    OPT_PREFIX_STATS,
    OPT_TAG,
    OPT_ROTATE
};

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
           "  -o, --output URI           jsonl:-, jsonl:PATH, csv:-, csv:PATH, ipfix:PATH,\n"
           "                             vpcflow:-, vpcflow:PATH (AWS VPC flow log v5 fields\n"
           "                             with a header line), flowlog:-, flowlog:PATH (FFFA's\n"
           "                             key=value line),\n"
           "                             clickhouse://HOST:PORT/DB.TABLE[?batch_rows=N&\n"
           "                             flush_ms=N&queue_rows=N&drain_ms=N] (docs/clickhouse.md)\n"
           "                             (repeatable; default jsonl:-)\n"
           "  --filter EXPR              the next -o (or the default output) gets only\n"
           "                             the flows matching EXPR, a filter in nfdump's\n"
           "                             syntax (flowkit-ipfix(1) FILTERS), e.g.\n"
           "                             --filter 'proto tcp' -o jsonl:tcp.jsonl\n"
           "  --tag KEY=VALUE            static metadata on every record written (repeatable,\n"
           "                             or KEY=VALUE,KEY=VALUE; at most 16): JSON \"tags\",\n"
           "                             the vpcflow/flowlog columns of the same name\n"
           "                             (account-id, vpc-id, subnet-id, instance-id, region,\n"
           "                             az-id, ...)\n"
           "  --allow CIDR               accept exporters from this network only\n"
           "                             (repeatable; default: every exporter)\n"
           "  --stats SECS               print counters to stderr every SECS seconds\n"
           "  -Z, --user USER            run as USER once the sockets and outputs are open\n"
           "                             (default: the user \"flowkit\" if it exists, when\n"
           "                             started as root); no capability is kept\n"
           "  --http [ADDR:]PORT         serve the console, the JSON API, /metrics and\n"
           "                             POST /ingest on ADDR (default 127.0.0.1;\n"
           "                             IPv6: [ADDR]:PORT; port 0 picks one)\n"
           "  --http-token-file FILE     require \"Authorization: Bearer <first line of\n"
           "                             FILE>\" on everything but /healthz and the\n"
           "                             pages (required off loopback)\n"
           "  --http-root DIR            console pages (default %s)\n"
           "  --http-max-body BYTES      largest request body (default 1048576)\n"
           "  --http-max-clients N       connections at once (default 64)\n"
           "  --http-max-feeds N         live feed clients at once (default 8)\n"
           "  --http-history URI         answer API queries older than the store from\n"
           "                             clickhouse://HOST:PORT/DB.TABLE[?timeout_ms=N&\n"
           "                             max_bytes=N&max_queries=N] (default: the first\n"
           "                             clickhouse:// output; none: off; docs/console.md)\n"
           "  --store NAME=VALUE         a live flow store parameter (repeatable; see\n"
           "                             docs/store.md), e.g. --store max_ips=100000\n"
           "  --store-cidr CIDR          keep only flows from or to CIDR in the store\n"
           "                             (repeatable)\n"
           "  --senders FILE             accept records only from the senders FILE lists,\n"
           "                             each for its prefixes (lines \"SENDER [PREFIX...]\";\n"
           "                             read again on SIGHUP); drops are counted\n"
           "  --senders-keys FILE        with --http: PUT/DELETE/GET /senders[/IP] signed\n"
           "                             with HMAC-SHA256 (FILE: \"auth = KEY\", \"sign = KEY\")\n"
           "  --prefix-stats             count traffic per sender prefix in minute, hour,\n"
           "                             day, month and year buckets (needs --senders;\n"
           "                             with --senders-keys: POST /stats/SENDER;\n"
           "                             --set prefixstats.keep_days=90 etc.;\n"
           "                             docs/prefix-stats.md)\n",
           fkcli_prog(), FLOWKIT_CONSOLE_DIR);
    fkcli_param_help(stdout, p, param_names);
    printf("  --rotate SECS              the same as --rotate-seconds SECS (nfcapd's -t)\n"
           "  --set NAME=VALUE           any collector, store or prefixstats parameter\n"
           "                             (see --list-params)\n"
           "  --config FILE              settings from FILE: \"key = value\" lines or YAML\n"
           "                             (keys: the long options and --list-params names,\n"
           "                             e.g. listen, output, collector.workers); then\n"
           "                             FLOWKIT_<KEY> variables; the command line wins\n"
           "  --check                    print the effective settings, each with where it\n"
           "                             came from, and exit\n"
           "  --list-params              print the collector's, the store's and the prefix\n"
           "                             statistics' parameter tables and exit\n"
           "  -h, --help                 show this help and exit\n"
           "  -V, --version              show the version and exit\n"
           "\n"
           "Data sets that arrive before their template are kept (per exporter, bounded)\n"
           "and decoded when the template arrives. Every loss is counted (--stats).\n"
           "Interface names from options data appear as \"in_if_name\"/\"out_if_name\";\n"
           "flowkit-export's process fields (under --pen) as \"pid\", \"process\", \"uid\",\n"
           "\"exe\"; IANA userName as \"user\". Exporter clocks off by more than\n"
           "--export-time-tolerance and exporter restarts are counted (--stats).\n"
           "SIGINT/SIGTERM flush the outputs and exit 0; SIGHUP reopens output files\n"
           "and reads the --senders file again; SIGUSR1 prints the counters to stderr.\n"
           "Exit status: 0 success, 1 runtime failure, 2 bad usage.\n");
}

static void on_stop(void *h)
{
    fk_collector_break(h);
}

static volatile sig_atomic_t g_reload_senders;

static void on_hup(void *h)
{
    g_reload_senders = 1;
    fk_collector_reopen(h); /* also wakes the loop */
}

/* The --senders file (a regular file of at most 1 MiB) into the registry;
 * on failure the registry stays as it was and err says why. */
static int load_senders(fk_senders *s, const char *path, char *err, size_t errsize)
{
    enum { MAX = 1 << 20 };
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        snprintf(err, errsize, "--senders %s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    if (!S_ISREG(st.st_mode) || st.st_size > MAX) {
        snprintf(err, errsize, "--senders %s: not a regular file of at most 1 MiB", path);
        close(fd);
        return -1;
    }
    char *text = malloc((size_t)st.st_size + 1);
    size_t len = 0;
    ssize_t r = 1;
    while (text && len < (size_t)st.st_size + 1 &&
           (r = read(fd, text + len, (size_t)st.st_size + 1 - len)) > 0)
        len += (size_t)r;
    close(fd);
    if (!text || r < 0 || len > (size_t)st.st_size) {
        snprintf(err, errsize, "--senders %s: %s", path,
                 !text   ? "out of memory"
                 : r < 0 ? strerror(errno)
                         : "the file grew while read");
        free(text);
        return -1;
    }
    size_t line = 0;
    int rc = fk_senders_parse(s, text, len, &line);
    free(text);
    if (rc != 0) {
        snprintf(err, errsize, "--senders %s: %s", path, fk_error_last()->message);
        return -1;
    }
    return 0;
}

/* The prefix statistics' counters, one line (with --prefix-stats). */
static void print_prefixstats(fk_prefixstats *ps)
{
    fk_prefixstats_stats s;
    if (!ps || fk_prefixstats_get_stats(ps, &s, sizeof s) != 0)
        return;
    fprintf(stderr,
            "%s: prefixstats records=%" PRIu64 " accounted=%" PRIu64 " unmatched=%" PRIu64
            " late=%" PRIu64 " clamped=%" PRIu64 " prefixes=%" PRIu64 " prefixes_evicted=%" PRIu64
            " prefixes_skipped=%" PRIu64 " buckets=%" PRIu64 " buckets_expired=%" PRIu64
            " values_folded=%" PRIu64 " memory_bytes=%" PRIu64 " memory_bound=%" PRIu64 "\n",
            fkcli_prog(), s.records, s.accounted, s.unmatched, s.late, s.clamped, s.prefixes,
            s.prefixes_evicted, s.prefixes_skipped, s.buckets, s.buckets_expired, s.values_folded,
            s.memory_bytes, s.memory_bound);
}

static void print_stats(fk_collector *h)
{
    fk_collector_stats s;
    if (fk_collector_get_stats(h, &s, sizeof s) != 0)
        return;
    fprintf(stderr,
            "%s: stats datagrams=%" PRIu64 " messages=%" PRIu64 " records=%" PRIu64
            " bytes=%" PRIu64 " socket_drops=%" PRIu64 " queue_drops=%" PRIu64 " malformed=%" PRIu64
            " unsupported=%" PRIu64 " allowlist_rejected=%" PRIu64 " pending_sets=%" PRIu64
            " pending_decoded=%" PRIu64 " pending_records=%" PRIu64 " pending_expired=%" PRIu64
            " pending_overflow=%" PRIu64 " sequence_gaps=%" PRIu64 " sequence_lost=%" PRIu64
            " templates=%" PRIu64 " templates_withdrawn=%" PRIu64 " template_limit=%" PRIu64
            " exporter_limit=%" PRIu64 " options_records=%" PRIu64 " tcp_connections=%" PRIu64
            " tcp_refused=%" PRIu64 " sessions=%" PRIu64 " sink_errors=%" PRIu64
            " db_rows_written=%" PRIu64 " db_rows_retried=%" PRIu64 " db_rows_dropped=%" PRIu64
            " db_rows_queued=%" PRIu64 " export_time_skewed=%" PRIu64
            " records_after_export=%" PRIu64 " exporter_restarts=%" PRIu64
            " interface_names=%" PRIu64 " interface_limit=%" PRIu64 " udp_wakeups=%" PRIu64
            " sender_unknown=%" PRIu64 " sender_outside=%" PRIu64 " tags_rejected=%" PRIu64
            " records_compiled=%" PRIu64 " templates_uncompiled=%" PRIu64 "\n",
            fkcli_prog(), s.datagrams, s.messages, s.records, s.bytes, s.socket_drops,
            s.queue_drops, s.malformed, s.unsupported, s.allowlist_rejected, s.pending_sets,
            s.pending_decoded, s.pending_records, s.pending_expired, s.pending_overflow,
            s.sequence_gaps, s.sequence_lost, s.templates, s.templates_withdrawn, s.template_limit,
            s.exporter_limit, s.options_records, s.tcp_connections, s.tcp_refused, s.sessions,
            s.sink_errors, s.db_rows_written, s.db_rows_retried, s.db_rows_dropped,
            s.db_rows_queued, s.export_time_skewed, s.records_after_export, s.exporter_restarts,
            s.interface_names, s.interface_limit, s.udp_wakeups, s.sender_unknown, s.sender_outside,
            s.tags_rejected, s.records_compiled, s.templates_uncompiled);
}

/* The store's feed: the collector's batches, one lock per batch. */
static void on_flows(const fk_flow *flows, size_t n, void *user)
{
    fk_store_add_flows(user, flows, n);
}

/* Move the store's clock to the wall clock and hand the collector's
 * counters to the server for /metrics. */
static void publish(fkc_server *server, fk_store *store, fk_collector *h)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    fk_store_advance(store, (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec);
    fk_collector_stats s;
    if (fk_collector_get_stats(h, &s, sizeof s) == 0)
        fkc_server_set_collector_stats(server, &s);
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
    collect c;
    collect_init(&c);

    static const struct option fixed[] = {
        {"listen", required_argument, NULL, 'l'},
        {"output", required_argument, NULL, 'o'},
        {"allow", required_argument, NULL, OPT_ALLOW},
        {"filter", required_argument, NULL, OPT_FILTER},
        {"stats", required_argument, NULL, OPT_STATS},
        {"set", required_argument, NULL, OPT_SET},
        {"list-params", no_argument, NULL, OPT_LIST},
        {"config", required_argument, NULL, OPT_CONFIG},
        {"check", no_argument, NULL, OPT_CHECK},
        {"http", required_argument, NULL, OPT_HTTP},
        {"http-token-file", required_argument, NULL, OPT_HTTP_TOKEN},
        {"http-root", required_argument, NULL, OPT_HTTP_ROOT},
        {"http-max-body", required_argument, NULL, OPT_HTTP_BODY},
        {"http-max-clients", required_argument, NULL, OPT_HTTP_CONNS},
        {"http-max-feeds", required_argument, NULL, OPT_HTTP_FEEDS},
        {"http-history", required_argument, NULL, OPT_HTTP_HISTORY},
        {"store", required_argument, NULL, OPT_STORE},
        {"store-cidr", required_argument, NULL, OPT_STORE_CIDR},
        {"senders", required_argument, NULL, OPT_SENDERS},
        {"senders-keys", required_argument, NULL, OPT_SENDERS_KEYS},
        {"prefix-stats", no_argument, NULL, OPT_PREFIX_STATS},
        {"tag", required_argument, NULL, OPT_TAG},
        {"rotate", required_argument, NULL, OPT_ROTATE},
        {"user", required_argument, NULL, 'Z'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
    };
    enum { NFIXED = sizeof fixed / sizeof fixed[0] };
    struct option opts[NFIXED + NPARAM_OPTS + 1];
    char names[NPARAM_OPTS * 48];
    memcpy(opts, fixed, sizeof fixed);
    int np =
        fkcli_param_options(opts + NFIXED, names, NPARAM_OPTS, c.params, param_names, PARAM_BASE);
    memset(&opts[NFIXED + np], 0, sizeof opts[0]);

    /* Pass 1: --config, then the FLOWKIT_* variables over it, so that the
     * command line overrides both. */
    static const char shortopts[] = ":l:o:Z:hV";
    int opt;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, shortopts, opts, NULL)) != -1)
        if (opt == OPT_CONFIG)
            collect_load_config(&c, optarg);
    collect_load_env(&c);
    optind = 1;
    bool check = false;
    while ((opt = getopt_long(argc, argv, shortopts, opts, NULL)) != -1) {
        /* options that are settings: the key a config file uses */
        static const struct {
            int opt;
            const char *key;
        } keyed[] = {
            {'l', "listen"},
            {'o', "output"},
            {'Z', "user"},
            {OPT_ALLOW, "allow"},
            {OPT_FILTER, "filter"},
            {OPT_STATS, "stats"},
            {OPT_HTTP, "http"},
            {OPT_HTTP_TOKEN, "http_token_file"},
            {OPT_HTTP_ROOT, "http_root"},
            {OPT_HTTP_BODY, "http_max_body"},
            {OPT_HTTP_CONNS, "http_max_clients"},
            {OPT_HTTP_FEEDS, "http_max_feeds"},
            {OPT_HTTP_HISTORY, "http_history"},
            {OPT_STORE_CIDR, "store_cidr"},
            {OPT_SENDERS, "senders"},
            {OPT_SENDERS_KEYS, "senders_keys"},
            {OPT_TAG, "tag"},
        };
        bool done = false;
        for (size_t k = 0; k < sizeof keyed / sizeof keyed[0] && !done; k++) {
            if (keyed[k].opt != opt)
                continue;
            char where[64];
            const struct option *lo = NULL;
            for (size_t f = 0; f < NFIXED && !lo; f++)
                if (fixed[f].val == opt)
                    lo = &fixed[f];
            snprintf(where, sizeof where, "--%s", lo ? lo->name : "?");
            collect_apply(&c, where, keyed[k].key, optarg, false);
            done = true;
        }
        if (done)
            continue;
        switch (opt) {
        case OPT_CONFIG:
            break;
        case OPT_CHECK:
            check = true;
            break;
        case OPT_PREFIX_STATS:
            collect_apply(&c, "--prefix-stats", "prefix_stats", "1", false);
            break;
        case OPT_ROTATE: /* nfcapd's -t, as the issue asked for it */
            collect_apply(&c, "--rotate", "rotate_seconds", optarg, false);
            break;
        case OPT_SET:
        case OPT_STORE: {
            const char *what = opt == OPT_SET ? "--set" : "--store";
            char *eq = strchr(optarg, '=');
            if (!eq || eq == optarg)
                fkcli_usage("%s takes NAME=VALUE, not \"%s\"", what, optarg);
            *eq = '\0';
            char name[160];
            snprintf(name, sizeof name, "%s%s", opt == OPT_STORE ? "store." : "", optarg);
            if (opt == OPT_STORE && !fkcli_param_known(&c.params[1], 1, optarg))
                fkcli_usage("--store: unknown parameter \"%s\" (see --list-params)", optarg);
            collect_apply(&c, what, name, eq + 1, false);
            break;
        }
        case OPT_LIST:
            fkcli_list_params(stdout, c.params, 3);
            collect_free(&c);
            return FKCLI_EXIT_OK;
        case 'h':
            usage(c.params);
            collect_free(&c);
            return FKCLI_EXIT_OK;
        case 'V':
            fkcli_print_version();
            collect_free(&c);
            return FKCLI_EXIT_OK;
        case ':':
            fkcli_usage("option %s needs a value", argv[optind - 1]);
        case '?':
            if (optopt)
                fkcli_usage("unknown option -%c", optopt);
            fkcli_usage("unknown option %s", argv[optind - 1]);
        default:
            if (opt >= PARAM_BASE && opt < PARAM_BASE + np) {
                const fk_param_info *info =
                    fkcli_param_entry(c.params, param_names, opt - PARAM_BASE);
                char where[64] = "--";
                for (size_t k = 0; info->name[k] && k + 3 < sizeof where; k++)
                    where[k + 2] = info->name[k] == '_' ? '-' : info->name[k];
                collect_apply(&c, where, info->name, info->type == FK_PARAM_BOOL ? "1" : optarg,
                              false);
                break;
            }
            fkcli_usage("unexpected option");
        }
    }
    if (optind < argc)
        fkcli_usage("unexpected argument \"%s\"", argv[optind]);
    collect_finish(&c);
    if (check) {
        collect_print_settings(&c);
        collect_free(&c);
        return FKCLI_EXIT_OK;
    }
    fk_collector *h = c.h;
    fk_store *store = c.store;
    fk_senders *senders = NULL;
    if (c.senders_file) {
        char err[512];
        if (fk_senders_create(&senders) != 0)
            fkcli_lib_error(FKCLI_EXIT_FAILURE, "senders");
        if (load_senders(senders, c.senders_file, err, sizeof err) != 0)
            fkcli_usage("%s", err);
        if (fk_collector_set_senders(h, senders) != 0)
            fkcli_lib_error(FKCLI_EXIT_FAILURE, "senders");
        c.http.senders = senders;
    }
    fk_prefixstats *pstats = c.prefix_stats ? c.pstats : NULL;
    if (pstats) {
        if (fk_prefixstats_set_senders(pstats, senders) != 0 ||
            fk_prefixstats_activate(pstats) != 0)
            fkcli_lib_error(FKCLI_EXIT_USAGE, "--prefix-stats");
        if (fk_collector_set_prefixstats(h, pstats) != 0)
            fkcli_lib_error(FKCLI_EXIT_FAILURE, "--prefix-stats");
    }
    fkc_server *server = NULL;
    if (c.http.listen) {
        if (fk_store_activate(store) != 0)
            fkcli_lib_error(FKCLI_EXIT_USAGE, "--store");
        if (fk_collector_set_batch_callback(h, on_flows, store) != 0)
            fkcli_lib_error(FKCLI_EXIT_FAILURE, "callback");
    }
    if (fk_collector_activate(h) != 0)
        fkcli_lib_error(FKCLI_EXIT_FAILURE, "cannot start");
    if (c.http.listen) {
        char err[256];
        if (fkc_server_start(&server, &c.http, store, err, sizeof err) != 0)
            fkcli_fail("%s", err);
        if (pstats)
            fkc_server_set_prefixstats(server, pstats);
        fprintf(stderr, "%s: console at %s\n", fkcli_prog(), fkc_server_url(server));
    }
    /* Sockets bound, buffers sized, outputs open: from here on the user of
     * --user (or "flowkit") with no capability at all. Files opened later
     * (rotation, SIGHUP) are created as that user. */
    fkcli_drop_privileges(c.user, 0);
    /* Handlers before "listening on" is printed: from then on, signals are handled. */
    if (fkcli_signals(on_stop, on_hup, h) != 0)
        fkcli_fail("cannot install signal handlers: %s", strerror(errno));
    char uri[80];
    for (size_t i = 0; fk_collector_get_listener_uri(h, i, uri, sizeof uri) > 0; i++)
        fprintf(stderr, "%s: listening on %s\n", fkcli_prog(), uri);

    struct pollfd pfd = {fk_collector_get_fd(h), POLLIN, 0};
    int64_t next_stats = c.stats_secs ? now_ms() + (int64_t)c.stats_secs * 1000 : 0;
    int status = FKCLI_EXIT_OK;
    int64_t next_http = 0;
    for (;;) {
        int timeout = fk_collector_next_timeout_ms(h);
        if (server && (timeout < 0 || timeout > 1000))
            timeout = 1000; /* the store's clock and /metrics move once a second */
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
        if (g_reload_senders && senders) {
            g_reload_senders = 0;
            char err[512];
            if (load_senders(senders, c.senders_file, err, sizeof err) != 0)
                fprintf(stderr, "%s: SIGHUP: %s (the senders stay as they were)\n", fkcli_prog(),
                        err);
            else
                fprintf(stderr, "%s: SIGHUP: %zu senders from %s\n", fkcli_prog(),
                        fk_senders_get_count(senders), c.senders_file);
        }
        if (server && now_ms() >= next_http) {
            publish(server, store, h);
            next_http = now_ms() + 1000;
        }
        if (fkcli_stats_requested()) { /* SIGUSR1 */
            print_stats(h);
            print_prefixstats(pstats);
        }
        if (next_stats && now_ms() >= next_stats) {
            print_stats(h);
            print_prefixstats(pstats);
            next_stats += (int64_t)c.stats_secs * 1000;
        }
    }
    if (c.stats_secs) {
        print_stats(h);
        print_prefixstats(pstats);
    }
    fkc_server_stop(server);
    fk_collector_destroy(h);
    c.h = NULL;
    fk_prefixstats_destroy(c.pstats); /* it borrows the senders */
    c.pstats = NULL;
    fk_senders_destroy(senders);
    collect_free(&c);
    return status;
}
