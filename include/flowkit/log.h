/**
 * @file log.h
 * @brief Where the library's diagnostic messages go.
 *
 * By default messages at #FK_LOG_WARN and more severe are written to stderr
 * as `flowkit[module]: level: message`. A program can route them elsewhere
 * with fk_log_set_callback() and choose the verbosity with fk_log_set_level().
 * Both are process-wide settings; set them before creating handles.
 *
 * @since 0.1.0
 */
#ifndef FLOWKIT_LOG_H
#define FLOWKIT_LOG_H

#include <flowkit/common.h>

FK_BEGIN_DECLS

/** Severity of a log message; lower is more severe. @since 0.1.0 */
typedef enum fk_log_level {
    FK_LOG_ERROR = 0, /**< The library lost data or a feature failed. */
    FK_LOG_WARN = 1,  /**< Something unexpected that was handled. */
    FK_LOG_INFO = 2,  /**< Lifecycle events (activate, rotate, reconnect). */
    FK_LOG_DEBUG = 3  /**< Detail for developers. */
} fk_log_level;

/**
 * A log handler.
 *
 * @param level severity of the message.
 * @param module library module that logs, e.g. "capture"; static string.
 * @param message the message, without trailing newline; valid only during
 *        the call.
 * @param user the pointer given to fk_log_set_callback().
 *
 * It may be called from any library thread at once; it must be thread-safe
 * and must not call back into the library.
 * @since 0.2.0 (was `fk_log_fn`)
 */
typedef void (*fk_log_cb)(fk_log_level level, const char *module, const char *message, void *user);

/**
 * Route log messages to @p cb (NULL restores the stderr default).
 *
 * @param cb handler, or NULL for the default.
 * @param user passed to every call of @p cb; borrowed for as long as the
 *        handler is installed.
 * Not thread-safe with respect to concurrent logging: call it at start-up.
 * @since 0.2.0 (was `fk_log_set_callback`)
 */
FK_API void fk_log_set_callback(fk_log_cb cb, void *user);

/**
 * Deliver only messages at @p max_level or more severe (default
 * #FK_LOG_WARN).
 *
 * @param max_level least severe level delivered.
 * @since 0.1.0
 */
FK_API void fk_log_set_level(fk_log_level max_level);

/**
 * Name of a log level: "error", "warn", "info" or "debug".
 *
 * @param level the level.
 * @return a static string; "unknown" for other values.
 * @since 0.1.0
 */
FK_API const char *fk_log_level_name(fk_log_level level);

FK_END_DECLS

#endif /* FLOWKIT_LOG_H */
