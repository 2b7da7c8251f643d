#include "core/log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>

static void stderr_handler(fk_log_level level, const char *module, const char *message, void *user)
{
    (void)user;
    fprintf(stderr, "flowkit[%s]: %s: %s\n", module, fk_log_level_name(level), message);
}

/* Process-wide log settings, set at start-up (see log.h). */
static fk_log_cb handler = stderr_handler;
static void *handler_user = NULL;
static atomic_int max_level = FK_LOG_WARN;

void fk_log_set_callback(fk_log_cb fn, void *user)
{
    handler = fn ? fn : stderr_handler;
    handler_user = fn ? user : NULL;
}

void fk_log_set_level(fk_log_level level)
{
    atomic_store(&max_level, (int)level);
}

const char *fk_log_level_name(fk_log_level level)
{
    switch (level) {
    case FK_LOG_ERROR:
        return "error";
    case FK_LOG_WARN:
        return "warn";
    case FK_LOG_INFO:
        return "info";
    case FK_LOG_DEBUG:
        return "debug";
    }
    return "unknown";
}

int fk__log_enabled(fk_log_level level)
{
    return (int)level <= atomic_load(&max_level);
}

void fk__log(fk_log_level level, const char *module, const char *fmt, ...)
{
    if (!fk__log_enabled(level))
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    handler(level, module, msg, handler_user);
}
