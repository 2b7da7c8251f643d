/* A growing list of owned strings (see fkstrlist.h). */
#include "fkstrlist.h"

#include <stdlib.h>
#include <string.h>

#include "fkcli.h"

void fkcli_strlist_add(fkcli_strlist *l, const char *s)
{
    char **n = realloc(l->v, (l->n + 1) * sizeof *n);
    if (!n)
        fkcli_fail("out of memory");
    l->v = n;
    if (!(l->v[l->n] = strdup(s)))
        fkcli_fail("out of memory");
    l->n++;
}

void fkcli_strlist_free(fkcli_strlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

void fkcli_strlist_move(fkcli_strlist *to, fkcli_strlist *from)
{
    fkcli_strlist_free(to);
    *to = *from;
    from->v = NULL;
    from->n = 0;
}
