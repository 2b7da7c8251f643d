#include "core/alloc.h"

#include <flowkit/alloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"

static void *libc_malloc(size_t size, void *user)
{
    (void)user;
    return malloc(size);
}

static void *libc_realloc(void *ptr, size_t size, void *user)
{
    (void)user;
    return realloc(ptr, size);
}

static void libc_free(void *ptr, void *user)
{
    (void)user;
    free(ptr);
}

/* Process-wide allocator: set once at start-up (see alloc.h). */
static fk_allocator current = {libc_malloc, libc_realloc, libc_free, NULL};

int fk_set_allocator(const fk_allocator *allocator)
{
    if (allocator == NULL) {
        current = (fk_allocator){libc_malloc, libc_realloc, libc_free, NULL};
        return FK_OK;
    }
    if (!allocator->malloc_fn || !allocator->realloc_fn || !allocator->free_fn)
        return fk__error(FK_EINVAL, "fk_set_allocator: every function pointer must be set");
    current = *allocator;
    return FK_OK;
}

void *fk__malloc(size_t size)
{
    return current.malloc_fn(size ? size : 1, current.user);
}

void *fk__calloc(size_t n, size_t size)
{
    if (size != 0 && n > SIZE_MAX / size)
        return NULL;
    size_t total = n * size;
    /* libc's calloc gets large blocks as fresh zero pages from the kernel:
     * no pass over them, and no memory used until it is written (the
     * store's tables of ~100 MB were zeroed at start-up, 0.3-0.9 s) */
    if (current.malloc_fn == libc_malloc)
        return calloc(1, total ? total : 1);
    void *p = fk__malloc(total);
    if (p)
        memset(p, 0, total ? total : 1);
    return p;
}

void *fk__realloc(void *ptr, size_t size)
{
    return current.realloc_fn(ptr, size ? size : 1, current.user);
}

void *fk__reallocarray(void *ptr, size_t n, size_t size)
{
    if (size != 0 && n > SIZE_MAX / size)
        return NULL;
    return fk__realloc(ptr, n * size);
}

void fk__free(void *ptr)
{
    if (ptr)
        current.free_fn(ptr, current.user);
}

char *fk__strdup(const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    char *d = fk__malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}
