/**
 * @file errors.h
 * @brief Status codes and the per-thread last-error record.
 *
 * Every fallible flowkit function returns `int`: 0 on success or a negative
 * ::fk_status code. The failing call also records, for the calling thread
 * only, the code, the `errno` that caused it (if any) and a message with
 * context, e.g. `"eth9: no such device"`; read it with fk_error_last().
 * A successful call does not clear the record.
 *
 * @since 0.1.0
 */
#ifndef FLOWKIT_ERRORS_H
#define FLOWKIT_ERRORS_H

#include <flowkit/common.h>

/**
 * The one table of status codes: X(enum name, value, description).
 * Codes are never renumbered; new codes are added at the end.
 * @since 0.1.0
 */
#define FK_STATUS_TABLE(X)                                                                         \
    X(FK_OK, 0, "success")                                                                         \
    X(FK_EINVAL, -1, "invalid argument")                                                           \
    X(FK_ENOMEM, -2, "out of memory")                                                              \
    X(FK_ERANGE, -3, "value out of range")                                                         \
    X(FK_ENOTFOUND, -4, "not found")                                                               \
    X(FK_ETYPE, -5, "wrong type")                                                                  \
    X(FK_EACTIVATED, -6, "handle already activated")                                               \
    X(FK_ENOTACTIVATED, -7, "handle not activated")                                                \
    X(FK_EIO, -8, "input/output error")                                                            \
    X(FK_EPERM, -9, "permission denied")                                                           \
    X(FK_ENODEV, -10, "no such device")                                                            \
    X(FK_EFILTER, -11, "invalid filter expression")                                                \
    X(FK_EMALFORMED, -12, "malformed input")                                                       \
    X(FK_ETRUNCATED, -13, "truncated input")                                                       \
    X(FK_ENOSPACE, -14, "buffer too small")                                                        \
    X(FK_ENOTEMPLATE, -15, "no template for data set")                                             \
    X(FK_EUNSUPPORTED, -16, "not supported")                                                       \
    X(FK_EAGAIN, -17, "resource temporarily unavailable")                                          \
    X(FK_EBREAK, -18, "interrupted by break")                                                      \
    X(FK_EEOF, -19, "end of input")                                                                \
    X(FK_EPCAP, -20, "libpcap error")                                                              \
    X(FK_ENETLINK, -21, "netlink error")                                                           \
    X(FK_ECLOSED, -22, "connection closed")                                                        \
    X(FK_EEXIST, -23, "already exists")                                                            \
    X(FK_ESTATE, -24, "operation not valid in this state")

FK_BEGIN_DECLS

/** @cond FK_INTERNAL */
#define FK__STATUS_ENUM(name, value, text) name = value,
/** @endcond */

/**
 * Status codes returned by flowkit functions (0 = success, negative =
 * failure), generated from #FK_STATUS_TABLE.
 * @since 0.1.0
 */
typedef enum fk_status { FK_STATUS_TABLE(FK__STATUS_ENUM) FK__STATUS_END_ = 1 } fk_status;

/**
 * The last failure recorded on the calling thread.
 * @since 0.1.0
 */
typedef struct fk_error {
    int code;            /**< ::fk_status of the failure, FK_OK if none yet. */
    int sys_errno;       /**< errno behind the failure, 0 if none. */
    const char *message; /**< Message with context; never NULL. */
} fk_error;

/**
 * Human-readable description of a status code.
 *
 * @param code an ::fk_status value.
 * @return a static string; "unknown status" for codes not in the table.
 * Thread-safe.
 * @since 0.1.0
 */
FK_API const char *fk_strerror(int code);

/**
 * Symbolic name of a status code, e.g. "FK_ERANGE".
 *
 * @param code an ::fk_status value.
 * @return a static string; "FK_UNKNOWN" for codes not in the table.
 * Thread-safe.
 * @since 0.1.0
 */
FK_API const char *fk_status_name(int code);

/**
 * The last failure recorded on the calling thread.
 *
 * @return a pointer to thread-local storage, never NULL. It stays valid
 *         until the next flowkit call on the same thread; copy what you
 *         need. When no failure was recorded, `code` is FK_OK and
 *         `message` is "".
 * @since 0.1.0
 */
FK_API const fk_error *fk_error_last(void);

/**
 * Forget the last failure of the calling thread.
 * @since 0.1.0
 */
FK_API void fk_error_clear(void);

FK_END_DECLS

#endif /* FLOWKIT_ERRORS_H */
