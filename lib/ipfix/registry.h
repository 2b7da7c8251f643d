/* Internal: the built-in information element table (generated from the IANA
 * registry by gen_ie_table.py) and the registry handle. */
#ifndef FK_IPFIX_REGISTRY_H
#define FK_IPFIX_REGISTRY_H

#include <flowkit/template.h>

/* IANA elements sorted by id, then reverse elements (PEN 29305) by id. */
extern const fk_ie fk__ie_table[];
extern const size_t fk__ie_table_len;
extern const size_t fk__ie_iana_len;
/* Indices into fk__ie_table sorted by name (strcmp order). */
extern const uint16_t fk__ie_name_index[];

struct fk_ie_registry {
    fk_ie *extra; /* enterprise elements; names owned */
    size_t count;
    size_t cap;
};

#endif
