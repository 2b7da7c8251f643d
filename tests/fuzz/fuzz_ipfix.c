/* Fuzz the IPFIX decoder with one or more messages back to back: walk every
 * item, convert every field, normalize every record into fk_flow and JSON.
 * Then re-encode the flows with the templates seen (encoder output must always
 * decode without error) as a property check of the encoder. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <flowkit/flowkit.h>

#define MAX_TMPL 4
#define MAX_FLOWS 64

typedef struct seen {
    uint16_t id, count, scope;
    fk_field_spec *specs;
} seen;

static void reencode(seen *tm, size_t ntm, const fk_flow *flows, const uint16_t *fl_tid,
                     size_t nflows)
{
    fk_ipfix_encoder *e;
    if (fk_ipfix_encoder_create(&e, NULL) < 0)
        return;
    fk_ipfix_encoder_set_int(e, FK_IPFIX_ENC_PAD_SETS, (int64_t)(nflows & 1));
    static uint8_t buf[65535];
    if (fk_ipfix_encoder_begin(e, 1, 1, buf, sizeof buf) < 0)
        goto out;
    for (size_t i = 0; i < ntm; i++)
        if (fk_ipfix_encoder_add_template(e, tm[i].id, tm[i].specs, tm[i].count, tm[i].scope) == 0)
            fk_ipfix_encoder_write_template(e, tm[i].id);
    for (size_t i = 0; i < nflows; i++)
        fk_ipfix_encoder_add_flow(e, fl_tid[i], &flows[i]);
    size_t len;
    if (fk_ipfix_encoder_finish(e, &len) < 0)
        abort();
    fk_ipfix_decoder *d;
    if (fk_ipfix_decoder_create(&d, NULL) == 0) {
        if (fk_ipfix_decoder_begin(d, 0, buf, len, NULL) < 0)
            abort();
        fk_ipfix_item it;
        int rc;
        while ((rc = fk_ipfix_decoder_next(d, &it)) == 1) {
        }
        if (rc < 0 && rc != FK_ENOMEM)
            abort(); /* our own output must decode */
        fk_ipfix_decoder_destroy(d);
    }
out:
    fk_ipfix_encoder_destroy(e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fk_template_cache *c;
    fk_ipfix_decoder *d;
    if (fk_template_cache_create(&c, NULL) < 0)
        return 0;
    fk_template_cache_set_int(c, FK_TCACHE_MAX_TEMPLATES, 64);
    if (fk_ipfix_decoder_create(&d, c) < 0) {
        fk_template_cache_destroy(c);
        return 0;
    }
    seen tm[MAX_TMPL];
    size_t ntm = 0;
    static fk_flow flows[MAX_FLOWS];
    uint16_t fl_tid[MAX_FLOWS];
    size_t nflows = 0;
    static char json[70000];
    while (size >= 16) {
        fk_ipfix_header h;
        if (fk_ipfix_decoder_begin(d, 1, data, size, &h) < 0)
            break;
        fk_ipfix_item it;
        while (fk_ipfix_decoder_next(d, &it) == 1) {
            if (it.kind == FK_IPFIX_ITEM_TEMPLATE && ntm < MAX_TMPL) {
                uint16_t n = fk_template_get_field_count(it.tmpl);
                tm[ntm].specs = malloc(sizeof(fk_field_spec) * n);
                if (!tm[ntm].specs)
                    continue;
                for (uint16_t i = 0; i < n; i++)
                    tm[ntm].specs[i] = *fk_template_get_field(it.tmpl, i);
                tm[ntm].id = fk_template_get_id(it.tmpl);
                tm[ntm].count = n;
                tm[ntm].scope = fk_template_get_scope_count(it.tmpl);
                ntm++;
            }
            if (it.kind != FK_IPFIX_ITEM_RECORD)
                continue;
            const fk_ipfix_record *r = &it.record;
            uint16_t n = fk_template_get_field_count(r->tmpl);
            for (uint16_t i = 0; i < n; i++) {
                fk_ipfix_value v;
                if (fk_ipfix_record_get_field(r, i, &v) == 0 && v.len && v.raw[v.len - 1] == 0x5a)
                    json[0] = 0; /* touch the last octet: ASan checks the bounds */
            }
            /* every occurrence of the flow-key elements (repeated tuples) */
            static const uint16_t key_ids[] = {7, 8, 12, 27, 28};
            for (size_t k = 0; k < sizeof key_ids / sizeof key_ids[0]; k++) {
                fk_ipfix_value v;
                for (unsigned nth = 0; nth < 8; nth++)
                    if (fk_ipfix_record_find_nth_field(r, 0, key_ids[k], nth, &v) == FK_ENOTFOUND)
                        break;
            }
            fk_flow f;
            fk_ipfix_record_to_flow(r, &f);
            /* one address family per record (and per outer header), never per field */
            if ((f.src.family && f.dst.family && f.src.family != f.dst.family) ||
                (f.outer_src.family && f.outer_dst.family &&
                 f.outer_src.family != f.outer_dst.family))
                abort();
            char small[64];
            fk_ipfix_record_to_json(r, small, sizeof small);
            fk_ipfix_record_to_json(r, json, sizeof json);
            if (nflows < MAX_FLOWS) {
                flows[nflows] = f;
                fl_tid[nflows++] = r->template_id;
            }
        }
        data += h.length;
        size -= h.length;
    }
    fk_ipfix_decoder_destroy(d);
    fk_template_cache_destroy(c);
    reencode(tm, ntm, flows, fl_tid, nflows);
    for (size_t i = 0; i < ntm; i++)
        free(tm[i].specs);
    return 0;
}
