/* The test oracle for time fields of raw filter layouts (fk_filter_time):
 * what flowkit's IPFIX decoder (lib/ipfix/plan_read.c) makes of a field's
 * octets, written out again here, so that the raw filter is checked
 * against an independent statement of the rule. Used by the raw filter's
 * tests through filter_raw_fixture.h. */
#ifndef FK_TEST_FILTER_TIME_REF_H
#define FK_TEST_FILTER_TIME_REF_H

#include <flowkit/flowkit.h>
#include <stdint.h>

/* A time field of len octets at p, of form (fk_filter_time), to ns. */
static inline int64_t time_of(const uint8_t *p, unsigned len, uint8_t form)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < len; i++)
        v = v << 8 | p[i];
    if (form == FK_FILTER_TIME_SECONDS)
        return (int64_t)v * 1000000000;
    if (form == FK_FILTER_TIME_MILLISECONDS)
        return v > (uint64_t)INT64_MAX / 1000000 ? INT64_MAX : (int64_t)v * 1000000;
    uint64_t frac = v & 0xffffffffu;
    if (form == FK_FILTER_TIME_MICROSECONDS)
        frac &= ~0x7ffull;
    int64_t sub = (int64_t)((frac * 1000000000u) >> 32);
    if (form == FK_FILTER_TIME_MICROSECONDS)
        sub = (sub + 500) / 1000 * 1000;
    return ((int64_t)(v >> 32) - 2208988800ll) * 1000000000 + sub;
}

#endif
