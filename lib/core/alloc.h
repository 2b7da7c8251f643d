/* Internal: every allocation of the library goes through these. They do not
 * record errors; callers report FK_ENOMEM with context. */
#ifndef FK_CORE_ALLOC_H
#define FK_CORE_ALLOC_H

#include <stddef.h>

void *fk__malloc(size_t size);
void *fk__calloc(size_t n, size_t size); /* zeroed, overflow-checked */
void *fk__realloc(void *ptr, size_t size);
void *fk__reallocarray(void *ptr, size_t n, size_t size); /* overflow-checked */
void fk__free(void *ptr);
char *fk__strdup(const char *s); /* NULL in, NULL out */

/* Allocate and zero one object of a type. */
#define FK__NEW(type) ((type *)fk__calloc(1, sizeof(type)))

#endif
