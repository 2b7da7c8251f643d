/**
 * @file collector.h
 * @brief The template collector: receive NetFlow v1/v5/v7/v9 and IPFIX from
 *        many exporters over UDP and TCP and deliver normalized ::fk_flow
 *        records to a callback and to output sinks.
 *
 * Lifecycle: fk_collector_create() → parameters (fk_collector_set_int(),
 * ...), listeners (fk_collector_add_listener()), outputs
 * (fk_collector_add_output()), allowlist (fk_collector_add_allow()) →
 * fk_collector_activate() → fk_collector_run(), or fk_collector_get_fd() +
 * fk_collector_next_timeout_ms() + fk_collector_dispatch() from your own
 * event loop → fk_collector_destroy().
 *
 * State is kept per exporter transport session (exporter address, port and
 * transport) and, inside it, per observation domain (IPFIX) or source id
 * (NetFlow v9): templates (UDP: expire after `template_timeout`; TCP:
 * withdrawn by the exporter or dropped when the connection closes), options
 * data (sampling interval, interface names) and sequence numbers.
 *
 * **Data before template.** A data set whose template is not known yet is
 * not thrown away: it is kept (bounded per session by `pending_bytes` and
 * `pending_age`) and decoded as soon as the template arrives. The counters
 * in ::fk_collector_stats say how many sets waited, how many were decoded
 * later and how many expired.
 *
 * Every record that can be lost has a counter (kernel socket drops read
 * through `SO_RXQ_OVFL`, malformed messages, sets without template,
 * allowlist rejections, sequence gaps, per-exporter caps).
 *
 * Threads: a handle is used by one thread at a time; callbacks run on the
 * thread that calls fk_collector_dispatch() or fk_collector_run().
 * fk_collector_break() and fk_collector_reopen() are safe from any thread and
 * from a signal handler.
 *
 * @since 0.1.0
 */
#ifndef FLOWKIT_COLLECTOR_H
#define FLOWKIT_COLLECTOR_H

#include <flowkit/common.h>
#include <flowkit/flow.h>
#include <flowkit/flowlog.h>
#include <flowkit/params.h>
#include <flowkit/senders.h>
#include <flowkit/prefixstats.h>

FK_BEGIN_DECLS

/** An opaque collector handle. @since 0.1.0 */
typedef struct fk_collector fk_collector;

/**
 * Parameters of a collector, numbered by group (new ones are added at the
 * end of a group, never renumbered). fk_collector_params() describes each
 * one: name, type, bounds, default and help.
 * @since 0.1.0
 */
typedef enum fk_collector_param {
    /** int, "workers": receive threads for UDP listeners, each with its own
     *  `SO_REUSEPORT` socket; 0 receives in the dispatching thread. */
    FK_COL_WORKERS = 100,
    /** int, "socket_buffer": receive buffer per socket in bytes (`SO_RCVBUFFORCE`
     *  when permitted, else `SO_RCVBUF`); 0 keeps the kernel default. */
    FK_COL_SOCKET_BUFFER = 101,
    /** int, "recv_batch": datagrams read per `recvmmsg` call. */
    FK_COL_RECV_BATCH = 102,
    /** int, "max_tcp_connections": concurrent TCP exporters; more are refused. */
    FK_COL_MAX_TCP = 103,
    /** int, "queue_size": datagrams buffered between worker threads and the
     *  dispatching thread; when full, datagrams are dropped and counted. */
    FK_COL_QUEUE_SIZE = 104,
    /** int, "recv_interval": milliseconds [0, 1000], default 20. A UDP
     *  socket read dry is left alone for this long (without workers: out of
     *  the set behind fk_collector_get_fd(), fk_collector_next_timeout_ms()
     *  says when it is back), so each wake-up reads what arrived meanwhile
     *  with a few `recvmmsg` calls instead of waking per datagram. Records
     *  wait at most this long more; the socket buffer (`socket_buffer`) must
     *  hold what arrives in the interval (drops are counted in
     *  `socket_drops`). 0 = read as soon as a datagram arrives. A socket
     *  still holding datagrams after a dispatch is never parked. @since 0.2.0 */
    FK_COL_RECV_INTERVAL = 105,
    /** bool, "share_port": with workers, join the `SO_REUSEPORT` group of a
     *  UDP port that another process already holds (the kernel then splits
     *  the datagrams between the processes). Default 0: such a port is
     *  refused at activate, so a second collector cannot start silently and
     *  take part of the first one's traffic. @since 0.2.0 */
    FK_COL_SHARE_PORT = 106,
    /** int, "template_timeout": seconds a UDP template lives without refresh;
     *  0 = never expires. */
    FK_COL_TEMPLATE_TIMEOUT = 200,
    /** int, "pending_bytes": bytes of data sets without template kept per
     *  exporter session; 0 disables data-before-template buffering. */
    FK_COL_PENDING_BYTES = 201,
    /** int, "pending_age": seconds a data set waits for its template. */
    FK_COL_PENDING_AGE = 202,
    /** int, "max_templates": templates kept per exporter session. */
    FK_COL_MAX_TEMPLATES = 203,
    /** int, "max_exporters": exporter sessions kept at once. */
    FK_COL_MAX_EXPORTERS = 204,
    /** bool, "scale_sampling": multiply bytes and packets by the sampling
     *  interval (runtime-settable). */
    FK_COL_SCALE_SAMPLING = 205,
    /** int, "session_timeout": seconds without traffic after which a UDP
     *  exporter session and its templates are forgotten; 0 = never. */
    FK_COL_SESSION_TIMEOUT = 206,
    /** int, "pending_total": bytes of data sets without template kept over
     *  all exporter sessions together, so that many exporters cannot
     *  exhaust memory. */
    FK_COL_PENDING_TOTAL = 207,
    /** int, "export_time_tolerance": seconds a message's export time may
     *  differ from the receive clock, and a record's end time may lie after
     *  its message's export time, before the message or record is counted
     *  (`export_time_skewed`, `records_after_export`); 0 = no checks.
     *  Default 10. */
    FK_COL_EXPORT_TOLERANCE = 208,
    /** int, "max_interfaces": interface names (from options data) kept per
     *  observation domain; more are refused and counted in
     *  `interface_limit`. */
    FK_COL_MAX_INTERFACES = 209,
    /** int, "pen": private enterprise number under which flowkit-export
     *  sends process fields (docs/exporter-elements.md); records carrying
     *  them get pid, process, uid and exe. Default 32473
     *  (`FK_EXPORTER_DEFAULT_PEN`); 0 = do not decode them. */
    FK_COL_PEN = 210,
    /** int, "rotate_bytes": file outputs start a new file after this many
     *  bytes; 0 = never. */
    FK_COL_ROTATE_BYTES = 300,
    /** int, "rotate_seconds": file outputs start a new file after this many
     *  seconds; 0 = never. */
    FK_COL_ROTATE_SECONDS = 301,
    /** bool, "ipfix_biflow": `ipfix:` file outputs write a flow with RFC
     *  5103 reverse counters as one biflow record (1), or as two records,
     *  one per direction (0, default: readers that ignore reverse elements
     *  still count every byte), as `FK_EXP_BIFLOW` does for the exporter.
     *  @since 0.2.0 */
    FK_COL_IPFIX_BIFLOW = 302,
    /** int, "duration": fk_collector_run() returns after this many seconds;
     *  0 = no limit. */
    FK_COL_DURATION = 400,
    /** int, "count": fk_collector_run() returns after this many records;
     *  0 = no limit. */
    FK_COL_COUNT = 401,
    /** bool, "ipfix_passthrough": when every output is an unfiltered
     *  `ipfix:` file and nothing else looks at the flows (no callback,
     *  senders, prefix statistics or sampling scaling), IPFIX data sets
     *  whose template allows it are written to the files as they came,
     *  after a copy of their template, instead of being decoded and
     *  encoded again (1, default); 0 always decodes them. Counters are the
     *  same either way. @since 0.2.0 */
    FK_COL_IPFIX_PASSTHROUGH = 303,
    /** bool, "direct_decode": IPFIX data sets whose template has fixed-length
     *  fields only and nothing beyond the flow fields (no process, event,
     *  tunnel or origin elements, no boot time or sysUpTime times) are
     *  turned into flows straight from the compiled template, without the
     *  decoder's record walk (1, default); 0 always walks them. When every
     *  output is an unfiltered JSON lines output and nothing else reads the
     *  flows (no callback, senders, prefix statistics or sampling scaling),
     *  the records of such sets are written straight from their bytes by a
     *  writer compiled once per template, with no fk_flow in between
     *  (counted in fk_collector_stats.records_compiled; templates it cannot
     *  express in templates_uncompiled). The flows, the outputs and the
     *  counters are the same either way (tests compare them). @since 0.2.0 */
    FK_COL_DIRECT_DECODE = 304
} fk_collector_param;

/**
 * Counters of a collector since activate. Every way a record can be lost
 * has its own counter.
 * @since 0.1.0
 */
typedef struct fk_collector_stats {
    uint64_t datagrams;          /**< UDP datagrams received. */
    uint64_t messages;           /**< Messages (datagrams or framed TCP messages) decoded. */
    uint64_t bytes;              /**< Payload bytes received (UDP and TCP). */
    uint64_t records;            /**< Flow records delivered. */
    uint64_t socket_drops;       /**< Datagrams the kernel dropped (`SO_RXQ_OVFL`). */
    uint64_t queue_drops;        /**< Datagrams dropped because the worker queue was full. */
    uint64_t malformed;          /**< Messages or sets refused as malformed. */
    uint64_t unsupported;        /**< Messages with an unknown version number. */
    uint64_t allowlist_rejected; /**< Datagrams and connections from exporters not allowed. */
    uint64_t pending_sets;       /**< Data sets that arrived before their template and were kept. */
    uint64_t pending_decoded;    /**< Kept data sets decoded after their template arrived. */
    uint64_t pending_records;    /**< Records delivered from kept data sets (in `records` too). */
    uint64_t pending_expired;    /**< Kept data sets dropped because they waited `pending_age`. */
    uint64_t pending_overflow;   /**< Data sets dropped because `pending_bytes` or
                                      `pending_total` was reached (or buffering is off). */
    uint64_t sequence_gaps;      /**< Sequence discontinuities seen. */
    uint64_t sequence_lost;      /**< Records (IPFIX, v5, v7) or packets (v9) missing by
                                      sequence numbers. */
    uint64_t templates;          /**< Templates and options templates received. */
    uint64_t templates_withdrawn;  /**< Templates withdrawn (TCP) or expired (UDP). */
    uint64_t template_limit;       /**< Templates refused by `max_templates`. */
    uint64_t exporter_limit;       /**< Datagrams dropped because `max_exporters` was reached. */
    uint64_t options_records;      /**< Options data records applied (sampling, interfaces). */
    uint64_t tcp_connections;      /**< TCP connections accepted. */
    uint64_t tcp_refused;          /**< TCP connections refused by `max_tcp_connections`. */
    uint64_t sessions;             /**< Exporter sessions currently known. */
    uint64_t sink_errors;          /**< Records an output could not write. */
    uint64_t db_rows_written;      /**< Rows a database output (clickhouse://) has stored. */
    uint64_t db_rows_retried;      /**< Rows of failed database inserts that were sent again. */
    uint64_t db_rows_dropped;      /**< Rows a database output gave up: queue full, insert
                                        refused, or not sent before exit. */
    uint64_t db_rows_queued;       /**< Rows waiting in database output queues now. */
    uint64_t export_time_skewed;   /**< Messages whose export time (IPFIX header, NetFlow
                                        unix_secs) differs from the receive clock by more than
                                        `export_time_tolerance`. */
    uint64_t records_after_export; /**< Flow records whose end time lies more than
                                        `export_time_tolerance` after their message's export
                                        time. */
    uint64_t exporter_restarts;    /**< Exporter restarts detected (NetFlow sysUptime going
                                        back; over UDP an IPFIX sequence reset or IPFIX
                                        systemInitTimeMilliseconds moving forward by more
                                        than 2 s); the domain's templates and options data
                                        from earlier messages are dropped. */
    uint64_t interface_names;      /**< Interface names known now (from options data). */
    uint64_t interface_limit;      /**< Interface names refused by `max_interfaces`. */
    uint64_t udp_wakeups;          /**< Reads of UDP sockets that found datagrams: `datagrams` /
                                        `udp_wakeups` is the average batch (`recv_interval`).
                                        @since 0.2.0 */
    uint64_t sender_unknown;       /**< Records dropped: their exporter is not in the senders
                                        registry (fk_collector_set_senders()). @since 0.2.0 */
    uint64_t sender_outside;       /**< Records dropped: neither address lies in their sender's
                                        prefixes. @since 0.2.0 */
    uint64_t tags_rejected;        /**< Records whose metadataTags value broke the tag rules
                                        (too long, a NUL, a bad key or value) and was left out;
                                        the record itself is kept. @since 0.2.0 */
    uint64_t records_compiled;     /**< Flow records (in `records` too) written to JSON lines
                                        outputs straight from their bytes by a writer compiled
                                        for their template (`direct_decode`), without a
                                        fk_flow. @since 0.2.0 */
    uint64_t templates_uncompiled; /**< Data templates (each definition once) that such a
                                        writer cannot express (variable-length fields, options,
                                        both address families or repeated flow keys, next hops,
                                        sysUpTime times): their records go through a fk_flow
                                        as before, with the same output. @since 0.2.0 */
} fk_collector_stats;

/**
 * What the collector knows of one observation domain (IPFIX) or source id
 * (NetFlow v9; v5: engine type * 256 + engine id) of one exporter session.
 * @since 0.1.0
 */
typedef struct fk_collector_domain {
    fk_addr exporter;       /**< Exporter address. */
    uint16_t port;          /**< Exporter source port. */
    uint8_t transport;      /**< 17 UDP, 6 TCP (IP protocol numbers). */
    uint16_t version;       /**< 1, 5, 7, 9 or 10. */
    uint32_t odid;          /**< Observation domain / source id. */
    uint64_t messages;      /**< Messages decoded. */
    uint64_t records;       /**< Flow records delivered (kept sets included). */
    uint64_t sequence_gaps; /**< Sequence discontinuities seen. */
    uint64_t sequence_lost; /**< Records (IPFIX, v5, v7) or packets (v9) missing by sequence. */
} fk_collector_domain;

/**
 * Called for every flow record, on the thread that dispatches.
 *
 * @param flow the record, with `exporter`, `odid` and `version` filled and
 *        #FK_FLOW_HAS_EXPORTER set; borrowed for the duration of the call.
 * @param user the pointer given to fk_collector_set_callback().
 * The callback may call fk_collector_break() but no other function on the
 * same handle.
 * @since 0.2.0 (was `fk_collector_flow_fn`)
 */
typedef void (*fk_collector_flow_cb)(const fk_flow *flow, void *user);

/**
 * Called with decoded flow records in batches, on the thread that
 * dispatches (fk_collector_set_batch_callback()).
 *
 * A batch holds, in arrival order, records that fk_collector_flow_cb would
 * have been given one by one (the same records, each exactly once): the
 * records decoded since the previous batch, at most
 * #FK_COLLECTOR_BATCH_MAX. A batch ends when it is full, before
 * fk_collector_dispatch() or fk_collector_feed() returns, and right after
 * a record that carries a borrowed string (`in_if_name`, `out_if_name`,
 * `user`, `exe`, `tags`), so that those are valid during the call as they
 * are for fk_collector_flow_cb.
 *
 * @param flows @p n records in an array the collector owns, borrowed for
 *        the duration of the call.
 * @param n the number of records, at least 1.
 * @param user the pointer given to fk_collector_set_batch_callback().
 * The callback may call fk_collector_break() but no other function on the
 * same handle.
 * @since 0.2.0
 */
typedef void (*fk_collector_batch_cb)(const fk_flow *flows, size_t n, void *user);

/** The largest batch fk_collector_batch_cb is given. @since 0.2.0 */
#define FK_COLLECTOR_BATCH_MAX 64

/**
 * Create a collector with default parameters, no listener and no output.
 *
 * @param out receives the handle; the caller frees it with
 *        fk_collector_destroy().
 * @return 0, `FK_EINVAL` (NULL @p out) or `FK_ENOMEM`.
 * @since 0.1.0
 */
FK_API int fk_collector_create(fk_collector **out);

/**
 * Stop, close every socket and output (flushing it) and free the handle.
 *
 * @param h the handle, or NULL (no-op).
 * @since 0.1.0
 */
FK_API void fk_collector_destroy(fk_collector *h);

/**
 * The parameter table of the collector.
 *
 * @param count receives the number of entries (may be NULL).
 * @return a static table, valid for the life of the program.
 * Thread-safe.
 * @since 0.1.0
 */
FK_API const fk_param_info *fk_collector_params(size_t *count);

/**
 * Set an integer or boolean parameter.
 *
 * @param h the handle.
 * @param param a ::fk_collector_param.
 * @param value the value; refused (never clamped) when out of bounds.
 * @return 0, `FK_ENOTFOUND`, `FK_ETYPE`, `FK_ERANGE` (message names the
 *         bounds) or `FK_EACTIVATED`.
 * @since 0.1.0
 */
FK_API int fk_collector_set_int(fk_collector *h, int param, int64_t value);

/**
 * Set a floating-point parameter (the collector has none yet; kept for the
 * common handle interface).
 *
 * @param h the handle.
 * @param param a ::fk_collector_param.
 * @param value the value.
 * @return 0, `FK_ENOTFOUND`, `FK_ETYPE`, `FK_ERANGE` or `FK_EACTIVATED`.
 * @since 0.1.0
 */
FK_API int fk_collector_set_double(fk_collector *h, int param, double value);

/**
 * Set a string parameter (copied).
 *
 * @param h the handle.
 * @param param a ::fk_collector_param.
 * @param value the value.
 * @return 0, `FK_ENOTFOUND`, `FK_ETYPE`, `FK_ENOMEM` or `FK_EACTIVATED`.
 * @since 0.1.0
 */
FK_API int fk_collector_set_str(fk_collector *h, int param, const char *value);

/**
 * Set a parameter from text by its name ("template_timeout" or "template-timeout"), parsed by
 * its type (integers in decimal or 0x hex, booleans as 1/0, true/false,
 * yes/no, on/off); for configuration files and command lines. The value
 * meets exactly the checks of the typed setter.
 *
 * @param h the handle.
 * @param name the parameter's name in fk_collector_params().
 * @param text the value as text.
 * @return 0, `FK_ENOTFOUND` (no such name), `FK_EINVAL` (text that does not
 *         parse, named in the message), or the typed setter's errors
 *         (`FK_ERANGE` with the bounds, `FK_EACTIVATED`).
 * @since 0.2.0
 */
FK_API int fk_collector_set_text(fk_collector *h, const char *name, const char *text);

/**
 * Read an integer or boolean parameter.
 *
 * @param h the handle.
 * @param param a ::fk_collector_param.
 * @param out receives the value.
 * @return 0, `FK_ENOTFOUND` or `FK_ETYPE`.
 * @since 0.1.0
 */
FK_API int fk_collector_get_int(const fk_collector *h, int param, int64_t *out);

/**
 * Add a listener, before activate.
 *
 * @param h the handle.
 * @param uri `udp://ADDR:PORT` or `tcp://ADDR:PORT` with a numeric IPv4
 *        address or a bracketed IPv6 address (`udp://[::]:4739`); port 0
 *        picks a free port (see fk_collector_get_listener_uri()). Copied.
 * @return 0, `FK_EINVAL` (message says what is wrong with @p uri),
 *         `FK_ENOMEM` or `FK_EACTIVATED`.
 * @since 0.1.0
 */
FK_API int fk_collector_add_listener(fk_collector *h, const char *uri);

/**
 * Add an output, before activate. Files are opened at activate; a failure
 * there fails activate.
 *
 * @param h the handle.
 * @param uri `jsonl:-` (stdout), `jsonl:PATH`, `csv:-`, `csv:PATH`,
 *        `ipfix:PATH`, `vpcflow:-`, `vpcflow:PATH`, `flowlog:-` or
 *        `flowlog:PATH` (AWS VPC flow log and FFFA lines, see
 *        fk_flow_to_vpcflow() and fk_flow_to_flowlog()), or
 *        `clickhouse://HOST:PORT/DB.TABLE[?options]` (rows sent to
 *        ClickHouse over HTTP by a sender thread with a bounded queue;
 *        see docs/clickhouse.md). Copied.
 * @return 0, `FK_EINVAL` (bad URI), `FK_EUNSUPPORTED` (the kind is not
 *         available in this build), `FK_ENOMEM` or `FK_EACTIVATED`.
 * @since 0.1.0
 */
FK_API int fk_collector_add_output(fk_collector *h, const char *uri);

/**
 * Add an output that receives only the flows (and session events) matching
 * a filter in nfdump's syntax (flowkit/filter.h), before activate. The
 * filter sees each record as the output would write it (after sampling
 * scaling); the collector's callback and the other outputs are unaffected.
 *
 * @param h the handle.
 * @param uri as fk_collector_add_output(). Copied.
 * @param filter the filter expression, e.g. `"proto tcp and dst port 443"`.
 *        Compiled here; not kept.
 * @return 0, `FK_EFILTER` (syntax error; fk_error_last() names the
 *         position), or what fk_collector_add_output() returns.
 * @since 0.2.0
 */
FK_API int fk_collector_add_output_filtered(fk_collector *h, const char *uri, const char *filter);

/**
 * Accept exporters from this network only (repeatable; without any entry
 * every exporter is accepted). Traffic from other addresses is dropped and
 * counted in `allowlist_rejected`, and logged at #FK_LOG_WARN (log.h): an
 * address's first refusal at once, then at most one message every 10 s per
 * address with the number refused since its last one (and the rest when
 * the collector stops).
 *
 * @param h the handle.
 * @param cidr `ADDR/LEN` or `ADDR` (IPv4 or IPv6); an IPv4 entry also
 *        matches IPv4-mapped IPv6 exporters.
 * @return 0, `FK_EINVAL`, `FK_ENOMEM` or `FK_EACTIVATED`.
 * @since 0.1.0
 */
FK_API int fk_collector_add_allow(fk_collector *h, const char *cidr);

/**
 * Set the record callback (optional; outputs work without it).
 *
 * @param h the handle.
 * @param cb the callback, or NULL for none.
 * @param user passed to @p cb; borrowed while the handle lives.
 * @return 0 or `FK_EINVAL`.
 * @since 0.1.0; 0.2.0 takes a #fk_collector_flow_cb
 */
FK_API int fk_collector_set_callback(fk_collector *h, fk_collector_flow_cb cb, void *user);

/**
 * Set the batch callback (optional): decoded records in arrays of up to
 * #FK_COLLECTOR_BATCH_MAX instead of one call each (see
 * #fk_collector_batch_cb). It may be set together with the record callback
 * (fk_collector_set_callback()); each then sees every record. Before
 * fk_collector_activate().
 *
 * @param h the handle.
 * @param cb the callback, or NULL for none.
 * @param user passed to @p cb; borrowed while the handle lives.
 * @return 0, `FK_EINVAL` or `FK_EACTIVATED`.
 * @since 0.2.0
 */
FK_API int fk_collector_set_batch_callback(fk_collector *h, fk_collector_batch_cb cb, void *user);

/**
 * Check every record against a senders registry (flowkit/senders.h): a
 * record from an address that is no sender, or outside its sender's
 * prefixes, is dropped before the callback and the outputs, and counted
 * (fk_collector_stats::sender_unknown, fk_collector_stats::sender_outside). The sender is the
 * address the datagram or TCP connection came from (the `exporter` of
 * records that name no exporter of their own).
 *
 * @param h the handle; not while another thread dispatches it.
 * @param senders the registry, borrowed: it must outlive the handle (or be
 *        replaced first); NULL stops checking. It may change meanwhile.
 * @return 0 or `FK_EINVAL`.
 * @since 0.2.0
 */
FK_API int fk_collector_set_senders(fk_collector *h, fk_senders *senders);

/**
 * Count every accepted record in prefix statistics (flowkit/prefixstats.h),
 * after the senders check and sampling scale, against the address it came
 * from (as fk_collector_set_senders()); each dispatch also moves the
 * statistics' clock to the wall clock (fk_prefixstats_advance()).
 *
 * @param h the handle; not while another thread dispatches it.
 * @param ps an activated handle, borrowed: it must outlive the collector (or
 *        be replaced first); NULL stops counting.
 * @return 0 or `FK_EINVAL`.
 * @since 0.2.0
 */
FK_API int fk_collector_set_prefixstats(fk_collector *h, fk_prefixstats *ps);

/**
 * Bind the listeners, open the outputs and start the worker threads.
 * A collector without listeners is valid: it decodes what
 * fk_collector_feed() gives it.
 *
 * @param h the handle.
 * @return 0, `FK_EACTIVATED`, `FK_EIO` / `FK_EPERM` (a socket or file
 *         failed; the message names it) or `FK_ENOMEM`. On failure the
 *         handle stays configurable.
 * @since 0.1.0
 */
FK_API int fk_collector_activate(fk_collector *h);

/**
 * The actual URI of listener @p index (with the bound port when port 0 was
 * asked for), after activate.
 *
 * @param h the handle.
 * @param index 0-based, in the order of fk_collector_add_listener().
 * @param buf output buffer.
 * @param size size of @p buf (64 bytes always suffice).
 * @return length written, `FK_ENOTFOUND`, `FK_ENOTACTIVATED` or `FK_ENOSPACE`.
 * @since 0.2.0 (was `fk_collector_listener_uri`)
 */
FK_API int fk_collector_get_listener_uri(const fk_collector *h, size_t index, char *buf,
                                         size_t size);

/**
 * A file descriptor that becomes readable when fk_collector_dispatch() has
 * work; for poll/epoll/select-based event loops.
 *
 * @param h the handle.
 * @return the fd (owned by the handle), or `FK_ENOTACTIVATED`.
 * @since 0.1.0
 */
FK_API int fk_collector_get_fd(const fk_collector *h);

/**
 * Milliseconds until timed work is due (template, session and pending-data
 * expiry, output rotation, the duration limit, records waiting in an output
 * buffer: about 20 ms after the oldest of them was written).
 *
 * @param h the handle.
 * @return 0 or more (0 = call dispatch now), -1 if nothing is scheduled, or
 *         `FK_ENOTACTIVATED` (below -1) for a NULL or inactive handle.
 * @since 0.1.0
 */
FK_API int fk_collector_next_timeout_ms(const fk_collector *h);

/**
 * Do all work that is ready now without blocking: read sockets, decode,
 * deliver records, run timed work, flush outputs.
 *
 * @param h the handle.
 * @return the number of records delivered (0 or more), `FK_EBREAK` when
 *         fk_collector_break() was called (the request is consumed),
 *         `FK_EEOF` once the `count` or `duration` limit is reached (and on
 *         every later call; outputs are flushed), `FK_ENOTACTIVATED`, or
 *         `FK_EIO` on a socket failure.
 * @since 0.1.0
 */
FK_API int fk_collector_dispatch(fk_collector *h);

/**
 * Dispatch until a limit (`duration`, `count`) is reached or
 * fk_collector_break() is called, then flush the outputs.
 *
 * @param h the handle.
 * @return 0 when a limit was reached, `FK_EBREAK` after a break,
 *         `FK_ENOTACTIVATED`, or `FK_EIO`.
 * @since 0.1.0
 */
FK_API int fk_collector_run(fk_collector *h);

/**
 * Ask fk_collector_run() / fk_collector_dispatch() to return as soon as
 * possible. Safe from any thread and from a signal handler.
 *
 * @param h the handle.
 * @since 0.1.0
 */
FK_API void fk_collector_break(fk_collector *h);

/**
 * Ask the outputs to close and reopen their files at the next dispatch (for
 * log rotation tools; SIGHUP). Safe from any thread and from a signal
 * handler.
 *
 * @param h the handle.
 * @since 0.1.0
 */
FK_API void fk_collector_reopen(fk_collector *h);

/**
 * Feed one UDP datagram as if it had been received, without a socket
 * (sans-I/O use, tests, replay). The exporter passes the allowlist and gets
 * its own session like a socket peer.
 *
 * @param h an activated handle (listeners are optional).
 * @param exporter the exporter's address.
 * @param port the exporter's source port.
 * @param data the datagram; borrowed for the call.
 * @param len its length.
 * @return the number of records delivered, `FK_ENOTACTIVATED`, `FK_EINVAL`.
 *         Malformed input is counted, not returned as an error.
 * @since 0.1.0
 */
FK_API int fk_collector_feed(fk_collector *h, const fk_addr *exporter, uint16_t port,
                             const uint8_t *data, size_t len);

/**
 * Read the counters.
 *
 * @param h the handle.
 * @param out receives the counters.
 * @param size `sizeof *out` as the caller was built: the library writes at
 *        most @p size bytes and zeros fields it does not know (see
 *        @ref conventions, "Struct versions").
 * @return 0 or `FK_EINVAL` (NULL argument, @p size below 8).
 * @since 0.1.0; 0.2.0 takes @p size
 */
FK_API int fk_collector_get_stats(const fk_collector *h, fk_collector_stats *out, size_t size);

/**
 * Per-domain view: sequence loss and traffic of every observation domain of
 * every exporter session currently known.
 *
 * @param h the handle.
 * @param out array to fill (may be NULL when @p capacity is 0).
 * @param capacity entries in @p out; at most this many are written, in no
 *        particular order.
 * @param count receives the number of domains known (may exceed @p capacity).
 * @return 0, `FK_EINVAL` or `FK_ENOTACTIVATED`.
 * @since 0.2.0 (was `fk_collector_domains`)
 */
FK_API int fk_collector_get_domains(const fk_collector *h, fk_collector_domain *out,
                                    size_t capacity, size_t *count);

/**
 * Add a static metadata tag (::fk_tag: the instance's account, VPC,
 * region, ...) to every record the outputs write, before activate:
 * `jsonl:` lines get a `"tags":{"KEY":"VALUE",...}` object, `vpcflow:` and
 * `flowlog:` lines the columns of the same name (fk_flow_to_vpcflow(),
 * fk_flow_to_flowlog()). A key added again takes the new value.
 *
 * @param h the handle.
 * @param key the tag's key (rules of ::fk_tag). Copied.
 * @param value the tag's value. Copied.
 * @return 0, `FK_EINVAL` (a bad key or value, named in the message),
 *         `FK_ERANGE` (more than #FK_TAG_MAX tags), `FK_ENOMEM` or
 *         `FK_EACTIVATED`.
 * @since 0.2.0
 */
FK_API int fk_collector_add_tag(fk_collector *h, const char *key, const char *value);

FK_END_DECLS

#endif /* FLOWKIT_COLLECTOR_H */
