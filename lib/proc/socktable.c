#include "proc/socktable.h"

#include <string.h>

#include "core/error.h"

void fk__socktable_free(fk__socktable *t)
{
    fk__hmap_free(&t->map);
}

size_t fk__socktable_count(const fk__socktable *t)
{
    return t->map.count;
}

const fk__sockent *fk__socktable_get(const fk__socktable *t, const fk__tkey *k)
{
    return t->map.cap ? fk__hmap_get(&t->map, k) : NULL;
}

int fk__socktable_put(fk__socktable *t, const fk__sock *s)
{
    if (!s->inode)
        return 0; /* time-wait and orphans have no owner */
    if (!t->map.key_size)
        fk__hmap_init(&t->map, sizeof(fk__tkey), sizeof(fk__sockent));
    fk__tkey k;
    fk__tkey_make(&k, s->proto, &s->local, s->lport, &s->remote, s->rport);
    fk__sockent e = {.inode = s->inode, .uid = s->uid};
    if (fk__hmap_put(&t->map, &k, &e, NULL) < 0)
        return fk__error(FK_ENOMEM, "attribution: out of memory for the socket table");
    return 0;
}

int fk__socktable_put_cb(void *ctx, const fk__sock *s)
{
    return fk__socktable_put(ctx, s) < 0;
}

const fk__sockent *fk__socktable_get_wild(const fk__socktable *t, const fk__tkey *k)
{
    fk__tkey w;
    fk__tkey_wild_remote(&w, k);
    const fk__sockent *n = fk__socktable_get(t, &w);
    if (n)
        return n;
    memset(w.l, 0, 16);
    return fk__socktable_get(t, &w);
}

bool fk__socktable_next(const fk__socktable *t, size_t *pos, const fk__tkey **key,
                        const fk__sockent **ent)
{
    const void *k;
    void *v;
    if (!fk__hmap_next(&t->map, pos, &k, &v))
        return false;
    *key = k;
    *ent = v;
    return true;
}
