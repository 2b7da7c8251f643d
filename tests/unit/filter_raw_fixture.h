/* The fixture of the raw filter's tests (test_filter_raw_random,
 * test_filter_raw_edges, test_filter_raw_errors, test_filter_raw_time): a
 * layout with the length of its records, big-endian octets in and out,
 * the flow a decoder makes of a record (the reference fk_filter_raw_match
 * is checked against), a deterministic generator, and filter compilation
 * that fails the test. */
#ifndef FK_TEST_FILTER_RAW_FIXTURE_H
#define FK_TEST_FILTER_RAW_FIXTURE_H

#include <flowkit/flowkit.h>
#include <stdint.h>
#include <string.h>

#include "fk_test.h"
#include "filter_time_ref.h"

/* xorshift64: the state is the caller's, so a test's draws are its own. */
typedef struct rng {
    uint64_t s;
} rng;

#define RNG_SEED 0x9e3779b97f4a7c15ull

static inline uint64_t rnd(rng *g)
{
    uint64_t x = g->s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return g->s = x;
}

/* A draw in [0, n). */
static inline unsigned pick(rng *g, unsigned n)
{
    return (unsigned)(rnd(g) % n);
}

/* A layout and what its records hold. */
typedef struct lay {
    fk_filter_layout l;
    unsigned reclen;
    uint8_t fam; /* of placed addresses: 4, 6 */
} lay;

/* v as len (1..8) big-endian octets at p. Counted upwards: gcc's
 * -Wstringop-overflow reads a downward unsigned loop as able to wrap. */
static inline void put_be(uint8_t *p, unsigned len, uint64_t v)
{
    for (unsigned i = 0; i < len; i++)
        p[len - 1 - i] = (uint8_t)(v >> (8 * i));
}

static inline uint64_t get_be(const uint8_t *p, unsigned len)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < len; i++)
        v = v << 8 | p[i];
    return v;
}

/* A layout of one address pair of the family and every number. */
static inline void full_layout(lay *y, uint8_t fam)
{
    memset(y, 0, sizeof *y);
    unsigned alen = fam == 4 ? 4 : 16, off = 0;
    y->fam = fam;
    y->l.src_addr = (fk_filter_field){(uint16_t)off, (uint16_t)alen}, off += alen;
    y->l.dst_addr = (fk_filter_field){(uint16_t)off, (uint16_t)alen}, off += alen;
    y->l.src_port = (fk_filter_field){(uint16_t)off, 2}, off += 2;
    y->l.dst_port = (fk_filter_field){(uint16_t)off, 2}, off += 2;
    y->l.proto = (fk_filter_field){(uint16_t)off, 1}, off += 1;
    y->l.bytes = (fk_filter_field){(uint16_t)off, 8}, off += 8;
    y->reclen = off;
}

/* The flow a decoder makes of rec, as fk_filter_layout defines it: base
 * with what the layout places taken from rec. */
static inline void decode(const lay *y, const fk_flow *base, const uint8_t *rec, fk_flow *f)
{
    const fk_filter_layout *l = &y->l;
    *f = *base;
    if (l->src_addr.length) {
        memset(f->src.bytes, 0, sizeof f->src.bytes);
        f->src.family = l->src_addr.length == 4 ? 4 : 6;
        memcpy(f->src.bytes, rec + l->src_addr.offset, l->src_addr.length);
    }
    if (l->dst_addr.length) {
        memset(f->dst.bytes, 0, sizeof f->dst.bytes);
        f->dst.family = l->dst_addr.length == 4 ? 4 : 6;
        memcpy(f->dst.bytes, rec + l->dst_addr.offset, l->dst_addr.length);
    }
#define NUM(field, member, type, mask)                                                             \
    if (l->field.length)                                                                           \
        f->member = (type)(get_be(rec + l->field.offset, l->field.length) & (mask));
    NUM(src_port, src_port, uint16_t, 0xffff)
    NUM(dst_port, dst_port, uint16_t, 0xffff)
    NUM(proto, proto, uint8_t, 0xff)
    NUM(tos, tos, uint8_t, 0xff)
    NUM(tcp_flags, tcp_flags, uint8_t, 0xff)
    NUM(vlan, vlan, uint16_t, 0x0fff)
    NUM(in_if, in_if, uint32_t, 0xffffffffu)
    NUM(out_if, out_if, uint32_t, 0xffffffffu)
    NUM(bytes, bytes, uint64_t, UINT64_MAX)
    NUM(packets, packets, uint64_t, UINT64_MAX)
#undef NUM
    if (l->start.length)
        f->start_ns = time_of(rec + l->start.offset, l->start.length, l->start_time);
    if (l->end.length)
        f->end_ns = time_of(rec + l->end.offset, l->end.length, l->end_time);
    if (l->icmp_type_code.length) {
        uint16_t dp = l->dst_port.length ? f->dst_port : 0;
        if (f->src_port == 0 && dp == 0)
            dp = (uint16_t)get_be(rec + l->icmp_type_code.offset, l->icmp_type_code.length);
        f->dst_port = dp;
    }
}

/* text compiled, or the test fails. */
static inline fk_filter *compile(const char *text)
{
    fk_filter *f = NULL;
    if (fk_filter_compile(text, &f, NULL) != 0)
        fail_msg("\"%s\" does not compile: %s", text, fk_error_last()->message);
    return f;
}

#endif
