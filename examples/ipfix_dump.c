/* ipfix_dump: print the IPFIX records of a pcap of UDP datagrams or of a raw
 * IPFIX stream file (RFC 5655) as JSON lines, every field by its IANA name.
 *   ipfix_dump [--flows] [--pen PEN:ID:NAME:TYPE]... FILE
 * --flows prints the normalized flow (fk_flow_to_json) instead of the fields.
 * --pen registers an enterprise element, TYPE being an IANA type name
 * ("string", "unsigned32", ...). Public API only. */
#include <flowkit/flowkit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int flows_only;
static unsigned long n_records, n_errors, n_skipped;

static void decode_msg(fk_ipfix_decoder *d, uint64_t session, const uint8_t *p, size_t len)
{
    while (len >= 4) {
        fk_ipfix_header h;
        if (p[0] != 0 || p[1] != 10) {
            n_skipped++; /* not IPFIX (e.g. NetFlow v5/v9) */
            return;
        }
        if (fk_ipfix_decoder_begin(d, session, p, len, &h) < 0) {
            fprintf(stderr, "ipfix_dump: %s\n", fk_error_last()->message);
            n_errors++;
            return;
        }
        fk_ipfix_item it;
        int rc;
        while ((rc = fk_ipfix_decoder_next(d, &it)) == 1) {
            char buf[65536];
            if (it.kind != FK_IPFIX_ITEM_RECORD)
                continue;
            n_records++;
            if (flows_only) {
                fk_flow f;
                if (fk_ipfix_record_to_flow(&it.record, &f) == 0 &&
                    fk_flow_to_json(&f, buf, sizeof buf) > 0)
                    puts(buf);
            } else if (fk_ipfix_record_to_json(&it.record, buf, sizeof buf) > 0) {
                puts(buf);
            }
        }
        if (rc < 0) {
            fprintf(stderr, "ipfix_dump: %s\n", fk_error_last()->message);
            n_errors++;
        }
        p += h.length;
        len -= h.length;
    }
}

static uint32_t rd32(const uint8_t *p, int swap)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return swap ? __builtin_bswap32(v) : v;
}

/* UDP payload of a frame, or NULL. Session = source address and port. */
static const uint8_t *udp_payload(const uint8_t *p, size_t len, uint32_t link, size_t *plen,
                                  uint64_t *session)
{
    size_t off;
    int ethertype = 0;
    if (link == 1) { /* Ethernet, 802.1Q */
        if (len < 14)
            return NULL;
        off = 14;
        ethertype = p[12] << 8 | p[13];
        while ((ethertype == 0x8100 || ethertype == 0x88a8) && len >= off + 4) {
            ethertype = p[off + 2] << 8 | p[off + 3];
            off += 4;
        }
    } else if (link == 113) { /* Linux cooked */
        if (len < 16)
            return NULL;
        off = 16;
        ethertype = p[14] << 8 | p[15];
    } else if (link == 101 || link == 12) { /* raw IP */
        off = 0;
        ethertype = len > 0 && (p[0] >> 4) == 6 ? 0x86dd : 0x0800;
    } else if (link == 0) { /* BSD loopback */
        if (len < 4)
            return NULL;
        off = 4;
        ethertype = len > 4 && (p[4] >> 4) == 6 ? 0x86dd : 0x0800;
    } else {
        return NULL;
    }
    const uint8_t *ip = p + off;
    size_t iplen = len - off, l4;
    uint64_t s = 1469598103934665603ull;
    if (ethertype == 0x0800) {
        if (iplen < 20 || ip[9] != 17)
            return NULL;
        l4 = (size_t)(ip[0] & 15) * 4;
        for (int i = 12; i < 16; i++)
            s = (s ^ ip[i]) * 1099511628211ull;
    } else if (ethertype == 0x86dd) {
        if (iplen < 40 || ip[6] != 17)
            return NULL;
        l4 = 40;
        for (int i = 8; i < 24; i++)
            s = (s ^ ip[i]) * 1099511628211ull;
    } else {
        return NULL;
    }
    if (iplen < l4 + 8)
        return NULL;
    const uint8_t *udp = ip + l4;
    size_t ulen = (size_t)(udp[4] << 8 | udp[5]);
    if (ulen < 8 || ulen > iplen - l4)
        ulen = iplen - l4;
    s = (s ^ udp[0]) * 1099511628211ull;
    s = (s ^ udp[1]) * 1099511628211ull;
    *session = s;
    *plen = ulen - 8;
    return udp + 8;
}

static int type_by_name(const char *name)
{
    for (int t = 0; t <= FK_IE_SUB_TEMPLATE_MULTI_LIST; t++)
        if (strcmp(fk_ie_type_name(t), name) == 0)
            return t;
    return -1;
}

int main(int argc, char **argv)
{
    fk_ie_registry *reg;
    if (fk_ie_registry_create(&reg) < 0)
        return 1;
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--flows") == 0) {
            flows_only = 1;
        } else if (strcmp(argv[i], "--pen") == 0 && i + 1 < argc) {
            char spec[256], name[128], type[64];
            unsigned pen, id;
            snprintf(spec, sizeof spec, "%s", argv[++i]);
            if (sscanf(spec, "%u:%u:%127[^:]:%63s", &pen, &id, name, type) != 4 ||
                type_by_name(type) < 0) {
                fprintf(stderr, "ipfix_dump: bad --pen %s (PEN:ID:NAME:TYPE)\n", spec);
                return 2;
            }
            fk_ie ie = {pen, (uint16_t)id, (uint8_t)type_by_name(type), 0, name, ""};
            if (fk_ie_registry_add(reg, &ie) < 0) {
                fprintf(stderr, "ipfix_dump: %s\n", fk_error_last()->message);
                return 2;
            }
        } else if (argv[i][0] == '-') {
            fprintf(stderr, "usage: ipfix_dump [--flows] [--pen PEN:ID:NAME:TYPE]... FILE\n");
            return 2;
        } else {
            path = argv[i];
        }
    }
    if (!path) {
        fprintf(stderr, "usage: ipfix_dump [--flows] [--pen PEN:ID:NAME:TYPE]... FILE\n");
        return 2;
    }
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return 1;
    }
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *data = malloc(size > 0 ? (size_t)size : 1);
    if (!data || fread(data, 1, (size_t)size, f) != (size_t)size) {
        fprintf(stderr, "ipfix_dump: cannot read %s\n", path);
        return 1;
    }
    fclose(f);
    fk_template_cache *cache;
    fk_ipfix_decoder *d;
    if (fk_template_cache_create(&cache, reg) < 0 || fk_ipfix_decoder_create(&d, cache) < 0)
        return 1;
    size_t n = (size_t)size;
    uint32_t magic = n >= 24 ? rd32(data, 0) : 0;
    if (magic == 0xa1b2c3d4u || magic == 0xd4c3b2a1u || magic == 0xa1b23c4du ||
        magic == 0x4d3cb2a1u) {
        int swap = magic == 0xd4c3b2a1u || magic == 0x4d3cb2a1u;
        uint32_t link = rd32(data + 20, swap) & 0xffff;
        size_t off = 24;
        while (n - off >= 16) {
            uint32_t caplen = rd32(data + off + 8, swap);
            off += 16;
            if (caplen > n - off)
                break;
            size_t plen;
            uint64_t session;
            const uint8_t *pl = udp_payload(data + off, caplen, link, &plen, &session);
            if (pl)
                decode_msg(d, session, pl, plen);
            off += caplen;
        }
    } else {
        decode_msg(d, 0, data, n); /* raw stream of messages */
    }
    fprintf(stderr, "ipfix_dump: %lu records, %lu errors, %lu non-IPFIX datagrams\n", n_records,
            n_errors, n_skipped);
    fk_ipfix_decoder_destroy(d);
    fk_template_cache_destroy(cache);
    fk_ie_registry_destroy(reg);
    free(data);
    return n_errors ? 1 : 0;
}
