/* Per-address records with LRU eviction (see atab.h). */
#include <string.h>

#include "store/atab.h"

size_t fk__atab_mem(uint32_t cap, size_t recsize)
{
    return (size_t)cap * recsize + fk__sidx_slots(cap) * sizeof(fk__sidx_slot) +
           (size_t)cap * sizeof(fk__atab_link);
}

void fk__atab_attach(fk__atab *t, void *mem, uint32_t cap, size_t recsize)
{
    t->cap = cap;
    t->n = 0;
    t->recsize = recsize;
    t->rec = mem;
    fk__sidx_attach(&t->idx, (fk__sidx_slot *)(t->rec + (size_t)cap * recsize), cap);
    t->link = (fk__atab_link *)(t->idx.slot + fk__sidx_slots(cap));
    t->head = t->tail = FK__ATAB_NONE;
}

static uint32_t find_hashed(const fk__atab *t, const fk_addr *addr, uint64_t h)
{
    uint32_t tag = fk__sidx_tag(h);
    for (uint32_t pos = fk__sidx_start(&t->idx, tag);; pos = fk__sidx_next(&t->idx, pos)) {
        fk__sidx_slot sl = t->idx.slot[pos];
        if (!sl.e)
            return FK__ATAB_NONE;
        const fk__atab_hdr *r = fk__atab_at(t, sl.e - 1);
        if (sl.tag == tag && memcmp(&r->addr, addr, sizeof *addr) == 0)
            return sl.e - 1;
    }
}

uint32_t fk__atab_find(const fk__atab *t, const fk_addr *addr)
{
    return find_hashed(t, addr, fk__atab_hash(addr));
}

static void unlink_rec(fk__atab *t, uint32_t i)
{
    fk__atab_link *r = &t->link[i];
    if (r->prev != FK__ATAB_NONE)
        t->link[r->prev].next = r->next;
    else
        t->head = r->next;
    if (r->next != FK__ATAB_NONE)
        t->link[r->next].prev = r->prev;
    else
        t->tail = r->prev;
}

static void push_front(fk__atab *t, uint32_t i)
{
    fk__atab_link *r = &t->link[i];
    r->prev = FK__ATAB_NONE;
    r->next = t->head;
    if (t->head != FK__ATAB_NONE)
        t->link[t->head].prev = i;
    t->head = i;
    if (t->tail == FK__ATAB_NONE)
        t->tail = i;
}

uint32_t fk__atab_get(fk__atab *t, const fk_addr *addr, uint64_t h, int *fresh, int *evicted)
{
    *fresh = *evicted = 0;
    uint32_t i = find_hashed(t, addr, h);
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
        fk__sidx_remove(&t->idx,
                        fk__sidx_tag(fk__atab_hash(&((fk__atab_hdr *)fk__atab_at(t, i))->addr)), i);
        *evicted = 1;
    }
    fk__atab_hdr *r = fk__atab_at(t, i);
    memset(r, 0, t->recsize);
    r->addr = *addr;
    fk__sidx_insert(&t->idx, fk__sidx_tag(h), i);
    push_front(t, i);
    *fresh = 1;
    return i;
}
