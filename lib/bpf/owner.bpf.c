/* Kernel side of the BPF attribution source: who owns each socket, learned
 * in the owner's own context, told to user space before the socket's first
 * packet on a tuple reaches a packet capture.
 *
 *   cgroup/sock_create            (process context)  owner -> sk_storage
 *   cgroup/connect4|6, sendmsg4|6,
 *          recvmsg4|6             (process context)  owner refreshed (socket
 *                                                     created before attach,
 *                                                     or passed to another process)
 *   cgroup_skb egress|ingress     (any context)      first packet of a tuple:
 *                                                     ring buffer event tuple -> owner
 *   cgroup/sock_release           (process context)  ring buffer event "closed"
 *
 * The storage map has BPF_F_CLONE, so a socket accepted from a listener
 * inherits the listener's owner. Egress runs before the device's packet tap,
 * so the event is in the ring before pcap sees the packet.
 *
 * Only UAPI context structures (__sk_buff, bpf_sock, bpf_sock_addr) are
 * read; the verifier rewrites those accesses for the running kernel, so the
 * program needs no BTF relocations of kernel types. */
#include <linux/bpf.h>
#include <linux/types.h>

#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "event.h"

#define FK_AF_INET 2
#define FK_AF_INET6 10
#define FK_TCP 6
#define FK_UDP 17

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct {
    __uint(type, BPF_MAP_TYPE_SK_STORAGE);
    __uint(map_flags, BPF_F_NO_PREALLOC | BPF_F_CLONE);
    __type(key, int);
    __type(value, struct fk__bpf_sock_owner);
} fk_owners SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 1 << 20); /* the loader may change it */
} fk_events SEC(".maps");

/* The devices the capture watches (ifindex -> 1), when fk_iface_filter:
 * packets through other devices never reach the capture, so their sockets
 * are not told about (on a busy host that is most of the ring's traffic). */
struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, FK__BPF_MAX_IFACES);
    __type(key, __u32);
    __type(value, __u8);
} fk_ifaces SEC(".maps");

const volatile __u32 fk_iface_filter = 0;

/* Counters read by user space through the skeleton's .bss. */
__u64 fk_lost_ring = 0;    /* events dropped: ring buffer full */
__u64 fk_lost_storage = 0; /* sockets without an owner record: storage refused */
__u64 fk_events_sent = 0;  /* events submitted */

static __always_inline void take_owner(struct fk__bpf_sock_owner *o)
{
    __u64 pt = bpf_get_current_pid_tgid();
    __u64 ug = bpf_get_current_uid_gid();
    o->pid = (__u32)pt;
    o->tgid = (__u32)(pt >> 32);
    o->uid = (__u32)ug;
    o->gid = (__u32)(ug >> 32);
    o->cgroup = bpf_get_current_cgroup_id();
    o->since_ns = bpf_ktime_get_ns();
    o->announced = 0;
    bpf_get_current_comm(o->comm, sizeof(o->comm));
}

static __always_inline int wanted(__u32 family, __u32 protocol)
{
    return (family == FK_AF_INET || family == FK_AF_INET6) &&
           (protocol == FK_TCP || protocol == FK_UDP);
}

SEC("cgroup/sock_create")
int fk_sock_create(struct bpf_sock *sk)
{
    if (!wanted(sk->family, sk->protocol))
        return 1;
    struct fk__bpf_sock_owner *o =
        bpf_sk_storage_get(&fk_owners, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
    if (!o) {
        __sync_fetch_and_add(&fk_lost_storage, 1);
        return 1;
    }
    take_owner(o);
    return 1;
}

/* A socket used by a process: (re)take the owner when it is another
 * process than the recorded one (or none: created before we attached). */
static __always_inline int touch(struct bpf_sock_addr *ctx)
{
    struct bpf_sock *sk = ctx->sk;
    if (!sk)
        return 1;
    if (!wanted(sk->family, sk->protocol))
        return 1;
    struct fk__bpf_sock_owner *o =
        bpf_sk_storage_get(&fk_owners, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
    if (!o) {
        __sync_fetch_and_add(&fk_lost_storage, 1);
        return 1;
    }
    __u32 tgid = (__u32)(bpf_get_current_pid_tgid() >> 32);
    if (o->tgid != tgid)
        take_owner(o);
    return 1;
}

SEC("cgroup/connect4")
int fk_connect4(struct bpf_sock_addr *ctx)
{
    return touch(ctx);
}

SEC("cgroup/connect6")
int fk_connect6(struct bpf_sock_addr *ctx)
{
    return touch(ctx);
}

SEC("cgroup/sendmsg4")
int fk_sendmsg4(struct bpf_sock_addr *ctx)
{
    return touch(ctx);
}

SEC("cgroup/sendmsg6")
int fk_sendmsg6(struct bpf_sock_addr *ctx)
{
    return touch(ctx);
}

SEC("cgroup/recvmsg4")
int fk_recvmsg4(struct bpf_sock_addr *ctx)
{
    return touch(ctx);
}

SEC("cgroup/recvmsg6")
int fk_recvmsg6(struct bpf_sock_addr *ctx)
{
    return touch(ctx);
}

struct tuple {
    __u8 family;
    __u8 proto;
    __u16 sport, dport; /* host order */
    __u8 saddr[16], daddr[16];
};

/* The packet's own tuple (what a capture will see), from the IP header on:
 * cgroup_skb programs see the skb from its network header. 0 on success. */
static __always_inline int packet_tuple(struct __sk_buff *skb, struct tuple *t)
{
    __u8 hdr[40];
    __u16 ports[2];
    __u32 l4;
    if (bpf_skb_load_bytes(skb, 0, hdr, 20) < 0)
        return -1;
    __u8 version = hdr[0] >> 4;
    if (version == 4) {
        __u32 ihl = (__u32)(hdr[0] & 0x0f) * 4;
        if (ihl < 20)
            return -1;
        /* a fragment other than the first has no ports */
        if ((((__u32)hdr[6] << 8) | hdr[7]) & 0x1fff)
            return -1;
        t->family = 4;
        t->proto = hdr[9];
        __builtin_memcpy(t->saddr, &hdr[12], 4);
        __builtin_memcpy(t->daddr, &hdr[16], 4);
        l4 = ihl;
    } else if (version == 6) {
        if (bpf_skb_load_bytes(skb, 0, hdr, 40) < 0)
            return -1;
        t->family = 6;
        t->proto = hdr[6]; /* extension headers: not attributed here */
        __builtin_memcpy(t->saddr, &hdr[8], 16);
        __builtin_memcpy(t->daddr, &hdr[24], 16);
        l4 = 40;
    } else {
        return -1;
    }
    if (t->proto != FK_TCP && t->proto != FK_UDP)
        return -1;
    if (bpf_skb_load_bytes(skb, l4, ports, 4) < 0)
        return -1;
    t->sport = bpf_ntohs(ports[0]);
    t->dport = bpf_ntohs(ports[1]);
    return 0;
}

static __always_inline __u64 mix(__u64 h, __u64 v)
{
    h ^= v;
    h *= 0x100000001b3ULL;
    return h ^ (h >> 29);
}

static __always_inline __u64 tuple_hash(const struct tuple *t, int egress)
{
    __u64 h = 0xcbf29ce484222325ULL;
    __u64 w[4];
    __builtin_memcpy(w, egress ? t->daddr : t->saddr, 16);
    __builtin_memcpy(&w[2], egress ? t->saddr : t->daddr, 16);
    h = mix(h, w[0]);
    h = mix(h, w[1]);
    h = mix(h, w[2]);
    h = mix(h, w[3]);
    h = mix(h, ((__u64)t->proto << 48) | ((__u64)t->family << 40) |
                   ((__u64)(egress ? t->sport : t->dport) << 16) | (egress ? t->dport : t->sport));
    return h | 1;
}

static __always_inline void copy_owner(struct fk__bpf_event *e, const struct fk__bpf_sock_owner *o)
{
    e->pid = o->pid;
    e->tgid = o->tgid;
    e->uid = o->uid;
    e->gid = o->gid;
    e->cgroup = o->cgroup;
    e->since_ns = o->since_ns;
    __builtin_memcpy(e->comm, o->comm, FK__BPF_COMM_LEN);
}

static __always_inline int on_packet(struct __sk_buff *skb, int egress)
{
    if (fk_iface_filter) {
        __u32 ifindex = skb->ifindex; /* egress: the output device; ingress: the input one */
        if (!bpf_map_lookup_elem(&fk_ifaces, &ifindex))
            return 1;
    }
    struct bpf_sock *sk = skb->sk;
    if (!sk)
        return 1;
    sk = bpf_sk_fullsock(sk);
    if (!sk)
        return 1;
    struct fk__bpf_sock_owner *o = bpf_sk_storage_get(&fk_owners, sk, 0, 0);
    if (!o)
        return 1;
    struct tuple t = {};
    if (packet_tuple(skb, &t))
        return 1;
    __u64 h = tuple_hash(&t, egress);
    if (o->announced == h)
        return 1;
    struct fk__bpf_event *e = bpf_ringbuf_reserve(&fk_events, sizeof(*e), 0);
    if (!e) {
        __sync_fetch_and_add(&fk_lost_ring, 1);
        return 1; /* not announced: the next packet tries again */
    }
    e->version = FK__BPF_EVENT_VERSION;
    e->kind = FK__BPF_EV_OWNER;
    e->proto = t.proto;
    e->family = t.family;
    e->dir = egress ? FK__BPF_DIR_EGRESS : FK__BPF_DIR_INGRESS;
    e->pad[0] = e->pad[1] = e->pad[2] = 0;
    e->reserved = 0;
    e->lport = egress ? t.sport : t.dport;
    e->rport = egress ? t.dport : t.sport;
    __builtin_memcpy(e->laddr, egress ? t.saddr : t.daddr, 16);
    __builtin_memcpy(e->raddr, egress ? t.daddr : t.saddr, 16);
    copy_owner(e, o);
    e->cookie = bpf_get_socket_cookie(skb);
    e->ts_ns = bpf_ktime_get_ns();
    bpf_ringbuf_submit(e, 0);
    __sync_fetch_and_add(&fk_events_sent, 1);
    o->announced = h;
    return 1;
}

SEC("cgroup_skb/egress")
int fk_egress(struct __sk_buff *skb)
{
    return on_packet(skb, 1);
}

SEC("cgroup_skb/ingress")
int fk_ingress(struct __sk_buff *skb)
{
    return on_packet(skb, 0);
}

SEC("cgroup/sock_release")
int fk_sock_release(struct bpf_sock *sk)
{
    if (!wanted(sk->family, sk->protocol))
        return 1;
    struct fk__bpf_sock_owner *o = bpf_sk_storage_get(&fk_owners, sk, 0, 0);
    if (!o || !o->announced)
        return 1; /* never told: nothing to close */
    struct fk__bpf_event *e = bpf_ringbuf_reserve(&fk_events, sizeof(*e), 0);
    if (!e) {
        __sync_fetch_and_add(&fk_lost_ring, 1);
        return 1;
    }
    __builtin_memset(e, 0, sizeof(*e));
    e->version = FK__BPF_EVENT_VERSION;
    e->kind = FK__BPF_EV_RELEASE;
    e->proto = (__u8)sk->protocol;
    e->family = sk->family == FK_AF_INET6 ? 6 : 4;
    copy_owner(e, o);
    e->cookie = bpf_get_socket_cookie(sk);
    e->ts_ns = bpf_ktime_get_ns();
    bpf_ringbuf_submit(e, 0);
    __sync_fetch_and_add(&fk_events_sent, 1);
    return 1;
}
