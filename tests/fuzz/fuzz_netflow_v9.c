/* Fuzz the NetFlow v9 decoder with its session state. Input: a sequence of
 * datagrams, each prefixed by a 2-byte big-endian length, all from one
 * exporter, so templates learned from one datagram decode the next. */
#include <flowkit/flowkit.h>
#include <stdint.h>
#include <string.h>

static int touch(const fk_netflow_record *rec, void *user)
{
    (void)user;
    volatile uint8_t sum = 0;
    for (size_t i = 0; i < rec->length; i++)
        sum = (uint8_t)(sum + rec->data[i]);
    for (size_t i = 0; i < rec->field_count; i++) {
        const fk_netflow_field *f = &rec->fields[i];
        if ((size_t)f->offset + f->length > rec->length)
            __builtin_trap(); /* a field outside its record */
    }
    (void)sum;
    char buf[FK_FLOW_JSON_MAX > FK_NETFLOW_OPTIONS_JSON_MAX ? FK_FLOW_JSON_MAX
                                                            : FK_NETFLOW_OPTIONS_JSON_MAX];
    if (rec->flow)
        fk_flow_to_json(rec->flow, buf, sizeof buf);
    if (rec->options)
        fk_netflow_options_to_json(rec, buf, sizeof buf);
    if (rec->ipfix) {
        /* The IPFIX view of the record: JSON by IANA name and fk_flow. */
        static char big[65536];
        fk_flow f;
        fk_ipfix_record_to_json(rec->ipfix, big, sizeof big);
        fk_ipfix_record_to_flow(rec->ipfix, &f);
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fk_netflow *h = NULL;
    if (fk_netflow_create(&h) || fk_netflow_set_int(h, FK_NETFLOW_MAX_TEMPLATES, 64) ||
        fk_netflow_activate(h)) {
        fk_netflow_destroy(h);
        return 0;
    }
    fk_addr exp;
    memset(&exp, 0, sizeof exp);
    exp.family = 6;
    exp.bytes[15] = 1;
    size_t off = 0;
    while (size - off >= 2) {
        size_t len = (size_t)data[off] << 8 | data[off + 1];
        off += 2;
        if (len > size - off)
            len = size - off;
        fk_netflow_decode(h, &exp, 9995, data + off, len, touch, NULL);
        off += len;
    }
    char name[FK_NETFLOW_NAME_MAX];
    uint32_t iv;
    fk_netflow_get_interface_name(h, &exp, 9995, 0, 1, name, sizeof name);
    fk_netflow_get_sampling(h, &exp, 9995, 0, 0, &iv);
    fk_netflow_destroy(h);
    return 0;
}
