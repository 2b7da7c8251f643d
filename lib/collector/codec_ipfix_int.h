/* Internal: the IPFIX codec's per-domain state, shared by its two halves:
 * codec_ipfix.c (contexts, data sets, pass-through) and codec_ipfix_tmpl.c
 * (template sets and the templates' lifetime). */
#ifndef FK_COLLECTOR_CODEC_IPFIX_INT_H
#define FK_COLLECTOR_CODEC_IPFIX_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "collector/codec.h"
#include "collector/codec_impl.h"
#include "collector/recplan.h"
#include "core/u64map.h"

typedef struct ipx_tmpl {
    uint16_t id;
    uint8_t options;
    int64_t defined_ns;
    uint64_t serial; /* message that (re)defined it last */
    /* The template object raw_plan was made for; NULL = not planned. A
     * definition decoded again (other octets than refresh() keeps) resets
     * it, even inside the message whose earlier sets used the old one. */
    const fk_template *raw_of;
    fk__col_raw_plan raw_plan;
    /* fk__col_ipfix_scan of scan_of, the cache's template object for this
     * id (kept across identical refreshes; a new definition is a new
     * object, and scan_of is reset then); NULL = not scanned yet. */
    const fk_template *scan_of;
    unsigned scan;
    fk__col_ipfix_at at; /* field indexes, with scan */
    /* The template record as it came (set id 2 or 3 in def_options): a
     * refresh with the same octets changes nothing, so it is not decoded
     * again (UDP exporters repeat their templates, many in every message). */
    uint8_t *def;
    uint16_t def_len;
    uint8_t def_options;
    /* The record plan of rp_of (a template object, as scan_of); rp_why is
     * its FK__RECPLAN_* answer (0: rp is usable). */
    const fk_template *rp_of;
    int rp_why;
    fk__recplan rp;
} ipx_tmpl;

typedef struct ipx_state {
    uint64_t session;
    uint32_t odid;
    uint32_t sampling; /* from options data; 0 = unknown */
    uint64_t sampling_serial;
    uint64_t sys_init_serial; /* message of the options record that set it */
    int64_t seen_sys_init;    /* read by the last data call (ns); 0 = none */
    ipx_tmpl *t;
    size_t n;
    size_t cap;
    fk__u64map index; /* template id + 1 -> position in t */
    /* Positions fk__col_ipfix_find gave, by id (its slot): checked against
     * t[] on use, so moves and removals need no invalidation. */
    uint32_t found[8];
    int64_t oldest_ns;       /* no template was defined before this (expiry skips until then) */
    bool options_not_stored; /* pass-through: an options set could not be stored */
    bool relayed;            /* an ipfix: file named this domain's origin: */
    fk_addr relay_exporter;  /* the exporter */
    uint32_t relay_odid;     /* and its observation domain */
} ipx_state;

/* Lookups by id cost the same however many templates the domain holds;
 * data sets mostly come from a few templates in turn (softflowd: 1024,
 * 2048), which a small memo of positions finds without the hash (ids are
 * unique in t[], so a position holding id is id's). */
static inline ipx_tmpl *fk__col_ipfix_find(ipx_state *s, uint16_t id)
{
    unsigned slot = (unsigned)(((uint32_t)id * 0x9E3779B1u) >> 29);
    uint32_t m = s->found[slot];
    if (m < s->n && s->t[m].id == id)
        return &s->t[m];
    uint64_t i;
    if (!fk__u64map_get(&s->index, (uint64_t)id + 1, &i))
        return NULL;
    s->found[slot] = (uint32_t)i;
    return &s->t[i];
}

/* The set body[0..len) as a one-set message with hdr's header in
 * cx->scratch; returns its length (len + 20, which the caller checked fits). */
size_t fk__col_ipfix_wrap(fk__col_codec_ctx *cx, const fk__col_hdr *hdr, uint16_t set_id,
                          const uint8_t *body, size_t len);

#endif
