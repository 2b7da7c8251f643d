/* Space-saving summaries over caller memory (see topk.h). */
#include <stdbool.h>
#include <string.h>

#include "store/topk.h"

size_t fk__ss_mem(uint32_t cap)
{
    return (size_t)cap * (sizeof(fk__ss_entry) + sizeof(fk__ss_node) + sizeof(uint32_t)) +
           fk__sidx_slots(cap) * sizeof(fk__sidx_slot);
}

void fk__ss_attach(fk__ss *s, void *mem, uint32_t cap, uint32_t klen)
{
    s->cap = cap;
    s->klen = klen;
    s->n = 0;
    s->e = mem;
    fk__sidx_attach(&s->idx, (fk__sidx_slot *)(s->e + cap), cap);
    s->heap = (fk__ss_node *)(s->idx.slot + fk__sidx_slots(cap));
    s->pos = (uint32_t *)(s->heap + cap);
}

static void heap_swap(fk__ss *s, uint32_t a, uint32_t b)
{
    fk__ss_node x = s->heap[a], y = s->heap[b];
    s->heap[a] = y;
    s->heap[b] = x;
    s->pos[y.e] = a;
    s->pos[x.e] = b;
}

static void sift_up(fk__ss *s, uint32_t at)
{
    while (at > 0 && s->heap[(at - 1) / 2].bytes > s->heap[at].bytes) {
        heap_swap(s, at, (at - 1) / 2);
        at = (at - 1) / 2;
    }
}

/* An entry's bytes only grow: it moves towards the leaves. */
static void sift_down(fk__ss *s, uint32_t at)
{
    for (;;) {
        uint32_t l = 2 * at + 1, r = l + 1, m = at;
        if (l < s->n && s->heap[l].bytes < s->heap[m].bytes)
            m = l;
        if (r < s->n && s->heap[r].bytes < s->heap[m].bytes)
            m = r;
        if (m == at)
            return;
        heap_swap(s, at, m);
        at = m;
    }
}

void fk__ss_clear(fk__ss *s)
{
    s->n = 0;
    fk__sidx_clear(&s->idx);
}

static int lookup(const fk__ss *s, const fk__skey *k, uint32_t tag)
{
    for (uint32_t pos = fk__sidx_start(&s->idx, tag);; pos = fk__sidx_next(&s->idx, pos)) {
        fk__sidx_slot sl = s->idx.slot[pos];
        if (!sl.e)
            return -1;
        if (sl.tag == tag && memcmp(s->e[sl.e - 1].key.b, k->b, FK__SKEY_SIZE) == 0)
            return (int)(sl.e - 1);
    }
}

const fk__ss_entry *fk__ss_find(const fk__ss *s, const fk__skey *k)
{
    int i = lookup(s, k, fk__sidx_tag(fk__ss_hash(k, s->klen)));
    return i < 0 ? NULL : &s->e[i];
}

int fk__ss_add(fk__ss *s, const fk__skey *k, uint64_t h, uint64_t bytes, uint64_t packets,
               uint64_t flows)
{
    uint32_t tag = fk__sidx_tag(h);
    int i = lookup(s, k, tag);
    int replaced = 0;
    bool fresh = false;
    if (i < 0) {
        if (s->n < s->cap) {
            i = (int)s->n++;
            memset(&s->e[i], 0, sizeof s->e[i]);
            s->heap[i].e = (uint32_t)i;
            s->pos[i] = (uint32_t)i;
            fresh = true;
        } else {
            /* Replace the smallest entry (the heap's root); its counts
             * become the newcomer's error. */
            i = (int)s->heap[0].e;
            fk__sidx_remove(&s->idx, s->heap[0].tag, (uint32_t)i);
            s->e[i].error = s->e[i].bytes;
            replaced = 1;
        }
        s->e[i].key = *k;
        fk__sidx_insert(&s->idx, tag, (uint32_t)i);
    }
    s->e[i].bytes += bytes;
    s->e[i].packets += packets;
    s->e[i].flows += flows;
    fk__ss_node *node = &s->heap[s->pos[i]];
    node->bytes = s->e[i].bytes;
    node->tag = tag;
    if (fresh)
        sift_up(s, s->pos[i]);
    else
        sift_down(s, s->pos[i]);
    return replaced;
}
