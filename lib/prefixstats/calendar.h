/* Internal: UTC calendar buckets of the prefix statistics. A bucket is
 * numbered from the epoch at its granularity (minutes, hours, days, months
 * or years since 1970-01-01); numbers only grow with time. */
#ifndef FK_PREFIXSTATS_CALENDAR_H
#define FK_PREFIXSTATS_CALENDAR_H

#include <stdint.h>

/* Bucket number of time t (ns since the epoch; t < 0 counts as 0). */
int64_t fk__ps_index(int granularity, int64_t t_ns);
/* First instant of bucket number index, ns since the epoch. */
int64_t fk__ps_start(int granularity, int64_t index);

#endif
