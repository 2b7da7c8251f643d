/* The bounded table of recent socket owners (see owners.h).
 *
 * Entries sit in a fixed array. Two indexes: tuple hash -> slot, and socket
 * cookie -> newest slot of that socket (a socket has several tuples when it
 * is unconnected UDP), with the socket's entries chained both ways. Two
 * lists in age order give the eviction and expiry order: open entries by
 * insertion, closed entries by close time (so expiry pops from the head). */
#include "bpf/owners.h"

#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/hmap.h"
#include "core/u64map.h"

#define NIL UINT32_MAX

typedef struct slot {
    fk__bpf_owner_entry e;
    char *exe;
    uint64_t hash;
    uint32_t prev, next;       /* in the open or closed list */
    uint32_t ck_prev, ck_next; /* entries of the same cookie */
    uint8_t used, closed;
} slot;

typedef struct list {
    uint32_t head, tail;
} list;

struct fk__bpf_owners {
    slot *slots;
    uint32_t cap;
    uint32_t free_head; /* free slots chained through next */
    int64_t keep_ns;
    fk__u64map by_tuple;  /* hash -> slot */
    fk__u64map by_cookie; /* cookie -> newest slot */
    list open, closed;
    fk__bpf_owners_stats st;
};

static uint64_t tuple_hash(uint8_t proto, const fk_addr *l, uint16_t lport, const fk_addr *r,
                           uint16_t rport)
{
    struct {
        uint8_t l[16], r[16];
        uint16_t lport, rport;
        uint8_t proto, lfamily, rfamily, zero;
    } k;
    memcpy(k.l, l->bytes, 16);
    memcpy(k.r, r->bytes, 16);
    k.lport = lport;
    k.rport = rport;
    k.proto = proto;
    k.lfamily = (uint8_t)l->family;
    k.rfamily = (uint8_t)r->family;
    k.zero = 0;
    return fk__hmap_hash(&k, sizeof k); /* never 0: the map's keys are non-zero */
}

static bool same_tuple(const fk__bpf_owner *o, uint8_t proto, const fk_addr *l, uint16_t lport,
                       const fk_addr *r, uint16_t rport)
{
    return o->proto == proto && o->lport == lport && o->rport == rport &&
           o->local.family == l->family && o->remote.family == r->family &&
           memcmp(o->local.bytes, l->bytes, 16) == 0 && memcmp(o->remote.bytes, r->bytes, 16) == 0;
}

int fk__bpf_owners_create(fk__bpf_owners **out, uint32_t max_entries, int64_t keep_ns)
{
    if (!out || max_entries < 1 || max_entries == NIL || keep_ns < 0)
        return fk__error(FK_EINVAL, "bpf owners: need max_entries >= 1 and keep >= 0");
    *out = NULL;
    fk__bpf_owners *t = FK__NEW(fk__bpf_owners);
    if (!t)
        return fk__error(FK_ENOMEM, "bpf owners: out of memory");
    t->slots = fk__calloc(max_entries, sizeof *t->slots);
    if (!t->slots) {
        fk__free(t);
        return fk__error(FK_ENOMEM, "bpf owners: out of memory for %u entries", max_entries);
    }
    t->cap = max_entries;
    t->keep_ns = keep_ns;
    for (uint32_t i = 0; i < max_entries; i++)
        t->slots[i].next = i + 1 < max_entries ? i + 1 : NIL;
    t->free_head = 0;
    t->open.head = t->open.tail = NIL;
    t->closed.head = t->closed.tail = NIL;
    *out = t;
    return 0;
}

void fk__bpf_owners_destroy(fk__bpf_owners *t)
{
    if (!t)
        return;
    for (uint32_t i = 0; i < t->cap; i++)
        fk__free(t->slots[i].exe);
    fk__free(t->slots);
    fk__u64map_free(&t->by_tuple);
    fk__u64map_free(&t->by_cookie);
    fk__free(t);
}

static void list_push(fk__bpf_owners *t, list *l, uint32_t i)
{
    t->slots[i].prev = l->tail;
    t->slots[i].next = NIL;
    if (l->tail != NIL)
        t->slots[l->tail].next = i;
    else
        l->head = i;
    l->tail = i;
}

static void list_unlink(fk__bpf_owners *t, list *l, uint32_t i)
{
    slot *s = &t->slots[i];
    if (s->prev != NIL)
        t->slots[s->prev].next = s->next;
    else
        l->head = s->next;
    if (s->next != NIL)
        t->slots[s->next].prev = s->prev;
    else
        l->tail = s->prev;
}

static void cookie_unlink(fk__bpf_owners *t, uint32_t i)
{
    slot *s = &t->slots[i];
    uint64_t ck = s->e.owner.cookie;
    if (s->ck_next != NIL)
        t->slots[s->ck_next].ck_prev = s->ck_prev;
    if (s->ck_prev != NIL) {
        t->slots[s->ck_prev].ck_next = s->ck_next;
    } else if (ck) {
        /* it was the newest: the next older one becomes the head */
        if (s->ck_next != NIL)
            fk__u64map_put(&t->by_cookie, ck, s->ck_next); /* replaces: no allocation */
        else
            fk__u64map_del(&t->by_cookie, ck);
    }
}

static void drop(fk__bpf_owners *t, uint32_t i)
{
    slot *s = &t->slots[i];
    list_unlink(t, s->closed ? &t->closed : &t->open, i);
    cookie_unlink(t, i);
    fk__u64map_del(&t->by_tuple, s->hash);
    fk__free(s->exe);
    memset(s, 0, sizeof *s);
    s->next = t->free_head;
    t->free_head = i;
    t->st.entries--;
}

static int add_owner(fk__bpf_owners *t, const fk__bpf_owner *ev, const char *exe, int64_t now_ns)
{
    uint64_t h = tuple_hash(ev->proto, &ev->local, ev->lport, &ev->remote, ev->rport);
    uint64_t v;
    if (fk__u64map_get(&t->by_tuple, h, &v)) {
        drop(t, (uint32_t)v);
        t->st.replaced++;
    } else {
        t->st.inserted++;
    }
    if (t->free_head == NIL) {
        drop(t, t->closed.head != NIL ? t->closed.head : t->open.head);
        t->st.evicted++;
    }
    char *exe_copy = NULL;
    if (exe && !(exe_copy = fk__strdup(exe)))
        return fk__error(FK_ENOMEM, "bpf owners: out of memory");
    uint32_t i = t->free_head;
    slot *s = &t->slots[i];
    if (fk__u64map_put(&t->by_tuple, h, i) != 0) {
        fk__free(exe_copy);
        return fk__error(FK_ENOMEM, "bpf owners: out of memory for the tuple index");
    }
    uint32_t ck_head = NIL;
    if (ev->cookie && fk__u64map_get(&t->by_cookie, ev->cookie, &v))
        ck_head = (uint32_t)v;
    if (ev->cookie && fk__u64map_put(&t->by_cookie, ev->cookie, i) != 0) {
        fk__u64map_del(&t->by_tuple, h);
        fk__free(exe_copy);
        return fk__error(FK_ENOMEM, "bpf owners: out of memory for the cookie index");
    }
    t->free_head = s->next;
    memset(s, 0, sizeof *s);
    s->used = 1;
    s->hash = h;
    s->exe = exe_copy;
    s->e.owner = *ev;
    s->e.exe = exe_copy;
    s->e.added_ns = now_ns;
    s->ck_prev = NIL;
    s->ck_next = ck_head;
    if (ck_head != NIL)
        t->slots[ck_head].ck_prev = i;
    list_push(t, &t->open, i);
    t->st.entries++;
    return 0;
}

static void release(fk__bpf_owners *t, uint64_t cookie, int64_t now_ns)
{
    uint64_t v;
    if (!cookie || !fk__u64map_get(&t->by_cookie, cookie, &v))
        return;
    for (uint32_t i = (uint32_t)v; i != NIL; i = t->slots[i].ck_next) {
        slot *s = &t->slots[i];
        if (s->closed)
            continue;
        list_unlink(t, &t->open, i);
        s->closed = 1;
        s->e.closed_ns = now_ns;
        list_push(t, &t->closed, i);
        t->st.released++;
    }
}

int fk__bpf_owners_apply(fk__bpf_owners *t, const fk__bpf_owner *ev, const char *exe,
                         int64_t now_ns)
{
    if (ev->kind == FK__BPF_OWNER_KIND_RELEASE) {
        release(t, ev->cookie, now_ns);
        return 0;
    }
    return add_owner(t, ev, exe, now_ns);
}

const fk__bpf_owner_entry *fk__bpf_owners_find(const fk__bpf_owners *t, uint8_t proto,
                                               const fk_addr *local, uint16_t lport,
                                               const fk_addr *remote, uint16_t rport)
{
    uint64_t v;
    uint64_t h = tuple_hash(proto, local, lport, remote, rport);
    if (!fk__u64map_get(&t->by_tuple, h, &v))
        return NULL;
    const slot *s = &t->slots[v];
    return same_tuple(&s->e.owner, proto, local, lport, remote, rport) ? &s->e : NULL;
}

uint32_t fk__bpf_owners_expire(fk__bpf_owners *t, int64_t now_ns)
{
    uint32_t n = 0;
    while (t->closed.head != NIL) {
        uint32_t i = t->closed.head;
        if (t->slots[i].e.closed_ns > now_ns - t->keep_ns)
            break;
        drop(t, i);
        n++;
    }
    t->st.expired += n;
    return n;
}

void fk__bpf_owners_get_stats(const fk__bpf_owners *t, fk__bpf_owners_stats *out)
{
    *out = t->st;
}
