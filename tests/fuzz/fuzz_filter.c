/* Fuzz the flow filter compiler (flowkit/filter.h): any text either compiles
 * or fails with FK_EFILTER and an offset inside the text; a compiled filter
 * runs on a few fixed flows. Input: the expression text. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <flowkit/flowkit.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    fk_filter *f = NULL;
    size_t at = (size_t)-1;
    int rc = fk_filter_compile(text, &f, &at);
    if (rc == 0) {
        fk_flow fl[3];
        memset(fl, 0, sizeof fl);
        fk_addr_parse("10.1.2.3", &fl[0].src);
        fk_addr_parse("192.0.2.1", &fl[0].dst);
        fl[0].proto = 6;
        fl[0].src_port = 40000;
        fl[0].dst_port = 443;
        fl[0].bytes = 1500;
        fl[0].packets = 3;
        fl[0].tcp_flags = 0x12;
        fk_addr_parse("2001:db8::1", &fl[1].src);
        fk_addr_parse("2001:db8::2", &fl[1].dst);
        fl[1].proto = 17;
        fl[1].dst_port = 53;
        fl[2].proto = 1;
        fl[2].dst_port = 0x0800;
        int m = 0;
        for (int i = 0; i < 3; i++)
            m += fk_filter_match(f, &fl[i]);
        if (m < 0 || m > 3)
            abort();
        fk_filter_destroy(f);
    } else if (rc == FK_EFILTER && at > size) {
        abort(); /* the error position must lie inside the text */
    }
    free(text);
    return 0;
}
