/* Internal: the bidirectional flow table with TCP session tracking.
 *
 * One table is used by one thread (a capture worker owns one shard; shards
 * are chosen with fk__flow_hash(), equal for both directions of a flow).
 * Memory is allocated once at create: a slab of max_flows entries and an
 * open-addressing index; adding packets never allocates.
 *
 * Key: canonical (address, port) pair ordered so that both directions map to
 * the same key, plus IP protocol and outer VLAN id. ICMP/ICMPv6 use
 * type*256+code as destination port, with echo/timestamp/info/mask replies
 * folded onto their request type so a ping and its reply form one flow.
 *
 * Per flow and per direction: IP-layer bytes (fk__packet.ip_len), packets,
 * first/last timestamp, OR of TCP flags. "Forward" is the direction of the
 * first packet seen.
 *
 * Records (fk_flow, present = FK_FLOW_HAS_REVERSE | FK_FLOW_HAS_END_REASON,
 * version 0; direction = the first packet's, when its decode knew it; with
 * cfg.tunnels, a flow whose first packet came out of a VXLAN/GENEVE tunnel
 * also carries tunnel, outer_src, outer_dst and vni with FK_FLOW_HAS_VNI)
 * are emitted through the sink callback with end_reason:
 *   FK_END_IDLE (1)      no packet for idle_timeout_ns (fk__flow_table_expire)
 *   FK_END_ACTIVE (2)    the record is older than active_timeout_ns; the flow
 *                        goes on with counters reset (checked on every packet
 *                        and in expire)
 *   FK_END_DETECTED (3)  TCP FIN seen from both sides, or RST: the flow is
 *                        closed; it lingers tcp_linger_ns (to count the last
 *                        ACK / repeated RSTs) and is then emitted, once.
 *                        A SYN without ACK on a closed flow (port reuse)
 *                        emits it at once and starts a new flow.
 *   FK_END_FORCED (4)    fk__flow_table_flush() (closed flows still say 3)
 *   FK_END_RESOURCES (5) the table was full: the least recently used flow
 *                        was evicted to make room (counted in stats.evicted)
 *
 * Session events (fk_session_event) for TCP: the first packet with SYN of a
 * flow (FK_SESSION_SYN), the first FIN of each side (FK_SESSION_FIN), the
 * first RST (FK_SESSION_RST); time = that packet's timestamp, tuple = that
 * packet's direction. Events are emitted before the record the packet may
 * complete.
 *
 * Fragments: a first fragment remembers its flow under (src, dst, proto,
 * frag_id) in a small direct-mapped cache; later fragments found there are
 * counted to that flow, others to a port-less flow of (src, dst, proto).
 *
 * Callbacks run synchronously inside add/expire/flush on the calling thread;
 * they must not call back into the same table. */
#ifndef FK_FLOW_FLOW_TABLE_H
#define FK_FLOW_FLOW_TABLE_H

#include <flowkit/flow.h>
#include <flowkit/session.h>
#include <stdint.h>

#include "packet/packet.h"

typedef struct fk__flow_table fk__flow_table;

/* A finished flow record as handed to the sink: the public record plus the
 * per-direction times that fk_flow does not carry. The pointer is valid only
 * during the callback. */
typedef struct fk__flow_record {
    fk_flow flow;         /* forward = direction of the first packet */
    int64_t fwd_first_ns; /* first/last packet in the forward direction */
    int64_t fwd_last_ns;
    int64_t rev_first_ns; /* reverse direction; 0 when no reverse packet */
    int64_t rev_last_ns;
    uint32_t hash; /* fk__flow_hash() of the flow */
} fk__flow_record;

/* Where the table delivers its output. Either callback may be NULL. */
typedef struct fk__flow_sink {
    void (*on_flow)(void *ctx, const fk__flow_record *rec);
    void (*on_event)(void *ctx, const fk_session_event *ev);
    void *ctx;
} fk__flow_sink;

/* Table configuration. A timeout of 0 disables it. */
typedef struct fk__flow_config {
    uint32_t max_flows;        /* >= 1; slab size, the bound on memory */
    int64_t idle_timeout_ns;   /* default 15 s */
    int64_t active_timeout_ns; /* default 1800 s */
    int64_t tcp_linger_ns;     /* closed TCP flow kept this long; default 1 s */
    int tunnels;               /* keep each flow's tunnel (kind, outer addresses, VNI of its first
                                  packet) for its record: 40 more bytes per flow; default 0 */
} fk__flow_config;

/* Fill cfg with defaults (max_flows 65536, idle 15 s, active 1800 s, linger 1 s). */
void fk__flow_config_default(fk__flow_config *cfg);

/* Counters of one table. */
typedef struct fk__flow_stats {
    uint64_t active;      /* flows in the table now */
    uint64_t created;     /* flows created */
    uint64_t evicted;     /* flows emitted with FK_END_RESOURCES */
    uint64_t records;     /* records emitted (all reasons) */
    uint64_t events;      /* session events emitted */
    uint64_t packets;     /* packets added */
    uint64_t bytes;       /* IP-layer bytes added */
    uint64_t frag_hits;   /* later fragments matched to their first fragment's flow */
    uint64_t frag_misses; /* later fragments whose first fragment was not (or no longer) known:
                             counted on the port-less flow of their addresses */
} fk__flow_stats;

/* Create a table; *out is the caller's (fk__flow_table_destroy). The sink
 * is copied. Errors: FK_EINVAL (NULL, max_flows 0 or > 2^28, negative
 * timeout), FK_ENOMEM. */
int fk__flow_table_create(fk__flow_table **out, const fk__flow_config *cfg,
                          const fk__flow_sink *sink);

/* Free the table without emitting anything (flush first to get records). */
void fk__flow_table_destroy(fk__flow_table *t);

/* Count one decoded packet (fk__packet_decode() returned FK__PKT_OK). May
 * emit events and records (active timeout, eviction, port reuse) through
 * the sink. Never allocates. Returns 0, or FK_EINVAL for a NULL argument or
 * a packet that is not IPv4/IPv6. */
int fk__flow_table_add(fk__flow_table *t, const fk__packet *p);

/* Count n decoded packets, in order, with exactly the effect of n calls of
 * fk__flow_table_add() (same records and events in the same order), but
 * faster: the index and the entries of a group of packets are prefetched
 * before they are counted. Entries that are not IPv4/IPv6 are skipped.
 * Returns the number of packets counted. */
size_t fk__flow_table_add_batch(fk__flow_table *t, const fk__packet *p, size_t n);

/* Advance the table's clock to now_ns (packet time, not wall time): emits
 * flows idle since now_ns - idle_timeout_ns (FK_END_IDLE), records older
 * than the active timeout (FK_END_ACTIVE) and closed TCP flows whose linger
 * passed (FK_END_DETECTED). Cost is proportional to what expires. Returns the
 * number of records emitted. */
size_t fk__flow_table_expire(fk__flow_table *t, int64_t now_ns);

/* Emit every flow (FK_END_FORCED, closed TCP flows FK_END_DETECTED) and
 * empty the table. Returns the number of records emitted. */
size_t fk__flow_table_flush(fk__flow_table *t);

/* Read the counters. */
void fk__flow_table_stats(const fk__flow_table *t, fk__flow_stats *out);

/* Symmetric hash of a packet's flow key: equal for both directions of a
 * flow (canonical key), so it can pick a worker shard. Later fragments
 * (no ports) hash as the port-less key. */
uint32_t fk__flow_hash(const fk__packet *p);

#endif /* FK_FLOW_FLOW_TABLE_H */
