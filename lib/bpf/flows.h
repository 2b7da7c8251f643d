/* Internal: the user-space side of the eBPF capture backend's kernel
 * programs (flow.bpf.c).
 *
 *   fk__bpf_flows_open()   load, size the maps, attach to each device
 *                          (tcx links on ingress + egress, or xdp links)
 *   fk__bpf_flows_drain()  session events from the ring buffer
 *   fk__bpf_flows_sweep()  read every flow (batched), end the ones the caller
 *                          says (lookup-and-delete: the final counters)
 *   fk__bpf_flows_close()  detach (closing the link fds) and free
 *
 * Every attachment is a BPF link held by an fd of this process: when the
 * process exits or is killed the kernel detaches the programs, so a crash
 * leaves no filter behind. fk__bpf_flow_event_decode() is a pure function
 * over the bytes of one ring buffer record (fuzzed); it is built with or
 * without libbpf. */
#ifndef FK_BPF_FLOWS_H
#define FK_BPF_FLOWS_H

#include <flowkit/session.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bpf/flow_event.h"

/* One decoded session event: ev.time_ns is CLOCK_MONOTONIC (the caller
 * converts), ev.src/dst/ports in the packet's own direction. */
typedef struct fk__bpf_session {
    fk_session_event ev;
    uint8_t hook; /* FK__BPF_HOOK_* */
    uint32_t ifindex;
} fk__bpf_session;

/* Decode one ring buffer record. 0; FK_ETRUNCATED (short), FK_EUNSUPPORTED
 * (newer version), FK_EMALFORMED (old version, kind, protocol, family,
 * hook, VLAN id, non-zero padding, IPv4 address with bytes beyond the
 * fourth). Records a message with fk__error on failure. */
int fk__bpf_flow_event_decode(const void *data, size_t len, fk__bpf_session *out);

/* Decode one FK__BPF_REC_FLOW_END record (a flow the kernel ended: port
 * reuse). 0; FK_ETRUNCATED, FK_EUNSUPPORTED (newer version), FK_EMALFORMED
 * (kind, end reason, padding, protocol other than TCP, family, IPv4 address
 * with bytes beyond the fourth, VLAN id, initiator side, hook, flags,
 * tunnel fields, counters and times that disagree). */
int fk__bpf_flow_end_decode(const void *data, size_t len, struct fk__bpf_flow_key *key,
                            struct fk__bpf_flow_val *val, int *reason);

typedef struct fk__bpf_flows fk__bpf_flows;

typedef struct fk__bpf_flows_config {
    const uint32_t *ifindexes; /* devices to attach to (at least one) */
    const char *const *names;  /* their names, for messages */
    size_t n_ifindexes;
    bool xdp;             /* XDP on ingress only; else tc (tcx) ingress and egress */
    bool tunnels;         /* count VXLAN/GENEVE datagrams as their inner flows */
    bool clock_precise;   /* every packet reads the precise clock (else only first packets and
                             TCP SYN/FIN/RST: ebpf_clock = coarse) */
    uint32_t max_flows;   /* flow map entries */
    uint32_t cache_slots; /* per-CPU flow cache slots per CPU, 0 or a power of two; 0 = none
                             (also none when fk__bpf_cache_usable() says no) */
    uint32_t ring_bytes;  /* ring buffer size, power of two >= 4096; 0 = 1 MiB */
} fk__bpf_flows_config;

/* Load and attach. FK_EUNSUPPORTED (not built with BPF, FLOWKIT_BPF_REFUSE
 * set, or the kernel has no tcx/xdp links), FK_EPERM (no privilege),
 * FK_ERANGE (ring size), FK_EIO (the kernel refused a program or an
 * attachment; the message names the device). */
int fk__bpf_flows_open(fk__bpf_flows **out, const fk__bpf_flows_config *cfg);

/* Detach the programs now (the maps stay readable). */
void fk__bpf_flows_detach(fk__bpf_flows *f);

/* Detach and free (NULL: nothing). */
void fk__bpf_flows_close(fk__bpf_flows *f);

/* The ring buffer's pollable fd, -1 if none. */
int fk__bpf_flows_get_fd(const fk__bpf_flows *f);

typedef void (*fk__bpf_session_cb)(const fk__bpf_session *s, void *ctx);

/* Sweep decisions: 0 keeps the flow; an fk_end_reason ends it. */
typedef int (*fk__bpf_flow_decide_cb)(const struct fk__bpf_flow_key *k,
                                      const struct fk__bpf_flow_val *v, void *ctx);
/* An ended flow with its final counters (read as it was deleted, or sent
 * by the kernel when it ended the flow itself). */
typedef void (*fk__bpf_flow_end_cb)(const struct fk__bpf_flow_key *k,
                                    const struct fk__bpf_flow_val *v, int reason, void *ctx);

/* Hand every record now in the ring to cb (session events) or end (flows
 * the kernel ended), in the kernel's order, without blocking. Returns the
 * number decoded, or a negative status. Undecodable records are counted
 * (malformed) and skipped. */
int fk__bpf_flows_drain(fk__bpf_flows *f, fk__bpf_session_cb cb, fk__bpf_flow_end_cb end,
                        void *ctx);

/* Read every flow of the map (batched lookups where the kernel has them,
 * else key by key), ask decide for each (on its counters with its flow
 * cache slots added), and delete the ones it ends, handing their final
 * counters to end (with the cache: once the sweep is through, after the
 * grace periods that make their slots final, flow_cache.h). A TCP flow that the kernel
 * restarted (port reuse) after it was read is decided again on what the
 * delete returned, and put back when it goes on. Returns the number of
 * flows read (the map's population), or a negative status. */
int fk__bpf_flows_sweep(fk__bpf_flows *f, fk__bpf_flow_decide_cb decide, fk__bpf_flow_end_cb end,
                        void *ctx);

typedef struct fk__bpf_flows_stats {
    struct fk__bpf_flow_counters k; /* the kernel's, summed over CPUs */
    uint32_t cache_slots;           /* flow cache slots per CPU in use, 0 none */
    uint64_t grace_periods;         /* RCU grace periods waited for (flow cache) */
    uint64_t cache_orphans;         /* orphan slots drained (flow_cache.h) */
    /* DRAINING slots no flow end claimed, freed by the sweep (flow_cache.h's
     * reap): a TCP flow the kernel ended whose end record the full ring lost
     * (counted in k.ends_lost); the slots' packets are in no record */
    uint64_t cache_reaped;
    uint64_t drained;   /* session events decoded */
    uint64_t malformed; /* records that did not decode */
} fk__bpf_flows_stats;

void fk__bpf_flows_get_stats(const fk__bpf_flows *f, fk__bpf_flows_stats *out);

#endif
