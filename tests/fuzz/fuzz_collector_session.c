/* Fuzz the collector's session layer with the real decoders: the input is a
 * sequence of datagrams from one exporter, each prefixed by its length (2
 * bytes, big-endian). Small limits make the data-before-template buffer, the
 * template caps and the sequence tracking work hard. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <flowkit/flowkit.h>

static void on_flow(const fk_flow *f, void *user)
{
    /* Touch the record the way a sink would. */
    char buf[FK_FLOW_JSON_MAX];
    fk_flow_to_json(f, buf, sizeof buf);
    (*(unsigned long *)user)++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fk_collector *h;
    if (fk_collector_create(&h) != 0)
        return 0;
    unsigned long records = 0;
    fk_collector_set_callback(h, on_flow, &records);
    fk_collector_set_int(h, FK_COL_PENDING_BYTES, 4096);
    fk_collector_set_int(h, FK_COL_MAX_TEMPLATES, 16);
    fk_collector_set_int(h, FK_COL_MAX_EXPORTERS, 4);
    fk_collector_set_int(h, FK_COL_MAX_INTERFACES, 2);
    if (fk_collector_activate(h) != 0) {
        fk_collector_destroy(h);
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
        fk_collector_feed(h, &exporter, 4739, dgram, len);
        free(dgram);
        off += len;
    }
    fk_collector_stats st;
    fk_collector_get_stats(h, &st, sizeof st);
    if (st.records != records)
        abort(); /* every delivered record reaches the callback */
    fk_collector_destroy(h);
    return 0;
}
