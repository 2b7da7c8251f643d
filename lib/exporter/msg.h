/* Internal: IPFIX message building for the exporter (RFC 7011), sans I/O.
 *
 * A message is built in one buffer of at most `cap` bytes: the 16-byte
 * header (written last, per destination, since sequence numbers differ),
 * then sets. Consecutive records of one template share a set. */
#ifndef FK_EXPORTER_MSG_H
#define FK_EXPORTER_MSG_H

#include <flowkit/exporter.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FK__IPFIX_VERSION 10
#define FK__IPFIX_HDR_LEN 16
#define FK__IPFIX_SET_HDR_LEN 4
#define FK__IPFIX_TEMPLATE_SET_ID 2
#define FK__IPFIX_VARLEN 65535
#define FK__PEN_REVERSE 29305u /* RFC 5103 reverse information elements */

/* Built-in template variants: id = FK__TMPL_BASE + mask. */
#define FK__TMPL_BASE 256
#define FK__TMPL_V6 0x1u
#define FK__TMPL_PROC 0x2u
#define FK__TMPL_REV 0x4u
#define FK__TMPL_EVENT 0x8u
#define FK__TMPL_ICMP 0x10u      /* with REV: the reverse ICMP type and code */
#define FK__TMPL_DIR 0x20u       /* flowDirection */
#define FK__TMPL_TUNNEL 0x40u    /* tunnel type, outer addresses, VNI */
#define FK__TMPL_TUNNEL_V6 0x80u /* ... outer addresses IPv6 */
#define FK__TMPL_TAGS 0x100u     /* metadataTags */
#define FK__TMPL_BUILTIN_COUNT 512

/* Longest string element value; longer values are truncated so the
 * one-octet length form applies (255 would announce a 3-octet length). */
#define FK__EXP_STR_MAX 254
/* Largest built-in record: IPv6 flow with reverse, three full strings and
 * the longest tags. */
#define FK__EXP_RECORD_MAX (1024 + FK_EXPORTER_TAGS_MAX + 3)

typedef struct fk__exp_template {
    uint16_t id;
    uint16_t nfields;
    fk_field_spec *fields; /* owned */
    bool variable;         /* has a variable-length field */
    size_t min_len;        /* record length, or minimum when variable */
} fk__exp_template;

/* Bytes of the template record (id, count, field specifiers). */
size_t fk__exp_template_wire_len(const fk__exp_template *t);
/* Fill a template from fields (copied). FK_ENOMEM/FK_EINVAL/FK_ERANGE. */
int fk__exp_template_init(fk__exp_template *t, uint16_t id, const fk_field_spec *fields,
                          size_t count);
void fk__exp_template_free(fk__exp_template *t);
/* Fields of a built-in variant under the given PEN. Returns the count. */
size_t fk__exp_builtin_fields(unsigned mask, uint32_t pen, fk_field_spec *out, size_t cap);
/* Check a caller record against its template: FK_OK or FK_EMALFORMED. */
int fk__exp_record_check(const fk__exp_template *t, const uint8_t *rec, size_t len);

typedef struct fk__exp_msg {
    uint8_t *buf;
    size_t cap;
    size_t len;
    uint32_t records;
    size_t set_off; /* offset of the open data set's header, 0 = none */
    uint16_t set_id;
} fk__exp_msg;

/* Start an empty message (header space reserved). */
void fk__exp_msg_reset(fk__exp_msg *m);
/* Append one data record for template `tid`; FK_ENOSPACE when it does not
 * fit in the remaining space (the message is unchanged). */
int fk__exp_msg_add(fk__exp_msg *m, uint16_t tid, const uint8_t *rec, size_t len);
/* Close the open set. The header is written by fk__exp_msg_header(). */
void fk__exp_msg_close(fk__exp_msg *m);
/* Write the RFC 7011 header into buf[0..15] for a message of `len` bytes. */
void fk__exp_msg_header(uint8_t *buf, size_t len, uint32_t export_time, uint32_t seq,
                        uint32_t odid);

/* Build one template-set message holding templates[first..] that fit in
 * `cap` bytes (header included). Returns the message length and stores the
 * index after the last template written in *next; 0 if even one template
 * does not fit. The header is left for fk__exp_msg_header(). */
size_t fk__exp_template_msg(uint8_t *buf, size_t cap, const fk__exp_template *const *templates,
                            size_t count, size_t first, size_t *next);

/* Encoders of the built-in records; return the record length. `mask`
 * receives the template variant. `proc` may be NULL. `reverse` selects the
 * reverse counters of a biflow (false for a single direction). */
size_t fk__exp_encode_flow(uint8_t *out, const fk_flow *f, const fk_exporter_process *proc,
                           bool with_reverse, unsigned *mask);
/* `f->tags` (flows) and `tags` (events), when not NULL or empty, go out
 * as metadataTags. */
size_t fk__exp_encode_event(uint8_t *out, const fk_session_event *ev,
                            const fk_exporter_process *proc, const char *tags, unsigned *mask);

#endif
