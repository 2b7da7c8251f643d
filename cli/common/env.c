/* FLOWKIT_* environment variables as settings (see fkconfig.h). */
#include "fkconfig.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

extern char **environ;

int fkcli_config_env(const char *const *sections, fkcli_config_known_fn known, fkcli_config_cb cb,
                     void *user)
{
    static const char prefix[] = "FLOWKIT_";
    for (char **e = environ; e && *e; e++) {
        if (strncmp(*e, prefix, sizeof prefix - 1) != 0)
            continue;
        const char *name = *e + sizeof prefix - 1;
        const char *eq = strchr(name, '=');
        if (!eq || eq == name || (size_t)(eq - name) >= 128)
            continue;
        char key[128];
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
        if (!known(key, user))
            continue; /* another tool's variable, or not a setting */
        char where[160];
        snprintf(where, sizeof where, "env %.*s", (int)(eq - *e), *e);
        int rc = cb(where, key, eq + 1, user);
        if (rc != 0)
            return rc;
    }
    return 0;
}
