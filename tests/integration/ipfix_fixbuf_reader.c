/* Interop helper (built by interop_ipfix_libfixbuf.sh, not part of flowkit):
 * read a raw IPFIX stream written by examples/ipfix_gen with libfixbuf 2.4
 * and print every data record of templates 256 (IPv4) and 257 (IPv6) as one
 * JSON object in the same shape as ipfix_gen's ground truth. */
#include <arpa/inet.h>
#include <fixbuf/public.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define INT_V4 0x9000
#define INT_V6 0x9001
#define INT_OPT 0x9002

static fbInfoElementSpec_t v4_spec[] = {{"octetDeltaCount", 8, 0},
                                        {"packetDeltaCount", 8, 0},
                                        {"flowStartMilliseconds", 8, 0},
                                        {"flowEndMilliseconds", 8, 0},
                                        {"reverseOctetDeltaCount", 8, 0},
                                        {"reversePacketDeltaCount", 8, 0},
                                        {"processName", 0, 0},
                                        {"sourceIPv4Address", 4, 0},
                                        {"destinationIPv4Address", 4, 0},
                                        {"ingressInterface", 4, 0},
                                        {"egressInterface", 4, 0},
                                        {"sourceTransportPort", 2, 0},
                                        {"destinationTransportPort", 2, 0},
                                        {"tcpControlBits", 2, 0},
                                        {"protocolIdentifier", 1, 0},
                                        {"flowEndReason", 1, 0},
                                        FB_IESPEC_NULL};
typedef struct v4rec {
    uint64_t oct, pkt, start, end, roct, rpkt;
    fbVarfield_t name;
    uint32_t sip, dip, in_if, out_if;
    uint16_t sport, dport, flags;
    uint8_t proto, reason;
} v4rec;

static fbInfoElementSpec_t v6_spec[] = {{"octetDeltaCount", 8, 0},
                                        {"packetDeltaCount", 8, 0},
                                        {"applicationName", 0, 0},
                                        {"sourceIPv6Address", 16, 0},
                                        {"destinationIPv6Address", 16, 0},
                                        {"flowStartSeconds", 4, 0},
                                        {"flowEndSeconds", 4, 0},
                                        {"sourceTransportPort", 2, 0},
                                        {"destinationTransportPort", 2, 0},
                                        {"protocolIdentifier", 1, 0},
                                        {"paddingOctets", 3, 0},
                                        FB_IESPEC_NULL};
typedef struct v6rec {
    uint64_t oct, pkt;
    fbVarfield_t app;
    uint8_t sip[16], dip[16];
    uint32_t start, end;
    uint16_t sport, dport;
    uint8_t proto, pad[3];
} v6rec;

static fbInfoElementSpec_t opt_spec[] = {
    {"observationDomainId", 4, 0}, {"samplingInterval", 4, 0}, FB_IESPEC_NULL};

static fbInfoElement_t ent_elements[] = {
    FB_IE_INIT_FULL("processName", 32473, 1, FB_IE_VARLEN, FB_IE_DEFAULT, 0, 0, FB_STRING, NULL),
    FB_IE_NULL};

static int add_tmpl(fbSession_t *s, fbInfoModel_t *m, fbInfoElementSpec_t *spec, uint16_t tid)
{
    GError *err = NULL;
    fbTemplate_t *t = fbTemplateAlloc(m);
    if (!fbTemplateAppendSpecArray(t, spec, UINT32_MAX, &err) ||
        !fbSessionAddTemplate(s, TRUE, tid, t, &err)) {
        fprintf(stderr, "fixbuf: template: %s\n", err->message);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: ipfix_fixbuf_reader FILE\n");
        return 2;
    }
    GError *err = NULL;
    fbInfoModel_t *model = fbInfoModelAlloc();
    fbInfoModelAddElementArray(model, ent_elements);
    fbSession_t *session = fbSessionAlloc(model);
    if (add_tmpl(session, model, v4_spec, INT_V4) < 0 ||
        add_tmpl(session, model, v6_spec, INT_V6) < 0 ||
        add_tmpl(session, model, opt_spec, INT_OPT) < 0)
        return 1;
    fbCollector_t *coll = fbCollectorAllocFile(NULL, argv[1], &err);
    if (!coll) {
        fprintf(stderr, "fixbuf: %s\n", err->message);
        return 1;
    }
    fBuf_t *fbuf = fBufAllocForCollection(session, coll);
    unsigned long n = 0;
    for (;;) {
        uint16_t tid = 0;
        fbTemplate_t *t = fBufNextCollectionTemplate(fbuf, &tid, &err);
        if (!t) {
            if (g_error_matches(err, FB_ERROR_DOMAIN, FB_ERROR_EOF))
                break;
            fprintf(stderr, "fixbuf: %s\n", err->message);
            return 1;
        }
        union {
            v4rec v4;
            v6rec v6;
            uint32_t opt[2];
        } rec;
        size_t len = sizeof rec;
        uint16_t itid = tid == 256 ? INT_V4 : tid == 257 ? INT_V6 : INT_OPT;
        memset(&rec, 0, sizeof rec);
        if (!fBufSetInternalTemplate(fbuf, itid, &err) ||
            !fBufNext(fbuf, (uint8_t *)&rec, &len, &err)) {
            fprintf(stderr, "fixbuf: record: %s\n", err->message);
            return 1;
        }
        n++;
        if (tid == 256) {
            const v4rec *r = &rec.v4;
            char s[INET_ADDRSTRLEN], d[INET_ADDRSTRLEN];
            uint32_t a = htonl(r->sip), b = htonl(r->dip);
            inet_ntop(AF_INET, &a, s, sizeof s);
            inet_ntop(AF_INET, &b, d, sizeof d);
            printf("{\"template_id\":256,\"sourceIPv4Address\":\"%s\","
                   "\"destinationIPv4Address\":\"%s\",\"sourceTransportPort\":%u,"
                   "\"destinationTransportPort\":%u,\"protocolIdentifier\":%u,"
                   "\"tcpControlBits\":%u,\"octetDeltaCount\":%" PRIu64
                   ",\"packetDeltaCount\":%" PRIu64 ",\"flowStartMilliseconds\":%" PRIu64
                   ",\"flowEndMilliseconds\":%" PRIu64
                   ",\"ingressInterface\":%u,\"egressInterface\":%u,\"flowEndReason\":%u,"
                   "\"reverseOctetDeltaCount\":%" PRIu64 ",\"reversePacketDeltaCount\":%" PRIu64
                   ",\"processName\":\"%.*s\"}\n",
                   s, d, r->sport, r->dport, r->proto, r->flags, r->oct, r->pkt, r->start, r->end,
                   r->in_if, r->out_if, r->reason, r->roct, r->rpkt, (int)r->name.len,
                   (const char *)r->name.buf);
        } else if (tid == 257) {
            const v6rec *r = &rec.v6;
            char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];
            inet_ntop(AF_INET6, r->sip, s, sizeof s);
            inet_ntop(AF_INET6, r->dip, d, sizeof d);
            printf("{\"template_id\":257,\"sourceIPv6Address\":\"%s\","
                   "\"destinationIPv6Address\":\"%s\",\"sourceTransportPort\":%u,"
                   "\"destinationTransportPort\":%u,\"protocolIdentifier\":%u,"
                   "\"octetDeltaCount\":%" PRIu64 ",\"packetDeltaCount\":%" PRIu64
                   ",\"flowStartSeconds\":%u,\"flowEndSeconds\":%u,\"applicationName\":\"%.*s\"}\n",
                   s, d, r->sport, r->dport, r->proto, r->oct, r->pkt, r->start, r->end,
                   (int)r->app.len, (const char *)r->app.buf);
        }
    }
    fprintf(stderr, "fixbuf: %lu records\n", n);
    fBufFree(fbuf);
    fbInfoModelFree(model);
    return 0;
}
