/* Fuzz the own pcap/pcapng reader (lib/capture/pcapfile.c): the input is a
 * whole capture file. Every packet's bytes are read (an over-read shows under
 * ASan) and decoded with the link type the reader reported. The input is
 * copied to an exactly-sized buffer. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "capture/pcapfile.h"
#include "packet/packet.h"

static volatile unsigned sink;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *copy = malloc(size ? size : 1);
    if (!copy)
        return 0;
    memcpy(copy, data, size);
    fk__pcapfile *f;
    if (fk__pcapfile_open_mem(&f, copy, size) == 0) {
        fk__pcapfile_pkt p;
        unsigned sum = 0;
        for (int i = 0; i < 100000 && fk__pcapfile_next(f, &p) == 1; i++) {
            if (p.data < copy || p.data + p.caplen > copy + size)
                abort(); /* a packet outside the file */
            for (uint32_t k = 0; k < p.caplen; k++)
                sum += p.data[k];
            fk__packet pk;
            fk__packet_decode(&pk, p.data, p.caplen, p.wirelen, p.linktype, p.ts_ns, 0);
        }
        (void)fk__pcapfile_linktype(f);
        sink = sum; /* keep the reads */
        fk__pcapfile_close(f);
    }
    free(copy);
    return 0;
}
