/* Interop helper (built by interop_collect_softflowd.sh, not part of
 * flowkit): read an IPFIX file written by `flowkit-collect -o ipfix:FILE`
 * with libfixbuf 2.4 and print each IPv4 flow record as a JSON line in the
 * shape of flowkit's JSON lines (the fields collect_compare.py checks). */
#include <arpa/inet.h>
#include <fixbuf/public.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define INT_TID 0x9100

static fbInfoElementSpec_t spec[] = {
    {"octetDeltaCount", 8, 0},       {"packetDeltaCount", 8, 0},
    {"flowStartMilliseconds", 8, 0}, {"flowEndMilliseconds", 8, 0},
    {"sourceIPv4Address", 4, 0},     {"destinationIPv4Address", 4, 0},
    {"observationDomainId", 4, 0},   {"exporterIPv4Address", 4, 0},
    {"sourceTransportPort", 2, 0},   {"destinationTransportPort", 2, 0},
    {"tcpControlBits", 2, 0},        {"protocolIdentifier", 1, 0},
    {"paddingOctets", 1, 0},         FB_IESPEC_NULL};
typedef struct rec {
    uint64_t oct, pkt, start, end;
    uint32_t sip, dip, odid, exp;
    uint16_t sport, dport, flags;
    uint8_t proto, pad;
} rec;

static void ms_text(uint64_t ms, char *buf, size_t size)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    size_t n = strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf + n, size - n, ".%03uZ", (unsigned)(ms % 1000));
}

static void ip_text(uint32_t host_order, char *buf)
{
    uint32_t a = htonl(host_order);
    inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: collect_fixbuf_reader FILE\n");
        return 2;
    }
    GError *err = NULL;
    fbInfoModel_t *model = fbInfoModelAlloc();
    fbSession_t *session = fbSessionAlloc(model);
    fbTemplate_t *t = fbTemplateAlloc(model);
    if (!fbTemplateAppendSpecArray(t, spec, UINT32_MAX, &err) ||
        !fbSessionAddTemplate(session, TRUE, INT_TID, t, &err)) {
        fprintf(stderr, "fixbuf: template: %s\n", err->message);
        return 1;
    }
    fbCollector_t *coll = fbCollectorAllocFile(NULL, argv[1], &err);
    if (!coll) {
        fprintf(stderr, "fixbuf: %s\n", err->message);
        return 1;
    }
    fBuf_t *fbuf = fBufAllocForCollection(session, coll);
    if (!fBufSetInternalTemplate(fbuf, INT_TID, &err)) {
        fprintf(stderr, "fixbuf: %s\n", err->message);
        return 1;
    }
    unsigned long n = 0;
    for (;;) {
        rec r;
        size_t len = sizeof r;
        memset(&r, 0, sizeof r);
        if (!fBufNext(fbuf, (uint8_t *)&r, &len, &err)) {
            if (g_error_matches(err, FB_ERROR_DOMAIN, FB_ERROR_EOF))
                break;
            fprintf(stderr, "fixbuf: record: %s\n", err->message);
            return 1;
        }
        char s[INET_ADDRSTRLEN], d[INET_ADDRSTRLEN], e[INET_ADDRSTRLEN], st[40], en[40];
        ip_text(r.sip, s);
        ip_text(r.dip, d);
        ip_text(r.exp, e);
        ms_text(r.start, st, sizeof st);
        ms_text(r.end, en, sizeof en);
        printf("{\"type\":\"flow\",\"src_addr\":\"%s\",\"dst_addr\":\"%s\",\"src_port\":%u,"
               "\"dst_port\":%u,\"proto\":%u,\"bytes\":%" PRIu64 ",\"packets\":%" PRIu64
               ",\"start\":\"%s\",\"end\":\"%s\",\"tcp_flags\":%u,\"exporter\":\"%s\","
               "\"odid\":%u,\"version\":10}\n",
               s, d, r.sport, r.dport, r.proto, r.oct, r.pkt, st, en, r.flags, e, r.odid);
        n++;
    }
    fprintf(stderr, "fixbuf: %lu records\n", n);
    fBufFree(fbuf);
    fbInfoModelFree(model);
    return 0;
}
