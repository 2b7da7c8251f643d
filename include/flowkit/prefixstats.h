/**
 * @file prefixstats.h
 * @brief Prefix statistics: traffic per sender prefix in minute, hour, day,
 *        month and year buckets, for all traffic and per value of seven
 *        fields (wasted/netflow's statistics).
 *
 * A prefix-statistics handle counts the records a collector accepts against
 * the prefixes each sender has in a senders registry (flowkit/senders.h,
 * fk_prefixstats_set_senders()). It does no I/O.
 *
 * **Which prefix a record counts for.** A record from sender S counts for
 * every prefix P of S that holds its source address, as traffic **out** of
 * P, and for every prefix P of S that holds its destination address, as
 * traffic **in** to P. A record whose two ends lie in the same prefix
 * counts there both out and in; nested prefixes (10.0.0.0/8 and
 * 10.1.0.0/16) each count it. A sender without prefixes (it may report any
 * address) has no statistics. A biflow record (RFC 5103) counts as two
 * one-way records, the reverse one with source and destination (addresses,
 * ports, AS numbers) swapped and `rev_bytes`/`rev_packets`; it is one flow
 * in each direction that carried packets.
 *
 * **Counters.** Bytes (IP-layer), packets and flows (records), each split
 * in and out, per bucket and per *name*: `all`, and one row per value of
 * `proto`, `srcport`, `dstport`, `srcas`, `dstas`, `srcip`, `dstip`.
 *
 * **Bounded.** Each bucket keeps at most `top_values` values per field: when
 * a new value arrives at a full field, the smaller of it and the smallest
 * kept value (by bytes in + out) is folded into the field's `other` row,
 * which sums what it holds and counts the values folded
 * (fk_prefixstats_row::folded, fk_prefixstats_stats::values_folded). The sums
 * are exact: the kept rows plus `other` always equal `all`. At most
 * `max_prefixes` (sender, prefix) pairs have statistics; a new pair beyond
 * that evicts the one updated least recently (counted). Each granularity
 * keeps its last `keep_*` buckets (0 turns it off); older buckets are freed
 * (counted). fk_prefixstats_stats::memory_bound states the most memory the
 * parameters allow.
 *
 * **Time.** Buckets are UTC calendar periods. A record falls in the bucket
 * of its end time (`end_ns`, else `start_ns`, else the clock). The clock is
 * the newest of the record times and the times given to
 * fk_prefixstats_advance(); retention is measured from it. Once
 * fk_prefixstats_advance() has been called, a record time more than
 * `max_ahead` seconds after the last advance time counts at that time
 * instead (counted in fk_prefixstats_stats::clamped), so one exporter with a
 * wrong clock cannot expire everyone's history. A record older than a
 * granularity's retention is not counted in that granularity (counted in
 * fk_prefixstats_stats::late).
 *
 * **Bucket names** are wasted/netflow's: `"2026"` (year), `"2026-12"`
 * (month), `"2026-12-06"` (day), `"2026-12-06 09"` (hour), `"2026-12-06
 * 09:05"` (minute); see fk_prefixstats_bucket_parse().
 *
 * **Threads.** fk_prefixstats_create(), the setters, fk_prefixstats_set_senders(),
 * fk_prefixstats_activate() and fk_prefixstats_destroy() are used by one
 * thread. After activate every other function may be called from any
 * number of threads at once: they serialize on a mutex inside the handle,
 * and queries copy their answer into caller memory.
 *
 * @since 0.2.0
 */
#ifndef FLOWKIT_PREFIXSTATS_H
#define FLOWKIT_PREFIXSTATS_H

#include <flowkit/common.h>
#include <flowkit/flow.h>
#include <flowkit/params.h>
#include <flowkit/senders.h>

FK_BEGIN_DECLS

/** Opaque prefix-statistics handle. @since 0.2.0 */
typedef struct fk_prefixstats fk_prefixstats;

/** Parameters (see fk_prefixstats_params() for bounds and defaults). @since 0.2.0 */
typedef enum fk_prefixstats_param {
    /** Values kept per field and bucket; the rest are folded into `other`. */
    FK_PREFIXSTATS_TOP_VALUES = 100,
    /** (sender, prefix) pairs with statistics; beyond, the least recently updated is evicted. */
    FK_PREFIXSTATS_MAX_PREFIXES = 101,
    /** Minute buckets kept per prefix (0 = no minute statistics). */
    FK_PREFIXSTATS_KEEP_MINUTES = 102,
    /** Hour buckets kept per prefix (0 = none). */
    FK_PREFIXSTATS_KEEP_HOURS = 103,
    /** Day buckets kept per prefix (0 = none). */
    FK_PREFIXSTATS_KEEP_DAYS = 104,
    /** Month buckets kept per prefix (0 = none). */
    FK_PREFIXSTATS_KEEP_MONTHS = 105,
    /** Year buckets kept per prefix (0 = none). */
    FK_PREFIXSTATS_KEEP_YEARS = 106,
    /** Seconds a record time may lie after the last fk_prefixstats_advance() time. */
    FK_PREFIXSTATS_MAX_AHEAD_SEC = 107
} fk_prefixstats_param;

/** A bucket's length. @since 0.2.0 */
typedef enum fk_prefixstats_granularity {
    FK_PREFIXSTATS_MINUTE = 0, /**< UTC minute, named "YYYY-MM-DD HH:MM". */
    FK_PREFIXSTATS_HOUR = 1,   /**< UTC hour, "YYYY-MM-DD HH". */
    FK_PREFIXSTATS_DAY = 2,    /**< UTC day, "YYYY-MM-DD". */
    FK_PREFIXSTATS_MONTH = 3,  /**< UTC calendar month, "YYYY-MM". */
    FK_PREFIXSTATS_YEAR = 4    /**< UTC calendar year, "YYYY". */
} fk_prefixstats_granularity;

/** Number of granularities. @since 0.2.0 */
#define FK_PREFIXSTATS_GRANULARITIES 5

/** What a row counts. @since 0.2.0 */
typedef enum fk_prefixstats_field {
    FK_PREFIXSTATS_ALL = 0,     /**< All traffic of the prefix ("all"). */
    FK_PREFIXSTATS_PROTO = 1,   /**< Per IP protocol number ("proto"). */
    FK_PREFIXSTATS_SRCPORT = 2, /**< Per source port ("srcport"). */
    FK_PREFIXSTATS_DSTPORT = 3, /**< Per destination port ("dstport"). */
    FK_PREFIXSTATS_SRCAS = 4,   /**< Per source AS number ("srcas"; 0 when the record has none). */
    FK_PREFIXSTATS_DSTAS = 5,   /**< Per destination AS number ("dstas"). */
    FK_PREFIXSTATS_SRCIP = 6,   /**< Per source address ("srcip"). */
    FK_PREFIXSTATS_DSTIP = 7    /**< Per destination address ("dstip"). */
} fk_prefixstats_field;

/** Number of fields, `all` included. @since 0.2.0 */
#define FK_PREFIXSTATS_FIELDS 8

/** A bucket: its granularity and its first instant. @since 0.2.0 */
typedef struct fk_prefixstats_bucket {
    fk_prefixstats_granularity granularity; /**< The bucket's length. */
    int64_t start_ns;                       /**< Its first instant, ns since the epoch (UTC). */
} fk_prefixstats_bucket;

/** One row of a bucket. @since 0.2.0 */
typedef struct fk_prefixstats_row {
    fk_prefixstats_field field; /**< What the row counts. */
    uint8_t other;              /**< 1: the field's `other` row (values folded); `number`
                                     and `addr` unused. */
    uint32_t number;            /**< The value of proto, srcport, dstport, srcas, dstas. */
    fk_addr addr;               /**< The value of srcip, dstip. */
    uint64_t folded;            /**< `other` row: values folded into it. */
    uint64_t in_bytes;          /**< Bytes into the prefix. */
    uint64_t in_packets;        /**< Packets into the prefix. */
    uint64_t in_flows;          /**< Flows (records) into the prefix. */
    uint64_t out_bytes;         /**< Bytes out of the prefix. */
    uint64_t out_packets;       /**< Packets out of the prefix. */
    uint64_t out_flows;         /**< Flows (records) out of the prefix. */
} fk_prefixstats_row;

/** Counters of a handle (fk_prefixstats_get_stats()). @since 0.2.0 */
typedef struct fk_prefixstats_stats {
    uint64_t records;          /**< Records given to fk_prefixstats_add_flow(). */
    uint64_t accounted;        /**< Records that counted for at least one prefix. */
    uint64_t unmatched;        /**< Records of an unknown sender or outside its prefixes. */
    uint64_t late;             /**< (record, prefix, granularity) additions refused:
                                    older than the granularity's retention. */
    uint64_t clamped;          /**< Records counted at the advance time (`max_ahead`). */
    uint64_t prefixes;         /**< (sender, prefix) pairs with statistics now. */
    uint64_t prefixes_evicted; /**< Pairs evicted to make room (`max_prefixes`). */
    uint64_t prefixes_skipped; /**< Prefix matches beyond the 16 a record may count for. */
    uint64_t buckets;          /**< Buckets held now. */
    uint64_t buckets_expired;  /**< Buckets freed: out of retention. */
    uint64_t values_folded;    /**< Values folded into an `other` row (`top_values`). */
    uint64_t memory_bytes;     /**< Memory held now (buckets and tables), bytes. */
    uint64_t memory_bound;     /**< Most memory the parameters allow, bytes. */
} fk_prefixstats_stats;

/**
 * Create a handle with default parameters.
 *
 * @param out receives the handle; release it with fk_prefixstats_destroy().
 * @return 0, `FK_EINVAL` or `FK_ENOMEM`.
 * @since 0.2.0
 */
FK_API int fk_prefixstats_create(fk_prefixstats **out);

/**
 * Free a handle and everything it holds. NULL is a no-op. A collector
 * feeding it (fk_collector_set_prefixstats()) must be destroyed first.
 *
 * @param ps the handle.
 * @since 0.2.0
 */
FK_API void fk_prefixstats_destroy(fk_prefixstats *ps);

/**
 * The parameter table.
 *
 * @param count receives the number of entries (may be NULL).
 * @return the static table.
 * @since 0.2.0
 */
FK_API const fk_param_info *fk_prefixstats_params(size_t *count);

/**
 * Set an integer parameter (before activate).
 *
 * @param ps the handle.
 * @param param a ::fk_prefixstats_param value.
 * @param value the value, within the table's bounds (never clamped).
 * @return 0, `FK_EINVAL`, `FK_ENOTFOUND`, `FK_ETYPE`, `FK_ERANGE` or `FK_EACTIVATED`.
 * @since 0.2.0
 */
FK_API int fk_prefixstats_set_int(fk_prefixstats *ps, int param, int64_t value);

/**
 * Set a double parameter (there is none today; kept for the common shape).
 *
 * @param ps the handle.
 * @param param a ::fk_prefixstats_param value.
 * @param value the value.
 * @return as fk_prefixstats_set_int(); `FK_ETYPE` for every current parameter.
 * @since 0.2.0
 */
FK_API int fk_prefixstats_set_double(fk_prefixstats *ps, int param, double value);

/**
 * Set a string parameter (there is none today; kept for the common shape).
 *
 * @param ps the handle.
 * @param param a ::fk_prefixstats_param value.
 * @param value the value (copied).
 * @return as fk_prefixstats_set_int(); `FK_ETYPE` for every current parameter.
 * @since 0.2.0
 */
FK_API int fk_prefixstats_set_str(fk_prefixstats *ps, int param, const char *value);

/**
 * Set a parameter by its table name from text ("keep_days", "90").
 *
 * @param ps the handle.
 * @param name the parameter name ('-' matches '_').
 * @param text the value as text.
 * @return as fk_prefixstats_set_int(), or `FK_EINVAL` when @p text does not parse.
 * @since 0.2.0
 */
FK_API int fk_prefixstats_set_text(fk_prefixstats *ps, const char *name, const char *text);

/**
 * Read an integer parameter.
 *
 * @param ps the handle.
 * @param param a ::fk_prefixstats_param value.
 * @param out receives the value.
 * @return 0, `FK_EINVAL`, `FK_ENOTFOUND` or `FK_ETYPE`.
 * @since 0.2.0
 */
FK_API int fk_prefixstats_get_int(const fk_prefixstats *ps, int param, int64_t *out);

/**
 * Take the prefixes from a senders registry (before activate; required).
 *
 * @param ps the handle.
 * @param senders the registry, borrowed: it must outlive the handle. It may
 *        change at any time; each record is counted against the prefixes it
 *        holds when the record is added.
 * @return 0, `FK_EINVAL` (NULL argument) or `FK_EACTIVATED`.
 * @since 0.2.0
 */
FK_API int fk_prefixstats_set_senders(fk_prefixstats *ps, fk_senders *senders);

/**
 * Make the handle live.
 *
 * @param ps the handle.
 * @return 0, `FK_EINVAL` (no senders registry), `FK_EACTIVATED` or
 *         `FK_ENOMEM`; on failure the handle stays configurable.
 * @since 0.2.0
 */
FK_API int fk_prefixstats_activate(fk_prefixstats *ps);

/**
 * Count one record (see the file comment for the rules).
 *
 * @param ps an activated handle.
 * @param sender the address the record came from (the exporter).
 * @param flow the record; borrowed for the call. Session events
 *        (::fk_flow::event != 0) are not traffic and are ignored.
 * @return the number of prefixes it counted for (0 when none),
 *         `FK_EINVAL` (NULL argument or not activated) or `FK_ENOMEM` (the
 *         record may be counted in part).
 * @since 0.2.0
 */
FK_API int fk_prefixstats_add_flow(fk_prefixstats *ps, const fk_addr *sender, const fk_flow *flow);

/**
 * Move the clock forward to @p now_ns (never back) and free the buckets
 * that fall out of retention. A program counting live records calls it
 * with the wall clock now and then (flowkit-collect: every dispatch).
 *
 * @param ps an activated handle.
 * @param now_ns nanoseconds since the epoch.
 * @return 0 or `FK_EINVAL`.
 * @since 0.2.0
 */
FK_API int fk_prefixstats_advance(fk_prefixstats *ps, int64_t now_ns);

/**
 * The clock: the newest record time or fk_prefixstats_advance() time.
 *
 * @param ps an activated handle.
 * @return ns since the epoch; 0 before anything was added or advanced.
 * @since 0.2.0
 */
FK_API int64_t fk_prefixstats_get_now(fk_prefixstats *ps);

/**
 * Copy the counters.
 *
 * @param ps the handle.
 * @param out receives the counters.
 * @param size `sizeof *out` as the caller was built (see @ref conventions,
 *        "Struct versions").
 * @return 0 or `FK_EINVAL` (NULL argument, @p size below 8).
 * @since 0.2.0
 */
FK_API int fk_prefixstats_get_stats(fk_prefixstats *ps, fk_prefixstats_stats *out, size_t size);

/**
 * The rows of one field of one bucket of one (sender, prefix): for
 * #FK_PREFIXSTATS_ALL one row; for another field the kept values, most bytes
 * (in + out) first, then the `other` row when anything was folded. Rows
 * that counted nothing are left out.
 *
 * @param ps an activated handle.
 * @param sender the sender's address, "192.0.2.1".
 * @param prefix the prefix as the registry holds it, "198.51.100.0/24".
 * @param bucket the bucket (its start_ns may be any instant inside it).
 * @param field what to list.
 * @param out caller's array.
 * @param capacity its length; `top_values + 1` always suffices.
 * @param count receives the number of rows written.
 * @return 0 (also with no rows: a bucket without traffic or out of
 *         retention), `FK_ENOTFOUND` (the pair has no statistics and the
 *         registry does not list it), `FK_ENOSPACE` (@p capacity too small;
 *         nothing written), `FK_EINVAL`.
 * @since 0.2.0
 */
FK_API int fk_prefixstats_get_rows(fk_prefixstats *ps, const char *sender, const char *prefix,
                                   const fk_prefixstats_bucket *bucket, fk_prefixstats_field field,
                                   fk_prefixstats_row *out, size_t capacity, size_t *count);

/**
 * Parse a bucket name: "YYYY", "YYYY-MM", "YYYY-MM-DD", "YYYY-MM-DD HH" or
 * "YYYY-MM-DD HH:MM" (UTC; the form gives the granularity; years 1970 to
 * 2261, as int64_t nanoseconds reach; exactly these digits, nothing around them).
 *
 * @param text the name.
 * @param out receives the granularity and the bucket's first instant.
 * @return 0 or `FK_EINVAL` (with a message). Thread-safe.
 * @since 0.2.0
 */
FK_API int fk_prefixstats_bucket_parse(const char *text, fk_prefixstats_bucket *out);

/**
 * Name the bucket holding @p bucket->start_ns at its granularity, in the
 * form fk_prefixstats_bucket_parse() reads.
 *
 * @param bucket the bucket.
 * @param buf output buffer (NUL-terminated), 17 bytes suffice.
 * @param size its size.
 * @return the length written, `FK_ENOSPACE` or `FK_EINVAL` (a time before
 *         1970 or after 2261). Thread-safe.
 * @since 0.2.0
 */
FK_API int fk_prefixstats_bucket_format(const fk_prefixstats_bucket *bucket, char *buf,
                                        size_t size);

/**
 * The name of a field: "all", "proto", "srcport", "dstport", "srcas",
 * "dstas", "srcip", "dstip".
 *
 * @param field the field.
 * @return a static string; "unknown" for other values.
 * @since 0.2.0
 */
FK_API const char *fk_prefixstats_field_name(fk_prefixstats_field field);

/**
 * Look a field up by its name (as fk_prefixstats_field_name() gives it).
 *
 * @param name the name.
 * @param out receives the field.
 * @return 0 or `FK_ENOTFOUND`.
 * @since 0.2.0
 */
FK_API int fk_prefixstats_field_lookup(const char *name, fk_prefixstats_field *out);

FK_END_DECLS

#endif /* FLOWKIT_PREFIXSTATS_H */
