/* Fuzz the template compiler's flow-key segments (issue #22, lib/ipfix/
 * tuple.c): templates built from the elements that make a flow key (both
 * address families, ports, protocol, ICMP type, ipVersion, next hops), any
 * of them repeated in any order, and records of arbitrary bytes under them.
 * Input: byte 0 = field count (1-32); then one byte per field choosing an
 * element of the table below (bit 7: a length that does not suit the
 * element's type, bit 6: variable length); the rest is record data, split
 * into as many records as it holds. Checks, for every record: the plan
 * splits it within bounds, every occurrence of every field converts, and
 * the flow has one address family for its key and one for its outer header,
 * an outer header only with a tunnel kind and a key address, and a next
 * hop of a known family or none. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <flowkit/flowkit.h>

#include "ipfix/plan.h"

static const struct {
    uint16_t id, length;
} elements[] = {{8, 4},   {12, 4},  {27, 16}, {28, 16}, {7, 2},   {11, 2},  {4, 1},   {60, 1},
                {32, 2},  {139, 2}, {15, 4},  {62, 16}, {18, 4},  {63, 16}, {1, 8},   {2, 4},
                {152, 8}, {153, 8}, {6, 2},   {10, 4},  {14, 4},  {136, 1}, {61, 1},  {5, 1},
                {82, 0},  {1, 4},   {2, 8},   {8, 4},   {27, 16}, {12, 4},  {28, 16}, {7, 2}};

static int family_ok(const fk_addr *a)
{
    return a->family == 0 || a->family == 4 || a->family == 6;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    uint16_t n = (uint16_t)(data[0] % 32 + 1);
    if (size < 1u + n)
        return 0;
    fk_field_spec specs[32];
    memset(specs, 0, sizeof specs);
    for (uint16_t i = 0; i < n; i++) {
        uint8_t b = data[1 + i];
        size_t e = (size_t)(b & 0x3f) % (sizeof elements / sizeof elements[0]);
        specs[i].id = elements[e].id;
        specs[i].length = elements[e].length ? elements[e].length : FK_VARLEN;
        if (b & 0x40)
            specs[i].length = FK_VARLEN;
        else if (b & 0x80)
            specs[i].length = (uint16_t)(specs[i].length % 7 + 3); /* 3..9: often unfit */
    }
    fk_template *t;
    if (fk__template_new(&t, 256, specs, n, 0, NULL) != 0)
        return 0;
    const fk__plan *plan = t->plan;
    const uint8_t *p = data + 1 + n;
    size_t avail = size - 1 - n;
    uint32_t scratch[33];
    fk_ipfix_time_ctx tc = {1700000000000000000LL, 1690000000000000000LL};
    for (int records = 0; avail > 0 && records < 64; records++) {
        const uint32_t *offsets;
        size_t len;
        if (fk__plan_split(plan, p, avail, scratch, &offsets, &len) != 0)
            break;
        if (len == 0 || len > avail)
            abort();
        for (uint16_t i = 0; i < plan->nfields; i++) {
            fk_ipfix_value v;
            if (fk__plan_value(plan, p, offsets, i, &v) == 0 && v.len && v.raw &&
                (v.raw < p || v.raw + v.len > p + len))
                abort(); /* a value outside its record */
        }
        fk_flow f;
        if (fk__plan_to_flow(plan, p, offsets, &tc, &f) == 0) {
            if (!family_ok(&f.src) || !family_ok(&f.dst) || !family_ok(&f.outer_src) ||
                !family_ok(&f.outer_dst) || !family_ok(&f.next_hop) || !family_ok(&f.bgp_next_hop))
                abort();
            /* one family per pair, never one field of each */
            if (f.src.family && f.dst.family && f.src.family != f.dst.family)
                abort();
            if (f.outer_src.family && f.outer_dst.family &&
                f.outer_src.family != f.outer_dst.family)
                abort();
            /* an outer header is named, and comes with a key address */
            if ((f.outer_src.family || f.outer_dst.family) &&
                (!f.tunnel || (!f.src.family && !f.dst.family)))
                abort();
            if (f.tunnel && !f.outer_src.family && !f.outer_dst.family)
                abort();
            char json[FK_FLOW_JSON_MAX];
            if (fk_flow_to_json(&f, json, sizeof json) < 0)
                abort();
        }
        p += len;
        avail -= len;
    }
    fk__template_free(t);
    return 0;
}
