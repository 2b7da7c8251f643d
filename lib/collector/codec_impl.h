/* Internal: pieces of the production codec (codec_default.c dispatches by
 * version to codec_netflow.c and codec_ipfix.c). */
#ifndef FK_COLLECTOR_CODEC_IMPL_H
#define FK_COLLECTOR_CODEC_IMPL_H

#include <flowkit/exporter.h>
#include <stdbool.h>

#include "collector/codec.h"

struct fk_template_cache;
struct fk_ipfix_decoder;

typedef struct fk__col_codec_ctx {
    size_t max_templates;
    uint32_t pen; /* flowkit-export's process elements; 0 = not decoded */
    bool direct;  /* IPFIX data sets of plain fixed templates skip the decoder's walk */
    fk_collector_stats *stats; /* the collector's counters (tags_rejected); may be NULL */
    /* Where records are decoded (out->next): the collector's batch array,
     * else own_out, whose one slot is own_flow. */
    fk__col_flowbuf *out;
    fk__col_flowbuf own_out;
    fk_flow own_flow;
    /* NUL-terminated copies of the record being emitted (fk_flow's borrowed
     * user / exe point here until emit returns). */
    char user[FK_FLOW_USER_MAX + 1];
    char exe[FK_FLOW_EXE_MAX + 1];
    char tags[FK_EXPORTER_TAGS_MAX + 1]; /* fk_flow's borrowed tags */
    struct fk_template_cache *cache;     /* IPFIX templates of every session */
    struct fk_ipfix_decoder *dec;
    uint8_t scratch[65536 + 64]; /* one-set messages are built here */
} fk__col_codec_ctx;

int fk__col_v9_domain_new(fk__col_codec_ctx *cx, void **state);
void fk__col_v9_domain_free(void *state);
int fk__col_v9_templates(fk__col_codec_ctx *cx, void *state, const fk__col_hdr *hdr,
                         uint16_t set_id, const uint8_t *body, size_t len, int64_t now_ns,
                         size_t room, fk__col_tmpl_fn fn, void *user);
int fk__col_v9_data(fk__col_codec_ctx *cx, void *state, const fk__col_hdr *hdr, uint16_t set_id,
                    const uint8_t *body, size_t len, fk__col_emit_fn emit, fk__col_ifname_fn ifname,
                    void *user, uint32_t *records, uint32_t *options);
void fk__col_v9_expire(fk__col_codec_ctx *cx, void *state, int64_t cutoff_ns, fk__col_tmpl_fn fn,
                       void *user);
int fk__col_fixed(fk__col_codec_ctx *cx, const uint8_t *msg, size_t len, fk__col_emit_fn emit,
                  void *user);

int fk__col_ipfix_ctx_init(fk__col_codec_ctx *cx);
void fk__col_ipfix_ctx_fini(fk__col_codec_ctx *cx);
int fk__col_ipfix_domain_new(fk__col_codec_ctx *cx, void **state, uint64_t session, uint32_t odid);
void fk__col_ipfix_domain_free(fk__col_codec_ctx *cx, void *state);
int fk__col_ipfix_templates(fk__col_codec_ctx *cx, void *state, const fk__col_hdr *hdr,
                            uint16_t set_id, const uint8_t *body, size_t len, int64_t now_ns,
                            size_t room, fk__col_tmpl_fn fn, void *user);
int fk__col_ipfix_data(fk__col_codec_ctx *cx, void *state, const fk__col_hdr *hdr, uint16_t set_id,
                       const uint8_t *body, size_t len, fk__col_emit_fn emit,
                       fk__col_ifname_fn ifname, void *user, uint32_t *records, uint32_t *options);
void fk__col_ipfix_expire(fk__col_codec_ctx *cx, void *state, int64_t cutoff_ns, fk__col_tmpl_fn fn,
                          void *user);
int64_t fk__col_ipfix_sys_init(void *state);
void fk__col_ipfix_restart(fk__col_codec_ctx *cx, void *state, uint64_t serial, fk__col_tmpl_fn fn,
                           void *user);

/* Pass-through of data sets (codec_raw.c): what a template allows. */
enum { FK__COL_RAW_END_NONE = 0, FK__COL_RAW_END_S = 1, FK__COL_RAW_END_MS = 2 };
typedef struct fk__col_raw_plan {
    bool ok;             /* its records may be stored as they came */
    bool options;        /* an options template (its sets are decoded too) */
    bool reverse;        /* it has RFC 5103 reverse elements */
    bool sampling;       /* its records carry their sampling interval */
    uint8_t end_kind;    /* FK__COL_RAW_END_* */
    uint16_t end_off;    /* offset of the end time in a record */
    uint16_t record_len; /* fixed record length */
    uint64_t layout;     /* hash of the field specs */
} fk__col_raw_plan;
/* Decide for template t (pen: flowkit-export's process elements, 0 = none).
 * Always 0; out->ok says the answer. */
int fk__col_raw_analyze(const struct fk_template *t, uint32_t pen, fk__col_raw_plan *out);
/* Records of body (records * record_len bytes) ending after end_limit_ns
 * (0: no check). */
uint32_t fk__col_raw_late(const fk__col_raw_plan *pl, const uint8_t *body, uint32_t records,
                          int64_t end_limit_ns);
int fk__col_ipfix_raw(fk__col_codec_ctx *cx, void *state, uint16_t set_id, const uint8_t *body,
                      size_t len, unsigned flags, int64_t end_limit_ns, fk__col_raw *out);
/* fk__col_codec.direct for IPFIX (codec_ipfix.c). */
int fk__col_ipfix_direct(fk__col_codec_ctx *cx, void *state, const fk__col_hdr *hdr,
                         uint16_t set_id, const uint8_t *body, size_t len, fk__col_direct *out);

/* Fields of an IPFIX record beyond the plan's (codec_ipfix_fields.c). */
struct fk_ipfix_record;
void fk__col_ipfix_report_ifname(const struct fk_ipfix_record *rec, fk__col_ifname_fn ifname,
                                 void *user);
/* fk__col_ipfix_scan's answer: what a data template carries beyond the plan. */
#define FK__COL_IPFIX_EXTRAS 1u /* process, event or tunnel elements */
#define FK__COL_IPFIX_ORIGIN 2u /* the record's own origin (130, 131, 149) */
#define FK__COL_IPFIX_BOOT 4u   /* systemInitTimeMilliseconds (160) */
unsigned fk__col_ipfix_scan(const fk__col_codec_ctx *cx, const struct fk_template *t);
void fk__col_ipfix_process_fields(fk__col_codec_ctx *cx, const struct fk_ipfix_record *rec,
                                  fk_flow *f);
void fk__col_ipfix_event_fields(const fk__col_codec_ctx *cx, const struct fk_ipfix_record *rec,
                                fk_flow *f);
void fk__col_ipfix_tunnel_fields(const fk__col_codec_ctx *cx, const struct fk_ipfix_record *rec,
                                 fk_flow *f);
void fk__col_ipfix_tag_fields(fk__col_codec_ctx *cx, const struct fk_ipfix_record *rec, fk_flow *f);
/* Field indexes (-1: absent) a template keeps what the data path reads by
 * index in: the record's own origin (observationDomainId 149,
 * exporterIPv4Address 130, exporterIPv6Address 131) and its boot time
 * (systemInitTimeMilliseconds 160); found with the scan, once per template
 * object, so that no record pays a lookup by element. */
typedef struct fk__col_ipfix_at {
    int odid, v4, v6, boot;
} fk__col_ipfix_at;
void fk__col_ipfix_fields_at(const struct fk_template *t, fk__col_ipfix_at *out);
void fk__col_ipfix_record_origin(const struct fk_ipfix_record *rec, const fk__col_ipfix_at *at,
                                 fk_flow *f);

#endif
