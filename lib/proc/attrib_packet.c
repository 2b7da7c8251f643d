/* The attribution engine's packet path: a packet's direction and local
 * end(s), its connection in the ledger, the owner asked of the sources at
 * the connection's first packet (and retries), the bytes counted; and the
 * owner of a connection copied out for flow records and session events. */
#include <stdio.h>
#include <string.h>

#include <flowkit/session.h>

#include "core/log.h"
#include "proc/attrib_int.h"

static bool is_local(const fk__attrib *a, const fk_addr *addr)
{
    return (a->local && fk__addrset_has(fk__localaddr_set(a->local), addr)) ||
           fk__addrset_has(&a->extra_local, addr);
}

static bool has_socket(fk__attrib *a, const fk__tkey *k)
{
    for (size_t i = 0; i < a->n_sources; i++) {
        fk__source *s = a->sources[i];
        if (s->ops->has_socket && s->ops->has_socket(s, k))
            return true;
    }
    return false;
}

/* Ask the sources in order; FK__SRC_FOUND with *o filled, FK__SRC_LATER
 * when one has the socket but not its owner yet, or FK__SRC_NONE. */
static int ask_sources(fk__attrib *a, const fk__tkey *k, unsigned flags, int64_t ts_ns,
                       fk__owner *o)
{
    int result = FK__SRC_NONE;
    for (size_t i = 0; i < a->n_sources; i++) {
        fk__source *s = a->sources[i];
        int rc = s->ops->lookup(s, k, flags, ts_ns, o);
        if (rc == FK__SRC_FOUND && o->tgid)
            return FK__SRC_FOUND;
        if (rc == FK__SRC_LATER)
            result = FK__SRC_LATER;
    }
    return result;
}

/* The owner of a connection, at its first packet (sent by the local end
 * when `local_sent`) or a retry: the sources' live answer, then the owner
 * history (a socket closed already), then a listening socket. */
static void resolve(fk__attrib *a, fk__conn *c, int64_t now, bool local_sent)
{
    const fk__tkey *k = &c->key;
    unsigned flags =
        (c->tries == 0 ? FK__LOOKUP_FIRST : 0u) | (local_sent ? FK__LOOKUP_LOCAL_SENT : 0u);
    fk__owner o;
    memset(&o, 0, sizeof o);
    int st = ask_sources(a, k, flags, now, &o);
    if (st != FK__SRC_FOUND) {
        uint32_t pid = fk__attrib_history_get(a, k);
        if (pid) {
            a->stats.history_hits++;
            memset(&o, 0, sizeof o);
            o.tgid = o.pid = pid;
            o.uid = UINT32_MAX;
            st = FK__SRC_FOUND;
        }
    }
    if (st == FK__SRC_NONE)
        st = ask_sources(a, k, flags | FK__LOOKUP_LISTENER, now, &o);
    fk__row *r = st == FK__SRC_FOUND ? fk__attrib_row_for(a, &o) : NULL;
    if (r) {
        if (c->owner && c->owner != r)
            a->stats.resolved_late++;
        fk__ledger_set_owner(&a->ledger, c, r);
        c->resolved = true;
        return;
    }
    if (!c->owner)
        fk__ledger_set_owner(&a->ledger, c, fk__ledger_row_get(&a->ledger, 0, k->proto, NULL));
    c->tries++;
    int64_t backoff = (int64_t)5000000 << (c->tries < 9 ? c->tries : 9); /* 10 ms .. 2.56 s */
    c->retry_ns = now + backoff;
    if (c->tries >= 12)
        c->resolved = true; /* give up: stays unknown */
}

static fk__row *account(fk__attrib *a, const fk__tkey *k, bool sent, const fk__attrib_pkt *p)
{
    fk__conn *c = fk__ledger_conn_find(&a->ledger, k);
    if (!c) {
        c = fk__ledger_conn_add(&a->ledger, k);
        if (!c)
            return NULL;
        a->stats.conns++;
        c->first_ns = c->last_ns = p->ts_ns;
        c->ifindex = p->ifindex;
        fk__ledger_learn_ifname(&a->ledger, p->ifindex);
        resolve(a, c, p->ts_ns, sent);
    } else if (!c->resolved && p->ts_ns >= c->retry_ns) {
        resolve(a, c, p->ts_ns, sent);
    } else if (k->proto == 6 && (p->tcp_flags & 0x12) == 0x02 &&
               c->sent_packets + c->recv_packets && p->ts_ns - c->last_ns > 1000000000) {
        /* A fresh SYN on an old tuple: a new connection, maybe a new owner. */
        c->resolved = false;
        c->tries = 0;
        c->flags_sent = c->flags_recv = 0; /* its state starts again */
        resolve(a, c, p->ts_ns, sent);
    }
    if (!c->owner)
        return NULL;
    fk__ledger_count(&a->ledger, c, sent, p->ip_len, k->proto == 6 ? p->tcp_flags : 0, p->ts_ns);
    if (c->owner->pid)
        a->stats.hits++;
    else
        a->stats.misses++;
    return c->owner;
}

static fk__frag_slot *frag_lookup(fk__attrib *a, const fk__attrib_pkt *p)
{
    uint8_t s[16], d[16];
    fk__tkey_addr_norm(s, &p->src);
    fk__tkey_addr_norm(d, &p->dst);
    uint32_t h = p->frag_id * 2654435761u;
    for (int i = 0; i < 16; i++)
        h = (h ^ s[i] ^ ((uint32_t)d[i] << 8)) * 16777619u;
    fk__frag_slot *f = &a->frags[(h ^ p->proto) % FK__FRAG_SLOTS];
    if (p->frag == 1) {
        memcpy(f->src, s, 16);
        memcpy(f->dst, d, 16);
        f->id = p->frag_id;
        f->proto = p->proto;
        f->sport = p->sport;
        f->dport = p->dport;
        f->used = 1;
        return f;
    }
    if (f->used && f->id == p->frag_id && f->proto == p->proto && !memcmp(f->src, s, 16) &&
        !memcmp(f->dst, d, 16))
        return f;
    return NULL;
}

int fk__attrib_packet(fk__attrib *a, const fk__attrib_pkt *pin, uint32_t *pid_out, char *name_out)
{
    if (pid_out)
        *pid_out = 0;
    if (name_out)
        name_out[0] = '\0';
    if (pin->proto != 6 && pin->proto != 17)
        return 1;
    pthread_mutex_lock(&a->lock);
    fk__attrib_drain(a); /* owners learnt since the last packet first */
    fk__attrib_pkt copy;
    const fk__attrib_pkt *p = pin;
    if (pin->frag) {
        fk__frag_slot *f = frag_lookup(a, pin);
        if (!f) {
            pthread_mutex_unlock(&a->lock);
            return 1; /* its first fragment was not seen */
        }
        copy = *pin;
        copy.sport = f->sport;
        copy.dport = f->dport;
        copy.tcp_flags = pin->frag == 2 ? 0 : pin->tcp_flags;
        p = &copy;
    }
    if (p->ts_ns > a->now_ns)
        a->now_ns = p->ts_ns;
    bool out = false, in = false;
    if (p->dir == FK__DIR_OUT)
        out = true;
    else if (p->dir == FK__DIR_IN)
        in = true;
    else if (p->dir == FK__DIR_BOTH)
        out = in = true;
    else {
        out = is_local(a, &p->src);
        in = is_local(a, &p->dst);
        if (!out && !in) {
            /* Addresses unknown to rtnetlink: ask the socket table. */
            fk__tkey k;
            fk__tkey_make(&k, p->proto, &p->src, p->sport, &p->dst, p->dport);
            if (has_socket(a, &k))
                out = true;
            else {
                fk__tkey_make(&k, p->proto, &p->dst, p->dport, &p->src, p->sport);
                in = has_socket(a, &k);
            }
        }
    }
    fk__row *who = NULL;
    if (out) {
        fk__tkey k;
        fk__tkey_make(&k, p->proto, &p->src, p->sport, &p->dst, p->dport);
        who = account(a, &k, true, p);
    }
    if (in) {
        fk__tkey k;
        fk__tkey_make(&k, p->proto, &p->dst, p->dport, &p->src, p->sport);
        fk__row *r = account(a, &k, false, p);
        if (!who || !who->pid)
            who = r;
    }
    if (out || in)
        a->stats.packets++;
    if (who && pid_out)
        *pid_out = who->pid;
    if (who && name_out)
        snprintf(name_out, FK_PROCESS_NAME_MAX, "%s", who->name);
    pthread_mutex_unlock(&a->lock);
    return out || in ? 0 : 1;
}

/* ---- owners for flow records and session events --------------------------------- */

/* The owner of a connection, copied out under the lock (uid UINT32_MAX
 * and empty strings when unknown; strs may be NULL). */
static uint32_t owner_copy(fk__attrib *a, uint8_t proto, const fk_addr *src, uint16_t sport,
                           const fk_addr *dst, uint16_t dport, char *name, uint32_t *uid,
                           fk__attrib_strs *strs)
{
    *uid = UINT32_MAX;
    if (strs)
        strs->user[0] = strs->exe[0] = '\0';
    if (proto != 6 && proto != 17)
        return 0;
    pthread_mutex_lock(&a->lock);
    fk__attrib_drain(a); /* a late owner still names the record */
    uint32_t pid = 0;
    for (int side = 0; side < 2 && !pid; side++) {
        fk__tkey k;
        if (side == 0)
            fk__tkey_make(&k, proto, src, sport, dst, dport);
        else
            fk__tkey_make(&k, proto, dst, dport, src, sport);
        const fk__conn *c = fk__ledger_conn_find(&a->ledger, &k);
        /* (a row still without its name stays out of flows and events) */
        if (c && c->owner && c->owner->pid && !c->owner->needs_info) {
            const fk__row *r = c->owner;
            pid = r->pid;
            if (name)
                snprintf(name, FK_PROCESS_NAME_MAX, "%s", r->name);
            *uid = r->uid;
            if (strs) {
                snprintf(strs->user, sizeof strs->user, "%s", r->user ? r->user : "");
                snprintf(strs->exe, sizeof strs->exe, "%s", r->exe ? r->exe : "");
            }
        }
    }
    pthread_mutex_unlock(&a->lock);
    return pid;
}

uint32_t fk__attrib_owner(fk__attrib *a, uint8_t proto, const fk_addr *src, uint16_t sport,
                          const fk_addr *dst, uint16_t dport, char *name)
{
    uint32_t uid;
    return owner_copy(a, proto, src, sport, dst, dport, name, &uid, NULL);
}

void fk__attrib_fill_flow(fk__attrib *a, fk_flow *f, fk__attrib_strs *strs)
{
    char name[FK_PROCESS_NAME_MAX];
    uint32_t uid;
    uint32_t pid =
        owner_copy(a, f->proto, &f->src, f->src_port, &f->dst, f->dst_port, name, &uid, strs);
    if (!pid)
        return;
    f->pid = pid;
    memcpy(f->process, name, sizeof f->process);
    f->present |= FK_FLOW_HAS_PROCESS;
    if (uid != UINT32_MAX) {
        f->uid = uid;
        f->present |= FK_FLOW_HAS_UID;
    }
    f->user = strs->user[0] ? strs->user : NULL;
    f->exe = strs->exe[0] ? strs->exe : NULL;
}

void fk__attrib_fill_session(fk__attrib *a, fk_session_event *e, fk__attrib_strs *strs)
{
    char name[FK_PROCESS_NAME_MAX];
    uint32_t uid;
    uint32_t pid =
        owner_copy(a, e->proto, &e->src, e->src_port, &e->dst, e->dst_port, name, &uid, strs);
    if (!pid)
        return;
    e->pid = pid;
    memcpy(e->process, name, sizeof e->process);
    e->present |= FK_SESSION_HAS_PROCESS;
    if (uid != UINT32_MAX) {
        e->uid = uid;
        e->present |= FK_SESSION_HAS_UID;
    }
    e->user = strs->user[0] ? strs->user : NULL;
    e->exe = strs->exe[0] ? strs->exe : NULL;
}
