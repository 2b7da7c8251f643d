/* Listener URIs ("udp://0.0.0.0:2055", "tcp://[::1]:4739"). */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "collector/internal.h"
#include "core/error.h"
#include "core/uri.h"

int fk__col_uri_parse(fk__col_uri *out, const char *uri)
{
    if (!uri || !out)
        return fk__error(FK_EINVAL, "listener: NULL argument");
    memset(out, 0, sizeof *out);
    static const char *const schemes[] = {"udp", "tcp", NULL};
    fk__uri u;
    int rc = fk__uri_parse(&u, uri, schemes, FK__URI_EMPTY_HOST | FK__URI_PORT_ZERO, "listener",
                           "udp://ADDR:PORT or tcp://ADDR:PORT");
    if (rc)
        return rc;
    out->transport = strcmp(u.scheme, "tcp") == 0 ? FK__COL_TCP : FK__COL_UDP;
    if (u.bracketed) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&out->ss;
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons(u.port);
        /* A zone names the link of a scoped (link-local) address:
         * [fe80::1%eth0], or [fe80::1%25eth0] as RFC 6874 writes it. */
        char *zone = strchr(u.host, '%');
        if (zone) {
            *zone++ = '\0';
            if (strncmp(zone, "25", 2) == 0 && zone[2] && !if_nametoindex(zone))
                zone += 2;
            unsigned idx = if_nametoindex(zone);
            if (!idx) {
                char *end;
                unsigned long v = strtoul(zone, &end, 10);
                idx = *zone && !*end && v > 0 && v <= UINT32_MAX ? (unsigned)v : 0;
            }
            if (!idx)
                return fk__error(FK_EINVAL, "listener \"%s\": no interface \"%s\"", uri, zone);
            s6->sin6_scope_id = idx;
        }
        if (inet_pton(AF_INET6, u.host, &s6->sin6_addr) != 1)
            return fk__error(FK_EINVAL, "listener \"%s\": \"%s\" is not an IPv6 address", uri,
                             u.host);
        out->sslen = sizeof *s6;
    } else {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&out->ss;
        s4->sin_family = AF_INET;
        s4->sin_port = htons(u.port);
        const char *host = u.host[0] ? u.host : "0.0.0.0";
        if (inet_pton(AF_INET, host, &s4->sin_addr) != 1)
            return fk__error(FK_EINVAL,
                             "listener \"%s\": \"%s\" is not a numeric IPv4 address (IPv6: "
                             "[ADDR]:PORT; host names are not resolved)",
                             uri, host);
        out->sslen = sizeof *s4;
    }
    return FK_OK;
}

int fk__col_uri_format(int transport, const struct sockaddr *sa, char *buf, size_t size)
{
    char host[INET6_ADDRSTRLEN];
    uint16_t port;
    const char *scheme = transport == FK__COL_TCP ? "tcp" : "udp";
    int n;
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof host);
        port = ntohs(s6->sin6_port);
        char zone[IF_NAMESIZE + 1] = "";
        if (s6->sin6_scope_id && !if_indextoname(s6->sin6_scope_id, zone + 1))
            snprintf(zone + 1, sizeof zone - 1, "%u", (unsigned)s6->sin6_scope_id);
        if (zone[1])
            zone[0] = '%';
        n = snprintf(buf, size, "%s://[%s%s]:%u", scheme, host, zone, port);
    } else {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &s4->sin_addr, host, sizeof host);
        port = ntohs(s4->sin_port);
        n = snprintf(buf, size, "%s://%s:%u", scheme, host, port);
    }
    if (n < 0 || (size_t)n >= size)
        return fk__error(FK_ENOSPACE, "listener URI: buffer of %zu bytes too small", size);
    return n;
}

void fk__col_addr_from_sockaddr(const struct sockaddr *sa, fk_addr *addr, uint16_t *port)
{
    memset(addr, 0, sizeof *addr);
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
        static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (memcmp(s6->sin6_addr.s6_addr, mapped, 12) == 0) {
            addr->family = 4;
            memcpy(addr->bytes, s6->sin6_addr.s6_addr + 12, 4);
        } else {
            addr->family = 6;
            memcpy(addr->bytes, s6->sin6_addr.s6_addr, 16);
        }
        *port = ntohs(s6->sin6_port);
    } else if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
        addr->family = 4;
        memcpy(addr->bytes, &s4->sin_addr, 4);
        *port = ntohs(s4->sin_port);
    } else {
        *port = 0;
    }
}
