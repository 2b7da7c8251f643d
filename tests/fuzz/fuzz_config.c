/* Fuzz the config file reader of the tools (cli/common/config.c): any
 * bytes either give settings that keep the reader's promises or a
 * FILE:LINE error, never a crash, an overread or a setting from beyond a
 * refused line. Every value also goes through the one number parser. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <flowkit/flowkit.h>

#include "fkconfig.h"

static int on_setting(const char *where, const char *key, const char *value, void *user)
{
    size_t *count = user;
    (*count)++;
    /* the reader's promises (fkconfig.h) */
    if (strncmp(where, "fuzz.conf:", 10) != 0 || !*key || !*value)
        abort();
    if (strlen(key) + strlen(value) > FKCLI_CONFIG_LINE_MAX)
        abort();
    for (const char *p = key; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '_' || *p == '.'))
            abort();
    for (const char *p = value; *p; p++)
        if (*p == '#' || (*p != '\t' && (unsigned char)*p < 0x20))
            abort();
    if (value[0] == ' ' || value[0] == '\t' || value[strlen(value) - 1] == ' ')
        abort();
    int64_t i;
    double d;
    fk_param_parse_int(value, &i);
    fk_param_parse_double(value, &d);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* an exact-size copy, so reading past the end is caught by ASan */
    char *text = malloc(size ? size : 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    char err[600];
    size_t count = 0;
    err[0] = '\0';
    int rc = fkcli_config_parse("fuzz.conf", text, size, on_setting, &count, err, sizeof err);
    /* a refused text gives a message naming where, and no setting at all */
    if (rc != 0 && (count != 0 || strncmp(err, "fuzz.conf:", 10) != 0))
        abort();
    free(text);
    return 0;
}
