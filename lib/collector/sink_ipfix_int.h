/* Internal: what the IPFIX file output (sink_ipfix.c) shares with its
 * pass-through half (sink_ipfix_raw.c): the sink's private state and the
 * message framing both write into. */
#ifndef FK_COLLECTOR_SINK_IPFIX_INT_H
#define FK_COLLECTOR_SINK_IPFIX_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "collector/internal.h"
#include "core/hmap.h"

#define MSG_MAX 65535 /* longest IPFIX message */
#define T_ALL 1024    /* template variants in all: ids 256 .. 1279 (sink_ipfix.c) */
/* Pass-through (sink_ipfix_raw.c): an exporter's observation
 * domain, by (session, domain), gets a domain of the file's. */
typedef struct raw_key {
    uint64_t session;
    uint32_t odid;
    uint32_t zero; /* no padding in hashed keys */
} raw_key;
struct raw_dom;
typedef struct ipfix_priv {
    fk__sink_out *out; /* started at the first open */
    fk__hmap raw;      /* raw_key -> struct raw_dom * */
    /* The domain of the last pass-through set (consecutive sets mostly
     * share it): domains live until fk__ipfix_raw_free_all, which clears
     * it. */
    raw_key last_key;
    struct raw_dom *last_dom;
    uint32_t epoch;      /* changes with each file (and lost write): templates again */
    uint32_t next_odid;  /* next domain of the file's for an exporter's domain */
    uint32_t msg_odid;   /* the open message's domain: 0 = flowkit's own records */
    uint32_t msg_export; /* its export time when it holds an exporter's sets, else 0 */
    uint32_t *msg_seq;   /* its domain's record count (sequence number) */
    bool need_templates;
    uint8_t *msg;      /* the open message (in the output buffer), or NULL */
    size_t len;        /* its length so far */
    size_t set;        /* offset of the open data set's header; 0 = none */
    uint16_t set_tid;  /* template of the open data set */
    uint32_t records;  /* data records in the open message */
    uint32_t sequence; /* data records in earlier messages */
    int64_t begun_ns;  /* when the open message was started */
    /* variants >= NTEMPLATES announced in this file (written on demand) */
    uint8_t announced[T_ALL / 8];
} ipfix_priv;

/* Open a message in the output buffer (with flowkit's templates first when
 * the file needs them); end_message closes, frames and commits it (0 or a
 * write error, noted). */
void fk__ipfix_begin_message(fk__sink *k, ipfix_priv *p);
int fk__ipfix_end_message(fk__sink *k);
/* Free every pass-through domain (sink_ipfix_raw.c). */
void fk__ipfix_raw_free_all(ipfix_priv *p);

#endif
