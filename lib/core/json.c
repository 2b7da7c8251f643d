#include "core/json.h"

#include <string.h>

#include "core/error.h"
#include <flowkit/json.h>

/* Bytes of the longest prefix of a well-formed sequence at p[0..n): the
 * whole sequence when it is complete, else its maximal subpart (at least 1
 * byte, which then stands for one U+FFFD). `*valid` says which. */
static size_t utf8_scan(const uint8_t *p, size_t n, int *valid)
{
    uint8_t c = p[0];
    size_t len;
    uint8_t lo = 0x80, hi = 0xbf; /* allowed range of the second byte */
    *valid = 0;
    if (c < 0x80) {
        *valid = 1;
        return 1;
    }
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        if (c == 0xe0)
            lo = 0xa0; /* no overlong forms */
        else if (c == 0xed)
            hi = 0x9f; /* no surrogates */
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        if (c == 0xf0)
            lo = 0x90; /* no overlong forms */
        else if (c == 0xf4)
            hi = 0x8f; /* nothing above U+10FFFF */
    } else {
        return 1; /* 0x80..0xc1, 0xf5..0xff never start a sequence */
    }
    size_t i = 1;
    if (i < n && p[i] >= lo && p[i] <= hi)
        i++;
    else
        return 1;
    while (i < len && i < n && (p[i] & 0xc0) == 0x80)
        i++;
    *valid = i == len;
    return i;
}

size_t fk__utf8_sequence_len(const uint8_t *p, size_t n)
{
    if (n == 0)
        return 0;
    int valid;
    size_t len = utf8_scan(p, n, &valid);
    return valid ? len : 0;
}

size_t fk__json_escape(char *dst, const void *src, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    static const char replacement[3] = {(char)0xef, (char)0xbf, (char)0xbd};
    const uint8_t *p = src;
    size_t out = 0;
    for (size_t i = 0; i < n;) {
        uint8_t c = p[i];
        if (c == '"' || c == '\\') {
            if (dst) {
                dst[out] = '\\';
                dst[out + 1] = (char)c;
            }
            out += 2;
            i++;
        } else if (c < 0x20 || c == 0x7f) {
            if (dst) {
                memcpy(dst + out, "\\u00", 4);
                dst[out + 4] = hex[c >> 4];
                dst[out + 5] = hex[c & 15];
            }
            out += 6;
            i++;
        } else {
            int valid;
            size_t len = utf8_scan(p + i, n - i, &valid);
            const void *from = valid ? (const void *)(p + i) : replacement;
            size_t count = valid ? len : sizeof replacement;
            if (dst)
                memcpy(dst + out, from, count);
            out += count;
            i += len;
        }
    }
    return out;
}

int fk_json_string_format(const char *text, size_t len, char *buf, size_t size)
{
    if (!text || !buf)
        return fk__error(FK_EINVAL, "json: text and buf must not be NULL");
    size_t need = fk__json_escape(NULL, text, len) + 2;
    if (need >= size || need > (size_t)INT32_MAX)
        return fk__error(FK_ENOSPACE, "json: a string of %zu bytes needs a buffer of %zu bytes",
                         len, need + 1);
    buf[0] = '"';
    fk__json_escape(buf + 1, text, len);
    buf[need - 1] = '"';
    buf[need] = '\0';
    return (int)need;
}
