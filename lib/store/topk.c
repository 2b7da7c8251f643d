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
    s->evicted = false;
    s->e = mem;
    fk__sidx_attach(&s->idx, (fk__sidx_slot *)(s->e + cap), cap);
    s->heap = (fk__ss_node *)(s->idx.slot + fk__sidx_slots(cap));
    s->pos = (uint32_t *)(s->heap + cap);
}

/* Sifts move a hole instead of swapping: every node passed is written
 * once, with its entry's place in pos[]. */
void fk__ss_sift_up(fk__ss *s, uint32_t at)
{
    fk__ss_node x = s->heap[at];
    while (at > 0) {
        uint32_t up = (at - 1) / 2;
        if (s->heap[up].bytes <= x.bytes)
            break;
        s->heap[at] = s->heap[up];
        s->pos[s->heap[at].e] = at;
        at = up;
    }
    s->heap[at] = x;
    s->pos[x.e] = at;
}

/* A node's bytes only grow: it moves towards the leaves. */
void fk__ss_sift_down(fk__ss *s, uint32_t at)
{
    fk__ss_node x = s->heap[at];
    for (;;) {
        uint32_t l = 2 * at + 1, m = l;
        if (l >= s->n)
            break;
        if (l + 1 < s->n && s->heap[l + 1].bytes < s->heap[l].bytes)
            m = l + 1;
        if (s->heap[m].bytes >= x.bytes)
            break;
        s->heap[at] = s->heap[m];
        s->pos[s->heap[at].e] = at;
        at = m;
    }
    s->heap[at] = x;
    s->pos[x.e] = at;
}

void fk__ss_clear(fk__ss *s)
{
    s->n = 0;
    s->evicted = false;
    fk__sidx_clear(&s->idx);
}

int fk__ss_lookup(const fk__ss *s, const fk__skey *k, uint32_t tag)
{
    for (uint32_t pos = fk__sidx_start(&s->idx, tag);; pos = fk__sidx_next(&s->idx, pos)) {
        fk__sidx_slot sl = s->idx.slot[pos];
        if (!sl.e)
            return -1;
        if (sl.tag == tag && fk__skey_eq(&s->e[sl.e - 1].key, k))
            return (int)(sl.e - 1);
    }
}

const fk__ss_entry *fk__ss_find(const fk__ss *s, const fk__skey *k)
{
    int i = fk__ss_lookup(s, k, fk__sidx_tag(fk__ss_hash(k, s->klen)));
    return i < 0 ? NULL : &s->e[i];
}

/* Make the root's bytes its entry's own: then it holds the smallest entry
 * (every node's bytes are a lower bound of its entry's, see fk__ss_add). */
void fk__ss_settle_root(fk__ss *s)
{
    for (;;) {
        fk__ss_node *root = &s->heap[0];
        uint64_t actual = s->e[root->e].bytes;
        if (root->bytes == actual)
            return;
        root->bytes = actual;
        fk__ss_sift_down(s, 0);
    }
}

/* The heap is ordered by the bytes its nodes hold, which may lag behind
 * their entries' (a hit only adds to the entry: no heap access, no sift).
 * As bytes only grow, a node's bytes are a lower bound of its entry's; the
 * root is brought up to date before it is evicted (settle_root), so the
 * entry replaced is always one with the fewest bytes, as space-saving
 * wants. */
int fk__ss_add(fk__ss *s, const fk__skey *k, uint64_t h, uint64_t bytes, uint64_t packets,
               uint64_t flows)
{
    uint32_t tag = fk__sidx_tag(h);
    int i = fk__ss_lookup(s, k, tag);
    if (i >= 0) {
        s->e[i].bytes += bytes;
        s->e[i].packets += packets;
        s->e[i].flows += flows;
        return 0;
    }
    int replaced = 0;
    if (s->n < s->cap) {
        i = (int)s->n++;
        memset(&s->e[i], 0, sizeof s->e[i]);
        s->heap[i].e = (uint32_t)i;
        s->pos[i] = (uint32_t)i;
    } else {
        /* Replace the smallest entry (the heap's root); its counts
         * become the newcomer's error. */
        fk__ss_settle_root(s);
        i = (int)s->heap[0].e;
        fk__sidx_remove(&s->idx, s->heap[0].tag, (uint32_t)i);
        s->e[i].error = s->e[i].bytes;
        replaced = 1;
        s->evicted = true;
    }
    s->e[i].key = *k;
    fk__sidx_insert(&s->idx, tag, (uint32_t)i);
    s->e[i].bytes += bytes;
    s->e[i].packets += packets;
    s->e[i].flows += flows;
    fk__ss_node *node = &s->heap[s->pos[i]];
    node->bytes = s->e[i].bytes;
    node->tag = tag;
    if (replaced)
        fk__ss_sift_down(s, s->pos[i]);
    else
        fk__ss_sift_up(s, s->pos[i]);
    return replaced;
}
