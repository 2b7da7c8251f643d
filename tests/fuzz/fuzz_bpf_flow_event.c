/* The eBPF capture backend's ring buffer record decoders on untrusted
 * bytes. The input is a sequence of records: a flow end record
 * (FK__BPF_REC_FLOW_END in byte 1, FK__BPF_FLOW_END_SIZE bytes) or a
 * session event (FK__BPF_FLOW_EVENT_SIZE bytes), as the drain tells them
 * apart. A session event that decodes must render as JSON with its own
 * addresses and ports; a flow end that decodes must hold what the decoder
 * promises (TCP, a family, a valid side and hook, counters that agree). */
#include <flowkit/flowkit.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bpf/flows.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void one_end(const uint8_t *rec, size_t n)
{
    struct fk__bpf_flow_key k;
    struct fk__bpf_flow_val v;
    int reason;
    if (fk__bpf_flow_end_decode(rec, n, &k, &v, &reason) != 0)
        return;
    if (reason != FK_END_DETECTED || k.proto != 6 || (k.family != 4 && k.family != 6) ||
        k.vlan > 0x0fff || v.init_side > 1 || v.packets[v.init_side] == 0)
        abort(); /* the decoder let through what it promises to refuse */
    for (int i = 0; i < 2; i++)
        if (v.last_ns[i] < v.first_ns[i])
            abort();
}

static void one_event(const uint8_t *rec, size_t n)
{
    fk__bpf_session s;
    if (fk__bpf_flow_event_decode(rec, n, &s) != 0)
        return;
    if (s.ev.kind < FK_SESSION_SYN || s.ev.kind > FK_SESSION_RST || s.ev.proto != 6 ||
        s.ev.src.family != s.ev.dst.family || s.ev.vlan > 0x0fff)
        abort();
    char json[FK_SESSION_JSON_MAX];
    if (fk_session_event_to_json(&s.ev, json, sizeof json) <= 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t off = 0;
    while (off < size) {
        int end = size - off >= 2 && data[off + 1] == FK__BPF_REC_FLOW_END;
        size_t want = end ? FK__BPF_FLOW_END_SIZE : FK__BPF_FLOW_EVENT_SIZE;
        size_t n = size - off < want ? size - off : want;
        /* copy: ring buffer records are 8-byte aligned, fuzz input is not */
        uint8_t *rec = malloc(n ? n : 1);
        if (!rec)
            break;
        memcpy(rec, data + off, n);
        if (end)
            one_end(rec, n);
        else
            one_event(rec, n);
        free(rec);
        off += n;
    }
    return 0;
}
