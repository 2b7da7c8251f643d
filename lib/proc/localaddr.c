#include "proc/localaddr.h"

#include <netlink/cache.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>

#include "core/alloc.h"
#include "core/error.h"

static int addr_cmp(const fk_addr *a, const fk_addr *b)
{
    if (a->family != b->family)
        return a->family < b->family ? -1 : 1;
    return memcmp(a->bytes, b->bytes, 16);
}

void fk__addrset_free(fk__addrset *s)
{
    fk__free(s->addrs);
    memset(s, 0, sizeof *s);
}

static size_t lower_bound(const fk__addrset *s, const fk_addr *a)
{
    size_t lo = 0, hi = s->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (addr_cmp(&s->addrs[mid], a) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

int fk__addrset_add(fk__addrset *s, const fk_addr *a)
{
    size_t i = lower_bound(s, a);
    if (i < s->count && addr_cmp(&s->addrs[i], a) == 0)
        return 0;
    if (s->count == s->cap) {
        size_t nc = s->cap ? s->cap * 2 : 16;
        fk_addr *n = fk__reallocarray(s->addrs, nc, sizeof *n);
        if (!n)
            return fk__error(FK_ENOMEM, "local addresses: out of memory");
        s->addrs = n;
        s->cap = nc;
    }
    memmove(s->addrs + i + 1, s->addrs + i, (s->count - i) * sizeof *s->addrs);
    s->addrs[i] = *a;
    s->count++;
    return 0;
}

bool fk__addrset_has(const fk__addrset *s, const fk_addr *a)
{
    size_t i = lower_bound(s, a);
    return i < s->count && addr_cmp(&s->addrs[i], a) == 0;
}

struct fk__localaddr {
    struct nl_cache_mngr *mngr;
    struct nl_cache *cache;
    fk__addrset set;
};

static void collect(struct nl_object *obj, void *arg)
{
    fk__addrset *set = arg;
    struct rtnl_addr *ra = (struct rtnl_addr *)obj;
    struct nl_addr *local = rtnl_addr_get_local(ra);
    if (!local)
        return;
    fk_addr a;
    memset(&a, 0, sizeof a);
    int fam = nl_addr_get_family(local);
    if (fam == AF_INET && nl_addr_get_len(local) == 4)
        a.family = 4;
    else if (fam == AF_INET6 && nl_addr_get_len(local) == 16)
        a.family = 6;
    else
        return;
    memcpy(a.bytes, nl_addr_get_binary_addr(local), a.family == 4 ? 4 : 16);
    fk__addrset_add(set, &a);
}

static int rebuild(fk__localaddr *l)
{
    fk__addrset fresh;
    memset(&fresh, 0, sizeof fresh);
    nl_cache_foreach(l->cache, collect, &fresh);
    fk__addrset_free(&l->set);
    l->set = fresh;
    return 0;
}

int fk__localaddr_open(fk__localaddr **out)
{
    fk__localaddr *l = FK__NEW(fk__localaddr);
    if (!l)
        return fk__error(FK_ENOMEM, "local addresses: out of memory");
    int err = nl_cache_mngr_alloc(NULL, NETLINK_ROUTE, NL_AUTO_PROVIDE, &l->mngr);
    if (err < 0) {
        fk__free(l);
        return fk__error(FK_ENETLINK, "local addresses: nl_cache_mngr_alloc: %s", nl_geterror(err));
    }
    err = nl_cache_mngr_add(l->mngr, "route/addr", NULL, NULL, &l->cache);
    if (err < 0) {
        nl_cache_mngr_free(l->mngr);
        fk__free(l);
        return fk__error(FK_ENETLINK, "local addresses: nl_cache_mngr_add(route/addr): %s",
                         nl_geterror(err));
    }
    rebuild(l);
    *out = l;
    return 0;
}

void fk__localaddr_close(fk__localaddr *l)
{
    if (!l)
        return;
    nl_cache_mngr_free(l->mngr); /* frees the caches it manages */
    fk__addrset_free(&l->set);
    fk__free(l);
}

int fk__localaddr_poll(fk__localaddr *l)
{
    struct pollfd pfd = {nl_cache_mngr_get_fd(l->mngr), POLLIN, 0};
    if (poll(&pfd, 1, 0) <= 0)
        return 0;
    int n = nl_cache_mngr_data_ready(l->mngr);
    if (n < 0)
        return fk__error(FK_ENETLINK, "local addresses: nl_cache_mngr_data_ready: %s",
                         nl_geterror(n));
    if (n == 0)
        return 0;
    rebuild(l);
    return 1;
}

const fk__addrset *fk__localaddr_set(const fk__localaddr *l)
{
    return &l->set;
}
