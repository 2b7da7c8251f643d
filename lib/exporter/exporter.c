/* fk_exporter: the IPFIX exporting process. Builds one message at a time
 * (msg.c) and hands a copy to every destination: UDP sends it at once
 * (udp.c), TCP queues it (bounded) and writes it when the connection can
 * take it (tcp.c). Templates are templates.c, records in records.c. */
#include <inttypes.h>
#include <flowkit/exporter.h>
#include <limits.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/sized.h"
#include "core/params.h"
#include "exporter/exporter_internal.h"
#include "exporter/exporter_state.h"

static const fk_param_info exporter_table[] = {
    {FK_EXP_ODID, "odid", FK_PARAM_INT, 0, 0, UINT32_MAX, 1, 0, 0, 0, NULL, "",
     "observation domain id in every message header"},
    {FK_EXP_MTU, "mtu", FK_PARAM_INT, 0, 1024, 65535, 1400, 0, 0, 0, NULL, "bytes",
     "largest IPFIX message (UDP payload)"},
    {FK_EXP_CHUNK_SIZE, "chunk_size", FK_PARAM_INT, 0, 0, 65535, 0, 0, 0, 0, NULL, "records",
     "most data records per message; 0 = as many as fit in the MTU"},
    {FK_EXP_FLUSH_INTERVAL_MS, "flush_interval", FK_PARAM_INT, 0, 1, 3600000, 1000, 0, 0, 0, NULL,
     "ms", "longest time a record waits before its message is sent"},
    {FK_EXP_PEN, "pen", FK_PARAM_INT, 0, 1, UINT32_MAX, FK_EXPORTER_DEFAULT_PEN, 0, 0, 0, NULL, "",
     "private enterprise number of the process elements (32473 = RFC 5612 placeholder)"},
    {FK_EXP_BIFLOW, "biflow", FK_PARAM_BOOL, 0, 0, 1, 0, 0, 0, 0, NULL, "",
     "biflows as one record with RFC 5103 reverse counters (1) or two records, one per "
     "direction (0: every collector counts every byte)"},
    {FK_EXP_TEMPLATE_REFRESH_SEC, "template_refresh", FK_PARAM_INT, 0, 0, 86400, 60, 0, 0, 0, NULL,
     "s", "UDP: resend templates after this many seconds; 0 = never"},
    {FK_EXP_TEMPLATE_REFRESH_MSGS, "template_refresh_messages", FK_PARAM_INT, 0, 0, 1000000, 100, 0,
     0, 0, NULL, "messages", "UDP: resend templates after this many messages; 0 = never"},
    {FK_EXP_RECONNECT_MIN_MS, "reconnect_min", FK_PARAM_INT, 0, 10, 3600000, 500, 0, 0, 0, NULL,
     "ms", "TCP: first reconnect delay; doubles per failure"},
    {FK_EXP_RECONNECT_MAX_MS, "reconnect_max", FK_PARAM_INT, 0, 10, 3600000, 30000, 0, 0, 0, NULL,
     "ms", "TCP: longest reconnect delay"},
    {FK_EXP_BUFFER_BYTES, "buffer_bytes", FK_PARAM_INT, 0, 0, INT64_C(1) << 32, 4194304, 0, 0, 0,
     NULL, "bytes",
     "TCP: messages kept per destination while it is away; beyond: the newer ones dropped until it "
     "is back"},
};
#define EXPORTER_TABLE_COUNT (sizeof exporter_table / sizeof exporter_table[0])

void fk__exporter_set_clock(fk_exporter *h, int64_t mono_ns)
{
    h->fake_now = mono_ns;
}

uint32_t fk__exporter_dest_seq(const fk_exporter *h, size_t index)
{
    return index < h->ndests ? h->dests[index].seq : 0;
}

size_t fk__exporter_template_count(const fk_exporter *h)
{
    return h->ntmpls;
}

const fk_param_info *fk_exporter_params(size_t *count)
{
    if (count)
        *count = EXPORTER_TABLE_COUNT;
    return exporter_table;
}

int fk_exporter_create(fk_exporter **out)
{
    if (!out)
        return fk__error(FK_EINVAL, "exporter: NULL handle pointer");
    *out = NULL;
    fk_exporter *h = FK__NEW(fk_exporter);
    if (!h)
        return fk__error(FK_ENOMEM, "exporter: out of memory");
    int rc = fk__params_init(&h->params, "exporter", exporter_table, EXPORTER_TABLE_COUNT);
    if (rc) {
        fk__free(h);
        return rc;
    }
    h->epfd = -1;
    for (size_t i = 0; i < FK__TMPL_BUILTIN_COUNT; i++)
        h->builtin[i] = -1;
    *out = h;
    return FK_OK;
}

void fk_exporter_destroy(fk_exporter *h)
{
    if (!h)
        return;
    if (h->active)
        fk_exporter_flush(h);
    for (size_t i = 0; i < h->ndests; i++) {
        fk__exp_dest_close(h, &h->dests[i]);
        fk__exp_queue_free(&h->dests[i]);
        fk__free(h->dests[i].uri);
    }
    fk__free(h->dests);
    for (size_t i = 0; i < h->ntmpls; i++) {
        fk__exp_template_free(h->tmpls[i]);
        fk__free(h->tmpls[i]);
    }
    fk__free(h->tmpls);
    fk__free(h->msg.buf);
    fk__free(h->scratch);
    if (h->epfd >= 0)
        close(h->epfd);
    fk__params_free(&h->params);
    fk__tagset_clear(&h->tags);
    fk__free(h);
}

int fk_exporter_set_int(fk_exporter *h, int param, int64_t value)
{
    if (!h)
        return fk__error(FK_EINVAL, "exporter: NULL handle");
    return fk__params_set_int(&h->params, param, value);
}

int fk_exporter_set_str(fk_exporter *h, int param, const char *value)
{
    if (!h)
        return fk__error(FK_EINVAL, "exporter: NULL handle");
    return fk__params_set_str(&h->params, param, value);
}

int fk_exporter_set_text(fk_exporter *h, const char *name, const char *text)
{
    if (!h)
        return fk__error(FK_EINVAL, "exporter: NULL handle");
    return fk__params_set_text(&h->params, name, text);
}

int fk_exporter_get_int(const fk_exporter *h, int param, int64_t *out)
{
    if (!h || !out)
        return fk__error(FK_EINVAL, "exporter: NULL argument");
    return fk__params_get_int(&h->params, param, out);
}

int fk_exporter_add_destination(fk_exporter *h, const char *uri)
{
    if (!h)
        return fk__error(FK_EINVAL, "exporter: NULL handle");
    if (h->active)
        return fk__error(FK_EACTIVATED, "exporter: destinations cannot be added after activate");
    static const char *const schemes[] = {"udp", "tcp", NULL};
    fk__uri u;
    int rc =
        fk__uri_parse(&u, uri, schemes, 0, "destination", "udp://HOST:PORT or tcp://HOST:PORT");
    if (rc)
        return rc;
    exp_dest *nd = fk__reallocarray(h->dests, h->ndests + 1, sizeof *nd);
    if (!nd)
        return fk__error(FK_ENOMEM, "exporter: out of memory adding %s", uri);
    h->dests = nd;
    exp_dest *d = &nd[h->ndests];
    memset(d, 0, sizeof *d);
    d->uri = fk__strdup(uri);
    if (!d->uri)
        return fk__error(FK_ENOMEM, "exporter: out of memory adding %s", uri);
    d->u = u;
    d->tcp = strcmp(u.scheme, "tcp") == 0;
    d->fd = -1;
    h->ndests++;
    return FK_OK;
}

size_t fk_exporter_get_destination_count(const fk_exporter *h)
{
    return h ? h->ndests : 0;
}

/* ---- messages out ------------------------------------------------------- */

static void deliver(fk_exporter *h, exp_dest *d, int64_t now)
{
    if (d->state == D_UDP)
        fk__exp_udp_deliver(h, d, now);
    else
        fk__exp_tcp_deliver(h, d);
}

static void emit_message(fk_exporter *h)
{
    if (h->msg.records == 0)
        return;
    fk__exp_msg_close(&h->msg);
    int64_t now = fk__exp_now(h);
    for (size_t i = 0; i < h->ndests; i++)
        deliver(h, &h->dests[i], now);
    fk__exp_msg_reset(&h->msg);
}

int fk__exp_queue_record(fk_exporter *h, uint16_t tid, const uint8_t *rec, size_t len)
{
    if (len > h->mtu - FK__IPFIX_HDR_LEN - FK__IPFIX_SET_HDR_LEN)
        return fk__error(FK_ERANGE, "exporter: record of %zu bytes does not fit a %zu-byte message",
                         len, h->mtu);
    if (h->msg.records == 0)
        h->msg_first_ns = fk__exp_now(h);
    if (fk__exp_msg_add(&h->msg, tid, rec, len) != FK_OK) {
        emit_message(h);
        h->msg_first_ns = fk__exp_now(h);
        fk__exp_msg_add(&h->msg, tid, rec, len); /* fits an empty message: checked above */
    }
    h->records_in++;
    if (h->chunk && h->msg.records >= h->chunk)
        emit_message(h);
    return FK_OK;
}

/* ---- activate ----------------------------------------------------------- */

static void activate_undo(fk_exporter *h)
{
    for (size_t i = 0; i < h->ndests; i++)
        fk__exp_dest_close(h, &h->dests[i]);
    if (h->epfd >= 0)
        close(h->epfd);
    h->epfd = -1;
    fk__free(h->msg.buf);
    fk__free(h->scratch);
    h->msg.buf = h->scratch = NULL;
}

int fk_exporter_activate(fk_exporter *h)
{
    if (!h)
        return fk__error(FK_EINVAL, "exporter: NULL handle");
    if (h->active)
        return fk__error(FK_EACTIVATED, "exporter: already activated");
    if (h->ndests == 0)
        return fk__error(FK_ESTATE, "exporter: no destination (add udp:// or tcp:// first)");
    const fk__params *p = &h->params;
    h->rc_min_ms = fk__params_int(p, FK_EXP_RECONNECT_MIN_MS);
    h->rc_max_ms = fk__params_int(p, FK_EXP_RECONNECT_MAX_MS);
    if (h->rc_min_ms > h->rc_max_ms)
        return fk__error(FK_ERANGE, "exporter: reconnect_min %" PRId64 " > reconnect_max %" PRId64,
                         h->rc_min_ms, h->rc_max_ms);
    h->mtu = (size_t)fk__params_int(p, FK_EXP_MTU);
    for (size_t i = 0; i < h->ntmpls; i++) {
        if (fk__exp_template_wire_len(h->tmpls[i]) + FK__IPFIX_HDR_LEN + FK__IPFIX_SET_HDR_LEN >
            h->mtu)
            return fk__error(FK_ERANGE, "exporter: template %u does not fit mtu %zu",
                             h->tmpls[i]->id, h->mtu);
    }
    h->odid = (uint32_t)fk__params_int(p, FK_EXP_ODID);
    h->pen = (uint32_t)fk__params_int(p, FK_EXP_PEN);
    h->chunk = (size_t)fk__params_int(p, FK_EXP_CHUNK_SIZE);
    h->buffer_bytes = (size_t)fk__params_int(p, FK_EXP_BUFFER_BYTES);
    h->flush_ns = fk__params_int(p, FK_EXP_FLUSH_INTERVAL_MS) * 1000000;
    h->refresh_ns = fk__params_int(p, FK_EXP_TEMPLATE_REFRESH_SEC) * 1000000000;
    h->refresh_msgs = (uint64_t)fk__params_int(p, FK_EXP_TEMPLATE_REFRESH_MSGS);
    h->biflow = fk__params_int(p, FK_EXP_BIFLOW) != 0;

    for (size_t i = 0; i < h->ndests; i++) {
        int rc = fk__exp_dest_resolve(&h->dests[i]);
        if (rc)
            return rc;
    }
    h->msg.buf = fk__malloc(h->mtu);
    h->scratch = fk__malloc(h->mtu);
    h->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (!h->msg.buf || !h->scratch || h->epfd < 0) {
        int rc = h->epfd < 0 ? fk__error_errno(FK_EIO, "exporter: epoll_create1")
                             : fk__error(FK_ENOMEM, "exporter: out of memory");
        activate_undo(h);
        return rc;
    }
    h->msg.cap = h->mtu;
    fk__exp_msg_reset(&h->msg);
    for (size_t i = 0; i < h->ndests; i++) {
        exp_dest *d = &h->dests[i];
        d->backoff_ms = h->rc_min_ms;
        if (!d->tcp) {
            int rc = fk__exp_udp_open(d);
            if (rc) {
                activate_undo(h);
                return rc;
            }
        }
    }
    h->active = true;
    h->params.activated = true;
    for (size_t i = 0; i < h->ndests; i++) {
        if (h->dests[i].tcp)
            fk__exp_tcp_connect(h, &h->dests[i]);
    }
    return FK_OK;
}

/* ---- driving ------------------------------------------------------------ */

int fk_exporter_flush(fk_exporter *h)
{
    CHECK_ACTIVE(h);
    emit_message(h);
    return FK_OK;
}

int fk_exporter_get_fd(const fk_exporter *h)
{
    CHECK_ACTIVE(h);
    return h->epfd;
}

int fk_exporter_next_timeout_ms(const fk_exporter *h)
{
    if (!h || !h->active)
        return fk__error(FK_ENOTACTIVATED, "exporter: not activated");
    int64_t now = fk__exp_now(h);
    int64_t best = -1;
    if (h->msg.records) {
        int64_t due = h->msg_first_ns + h->flush_ns - now;
        best = due < 0 ? 0 : due;
    }
    for (size_t i = 0; i < h->ndests; i++) {
        const exp_dest *d = &h->dests[i];
        if (d->state != D_DOWN)
            continue;
        int64_t due = d->next_connect_ns - now;
        if (due < 0)
            due = 0;
        if (best < 0 || due < best)
            best = due;
    }
    if (fk__exp_tcp_unacked(h) && (best < 0 || best > FK__EXP_ACK_POLL_NS))
        best = FK__EXP_ACK_POLL_NS;
    if (best < 0)
        return -1;
    int64_t ms = (best + 999999) / 1000000;
    return ms > INT_MAX ? INT_MAX : (int)ms;
}

int fk_exporter_dispatch(fk_exporter *h)
{
    CHECK_ACTIVE(h);
    struct epoll_event evs[16];
    int n = epoll_wait(h->epfd, evs, 16, 0);
    for (int i = 0; i < n; i++) {
        uint64_t idx = evs[i].data.u64;
        if (idx < h->ndests)
            fk__exp_tcp_event(h, &h->dests[idx], evs[i].events);
    }
    int64_t now = fk__exp_now(h);
    for (size_t i = 0; i < h->ndests; i++) {
        exp_dest *d = &h->dests[i];
        if (d->state == D_DOWN && now >= d->next_connect_ns)
            fk__exp_tcp_connect(h, d);
    }
    if (h->msg.records && now - h->msg_first_ns >= h->flush_ns)
        emit_message(h);
    fk__exp_tcp_check_acked(h);
    return FK_OK;
}

int fk_exporter_poll(fk_exporter *h, int timeout_ms)
{
    CHECK_ACTIVE(h);
    int t = fk_exporter_next_timeout_ms(h);
    if (timeout_ms >= 0 && (t < 0 || t > timeout_ms))
        t = timeout_ms;
    if (t != 0) {
        struct epoll_event ev;
        /* Level-triggered: dispatch sees the same events again. */
        (void)epoll_wait(h->epfd, &ev, 1, t);
    }
    return fk_exporter_dispatch(h);
}

int fk_exporter_drain(fk_exporter *h, int timeout_ms)
{
    CHECK_ACTIVE(h);
    emit_message(h);
    int64_t deadline = fk__exp_now(h) + (int64_t)(timeout_ms < 0 ? 0 : timeout_ms) * 1000000;
    for (;;) {
        fk_exporter_dispatch(h);
        if (!fk__exp_tcp_pending(h))
            return FK_OK;
        int64_t left = deadline - fk__exp_now(h);
        if (left <= 0 || h->fake_now)
            return fk__error(FK_EAGAIN, "exporter: data still buffered after %d ms", timeout_ms);
        int ms = (int)((left + 999999) / 1000000);
        fk_exporter_poll(h, ms > 50 ? 50 : ms);
    }
}

static void stats_add(fk_exporter_stats *a, const fk_exporter_stats *b)
{
    a->records_sent += b->records_sent;
    a->records_dropped += b->records_dropped;
    a->messages_sent += b->messages_sent;
    a->messages_dropped += b->messages_dropped;
    a->template_messages += b->template_messages;
    a->bytes_sent += b->bytes_sent;
    a->buffered_bytes += b->buffered_bytes;
    a->connects += b->connects;
    a->connect_failures += b->connect_failures;
    a->send_errors += b->send_errors;
    a->records_buffered += b->records_buffered;
    a->records_resent += b->records_resent;
    a->messages_resent += b->messages_resent;
}

static int fill_destination_stats(const fk_exporter *h, size_t index, fk_exporter_stats *out)
{
    if (!h || !out)
        return fk__error(FK_EINVAL, "exporter: NULL argument");
    if (index >= h->ndests)
        return fk__error(FK_ERANGE, "exporter: destination %zu is out of range [0, %zu)", index,
                         h->ndests);
    *out = h->dests[index].st;
    out->records_in = h->records_in;
    out->buffered_bytes = h->dests[index].queued;
    out->records_buffered = h->dests[index].held;
    return FK_OK;
}

int fk_exporter_get_destination_stats(const fk_exporter *h, size_t index, fk_exporter_stats *out,
                                      size_t size)
{
    if (!h || !out || size < sizeof(uint64_t))
        return fk__error(FK_EINVAL, "exporter: NULL argument or size %zu below 8", size);
    fk_exporter_stats st;
    int rc = fill_destination_stats(h, index, &st);
    if (rc == 0)
        fk__copy_sized(out, size, &st, sizeof st);
    return rc;
}

static int fill_stats(const fk_exporter *h, fk_exporter_stats *out)
{
    if (!h || !out)
        return fk__error(FK_EINVAL, "exporter: NULL argument");
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < h->ndests; i++) {
        fk_exporter_stats s = h->dests[i].st;
        s.buffered_bytes = h->dests[i].queued;
        s.records_buffered = h->dests[i].held;
        stats_add(out, &s);
    }
    out->records_in = h->records_in;
    return FK_OK;
}

int fk_exporter_get_stats(const fk_exporter *h, fk_exporter_stats *out, size_t size)
{
    if (!h || !out || size < sizeof(uint64_t))
        return fk__error(FK_EINVAL, "exporter: NULL argument or size %zu below 8", size);
    fk_exporter_stats st;
    int rc = fill_stats(h, &st);
    if (rc == 0)
        fk__copy_sized(out, size, &st, sizeof st);
    return rc;
}
