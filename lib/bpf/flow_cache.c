/* The per-CPU flow cache's user-space side: reading its slots into the
 * sweep and freeing the slots of ended flows (flow_cache.h; the program
 * side and the reasoning in flow.bpf.c above fk_cache, docs/flows.md
 * "The per-CPU flow cache").
 *
 * Ending a cached flow (fk__bpf_cache_finish), for every flow the sweep
 * deleted from fk_flows:
 *   1. a grace period: every program run that found the deleted entry has
 *      ended, so no slot is claimed for that incarnation (gen) any more;
 *   2. each CPU's slot for the key, when ACTIVE with this key and gen, is
 *      swapped to DRAINING: program runs that start later count the key
 *      in fk_flows (a new entry, a new incarnation);
 *   3. a second grace period: every run that saw such a slot ACTIVE has
 *      finished adding to it;
 *   4. the slots are added to the deleted entry's value, set EMPTY, and the
 *      flow goes on to the record.
 * Every packet is so counted once: in the slot before step 2 (the ended
 * flow), in fk_flows otherwise. A packet that lands in a slot between the
 * delete and step 2 counts on the ended flow, as one that came just before
 * the sweep would. A TCP flow the kernel ended itself (a port reused)
 * comes as a FK__BPF_REC_FLOW_END record, its slots already DRAINING
 * (flow.bpf.c's cache_drain): the same steps add them to that record, at
 * the end of the ring's drain. */
#include "bpf/flow_cache.h"

#include <errno.h>
#include <flowkit/flow.h>
#include <linux/membarrier.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/error.h"

#define FK__CACHE_ENDS0 4096u

static long membarrier_cmd(int cmd)
{
    return syscall(SYS_membarrier, cmd, 0, 0);
}

bool fk__bpf_cache_usable(void)
{
    long q = membarrier_cmd(MEMBARRIER_CMD_QUERY);
    if (q < 0 || !(q & MEMBARRIER_CMD_GLOBAL))
        return false;
    FILE *rt = fopen("/sys/kernel/realtime", "r");
    int on = 0;
    if (rt) {
        if (fscanf(rt, "%d", &on) != 1)
            on = 0;
        fclose(rt);
    }
    return on != 1;
}

int fk__bpf_cache_map(fk__bpf_cache *c, int fd, uint32_t ncpus, uint32_t per_cpu)
{
    memset(c, 0, sizeof *c);
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t len = (size_t)ncpus * per_cpu * sizeof(struct fk__bpf_cache_slot);
    len = (len + page - 1) / page * page;
    void *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (m == MAP_FAILED)
        return fk__error_errno(FK_EIO, "bpf: cannot map the flow cache");
    size_t n = (size_t)ncpus * per_cpu;
    c->ends = fk__calloc(FK__CACHE_ENDS0, sizeof *c->ends);
    c->seen = fk__calloc(n, 1);
    c->miss = fk__calloc(n, 1);
    c->matched = fk__calloc(n, 1);
    c->next = fk__calloc(n, sizeof *c->next);
    if (!c->ends || !c->seen || !c->miss || !c->matched || !c->next) {
        munmap(m, len);
        fk__bpf_cache_unmap(c);
        return fk__error(FK_ENOMEM, "bpf: out of memory");
    }
    c->cap = FK__CACHE_ENDS0;
    c->slots = m;
    c->map_len = len;
    c->ncpus = ncpus;
    c->per_cpu = per_cpu;
    return 0;
}

void fk__bpf_cache_unmap(fk__bpf_cache *c)
{
    if (c->slots)
        munmap(c->slots, c->map_len);
    fk__free(c->ends);
    fk__free(c->seen);
    fk__free(c->miss);
    fk__free(c->matched);
    fk__free(c->tab);
    fk__free(c->next);
    memset(c, 0, sizeof *c);
}

void fk__bpf_cache_reap(fk__bpf_cache *c)
{
    size_t n = (size_t)c->ncpus * c->per_cpu;
    for (size_t i = 0; c->slots && i < n; i++) {
        uint32_t st = __atomic_load_n(&c->slots[i].state, __ATOMIC_ACQUIRE);
        if (st != FK__BPF_SLOT_DRAINING) {
            c->seen[i] = 0;
        } else if (!c->seen[i]) {
            c->seen[i] = 1;
        } else { /* no program writes a DRAINING slot: no grace period needed */
            c->seen[i] = 0;
            c->miss[i] = 0;
            c->reaped++;
            __atomic_store_n(&c->slots[i].state, FK__BPF_SLOT_EMPTY, __ATOMIC_RELEASE);
        }
    }
}

static uint64_t gen_of(const struct fk__bpf_flow_val *v)
{
    return v->first_ns[v->init_side & 1];
}

/* Slot i, when it holds k's incarnation gen in state. */
static struct fk__bpf_cache_slot *slot_at(const fk__bpf_cache *c, size_t i,
                                          const struct fk__bpf_flow_key *k, uint64_t gen,
                                          uint32_t state)
{
    struct fk__bpf_cache_slot *s = &c->slots[i];
    if (__atomic_load_n(&s->state, __ATOMIC_ACQUIRE) != state)
        return NULL;
    if (s->gen != gen || memcmp(&s->key, k, sizeof *k) != 0)
        return NULL;
    return s;
}

/* CPU cpu's slot for k, when it holds k's incarnation gen in state. */
static struct fk__bpf_cache_slot *slot_of(const fk__bpf_cache *c, uint32_t cpu,
                                          const struct fk__bpf_flow_key *k, uint64_t gen,
                                          uint32_t state)
{
    uint32_t h = fk__bpf_cache_hash(k) & (c->per_cpu - 1);
    return slot_at(c, (size_t)cpu * c->per_cpu + h, k, gen, state);
}

static void add_slot(struct fk__bpf_flow_val *v, const struct fk__bpf_cache_slot *s)
{
    for (int i = 0; i < 2; i++) {
        v->bytes[i] += __atomic_load_n(&s->bytes[i], __ATOMIC_RELAXED);
        v->packets[i] += __atomic_load_n(&s->packets[i], __ATOMIC_RELAXED);
        uint64_t last = __atomic_load_n(&s->last_ns[i], __ATOMIC_RELAXED);
        if (last > v->last_ns[i])
            v->last_ns[i] = last;
    }
    v->tcp_flags |= __atomic_load_n(&s->tcp_flags, __ATOMIC_RELAXED);
}

/* matched[]'s values: ACTIVE at the index, and then matched an entry */
#define FK__CACHE_INDEXED 1u
#define FK__CACHE_MATCHED 2u

/* The index's hash of (k, gen): position in its low bits, a check in
 * its high 32. */
static uint64_t index_hash(const struct fk__bpf_flow_key *k, uint64_t gen)
{
    uint64_t h = fk__bpf_cache_hash(k);
    h = (h << 32 | h) ^ gen;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    return h ^ (h >> 33);
}

#define FK__CACHE_NONE UINT32_MAX

void fk__bpf_cache_index(fk__bpf_cache *c)
{
    c->indexed = false;
    if (!c->slots)
        return;
    size_t n = (size_t)c->ncpus * c->per_cpu, active = 0;
    for (size_t i = 0; i < n; i++) { /* one linear pass over the slots */
        if (__atomic_load_n(&c->slots[i].state, __ATOMIC_ACQUIRE) == FK__BPF_SLOT_ACTIVE) {
            c->matched[i] = FK__CACHE_INDEXED;
            active++;
        } else {
            c->matched[i] = 0;
            c->miss[i] = 0; /* a later claim starts afresh */
        }
    }
    size_t len = 16;
    while (len < 2 * active)
        len *= 2;
    if (len > c->tab_len) {
        uint64_t *t = fk__realloc(c->tab, len * sizeof *t);
        if (!t)
            return; /* no index this sweep */
        c->tab = t;
        c->tab_len = len;
    }
    len = c->tab_len;
    memset(c->tab, 0, len * sizeof *c->tab);
    for (size_t i = 0; i < n; i++) { /* the same slots (ACTIVE stays until we free it) */
        if (c->matched[i] != FK__CACHE_INDEXED)
            continue;
        const struct fk__bpf_cache_slot *s = &c->slots[i];
        uint64_t h = index_hash(&s->key, s->gen);
        uint64_t want = (h >> 32) << 32;
        c->next[i] = FK__CACHE_NONE;
        for (size_t p = h & (len - 1);; p = (p + 1) & (len - 1)) {
            uint64_t e = c->tab[p];
            if (!e) {
                c->tab[p] = want | (uint32_t)(i + 1);
                break;
            }
            uint32_t head = (uint32_t)e - 1;
            if ((e >> 32) == (want >> 32) && c->slots[head].gen == s->gen &&
                memcmp(&c->slots[head].key, &s->key, sizeof s->key) == 0) {
                c->next[i] = head; /* the same flow on another CPU */
                c->tab[p] = want | (uint32_t)(i + 1);
                break;
            }
        }
    }
    c->indexed = true;
}

void fk__bpf_cache_merge(fk__bpf_cache *c, const struct fk__bpf_flow_key *k,
                         struct fk__bpf_flow_val *v)
{
    if (!c->slots)
        return;
    uint64_t gen = gen_of(v);
    if (!c->indexed) {
        for (uint32_t cpu = 0; cpu < c->ncpus; cpu++) {
            const struct fk__bpf_cache_slot *s = slot_of(c, cpu, k, gen, FK__BPF_SLOT_ACTIVE);
            if (s)
                add_slot(v, s);
        }
        return;
    }
    uint64_t h = index_hash(k, gen);
    size_t len = c->tab_len;
    for (size_t p = h & (len - 1); c->tab[p]; p = (p + 1) & (len - 1)) {
        if ((c->tab[p] >> 32) != (h >> 32))
            continue;
        for (uint32_t i = (uint32_t)c->tab[p] - 1; i != FK__CACHE_NONE; i = c->next[i]) {
            const struct fk__bpf_cache_slot *s = slot_at(c, i, k, gen, FK__BPF_SLOT_ACTIVE);
            if (s) {
                add_slot(v, s);
                c->matched[i] = FK__CACHE_MATCHED;
            }
        }
    }
}

void fk__bpf_cache_orphans(fk__bpf_cache *c, bool complete, bool detached, fk__bpf_cache_end_cb end,
                           void *ctx)
{
    if (!c->slots || !c->indexed)
        return;
    c->indexed = false;
    size_t n = (size_t)c->ncpus * c->per_cpu;
    for (size_t i = 0; complete && i < n; i++) {
        if (!c->matched[i])
            continue; /* not ACTIVE at the index */
        struct fk__bpf_cache_slot *s = &c->slots[i];
        if (c->matched[i] == FK__CACHE_MATCHED ||
            __atomic_load_n(&s->state, __ATOMIC_ACQUIRE) != FK__BPF_SLOT_ACTIVE) {
            c->miss[i] = 0;
            continue;
        }
        /* ACTIVE since the index and the previous one: the same claim
         * (only user space frees a slot, and it resets miss then) */
        if (++c->miss[i] < 2 && !detached)
            continue;
        c->miss[i] = 0;
        struct fk__bpf_flow_val v;
        memset(&v, 0, sizeof v);
        v.first_ns[0] = s->gen; /* gen_of(): the slots finish looks for */
        fk__bpf_cache_defer(c, &s->key, &v, FK_END_FORCED, end, ctx);
        c->ends[c->nends - 1].orphan = true;
    }
}

/* An RCU grace period: every BPF program run under way when it started
 * has ended. membarrier_cmd was checked when the cache was set up; should
 * it fail now, 100 ms (program runs take microseconds) stands in. */
static void grace_period(fk__bpf_cache *c)
{
    c->grace_periods++;
    if (membarrier_cmd(MEMBARRIER_CMD_GLOBAL) == 0)
        return;
    struct timespec ts = {0, 100 * 1000 * 1000};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* An orphan's record: its slots' counts, its start the gen the slot was
 * claimed with where that is a time within the flow, else its last. */
static void orphan_times(struct fk__bpf_flow_val *v, uint64_t gen)
{
    v->first_ns[0] = 0;
    v->init_side = v->packets[0] ? 0 : 1;
    for (int i = 0; i < 2; i++)
        if (v->packets[i])
            v->first_ns[i] = gen && gen <= v->last_ns[i] ? gen : v->last_ns[i];
}

void fk__bpf_cache_finish(fk__bpf_cache *c, fk__bpf_cache_end_cb end, void *ctx)
{
    if (c->nends == 0)
        return;
    grace_period(c); /* 1: no more claims for these incarnations */
    size_t marked = 0;
    for (size_t i = 0; i < c->nends; i++) {
        fk__bpf_cache_end *e = &c->ends[i];
        for (uint32_t cpu = 0; cpu < c->ncpus; cpu++) {
            struct fk__bpf_cache_slot *s = slot_of(c, cpu, &e->key, e->gen, FK__BPF_SLOT_ACTIVE);
            uint32_t want = FK__BPF_SLOT_ACTIVE;
            if (s && __atomic_compare_exchange_n(&s->state, &want, FK__BPF_SLOT_DRAINING, false,
                                                 __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
                marked++;
            /* or marked by the kernel (a TCP flow it ended: cache_drain) */
            else if (slot_of(c, cpu, &e->key, e->gen, FK__BPF_SLOT_DRAINING))
                marked++;
        }
    }
    if (marked)
        grace_period(c); /* 3: no run still adds to a DRAINING slot */
    for (size_t i = 0; i < c->nends; i++) {
        fk__bpf_cache_end *e = &c->ends[i];
        for (uint32_t cpu = 0; marked && cpu < c->ncpus; cpu++) {
            struct fk__bpf_cache_slot *s = slot_of(c, cpu, &e->key, e->gen, FK__BPF_SLOT_DRAINING);
            if (!s)
                continue;
            add_slot(&e->val, s);
            c->miss[s - c->slots] = 0;
            c->orphans += e->orphan;
            __atomic_store_n(&s->state, FK__BPF_SLOT_EMPTY, __ATOMIC_RELEASE);
        }
        if (e->orphan) {
            if (e->val.packets[0] + e->val.packets[1] == 0)
                continue; /* freed, nothing to say (or another entry took them) */
            orphan_times(&e->val, e->gen);
        }
        end(&e->key, &e->val, e->reason, ctx);
    }
    c->nends = 0;
}

void fk__bpf_cache_defer(fk__bpf_cache *c, const struct fk__bpf_flow_key *k,
                         const struct fk__bpf_flow_val *v, int reason, fk__bpf_cache_end_cb end,
                         void *ctx)
{
    if (c->nends == c->cap) {
        fk__bpf_cache_end *more = NULL;
        if (c->cap < FK__BPF_CACHE_ENDS_MAX)
            more = fk__realloc(c->ends, c->cap * 2 * sizeof *more);
        if (more) {
            c->ends = more;
            c->cap *= 2;
        } else {
            fk__bpf_cache_finish(c, end, ctx); /* full, or no memory for more: these first */
        }
    }
    fk__bpf_cache_end *e = &c->ends[c->nends++];
    e->key = *k;
    e->val = *v;
    e->gen = gen_of(v);
    e->reason = reason;
    e->orphan = false;
}
