/* Internal: parsing of exporter destinations "udp://host:port", "tcp://host:port". */
#ifndef FK_EXPORTER_URI_H
#define FK_EXPORTER_URI_H

#include <stdbool.h>
#include <stdint.h>

typedef struct fk__exp_uri {
    bool tcp;
    char host[256]; /* without brackets */
    uint16_t port;
} fk__exp_uri;

/* FK_OK or FK_EINVAL with a message saying what is wrong. */
int fk__exp_uri_parse(fk__exp_uri *out, const char *uri);

#endif
