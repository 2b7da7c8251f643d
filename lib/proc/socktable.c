#include "proc/socktable.h"

#include <string.h>

#include "core/alloc.h"
#include "core/error.h"

void fk__socktable_free(fk__socktable *t)
{
    fk__free(t->nodes);
    fk__free(t->buckets);
    memset(t, 0, sizeof *t);
}

static int rehash(fk__socktable *t, size_t nb)
{
    uint32_t *b = fk__calloc(nb, sizeof *b);
    if (!b)
        return fk__error(FK_ENOMEM, "attribution: out of memory for the socket table");
    fk__free(t->buckets);
    t->buckets = b;
    t->nbuckets = nb;
    for (size_t i = 0; i < t->count; i++) {
        size_t s = fk__tkey_hash(&t->nodes[i].key) & (nb - 1);
        t->nodes[i].next = b[s];
        b[s] = (uint32_t)(i + 1);
    }
    return 0;
}

const fk__socknode *fk__socktable_get(const fk__socktable *t, const fk__tkey *k)
{
    if (!t->nbuckets)
        return NULL;
    for (uint32_t i = t->buckets[fk__tkey_hash(k) & (t->nbuckets - 1)]; i; i = t->nodes[i - 1].next)
        if (fk__tkey_eq(&t->nodes[i - 1].key, k))
            return &t->nodes[i - 1];
    return NULL;
}

int fk__socktable_put(fk__socktable *t, const fk__sock *s)
{
    if (!s->inode)
        return 0; /* time-wait and orphans have no owner */
    fk__tkey k;
    fk__tkey_make(&k, s->proto, &s->local, s->lport, &s->remote, s->rport);
    fk__socknode *existing = (fk__socknode *)fk__socktable_get(t, &k);
    if (existing) {
        existing->inode = s->inode;
        existing->uid = s->uid;
        return 0;
    }
    if (t->count == t->cap) {
        size_t nc = t->cap ? t->cap * 2 : 256;
        fk__socknode *n = fk__reallocarray(t->nodes, nc, sizeof *n);
        if (!n)
            return fk__error(FK_ENOMEM, "attribution: out of memory for the socket table");
        t->nodes = n;
        t->cap = nc;
    }
    if (t->count + 1 > t->nbuckets) {
        int rc = rehash(t, t->nbuckets ? t->nbuckets * 2 : 256);
        if (rc)
            return rc;
    }
    fk__socknode *n = &t->nodes[t->count++];
    n->key = k;
    n->inode = s->inode;
    n->uid = s->uid;
    size_t b = fk__tkey_hash(&k) & (t->nbuckets - 1);
    n->next = t->buckets[b];
    t->buckets[b] = (uint32_t)t->count;
    return 0;
}

int fk__socktable_put_cb(void *ctx, const fk__sock *s)
{
    return fk__socktable_put(ctx, s) < 0;
}

const fk__socknode *fk__socktable_get_wild(const fk__socktable *t, const fk__tkey *k)
{
    fk__tkey w;
    fk__tkey_wild_remote(&w, k);
    const fk__socknode *n = fk__socktable_get(t, &w);
    if (n)
        return n;
    memset(w.l, 0, 16);
    return fk__socktable_get(t, &w);
}
