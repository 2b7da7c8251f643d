#include "core/clock.h"

#include <time.h>

static int64_t clock_ns(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t fk__mono_ns(void)
{
    return clock_ns(CLOCK_MONOTONIC);
}

int64_t fk__real_ns(void)
{
    return clock_ns(CLOCK_REALTIME);
}
