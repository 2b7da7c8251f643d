/* Rank snapshots: free, names, JSON. */
#include <flowkit/rank.h>
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/strbuf.h"

void fk_rank_snapshot_destroy(fk_rank_snapshot *snapshot)
{
    if (!snapshot)
        return;
    fk_rank_row *rows = (fk_rank_row *)snapshot->rows;
    for (size_t i = 0; rows && i < snapshot->count; i++) {
        fk__free((char *)rows[i].name);
        fk__free((char *)rows[i].user);
        fk__free((char *)rows[i].exe);
        fk__free((char *)rows[i].cmdline);
        fk__free((char *)rows[i].cgroup);
        fk__free((fk_rank_conn *)rows[i].conns);
        fk__free((fk_rank_dev *)rows[i].devs);
        fk__free((fk_rank_second *)rows[i].history);
    }
    fk__free(rows);
    fk__free(snapshot);
}

const char *fk_rank_sort_name(fk_rank_sort key)
{
    switch (key) {
    case FK_RANK_SORT_RATE:
        return "rate";
    case FK_RANK_SORT_SENT_RATE:
        return "sent_rate";
    case FK_RANK_SORT_RECV_RATE:
        return "recv_rate";
    case FK_RANK_SORT_BYTES:
        return "bytes";
    case FK_RANK_SORT_SENT_BYTES:
        return "sent_bytes";
    case FK_RANK_SORT_RECV_BYTES:
        return "recv_bytes";
    }
    return "unknown";
}

const char *fk_rank_tcp_state_name(int state)
{
    switch (state) {
    case FK_RANK_TCP_OPENING:
        return "opening";
    case FK_RANK_TCP_ESTABLISHED:
        return "established";
    case FK_RANK_TCP_CLOSING:
        return "closing";
    case FK_RANK_TCP_CLOSED:
        return "closed";
    default:
        return "";
    }
}

/* A rate in bytes/s with one decimal. Bounded: not finite → null, and
 * beyond ±1e19 (no link moves that) clamped, so a row has a fixed bound. */
static void json_rate(fk__strbuf *j, const char *key, double v)
{
    if (!isfinite(v)) {
        fk__strbuf_printf(j, ",\"%s\":null", key);
        return;
    }
    if (v > 1e19)
        v = 1e19;
    else if (v < -1e19)
        v = -1e19;
    fk__strbuf_printf(j, ",\"%s\":%.1f", key, v);
}

static void json_time(fk__strbuf *j, const char *key, int64_t ns)
{
    char t[40];
    if (fk_time_format(ns, t, sizeof t) < 0)
        fk__strbuf_printf(j, ",\"%s\":null", key);
    else
        fk__strbuf_printf(j, ",\"%s\":\"%s\"", key, t);
}

static uint64_t conn_bytes(const fk_rank_conn *c)
{
    return c->sent_bytes > UINT64_MAX - c->recv_bytes ? UINT64_MAX : c->sent_bytes + c->recv_bytes;
}

/* Order of the listed connections: most bytes first, then snapshot order. */
static bool conn_before(const fk_rank_conn *cs, size_t a, size_t b)
{
    uint64_t x = conn_bytes(&cs[a]), y = conn_bytes(&cs[b]);
    return x > y || (x == y && a < b);
}

static void json_conn(fk__strbuf *j, const fk_rank_conn *c, bool first)
{
    char l[FK_ADDR_STRLEN] = "", r[FK_ADDR_STRLEN] = "";
    if (fk_addr_format(&c->local, l, sizeof l) < 0)
        l[0] = '\0';
    if (fk_addr_format(&c->remote, r, sizeof r) < 0)
        r[0] = '\0';
    if (c->proto == 6 || c->proto == 17)
        fk__strbuf_printf(j, "%s{\"proto\":\"%s\"", first ? "" : ",",
                          c->proto == 6 ? "tcp" : "udp");
    else
        fk__strbuf_printf(j, "%s{\"proto\":%u", first ? "" : ",", (unsigned)c->proto);
    fk__strbuf_printf(j, ",\"local\":");
    fk__strbuf_json_string(j, l, sizeof l);
    fk__strbuf_printf(j, ",\"local_port\":%u,\"remote\":", (unsigned)c->local_port);
    fk__strbuf_json_string(j, r, sizeof r);
    fk__strbuf_printf(j,
                      ",\"remote_port\":%u,\"sent_bytes\":%" PRIu64 ",\"recv_bytes\":%" PRIu64
                      ",\"sent_packets\":%" PRIu64 ",\"recv_packets\":%" PRIu64,
                      (unsigned)c->remote_port, c->sent_bytes, c->recv_bytes, c->sent_packets,
                      c->recv_packets);
    json_time(j, "first", c->first_ns);
    json_time(j, "last", c->last_ns);
    fk__strbuf_printf(j, ",\"dev\":");
    fk__strbuf_json_string(j, c->dev, sizeof c->dev);
    if (c->proto == 6 && *fk_rank_tcp_state_name(c->tcp_state))
        fk__strbuf_printf(j, ",\"state\":\"%s\"}", fk_rank_tcp_state_name(c->tcp_state));
    else
        fk__strbuf_printf(j, ",\"state\":null}");
}

/* The FK_RANK_JSON_CONNS_MAX connections with most bytes, without sorting
 * (the snapshot is immutable and this allocates nothing): each pass picks
 * the first connection in list order after the one picked before. */
static void json_conns(fk__strbuf *j, const fk_rank_row *r)
{
    fk__strbuf_printf(j, ",\"conns\":[");
    size_t prev = SIZE_MAX;
    for (size_t k = 0; r->conns && k < r->conn_count && k < FK_RANK_JSON_CONNS_MAX; k++) {
        size_t best = SIZE_MAX;
        for (size_t i = 0; i < r->conn_count; i++) {
            if (prev != SIZE_MAX && !conn_before(r->conns, prev, i))
                continue;
            if (best == SIZE_MAX || conn_before(r->conns, i, best))
                best = i;
        }
        if (best == SIZE_MAX)
            break;
        json_conn(j, &r->conns[best], k == 0);
        prev = best;
    }
    fk__strbuf_printf(j, "]");
}

/* "history":{"start":SEC,"sent":[...],"recv":[...]} */
static void json_history(fk__strbuf *j, const fk_rank_row *r)
{
    if (!r->history || !r->history_count) {
        fk__strbuf_printf(j, ",\"history\":null");
        return;
    }
    fk__strbuf_printf(j, ",\"history\":{\"start\":%" PRId64 ",\"sent\":[", r->history[0].sec);
    for (size_t i = 0; i < r->history_count; i++)
        fk__strbuf_printf(j, "%s%" PRIu64, i ? "," : "", r->history[i].sent_bytes);
    fk__strbuf_printf(j, "],\"recv\":[");
    for (size_t i = 0; i < r->history_count; i++)
        fk__strbuf_printf(j, "%s%" PRIu64, i ? "," : "", r->history[i].recv_bytes);
    fk__strbuf_printf(j, "]}");
}

static void json_row(fk__strbuf *j, const fk_rank_row *r, unsigned flags, bool first)
{
    fk__strbuf_printf(j, "%s{\"pid\":%" PRIu32 ",\"name\":", first ? "" : ",", r->pid);
    fk__strbuf_json_string(j, r->name ? r->name : "", FK_RANK_JSON_NAME_MAX);
    fk__strbuf_printf(j, ",\"user\":");
    fk__strbuf_json_string(j, r->user ? r->user : "", FK_RANK_JSON_NAME_MAX);
    fk__strbuf_printf(j, ",\"exe\":");
    fk__strbuf_json_string(j, r->exe ? r->exe : "", FK_RANK_JSON_TEXT_MAX);
    fk__strbuf_printf(j, ",\"sent_bytes\":%" PRIu64 ",\"recv_bytes\":%" PRIu64, r->sent_bytes,
                      r->recv_bytes);
    json_rate(j, "sent_rate", r->sent_rate);
    json_rate(j, "recv_rate", r->recv_rate);
    fk__strbuf_printf(j,
                      ",\"sent_packets\":%" PRIu64 ",\"recv_packets\":%" PRIu64
                      ",\"connections\":%zu,\"dev\":",
                      r->sent_packets, r->recv_packets, r->conn_count);
    fk__strbuf_json_string(j, r->dev ? r->dev : "", FK_RANK_DEV_NAME_MAX);
    fk__strbuf_printf(j, ",\"devs\":[");
    /* The devices with most bytes; a row rarely has more. */
    for (size_t d = 0; r->devs && d < r->dev_count && d < FK_RANK_JSON_DEVS_MAX; d++) {
        const fk_rank_dev *x = &r->devs[d];
        fk__strbuf_printf(j, "%s{\"name\":", d ? "," : "");
        fk__strbuf_json_string(j, x->name, FK_RANK_DEV_NAME_MAX);
        fk__strbuf_printf(
            j, ",\"ifindex\":%" PRIu32 ",\"sent_bytes\":%" PRIu64 ",\"recv_bytes\":%" PRIu64 "}",
            x->ifindex, x->sent_bytes, x->recv_bytes);
    }
    fk__strbuf_printf(j, "]");
    /* Added after the first keys (the contract adds keys, never moves them). */
    if (r->uid == UINT32_MAX)
        fk__strbuf_printf(j, ",\"uid\":null");
    else
        fk__strbuf_printf(j, ",\"uid\":%" PRIu32, r->uid);
    fk__strbuf_printf(j, ",\"cmdline\":");
    fk__strbuf_json_string(j, r->cmdline ? r->cmdline : "", FK_RANK_JSON_TEXT_MAX);
    json_rate(j, "sent_ewma", r->sent_ewma);
    json_rate(j, "recv_ewma", r->recv_ewma);
    if (flags & FK_RANK_JSON_CONNS)
        json_conns(j, r);
    if (flags & FK_RANK_JSON_HISTORY)
        json_history(j, r);
    fk__strbuf_printf(j, "}");
}

int fk_rank_snapshot_to_json_ex(const fk_rank_snapshot *snapshot, unsigned flags, char *buf,
                                size_t size)
{
    if (!snapshot || !buf || !size)
        return fk__error(FK_EINVAL, "rank json: snapshot and buf must not be NULL");
    const unsigned known = FK_RANK_JSON_CONNS | FK_RANK_JSON_HISTORY;
    if (flags & ~known)
        return fk__error(FK_EINVAL, "rank json: unknown flags 0x%x", flags & ~known);
    if (snapshot->count && !snapshot->rows)
        return fk__error(FK_EINVAL, "rank json: %zu rows but no row array", snapshot->count);
    fk__strbuf j = FK__STRBUF(buf, size);
    char t[40] = "";
    fk_time_format(snapshot->time_ns, t, sizeof t);
    fk__strbuf_printf(&j, "{\"type\":\"rank\",\"time\":\"%s\",\"window\":%u,\"processes\":[", t,
                      snapshot->window_sec);
    for (size_t i = 0; i < snapshot->count; i++)
        json_row(&j, &snapshot->rows[i], flags, i == 0);
    fk__strbuf_printf(&j, "]}");
    if (j.overflow)
        return fk__error(FK_ENOSPACE, "rank json: %zu bytes are not enough", size);
    return (int)j.len;
}

int fk_rank_snapshot_to_json(const fk_rank_snapshot *snapshot, char *buf, size_t size)
{
    return fk_rank_snapshot_to_json_ex(snapshot, 0, buf, size);
}

static size_t add_sat(size_t a, size_t b)
{
    return a > SIZE_MAX - b ? SIZE_MAX : a + b;
}

size_t fk_rank_snapshot_json_size(const fk_rank_snapshot *snapshot, unsigned flags)
{
    size_t n = FK_RANK_JSON_HEAD_MAX;
    if (!snapshot)
        return n;
    for (size_t i = 0; i < snapshot->count && snapshot->rows; i++) {
        n = add_sat(n, FK_RANK_JSON_ROW_MAX);
        if (flags & FK_RANK_JSON_CONNS) {
            size_t c = snapshot->rows[i].conn_count;
            if (c > FK_RANK_JSON_CONNS_MAX)
                c = FK_RANK_JSON_CONNS_MAX;
            n = add_sat(n, c * FK_RANK_JSON_CONN_MAX);
        }
        if (flags & FK_RANK_JSON_HISTORY) {
            /* Two more for the key, "start" and the brackets. */
            size_t h = add_sat(snapshot->rows[i].history_count, 2);
            n = add_sat(n, h > SIZE_MAX / FK_RANK_JSON_SECOND_MAX ? SIZE_MAX
                                                                  : h * FK_RANK_JSON_SECOND_MAX);
        }
    }
    return n;
}
