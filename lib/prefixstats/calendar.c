/* UTC calendar buckets and their names (flowkit/prefixstats.h). Days to
 * civil dates with the proleptic Gregorian calendar, no libc time zone. */
#include <flowkit/prefixstats.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "prefixstats/calendar.h"

#define NS_PER_SEC 1000000000LL
#define MIN_NS (60 * NS_PER_SEC)
#define HOUR_NS (3600 * NS_PER_SEC)
#define DAY_NS (86400 * NS_PER_SEC)
/* int64_t nanoseconds end in April 2262. */
#define YEAR_MAX 2261

/* Days since 1970-01-01 of y-m-d (m 1..12). Eras of 400 years. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

int64_t fk__ps_index(int g, int64_t t)
{
    if (t < 0)
        t = 0;
    switch (g) {
    case FK_PREFIXSTATS_MINUTE:
        return t / MIN_NS;
    case FK_PREFIXSTATS_HOUR:
        return t / HOUR_NS;
    case FK_PREFIXSTATS_DAY:
        return t / DAY_NS;
    default: {
        int64_t y;
        int m, d;
        civil_from_days(t / DAY_NS, &y, &m, &d);
        return g == FK_PREFIXSTATS_MONTH ? (y - 1970) * 12 + (m - 1) : y - 1970;
    }
    }
}

int64_t fk__ps_start(int g, int64_t index)
{
    switch (g) {
    case FK_PREFIXSTATS_MINUTE:
        return index * MIN_NS;
    case FK_PREFIXSTATS_HOUR:
        return index * HOUR_NS;
    case FK_PREFIXSTATS_DAY:
        return index * DAY_NS;
    case FK_PREFIXSTATS_MONTH:
        return days_from_civil(1970 + index / 12, (int)(index % 12) + 1, 1) * DAY_NS;
    default:
        return days_from_civil(1970 + index, 1, 1) * DAY_NS;
    }
}

/* n decimal digits at p into *out; false unless all are digits. */
static int digits(const char *p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return 0;
        v = v * 10 + (p[i] - '0');
    }
    *out = v;
    return 1;
}

static int days_in_month(int y, int m)
{
    static const int len[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : len[m - 1];
}

int fk_prefixstats_bucket_parse(const char *text, fk_prefixstats_bucket *out)
{
    if (!text || !out)
        return fk__error(FK_EINVAL, "prefixstats: NULL argument");
    size_t n = strlen(text);
    int y = 0, mo = 1, d = 1, h = 0, mi = 0;
    bool ok = n >= 4 && digits(text, 4, &y) && y >= 1970 && y <= YEAR_MAX;
    fk_prefixstats_granularity g = FK_PREFIXSTATS_YEAR;
    if (ok && n >= 7) {
        ok = text[4] == '-' && digits(text + 5, 2, &mo) && mo >= 1 && mo <= 12;
        g = FK_PREFIXSTATS_MONTH;
    }
    if (ok && n >= 10) {
        ok = text[7] == '-' && digits(text + 8, 2, &d) && d >= 1 && d <= days_in_month(y, mo);
        g = FK_PREFIXSTATS_DAY;
    }
    if (ok && n >= 13) {
        ok = text[10] == ' ' && digits(text + 11, 2, &h) && h <= 23;
        g = FK_PREFIXSTATS_HOUR;
    }
    if (ok && n >= 16) {
        ok = text[13] == ':' && digits(text + 14, 2, &mi) && mi <= 59;
        g = FK_PREFIXSTATS_MINUTE;
    }
    if (!ok || (n != 4 && n != 7 && n != 10 && n != 13 && n != 16))
        return fk__error(FK_EINVAL,
                         "prefixstats: \"%.40s\" is not a bucket (YYYY, YYYY-MM, YYYY-MM-DD, "
                         "\"YYYY-MM-DD HH\" or \"YYYY-MM-DD HH:MM\", years 1970 to 2261)",
                         text);
    out->granularity = g;
    out->start_ns = days_from_civil(y, mo, d) * DAY_NS + h * HOUR_NS + mi * MIN_NS;
    return FK_OK;
}

int fk_prefixstats_bucket_format(const fk_prefixstats_bucket *b, char *buf, size_t size)
{
    if (!b || !buf || (unsigned)b->granularity > FK_PREFIXSTATS_YEAR)
        return fk__error(FK_EINVAL, "prefixstats: bad bucket");
    int64_t t = b->start_ns;
    int64_t y;
    int m, d;
    if (t < 0)
        return fk__error(FK_EINVAL, "prefixstats: a time before 1970");
    civil_from_days(t / DAY_NS, &y, &m, &d);
    if (y > YEAR_MAX)
        return fk__error(FK_EINVAL, "prefixstats: a time after 2261");
    int hh = (int)(t % DAY_NS / HOUR_NS), mm = (int)(t % HOUR_NS / MIN_NS);
    int n;
    switch (b->granularity) {
    case FK_PREFIXSTATS_YEAR:
        n = snprintf(buf, size, "%04d", (int)y);
        break;
    case FK_PREFIXSTATS_MONTH:
        n = snprintf(buf, size, "%04d-%02d", (int)y, m);
        break;
    case FK_PREFIXSTATS_DAY:
        n = snprintf(buf, size, "%04d-%02d-%02d", (int)y, m, d);
        break;
    case FK_PREFIXSTATS_HOUR:
        n = snprintf(buf, size, "%04d-%02d-%02d %02d", (int)y, m, d, hh);
        break;
    default:
        n = snprintf(buf, size, "%04d-%02d-%02d %02d:%02d", (int)y, m, d, hh, mm);
        break;
    }
    if (n < 0 || (size_t)n >= size)
        return fk__error(FK_ENOSPACE, "prefixstats: %zu bytes are not enough for a bucket name",
                         size);
    return n;
}
