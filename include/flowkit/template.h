/**
 * @file template.h
 * @brief Information elements (the IANA IPFIX registry), field specifiers,
 *        templates and the template cache shared by the IPFIX and NetFlow v9
 *        decoders.
 *
 * The registry is the full IANA "IPFIX Information Elements" table, compiled
 * into the library from the registry XML at build time, plus the RFC 5103
 * reverse elements (enterprise number 29305, one per reversible IANA element).
 * Enterprise elements are added at runtime to an ::fk_ie_registry handle;
 * the built-in table itself is immutable and shared.
 *
 * A template is a list of ::fk_field_spec (enterprise number, element id,
 * length; length 65535 = variable length). The ::fk_template_cache keeps
 * templates keyed per RFC 7011 section 8 by (transport session, observation
 * domain, template id) and compiles each one into a decode plan when it is
 * added, so the record path does no per-field lookup. NetFlow v9 uses the
 * same cache with the session derived from the exporter address and the
 * source id as observation domain (v9 field type N is IPFIX element N for the
 * common elements; v9 scope fields carry #FK_FIELD_V9_SCOPE).
 *
 * @since 0.1.0
 */
#ifndef FLOWKIT_TEMPLATE_H
#define FLOWKIT_TEMPLATE_H

#include <flowkit/common.h>
#include <flowkit/params.h>

FK_BEGIN_DECLS

/** Abstract data types of RFC 7012 section 3.1; values equal the IANA data type registry. @since
 * 0.1.0 */
typedef enum fk_ie_type {
    FK_IE_OCTET_ARRAY = 0,             /**< octetArray. */
    FK_IE_UNSIGNED8 = 1,               /**< unsigned8. */
    FK_IE_UNSIGNED16 = 2,              /**< unsigned16. */
    FK_IE_UNSIGNED32 = 3,              /**< unsigned32. */
    FK_IE_UNSIGNED64 = 4,              /**< unsigned64. */
    FK_IE_SIGNED8 = 5,                 /**< signed8. */
    FK_IE_SIGNED16 = 6,                /**< signed16. */
    FK_IE_SIGNED32 = 7,                /**< signed32. */
    FK_IE_SIGNED64 = 8,                /**< signed64. */
    FK_IE_FLOAT32 = 9,                 /**< float32. */
    FK_IE_FLOAT64 = 10,                /**< float64. */
    FK_IE_BOOLEAN = 11,                /**< boolean (1 = true, 2 = false). */
    FK_IE_MAC_ADDRESS = 12,            /**< macAddress (6 octets). */
    FK_IE_STRING = 13,                 /**< string (UTF-8). */
    FK_IE_DATE_TIME_SECONDS = 14,      /**< dateTimeSeconds (32-bit seconds since the epoch). */
    FK_IE_DATE_TIME_MILLISECONDS = 15, /**< dateTimeMilliseconds (64-bit ms since the epoch). */
    FK_IE_DATE_TIME_MICROSECONDS = 16, /**< dateTimeMicroseconds (NTP timestamp format). */
    FK_IE_DATE_TIME_NANOSECONDS = 17,  /**< dateTimeNanoseconds (NTP timestamp format). */
    FK_IE_IPV4_ADDRESS = 18,           /**< ipv4Address. */
    FK_IE_IPV6_ADDRESS = 19,           /**< ipv6Address. */
    FK_IE_BASIC_LIST = 20,             /**< basicList (RFC 6313), read as opaque octets. */
    FK_IE_SUB_TEMPLATE_LIST = 21,      /**< subTemplateList (RFC 6313), read as opaque octets. */
    FK_IE_SUB_TEMPLATE_MULTI_LIST =
        22,             /**< subTemplateMultiList (RFC 6313), read as opaque octets. */
    FK_IE_UNKNOWN = 255 /**< Element not in any registry: treated as octetArray. */
} fk_ie_type;

/** Data type semantics of RFC 7012 section 3.2; values equal the IANA registry. @since 0.1.0 */
typedef enum fk_ie_semantics {
    FK_IE_SEM_DEFAULT = 0,       /**< default (or unspecified). */
    FK_IE_SEM_QUANTITY = 1,      /**< quantity. */
    FK_IE_SEM_TOTAL_COUNTER = 2, /**< totalCounter. */
    FK_IE_SEM_DELTA_COUNTER = 3, /**< deltaCounter. */
    FK_IE_SEM_IDENTIFIER = 4,    /**< identifier. */
    FK_IE_SEM_FLAGS = 5,         /**< flags. */
    FK_IE_SEM_LIST = 6,          /**< list. */
    FK_IE_SEM_SNMP_COUNTER = 7,  /**< snmpCounter. */
    FK_IE_SEM_SNMP_GAUGE = 8     /**< snmpGauge. */
} fk_ie_semantics;

/** Private enterprise number of the RFC 5103 reverse information elements. @since 0.1.0 */
#define FK_PEN_REVERSE 29305u

/** Field length meaning "variable length" in a template (RFC 7011 section 7). @since 0.1.0 */
#define FK_VARLEN 65535u

/**
 * One information element: its identity and how to interpret its value.
 * @since 0.1.0
 */
typedef struct fk_ie {
    uint32_t pen;      /**< Private enterprise number; 0 for IANA elements. */
    uint16_t id;       /**< Element id (without the enterprise bit). */
    uint8_t type;      /**< ::fk_ie_type. */
    uint8_t semantics; /**< ::fk_ie_semantics. */
    const char *name;  /**< Name, e.g. "octetDeltaCount" or "reverseOctetDeltaCount". */
    const char *units; /**< Units, e.g. "octets", or "" when none. */
} fk_ie;

/** Registry handle: the built-in IANA table plus runtime enterprise elements. @since 0.1.0 */
typedef struct fk_ie_registry fk_ie_registry;

/**
 * Create a registry holding the built-in IANA and reverse elements and no
 * enterprise elements yet.
 *
 * @param out the new registry; the caller owns it and frees it with
 *            fk_ie_registry_destroy().
 * @return 0, `FK_EINVAL` when @p out is NULL, `FK_ENOMEM`.
 * @since 0.1.0
 */
FK_API int fk_ie_registry_create(fk_ie_registry **out);

/**
 * Free a registry. NULL is a no-op. Elements returned by lookups on it
 * become invalid; templates compiled against it must be destroyed first.
 * @param reg the registry.
 * @since 0.1.0
 */
FK_API void fk_ie_registry_destroy(fk_ie_registry *reg);

/**
 * Register an enterprise element (copied, name included).
 *
 * @param reg the registry.
 * @param ie the element; `pen` must be non-zero and not #FK_PEN_REVERSE,
 *           `id` below 32768, `name` a non-empty string not used yet.
 * @return 0; `FK_EINVAL` for a bad element; `FK_EEXIST` when (pen, id) or
 *         the name is already registered; `FK_ENOMEM`.
 * Not thread-safe against concurrent lookups on the same registry.
 * @since 0.1.0
 */
FK_API int fk_ie_registry_add(fk_ie_registry *reg, const fk_ie *ie);

/**
 * Find an element by (enterprise number, id).
 *
 * @param reg a registry, or NULL for the built-in IANA and reverse elements only.
 * @param pen enterprise number: 0 for IANA, #FK_PEN_REVERSE for reverse elements.
 * @param id element id (the enterprise bit 0x8000 is ignored).
 * @param out the element, borrowed from the built-in table (static) or from
 *            @p reg (valid until it is destroyed).
 * @return 0, or `FK_ENOTFOUND` (@p out set to NULL).
 * Thread-safe for concurrent lookups.
 * @since 0.1.0; 0.2.0 puts the outputs last
 */
FK_API int fk_ie_lookup(const fk_ie_registry *reg, uint32_t pen, uint16_t id, const fk_ie **out);

/**
 * Find an element by name, e.g. "octetDeltaCount" or "reverseOctetDeltaCount".
 *
 * @param reg a registry, or NULL for the built-in elements only.
 * @param name the exact, case-sensitive name.
 * @param out the element (borrowed, as for fk_ie_lookup()).
 * @return 0, `FK_EINVAL` for NULL arguments, or `FK_ENOTFOUND`.
 * Thread-safe for concurrent lookups.
 * @since 0.1.0; 0.2.0 puts the outputs last
 */
FK_API int fk_ie_lookup_name(const fk_ie_registry *reg, const char *name, const fk_ie **out);

/**
 * Number of built-in elements (IANA and reverse) and access by index, for
 * listing the table.
 *
 * @param index 0 .. count-1, or (size_t)-1 to ask for the count.
 * @param out the element at @p index (static), or untouched when asking for the count.
 * @return the number of built-in elements when @p index is (size_t)-1;
 *         otherwise 0, or `FK_ERANGE` for an index past the end.
 * @since 0.2.0 (was `fk_ie_builtin`)
 */
FK_API int fk_ie_get_builtin(size_t index, const fk_ie **out);

/**
 * Name of an abstract data type, e.g. "unsigned64"; "unknown" otherwise.
 * @param type an ::fk_ie_type.
 * @return a static string.
 * @since 0.1.0
 */
FK_API const char *fk_ie_type_name(int type);

/**
 * Name of a data type semantics, e.g. "deltaCounter"; "unknown" otherwise.
 * @param semantics an ::fk_ie_semantics.
 * @return a static string.
 * @since 0.1.0
 */
FK_API const char *fk_ie_semantics_name(int semantics);

/** ::fk_field_spec::flags bit: a NetFlow v9 scope field; `id` is the v9 scope type (1 System .. 5
 * Template). @since 0.1.0 */
#define FK_FIELD_V9_SCOPE 0x1u

/**
 * One field of a template: a field specifier of RFC 7011 section 3.2.
 * @since 0.1.0
 */
typedef struct fk_field_spec {
    uint32_t pen;    /**< Enterprise number; 0 for IANA (and v9) elements. */
    uint16_t id;     /**< Element id without the enterprise bit. */
    uint16_t length; /**< Encoded length in octets; #FK_VARLEN for variable length. */
    uint32_t flags;  /**< #FK_FIELD_V9_SCOPE or 0. */
} fk_field_spec;

/** A compiled template, owned by a cache or an encoder. @since 0.1.0 */
typedef struct fk_template fk_template;

/**
 * Template id (256 .. 65535).
 * @param t the template.
 * @return the id.
 * @since 0.2.0 (was `fk_template_id`)
 */
FK_API uint16_t fk_template_get_id(const fk_template *t);

/**
 * Number of fields, scope fields included.
 * @param t the template.
 * @return the field count.
 * @since 0.2.0 (was `fk_template_field_count`)
 */
FK_API uint16_t fk_template_get_field_count(const fk_template *t);

/**
 * Number of scope fields: 0 for a data template, at least 1 for an options template.
 * @param t the template.
 * @return the scope field count.
 * @since 0.2.0 (was `fk_template_scope_count`)
 */
FK_API uint16_t fk_template_get_scope_count(const fk_template *t);

/**
 * Field specifier at an index.
 * @param t the template.
 * @param index 0 .. field count - 1.
 * @return the field (borrowed, lives as long as @p t), or NULL past the end.
 * @since 0.2.0 (was `fk_template_field`)
 */
FK_API const fk_field_spec *fk_template_get_field(const fk_template *t, uint16_t index);

/**
 * Registry element of the field at an index.
 * @param t the template.
 * @param index 0 .. field count - 1.
 * @return the element (borrowed), or NULL when it is unknown or @p index is past the end.
 * @since 0.2.0 (was `fk_template_field_ie`)
 */
FK_API const fk_ie *fk_template_get_field_ie(const fk_template *t, uint16_t index);

/**
 * Smallest encoded length of a record of this template (every variable-length
 * field empty with a 1-byte prefix).
 * @param t the template.
 * @return the length in octets; 0 only for a template with no fields.
 * @since 0.2.0 (was `fk_template_min_record_length`)
 */
FK_API size_t fk_template_get_min_record_length(const fk_template *t);

/**
 * Index of the first field carrying (pen, id), for typed access by element.
 * @param t the template.
 * @param pen enterprise number.
 * @param id element id.
 * @return the index (>= 0), or `FK_ENOTFOUND`.
 * @since 0.1.0
 */
FK_API int fk_template_find_field(const fk_template *t, uint32_t pen, uint16_t id);

/** Parameters of ::fk_template_cache (fk_template_cache_set_int()). @since 0.1.0 */
typedef enum fk_tcache_param {
    FK_TCACHE_MAX_TEMPLATES =
        0, /**< Templates kept over all sessions and domains (int, default 4096). */
    FK_TCACHE_MAX_PER_SESSION = 1, /**< Templates kept per transport session (int, default 1024). */
    FK_TCACHE_MAX_FIELDS = 2       /**< Fields accepted in one template (int, default 512). */
} fk_tcache_param;

/** Template cache handle. @since 0.1.0 */
typedef struct fk_template_cache fk_template_cache;

/**
 * Create a template cache with default parameters.
 *
 * @param out the new cache; the caller owns it (fk_template_cache_destroy()).
 * @param reg registry used to resolve elements, or NULL for the built-in
 *            elements only; borrowed, must outlive the cache.
 * @return 0, `FK_EINVAL`, `FK_ENOMEM`.
 * @since 0.1.0
 */
FK_API int fk_template_cache_create(fk_template_cache **out, const fk_ie_registry *reg);

/**
 * Free a cache and every template in it. NULL is a no-op.
 * @param c the cache.
 * @since 0.1.0
 */
FK_API void fk_template_cache_destroy(fk_template_cache *c);

/**
 * Set an integer parameter (::fk_tcache_param).
 * @param c the cache.
 * @param param the parameter.
 * @param value the value.
 * @return 0, `FK_ENOTFOUND`, `FK_ERANGE` (message names the bounds), `FK_EACTIVATED`.
 * @since 0.1.0
 */
FK_API int fk_template_cache_set_int(fk_template_cache *c, int param, int64_t value);

/**
 * Set a parameter from text by its name ("max_templates" or "max-templates"), parsed by
 * its type (integers in decimal or 0x hex, booleans as 1/0, true/false,
 * yes/no, on/off); for configuration files and command lines. The value
 * meets exactly the checks of the typed setter.
 *
 * @param c the handle.
 * @param name the parameter's name in fk_template_cache_params().
 * @param text the value as text.
 * @return 0, `FK_ENOTFOUND` (no such name), `FK_EINVAL` (text that does not
 *         parse, named in the message), or the typed setter's errors
 *         (`FK_ERANGE` with the bounds, `FK_EACTIVATED`).
 * @since 0.2.0
 */
FK_API int fk_template_cache_set_text(fk_template_cache *c, const char *name, const char *text);

/**
 * Read an integer parameter.
 * @param c the cache.
 * @param param the parameter.
 * @param out the value.
 * @return 0 or `FK_ENOTFOUND`.
 * @since 0.1.0
 */
FK_API int fk_template_cache_get_int(const fk_template_cache *c, int param, int64_t *out);

/**
 * The static parameter table of the template cache.
 * @param count number of entries.
 * @return the table (static).
 * @since 0.1.0
 */
FK_API const fk_param_info *fk_template_cache_params(size_t *count);

/**
 * Make the cache usable; parameters are fixed from now on. Adding templates
 * activates a cache implicitly.
 * @param c the cache.
 * @return 0.
 * @since 0.1.0
 */
FK_API int fk_template_cache_activate(fk_template_cache *c);

/**
 * Add or replace a template in the scope (session, domain, template id).
 *
 * The fields are copied and compiled into a decode plan. A template with the
 * same key and other fields is replaced (templates returned before become
 * invalid); the same fields again (an exporter's refresh) keep the stored
 * template and its plan, and @p out is that template.
 *
 * @param c the cache.
 * @param session transport session id chosen by the caller (e.g. one per
 *                exporter socket / TCP connection / v9 source address).
 * @param domain observation domain id (v9: source id).
 * @param template_id 256 .. 65535.
 * @param fields the field specifiers, @p count of them.
 * @param count 1 .. FK_TCACHE_MAX_FIELDS.
 * @param scope_count scope fields at the start of @p fields (0 for data
 *                    templates, 1 .. @p count for options templates).
 * @param out the stored template (borrowed, valid until it is replaced,
 *            withdrawn or the cache destroyed); may be NULL.
 * @return 0; `FK_EMALFORMED` for a template id below 256, a field of length 0
 *         a scope count out of range or a template whose minimum record length
 *         exceeds 65535 - 20 (the largest record an IPFIX message can carry); `FK_ERANGE` when a
 * cap is hit; `FK_ENOMEM`.
 * @since 0.1.0; 0.2.0 puts the outputs last
 */
FK_API int fk_template_cache_add(fk_template_cache *c, uint64_t session, uint32_t domain,
                                 uint16_t template_id, const fk_field_spec *fields, uint16_t count,
                                 uint16_t scope_count, const fk_template **out);

/**
 * Find a template.
 * @param c the cache.
 * @param session transport session id.
 * @param domain observation domain id.
 * @param template_id template id.
 * @param out the template (borrowed, as for fk_template_cache_add()).
 * @return 0 or `FK_ENOTEMPLATE` (@p out set to NULL).
 * @since 0.1.0; 0.2.0 puts the outputs last
 */
FK_API int fk_template_cache_find(const fk_template_cache *c, uint64_t session, uint32_t domain,
                                  uint16_t template_id, const fk_template **out);

/**
 * Withdraw templates (RFC 7011 section 8.1).
 * @param c the cache.
 * @param session transport session id.
 * @param domain observation domain id.
 * @param template_id one template id (>= 256), or 2 to withdraw every data
 *                    template of the domain, or 3 every options template.
 * @return the number of templates removed (>= 0), or `FK_EINVAL` for other ids below 256.
 * @since 0.1.0
 */
FK_API int fk_template_cache_withdraw(fk_template_cache *c, uint64_t session, uint32_t domain,
                                      uint16_t template_id);

/**
 * Remove every template of a transport session (session closed or timed out).
 * @param c the cache.
 * @param session transport session id.
 * @return the number of templates removed.
 * @since 0.1.0
 */
FK_API int fk_template_cache_drop_session(fk_template_cache *c, uint64_t session);

/**
 * Number of templates currently held.
 * @param c the cache.
 * @return the count.
 * @since 0.2.0 (was `fk_template_cache_count`)
 */
FK_API size_t fk_template_cache_get_count(const fk_template_cache *c);

FK_END_DECLS

#endif /* FLOWKIT_TEMPLATE_H */
