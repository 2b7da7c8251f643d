/* The socket table parsers on untrusted bytes: the first byte picks the
 * parser and protocol (bit 0: sock_diag reply / /proc/net text; bit 1: TCP /
 * UDP; bit 2: IPv4 / IPv6 text), the rest is the input. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proc/sock.h"

static int count(void *ctx, const fk__sock *s)
{
    size_t *n = ctx;
    *n += s->lport + s->rport + (s->inode & 1);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t sel = data[0];
    int proto = (sel & 2) ? 17 : 6;
    size_t n = 0;
    if (sel & 1) {
        /* Text parsers take (pointer, length): no terminator needed. */
        fk__procnet_parse((const char *)data + 1, size - 1, (sel & 4) ? 6 : 4, proto, count, &n);
    } else {
        /* Copy so the netlink headers may be read with any alignment. */
        uint8_t *buf = malloc(size - 1 ? size - 1 : 1);
        if (!buf)
            return 0;
        memcpy(buf, data + 1, size - 1);
        bool done;
        int nle;
        fk__sockdiag_parse(buf, size - 1, proto, count, &n, &done, &nle);
        free(buf);
    }
    return 0;
}
