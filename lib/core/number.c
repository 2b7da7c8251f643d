/* The one number parser of flowkit: every integer and number that comes in
 * as text (parameters by name, config files, command-line options, URI
 * options) is read here, so "010" means ten everywhere. */
#include <errno.h>
#include <inttypes.h>
#include <locale.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>

#include "core/error.h"
#include <flowkit/params.h>

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int digit_value(char c, unsigned base)
{
    int v;
    if (is_digit(c))
        v = c - '0';
    else if (c >= 'a' && c <= 'f')
        v = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F')
        v = c - 'A' + 10;
    else
        return -1;
    return (unsigned)v < base ? v : -1;
}

int fk_param_parse_int(const char *text, int64_t *out)
{
    if (!text || !out)
        return fk__error(FK_EINVAL, "fk_param_parse_int: text and out must not be NULL");
    const char *p = text;
    bool negative = *p == '-';
    if (*p == '-' || *p == '+')
        p++;
    unsigned base = 10;
    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
        base = 16;
        p += 2;
    }
    if (!*p)
        return fk__error(FK_EINVAL, "\"%s\" is not an integer (decimal, or hexadecimal after 0x)",
                         text);
    /* magnitude up to 2^63 (INT64_MIN's) */
    const uint64_t limit = (uint64_t)INT64_MAX + (negative ? 1u : 0u);
    uint64_t v = 0;
    bool over = false;
    for (; *p; p++) {
        int d = digit_value(*p, base);
        if (d < 0)
            return fk__error(FK_EINVAL,
                             "\"%s\" is not an integer (decimal, or hexadecimal after 0x)", text);
        if (v > (limit - (uint64_t)d) / base)
            over = true;
        else
            v = v * base + (uint64_t)d;
    }
    if (over)
        return fk__error(FK_ERANGE, "\"%s\" is out of range [%" PRId64 ", %" PRId64 "]", text,
                         INT64_MIN, INT64_MAX);
    *out = negative ? (int64_t)(0 - v) : (int64_t)v;
    return FK_OK;
}

int fk_param_parse_double(const char *text, double *out)
{
    if (!text || !out)
        return fk__error(FK_EINVAL, "fk_param_parse_double: text and out must not be NULL");
    /* [+-] digits [. digits] [(e|E) [+-] digits], at least one digit before
     * the exponent: no spaces, hexadecimal forms, inf or nan */
    const char *p = text;
    if (*p == '-' || *p == '+')
        p++;
    size_t digits = 0;
    while (is_digit(*p))
        p++, digits++;
    if (*p == '.') {
        p++;
        while (is_digit(*p))
            p++, digits++;
    }
    bool ok = digits > 0;
    if (ok && (*p == 'e' || *p == 'E')) {
        p++;
        if (*p == '-' || *p == '+')
            p++;
        ok = is_digit(*p);
        while (is_digit(*p))
            p++;
    }
    if (!ok || *p)
        return fk__error(FK_EINVAL, "\"%s\" is not a decimal number", text);
    /* the C locale's '.', whatever locale the program chose */
    locale_t c = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
    if (c == (locale_t)0)
        return fk__error_errno(FK_ENOMEM, "fk_param_parse_double: no C locale");
    errno = 0;
    double v = strtod_l(text, NULL, c);
    int err = errno;
    freelocale(c);
    if (err == ERANGE && isinf(v))
        return fk__error(FK_ERANGE, "\"%s\" is out of the range of a double", text);
    *out = v;
    return FK_OK;
}
