/* Batch-merged space-saving (see topk.h): a batch of weighted keys is
 * merged into a summary in one pass. Hits add to their entries; while the
 * summary has room, new keys take free entries (no eviction, exactly as
 * one at a time); once it is full, the new keys left become candidates,
 * summed over the batch. A candidate x gets m + w(x) bytes and error m,
 * where m is the smallest count the summary held when the batch came (or
 * 0 when it was not full then: it never evicted since it was cleared, so
 * it holds every key it saw). The cap largest of entries and candidates
 * stay (one selection); each candidate kept takes the place of an entry
 * dropped, and the index and heap are rebuilt once.
 *
 * Why the bounds hold. (1) A key the summary does not hold has at most m
 * bytes in truth (the space-saving invariant), so m + w(x) is never below
 * the truth, and at most m above it. (2) Every entry and candidate has at
 * least m bytes, so the c dropped (c candidates) sum to at least c * m:
 * the kept sum is at most the summary's sum before plus the batch's bytes,
 * i.e. never more than all bytes added (N). So the smallest kept count,
 * the next batch's m, is at most N / cap, and any key with more than
 * N / cap bytes is held: a dropped key has at most the new smallest
 * count in truth, and keys never held at most m, which only grows. */
#include <string.h>

#include "store/topk.h"

size_t fk__ss_scratch_mem(uint32_t nitems, uint32_t cap)
{
    return fk__sidx_slots(nitems) * sizeof(fk__sidx_slot) + (size_t)nitems * sizeof(uint32_t) +
           ((size_t)cap + nitems) * sizeof(fk__ss_sel);
}

void fk__ss_scratch_attach(fk__ss_scratch *x, void *mem, uint32_t nitems, uint32_t cap)
{
    x->nitems = nitems;
    x->cap = cap;
    fk__sidx_attach(&x->idx, mem, nitems);
    x->sel = (fk__ss_sel *)(x->idx.slot + fk__sidx_slots(nitems));
    x->cand = (uint32_t *)(x->sel + (size_t)cap + nitems);
}

/* The candidate of items[i]'s key, or -1 (then it is added as one). */
static int cand_find_or_add(fk__ss_scratch *x, fk__ss_item *items, uint32_t i, uint32_t *nc)
{
    uint32_t tag = fk__sidx_tag(items[i].h);
    uint32_t pos = fk__sidx_start(&x->idx, tag);
    for (;; pos = fk__sidx_next(&x->idx, pos)) {
        fk__sidx_slot sl = x->idx.slot[pos];
        if (!sl.e)
            break;
        uint32_t c = x->cand[sl.e - 1];
        if (sl.tag == tag && fk__skey_eq(&items[c].key, &items[i].key))
            return (int)c;
    }
    x->idx.slot[pos] = (fk__sidx_slot){*nc + 1, tag};
    x->cand[(*nc)++] = i;
    return -1;
}

static void sel_swap(fk__ss_sel *a, fk__ss_sel *b)
{
    fk__ss_sel t = *a;
    *a = *b;
    *b = t;
}

/* Partition v[0..n) so that v[0..k) hold k smallest by bytes (Hoare's
 * selection with a median of three). */
static void select_smallest(fk__ss_sel *v, uint32_t n, uint32_t k)
{
    uint32_t lo = 0, hi = n; /* the k-th lies in [lo, hi) */
    while (hi - lo > 2) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (v[mid].bytes < v[lo].bytes)
            sel_swap(&v[mid], &v[lo]);
        if (v[hi - 1].bytes < v[lo].bytes)
            sel_swap(&v[hi - 1], &v[lo]);
        if (v[hi - 1].bytes < v[mid].bytes)
            sel_swap(&v[hi - 1], &v[mid]);
        uint64_t p = v[mid].bytes;
        uint32_t i = lo, j = hi - 1;
        for (;;) {
            while (v[i].bytes < p)
                i++;
            while (v[j].bytes > p)
                j--;
            if (i >= j)
                break;
            sel_swap(&v[i], &v[j]);
            i++;
            j--;
        }
        /* v[lo..j] <= p <= v[j+1..hi) */
        if (k <= j)
            hi = j + 1;
        else
            lo = j + 1;
        if (k == lo || k == hi)
            return;
    }
    if (hi - lo == 2 && v[lo + 1].bytes < v[lo].bytes)
        sel_swap(&v[lo], &v[lo + 1]);
}

/* Node bytes from the entries, then a bottom-up heap; the index anew. */
static void rebuild(fk__ss *s)
{
    fk__sidx_clear(&s->idx);
    for (uint32_t i = 0; i < s->n; i++) {
        s->heap[i].bytes = s->e[s->heap[i].e].bytes;
        fk__sidx_insert(&s->idx, s->heap[i].tag, s->heap[i].e);
    }
    for (uint32_t i = s->n / 2; i-- > 0;)
        fk__ss_sift_down(s, i);
}

/* Candidates in sel[c..) take the places of the entries in sel[0..c)
 * (as many of each: sel holds cap entries and c candidates). */
static void replace(fk__ss *s, const fk__ss_item *items, const fk__ss_scratch *x, uint32_t c,
                    uint64_t m)
{
    uint32_t cap = s->cap, d = 0, moved = 0;
    for (uint32_t k = c; k < cap + c; k++) {
        if (x->sel[k].id < cap)
            continue; /* an entry that stays */
        while (x->sel[d].id >= cap)
            d++; /* the next entry dropped */
        uint32_t e = x->sel[d++].id;
        const fk__ss_item *it = &items[x->cand[x->sel[k].id - cap]];
        fk__ss_node *node = &s->heap[s->pos[e]];
        if (moved * 8 < cap) /* few: mended in place; many: rebuilt below */
            fk__sidx_remove(&s->idx, node->tag, e);
        fk__ss_entry *en = &s->e[e];
        en->key = it->key;
        en->bytes = m + it->bytes;
        en->error = m;
        /* as one at a time: packets and flows carry over from the entry
         * replaced (upper bounds, like bytes) */
        en->packets += it->packets;
        en->flows += it->flows;
        node->tag = fk__sidx_tag(it->h);
        if (moved * 8 < cap) {
            fk__sidx_insert(&s->idx, node->tag, e);
            node->bytes = en->bytes;
            fk__ss_sift_up(s, s->pos[e]);
            fk__ss_sift_down(s, s->pos[e]);
        }
        moved++;
    }
    if (moved && (moved - 1) * 8 >= cap) /* some were left for the rebuild */
        rebuild(s);
}

uint64_t fk__ss_add_batch(fk__ss *s, fk__ss_item *items, uint32_t n, fk__ss_scratch *x)
{
    uint64_t m = 0;
    if (s->n == s->cap) {
        fk__ss_settle_root(s);
        m = s->e[s->heap[0].e].bytes;
    }
    uint32_t nc = 0;
    /* The candidates' index sized for this batch (cleared after use). */
    x->idx.mask = (uint32_t)fk__sidx_slots(n) - 1;
    for (uint32_t i = 0; i < n; i++) {
        fk__ss_item *it = &items[i];
        int j = fk__ss_lookup(s, &it->key, fk__sidx_tag(it->h));
        if (j >= 0) {
            s->e[j].bytes += it->bytes;
            s->e[j].packets += it->packets;
            s->e[j].flows += it->flows;
        } else if (s->n < s->cap) {
            fk__ss_add(s, &it->key, it->h, it->bytes, it->packets, it->flows);
        } else {
            int c = cand_find_or_add(x, items, i, &nc);
            if (c >= 0) {
                items[c].bytes += it->bytes;
                items[c].packets += it->packets;
                items[c].flows += it->flows;
            }
        }
    }
    if (!nc)
        return 0;
    uint32_t cap = s->cap;
    for (uint32_t e = 0; e < cap; e++)
        x->sel[e] = (fk__ss_sel){s->e[e].bytes, e};
    for (uint32_t c = 0; c < nc; c++)
        x->sel[cap + c] = (fk__ss_sel){m + items[x->cand[c]].bytes, cap + c};
    select_smallest(x->sel, cap + nc, nc);
    replace(s, items, x, nc, m);
    s->evicted = true;
    fk__sidx_clear(&x->idx);
    return nc;
}
