/* Open-addressing index with backward-shift deletion (see sidx.h). */
#include <string.h>

#include "store/sidx.h"

size_t fk__sidx_slots(uint32_t cap)
{
    size_t n = 4;
    while (n < (size_t)cap * 2)
        n <<= 1;
    return n;
}

void fk__sidx_attach(fk__sidx *x, fk__sidx_slot *mem, uint32_t cap)
{
    x->slot = mem;
    x->mask = (uint32_t)fk__sidx_slots(cap) - 1;
}

void fk__sidx_clear(fk__sidx *x)
{
    memset(x->slot, 0, ((size_t)x->mask + 1) * sizeof *x->slot);
}

void fk__sidx_insert(fk__sidx *x, uint32_t tag, uint32_t entry)
{
    uint32_t pos = fk__sidx_start(x, tag);
    while (x->slot[pos].e)
        pos = fk__sidx_next(x, pos);
    x->slot[pos] = (fk__sidx_slot){entry + 1, tag};
}

void fk__sidx_remove(fk__sidx *x, uint32_t tag, uint32_t entry)
{
    uint32_t pos = fk__sidx_start(x, tag);
    while (x->slot[pos].e != entry + 1) {
        if (!x->slot[pos].e)
            return; /* not present: nothing to do */
        pos = fk__sidx_next(x, pos);
    }
    /* Shift later members of the probe run back into the hole when their
     * home slot does not lie cyclically in (hole, pos]. */
    uint32_t hole = pos;
    for (;;) {
        pos = fk__sidx_next(x, pos);
        fk__sidx_slot sl = x->slot[pos];
        if (!sl.e)
            break;
        uint32_t home = fk__sidx_start(x, sl.tag);
        bool stays = hole <= pos ? (home > hole && home <= pos) : (home > hole || home <= pos);
        if (!stays) {
            x->slot[hole] = sl;
            hole = pos;
        }
    }
    x->slot[hole] = (fk__sidx_slot){0, 0};
}
