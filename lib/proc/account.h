/* Internal: per-second byte counters of one row (process or unknown), the
 * accounting math behind rates and EWMA. Pure: no clocks, times are passed.
 *
 * The ring holds `len` = history + 1 one-second buckets: the current (still
 * filling) second and the `history` complete seconds before it. A rate over
 * W seconds is the sum of the last W complete seconds divided by W. The
 * EWMA is updated once per completed second:
 *     ewma = alpha * bytes_in_that_second + (1 - alpha) * ewma. */
#ifndef FK_PROC_ACCOUNT_H
#define FK_PROC_ACCOUNT_H

#include <stdbool.h>
#include <stdint.h>

typedef struct fk__ring {
    uint64_t *sent; /* len buckets, indexed by second % len */
    uint64_t *recv;
    uint32_t len;
    int64_t cur_sec; /* second of the current bucket; INT64_MIN before the first add */
    double alpha;
    double sent_ewma, recv_ewma;
} fk__ring;

/* history >= 1 complete seconds kept; alpha in (0, 1]. */
int fk__ring_init(fk__ring *r, uint32_t history, double alpha);
void fk__ring_free(fk__ring *r);

/* Move the current second forward to `sec` (no-op when not later): zero the
 * buckets of seconds that start, fold completed seconds into the EWMA. */
void fk__ring_advance(fk__ring *r, int64_t sec);

/* Count bytes in second `sec` (advancing first when later than the current
 * second). Bytes of a second older than the ring are dropped (returns
 * false); totals are kept by the caller. */
bool fk__ring_add(fk__ring *r, int64_t sec, uint64_t sent, uint64_t recv);

/* Sum of the `window` complete seconds before `now_sec` (advancing the ring
 * to now_sec). window must be in [1, history]. */
void fk__ring_window(fk__ring *r, int64_t now_sec, uint32_t window, uint64_t *sent, uint64_t *recv);

/* The `count` complete seconds before the current one once the ring is
 * advanced to now_sec (the same seconds fk__ring_window sums), oldest first
 * into sent[0..count) and recv[0..count). Returns the first second. count
 * must be in [0, history]. */
int64_t fk__ring_seconds(fk__ring *r, int64_t now_sec, uint32_t count, uint64_t *sent,
                         uint64_t *recv);

/* alpha for an EWMA with time constant tau seconds: 1 - exp(-1/tau). */
double fk__ewma_alpha(double tau_sec);

#endif
