/* Kernel side of the eBPF capture backend: flows counted where the packets
 * pass, nothing copied to user space per packet.
 *
 *   tc ingress / tc egress  (tcx links, per device)  ─┐
 *   xdp                     (ingress only, per device) ┴► fk_cache (per-CPU slots), on a miss
 *                                                       │  fk_flows (hash: key -> counters)
 *                                                       └► fk_flow_events (ring: SYN/FIN/RST)
 *
 * A frame of the common shape whose flow holds its cache slot on this CPU
 * is counted first, straight from its bytes (flow_fast.bpf.h: the hit
 * path). Otherwise the hook's program parses the common frames itself
 * (flow_parse.bpf.h).
 * A frame with IPv6 extension headers or more than two VLAN tags is handed
 * (fk_handoff) to the full parser, and with decode_tunnels a VXLAN/GENEVE
 * datagram to the inner-packet parser: programs of their own
 * (flow_inner.bpf.h) reached by a tail call through fk_tc_inner_progs /
 * fk_xdp_inner_progs, which walk extension headers as the pcap path does,
 * each with the verifier's budget to itself. A tail call that fails (the
 * program is missing) counts a tunnel datagram as its outer flow and in
 * tunnel_undecoded, another frame as malformed.
 *
 * User space (flows.c) sweeps fk_flows: it applies the idle/active timeouts,
 * deletes what ended and hands the records on as the pcap path's flow table
 * would. Keys and counting follow that table (lib/flow/flow_table.c): the
 * canonical key, IP-layer bytes from the IP header, per-side counters, the
 * first SYN / first FIN of each side / first RST as session events. The
 * programs only observe: tc programs return TCX_NEXT (the next program, or
 * the packet's normal path), xdp returns XDP_PASS.
 *
 * Only UAPI context structures are read (__sk_buff, xdp_md) plus the packet
 * bytes, so no BTF relocations of kernel types are needed. */
#include <linux/bpf.h>
#include <linux/types.h>

#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "flow_event.h"

#define TCX_NEXT (-1)
#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_ACK 0x10
#define PULL_BYTES 192 /* headers the parser may need, made linear on tc */

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 65536); /* the loader sets max_flows */
    __type(key, struct fk__bpf_flow_key);
    __type(value, struct fk__bpf_flow_val);
} fk_flows SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 1 << 20); /* the loader may change it */
} fk_flow_events SEC(".maps");

/* The rarer counters (a packet that is counted in its flow cache slot does
 * not touch them: packets, bytes and cache hits are in fk_cpu). */
struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct fk__bpf_flow_counters);
} fk_counters SEC(".maps");

/* Room for a new flow's counters before they go into fk_flows: off the
 * stack, which fk_count shares with its caller (512 bytes in all). */
struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct fk__bpf_flow_val);
} fk_scratch SEC(".maps");

/* A fragmented datagram: its later fragments carry no ports, so the first
 * fragment leaves its ports here and the later ones are counted on its flow
 * (as the pcap path's fragment table does). A later fragment whose first
 * one is not here (it comes later, or the LRU table evicted it for 4096
 * more recent ones) is counted on the port-less flow of its addresses and
 * in frag_unmatched, on both paths. A datagram is known by its addresses,
 * fragment id and VLAN, and for IPv4 its protocol (frag_key.proto; 0 for
 * IPv6, whose later fragments name the fragmentable part's first header,
 * e.g. destination options, not the first fragment's L4 protocol: RFC
 * 8200, lib/packet/packet.h's fk__frag_proto). */
struct frag_key {
    __u8 src[16];
    __u8 dst[16];
    __u32 id;
    __u16 vlan;
    __u8 proto, family;
};

struct frag_ports {
    __u16 sport, dport;
    __u8 proto; /* the first fragment's (IPv6: after its extension headers) */
    __u8 pad[3];
};

struct {
    __uint(type, BPF_MAP_TYPE_LRU_HASH);
    __uint(max_entries, 4096);
    __type(key, struct frag_key);
    __type(value, struct frag_ports);
} fk_frags SEC(".maps");

#define FRAG_FIRST 1 /* more fragments, offset 0: has the ports */
#define FRAG_LATER 2 /* offset > 0: no ports */

/* 8-byte aligned, the addresses at multiples of 8: they are compared and
 * copied a word at a time (A8), not byte by byte. */
struct pkt {
    __u8 src[16];
    __u8 dst[16];
    __u8 outer_src[16]; /* tunnel != 0 */
    __u8 outer_dst[16];
    __u32 ip_len;
    __u32 vni;
    __u16 sport, dport, vlan;
    __u8 proto, family, tcp_flags, tos, has_l4;
    __u8 tunnel, outer_family;
    __u8 frag; /* FRAG_FIRST, FRAG_LATER or 0 */
    __u32 frag_id;
    __u32 l4_off; /* the full parser's: its L4 header, from the frame's start (has_l4) */
} __attribute__((aligned(8)));

#define A8(ptr) __builtin_assume_aligned((ptr), 8)

/* Set by the loader: look inside VXLAN (UDP 4789) and GENEVE (UDP 6081).
 * The hook programs read the copy in their CPU's fk__bpf_cpu.flags
 * (FK__BPF_CPU_TUNNELS), whose line every packet touches anyway; this one
 * costs a line of its own and is read by the slower parsers only. */
const volatile __u32 fk_decode_tunnels = 0;

/* What the outer program hands to the full parser through a tail call
 * (same CPU, nothing runs between): with HANDOFF_TUNNEL the outer datagram,
 * counted as it is when the inner packet does not decode, and where its
 * headers are; with HANDOFF_OUTER a frame the fast parser left (IPv6
 * extension headers, more VLAN tags), outer.vlan the tag tc took off it. */
enum { HANDOFF_TUNNEL = 0, HANDOFF_OUTER = 1 };

struct handoff {
    struct pkt outer;
    __u32 l3_off, l4_off; /* the outer IP and UDP headers, from the frame's start */
    __u32 wire_len;       /* the frame's length */
    __u32 ifindex;
    __u32 hook;
    __u32 kind;     /* HANDOFF_* */
    __u32 pre_tags; /* HANDOFF_OUTER: VLAN tags taken off the frame (tc), 0 or 1 */
    __u32 pad;
};

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct handoff);
} fk_handoff SEC(".maps");

/* SLOT_INNER: the inner-packet parser (with decode_tunnels), SLOT_FULL:
 * the full outer parser, filled by the loader (fk_tc_inner / fk_tc_full for
 * tc, fk_xdp_inner / fk_xdp_full for xdp: a tail call stays within one
 * program type). */
#define SLOT_INNER 0
#define SLOT_FULL 1

struct {
    __uint(type, BPF_MAP_TYPE_PROG_ARRAY);
    __uint(max_entries, 2);
    __type(key, __u32);
    __type(value, __u32);
} fk_tc_inner_progs SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PROG_ARRAY);
    __uint(max_entries, 2);
    __type(key, __u32);
    __type(value, __u32);
} fk_xdp_inner_progs SEC(".maps");

/* Slot 0: the inner-packet parser again, for the full parser's tail call
 * (with decode_tunnels). An array of its own: no program may sit in an
 * array that its own code tail-calls through, or the array and the
 * program hold each other, and the kernel may then keep the array after
 * the process is gone (a refcount leak seen on 6.18 when the array is
 * looked up by id while it is being emptied). */
struct {
    __uint(type, BPF_MAP_TYPE_PROG_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, __u32);
} fk_tc_next_progs SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PROG_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, __u32);
} fk_xdp_next_progs SEC(".maps");

static __always_inline struct fk__bpf_flow_counters *counters(void)
{
    __u32 zero = 0;
    return bpf_map_lookup_elem(&fk_counters, &zero);
}

/* What every packet touches (flow_event.h's fk__bpf_cpu), by CPU number;
 * the rarer counters stay in fk_counters, looked up where they change.
 * Mmapable only for where its values start: a page boundary (a plain
 * array's values follow its header, 312 bytes in on 6.18, so each CPU's
 * 128 bytes would straddle two cache lines); user space does not map it. */
struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(map_flags, BPF_F_MMAPABLE);
    __uint(max_entries, 1); /* the loader sets the number of possible CPUs */
    __type(key, __u32);
    __type(value, struct fk__bpf_cpu);
} fk_cpu SEC(".maps");

static __always_inline struct fk__bpf_cpu *this_cpu(void)
{
    __u32 id = bpf_get_smp_processor_id();
    return bpf_map_lookup_elem(&fk_cpu, &id);
}

/* The device a hook program runs for: skb->ifindex, xdp_md's
 * ingress_ifindex (each a load through the device pointer: only read on
 * the full path). */
static __always_inline __u32 ctx_ifindex(void *ctx, int xdp)
{
    return xdp ? ((struct xdp_md *)ctx)->ingress_ifindex : ((struct __sk_buff *)ctx)->ifindex;
}

/* One rare counter up by one (the counter's offset in fk__bpf_flow_counters). */
#define COUNT(field)                                                                               \
    do {                                                                                           \
        struct fk__bpf_flow_counters *c_ = counters();                                             \
        if (c_)                                                                                    \
            c_->field++;                                                                           \
    } while (0)

#include "flow_parse.bpf.h"

/* memcmp() order of two 16-byte addresses (8-byte aligned). */
static __always_inline int addr_cmp(const __u8 *x, const __u8 *y)
{
    __u64 a, b;
    __builtin_memcpy(&a, A8(x), 8);
    __builtin_memcpy(&b, A8(y), 8);
    if (a == b) {
        __builtin_memcpy(&a, A8(x + 8), 8);
        __builtin_memcpy(&b, A8(y + 8), 8);
    }
    a = __builtin_bswap64(a);
    b = __builtin_bswap64(b);
    return (a > b) - (a < b);
}

/* Reply types folded onto their request, as the pcap path's table does. */
static __always_inline __u16 icmp_fold(__u8 proto, __u16 typecode)
{
    __u16 type = typecode >> 8;
    if (proto == 1) {
        if (type == 0)
            type = 8;
        else if (type == 14)
            type = 13;
        else if (type == 16)
            type = 15;
        else if (type == 18)
            type = 17;
    } else if (type == 129) {
        type = 128;
    }
    return (__u16)(type << 8 | (typecode & 0xff));
}

/* The canonical key (k 8-byte aligned); returns the key side that sent
 * the packet (0 = a). */
static __always_inline int make_key(struct fk__bpf_flow_key *k, const struct pkt *p)
{
    int icmp = p->proto == 1 || p->proto == 58;
    __u16 sp = p->sport, dp = p->dport;
    if (icmp) {
        sp = 0;
        dp = p->has_l4 ? icmp_fold(p->proto, p->dport) : 0;
    }
    int c = addr_cmp(p->src, p->dst);
    int side = c > 0 || (c == 0 && !icmp && sp > dp);
    if (!side) {
        __builtin_memcpy(A8(k->a), A8(p->src), 16);
        __builtin_memcpy(A8(k->b), A8(p->dst), 16);
        k->pa = sp;
        k->pb = dp;
    } else {
        __builtin_memcpy(A8(k->a), A8(p->dst), 16);
        __builtin_memcpy(A8(k->b), A8(p->src), 16);
        k->pa = dp;
        k->pb = sp;
    }
    if (icmp) {
        k->pa = 0;
        k->pb = dp;
    }
    k->vlan = p->vlan;
    k->proto = p->proto;
    k->family = p->family;
    return side;
}

static __always_inline void event(struct fk__bpf_flow_counters *cnt, const struct pkt *p, __u8 kind,
                                  __u8 hook, __u32 ifindex, __u64 now)
{
    struct fk__bpf_flow_event *e = bpf_ringbuf_reserve(&fk_flow_events, sizeof(*e), 0);
    if (!e) {
        cnt->events_lost++;
        return;
    }
    e->version = FK__BPF_FLOW_EVENT_VERSION;
    e->kind = kind;
    e->proto = p->proto;
    e->family = p->family;
    e->hook = hook;
    e->pad = 0;
    e->vlan = p->vlan;
    e->sport = p->sport;
    e->dport = p->dport;
    e->ifindex = ifindex;
    e->ts_ns = now;
    __builtin_memcpy(e->saddr, p->src, 16);
    __builtin_memcpy(e->daddr, p->dst, 16);
    bpf_ringbuf_submit(e, 0);
    cnt->events++;
}

/* A TCP session that has ended: an RST, or a FIN from each side (the pcap
 * path's ST_CLOSED). */
static __always_inline int tcp_closed(__u32 flags)
{
    __u32 a = flags & 0xff, b = (flags >> 8) & 0xff;
    return ((a | b) & TCP_RST) || ((a & TCP_FIN) && (b & TCP_FIN));
}

/* The final counters of a flow the kernel ends, to user space (a full ring
 * loses them, counted). */
static __always_inline void flow_end(struct fk__bpf_flow_counters *cnt,
                                     const struct fk__bpf_flow_key *k,
                                     const struct fk__bpf_flow_val *v)
{
    struct fk__bpf_flow_end *e = bpf_ringbuf_reserve(&fk_flow_events, sizeof(*e), 0);
    if (!e) {
        cnt->ends_lost++;
        return;
    }
    e->version = FK__BPF_FLOW_EVENT_VERSION;
    e->kind = FK__BPF_REC_FLOW_END;
    e->reason = 3; /* FK_END_DETECTED */
    __builtin_memset(e->pad, 0, sizeof(e->pad));
    __builtin_memcpy(&e->key, k, sizeof(*k));
    __builtin_memcpy(&e->val, v, sizeof(*v));
    bpf_ringbuf_submit(e, 0);
    cnt->ends++;
}

/* The counters of a flow whose first packet p is. */
static __always_inline void new_val(struct fk__bpf_flow_val *nv, const struct pkt *p, int side,
                                    __u32 bits, __u8 hook, __u32 ifindex, __u64 now)
{
    int icmp = p->proto == 1 || p->proto == 58;
    __builtin_memset(nv, 0, sizeof(*nv));
    nv->bytes[side] = p->ip_len;
    nv->packets[side] = 1;
    nv->first_ns[side] = now;
    nv->last_ns[side] = now;
    nv->tcp_flags = bits;
    nv->ifindex = ifindex;
    nv->first_typecode = icmp ? p->dport : 0;
    nv->init_side = (__u8)side;
    nv->hook = hook;
    nv->tos = p->tos;
    if (p->tunnel) {
        nv->tunnel = p->tunnel;
        nv->outer_family = p->outer_family;
        nv->vni = p->vni;
        __builtin_memcpy(nv->outer_src, p->outer_src, 16);
        __builtin_memcpy(nv->outer_dst, p->outer_dst, 16);
    }
}

/* The time of a packet that is neither the first of its flow's side (whose
 * first_ns always comes from bpf_ktime_get_ns) nor a TCP SYN, FIN or RST
 * (whose session event and its time go to user space).
 *
 * With ebpf_clock = coarse (FK__BPF_CPU_PRECISE not set in this CPU's
 * fk__bpf_cpu, which keeps the reading), the precise clock is read once per CPU per
 * kernel tick: the tick counter (bpf_jiffies64, which the JIT inlines as
 * one load) says whether a tick has passed since this CPU's last precise
 * reading; while none has, that reading is the packet's time. It was taken
 * after the tick that set the counter and the packet comes before the
 * next, so it is never later than the packet and at most one tick (1/HZ)
 * earlier, more only when the tick itself is late (a vCPU the host did not
 * run). bpf_ktime_get_ns costs ~23 ns here (a TSC read with its fence and
 * the scaling), a third of the program; bpf_ktime_get_coarse_ns, a helper
 * call, ~15 of them (and its value lags by up to two ticks: the last whole
 * tick interval the timekeeper accumulated). The caller keeps last_ns the
 * largest time seen, so last_ns >= first_ns holds and a TCP flow's last
 * FIN or RST keeps its exact time (the keep-the-largest is a plain
 * compare and store: when one flow side is counted on two CPUs at the same
 * moment, the smaller time can win, at most one tick earlier). */
static __always_inline __u64 packet_time(struct fk__bpf_cpu *c, const struct pkt *p)
{
    if ((c->flags & FK__BPF_CPU_PRECISE) || (p->tcp_flags & (TCP_SYN | TCP_FIN | TCP_RST)))
        return bpf_ktime_get_ns();
    __u64 j = bpf_jiffies64();
    if (c->jiffies != j) {
        /* the reading first: a run that interrupts this one (PREEMPT_RT)
         * and sees the old counter reads the clock again */
        c->precise = bpf_ktime_get_ns();
        c->jiffies = j;
    }
    return c->precise;
}

#include "flow_cache.bpf.h"
#include "flow_fast.bpf.h"

/* Count one parsed packet on its flow. A global function: the verifier
 * checks it once, not once per parser path that reaches it (with
 * decode_tunnels those paths are many). */
__attribute__((noinline)) int fk_count(struct fk__bpf_cpu *cpu, struct pkt *p, __u32 hook,
                                       __u32 ifindex)
{
    if (!cpu || !p)
        return 0;
    struct fk__bpf_flow_key k __attribute__((aligned(8))) = {};
    int side = make_key(&k, p) & 1;
    int icmp = p->proto == 1 || p->proto == 58;
    __u32 bits = (__u32)p->tcp_flags << (side * 8);
    __u32 old = 0;
    __u64 now;
    struct fk__bpf_cache_slot *s = cache_slot(cpu, &k);
    if (s && s->state == FK__BPF_SLOT_ACTIVE && ((s->sides >> side) & 1) &&
        !(p->tcp_flags & (TCP_SYN | TCP_FIN | TCP_RST)) && key_eq(&s->key, &k)) {
        s->bytes[side] += p->ip_len;
        s->packets[side] += 1;
        s->tcp_flags |= bits;
        now = packet_time(cpu, p);
        if (now > s->last_ns[side])
            s->last_ns[side] = now;
        cpu->cache_hits++;
        return 0;
    }
    struct fk__bpf_flow_counters *cnt = counters();
    if (!cnt)
        return 0;
    struct fk__bpf_flow_val *v = bpf_map_lookup_elem(&fk_flows, &k);
    if (!v) {
        __u32 zero = 0;
        now = bpf_ktime_get_ns();
        struct fk__bpf_flow_val *nv = bpf_map_lookup_elem(&fk_scratch, &zero);
        if (!nv)
            return 0;
        new_val(nv, p, side, bits, (__u8)hook, ifindex, now);
        long err = bpf_map_update_elem(&fk_flows, &k, nv, BPF_NOEXIST);
        if (err == 0) {
            cnt->created++;
            if (s && !(bits & (TCP_FIN | TCP_RST) * 0x101u))
                cache_claim(cnt, s, &k, now, (__u8)(1 << side));
            goto events;
        }
        v = bpf_map_lookup_elem(&fk_flows, &k); /* another CPU made it meanwhile */
        if (!v) {
            cnt->map_full++;
            return 0;
        }
    }
    if ((p->tcp_flags & (TCP_SYN | TCP_ACK)) == TCP_SYN && p->proto == 6 &&
        tcp_closed(v->tcp_flags)) {
        /* port reuse: a new connection on the key of one that has ended;
         * it starts in the same entry (a packet of the old flow on another
         * CPU at this instant may land on either) */
        now = bpf_ktime_get_ns();
        cache_drain(cpu, &k, v->first_ns[v->init_side & 1]);
        flow_end(cnt, &k, v);
        new_val(v, p, side, bits, (__u8)hook, ifindex, now);
        cnt->created++;
        goto events;
    }
    __sync_fetch_and_add(&v->bytes[side], p->ip_len);
    __sync_fetch_and_add(&v->packets[side], 1);
    if (!v->first_ns[side]) {
        now = bpf_ktime_get_ns();
        v->first_ns[side] = now;
        v->last_ns[side] = now;
        if (icmp && side != v->init_side)
            v->other_typecode = p->dport; /* the reply's own type and code */
    } else {
        now = packet_time(cpu, p);
        if (now > v->last_ns[side])
            v->last_ns[side] = now;
    }
    old = v->tcp_flags;
    if (bits & ~old)
        old = __sync_fetch_and_or(&v->tcp_flags, bits);
    /* not for a TCP session that is closing: its last packets and a new
     * connection on the same port count in fk_flows only */
    if (s && !((old | bits) & (TCP_FIN | TCP_RST) * 0x101u)) {
        __u64 gen = *(volatile __u64 *)&v->first_ns[*(volatile __u8 *)&v->init_side & 1];
        __u8 sides = (__u8)((v->first_ns[0] ? 1 : 0) | (v->first_ns[1] ? 2 : 0));
        if (cache_wants(s, &k, gen, sides) && same_incarnation(&k, v, gen, old | bits))
            cache_claim(cnt, s, &k, gen, sides);
    }
events:
    if (p->proto != 6 || !p->has_l4)
        return 0;
    __u32 both = (old | (old >> 8)) & 0xff;
    __u32 mine = (old >> (side * 8)) & 0xff;
    if ((p->tcp_flags & TCP_SYN) && !(both & TCP_SYN))
        event(cnt, p, 1, (__u8)hook, ifindex, now);
    if ((p->tcp_flags & TCP_FIN) && !(mine & TCP_FIN))
        event(cnt, p, 2, (__u8)hook, ifindex, now);
    if ((p->tcp_flags & TCP_RST) && !(both & TCP_RST))
        event(cnt, p, 3, (__u8)hook, ifindex, now);
    return 0;
}

/* A parsed packet to its flow: a later fragment takes the ports its
 * first fragment left in fk_frags. */
static __always_inline void count_parsed(struct fk__bpf_cpu *cpu, struct pkt *p, __u32 hook,
                                         __u32 ifindex)
{
    if (p->frag) {
        struct frag_key fk = {};
        __builtin_memcpy(fk.src, p->src, 16);
        __builtin_memcpy(fk.dst, p->dst, 16);
        fk.id = p->frag_id;
        fk.vlan = p->vlan;
        fk.proto = p->family == 4 ? p->proto : 0;
        fk.family = p->family;
        if (p->frag == FRAG_FIRST) {
            /* without ports too: its later fragments are then matched,
             * on the same port-less flow (the pcap path's count) */
            struct frag_ports fp = {p->sport, p->dport, p->proto, {0}};
            bpf_map_update_elem(&fk_frags, &fk, &fp, BPF_ANY);
        } else if (p->frag == FRAG_LATER) {
            struct frag_ports *fp = bpf_map_lookup_elem(&fk_frags, &fk);
            if (fp) {
                /* no TCP flags: a later fragment adds bytes and a packet */
                p->sport = fp->sport;
                p->dport = fp->dport;
                p->proto = fp->proto;
                p->has_l4 = 1;
            } else {
                COUNT(frag_unmatched); /* counted on the port-less flow */
            }
        }
    }
    fk_count(cpu, p, hook, ifindex);
}

/* The frame of a hook's context (xdp_md when xdp, else __sk_buff): its
 * bytes, its length, and the VLAN tag tc took off it (*tagged 0: none). */
static __always_inline void ctx_frame(void *ctx, int xdp, __u8 **data, __u8 **end, __u32 *wire_len,
                                      __u16 *vlan, int *tagged)
{
    if (xdp) {
        struct xdp_md *x = ctx;
        *data = (__u8 *)(long)x->data;
        *end = (__u8 *)(long)x->data_end;
        *wire_len = (__u32)(*end - *data);
        *vlan = 0;
        *tagged = 0;
    } else {
        struct __sk_buff *skb = ctx;
        *data = (__u8 *)(long)skb->data;
        *end = (__u8 *)(long)skb->data_end;
        *wire_len = skb->len;
        *tagged = skb->vlan_present;
        *vlan = *tagged ? (skb->vlan_tci & 0x0fff) : 0;
    }
}

/* Parse and count the frame of the hook's context ctx (xdp_md when xdp,
 * else __sk_buff, its headers made linear). Returns 0 (counted, or not
 * IP), else the prog array slot + 1 the caller must hand it on to by a
 * tail call (fk_handoff filled): SLOT_INNER + 1 for a tunnel datagram's
 * inner packet, SLOT_FULL + 1 for a frame the fast parser leaves. The hit
 * path (flow_fast.bpf.h) first; the frame's pointers are read from ctx
 * after it, not kept across its calls. */
static __always_inline int on_frame(void *ctx, int xdp, __u8 hook)
{
    __u32 cpu_id = bpf_get_smp_processor_id();
    struct fk__bpf_cpu *cpu = bpf_map_lookup_elem(&fk_cpu, &cpu_id);
    if (!cpu)
        return 0;
    __u8 *data, *data_end;
    __u32 wire_len;
    __u16 vlan;
    int tagged;
    ctx_frame(ctx, xdp, &data, &data_end, &wire_len, &vlan, &tagged);
    cpu->packets++;
    cpu->bytes += wire_len;
    if (fast_hit(cpu, cpu_id, data, data_end, vlan, tagged))
        return 0;
    /* the frame again from ctx: not the values of before, which the
     * compiler would keep across the calls (or hand on as 32-bit copies
     * the verifier does not take for packet pointers) */
    asm volatile("" ::: "memory");
    ctx_frame(ctx, xdp, &data, &data_end, &wire_len, &vlan, &tagged);
    __u32 ifindex = ctx_ifindex(ctx, xdp);
    struct pkt p = {};
    __u32 l3 = 0, l4 = 0;
    int rc = parse(data, data_end, wire_len, vlan, tagged, &p, &l3, &l4);
    if (rc == PARSE_SLOW) {
        __u32 zero = 0;
        struct handoff *h = bpf_map_lookup_elem(&fk_handoff, &zero);
        if (!h)
            return 0;
        h->outer.vlan = vlan;
        h->wire_len = wire_len;
        h->ifindex = ifindex;
        h->hook = hook;
        h->kind = HANDOFF_OUTER;
        h->pre_tags = tagged ? 1 : 0;
        return SLOT_FULL + 1;
    }
    if (rc == 1) {
        COUNT(non_ip);
        return 0;
    }
    if (rc < 0) {
        COUNT(malformed);
        return 0;
    }
    /* the CPU's copy of fk_decode_tunnels: its line is in cache already */
    if ((cpu->flags & FK__BPF_CPU_TUNNELS) && p.proto == 17 && p.has_l4 &&
        (p.dport == 4789 || p.dport == 6081)) {
        __u32 zero = 0;
        struct handoff *h = bpf_map_lookup_elem(&fk_handoff, &zero);
        if (h) {
            __builtin_memcpy(&h->outer, &p, sizeof(p));
            h->l3_off = l3;
            h->l4_off = l4;
            h->wire_len = wire_len;
            h->ifindex = ifindex;
            h->hook = hook;
            h->kind = HANDOFF_TUNNEL;
            return SLOT_INNER + 1;
        }
    }
    count_parsed(cpu, &p, hook, ifindex);
    return 0;
}

/* The tail call to the full parser failed (no program in the slot): a
 * tunnel datagram counts as its outer flow, and in tunnel_undecoded; a
 * frame the fast parser left is counted as malformed (its headers could
 * not be read). */
static __always_inline void handoff_failed(void)
{
    __u32 zero = 0;
    struct fk__bpf_flow_counters *cnt = counters();
    struct handoff *h = bpf_map_lookup_elem(&fk_handoff, &zero);
    struct fk__bpf_cpu *cpu = this_cpu();
    if (!cnt || !h || !cpu)
        return;
    if (h->kind == HANDOFF_OUTER) {
        cnt->malformed++;
        return;
    }
    cnt->tunnel_undecoded++;
    count_parsed(cpu, &h->outer, h->hook, h->ifindex);
}

static __always_inline int on_skb(struct __sk_buff *skb, __u8 hook)
{
    /* Headers in paged data (GRO, some drivers) are made linear first. */
    __u32 want = skb->len < PULL_BYTES ? skb->len : PULL_BYTES;
    if ((long)skb->data_end - (long)skb->data < (long)want)
        bpf_skb_pull_data(skb, want);
    int slot = on_frame(skb, 0, hook);
    if (slot) {
        bpf_tail_call(skb, &fk_tc_inner_progs, slot - 1);
        handoff_failed();
    }
    return TCX_NEXT;
}

SEC("tc")
int fk_tc_ingress(struct __sk_buff *skb)
{
    return on_skb(skb, FK__BPF_HOOK_INGRESS);
}

SEC("tc")
int fk_tc_egress(struct __sk_buff *skb)
{
    return on_skb(skb, FK__BPF_HOOK_EGRESS);
}

SEC("xdp")
int fk_xdp(struct xdp_md *ctx)
{
    int slot = on_frame(ctx, 1, FK__BPF_HOOK_INGRESS);
    if (slot) {
        bpf_tail_call(ctx, &fk_xdp_inner_progs, slot - 1);
        handoff_failed();
    }
    return XDP_PASS;
}

/* The inner-packet parser's programs (the same object: they share the
 * maps and fk_count). */
#include "flow_inner.bpf.h"
