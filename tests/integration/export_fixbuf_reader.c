/* Interop helper (built by interop_export_lib.sh, not part of flowkit):
 * read a raw IPFIX stream written by fk_exporter with libfixbuf 2.4, with
 * flowkit's enterprise elements added to libfixbuf's information model
 * under the PEN given on the command line, and print every data record as
 * one JSON object:
 *   {"src_addr","dst_addr","src_port","dst_port","proto","packets","bytes",
 *    "rev_packets","rev_bytes","start_ms","end_ms","time_ms","kind","pid",
 *    "uid","process","user","exe"}
 * Usage: export_fixbuf_reader FILE PEN */
#include <arpa/inet.h>
#include <fixbuf/public.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixbuf_flowkit_model.h"

/* Internal template: 8-byte fields, varfields, 16-byte, 4, 2, 1-byte
 * fields, in struct order without holes. */
static fbInfoElementSpec_t spec[] = {{"octetDeltaCount", 8, 0},
                                     {"packetDeltaCount", 8, 0},
                                     {"reverseOctetDeltaCount", 8, 0},
                                     {"reversePacketDeltaCount", 8, 0},
                                     {"flowStartMilliseconds", 8, 0},
                                     {"flowEndMilliseconds", 8, 0},
                                     {"observationTimeMilliseconds", 8, 0},
                                     {"processName", 0, 0},
                                     {"userName", 0, 0},
                                     {"processExecutable", 0, 0},
                                     {"sourceIPv6Address", 16, 0},
                                     {"destinationIPv6Address", 16, 0},
                                     {"sourceIPv4Address", 4, 0},
                                     {"destinationIPv4Address", 4, 0},
                                     {"processId", 4, 0},
                                     {"userId", 4, 0},
                                     {"sourceTransportPort", 2, 0},
                                     {"destinationTransportPort", 2, 0},
                                     {"tcpControlBits", 2, 0},
                                     {"protocolIdentifier", 1, 0},
                                     {"flowEndReason", 1, 0},
                                     {"sessionEventKind", 1, 0},
                                     {"paddingOctets", 5, 0},
                                     FB_IESPEC_NULL};

typedef struct rec {
    uint64_t oct, pkt, roct, rpkt, start, end, obs;
    fbVarfield_t name, user, exe;
    uint8_t sip6[16], dip6[16];
    uint32_t sip, dip, pid, uid;
    uint16_t sport, dport, flags;
    uint8_t proto, reason, kind, pad[5];
} rec;

static void print_str(const char *key, const fbVarfield_t *v)
{
    printf(",\"%s\":\"%.*s\"", key, (int)v->len, (const char *)v->buf);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: export_fixbuf_reader FILE PEN\n");
        return 2;
    }
    uint32_t pen = (uint32_t)strtoul(argv[2], NULL, 10);
    GError *err = NULL;
    fbInfoModel_t *model = fk_fixbuf_flowkit_model(pen);
    fbSession_t *session = fbSessionAlloc(model);
    fbTemplate_t *tmpl = fbTemplateAlloc(model);
    if (!fbTemplateAppendSpecArray(tmpl, spec, 0xffffffff, &err)) {
        fprintf(stderr, "template: %s\n", err->message);
        return 1;
    }
    uint16_t tid = fbSessionAddTemplate(session, TRUE, FB_TID_AUTO, tmpl, &err);
    if (!tid) {
        fprintf(stderr, "add template: %s\n", err->message);
        return 1;
    }
    fbCollector_t *coll = fbCollectorAllocFile(NULL, argv[1], &err);
    if (!coll) {
        fprintf(stderr, "%s: %s\n", argv[1], err->message);
        return 1;
    }
    fBuf_t *buf = fBufAllocForCollection(session, coll);
    if (!fBufSetInternalTemplate(buf, tid, &err)) {
        fprintf(stderr, "internal template: %s\n", err->message);
        return 1;
    }
    rec r;
    size_t len = sizeof r;
    unsigned long n = 0;
    while (fBufNext(buf, (uint8_t *)&r, &len, &err)) {
        char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];
        static const uint8_t zero16[16];
        if (memcmp(r.sip6, zero16, 16) != 0) {
            inet_ntop(AF_INET6, r.sip6, s, sizeof s);
            inet_ntop(AF_INET6, r.dip6, d, sizeof d);
        } else {
            uint32_t a = htonl(r.sip), b = htonl(r.dip);
            inet_ntop(AF_INET, &a, s, sizeof s);
            inet_ntop(AF_INET, &b, d, sizeof d);
        }
        printf("{\"src_addr\":\"%s\",\"dst_addr\":\"%s\",\"src_port\":%u,\"dst_port\":%u,"
               "\"proto\":%u,\"packets\":%" PRIu64 ",\"bytes\":%" PRIu64 ",\"rev_packets\":%" PRIu64
               ",\"rev_bytes\":%" PRIu64 ",\"start_ms\":%" PRIu64 ",\"end_ms\":%" PRIu64
               ",\"time_ms\":%" PRIu64
               ",\"kind\":%u,\"flags\":%u,\"reason\":%u,\"pid\":%u,\"uid\":%u",
               s, d, r.sport, r.dport, r.proto, r.pkt, r.oct, r.rpkt, r.roct, r.start, r.end, r.obs,
               r.kind, r.flags, r.reason, r.pid, r.uid);
        print_str("process", &r.name);
        print_str("user", &r.user);
        print_str("exe", &r.exe);
        printf("}\n");
        n++;
        len = sizeof r;
    }
    if (!g_error_matches(err, FB_ERROR_DOMAIN, FB_ERROR_EOF)) {
        fprintf(stderr, "read: %s\n", err ? err->message : "?");
        return 1;
    }
    fprintf(stderr, "libfixbuf: %lu records\n", n);
    fBufFree(buf);
    fbInfoModelFree(model);
    return 0;
}
