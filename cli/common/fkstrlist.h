/* cli/common: a growing list of owned strings (devices, collectors,
 * listeners, outputs as the tools gather them). Uses libc only. */
#ifndef FKSTRLIST_H
#define FKSTRLIST_H

#include <stddef.h>

typedef struct fkcli_strlist {
    char **v;
    size_t n;
} fkcli_strlist;

/* A copy of s at the end of l; exits 1 when out of memory. */
void fkcli_strlist_add(fkcli_strlist *l, const char *s);
/* Free every string and the array; l is empty again. */
void fkcli_strlist_free(fkcli_strlist *l);
/* Hand the strings of `from` to `to` (freeing what `to` held); `from` is
 * empty after. */
void fkcli_strlist_move(fkcli_strlist *to, fkcli_strlist *from);

#endif
