/* Internal: templates compiled into decode plans, shared by the IPFIX and
 * NetFlow v9 decoders and the IPFIX encoder.
 *
 * A template (list of fk_field_spec) is compiled ONCE, when it is added to a
 * cache or an encoder, into an fk__plan:
 *   - per field: the registry element (or NULL), the abstract type used for
 *     conversion, the encoded length (FK_VARLEN for variable length) and, when
 *     every field before it has a fixed length, its constant offset;
 *   - `fixed_len`: the record length when the template has no variable-length
 *     field (0 otherwise), `min_len`: the smallest record length;
 *   - "flow slots": for each fk_flow member (addresses, ports, counters,
 *     times, ...) the index of the field that feeds it, so that
 *     fk__plan_to_flow() touches only those fields and never looks anything up.
 *
 * Decoding a data record with a plan:
 *   1. fk__plan_split(plan, p, avail, offsets, &rec_len) finds the record
 *      boundary. Fixed templates: rec_len = fixed_len and offsets are the
 *      precomputed ones (no per-record work). Variable templates: walk the
 *      fields, reading each 1-byte length prefix (255 → 2-byte length follows:
 *      the 3-byte form) and check every length against `avail` BEFORE using it.
 *      offsets[i] is the start of field i's value, offsets[nfields] the record
 *      end; value length = plan field length or the prefix value.
 *   2. fk__plan_value(plan, rec, offsets, i, &v) converts field i by its type:
 *      integers in reduced size (RFC 7011 6.2: any length 1..8 for
 *      (un)signed64, 1..4 for 32, ...) are widened (signed: sign-extended),
 *      float32/64 by length, dateTime* to ns since the epoch (Micro/Nano in
 *      NTP format: seconds since 1900 + 2^-32 fractions), addresses to fk_addr.
 *      A length that cannot hold the type returns FK_EMALFORMED.
 *   3. fk__plan_to_flow(plan, rec, offsets, time_ctx, version, flow) runs the
 *      flow ops. Time precedence for start/end: absolute forms (Nano > Micro >
 *      Milli > Seconds), then SysUpTime (+ systemInitTimeMilliseconds from the
 *      same record, else time_ctx.sys_init_ns), then DeltaMicroseconds
 *      (export time - delta).
 *
 * NetFlow v9 reuse: v9 template field type N is fk_field_spec{pen 0, id N,
 * length}; v9 options scope fields get FK_FIELD_V9_SCOPE (compiled as opaque
 * octetArray named "scopeSystem", "scopeInterface", ... by the JSON code).
 * The v9 decoder passes sys_init_ns = unix_secs * 1e9 - sysUptime_ms * 1e6
 * (from its packet header) so flowStart/EndSysUpTime (22/21) come out
 * absolute; 32-bit uptime wrap is the v9 decoder's business before that. */
#ifndef FK_IPFIX_PLAN_H
#define FK_IPFIX_PLAN_H

#include <flowkit/ipfix.h>
#include <flowkit/template.h>

/* Flow ops: which fk_flow member a field feeds. */
enum fk__flow_op {
    FK__OP_NONE = 0,
    FK__OP_SRC4,
    FK__OP_DST4,
    FK__OP_SRC6,
    FK__OP_DST6,
    FK__OP_SPORT,
    FK__OP_DPORT,
    FK__OP_PROTO,
    FK__OP_BYTES,
    FK__OP_PACKETS,
    FK__OP_REV_BYTES,
    FK__OP_REV_PACKETS,
    FK__OP_TCP_FLAGS,
    FK__OP_REV_TCP_FLAGS,
    FK__OP_TOS,
    FK__OP_VLAN,
    FK__OP_IN_IF,
    FK__OP_OUT_IF,
    FK__OP_SAMPLING,
    FK__OP_END_REASON,
    FK__OP_ICMP, /* icmpTypeCodeIPv4/IPv6 → dst_port when no port */
    /* times: start/end in each form */
    FK__OP_START_S,
    FK__OP_END_S,
    FK__OP_START_MS,
    FK__OP_END_MS,
    FK__OP_START_US,
    FK__OP_END_US,
    FK__OP_START_NS,
    FK__OP_END_NS,
    FK__OP_START_UPTIME,
    FK__OP_END_UPTIME,
    FK__OP_START_DELTA_US,
    FK__OP_END_DELTA_US,
    FK__OP_SYS_INIT_MS,
    FK__OP_IP_VERSION, /* ipVersion (60): picks the address family */
    FK__OP_NH4,        /* ipNextHopIPv4Address (15) */
    FK__OP_NH6,        /* ipNextHopIPv6Address (62) */
    FK__OP_BGP_NH4,    /* bgpNextHopIPv4Address (18) */
    FK__OP_BGP_NH6,    /* bgpNextHopIPv6Address (63) */
    FK__OP_REV_ICMP,   /* reverse icmpTypeCodeIPv4/IPv6 (RFC 5103) → rev_icmp */
    FK__OP_SRC_AS,     /* bgpSourceAsNumber (16) */
    FK__OP_DST_AS,     /* bgpDestinationAsNumber (17) */
    FK__OP_DIRECTION,  /* flowDirection (61): 0 ingress, 1 egress */
    FK__OP_L2_SEGMENT, /* layer2SegmentId (351): type 0x01 VXLAN + VNI */
    FK__OP_COUNT
};
_Static_assert(FK__OP_COUNT <= 64, "flow ops fit fk__plan.opmask");

/* Tuple segments (docs/ipfix-decoding.md, "Address families" and "Repeated
 * elements"). The flow-key elements of a template (addresses of both
 * families, ports, protocol, ICMP type, ipVersion) are cut into segments in
 * template order: a new segment starts when an element already present in
 * the current one occurs again, or when an address arrives after a complete
 * pair (source and destination) of the other family. RFC 7011 section 8 has
 * repeated elements follow the metering process's order, so an outer header
 * comes before the inner one. Per record, the segment whose address pair is
 * last non-zero is the flow key; the non-zero one before it is the outer
 * header. Field indexes, FK__NO_FIELD when absent. */
#define FK__MAX_SEGMENTS 4
typedef struct fk__tuple_seg {
    uint16_t src4, dst4, src6, dst6;
    uint16_t sport, dport, proto, icmp, ipver;
    /* 1 when the segment began at a change of address family (not at a
     * repeated element): with an ipVersion in the record, it and the
     * segment before are one header with both families' elements. */
    uint16_t family_cut;
} fk__tuple_seg;

typedef struct fk__plan_field {
    const fk_ie *ie; /* NULL when unknown */
    uint32_t pen;
    uint16_t id;
    uint16_t length;  /* FK_VARLEN for variable */
    uint32_t offset;  /* constant value offset, valid while !varlen_before */
    uint8_t type;     /* fk_ie_type used to convert */
    uint8_t scope;    /* 1 for scope fields */
    uint8_t v9_scope; /* FK_FIELD_V9_SCOPE field */
    uint8_t op;       /* fk__flow_op */
} fk__plan_field;

/* slot[op] when no field feeds op */
#define FK__NO_FIELD 0xffffu

typedef struct fk__plan {
    uint16_t nfields;
    uint16_t scope_count;
    uint32_t fixed_len;      /* record length when no varlen field, else 0 */
    uint32_t min_len;        /* smallest record length */
    fk__plan_field *fields;  /* nfields */
    uint32_t *fixed_offsets; /* nfields + 1 when fixed_len, else NULL */
    /* Flow slots: the field feeding each fk__flow_op (FK__NO_FIELD if none),
     * resolved once (delta counters win over totals), so fk__plan_to_flow()
     * runs straight-line code with branches that do not change per record. */
    uint16_t slot[FK__OP_COUNT];
    uint16_t nslots;                 /* number of ops present */
    uint64_t opmask;                 /* bit op set when slot[op] is a field */
    uint16_t slot_len[FK__OP_COUNT]; /* encoded length of the slot's field */
    uint32_t slot_off[FK__OP_COUNT]; /* its offset in the record (fixed templates) */
    /* Per-record tuple resolution: set when the template carries both
     * address families or repeats flow-key elements; the slots above then
     * give only a first guess that fk__plan_tuple() replaces. */
    uint8_t tuple_resolve;
    uint8_t nseg;
    fk__tuple_seg seg[FK__MAX_SEGMENTS];
} fk__plan;

/* Compile fields into a plan (caller frees with fk__plan_free). Returns 0,
 * FK_EMALFORMED (zero-length field, bad scope count, too long), FK_ENOMEM. */
int fk__plan_compile(fk__plan **out, const fk_field_spec *fields, uint16_t count,
                     uint16_t scope_count, const fk_ie_registry *reg);
void fk__plan_free(fk__plan *p);

/* Whether an encoded length can hold a value of an element type: fixed
 * lengths per RFC 7011 6.2 (reduced-size integers and float64), FK_VARLEN
 * for the types that may be variable-length. */
int fk__ie_length_fits(uint8_t type, uint16_t len);

/* Find one record's boundary in [p, p+avail). offsets must hold nfields+1
 * entries (ignored and *offsets_out pointed at the plan's own array for a
 * fixed template). Returns 0, FK_ETRUNCATED when the record does not fit. */
int fk__plan_split(const fk__plan *plan, const uint8_t *p, size_t avail, uint32_t *scratch,
                   const uint32_t **offsets_out, size_t *rec_len);

/* Convert field i of a split record. */
int fk__plan_value(const fk__plan *plan, const uint8_t *rec, const uint32_t *offsets, uint16_t i,
                   fk_ipfix_value *out);

/* fk_ipfix_record_find_field() for callers that expect absence (the
 * collector's options and extra-element lookups): a template without the
 * element returns FK_ENOTFOUND and sets no error message (formatting one
 * cost ~1,500 instructions per options record). Other results as
 * fk_ipfix_record_find_field(); rec and out must not be NULL. */
int fk__ipfix_record_lookup(const fk_ipfix_record *rec, uint32_t pen, uint16_t id,
                            fk_ipfix_value *out);

/* Fill *out (zeroed first) from the flow slots of a split record. */
int fk__plan_to_flow(const fk__plan *plan, const uint8_t *rec, const uint32_t *offsets,
                     const fk_ipfix_time_ctx *tc, fk_flow *out);

/* Cut a compiled plan's flow-key fields into segments and set
 * tuple_resolve (tuple.c; called by fk__plan_compile). */
void fk__plan_segments(fk__plan *p);

/* Addresses, ports, protocol and tunnel fields of a split record by the
 * tuple segments, and both next hops by family (a no-op for templates
 * without tuple_resolve and without next-hop pairs). fk__plan_to_flow()
 * calls it; the NetFlow v9 decoder calls it on its own flows. */
void fk__plan_tuple(const fk__plan *plan, const uint8_t *rec, const uint32_t *offsets,
                    fk_flow *out);

/* Template object shared by the cache and the encoder. */
struct fk_template {
    uint16_t id;
    uint16_t count;
    uint16_t scope_count;
    fk_field_spec *specs;
    fk__plan *plan;
    /* cache bookkeeping */
    uint64_t session;
    uint32_t domain;
    struct fk_template *s_prev, *s_next; /* the session's templates */
};

/* Build / free a stand-alone template (used by the cache and the encoder). */
int fk__template_new(fk_template **out, uint16_t template_id, const fk_field_spec *fields,
                     uint16_t count, uint16_t scope_count, const fk_ie_registry *reg);
void fk__template_free(fk_template *t);

/* Test hook: lookups a cache has made and templates it has visited in
 * session lists so far; tests bound the work of an operation with it. */
uint64_t fk__template_cache_steps(const fk_template_cache *c);

/* Time helpers shared with NetFlow. */
int64_t fk__ntp_to_ns(uint64_t ntp, int micro); /* micro: clear the low 11 fraction bits */
uint64_t fk__ns_to_ntp(int64_t ns);

#endif
