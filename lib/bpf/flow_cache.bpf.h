/* Part of flow.bpf.c (included there, after packet_time): the per-CPU
 * flow cache in front of fk_flows. */
#ifndef FK_FLOW_CACHE_BPF_H
#define FK_FLOW_CACHE_BPF_H

/* The per-CPU flow cache (flow_event.h's fk__bpf_cache_slot; flows.c and
 * flow_cache.c its user-space side). A later packet of a flow whose slot
 * on this CPU is ACTIVE for its key (and for its side) is counted there
 * with plain adds: no hash-map lookup, no atomic operation. Anything else
 * goes to fk_flows as without the cache, and then claims the slot if it is
 * EMPTY (or adds its side to a slot it holds): so a flow's first packet of
 * each side, with the attributes it sets, is always in fk_flows, and a
 * slot only ever holds counts, the largest time and flags to add to it.
 *
 * What keeps this exact:
 *  - a slot is written by the programs of its own CPU only (TC and XDP run
 *    with migration disabled, one at a time per CPU: with softirqs off, or
 *    on PREEMPT_RT under the softirq lock, which 6.18 can drop: the loader
 *    turns the cache off on PREEMPT_RT kernels), so its adds need no atomic
 *    operation; user space only changes state, by compare-and-swap from
 *    ACTIVE to DRAINING, and back to EMPTY when no program can be using it;
 *  - gen (the fk_flows entry's first_ns[init_side]) ties a slot to one
 *    incarnation of the key: when user space ends a flow it marks only the
 *    slots of that incarnation, and a slot claimed for the next one (the
 *    key came back after the end) is left alone;
 *  - how user space ends a flow and reads its slots (flow_cache.c): delete
 *    the fk_flows entry, wait for an RCU grace period (every program run
 *    that found the entry and may still claim a slot for it has ended),
 *    mark the flow's slots DRAINING (later runs take fk_flows), wait for a
 *    second grace period (every run that saw the slot ACTIVE has finished
 *    its adds), then add the slots to the record and free them;
 *  - TCP is not cached: its flows end in the kernel too (port reuse, sent
 *    as FK__BPF_REC_FLOW_END), where a program cannot read another CPU's
 *    slot safely, and its SYN/FIN/RST drive session events off fk_flows.
 */
struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(map_flags, BPF_F_MMAPABLE);
    __uint(max_entries, 1); /* the loader sets CPUs x fk_cache_slots */
    __type(key, __u32);
    __type(value, struct fk__bpf_cache_slot);
} fk_cache SEC(".maps");

/* Set by the loader: cache slots per CPU, a power of two; 0 = no cache. */
const volatile __u32 fk_cache_slots = 0;

static __always_inline int key_eq(const struct fk__bpf_flow_key *x,
                                  const struct fk__bpf_flow_key *y)
{
    const __u64 *a = A8(x), *b = A8(y);
    return a[0] == b[0] && a[1] == b[1] && a[2] == b[2] && a[3] == b[3] && a[4] == b[4];
}

/* This CPU's slot for key k (NULL: no cache, or not a cached protocol). */
static __always_inline struct fk__bpf_cache_slot *cache_slot(const struct fk__bpf_flow_key *k)
{
    if (!fk_cache_slots || k->proto == 6)
        return 0;
    __u32 idx = bpf_get_smp_processor_id() * fk_cache_slots +
                (fk__bpf_cache_hash(k) & (fk_cache_slots - 1));
    return bpf_map_lookup_elem(&fk_cache, &idx);
}

/* After fk_flows counted a packet of the flow incarnation gen, whose
 * entry has the first packet of the key sides in sides: claim this CPU's
 * slot if it is EMPTY, or let it count the sides if it holds the flow. */
static __always_inline void cache_claim(struct fk__bpf_flow_counters *cnt,
                                        struct fk__bpf_cache_slot *s,
                                        const struct fk__bpf_flow_key *k, __u64 gen, __u8 sides)
{
    if (s->state == FK__BPF_SLOT_EMPTY) {
        __builtin_memcpy(A8(&s->key), A8(k), sizeof(*k));
        s->gen = gen;
        s->bytes[0] = s->bytes[1] = 0;
        s->packets[0] = s->packets[1] = 0;
        s->last_ns[0] = s->last_ns[1] = 0;
        s->tcp_flags = 0;
        s->sides = sides;
        /* the fields before the state (user space reads a slot's key and
         * gen only once it is ACTIVE) */
        __sync_lock_test_and_set(&s->state, FK__BPF_SLOT_ACTIVE);
        cnt->cache_claims++;
    } else if (s->state == FK__BPF_SLOT_ACTIVE && s->gen == gen && key_eq(&s->key, k)) {
        s->sides = sides;
    }
}

#endif
