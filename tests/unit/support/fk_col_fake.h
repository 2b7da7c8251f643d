/* A fake codec for the collector's session layer, and builders for the
 * messages it understands. Messages have real IPFIX / NetFlow v9 / v5
 * headers and set framing; only the set bodies use a toy format:
 *   template set body: records of [template id u16][record length u16]
 *                      (length 0 = withdrawal of that id)
 *   data set body:     records of `record length` bytes; the first 4 bytes
 *                      of each are the flow's byte count, the next 4 (if any)
 *                      its sampling interval, applied as options-less data.
 *   v5 (fixed):        header count field = records emitted.
 * Shared by test_collector_*.c and the collector fuzz target. */
#ifndef FK_COL_FAKE_H
#define FK_COL_FAKE_H

#include <stddef.h>
#include <stdint.h>

#include "collector/codec.h"

extern const fk__col_codec fk_col_fake_codec;
/* Domain states alive right now (leak checks). */
long fk_col_fake_live_domains(void);

/* Message builder. */
typedef struct fk_col_msg {
    uint8_t buf[65536];
    size_t len;
    size_t set_start; /* offset of the open set, 0 if none */
    uint16_t version;
} fk_col_msg;

void fk_col_msg_ipfix(fk_col_msg *m, uint32_t odid, uint32_t seq);
void fk_col_msg_v9(fk_col_msg *m, uint32_t source_id, uint32_t seq);
void fk_col_msg_v5(fk_col_msg *m, uint32_t flow_seq, uint16_t count, uint8_t engine_id);
void fk_col_set_begin(fk_col_msg *m, uint16_t set_id);
void fk_col_put16(fk_col_msg *m, uint16_t v);
void fk_col_put32(fk_col_msg *m, uint32_t v);
void fk_col_set_end(fk_col_msg *m);
/* Template (or withdrawal when reclen = 0) in its own set. */
void fk_col_add_template(fk_col_msg *m, uint16_t tid, uint16_t reclen);
/* A data set of n records of reclen bytes carrying bytes_each (and sampling if reclen >= 8). */
void fk_col_add_data(fk_col_msg *m, uint16_t tid, uint16_t reclen, unsigned n, uint32_t bytes_each,
                     uint32_t sampling);
/* Patch the IPFIX length field (call last). */
void fk_col_msg_finish(fk_col_msg *m);

#endif
