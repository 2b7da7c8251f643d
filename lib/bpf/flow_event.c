/* Decoding of the eBPF capture backend's ring buffer records (struct
 * fk__bpf_flow_event). The bytes come from a BPF program, but a decoder of
 * bytes is a parser of untrusted input like any other: every field is
 * checked. */
#include <flowkit/flow.h>
#include <stddef.h>
#include <string.h>

#include "bpf/flows.h"
#include "core/error.h"

_Static_assert(sizeof(struct fk__bpf_flow_event) == FK__BPF_FLOW_EVENT_SIZE,
               "the ring buffer record has no padding holes");
_Static_assert(sizeof(struct fk__bpf_flow_end) == FK__BPF_FLOW_END_SIZE,
               "the flow end record has no padding holes");
_Static_assert(sizeof(struct fk__bpf_flow_key) == 40, "the flow key has no padding holes");
_Static_assert(sizeof(struct fk__bpf_flow_val) == 120, "the flow value has no padding holes");
_Static_assert(sizeof(struct fk__bpf_cache_slot) == FK__BPF_CACHE_SLOT_SIZE,
               "a cache slot is two cache lines");
_Static_assert(offsetof(struct fk__bpf_cache_slot, state) < 64 &&
                   offsetof(struct fk__bpf_cache_slot, sides) < 64 &&
                   offsetof(struct fk__bpf_cache_slot, bytes) + 16 == 64,
               "what a hit checks, and the bytes, are in a slot's first cache line");
_Static_assert(sizeof(struct fk__bpf_cpu) == FK__BPF_CPU_SIZE, "a CPU's line is 128 bytes");
_Static_assert((int)FK__BPF_TUNNEL_VXLAN == (int)FK_TUNNEL_VXLAN &&
                   (int)FK__BPF_TUNNEL_GENEVE == (int)FK_TUNNEL_GENEVE,
               "the kernel's tunnel kinds are fk_tunnel_kind values");

static bool all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return false;
    return true;
}

int fk__bpf_flow_event_decode(const void *data, size_t len, fk__bpf_session *out)
{
    struct fk__bpf_flow_event e;
    if (!data || !out)
        return fk__error(FK_EINVAL, "bpf flow event: NULL argument");
    if (len < 1)
        return fk__error(FK_ETRUNCATED, "bpf flow event: empty record");
    uint8_t version = *(const uint8_t *)data;
    if (version > FK__BPF_FLOW_EVENT_VERSION)
        return fk__error(FK_EUNSUPPORTED, "bpf flow event: version %u is newer than %u", version,
                         FK__BPF_FLOW_EVENT_VERSION);
    if (version != FK__BPF_FLOW_EVENT_VERSION)
        return fk__error(FK_EMALFORMED, "bpf flow event: version %u", version);
    if (len < sizeof e)
        return fk__error(FK_ETRUNCATED, "bpf flow event: %zu bytes, need %zu", len, sizeof e);
    memcpy(&e, data, sizeof e);
    if (e.kind < FK_SESSION_SYN || e.kind > FK_SESSION_RST)
        return fk__error(FK_EMALFORMED, "bpf flow event: unknown kind %u", e.kind);
    if (e.proto != 6)
        return fk__error(FK_EMALFORMED, "bpf flow event: protocol %u is not TCP", e.proto);
    if (e.family != 4 && e.family != 6)
        return fk__error(FK_EMALFORMED, "bpf flow event: address family %u", e.family);
    if (e.hook != FK__BPF_HOOK_INGRESS && e.hook != FK__BPF_HOOK_EGRESS)
        return fk__error(FK_EMALFORMED, "bpf flow event: hook %u", e.hook);
    if (e.pad)
        return fk__error(FK_EMALFORMED, "bpf flow event: reserved byte is not zero");
    if (e.vlan > 0x0fff)
        return fk__error(FK_EMALFORMED, "bpf flow event: VLAN id %u", e.vlan);
    if (e.family == 4 && (!all_zero(e.saddr + 4, 12) || !all_zero(e.daddr + 4, 12)))
        return fk__error(FK_EMALFORMED,
                         "bpf flow event: IPv4 address with bytes beyond the fourth");
    memset(out, 0, sizeof *out);
    out->ev.kind = e.kind;
    out->ev.proto = e.proto;
    out->ev.vlan = e.vlan;
    /* The kernel's monotonic clock fits int64_t for 292 years of uptime. */
    out->ev.time_ns = (int64_t)(e.ts_ns & INT64_MAX);
    out->ev.src.family = out->ev.dst.family = e.family;
    memcpy(out->ev.src.bytes, e.saddr, 16);
    memcpy(out->ev.dst.bytes, e.daddr, 16);
    out->ev.src_port = e.sport;
    out->ev.dst_port = e.dport;
    out->hook = e.hook;
    out->ifindex = e.ifindex;
    return 0;
}

static int check_addr(uint8_t family, const uint8_t *a)
{
    return family == 4 && !all_zero(a + 4, 12) ? -1 : 0;
}

int fk__bpf_flow_end_decode(const void *data, size_t len, struct fk__bpf_flow_key *key,
                            struct fk__bpf_flow_val *val, int *reason)
{
    struct fk__bpf_flow_end e;
    if (!data || !key || !val || !reason)
        return fk__error(FK_EINVAL, "bpf flow end: NULL argument");
    if (len < 2)
        return fk__error(FK_ETRUNCATED, "bpf flow end: %zu bytes", len);
    const uint8_t *b = data;
    if (b[0] > FK__BPF_FLOW_EVENT_VERSION)
        return fk__error(FK_EUNSUPPORTED, "bpf flow end: version %u is newer than %u", b[0],
                         FK__BPF_FLOW_EVENT_VERSION);
    if (b[0] != FK__BPF_FLOW_EVENT_VERSION)
        return fk__error(FK_EMALFORMED, "bpf flow end: version %u", b[0]);
    if (b[1] != FK__BPF_REC_FLOW_END)
        return fk__error(FK_EMALFORMED, "bpf flow end: kind %u", b[1]);
    if (len < sizeof e)
        return fk__error(FK_ETRUNCATED, "bpf flow end: %zu bytes, need %zu", len, sizeof e);
    memcpy(&e, data, sizeof e);
    const struct fk__bpf_flow_key *k = &e.key;
    const struct fk__bpf_flow_val *v = &e.val;
    if (e.reason != FK_END_DETECTED)
        return fk__error(FK_EMALFORMED, "bpf flow end: end reason %u", e.reason);
    if (!all_zero(e.pad, sizeof e.pad) || v->pad || v->pad2)
        return fk__error(FK_EMALFORMED, "bpf flow end: reserved bytes are not zero");
    if (k->proto != 6)
        return fk__error(FK_EMALFORMED, "bpf flow end: protocol %u is not TCP", k->proto);
    if (k->family != 4 && k->family != 6)
        return fk__error(FK_EMALFORMED, "bpf flow end: address family %u", k->family);
    if (check_addr(k->family, k->a) || check_addr(k->family, k->b))
        return fk__error(FK_EMALFORMED, "bpf flow end: IPv4 address with bytes beyond the fourth");
    if (k->vlan > 0x0fff)
        return fk__error(FK_EMALFORMED, "bpf flow end: VLAN id %u", k->vlan);
    if (v->init_side > 1)
        return fk__error(FK_EMALFORMED, "bpf flow end: initiator side %u", v->init_side);
    if (v->hook != FK__BPF_HOOK_INGRESS && v->hook != FK__BPF_HOOK_EGRESS)
        return fk__error(FK_EMALFORMED, "bpf flow end: hook %u", v->hook);
    if (v->tcp_flags > 0xffff)
        return fk__error(FK_EMALFORMED, "bpf flow end: TCP flags 0x%x", v->tcp_flags);
    if (v->tunnel != 0 && v->tunnel != FK__BPF_TUNNEL_VXLAN && v->tunnel != FK__BPF_TUNNEL_GENEVE)
        return fk__error(FK_EMALFORMED, "bpf flow end: tunnel kind %u", v->tunnel);
    if (v->tunnel && ((v->outer_family != 4 && v->outer_family != 6) ||
                      check_addr(v->outer_family, v->outer_src) ||
                      check_addr(v->outer_family, v->outer_dst) || v->vni > 0xffffff))
        return fk__error(FK_EMALFORMED, "bpf flow end: tunnel outer addresses or VNI");
    if (v->packets[v->init_side] == 0 || v->first_ns[v->init_side] == 0)
        return fk__error(FK_EMALFORMED, "bpf flow end: no packet from the initiator");
    for (int i = 0; i < 2; i++)
        if ((v->packets[i] == 0) != (v->first_ns[i] == 0) || v->last_ns[i] < v->first_ns[i])
            return fk__error(FK_EMALFORMED, "bpf flow end: side %d's counters and times disagree",
                             i);
    *key = *k;
    *val = *v;
    *reason = e.reason;
    return 0;
}
