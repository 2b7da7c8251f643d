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
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "fkcli.h"

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
    NPARAM_OPTS = 10,
    MAX_PIDS = 64,
    /* Headers are all attribution needs; small frames also keep libpcap's
     * immediate-mode ring (one frame slot per snaplen) from overflowing. */
    TOP_SNAPLEN = 256,
    /* Attribution races the sockets it looks up: a connection of 100 ms
     * must be seen while it lives, also on a busy machine. */
    TOP_NICE = -10,
    /* Longest program name or command line shown. */
    PROGRAM_MAX = 4096,
    /* Library messages kept while curses owns the terminal. */
    LOG_KEEP = 8
};

static const char *const param_names[] = {
    "queue_size",     "workers",         "pcap_store",  "cpu_limit",
    "sync_interval",  "history_seconds", "buffer_size", "snaplen",
    "buffer_timeout", "attribution",     NULL};

typedef enum view { VIEW_CURSES, VIEW_TRACE, VIEW_JSON } view;
/* Units of the curses view, cycled by 'm' (nethogs' order). */
typedef enum units { U_KBPS, U_KB, U_B, U_MB, U_COUNT } units;

/* Library messages while curses owns the terminal: the latest is shown on
 * the status line, the last LOG_KEEP go to stderr after endwin(). */
typedef struct logbuf {
    pthread_mutex_t lock;
    uint64_t count;
    char text[LOG_KEEP][200];
} logbuf;

typedef struct top {
    fk_capture *cap;
    const char *source; /* attribution source in use: "bpf" or "sockdiag" */
    logbuf log;
    view view;
    double delay;
    uint64_t count; /* refreshes; 0 = until stopped */
    size_t limit;
    bool cmdline;
    bool totals; /* trace: bytes since start instead of KB/s */
    uint32_t pids[MAX_PIDS];
    size_t npids;
    fk_rank_sort sort;
    units units;
    char devname[64];
    uint32_t window;
    bool conns;     /* --connections */
    uint64_t drops; /* kernel + queue drops told so far (trace, JSON) */
    /* Trace mode with --connections: bytes of each connection at the
     * previous refresh (sorted by key), for its rate over the refresh. */
    struct seen *seen;
    size_t nseen;
    int64_t seen_ns;
} top;

/* A connection as remembered between refreshes. */
typedef struct seen {
    uint32_t pid;
    uint8_t proto;
    uint16_t lport, rport;
    fk_addr local, remote;
    uint64_t sent, recv;
} seen;

static fk_capture *g_cap;

/* fk_log_cb while curses is on: keep the message (any thread). */
static void keep_log(fk_log_level level, const char *module, const char *message, void *user)
{
    logbuf *b = user;
    pthread_mutex_lock(&b->lock);
    snprintf(b->text[b->count % LOG_KEEP], sizeof b->text[0], "flowkit[%s]: %s: %s", module,
             level == FK_LOG_ERROR  ? "error"
             : level == FK_LOG_WARN ? "warn"
                                    : "info",
             message);
    b->count++;
    pthread_mutex_unlock(&b->lock);
}

/* After endwin(): the messages kept, oldest first, on stderr. */
static void flush_log(logbuf *b)
{
    uint64_t first = b->count > LOG_KEEP ? b->count - LOG_KEEP : 0;
    if (first)
        fprintf(stderr, "%s: %" PRIu64 " earlier library messages not shown\n", fkcli_prog(),
                first);
    for (uint64_t i = first; i < b->count; i++)
        fprintf(stderr, "%s\n", b->text[i % LOG_KEEP]);
}

static void on_stop(void *user)
{
    (void)user;
    if (g_cap)
        fk_capture_break(g_cap);
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

static bool pid_wanted(const top *t, uint32_t pid)
{
    if (!t->npids)
        return true;
    for (size_t i = 0; i < t->npids; i++)
        if (t->pids[i] == pid)
            return true;
    return false;
}

/* The rows to show (filtered by -P, cut by --limit): indexes into snap. */
static size_t pick_rows(const top *t, const fk_rank_snapshot *s, size_t *idx, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < s->count && n < max; i++) {
        if (!pid_wanted(t, s->rows[i].pid))
            continue;
        if (t->limit && n >= t->limit)
            break;
        idx[n++] = i;
    }
    return n;
}

/* What the PROGRAM column shows, made safe to print into `buf`: control
 * characters (a command line or a file name may hold tabs, newlines or
 * terminal escapes) become '?', and so does every non-ASCII byte when
 * `ascii` (curses counts columns by bytes here). */
static const char *program(const top *t, const fk_rank_row *r, char *buf, size_t size, bool ascii)
{
    const char *p = r->name;
    if (t->cmdline && r->cmdline[0])
        p = r->cmdline;
    else if (r->pid && r->exe[0])
        p = r->exe;
    size_t i = 0;
    for (; p[i] && i + 1 < size; i++) {
        unsigned char ch = (unsigned char)p[i];
        buf[i] = ch < 0x20 || ch == 0x7f || (ascii && ch >= 0x80) ? '?' : (char)ch;
    }
    buf[i] = '\0';
    return buf;
}

static int seen_cmp(const void *a, const void *b)
{
    const seen *x = a, *y = b;
    if (x->pid != y->pid)
        return x->pid < y->pid ? -1 : 1;
    if (x->proto != y->proto)
        return x->proto < y->proto ? -1 : 1;
    if (x->lport != y->lport)
        return x->lport < y->lport ? -1 : 1;
    if (x->rport != y->rport)
        return x->rport < y->rport ? -1 : 1;
    int c = memcmp(&x->local, &y->local, sizeof x->local);
    return c ? c : memcmp(&x->remote, &y->remote, sizeof x->remote);
}

static seen seen_of(uint32_t pid, const fk_rank_conn *c)
{
    seen k;
    memset(&k, 0, sizeof k);
    k.pid = pid;
    k.proto = c->proto;
    k.lport = c->local_port;
    k.rport = c->remote_port;
    k.local = c->local;
    k.remote = c->remote;
    k.sent = c->sent_bytes;
    k.recv = c->recv_bytes;
    return k;
}

/* A connection of a row, with its place for a stable order. */
typedef struct ranked_conn {
    const fk_rank_conn *c;
    size_t i;
} ranked_conn;

static int ranked_cmp(const void *a, const void *b)
{
    const ranked_conn *x = a, *y = b;
    uint64_t bx = x->c->sent_bytes + x->c->recv_bytes, by = y->c->sent_bytes + y->c->recv_bytes;
    if (bx != by)
        return bx > by ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

/* "10.0.0.1:1234" or "[fd00::1]:1234". */
static void endpoint(char *out, size_t size, const fk_addr *a, uint16_t port)
{
    char text[FK_ADDR_STRLEN] = "";
    if (fk_addr_format(a, text, sizeof text) < 0)
        snprintf(text, sizeof text, "?");
    snprintf(out, size, a->family == 6 ? "[%s]:%u" : "%s:%u", text, (unsigned)port);
}

/* A row's connections, most bytes first (ties in snapshot order); NULL
 * when it has none. The caller frees. */
static ranked_conn *sorted_conns(const fk_rank_row *r)
{
    if (!r->conn_count || !r->conns)
        return NULL;
    ranked_conn *rc = malloc(r->conn_count * sizeof *rc);
    if (!rc)
        fkcli_fail("out of memory");
    for (size_t i = 0; i < r->conn_count; i++)
        rc[i] = (ranked_conn){&r->conns[i], i};
    qsort(rc, r->conn_count, sizeof *rc, ranked_cmp);
    return rc;
}

/* "tcp 10.0.0.1:1234 -> 10.0.0.2:80". */
static void conn_text(char *out, size_t size, const fk_rank_conn *c)
{
    char l[FK_ADDR_STRLEN + 10], rem[FK_ADDR_STRLEN + 10], proto[8];
    endpoint(l, sizeof l, &c->local, c->local_port);
    endpoint(rem, sizeof rem, &c->remote, c->remote_port);
    if (c->proto == 6 || c->proto == 17)
        snprintf(proto, sizeof proto, "%s", c->proto == 6 ? "tcp" : "udp");
    else
        snprintf(proto, sizeof proto, "%u", (unsigned)c->proto);
    snprintf(out, size, "%s %s -> %s", proto, l, rem);
}

/* Bytes/s of a connection since the previous refresh (a new one: all its
 * bytes over that time). */
static void conn_rates(const top *t, uint32_t pid, const fk_rank_conn *c, double elapsed,
                       double *sent, double *recv)
{
    seen k = seen_of(pid, c);
    const seen *old = t->nseen ? bsearch(&k, t->seen, t->nseen, sizeof k, seen_cmp) : NULL;
    uint64_t ds = c->sent_bytes, dr = c->recv_bytes;
    if (old) {
        ds = ds >= old->sent ? ds - old->sent : 0;
        dr = dr >= old->recv ? dr - old->recv : 0;
    }
    *sent = (double)ds / elapsed;
    *recv = (double)dr / elapsed;
}

/* Seconds since the previous refresh (the connection rates' window). */
static double since_last(const top *t, const fk_rank_snapshot *s)
{
    double elapsed = (double)(s->time_ns - t->seen_ns) / 1e9;
    return elapsed > 0.001 ? elapsed : t->delay;
}

/* The connections of one row, most bytes first, in the process line's
 * units. */
static void print_trace_conns(const top *t, const fk_rank_row *r, double elapsed)
{
    ranked_conn *rc = sorted_conns(r);
    for (size_t i = 0; rc && i < r->conn_count; i++) {
        const fk_rank_conn *c = rc[i].c;
        char text[2 * FK_ADDR_STRLEN + 40];
        conn_text(text, sizeof text, c);
        if (t->totals) {
            printf("  %s\t%" PRIu64 "\t%" PRIu64 "\n", text, c->sent_bytes, c->recv_bytes);
            continue;
        }
        double sr, rr;
        conn_rates(t, r->pid, c, elapsed, &sr, &rr);
        printf("  %s\t%.3f\t%.3f\n", text, sr / 1024.0, rr / 1024.0);
    }
    free(rc);
}

/* Remember every connection's bytes for the next refresh's rates. */
static void remember_conns(top *t, const fk_rank_snapshot *s)
{
    size_t n = 0;
    for (size_t i = 0; i < s->count; i++)
        n += s->rows[i].conns ? s->rows[i].conn_count : 0;
    seen *v = malloc((n + 1) * sizeof *v);
    if (!v)
        fkcli_fail("out of memory");
    n = 0;
    for (size_t i = 0; i < s->count; i++)
        for (size_t k = 0; s->rows[i].conns && k < s->rows[i].conn_count; k++)
            v[n++] = seen_of(s->rows[i].pid, &s->rows[i].conns[k]);
    qsort(v, n, sizeof *v, seen_cmp);
    free(t->seen);
    t->seen = v;
    t->nseen = n;
    t->seen_ns = s->time_ns;
}

static void print_trace(top *t, const fk_rank_snapshot *s)
{
    size_t *idx = malloc((s->count + 1) * sizeof *idx);
    if (!idx)
        fkcli_fail("out of memory");
    size_t n = pick_rows(t, s, idx, s->count);
    double elapsed = since_last(t, s);
    printf("\nRefreshing:\n");
    for (size_t k = 0; k < n; k++) {
        const fk_rank_row *r = &s->rows[idx[k]];
        long uid = r->uid == UINT32_MAX ? 0 : (long)r->uid;
        char name[PROGRAM_MAX];
        program(t, r, name, sizeof name, false);
        if (t->totals)
            printf("%s/%" PRIu32 "/%ld\t%" PRIu64 "\t%" PRIu64 "\n", name, r->pid, uid,
                   r->sent_bytes, r->recv_bytes);
        else
            printf("%s/%" PRIu32 "/%ld\t%.3f\t%.3f\n", name, r->pid, uid, r->sent_rate / 1024.0,
                   r->recv_rate / 1024.0);
        if (t->conns)
            print_trace_conns(t, r, elapsed);
    }
    fflush(stdout);
    free(idx);
    if (t->conns)
        remember_conns(t, s);
}

static void print_json(const top *t, const fk_rank_snapshot *s)
{
    /* Filter and limit through a filtered copy of the row list. */
    size_t *idx = malloc((s->count + 1) * sizeof *idx);
    fk_rank_row *rows = malloc((s->count + 1) * sizeof *rows);
    if (!idx || !rows)
        fkcli_fail("out of memory");
    size_t n = pick_rows(t, s, idx, s->count);
    for (size_t k = 0; k < n; k++)
        rows[k] = s->rows[idx[k]];
    fk_rank_snapshot part = *s;
    part.rows = rows;
    part.count = n;
    unsigned flags = t->conns ? FK_RANK_JSON_CONNS : 0;
    size_t size = fk_rank_snapshot_json_size(&part, flags);
    char *buf = malloc(size);
    if (!buf)
        fkcli_fail("out of memory");
    if (fk_rank_snapshot_to_json_ex(&part, flags, buf, size) < 0)
        fkcli_lib_error(FKCLI_EXIT_FAILURE, "json");
    printf("%s\n", buf);
    fflush(stdout);
    free(buf);
    free(rows);
    free(idx);
}

static void fmt_amount(char *out, size_t size, units u, double rate, uint64_t total)
{
    switch (u) {
    case U_KBPS:
        snprintf(out, size, "%.3f", rate / 1024.0);
        break;
    case U_KB:
        snprintf(out, size, "%.3f", (double)total / 1024.0);
        break;
    case U_B:
        snprintf(out, size, "%" PRIu64, total);
        break;
    default:
        snprintf(out, size, "%.3f", (double)total / 1048576.0);
        break;
    }
}

static const char *unit_name(units u)
{
    static const char *names[] = {"KB/sec", "KB", "B", "MB"};
    return names[u];
}

/* The curses table fits the terminal's width: at 58 columns and more,
 * PID USER PROGRAM DEV SENT RECEIVED with PROGRAM taking what is left (28
 * at 80 columns); narrower, USER and DEV are left out so that the numbers
 * stay visible. Every line is cut at the last column (no wrap). */
#define DEV_WIDTH 10
enum { FULL_MIN_COLS = 58, FULL_FIXED = 50, NARROW_FIXED = 30, CONN_FIXED = 34 };

static int program_width(int cols)
{
    int w = cols >= FULL_MIN_COLS ? cols - FULL_FIXED : cols - NARROW_FIXED;
    return w < 1 ? 1 : w > PROGRAM_MAX - 1 ? PROGRAM_MAX - 1 : w;
}

/* One table line into `out`. */
static void row_text(char *out, size_t size, int cols, const char *pid, const char *user,
                     const char *prog, const char *dev, const char *sent, const char *recv)
{
    int w = program_width(cols);
    if (cols >= FULL_MIN_COLS)
        snprintf(out, size, "%7s %-8.8s %-*.*s %-10.10s %10s %10s", pid, user, w, w, prog, dev,
                 sent, recv);
    else
        snprintf(out, size, "%7s %-*.*s %10s %10s", pid, w, w, prog, sent, recv);
}

/* Line `y`, cut at the terminal's width. */
static void put_line(int y, const char *text)
{
    mvaddnstr(y, 0, text, getmaxx(stdscr));
}

/* The DEV column: the device with most bytes, "+" when there are others
 * (kept visible when the name is cut); "?" when no device is known. */
static const char *dev_label(char *buf, size_t size, const fk_rank_row *r)
{
    const char *d = r->dev && r->dev[0] ? r->dev : "?";
    if (r->dev_count > 1)
        snprintf(buf, size, "%.*s+", DEV_WIDTH - 1, d);
    else
        snprintf(buf, size, "%s", d);
    return buf;
}

/* --connections: a row's connections under it, most bytes first, as long
 * as lines are left (before `end`); returns the next free line. */
static int draw_conns(const top *t, const fk_rank_row *r, int line, int end, double elapsed,
                      char *buf, size_t size)
{
    int cols = getmaxx(stdscr);
    int w = cols - CONN_FIXED < 1 ? 1 : cols - CONN_FIXED;
    ranked_conn *rc = sorted_conns(r);
    for (size_t i = 0; rc && i < r->conn_count && line < end; i++) {
        const fk_rank_conn *c = rc[i].c;
        char text[2 * FK_ADDR_STRLEN + 40], a[32], b[32];
        conn_text(text, sizeof text, c);
        double sr = 0, rr = 0;
        if (t->units == U_KBPS)
            conn_rates(t, r->pid, c, elapsed, &sr, &rr);
        fmt_amount(a, sizeof a, t->units, sr, c->sent_bytes);
        fmt_amount(b, sizeof b, t->units, rr, c->recv_bytes);
        snprintf(buf, size, "%7s   %-*.*s %10s %10s", "", w, w, text, a, b);
        put_line(line++, buf);
    }
    free(rc);
    return line;
}

/* The status line: the keys, then what went wrong (drops, the latest
 * library message) when anything did. */
static void draw_status(top *t, char *buf, size_t size)
{
    fk_capture_stats cs;
    uint64_t drops = 0;
    if (fk_capture_get_stats(t->cap, &cs, sizeof cs) == 0)
        drops = cs.kernel_drops + cs.queue_drops;
    char msg[256] = "";
    pthread_mutex_lock(&t->log.lock);
    if (t->log.count)
        snprintf(msg, sizeof msg, "%s", t->log.text[(t->log.count - 1) % LOG_KEEP]);
    pthread_mutex_unlock(&t->log.lock);
    if (drops)
        snprintf(buf, size, "DROPPED %" PRIu64 " packets%s%s", drops, msg[0] ? "  " : "", msg);
    else if (msg[0])
        snprintf(buf, size, "%s", msg);
    else
        snprintf(buf, size, "keys: q quit, s sort by sent, r sort by received, m units");
    if (drops || msg[0])
        attron(A_BOLD);
    put_line(1, buf);
    attroff(A_BOLD);
}

static void draw_curses(top *t, const fk_rank_snapshot *s)
{
    erase();
    int rows = getmaxy(stdscr), cols = getmaxx(stdscr);
    size_t size = (size_t)cols + PROGRAM_MAX + 128;
    char *buf = malloc(size);
    size_t *idx = malloc((s->count + 1) * sizeof *idx);
    if (!buf || !idx)
        fkcli_fail("out of memory");
    snprintf(buf, size, "flowkit-top  sort: %s  units: %s  refresh %.1fs  on: %.12s  by: %s",
             t->sort == FK_RANK_SORT_SENT_RATE ? "sent" : "received", unit_name(t->units), t->delay,
             t->devname, t->source);
    put_line(0, buf);
    draw_status(t, buf, size);
    attron(A_REVERSE);
    row_text(buf, size, cols, "PID", "USER", "PROGRAM", "DEV", "SENT", "RECEIVED");
    put_line(2, buf);
    attroff(A_REVERSE);
    size_t n = pick_rows(t, s, idx, s->count);
    double elapsed = since_last(t, s);
    double ts = 0, tr = 0;
    uint64_t bs = 0, br = 0;
    int line = 3;
    for (size_t k = 0; k < n; k++) {
        const fk_rank_row *r = &s->rows[idx[k]];
        ts += r->sent_rate;
        tr += r->recv_rate;
        bs += r->sent_bytes;
        br += r->recv_bytes;
        if (line >= rows - 1)
            continue;
        char a[32], b[32], pid[16], dev[32], name[PROGRAM_MAX];
        fmt_amount(a, sizeof a, t->units, r->sent_rate, r->sent_bytes);
        fmt_amount(b, sizeof b, t->units, r->recv_rate, r->recv_bytes);
        snprintf(pid, sizeof pid, "%" PRIu32, r->pid);
        row_text(buf, size, cols, pid, r->pid ? r->user : "",
                 program(t, r, name, sizeof name, true), dev_label(dev, sizeof dev, r), a, b);
        put_line(line++, buf);
        if (t->conns)
            line = draw_conns(t, r, line, rows - 1, elapsed, buf, size);
    }
    if (rows > 3) {
        char a[32], b[32];
        fmt_amount(a, sizeof a, t->units, ts, bs);
        fmt_amount(b, sizeof b, t->units, tr, br);
        attron(A_REVERSE);
        if (cols >= FULL_MIN_COLS)
            row_text(buf, size, cols, "", "TOTAL", "", "", a, b);
        else /* narrow: TOTAL in the PROGRAM column */
            row_text(buf, size, cols, "", "", "TOTAL", "", a, b);
        put_line(rows - 1, buf);
        attroff(A_REVERSE);
    }
    refresh();
    free(idx);
    free(buf);
    if (t->conns)
        remember_conns(t, s);
}

/* Hand the terminal back (before any message: one printed on the curses
 * screen vanishes with it), then the library messages kept meanwhile. */
static void leave_curses(top *t)
{
    if (t->view != VIEW_CURSES || isendwin())
        return;
    endwin();
    fk_log_set_callback(NULL, NULL);
    flush_log(&t->log);
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
        leave_curses(t);
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
        print_json(t, s);
    else if (t->view == VIEW_TRACE)
        print_trace(t, s);
    else
        draw_curses(t, s);
    fk_rank_snapshot_destroy(s);
}

/* Curses keys; returns false on quit. */
static bool keys(top *t)
{
    int ch;
    bool redraw = false;
    while ((ch = getch()) != ERR) {
        if (ch == 'q')
            return false;
        if (ch == 's')
            t->sort = FK_RANK_SORT_SENT_RATE;
        else if (ch == 'r')
            t->sort = FK_RANK_SORT_RECV_RATE;
        else if (ch == 'm')
            t->units = (units)((t->units + 1) % U_COUNT);
        else if (ch != KEY_RESIZE) /* resized: draw at the new size now */
            continue;
        redraw = true;
    }
    if (redraw)
        show(t);
    return true;
}

static int run(top *t)
{
    int cfd = fk_capture_get_fd(t->cap);
    int64_t next = mono_ms() + (int64_t)(t->delay * 1000);
    uint64_t shown = 0;
    bool ended = false;
    if (t->view == VIEW_CURSES)
        show(t); /* the table at once, not only after the first delay */
    for (;;) {
        int r = fk_capture_dispatch(t->cap, 4096);
        if (r == FK_EBREAK)
            break;
        if (r == FK_EEOF) {
            ended = true;
            break;
        }
        if (r < 0) {
            leave_curses(t);
            fkcli_lib_error(FKCLI_EXIT_FAILURE, "capture");
        }
        int64_t now = mono_ms();
        if (now >= next) {
            show(t);
            next = now + (int64_t)(t->delay * 1000);
            if (t->count && ++shown >= t->count)
                return 0;
        }
        if (t->view == VIEW_CURSES && !keys(t))
            return 0;
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
            leave_curses(t);
            fkcli_fail("poll: %s", strerror(e));
        }
    }
    /* Stopped by a signal or the end of the capture: one last refresh for
     * scripts, with the final totals. */
    fk_capture_stop(t->cap);
    if (t->view != VIEW_CURSES || ended)
        show(t);
    return 0;
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
    int nice_value = TOP_NICE;
    bool nice_given = false;
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":d:tc:f:apP:lvhV", opts, NULL)) != -1) {
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
    if (fkcli_signals(on_stop, NULL, NULL) != 0)
        fkcli_fail("cannot install signal handlers");
    /* In the curses view, what activate says (which attribution source and
     * why) is kept for the status line rather than drawn under the table. */
    if (t.view == VIEW_CURSES)
        fk_log_set_callback(keep_log, &t.log);
    if (fk_capture_activate(t.cap) != 0) {
        fk_log_set_callback(NULL, NULL);
        flush_log(&t.log);
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
    if (t.view == VIEW_CURSES) {
        /* Messages written to stderr would land in the middle of the
         * table: keep them for the status line and for after endwin(). */
        if (geteuid() != 0)
            keep_log(FK_LOG_WARN, "top", not_root, &t.log);
        initscr();
        cbreak();
        noecho();
        nodelay(stdscr, TRUE);
        keypad(stdscr, TRUE);
        curs_set(0);
    }
    int rc = run(&t);
    leave_curses(&t);
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
