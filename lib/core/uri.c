/* SCHEME://HOST[:PORT][/PATH] (see uri.h). */
#include "core/uri.h"

#include <stdlib.h>
#include <string.h>

#include "core/error.h"

#define BAD(...) fk__error(FK_EINVAL, __VA_ARGS__)

static bool host_char_ok(char c)
{
    return c != '/' && c != '@' && c != ' ' && c != '[' && c != ']' && c != '?' && c != '#' &&
           (unsigned char)c > ' ';
}

static int parse_port(fk__uri *out, const char *p, const char *end, unsigned flags,
                      const char *what, const char *text)
{
    if (p == end)
        return BAD("%s \"%s\": missing port after ':'", what, text);
    unsigned long v = 0;
    for (const char *q = p; q < end; q++) {
        if (*q < '0' || *q > '9')
            return BAD("%s \"%s\": port \"%.*s\" is not a number", what, text, (int)(end - p), p);
        v = v * 10 + (unsigned long)(*q - '0');
        if (v > 65535)
            break;
    }
    unsigned long min = (flags & FK__URI_PORT_ZERO) ? 0 : 1;
    if (v < min || v > 65535)
        return BAD("%s \"%s\": port %.*s is out of range [%lu, 65535]", what, text, (int)(end - p),
                   p, min);
    out->has_port = true;
    out->port = (uint16_t)v;
    return FK_OK;
}

int fk__uri_parse(fk__uri *out, const char *text, const char *const *schemes, unsigned flags,
                  const char *what, const char *usage)
{
    if (!out || !text || !schemes)
        return BAD("%s: no URI given", what);
    memset(out, 0, sizeof *out);
    out->path = "";
    const char *sep = strstr(text, "://");
    bool known = false;
    for (size_t i = 0; sep && schemes[i]; i++)
        if (strlen(schemes[i]) == (size_t)(sep - text) &&
            strncmp(text, schemes[i], (size_t)(sep - text)) == 0)
            known = true;
    if (!known)
        return BAD("%s \"%s\": expected %s", what, text, usage);
    memcpy(out->scheme, text, (size_t)(sep - text));
    const char *p = sep + 3;
    /* The authority ends at the path (when paths are accepted) or the end. */
    const char *end = (flags & FK__URI_PATH) ? strchr(p, '/') : NULL;
    if (!end)
        end = p + strlen(p);
    if ((flags & FK__URI_PATH) && *end != '/')
        return BAD("%s \"%s\": expected %s", what, text, usage);
    const char *host = p, *host_end, *port = NULL;
    if (*p == '[') {
        host = p + 1;
        host_end = memchr(host, ']', (size_t)(end - host));
        if (!host_end)
            return BAD("%s \"%s\": missing ']' after the IPv6 address", what, text);
        out->bracketed = true;
        if (host_end + 1 < end) {
            if (host_end[1] != ':')
                return BAD("%s \"%s\": an IPv6 address is written [ADDR]:PORT", what, text);
            port = host_end + 2;
        }
    } else {
        const char *colon = memchr(p, ':', (size_t)(end - p));
        if (colon && memchr(colon + 1, ':', (size_t)(end - colon - 1)))
            return BAD("%s \"%s\": an IPv6 address is written [ADDR]:PORT", what, text);
        host_end = colon ? colon : end;
        port = colon ? colon + 1 : NULL;
    }
    size_t hlen = (size_t)(host_end - host);
    if (hlen == 0 && (out->bracketed || !(flags & FK__URI_EMPTY_HOST)))
        return BAD("%s \"%s\": empty host", what, text);
    if (hlen >= sizeof out->host)
        return BAD("%s \"%s\": host name too long", what, text);
    for (size_t i = 0; i < hlen; i++)
        if (!host_char_ok(host[i]))
            return BAD("%s \"%s\": bad character in host", what, text);
    memcpy(out->host, host, hlen);
    if (port) {
        int rc = parse_port(out, port, end, flags, what, text);
        if (rc)
            return rc;
    } else if (!(flags & FK__URI_PORT_OPTIONAL)) {
        return BAD("%s \"%s\": missing :PORT (expected %s)", what, text, usage);
    }
    if (flags & FK__URI_PATH)
        out->path = end;
    return FK_OK;
}
