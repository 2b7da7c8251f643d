/* Fuzz the text forms the library accepts from users and config files:
 * parameter values (by type) and addresses. Input: "name\0value". */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <flowkit/flowkit.h>

#include "core/params.h"

static const fk_param_info table[] = {
    {1, "n", FK_PARAM_INT, 0, -5, 1000000, 1, 0, 0, 0, NULL, "", ""},
    {2, "b", FK_PARAM_BOOL, 0, 0, 1, 0, 0, 0, 0, NULL, "", ""},
    {3, "d", FK_PARAM_DOUBLE, 0, 0, 0, 0, -1.0, 1e9, 0, NULL, "", ""},
    {4, "s", FK_PARAM_STRING, 0, 0, 0, 0, 0, 0, 0, "x", "", ""},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    const char *value = memchr(text, '\0', size) ? text + strlen(text) + 1 : "";
    if (value > text + size)
        value = "";
    fk__params p;
    if (fk__params_init(&p, "fuzz", table, 4) == 0) {
        fk__params_set_text(&p, text, value);
        fk__params_free(&p);
    }
    fk_addr a;
    char buf[FK_ADDR_STRLEN];
    if (fk_addr_parse(text, &a) == 0)
        fk_addr_format(&a, buf, sizeof buf);
    free(text);
    return 0;
}
