/* Internal: the two clocks the library reads, in nanoseconds. */
#ifndef FK_CORE_CLOCK_H
#define FK_CORE_CLOCK_H

#include <stdint.h>

/* CLOCK_MONOTONIC: for timeouts, rates and intervals. */
int64_t fk__mono_ns(void);
/* CLOCK_REALTIME: for timestamps shown to users (ns since the epoch). */
int64_t fk__real_ns(void);

#endif
