/* Internal: byte readers and time conversions shared by the NetFlow decoders. */
#ifndef FK_NETFLOW_NF_INTERNAL_H
#define FK_NETFLOW_NF_INTERNAL_H

#include <flowkit/netflow.h>
#include <stdint.h>

static inline uint16_t fk__nf_rd16(const uint8_t *p)
{
    return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static inline uint32_t fk__nf_rd32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Unsigned big-endian value of 1..8 bytes (callers guarantee the range);
 * the common widths get straight-line code. */
static inline uint64_t fk__nf_rdn(const uint8_t *p, unsigned len)
{
    switch (len) {
    case 1:
        return p[0];
    case 2:
        return fk__nf_rd16(p);
    case 4:
        return fk__nf_rd32(p);
    case 8:
        return (uint64_t)fk__nf_rd32(p) << 32 | fk__nf_rd32(p + 4);
    default: {
        uint64_t v = 0;
        for (unsigned i = 0; i < len; i++)
            v = v << 8 | p[i];
        return v;
    }
    }
}

/* Absolute time of a sysUptime stamp: export_ns - (uptime - stamp) ms, the
 * difference taken modulo 2^32 and read as signed, so a wrap of the 32-bit
 * millisecond counter between stamp and export is handled. */
static inline int64_t fk__nf_uptime_to_ns(int64_t export_ns, uint32_t sys_uptime, uint32_t stamp)
{
    uint32_t diff = sys_uptime - stamp;
    int64_t delta = diff > 0x7fffffffu ? (int64_t)diff - 4294967296LL : (int64_t)diff;
    return export_ns - delta * 1000000;
}

/* Parse a v1/v5/v7 datagram into hdr and flows (see fk_netflow_decode_fixed). */
int fk__nf_fixed_parse(fk_netflow_header *hdr, fk_flow *flows, size_t capacity, size_t *count,
                       const uint8_t *buf, size_t len, const fk_addr *exporter);

/* Record size of a fixed version (0 if not 1/5/7). */
size_t fk__nf_fixed_record_size(unsigned version);

#endif
