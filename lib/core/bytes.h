/* Network (big-endian) byte order loads and stores on unaligned buffers,
 * shared by every module that reads or writes wire formats (packets, IPFIX,
 * NetFlow, pcap). Each store returns the position just after what it wrote,
 * so records can be built as p = fk__put16(p, v). */
#ifndef FK_CORE_BYTES_H
#define FK_CORE_BYTES_H

#include <stdint.h>
#include <string.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define FK__BE16(v) __builtin_bswap16(v)
#define FK__BE32(v) __builtin_bswap32(v)
#define FK__BE64(v) __builtin_bswap64(v)
#else
#define FK__BE16(v) (v)
#define FK__BE32(v) (v)
#define FK__BE64(v) (v)
#endif

static inline uint16_t fk__get16(const uint8_t *p)
{
    uint16_t v;
    memcpy(&v, p, 2);
    return FK__BE16(v);
}

static inline uint32_t fk__get32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return FK__BE32(v);
}

static inline uint64_t fk__get64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return FK__BE64(v);
}

static inline uint8_t *fk__put16(uint8_t *p, uint16_t v)
{
    v = FK__BE16(v);
    memcpy(p, &v, 2);
    return p + 2;
}

static inline uint8_t *fk__put32(uint8_t *p, uint32_t v)
{
    v = FK__BE32(v);
    memcpy(p, &v, 4);
    return p + 4;
}

static inline uint8_t *fk__put64(uint8_t *p, uint64_t v)
{
    v = FK__BE64(v);
    memcpy(p, &v, 8);
    return p + 8;
}

#endif
