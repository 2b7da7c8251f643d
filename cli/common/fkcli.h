/* cli/common: what every flowkit command-line tool shares.
 *
 * - Messages: fkcli_init() names the program; fkcli_usage() prints
 *   "PROG: message" plus a pointer to --help and exits 2 (bad usage);
 *   fkcli_fail() prints "PROG: message" and exits 1 (runtime failure);
 *   fkcli_lib_error() appends the library's last error message.
 * - Parameter options: a handle's fk_param_info table becomes long options
 *   (name with '-' for '_': "queue_size" -> --queue-size). fkcli_param_options()
 *   fills getopt_long entries for the names a tool exposes, fkcli_param_set()
 *   hands the text to the handle's fk_X_set_text (the library parses it); a
 *   refused value ends the program with exit 2 and the library's message
 *   naming the bounds. Boolean parameters are flags. fkcli_param_help()
 *   prints their --help lines from the table. fkcli_set() is --set
 *   NAME=VALUE over every handle of a tool, fkcli_list_params() is
 *   --list-params: the same names both ways.
 * - Numbers for tool-only options: fkcli_parse_u64() (exit 2 on bad text).
 * - Signals: fkcli_signals() routes SIGINT/SIGTERM to a stop function and
 *   SIGHUP to a reopen function (both must be async-signal-safe, such as
 *   fk_collector_break() / fk_collector_reopen()); SIGUSR1 asks for the
 *   counters (fkcli_stats_requested()); SIGPIPE is ignored.
 *
 * Uses the public flowkit API only. */
#ifndef FKCLI_H
#define FKCLI_H

#include <flowkit/flowkit.h>
#include <getopt.h>
#include <stdbool.h>
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

/* One handle's parameters as the CLIs see them: the owner name that
 * --list-params prints before each name ("capture.queue_size"), the table,
 * and the handle's by-name setter (fk_X_set_text, which parses the text by
 * the parameter's type: the CLIs have no value parser of their own). */
typedef struct fkcli_params {
    const char *owner;
    const fk_param_info *table;
    size_t count;
    void *handle;
    int (*set_text)(void *handle, const char *name, const char *text);
} fkcli_params;

/* Fill `out` (room for `n` entries) with long options for the table
 * entries named in `names` (NULL-terminated); option i gets
 * val = base + i. Returns the number written; exits 1 if a name is not in
 * the table (a programming error). Long names are kept in `namebuf`
 * (n * 48 bytes). */
int fkcli_param_options(struct option *out, char *namebuf, size_t n, const fkcli_params *p,
                        const char *const *names, int base);
/* The table entry behind option `i` of fkcli_param_options(). */
const fk_param_info *fkcli_param_entry(const fkcli_params *p, const char *const *names, int i);
/* Set option `i` from its text (NULL for a boolean flag: 1) through the
 * handle's set_text; exits 2 with "--option: <library message>" when the
 * value is refused, 1 on other failures. */
void fkcli_param_set(const fkcli_params *p, const char *const *names, int i, const char *text);
/* --help lines for the named parameters: option, metavar, help, default. */
void fkcli_param_help(FILE *out, const fkcli_params *p, const char *const *names);

/* --set NAME=VALUE over a tool's handles: NAME is a name --list-params
 * prints ("capture.queue_size"), or the bare name, which means the first
 * handle (in `ps` order) whose table has it; '-' may stand for '_'. Exits
 * 2 on a malformed assignment, an unknown name or a refused value. */
void fkcli_set(const fkcli_params *ps, size_t n, const char *assignment);
/* Same for one name and value (configuration files); `where` prefixes the
 * message ("--set", "FILE:LINE"). */
void fkcli_set_named(const fkcli_params *ps, size_t n, const char *where, const char *name,
                     const char *value);
/* Whether `name` (as fkcli_set_named() takes it) is a parameter of one of
 * the handles. */
bool fkcli_param_known(const fkcli_params *ps, size_t n, const char *name);
/* --list-params: one line per parameter of every handle,
 * "OWNER.NAME<TAB>TYPE<TAB>default=D [MIN, MAX] UNIT<TAB>HELP". */
void fkcli_list_params(FILE *out, const fkcli_params *ps, size_t n);

/* Parse an unsigned decimal in [min, max] for option `opt`; exit 2 otherwise. */
uint64_t fkcli_parse_u64(const char *opt, const char *text, uint64_t min, uint64_t max);

typedef void (*fkcli_signal_fn)(void *user);
/* SIGINT/SIGTERM -> on_stop(user); SIGHUP -> on_hup(user) (may be NULL);
 * SIGUSR1 -> a request for counters; SIGPIPE ignored. The functions run in
 * signal context. */
int fkcli_signals(fkcli_signal_fn on_stop, fkcli_signal_fn on_hup, void *user);
/* The last stop signal received (0 if none). */
int fkcli_stop_signal(void);
/* Whether SIGUSR1 arrived since the last call (the request is consumed). */
int fkcli_stats_requested(void);

#endif
