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
#include "fuzz_dgrams.h"

#define FNV_BASIS 1469598103934665603ull

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

/* FNV-1a of a file's bytes (that of no bytes when there is no file: an
 * output opens its file at its first record). */
static unsigned long long file_hash(const char *path)
{
    unsigned long long h = FNV_BASIS;
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
    unsigned long long h = FNV_BASIS;
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

/* The collectors, in pairs whose two must agree, the first with direct
 * decoding (or runs) on, the second with it off: callbacks, jsonl: files
 * (record plans), ipfix: files (the pass-through's runs). */
enum { CB_ON, CB_OFF, JSONL_ON, JSONL_OFF, IPFIX_RUNS, IPFIX_SETS, NCOL };
static const struct {
    int direct;
    bool runs;       /* ipfix: files: runs, or set by set */
    const char *out; /* NULL: a callback; else the output file's suffix */
} setups[NCOL] = {
    {1, true, NULL},      {0, true, NULL},      {1, true, "c.jsonl"},
    {0, true, "d.jsonl"}, {1, true, "e.ipfix"}, {1, false, "f.ipfix"},
};

/* s: the callback's record (sx: the batches', when given). */
static fk_collector *make(int i, seen *s, seen *sx, const char *path)
{
    fk_collector *h;
    if (fk_collector_create(&h) != 0)
        return NULL;
    if (!setups[i].out) {
        fk_collector_set_callback(h, on_flow, s);
        if (sx)
            fk_collector_set_batch_callback(h, on_batch, sx);
    } else {
        char uri[128];
        bool ipfix = strstr(setups[i].out, ".ipfix") != NULL;
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
    fk_collector_set_int(h, FK_COL_DIRECT_DECODE, setups[i].direct);
    fk__collector_raw_runs(h, setups[i].runs);
    if (fk_collector_activate(h) != 0) {
        fk_collector_destroy(h);
        return NULL;
    }
    return h;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    seen got[2] = {{0, FNV_BASIS}, {0, FNV_BASIS}}; /* of CB_ON, CB_OFF */
    seen batched = {0, FNV_BASIS};                  /* CB_ON's batches */
    char path[NCOL][64] = {{0}};
    fk_collector *h[NCOL] = {0};
    bool made = true;
    for (int i = 0; i < NCOL; i++) {
        if (setups[i].out) {
            snprintf(path[i], sizeof path[i], "/tmp/fuzz_collector_session.%ld.%s", (long)getpid(),
                     setups[i].out);
            remove(path[i]); /* the outputs append */
        }
        h[i] = make(i, i < 2 ? &got[i] : NULL, i == CB_ON ? &batched : NULL, path[i]);
        made = made && h[i];
    }
    if (!made) {
        for (int i = 0; i < NCOL; i++)
            fk_collector_destroy(h[i]);
        return 0;
    }
    fk_addr exporter;
    fk_addr_parse("192.0.2.1", &exporter);
    for (size_t off = 0, len; fuzz_dgram_next(data, size, &off, &len); off += len) {
        /* Copy so reads past the datagram are caught by the sanitizer. */
        uint8_t *dgram = malloc(len ? len : 1);
        if (!dgram)
            break;
        memcpy(dgram, data + off, len);
        int r[NCOL];
        for (int i = 0; i < NCOL; i++)
            r[i] = fk_collector_feed(h[i], &exporter, 4739, dgram, len);
        free(dgram);
        if (r[CB_ON] != r[CB_OFF] || r[CB_ON] != r[JSONL_ON] || r[CB_ON] != r[JSONL_OFF])
            abort(); /* direct decoding delivered other records */
        if (r[IPFIX_RUNS] != r[IPFIX_SETS])
            abort(); /* runs of passing sets counted other records */
    }
    fk_collector_stats st[NCOL];
    for (int i = 0; i < NCOL; i++) {
        fk_collector_get_stats(h[i], &st[i], sizeof st[i]);
        st[i].export_time_skewed = 0; /* read against the clock */
        fk_collector_destroy(h[i]);   /* the files are written out */
    }
    if (st[CB_ON].records != got[0].records)
        abort(); /* every delivered record reaches the callback */
    if (batched.records != got[0].records || batched.hash != got[0].hash)
        abort(); /* the batches held other records than the callback got */
    if (got[0].records != got[1].records || got[0].hash != got[1].hash ||
        memcmp(&st[CB_ON], &st[CB_OFF], sizeof st[0]) != 0)
        abort(); /* direct decoding gave other flows or counters */
    if (memcmp(&st[IPFIX_RUNS], &st[IPFIX_SETS], sizeof st[0]) != 0)
        abort(); /* runs of passing sets changed the counters */
    if (ipfix_file_hash(path[IPFIX_RUNS]) != ipfix_file_hash(path[IPFIX_SETS]))
        abort(); /* runs of passing sets wrote other bytes */
    st[JSONL_ON].records_compiled = st[JSONL_ON].templates_uncompiled = 0;
    if (memcmp(&st[JSONL_ON], &st[JSONL_OFF], sizeof st[0]) != 0)
        abort(); /* the compiled JSON writer changed the counters */
    if (file_hash(path[JSONL_ON]) != file_hash(path[JSONL_OFF]))
        abort(); /* the compiled JSON writer wrote other lines */
    for (int i = 0; i < NCOL; i++)
        if (setups[i].out)
            remove(path[i]);
    return 0;
}
