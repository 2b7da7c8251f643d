/* The BPF ring buffer record decoder on untrusted bytes, and what it feeds:
 * every record that decodes is applied to a small table of recent owners
 * (two entries, so inserts, replacements, releases and evictions all run),
 * then looked up again. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bpf/backend.h"
#include "bpf/event.h"
#include "bpf/owners.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fk__bpf_owners *t;
    if (fk__bpf_owners_create(&t, 2, 5) != 0)
        return 0;
    /* the input is a sequence of records, each the size of one event */
    int64_t now = 0;
    for (size_t off = 0; off < size; off += FK__BPF_EVENT_SIZE) {
        size_t n = size - off < FK__BPF_EVENT_SIZE ? size - off : FK__BPF_EVENT_SIZE;
        /* copy: ring buffer records are 8-byte aligned, fuzz input is not */
        uint8_t *rec = malloc(n ? n : 1);
        if (!rec)
            break;
        memcpy(rec, data + off, n);
        fk__bpf_owner o;
        if (fk__bpf_event_decode(rec, n, &o) == 0) {
            fk__bpf_owners_apply(t, &o, o.comm[0] ? o.comm : NULL, now);
            if (o.kind == FK__BPF_OWNER_KIND_OWNER) {
                const fk__bpf_owner_entry *e =
                    fk__bpf_owners_find(t, o.proto, &o.local, o.lport, &o.remote, o.rport);
                if (!e || e->owner.tgid != o.tgid)
                    abort(); /* what was just told must be found */
            }
        }
        free(rec);
        now += 3;
        fk__bpf_owners_expire(t, now);
    }
    fk__bpf_owners_destroy(t);
    return 0;
}
