/* Internal: bounded single-producer single-consumer ring of fixed-size slots.
 *
 * One thread produces (reserve + commit), one thread consumes (peek +
 * release). Capacity is a power of two. No allocation after create, no lock:
 * head and tail are atomics on separate cache lines, each side caches the
 * other's index to touch the shared line only when it looks full/empty. */
#ifndef FK_CAPTURE_SPSC_H
#define FK_CAPTURE_SPSC_H

#include <stdatomic.h>
#include <stddef.h>

typedef struct fk__spsc {
    _Alignas(64) atomic_size_t head; /* next slot the producer writes */
    size_t tail_cache;               /* producer's copy of tail */
    _Alignas(64) atomic_size_t tail; /* next slot the consumer reads */
    size_t head_cache;               /* consumer's copy of head */
    _Alignas(64) size_t mask;        /* capacity - 1 */
    size_t slot_size;                /* bytes per slot, multiple of 16 */
    unsigned char *slots;
} fk__spsc;

/* Capacity is min_slots rounded up to a power of two (>= 2). FK_ENOMEM,
 * FK_EINVAL (0 slots, slot_size 0, too large). */
int fk__spsc_init(fk__spsc *r, size_t min_slots, size_t slot_size);
void fk__spsc_free(fk__spsc *r);

size_t fk__spsc_capacity(const fk__spsc *r);

/* Producer: a free slot to fill, or NULL when the ring is full. */
void *fk__spsc_reserve(fk__spsc *r);
/* Producer: publish the slot returned by the last reserve. */
void fk__spsc_commit(fk__spsc *r);

/* Consumer: the oldest published slot, or NULL when empty. */
void *fk__spsc_peek(fk__spsc *r);
/* Consumer: give the slot returned by the last peek back. */
void fk__spsc_release(fk__spsc *r);

/* Either side: number of published, unreleased slots (approximate while
 * the other side runs). */
size_t fk__spsc_count(fk__spsc *r);

#endif
