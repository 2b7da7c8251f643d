/**
 * @file exporter.h
 * @brief The IPFIX exporting process (`fk_exporter`): flows, session events
 *        and caller-defined records to UDP and TCP collectors.
 *
 * Lifecycle: fk_exporter_create() → fk_exporter_set_int() /
 * fk_exporter_set_str() / fk_exporter_add_destination() →
 * fk_exporter_activate() → fk_exporter_add_flow() / fk_exporter_add_record()
 * plus fk_exporter_dispatch() (or fk_exporter_poll()) → fk_exporter_drain() →
 * fk_exporter_destroy().
 *
 * Records are packed into IPFIX messages (RFC 7011) of at most
 * `FK_EXP_MTU` bytes and at most `FK_EXP_CHUNK_SIZE` data records. A message
 * leaves when it is full or when its oldest record has waited
 * `FK_EXP_FLUSH_INTERVAL_MS`; the timer is serviced by
 * fk_exporter_dispatch(), which never blocks. Every destination is its own
 * transport session with its own sequence number (data records sent in this
 * observation domain, modulo 2^32). Templates go out before the first data
 * record that needs them, again on UDP every `FK_EXP_TEMPLATE_REFRESH_SEC`
 * seconds or `FK_EXP_TEMPLATE_REFRESH_MSGS` messages, and again after every
 * TCP (re)connect. While a TCP collector is away, whole messages wait in a
 * buffer of `FK_EXP_BUFFER_BYTES`; what does not fit is dropped and counted
 * in ::fk_exporter_stats, never silently.
 *
 * Element numbers, types and the enterprise elements for process fields
 * are listed in docs/exporter-elements.md.
 *
 * Thread-safety: a handle is used by one thread at a time.
 * @since 0.1.0
 */
#ifndef FLOWKIT_EXPORTER_H
#define FLOWKIT_EXPORTER_H

#include <flowkit/common.h>
#include <flowkit/flow.h>
#include <flowkit/flowlog.h>
#include <flowkit/params.h>
#include <flowkit/session.h>
#include <flowkit/template.h>

FK_BEGIN_DECLS

/** An IPFIX exporting process (opaque). @since 0.1.0 */
typedef struct fk_exporter fk_exporter;

/**
 * Exporter parameters (ids are stable; groups are numbered by hundreds).
 * Bounds and defaults are in the table returned by fk_exporter_params().
 * @since 0.1.0
 */
typedef enum fk_exporter_param {
    /** Observation domain id in every message header (int, default 1). */
    FK_EXP_ODID = 100,
    /** Largest IPFIX message in bytes, UDP payload (int, [1024, 65535], default 1400). */
    FK_EXP_MTU = 101,
    /** Most data records per message; 0 = as many as fit in the MTU (int, default 0). */
    FK_EXP_CHUNK_SIZE = 102,
    /** Longest time a record waits before its message is sent, ms (int, default 1000). */
    FK_EXP_FLUSH_INTERVAL_MS = 103,
    /** Private enterprise number of the process elements (int, default 32473). */
    FK_EXP_PEN = 104,
    /** "biflow": export both directions of a biflow in one record with RFC
     *  5103 reverse elements (1), or as two records, one per direction (0,
     *  the default since 0.2.0: collectors that ignore reverse elements,
     *  such as pmacct's nfacctd, then still count every byte). The peers
     *  tested each way are listed in docs/exporter-elements.md (bool). */
    FK_EXP_BIFLOW = 105,
    /** UDP: resend templates after this many seconds; 0 = never (int, default 60). */
    FK_EXP_TEMPLATE_REFRESH_SEC = 200,
    /** UDP: resend templates after this many messages; 0 = never (int, default 100). */
    FK_EXP_TEMPLATE_REFRESH_MSGS = 201,
    /** TCP: first reconnect delay, ms; doubles per failure (int, default 500). */
    FK_EXP_RECONNECT_MIN_MS = 202,
    /** TCP: longest reconnect delay, ms (int, default 30000). */
    FK_EXP_RECONNECT_MAX_MS = 203,
    /** TCP: bytes of messages kept per destination while it is away or slow
     *  (int, default 4194304); beyond it messages are dropped and counted. */
    FK_EXP_BUFFER_BYTES = 204
} fk_exporter_param;

/** Default of `FK_EXP_PEN`: 32473, the documentation PEN of RFC 5612, a
 *  placeholder until flowkit has a registered number. @since 0.1.0 */
#define FK_EXPORTER_DEFAULT_PEN 32473u

/** Enterprise element (under `FK_EXP_PEN`): process id, unsigned32. @since 0.1.0 */
#define FK_EXPORTER_IE_PROCESS_ID 1
/** Enterprise element: process name, string. @since 0.1.0 */
#define FK_EXPORTER_IE_PROCESS_NAME 2
/** IANA element userName (371), string: the user owning the process. IANA has
 *  it, so it is sent as the standard element, not under the PEN (enterprise id 3
 *  stays unused). @since 0.1.0 */
#define FK_EXPORTER_IE_USER_NAME 371
/** Enterprise element: executable path of the process, string. @since 0.1.0 */
#define FK_EXPORTER_IE_PROCESS_EXE 4
/** Enterprise element: numeric user id, unsigned32. @since 0.1.0 */
#define FK_EXPORTER_IE_USER_ID 5
/** Enterprise element: session event kind, unsigned8, the ::fk_session_kind value
 *  (1 SYN, 2 FIN, 3 RST). @since 0.1.0 */
#define FK_EXPORTER_IE_EVENT_KIND 10

/** Template ids 256 to 1023 are the exporter's own; caller templates use
 *  1024 to 65535. @since 0.1.0 */
#define FK_EXPORTER_USER_TEMPLATE_MIN 1024

/**
 * Process details exported with a flow or event. Strings are borrowed for
 * the duration of the call; NULL or "" means unknown (exported as an empty
 * string). Strings longer than 254 bytes are truncated to 254 bytes.
 * @since 0.1.0
 */
typedef struct fk_exporter_process {
    uint32_t pid;     /**< Process id (0 = unknown). */
    uint32_t uid;     /**< User id. */
    const char *name; /**< Process name. */
    const char *user; /**< User name. */
    const char *exe;  /**< Executable path. */
} fk_exporter_process;

/**
 * Counters of an exporter or of one destination.
 * @since 0.1.0
 */
typedef struct fk_exporter_stats {
    uint64_t records_in;        /**< Data records accepted by the add functions. */
    uint64_t records_sent;      /**< Data records delivered: over TCP acknowledged by the
                                     collector's TCP (since 0.2.0; before: written to the
                                     socket), over UDP handed to the kernel. */
    uint64_t records_dropped;   /**< Data records lost: buffer full, send error, closed. */
    uint64_t messages_sent;     /**< Messages (data and template) handed to the kernel. */
    uint64_t messages_dropped;  /**< Messages lost (their records are in records_dropped). */
    uint64_t template_messages; /**< Messages carrying only templates. */
    uint64_t bytes_sent;        /**< Bytes handed to the kernel. */
    uint64_t buffered_bytes;    /**< Bytes waiting now (TCP). */
    uint64_t connects;          /**< Successful TCP connects. */
    uint64_t connect_failures;  /**< Failed TCP connects and broken connections. */
    uint64_t send_errors;       /**< Failed sends (e.g. ECONNREFUSED on UDP). */
    /** Data records not delivered yet: queued, or written to a TCP connection
     * and not yet acknowledged. records_in = records_sent + records_dropped +
     * records_buffered for each destination. @since 0.2.0 */
    uint64_t records_buffered;
    /** Data records written again on a new TCP connection because the one
     * before broke before the collector's TCP acknowledged them (they were
     * never received; sequence numbers unchanged). @since 0.2.0 */
    uint64_t records_resent;
    uint64_t messages_resent; /**< Messages written again (see records_resent). @since 0.2.0 */
} fk_exporter_stats;

/**
 * Register flowkit's enterprise elements (processId, processName,
 * processExecutable, userId, sessionEventKind) under @p pen in a registry,
 * so that a decoder or collector using it shows them by name and type.
 *
 * @param reg the registry (see template.h).
 * @param pen the exporter's enterprise number, e.g. #FK_EXPORTER_DEFAULT_PEN.
 * @return 0, or the errors of fk_ie_registry_add() (`FK_EEXIST` when
 *         already registered, `FK_EINVAL` for pen 0 or 29305).
 * @since 0.1.0
 */
FK_API int fk_exporter_register_elements(fk_ie_registry *reg, uint32_t pen);

/**
 * Create an exporter with default parameters and no destination.
 *
 * @param out receives the handle; the caller frees it with fk_exporter_destroy().
 * @return 0, or `FK_EINVAL` (NULL @p out), `FK_ENOMEM`.
 * @since 0.1.0
 */
FK_API int fk_exporter_create(fk_exporter **out);

/**
 * Free an exporter, its sockets and buffers. Records not yet sent are lost;
 * call fk_exporter_drain() first to send them. NULL does nothing.
 *
 * @param h the handle.
 * @since 0.1.0
 */
FK_API void fk_exporter_destroy(fk_exporter *h);

/**
 * The parameter table of the exporter.
 *
 * @param count receives the number of entries (may be NULL).
 * @return a static table, valid for the life of the program.
 * Thread-safe.
 * @since 0.1.0
 */
FK_API const fk_param_info *fk_exporter_params(size_t *count);

/**
 * Set an integer or boolean parameter.
 *
 * @param h the handle.
 * @param param an ::fk_exporter_param.
 * @param value the value, within the table's bounds.
 * @return 0, or `FK_ENOTFOUND`, `FK_ETYPE`, `FK_ERANGE` (message names the
 *         bounds), `FK_EACTIVATED`.
 * @since 0.1.0
 */
FK_API int fk_exporter_set_int(fk_exporter *h, int param, int64_t value);

/**
 * Set a string parameter (the convention's typed setter; the exporter has
 * no string parameters today, so every current id gives `FK_ETYPE`).
 *
 * @param h the handle.
 * @param param an ::fk_exporter_param.
 * @param value the value (copied).
 * @return 0, or `FK_ENOTFOUND`, `FK_ETYPE`, `FK_EACTIVATED`.
 * @since 0.1.0
 */
FK_API int fk_exporter_set_str(fk_exporter *h, int param, const char *value);

/**
 * Set a parameter from text by name, e.g. ("mtu", "1400"); '-' matches '_'.
 * Used by configuration files and command lines.
 *
 * @param h the handle.
 * @param name the parameter name from the table.
 * @param text the value as text.
 * @return 0, or `FK_ENOTFOUND`, `FK_EINVAL` (not a number), `FK_ERANGE`,
 *         `FK_EACTIVATED`.
 * @since 0.1.0
 */
FK_API int fk_exporter_set_text(fk_exporter *h, const char *name, const char *text);

/**
 * Read an integer or boolean parameter.
 *
 * @param h the handle.
 * @param param an ::fk_exporter_param.
 * @param out receives the value.
 * @return 0, or `FK_ENOTFOUND`, `FK_ETYPE`.
 * @since 0.1.0
 */
FK_API int fk_exporter_get_int(const fk_exporter *h, int param, int64_t *out);

/**
 * Add a collector. Accepted forms: `udp://HOST:PORT`, `tcp://HOST:PORT`,
 * where HOST is a name, an IPv4 address or a bracketed IPv6 address
 * (`udp://[::1]:4739`). Names are resolved at activate.
 *
 * @param h the handle, not yet activated.
 * @param uri the destination (copied).
 * @return 0, or `FK_EINVAL` (malformed URI, message says why),
 *         `FK_EACTIVATED`, `FK_ENOMEM`.
 * @since 0.1.0
 */
FK_API int fk_exporter_add_destination(fk_exporter *h, const char *uri);

/**
 * Number of destinations added.
 *
 * @param h the handle.
 * @return the count (0 for NULL).
 * @since 0.2.0 (was `fk_exporter_destination_count`)
 */
FK_API size_t fk_exporter_get_destination_count(const fk_exporter *h);

/**
 * Resolve destinations, open UDP sockets and start TCP connects (non-blocking).
 * A TCP collector that is not up yet is not an error: the exporter buffers
 * and reconnects with backoff. On failure the handle stays configurable.
 *
 * @param h the handle.
 * @return 0, or `FK_ESTATE` (no destination), `FK_ERANGE` (reconnect min >
 *         max), `FK_ENOTFOUND` (host does not resolve), `FK_EIO`,
 *         `FK_EACTIVATED`.
 * @since 0.1.0
 */
FK_API int fk_exporter_activate(fk_exporter *h);

/**
 * Queue one flow for export. The template depends on the address family,
 * on `FK_FLOW_HAS_PROCESS` (pid and process name as enterprise elements)
 * and on `FK_FLOW_HAS_REVERSE`: by default (`FK_EXP_BIFLOW` 0) a flow with
 * reverse packets goes out as two records, the reverse direction with
 * addresses, ports and interfaces swapped; with `FK_EXP_BIFLOW` 1 as one
 * record with RFC 5103 reverse counters.
 *
 * @param h the activated handle.
 * @param flow the flow (read during the call only).
 * @return 0, or `FK_EINVAL` (no address family), `FK_ENOTACTIVATED`,
 *         `FK_ENOMEM`.
 * @since 0.1.0
 */
FK_API int fk_exporter_add_flow(fk_exporter *h, const fk_flow *flow);

/**
 * Queue one flow with full process details (user, uid and executable in
 * addition to pid and name); @p proc overrides the flow's pid and process.
 *
 * @param h the activated handle.
 * @param flow the flow.
 * @param proc the process, or NULL to behave as fk_exporter_add_flow().
 * @return as fk_exporter_add_flow().
 * @since 0.1.0
 */
FK_API int fk_exporter_add_flow_process(fk_exporter *h, const fk_flow *flow,
                                        const fk_exporter_process *proc);

/**
 * Queue one session event. The template depends on the address family and
 * on `FK_SESSION_HAS_PROCESS` (pid and process name as enterprise
 * elements). tcpControlBits carries the bit of the kind (SYN 0x02, FIN
 * 0x01, RST 0x04) so collectors without the PEN still see what happened.
 *
 * @param h the activated handle.
 * @param ev the event (read during the call only).
 * @return 0, or `FK_EINVAL` (no address family, unknown kind),
 *         `FK_ENOTACTIVATED`, `FK_ENOMEM`.
 * @since 0.1.0
 */
FK_API int fk_exporter_add_event(fk_exporter *h, const fk_session_event *ev);

/**
 * Queue one session event with full process details; @p proc overrides
 * the event's pid and process.
 *
 * @param h the activated handle.
 * @param ev the event.
 * @param proc the owning process, or NULL to behave as fk_exporter_add_event().
 * @return as fk_exporter_add_event().
 * @since 0.1.0
 */
FK_API int fk_exporter_add_event_process(fk_exporter *h, const fk_session_event *ev,
                                         const fk_exporter_process *proc);

/**
 * Define a caller template. It is announced to every destination before
 * the first record that uses it, and refreshed like the built-in ones.
 *
 * @param h the handle (before or after activate).
 * @param template_id from #FK_EXPORTER_USER_TEMPLATE_MIN to 65535, not yet defined.
 * @param fields the fields in record order (copied); `flags` must be 0.
 * @param count number of fields, 1 to 512.
 * @return 0, or `FK_ERANGE` (id or count), `FK_EEXIST`, `FK_EINVAL`
 *         (zero-length field, id above 32767, flags set), `FK_ENOMEM`.
 * @since 0.1.0
 */
FK_API int fk_exporter_add_template(fk_exporter *h, uint16_t template_id,
                                    const fk_field_spec *fields, size_t count);

/**
 * Queue one data record encoded by the caller for a template from
 * fk_exporter_add_template() (fields in order, network byte order,
 * variable-length fields with their RFC 7011 length prefix).
 *
 * @param h the activated handle.
 * @param template_id the template.
 * @param record the record bytes (copied).
 * @param len its length; fixed-length templates must match exactly.
 * @return 0, or `FK_ENOTEMPLATE`, `FK_EMALFORMED` (length does not fit the
 *         template), `FK_ERANGE` (larger than a message can carry),
 *         `FK_ENOTACTIVATED`.
 * @since 0.1.0
 */
FK_API int fk_exporter_add_record(fk_exporter *h, uint16_t template_id, const void *record,
                                  size_t len);

/**
 * Send the message being built now, whatever its size.
 *
 * @param h the activated handle.
 * @return 0, or `FK_ENOTACTIVATED`.
 * @since 0.1.0
 */
FK_API int fk_exporter_flush(fk_exporter *h);

/**
 * A file descriptor that becomes readable when fk_exporter_dispatch() has
 * socket work to do (an epoll set of the exporter's sockets). Together with
 * fk_exporter_next_timeout_ms() it lets any event loop drive the exporter.
 *
 * @param h the activated handle.
 * @return the descriptor (owned by the handle, valid until destroy), or
 *         `FK_ENOTACTIVATED`.
 * @since 0.2.0 (replaces `fk_exporter_fd(h, &fd)`)
 */
FK_API int fk_exporter_get_fd(const fk_exporter *h);

/**
 * Milliseconds until fk_exporter_dispatch() has timed work (flush,
 * reconnect, template refresh).
 *
 * @param h the activated handle.
 * @return 0 or more (0 = call dispatch now), -1 if nothing is scheduled, or
 *         `FK_ENOTACTIVATED` (below -1) for a NULL or inactive handle.
 * @since 0.1.0; 0.2.0 returns `FK_ENOTACTIVATED` instead of -1 when inactive
 */
FK_API int fk_exporter_next_timeout_ms(const fk_exporter *h);

/**
 * Do whatever is due without blocking: send buffered TCP data, complete or
 * retry connects, flush a message whose records waited long enough.
 *
 * @param h the activated handle.
 * @return 0, or `FK_ENOTACTIVATED`. Transport failures are not errors here:
 *         they are counted in the stats and retried.
 * @since 0.1.0
 */
FK_API int fk_exporter_dispatch(fk_exporter *h);

/**
 * Wait up to @p timeout_ms (capped by fk_exporter_next_timeout_ms()) for
 * socket activity, then fk_exporter_dispatch().
 *
 * @param h the activated handle.
 * @param timeout_ms the longest wait; 0 = do not wait, -1 = until something is due.
 * @return as fk_exporter_dispatch().
 * @since 0.1.0
 */
FK_API int fk_exporter_poll(fk_exporter *h, int timeout_ms);

/**
 * Flush, then keep dispatching until every TCP buffer is empty or
 * @p timeout_ms passed. Call before fk_exporter_destroy().
 *
 * @param h the activated handle.
 * @param timeout_ms the longest wait in ms.
 * @return 0 when everything was sent, `FK_EAGAIN` when data was still
 *         buffered at the deadline, `FK_ENOTACTIVATED`.
 * @since 0.1.0
 */
FK_API int fk_exporter_drain(fk_exporter *h, int timeout_ms);

/**
 * Counters summed over every destination (records_in counted once).
 *
 * @param h the handle.
 * @param out receives the counters.
 * @param size `sizeof *out` as the caller was built: the library writes at
 *        most @p size bytes and zeros fields it does not know (see
 *        @ref conventions, "Struct versions").
 * @return 0, or `FK_EINVAL` (NULL argument, @p size below 8).
 * @since 0.2.0 (was `fk_exporter_stats_get`, without @p size)
 */
FK_API int fk_exporter_get_stats(const fk_exporter *h, fk_exporter_stats *out, size_t size);

/**
 * Counters of one destination, in the order they were added.
 *
 * @param h the handle.
 * @param index 0 to fk_exporter_get_destination_count() - 1.
 * @param out receives the counters.
 * @param size `sizeof *out` as the caller was built: the library writes at
 *        most @p size bytes and zeros fields it does not know (see
 *        @ref conventions, "Struct versions").
 * @return 0, or `FK_ERANGE` (no such destination), `FK_EINVAL` (NULL argument,
 *         @p size below 8).
 * @since 0.2.0 (was `fk_exporter_destination_stats`, without @p size)
 */
FK_API int fk_exporter_get_destination_stats(const fk_exporter *h, size_t index,
                                             fk_exporter_stats *out, size_t size);

/** Enterprise element (under `FK_EXP_PEN`): tunnelType, unsigned8, the
 *  ::fk_tunnel_kind of a tunnelled flow (3 VXLAN, 4 GENEVE, ...). @since 0.2.0 */
#define FK_EXPORTER_IE_TUNNEL_TYPE 20
/** Enterprise element: tunnelSourceIPv4Address, ipv4Address, the outer
 *  (tunnel) source of a tunnelled flow. @since 0.2.0 */
#define FK_EXPORTER_IE_TUNNEL_SRC_V4 21
/** Enterprise element: tunnelDestinationIPv4Address, ipv4Address. @since 0.2.0 */
#define FK_EXPORTER_IE_TUNNEL_DST_V4 22
/** Enterprise element: tunnelSourceIPv6Address, ipv6Address. @since 0.2.0 */
#define FK_EXPORTER_IE_TUNNEL_SRC_V6 23
/** Enterprise element: tunnelDestinationIPv6Address, ipv6Address. @since 0.2.0 */
#define FK_EXPORTER_IE_TUNNEL_DST_V6 24
/** Enterprise element: virtualNetworkId, unsigned32, the VXLAN/GENEVE VNI
 *  (24 bits); 4294967295 for a tunnel without one. @since 0.2.0 */
#define FK_EXPORTER_IE_VNI 25
/** Enterprise element: metadataTags, string (variable length), the
 *  exporter's tags (fk_exporter_add_tag()) as `KEY=VALUE,KEY=VALUE`, in
 *  the order added; in every flow and event record while the exporter has
 *  tags. @since 0.2.0 */
#define FK_EXPORTER_IE_TAGS 30
/** Longest metadataTags value in bytes (the tags of one exporter, with
 *  their `=` and `,`): fk_exporter_add_tag() refuses a tag that would make
 *  it longer, so that a record with tags still fits a 1400-byte message.
 *  @since 0.2.0 */
#define FK_EXPORTER_TAGS_MAX 1024

/**
 * Add a metadata tag (`account-id`, `vpc-id`, ...) to every flow and event
 * record from now on, as the metadataTags element (#FK_EXPORTER_IE_TAGS);
 * a key added again takes the new value, in its place. Allowed before and
 * after activate (records already queued keep the tags they had), from the
 * thread that uses the handle.
 *
 * @param h the handle.
 * @param key tag name (::fk_tag rules); copied.
 * @param value tag value (::fk_tag rules); copied.
 * @return 0; `FK_EINVAL` (NULL argument, a key or value ::fk_tag refuses),
 *         `FK_ERANGE` (more than #FK_TAG_MAX tags, or more than
 *         #FK_EXPORTER_TAGS_MAX bytes of `KEY=VALUE,...` in all), `FK_ENOMEM`.
 * @since 0.2.0
 */
FK_API int fk_exporter_add_tag(fk_exporter *h, const char *key, const char *value);

/**
 * Remove every tag added with fk_exporter_add_tag(): later records carry
 * none. Allowed before and after activate.
 *
 * @param h the handle; NULL does nothing.
 * @since 0.2.0
 */
FK_API void fk_exporter_clear_tags(fk_exporter *h);

FK_END_DECLS

#endif /* FLOWKIT_EXPORTER_H */
