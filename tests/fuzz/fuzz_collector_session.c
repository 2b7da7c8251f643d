/* Fuzz the collector's session layer with the real decoders: the input is a
 * sequence of datagrams from one exporter, each prefixed by its length (2
 * bytes, big-endian). Small limits make the data-before-template buffer, the
 * template caps and the sequence tracking work hard. The same datagrams go
 * to a second collector with direct_decode off: the JSON lines of both (the
 * direct path turns plain fixed-length data sets into flows without the
 * decoder's walk) and their counters must be the same. Two more
 * collectors write jsonl: files with no callback, one with direct_decode
 * on, so that sets with a record plan are written straight from their
 * records (lib/collector/recplan.h), one with it off: the files must be
 * the same bytes, and the counters the same. Two last collectors write
 * ipfix: files (the pass-through), one storing a message's passing data
 * sets as runs, one set by set (fk__collector_raw_runs): the same bytes
 * (but for the clock-driven export time of flowkit's own messages) and
 * the same counters. The first collector also hands its records over in
 * batches (fk_collector_set_batch_callback): the batches must hold the
 * records the record callback got, in the same order, alike. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <flowkit/flowkit.h>

#include "collector/internal.h"

typedef struct seen {
    unsigned long records;
    unsigned long long hash; /* FNV-1a over the JSON lines, in order, and more fields */
} seen;

static unsigned long long fnv(unsigned long long h, const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)p[i];
        h *= 1099511628211ull;
    }
    return h;
}

static void on_flow(const fk_flow *f, void *user)
{
    /* Touch the record the way a sink would. */
    seen *s = user;
    char buf[FK_FLOW_JSON_MAX];
    int n = fk_flow_to_json(f, buf, sizeof buf);
    s->hash = fnv(s->hash, buf, n > 0 ? (size_t)n : 0);
    s->hash ^= f->tos ^ (unsigned long long)f->src_as << 8 ^ (unsigned long long)f->dst_as << 40;
    s->hash *= 1099511628211ull;
    s->records++;
}

static void on_batch(const fk_flow *flows, size_t n, void *user)
{
    for (size_t i = 0; i < n; i++)
        on_flow(&flows[i], user);
}

/* s: a callback (and batches to sx, when given); else the output `path`. */
/* FNV-1a of a file's bytes (that of no bytes when there is no file: an
 * output opens its file at its first record). */
static unsigned long long file_hash(const char *path)
{
    unsigned long long h = 1469598103934665603ull;
    FILE *f = fopen(path, "rb");
    if (f) {
        char chunk[4096];
        size_t n;
        while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
            h = fnv(h, chunk, n);
        fclose(f);
    }
    return h;
}

/* The same for an ipfix: file, with the export time of the messages of
 * domain 0 (flowkit's own: the clock's) left out. */
static unsigned long long ipfix_file_hash(const char *path)
{
    unsigned long long h = 1469598103934665603ull;
    FILE *f = fopen(path, "rb");
    if (!f)
        return h;
    unsigned char hdr[16];
    static char body[65536];
    while (fread(hdr, 1, 16, f) == 16) {
        size_t len = (size_t)hdr[2] << 8 | hdr[3];
        if (len < 16 || fread(body, 1, len - 16, f) != len - 16)
            abort(); /* the writer framed a message wrongly */
        if (!(hdr[12] | hdr[13] | hdr[14] | hdr[15]))
            memset(hdr + 4, 0, 4);
        h = fnv(fnv(h, (const char *)hdr, 16), body, len - 16);
    }
    fclose(f);
    return h;
}

static fk_collector *make(int direct, bool runs, seen *s, seen *sx, const char *path)
{
    fk_collector *h;
    if (fk_collector_create(&h) != 0)
        return NULL;
    if (s) {
        fk_collector_set_callback(h, on_flow, s);
        if (sx)
            fk_collector_set_batch_callback(h, on_batch, sx);
    } else {
        char uri[128];
        size_t n = strlen(path);
        bool ipfix = n > 6 && strcmp(path + n - 6, ".ipfix") == 0;
        snprintf(uri, sizeof uri, "%s:%s", ipfix ? "ipfix" : "jsonl", path);
        if (fk_collector_add_output(h, uri) != 0) {
            fk_collector_destroy(h);
            return NULL;
        }
    }
    fk_collector_set_int(h, FK_COL_PENDING_BYTES, 4096);
    fk_collector_set_int(h, FK_COL_MAX_TEMPLATES, 16);
    fk_collector_set_int(h, FK_COL_MAX_EXPORTERS, 4);
    fk_collector_set_int(h, FK_COL_MAX_INTERFACES, 2);
    fk_collector_set_int(h, FK_COL_DIRECT_DECODE, direct);
    fk__collector_raw_runs(h, runs); /* ipfix: files: runs, or set by set */
    if (fk_collector_activate(h) != 0) {
        fk_collector_destroy(h);
        return NULL;
    }
    return h;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    seen sa = {0, 1469598103934665603ull}, sb = sa, sx = sa;
    static char pc[64], pd[64], pe[64], pf[64];
    if (!pc[0]) {
        snprintf(pc, sizeof pc, "/tmp/fuzz_collector_session.%ld.c.jsonl", (long)getpid());
        snprintf(pd, sizeof pd, "/tmp/fuzz_collector_session.%ld.d.jsonl", (long)getpid());
        snprintf(pe, sizeof pe, "/tmp/fuzz_collector_session.%ld.e.ipfix", (long)getpid());
        snprintf(pf, sizeof pf, "/tmp/fuzz_collector_session.%ld.f.ipfix", (long)getpid());
    }
    remove(pc); /* the outputs append */
    remove(pd);
    remove(pe);
    remove(pf);
    fk_collector *a = make(1, true, &sa, &sx, NULL), *b = make(0, true, &sb, NULL, NULL);
    fk_collector *c = make(1, true, NULL, NULL, pc), *d = make(0, true, NULL, NULL, pd);
    fk_collector *e = make(1, true, NULL, NULL, pe), *g = make(1, false, NULL, NULL, pf);
    if (!a || !b || !c || !d || !e || !g) {
        fk_collector_destroy(a);
        fk_collector_destroy(b);
        fk_collector_destroy(c);
        fk_collector_destroy(d);
        fk_collector_destroy(e);
        fk_collector_destroy(g);
        return 0;
    }
    fk_addr exporter;
    fk_addr_parse("192.0.2.1", &exporter);
    size_t off = 0;
    while (size - off >= 2) {
        size_t len = (size_t)data[off] << 8 | data[off + 1];
        off += 2;
        if (len > size - off)
            len = size - off;
        /* Copy so reads past the datagram are caught by the sanitizer. */
        uint8_t *dgram = malloc(len ? len : 1);
        if (!dgram)
            break;
        memcpy(dgram, data + off, len);
        int ra = fk_collector_feed(a, &exporter, 4739, dgram, len);
        int rb = fk_collector_feed(b, &exporter, 4739, dgram, len);
        int rc = fk_collector_feed(c, &exporter, 4739, dgram, len);
        int rd = fk_collector_feed(d, &exporter, 4739, dgram, len);
        int re = fk_collector_feed(e, &exporter, 4739, dgram, len);
        int rg = fk_collector_feed(g, &exporter, 4739, dgram, len);
        free(dgram);
        if (ra != rb || ra != rc || ra != rd)
            abort(); /* direct decoding delivered other records */
        if (re != rg)
            abort(); /* runs of passing sets counted other records */
        off += len;
    }
    fk_collector_stats st, stb;
    fk_collector_get_stats(a, &st, sizeof st);
    fk_collector_get_stats(b, &stb, sizeof stb);
    if (st.records != sa.records)
        abort(); /* every delivered record reaches the callback */
    if (sx.records != sa.records || sx.hash != sa.hash)
        abort(); /* the batches held other records than the callback got */
    st.export_time_skewed = stb.export_time_skewed = 0; /* read against the clock */
    if (sa.records != sb.records || sa.hash != sb.hash || memcmp(&st, &stb, sizeof st) != 0)
        abort(); /* direct decoding gave other flows or counters */
    fk_collector_stats stc, std;
    fk_collector_get_stats(c, &stc, sizeof stc);
    fk_collector_get_stats(d, &std, sizeof std);
    fk_collector_destroy(a);
    fk_collector_destroy(b);
    fk_collector_destroy(c); /* the files are written out */
    fk_collector_destroy(d);
    fk_collector_stats ste, stg;
    fk_collector_get_stats(e, &ste, sizeof ste);
    fk_collector_get_stats(g, &stg, sizeof stg);
    fk_collector_destroy(e);
    fk_collector_destroy(g);
    ste.export_time_skewed = stg.export_time_skewed = 0;
    if (memcmp(&ste, &stg, sizeof ste) != 0)
        abort(); /* runs of passing sets changed the counters */
    if (ipfix_file_hash(pe) != ipfix_file_hash(pf))
        abort(); /* runs of passing sets wrote other bytes */
    remove(pe);
    remove(pf);
    stc.export_time_skewed = std.export_time_skewed = 0;
    stc.records_compiled = stc.templates_uncompiled = 0;
    if (memcmp(&stc, &std, sizeof stc) != 0)
        abort(); /* the compiled JSON writer changed the counters */
    if (file_hash(pc) != file_hash(pd))
        abort(); /* the compiled JSON writer wrote other lines */
    remove(pc);
    remove(pd);
    return 0;
}
