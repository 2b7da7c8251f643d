/**
 * @file alloc.h
 * @brief Replaceable memory allocator.
 *
 * All memory the library allocates goes through the allocator installed
 * here (libc malloc/realloc/free by default). Programs with their own
 * allocator, and tests that fail the Nth allocation, install one before
 * creating any handle.
 *
 * @since 0.1.0
 */
#ifndef FLOWKIT_ALLOC_H
#define FLOWKIT_ALLOC_H

#include <flowkit/common.h>

FK_BEGIN_DECLS

/**
 * A set of allocation functions. Every function receives `user`.
 * `realloc_fn(NULL, n)` must behave like `malloc_fn(n)`; `free_fn(NULL)`
 * must be a no-op. A function that fails returns NULL; the library then
 * reports `FK_ENOMEM` and leaves the handle unchanged.
 * @since 0.1.0
 */
typedef struct fk_allocator {
    void *(*malloc_fn)(size_t size, void *user);             /**< Allocate. */
    void *(*realloc_fn)(void *ptr, size_t size, void *user); /**< Resize. */
    void (*free_fn)(void *ptr, void *user);                  /**< Release. */
    void *user;                                              /**< Passed to each. */
} fk_allocator;

/**
 * Install an allocator for the whole process.
 *
 * @param allocator the functions (copied), or NULL to restore libc's.
 * @return 0, or `FK_EINVAL` if a function pointer is missing.
 * Not thread-safe: install it before any handle exists, and keep it until
 * all memory it gave out has been freed.
 * @since 0.1.0
 */
FK_API int fk_set_allocator(const fk_allocator *allocator);

FK_END_DECLS

#endif /* FLOWKIT_ALLOC_H */
