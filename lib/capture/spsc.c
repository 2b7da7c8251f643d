#include "capture/spsc.h"

#include <stdint.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"

int fk__spsc_init(fk__spsc *r, size_t min_slots, size_t slot_size)
{
    memset(r, 0, sizeof *r);
    if (min_slots == 0 || slot_size == 0 || min_slots > ((size_t)1 << 30) ||
        slot_size > ((size_t)1 << 20))
        return fk__error(FK_EINVAL, "ring: invalid size %zu x %zu", min_slots, slot_size);
    size_t cap = 2;
    while (cap < min_slots)
        cap <<= 1;
    slot_size = (slot_size + 15u) & ~(size_t)15u;
    if (cap > SIZE_MAX / slot_size)
        return fk__error(FK_EINVAL, "ring: %zu slots of %zu bytes overflow", cap, slot_size);
    r->slots = fk__calloc(cap, slot_size);
    if (!r->slots)
        return fk__error(FK_ENOMEM, "ring: out of memory for %zu slots of %zu bytes", cap,
                         slot_size);
    r->mask = cap - 1;
    r->slot_size = slot_size;
    atomic_init(&r->head, 0);
    atomic_init(&r->tail, 0);
    return 0;
}

void fk__spsc_free(fk__spsc *r)
{
    fk__free(r->slots);
    r->slots = NULL;
}

size_t fk__spsc_capacity(const fk__spsc *r)
{
    return r->mask + 1;
}

void *fk__spsc_reserve(fk__spsc *r)
{
    size_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
    if (head - r->tail_cache > r->mask) {
        r->tail_cache = atomic_load_explicit(&r->tail, memory_order_acquire);
        if (head - r->tail_cache > r->mask)
            return NULL;
    }
    return r->slots + (head & r->mask) * r->slot_size;
}

void fk__spsc_commit(fk__spsc *r)
{
    size_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
    atomic_store_explicit(&r->head, head + 1, memory_order_release);
}

void *fk__spsc_peek(fk__spsc *r)
{
    size_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
    if (tail == r->head_cache) {
        r->head_cache = atomic_load_explicit(&r->head, memory_order_acquire);
        if (tail == r->head_cache)
            return NULL;
    }
    return r->slots + (tail & r->mask) * r->slot_size;
}

void fk__spsc_release(fk__spsc *r)
{
    size_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
    atomic_store_explicit(&r->tail, tail + 1, memory_order_release);
}

size_t fk__spsc_count(fk__spsc *r)
{
    size_t head = atomic_load_explicit(&r->head, memory_order_acquire);
    size_t tail = atomic_load_explicit(&r->tail, memory_order_acquire);
    return head - tail;
}
