/* flowkit-ipfix: the time forms of IPFIX records (flowStart/End Seconds,
 * Milliseconds, Microseconds, Nanoseconds) and their conversion to Unix
 * nanoseconds, as the collector's decode plan converts them. Each
 * conversion is non-decreasing in the raw value (read as an unsigned
 * integer), so the minimum or maximum of raw values converts to the
 * minimum or maximum of the converted ones: tables keep raw times and
 * convert when they print. */
#ifndef FLOWKIT_IPFIX_QTIME_H
#define FLOWKIT_IPFIX_QTIME_H

#include <stdbool.h>
#include <stdint.h>

#define NTP_UNIX_OFFSET 2208988800ll
#define NS_PER_S 1000000000ll

/* Time forms, by the collector's precedence (the first a template has wins). */
enum { T_NS, T_US, T_MS, T_S, T_FORMS };

static inline int64_t qt_ms_to_ns(uint64_t ms)
{
    return ms > (uint64_t)(INT64_MAX / 1000000) ? INT64_MAX : (int64_t)ms * 1000000;
}

/* NTP timestamp (RFC 7011 dateTimeMicro/Nanoseconds) to Unix ns; micro:
 * the low 11 bits of the fraction are ignored and the result rounded to
 * the microsecond. */
static inline int64_t qt_ntp_to_ns(uint64_t ntp, bool micro)
{
    uint64_t frac = ntp & 0xffffffffu;
    if (micro)
        frac &= ~(uint64_t)0x7ff;
    int64_t sub = (int64_t)((frac * (uint64_t)NS_PER_S) >> 32);
    if (micro)
        sub = (sub + 500) / 1000 * 1000;
    return ((int64_t)(ntp >> 32) - NTP_UNIX_OFFSET) * NS_PER_S + sub;
}

/* A raw time of form (T_*) to Unix ns: raw is the field's value as an
 * unsigned integer (4 octets for T_S, 8 for the others). */
static inline int64_t qt_to_ns(uint64_t raw, unsigned form)
{
    switch (form) {
    case T_NS:
        return qt_ntp_to_ns(raw, false);
    case T_US:
        return qt_ntp_to_ns(raw, true);
    case T_MS:
        return qt_ms_to_ns(raw);
    default:
        return (int64_t)raw * NS_PER_S;
    }
}

/* The largest raw value of form (T_*): 4 octets for T_S, 8 for the others. */
static inline uint64_t qt_raw_max(unsigned form)
{
    return form == T_S ? UINT32_MAX : UINT64_MAX;
}

/* The smallest raw value of form whose time is at or after ns; false when
 * none is (the conversion is non-decreasing: a binary search). */
static inline bool qt_raw_from(int64_t ns, unsigned form, uint64_t *out)
{
    uint64_t lo = 0, hi = qt_raw_max(form);
    if (qt_to_ns(hi, form) < ns)
        return false;
    while (lo < hi) { /* qt_to_ns(hi) >= ns throughout */
        uint64_t mid = lo + (hi - lo) / 2;
        if (qt_to_ns(mid, form) >= ns)
            hi = mid;
        else
            lo = mid + 1;
    }
    *out = lo;
    return true;
}

/* The largest raw value of form whose time is at or before ns; false
 * when none is. */
static inline bool qt_raw_until(int64_t ns, unsigned form, uint64_t *out)
{
    uint64_t lo = 0, hi = qt_raw_max(form);
    if (qt_to_ns(lo, form) > ns)
        return false;
    while (lo < hi) { /* qt_to_ns(lo) <= ns throughout */
        uint64_t mid = hi - (hi - lo) / 2;
        if (qt_to_ns(mid, form) <= ns)
            lo = mid;
        else
            hi = mid - 1;
    }
    *out = lo;
    return true;
}

#endif
