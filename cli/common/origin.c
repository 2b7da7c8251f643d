/* Where each setting came from (see fkorigin.h): a small array searched
 * from its end, since a tool has tens of settings. */
#include "fkorigin.h"

#include <stdlib.h>
#include <string.h>

typedef struct origin {
    char name[64];
    char where[256];
} origin;

struct fkcli_origins {
    origin *v;
    size_t n, cap;
};

fkcli_origins *fkcli_origins_new(void)
{
    return calloc(1, sizeof(fkcli_origins));
}

void fkcli_origins_free(fkcli_origins *o)
{
    if (!o)
        return;
    free(o->v);
    free(o);
}

void fkcli_origins_set(fkcli_origins *o, const char *name, const char *where)
{
    if (!o || !name || !where)
        return;
    origin *slot = NULL;
    for (size_t i = 0; i < o->n && !slot; i++)
        if (!strcmp(o->v[i].name, name))
            slot = &o->v[i];
    if (!slot) {
        if (o->n == o->cap) {
            size_t cap = o->cap ? o->cap * 2 : 32;
            origin *v = realloc(o->v, cap * sizeof *v);
            if (!v)
                return;
            o->v = v;
            o->cap = cap;
        }
        slot = &o->v[o->n++];
        snprintf(slot->name, sizeof slot->name, "%s", name);
    }
    snprintf(slot->where, sizeof slot->where, "%s", where);
}

const char *fkcli_origins_get(const fkcli_origins *o, const char *name)
{
    for (size_t i = 0; o && i < o->n; i++)
        if (!strcmp(o->v[i].name, name))
            return o->v[i].where;
    return NULL;
}

void fkcli_origins_print(FILE *out, const fkcli_origins *o, const char *name, const char *value)
{
    const char *where = fkcli_origins_get(o, name);
    if (!where)
        fprintf(out, "%s = %s  # default\n", name, value);
    else if (where[0] == '-')
        fprintf(out, "%s = %s  # command line %s\n", name, value, where);
    else
        fprintf(out, "%s = %s  # from %s\n", name, value, where);
}
