/* Internal: the IPFIX encoder's state, shared by encoder.c (handle,
 * templates, messages and sets), encoder_record.c (records field by field)
 * and encoder_flow.c (records from an fk_flow). */
#ifndef FK_IPFIX_ENCODER_INT_H
#define FK_IPFIX_ENCODER_INT_H

#include <stddef.h>
#include <stdint.h>

#include "core/params.h"
#include "ipfix/plan.h"

#define MAX_MSG 65535u

/* One field that fk_ipfix_encoder_add_flow() fills from fk_flow. */
typedef struct enc_step {
    uint32_t off; /* offset in the record (fixed templates) */
    uint16_t field;
    uint8_t len;
    uint8_t op; /* fk__flow_op, or ENC_OP_ODID */
} enc_step;

#define ENC_OP_ODID 200

typedef struct enc_tmpl {
    fk_template *t;
    uint32_t *fix_off; /* offset of each fixed field in the fixed block */
    uint32_t fix_len;
    int has_varlen;
    enc_step *steps; /* compiled once: fields fed by add_flow, in record order */
    uint16_t nsteps;
    uint16_t covered; /* fields written by fill_flow's straight-line part */
    int unique_ids;   /* no element twice: a field found by position is the first match */
} enc_tmpl;

typedef struct dom_seq {
    uint32_t domain;
    uint32_t count;
} dom_seq;

struct fk_ipfix_encoder {
    fk__params params;
    const fk_ie_registry *reg;
    enc_tmpl *tmpls;
    size_t ntmpls;
    enc_tmpl *last; /* last template used by add_flow */
    dom_seq *seqs;
    size_t nseqs;
    /* message */
    int in_msg;
    uint8_t *buf;
    size_t limit;
    size_t pos;
    uint32_t domain;
    uint32_t seq_at_begin;
    uint32_t records;
    int pad;
    /* open set */
    size_t set_start; /* SIZE_MAX when none */
    uint16_t set_id;
    uint32_t set_min_rec; /* smallest record of the open set, for padding */
    /* open record */
    enc_tmpl *rec;
    uint16_t next_field; /* set_* calls usually follow the template's order */
    uint8_t fixed[MAX_MSG];
    uint32_t *vl_off; /* per field: offset in pool */
    uint32_t *vl_len; /* per field: length, for varlen fields */
    size_t vl_cap;
    uint8_t *pool;
    size_t pool_len;
    size_t pool_cap;
};

static inline void wr16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static inline void wr32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static inline void wr_be(uint8_t *p, uint64_t v, size_t len)
{
    for (size_t i = len; i > 0; i--) {
        p[i - 1] = (uint8_t)v;
        v >>= 8;
    }
}

/* The template added as tid, or NULL. */
enc_tmpl *fk__enc_find_tmpl(fk_ipfix_encoder *e, uint16_t tid);
/* Make room for `len` octets in a set `set_id`, opening a new set if
 * needed (the open one closed and padded); FK_ENOSPACE, no message set. */
int fk__enc_reserve(fk_ipfix_encoder *e, uint16_t set_id, size_t len, uint32_t min_rec);
/* FK_ENOSPACE with its message. */
int fk__enc_no_space(size_t need);

#endif
