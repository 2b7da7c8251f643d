/* Record plans (lib/collector/recplan.h) read each integer field as the
 * 8 bytes ending where the field ends (or the record's first 8), shifted
 * and masked: no branch on the field's length. For every length 1..8 at
 * every offset, in records of 8 bytes and up, the value must be the
 * field's big-endian integer, and nothing outside the record may be read
 * (each record is its own allocation of exactly its length: ASan). A
 * record under 8 bytes gets no plan, nor a field over 16 bytes. The JSON lines written through
 * plans are compared with the fk_flow path in test_collector_direct.c. */
#include <flowkit/flowkit.h>
#include <stdlib.h>
#include <string.h>

#include "collector/recplan.h"
#include "fk_test.h"

/* paddingOctets (210) of pad bytes, octetDeltaCount (1) of len bytes,
 * paddingOctets of tail bytes. */
static int compile(uint16_t pad, uint16_t len, uint16_t tail, fk__plan **plan, fk__recplan *rp)
{
    fk_field_spec f[3];
    uint16_t n = 0;
    if (pad)
        f[n++] = (fk_field_spec){0, 210, pad, 0};
    f[n++] = (fk_field_spec){0, 1, len, 0};
    if (tail)
        f[n++] = (fk_field_spec){0, 210, tail, 0};
    assert_int_equal(fk__plan_compile(plan, f, n, 0, NULL), 0);
    return fk__recplan_compile(*plan, rp);
}

static void reads_every_length_and_offset(void **state)
{
    (void)state;
    srand(5);
    for (uint16_t len = 1; len <= 8; len++)
        for (uint16_t pad = 0; pad <= 20; pad++)
            for (uint16_t tail = 0; tail <= 9; tail++) {
                fk__plan *plan;
                fk__recplan rp;
                int why = compile(pad, len, tail, &plan, &rp);
                size_t rlen = (size_t)pad + len + tail;
                if (rlen < 8) {
                    assert_int_equal(why, FK__RECPLAN_WHY_SHORT);
                    fk__plan_free(plan);
                    continue;
                }
                assert_int_equal(why, FK__RECPLAN_OK);
                assert_int_equal(rp.record_len, rlen);
                assert_int_equal(rp.bytes.off, pad);
                assert_int_equal(rp.bytes.len, len);
                for (int r = 0; r < 20; r++) {
                    uint8_t *rec = malloc(rlen);
                    assert_non_null(rec);
                    for (size_t i = 0; i < rlen; i++)
                        rec[i] = (uint8_t)(r == 0 ? 0xff : r == 1 ? 0 : rand());
                    uint64_t want = 0;
                    for (uint16_t i = 0; i < len; i++)
                        want = want << 8 | rec[pad + i];
                    assert_true(fk__recplan_u(rec, rp.bytes) == want);
                    assert_true(fk__recplan_u(rec, rp.packets) == 0); /* absent */
                    free(rec);
                }
                fk__plan_free(plan);
            }
}

/* A field op longer than 16 bytes (no element the plans map can be, but
 * the read keeps lengths in 8 bits: 256 would become 0 and a 64-bit
 * shift) gets no plan. */
static void refuses_fields_longer_than_16(void **state)
{
    (void)state;
    fk__plan *plan;
    fk__recplan rp;
    assert_int_equal(compile(0, 8, 8, &plan, &rp), FK__RECPLAN_OK);
    for (uint16_t len = 17; len != 0 && len <= 4096; len = (uint16_t)(len * 2 - 1)) {
        plan->slot_len[FK__OP_BYTES] = len;
        assert_int_equal(fk__recplan_compile(plan, &rp), FK__RECPLAN_WHY_TOO_LONG);
    }
    plan->slot_len[FK__OP_BYTES] = 8;
    assert_int_equal(fk__recplan_compile(plan, &rp), FK__RECPLAN_OK);
    fk__plan_free(plan);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reads_every_length_and_offset),
        cmocka_unit_test(refuses_fields_longer_than_16),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
