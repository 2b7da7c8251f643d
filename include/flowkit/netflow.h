/**
 * @file netflow.h
 * @brief NetFlow v1, v5, v6, v7 (fixed formats) and v9 (RFC 3954) decoding into ::fk_flow.
 *
 * Two ways in:
 * - fk_netflow_decode_fixed() decodes one v1/v5/v6/v7 datagram without any
 *   state (the formats carry no templates).
 * - An ::fk_netflow handle decodes datagrams of every NetFlow version and
 *   keeps v9 state: templates and options templates scoped per
 *   (exporter address, exporter port, source id) — RFC 3954 scopes by
 *   source address × source id; pass port 0 to get exactly that —,
 *   sequence tracking (v5/v7 count flows, v9 counts export packets) and
 *   what options data taught it (sampling intervals, interface names).
 *
 * Decoding is sans-I/O: the caller passes datagram bytes it received; the
 * decoder never owns a socket. Every length is validated before it is read.
 *
 * Times: NetFlow records carry flow start and end as sysUptime milliseconds.
 * They are made absolute with the export header's unix_secs (and unix_nsecs
 * for v1/v5/v7): `time = export_time - (sysUptime - First)`, where the
 * difference is taken modulo 2^32 and read as signed, so a router uptime
 * that wrapped past 2^32 ms (49.7 days) between First and the export gives
 * the right time, and a First slightly after the header's sysUptime gives a
 * start slightly after the export time. v9 records with absolute time
 * elements (IPFIX IEs 150-157) or systemInitTimeMilliseconds (160) use them.
 *
 * @since 0.1.0
 */
#ifndef FLOWKIT_NETFLOW_H
#define FLOWKIT_NETFLOW_H

#include <flowkit/common.h>
#include <flowkit/flow.h>
#include <flowkit/ipfix.h>
#include <flowkit/params.h>

FK_BEGIN_DECLS

/** Largest record count a v1/v5/v6/v7 datagram may carry (v5: 30; v1: 24; v6: 27; v7: 28). @since
 * 0.1.0 */
#define FK_NETFLOW_FIXED_MAX 30

/**
 * The export packet header of any NetFlow version, in host byte order.
 * Fields a version does not have are zero.
 * @since 0.1.0
 */
typedef struct fk_netflow_header {
    uint16_t version;           /**< 1, 5, 6, 7 or 9. */
    uint16_t count;             /**< v1/5/7: flow records; v9: records of all kinds. */
    uint32_t sys_uptime_ms;     /**< Exporter uptime at export, milliseconds. */
    uint32_t unix_secs;         /**< Export time, seconds since the epoch. */
    uint32_t unix_nsecs;        /**< Export time, residual nanoseconds (v1/5/7). */
    uint32_t sequence;          /**< v5/v7: flows seen before this packet; v9: packet number. */
    uint32_t source_id;         /**< v9 source id; v5: engine_type * 256 + engine_id. */
    uint8_t engine_type;        /**< v5 engine type. */
    uint8_t engine_id;          /**< v5 engine id. */
    uint16_t sampling_interval; /**< v5: 1 in N sampling (low 14 bits of the field), 0 = none. */
    uint8_t sampling_mode;      /**< v5: sampling mode (top 2 bits of the field). */
    int64_t export_ns;          /**< Export time as ns since the epoch. */
} fk_netflow_header;

/**
 * Decode one NetFlow v1, v5 or v7 datagram (stateless).
 *
 * The header's count is checked against the datagram length before any
 * record is read (trailing bytes after the last record are ignored) and
 * against the version's maximum (24, 30, 28). Each record becomes one
 * ::fk_flow with `version` set, absolute start/end times (see the file
 * documentation), interfaces, and for v5 the header's sampling interval
 * (#FK_FLOW_HAS_SAMPLING when non-zero). With @p exporter, flows carry it
 * and `odid` = the header's source_id (#FK_FLOW_HAS_EXPORTER).
 *
 * @param buf the datagram (UDP payload).
 * @param len its length in bytes.
 * @param exporter the exporter's address, or NULL.
 * @param hdr receives the header; may be NULL.
 * @param flows receives the records (caller's array).
 * @param capacity number of entries in @p flows; #FK_NETFLOW_FIXED_MAX always suffices.
 * @param count receives the number of records written.
 * @return 0; `FK_EINVAL` for NULL arguments; `FK_EUNSUPPORTED` when the
 *         version is not 1, 5 or 7; `FK_ETRUNCATED` when the header or the
 *         counted records do not fit in @p len; `FK_EMALFORMED` when the
 *         count exceeds the version's maximum; `FK_ENOSPACE` when
 *         @p capacity is below the count. On failure *count is 0.
 * Thread-safe.
 * @since 0.1.0; 0.2.0 puts the outputs last
 */
FK_API int fk_netflow_decode_fixed(const void *buf, size_t len, const fk_addr *exporter,
                                   fk_netflow_header *hdr, fk_flow *flows, size_t capacity,
                                   size_t *count);

/**
 * A NetFlow decoding session (v1/v5/v7/v9) with v9 template state.
 * Create with fk_netflow_create(), free with fk_netflow_destroy().
 * Used by one thread at a time.
 * @since 0.1.0
 */
typedef struct fk_netflow fk_netflow;

/** Parameters of an ::fk_netflow handle. @since 0.1.0 */
typedef enum fk_netflow_param {
    /** Templates kept per scope (data + options); more are refused and counted. */
    FK_NETFLOW_MAX_TEMPLATES = 100,
    /** Scopes (exporter address × port × source id) kept; more are refused and counted. */
    FK_NETFLOW_MAX_SCOPES = 101
} fk_netflow_param;

/** Kind of a decoded record. @since 0.1.0 */
typedef enum fk_netflow_record_kind {
    FK_NETFLOW_RECORD_FLOW = 1,   /**< A flow record (v1/5/7, or v9 data template). */
    FK_NETFLOW_RECORD_OPTIONS = 2 /**< A v9 options data record. */
} fk_netflow_record_kind;

/**
 * One field of a v9 template as laid out in its records.
 * @since 0.1.0
 */
typedef struct fk_netflow_field {
    uint16_t type;   /**< Field type; v9 types 1-127 are IPFIX element ids; scope fields: 1-5. */
    uint16_t length; /**< Length in bytes. */
    uint16_t offset; /**< Offset of the value from the start of the record. */
    uint8_t scope;   /**< 1 for a scope field of an options template, else 0. */
} fk_netflow_field;

/** ::fk_netflow_options::present bit: sampling_interval is set (field 34 or 50). @since 0.1.0 */
#define FK_NETFLOW_OPT_SAMPLING_INTERVAL 0x01u
/** ::fk_netflow_options::present bit: sampling_algorithm is set (field 35 or 49). @since 0.1.0 */
#define FK_NETFLOW_OPT_SAMPLING_ALGORITHM 0x02u
/** ::fk_netflow_options::present bit: sampler_id is set (field 48). @since 0.1.0 */
#define FK_NETFLOW_OPT_SAMPLER_ID 0x04u
/** ::fk_netflow_options::present bit: ifindex is set (interface scope or field 10). @since 0.1.0 */
#define FK_NETFLOW_OPT_IFINDEX 0x08u
/** ::fk_netflow_options::present bit: if_name is set (field 82). @since 0.1.0 */
#define FK_NETFLOW_OPT_IF_NAME 0x10u
/** ::fk_netflow_options::present bit: if_desc is set (field 83). @since 0.1.0 */
#define FK_NETFLOW_OPT_IF_DESC 0x20u
/** ::fk_netflow_options::present bit: sampler_name is set (field 84). @since 0.1.0 */
#define FK_NETFLOW_OPT_SAMPLER_NAME 0x40u

/** Size of the text fields of ::fk_netflow_options including the NUL. @since 0.1.0 */
#define FK_NETFLOW_NAME_MAX 65

/**
 * What a v9 options data record says, in the terms a collector uses.
 * Fields not flagged in `present` are zero / empty.
 * @since 0.1.0
 */
typedef struct fk_netflow_options {
    uint32_t present;    /**< `FK_NETFLOW_OPT_*` bits. */
    uint16_t scope_type; /**< First scope field's type: 1 system, 2 interface, 3 line card, 4 cache,
                            5 template. */
    uint64_t scope_value;       /**< First scope field's value (up to 8 bytes, big-endian). */
    uint32_t sampling_interval; /**< 1 in N packets. */
    uint8_t sampling_algorithm; /**< 1 deterministic, 2 random (v9 35/49). */
    uint64_t sampler_id;        /**< Sampler id (field 48) the interval belongs to. */
    uint32_t ifindex;           /**< Interface index the names belong to. */
    char if_name[FK_NETFLOW_NAME_MAX];      /**< Interface short name (field 82). */
    char if_desc[FK_NETFLOW_NAME_MAX];      /**< Interface description (field 83). */
    char sampler_name[FK_NETFLOW_NAME_MAX]; /**< Sampler name (field 84). */
} fk_netflow_options;

/**
 * One decoded record, passed to an ::fk_netflow_record_cb. Everything it
 * points to is borrowed and lives until the callback returns.
 * @since 0.1.0
 */
typedef struct fk_netflow_record {
    fk_netflow_record_kind kind;     /**< Flow or options record. */
    const fk_netflow_header *header; /**< Header of the datagram the record came in. */
    const fk_addr *exporter;         /**< Exporter address as passed to fk_netflow_decode(). */
    uint16_t exporter_port;          /**< Exporter port as passed to fk_netflow_decode(). */
    uint16_t template_id;            /**< v9 template id; 0 for v1/5/7. */
    const fk_flow *flow;             /**< Normalized flow (FK_NETFLOW_RECORD_FLOW), else NULL. */
    const fk_netflow_options
        *options; /**< Options values (FK_NETFLOW_RECORD_OPTIONS), else NULL. */
    const fk_netflow_field
        *fields;         /**< v9 template fields (scope fields first); NULL for v1/5/7. */
    size_t field_count;  /**< Entries in @c fields. */
    const uint8_t *data; /**< The record's bytes in the datagram. */
    size_t length;       /**< Length of @c data. */
    /**
     * v9: the same record seen through the IPFIX layer (v9 field type N =
     * IANA element N): typed access with fk_ipfix_record_find_field(), every field
     * by IANA name with fk_ipfix_record_to_json(); `version` is 9. NULL for
     * v1/5/7 and for templates the IPFIX layer cannot represent
     * (zero-length fields, vendor types >= 32768, length 65535).
     * For times prefer @c flow: its start/end handle a 32-bit sysUptime
     * wrap between the record and the export, which fk_ipfix_record_to_flow()
     * on this view (one boot time per message) does not.
     */
    const fk_ipfix_record *ipfix;
} fk_netflow_record;

/**
 * Called for each record of a datagram, in datagram order.
 *
 * @param rec the record (borrowed, valid during the call).
 * @param user the pointer passed to fk_netflow_decode().
 * @return 0 to go on; any other value stops decoding and becomes the
 *         return value of fk_netflow_decode().
 * @since 0.1.0
 */
typedef int (*fk_netflow_record_cb)(const fk_netflow_record *rec, void *user);

/**
 * Counters of an ::fk_netflow handle since it was created.
 * @since 0.1.0
 */
typedef struct fk_netflow_stats {
    uint64_t packets;           /**< Datagrams passed to fk_netflow_decode(). */
    uint64_t flows;             /**< Flow records delivered. */
    uint64_t options_records;   /**< Options records delivered. */
    uint64_t templates;         /**< v9 data templates learned (including re-sent ones). */
    uint64_t options_templates; /**< v9 options templates learned. */
    uint64_t malformed;         /**< Datagrams or flowsets dropped as malformed or truncated. */
    uint64_t no_template;       /**< v9 data flowsets dropped for want of their template. */
    uint64_t unsupported;       /**< Datagrams of another version (e.g. 10, IPFIX). */
    uint64_t sequence_lost;     /**< Flows (v5/v7) or packets (v9) missing by sequence number. */
    uint64_t refused;           /**< Templates or scopes refused by the limits. */
} fk_netflow_stats;

/**
 * Create a NetFlow decoding session with default parameters.
 *
 * @param out receives the handle; the caller frees it with fk_netflow_destroy().
 * @return 0, `FK_EINVAL` when @p out is NULL, or `FK_ENOMEM`.
 * @since 0.1.0
 */
FK_API int fk_netflow_create(fk_netflow **out);

/**
 * Free a session, its templates and everything it learned.
 *
 * @param h the handle; NULL does nothing.
 * @since 0.1.0
 */
FK_API void fk_netflow_destroy(fk_netflow *h);

/**
 * The parameter table of ::fk_netflow (see ::fk_netflow_param).
 *
 * @param count receives the number of entries; may be NULL.
 * @return the static table.
 * Thread-safe.
 * @since 0.1.0
 */
FK_API const fk_param_info *fk_netflow_params(size_t *count);

/**
 * Set an integer parameter.
 *
 * @param h the handle.
 * @param param an ::fk_netflow_param.
 * @param value the value.
 * @return 0; `FK_ENOTFOUND`, `FK_ETYPE`, `FK_ERANGE` (the message names
 *         the bounds; the value is not clamped), or `FK_EACTIVATED` after
 *         fk_netflow_activate().
 * @since 0.1.0
 */
FK_API int fk_netflow_set_int(fk_netflow *h, fk_netflow_param param, int64_t value);

/**
 * Set a parameter from text by its name ("max_scopes" or "max-scopes"), parsed by
 * its type (integers in decimal or 0x hex, booleans as 1/0, true/false,
 * yes/no, on/off); for configuration files and command lines. The value
 * meets exactly the checks of the typed setter.
 *
 * @param h the handle.
 * @param name the parameter's name in fk_netflow_params().
 * @param text the value as text.
 * @return 0, `FK_ENOTFOUND` (no such name), `FK_EINVAL` (text that does not
 *         parse, named in the message), or the typed setter's errors
 *         (`FK_ERANGE` with the bounds, `FK_EACTIVATED`).
 * @since 0.2.0
 */
FK_API int fk_netflow_set_text(fk_netflow *h, const char *name, const char *text);

/**
 * Read an integer parameter.
 *
 * @param h the handle.
 * @param param an ::fk_netflow_param.
 * @param out receives the value.
 * @return 0, `FK_EINVAL`, `FK_ENOTFOUND` or `FK_ETYPE`.
 * @since 0.1.0
 */
FK_API int fk_netflow_get_int(const fk_netflow *h, fk_netflow_param param, int64_t *out);

/**
 * Fix the parameters and make the session ready to decode.
 *
 * @param h the handle.
 * @return 0, `FK_EINVAL`, or `FK_EACTIVATED` when already active.
 * @since 0.1.0
 */
FK_API int fk_netflow_activate(fk_netflow *h);

/**
 * Decode one NetFlow datagram (any of v1, v5, v7, v9) and call @p cb for
 * each record.
 *
 * v9: template and options-template flowsets update the scope's templates
 * (a template id sent again replaces the old one); data flowsets are
 * decoded with their template through a plan compiled once per template;
 * data flowsets without a known template are dropped and counted in
 * `no_template` (not an error). Options records update what the scope
 * knows: sampling intervals by sampler id (or for the whole scope when the
 * record has no sampler id) and interface names by ifindex. Flow records
 * then carry `sampling` from their own sampling-interval field, or from the
 * sampler id they name, or from the scope's interval.
 *
 * Malformed parts are skipped where the structure allows (a bad template
 * flowset does not hide the next flowset); the records that could be
 * decoded are delivered, and the call returns the first failure.
 *
 * @param h an activated handle.
 * @param exporter the exporter's address (copied into flows; part of the scope key).
 * @param exporter_port the exporter's UDP port (part of the scope key; 0 to scope per RFC 3954).
 * @param buf the datagram (UDP payload).
 * @param len its length.
 * @param cb called once per record; may be NULL to only learn templates.
 * @param user passed to @p cb.
 * @return 0; `FK_ENOTACTIVATED`; `FK_EINVAL`; `FK_EUNSUPPORTED` for
 *         versions other than 1/5/7/9 (e.g. 10: give IPFIX to the IPFIX
 *         decoder); `FK_ETRUNCATED` / `FK_EMALFORMED` for bad lengths,
 *         field counts past the flowset end, templates whose records
 *         would be 0 bytes long, or reserved template ids; or the callback's
 *         non-zero return. (A zero-length field among others is accepted:
 *         Cisco exporters send a System scope of length 0.)
 * @since 0.1.0
 */
FK_API int fk_netflow_decode(fk_netflow *h, const fk_addr *exporter, uint16_t exporter_port,
                             const void *buf, size_t len, fk_netflow_record_cb cb, void *user);

/**
 * Read the counters.
 *
 * @param h the handle.
 * @param out receives the counters.
 * @param size `sizeof *out` as the caller was built: the library writes at
 *        most @p size bytes and zeros fields it does not know (see
 *        @ref conventions, "Struct versions").
 * @return 0 or `FK_EINVAL` (NULL argument, @p size below 8).
 * @since 0.2.0 (was `fk_netflow_stats_get`, without @p size)
 */
FK_API int fk_netflow_get_stats(const fk_netflow *h, fk_netflow_stats *out, size_t size);

/**
 * The sampling interval a scope's options data announced.
 *
 * @param h the handle.
 * @param exporter exporter address of the scope.
 * @param exporter_port exporter port of the scope.
 * @param source_id v9 source id of the scope.
 * @param sampler_id the sampler id, or 0 for the scope-wide interval.
 * @param interval receives the interval (1 in N).
 * @return 0, `FK_EINVAL`, or `FK_ENOTFOUND` when nothing was announced.
 * @since 0.2.0 (was `fk_netflow_sampling`)
 */
FK_API int fk_netflow_get_sampling(const fk_netflow *h, const fk_addr *exporter,
                                   uint16_t exporter_port, uint32_t source_id, uint64_t sampler_id,
                                   uint32_t *interval);

/**
 * The interface name a scope's options data announced for an ifindex.
 *
 * @param h the handle.
 * @param exporter exporter address of the scope.
 * @param exporter_port exporter port of the scope.
 * @param source_id v9 source id of the scope.
 * @param ifindex the interface index.
 * @param buf receives the NUL-terminated name.
 * @param size size of @p buf; #FK_NETFLOW_NAME_MAX always suffices.
 * @return length of the name, `FK_EINVAL`, `FK_ENOTFOUND`, or `FK_ENOSPACE`.
 * @since 0.2.0 (was `fk_netflow_interface_name`)
 */
FK_API int fk_netflow_get_interface_name(const fk_netflow *h, const fk_addr *exporter,
                                         uint16_t exporter_port, uint32_t source_id,
                                         uint32_t ifindex, char *buf, size_t size);

/**
 * Forget one v9 template of a scope, e.g. when a collector's UDP template
 * lifetime ran out. Data flowsets for it count as `no_template` until the
 * exporter sends it again.
 *
 * @param h the handle.
 * @param exporter exporter address of the scope.
 * @param exporter_port exporter port of the scope.
 * @param source_id v9 source id of the scope.
 * @param template_id the template (data or options) to forget.
 * @return 0, `FK_EINVAL`, or `FK_ENOTFOUND` when the scope has no such template.
 * @since 0.1.0
 */
FK_API int fk_netflow_forget_template(fk_netflow *h, const fk_addr *exporter,
                                      uint16_t exporter_port, uint32_t source_id,
                                      uint16_t template_id);

/** Buffer size that always holds fk_netflow_options_to_json() output. @since 0.1.0 */
#define FK_NETFLOW_OPTIONS_JSON_MAX 1024

/**
 * Render an options record as one JSON object (no newline):
 * `{"type":"options","exporter","odid","version","template_id","scope_type","scope_value"`
 * plus "sampling_interval", "sampling_algorithm", "sampler_id", "ifindex",
 * "if_name", "if_desc", "sampler_name" when present.
 *
 * @param rec a record of kind #FK_NETFLOW_RECORD_OPTIONS.
 * @param buf output buffer.
 * @param size size of @p buf; #FK_NETFLOW_OPTIONS_JSON_MAX always suffices.
 * @return length written (without NUL), `FK_EINVAL`, or `FK_ENOSPACE`.
 * Thread-safe.
 * @since 0.1.0
 */
FK_API int fk_netflow_options_to_json(const fk_netflow_record *rec, char *buf, size_t size);

FK_END_DECLS

#endif /* FLOWKIT_NETFLOW_H */
