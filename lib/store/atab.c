/* Per-address records with LRU eviction (see atab.h). */
#include <string.h>

#include "store/atab.h"

static uint64_t addr_hash(const fk_addr *a)
{
    return fk__store_hash(a, sizeof *a);
}

static uint64_t rec_hash(const void *ctx, uint32_t i)
{
    const fk__atab_hdr *r = fk__atab_at(ctx, i);
    return addr_hash(&r->addr);
}

size_t fk__atab_mem(uint32_t cap, size_t recsize)
{
    return (size_t)cap * recsize + fk__sidx_slots(cap) * sizeof(uint32_t);
}

void fk__atab_attach(fk__atab *t, void *mem, uint32_t cap, size_t recsize)
{
    t->cap = cap;
    t->n = 0;
    t->recsize = recsize;
    t->rec = mem;
    fk__sidx_attach(&t->idx, (uint32_t *)(t->rec + (size_t)cap * recsize), cap);
    t->head = t->tail = FK__ATAB_NONE;
}

uint32_t fk__atab_find(const fk__atab *t, const fk_addr *addr)
{
    for (uint32_t pos = fk__sidx_start(&t->idx, addr_hash(addr));;
         pos = fk__sidx_next(&t->idx, pos)) {
        uint32_t e = t->idx.slot[pos];
        if (!e)
            return FK__ATAB_NONE;
        const fk__atab_hdr *r = fk__atab_at(t, e - 1);
        if (memcmp(&r->addr, addr, sizeof *addr) == 0)
            return e - 1;
    }
}

static void unlink_rec(fk__atab *t, uint32_t i)
{
    fk__atab_hdr *r = fk__atab_at(t, i);
    if (r->prev != FK__ATAB_NONE)
        ((fk__atab_hdr *)fk__atab_at(t, r->prev))->next = r->next;
    else
        t->head = r->next;
    if (r->next != FK__ATAB_NONE)
        ((fk__atab_hdr *)fk__atab_at(t, r->next))->prev = r->prev;
    else
        t->tail = r->prev;
}

static void push_front(fk__atab *t, uint32_t i)
{
    fk__atab_hdr *r = fk__atab_at(t, i);
    r->prev = FK__ATAB_NONE;
    r->next = t->head;
    if (t->head != FK__ATAB_NONE)
        ((fk__atab_hdr *)fk__atab_at(t, t->head))->prev = i;
    t->head = i;
    if (t->tail == FK__ATAB_NONE)
        t->tail = i;
}

uint32_t fk__atab_get(fk__atab *t, const fk_addr *addr, int *fresh, int *evicted)
{
    *fresh = *evicted = 0;
    uint32_t i = fk__atab_find(t, addr);
    if (i != FK__ATAB_NONE) {
        if (t->head != i) {
            unlink_rec(t, i);
            push_front(t, i);
        }
        return i;
    }
    if (t->n < t->cap) {
        i = t->n++;
    } else {
        i = t->tail;
        unlink_rec(t, i);
        fk__sidx_remove(&t->idx, rec_hash(t, i), i, rec_hash, t);
        *evicted = 1;
    }
    fk__atab_hdr *r = fk__atab_at(t, i);
    memset(r, 0, t->recsize);
    r->addr = *addr;
    fk__sidx_insert(&t->idx, addr_hash(addr), i);
    push_front(t, i);
    *fresh = 1;
    return i;
}
