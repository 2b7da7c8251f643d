/* Decoding of the eBPF capture backend's ring buffer records (struct
 * fk__bpf_flow_event). The bytes come from a BPF program, but a decoder of
 * bytes is a parser of untrusted input like any other: every field is
 * checked. */
#include <string.h>

#include "bpf/flows.h"
#include "core/error.h"

_Static_assert(sizeof(struct fk__bpf_flow_event) == FK__BPF_FLOW_EVENT_SIZE,
               "the ring buffer record has no padding holes");
_Static_assert(sizeof(struct fk__bpf_flow_key) == 40, "the flow key has no padding holes");
_Static_assert(sizeof(struct fk__bpf_flow_val) == 80, "the flow value has no padding holes");

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
