/**
 * @file senders.h
 * @brief The senders registry: which exporters a collector accepts, and for
 *        which networks each may report flows.
 *
 * A registry lists senders (exporter addresses, as the datagrams or TCP
 * connections come from them), each with the prefixes it may report. A
 * collector given a registry (fk_collector_set_senders()) drops, and
 * counts:
 *  - every record from an address that is not a sender
 *    (fk_collector_stats::sender_unknown);
 *  - every record of a sender with prefixes whose source and destination
 *    both lie outside them (fk_collector_stats::sender_outside, and the
 *    sender's own `outside` counter). A sender without prefixes may report
 *    any address.
 *
 * The registry may change while the collector runs, from any thread
 * (fk_senders_add_prefix(), fk_senders_forget(), fk_senders_parse()): it
 * is guarded by its own lock, and a record is checked against the registry
 * as it is when the record is delivered. flowkit-collect fills it from a
 * file (`--senders FILE`, read again on SIGHUP) and, with `--http`, from
 * `PUT/DELETE/GET /senders[/IP]` requests signed with HMAC-SHA256
 * (wasted/netflow's scheme; docs/console.md).
 *
 * The file format (fk_senders_parse()) is one sender per line, its address
 * then the prefixes it may report, separated by blanks; `#` starts a
 * comment:
 *
 *     # sender       prefixes
 *     192.0.2.1      198.51.100.0/24 2001:db8::/32
 *     2001:db8::7    2001:db8:7::/48
 *     192.0.2.9      # any address
 *
 * @since 0.2.0
 */
#ifndef FLOWKIT_SENDERS_H
#define FLOWKIT_SENDERS_H

#include <flowkit/common.h>
#include <flowkit/flow.h>

#ifdef __cplusplus
extern "C" {
#endif

/** A senders registry (opaque). @since 0.2.0 */
typedef struct fk_senders fk_senders;

/** Most senders a registry holds. @since 0.2.0 */
#define FK_SENDERS_MAX 65536
/** Most prefixes one sender holds. @since 0.2.0 */
#define FK_SENDERS_PREFIXES_MAX 1024

/**
 * Create an empty registry.
 *
 * @param out receives the registry; release it with fk_senders_destroy().
 * @return 0 or `FK_ENOMEM`.
 * @since 0.2.0
 */
FK_API int fk_senders_create(fk_senders **out);

/**
 * Free a registry. NULL is a no-op. A collector using it must be destroyed
 * first (or given another registry).
 *
 * @param s the registry.
 * @since 0.2.0
 */
FK_API void fk_senders_destroy(fk_senders *s);

/**
 * Add a sender, or a prefix to a sender (creating the sender when new).
 *
 * @param s the registry.
 * @param sender the sender's address, "192.0.2.1" or "2001:db8::1".
 * @param prefix a prefix it may report, "198.51.100.0/24" (a bare address is
 *        a /32 or /128), or NULL to add the sender alone.
 * @return 0; `FK_EINVAL` (bad address or prefix, with a message),
 *         `FK_ERANGE` (more than #FK_SENDERS_MAX senders or
 *         #FK_SENDERS_PREFIXES_MAX prefixes), `FK_ENOMEM`.
 * Thread-safe.
 * @since 0.2.0
 */
FK_API int fk_senders_add_prefix(fk_senders *s, const char *sender, const char *prefix);

/**
 * Remove a sender, or one of its prefixes.
 *
 * @param s the registry.
 * @param sender the sender's address.
 * @param prefix the prefix to remove, or NULL to remove the sender itself.
 * @return 0; `FK_ENOTFOUND` (no such sender or prefix), `FK_EINVAL`.
 * Thread-safe.
 * @since 0.2.0
 */
FK_API int fk_senders_forget(fk_senders *s, const char *sender, const char *prefix);

/**
 * Replace the whole registry by the senders of a text in the file format
 * above. On error nothing changes.
 *
 * @param s the registry.
 * @param text the text (need not be NUL-terminated; a NUL byte is an error).
 * @param len its length in bytes.
 * @param error_line receives the 1-based line of an error (0 when none);
 *        may be NULL.
 * @return 0; `FK_EINVAL` with a message naming the line, `FK_ERANGE`,
 *         `FK_ENOMEM`.
 * Thread-safe.
 * @since 0.2.0
 */
FK_API int fk_senders_parse(fk_senders *s, const char *text, size_t len, size_t *error_line);

/**
 * Number of senders.
 * @param s the registry.
 * @return the count. Thread-safe.
 * @since 0.2.0
 */
FK_API size_t fk_senders_get_count(fk_senders *s);

/**
 * Check a record against the registry, as the collector does, and count it
 * in the sender's counters.
 *
 * @param s the registry.
 * @param sender the address the record came from.
 * @param flow the record (its `src` and `dst`).
 * @return 1 accepted; 0 the sender is unknown; -1 the record lies outside
 *         the sender's prefixes. Thread-safe.
 * @since 0.2.0
 */
FK_API int fk_senders_match(fk_senders *s, const fk_addr *sender, const fk_flow *flow);

/**
 * The registry, or one sender, as JSON:
 * `[{"sender":"192.0.2.1","prefixes":[{"prefix":"198.51.100.0","prefixLen":24},...],
 * "accepted":N,"outside":N},...]` (one object, not an array, with @p sender).
 * Senders are in address order; "accepted" and "outside" count records since
 * the sender was added.
 *
 * @param s the registry.
 * @param sender one sender's address, or NULL for all.
 * @param buf output buffer (NUL-terminated on success).
 * @param size its size; fk_senders_json_size() always suffices.
 * @return length written; `FK_ENOSPACE`, `FK_ENOTFOUND` (no such sender),
 *         `FK_EINVAL`.
 * Thread-safe.
 * @since 0.2.0
 */
FK_API int fk_senders_to_json(fk_senders *s, const char *sender, char *buf, size_t size);

/**
 * Buffer size that holds fk_senders_to_json() of the registry as it is now
 * (a registry changed by another thread meanwhile may need more).
 * @param s the registry.
 * @return bytes, NUL included. Thread-safe.
 * @since 0.2.0
 */
FK_API size_t fk_senders_json_size(fk_senders *s);

#ifdef __cplusplus
}
#endif

#endif
