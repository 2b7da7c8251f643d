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
 * the same bytes, and the counters the same. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <flowkit/flowkit.h>

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

/* s: a callback; else the output `path`. */
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

static fk_collector *make(int direct, seen *s, const char *path)
{
    fk_collector *h;
    if (fk_collector_create(&h) != 0)
        return NULL;
    if (s) {
        fk_collector_set_callback(h, on_flow, s);
    } else {
        char uri[128];
        snprintf(uri, sizeof uri, "jsonl:%s", path);
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
    if (fk_collector_activate(h) != 0) {
        fk_collector_destroy(h);
        return NULL;
    }
    return h;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    seen sa = {0, 1469598103934665603ull}, sb = sa;
    static char pc[64], pd[64];
    if (!pc[0]) {
        snprintf(pc, sizeof pc, "/tmp/fuzz_collector_session.%ld.c.jsonl", (long)getpid());
        snprintf(pd, sizeof pd, "/tmp/fuzz_collector_session.%ld.d.jsonl", (long)getpid());
    }
    remove(pc); /* the outputs append */
    remove(pd);
    fk_collector *a = make(1, &sa, NULL), *b = make(0, &sb, NULL);
    fk_collector *c = make(1, NULL, pc), *d = make(0, NULL, pd);
    if (!a || !b || !c || !d) {
        fk_collector_destroy(a);
        fk_collector_destroy(b);
        fk_collector_destroy(c);
        fk_collector_destroy(d);
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
        free(dgram);
        if (ra != rb || ra != rc || ra != rd)
            abort(); /* direct decoding delivered other records */
        off += len;
    }
    fk_collector_stats st, stb;
    fk_collector_get_stats(a, &st, sizeof st);
    fk_collector_get_stats(b, &stb, sizeof stb);
    if (st.records != sa.records)
        abort(); /* every delivered record reaches the callback */
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
