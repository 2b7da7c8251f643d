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
 *  - a claim from an fk_flows entry checks that the entry is still the
 *    one it read (same_incarnation): the preallocated hash map reuses a
 *    deleted element at once, so a run holding its pointer could read
 *    another key's or incarnation's gen; a gen of 0 is never claimed.
 *    Should a slot still hold a gen no entry has (an orphan), the sweep
 *    drains it after two sweeps and counts it (kernel_cache_orphans);
 *  - TCP: a packet with SYN, FIN or RST always goes to fk_flows (session
 *    events and the closing state are decided there), and a session that
 *    is closing (a FIN or RST seen) claims no slot. When the kernel ends a
 *    TCP flow itself (a port reused), cache_drain marks that incarnation's
 *    slots on every CPU DRAINING, and user space adds them to the ended
 *    flow's record (FK__BPF_REC_FLOW_END) after the grace periods.
 */
struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(map_flags, BPF_F_MMAPABLE);
    __uint(max_entries, 1); /* the loader sets CPUs x slots per CPU */
    __type(key, __u32);
    __type(value, struct fk__bpf_cache_slot);
} fk_cache SEC(".maps");

static __always_inline int key_eq(const struct fk__bpf_flow_key *x,
                                  const struct fk__bpf_flow_key *y)
{
    const __u64 *a = A8(x), *b = A8(y);
    return a[0] == b[0] && a[1] == b[1] && a[2] == b[2] && a[3] == b[3] && a[4] == b[4];
}

/* This CPU's slot for key k (NULL: no cache, or not a cached protocol).
 * The slot count comes from the CPU's own line (fk__bpf_cpu.slots), set by
 * the loader: a global would cost a load of a line of its own. */
static __always_inline struct fk__bpf_cache_slot *cache_slot(const struct fk__bpf_cpu *cpu,
                                                             const struct fk__bpf_flow_key *k)
{
    __u32 n = cpu->slots;
    if (!n)
        return 0;
    __u32 idx = bpf_get_smp_processor_id() * n + (fk__bpf_cache_hash(k) & (n - 1));
    return bpf_map_lookup_elem(&fk_cache, &idx);
}

/* What cache_drain's bpf_loop callback needs. */
struct drain_ctx {
    struct fk__bpf_flow_key k;
    __u64 gen;
    __u32 slots, h;
};

static long drain_one(__u32 i, void *arg)
{
    struct drain_ctx *d = arg;
    __u32 idx = i * d->slots + d->h;
    struct fk__bpf_cache_slot *s = bpf_map_lookup_elem(&fk_cache, &idx);
    if (s && s->state == FK__BPF_SLOT_ACTIVE && s->gen == d->gen && key_eq(&s->key, &d->k))
        __sync_val_compare_and_swap(&s->state, FK__BPF_SLOT_ACTIVE, FK__BPF_SLOT_DRAINING);
    return 0;
}

/* A TCP flow the kernel ends itself (a port reused: the new connection
 * starts in the same fk_flows entry): every CPU's slot of its incarnation
 * gen is swapped to DRAINING, so no later run counts the new connection
 * there; user space adds them to the old flow's FK__BPF_REC_FLOW_END
 * record after a grace period (flow_cache.c). A run on another CPU that
 * read its slot ACTIVE just before may still add one packet to it (the
 * old flow's record then has it): the same instant as the existing rule
 * that a packet of the old flow at this moment may land on either. */
static __always_inline void cache_drain(const struct fk__bpf_cpu *cpu,
                                        const struct fk__bpf_flow_key *k, __u64 gen)
{
    if (!cpu->slots)
        return;
    struct drain_ctx d;
    __builtin_memcpy(A8(&d.k), A8(k), sizeof(*k));
    d.gen = gen;
    d.slots = cpu->slots;
    d.h = fk__bpf_cache_hash(k) & (cpu->slots - 1);
    bpf_loop(cpu->ncpus, drain_one, &d, 0);
}

/* Whether v, read from fk_flows for key k, is still the incarnation gen
 * with the TCP flags flags: fk_flows is a preallocated hash map, so an
 * element deleted by the sweep can be reused for another key (or the
 * key's next incarnation) while this run still holds its pointer, and a
 * port-reuse restart rewrites it in place on another CPU. A slot claimed
 * from such a read would hold a gen no entry has: an orphan, which user
 * space drains at the sweep (flow_cache.c) but which should not arise. */
static __always_inline int same_incarnation(const struct fk__bpf_flow_key *k,
                                            struct fk__bpf_flow_val *v, __u64 gen, __u32 flags)
{
    if (bpf_map_lookup_elem(&fk_flows, k) != v)
        return 0;
    return *(volatile __u64 *)&v->first_ns[*(volatile __u8 *)&v->init_side & 1] == gen &&
           *(volatile __u32 *)&v->tcp_flags == flags;
}

/* Whether cache_claim would change slot s (so is worth the check of
 * same_incarnation: not for a slot another flow holds). */
static __always_inline int cache_wants(const struct fk__bpf_cache_slot *s,
                                       const struct fk__bpf_flow_key *k, __u64 gen, __u8 sides)
{
    if (s->state == FK__BPF_SLOT_EMPTY)
        return 1;
    return s->state == FK__BPF_SLOT_ACTIVE && s->sides != sides && s->gen == gen &&
           key_eq(&s->key, k);
}

/* After fk_flows counted a packet of the flow incarnation gen, whose
 * entry has the first packet of the key sides in sides: claim this CPU's
 * slot if it is EMPTY, or let it count the sides if it holds the flow. */
static __always_inline void cache_claim(struct fk__bpf_flow_counters *cnt,
                                        struct fk__bpf_cache_slot *s,
                                        const struct fk__bpf_flow_key *k, __u64 gen, __u8 sides)
{
    if (!gen)
        return; /* no incarnation: a torn read of an entry being (re)made */
    if (s->state == FK__BPF_SLOT_EMPTY) {
        __builtin_memcpy(A8(&s->key), A8(k), sizeof(*k));
        s->gen = gen;
        s->bytes[0] = s->bytes[1] = 0;
        s->packets[0] = s->packets[1] = 0;
        s->last_ns[0] = s->last_ns[1] = 0;
        s->tcp_flags = 0;
        s->sides = sides;
        /* the fields before the state (user space reads a slot's key and
         * gen only once it is ACTIVE): a full barrier, the same BPF_XCHG
         * (__sync_lock_test_and_set promises only acquire) */
        __atomic_exchange_n(&s->state, FK__BPF_SLOT_ACTIVE, __ATOMIC_SEQ_CST);
        cnt->cache_claims++;
    } else if (s->state == FK__BPF_SLOT_ACTIVE && s->gen == gen && key_eq(&s->key, k)) {
        s->sides = sides;
    }
}

#endif
