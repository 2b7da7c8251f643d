/* Interop helper header (included by the libfixbuf readers in this folder,
 * not part of flowkit): libfixbuf's information model with flowkit's
 * enterprise elements (docs/exporter-elements.md: processId 1, processName
 * 2, processExecutable 4, userId 5, sessionEventKind 10) added under PEN,
 * so libfixbuf itself decodes flowkit's process fields and session events. */
#ifndef FK_TEST_FIXBUF_FLOWKIT_MODEL_H
#define FK_TEST_FIXBUF_FLOWKIT_MODEL_H

#include <fixbuf/public.h>
#include <stdint.h>

static fbInfoModel_t *fk_fixbuf_flowkit_model(uint32_t pen)
{
    fbInfoModel_t *model = fbInfoModelAlloc();
    fbInfoElement_t extra[] = {
        FB_IE_INIT_FULL("processId", 0, 1, 4, FB_IE_IDENTIFIER | FB_IE_F_ENDIAN, 0, 0, FB_UINT_32,
                        NULL),
        FB_IE_INIT_FULL("processName", 0, 2, FB_IE_VARLEN, FB_IE_DEFAULT, 0, 0, FB_STRING, NULL),
        FB_IE_INIT_FULL("processExecutable", 0, 4, FB_IE_VARLEN, FB_IE_DEFAULT, 0, 0, FB_STRING,
                        NULL),
        FB_IE_INIT_FULL("userId", 0, 5, 4, FB_IE_IDENTIFIER | FB_IE_F_ENDIAN, 0, 0, FB_UINT_32,
                        NULL),
        FB_IE_INIT_FULL("sessionEventKind", 0, 10, 1, FB_IE_IDENTIFIER | FB_IE_F_ENDIAN, 0, 0,
                        FB_UINT_8, NULL),
        FB_IE_NULL};
    for (size_t i = 0; extra[i].ref.name; i++)
        extra[i].ent = pen;
    fbInfoModelAddElementArray(model, extra);
    return model;
}

#endif
