/* Whether an IPFIX data template's records can be stored as they came (the
 * pass-through of ipfix: outputs, codec.h raw()) and what counting them
 * needs: their fixed length and where their end time lies. Decided once
 * per template definition (codec_ipfix.c keeps the plan with the
 * template).
 *
 * A template passes when its records read back from a file decode to the
 * same flows as the collector's own decoding gives: fixed-length fields
 * only; both addresses of one family or the other; an absolute end time
 * (flowEndSeconds 151 or flowEndMilliseconds 153) or one relative to the
 * export time (flowEndDeltaMicroseconds 159, kept in the file's message
 * header); no sysUpTime-relative times (21, 22) or systemInitTimeMilliseconds
 * (160), which need the exporter's options data; no NTP times (155, 156,
 * left to the decoder); none of the elements the collector reads beyond
 * the flow (process and event elements, userName 371,
 * observationTimeMilliseconds 323, the record's own origin 130, 131, 149).
 * Reverse elements (PEN 29305) are noted: the output decides.
 *
 * An options template of fixed length passes too: its sets are decoded
 * (sampling, interface names, boot time) and also stored, so that a
 * reader of the file learns the same. */
#include <flowkit/template.h>
#include <string.h>

#include "collector/codec_impl.h"
#include "core/bytes.h"

#define PEN_REVERSE 29305u

int fk__col_raw_analyze(const fk_template *t, uint32_t pen, fk__col_raw_plan *out)
{
    memset(out, 0, sizeof *out);
    if (!t)
        return 0;
    bool options = fk_template_get_scope_count(t) > 0;
    uint16_t n = fk_template_get_field_count(t);
    uint64_t h = 1469598103934665603ull; /* FNV-1a over the field specs */
    uint32_t off = 0;
    bool src4 = false, dst4 = false, src6 = false, dst6 = false, end_delta = false;
    int end_ms = -1, end_s = -1;
    for (uint16_t i = 0; i < n; i++) {
        const fk_field_spec *f = fk_template_get_field(t, i);
        if (!f || f->length == FK_VARLEN)
            return 0;
        uint32_t words[3] = {f->pen, f->id, f->length};
        for (size_t w = 0; w < 3; w++)
            for (int b = 0; b < 32; b += 8) {
                h ^= (words[w] >> b) & 0xffu;
                h *= 1099511628211ull;
            }
        if (options) {
            /* layout and length only */
        } else if (f->pen == PEN_REVERSE) {
            out->reverse = true;
        } else if (f->pen != 0) {
            if (pen && f->pen == pen)
                return 0; /* flowkit-export's process or event elements */
        } else {
            switch (f->id) {
            case 8:
                src4 = f->length == 4;
                break;
            case 12:
                dst4 = f->length == 4;
                break;
            case 27:
                src6 = f->length == 16;
                break;
            case 28:
                dst6 = f->length == 16;
                break;
            case 34:
            case 305:
                out->sampling = true;
                break;
            case 151:
                if (f->length != 4)
                    return 0;
                end_s = (int)off;
                break;
            case 153:
                if (f->length != 8)
                    return 0;
                end_ms = (int)off;
                break;
            case 159:
                end_delta = true;
                break;
            case 21:
            case 22:
            case 130:
            case 131:
            case 149:
            case 155:
            case 156:
            case 157:
            case 160:
            case 323:
            case 371:
                return 0;
            default:
                break;
            }
        }
        off += f->length;
    }
    if (off == 0 || off > 65535 - 4)
        return 0;
    out->record_len = (uint16_t)off;
    out->layout = h;
    if (options) {
        out->options = true;
        out->ok = true;
        return 0;
    }
    if (!((src4 && dst4) || (src6 && dst6)))
        return 0;
    if (end_ms >= 0) {
        out->end_kind = FK__COL_RAW_END_MS;
        out->end_off = (uint16_t)end_ms;
    } else if (end_s >= 0) {
        out->end_kind = FK__COL_RAW_END_S;
        out->end_off = (uint16_t)end_s;
    } else if (end_delta) {
        out->end_kind = FK__COL_RAW_END_NONE;
    } else {
        return 0; /* no end time the session layer could check cheaply */
    }
    out->ok = true;
    return 0;
}

uint32_t fk__col_raw_late(const fk__col_raw_plan *pl, const uint8_t *body, uint32_t records,
                          int64_t end_limit_ns)
{
    if (!end_limit_ns || pl->end_kind == FK__COL_RAW_END_NONE)
        return 0;
    uint32_t late = 0;
    const uint8_t *p = body + pl->end_off;
    if (pl->end_kind == FK__COL_RAW_END_MS) {
        /* ms * 1e6 > limit exactly when ms > floor(limit / 1e6). */
        uint64_t limit_ms = end_limit_ns < 0 ? 0 : (uint64_t)end_limit_ns / 1000000u;
        for (uint32_t i = 0; i < records; i++, p += pl->record_len)
            late += fk__get64(p) > limit_ms;
    } else {
        uint64_t limit_s = end_limit_ns < 0 ? 0 : (uint64_t)end_limit_ns / 1000000000u;
        for (uint32_t i = 0; i < records; i++, p += pl->record_len)
            late += fk__get32(p) > limit_s;
    }
    return late;
}
