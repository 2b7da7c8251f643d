/**
 * @file json.h
 * @brief The JSON string writer every flowkit JSON output uses.
 *
 * Every JSON text flowkit writes (flow and session lines, rank snapshots,
 * IPFIX records, NetFlow options, the console's API) is valid UTF-8, whatever
 * bytes the names in it came with: process names, exe paths and command
 * lines are whatever the kernel holds, and strings from exporters are
 * whatever they sent. The rule is that of fk_json_string_format().
 *
 * @since 0.2.0
 */
#ifndef FLOWKIT_JSON_H
#define FLOWKIT_JSON_H

#include <flowkit/common.h>

FK_BEGIN_DECLS

/**
 * Write bytes as a JSON string literal, quotes included.
 *
 * A double quote and a backslash are escaped with a backslash, bytes below
 * 0x20 and DEL (0x7f) become `\u00XX` (so a NUL byte inside @p text is
 * written as `\u0000`), valid UTF-8 (RFC 3629: shortest form, no
 * surrogates, at most U+10FFFF) is copied unchanged, and each maximal
 * ill-formed subsequence (Unicode §3.9, "substitution of maximal
 * subparts") is replaced by one U+FFFD REPLACEMENT CHARACTER, written as
 * its UTF-8 bytes EF BF BD. A name that
 * was cut inside a multi-byte character (such as a kernel task name, at 15
 * bytes) therefore ends in U+FFFD. The result is always valid UTF-8 and
 * valid JSON.
 *
 * One input byte becomes at most 6 output bytes: a buffer of
 * `6 * len + 3` bytes always suffices.
 *
 * @param text the bytes (need not be NUL-terminated; borrowed for the call).
 * @param len number of bytes of @p text to write.
 * @param buf output; receives the literal and a terminating NUL.
 * @param size size of @p buf.
 * @return the length written (without the NUL), or `FK_EINVAL` (NULL
 *         pointer) or `FK_ENOSPACE` (@p buf too small; nothing useful
 *         written) with details in fk_error_last(). Thread-safe.
 * @since 0.2.0
 */
FK_API int fk_json_string_format(const char *text, size_t len, char *buf, size_t size);

FK_END_DECLS

#endif /* FLOWKIT_JSON_H */
