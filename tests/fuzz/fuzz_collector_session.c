/* Fuzz the collector's session layer with the real decoders: the input is a
 * sequence of datagrams from one exporter, each prefixed by its length (2
 * bytes, big-endian). Small limits make the data-before-template buffer, the
 * template caps and the sequence tracking work hard. The same datagrams go
 * to a second collector with direct_decode off: the JSON lines of both (the
 * direct path turns plain fixed-length data sets into flows without the
 * decoder's walk) and their counters must be the same. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <flowkit/flowkit.h>

typedef struct seen {
    unsigned long records;
    unsigned long long hash; /* FNV-1a over the JSON lines, in order */
} seen;

static void on_flow(const fk_flow *f, void *user)
{
    /* Touch the record the way a sink would. */
    seen *s = user;
    char buf[FK_FLOW_JSON_MAX];
    int n = fk_flow_to_json(f, buf, sizeof buf);
    for (int i = 0; i < n; i++) {
        s->hash ^= (unsigned char)buf[i];
        s->hash *= 1099511628211ull;
    }
    s->hash ^= f->tos ^ (unsigned long long)f->src_as << 8 ^ (unsigned long long)f->dst_as << 40;
    s->hash *= 1099511628211ull;
    s->records++;
}

static fk_collector *make(int direct, seen *s)
{
    fk_collector *h;
    if (fk_collector_create(&h) != 0)
        return NULL;
    fk_collector_set_callback(h, on_flow, s);
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
    fk_collector *a = make(1, &sa), *b = make(0, &sb);
    if (!a || !b) {
        fk_collector_destroy(a);
        fk_collector_destroy(b);
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
        free(dgram);
        if (ra != rb)
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
    fk_collector_destroy(a);
    fk_collector_destroy(b);
    return 0;
}
