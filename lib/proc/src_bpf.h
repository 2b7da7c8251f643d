/* Internal: the BPF attribution source — socket owners learnt in the
 * kernel, in the owner's own context, and told through a ring buffer before
 * the socket's first packet on a tuple reaches the capture (lib/bpf). Its
 * owners outlive their sockets for `keep_ns` (bounded table, lib/bpf/owners.h),
 * and the process's exe is read when its first record arrives, so a client
 * that exits right after its last packet still shows by name and exe. */
#ifndef FK_PROC_SRC_BPF_H
#define FK_PROC_SRC_BPF_H

#include <stdint.h>

#include "proc/source.h"

typedef struct fk__src_bpf_config {
    const char *proc_root;     /* "/proc" */
    uint32_t max_owners;       /* owner table entries; default 65536 */
    int64_t keep_ns;           /* kept after the owner closed the socket; default 30 s */
    uint32_t ring_bytes;       /* kernel ring buffer; 0 = the loader's default (4 MiB) */
    const uint32_t *ifindexes; /* the capture's devices; none = every device */
    size_t n_ifindexes;
} fk__src_bpf_config;

/* Load and attach the programs (fk__bpf_open's errors: FK_EUNSUPPORTED,
 * FK_EPERM, FK_ENOTFOUND, FK_EIO, with a message saying why). */
int fk__src_bpf_open(fk__source **out, const fk__src_bpf_config *cfg);

#endif
