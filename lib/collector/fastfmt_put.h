/* Internal: the text primitives fastfmt.c (from an fk_flow) and
 * fastfmt_rec.c (from a record's bytes, lib/collector/recplan.h) share:
 * numbers, addresses and times written without printf. Static inline, so
 * each writer keeps them inlined in its own loop. */
#ifndef FK_COLLECTOR_FASTFMT_PUT_H
#define FK_COLLECTOR_FASTFMT_PUT_H

#include <stdbool.h>
#include <string.h>
#include <time.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "collector/fastfmt.h"
#include "core/bytes.h"

static inline char *put_str(char *p, const char *s, size_t n)
{
    memcpy(p, s, n);
    return p + n;
}

#define PUT_LIT(p, lit) put_str((p), (lit), sizeof(lit) - 1)

/* "00".."99" (fastfmt.c). */
extern const char fk__fastfmt_digit_pairs[201];

/* Decimal digits of v (>= 100), written in place from the last two at a
 * time; 32-bit arithmetic (cheaper divisions by 100) below 2^32. */
static inline char *put_u64_long(char *p, uint64_t v)
{
    int n;
    if (v <= UINT32_MAX) {
        uint32_t w = (uint32_t)v;
        n = w < 1000u         ? 3
            : w < 10000u      ? 4
            : w < 100000u     ? 5
            : w < 1000000u    ? 6
            : w < 10000000u   ? 7
            : w < 100000000u  ? 8
            : w < 1000000000u ? 9
                              : 10;
        char *q = p + n;
        while (w >= 100) {
            uint32_t r = w % 100;
            w /= 100;
            q -= 2;
            memcpy(q, fk__fastfmt_digit_pairs + 2 * r, 2);
        }
        if (w >= 10)
            memcpy(q - 2, fk__fastfmt_digit_pairs + 2 * w, 2);
        else
            q[-1] = (char)('0' + w);
        return p + n;
    }
    n = 10;
    for (uint64_t t = 10000000000ull; n < 20 && v >= t; t *= 10)
        n++;
    char *end = p + n, *q = end;
    while (v >= 100) {
        unsigned r = (unsigned)(v % 100);
        v /= 100;
        q -= 2;
        memcpy(q, fk__fastfmt_digit_pairs + 2 * r, 2);
    }
    if (v >= 10)
        memcpy(q - 2, fk__fastfmt_digit_pairs + 2 * v, 2);
    else
        q[-1] = (char)('0' + v);
    return end;
}

/* Small values (protocols, flags, versions, odids) without the call. */
static inline char *put_u64(char *p, uint64_t v)
{
    if (v < 10) {
        *p = (char)('0' + v);
        return p + 1;
    }
    if (v < 100) {
        memcpy(p, fk__fastfmt_digit_pairs + 2 * v, 2);
        return p + 2;
    }
    if (v < 10000) { /* ports, counters of small flows */
        unsigned w = (unsigned)v, hi = w / 100, lo = w % 100;
        if (hi < 10) {
            *p = (char)('0' + hi);
            memcpy(p + 1, fk__fastfmt_digit_pairs + 2 * lo, 2);
            return p + 3;
        }
        memcpy(p, fk__fastfmt_digit_pairs + 2 * hi, 2);
        memcpy(p + 2, fk__fastfmt_digit_pairs + 2 * lo, 2);
        return p + 4;
    }
    return put_u64_long(p, v);
}

/* "0".."255" with their lengths, so an IPv4 address is four copies. */
extern const char fk__fastfmt_octet_text[256][4];

static inline char *put_ipv4(char *p, const uint8_t *b)
{
    for (int i = 0; i < 4; i++) {
        const char *t = fk__fastfmt_octet_text[b[i]];
        memcpy(p, t, 4); /* the 4th byte is overwritten next */
        p += t[3];
        *p++ = '.';
    }
    return p - 1;
}

/* Lowercase hex text of the 32-bit value x: 8 digits, most significant
 * first, in memory order (one nibble per byte, then '0'..'9'/'a'..'f'
 * byte-wise: no byte carries into the next). */
static inline uint64_t hex8_swar(uint32_t x)
{
    uint64_t v = x;
    v = (v | v << 16) & 0x0000ffff0000ffffull;
    v = (v | v << 8) & 0x00ff00ff00ff00ffull;
    v = (v | v << 4) & 0x0f0f0f0f0f0f0f0full;
    v += 0x3030303030303030ull + ((v + 0x0606060606060606ull) >> 4 & 0x0101010101010101ull) * 39;
    return FK__BE64(v);
}

/* The 32 hex digits of the 16 bytes at b, into h[0..31]: group i of an
 * IPv6 address is h[4i..4i+3]. Portable form. */
static inline void hex32_swar(char *h, const uint8_t *b)
{
    for (int i = 0; i < 4; i++) {
        uint64_t v = hex8_swar(fk__get32(b + 4 * i));
        memcpy(h + 8 * i, &v, 8);
    }
}

/* The same, with SSE2 where the target has it (x86-64 always does). */
static inline void hex32(char *h, const uint8_t *b)
{
#if defined(__SSE2__)
    const __m128i low = _mm_set1_epi8(0x0f), nine = _mm_set1_epi8(9);
    const __m128i zero = _mm_set1_epi8('0'), gap = _mm_set1_epi8('a' - '0' - 10);
    __m128i x = _mm_loadu_si128((const __m128i *)(const void *)b);
    __m128i hi = _mm_and_si128(_mm_srli_epi16(x, 4), low), lo = _mm_and_si128(x, low);
    __m128i d0 = _mm_unpacklo_epi8(hi, lo), d1 = _mm_unpackhi_epi8(hi, lo);
    d0 = _mm_add_epi8(_mm_add_epi8(d0, zero), _mm_and_si128(_mm_cmpgt_epi8(d0, nine), gap));
    d1 = _mm_add_epi8(_mm_add_epi8(d1, zero), _mm_and_si128(_mm_cmpgt_epi8(d1, nine), gap));
    _mm_storeu_si128((__m128i *)(void *)h, d0);
    _mm_storeu_si128((__m128i *)(void *)(h + 16), d1);
#else
    hex32_swar(h, b);
#endif
}

/* Group g of an IPv6 address without leading zeros, from its 4 digits in
 * h (which has 4 readable bytes after the last group): writes 4 bytes
 * whatever its length (the callers' buffers have the
 * room; the next writes overwrite the extra), without a branch. */
static inline char *put_group(char *p, const char *h, const uint8_t *b, int g)
{
    unsigned w = (unsigned)fk__get16(b + 2 * g) | 1u;
    int n = (35 - __builtin_clz(w)) >> 2; /* 1..4 digits */
    memcpy(p, h + 4 * g + 4 - n, 4);
    return p + n;
}

extern const unsigned char fk__fastfmt_zero_run[256]; /* fastfmt.c */

/* The text inet_ntop(AF_INET6) gives (glibc, RFC 5952 style): the first
 * longest run of two or more zero groups becomes "::", and an address
 * whose first 96 bits are zero (IPv4-compatible) or ::ffff:0:0/96
 * (IPv4-mapped) ends in dotted quad. */
/* Bit i set when 16-bit group i of x is zero (group 0: the top bits). */
static inline unsigned zero_groups(uint64_t x)
{
    const uint64_t low15 = 0x7fff7fff7fff7fffull;
    uint64_t nonzero = ((x & low15) + low15) | x; /* top bit of a group: it is not 0 */
    uint64_t z = ~nonzero & 0x8000800080008000ull;
    return (unsigned)(z >> 63 | (z >> 46 & 2) | (z >> 29 & 4) | (z >> 12 & 8));
}

static inline char *put_ipv6(char *p, const uint8_t *b)
{
    unsigned run =
        fk__fastfmt_zero_run[zero_groups(fk__get64(b)) | zero_groups(fk__get64(b + 8)) << 4];
    int best = run ? (int)(run >> 4) : 8, end = run ? best + (int)(run & 15) : 8;
    if (best == 0 && (end == 6 || (end == 5 && b[10] == 0xff && b[11] == 0xff)))
        return put_ipv4(end == 6 ? PUT_LIT(p, "::") : PUT_LIT(p, "::ffff:"), b + 12);
    char h[36]; /* put_group reads up to 3 bytes past group 7 */
    hex32(h, b);
    memset(h + 32, 0, 4);
    for (int i = 0; i < best; i++) {
        p = put_group(p, h, b, i);
        *p++ = ':';
    }
    if (run) {
        if (best == 0)
            *p++ = ':';
        *p++ = ':';
    }
    for (int i = end; i < 8; i++) {
        p = put_group(p, h, b, i);
        *p++ = ':';
    }
    return end < 8 || !run ? p - 1 : p; /* the last group's ':' goes */
}

static inline char *put_addr(char *p, const fk_addr *a)
{
    if (a->family == 4)
        return put_ipv4(p, a->bytes);
    if (a->family == 6)
        return put_ipv6(p, a->bytes);
    return p;
}

/* The exporter's text, formatted once per run of records from it. */
static inline char *put_exporter(fk__fastfmt *c, char *p, const fk_addr *a)
{
    if (c->exporter.family != a->family || memcmp(c->exporter.bytes, a->bytes, 16) != 0) {
        char *end = put_addr(c->exporter_text, a);
        c->exporter_len = (int)(end - c->exporter_text);
        c->exporter = *a;
    }
    /* The whole buffer, a copy of constant size (a few vector moves rather
     * than a call); the output has room for it (FK__FASTFMT_MAX keeps a
     * margin over the longest address). */
    memcpy(p, c->exporter_text, sizeof c->exporter_text);
    return p + c->exporter_len;
}

/* ".000".."999" (fastfmt.c): a time's milliseconds. */
extern const char fk__fastfmt_ms_text[1000][4];

/* put_time_parts when second sec is not among c's two cached seconds
 * (fastfmt.c): caches its text and writes the time. */
char *fk__fastfmt_time_miss(fk__fastfmt *c, char *p, int64_t sec, int ms, int64_t ns);

/* "YYYY-MM-DDTHH:MM:SS.mmmZ" (24 bytes) of second sec and millisecond ms
 * (0..999); fk_time_format(ns)'s text for years outside 0..9999. A cached
 * second costs two copies; the rest is out of line. */
static inline char *put_time_parts(fk__fastfmt *c, char *p, int64_t sec, int ms, int64_t ns)
{
    int slot = c->valid[1] && c->sec[1] == sec ? 1 : c->valid[0] && c->sec[0] == sec ? 0 : -1;
    if (__builtin_expect(slot < 0, 0))
        return fk__fastfmt_time_miss(c, p, sec, ms, ns);
    p = put_str(p, c->text[slot], 19);
    memcpy(p, fk__fastfmt_ms_text[ms], 4);
    p[4] = 'Z';
    return p + 5;
}

/* The same of a time in ns since the epoch. */
static inline char *put_time(fk__fastfmt *c, char *p, int64_t ns)
{
    int64_t sec = ns / 1000000000, rem = ns % 1000000000;
    if (rem < 0) {
        rem += 1000000000;
        sec -= 1;
    }
    return put_time_parts(c, p, sec, (int)(rem / 1000000), ns);
}

#endif
