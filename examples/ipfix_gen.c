/* ipfix_gen: encode deterministic flow records as IPFIX with flowkit's
 * encoder (data templates for IPv4 and IPv6 with reverse counters and an
 * enterprise element, plus an options template) and write the messages
 *   - as a pcap of UDP datagrams to 127.0.0.1:PORT:  ipfix_gen pcap FILE PORT N
 *   - as one raw IPFIX stream (RFC 5655 file):       ipfix_gen raw FILE N
 *   - one file per message into a directory:         ipfix_gen dir DIR N
 * and print the ground truth, one JSON object per data record, on stdout.
 * Public API only. */
#include <flowkit/flowkit.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PEN_EXAMPLE 32473u /* RFC 5612 documentation PEN */
#define TID_V4 256
#define TID_V6 257
#define TID_OPT 258

static const fk_field_spec v4_fields[] = {
    {0, 8, 4, 0},                  /* sourceIPv4Address */
    {0, 12, 4, 0},                 /* destinationIPv4Address */
    {0, 7, 2, 0},                  /* sourceTransportPort */
    {0, 11, 2, 0},                 /* destinationTransportPort */
    {0, 4, 1, 0},                  /* protocolIdentifier */
    {0, 6, 2, 0},                  /* tcpControlBits */
    {0, 1, 8, 0},                  /* octetDeltaCount */
    {0, 2, 8, 0},                  /* packetDeltaCount */
    {0, 152, 8, 0},                /* flowStartMilliseconds */
    {0, 153, 8, 0},                /* flowEndMilliseconds */
    {0, 10, 4, 0},                 /* ingressInterface */
    {0, 14, 4, 0},                 /* egressInterface */
    {0, 136, 1, 0},                /* flowEndReason */
    {29305, 1, 8, 0},              /* reverseOctetDeltaCount */
    {29305, 2, 8, 0},              /* reversePacketDeltaCount */
    {PEN_EXAMPLE, 1, FK_VARLEN, 0} /* enterprise string: process name */
};
static const fk_field_spec v6_fields[] = {
    {0, 27, 16, 0},        /* sourceIPv6Address */
    {0, 28, 16, 0},        /* destinationIPv6Address */
    {0, 7, 2, 0},          /* sourceTransportPort */
    {0, 11, 2, 0},         /* destinationTransportPort */
    {0, 4, 1, 0},          /* protocolIdentifier */
    {0, 1, 4, 0},          /* octetDeltaCount, reduced size */
    {0, 2, 4, 0},          /* packetDeltaCount, reduced size */
    {0, 150, 4, 0},        /* flowStartSeconds */
    {0, 151, 4, 0},        /* flowEndSeconds */
    {0, 96, FK_VARLEN, 0}, /* applicationName */
};
static const fk_field_spec opt_fields[] = {
    {0, 149, 4, 0}, /* scope: observationDomainId */
    {0, 160, 8, 0}, /* systemInitTimeMilliseconds */
    {0, 34, 4, 0},  /* samplingInterval */
};

#define EXPORT_TIME 1700000100u
#define DOMAIN 4242u

static void wr16(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

/* pcap output: Ethernet + IPv4 + UDP to 127.0.0.1:port. */
static void pcap_header(FILE *f)
{
    uint32_t h[6] = {0xa1b2c3d4u, 0x00040002u, 0, 0, 65535, 1};
    /* version 2.4 is written as two 16-bit halves in host order */
    uint16_t ver[2] = {2, 4};
    fwrite(&h[0], 4, 1, f);
    fwrite(ver, 2, 2, f);
    fwrite(&h[2], 4, 4, f);
}

static void pcap_packet(FILE *f, const uint8_t *payload, size_t len, unsigned port, uint32_t ts,
                        unsigned id)
{
    uint8_t hdr[14 + 20 + 8];
    memset(hdr, 0, sizeof hdr);
    hdr[12] = 0x08; /* IPv4 ethertype; MACs zero (loopback) */
    uint8_t *ip = hdr + 14;
    ip[0] = 0x45;
    wr16(ip + 2, (unsigned)(20 + 8 + len));
    wr16(ip + 4, id);
    ip[8] = 64;
    ip[9] = 17;
    ip[12] = 127, ip[15] = 1;
    ip[16] = 127, ip[19] = 1;
    uint32_t sum = 0;
    for (int i = 0; i < 20; i += 2)
        sum += (uint32_t)(ip[i] << 8 | ip[i + 1]);
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    wr16(ip + 10, ~sum & 0xffff);
    uint8_t *udp = ip + 20;
    wr16(udp, 50000);
    wr16(udp + 2, port);
    wr16(udp + 4, (unsigned)(8 + len));
    uint32_t rec[4] = {ts, id, (uint32_t)(sizeof hdr + len), (uint32_t)(sizeof hdr + len)};
    fwrite(rec, 4, 4, f);
    fwrite(hdr, 1, sizeof hdr, f);
    fwrite(payload, 1, len, f);
}

static void print_addr(const char *key, const fk_addr *a)
{
    char s[FK_ADDR_STRLEN];
    fk_addr_format(a, s, sizeof s);
    printf("\"%s\":\"%s\"", key, s);
}

/* Fill and append record i; print its ground truth. */
static int add_record(fk_ipfix_encoder *e, unsigned i, int print)
{
    char name[32];
    fk_addr src, dst;
    int rc;
    memset(&src, 0, sizeof src);
    memset(&dst, 0, sizeof dst);
    unsigned sport = 1024 + i % 60000, dport = (i % 3 == 0) ? 53 : (i % 3 == 1 ? 80 : 443);
    unsigned proto = (i % 3 == 0) ? 17 : 6;
    uint64_t bytes = 1000 + (uint64_t)i * 37, packets = 1 + i % 50;
    if (i % 4 != 3) {
        uint64_t start = 1700000000000ull + (uint64_t)i * 10, end = start + 500 + i;
        src.family = dst.family = 4;
        src.bytes[0] = 10, src.bytes[2] = (uint8_t)(i >> 8), src.bytes[3] = (uint8_t)i;
        dst.bytes[0] = 192, dst.bytes[2] = 2, dst.bytes[3] = (uint8_t)(i % 250 + 1);
        unsigned flags = proto == 6 ? 0x1b : 0, in_if = 1 + i % 4, out_if = 2, reason = 1 + i % 5;
        uint64_t rbytes = (uint64_t)i * 11, rpk = i % 7;
        snprintf(name, sizeof name, "proc-%u", i % 5);
        if ((rc = fk_ipfix_encoder_record_begin(e, TID_V4)) < 0)
            return rc;
        fk_ipfix_encoder_put_addr(e, 0, 8, &src);
        fk_ipfix_encoder_put_addr(e, 0, 12, &dst);
        fk_ipfix_encoder_put_uint(e, 0, 7, sport);
        fk_ipfix_encoder_put_uint(e, 0, 11, dport);
        fk_ipfix_encoder_put_uint(e, 0, 4, proto);
        fk_ipfix_encoder_put_uint(e, 0, 6, flags);
        fk_ipfix_encoder_put_uint(e, 0, 1, bytes);
        fk_ipfix_encoder_put_uint(e, 0, 2, packets);
        fk_ipfix_encoder_put_time(e, 0, 152, (int64_t)start * 1000000);
        fk_ipfix_encoder_put_time(e, 0, 153, (int64_t)end * 1000000);
        fk_ipfix_encoder_put_uint(e, 0, 10, in_if);
        fk_ipfix_encoder_put_uint(e, 0, 14, out_if);
        fk_ipfix_encoder_put_uint(e, 0, 136, reason);
        fk_ipfix_encoder_put_uint(e, 29305, 1, rbytes);
        fk_ipfix_encoder_put_uint(e, 29305, 2, rpk);
        fk_ipfix_encoder_put_bytes(e, PEN_EXAMPLE, 1, name, strlen(name));
        if ((rc = fk_ipfix_encoder_record_end(e)) < 0)
            return rc;
        if (print) {
            printf("{\"template_id\":%d,", TID_V4);
            print_addr("sourceIPv4Address", &src);
            putchar(',');
            print_addr("destinationIPv4Address", &dst);
            printf(",\"sourceTransportPort\":%u,\"destinationTransportPort\":%u,"
                   "\"protocolIdentifier\":%u,\"tcpControlBits\":%u,\"octetDeltaCount\":%" PRIu64
                   ",\"packetDeltaCount\":%" PRIu64 ",\"flowStartMilliseconds\":%" PRIu64
                   ",\"flowEndMilliseconds\":%" PRIu64
                   ",\"ingressInterface\":%u,\"egressInterface\":%u,\"flowEndReason\":%u,"
                   "\"reverseOctetDeltaCount\":%" PRIu64 ",\"reversePacketDeltaCount\":%" PRIu64
                   ",\"processName\":\"%s\"}\n",
                   sport, dport, proto, flags, bytes, packets, start, end, in_if, out_if, reason,
                   rbytes, rpk, name);
        }
    } else {
        uint32_t start = 1700000000u + i, end = start + 1 + i % 30;
        src.family = dst.family = 6;
        src.bytes[0] = 0x20, src.bytes[1] = 0x01, src.bytes[2] = 0x0d, src.bytes[3] = 0xb8;
        memcpy(dst.bytes, src.bytes, 4);
        src.bytes[14] = (uint8_t)(i >> 8), src.bytes[15] = (uint8_t)i;
        dst.bytes[15] = (uint8_t)(i % 200 + 1);
        dst.bytes[5] = 1;
        snprintf(name, sizeof name, "app%u", i % 3);
        if ((rc = fk_ipfix_encoder_record_begin(e, TID_V6)) < 0)
            return rc;
        fk_ipfix_encoder_put_addr(e, 0, 27, &src);
        fk_ipfix_encoder_put_addr(e, 0, 28, &dst);
        fk_ipfix_encoder_put_uint(e, 0, 7, sport);
        fk_ipfix_encoder_put_uint(e, 0, 11, dport);
        fk_ipfix_encoder_put_uint(e, 0, 4, proto);
        fk_ipfix_encoder_put_uint(e, 0, 1, bytes);
        fk_ipfix_encoder_put_uint(e, 0, 2, packets);
        fk_ipfix_encoder_put_time(e, 0, 150, (int64_t)start * 1000000000);
        fk_ipfix_encoder_put_time(e, 0, 151, (int64_t)end * 1000000000);
        fk_ipfix_encoder_put_bytes(e, 0, 96, name, strlen(name));
        if ((rc = fk_ipfix_encoder_record_end(e)) < 0)
            return rc;
        if (print) {
            printf("{\"template_id\":%d,", TID_V6);
            print_addr("sourceIPv6Address", &src);
            putchar(',');
            print_addr("destinationIPv6Address", &dst);
            printf(",\"sourceTransportPort\":%u,\"destinationTransportPort\":%u,"
                   "\"protocolIdentifier\":%u,\"octetDeltaCount\":%" PRIu64
                   ",\"packetDeltaCount\":%" PRIu64
                   ",\"flowStartSeconds\":%u,\"flowEndSeconds\":%u,\"applicationName\":\"%s\"}\n",
                   sport, dport, proto, bytes, packets, start, end, name);
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 4 || (strcmp(argv[1], "pcap") == 0 && argc < 5)) {
        fprintf(stderr, "usage: ipfix_gen pcap FILE PORT N | raw FILE N | dir DIR N\n");
        return 2;
    }
    const char *mode = argv[1];
    int pcap = strcmp(mode, "pcap") == 0, dir = strcmp(mode, "dir") == 0;
    unsigned port = pcap ? (unsigned)atoi(argv[3]) : 0;
    unsigned n = (unsigned)strtoul(argv[pcap ? 4 : 3], NULL, 10);
    int quiet = getenv("IPFIX_GEN_QUIET") != NULL;
    FILE *out = NULL;
    if (!dir) {
        out = fopen(argv[2], "wb");
        if (!out) {
            perror(argv[2]);
            return 1;
        }
        if (pcap)
            pcap_header(out);
    }
    fk_ie_registry *reg;
    fk_ipfix_encoder *e;
    fk_ie pname = {PEN_EXAMPLE, 1, FK_IE_STRING, FK_IE_SEM_DEFAULT, "processName", ""};
    if (fk_ie_registry_create(&reg) < 0 || fk_ie_registry_add(reg, &pname) < 0 ||
        fk_ipfix_encoder_create(&e, reg) < 0 ||
        fk_ipfix_encoder_add_template(e, TID_V4, v4_fields, 16, 0) < 0 ||
        fk_ipfix_encoder_add_template(e, TID_V6, v6_fields, 10, 0) < 0 ||
        fk_ipfix_encoder_add_template(e, TID_OPT, opt_fields, 3, 1) < 0) {
        fprintf(stderr, "ipfix_gen: %s\n", fk_error_last()->message);
        return 1;
    }
    static uint8_t buf[65535];
    unsigned i = 0, msgs = 0;
    int pending = 0; /* a record left open by FK_ENOSPACE */
    while (i < n || msgs == 0) {
        size_t len;
        fk_ipfix_encoder_begin(e, DOMAIN, EXPORT_TIME + msgs, buf, sizeof buf);
        if (msgs % 16 == 0) { /* templates at the start and periodically (UDP) */
            fk_ipfix_encoder_write_template(e, TID_OPT);
            fk_ipfix_encoder_write_template(e, TID_V4);
            fk_ipfix_encoder_write_template(e, TID_V6);
        }
        if (pending) {
            if (fk_ipfix_encoder_record_end(e) < 0) {
                fprintf(stderr, "ipfix_gen: %s\n", fk_error_last()->message);
                return 1;
            }
            pending = 0;
            i++;
        }
        if (msgs % 16 == 0) {
            fk_ipfix_encoder_record_begin(e, TID_OPT);
            fk_ipfix_encoder_put_uint(e, 0, 149, DOMAIN);
            fk_ipfix_encoder_put_time(e, 0, 160, 1699990000000ll * 1000000);
            fk_ipfix_encoder_put_uint(e, 0, 34, 1);
            fk_ipfix_encoder_record_end(e);
        }
        while (i < n) {
            int rc = add_record(e, i, 0);
            if (rc == FK_ENOSPACE) {
                pending = 1;
                break;
            }
            if (rc < 0) {
                fprintf(stderr, "ipfix_gen: %s\n", fk_error_last()->message);
                return 1;
            }
            i++;
        }
        fk_ipfix_encoder_finish(e, &len);
        if (pcap) {
            pcap_packet(out, buf, len, port, EXPORT_TIME + msgs, msgs);
        } else if (dir) {
            char path[4096];
            snprintf(path, sizeof path, "%s/msg%04u.ipfix", argv[2], msgs);
            FILE *f = fopen(path, "wb");
            if (!f) {
                perror(path);
                return 1;
            }
            fwrite(buf, 1, len, f);
            fclose(f);
        } else {
            fwrite(buf, 1, len, out);
        }
        msgs++;
    }
    if (out && fclose(out) != 0) {
        perror(argv[2]);
        return 1;
    }
    if (!quiet) { /* ground truth, in record order */
        fk_ipfix_encoder *pe;
        static uint8_t big[65535];
        fk_ipfix_encoder_create(&pe, reg);
        fk_ipfix_encoder_set_int(pe, FK_IPFIX_ENC_MTU, 65535);
        fk_ipfix_encoder_add_template(pe, TID_V4, v4_fields, 16, 0);
        fk_ipfix_encoder_add_template(pe, TID_V6, v6_fields, 10, 0);
        for (unsigned k = 0; k < n; k++) {
            size_t len;
            fk_ipfix_encoder_begin(pe, DOMAIN, 0, big, sizeof big);
            add_record(pe, k, 1);
            fk_ipfix_encoder_finish(pe, &len);
        }
        fk_ipfix_encoder_destroy(pe);
    }
    fprintf(stderr, "ipfix_gen: %u records in %u messages\n", n, msgs);
    fk_ipfix_encoder_destroy(e);
    fk_ie_registry_destroy(reg);
    return 0;
}
