/* flowkit-top: the curses view (a table that fits the terminal, keys to
 * sort and change units) and the library messages kept while it owns the
 * terminal. */
#include <curses.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "fkcli.h"
#include "top.h"

/* fk_log_cb while curses is on: keep the message (any thread). */
void top_keep_log(fk_log_level level, const char *module, const char *message, void *user)
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
void top_flush_log(logbuf *b)
{
    uint64_t first = b->count > LOG_KEEP ? b->count - LOG_KEEP : 0;
    if (first)
        fprintf(stderr, "%s: %" PRIu64 " earlier library messages not shown\n", fkcli_prog(),
                first);
    for (uint64_t i = first; i < b->count; i++)
        fprintf(stderr, "%s\n", b->text[i % LOG_KEEP]);
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
    ranked_conn *rc = top_sorted_conns(r);
    for (size_t i = 0; rc && i < r->conn_count && line < end; i++) {
        const fk_rank_conn *c = rc[i].c;
        char text[2 * FK_ADDR_STRLEN + 40], a[32], b[32];
        top_conn_text(text, sizeof text, c);
        double sr = 0, rr = 0;
        if (t->units == U_KBPS)
            top_conn_rates(t, r->pid, c, elapsed, &sr, &rr);
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

void top_draw_curses(top *t, const fk_rank_snapshot *s)
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
    size_t n = top_pick_rows(t, s, idx, s->count);
    double elapsed = top_since_last(t, s);
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
                 top_program(t, r, name, sizeof name, true), dev_label(dev, sizeof dev, r), a, b);
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
        top_remember_conns(t, s);
}

/* Hand the terminal back (before any message: one printed on the curses
 * screen vanishes with it), then the library messages kept meanwhile. */
void top_leave_curses(top *t)
{
    if (t->view != VIEW_CURSES || isendwin())
        return;
    endwin();
    fk_log_set_callback(NULL, NULL);
    top_flush_log(&t->log);
}

/* Curses keys; returns false on quit, or when the terminal is gone:
 * `ready` (poll said stdin is readable) but nothing to read is end of file
 * or an I/O error (a hung-up tty reads 0 bytes or fails with EIO). */
bool top_keys(top *t, bool ready, bool *redraw)
{
    int ch;
    bool got = false;
    *redraw = false;
    while ((ch = getch()) != ERR) {
        got = true;
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
        *redraw = true;
    }
    if (ready && !got) {
        t->gone = true;
        return false;
    }
    return true;
}
