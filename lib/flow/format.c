/* Text forms of addresses and times (the JSON lines contract); flows as
 * JSON are flow_json.c, session events session.c. */
#include <arpa/inet.h>
#include <flowkit/flow.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/error.h"

int fk_addr_format(const fk_addr *addr, char *buf, size_t size)
{
    if (!addr || !buf || size == 0)
        return fk__error(FK_EINVAL, "fk_addr_format: NULL argument");
    if (addr->family == 0) {
        buf[0] = '\0';
        return 0;
    }
    int af = addr->family == 4 ? AF_INET : addr->family == 6 ? AF_INET6 : -1;
    if (af < 0)
        return fk__error(FK_EINVAL, "fk_addr_format: unknown family %u", addr->family);
    if (!inet_ntop(af, addr->bytes, buf, (socklen_t)size))
        return fk__error(FK_ENOSPACE, "fk_addr_format: buffer of %zu bytes too small", size);
    return (int)strlen(buf);
}

int fk_addr_parse(const char *text, fk_addr *out)
{
    if (!out || !text)
        return fk__error(FK_EINVAL, "fk_addr_parse: NULL argument");
    memset(out, 0, sizeof *out);
    if (inet_pton(AF_INET, text, out->bytes) == 1) {
        out->family = 4;
        return FK_OK;
    }
    if (inet_pton(AF_INET6, text, out->bytes) == 1) {
        out->family = 6;
        return FK_OK;
    }
    return fk__error(FK_EINVAL, "\"%s\" is not an IPv4 or IPv6 address", text);
}

int fk_time_format(int64_t ns, char *buf, size_t size)
{
    if (!buf)
        return fk__error(FK_EINVAL, "fk_time_format: NULL buffer");
    int64_t sec = ns / 1000000000;
    int64_t rem = ns % 1000000000;
    if (rem < 0) {
        rem += 1000000000;
        sec -= 1;
    }
    time_t t = (time_t)sec;
    struct tm tm;
    if (!gmtime_r(&t, &tm))
        return fk__error(FK_ERANGE, "fk_time_format: time %" PRId64 " out of range", ns);
    int n =
        snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(rem / 1000000));
    if (n < 0 || (size_t)n >= size)
        return fk__error(FK_ENOSPACE, "fk_time_format: buffer of %zu bytes too small", size);
    return n;
}
