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

static void dash_name(char *dst, size_t size, const char *name)
{
    size_t i = 0;
    for (; name[i] && i + 1 < size; i++)
        dst[i] = name[i] == '_' ? '-' : name[i];
    dst[i] = '\0';
}

const fk_param_info *fkcli_param_entry(const fk_param_info *table, size_t count,
                                       const char *const *names, int i)
{
    const fk_param_info *info = fk_param_find(table, count, names[i]);
    if (!info)
        fkcli_fail("internal: no parameter \"%s\"", names[i]);
    return info;
}

int fkcli_param_options(struct option *out, char *namebuf, size_t n, const fk_param_info *table,
                        size_t count, const char *const *names, int base)
{
    int k = 0;
    for (; names[k] && (size_t)k < n; k++) {
        const fk_param_info *info = fkcli_param_entry(table, count, names, k);
        char *name = namebuf + (size_t)k * 48;
        dash_name(name, 48, info->name);
        out[k].name = name;
        out[k].has_arg = info->type == FK_PARAM_BOOL ? no_argument : required_argument;
        out[k].flag = NULL;
        out[k].val = base + k;
    }
    return k;
}

void fkcli_param_set(const fkcli_setters *s, const fk_param_info *info, const char *text)
{
    char opt[48];
    dash_name(opt, sizeof opt, info->name);
    int rc;
    char *end = NULL;
    switch (info->type) {
    case FK_PARAM_BOOL:
        rc = s->set_int(s->handle, info->id, 1);
        break;
    case FK_PARAM_INT: {
        errno = 0;
        long long v = strtoll(text, &end, 10);
        if (!*text || *end || errno == ERANGE)
            fkcli_usage("--%s: \"%s\" is not an integer in [%" PRId64 ", %" PRId64 "]", opt, text,
                        info->min_int, info->max_int);
        rc = s->set_int(s->handle, info->id, (int64_t)v);
        break;
    }
    case FK_PARAM_DOUBLE: {
        errno = 0;
        double v = strtod(text, &end);
        if (!*text || *end || errno == ERANGE)
            fkcli_usage("--%s: \"%s\" is not a number", opt, text);
        rc = s->set_double(s->handle, info->id, v);
        break;
    }
    default:
        rc = s->set_str(s->handle, info->id, text);
        break;
    }
    if (rc == FK_ERANGE || rc == FK_EINVAL || rc == FK_ETYPE) {
        char what[64];
        snprintf(what, sizeof what, "--%s", opt);
        fkcli_lib_error(FKCLI_EXIT_USAGE, what);
    }
    if (rc < 0)
        fkcli_lib_error(FKCLI_EXIT_FAILURE, opt);
}

void fkcli_param_help(FILE *out, const fk_param_info *table, size_t count, const char *const *names)
{
    for (int k = 0; names[k]; k++) {
        const fk_param_info *info = fkcli_param_entry(table, count, names, k);
        char opt[48], left[80], def[64] = "";
        dash_name(opt, sizeof opt, info->name);
        const char *meta = info->type == FK_PARAM_BOOL              ? ""
                           : info->unit && !strcmp(info->unit, "s") ? " SECS"
                                                                    : " N";
        snprintf(left, sizeof left, "--%s%s", opt, meta);
        if (info->type == FK_PARAM_INT)
            snprintf(def, sizeof def, " (default %" PRId64 ")", info->default_int);
        fprintf(out, "  %-26s %s%s\n", left, info->help, def);
    }
}

uint64_t fkcli_parse_u64(const char *opt, const char *text, uint64_t min, uint64_t max)
{
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (!*text || *end || errno == ERANGE || text[0] == '-' || v < min || v > max)
        fkcli_usage("%s: \"%s\" is not an integer in [%" PRIu64 ", %" PRIu64 "]", opt, text, min,
                    max);
    return (uint64_t)v;
}

static void on_signal(int sig)
{
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
        sigaction(SIGHUP, &sa, NULL))
        return -1;
    signal(SIGPIPE, SIG_IGN);
    return 0;
}

int fkcli_stop_signal(void)
{
    return last_stop_signal;
}
