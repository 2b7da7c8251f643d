#include "core/error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define FK__ERROR_MSG_MAX 512

/* The only per-thread state in the library: the last failure. */
static _Thread_local struct {
    fk_error pub;
    char message[FK__ERROR_MSG_MAX];
} last_error = {{FK_OK, 0, ""}, ""};

#define FK__STATUS_TEXT_CASE(name, value, text)                                                    \
    case value:                                                                                    \
        return text;
#define FK__STATUS_NAME_CASE(name, value, text)                                                    \
    case value:                                                                                    \
        return #name;

const char *fk__strerror_r(int e, char *buf, size_t size)
{
#if defined(__GLIBC__) && defined(_GNU_SOURCE)
    return strerror_r(e, buf, size); /* GNU: may return a static string instead of buf */
#else
    if (strerror_r(e, buf, size) != 0)
        snprintf(buf, size, "error %d", e);
    return buf;
#endif
}

const char *fk_strerror(int code)
{
    switch (code) {
        FK_STATUS_TABLE(FK__STATUS_TEXT_CASE)
    default:
        return "unknown status";
    }
}

const char *fk_status_name(int code)
{
    switch (code) {
        FK_STATUS_TABLE(FK__STATUS_NAME_CASE)
    default:
        return "FK_UNKNOWN";
    }
}

const fk_error *fk_error_last(void)
{
    last_error.pub.message = last_error.message;
    return &last_error.pub;
}

void fk_error_clear(void)
{
    last_error.pub.code = FK_OK;
    last_error.pub.sys_errno = 0;
    last_error.message[0] = '\0';
}

static int error_vset(int code, int sys_errno, const char *fmt, va_list ap)
{
    int n = vsnprintf(last_error.message, sizeof last_error.message, fmt, ap);
    if (n < 0) {
        last_error.message[0] = '\0';
        n = 0;
    }
    if (sys_errno != 0 && (size_t)n < sizeof last_error.message) {
        char eb[128];
        snprintf(last_error.message + n, sizeof last_error.message - (size_t)n, ": %s",
                 fk__strerror_r(sys_errno, eb, sizeof eb));
    }
    last_error.pub.code = code;
    last_error.pub.sys_errno = sys_errno;
    last_error.pub.message = last_error.message;
    return code;
}

int fk__error_set(int code, int sys_errno, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    error_vset(code, sys_errno, fmt, ap);
    va_end(ap);
    return code;
}

int fk__error_errno(int code, const char *fmt, ...)
{
    int saved = errno;
    va_list ap;
    va_start(ap, fmt);
    error_vset(code, saved, fmt, ap);
    va_end(ap);
    errno = saved;
    return code;
}

int fk__status_from_errno(int err)
{
    switch (err) {
    case 0:
        return FK_OK;
    case ENOMEM:
        return FK_ENOMEM;
    case EINVAL:
        return FK_EINVAL;
    case EPERM:
    case EACCES:
        return FK_EPERM;
    case ENODEV:
    case ENXIO:
        return FK_ENODEV;
    case ENOENT:
        return FK_ENOTFOUND;
    case EEXIST:
        return FK_EEXIST;
    case EAGAIN:
        return FK_EAGAIN;
    case ERANGE:
        return FK_ERANGE;
    case EPIPE:
    case ECONNRESET:
        return FK_ECLOSED;
    default:
        return FK_EIO;
    }
}
