/* Internal: the user-space side of the eBPF capture backend's per-CPU flow
 * cache (flow.bpf.c's fk_cache, flow_event.h's fk__bpf_cache_slot).
 *
 *   fk__bpf_cache_usable()  whether this kernel gives what the cache needs
 *   fk__bpf_cache_map()     mmap the slot array (CPUs x slots per CPU)
 *   fk__bpf_cache_merge()   add a flow's ACTIVE slots to a copy of its
 *                           fk_flows value (what the sweep decides on)
 *   fk__bpf_cache_defer()   a flow deleted from fk_flows whose slots are
 *                           still to be added: kept until ..._finish()
 *   fk__bpf_cache_finish()  grace period, mark the deferred flows' slots
 *                           DRAINING, grace period, add them, free them,
 *                           hand the final records on
 *   fk__bpf_cache_reap()    free slots whose flow's end record was lost
 *
 * The grace periods are real: membarrier(MEMBARRIER_CMD_GLOBAL) runs
 * synchronize_rcu(), which waits for every program run under way (tc and
 * xdp programs run inside RCU read-side sections with softirqs off). Where
 * the kernel does not offer it (nohz_full CPUs) or is PREEMPT_RT, the
 * cache is not used. With one CPU online membarrier(GLOBAL) returns at
 * once without synchronize_rcu(): that is still exact, as no program can
 * be mid-run while this thread runs on the only CPU (they run with
 * softirqs off). Memory: possible CPUs x slots per CPU x 128 B. */
#ifndef FK_BPF_FLOW_CACHE_H
#define FK_BPF_FLOW_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bpf/flow_event.h"

/* The most deferred flows kept (168 B each) before they are finished. */
#define FK__BPF_CACHE_ENDS_MAX 65536u

/* A flow ended in fk_flows whose cache slots are still to be added, or
 * an orphan: slots of a (key, gen) no fk_flows entry has. */
typedef struct fk__bpf_cache_end {
    struct fk__bpf_flow_key key;
    struct fk__bpf_flow_val val;
    uint64_t gen; /* the incarnation whose slots are added */
    int reason;
    bool orphan; /* val starts empty; its times come from the slots */
} fk__bpf_cache_end;

typedef struct fk__bpf_cache {
    struct fk__bpf_cache_slot *slots; /* mmap'ed; NULL: no cache */
    size_t map_len;
    uint32_t ncpus, per_cpu;
    fk__bpf_cache_end *ends; /* deferred, owned */
    size_t nends, cap;
    uint64_t grace_periods; /* waited for */
    uint8_t *seen;          /* per slot: DRAINING at the last fk__bpf_cache_reap() */
    uint64_t reaped;        /* DRAINING slots freed by fk__bpf_cache_reap() */
    /* The sweep's index (fk__bpf_cache_index): the slots ACTIVE at its
     * start by (key, gen), an open-addressing table of tab_len entries
     * (a hash's high 32 bits, slot index + 1; 0 empty); next chains the
     * slots of one (key, gen) on other CPUs. Grown, never shrunk. */
    uint64_t *tab;
    size_t tab_len;
    uint32_t *next;
    bool indexed;
    uint8_t *miss;    /* per slot: sweeps in a row it matched no entry */
    uint8_t *matched; /* per slot: matched an entry in this sweep */
    uint64_t orphans; /* slots drained as orphans */
} fk__bpf_cache;

/* The final counters of an ended flow (flows.h's fk__bpf_flow_end_cb). */
typedef void (*fk__bpf_cache_end_cb)(const struct fk__bpf_flow_key *k,
                                     const struct fk__bpf_flow_val *v, int reason, void *ctx);

/* True when this kernel has membarrier(MEMBARRIER_CMD_GLOBAL) and is not
 * PREEMPT_RT. */
bool fk__bpf_cache_usable(void);

/* mmap the array map fd (ncpus x per_cpu slots). 0 or FK_EIO / FK_ENOMEM. */
int fk__bpf_cache_map(fk__bpf_cache *c, int fd, uint32_t ncpus, uint32_t per_cpu);

/* Unmap and free (a zeroed cache: nothing). */
void fk__bpf_cache_unmap(fk__bpf_cache *c);

/* Start of a sweep: one linear pass over every CPU's slots indexes the
 * ACTIVE ones by (key, gen), so that fk__bpf_cache_merge() costs one
 * probe of that table a flow, not one slot probe per possible CPU. Out of
 * memory: no index (merge probes each CPU, no orphan is looked for). */
void fk__bpf_cache_index(fk__bpf_cache *c);

/* Add the ACTIVE slots of key k's incarnation v to *v (a snapshot: the
 * programs may be adding to them), and note them as matched. */
void fk__bpf_cache_merge(fk__bpf_cache *c, const struct fk__bpf_flow_key *k,
                         struct fk__bpf_flow_val *v);

/* End of a sweep that read all of fk_flows (complete) or not: a slot
 * ACTIVE at this sweep's and the previous sweep's index that matched no
 * entry in either (an orphan: flow_cache.bpf.h) is deferred, to be
 * drained like an ended flow by fk__bpf_cache_finish(), emitted as a flow
 * of its own (FK_END_FORCED) and counted in orphans. With the programs
 * detached (the final flush) one sweep suffices: no entry can appear
 * later. Drops the index. */
void fk__bpf_cache_orphans(fk__bpf_cache *c, bool complete, bool detached, fk__bpf_cache_end_cb end,
                           void *ctx);

/* Keep a flow just deleted from fk_flows (v: what the delete returned)
 * until fk__bpf_cache_finish(). Finishes the ones kept so far first when
 * there is no room for more: the list (outside memory_limit) holds at
 * most FK__BPF_CACHE_ENDS_MAX, so the final flush works in batches. */
void fk__bpf_cache_defer(fk__bpf_cache *c, const struct fk__bpf_flow_key *k,
                         const struct fk__bpf_flow_val *v, int reason, fk__bpf_cache_end_cb end,
                         void *ctx);

/* Add their slots to the deferred flows, free those slots and hand each
 * flow to end. Waits for two grace periods when there is a flow. */
void fk__bpf_cache_finish(fk__bpf_cache *c, fk__bpf_cache_end_cb end, void *ctx);

/* Free the slots left DRAINING since the last call: those the kernel
 * marked for a TCP flow it ended whose FK__BPF_REC_FLOW_END record the
 * full ring lost (counted in ends_lost; their counts go with it). Once
 * per sweep: a record that was not lost is drained within one. */
void fk__bpf_cache_reap(fk__bpf_cache *c);

#endif
