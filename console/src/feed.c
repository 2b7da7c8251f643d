/* The live feed: flows of the store as Server-Sent Events, from a
 * sequence number on ("after" or Last-Event-ID), a keep-alive comment
 * every 10 s idle, at most max_feeds clients. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "server_int.h"

typedef struct feed {
    fkc_server *srv;
    uint64_t seq;
    fkc_buf out;
    size_t sent;
} feed;

static ssize_t feed_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    feed *f = cls;
    int waited_ms = 0;
    while (f->sent == f->out.len) {
        fkc_buf_free(&f->out);
        f->sent = 0;
        if (atomic_load(&f->srv->stopping))
            return MHD_CONTENT_READER_END_OF_STREAM;
        fk_flow flows[64];
        size_t n = 0;
        uint64_t first = f->seq;
        fk_store_get_since(f->srv->store, f->seq, flows, 64, &n, &f->seq);
        char line[FK_FLOW_JSON_MAX];
        for (size_t i = 0; i < n; i++) {
            int len = fk_flow_to_json(&flows[i], line, sizeof line);
            if (len > 0)
                fkc_buf_printf(&f->out, "id: %llu\ndata: %s\n\n",
                               (unsigned long long)(first + i + 1), line);
        }
        atomic_fetch_add(&f->srv->stats.feed_flows, n);
        if (n)
            break;
        if (waited_ms >= 10000) {
            fkc_buf_puts(&f->out, ": keep-alive\n\n"); /* lets the client see a dead server */
            break;
        }
        struct timespec ts = {0, 200 * 1000000L};
        nanosleep(&ts, NULL);
        waited_ms += 200;
    }
    if (f->out.oom)
        return MHD_CONTENT_READER_END_WITH_ERROR;
    size_t n = f->out.len - f->sent;
    if (n > max)
        n = max;
    memcpy(buf, f->out.p + f->sent, n);
    f->sent += n;
    return (ssize_t)n;
}

static void feed_free(void *cls)
{
    feed *f = cls;
    atomic_fetch_sub(&f->srv->stats.feeds_active, 1);
    fkc_buf_free(&f->out);
    free(f);
}

enum MHD_Result fkc_start_feed(fkc_server *s, struct MHD_Connection *c)
{
    const char *after = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "after");
    const char *last = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Last-Event-ID");
    fk_store_stats st;
    fk_store_get_stats(s->store, &st, sizeof st);
    /* Sequence numbers run to flows_kept (store.h): start 20 flows back. */
    uint64_t seq = st.flows_kept > 20 ? st.flows_kept - 20 : 0;
    const char *given = last ? last : after;
    if (given) {
        char *end;
        errno = 0;
        unsigned long long v = strtoull(given, &end, 10);
        if (errno || *end || end == given || !isdigit((unsigned char)*given))
            return fkc_send_error(s, c, 400, "\"after\" must be a sequence number");
        seq = v;
    }
    if (atomic_fetch_add(&s->stats.feeds_active, 1) >= s->cfg.max_feeds) {
        atomic_fetch_sub(&s->stats.feeds_active, 1);
        atomic_fetch_add(&s->stats.feeds_refused, 1);
        return fkc_send_error(s, c, 503, "too many live feed clients");
    }
    feed *f = calloc(1, sizeof *f);
    if (!f) {
        atomic_fetch_sub(&s->stats.feeds_active, 1);
        return fkc_send_error(s, c, 503, "out of memory");
    }
    f->srv = s;
    f->seq = seq;
    struct MHD_Response *r =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16384, feed_read, f, feed_free);
    if (!r) {
        feed_free(f);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", "text/event-stream");
    MHD_add_response_header(r, "Cache-Control", "no-store");
    fkc_count_status(s, 200);
    enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return ret;
}
