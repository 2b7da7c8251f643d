/* cli/common: what every flowkit command-line tool shares.
 *
 * - Messages: fkcli_init() names the program; fkcli_usage() prints
 *   "PROG: message" plus a pointer to --help and exits 2 (bad usage);
 *   fkcli_fail() prints "PROG: message" and exits 1 (runtime failure);
 *   fkcli_lib_error() appends the library's last error message.
 * - Parameter options: a handle's fk_param_info table becomes long options
 *   (name with '-' for '_': "queue_size" -> --queue-size). fkcli_param_options()
 *   fills getopt_long entries for the names a tool exposes, fkcli_param_set()
 *   parses the text by the parameter's type and calls the handle's typed
 *   setter; a value out of bounds ends the program with exit 2 and the
 *   library's message naming the bounds. Boolean parameters are flags.
 *   fkcli_param_help() prints their --help lines from the table.
 * - Numbers for tool-only options: fkcli_parse_u64() (exit 2 on bad text).
 * - Signals: fkcli_signals() routes SIGINT/SIGTERM to a stop function and
 *   SIGHUP to a reopen function (both must be async-signal-safe, such as
 *   fk_collector_break() / fk_collector_reopen()); SIGPIPE is ignored.
 *
 * Uses the public flowkit API only. */
#ifndef FKCLI_H
#define FKCLI_H

#include <flowkit/flowkit.h>
#include <getopt.h>
#include <stdio.h>

/* Exit codes of every flowkit tool. */
enum { FKCLI_EXIT_OK = 0, FKCLI_EXIT_FAILURE = 1, FKCLI_EXIT_USAGE = 2 };

void fkcli_init(const char *prog);
const char *fkcli_prog(void);
/* Print "PROG: <fmt>" and "Try 'PROG --help'." on stderr, exit 2. */
void fkcli_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
/* Print "PROG: <fmt>" on stderr, exit 1. */
void fkcli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
/* Print "PROG: <what>: <fk_error_last message>" and exit with `code`. */
void fkcli_lib_error(int code, const char *what) __attribute__((noreturn));
/* "PROG (flowkit) X.Y.Z" on stdout. */
void fkcli_print_version(void);

/* Typed setters of one handle, wrapped so one parser serves every handle. */
typedef struct fkcli_setters {
    void *handle;
    int (*set_int)(void *handle, int param, int64_t value);
    int (*set_double)(void *handle, int param, double value);
    int (*set_str)(void *handle, int param, const char *value);
} fkcli_setters;

/* Fill `out` (room for `n` entries) with long options for the table
 * entries named in `names` (NULL-terminated); option i gets
 * val = base + i. Returns the number written; exits 1 if a name is not in
 * the table (a programming error). Long names are kept in `namebuf`
 * (n * 48 bytes). */
int fkcli_param_options(struct option *out, char *namebuf, size_t n, const fk_param_info *table,
                        size_t count, const char *const *names, int base);
/* The table entry behind option `i` of fkcli_param_options(). */
const fk_param_info *fkcli_param_entry(const fk_param_info *table, size_t count,
                                       const char *const *names, int i);
/* Parse `text` (NULL for a boolean flag = 1) by the entry's type and set it;
 * exits 2 with a clear message on bad text or a refused value. */
void fkcli_param_set(const fkcli_setters *s, const fk_param_info *info, const char *text);
/* --help lines for the named parameters: option, metavar, help, default. */
void fkcli_param_help(FILE *out, const fk_param_info *table, size_t count,
                      const char *const *names);

/* Parse an unsigned decimal in [min, max] for option `opt`; exit 2 otherwise. */
uint64_t fkcli_parse_u64(const char *opt, const char *text, uint64_t min, uint64_t max);

typedef void (*fkcli_signal_fn)(void *user);
/* SIGINT/SIGTERM -> on_stop(user); SIGHUP -> on_hup(user) (may be NULL);
 * SIGPIPE ignored. The functions run in signal context. */
int fkcli_signals(fkcli_signal_fn on_stop, fkcli_signal_fn on_hup, void *user);
/* The last stop signal received (0 if none). */
int fkcli_stop_signal(void);

#endif
