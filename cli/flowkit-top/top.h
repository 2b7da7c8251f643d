/* flowkit-top's parts: the state every view shares (top), the rows and
 * connections a refresh shows (rows.c), the trace and JSON lines views
 * (text.c) and the curses view (curses.c); main.c holds the options and
 * the refresh loop. Public flowkit API only. */
#ifndef FLOWKIT_TOP_H
#define FLOWKIT_TOP_H

#include <flowkit/flowkit.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
    MAX_PIDS = 64,
    /* Longest program name or command line shown. */
    PROGRAM_MAX = 4096,
    /* Library messages kept while curses owns the terminal. */
    LOG_KEEP = 8
};

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
    bool gone;      /* the terminal or stdout went away: end, write nothing more */
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

/* A connection of a row, with its place for a stable order. */
typedef struct ranked_conn {
    const fk_rank_conn *c;
    size_t i;
} ranked_conn;

/* rows.c: what a refresh shows. */
/* The rows to show (filtered by -P, cut by --limit): indexes into snap. */
size_t top_pick_rows(const top *t, const fk_rank_snapshot *s, size_t *idx, size_t max);
/* What the PROGRAM column shows, made printable into buf ('?' for control
 * characters, and for non-ASCII bytes when ascii). */
const char *top_program(const top *t, const fk_rank_row *r, char *buf, size_t size, bool ascii);
/* A row's connections, most bytes first; NULL when none. The caller frees. */
ranked_conn *top_sorted_conns(const fk_rank_row *r);
/* "tcp 10.0.0.1:1234 -> 10.0.0.2:80". */
void top_conn_text(char *out, size_t size, const fk_rank_conn *c);
/* Bytes/s of a connection since the previous refresh. */
void top_conn_rates(const top *t, uint32_t pid, const fk_rank_conn *c, double elapsed, double *sent,
                    double *recv);
/* Seconds since the previous refresh (the connection rates' window). */
double top_since_last(const top *t, const fk_rank_snapshot *s);
/* Remember every connection's bytes for the next refresh's rates. */
void top_remember_conns(top *t, const fk_rank_snapshot *s);

/* text.c: the trace (-t) and JSON lines (--json) views. */
void top_print_trace(top *t, const fk_rank_snapshot *s);
void top_print_json(const top *t, const fk_rank_snapshot *s);

/* curses.c: the curses view and the library messages kept meanwhile. */
/* fk_log_cb while curses is on: keep the message (any thread). */
void top_keep_log(fk_log_level level, const char *module, const char *message, void *user);
/* The messages kept, oldest first, on stderr. */
void top_flush_log(logbuf *b);
void top_draw_curses(top *t, const fk_rank_snapshot *s);
/* Read the keys pressed; false on quit or when the terminal is gone (`ready`:
 * poll said stdin is readable), *redraw when the view changed. */
bool top_keys(top *t, bool ready, bool *redraw);
/* Hand the terminal back, then the library messages kept meanwhile. */
void top_leave_curses(top *t);

#endif
