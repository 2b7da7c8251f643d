/* Internal: the store's lock. Every call into an activated store takes it
 * once, and the collector calls fk_store_add_flow() per record, where a
 * pthread mutex's lock and unlock cost ~57 instructions (callgrind): about
 * what the rest of the add path spends on a record. This one is the
 * three-state futex mutex (0 free, 1 locked, 2 locked with waiters; U.
 * Drepper, "Futexes Are Tricky", 2011): uncontended, a compare-and-swap to
 * lock and an exchange to unlock; a waiter sleeps in the kernel (queries
 * from the HTTP threads can hold it for milliseconds), never spins. */
#ifndef FK_STORE_LOCK_H
#define FK_STORE_LOCK_H

#include <linux/futex.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <unistd.h>

typedef struct fk__store_lock {
    _Atomic int state;
} fk__store_lock;

static inline void fk__store_lock_init(fk__store_lock *l)
{
    atomic_init(&l->state, 0);
}

static inline void fk__store_lock_take(fk__store_lock *l)
{
    int c = 0;
    if (atomic_compare_exchange_strong_explicit(&l->state, &c, 1, memory_order_acquire,
                                                memory_order_relaxed))
        return;
    if (c != 2)
        c = atomic_exchange_explicit(&l->state, 2, memory_order_acquire);
    while (c != 0) {
        syscall(SYS_futex, &l->state, FUTEX_WAIT_PRIVATE, 2, NULL, NULL, 0);
        c = atomic_exchange_explicit(&l->state, 2, memory_order_acquire);
    }
}

static inline void fk__store_lock_give(fk__store_lock *l)
{
    if (atomic_exchange_explicit(&l->state, 0, memory_order_release) == 2)
        syscall(SYS_futex, &l->state, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

#endif
