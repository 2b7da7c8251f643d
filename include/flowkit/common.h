/**
 * @file common.h
 * @brief Definitions shared by every flowkit header: export macros, C++
 *        linkage guards and the fixed-width integer types.
 *
 * Every function in the library returns an `int` status (0 on success, a
 * negative ::fk_status code on failure) unless its documentation says
 * otherwise; details of the last failure on the calling thread are kept in
 * fk_error_last().
 *
 * @since 0.1.0
 */
#ifndef FLOWKIT_COMMON_H
#define FLOWKIT_COMMON_H

#include <stddef.h>
#include <stdint.h>

/** @cond FK_INTERNAL */
#if defined(FK_BUILDING_LIBRARY) && defined(__GNUC__)
#define FK_API __attribute__((visibility("default")))
#else
#define FK_API
#endif

#ifdef __cplusplus
#define FK_BEGIN_DECLS extern "C" {
#define FK_END_DECLS }
#else
#define FK_BEGIN_DECLS
#define FK_END_DECLS
#endif
/** @endcond */

#endif /* FLOWKIT_COMMON_H */
