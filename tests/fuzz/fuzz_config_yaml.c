/* Fuzz the YAML form of the tools' config files (cli/common/yaml.c, on
 * libyaml): any bytes either give settings that keep the reader's promises
 * (a dotted key of letters, digits, '_' and '.'; a non-empty value without
 * control characters; a FILE:LINE:COLUMN) or a refusal naming the file,
 * and no setting at all — never a crash, a leak or an overread. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fkconfig.h"

static int on_setting(const char *where, const char *key, const char *value, void *user)
{
    size_t *count = user;
    (*count)++;
    if (strncmp(where, "fuzz.yaml:", 10) != 0 || !*key || !*value)
        abort();
    if (strlen(value) > FKCLI_CONFIG_LINE_MAX || strlen(key) > 255)
        abort();
    for (const char *p = key; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '_' || *p == '.'))
            abort();
    for (const char *p = value; *p; p++)
        if (*p != '\t' && (unsigned char)*p < 0x20)
            abort();
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
    char err[700];
    size_t count = 0;
    err[0] = '\0';
    int rc = fkcli_config_parse_yaml("fuzz.yaml", text, size, on_setting, &count, err, sizeof err);
    if (rc != 0 && (count != 0 || strncmp(err, "fuzz.yaml:", 10) != 0))
        abort();
    (void)fkcli_config_is_yaml("fuzz.yaml", text, size);
    free(text);
    return 0;
}
