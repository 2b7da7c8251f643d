/* Loading, attaching, draining and sweeping the eBPF capture backend's
 * programs (flow.bpf.c, embedded by a skeleton bpftool generates at build
 * time). Attachments are BPF links (tcx for tc, link-based xdp) held by fds
 * of this process, so the kernel detaches them when the process ends, even
 * by SIGKILL. */
#include <errno.h>
#include <flowkit/flow.h>
#include <stdlib.h>
#include <string.h>

#include "bpf/flow_cache.h"
#include "bpf/flows.h"
#include "core/alloc.h"
#include "core/error.h"

#define FK__BPF_REFUSE_ENV "FLOWKIT_BPF_REFUSE"
#define FK__BPF_LOG_ENV "FLOWKIT_BPF_LOG"

#ifndef FK_HAVE_BPF

int fk__bpf_flows_open(fk__bpf_flows **out, const fk__bpf_flows_config *cfg)
{
    (void)cfg;
    if (out)
        *out = NULL;
    return fk__error(FK_EUNSUPPORTED,
                     "bpf: this build has no BPF backend (clang's BPF target, libbpf or bpftool "
                     "were missing at build time, or FLOWKIT_BPF=OFF)");
}

void fk__bpf_flows_detach(fk__bpf_flows *f)
{
    (void)f;
}

void fk__bpf_flows_close(fk__bpf_flows *f)
{
    (void)f;
}

int fk__bpf_flows_get_fd(const fk__bpf_flows *f)
{
    (void)f;
    return -1;
}

int fk__bpf_flows_drain(fk__bpf_flows *f, fk__bpf_session_cb cb, fk__bpf_flow_end_cb end, void *ctx)
{
    (void)f;
    (void)cb;
    (void)end;
    (void)ctx;
    return fk__error(FK_EUNSUPPORTED, "bpf: this build has no BPF backend");
}

int fk__bpf_flows_sweep(fk__bpf_flows *f, fk__bpf_flow_decide_cb decide, fk__bpf_flow_end_cb end,
                        void *ctx)
{
    (void)f;
    (void)decide;
    (void)end;
    (void)ctx;
    return fk__error(FK_EUNSUPPORTED, "bpf: this build has no BPF backend");
}

void fk__bpf_flows_get_stats(const fk__bpf_flows *f, fk__bpf_flows_stats *out)
{
    (void)f;
    memset(out, 0, sizeof *out);
}

#else /* FK_HAVE_BPF */

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include "bpf/flow.skel.h"

/* The tcx attach types (kernel 6.6); libbpf and UAPI headers older than
 * that do not name them. */
#define FK__BPF_TCX_INGRESS 46
#define FK__BPF_TCX_EGRESS 47
#define FK__SWEEP_CHUNK 4096u
#define FK__MAX_LINKS 512

struct fk__bpf_flows {
    struct fk_flow_bpf *skel;
    struct ring_buffer *ring;
    int link_fds[FK__MAX_LINKS]; /* tcx links */
    size_t nlink_fds;
    struct bpf_link *xdp_links[FK__MAX_LINKS / 2];
    size_t nxdp_links;
    int ncpus;
    bool no_batch;      /* the kernel refused batched lookups: key by key */
    bool no_lookup_del; /* ... and lookup-and-delete: lookup, then delete */
    fk__bpf_session_cb cb;
    fk__bpf_flow_end_cb end_cb;
    void *cb_ctx;
    uint64_t drained, malformed;
    struct fk__bpf_flow_key *keys; /* sweep buffers, FK__SWEEP_CHUNK each */
    struct fk__bpf_flow_val *vals;
    fk__bpf_cache cache; /* the per-CPU flow cache (slots NULL: none) */
};

static int quiet_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
    (void)level;
    if (getenv(FK__BPF_LOG_ENV)) /* libbpf's messages, the verifier's log among them */
        return vfprintf(stderr, fmt, ap);
    return 0;
}

static int status_of(int e)
{
    return e == EPERM || e == EACCES ? FK_EPERM : FK_EIO;
}

static int attach_tcx(fk__bpf_flows *f, struct bpf_program *prog, uint32_t ifindex, int type,
                      const char *name)
{
    int fd = bpf_link_create(bpf_program__fd(prog), (int)ifindex, (enum bpf_attach_type)type, NULL);
    if (fd < 0) {
        int e = errno;
        if (e == EINVAL || e == ENOTSUP || e == EOPNOTSUPP)
            return fk__error_set(FK_EUNSUPPORTED, e,
                                 "bpf: %s: the kernel cannot attach tc programs through tcx links "
                                 "(kernel 6.6 or newer)",
                                 name);
        return fk__error_set(status_of(e), e, "bpf: %s: cannot attach the %s program", name,
                             type == FK__BPF_TCX_INGRESS ? "tc ingress" : "tc egress");
    }
    f->link_fds[f->nlink_fds++] = fd;
    return 0;
}

static int attach_all(fk__bpf_flows *f, const fk__bpf_flows_config *cfg)
{
    for (size_t i = 0; i < cfg->n_ifindexes; i++) {
        const char *name = cfg->names ? cfg->names[i] : "device";
        int rc;
        if (cfg->xdp) {
            struct bpf_link *l =
                bpf_program__attach_xdp(f->skel->progs.fk_xdp, (int)cfg->ifindexes[i]);
            if (!l) {
                int e = errno;
                return fk__error_set(status_of(e), e, "bpf: %s: cannot attach the xdp program",
                                     name);
            }
            f->xdp_links[f->nxdp_links++] = l;
            continue;
        }
        rc = attach_tcx(f, f->skel->progs.fk_tc_ingress, cfg->ifindexes[i], FK__BPF_TCX_INGRESS,
                        name);
        if (rc == 0)
            rc = attach_tcx(f, f->skel->progs.fk_tc_egress, cfg->ifindexes[i], FK__BPF_TCX_EGRESS,
                            name);
        if (rc)
            return rc;
    }
    return 0;
}

static int put_prog(struct bpf_map *map, uint32_t key, struct bpf_program *prog, const char *what)
{
    int fd = bpf_program__fd(prog);
    if (bpf_map__update_elem(map, &key, sizeof key, &fd, sizeof fd, BPF_ANY) != 0) {
        int e = errno;
        return fk__error_set(status_of(e), e, "bpf: cannot put the %s parser into its prog array",
                             what);
    }
    return 0;
}

/* The full outer parser into slot 1 of the hook programs' prog array and,
 * with tunnels, the inner-packet parser into its slot 0 and into slot 0 of
 * the full parser's own array (flow.bpf.c's SLOT_FULL, SLOT_INNER,
 * fk_*_next_progs), before the programs that tail-call them are attached.
 * An array holds its programs while this process holds the map: when its
 * fds close (destroy, or the process dying) the kernel empties the array
 * and frees them all. */
static int set_inner(fk__bpf_flows *f, const fk__bpf_flows_config *cfg)
{
    struct bpf_map *map =
        cfg->xdp ? f->skel->maps.fk_xdp_inner_progs : f->skel->maps.fk_tc_inner_progs;
    struct bpf_map *next =
        cfg->xdp ? f->skel->maps.fk_xdp_next_progs : f->skel->maps.fk_tc_next_progs;
    struct bpf_program *inner = cfg->xdp ? f->skel->progs.fk_xdp_inner : f->skel->progs.fk_tc_inner;
    struct bpf_program *full = cfg->xdp ? f->skel->progs.fk_xdp_full : f->skel->progs.fk_tc_full;
    int rc = put_prog(map, 1, full, "full outer");
    if (rc == 0 && cfg->tunnels)
        rc = put_prog(map, 0, inner, "inner-packet");
    if (rc == 0 && cfg->tunnels)
        rc = put_prog(next, 0, inner, "inner-packet");
    return rc;
}

/* Each CPU's line (fk__bpf_cpu): the settings its programs read there
 * (before they are attached: nothing else writes it yet). */
static int set_cpus(fk__bpf_flows *f, const fk__bpf_flows_config *cfg, uint32_t slots)
{
    struct fk__bpf_cpu c;
    memset(&c, 0, sizeof c);
    c.slots = slots;
    c.ncpus = (uint32_t)f->ncpus;
    c.flags =
        (cfg->tunnels ? FK__BPF_CPU_TUNNELS : 0u) | (cfg->clock_precise ? FK__BPF_CPU_PRECISE : 0u);
    for (uint32_t i = 0; i < (uint32_t)f->ncpus; i++) {
        if (bpf_map__update_elem(f->skel->maps.fk_cpu, &i, sizeof i, &c, sizeof c, BPF_ANY) != 0)
            return fk__error_errno(FK_EIO, "bpf: cannot set up the per-CPU state");
    }
    return 0;
}

static int on_record(void *ctx, void *data, size_t len)
{
    fk__bpf_flows *f = ctx;
    if (len >= 2 && ((const uint8_t *)data)[1] == FK__BPF_REC_FLOW_END) {
        struct fk__bpf_flow_key k;
        struct fk__bpf_flow_val v;
        int reason;
        if (fk__bpf_flow_end_decode(data, len, &k, &v, &reason) != 0) {
            f->malformed++;
            return 0;
        }
        f->drained++;
        if (f->end_cb && f->cache.slots) /* its slots: at the next sweep */
            fk__bpf_cache_defer(&f->cache, &k, &v, reason, f->end_cb, f->cb_ctx);
        else if (f->end_cb)
            f->end_cb(&k, &v, reason, f->cb_ctx);
        return 0;
    }
    fk__bpf_session s;
    if (fk__bpf_flow_event_decode(data, len, &s) != 0) {
        f->malformed++;
        return 0;
    }
    f->drained++;
    if (f->cb)
        f->cb(&s, f->cb_ctx);
    return 0;
}

int fk__bpf_flows_open(fk__bpf_flows **out, const fk__bpf_flows_config *cfg)
{
    if (!out || !cfg || cfg->n_ifindexes == 0)
        return fk__error(FK_EINVAL, "bpf: no device to attach to");
    *out = NULL;
    if (cfg->n_ifindexes > FK__MAX_LINKS / 2)
        return fk__error(FK_ERANGE, "bpf: %zu devices, at most %d", cfg->n_ifindexes,
                         FK__MAX_LINKS / 2);
    const char *refuse = getenv(FK__BPF_REFUSE_ENV);
    if (refuse && *refuse)
        return fk__error(FK_EUNSUPPORTED, "bpf: refused by the environment (%s is set)",
                         FK__BPF_REFUSE_ENV);
    uint32_t ring = cfg->ring_bytes ? cfg->ring_bytes : (1u << 20);
    if (ring < 4096 || (ring & (ring - 1)))
        return fk__error(FK_ERANGE, "bpf: ring buffer size %u is not a power of two >= 4096", ring);
    fk__bpf_flows *f = FK__NEW(fk__bpf_flows);
    if (!f)
        return fk__error(FK_ENOMEM, "bpf: out of memory");
    int rc = 0;
    f->keys = fk__calloc(FK__SWEEP_CHUNK, sizeof *f->keys);
    f->vals = fk__calloc(FK__SWEEP_CHUNK, sizeof *f->vals);
    if (!f->keys || !f->vals) {
        rc = fk__error(FK_ENOMEM, "bpf: out of memory");
        goto fail;
    }
    f->ncpus = libbpf_num_possible_cpus();
    if (f->ncpus <= 0) {
        rc = fk__error(FK_EIO, "bpf: cannot count the possible CPUs");
        goto fail;
    }
    libbpf_set_print(quiet_print);
    f->skel = fk_flow_bpf__open();
    if (!f->skel) {
        rc = fk__error_errno(FK_EIO, "bpf: cannot open the embedded BPF object");
        goto fail;
    }
    bpf_program__set_autoload(f->skel->progs.fk_xdp, cfg->xdp);
    bpf_program__set_autoload(f->skel->progs.fk_tc_ingress, !cfg->xdp);
    bpf_program__set_autoload(f->skel->progs.fk_tc_egress, !cfg->xdp);
    bpf_program__set_autoload(f->skel->progs.fk_tc_inner, cfg->tunnels && !cfg->xdp);
    bpf_program__set_autoload(f->skel->progs.fk_xdp_inner, cfg->tunnels && cfg->xdp);
    bpf_program__set_autoload(f->skel->progs.fk_tc_full, !cfg->xdp);
    bpf_program__set_autoload(f->skel->progs.fk_xdp_full, cfg->xdp);
    if (bpf_map__set_max_entries(f->skel->maps.fk_flow_events, ring) != 0 ||
        bpf_map__set_max_entries(f->skel->maps.fk_flows, cfg->max_flows ? cfg->max_flows : 65536) !=
            0) {
        rc = fk__error_errno(FK_EIO, "bpf: cannot size the maps");
        goto fail;
    }
    uint32_t slots = cfg->cache_slots;
    if ((slots & (slots - 1)) || slots > UINT32_MAX / (uint32_t)f->ncpus) {
        rc = fk__error(FK_ERANGE,
                       "bpf: flow cache of %u slots per CPU: not a power of two, or "
                       "too many for %d CPUs",
                       slots, f->ncpus);
        goto fail;
    }
    if (slots && !fk__bpf_cache_usable())
        slots = 0; /* no grace period to free slots with, or PREEMPT_RT */
    if (bpf_map__set_max_entries(f->skel->maps.fk_cache, slots ? slots * (uint32_t)f->ncpus : 1) ||
        bpf_map__set_max_entries(f->skel->maps.fk_cpu, (uint32_t)f->ncpus)) {
        rc = fk__error_errno(FK_EIO, "bpf: cannot size the flow cache");
        goto fail;
    }
    f->skel->rodata->fk_decode_tunnels = cfg->tunnels ? 1 : 0;
    int err = fk_flow_bpf__load(f->skel);
    if (err) {
        int e = err < 0 ? -err : err;
        rc = fk__error_set(status_of(e), e,
                           "bpf: the kernel refused the flow programs (needs root or "
                           "CAP_BPF+CAP_NET_ADMIN, tc/xdp programs, hash maps and ringbuf)");
        goto fail;
    }
    rc = set_cpus(f, cfg, slots);
    if (rc == 0 && slots)
        rc = fk__bpf_cache_map(&f->cache, bpf_map__fd(f->skel->maps.fk_cache), (uint32_t)f->ncpus,
                               slots);
    if (rc == 0)
        rc = set_inner(f, cfg);
    if (rc == 0)
        rc = attach_all(f, cfg);
    if (rc)
        goto fail;
    f->ring = ring_buffer__new(bpf_map__fd(f->skel->maps.fk_flow_events), on_record, f, NULL);
    if (!f->ring) {
        rc = fk__error_errno(FK_EIO, "bpf: cannot map the ring buffer");
        goto fail;
    }
    *out = f;
    return 0;
fail:
    fk__bpf_flows_close(f);
    return rc;
}

void fk__bpf_flows_detach(fk__bpf_flows *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->nlink_fds; i++)
        close(f->link_fds[i]);
    f->nlink_fds = 0;
    for (size_t i = 0; i < f->nxdp_links; i++)
        bpf_link__destroy(f->xdp_links[i]);
    f->nxdp_links = 0;
}

void fk__bpf_flows_close(fk__bpf_flows *f)
{
    if (!f)
        return;
    fk__bpf_flows_detach(f);
    ring_buffer__free(f->ring);
    fk__bpf_cache_unmap(&f->cache); /* the programs are detached: nothing writes it */
    fk_flow_bpf__destroy(f->skel);
    fk__free(f->keys);
    fk__free(f->vals);
    fk__free(f);
}

int fk__bpf_flows_get_fd(const fk__bpf_flows *f)
{
    return f && f->ring ? ring_buffer__epoll_fd(f->ring) : -1;
}

int fk__bpf_flows_drain(fk__bpf_flows *f, fk__bpf_session_cb cb, fk__bpf_flow_end_cb end, void *ctx)
{
    if (!f)
        return fk__error(FK_EINVAL, "bpf: NULL handle");
    uint64_t before = f->drained;
    f->cb = cb;
    f->end_cb = end;
    f->cb_ctx = ctx;
    /* flows the kernel ended stay deferred: the next sweep finishes them
     * with its own, one pair of grace periods for all (not in every drain) */
    int n = ring_buffer__consume(f->ring);
    f->cb = NULL;
    f->end_cb = NULL;
    f->cb_ctx = NULL;
    if (n < 0)
        return fk__error_set(FK_EIO, -n, "bpf: reading the ring buffer");
    return (int)(f->drained - before);
}

/* The kernel started a new flow in the entry after the sweep read it: a
 * TCP port reused (flow.bpf.c sent the old flow's record itself). */
static bool restarted(const struct fk__bpf_flow_key *k, const struct fk__bpf_flow_val *seen,
                      const struct fk__bpf_flow_val *now)
{
    return k->proto == 6 &&
           (now->init_side != seen->init_side ||
            now->first_ns[now->init_side & 1] != seen->first_ns[seen->init_side & 1]);
}

/* An ended flow deleted from fk_flows: to end now, or, with the flow
 * cache, once the sweep is through and its slots are final
 * (fk__bpf_cache_finish). */
static void ended(fk__bpf_flows *f, const struct fk__bpf_flow_key *k,
                  const struct fk__bpf_flow_val *v, int reason, fk__bpf_flow_end_cb end, void *ctx)
{
    if (f->cache.slots)
        fk__bpf_cache_defer(&f->cache, k, v, reason, end, ctx);
    else
        end(k, v, reason, ctx);
}

/* Delete one ended flow and hand on its final counters. */
static void end_one(fk__bpf_flows *f, int fd, const struct fk__bpf_flow_key *k,
                    const struct fk__bpf_flow_val *seen, int reason, fk__bpf_flow_decide_cb decide,
                    fk__bpf_flow_end_cb end, void *ctx)
{
    struct fk__bpf_flow_val v;
    if (!f->no_lookup_del) {
        if (bpf_map_lookup_and_delete_elem(fd, k, &v) == 0) {
            if (restarted(k, seen, &v)) {
                struct fk__bpf_flow_val m = v;
                fk__bpf_cache_merge(&f->cache, k, &m);
                reason = decide(k, &m, ctx);
                /* it goes on: put it back (a packet that made a new entry
                 * meanwhile wins, and this one ends here) */
                if (!reason && bpf_map_update_elem(fd, k, &v, BPF_NOEXIST) == 0)
                    return;
                if (!reason)
                    reason = FK_END_FORCED;
            }
            ended(f, k, &v, reason, end, ctx);
            return;
        }
        if (errno == ENOENT)
            return; /* gone meanwhile */
        f->no_lookup_del = true;
    }
    if (bpf_map_lookup_elem(fd, k, &v) != 0)
        v = *seen;
    if (bpf_map_delete_elem(fd, k) == 0)
        ended(f, k, &v, reason, end, ctx);
}

/* One chunk read: decide, then end what must end. */
static void sweep_chunk(fk__bpf_flows *f, int fd, uint32_t n, fk__bpf_flow_decide_cb decide,
                        fk__bpf_flow_end_cb end, void *ctx)
{
    for (uint32_t i = 0; i < n; i++) {
        struct fk__bpf_flow_val seen = f->vals[i];
        fk__bpf_cache_merge(&f->cache, &f->keys[i], &seen);
        int reason = decide(&f->keys[i], &seen, ctx);
        if (reason)
            end_one(f, fd, &f->keys[i], &f->vals[i], reason, decide, end, ctx);
    }
}

/* Without batched lookups: walk the keys one by one. A key deleted while
 * walking restarts the walk at the first key (the kernel's rule). */
static int sweep_keys(fk__bpf_flows *f, int fd, fk__bpf_flow_decide_cb decide,
                      fk__bpf_flow_end_cb end, void *ctx)
{
    uint32_t n = 0;
    int total = 0;
    struct fk__bpf_flow_key cur, next;
    const void *prev = NULL;
    while (bpf_map_get_next_key(fd, prev, &next) == 0) {
        if (bpf_map_lookup_elem(fd, &next, &f->vals[n]) == 0) {
            f->keys[n++] = next;
            total++;
        }
        cur = next;
        prev = &cur;
        if (n == FK__SWEEP_CHUNK) {
            sweep_chunk(f, fd, n, decide, end, ctx);
            n = 0;
        }
    }
    sweep_chunk(f, fd, n, decide, end, ctx);
    return total;
}

/* Every entry of fk_flows, in batches where the kernel has them. */
static int sweep_map(fk__bpf_flows *f, int fd, fk__bpf_flow_decide_cb decide,
                     fk__bpf_flow_end_cb end, void *ctx)
{
    if (f->no_batch)
        return sweep_keys(f, fd, decide, end, ctx);
    uint32_t in_token = 0, out_token = 0;
    bool first = true;
    int total = 0;
    for (;;) {
        uint32_t count = FK__SWEEP_CHUNK;
        int err = bpf_map_lookup_batch(fd, first ? NULL : &in_token, &out_token, f->keys, f->vals,
                                       &count, NULL);
        int e = err ? errno : 0;
        if (err && e != ENOENT) {
            if (first && (e == EINVAL || e == ENOTSUP || e == EOPNOTSUPP)) {
                f->no_batch = true;
                return sweep_keys(f, fd, decide, end, ctx);
            }
            return fk__error_set(FK_EIO, e, "bpf: reading the flow map");
        }
        total += (int)count;
        sweep_chunk(f, fd, count, decide, end, ctx);
        if (err) /* ENOENT: that was the last chunk */
            break;
        in_token = out_token;
        first = false;
    }
    return total;
}

int fk__bpf_flows_sweep(fk__bpf_flows *f, fk__bpf_flow_decide_cb decide, fk__bpf_flow_end_cb end,
                        void *ctx)
{
    if (!f || !decide || !end)
        return fk__error(FK_EINVAL, "bpf: NULL argument");
    int fd = bpf_map__fd(f->skel->maps.fk_flows);
    fk__bpf_cache_index(&f->cache);
    int total = sweep_map(f, fd, decide, end, ctx);
    fk__bpf_cache_orphans(&f->cache, total >= 0, f->nlink_fds + f->nxdp_links == 0, end, ctx);
    /* the ended flows' cache slots, also when the map could not be read */
    fk__bpf_cache_finish(&f->cache, end, ctx);
    fk__bpf_cache_reap(&f->cache);
    return total;
}

void fk__bpf_flows_get_stats(const fk__bpf_flows *f, fk__bpf_flows_stats *out)
{
    memset(out, 0, sizeof *out);
    if (!f)
        return;
    out->drained = f->drained;
    out->malformed = f->malformed;
    out->cache_slots = f->cache.slots ? f->cache.per_cpu : 0;
    out->grace_periods = f->cache.grace_periods;
    out->cache_orphans = f->cache.orphans;
    out->cache_reaped = f->cache.reaped;
    size_t n = (size_t)f->ncpus;
    struct fk__bpf_flow_counters *per = fk__calloc(n, sizeof *per);
    uint32_t zero = 0;
    if (!per || bpf_map_lookup_elem(bpf_map__fd(f->skel->maps.fk_counters), &zero, per) != 0) {
        fk__free(per);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        out->k.non_ip += per[i].non_ip;
        out->k.malformed += per[i].malformed;
        out->k.created += per[i].created;
        out->k.map_full += per[i].map_full;
        out->k.events += per[i].events;
        out->k.events_lost += per[i].events_lost;
        out->k.ends += per[i].ends;
        out->k.ends_lost += per[i].ends_lost;
        out->k.frag_unmatched += per[i].frag_unmatched;
        out->k.tunnel_undecoded += per[i].tunnel_undecoded;
        out->k.cache_claims += per[i].cache_claims;
    }
    fk__free(per);
    for (uint32_t i = 0; i < (uint32_t)f->ncpus; i++) {
        struct fk__bpf_cpu c;
        if (bpf_map__lookup_elem(f->skel->maps.fk_cpu, &i, sizeof i, &c, sizeof c, 0) != 0)
            continue;
        out->k.packets += c.packets;
        out->k.bytes += c.bytes;
        out->k.cache_hits += c.cache_hits;
    }
}

#endif /* FK_HAVE_BPF */
