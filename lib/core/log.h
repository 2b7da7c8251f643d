/* Internal: emit a log message through the installed handler. */
#ifndef FK_CORE_LOG_H
#define FK_CORE_LOG_H

#include <flowkit/log.h>

#include "core/error.h"

void fk__log(fk_log_level level, const char *module, const char *fmt, ...) FK__PRINTF(3, 4);
int fk__log_enabled(fk_log_level level);

#define FK__LOG_ERROR(mod, ...) fk__log(FK_LOG_ERROR, (mod), __VA_ARGS__)
#define FK__LOG_WARN(mod, ...) fk__log(FK_LOG_WARN, (mod), __VA_ARGS__)
#define FK__LOG_INFO(mod, ...) fk__log(FK_LOG_INFO, (mod), __VA_ARGS__)
#define FK__LOG_DEBUG(mod, ...) fk__log(FK_LOG_DEBUG, (mod), __VA_ARGS__)

#endif
