/* Decoding of the kernel's ring buffer records (struct fk__bpf_event). The
 * bytes come from a BPF program, but a decoder of bytes is a parser of
 * untrusted input like any other: every field is checked. */
#include <string.h>

#include "bpf/backend.h"
#include "bpf/event.h"
#include "core/error.h"

_Static_assert(sizeof(struct fk__bpf_event) == FK__BPF_EVENT_SIZE,
               "the ring buffer record has no padding holes");

static bool zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return false;
    return true;
}

static int addr_from(fk_addr *a, const uint8_t raw[16], uint8_t family)
{
    a->family = family;
    memcpy(a->bytes, raw, 16);
    if (family == 4 && !zero(raw + 4, 12))
        return fk__error(FK_EMALFORMED, "bpf event: IPv4 address with bytes beyond the fourth");
    return 0;
}

int fk__bpf_event_decode(const void *data, size_t len, fk__bpf_owner *out)
{
    struct fk__bpf_event e;
    if (!data || !out)
        return fk__error(FK_EINVAL, "bpf event: NULL argument");
    if (len < 1)
        return fk__error(FK_ETRUNCATED, "bpf event: empty record");
    const uint8_t version = *(const uint8_t *)data;
    if (version > FK__BPF_EVENT_VERSION)
        return fk__error(FK_EUNSUPPORTED, "bpf event: version %u is newer than %u", version,
                         FK__BPF_EVENT_VERSION);
    if (version != FK__BPF_EVENT_VERSION)
        return fk__error(FK_EMALFORMED, "bpf event: version %u", version);
    if (len < sizeof e)
        return fk__error(FK_ETRUNCATED, "bpf event: %zu bytes, need %zu", len, sizeof e);
    memcpy(&e, data, sizeof e);
    if (e.kind != FK__BPF_EV_OWNER && e.kind != FK__BPF_EV_RELEASE)
        return fk__error(FK_EMALFORMED, "bpf event: unknown kind %u", e.kind);
    if (e.proto != 6 && e.proto != 17)
        return fk__error(FK_EMALFORMED, "bpf event: protocol %u is neither TCP nor UDP", e.proto);
    if (e.family != 4 && e.family != 6)
        return fk__error(FK_EMALFORMED, "bpf event: address family %u", e.family);
    if (!zero(e.pad, sizeof e.pad) || e.reserved)
        return fk__error(FK_EMALFORMED, "bpf event: reserved bytes are not zero");
    if (e.comm[FK__BPF_COMM_LEN - 1] != '\0')
        return fk__error(FK_EMALFORMED, "bpf event: task name not terminated");

    memset(out, 0, sizeof *out);
    out->kind = e.kind;
    out->proto = e.proto;
    out->pid = e.pid;
    out->tgid = e.tgid;
    out->uid = e.uid;
    out->gid = e.gid;
    out->cgroup = e.cgroup;
    out->cookie = e.cookie;
    /* The kernel's monotonic clock fits int64_t for 292 years of uptime. */
    out->ts_mono_ns = (int64_t)(e.ts_ns & INT64_MAX);
    out->since_mono_ns = (int64_t)(e.since_ns & INT64_MAX);
    memcpy(out->comm, e.comm, FK__BPF_COMM_LEN); /* terminated: checked above */
    if (e.kind == FK__BPF_EV_RELEASE)
        return 0;

    if (e.dir != FK__BPF_DIR_EGRESS && e.dir != FK__BPF_DIR_INGRESS)
        return fk__error(FK_EMALFORMED, "bpf event: direction %u", e.dir);
    if (e.lport == 0 || e.rport == 0)
        return fk__error(FK_EMALFORMED, "bpf event: port 0 in %u -> %u", e.lport, e.rport);
    out->egress = e.dir == FK__BPF_DIR_EGRESS;
    out->lport = e.lport;
    out->rport = e.rport;
    int rc = addr_from(&out->local, e.laddr, e.family);
    if (rc == 0)
        rc = addr_from(&out->remote, e.raddr, e.family);
    return rc;
}
