/* Internal: the one parser of SCHEME://HOST[:PORT][/PATH] strings, used for
 * exporter destinations, collector listeners and ClickHouse outputs.
 *
 * HOST is a name, an IPv4 address or a bracketed IPv6 address ("[::1]");
 * an IPv6 address without brackets is refused with a message saying how to
 * write it. Nothing is resolved here: callers resolve or convert the host. */
#ifndef FK_CORE_URI_H
#define FK_CORE_URI_H

#include <stdbool.h>
#include <stdint.h>

/* What a caller accepts beyond SCHEME://HOST:PORT with a port in [1, 65535]. */
enum {
    FK__URI_EMPTY_HOST = 1u,    /* "udp://:2055": host "" (the caller picks a default) */
    FK__URI_PORT_ZERO = 2u,     /* port 0 (any free port) */
    FK__URI_PORT_OPTIONAL = 4u, /* no :PORT (has_port false, port 0) */
    FK__URI_PATH = 8u           /* a path (from the first "/" after the authority) must follow */
};

typedef struct fk__uri {
    char scheme[16]; /* as written, without "://" */
    char host[256];  /* without brackets; "" only with FK__URI_EMPTY_HOST */
    bool bracketed;  /* the host was written [ADDR] */
    bool has_port;
    uint16_t port;
    const char *path; /* into the parsed text: "/..." with FK__URI_PATH, else "" */
} fk__uri;

/* Parse text as one of schemes (NULL-terminated list) under flags. On error
 * FK_EINVAL with a message `WHAT "TEXT": PROBLEM`, where usage (e.g.
 * "udp://HOST:PORT or tcp://HOST:PORT") is what the message says is
 * expected. */
int fk__uri_parse(fk__uri *out, const char *text, const char *const *schemes, unsigned flags,
                  const char *what, const char *usage);

#endif
