/* `duration` in filters compiled for raw records (fk_filter_raw_compile
 * with the layout's start and end times): fk_filter_raw_match() must give
 * what fk_filter_match() gives on the flow whose times flowkit's IPFIX
 * decoder makes of the same octets, at the edges of every pair of time
 * forms. (test_filter_raw_random checks durations on random layouts too.) */
#include <flowkit/flowkit.h>
#include <stdint.h>
#include <string.h>

#include "filter_raw_fixture.h"

/* Durations at their edges, for every pair of time forms: an end just
 * short of a whole millisecond (NTP fractions the microsecond form rounds
 * up and the nanosecond one does not), an end before the start, a
 * saturated millisecond end after an NTP start before 1970 (a span past
 * INT64_MAX), and one side left to the base. */
static void durations(void **state)
{
    (void)state;
    const uint64_t ntp_s = 3900000000ull; /* 2023, as NTP seconds */
    const uint64_t ends[] = {
        (ntp_s + 2) << 32 | 0xffffff00u,  /* 2.999999... s: rounds up as micro */
        (ntp_s + 3) << 32 | 0x00000800u,  /* just past 3 s */
        (ntp_s - 1) << 32,                /* before the start */
        UINT64_MAX,                       /* saturated (ms), far future (NTP) */
        ((ntp_s + 1) << 32) | 0x80000000u /* 1.5 s */
    };
    const uint64_t starts[] = {ntp_s << 32, 0 /* NTP: 1900 */, (ntp_s + 1) << 32};
    const char *const filters[] = {"duration = 2999", "duration = 3000", "duration > 2999",
                                   "duration < 1",    "duration > 1000", "duration >= 1500"};
    for (unsigned sf = 0; sf < 4; sf++)
        for (unsigned ef = 0; ef < 4; ef++)
            for (unsigned k = 0; k < 6; k++) {
                fk_filter *f = compile(filters[k]);
                for (unsigned i = 0; i < 3 * 5 * 3; i++) {
                    fk_filter_layout l;
                    memset(&l, 0, sizeof l);
                    l.start_time = (uint8_t)sf;
                    l.end_time = (uint8_t)ef;
                    unsigned sl = sf == FK_FILTER_TIME_SECONDS ? 4 : 8;
                    unsigned el = ef == FK_FILTER_TIME_SECONDS ? 4 : 8;
                    if (i % 3 != 1) /* 1: the base's start */
                        l.start = (fk_filter_field){0, (uint16_t)sl};
                    if (i % 3 != 2) /* 2: the base's end */
                        l.end = (fk_filter_field){8, (uint16_t)el};
                    uint8_t rec[16];
                    uint64_t sv = starts[i / 15], ev = ends[i / 3 % 5];
                    /* seconds and ms forms: the same instants in their units */
                    if (sf == FK_FILTER_TIME_SECONDS)
                        sv = sv ? (sv >> 32) - 2208988800ull : 0;
                    else if (sf == FK_FILTER_TIME_MILLISECONDS)
                        sv = sv ? ((sv >> 32) - 2208988800ull) * 1000 : 0;
                    if (ef == FK_FILTER_TIME_SECONDS)
                        ev = (uint32_t)((ev >> 32) - 2208988800ull);
                    else if (ef == FK_FILTER_TIME_MILLISECONDS && ev != UINT64_MAX)
                        ev = ((ev >> 32) - 2208988800ull) * 1000 +
                             (ev & 0xffffffffu) * 1000 / 0x100000000ull;
                    put_be(rec, sl, sv);
                    put_be(rec + 8, el, ev);
                    fk_flow base, fl;
                    memset(&base, 0, sizeof base);
                    base.start_ns = 1690000000ll * 1000000000;
                    base.end_ns = base.start_ns + 2999999999;
                    fl = base;
                    if (l.start.length)
                        fl.start_ns = time_of(rec, sl, (uint8_t)sf);
                    if (l.end.length)
                        fl.end_ns = time_of(rec + 8, el, (uint8_t)ef);
                    fk_filter_raw *r = NULL;
                    assert_int_equal(fk_filter_raw_compile(f, &l, &base, &r), 0);
                    if (fk_filter_raw_match(r, rec) != fk_filter_match(f, &fl))
                        fail_msg("%s: forms %u/%u, case %u", filters[k], sf, ef, i);
                    fk_filter_raw_destroy(r);
                }
                fk_filter_destroy(f);
            }
}

/* Only the times placed: the rest of the filter is decided on the base. */
static void times_only(void **state)
{
    (void)state;
    fk_filter *f = compile("proto tcp and duration > 1000");
    fk_filter_layout l;
    memset(&l, 0, sizeof l);
    l.start = (fk_filter_field){0, 8};
    l.end = (fk_filter_field){8, 4};
    l.end_time = FK_FILTER_TIME_SECONDS;
    fk_flow base;
    memset(&base, 0, sizeof base);
    base.proto = 6;
    fk_filter_raw *r = NULL;
    assert_int_equal(fk_filter_raw_compile(f, &l, &base, &r), 0);
    assert_int_equal(fk_filter_raw_get_const(r), -1);
    uint8_t rec[12];
    put_be(rec, 8, 1700000000000ull); /* ms */
    put_be(rec + 8, 4, 1700000001u);  /* s: 1000 ms later */
    assert_int_equal(fk_filter_raw_match(r, rec), 0);
    put_be(rec + 8, 4, 1700000002u);
    assert_int_equal(fk_filter_raw_match(r, rec), 1);
    fk_filter_raw_destroy(r);
    base.proto = 17; /* the base decides: constant false */
    assert_int_equal(fk_filter_raw_compile(f, &l, &base, &r), 0);
    assert_int_equal(fk_filter_raw_get_const(r), 0);
    fk_filter_raw_destroy(r);
    fk_filter_destroy(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(durations), cmocka_unit_test(times_only)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
