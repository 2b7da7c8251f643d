/* IPFIX codec benchmark, one core: records/s to decode messages into a
 * normalized flow (flowkit: fk_flow; libfixbuf: its transcoder into a struct
 * of the same 12 fields) and to encode records into messages, on the same
 * messages in the same run. Fixed 12-element template, MTU 1400.
 *   bench_ipfix [RECORDS] [SECONDS_PER_MEASURE]
 * Each figure is the best of 5 alternating runs of SECONDS_PER_MEASURE.
 * Prints:
 *   ipfix-decode  flowkit=<r> rec/s  peer=<r> rec/s  ratio=<x>
 *   ipfix-encode  flowkit=<r> rec/s  peer=<r> rec/s  ratio=<x> */
#define _GNU_SOURCE
#include <flowkit/flowkit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef FK_BENCH_HAVE_FIXBUF
#include <fixbuf/public.h>
#endif

#define TID 256
#define ROUNDS 5
static const fk_field_spec fields[12] = {
    {0, 8, 4, 0}, {0, 12, 4, 0}, {0, 7, 2, 0},   {0, 11, 2, 0},  {0, 4, 1, 0},  {0, 6, 1, 0},
    {0, 1, 8, 0}, {0, 2, 8, 0},  {0, 152, 8, 0}, {0, 153, 8, 0}, {0, 10, 4, 0}, {0, 14, 4, 0}};

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static fk_flow *make_flows(size_t n)
{
    fk_flow *f = calloc(n, sizeof *f);
    for (size_t i = 0; i < n; i++) {
        f[i].src.family = f[i].dst.family = 4;
        f[i].src.bytes[0] = 10, f[i].src.bytes[2] = (uint8_t)(i >> 8),
        f[i].src.bytes[3] = (uint8_t)i;
        f[i].dst.bytes[0] = 192, f[i].dst.bytes[3] = (uint8_t)(i % 200);
        f[i].src_port = (uint16_t)(1024 + i);
        f[i].dst_port = 443;
        f[i].proto = 6;
        f[i].tcp_flags = 0x1b;
        f[i].bytes = 1000 + i;
        f[i].packets = 1 + i % 40;
        f[i].start_ns = 1700000000000000000ll + (int64_t)i * 1000000;
        f[i].end_ns = f[i].start_ns + 500000000;
        f[i].in_if = 1;
        f[i].out_if = 2;
    }
    return f;
}

/* Encode all flows into a stream of messages (templates in the first). */
static size_t encode_stream(fk_ipfix_encoder *e, const fk_flow *f, size_t n, uint8_t *out,
                            size_t cap, FILE *sink, size_t *msgs)
{
    uint8_t buf[1500];
    size_t used = 0, i = 0;
    *msgs = 0;
    while (i < n) {
        size_t len;
        fk_ipfix_encoder_begin(e, 1, 1700000000u, buf, sizeof buf);
        if (*msgs == 0)
            fk_ipfix_encoder_write_template(e, TID);
        while (i < n && fk_ipfix_encoder_add_flow(e, TID, &f[i]) == 0)
            i++;
        fk_ipfix_encoder_finish(e, &len);
        if (out && used + len <= cap)
            memcpy(out + used, buf, len);
        if (sink)
            fwrite(buf, 1, len, sink);
        used += len;
        (*msgs)++;
    }
    return used;
}

static double bench_fk_decode(const uint8_t *stream, size_t len, size_t n, double secs)
{
    fk_ipfix_decoder *d;
    fk_ipfix_decoder_create(&d, NULL);
    uint64_t sum = 0, recs = 0;
    double t0 = now(), t;
    do {
        const uint8_t *p = stream;
        size_t left = len;
        while (left > 0) {
            fk_ipfix_header h;
            if (fk_ipfix_decoder_begin(d, 0, p, left, &h) < 0)
                abort();
            fk_ipfix_item it;
            while (fk_ipfix_decoder_next(d, &it) == 1) {
                if (it.kind != FK_IPFIX_ITEM_RECORD)
                    continue;
                fk_flow f;
                fk_ipfix_record_to_flow(&it.record, &f);
                sum += f.bytes + f.src_port + (uint64_t)f.start_ns;
                recs++;
            }
            p += h.length;
            left -= h.length;
        }
        t = now();
    } while (t - t0 < secs);
    if (recs % n != 0 || sum == 0)
        abort();
    fk_ipfix_decoder_destroy(d);
    return (double)recs / (t - t0);
}

static double bench_fk_encode(const fk_flow *f, size_t n, double secs, FILE *sink)
{
    fk_ipfix_encoder *e;
    fk_ipfix_encoder_create(&e, NULL);
    fk_ipfix_encoder_add_template(e, TID, fields, 12, 0);
    uint64_t recs = 0;
    double t0 = now(), t;
    do {
        size_t msgs;
        encode_stream(e, f, n, NULL, 0, sink, &msgs);
        recs += n;
        t = now();
    } while (t - t0 < secs);
    fk_ipfix_encoder_destroy(e);
    return (double)recs / (t - t0);
}

#ifdef FK_BENCH_HAVE_FIXBUF
typedef struct fbrec {
    uint64_t octets, packets, start, end;
    uint32_t sip, dip, in_if, out_if;
    uint16_t sport, dport;
    uint8_t proto, flags, pad[2];
} fbrec;

static fbInfoElementSpec_t fb_spec[] = {
    {"octetDeltaCount", 8, 0},       {"packetDeltaCount", 8, 0},
    {"flowStartMilliseconds", 8, 0}, {"flowEndMilliseconds", 8, 0},
    {"sourceIPv4Address", 4, 0},     {"destinationIPv4Address", 4, 0},
    {"ingressInterface", 4, 0},      {"egressInterface", 4, 0},
    {"sourceTransportPort", 2, 0},   {"destinationTransportPort", 2, 0},
    {"protocolIdentifier", 1, 0},    {"tcpControlBits", 1, 0},
    {"paddingOctets", 2, 0},         FB_IESPEC_NULL};

/* External (wire) template in the same field order as flowkit's. */
static fbInfoElementSpec_t fb_wire[] = {{"sourceIPv4Address", 4, 0},
                                        {"destinationIPv4Address", 4, 0},
                                        {"sourceTransportPort", 2, 0},
                                        {"destinationTransportPort", 2, 0},
                                        {"protocolIdentifier", 1, 0},
                                        {"tcpControlBits", 1, 0},
                                        {"octetDeltaCount", 8, 0},
                                        {"packetDeltaCount", 8, 0},
                                        {"flowStartMilliseconds", 8, 0},
                                        {"flowEndMilliseconds", 8, 0},
                                        {"ingressInterface", 4, 0},
                                        {"egressInterface", 4, 0},
                                        FB_IESPEC_NULL};

static double bench_fb_decode(const uint8_t *stream, size_t len, size_t n, double secs)
{
    GError *err = NULL;
    fbInfoModel_t *model = fbInfoModelAlloc();
    uint64_t recs = 0, sum = 0;
    double t0 = now(), t;
    do {
        fbSession_t *s = fbSessionAlloc(model);
        fbTemplate_t *tm = fbTemplateAlloc(model);
        fbTemplateAppendSpecArray(tm, fb_spec, UINT32_MAX, &err);
        fbSessionAddTemplate(s, TRUE, 0x9000, tm, &err);
        FILE *fp = fmemopen((void *)stream, len, "rb");
        fbCollector_t *c = fbCollectorAllocFP(NULL, fp);
        fBuf_t *fb = fBufAllocForCollection(s, c);
        fBufSetInternalTemplate(fb, 0x9000, &err);
        fbrec r;
        size_t rl = sizeof r;
        while (fBufNext(fb, (uint8_t *)&r, &rl, &err)) {
            sum += r.octets + r.sport + r.start;
            recs++;
            rl = sizeof r;
        }
        g_clear_error(&err);
        fBufFree(fb);
        fclose(fp);
        t = now();
    } while (t - t0 < secs);
    if (recs % n != 0 || sum == 0) {
        fprintf(stderr, "bench: libfixbuf read %llu records (not a multiple of %zu)\n",
                (unsigned long long)recs, n);
        exit(1);
    }
    fbInfoModelFree(model);
    return (double)recs / (t - t0);
}

static double bench_fb_encode(const fk_flow *f, size_t n, double secs, FILE *sink)
{
    GError *err = NULL;
    fbInfoModel_t *model = fbInfoModelAlloc();
    fbrec *recs_in = calloc(n, sizeof *recs_in);
    for (size_t i = 0; i < n; i++) { /* same values as the flowkit side */
        fbrec *r = &recs_in[i];
        r->octets = f[i].bytes, r->packets = f[i].packets;
        r->start = (uint64_t)(f[i].start_ns / 1000000), r->end = (uint64_t)(f[i].end_ns / 1000000);
        r->sip = (uint32_t)f[i].src.bytes[0] << 24 | (uint32_t)f[i].src.bytes[2] << 8 |
                 f[i].src.bytes[3];
        r->dip = (uint32_t)f[i].dst.bytes[0] << 24 | f[i].dst.bytes[3];
        r->in_if = f[i].in_if, r->out_if = f[i].out_if;
        r->sport = f[i].src_port, r->dport = f[i].dst_port;
        r->proto = f[i].proto, r->flags = f[i].tcp_flags;
    }
    uint64_t recs = 0;
    double t0 = now(), t;
    do {
        fbSession_t *s = fbSessionAlloc(model);
        fbSessionSetDomain(s, 1);
        fbTemplate_t *it = fbTemplateAlloc(model), *et = fbTemplateAlloc(model);
        if (!fbTemplateAppendSpecArray(it, fb_spec, UINT32_MAX, &err) ||
            !fbTemplateAppendSpecArray(et, fb_wire, UINT32_MAX, &err) ||
            !fbSessionAddTemplate(s, TRUE, 0x9000, it, &err) ||
            !fbSessionAddTemplate(s, FALSE, TID, et, &err)) {
            fprintf(stderr, "bench: libfixbuf templates: %s\n", err->message);
            exit(1);
        }
        fbExporter_t *x = fbExporterAllocFP(sink);
        fBuf_t *fb = fBufAllocForExport(s, x);
        if (!fbSessionExportTemplates(s, &err) || !fBufSetInternalTemplate(fb, 0x9000, &err) ||
            !fBufSetExportTemplate(fb, TID, &err)) {
            fprintf(stderr, "bench: libfixbuf export setup: %s\n", err->message);
            exit(1);
        }
        for (size_t i = 0; i < n; i++)
            if (!fBufAppend(fb, (uint8_t *)&recs_in[i], sizeof recs_in[i], &err)) {
                fprintf(stderr, "bench: libfixbuf append: %s\n", err->message);
                exit(1);
            }
        fBufEmit(fb, &err);
        fBufFree(fb);
        recs += n;
        t = now();
    } while (t - t0 < secs);
    free(recs_in);
    fbInfoModelFree(model);
    return (double)recs / (t - t0);
}
#endif

static void line(const char *name, double fk, double peer)
{
    if (peer > 0)
        printf("%s  flowkit=%.0f rec/s  peer=%.0f rec/s  ratio=%.2f\n", name, fk, peer, fk / peer);
    else
        printf("%s  flowkit=%.0f rec/s  peer=n/a (libfixbuf not built in)  ratio=n/a\n", name, fk);
}

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 100000;
    double secs = argc > 2 ? atof(argv[2]) : 2.0;
    fk_flow *flows = make_flows(n);
    fk_ipfix_encoder *e;
    fk_ipfix_encoder_create(&e, NULL);
    fk_ipfix_encoder_add_template(e, TID, fields, 12, 0);
    size_t cap = fk_ipfix_encode_bound(n, 54, 60), msgs;
    uint8_t *stream = malloc(cap);
    size_t len = encode_stream(e, flows, n, stream, cap, NULL, &msgs);
    fk_ipfix_encoder_destroy(e);
    /* Encoded messages go to /dev/null through one large stdio buffer for
     * both contenders, so that write(2) calls do not dominate the figures. */
    FILE *sink = fopen("/dev/null", "wb");
    if (!sink || setvbuf(sink, NULL, _IOFBF, 1 << 22) != 0)
        return 1;
    fprintf(stderr, "bench_ipfix: %zu records of 54 octets in %zu messages (%zu octets)\n", n, msgs,
            len);
    /* Shared, loaded machines: alternate the contenders and keep each one's
     * best of ROUNDS runs, so that a burst of foreign load hits both alike. */
    double fk_dec = 0, fk_enc = 0, fb_dec = 0, fb_enc = 0, v;
    for (int r = 0; r < ROUNDS; r++) {
        if ((v = bench_fk_decode(stream, len, n, secs)) > fk_dec)
            fk_dec = v;
#ifdef FK_BENCH_HAVE_FIXBUF
        if ((v = bench_fb_decode(stream, len, n, secs)) > fb_dec)
            fb_dec = v;
#endif
        if ((v = bench_fk_encode(flows, n, secs, sink)) > fk_enc)
            fk_enc = v;
#ifdef FK_BENCH_HAVE_FIXBUF
        if ((v = bench_fb_encode(flows, n, secs, sink)) > fb_enc)
            fb_enc = v;
#endif
    }
    line("ipfix-decode", fk_dec, fb_dec);
    line("ipfix-encode", fk_enc, fb_enc);
    fclose(sink);
    free(stream);
    free(flows);
    return 0;
}
