/**
 * @file store.h
 * @brief The live flow store: recent flows, throughput series, top-K and
 *        per-IP views over the flows a program feeds it, in bounded memory.
 *
 * A store is fed ::fk_flow records (fk_store_add_flow(); the collector's
 * callback is the usual source) and answers the questions a console asks:
 * which flows were seen recently (fk_store_search(), fk_store_get_since()), how
 * much traffic per time bucket (fk_store_get_series()), who the top talkers of
 * the last 15 min / 1 h / 8 h are (fk_store_get_top()), what one address did
 * (fk_store_get_ip(), fk_store_get_ip_peers(), fk_store_get_ip_protocols(),
 * fk_store_get_ip_series(), fk_store_get_ips()) and which sources keep trying
 * without an answer (fk_store_get_bad_ips()). It does no I/O.
 *
 * **Memory is bounded by the parameters, whatever the traffic.** Every
 * table is allocated at fk_store_activate() and never grows: the recent
 * flows are a ring (`max_flows`), top-K uses space-saving summaries of
 * `topk_capacity` entries per time slot and dimension, per-IP state is a
 * table of `max_ips` addresses that evicts the least recently seen, and
 * every eviction is counted in ::fk_store_stats. fk_store_stats::memory_bytes
 * tells the total, fixed at activate.
 *
 * **Clock.** The store's "now" is the newest of the end times of the flows
 * it was fed and the times given to fk_store_advance(); windows and
 * retention are measured from it, so a replay of old flows shows as if it
 * were live. Flows are placed in time by their end time.
 *
 * **Counting.** A flow counts its forward and reverse bytes and packets
 * together (bytes + rev_bytes) under every key it belongs to; it is one
 * flow. Session events (::fk_flow::event != 0) are counted in
 * fk_store_stats::events and otherwise ignored.
 *
 * **Bad IPs.** An *unanswered attempt* is a flow record that is
 * - TCP whose initiator's flags hold SYN and not ACK (the handshake never
 *   completed: no SYN-ACK came back, or an RST refused it), or
 * - UDP to a unicast destination with no traffic back: a biflow record
 *   (RFC 5103) with `rev_packets == 0`, or a one-way record for which no
 *   record of the reverse 5-tuple arrives within `bad_udp_wait` seconds
 *   before or after it.
 * A source is a *bad IP* while it has at least `bad_threshold` unanswered
 * attempts within the last `bad_window` seconds.
 *
 * **De-duplication** (`dedup_ttl` > 0): a flow whose 5-tuple was reported
 * by another exporter (address or observation domain) within `dedup_ttl`
 * ms is dropped and counted. **CIDR filter** (fk_store_add_cidr()): when
 * set, only flows with the source or destination inside one of the
 * networks are kept.
 *
 * **Threads.** fk_store_create(), the setters, fk_store_add_cidr(),
 * fk_store_activate() and fk_store_destroy() are used by one thread. After
 * activate every other function may be called from any number of threads
 * at once: they serialize on a mutex inside the handle, and every query
 * copies its answer into caller memory.
 *
 * @since 0.2.0
 */
#ifndef FLOWKIT_STORE_H
#define FLOWKIT_STORE_H

#include <flowkit/common.h>
#include <flowkit/flow.h>
#include <flowkit/params.h>

FK_BEGIN_DECLS

/** Opaque live flow store. @since 0.2.0 */
typedef struct fk_store fk_store;

/** Parameters of a store (see fk_store_params() for bounds and defaults). @since 0.2.0 */
typedef enum fk_store_param {
    /** Recent flows are kept this many seconds (store clock). */
    FK_STORE_RETENTION_SEC = 100,
    /** At most this many recent flows; the oldest go first. */
    FK_STORE_MAX_FLOWS = 101,
    /** Width of a throughput series bucket, seconds. */
    FK_STORE_SERIES_STEP_SEC = 102,
    /** Buckets kept per series (span = step * buckets). */
    FK_STORE_SERIES_BUCKETS = 103,
    /** Protocols and exporters with a series of their own (each). */
    FK_STORE_SERIES_KEYS = 104,
    /** Entries of each space-saving top-K summary. */
    FK_STORE_TOPK_CAPACITY = 200,
    /** Length of a top-K time slot, seconds; windows are whole slots. */
    FK_STORE_TOPK_SLOT_SEC = 201,
    /** Longest top-K window, seconds (8 h by default). */
    FK_STORE_TOPK_SPAN_SEC = 202,
    /** Addresses with per-IP state; the least recently seen is evicted. */
    FK_STORE_MAX_IPS = 300,
    /** Peers kept per address (space-saving). */
    FK_STORE_IP_PEERS = 301,
    /** Protocols kept per address (space-saving). */
    FK_STORE_IP_PROTOCOLS = 302,
    /** Width of a per-IP series bucket, seconds. */
    FK_STORE_IP_SERIES_STEP_SEC = 303,
    /** Buckets of each per-IP series. */
    FK_STORE_IP_SERIES_BUCKETS = 304,
    /** Unanswered attempts within the window that make a source bad. */
    FK_STORE_BAD_THRESHOLD = 400,
    /** Window of the bad-IP rule, seconds. */
    FK_STORE_BAD_WINDOW_SEC = 401,
    /** Sources tracked for the bad-IP rule; least recently seen evicted. */
    FK_STORE_BAD_MAX_IPS = 402,
    /** How long a one-way UDP record waits for its reverse, seconds. */
    FK_STORE_BAD_UDP_WAIT_SEC = 403,
    /** One-way UDP records waiting at most; beyond: oldest dropped, counted. */
    FK_STORE_BAD_UDP_PENDING = 404,
    /** De-duplication across exporters, ms; 0 = off. */
    FK_STORE_DEDUP_TTL_MS = 500,
    /** Slots of the de-duplication table. */
    FK_STORE_DEDUP_SLOTS = 501,
    /** Keys of the pre-aggregation table: flows with the same source,
     *  destination, exporter, protocol, destination port and step of end
     *  time (the greatest common divisor of the series step, the per-IP
     *  series step and the top-K slot: 10 s by default) are summed there
     *  before the top-K, series and per-IP tables see them (once per key
     *  and step); 0 = off. @since 0.2.0 */
    FK_STORE_AGG_KEYS = 600
} fk_store_param;

/** Dimensions of fk_store_get_top(). @since 0.2.0 */
typedef enum fk_store_dim {
    FK_STORE_DIM_SRC = 0,      /**< Source address (::fk_store_key::addr). */
    FK_STORE_DIM_DST = 1,      /**< Destination address (addr). */
    FK_STORE_DIM_PAIR = 2,     /**< Source addr and destination peer. */
    FK_STORE_DIM_PORT = 3,     /**< Destination port with its protocol (port, proto). */
    FK_STORE_DIM_PROTO = 4,    /**< IP protocol (proto). */
    FK_STORE_DIM_EXPORTER = 5, /**< Exporter address (addr). */
    FK_STORE_DIM_PROCESS = 6,  /**< Process name (process); flows without one are not counted. */
    FK_STORE_DIM_COUNT = 7     /**< Number of dimensions. */
} fk_store_dim;

/** Kinds of fk_store_get_series(). @since 0.2.0 */
typedef enum fk_store_series_kind {
    FK_STORE_SERIES_TOTAL = 0,   /**< All traffic. */
    FK_STORE_SERIES_PROTO = 1,   /**< One protocol (key->proto). */
    FK_STORE_SERIES_EXPORTER = 2 /**< One exporter (key->addr). */
} fk_store_series_kind;

/** Longest process name a top-K key keeps, NUL included. @since 0.2.0 */
#define FK_STORE_PROCESS_MAX 40

/** What a top-K row is about; only the fields of its dimension are set. @since 0.2.0 */
typedef struct fk_store_key {
    fk_addr addr;  /**< Address (src, dst, exporter, pair source). */
    fk_addr peer;  /**< Pair destination, or the peer (fk_store_get_ip_peers()). */
    uint16_t port; /**< Destination port (port dimension). */
    uint8_t proto; /**< IP protocol (port, proto dimensions). */
    char process[FK_STORE_PROCESS_MAX]; /**< Process name, cut to 39 bytes. */
} fk_store_key;

/**
 * One row of a top-K answer. Counts are space-saving estimates: never
 * below the truth, at most `error` bytes above it; exact while no summary
 * involved had to evict (fk_store_stats::topk_evictions unchanged).
 * @since 0.2.0
 */
typedef struct fk_store_row {
    fk_store_key key; /**< The key. */
    uint64_t bytes;   /**< IP-layer bytes, both directions. */
    uint64_t packets; /**< Packets, both directions. */
    uint64_t flows;   /**< Flow records. */
    uint64_t error;   /**< Largest overestimate of bytes. */
} fk_store_row;

/** One point of a series: totals of [time_ns, time_ns + step). @since 0.2.0 */
typedef struct fk_store_point {
    int64_t time_ns;  /**< Start of the bucket, ns since the epoch. */
    uint64_t bytes;   /**< IP-layer bytes, both directions. */
    uint64_t packets; /**< Packets, both directions. */
    uint64_t flows;   /**< Flow records that ended in the bucket. */
} fk_store_point;

/** What the store knows of one address. @since 0.2.0 */
typedef struct fk_store_ip_info {
    fk_addr addr;         /**< The address. */
    uint64_t bytes_out;   /**< Bytes it sent (as source: bytes; as destination: rev_bytes). */
    uint64_t bytes_in;    /**< Bytes it received. */
    uint64_t packets_out; /**< Packets it sent. */
    uint64_t packets_in;  /**< Packets it received. */
    uint64_t flows_src;   /**< Flows it was the source of. */
    uint64_t flows_dst;   /**< Flows it was the destination of. */
    int64_t first_ns;     /**< End time of its first flow in the store. */
    int64_t last_ns;      /**< End time of its newest flow. */
} fk_store_ip_info;

/** One bad IP (see the file documentation for the rule). @since 0.2.0 */
typedef struct fk_store_bad_ip {
    fk_addr addr;          /**< The source. */
    uint64_t attempts;     /**< Unanswered attempts within the window. */
    uint64_t tcp_attempts; /**< TCP ones since it was first tracked. */
    uint64_t udp_attempts; /**< UDP ones since it was first tracked. */
    fk_addr last_dst;      /**< Destination of its newest attempt. */
    uint16_t last_port;    /**< Destination port of its newest attempt. */
    int64_t first_ns;      /**< Time of its first tracked attempt. */
    int64_t last_ns;       /**< Time of its newest attempt. */
} fk_store_bad_ip;

/**
 * A search of the recent flows: every set field must match. Zero fields
 * match everything.
 * @since 0.2.0
 */
typedef struct fk_store_query {
    fk_addr addr;     /**< Either end equals this (family 0: any). */
    fk_addr src;      /**< Source equals this (family 0: any). */
    fk_addr dst;      /**< Destination equals this (family 0: any). */
    fk_addr exporter; /**< Exporter equals this (family 0: any). */
    int port;         /**< Either port equals this; -1 or 0: any. */
    int src_port;     /**< Source port; -1 or 0: any. */
    int dst_port;     /**< Destination port; -1 or 0: any. */
    int proto;        /**< IP protocol; -1 or 0: any. */
    int64_t since_ns; /**< Flow ended at or after (0: any). */
    int64_t until_ns; /**< Flow ended before (0: any). */
} fk_store_query;

/** Counters of a store. @since 0.2.0 */
typedef struct fk_store_stats {
    uint64_t flows_in;        /**< Records given to fk_store_add_flow(). */
    uint64_t flows_kept;      /**< Records counted (not filtered, not duplicates). */
    uint64_t events;          /**< Session events given (ignored). */
    uint64_t filtered;        /**< Records outside the CIDR filter. */
    uint64_t duplicates;      /**< Records dropped as another exporter's duplicate. */
    uint64_t dedup_evictions; /**< Live de-dup entries overwritten by other 5-tuples. */
    uint64_t flows_stored;    /**< Recent flows held now. */
    uint64_t flows_evicted;   /**< Recent flows dropped because `max_flows` was reached. */
    uint64_t flows_expired;   /**< Recent flows dropped by the retention. */
    uint64_t late;            /**< Records older than a series or top-K span (not counted there). */
    uint64_t series_key_overflow; /**< Records whose protocol or exporter found no free series. */
    uint64_t topk_evictions;      /**< Space-saving replacements (top-K, peers, protocols). */
    uint64_t ips;                 /**< Addresses with per-IP state now. */
    uint64_t ips_evicted;         /**< Addresses evicted from per-IP state. */
    uint64_t bad_ips;             /**< Sources tracked for the bad-IP rule now. */
    uint64_t bad_evicted;         /**< Sources evicted from bad-IP tracking. */
    uint64_t attempts;            /**< Unanswered attempts counted. */
    uint64_t udp_pending;         /**< One-way UDP records waiting for a reverse now. */
    uint64_t
        udp_pending_dropped; /**< One-way UDP records dropped because the wait table was full. */
    uint64_t memory_bytes;   /**< Bytes the store allocated at activate (fixed). */
    /** The store's clock when it counted its first flow, ns (0 before
     *  any): its views hold nothing from before. @since 0.2.0 */
    int64_t first_ns;
    /** End time of the oldest recent flow held, ns (0 when none). @since 0.2.0 */
    int64_t oldest_flow_ns;
} fk_store_stats;

/**
 * Create a store with default parameters.
 *
 * @param out receives the handle; the caller frees it with fk_store_destroy().
 * @return 0, `FK_EINVAL` (NULL @p out) or `FK_ENOMEM`.
 * @since 0.2.0
 */
FK_API int fk_store_create(fk_store **out);

/**
 * Free a store and everything it holds. NULL is a no-op. No other thread
 * may be using the handle.
 *
 * @param h the handle.
 * @since 0.2.0
 */
FK_API void fk_store_destroy(fk_store *h);

/**
 * The parameter table of the store.
 *
 * @param count receives the number of entries (may be NULL).
 * @return the static table.
 * @since 0.2.0
 */
FK_API const fk_param_info *fk_store_params(size_t *count);

/**
 * Set an integer or boolean parameter (before activate).
 *
 * @param h the handle.
 * @param param a ::fk_store_param value.
 * @param value the value, within the table's bounds.
 * @return 0, `FK_EINVAL`, `FK_ENOTFOUND`, `FK_ETYPE`, `FK_ERANGE` or `FK_EACTIVATED`.
 * @since 0.2.0
 */
FK_API int fk_store_set_int(fk_store *h, int param, int64_t value);

/**
 * Set a double parameter (the store has none today; kept for the common shape).
 *
 * @param h the handle.
 * @param param a ::fk_store_param value.
 * @param value the value.
 * @return as fk_store_set_int(); `FK_ETYPE` for every current parameter.
 * @since 0.2.0
 */
FK_API int fk_store_set_double(fk_store *h, int param, double value);

/**
 * Set a string parameter (the store has none today; kept for the common shape).
 *
 * @param h the handle.
 * @param param a ::fk_store_param value.
 * @param value the value (copied).
 * @return as fk_store_set_int(); `FK_ETYPE` for every current parameter.
 * @since 0.2.0
 */
FK_API int fk_store_set_str(fk_store *h, int param, const char *value);

/**
 * Set a parameter by its table name from text ("max_ips", "65536").
 *
 * @param h the handle.
 * @param name the parameter name ('-' matches '_').
 * @param text the value as text.
 * @return as fk_store_set_int(), or `FK_EINVAL` when @p text does not parse.
 * @since 0.2.0
 */
FK_API int fk_store_set_text(fk_store *h, const char *name, const char *text);

/**
 * Read an integer parameter.
 *
 * @param h the handle.
 * @param param a ::fk_store_param value.
 * @param out receives the value.
 * @return 0, `FK_EINVAL`, `FK_ENOTFOUND` or `FK_ETYPE`.
 * @since 0.2.0
 */
FK_API int fk_store_get_int(const fk_store *h, int param, int64_t *out);

/**
 * Keep only flows whose source or destination is inside @p cidr
 * (repeatable; before activate). IPv4-mapped IPv6 addresses match IPv4
 * networks.
 *
 * @param h the handle.
 * @param cidr "ADDR/LEN" or a bare address, e.g. "10.0.0.0/8", "2001:db8::/32".
 * @return 0, `FK_EINVAL` (bad text), `FK_EACTIVATED` or `FK_ENOMEM`.
 * @since 0.2.0
 */
FK_API int fk_store_add_cidr(fk_store *h, const char *cidr);

/**
 * Allocate every table (the store's memory is fixed from here on).
 *
 * @param h the handle.
 * @return 0, `FK_EINVAL`, `FK_ERANGE` (inconsistent parameters, e.g. a slot
 *         longer than the span) or `FK_ENOMEM`; on failure the handle stays
 *         configurable.
 * @since 0.2.0
 */
FK_API int fk_store_activate(fk_store *h);

/**
 * Feed one flow record. The borrowed strings of @p flow (in_if_name,
 * out_if_name, user, exe) are not kept: stored copies have them NULL.
 *
 * @param h an activated handle.
 * @param flow the record; borrowed for the call.
 * @return 0 (also when the record is filtered or a duplicate; see the
 *         stats), `FK_EINVAL` (NULL argument or not activated).
 * @since 0.2.0
 */
FK_API int fk_store_add_flow(fk_store *h, const fk_flow *flow);

/**
 * Feed @p n flow records at once: the same as fk_store_add_flow() on each
 * in order (the same counters and answers), with the store's lock taken
 * once for all of them. Events, records outside the CIDR filter and
 * duplicates are counted and skipped as one by one; the others are kept.
 * Queries from other threads wait for the whole array, so a caller keeps
 * arrays short (the collector's batches hold at most
 * #FK_COLLECTOR_BATCH_MAX records).
 *
 * @param h an activated handle.
 * @param flows @p n records, borrowed for the call (their borrowed strings
 *        are not kept, as with fk_store_add_flow()).
 * @param n the number of records; 0 does nothing.
 * @return 0, `FK_EINVAL` (NULL handle, NULL @p flows with @p n > 0, or
 *         not activated).
 * @since 0.2.0
 */
FK_API int fk_store_add_flows(fk_store *h, const fk_flow *flows, size_t n);

/**
 * Move the store's clock forward to @p now_ns (never back), expiring what
 * falls out of the retention and windows. A program feeding live flows
 * calls it with the wall clock now and then, so idle periods show.
 *
 * @param h an activated handle.
 * @param now_ns nanoseconds since the epoch.
 * @return 0 or `FK_EINVAL`.
 * @since 0.2.0
 */
FK_API int fk_store_advance(fk_store *h, int64_t now_ns);

/**
 * The store's clock: the newest flow end time or fk_store_advance() time.
 *
 * @param h an activated handle.
 * @return ns since the epoch; 0 before anything was fed.
 * @since 0.2.0
 */
FK_API int64_t fk_store_get_now(fk_store *h);

/**
 * Copy the counters.
 *
 * @param h the handle.
 * @param out receives the counters.
 * @param size `sizeof *out` as the caller was built: the library writes at
 *        most @p size bytes and zeros fields it does not know (see
 *        @ref conventions, "Struct versions").
 * @return 0 or `FK_EINVAL` (NULL argument, @p size below 8).
 * @since 0.2.0
 */
FK_API int fk_store_get_stats(fk_store *h, fk_store_stats *out, size_t size);

/**
 * The top keys of one dimension over the last @p window_sec seconds,
 * largest bytes first. The window is rounded up to whole `topk_slot`
 * slots and cut at `topk_span`.
 *
 * @param h an activated handle.
 * @param dim a ::fk_store_dim.
 * @param window_sec the window, e.g. 900, 3600, 28800.
 * @param out receives up to @p capacity rows.
 * @param capacity room in @p out.
 * @param count receives the number of rows written.
 * @return 0, `FK_EINVAL` (bad dimension, window <= 0) or `FK_ENOMEM`.
 * @since 0.2.0
 */
FK_API int fk_store_get_top(fk_store *h, int dim, int64_t window_sec, fk_store_row *out,
                            size_t capacity, size_t *count);

/**
 * A throughput series: one point per @p step_ns from @p since_ns
 * (rounded down to a multiple of the step) to @p until_ns, zeros where nothing
 * was seen or the span no longer reaches.
 *
 * @param h an activated handle.
 * @param kind a ::fk_store_series_kind.
 * @param key the protocol (kind PROTO: key->proto) or exporter (EXPORTER:
 *        key->addr); NULL for TOTAL.
 * @param since_ns start, ns since the epoch.
 * @param until_ns end (exclusive).
 * @param step_ns point width; rounded up to a multiple of `series_step`;
 *        0 = `series_step`.
 * @param out receives up to @p capacity points, oldest first.
 * @param capacity room in @p out.
 * @param count receives the number of points written.
 * @return 0, `FK_EINVAL` or `FK_ENOTFOUND` (no series for that key).
 * @since 0.2.0
 */
FK_API int fk_store_get_series(fk_store *h, int kind, const fk_store_key *key, int64_t since_ns,
                               int64_t until_ns, int64_t step_ns, fk_store_point *out,
                               size_t capacity, size_t *count);

/**
 * What the store knows of one address.
 *
 * @param h an activated handle.
 * @param addr the address.
 * @param out receives the summary.
 * @return 0, `FK_EINVAL` or `FK_ENOTFOUND` (no state for it: never seen or evicted).
 * @since 0.2.0
 */
FK_API int fk_store_get_ip(fk_store *h, const fk_addr *addr, fk_store_ip_info *out);

/**
 * The addresses with per-IP state, most bytes (in + out) first.
 *
 * @param h an activated handle.
 * @param out receives up to @p capacity entries.
 * @param capacity room in @p out.
 * @param count receives the number written.
 * @return 0, `FK_EINVAL` or `FK_ENOMEM`.
 * @since 0.2.0
 */
FK_API int fk_store_get_ips(fk_store *h, fk_store_ip_info *out, size_t capacity, size_t *count);

/**
 * The peers of one address (key.peer), most bytes first. Peers are kept in
 * a space-saving summary of `ip_peers` entries per address.
 *
 * @param h an activated handle.
 * @param addr the address.
 * @param out receives up to @p capacity rows.
 * @param capacity room in @p out.
 * @param count receives the number written.
 * @return 0, `FK_EINVAL` or `FK_ENOTFOUND`.
 * @since 0.2.0
 */
FK_API int fk_store_get_ip_peers(fk_store *h, const fk_addr *addr, fk_store_row *out,
                                 size_t capacity, size_t *count);

/**
 * The protocols of one address (key.proto), most bytes first.
 *
 * @param h an activated handle.
 * @param addr the address.
 * @param out receives up to @p capacity rows.
 * @param capacity room in @p out.
 * @param count receives the number written.
 * @return 0, `FK_EINVAL` or `FK_ENOTFOUND`.
 * @since 0.2.0
 */
FK_API int fk_store_get_ip_protocols(fk_store *h, const fk_addr *addr, fk_store_row *out,
                                     size_t capacity, size_t *count);

/**
 * The series of one address (its traffic in and out), one point per
 * `ip_series_step`, the newest `ip_series_buckets` buckets up to the
 * store's clock, oldest first.
 *
 * @param h an activated handle.
 * @param addr the address.
 * @param out receives up to @p capacity points.
 * @param capacity room in @p out.
 * @param count receives the number written.
 * @return 0, `FK_EINVAL` or `FK_ENOTFOUND`.
 * @since 0.2.0
 */
FK_API int fk_store_get_ip_series(fk_store *h, const fk_addr *addr, fk_store_point *out,
                                  size_t capacity, size_t *count);

/**
 * The bad IPs now, most attempts first.
 *
 * @param h an activated handle.
 * @param out receives up to @p capacity entries.
 * @param capacity room in @p out.
 * @param count receives the number written.
 * @return 0, `FK_EINVAL` or `FK_ENOMEM`.
 * @since 0.2.0
 */
FK_API int fk_store_get_bad_ips(fk_store *h, fk_store_bad_ip *out, size_t capacity, size_t *count);

/**
 * Search the recent flows, newest first.
 *
 * @param h an activated handle.
 * @param query the filter; NULL matches everything.
 * @param out receives up to @p capacity copies (borrowed strings NULL).
 * @param capacity room in @p out.
 * @param count receives the number written.
 * @return 0 or `FK_EINVAL`.
 * @since 0.2.0
 */
FK_API int fk_store_search(fk_store *h, const fk_store_query *query, fk_flow *out, size_t capacity,
                           size_t *count);

/**
 * The recent flows stored after sequence number @p after, oldest first:
 * the n-th flow kept has sequence n (from 1). A live feed calls it with the
 * last sequence it saw; flows evicted meanwhile are skipped.
 *
 * @param h an activated handle.
 * @param after the last sequence seen (0 at first).
 * @param out receives up to @p capacity copies (borrowed strings NULL).
 * @param capacity room in @p out.
 * @param count receives the number written.
 * @param next receives the sequence of the last flow written, or @p after
 *        when none (pass it as @p after next time).
 * @return 0 or `FK_EINVAL`.
 * @since 0.2.0
 */
FK_API int fk_store_get_since(fk_store *h, uint64_t after, fk_flow *out, size_t capacity,
                              size_t *count, uint64_t *next);

FK_END_DECLS

#endif /* FLOWKIT_STORE_H */
