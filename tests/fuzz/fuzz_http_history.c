/* Fuzz what the console reads from ClickHouse (untrusted bytes,
 * console/src/chreply.c): a whole HTTP response (status line, headers,
 * Content-Length / chunked / until-close body), then its body as
 * TabSeparated rows whose fields go through the number and address
 * readers the history answers use. The first byte picks: even = an HTTP
 * response, odd = TabSeparated rows alone. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <flowkit/flowkit.h>

#include "chreply.h"

static void rows(char *p, size_t len)
{
    fkc_tsv t = {p, p + len};
    char *f[24];
    int n;
    while ((n = fkc_tsv_next(&t, f, 24)) > 0) {
        if (n > 24)
            abort();
        for (int i = 0; i < n; i++) {
            if (f[i] < p || f[i] > p + len)
                abort(); /* fields stay inside the buffer */
            uint64_t v;
            fk_addr a;
            (void)fkc_tsv_u64(f[i], &v);
            if (fkc_tsv_addr(f[i], &a) == 0 && a.family != 0 && a.family != 4 && a.family != 6)
                abort();
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t len = size - 1;
    char *buf = malloc(len + 1); /* the parser's room for a NUL */
    if (!buf)
        return 0;
    memcpy(buf, data + 1, len);
    if (data[0] % 2 == 0) {
        int status;
        char *body;
        size_t blen;
        if (fkc_ch_response_parse(buf, len, &status, &body, &blen) == 0) {
            if (body < buf || body + blen > buf + len || body[blen] != '\0' || status < 100 ||
                status > 999)
                abort();
            rows(body, blen);
        }
    } else {
        rows(buf, len);
    }
    free(buf);
    return 0;
}
