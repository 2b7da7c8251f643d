/* NetFlow v1, v5, v6 and v7: fixed header and record layouts (Cisco NetFlow
 * export datagram formats). Stateless. v6 is v5 with two more record fields:
 * the input and output encapsulation sizes (bytes 46, 47, v5's padding) and
 * the peer next hop (bytes 48..51); fk_flow has no place for them. */
#include <string.h>

#include "core/error.h"
#include "netflow/nf_internal.h"

enum {
    V1_HEADER = 16,
    V1_RECORD = 48,
    V1_MAX = 24,
    V5_HEADER = 24,
    V5_RECORD = 48,
    V5_MAX = 30,
    V6_HEADER = 24,
    V6_RECORD = 52,
    V6_MAX = 27,
    V7_HEADER = 24,
    V7_RECORD = 52,
    V7_MAX = 28
};

size_t fk__nf_fixed_record_size(unsigned version)
{
    switch (version) {
    case 1:
        return V1_RECORD;
    case 5:
        return V5_RECORD;
    case 6:
        return V6_RECORD;
    case 7:
        return V7_RECORD;
    default:
        return 0;
    }
}

static void set_v4(fk_addr *a, const uint8_t *p)
{
    memset(a, 0, sizeof *a);
    a->family = 4;
    memcpy(a->bytes, p, 4);
}

/* Fields common to the three layouts: addresses, interfaces, counters,
 * times, ports (offsets 0..35). */
static void parse_common(fk_flow *f, const fk_netflow_header *h, const uint8_t *r)
{
    set_v4(&f->src, r);
    set_v4(&f->dst, r + 4);
    f->in_if = fk__nf_rd16(r + 12);
    f->out_if = fk__nf_rd16(r + 14);
    f->present |= FK_FLOW_HAS_IFACES;
    f->packets = fk__nf_rd32(r + 16);
    f->bytes = fk__nf_rd32(r + 20);
    f->start_ns = fk__nf_uptime_to_ns(h->export_ns, h->sys_uptime_ms, fk__nf_rd32(r + 24));
    f->end_ns = fk__nf_uptime_to_ns(h->export_ns, h->sys_uptime_ms, fk__nf_rd32(r + 28));
    f->src_port = fk__nf_rd16(r + 32);
    f->dst_port = fk__nf_rd16(r + 34);
}

int fk__nf_fixed_parse(fk_netflow_header *hdr, fk_flow *flows, size_t capacity, size_t *count,
                       const uint8_t *buf, size_t len, const fk_addr *exporter)
{
    *count = 0;
    if (len < 4)
        return fk__error(FK_ETRUNCATED, "netflow: datagram of %zu bytes has no header", len);
    unsigned version = fk__nf_rd16(buf);
    size_t hlen, rlen, max;
    switch (version) {
    case 1:
        hlen = V1_HEADER, rlen = V1_RECORD, max = V1_MAX;
        break;
    case 5:
        hlen = V5_HEADER, rlen = V5_RECORD, max = V5_MAX;
        break;
    case 6:
        hlen = V6_HEADER, rlen = V6_RECORD, max = V6_MAX;
        break;
    case 7:
        hlen = V7_HEADER, rlen = V7_RECORD, max = V7_MAX;
        break;
    default:
        return fk__error(FK_EUNSUPPORTED, "netflow: version %u is not a fixed format (1, 5, 6, 7)",
                         version);
    }
    if (len < hlen)
        return fk__error(FK_ETRUNCATED, "netflow v%u: datagram of %zu bytes, header needs %zu",
                         version, len, hlen);
    fk_netflow_header h;
    memset(&h, 0, sizeof h);
    h.version = (uint16_t)version;
    h.count = fk__nf_rd16(buf + 2);
    h.sys_uptime_ms = fk__nf_rd32(buf + 4);
    h.unix_secs = fk__nf_rd32(buf + 8);
    h.unix_nsecs = fk__nf_rd32(buf + 12);
    if (version == 5 || version == 6 || version == 7)
        h.sequence = fk__nf_rd32(buf + 16);
    if (version == 5 || version == 6) {
        h.engine_type = buf[20];
        h.engine_id = buf[21];
        h.source_id = (uint32_t)h.engine_type << 8 | h.engine_id;
        uint16_t s = fk__nf_rd16(buf + 22);
        h.sampling_mode = (uint8_t)(s >> 14);
        h.sampling_interval = s & 0x3fff;
    }
    /* unix_nsecs above 10^9 is bogus; keep it from shifting whole seconds. */
    h.export_ns = (int64_t)h.unix_secs * 1000000000 + (h.unix_nsecs % 1000000000u);
    if (hdr)
        *hdr = h;
    if (h.count > max)
        return fk__error(FK_EMALFORMED, "netflow v%u: count %u exceeds the maximum of %zu", version,
                         h.count, max);
    size_t need = hlen + (size_t)h.count * rlen;
    if (need > len)
        return fk__error(FK_ETRUNCATED, "netflow v%u: count %u needs %zu bytes, datagram has %zu",
                         version, h.count, need, len);
    if (h.count > capacity)
        return fk__error(FK_ENOSPACE, "netflow v%u: %u records, room for %zu", version, h.count,
                         capacity);

    for (size_t i = 0; i < h.count; i++) {
        const uint8_t *r = buf + hlen + i * rlen;
        fk_flow *f = &flows[i];
        memset(f, 0, sizeof *f);
        f->version = (uint16_t)version;
        parse_common(f, &h, r);
        if (version == 1) {
            f->proto = r[38];
            f->tos = r[39];
            f->tcp_flags = r[40];
        } else if (version == 5 || version == 6) {
            f->tcp_flags = r[37];
            f->proto = r[38];
            f->tos = r[39];
            if (h.sampling_interval) {
                f->sampling = h.sampling_interval;
                f->present |= FK_FLOW_HAS_SAMPLING;
            }
        } else {
            f->tcp_flags = r[37];
            f->proto = r[38];
            f->tos = r[39];
        }
        if (version != 1) { /* v5, v6, v7: src_as, dst_as at 40 and 42 */
            f->src_as = fk__nf_rd16(r + 40);
            f->dst_as = fk__nf_rd16(r + 42);
        }
        if (exporter) {
            f->exporter = *exporter;
            f->odid = h.source_id;
            f->present |= FK_FLOW_HAS_EXPORTER;
        }
    }
    *count = h.count;
    return 0;
}

int fk_netflow_decode_fixed(const void *buf, size_t len, const fk_addr *exporter,
                            fk_netflow_header *hdr, fk_flow *flows, size_t capacity, size_t *count)
{
    if (count)
        *count = 0;
    if (!flows || !count || !buf)
        return fk__error(FK_EINVAL, "fk_netflow_decode_fixed: NULL argument");
    size_t n = 0;
    int rc = fk__nf_fixed_parse(hdr, flows, capacity, &n, buf, len, exporter);
    *count = rc ? 0 : n;
    return rc;
}
