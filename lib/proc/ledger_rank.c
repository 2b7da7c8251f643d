/* A rank snapshot of the ledger: rows sorted by a key, each with its
 * devices and connections, copied so that the snapshot is immutable. */
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "proc/ledger.h"

typedef struct rank_item {
    fk__row *r;
    double sent_rate, recv_rate;
} rank_item;
static double sort_value(const rank_item *it, fk_rank_sort key)
{
    switch (key) {
    case FK_RANK_SORT_RATE:
        return it->sent_rate + it->recv_rate;
    case FK_RANK_SORT_SENT_RATE:
        return it->sent_rate;
    case FK_RANK_SORT_RECV_RATE:
        return it->recv_rate;
    case FK_RANK_SORT_BYTES:
        return (double)(it->r->sent_bytes + it->r->recv_bytes);
    case FK_RANK_SORT_SENT_BYTES:
        return (double)it->r->sent_bytes;
    case FK_RANK_SORT_RECV_BYTES:
        return (double)it->r->recv_bytes;
    }
    return 0.0;
}

/* Insertion into a sorted array keeps this qsort-free and key-parametric. */
static void sort_items(rank_item *items, size_t n, fk_rank_sort key)
{
    for (size_t i = 1; i < n; i++) {
        rank_item x = items[i];
        double v = sort_value(&x, key);
        size_t j = i;
        while (j > 0) {
            double w = sort_value(&items[j - 1], key);
            /* Descending; ties by total bytes, then pid ascending. */
            bool before =
                v > w || (v == w && (x.r->sent_bytes + x.r->recv_bytes >
                                         items[j - 1].r->sent_bytes + items[j - 1].r->recv_bytes ||
                                     (x.r->sent_bytes + x.r->recv_bytes ==
                                          items[j - 1].r->sent_bytes + items[j - 1].r->recv_bytes &&
                                      x.r->pid < items[j - 1].r->pid)));
            if (!before)
                break;
            items[j] = items[j - 1];
            j--;
        }
        items[j] = x;
    }
}

static char *dup_or_empty(const char *s)
{
    return fk__strdup(s ? s : "");
}

/* The row's last `count` complete seconds (count <= history_seconds). */
static int fill_history(fk__row *r, int64_t now_sec, uint32_t count, fk_rank_row *o)
{
    if (!count)
        return 0;
    fk_rank_second *h = fk__calloc(count, sizeof *h);
    uint64_t *sent = fk__calloc(count, sizeof *sent);
    uint64_t *recv = fk__calloc(count, sizeof *recv);
    if (!h || !sent || !recv) {
        fk__free(h);
        fk__free(sent);
        fk__free(recv);
        return fk__error(FK_ENOMEM, "rank: out of memory");
    }
    int64_t first = fk__ring_seconds(&r->ring, now_sec, count, sent, recv);
    for (uint32_t i = 0; i < count; i++) {
        h[i].sec = first + (int64_t)i;
        h[i].sent_bytes = sent[i];
        h[i].recv_bytes = recv[i];
    }
    fk__free(sent);
    fk__free(recv);
    o->history = h;
    o->history_count = count;
    return 0;
}

int fk__ledger_rank(fk__ledger *l, int64_t now_ns, const fk__rank_query *q, fk_rank_snapshot **out)
{
    size_t limit = q->limit;
    uint32_t recent_sec = q->recent_sec;
    fk_rank_sort key = q->key;
    if (!out)
        return fk__error(FK_EINVAL, "rank: out must not be NULL");
    if (q->history > l->history_seconds)
        return fk__error(FK_ERANGE, "rank: rank_history = %u is more than history_seconds = %u",
                         q->history, l->history_seconds);
    if (recent_sec < 1 || recent_sec > l->history_seconds)
        return fk__error(FK_ERANGE, "rank: recent_sec = %u is out of range [1, %u]", recent_sec,
                         l->history_seconds);
    if ((int)key < FK_RANK_SORT_RATE || key > FK_RANK_SORT_RECV_BYTES)
        return fk__error(FK_EINVAL, "rank: unknown sort key %d", (int)key);
    int rc = 0;
    int64_t now_sec = now_ns / 1000000000;
    rank_item *items = fk__calloc(l->n_rows ? l->n_rows : 1, sizeof *items);
    fk_rank_snapshot *snap = FK__NEW(fk_rank_snapshot);
    fk_rank_row *rows = NULL;
    size_t n = 0;
    if (!items || !snap) {
        rc = fk__error(FK_ENOMEM, "rank: out of memory");
        goto done;
    }
    for (size_t i = 0; i < l->n_rows; i++) {
        fk__row *r = l->row_list[i];
        r->out_index = -1;
        if (!r->sent_bytes && !r->recv_bytes)
            continue;
        uint64_t s, v;
        fk__ring_window(&r->ring, now_sec, recent_sec, &s, &v);
        items[n].r = r;
        items[n].sent_rate = (double)s / recent_sec;
        items[n].recv_rate = (double)v / recent_sec;
        n++;
    }
    sort_items(items, n, key);
    if (limit && n > limit)
        n = limit;
    rows = fk__calloc(n ? n : 1, sizeof *rows);
    if (!rows) {
        rc = fk__error(FK_ENOMEM, "rank: out of memory");
        goto done;
    }
    snap->rows = rows;
    for (size_t i = 0; i < n; i++) {
        const fk__row *r = items[i].r;
        fk_rank_row *o = &rows[i];
        items[i].r->out_index = (long)i;
        o->pid = r->pid;
        o->uid = r->uid;
        o->proto = r->proto;
        o->name = dup_or_empty(r->name);
        o->user = dup_or_empty(r->user);
        o->exe = dup_or_empty(r->exe);
        o->cmdline = dup_or_empty(r->cmdline);
        o->cgroup = dup_or_empty(r->cgroup);
        snap->count = i + 1;
        if (!o->name || !o->user || !o->exe || !o->cmdline || !o->cgroup) {
            rc = fk__error(FK_ENOMEM, "rank: out of memory");
            goto done;
        }
        o->sent_bytes = r->sent_bytes;
        o->recv_bytes = r->recv_bytes;
        o->sent_packets = r->sent_packets;
        o->recv_packets = r->recv_packets;
        o->sent_rate = items[i].sent_rate;
        o->recv_rate = items[i].recv_rate;
        o->sent_ewma = r->ring.sent_ewma;
        o->recv_ewma = r->ring.recv_ewma;
        if ((rc = fill_history(items[i].r, now_sec, q->history, o)) < 0)
            goto done;
        o->dev = "";
        if (r->ndevs) {
            fk_rank_dev *d = fk__calloc(r->ndevs, sizeof *d);
            if (!d) {
                rc = fk__error(FK_ENOMEM, "rank: out of memory");
                goto done;
            }
            size_t nd = 0;
            for (size_t j = 0; j < r->ndevs; j++) {
                if (!r->devs[j].sent && !r->devs[j].recv)
                    continue; /* its connections moved to another row */
                /* Most bytes first (insertion; a row has few devices). */
                fk_rank_dev x = {.ifindex = r->devs[j].ifindex,
                                 .sent_bytes = r->devs[j].sent,
                                 .recv_bytes = r->devs[j].recv};
                snprintf(x.name, sizeof x.name, "%s", fk__ledger_ifname(l, x.ifindex));
                size_t k = nd++;
                while (k > 0 &&
                       (d[k - 1].sent_bytes + d[k - 1].recv_bytes < x.sent_bytes + x.recv_bytes ||
                        (d[k - 1].sent_bytes + d[k - 1].recv_bytes == x.sent_bytes + x.recv_bytes &&
                         d[k - 1].ifindex > x.ifindex))) {
                    d[k] = d[k - 1];
                    k--;
                }
                d[k] = x;
            }
            o->devs = d;
            o->dev_count = nd;
            if (nd)
                o->dev = d[0].name;
        }
    }
    /* Drill-down: count, allocate, fill. */
    size_t pos = 0;
    for (const fk__conn *c; (c = fk__ledger_conn_next(l, &pos)) != NULL;)
        if (c->owner && c->owner->out_index >= 0)
            rows[c->owner->out_index].conn_count++;
    for (size_t i = 0; i < n; i++) {
        if (!rows[i].conn_count)
            continue;
        rows[i].conns = fk__calloc(rows[i].conn_count, sizeof(fk_rank_conn));
        if (!rows[i].conns) {
            rc = fk__error(FK_ENOMEM, "rank: out of memory");
            goto done;
        }
        rows[i].conn_count = 0;
    }
    pos = 0;
    for (const fk__conn *c; (c = fk__ledger_conn_next(l, &pos)) != NULL;) {
        if (!c->owner || c->owner->out_index < 0)
            continue;
        fk_rank_row *o = &rows[c->owner->out_index];
        fk_rank_conn *x = (fk_rank_conn *)&o->conns[o->conn_count++];
        fk__tkey_addr(&x->local, c->key.l);
        fk__tkey_addr(&x->remote, c->key.r);
        x->local_port = c->key.lp;
        x->remote_port = c->key.rp;
        x->proto = c->key.proto;
        x->sent_bytes = c->sent_bytes;
        x->recv_bytes = c->recv_bytes;
        x->sent_packets = c->sent_packets;
        x->recv_packets = c->recv_packets;
        x->first_ns = c->first_ns;
        x->last_ns = c->last_ns;
        x->ifindex = c->ifindex;
        x->tcp_state = fk__ledger_tcp_state(c);
        snprintf(x->dev, sizeof x->dev, "%s", fk__ledger_ifname(l, c->ifindex));
    }
    snap->time_ns = now_ns;
    snap->window_sec = recent_sec;
done:
    for (size_t i = 0; i < l->n_rows; i++)
        l->row_list[i]->out_index = -1;
    fk__free(items);
    if (rc) {
        if (snap && !snap->rows)
            fk__free(rows);
        fk_rank_snapshot_destroy(snap);
        return rc;
    }
    *out = snap;
    return 0;
}
