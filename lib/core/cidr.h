/* Internal: CIDR prefixes ("10.0.0.0/8", "2001:db8::/32"), parsed once and
 * matched as masked byte compares. */
#ifndef FK_CORE_CIDR_H
#define FK_CORE_CIDR_H

#include <flowkit/flow.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct fk__cidr {
    uint8_t family; /* 4 or 6 */
    uint8_t bits;
    uint8_t addr[16]; /* host bits cleared */
} fk__cidr;

/* Parse "ADDR/LEN" or a bare address (a full-length prefix). FK_EINVAL with
 * a message starting with `what` ("allow", "store cidr"). */
int fk__cidr_parse(const char *text, const char *what, fk__cidr *out);
/* True when a matches one entry; IPv4-mapped IPv6 addresses match IPv4
 * entries. */
bool fk__cidr_match(const fk__cidr *list, size_t n, const fk_addr *a);

#endif
