/* Fuzz the packet decoder and the flow table behind it.
 * Input: one byte selecting the link type (index into the table below, modulo
 * its size; bit 7 turns on VXLAN/GENEVE decoding), then the frame. The frame is
 * copied to an exactly-sized buffer so any over-read is caught. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "flow/flow_table.h"
#include "packet/packet.h"

static const int links[] = {FK__LINK_EN10MB,     FK__LINK_LINUX_SLL,
                            FK__LINK_LINUX_SLL2, FK__LINK_NULL,
                            FK__LINK_LOOP,       FK__LINK_RAW,
                            FK__LINK_IPV4,       FK__LINK_IPV6,
                            FK__LINK_RAW_DLT,    147 /* unsupported */};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int link = links[(data[0] & 0x7f) % (sizeof links / sizeof links[0])];
    unsigned flags = (data[0] & 0x80) ? FK__DECODE_TUNNELS : 0;
    size_t n = size - 1;
    uint8_t *frame = malloc(n ? n : 1);
    if (!frame)
        return 0;
    memcpy(frame, data + 1, n);
    fk__packet p;
    int st = fk__packet_decode(&p, frame, (uint32_t)n, (uint32_t)n + 7, link, 1000, flags);
    if (st < 0 || st >= FK__PKT_STATUS_COUNT)
        abort();
    if (st == FK__PKT_OK) {
        if (p.payload_off > n || p.l3_off >= n || (p.ip_version != 4 && p.ip_version != 6))
            abort();
        if ((p.flags & FK__PKT_F_TUNNEL) &&
            ((p.tunnel_kind != 3 && p.tunnel_kind != 4) ||
             (p.outer_family != 4 && p.outer_family != 6) || p.tunnel_vni > 0xffffff))
            abort(); /* a tunnel view names its kind, outer header and 24-bit VNI */
        /* the flow table takes whatever the decoder produced, both directions */
        fk__flow_config cfg;
        fk__flow_config_default(&cfg);
        cfg.max_flows = 2;
        cfg.tunnels = (flags & FK__DECODE_TUNNELS) != 0;
        fk__flow_table *t;
        if (fk__flow_table_create(&t, &cfg, NULL) == 0) {
            fk__packet r = p;
            memcpy(r.src, p.dst, 16);
            memcpy(r.dst, p.src, 16);
            r.src_port = p.dst_port;
            r.dst_port = p.src_port;
            if (fk__flow_hash(&p) != fk__flow_hash(&r) && !(p.proto == 1 || p.proto == 58))
                abort(); /* symmetric except ICMP types that are not request/reply */
            fk__flow_table_add(t, &p);
            fk__flow_table_add(t, &r);
            p.src_port ^= 1;
            fk__flow_table_add(t, &p); /* third flow: evicts */
            fk__flow_table_expire(t, 1000 + 16000000000LL);
            fk__flow_table_add(t, &r);
            fk__flow_table_flush(t);
            fk__flow_table_destroy(t);
        }
    }
    free(frame);
    return 0;
}
