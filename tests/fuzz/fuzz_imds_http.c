/* Fuzz the IMDS provider's HTTP response parser and its JSON member reader
 * (cli/common/httpresp.c): any bytes, offered whole and as a growing
 * prefix (as recv() hands them over), either parse into a response whose
 * body lies inside the buffer, ask for more, or are refused with a reason;
 * never a crash or a read beyond the buffer. The first byte picks eof.
 * A body that parses is also read as an identity document. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fkhttp.h"

static void check(const uint8_t *data, size_t size, bool eof)
{
    char *buf = malloc(size ? size : 1);
    if (!buf)
        return;
    memcpy(buf, data, size);
    fkhttp_response r;
    const char *why = NULL;
    int rc = fkhttp_response_parse(buf, size, eof, &r, &why);
    if (rc == FKHTTP_BAD && (!why || !*why))
        abort();
    if (rc == FKHTTP_DONE) {
        if (r.status < 200 || r.status > 999 || r.head_len > size || r.body < buf ||
            r.body + r.body_len > buf + size || r.body_len > size - r.head_len)
            abort();
        char out[129];
        int n = fkhttp_json_get_string(r.body, r.body_len, "accountId", out, sizeof out);
        if (n >= 0 && ((size_t)n >= sizeof out || strlen(out) != (size_t)n))
            abort();
    }
    free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    bool eof = data[0] & 1;
    data++;
    size--;
    check(data, size, eof);
    /* as recv() may cut it: a few prefixes */
    for (size_t cut = 1; cut < size; cut += 1 + size / 7)
        check(data, cut, false);
    /* the bytes as a JSON document on their own */
    char out[64];
    (void)fkhttp_json_get_string((const char *)data, size, "accountId", out, sizeof out);
    return 0;
}
