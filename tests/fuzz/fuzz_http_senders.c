/* Fuzz the senders registry's untrusted inputs: the body of PUT/DELETE
 * /senders/IP (console/src/senders_body.c), the text of a --senders file
 * (fk_senders_parse), and the X-Io-Sign value (hex HMAC-SHA256). What parses
 * is applied to a registry, matched and rendered back as JSON. The first
 * byte picks the input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <flowkit/flowkit.h>

#include "hmac.h"
#include "senders_body.h"

static void render(fk_senders *s)
{
    size_t size = fk_senders_json_size(s);
    char *buf = malloc(size);
    if (!buf)
        return;
    if (fk_senders_to_json(s, NULL, buf, size) < 0)
        abort(); /* the size it gave must suffice */
    free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    fk_senders *s;
    if (fk_senders_create(&s) != 0)
        return 0;
    if (data[0] % 3 == 0) {
        static char prefixes[FK_SENDERS_PREFIXES_MAX][FKC_PREFIX_TEXT_MAX];
        size_t n = 0;
        char err[160];
        if (fkc_senders_body_parse(text, len, prefixes, FK_SENDERS_PREFIXES_MAX, &n, err,
                                   sizeof err) == 0) {
            if (n > FK_SENDERS_PREFIXES_MAX)
                abort();
            for (size_t i = 0; i < n; i++) {
                if (!memchr(prefixes[i], '\0', FKC_PREFIX_TEXT_MAX))
                    abort();
                fk_senders_add_prefix(s, "192.0.2.1", prefixes[i]);
            }
        }
    } else if (data[0] % 3 == 1) {
        size_t line = 0;
        if (fk_senders_parse(s, text, len, &line) != 0 && line == 0)
            abort(); /* an error names its line */
    } else {
        char hex[80];
        size_t n = len < sizeof hex - 1 ? len : sizeof hex - 1;
        memcpy(hex, text, n);
        hex[n] = '\0';
        (void)fkc_hmac_sha256_check("key", 3, text, len, hex);
    }
    fk_flow f;
    memset(&f, 0, sizeof f);
    fk_addr_parse("10.1.2.3", &f.src);
    fk_addr_parse("2001:db8::1", &f.dst);
    fk_addr from;
    fk_addr_parse("192.0.2.1", &from);
    (void)fk_senders_match(s, &from, &f);
    render(s);
    fk_senders_destroy(s);
    return 0;
}
