/* FLOWKIT_* environment variables as settings (see fkconfig.h). */
#include "fkconfig.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

extern char **environ;

static const char prefix[] = "FLOWKIT_";

/* The setting key of one FLOWKIT_NAME=VALUE entry into key[128]: NAME
 * lowercased, "SECTION_" turned into "SECTION.". NULL when the entry is
 * not one of ours or its name is empty or too long; else the value. */
static const char *env_key(const char *entry, const char *const *sections, char key[128])
{
    if (strncmp(entry, prefix, sizeof prefix - 1) != 0)
        return NULL;
    const char *name = entry + sizeof prefix - 1;
    const char *eq = strchr(name, '=');
    if (!eq || eq == name || (size_t)(eq - name) >= 128)
        return NULL;
    size_t n = (size_t)(eq - name);
    for (size_t i = 0; i < n; i++)
        key[i] = (char)tolower((unsigned char)name[i]);
    key[n] = '\0';
    /* FLOWKIT_EXPORTER_MTU: the handle's name, then the parameter */
    for (const char *const *s = sections; s && *s; s++) {
        size_t l = strlen(*s);
        if (n > l + 1 && !strncmp(key, *s, l) && key[l] == '_') {
            key[l] = '.';
            break;
        }
    }
    return eq + 1;
}

int fkcli_config_env(const char *const *sections, fkcli_config_known_fn known, fkcli_config_cb cb,
                     void *user)
{
    for (char **e = environ; e && *e; e++) {
        char key[128];
        const char *value = env_key(*e, sections, key);
        if (!value || !known(key, user))
            continue; /* another tool's variable, or not a setting */
        char where[160];
        snprintf(where, sizeof where, "env %.*s", (int)(value - 1 - *e), *e);
        int rc = cb(where, key, value, user);
        if (rc != 0)
            return rc;
    }
    return 0;
}

void fkcli_config_env_print_ignored(FILE *out, const char *tool, const char *const *sections,
                                    fkcli_config_known_fn known, void *user)
{
    for (char **e = environ; e && *e; e++) {
        char key[128];
        const char *value = env_key(*e, sections, key);
        if (value && !known(key, user))
            fprintf(out, "# ignored: env %.*s (not a setting of %s)\n", (int)(value - 1 - *e), *e,
                    tool);
    }
}
