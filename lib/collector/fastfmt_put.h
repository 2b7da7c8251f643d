/* Internal: the text primitives fastfmt.c (from an fk_flow) and
 * fastfmt_rec.c (from a record's bytes, lib/collector/recplan.h) share:
 * numbers, addresses and times written without printf. Static inline, so
 * each writer keeps them inlined in its own loop. */
#ifndef FK_COLLECTOR_FASTFMT_PUT_H
#define FK_COLLECTOR_FASTFMT_PUT_H

#include <stdbool.h>
#include <string.h>
#include <time.h>

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

/* "00".."ff" (fastfmt.c). */
extern const char fk__fastfmt_hex_pairs[513];

/* One 16-bit group in lowercase hex without leading zeros. Writes 4
 * bytes whatever its length (the callers' buffers have the room; the
 * next writes overwrite the extra), without a branch per digit. */
static inline char *put_hex16(char *p, unsigned w)
{
    char t[12];
    memcpy(t + 4, fk__fastfmt_hex_pairs + 2 * (w >> 8), 2);
    memcpy(t + 6, fk__fastfmt_hex_pairs + 2 * (w & 0xff), 2);
    memset(t + 8, 0, 4);
    int n = 1 + (w > 0xf) + (w > 0xff) + (w > 0xfff);
    memcpy(p, t + 8 - n, 4);
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
    uint64_t hi, lo;
    memcpy(&hi, b, 8);
    memcpy(&lo, b + 8, 8);
    hi = FK__BE64(hi);
    lo = FK__BE64(lo);
    unsigned run = fk__fastfmt_zero_run[zero_groups(hi) | zero_groups(lo) << 4];
    int best = run ? (int)(run >> 4) : 8, end = run ? best + (int)(run & 15) : 8;
#define GROUP(i) ((unsigned)(((i) < 4 ? hi >> (48 - 16 * (i)) : lo >> (112 - 16 * (i))) & 0xffff))
    if (best == 0 && (end == 6 || (end == 5 && GROUP(5) == 0xffff)))
        return put_ipv4(end == 6 ? PUT_LIT(p, "::") : PUT_LIT(p, "::ffff:"), b + 12);
    for (int i = 0; i < best; i++) {
        p = put_hex16(p, GROUP(i));
        *p++ = ':';
    }
    if (run) {
        if (best == 0)
            *p++ = ':';
        *p++ = ':';
    }
    for (int i = end; i < 8; i++) {
        p = put_hex16(p, GROUP(i));
        *p++ = ':';
    }
#undef GROUP
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

static inline char *put2(char *p, int v)
{
    *p++ = (char)('0' + v / 10);
    *p++ = (char)('0' + v % 10);
    return p;
}

/* "YYYY-MM-DDTHH:MM:SS.mmmZ" (24 bytes) of second sec and millisecond ms;
 * falls back to fk_time_format(ns) for years outside 0..9999. */
static inline char *put_time_parts(fk__fastfmt *c, char *p, int64_t sec, int ms, int64_t ns)
{
    int slot = c->valid[1] && c->sec[1] == sec ? 1 : c->valid[0] && c->sec[0] == sec ? 0 : -1;
    if (slot < 0) {
        /* gmtime_r only when the day changes: UTC days are 86400 s. */
        int64_t day = sec / 86400, sod = sec % 86400;
        if (sod < 0) {
            sod += 86400;
            day--;
        }
        if (!c->day_valid || c->day != day) {
            time_t t = (time_t)(sec - sod);
            struct tm tm;
            /* 2^50 s are millions of years: fk_time_format's text, as
             * for any year past 9999 (and sec - sod cannot overflow). */
            if (sec > INT64_C(1) << 50 || sec < -(INT64_C(1) << 50) || !gmtime_r(&t, &tm) ||
                tm.tm_year + 1900 < 0 || tm.tm_year + 1900 > 9999) {
                char buf[64];
                int n = fk_time_format(ns, buf, sizeof buf);
                return n > 0 ? put_str(p, buf, (size_t)n) : p;
            }
            char *q = c->day_text;
            int y = tm.tm_year + 1900;
            q = put2(q, y / 100);
            q = put2(q, y % 100);
            *q++ = '-';
            q = put2(q, tm.tm_mon + 1);
            *q++ = '-';
            q = put2(q, tm.tm_mday);
            *q = 'T';
            c->day = day;
            c->day_valid = true;
        }
        slot = c->next;
        c->next ^= 1;
        char *q = c->text[slot];
        memcpy(q, c->day_text, 11);
        q = put2(q + 11, (int)(sod / 3600));
        *q++ = ':';
        q = put2(q, (int)(sod / 60 % 60));
        *q++ = ':';
        put2(q, (int)(sod % 60));
        c->sec[slot] = sec;
        c->valid[slot] = 1;
    }
    p = put_str(p, c->text[slot], 19);
    p[0] = '.';
    p[1] = (char)('0' + ms / 100);
    memcpy(p + 2, fk__fastfmt_digit_pairs + 2 * (ms % 100), 2);
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
