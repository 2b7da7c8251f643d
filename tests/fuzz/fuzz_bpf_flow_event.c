/* The eBPF capture backend's ring buffer record decoder on untrusted
 * bytes: the input is a sequence of records, each the size of one event;
 * every record that decodes must give a session event that renders as JSON
 * with its own addresses and ports. */
#include <flowkit/flowkit.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bpf/flows.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    for (size_t off = 0; off < size; off += FK__BPF_FLOW_EVENT_SIZE) {
        size_t n = size - off < FK__BPF_FLOW_EVENT_SIZE ? size - off : FK__BPF_FLOW_EVENT_SIZE;
        /* copy: ring buffer records are 8-byte aligned, fuzz input is not */
        uint8_t *rec = malloc(n ? n : 1);
        if (!rec)
            break;
        memcpy(rec, data + off, n);
        fk__bpf_session s;
        if (fk__bpf_flow_event_decode(rec, n, &s) == 0) {
            if (s.ev.kind < FK_SESSION_SYN || s.ev.kind > FK_SESSION_RST || s.ev.proto != 6 ||
                s.ev.src.family != s.ev.dst.family || s.ev.vlan > 0x0fff)
                abort(); /* the decoder let through what it promises to refuse */
            char json[FK_SESSION_JSON_MAX];
            if (fk_session_event_to_json(&s.ev, json, sizeof json) <= 0)
                abort();
        }
        free(rec);
    }
    return 0;
}
