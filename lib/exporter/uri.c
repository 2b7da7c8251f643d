/* Destination URIs of the exporter: udp://HOST:PORT and tcp://HOST:PORT,
 * HOST a name, an IPv4 address or a bracketed IPv6 address. */
#include "exporter/uri.h"

#include <stdlib.h>
#include <string.h>

#include "core/error.h"

int fk__exp_uri_parse(fk__exp_uri *out, const char *uri)
{
    if (!out || !uri)
        return fk__error(FK_EINVAL, "exporter: no destination given");
    memset(out, 0, sizeof *out);
    const char *p;
    if (strncmp(uri, "udp://", 6) == 0) {
        out->tcp = false;
    } else if (strncmp(uri, "tcp://", 6) == 0) {
        out->tcp = true;
    } else {
        return fk__error(FK_EINVAL, "exporter: \"%s\": expected udp://HOST:PORT or tcp://HOST:PORT",
                         uri);
    }
    p = uri + 6;
    const char *host = p, *host_end, *colon;
    if (*p == '[') {
        host = p + 1;
        host_end = strchr(host, ']');
        if (!host_end)
            return fk__error(FK_EINVAL, "exporter: \"%s\": missing ']' after IPv6 address", uri);
        colon = host_end + 1;
        if (*colon != ':')
            return fk__error(FK_EINVAL, "exporter: \"%s\": missing :PORT", uri);
    } else {
        colon = strrchr(p, ':');
        if (!colon)
            return fk__error(FK_EINVAL, "exporter: \"%s\": missing :PORT", uri);
        host_end = colon;
        if (memchr(p, ':', (size_t)(colon - p)))
            return fk__error(FK_EINVAL, "exporter: \"%s\": IPv6 addresses need brackets", uri);
    }
    size_t hlen = (size_t)(host_end - host);
    if (hlen == 0)
        return fk__error(FK_EINVAL, "exporter: \"%s\": empty host", uri);
    if (hlen >= sizeof out->host)
        return fk__error(FK_EINVAL, "exporter: \"%s\": host name too long", uri);
    for (size_t i = 0; i < hlen; i++) {
        char c = host[i];
        if (c == '/' || c == '@' || c == ' ' || c == '[' || c == ']')
            return fk__error(FK_EINVAL, "exporter: \"%s\": bad character in host", uri);
    }
    memcpy(out->host, host, hlen);
    out->host[hlen] = '\0';
    const char *ps = colon + 1;
    if (*ps < '0' || *ps > '9')
        return fk__error(FK_EINVAL, "exporter: \"%s\": port must be a number", uri);
    char *end;
    long port = strtol(ps, &end, 10);
    if (*end != '\0')
        return fk__error(FK_EINVAL, "exporter: \"%s\": trailing characters after port", uri);
    if (port < 1 || port > 65535)
        return fk__error(FK_EINVAL, "exporter: \"%s\": port %ld is out of range [1, 65535]", uri,
                         port);
    out->port = (uint16_t)port;
    return FK_OK;
}
