/* Internal: record plans. A fixed-length IPFIX data template, compiled once
 * (from its decode plan, lib/ipfix/plan.h) into where each flow field of a
 * record lies and how to read it, so that a writer goes from the record's
 * bytes straight to its output with no fk_flow in between (the collector's
 * JSON lines: fk__fastfmt_json_rec in fastfmt.c).
 *
 * A record plan reads exactly what fk__plan_to_flow() would put in an
 * fk_flow for the same record, for the templates it accepts:
 *   - fixed-length fields only (plan->fixed_len != 0), not options;
 *   - no per-record tuple resolution (both address families, repeated
 *     flow keys: outer headers) and no next-hop elements;
 *   - no sysUpTime times or boot time (they need the decoder's state).
 * Anything else is refused at compile time with the reason
 * (FK__RECPLAN_WHY_*), and its records take the fk_flow path. The
 * collector's tests compare both paths byte for byte on random templates
 * (tests/unit/test_collector_recplan.c, fuzz_collector_session).
 *
 * The plan is meant to be the one compiled per-template reader of the
 * collector's direct paths; the collector keeps one per template object. */
#ifndef FK_COLLECTOR_RECPLAN_H
#define FK_COLLECTOR_RECPLAN_H

#include <stdbool.h>
#include <stdint.h>

#include "core/bytes.h"
#include "ipfix/plan.h"

/* Why a template has no record plan (0: it has one). */
enum {
    FK__RECPLAN_OK = 0,
    FK__RECPLAN_WHY_VARLEN,   /* a variable-length field */
    FK__RECPLAN_WHY_OPTIONS,  /* an options template */
    FK__RECPLAN_WHY_TUPLE,    /* per-record tuple resolution or next hops */
    FK__RECPLAN_WHY_UPTIME,   /* sysUpTime times or a boot time */
    FK__RECPLAN_WHY_TOO_LONG, /* a record, or a field (> 16 bytes), longer than a plan addresses */
    FK__RECPLAN_WHY_SHORT,    /* a record shorter than 8 bytes (no 8-byte window) */
};

/* One field read: offset and length in the record (len 0: absent), and
 * how to read it as an unsigned integer without a branch on its length:
 * the 8 bytes at win (inside the record: records of a plan are at least 8
 * bytes long) read big-endian, shifted right by shr and masked (mask 0
 * when absent). */
typedef struct fk__recplan_at {
    uint16_t off;
    uint8_t len;
    uint8_t shr;
    uint16_t win;
    uint64_t mask;
} fk__recplan_at;

/* Time forms, in fk__plan_to_flow's order of precedence. */
enum {
    FK__RECPLAN_T_NONE = 0,
    FK__RECPLAN_T_NS,
    FK__RECPLAN_T_US,
    FK__RECPLAN_T_MS,
    FK__RECPLAN_T_S,
    FK__RECPLAN_T_DELTA_US,
};

typedef struct fk__recplan {
    uint16_t record_len;
    uint8_t src_family, dst_family; /* 4, 6 or 0 (absent) */
    fk__recplan_at src, dst, sport, dport, proto, icmp;
    fk__recplan_at bytes, packets, tcp_flags;
    uint8_t start_kind, end_kind; /* FK__RECPLAN_T_* */
    fk__recplan_at start, end;
    bool reverse; /* any reverse counter: rev_bytes, rev_packets, rev_tcp_flags */
    fk__recplan_at rev_bytes, rev_packets, rev_tcp_flags, rev_icmp;
    bool ifaces; /* ingress or egress interface */
    fk__recplan_at in_if, out_if, sampling, end_reason;
    fk__recplan_at vlan, direction, l2_segment;
} fk__recplan;

/* Compile plan into *out; returns FK__RECPLAN_OK or the FK__RECPLAN_WHY_*
 * that refuses it (*out is then unusable). */
int fk__recplan_compile(const fk__plan *plan, fk__recplan *out);

/* Big-endian unsigned integer of a field (0 when absent; of a field longer
 * than 8 bytes, its last 8). */
static inline uint64_t fk__recplan_u(const uint8_t *rec, fk__recplan_at a)
{
    uint64_t w;
    __builtin_memcpy(&w, rec + a.win, 8);
    return (FK__BE64(w) >> a.shr) & a.mask;
}

/* A record's time of form kind (FK__RECPLAN_T_*) read at `at`, as
 * fk__plan_to_flow gives it (export_ns: the message's export time, for
 * delta times); 0 for FK__RECPLAN_T_NONE. Milliseconds and additions
 * saturate as in lib/ipfix/plan_read.c. */
static inline int64_t fk__recplan_time_ns(uint8_t kind, fk__recplan_at at, const uint8_t *rec,
                                          int64_t export_ns)
{
    uint64_t v = fk__recplan_u(rec, at);
    int64_t r;
    switch (kind) {
    case FK__RECPLAN_T_NS:
        return fk__ntp_to_ns(v, 0);
    case FK__RECPLAN_T_US:
        return fk__ntp_to_ns(v, 1);
    case FK__RECPLAN_T_MS:
        return v > (uint64_t)(INT64_MAX / 1000000) ? INT64_MAX : (int64_t)v * 1000000;
    case FK__RECPLAN_T_S:
        return (int64_t)v * 1000000000ll;
    case FK__RECPLAN_T_DELTA_US:
        if (__builtin_add_overflow(export_ns, -(int64_t)v * 1000, &r))
            return -(int64_t)v * 1000 > 0 ? INT64_MAX : INT64_MIN;
        return r;
    default:
        return 0;
    }
}

/* A record's start and end times. */
static inline int64_t fk__recplan_start_ns(const fk__recplan *rp, const uint8_t *rec,
                                           int64_t export_ns)
{
    return fk__recplan_time_ns(rp->start_kind, rp->start, rec, export_ns);
}

static inline int64_t fk__recplan_end_ns(const fk__recplan *rp, const uint8_t *rec,
                                         int64_t export_ns)
{
    return fk__recplan_time_ns(rp->end_kind, rp->end, rec, export_ns);
}

#endif
