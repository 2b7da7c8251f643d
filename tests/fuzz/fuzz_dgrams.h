/* The datagrams of a fuzz input that holds a sequence of them, each
 * prefixed by its length (2 bytes, big-endian; a length past the end
 * takes what is left). */
#ifndef FK_FUZZ_DGRAMS_H
#define FK_FUZZ_DGRAMS_H

#include <stddef.h>
#include <stdint.h>

/* The next datagram of data (size bytes) from *off: 1 with it at
 * data + *off, *len bytes (then *off += *len moves past it), 0 when none
 * is left. Loop with
 * for (size_t off = 0, len; fuzz_dgram_next(data, size, &off, &len); off += len). */
static inline int fuzz_dgram_next(const uint8_t *data, size_t size, size_t *off, size_t *len)
{
    if (size - *off < 2)
        return 0;
    *len = (size_t)data[*off] << 8 | data[*off + 1];
    *off += 2;
    if (*len > size - *off)
        *len = size - *off;
    return 1;
}

#endif
