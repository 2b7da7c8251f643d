/* Deliberately broken public header: tests/check_names.py --expect must
 * report each rule below exactly (ctest symbols/api_names_rejects). */
#include <stddef.h>

/** @since 0.2.0 */
typedef struct fk_bad fk_bad;
/** @since 0.2.0 */
typedef struct fk_bad_stats {
    unsigned long long packets; /**< counter */
} fk_bad_stats;

/** @since 0.2.0 */
FK_API int fk_bad_create(fk_bad **out);
/** @since 0.2.0 */
FK_API void fk_bad_destroy(fk_bad *h);

/** verb: a noun where a verb belongs. @since 0.2.0 */
FK_API size_t fk_bad_count(const fk_bad *h);
/** verb: the old getter order. @since 0.2.0 */
FK_API int fk_bad_stats_get(const fk_bad *h, fk_bad_stats *out, size_t size);
/** free. @since 0.2.0 */
FK_API void fk_bad_get_free(fk_bad *h);
/** cb-name and cb-user: user first, named _fn. @since 0.2.0 */
typedef void (*fk_bad_fn)(void *user, int event);
/** @since 0.2.0 */
typedef void (*fk_bad_event_cb)(int event, void *user);
/** cb-pair: user before the callback. @since 0.2.0 */
FK_API int fk_bad_set_callback(fk_bad *h, void *user, fk_bad_event_cb cb);
/** handle-first. @since 0.2.0 */
FK_API int fk_bad_get_int(int param, const fk_bad *h);
/** outputs-last. @since 0.2.0 */
FK_API int fk_bad_find(fk_bad *h, int *out, int key);
/** sized. @since 0.2.0 */
FK_API int fk_bad_get_stats(const fk_bad *h, fk_bad_stats *out);
/** event-loop: the fd through an output. @since 0.2.0 */
FK_API int fk_bad_fd(const fk_bad *h, int *fd);
/** @since 0.2.0 */
FK_API int fk_bad_next_timeout_ms(const fk_bad *h);
/**
 * param-doc: documented out of order.
 * @param key the key.
 * @param h the handle.
 * @since 0.2.0
 */
FK_API int fk_bad_drop(fk_bad *h, int key);
/** since: no version tag here. */
FK_API int fk_bad_activate(fk_bad *h);
