/* Fuzz the NetFlow v1/v5/v6/v7 fixed-format decoder, stateless and through a
 * session (sequence tracking). Input: one datagram. */
#include <flowkit/flowkit.h>
#include <stdint.h>
#include <string.h>

static int touch(const fk_netflow_record *rec, void *user)
{
    char buf[FK_FLOW_JSON_MAX];
    (void)user;
    /* Read every byte the record claims so out-of-bounds shows up under ASan. */
    volatile uint8_t sum = 0;
    for (size_t i = 0; i < rec->length; i++)
        sum = (uint8_t)(sum + rec->data[i]);
    (void)sum;
    if (rec->flow)
        fk_flow_to_json(rec->flow, buf, sizeof buf);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fk_flow flows[FK_NETFLOW_FIXED_MAX];
    fk_netflow_header hdr;
    size_t n = 0;
    fk_addr exp;
    memset(&exp, 0, sizeof exp);
    exp.family = 4;
    exp.bytes[3] = 1;
    /* The fixed formats only: force the version byte to 1, 5 or 7 when the
     * input is long enough, so every input exercises a fixed layout. */
    uint8_t buf[2048];
    size_t len = size < sizeof buf ? size : sizeof buf;
    memcpy(buf, data, len);
    if (len >= 2) {
        static const uint8_t versions[4] = {1, 5, 6, 7};
        buf[0] = 0;
        buf[1] = versions[buf[1] % 4];
    }
    int rc = fk_netflow_decode_fixed(buf, len, &exp, &hdr, flows, FK_NETFLOW_FIXED_MAX, &n);
    if (rc == 0)
        for (size_t i = 0; i < n; i++) {
            char json[FK_FLOW_JSON_MAX];
            fk_flow_to_json(&flows[i], json, sizeof json);
        }
    fk_netflow *h = NULL;
    if (fk_netflow_create(&h) == 0 && fk_netflow_activate(h) == 0) {
        fk_netflow_decode(h, &exp, 2055, buf, len, touch, NULL);
        fk_netflow_decode(h, &exp, 2055, buf, len, touch, NULL);
    }
    fk_netflow_destroy(h);
    return 0;
}
