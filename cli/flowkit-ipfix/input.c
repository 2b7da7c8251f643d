/* flowkit-ipfix's input: frames of pcap/pcapng files (Ethernet, Linux
 * cooked, raw IP, loopback; IPv4/IPv6, VLAN) down to UDP datagrams, and raw
 * files of concatenated IPFIX messages, streamed. */
#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"

static uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

/* IPv4/IPv6 packet at p; hands a UDP payload to tool_datagram(). */
static void ip_packet(tool *t, const uint8_t *p, size_t len)
{
    if (len < 1)
        goto skip;
    fk_addr src;
    memset(&src, 0, sizeof src);
    const uint8_t *l4;
    size_t l4len;
    unsigned v = p[0] >> 4;
    if (v == 4) {
        if (len < 20)
            goto skip;
        size_t ihl = (size_t)(p[0] & 0xf) * 4;
        size_t tot = rd16(p + 2);
        if (ihl < 20 || tot < ihl || tot > len)
            goto skip;
        if (p[9] != 17 || (rd16(p + 6) & 0x3fff)) /* not UDP, or a fragment */
            goto skip;
        src.family = 4;
        memcpy(src.bytes, p + 12, 4);
        l4 = p + ihl;
        l4len = tot - ihl;
    } else if (v == 6) {
        if (len < 40)
            goto skip;
        size_t plen = rd16(p + 4);
        if (40 + plen > len)
            goto skip;
        unsigned nh = p[6];
        size_t off = 40;
        /* Walk hop-by-hop, routing and destination options headers. */
        while (nh == 0 || nh == 43 || nh == 60) {
            if (off + 8 > 40 + plen)
                goto skip;
            size_t elen = ((size_t)p[off + 1] + 1) * 8;
            nh = p[off];
            off += elen;
        }
        if (nh != 17 || off > 40 + plen)
            goto skip;
        src.family = 6;
        memcpy(src.bytes, p + 8, 16);
        l4 = p + off;
        l4len = 40 + plen - off;
    } else {
        goto skip;
    }
    if (l4len < 8)
        goto skip;
    size_t ulen = rd16(l4 + 4);
    if (ulen < 8 || ulen > l4len)
        goto skip;
    if (t->port >= 0 && rd16(l4 + 2) != t->port)
        goto skip;
    tool_datagram(t, &src, rd16(l4), l4 + 8, ulen - 8);
    return;
skip:
    t->skipped++;
}

static void frame(tool *t, int dlt, const uint8_t *p, size_t len)
{
    size_t off;
    unsigned ethertype;
    switch (dlt) {
    case DLT_EN10MB:
        if (len < 14)
            goto skip;
        ethertype = rd16(p + 12);
        off = 14;
        while ((ethertype == 0x8100 || ethertype == 0x88a8) && len >= off + 4) {
            ethertype = rd16(p + off + 2);
            off += 4;
        }
        break;
    case DLT_LINUX_SLL:
        if (len < 16)
            goto skip;
        ethertype = rd16(p + 14);
        off = 16;
        break;
#ifdef DLT_LINUX_SLL2
    case DLT_LINUX_SLL2:
        if (len < 20)
            goto skip;
        ethertype = rd16(p);
        off = 20;
        break;
#endif
    case DLT_NULL:
    case DLT_LOOP:
        if (len < 4)
            goto skip;
        off = 4;
        ethertype = 0; /* address family in host or network order: look at the IP version */
        break;
    case DLT_RAW:
#ifdef DLT_IPV4
    case DLT_IPV4:
    case DLT_IPV6:
#endif
        off = 0;
        ethertype = 0;
        break;
    default:
        goto skip;
    }
    if (ethertype != 0 && ethertype != 0x0800 && ethertype != 0x86dd)
        goto skip;
    ip_packet(t, p + off, len - off);
    return;
skip:
    t->skipped++;
}

static int read_pcap(tool *t, const char *path)
{
    char err[PCAP_ERRBUF_SIZE];
    pcap_t *pc = pcap_open_offline(path, err);
    if (!pc) {
        fprintf(stderr, TOOL ": %s: %s\n", path, err);
        return 1;
    }
    int dlt = pcap_datalink(pc);
    struct pcap_pkthdr *ph;
    const u_char *data;
    int rc;
    while (!stop_requested && (rc = pcap_next_ex(pc, &ph, &data)) == 1) {
        t->frame_no++;
        frame(t, dlt, data, ph->caplen);
    }
    int status = 0;
    if (!stop_requested && rc == PCAP_ERROR) {
        fprintf(stderr, TOOL ": %s: %s\n", path, pcap_geterr(pc));
        status = 1;
    }
    pcap_close(pc);
    return status;
}

/* A raw file is streamed, never held whole: IPFIX messages one at a time
 * (each says its length, at most 65535 octets); anything else is a single
 * datagram, so at most 65535 octets. */
static int read_raw(tool *t, const char *path, FILE *f)
{
    enum { DGRAM_MAX = 65535 };
    uint8_t *buf = malloc(DGRAM_MAX + 1);
    if (!buf) {
        fprintf(stderr, TOOL ": %s: out of memory\n", path);
        return 1;
    }
    int rc = 0;
    size_t len = fread(buf, 1, 4, f);
    if (len >= 2 && rd16(buf) == 10) {
        while (len > 0 && !stop_requested) {
            t->frame_no++;
            size_t mlen = len >= 4 ? rd16(buf + 2) : 0;
            if (mlen < 16) {
                /* Not a message header: what follows (up to one datagram)
                 * goes to the decoder as it is, which counts it malformed. */
                len += fread(buf + len, 1, DGRAM_MAX - len, f);
                tool_datagram(t, &t->raw_exporter, t->raw_port, buf, len);
                break;
            }
            len += fread(buf + len, 1, mlen - len, f);
            tool_datagram(t, &t->raw_exporter, t->raw_port, buf, len); /* short: the file ended */
            if (len < mlen)
                break;
            len = fread(buf, 1, 4, f);
        }
    } else {
        len += fread(buf + len, 1, DGRAM_MAX + 1 - len, f);
        if (len > DGRAM_MAX) {
            fprintf(stderr,
                    TOOL ": %s: not IPFIX and longer than one datagram (65535 octets): not a "
                         "raw export datagram\n",
                    path);
            rc = 1;
        } else if (len > 0) {
            t->frame_no++;
            tool_datagram(t, &t->raw_exporter, t->raw_port, buf, len);
        }
    }
    if (rc == 0 && ferror(f)) {
        fprintf(stderr, TOOL ": %s: read error: %s\n", path, strerror(errno));
        rc = 1;
    }
    free(buf);
    return rc;
}

int tool_read_file(tool *t, const char *path)
{
    t->file = path;
    t->frame_no = 0;
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, TOOL ": %s: %s\n", path, strerror(errno));
        return 1;
    }
    /* Large reads: stdio's 4 KiB buffer made a read(2) per ~60 records. */
    setvbuf(f, NULL, _IOFBF, 1u << 20);
    uint8_t magic[4] = {0};
    size_t got = fread(magic, 1, 4, f);
    uint32_t m =
        (uint32_t)magic[0] << 24 | (uint32_t)magic[1] << 16 | (uint32_t)magic[2] << 8 | magic[3];
    bool is_pcap = got == 4 && (m == 0xa1b2c3d4u || m == 0xd4c3b2a1u || m == 0xa1b23c4du ||
                                m == 0x4d3cb2a1u || m == 0x0a0d0d0au);
    int rc;
    if (is_pcap) {
        fclose(f);
        rc = read_pcap(t, path);
    } else {
        rewind(f);
        rc = read_raw(t, path, f);
        fclose(f);
    }
    return rc;
}
