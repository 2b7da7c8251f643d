/* Interface names learnt from options data, per exporter domain: a sorted
 * array with a bounded size (max_interfaces, counted when full). */
#include <string.h>

#include "collector/session_int.h"
#include "core/alloc.h"

/* ---- interface names ---------------------------------------------------- */

/* Index of the first entry with ifindex >= key. */
static size_t ifname_lower(const domain *d, uint32_t key)
{
    size_t lo = 0, hi = d->nifs;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (d->ifs[mid].ifindex < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

const char *fk__col_ifname_find(const domain *d, uint32_t ifindex)
{
    size_t i = ifname_lower(d, ifindex);
    return i < d->nifs && d->ifs[i].ifindex == ifindex ? d->ifs[i].name : NULL;
}

/* An options record named an interface: keep (or update) the name. The
 * interfaceName wins over an interfaceDescription for the same index. */
void fk__col_ifname_cb(void *user, const fk__col_ifname *in)
{
    msg_ctx *c = user;
    fk__col_sessions *s = c->s;
    domain *d = c->d;
    uint64_t serial = c->s->msg_serial;
    bool from_name = in->name_len > 0;
    const char *text = from_name ? in->name : in->desc;
    size_t len = from_name ? in->name_len : in->desc_len;
    if (len > FK_FLOW_IFNAME_MAX)
        len = FK_FLOW_IFNAME_MAX;
    size_t i = ifname_lower(d, in->ifindex);
    ifname_ent *e;
    if (i < d->nifs && d->ifs[i].ifindex == in->ifindex) {
        e = &d->ifs[i];
        if (e->from_name && !from_name)
            return;
    } else {
        if (d->nifs >= s->lim.max_interfaces) {
            s->stats->interface_limit++;
            return;
        }
        if (d->nifs == d->capifs) {
            size_t cap = d->capifs ? d->capifs * 2 : 8;
            if (cap > s->lim.max_interfaces)
                cap = s->lim.max_interfaces;
            ifname_ent *n = fk__reallocarray(d->ifs, cap, sizeof *n);
            if (!n) {
                s->stats->interface_limit++;
                return;
            }
            d->ifs = n;
            d->capifs = cap;
        }
        memmove(&d->ifs[i + 1], &d->ifs[i], (d->nifs - i) * sizeof *d->ifs);
        d->nifs++;
        s->stats->interface_names++;
        e = &d->ifs[i];
        e->ifindex = in->ifindex;
    }
    e->from_name = from_name;
    e->serial = serial;
    memcpy(e->name, text, len);
    e->name[len] = '\0';
}
