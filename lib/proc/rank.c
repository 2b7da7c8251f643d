/* Rank snapshots: free, names, JSON. */
#include <flowkit/rank.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/strbuf.h"

void fk_rank_snapshot_free(fk_rank_snapshot *snapshot)
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

int fk_rank_snapshot_to_json(const fk_rank_snapshot *snapshot, char *buf, size_t size)
{
    if (!snapshot || !buf || !size)
        return fk__error(FK_EINVAL, "rank json: snapshot and buf must not be NULL");
    fk__strbuf j = FK__STRBUF(buf, size);
    char t[32];
    fk_time_format(snapshot->time_ns, t, sizeof t);
    fk__strbuf_printf(&j, "{\"type\":\"rank\",\"time\":\"%s\",\"window\":%u,\"processes\":[", t,
                      snapshot->window_sec);
    for (size_t i = 0; i < snapshot->count; i++) {
        const fk_rank_row *r = &snapshot->rows[i];
        fk__strbuf_printf(&j, "%s{\"pid\":%" PRIu32 ",\"name\":", i ? "," : "", r->pid);
        fk__strbuf_json_string(&j, r->name, 64);
        fk__strbuf_printf(&j, ",\"user\":");
        fk__strbuf_json_string(&j, r->user, 64);
        fk__strbuf_printf(&j, ",\"exe\":");
        fk__strbuf_json_string(&j, r->exe, 1024);
        fk__strbuf_printf(&j,
                          ",\"sent_bytes\":%" PRIu64 ",\"recv_bytes\":%" PRIu64
                          ",\"sent_rate\":%.1f"
                          ",\"recv_rate\":%.1f,\"sent_packets\":%" PRIu64
                          ",\"recv_packets\":%" PRIu64 ",\"connections\":%zu,\"dev\":",
                          r->sent_bytes, r->recv_bytes, r->sent_rate, r->recv_rate, r->sent_packets,
                          r->recv_packets, r->conn_count);
        fk__strbuf_json_string(&j, r->dev ? r->dev : "", FK_RANK_DEV_NAME_MAX);
        fk__strbuf_printf(&j, ",\"devs\":[");
        /* The devices with most bytes; a row rarely has more. */
        for (size_t d = 0; r->devs && d < r->dev_count && d < FK_RANK_JSON_DEVS_MAX; d++) {
            const fk_rank_dev *x = &r->devs[d];
            fk__strbuf_printf(&j, "%s{\"name\":", d ? "," : "");
            fk__strbuf_json_string(&j, x->name, FK_RANK_DEV_NAME_MAX);
            fk__strbuf_printf(&j,
                              ",\"ifindex\":%" PRIu32 ",\"sent_bytes\":%" PRIu64
                              ",\"recv_bytes\":%" PRIu64 "}",
                              x->ifindex, x->sent_bytes, x->recv_bytes);
        }
        fk__strbuf_printf(&j, "]}");
    }
    fk__strbuf_printf(&j, "]}");
    if (j.overflow)
        return fk__error(FK_ENOSPACE, "rank json: %zu bytes are not enough", size);
    return (int)j.len;
}
