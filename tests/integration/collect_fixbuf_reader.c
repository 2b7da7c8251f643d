/* Interop helper (built by interop_collect_softflowd.sh and
 * collect_ipfix_events.sh, not part of flowkit): read an IPFIX file written
 * by `flowkit-collect -o ipfix:FILE` with libfixbuf 2.4 and print each IPv4
 * record as a JSON line in the shape of flowkit's JSON lines.
 *
 * flowkit's enterprise elements (docs/exporter-elements.md; processId 1,
 * processName 2, processExecutable 4, userId 5, sessionEventKind 10) are
 * added to libfixbuf's information model under PEN (default 32473), so
 * libfixbuf itself decodes the session events of the file (templates
 * 272..279: tuple, tcpControlBits, observationTimeMilliseconds,
 * sessionEventKind) and the process fields of events and flows. A record
 * with sessionEventKind 1/2/3 prints as {"type":"event","event":"syn"|"fin"|
 * "rst","time",...} (plus "tcp_flags", which flowkit's event JSON does not
 * carry), other records as {"type":"flow",...}; "pid"/"process",
 * "user", "uid" and "exe" appear when the record's template has them, with
 * flowkit's conventions (pid 0 without a name, userId 4294967295 and empty
 * strings mean unknown).
 * Usage: collect_fixbuf_reader FILE [PEN] */
#include <arpa/inet.h>
#include <fixbuf/public.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fixbuf_flowkit_model.h"

#define INT_TID 0x9100

/* Internal template: 8-byte fields, varfields, 4, 2, 1-byte fields, in
 * struct order without holes. */
static fbInfoElementSpec_t spec[] = {{"octetDeltaCount", 8, 0},
                                     {"packetDeltaCount", 8, 0},
                                     {"flowStartMilliseconds", 8, 0},
                                     {"flowEndMilliseconds", 8, 0},
                                     {"observationTimeMilliseconds", 8, 0},
                                     {"processName", 0, 0},
                                     {"userName", 0, 0},
                                     {"processExecutable", 0, 0},
                                     {"sourceIPv4Address", 4, 0},
                                     {"destinationIPv4Address", 4, 0},
                                     {"observationDomainId", 4, 0},
                                     {"exporterIPv4Address", 4, 0},
                                     {"processId", 4, 0},
                                     {"userId", 4, 0},
                                     {"sourceTransportPort", 2, 0},
                                     {"destinationTransportPort", 2, 0},
                                     {"tcpControlBits", 2, 0},
                                     {"protocolIdentifier", 1, 0},
                                     {"sessionEventKind", 1, 0},
                                     FB_IESPEC_NULL};
typedef struct rec {
    uint64_t oct, pkt, start, end, obs;
    fbVarfield_t pname, uname, exe;
    uint32_t sip, dip, odid, exp, pid, uid;
    uint16_t sport, dport, flags;
    uint8_t proto, kind;
} rec;

/* Whether the external template of the record just read has element NAME. */
static int has(fbTemplate_t *ext, const char *name)
{
    fbInfoElementSpec_t one = {(char *)name, 0, 0};
    return ext && fbTemplateContainsElementByName(ext, &one);
}

/* ,"key":"string" with JSON escapes for quote, backslash and controls. */
static void print_str(const char *key, const fbVarfield_t *v)
{
    printf(",\"%s\":\"", key);
    for (size_t i = 0; i < v->len; i++) {
        unsigned char c = v->buf[i];
        if (c == '"' || c == '\\')
            printf("\\%c", c);
        else if (c < 0x20)
            printf("\\u%04x", c);
        else
            putchar(c);
    }
    putchar('"');
}

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
    if (argc != 2 && argc != 3) {
        fprintf(stderr, "usage: collect_fixbuf_reader FILE [PEN]\n");
        return 2;
    }
    uint32_t pen = argc == 3 ? (uint32_t)strtoul(argv[2], NULL, 10) : 32473;
    GError *err = NULL;
    fbInfoModel_t *model = fk_fixbuf_flowkit_model(pen);
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
    static const char *const kinds[] = {NULL, "syn", "fin", "rst"};
    unsigned long n = 0, events = 0;
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
        fbTemplate_t *ext = fBufGetCollectionTemplate(fbuf, NULL);
        char s[INET_ADDRSTRLEN], d[INET_ADDRSTRLEN], e[INET_ADDRSTRLEN], st[40], en[40];
        ip_text(r.sip, s);
        ip_text(r.dip, d);
        ip_text(r.exp, e);
        if (r.kind >= 1 && r.kind <= 3 && has(ext, "sessionEventKind")) {
            ms_text(r.obs, st, sizeof st);
            printf("{\"type\":\"event\",\"event\":\"%s\",\"time\":\"%s\",\"src_addr\":\"%s\","
                   "\"dst_addr\":\"%s\",\"src_port\":%u,\"dst_port\":%u,\"proto\":%u,"
                   "\"exporter\":\"%s\",\"odid\":%u,\"version\":10,\"tcp_flags\":%u",
                   kinds[r.kind], st, s, d, r.sport, r.dport, r.proto, e, r.odid, r.flags);
            events++;
        } else {
            ms_text(r.start, st, sizeof st);
            ms_text(r.end, en, sizeof en);
            printf("{\"type\":\"flow\",\"src_addr\":\"%s\",\"dst_addr\":\"%s\",\"src_port\":%u,"
                   "\"dst_port\":%u,\"proto\":%u,\"bytes\":%" PRIu64 ",\"packets\":%" PRIu64
                   ",\"start\":\"%s\",\"end\":\"%s\",\"tcp_flags\":%u,\"exporter\":\"%s\","
                   "\"odid\":%u,\"version\":10",
                   s, d, r.sport, r.dport, r.proto, r.oct, r.pkt, st, en, r.flags, e, r.odid);
        }
        if (has(ext, "processId") && (r.pid || r.pname.len)) {
            printf(",\"pid\":%u", r.pid);
            print_str("process", &r.pname);
        }
        if (has(ext, "userName") && r.uname.len)
            print_str("user", &r.uname);
        if (has(ext, "userId") && r.uid != UINT32_MAX)
            printf(",\"uid\":%u", r.uid);
        if (has(ext, "processExecutable") && r.exe.len)
            print_str("exe", &r.exe);
        printf("}\n");
        n++;
    }
    fprintf(stderr, "fixbuf: %lu records, %lu events\n", n, events);
    fBufFree(fbuf);
    fbInfoModelFree(model);
    return 0;
}
