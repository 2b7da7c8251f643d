/* cli/common: see fkcli.h. */
#include "fkcli.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* Process-wide state of a command-line program (not library state). */
static const char *prog_name = "flowkit";
static fkcli_signal_fn sig_stop;
static fkcli_signal_fn sig_hup;
static void *sig_user;
static volatile sig_atomic_t last_stop_signal;
static volatile sig_atomic_t stats_request;

void fkcli_init(const char *prog)
{
    const char *slash = strrchr(prog, '/');
    prog_name = slash ? slash + 1 : prog;
}

const char *fkcli_prog(void)
{
    return prog_name;
}

void fkcli_usage(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s: ", prog_name);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry '%s --help' for more information.\n", prog_name);
    exit(FKCLI_EXIT_USAGE);
}

void fkcli_fail(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s: ", prog_name);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(FKCLI_EXIT_FAILURE);
}

void fkcli_lib_error(int code, const char *what)
{
    const fk_error *e = fk_error_last();
    fprintf(stderr, "%s: %s%s%s\n", prog_name, what ? what : "", what ? ": " : "",
            e->message[0] ? e->message : fk_strerror(e->code));
    if (code == FKCLI_EXIT_USAGE)
        fprintf(stderr, "Try '%s --help' for more information.\n", prog_name);
    exit(code);
}

void fkcli_print_version(void)
{
    printf("%s (flowkit) %s\n", prog_name, fk_version_string());
}

uint64_t fkcli_parse_u64(const char *opt, const char *text, uint64_t min, uint64_t max)
{
    /* the library's one number rule: decimal, 0x for hex, never octal */
    int64_t v;
    if (fk_param_parse_int(text, &v) != 0 || v < 0 || (uint64_t)v < min || (uint64_t)v > max)
        fkcli_usage("%s: \"%s\" is not an integer in [%" PRIu64 ", %" PRIu64 "]", opt, text, min,
                    max);
    return (uint64_t)v;
}

static void on_signal(int sig)
{
    if (sig == SIGUSR1) {
        stats_request = 1;
        return;
    }
    if (sig == SIGHUP) {
        if (sig_hup)
            sig_hup(sig_user);
        return;
    }
    last_stop_signal = sig;
    if (sig_stop)
        sig_stop(sig_user);
}

int fkcli_signals(fkcli_signal_fn on_stop, fkcli_signal_fn on_hup, void *user)
{
    sig_stop = on_stop;
    sig_hup = on_hup;
    sig_user = user;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    if (sigaction(SIGINT, &sa, NULL) || sigaction(SIGTERM, &sa, NULL) ||
        sigaction(SIGHUP, &sa, NULL) || sigaction(SIGUSR1, &sa, NULL))
        return -1;
    signal(SIGPIPE, SIG_IGN);
    return 0;
}

int fkcli_stop_signal(void)
{
    return last_stop_signal;
}

int fkcli_stats_requested(void)
{
    if (!stats_request)
        return 0;
    stats_request = 0;
    return 1;
}
