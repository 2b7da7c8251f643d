/* Versioned caller-allocated structs (docs/conventions.md, "Struct
 * versions"): the caller passes sizeof its struct, which may be older
 * (shorter) or newer (longer) than the library's. */
#ifndef FK_CORE_SIZED_H
#define FK_CORE_SIZED_H

#include <stddef.h>
#include <string.h>

/* Copy the library's struct @p src (@p ours bytes) into the caller's @p dst
 * of @p size bytes: never more than @p size, and zeros past @p ours. */
static inline void fk__copy_sized(void *dst, size_t size, const void *src, size_t ours)
{
    if (size <= ours) {
        memcpy(dst, src, size);
    } else {
        memcpy(dst, src, ours);
        memset((char *)dst + ours, 0, size - ours);
    }
}

#endif
