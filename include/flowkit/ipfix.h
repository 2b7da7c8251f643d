/**
 * @file ipfix.h
 * @brief Sans-I/O IPFIX codec (RFC 7011, 7012): a decoder that walks
 *        messages held in caller buffers and an encoder that writes messages
 *        into caller buffers. Neither owns a socket.
 *
 * Decoding: create an ::fk_ipfix_decoder over an ::fk_template_cache (own or
 * shared), call fk_ipfix_decoder_begin() with one message and then
 * fk_ipfix_decoder_next() until it returns 0. Template sets update the cache
 * as they are met, so a data set may follow its template in the same message.
 * Every length is checked before it is read; a malformed message stops the
 * walk with `FK_EMALFORMED` or `FK_ETRUNCATED` and the rest of the message
 * is not used. Records give typed access by element (fk_ipfix_record_find_field()),
 * a normalized ::fk_flow (fk_ipfix_record_to_flow()) and JSON
 * (fk_ipfix_record_to_json()).
 *
 * Encoding: create an ::fk_ipfix_encoder, add templates, then per message
 * fk_ipfix_encoder_begin() → template sets / records →
 * fk_ipfix_encoder_finish(). Sequence numbers count data records per
 * observation domain (RFC 7011 section 3.1).
 *
 * @since 0.1.0
 */
#ifndef FLOWKIT_IPFIX_H
#define FLOWKIT_IPFIX_H

#include <flowkit/common.h>
#include <flowkit/flow.h>
#include <flowkit/params.h>
#include <flowkit/template.h>

FK_BEGIN_DECLS

/** IPFIX message version number. @since 0.1.0 */
#define FK_IPFIX_VERSION 10
/** Length of the IPFIX message header. @since 0.1.0 */
#define FK_IPFIX_HEADER_LEN 16
/** Length of a set header. @since 0.1.0 */
#define FK_IPFIX_SET_HEADER_LEN 4
/** Set id of a template set. @since 0.1.0 */
#define FK_IPFIX_SET_TEMPLATE 2
/** Set id of an options template set. @since 0.1.0 */
#define FK_IPFIX_SET_OPTIONS_TEMPLATE 3
/** Smallest data set id (= template id). @since 0.1.0 */
#define FK_IPFIX_SET_DATA_MIN 256

/** The IPFIX message header. @since 0.1.0 */
typedef struct fk_ipfix_header {
    uint16_t version;     /**< Always 10 once validated. */
    uint16_t length;      /**< Total message length in octets, header included. */
    uint32_t export_time; /**< Export time, seconds since the epoch. */
    uint32_t sequence;    /**< Data records sent in this domain before this message, mod 2^32. */
    uint32_t domain;      /**< Observation domain id. */
} fk_ipfix_header;

/**
 * One decoded value: the raw octets and, by the element's type, a converted
 * value. Reduced-size integers are widened; times are converted to
 * nanoseconds since the epoch.
 * @since 0.1.0
 */
typedef struct fk_ipfix_value {
    const fk_ie *ie;    /**< Registry element, or NULL when unknown (then type is FK_IE_UNKNOWN). */
    uint32_t pen;       /**< Enterprise number of the field. */
    uint16_t id;        /**< Element id of the field. */
    uint8_t type;       /**< ::fk_ie_type used for conversion. */
    const uint8_t *raw; /**< Value octets inside the message (prefix excluded); borrowed. */
    size_t len;         /**< Number of value octets. */
    uint64_t u;         /**< unsigned*, boolean (1 true, 2 false), dateTimeSeconds (seconds). */
    int64_t i;          /**< signed*; for dateTime* types: nanoseconds since the epoch. */
    double f;           /**< float32 / float64. */
    fk_addr addr;       /**< ipv4Address / ipv6Address. */
} fk_ipfix_value;

/**
 * Context needed to turn relative times into absolute ones, filled by the
 * decoder from the message header and by the caller from options data.
 * @since 0.1.0
 */
typedef struct fk_ipfix_time_ctx {
    int64_t export_time_ns; /**< Message export time (ns since epoch); base of
                               flow*DeltaMicroseconds. */
    int64_t sys_init_ns;    /**< Exporter boot time (ns since epoch), base of flow*SysUpTime; 0 when
                               unknown. */
} fk_ipfix_time_ctx;

/**
 * A data record inside a message. Valid until the next call on the decoder
 * that produced it, and only while the message buffer lives.
 * @since 0.1.0
 */
typedef struct fk_ipfix_record {
    const fk_template *tmpl; /**< Template of the record (borrowed). */
    const uint8_t *data;     /**< Record octets (borrowed). */
    size_t len;              /**< Record length in octets. */
    uint32_t domain;         /**< Observation domain of the message. */
    uint16_t template_id;    /**< Set id of the data set = template id. */
    uint8_t is_options;      /**< 1 for a record of an options template. */
    uint8_t version;         /**< 10 for IPFIX, 9 for NetFlow v9 records. */
    fk_ipfix_time_ctx time;  /**< Time context for relative times. */
    const uint32_t *offsets; /**< Internal: start of each field (length prefix included) and the
                                record end; borrowed. */
} fk_ipfix_record;

/** Kind of an item returned by fk_ipfix_decoder_next(). @since 0.1.0 */
typedef enum fk_ipfix_item_kind {
    FK_IPFIX_ITEM_RECORD = 1,     /**< A data record (options records too): `record` is set. */
    FK_IPFIX_ITEM_TEMPLATE = 2,   /**< A template or options template was added: `tmpl` is set. */
    FK_IPFIX_ITEM_WITHDRAWAL = 3, /**< A template withdrawal was applied: `template_id`. */
    FK_IPFIX_ITEM_NO_TEMPLATE = 4 /**< A data set whose template is unknown: `set`/`set_len`. */
} fk_ipfix_item_kind;

/** One item of a message walk. @since 0.1.0 */
typedef struct fk_ipfix_item {
    int kind;                /**< ::fk_ipfix_item_kind. */
    uint16_t set_id;         /**< Id of the set the item comes from. */
    uint16_t template_id;    /**< Template id concerned. */
    const fk_template *tmpl; /**< RECORD / TEMPLATE: the template (borrowed). */
    fk_ipfix_record record;  /**< RECORD: the record. */
    const uint8_t *set;      /**< NO_TEMPLATE: the whole set, header included (borrowed). */
    size_t set_len;          /**< NO_TEMPLATE: set length. */
} fk_ipfix_item;

/** IPFIX decoder handle. @since 0.1.0 */
typedef struct fk_ipfix_decoder fk_ipfix_decoder;

/**
 * Create a decoder.
 *
 * @param out the decoder; the caller owns it (fk_ipfix_decoder_destroy()).
 * @param cache a template cache to use (borrowed; may be shared by several
 *              decoders used from one thread at a time; must outlive the
 *              decoder), or NULL to create a private cache with defaults.
 * @return 0, `FK_EINVAL`, `FK_ENOMEM`.
 * @since 0.1.0
 */
FK_API int fk_ipfix_decoder_create(fk_ipfix_decoder **out, fk_template_cache *cache);

/**
 * Free a decoder (and its private cache). NULL is a no-op.
 * @param d the decoder.
 * @since 0.1.0
 */
FK_API void fk_ipfix_decoder_destroy(fk_ipfix_decoder *d);

/**
 * The template cache used by a decoder.
 * @param d the decoder.
 * @return the cache (borrowed).
 * @since 0.2.0 (was `fk_ipfix_decoder_cache`)
 */
FK_API fk_template_cache *fk_ipfix_decoder_get_cache(fk_ipfix_decoder *d);

/**
 * Set the exporter boot time used for flowStart/EndSysUpTime of a domain
 * when records carry no systemInitTimeMilliseconds (e.g. learned from an
 * options record). 0 forgets it.
 * @param d the decoder.
 * @param session transport session id.
 * @param domain observation domain.
 * @param sys_init_ns boot time, ns since the epoch.
 * @return 0 or `FK_ENOMEM`.
 * @since 0.1.0
 */
FK_API int fk_ipfix_decoder_set_sys_init(fk_ipfix_decoder *d, uint64_t session, uint32_t domain,
                                         int64_t sys_init_ns);

/**
 * Parse and validate a message header only.
 * @param msg message octets.
 * @param len available octets.
 * @param out the header.
 * @return 0; `FK_ETRUNCATED` when @p len is shorter than the header or than
 *         its length field; `FK_EMALFORMED` for version != 10 or length < 16.
 * @since 0.1.0; 0.2.0 puts the outputs last
 */
FK_API int fk_ipfix_parse_header(const uint8_t *msg, size_t len, fk_ipfix_header *out);

/**
 * Start walking one message. The buffer is borrowed until the walk ends (next
 * returns 0 or an error, or begin is called again). Octets past the header's
 * length are ignored (a stream may hold several messages; see @p used).
 *
 * @param d the decoder.
 * @param session transport session id (template scope).
 * @param msg the message.
 * @param len available octets.
 * @param hdr the parsed header (may be NULL).
 * @return 0, or the errors of fk_ipfix_parse_header().
 * @since 0.1.0
 */
FK_API int fk_ipfix_decoder_begin(fk_ipfix_decoder *d, uint64_t session, const uint8_t *msg,
                                  size_t len, fk_ipfix_header *hdr);

/**
 * Next item of the message being walked.
 *
 * @param d the decoder.
 * @param item the item; its pointers are valid until the next call on @p d.
 * @return 1 with an item; 0 at the end of the message; `FK_EMALFORMED` or
 *         `FK_ETRUNCATED` (with a message naming the set and offset) for a
 *         bad set, template or record — the walk ends there; `FK_ERANGE`
 *         when a template cap is hit (the walk ends); `FK_ENOMEM`;
 *         `FK_ESTATE` without a begun message.
 * @since 0.1.0
 */
FK_API int fk_ipfix_decoder_next(fk_ipfix_decoder *d, fk_ipfix_item *item);

/**
 * Decode one field of a record by index.
 * @param rec the record.
 * @param index field index in the template.
 * @param out the value.
 * @return 0; `FK_ERANGE` past the end; `FK_EMALFORMED` when the length does
 *         not suit the type (e.g. a 3-octet float).
 * @since 0.2.0 (was `fk_ipfix_record_field`, outputs first)
 */
FK_API int fk_ipfix_record_get_field(const fk_ipfix_record *rec, uint16_t index,
                                     fk_ipfix_value *out);

/**
 * Decode the first field carrying an element.
 * @param rec the record.
 * @param pen enterprise number (0 IANA, #FK_PEN_REVERSE reverse).
 * @param id element id.
 * @param out the value.
 * @return 0, `FK_ENOTFOUND` when the template lacks the element, or the
 *         errors of fk_ipfix_record_get_field().
 * @since 0.2.0 (was `fk_ipfix_record_get`, outputs first)
 */
FK_API int fk_ipfix_record_find_field(const fk_ipfix_record *rec, uint32_t pen, uint16_t id,
                                      fk_ipfix_value *out);

/**
 * Read a value's octets as an unsigned integer in network byte order,
 * whatever type the registry gives the element: for enterprise elements the
 * decoder does not know (type #FK_IE_UNKNOWN, `u` left 0) and for
 * reduced-size encodings. For a known unsigned type it equals `v->u`.
 *
 * @param v a value from fk_ipfix_record_get_field() or
 *          fk_ipfix_record_find_field().
 * @param out the integer.
 * @return 0, `FK_EINVAL` for NULL arguments, or `FK_ETYPE` when the value
 *         has 0 or more than 8 octets (@p out untouched).
 * Thread-safe (reads only @p v).
 * @since 0.2.0
 */
FK_API int fk_ipfix_value_get_uint(const fk_ipfix_value *v, uint64_t *out);

/**
 * Copy a value's octets as a NUL-terminated string: a string element (or
 * any octets), cut at the first NUL octet and at @p size - 1 bytes. The
 * octets are copied as they are (IPFIX strings are UTF-8; a cut may split a
 * multi-byte character).
 *
 * @param v a value from fk_ipfix_record_get_field() or
 *          fk_ipfix_record_find_field().
 * @param buf the string (always terminated when @p size > 0).
 * @param size size of @p buf, at least 1.
 * @return the string's length (0 for an empty value), or `FK_EINVAL` for NULL
 *         arguments or @p size 0.
 * Thread-safe (reads only @p v).
 * @since 0.2.0
 */
FK_API int fk_ipfix_value_get_str(const fk_ipfix_value *v, char *buf, size_t size);

/**
 * Decode one occurrence of an element that a template may carry more than
 * once (RFC 7011 section 8: an outer and an inner header, in the metering
 * process's order). fk_ipfix_record_to_flow() keeps the inner one as the
 * flow key and the outer one as the tunnel fields (docs/ipfix-decoding.md);
 * this reads any of them.
 * @param rec the record.
 * @param pen enterprise number (0 IANA, #FK_PEN_REVERSE reverse).
 * @param id element id.
 * @param nth which occurrence, 0 for the first (then the same as
 *        fk_ipfix_record_find_field()).
 * @param out the value.
 * @return 0, `FK_ENOTFOUND` when the template has fewer occurrences, or the
 *         errors of fk_ipfix_record_get_field().
 * @since 0.2.0
 */
FK_API int fk_ipfix_record_find_nth_field(const fk_ipfix_record *rec, uint32_t pen, uint16_t id,
                                          unsigned nth, fk_ipfix_value *out);

/**
 * Normalize a record into a flow: addresses (the family ipVersion names,
 * else the non-zero pair, chosen per record), ports, protocol,
 * bytes, packets, TCP flags, interfaces, sampling, flowEndReason, reverse
 * counters (RFC 5103) and absolute start/end from whichever time form the
 * template carries (seconds, milli/micro/nanoseconds, sysUpTime relative to
 * systemInitTimeMilliseconds or the decoder's boot time, delta microseconds
 * relative to the export time). `version` is the record's, `odid` its
 * domain with #FK_FLOW_HAS_EXPORTER (the exporter address is left for the
 * caller). A template that repeats the flow key gives the inner header as
 * the key and the outer one as ::fk_flow::outer_src, ::fk_flow::outer_dst
 * and ::fk_flow::tunnel; next hops as ::fk_flow::next_hop and
 * ::fk_flow::bgp_next_hop (docs/ipfix-decoding.md).
 *
 * @param rec the record.
 * @param out the flow (zeroed first).
 * @return 0, or `FK_EMALFORMED` for a field whose length does not suit its type.
 * @since 0.1.0; 0.2.0 puts the outputs last
 */
FK_API int fk_ipfix_record_to_flow(const fk_ipfix_record *rec, fk_flow *out);

/**
 * Render a record as one JSON object with every field keyed by its element
 * name ("octetDeltaCount"; unknown elements as "e<pen>id<id>" or
 * "_ipfix_<id>"): numbers as numbers, addresses and times as strings,
 * strings by the rule of fk_json_string_format() (escaped; octets that are
 * not UTF-8 become U+FFFD), octet arrays and lists as hex strings. The object also has
 * "template_id" and "domain".
 *
 * @param rec the record.
 * @param buf output buffer.
 * @param size size of @p buf.
 * @return length written (without NUL), or `FK_ENOSPACE`.
 * @since 0.1.0
 */
FK_API int fk_ipfix_record_to_json(const fk_ipfix_record *rec, char *buf, size_t size);

/* ------------------------------------------------------------------ encoder */

/** Parameters of ::fk_ipfix_encoder (fk_ipfix_encoder_set_int()). @since 0.1.0 */
typedef enum fk_ipfix_encoder_param {
    FK_IPFIX_ENC_MTU = 0,     /**< Largest message in octets (int, 64 .. 65535, default 1400). */
    FK_IPFIX_ENC_PAD_SETS = 1 /**< Pad every set to a multiple of 4 octets (bool, default 0). */
} fk_ipfix_encoder_param;

/** IPFIX encoder handle. @since 0.1.0 */
typedef struct fk_ipfix_encoder fk_ipfix_encoder;

/**
 * Create an encoder with default parameters.
 * @param out the encoder; the caller owns it (fk_ipfix_encoder_destroy()).
 * @param reg registry for element lookups (borrowed, must outlive the
 *            encoder), or NULL for the built-in elements.
 * @return 0, `FK_EINVAL`, `FK_ENOMEM`.
 * @since 0.1.0
 */
FK_API int fk_ipfix_encoder_create(fk_ipfix_encoder **out, const fk_ie_registry *reg);

/**
 * Free an encoder. NULL is a no-op.
 * @param e the encoder.
 * @since 0.1.0
 */
FK_API void fk_ipfix_encoder_destroy(fk_ipfix_encoder *e);

/**
 * Set an integer or boolean parameter (::fk_ipfix_encoder_param).
 * @param e the encoder.
 * @param param the parameter.
 * @param value the value.
 * @return 0, `FK_ENOTFOUND`, `FK_ERANGE`, `FK_EACTIVATED`.
 * @since 0.1.0
 */
FK_API int fk_ipfix_encoder_set_int(fk_ipfix_encoder *e, int param, int64_t value);

/**
 * Set a parameter from text by its name ("mtu" or "mtu"), parsed by
 * its type (integers in decimal or 0x hex, booleans as 1/0, true/false,
 * yes/no, on/off); for configuration files and command lines. The value
 * meets exactly the checks of the typed setter.
 *
 * @param e the handle.
 * @param name the parameter's name in fk_ipfix_encoder_params().
 * @param text the value as text.
 * @return 0, `FK_ENOTFOUND` (no such name), `FK_EINVAL` (text that does not
 *         parse, named in the message), or the typed setter's errors
 *         (`FK_ERANGE` with the bounds, `FK_EACTIVATED`).
 * @since 0.2.0
 */
FK_API int fk_ipfix_encoder_set_text(fk_ipfix_encoder *e, const char *name, const char *text);

/**
 * Read an integer parameter.
 * @param e the encoder.
 * @param param the parameter.
 * @param out the value.
 * @return 0 or `FK_ENOTFOUND`.
 * @since 0.1.0
 */
FK_API int fk_ipfix_encoder_get_int(const fk_ipfix_encoder *e, int param, int64_t *out);

/**
 * The static parameter table of the encoder.
 * @param count number of entries.
 * @return the table.
 * @since 0.1.0
 */
FK_API const fk_param_info *fk_ipfix_encoder_params(size_t *count);

/**
 * Fix the parameters. Called implicitly by the first fk_ipfix_encoder_begin().
 * @param e the encoder.
 * @return 0.
 * @since 0.1.0
 */
FK_API int fk_ipfix_encoder_activate(fk_ipfix_encoder *e);

/**
 * Define (or redefine) a template for later records. The fields are copied.
 * @param e the encoder.
 * @param template_id 256 .. 65535.
 * @param fields field specifiers.
 * @param count 1 .. 512.
 * @param scope_count 0 for a data template, else the options scope count.
 * @return 0, `FK_EMALFORMED` / `FK_EINVAL` for a bad template, `FK_ENOMEM`.
 * @since 0.1.0
 */
FK_API int fk_ipfix_encoder_add_template(fk_ipfix_encoder *e, uint16_t template_id,
                                         const fk_field_spec *fields, uint16_t count,
                                         uint16_t scope_count);

/**
 * Start a message in a caller buffer.
 * @param e the encoder.
 * @param domain observation domain id.
 * @param export_time export time, seconds since the epoch.
 * @param buf output buffer (borrowed until fk_ipfix_encoder_finish()).
 * @param size its size; the message is limited to min(@p size, MTU).
 * @return 0, `FK_ENOSPACE` when @p size < 16, `FK_EINVAL`.
 * @since 0.1.0; 0.2.0 puts the outputs last
 */
FK_API int fk_ipfix_encoder_begin(fk_ipfix_encoder *e, uint32_t domain, uint32_t export_time,
                                  uint8_t *buf, size_t size);

/**
 * Append a template record (in a template or options template set) for a
 * template defined with fk_ipfix_encoder_add_template().
 * @param e the encoder.
 * @param template_id the template.
 * Allowed while a record is open (e.g. to resend templates at the start of
 * the next message after `FK_ENOSPACE`).
 * @return 0, `FK_ENOTEMPLATE`, `FK_ENOSPACE` (nothing written: finish and
 *         start another message), `FK_ESTATE` outside begin/finish.
 * @since 0.1.0
 */
FK_API int fk_ipfix_encoder_write_template(fk_ipfix_encoder *e, uint16_t template_id);

/**
 * Append a template withdrawal (field count 0) for one template id, or
 * for all data (2) / options (3) templates of the domain.
 * @param e the encoder.
 * @param template_id id to withdraw.
 * @param options 1 to put it in an options template set.
 * @return 0, `FK_ENOSPACE`, `FK_ESTATE`, `FK_EINVAL`.
 * @since 0.1.0
 */
FK_API int fk_ipfix_encoder_write_withdrawal(fk_ipfix_encoder *e, uint16_t template_id,
                                             int options);

/**
 * Start a data record of a template; fields start as zero (variable-length
 * fields empty). Set fields with the fk_ipfix_encoder_set_*() calls, then
 * fk_ipfix_encoder_record_end().
 * @param e the encoder.
 * @param template_id the template.
 * @return 0, `FK_ENOTEMPLATE`, `FK_ESTATE` (no message, or a record already open).
 * @since 0.1.0
 */
FK_API int fk_ipfix_encoder_record_begin(fk_ipfix_encoder *e, uint16_t template_id);

/**
 * Set an unsigned, signed (two's complement), boolean, dateTimeSeconds or
 * dateTimeMilliseconds field of the open record by element, in reduced size
 * if the template says so.
 * @param e the encoder.
 * @param pen enterprise number.
 * @param id element id.
 * @param value the value.
 * @return 0; `FK_ENOTFOUND` when the template has no such field; `FK_ERANGE`
 *         when the value does not fit the field length; `FK_ETYPE` for a
 *         field whose type is not an integer; `FK_ESTATE` without an open record.
 * @since 0.2.0 (was `fk_ipfix_encoder_set_uint`)
 */
FK_API int fk_ipfix_encoder_put_uint(fk_ipfix_encoder *e, uint32_t pen, uint16_t id,
                                     uint64_t value);

/**
 * Set a float32/float64 field.
 * @param e the encoder.
 * @param pen enterprise number.
 * @param id element id.
 * @param value the value.
 * @return 0, `FK_ENOTFOUND`, `FK_ETYPE`, `FK_ESTATE`.
 * @since 0.2.0 (was `fk_ipfix_encoder_set_double`)
 */
FK_API int fk_ipfix_encoder_put_double(fk_ipfix_encoder *e, uint32_t pen, uint16_t id,
                                       double value);

/**
 * Set an address field (ipv4Address needs family 4, ipv6Address family 6).
 * @param e the encoder.
 * @param pen enterprise number.
 * @param id element id.
 * @param addr the address.
 * @return 0, `FK_ENOTFOUND`, `FK_ETYPE` (family mismatch), `FK_ESTATE`.
 * @since 0.2.0 (was `fk_ipfix_encoder_set_addr`)
 */
FK_API int fk_ipfix_encoder_put_addr(fk_ipfix_encoder *e, uint32_t pen, uint16_t id,
                                     const fk_addr *addr);

/**
 * Set a time field from nanoseconds since the epoch, encoded by the field's
 * type (dateTimeSeconds/Milliseconds/Microseconds/Nanoseconds).
 * @param e the encoder.
 * @param pen enterprise number.
 * @param id element id.
 * @param ns nanoseconds since the epoch (>= 0).
 * @return 0, `FK_ENOTFOUND`, `FK_ETYPE`, `FK_ERANGE`, `FK_ESTATE`.
 * @since 0.2.0 (was `fk_ipfix_encoder_set_time`)
 */
FK_API int fk_ipfix_encoder_put_time(fk_ipfix_encoder *e, uint32_t pen, uint16_t id, int64_t ns);

/**
 * Set an octetArray, string, macAddress or list field from raw octets. For a
 * fixed-length field @p len must equal the field length; a variable-length
 * field takes 0 .. 65535 octets (1-byte prefix below 255, else 3-byte).
 * @param e the encoder.
 * @param pen enterprise number.
 * @param id element id.
 * @param data the octets (copied).
 * @param len their number.
 * @return 0, `FK_ENOTFOUND`, `FK_ERANGE` (length), `FK_ESTATE`.
 * @since 0.2.0 (was `fk_ipfix_encoder_set_bytes`)
 */
FK_API int fk_ipfix_encoder_put_bytes(fk_ipfix_encoder *e, uint32_t pen, uint16_t id,
                                      const void *data, size_t len);

/**
 * Close the open record and append it to the message (opening a data set
 * when the previous set is of another template).
 * @param e the encoder.
 * @return 0; `FK_ENOSPACE` when it does not fit in the message (the record
 *         stays open: finish the message, begin another, then call
 *         fk_ipfix_encoder_record_end() again); `FK_ESTATE`.
 * @since 0.1.0
 */
FK_API int fk_ipfix_encoder_record_end(fk_ipfix_encoder *e);

/**
 * Append a flow as one record of a template, filling every field the
 * template has among: source/destination IPv4/IPv6 address, ports,
 * protocol, octet/packet delta counts (and their reverse elements), TCP
 * flags, interfaces, flowEndReason, samplingInterval, flowStart/End in any
 * dateTime unit. Other fields are zero.
 * @param e the encoder.
 * @param template_id the template.
 * @param flow the flow.
 * @return 0, `FK_ENOTEMPLATE`, `FK_ENOSPACE` (nothing appended), `FK_ESTATE`.
 * @since 0.1.0
 */
FK_API int fk_ipfix_encoder_add_flow(fk_ipfix_encoder *e, uint16_t template_id,
                                     const fk_flow *flow);

/**
 * Finish the message: set the length and the sequence number (data records
 * already sent in this domain), pad the last set if configured, and advance
 * the domain's record count.
 * @param e the encoder.
 * @param len the message length in octets.
 * A record left open by `FK_ENOSPACE` from fk_ipfix_encoder_record_end()
 * is not part of this message; it stays open for the next one.
 * @return 0, `FK_ESTATE` when no message is open.
 * @since 0.1.0
 */
FK_API int fk_ipfix_encoder_finish(fk_ipfix_encoder *e, size_t *len);

/**
 * Data records sent so far in a domain (the next message's sequence number).
 * @param e the encoder.
 * @param domain observation domain id.
 * @return the count, modulo 2^32.
 * @since 0.2.0 (was `fk_ipfix_encoder_sequence`)
 */
FK_API uint32_t fk_ipfix_encoder_get_sequence(const fk_ipfix_encoder *e, uint32_t domain);

/**
 * Upper bound of the size of one message holding @p records records of at
 * most @p record_len octets each in data sets plus @p template_octets octets
 * of template records, whatever the set packing and padding.
 * @param records number of data records.
 * @param record_len largest record length in octets.
 * @param template_octets total length of template records.
 * @return octets; SIZE_MAX on overflow.
 * @since 0.1.0
 */
FK_API size_t fk_ipfix_encode_bound(size_t records, size_t record_len, size_t template_octets);

FK_END_DECLS

#endif /* FLOWKIT_IPFIX_H */
