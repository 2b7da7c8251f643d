/* Internal: recording failures in the thread-local last-error slot. */
#ifndef FK_CORE_ERROR_H
#define FK_CORE_ERROR_H

#include <stddef.h>

#include <flowkit/errors.h>

#if defined(__GNUC__)
#define FK__PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define FK__PRINTF(f, a)
#endif

/* Record a failure with a formatted message; returns code so callers can
 * write `return fk__error(FK_EINVAL, "...")`. sys_errno may be 0. */
int fk__error_set(int code, int sys_errno, const char *fmt, ...) FK__PRINTF(3, 4);

/* Shorthand: no errno. */
#define fk__error(code, ...) fk__error_set((code), 0, __VA_ARGS__)

/* The text of errno value e, thread-safe (strerror_r): the library calls
 * this, never strerror(), which may share one buffer between threads. */
const char *fk__strerror_r(int e, char *buf, size_t size);

/* Record a failure caused by errno; the message gets ": strerror(errno)". */
int fk__error_errno(int code, const char *fmt, ...) FK__PRINTF(2, 3);

/* Map an errno value to the closest fk_status. */
int fk__status_from_errno(int err);

#endif
