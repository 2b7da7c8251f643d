/* Internal: the one JSON string writer of the library. Every JSON string
 * the library (and, through fk_json_string_format(), every tool) writes
 * goes through fk__json_escape(), so the rules below hold everywhere:
 *  - '"' and '\' are escaped with a backslash; bytes below 0x20 and DEL
 *    (0x7f) become \u00XX;
 *  - valid UTF-8 (RFC 3629: shortest form, no surrogates, at most U+10FFFF)
 *    is copied as it is;
 *  - every maximal ill-formed subsequence (Unicode 15 §3.9, "substitution
 *    of maximal subparts") becomes one U+FFFD, written as its UTF-8 bytes
 *    EF BF BD. So the output is valid UTF-8 and valid JSON whatever bytes
 *    come in (process names, exe paths, strings from exporters). */
#ifndef FK_CORE_JSON_H
#define FK_CORE_JSON_H

#include <stddef.h>
#include <stdint.h>

/* The most output bytes one input byte can become ("\u001f"). */
#define FK__JSON_ESCAPE_MAX 6

/* Length of the valid UTF-8 sequence that starts at p[0..n), or 0 when the
 * bytes there are not one. */
size_t fk__utf8_sequence_len(const uint8_t *p, size_t n);

/* Write the JSON string content (no quotes) of src[0..n) to dst, which has
 * room for n * FK__JSON_ESCAPE_MAX bytes; NUL bytes inside are escaped like
 * other control bytes (callers stop at a NUL with strnlen() when they mean
 * C strings). dst NULL: only count. Returns the bytes written. */
size_t fk__json_escape(char *dst, const void *src, size_t n);

#endif
