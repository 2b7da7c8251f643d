/* What the flow cache's unit tests (test_bpf_cache, test_bpf_flow_cache)
 * build their slots and flows from. Include after defining PER_CPU (slots
 * per CPU, a power of two) and including bpf/flow_cache.h. */
#ifndef FK_TEST_BPF_CACHE_FIXTURE_H
#define FK_TEST_BPF_CACHE_FIXTURE_H

#include <stdint.h>
#include <string.h>

static struct fk__bpf_flow_key key_of(uint8_t last)
{
    struct fk__bpf_flow_key k;
    memset(&k, 0, sizeof k);
    k.a[0] = 10;
    k.a[3] = 1;
    k.b[0] = 10;
    k.b[3] = last;
    k.pa = 5000;
    k.pb = 7000;
    k.proto = 17;
    k.family = 4;
    return k;
}

/* A flow entry of incarnation gen (its first time on side 0). */
static struct fk__bpf_flow_val val_of(uint64_t gen)
{
    struct fk__bpf_flow_val v;
    memset(&v, 0, sizeof v);
    v.first_ns[0] = gen;
    v.last_ns[0] = gen;
    v.bytes[0] = 100;
    v.packets[0] = 1;
    return v;
}

static struct fk__bpf_cache_slot *slot(fk__bpf_cache *c, unsigned cpu,
                                       const struct fk__bpf_flow_key *k)
{
    return &c->slots[cpu * PER_CPU + (fk__bpf_cache_hash(k) & (PER_CPU - 1))];
}

static void put(fk__bpf_cache *c, unsigned cpu, const struct fk__bpf_flow_key *k, uint64_t gen,
                uint32_t state, int side, uint64_t bytes, uint64_t packets, uint64_t last)
{
    struct fk__bpf_cache_slot *s = slot(c, cpu, k);
    memset(s, 0, sizeof *s);
    s->key = *k;
    s->gen = gen;
    s->state = state;
    s->sides = 3;
    s->bytes[side] = bytes;
    s->packets[side] = packets;
    s->last_ns[side] = last;
}

#endif
