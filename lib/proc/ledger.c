#include "proc/ledger.h"

#include <net/if.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"

void fk__ledger_init(fk__ledger *l, uint32_t history_seconds, double alpha)
{
    memset(l, 0, sizeof *l);
    l->history_seconds = history_seconds;
    l->alpha = alpha;
    fk__hmap_init(&l->conns, sizeof(fk__tkey), sizeof(fk__conn *));
}

static void row_free(fk__row *r)
{
    fk__free(r->user);
    fk__free(r->exe);
    fk__free(r->cmdline);
    fk__free(r->cgroup);
    fk__ring_free(&r->ring);
    fk__free(r->devs);
    fk__free(r);
}

void fk__ledger_free(fk__ledger *l)
{
    size_t pos = 0;
    for (fk__conn *c; (c = fk__ledger_conn_next(l, &pos)) != NULL;)
        fk__free(c);
    fk__hmap_free(&l->conns);
    for (size_t i = 0; i < l->n_rows; i++)
        row_free(l->row_list[i]);
    fk__free(l->row_list);
    fk__free(l->ifnames);
    fk__u64map_free(&l->rows);
    memset(l, 0, sizeof *l);
}

static uint64_t row_key(uint32_t pid, uint8_t proto)
{
    return pid ? pid : ((uint64_t)proto << 32);
}

fk__row *fk__ledger_row_find(const fk__ledger *l, uint32_t pid, uint8_t proto)
{
    uint64_t v;
    return fk__u64map_get(&l->rows, row_key(pid, proto), &v) ? (fk__row *)(uintptr_t)v : NULL;
}

fk__row *fk__ledger_row_get(fk__ledger *l, uint32_t pid, uint8_t proto, bool *created)
{
    if (created)
        *created = false;
    fk__row *r = fk__ledger_row_find(l, pid, proto);
    if (r)
        return r;
    r = FK__NEW(fk__row);
    if (!r)
        return NULL;
    if (fk__ring_init(&r->ring, l->history_seconds, l->alpha) < 0) {
        fk__free(r);
        return NULL;
    }
    r->pid = pid;
    r->uid = UINT32_MAX;
    r->out_index = -1;
    if (pid) {
        r->needs_info = true;
    } else {
        r->proto = proto;
        snprintf(r->name, sizeof r->name, "unknown %s", proto == 6 ? "TCP" : "UDP");
    }
    if (l->n_rows == l->cap_rows) {
        size_t nc = l->cap_rows ? l->cap_rows * 2 : 32;
        fk__row **n = fk__reallocarray(l->row_list, nc, sizeof *n);
        if (!n) {
            row_free(r);
            return NULL;
        }
        l->row_list = n;
        l->cap_rows = nc;
    }
    if (fk__u64map_put(&l->rows, row_key(pid, proto), (uint64_t)(uintptr_t)r) < 0) {
        row_free(r);
        return NULL;
    }
    l->row_list[l->n_rows++] = r;
    if (created)
        *created = true;
    return r;
}

/* Count bytes of a row on a device (0 = unknown device: not counted). */
static void row_dev_add(fk__row *r, uint32_t ifindex, int64_t sent, int64_t recv)
{
    if (!ifindex)
        return;
    size_t i = 0;
    while (i < r->ndevs && r->devs[i].ifindex != ifindex)
        i++;
    if (i == r->ndevs) {
        if (r->ndevs == r->capdevs) {
            size_t nc = r->capdevs ? r->capdevs * 2 : 2;
            fk__rowdev *n = fk__reallocarray(r->devs, nc, sizeof *n);
            if (!n)
                return; /* the totals stay right; only the device split loses these */
            r->devs = n;
            r->capdevs = nc;
        }
        r->devs[r->ndevs++] = (fk__rowdev){.ifindex = ifindex};
    }
    r->devs[i].sent += (uint64_t)sent;
    r->devs[i].recv += (uint64_t)recv;
}

fk__conn *fk__ledger_conn_find(const fk__ledger *l, const fk__tkey *k)
{
    fk__conn **c = fk__hmap_get(&l->conns, k);
    return c ? *c : NULL;
}

fk__conn *fk__ledger_conn_next(const fk__ledger *l, size_t *pos)
{
    void *v;
    return fk__hmap_next(&l->conns, pos, NULL, &v) ? *(fk__conn **)v : NULL;
}

fk__conn *fk__ledger_conn_add(fk__ledger *l, const fk__tkey *k)
{
    fk__conn *c = FK__NEW(fk__conn);
    if (!c)
        return NULL;
    c->key = *k;
    if (fk__hmap_put(&l->conns, k, &c, NULL) < 0) {
        fk__free(c);
        return NULL;
    }
    return c;
}

void fk__ledger_set_owner(fk__ledger *l, fk__conn *c, fk__row *to)
{
    (void)l;
    fk__row *from = c->owner;
    if (from == to)
        return;
    if (from) {
        from->sent_bytes -= c->sent_bytes;
        from->recv_bytes -= c->recv_bytes;
        from->sent_packets -= c->sent_packets;
        from->recv_packets -= c->recv_packets;
        row_dev_add(from, c->ifindex, -(int64_t)c->sent_bytes, -(int64_t)c->recv_bytes);
        from->refs--;
    }
    if (to) {
        to->sent_bytes += c->sent_bytes;
        to->recv_bytes += c->recv_bytes;
        to->sent_packets += c->sent_packets;
        to->recv_packets += c->recv_packets;
        row_dev_add(to, c->ifindex, (int64_t)c->sent_bytes, (int64_t)c->recv_bytes);
        to->refs++;
    }
    c->owner = to;
}

void fk__ledger_count(fk__ledger *l, fk__conn *c, bool sent, uint32_t len, uint8_t tcp_flags,
                      int64_t ts_ns)
{
    (void)l;
    fk__row *r = c->owner;
    int64_t sec = ts_ns / 1000000000;
    if (sent)
        c->flags_sent |= tcp_flags;
    else
        c->flags_recv |= tcp_flags;
    if (sent) {
        c->sent_bytes += len;
        c->sent_packets++;
        r->sent_bytes += len;
        r->sent_packets++;
        fk__ring_add(&r->ring, sec, len, 0);
        row_dev_add(r, c->ifindex, (int64_t)len, 0);
    } else {
        c->recv_bytes += len;
        c->recv_packets++;
        r->recv_bytes += len;
        r->recv_packets++;
        fk__ring_add(&r->ring, sec, 0, len);
        row_dev_add(r, c->ifindex, 0, (int64_t)len);
    }
    c->last_ns = ts_ns;
}

/* TCP flag bits */
#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_ACK 0x10

uint8_t fk__ledger_tcp_state(const fk__conn *c)
{
    if (c->key.proto != 6)
        return FK_RANK_TCP_NONE;
    uint8_t all = c->flags_sent | c->flags_recv;
    if ((all & TCP_RST) || ((c->flags_sent & TCP_FIN) && (c->flags_recv & TCP_FIN)))
        return FK_RANK_TCP_CLOSED;
    if (all & TCP_FIN)
        return FK_RANK_TCP_CLOSING;
    /* The handshake completed (ACKs both ways), or a connection joined
     * mid-stream (ACKs and no SYN seen). */
    if (((c->flags_sent & TCP_ACK) && (c->flags_recv & TCP_ACK)) ||
        ((all & TCP_ACK) && !(all & TCP_SYN)))
        return FK_RANK_TCP_ESTABLISHED;
    return FK_RANK_TCP_OPENING;
}

void fk__ledger_expire(fk__ledger *l, int64_t now_ns, int64_t idle_ns)
{
    size_t pos = 0;
    for (fk__conn *c; (c = fk__ledger_conn_next(l, &pos)) != NULL;) {
        if (now_ns - c->last_ns > idle_ns) {
            fk__hmap_del_current(&l->conns, &pos);
            if (c->owner)
                c->owner->refs--;
            fk__free(c);
        }
    }
}

size_t fk__ledger_gc_rows(fk__ledger *l, fk__ledger_gone_cb gone, void *user)
{
    size_t dropped = 0;
    for (size_t i = 0; i < l->n_rows;) {
        fk__row *r = l->row_list[i];
        if (r->pid && !r->refs && !r->sent_packets && !r->recv_packets && gone(r->pid, user)) {
            fk__u64map_del(&l->rows, r->pid);
            l->row_list[i] = l->row_list[--l->n_rows];
            row_free(r);
            dropped++;
            continue;
        }
        i++;
    }
    return dropped;
}

int fk__ledger_check(const fk__ledger *l)
{
    fk__u64map owned = {0};
    int rc = 0;
    size_t pos = 0;
    for (const fk__conn *c; !rc && (c = fk__ledger_conn_next(l, &pos)) != NULL;) {
        if (!c->owner)
            continue;
        uint64_t n = 0, key = (uint64_t)(uintptr_t)c->owner;
        fk__u64map_get(&owned, key, &n);
        if (fk__u64map_put(&owned, key, n + 1) < 0)
            rc = fk__error(FK_ENOMEM, "ledger check: out of memory");
    }
    for (size_t i = 0; i < l->n_rows && !rc; i++) {
        const fk__row *r = l->row_list[i];
        uint64_t n = 0;
        fk__u64map_get(&owned, (uint64_t)(uintptr_t)r, &n);
        if (n != r->refs)
            rc = fk__error(FK_ESTATE, "ledger: row of pid %u owns %llu connections, refs %u",
                           r->pid, (unsigned long long)n, r->refs);
    }
    fk__u64map_free(&owned);
    return rc;
}

void fk__ledger_learn_ifname(fk__ledger *l, uint32_t ifindex)
{
    if (!ifindex)
        return;
    for (size_t i = 0; i < l->n_ifnames; i++)
        if (l->ifnames[i].ifindex == ifindex)
            return;
    if (l->n_ifnames == l->cap_ifnames) {
        size_t nc = l->cap_ifnames ? l->cap_ifnames * 2 : 8;
        fk__ifname *n = fk__reallocarray(l->ifnames, nc, sizeof *n);
        if (!n)
            return;
        l->ifnames = n;
        l->cap_ifnames = nc;
    }
    fk__ifname *e = &l->ifnames[l->n_ifnames++];
    memset(e, 0, sizeof *e);
    e->ifindex = ifindex;
    char buf[IF_NAMESIZE > FK_RANK_DEV_NAME_MAX ? IF_NAMESIZE : FK_RANK_DEV_NAME_MAX] = "";
    if (if_indextoname(ifindex, buf))
        snprintf(e->name, sizeof e->name, "%s", buf);
}

const char *fk__ledger_ifname(const fk__ledger *l, uint32_t ifindex)
{
    for (size_t i = 0; ifindex && i < l->n_ifnames; i++)
        if (l->ifnames[i].ifindex == ifindex)
            return l->ifnames[i].name;
    return "";
}
