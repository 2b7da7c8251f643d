#include "proc/account.h"

#include <math.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"

int fk__ring_init(fk__ring *r, uint32_t history, double alpha)
{
    memset(r, 0, sizeof *r);
    if (history < 1 || history > 86400 || !(alpha > 0.0 && alpha <= 1.0))
        return fk__error(FK_ERANGE, "accounting: history %u / alpha %g out of range", history,
                         alpha);
    r->len = history + 1;
    r->sent = fk__calloc(r->len, sizeof *r->sent);
    r->recv = fk__calloc(r->len, sizeof *r->recv);
    if (!r->sent || !r->recv) {
        fk__ring_free(r);
        return fk__error(FK_ENOMEM, "accounting: out of memory for a %u s ring", history);
    }
    r->cur_sec = INT64_MIN;
    r->alpha = alpha;
    return 0;
}

void fk__ring_free(fk__ring *r)
{
    fk__free(r->sent);
    fk__free(r->recv);
    r->sent = r->recv = NULL;
}

static uint32_t slot(const fk__ring *r, int64_t sec)
{
    int64_t m = sec % (int64_t)r->len;
    return (uint32_t)(m < 0 ? m + r->len : m);
}

void fk__ring_advance(fk__ring *r, int64_t sec)
{
    if (r->cur_sec == INT64_MIN) {
        r->cur_sec = sec;
        uint32_t s = slot(r, sec);
        r->sent[s] = r->recv[s] = 0;
        return;
    }
    if (sec <= r->cur_sec)
        return;
    int64_t gap = sec - r->cur_sec;
    /* The current second completes; then gap - 1 empty seconds. */
    uint32_t s = slot(r, r->cur_sec);
    double keep = 1.0 - r->alpha;
    r->sent_ewma = r->alpha * (double)r->sent[s] + keep * r->sent_ewma;
    r->recv_ewma = r->alpha * (double)r->recv[s] + keep * r->recv_ewma;
    if (gap > 1) {
        double decay = pow(keep, (double)(gap - 1));
        r->sent_ewma *= decay;
        r->recv_ewma *= decay;
    }
    if (gap >= (int64_t)r->len) {
        memset(r->sent, 0, r->len * sizeof *r->sent);
        memset(r->recv, 0, r->len * sizeof *r->recv);
    } else {
        for (int64_t t = r->cur_sec + 1; t <= sec; t++) {
            uint32_t k = slot(r, t);
            r->sent[k] = r->recv[k] = 0;
        }
    }
    r->cur_sec = sec;
}

bool fk__ring_add(fk__ring *r, int64_t sec, uint64_t sent, uint64_t recv)
{
    fk__ring_advance(r, sec);
    if (sec <= r->cur_sec - (int64_t)r->len)
        return false;
    uint32_t s = slot(r, sec);
    r->sent[s] += sent;
    r->recv[s] += recv;
    return true;
}

void fk__ring_window(fk__ring *r, int64_t now_sec, uint32_t window, uint64_t *sent, uint64_t *recv)
{
    *sent = *recv = 0;
    if (r->cur_sec == INT64_MIN)
        return;
    fk__ring_advance(r, now_sec);
    if (window > r->len - 1)
        window = r->len - 1;
    for (uint32_t i = 1; i <= window; i++) {
        int64_t t = r->cur_sec - (int64_t)i;
        uint32_t k = slot(r, t);
        *sent += r->sent[k];
        *recv += r->recv[k];
    }
}

int64_t fk__ring_seconds(fk__ring *r, int64_t now_sec, uint32_t count, uint64_t *sent,
                         uint64_t *recv)
{
    memset(sent, 0, count * sizeof *sent);
    memset(recv, 0, count * sizeof *recv);
    if (r->cur_sec == INT64_MIN)
        return now_sec - (int64_t)count;
    fk__ring_advance(r, now_sec);
    if (count > r->len - 1)
        count = r->len - 1;
    int64_t first = r->cur_sec - (int64_t)count;
    for (uint32_t i = 0; i < count; i++) {
        uint32_t k = slot(r, first + (int64_t)i);
        sent[i] = r->sent[k];
        recv[i] = r->recv[k];
    }
    return first;
}

double fk__ewma_alpha(double tau_sec)
{
    if (!(tau_sec > 0.0))
        return 1.0;
    return 1.0 - exp(-1.0 / tau_sec);
}
