/* Internal: what the kernel side of the eBPF capture backend (flow.bpf.c)
 * shares with user space (flows.c): the flow map's key and value, the
 * session event written into the ring buffer, and the per-CPU counters.
 * Fixed-width fields, no padding holes, host byte order except where said. */
#ifndef FK_BPF_FLOW_EVENT_H
#define FK_BPF_FLOW_EVENT_H

#include <linux/types.h>

#define FK__BPF_FLOW_EVENT_VERSION 1

/* Where a packet was seen (fk__bpf_flow_val.hook, fk__bpf_flow_event.hook). */
enum { FK__BPF_HOOK_INGRESS = 1, FK__BPF_HOOK_EGRESS = 2 };

/* Canonical flow key, the same as the pcap path's flow table: side a is the
 * lower (address, port) in memcmp order, so both directions of a flow share
 * one key. ICMP/ICMPv6: pa = 0, pb = type * 256 + code with replies folded
 * onto their request type. 40 bytes. */
struct fk__bpf_flow_key {
    __u8 a[16]; /* network order; IPv4 in the first 4 bytes, rest zero */
    __u8 b[16];
    __u16 pa; /* host order */
    __u16 pb;
    __u16 vlan; /* outer 802.1Q id, 0 if none */
    __u8 proto;
    __u8 family; /* 4 or 6 */
};

/* Per flow: counters of each key side ([0]: packets sent by side a). The
 * kernel adds with atomic operations; user space reads and deletes. */
struct fk__bpf_flow_val {
    __u64 bytes[2];       /* IP-layer bytes (IP header + payload) */
    __u64 packets[2];     /* packets (a GSO packet counts once, as libpcap sees it) */
    __u64 first_ns[2];    /* CLOCK_MONOTONIC of the first packet of each side, 0 none */
    __u64 last_ns[2];     /* ... of the last packet */
    __u32 tcp_flags;      /* OR of TCP flags: side a in bits 0-7, side b in bits 8-15 */
    __u32 ifindex;        /* device of the first packet */
    __u16 first_typecode; /* ICMP: type * 256 + code of the first packet */
    __u8 init_side;       /* key side that sent the first packet (0 = a) */
    __u8 hook;            /* FK__BPF_HOOK_* of the first packet */
    __u8 tos;             /* IPv4 TOS / IPv6 traffic class of the first packet */
    __u8 tunnel;          /* FK__BPF_TUNNEL_* of the first packet, 0 none */
    __u8 outer_family;    /* 4 or 6 (tunnel) */
    __u8 pad;
    __u32 vni;            /* VXLAN/GENEVE VNI (tunnel) */
    __u16 other_typecode; /* ICMP: type * 256 + code of the other side's first packet */
    __u16 pad2;
    __u8 outer_src[16]; /* the tunnel's outer addresses, network order (tunnel) */
    __u8 outer_dst[16];
};

/* fk__bpf_flow_val.tunnel: the fk_tunnel_kind values. */
enum { FK__BPF_TUNNEL_VXLAN = 3, FK__BPF_TUNNEL_GENEVE = 4 };

/* kind: the ::fk_session_kind values (1 SYN, 2 FIN, 3 RST). */
struct fk__bpf_flow_event {
    __u8 version; /* FK__BPF_FLOW_EVENT_VERSION */
    __u8 kind;    /* 1 SYN, 2 FIN, 3 RST */
    __u8 proto;   /* 6 */
    __u8 family;  /* 4 or 6 */
    __u8 hook;    /* FK__BPF_HOOK_* */
    __u8 pad;     /* zero */
    __u16 vlan;   /* outer 802.1Q id (12 bits), 0 if none */
    __u16 sport;  /* host order, the packet's own direction */
    __u16 dport;
    __u32 ifindex;
    __u64 ts_ns;    /* CLOCK_MONOTONIC (bpf_ktime_get_ns) */
    __u8 saddr[16]; /* network order; IPv4 in the first 4 bytes, rest zero */
    __u8 daddr[16];
};

#define FK__BPF_FLOW_EVENT_SIZE 56

/* Byte 1 (kind) of a ring buffer record that is not a session event: a
 * flow the kernel ended itself. A SYN without ACK on an entry whose TCP
 * session had closed (an RST, or a FIN from each side) is a new connection
 * on a reused port: the kernel sends the old flow's final counters in this
 * record and starts the new flow in the same map entry, as the pcap path's
 * flow table does. */
#define FK__BPF_REC_FLOW_END 16

struct fk__bpf_flow_end {
    __u8 version; /* FK__BPF_FLOW_EVENT_VERSION */
    __u8 kind;    /* FK__BPF_REC_FLOW_END */
    __u8 reason;  /* fk_end_reason: FK_END_DETECTED (3) */
    __u8 pad[5];  /* zero */
    struct fk__bpf_flow_key key;
    struct fk__bpf_flow_val val; /* the old flow's final counters */
};

#define FK__BPF_FLOW_END_SIZE 168

/* Per-CPU counters (one entry of a per-CPU array; user space sums CPUs). */
struct fk__bpf_flow_counters {
    __u64 packets;        /* packets seen by the programs (kept in fk__bpf_cpu) */
    __u64 bytes;          /* their lengths as the hook sees them (link layer included; ditto) */
    __u64 non_ip;         /* frames without IPv4/IPv6 */
    __u64 malformed;      /* IP packets whose headers could not be read */
    __u64 created;        /* flows created in the map */
    __u64 map_full;       /* packets not counted: the flow map was full */
    __u64 events;         /* session events written to the ring buffer */
    __u64 events_lost;    /* session events lost: the ring buffer was full */
    __u64 ends;           /* flows ended by the kernel (port reuse), sent as FK__BPF_REC_FLOW_END */
    __u64 ends_lost;      /* ... whose record was lost: the ring buffer was full */
    __u64 frag_unmatched; /* later fragments whose first fragment was not in fk_frags */
    __u64 tunnel_undecoded; /* VXLAN/GENEVE datagrams counted as their outer flow: the tail
                               call to the inner-packet parser failed (no program in the slot) */
    __u64 cache_hits;       /* packets counted in a flow cache slot, not fk_flows (fk__bpf_cpu) */
    __u64 cache_claims;     /* flow cache slots this CPU claimed for a flow */
};

/* Per CPU: what every packet touches, in one cache line of its own (fk_cpu,
 * a plain array indexed by CPU number: its lookup compiles to an address
 * computation, where a per-CPU array's or a global's costs a load, and a
 * cold line costs a cache miss on every packet, the largest share of the
 * programs' live time). User space adds packets, bytes and cache_hits to
 * fk__bpf_flow_counters' (whose own stay 0) and sets slots and flags
 * before the programs are attached. */
struct fk__bpf_cpu {
    __u64 packets;    /* packets seen by the programs on this CPU */
    __u64 bytes;      /* their lengths */
    __u64 cache_hits; /* packets counted in this CPU's flow cache slots */
    __u64 jiffies;    /* the clock cache (flow.bpf.c's packet_time): bpf_jiffies64() at */
    __u64 precise;    /* ... the precise reading kept for the tick */
    __u32 slots;      /* flow cache slots of each CPU, 0 = none (a power of two) */
    __u32 flags;      /* FK__BPF_CPU_* */
    __u32 ncpus;      /* CPUs that have slots (the possible CPUs) */
    __u8 pad[76];     /* 128 bytes: no other CPU's line next to it */
};

/* fk__bpf_cpu.flags */
enum { FK__BPF_CPU_TUNNELS = 1, FK__BPF_CPU_PRECISE = 2 };

#define FK__BPF_CPU_SIZE 128

/* The per-CPU flow cache in front of fk_flows (flow.bpf.c, flow_cache.c).
 * One plain array of CPUs x slots-per-CPU entries, mmap'ed by user space:
 * CPU c owns entries [c * slots, (c + 1) * slots) and a flow goes to entry
 * fk__bpf_cache_hash(key) & (slots - 1) of the CPU its packet runs on. A
 * slot only holds what a flow's later packets add on that CPU; the flow's
 * entry in fk_flows (its first packet of each side, its attributes) is
 * always there too, and gen names which incarnation of the key the slot
 * belongs to. state moves EMPTY -> ACTIVE (the program, claiming it),
 * ACTIVE -> DRAINING (user space, compare-and-swap, ending the flow) and
 * DRAINING -> EMPTY (user space, after the programs are done with it). */
enum { FK__BPF_SLOT_EMPTY = 0, FK__BPF_SLOT_ACTIVE = 1, FK__BPF_SLOT_DRAINING = 2 };

/* The first cache line holds what a hit checks (state, sides, the key)
 * and the bytes; the second the rest, which a hit only adds to: a sampled
 * profile of the hit path showed a miss on each line when the state was
 * in the second one. */
struct fk__bpf_cache_slot {
    struct fk__bpf_flow_key key;
    __u32 state;    /* FK__BPF_SLOT_* */
    __u8 sides;     /* bit s: packets of key side s are counted here (the side's first
                       packet is in fk_flows) */
    __u8 pad[3];    /* zero */
    __u64 bytes[2]; /* added on this CPU since the claim, per key side */
    __u64 packets[2];
    __u64 last_ns[2]; /* the latest time of those packets, 0 none */
    __u64 gen;        /* the fk_flows entry's first_ns[init_side] when claimed */
    __u32 tcp_flags;  /* OR of their TCP flags, as fk__bpf_flow_val.tcp_flags */
    __u8 pad2[20];    /* to 128 bytes: two cache lines, no slot straddles more */
};

#define FK__BPF_CACHE_SLOT_SIZE 128

/* The cache slot index of a key within its CPU's slots (slots a power of
 * two): a multiply-xor hash of the key's five 8-byte words, not jhash: it
 * runs for every packet. Keys crafted to collide only share a slot, and a
 * flow that finds its slot taken is counted in fk_flows as without the
 * cache. */
static inline __u32 fk__bpf_cache_hash(const struct fk__bpf_flow_key *k)
{
    __u64 w[5];
    __builtin_memcpy(w, k, sizeof w);
    __u64 x = (w[0] + w[2]) ^ ((w[1] + w[3]) * 0xff51afd7ed558ccdULL) ^ w[4];
    x *= 0x9e3779b97f4a7c15ULL;
    return (__u32)(x >> 32);
}

#endif
