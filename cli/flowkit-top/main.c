/* flowkit-top: which process uses the network (nethogs' job). Public API
 * only: a capture handle with attribution on, and fk_capture_rank() at each
 * refresh. Views: curses (a tty), trace (-t, or stdout not a tty) and JSON
 * lines (--json). */
#include <curses.h>
#include <errno.h>
#include <flowkit/flowkit.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "fkcli.h"
#include "fkprivs.h"
#include "top.h"

enum {
    OPT_JSON = 1000,
    OPT_LIMIT,
    OPT_MEM_LIMIT,
    OPT_TOTAL,
    OPT_NICE,
    OPT_CONNECTIONS,
    OPT_SET,
    OPT_LIST,
    PARAM_BASE = 2000,
    NPARAM_OPTS = 16,
    /* Headers are all attribution needs; small frames also keep libpcap's
     * immediate-mode ring (one frame slot per snaplen) from overflowing. */
    TOP_SNAPLEN = 256,
    /* Attribution races the sockets it looks up: a connection of 100 ms
     * must be seen while it lives, also on a busy machine. */
    TOP_NICE = -10
};

static const char *const param_names[] = {
    "queue_size",  "workers", "pcap_store",     "cpu_limit",   "sync_interval", "history_seconds",
    "buffer_size", "snaplen", "buffer_timeout", "attribution", "rank_history",  NULL};

static fk_capture *g_cap;

static void on_stop(void *user)
{
    (void)user;
    if (g_cap)
        fk_capture_break(g_cap);
}

/* SIGHUP: the terminal went away (or the session ended). flowkit-top shows
 * to a terminal or a pipe: with it gone there is nothing left to do. */
static volatile sig_atomic_t g_hangup;
static void on_hangup(void *user)
{
    g_hangup = 1;
    on_stop(user);
}

static int set_text(void *h, const char *name, const char *text)
{
    return fk_capture_set_text(h, name, text);
}

static void usage(const fkcli_params *p)
{
    printf("Usage: %s [options] [device ...]\n"
           "Show which processes send and receive network traffic (TCP and UDP, IPv4 and\n"
           "IPv6), per process, live. Bytes are IP-layer bytes. Needs root.\n"
           "Devices: the ones named, else every device that is up and not loopback\n"
           "(flowkit-export's default is \"any\": every device, loopback included).\n"
           "\n"
           "  -d SECS        refresh delay (default 1)\n"
           "  -t             trace mode: plain text refreshes for scripts, no curses\n"
           "      --json     one JSON object per refresh (type \"rank\")\n"
           "  -c COUNT       refresh COUNT times, then exit\n"
           "  -f BPF         capture filter (pcap-filter(7))\n"
           "  -a             capture on all devices including loopback (\"any\")\n"
           "  -p             promiscuous mode\n"
           "  -P PID         show only this pid (repeatable)\n"
           "  -l             show command lines instead of program names\n"
           "      --connections  also each process's connections: \"conns\" in --json\n"
           "                 (at most %d per process, most bytes first), indented lines\n"
           "                 under each process in trace mode and the curses view\n"
           "  -v, --total    trace mode: bytes since start instead of KB/s\n"
           "      --limit N  show at most N rows\n"
           "      --mem-limit BYTES  cgroup memory limit for this process\n"
           "      --nice N   scheduling priority, -20..19 (default %d; needs root to raise)\n",
           fkcli_prog(), FK_RANK_JSON_CONNS_MAX, TOP_NICE);
    /* The table's defaults, but flowkit-top's own snaplen. */
    fk_param_info *mine = malloc(p->count * sizeof *mine);
    if (!mine)
        fkcli_fail("out of memory");
    memcpy(mine, p->table, p->count * sizeof *mine);
    for (size_t i = 0; i < p->count; i++)
        if (!strcmp(mine[i].name, "snaplen"))
            mine[i].default_int = TOP_SNAPLEN;
        else if (!strcmp(mine[i].name, "attribution"))
            mine[i].default_string = "auto";
    fkcli_params shown = *p;
    shown.table = mine;
    fkcli_param_help(stdout, &shown, param_names);
    free(mine);
    printf("      --set NAME=VALUE  any capture parameter (see --list-params)\n"
           "      --list-params     print the capture's parameter table and exit\n"
           "  -Z, --user USER  run as USER once the capture is open (default: the user\n"
           "                 \"flowkit\" if it exists, when started as root); keeps\n"
           "                 only the capabilities attribution needs\n"
           "  -h, --help     this help\n"
           "  -V, --version  version\n"
           "\n"
           "Keys (curses view): q quit, s sort by sent, r sort by received, m cycle units\n"
           "(KB/s, KB, B, MB).\n"
           "DEV: the device that carried most of a process's bytes, with a \"+\" when it\n"
           "also used others (--json lists them all in \"devs\").\n"
           "Trace mode prints \"Refreshing:\" then one line per process:\n"
           "  PROGRAM/PID/UID<TAB>SENT<TAB>RECEIVED   (KB/s over the refresh, or bytes with -v)\n"
           "With --connections, after each process its connections (most bytes first):\n"
           "    tcp LOCAL:PORT -> REMOTE:PORT<TAB>SENT<TAB>RECEIVED   (KB/s since the\n"
           "  previous refresh, or bytes with -v; IPv6 addresses in brackets)\n"
           "Unattributed traffic: rows \"unknown TCP\" / \"unknown UDP\" with pid 0.\n"
           "Dropped packets: \"DROPPED N packets\" on the curses status line; in trace\n"
           "and JSON modes a line on stderr at the refresh after they grew; in every view\n"
           "on stderr at exit.\n");
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void show(top *t)
{
    fk_rank_snapshot *s;
    fk_rank_sort key = t->view == VIEW_CURSES && t->units != U_KBPS
                           ? (t->sort == FK_RANK_SORT_SENT_RATE ? FK_RANK_SORT_SENT_BYTES
                                                                : FK_RANK_SORT_RECV_BYTES)
                           : t->sort;
    if (t->view != VIEW_CURSES)
        key = t->totals ? FK_RANK_SORT_BYTES : FK_RANK_SORT_RATE;
    if (fk_capture_rank(t->cap, 0, t->window, key, &s) != 0) {
        top_leave_curses(t);
        fkcli_lib_error(FKCLI_EXIT_FAILURE, "rank");
    }
    fk_capture_stats cs;
    if (t->view != VIEW_CURSES && fk_capture_get_stats(t->cap, &cs, sizeof cs) == 0 &&
        cs.kernel_drops + cs.queue_drops > t->drops) {
        /* Scripts read stdout: drops go to stderr as they happen. */
        t->drops = cs.kernel_drops + cs.queue_drops;
        fprintf(stderr,
                "%s: %" PRIu64 " packets dropped so far (kernel %" PRIu64 ", queue %" PRIu64 ")\n",
                fkcli_prog(), t->drops, cs.kernel_drops, cs.queue_drops);
    }
    if (t->view == VIEW_JSON)
        top_print_json(t, s);
    else if (t->view == VIEW_TRACE)
        top_print_trace(t, s);
    else
        top_draw_curses(t, s);
    fk_rank_snapshot_destroy(s);
}

/* Curses keys; returns false on quit or when the terminal is gone. */
static bool keys(top *t, bool ready)
{
    bool redraw;
    if (!top_keys(t, ready, &redraw))
        return false;
    if (redraw)
        show(t);
    return true;
}

/* Scripts' views: stdout that fails (the terminal hung up: EIO; a closed
 * pipe: EPIPE) ends the run instead of formatting for no one. */
static void check_stdout(top *t)
{
    if (t->view != VIEW_CURSES && (fflush(stdout) != 0 || ferror(stdout)))
        t->gone = true;
}

static int run(top *t)
{
    int cfd = fk_capture_get_fd(t->cap);
    int64_t next = mono_ms() + (int64_t)(t->delay * 1000);
    uint64_t shown = 0;
    bool ended = false;
    bool ready = false; /* poll said the terminal has input */
    if (t->view == VIEW_CURSES)
        show(t); /* the table at once, not only after the first delay */
    while (!t->gone) {
        int r = fk_capture_dispatch(t->cap, 4096);
        if (g_hangup)
            t->gone = true;
        if (r == FK_EBREAK)
            break;
        if (r == FK_EEOF) {
            ended = true;
            break;
        }
        if (r < 0) {
            top_leave_curses(t);
            fkcli_lib_error(FKCLI_EXIT_FAILURE, "capture");
        }
        int64_t now = mono_ms();
        if (now >= next) {
            show(t);
            check_stdout(t);
            next = now + (int64_t)(t->delay * 1000);
            if (t->count && ++shown >= t->count)
                return 0;
        }
        if (t->view == VIEW_CURSES && !keys(t, ready)) {
            if (!t->gone)
                return 0; /* 'q' */
            break;
        }
        ready = false;
        if (r > 0)
            continue;
        int wait = fk_capture_next_timeout_ms(t->cap);
        int64_t left = next - mono_ms();
        if (wait < 0 || wait > left)
            wait = left < 0 ? 0 : (int)left;
        struct pollfd pfd[2] = {{cfd, POLLIN, 0}, {0, POLLIN, 0}};
        int nfds = t->view == VIEW_CURSES ? 2 : 1;
        if (poll(pfd, (nfds_t)nfds, wait) < 0 && errno != EINTR) {
            int e = errno;
            top_leave_curses(t);
            fkcli_fail("poll: %s", strerror(e));
        }
        /* A hung-up terminal polls as POLLHUP (or POLLERR) at once, for
         * ever: without this the loop would spin at full speed. */
        if (nfds == 2 && (pfd[1].revents & (POLLHUP | POLLERR | POLLNVAL)))
            t->gone = true;
        ready = nfds == 2 && (pfd[1].revents & POLLIN);
    }
    if (t->gone) {
        /* Nothing to show to: end quietly (the capture stops in main). */
        fk_capture_stop(t->cap);
        return 0;
    }
    /* Stopped by a signal or the end of the capture: one last refresh for
     * scripts, with the final totals. */
    fk_capture_stop(t->cap);
    if (t->view != VIEW_CURSES || ended)
        show(t);
    return 0;
}

/* flowkit-top's small snaplen is for libpcap: the kernel backends copy no
 * packet and refuse any snaplen but the library's. One the user set
 * stays, and activate says why it cannot be. */
static void keep_snaplen_for_pcap(fk_capture *cap, const fkcli_params *p)
{
    const char *backend = NULL;
    int64_t snap = 0;
    if (fk_capture_get_str(cap, FK_CAP_BACKEND, &backend) != 0 || !backend ||
        !strcmp(backend, "pcap") || fk_capture_get_int(cap, FK_CAP_SNAPLEN, &snap) != 0 ||
        snap != TOP_SNAPLEN)
        return;
    for (size_t i = 0; i < p->count; i++)
        if (!strcmp(p->table[i].name, "snaplen"))
            fk_capture_set_int(cap, FK_CAP_SNAPLEN, p->table[i].default_int);
}

int main(int argc, char **argv)
{
    fkcli_init(argv[0]);
    if (getenv("FLOWKIT_TOP_DEBUG"))
        fk_log_set_level(FK_LOG_DEBUG); /* library statistics on stderr at exit */
    top t;
    memset(&t, 0, sizeof t);
    pthread_mutex_init(&t.log.lock, NULL);
    t.delay = 1.0;
    t.sort = FK_RANK_SORT_SENT_RATE;
    if (fk_capture_create(&t.cap) != 0)
        fkcli_lib_error(FKCLI_EXIT_FAILURE, "create");
    g_cap = t.cap;
    fkcli_params params = {"capture", NULL, 0, t.cap, set_text};
    params.table = fk_capture_params(&params.count);
    if (fk_capture_set_int(t.cap, FK_CAP_SNAPLEN, TOP_SNAPLEN) != 0)
        fkcli_lib_error(FKCLI_EXIT_FAILURE, "snaplen");
    if (fk_capture_set_str(t.cap, FK_CAP_ATTRIBUTION, "auto") != 0)
        fkcli_lib_error(FKCLI_EXIT_FAILURE, "attribution");

    static const struct option fixed[] = {
        {"json", no_argument, NULL, OPT_JSON},
        {"limit", required_argument, NULL, OPT_LIMIT},
        {"mem-limit", required_argument, NULL, OPT_MEM_LIMIT},
        {"total", no_argument, NULL, 'v'},
        {"nice", required_argument, NULL, OPT_NICE},
        {"connections", no_argument, NULL, OPT_CONNECTIONS},
        {"user", required_argument, NULL, 'Z'},
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

    bool all = false, json = false, trace = false;
    const char *user = NULL; /* --user */
    int nice_value = TOP_NICE;
    bool nice_given = false;
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":d:tc:f:apP:lvZ:hV", opts, NULL)) != -1) {
        switch (c) {
        case 'd': {
            char *end;
            errno = 0;
            t.delay = strtod(optarg, &end);
            if (errno || *end || !(t.delay >= 0.1 && t.delay <= 3600))
                fkcli_usage("-d: '%s' is not a delay in seconds in [0.1, 3600]", optarg);
            break;
        }
        case 't':
            trace = true;
            break;
        case OPT_JSON:
            json = true;
            break;
        case 'c':
            t.count = fkcli_parse_u64("-c", optarg, 1, UINT32_MAX);
            break;
        case 'f':
            if (fk_capture_set_str(t.cap, FK_CAP_FILTER, optarg) != 0)
                fkcli_lib_error(FKCLI_EXIT_USAGE, "-f");
            break;
        case 'a':
            all = true;
            break;
        case 'p':
            if (fk_capture_set_int(t.cap, FK_CAP_PROMISC, 1) != 0)
                fkcli_lib_error(FKCLI_EXIT_USAGE, "-p");
            break;
        case 'P':
            if (t.npids == MAX_PIDS)
                fkcli_usage("-P: at most %d pids", MAX_PIDS);
            t.pids[t.npids++] = (uint32_t)fkcli_parse_u64("-P", optarg, 1, UINT32_MAX);
            break;
        case 'l':
            t.cmdline = true;
            break;
        case 'v':
            t.totals = true;
            break;
        case OPT_CONNECTIONS:
            t.conns = true;
            break;
        case 'Z':
            fkcli_privs_check_user(optarg);
            user = optarg;
            break;
        case OPT_LIMIT:
            t.limit = (size_t)fkcli_parse_u64("--limit", optarg, 1, 1000000);
            break;
        case OPT_NICE: {
            char *end;
            errno = 0;
            long v = strtol(optarg, &end, 10);
            if (errno || *end || !*optarg || v < -20 || v > 19)
                fkcli_usage("--nice: '%s' is not an integer in [-20, 19]", optarg);
            nice_value = (int)v;
            nice_given = true;
            break;
        }
        case OPT_MEM_LIMIT:
            if (fk_capture_set_int(
                    t.cap, FK_CAP_MEMORY_LIMIT,
                    (int64_t)fkcli_parse_u64("--mem-limit", optarg, 0, UINT64_C(1) << 50)) != 0)
                fkcli_lib_error(FKCLI_EXIT_USAGE, "--mem-limit");
            break;
        case OPT_SET:
            fkcli_set(&params, 1, optarg);
            break;
        case OPT_LIST:
            fkcli_list_params(stdout, &params, 1);
            fk_capture_destroy(t.cap);
            return FKCLI_EXIT_OK;
        case 'h':
            usage(&params);
            fk_capture_destroy(t.cap);
            return FKCLI_EXIT_OK;
        case 'V':
            fkcli_print_version();
            fk_capture_destroy(t.cap);
            return FKCLI_EXIT_OK;
        case ':':
            if (optopt && optopt < 256)
                fkcli_usage("option '-%c' needs a value", optopt);
            fkcli_usage("option '%s' needs a value", argv[optind - 1]);
        case '?':
            if (optopt) /* a short option, maybe in a group such as -tx */
                fkcli_usage("unknown option '-%c'", optopt);
            fkcli_usage("unknown option '%s'", argv[optind - 1]);
        default:
            if (c >= PARAM_BASE && c < PARAM_BASE + np) {
                fkcli_param_set(&params, param_names, c - PARAM_BASE, optarg);
                break;
            }
            fkcli_usage("unknown option");
        }
    }
    if (json && trace)
        fkcli_usage("-t and --json exclude each other");
    t.view = json ? VIEW_JSON : trace ? VIEW_TRACE : VIEW_CURSES;
    if (t.view == VIEW_CURSES && (!isatty(STDOUT_FILENO) || !isatty(STDIN_FILENO)))
        t.view = VIEW_TRACE; /* not a terminal: degrade to trace mode */
    if (all && optind < argc)
        fkcli_usage("-a and device names exclude each other");
    if (all) {
        if (fk_capture_add_device(t.cap, "any") != 0)
            fkcli_lib_error(FKCLI_EXIT_USAGE, "any");
        snprintf(t.devname, sizeof t.devname, "any");
    }
    for (int i = optind; i < argc; i++) {
        if (fk_capture_add_device(t.cap, argv[i]) != 0)
            fkcli_lib_error(FKCLI_EXIT_USAGE, argv[i]);
        if (i == optind)
            snprintf(t.devname, sizeof t.devname, "%s", argv[i]);
        else
            snprintf(t.devname, sizeof t.devname, "%d devices", argc - optind);
    }
    if (!t.devname[0])
        snprintf(t.devname, sizeof t.devname, "all up");
    const char *mode = NULL;
    if (fk_capture_get_str(t.cap, FK_CAP_ATTRIBUTION, &mode) == 0 && mode && !strcmp(mode, "off"))
        fkcli_usage("--attribution off leaves nothing to show (auto, bpf or sockdiag)");
    int64_t hist = 60;
    fk_capture_get_int(t.cap, FK_CAP_HISTORY_SECONDS, &hist);
    double w = t.delay < 1.0 ? 1.0 : t.delay + 0.5;
    t.window = (uint32_t)(w > (double)hist ? (double)hist : w);
    /* Before activate: the capture's threads inherit it (nice is per
     * thread on Linux). Not allowed (not root): carry on at the current
     * priority, said on stderr when --nice was asked for. */
    if (setpriority(PRIO_PROCESS, 0, nice_value) != 0 &&
        (nice_given || getenv("FLOWKIT_TOP_DEBUG")))
        fprintf(stderr, "%s: cannot set nice %d: %s\n", fkcli_prog(), nice_value, strerror(errno));
    if (fkcli_signals(on_stop, on_hangup, NULL) != 0)
        fkcli_fail("cannot install signal handlers");
    keep_snaplen_for_pcap(t.cap, &params);
    /* In the curses view, what activate says (which attribution source and
     * why) is kept for the status line rather than drawn under the table. */
    if (t.view == VIEW_CURSES)
        fk_log_set_callback(top_keep_log, &t.log);
    if (fk_capture_activate(t.cap) != 0) {
        fk_log_set_callback(NULL, NULL);
        top_flush_log(&t.log);
        fkcli_lib_error(FKCLI_EXIT_FAILURE, "activate");
    }
    if (fk_capture_get_attribution_source(t.cap, &t.source) != 0)
        t.source = "?";
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    t.seen_ns = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec; /* first connection rates */
    /* Capturing worked without root (CAP_NET_RAW), but the sockets of
     * other users' processes cannot be mapped (their /proc/PID/fd is
     * closed): say why their traffic lands in the unknown rows. */
    static const char not_root[] =
        "not root: traffic of other users' processes counts as unknown TCP/UDP";
    if (geteuid() != 0 && t.view != VIEW_CURSES)
        fprintf(stderr, "%s: %s\n", fkcli_prog(), not_root);
    if (t.view != VIEW_CURSES)
        fprintf(stderr, "%s: attribution: %s\n", fkcli_prog(), t.source);
    /* The capture is open: from here on the user of --user (or "flowkit")
     * with only the capabilities attribution needs. */
    fkcli_drop_privileges(user, strcmp(t.source, "off") ? fkcli_privs_attribution_caps() : 0);
    if (t.view == VIEW_CURSES) {
        /* Messages written to stderr would land in the middle of the
         * table: keep them for the status line and for after endwin(). */
        if (geteuid() != 0)
            top_keep_log(FK_LOG_WARN, "top", not_root, &t.log);
        initscr();
        cbreak();
        noecho();
        nodelay(stdscr, TRUE);
        keypad(stdscr, TRUE);
        curs_set(0);
    }
    int rc = run(&t);
    top_leave_curses(&t);
    fk_capture_stats cs;
    /* Nothing lost silently: the totals shown missed these packets. */
    if (fk_capture_get_stats(t.cap, &cs, sizeof cs) == 0 && cs.kernel_drops + cs.queue_drops > 0)
        fprintf(stderr,
                "%s: %" PRIu64 " packets dropped (kernel %" PRIu64 ", queue %" PRIu64
                "): the figures shown miss them\n",
                fkcli_prog(), cs.kernel_drops + cs.queue_drops, cs.kernel_drops, cs.queue_drops);
    if (getenv("FLOWKIT_TOP_DEBUG") && fk_capture_get_stats(t.cap, &cs, sizeof cs) == 0)
        fprintf(stderr,
                "%s: packets %" PRIu64 " kernel_drops %" PRIu64 " queue_drops %" PRIu64
                " decode_errors %" PRIu64 " attributed %" PRIu64 " unknown %" PRIu64 "\n",
                fkcli_prog(), cs.packets, cs.kernel_drops, cs.queue_drops, cs.decode_errors,
                cs.attrib_hits, cs.attrib_misses);
    fk_capture_destroy(t.cap);
    free(t.seen);
    return rc;
}
