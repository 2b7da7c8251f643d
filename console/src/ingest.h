/* POST /ingest: JSON flow records from custom producers, untrusted. The
 * body is one object or an array of objects in the JSON lines schema
 * (docs/console.md lists the keys and their aliases). Parsing is
 * all-or-nothing: a body with one bad record is refused whole. */
#ifndef FKC_INGEST_H
#define FKC_INGEST_H

#include <flowkit/flowkit.h>
#include <stddef.h>

typedef void (*fkc_ingest_cb)(const fk_flow *flow, void *user);

/* Parse body[0..len). On success deliver each record to cb (may be NULL)
 * and return the number of records; on failure return -1 and a message in
 * err. now_ns stands in for a record's missing "end". */
long fkc_ingest_parse(const char *body, size_t len, int64_t now_ns, size_t max_records,
                      fkc_ingest_cb cb, void *user, char *err, size_t errsize);

#endif
