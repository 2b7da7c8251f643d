/* fk_exporter: the IPFIX exporting process. Builds one message at a time
 * (msg.c) and hands a copy to every destination: UDP sends it at once, TCP
 * queues it (bounded) and writes it when the connection can take it. */
#include <errno.h>
#include <inttypes.h>
#include <flowkit/exporter.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/log.h"
#include "core/params.h"
#include "exporter/exporter_internal.h"
#include "exporter/msg.h"
#include "exporter/uri.h"
#include "core/bytes.h"

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
    {FK_EXP_BIFLOW, "biflow", FK_PARAM_BOOL, 0, 0, 1, 1, 0, 0, 0, NULL, "",
     "biflows as one record with RFC 5103 reverse counters (1) or two records (0)"},
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

enum dest_state { D_UDP, D_DOWN, D_CONNECTING, D_UP };

typedef struct msgnode {
    struct msgnode *next;
    uint32_t len, off, records;
    bool is_template;
    uint8_t data[];
} msgnode;

typedef struct exp_dest {
    char *uri;
    fk__exp_uri u;
    struct sockaddr_storage addr;
    socklen_t addrlen;
    int fd;
    int state;
    uint32_t seq;
    size_t tmpl_sent; /* templates [0, tmpl_sent) announced on this session */
    int64_t last_tmpl_ns;
    uint64_t msgs_since_tmpl;
    msgnode *head, *tail;
    size_t queued;    /* bytes of data messages queued */
    bool overflowing; /* dropping new data messages until the queue drains or a reconnect */
    int64_t backoff_ms, next_connect_ns;
    uint32_t ev_mask; /* registered epoll events, 0 = not registered */
    fk_exporter_stats st;
} exp_dest;

struct fk_exporter {
    fk__params params;
    exp_dest *dests;
    size_t ndests;
    fk__exp_template **tmpls;
    size_t ntmpls, tmpl_cap;
    int builtin[FK__TMPL_BUILTIN_COUNT]; /* index into tmpls, -1 = not defined yet */
    fk__exp_msg msg;
    int64_t msg_first_ns;
    uint8_t *scratch; /* template messages */
    int epfd;
    bool active;
    uint64_t records_in;
    int64_t fake_now;
    /* parameters cached at activate */
    uint32_t odid, pen;
    size_t mtu, chunk, buffer_bytes;
    int64_t flush_ns, refresh_ns, rc_min_ms, rc_max_ms;
    uint64_t refresh_msgs;
    bool biflow;
};

static int64_t mono_now(const fk_exporter *h)
{
    return h->fake_now ? h->fake_now : fk__mono_ns();
}

static uint32_t export_time(void)
{
    return (uint32_t)time(NULL);
}

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

static void queue_free(exp_dest *d)
{
    msgnode *n = d->head;
    while (n) {
        msgnode *next = n->next;
        fk__free(n);
        n = next;
    }
    d->head = d->tail = NULL;
    d->queued = 0;
}

static void dest_close(fk_exporter *h, exp_dest *d)
{
    if (d->fd >= 0) {
        if (d->ev_mask && h->epfd >= 0)
            epoll_ctl(h->epfd, EPOLL_CTL_DEL, d->fd, NULL);
        close(d->fd);
    }
    d->fd = -1;
    d->ev_mask = 0;
}

void fk_exporter_destroy(fk_exporter *h)
{
    if (!h)
        return;
    if (h->active)
        fk_exporter_flush(h);
    for (size_t i = 0; i < h->ndests; i++) {
        dest_close(h, &h->dests[i]);
        queue_free(&h->dests[i]);
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
    fk__exp_uri u;
    int rc = fk__exp_uri_parse(&u, uri);
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
    d->fd = -1;
    h->ndests++;
    return FK_OK;
}

size_t fk_exporter_destination_count(const fk_exporter *h)
{
    return h ? h->ndests : 0;
}

/* ---- templates ---------------------------------------------------------- */

static int template_append(fk_exporter *h, fk__exp_template *t)
{
    if (h->ntmpls == h->tmpl_cap) {
        size_t cap = h->tmpl_cap ? h->tmpl_cap * 2 : 8;
        fk__exp_template **n = fk__reallocarray(h->tmpls, cap, sizeof *n);
        if (!n)
            return fk__error(FK_ENOMEM, "exporter: out of memory for templates");
        h->tmpls = n;
        h->tmpl_cap = cap;
    }
    h->tmpls[h->ntmpls++] = t;
    return FK_OK;
}

static int template_new(fk_exporter *h, uint16_t id, const fk_field_spec *fields, size_t count)
{
    fk__exp_template *t = FK__NEW(fk__exp_template);
    if (!t)
        return fk__error(FK_ENOMEM, "exporter: out of memory for template %u", id);
    int rc = fk__exp_template_init(t, id, fields, count);
    if (rc == FK_OK)
        rc = template_append(h, t);
    if (rc) {
        fk__exp_template_free(t);
        fk__free(t);
    }
    return rc;
}

static int builtin_template(fk_exporter *h, unsigned mask, uint16_t *tid)
{
    if (h->builtin[mask] < 0) {
        fk_field_spec f[32];
        size_t n = fk__exp_builtin_fields(mask, h->pen, f, 32);
        int rc = template_new(h, (uint16_t)(FK__TMPL_BASE + mask), f, n);
        if (rc)
            return rc;
        h->builtin[mask] = (int)(h->ntmpls - 1);
    }
    *tid = (uint16_t)(FK__TMPL_BASE + mask);
    return FK_OK;
}

static const fk__exp_template *template_find(const fk_exporter *h, uint16_t id)
{
    for (size_t i = 0; i < h->ntmpls; i++) {
        if (h->tmpls[i]->id == id)
            return h->tmpls[i];
    }
    return NULL;
}

static size_t mtu_param(const fk_exporter *h)
{
    return h->active ? h->mtu : (size_t)fk__params_int(&h->params, FK_EXP_MTU);
}

int fk_exporter_add_template(fk_exporter *h, uint16_t template_id, const fk_field_spec *fields,
                             size_t count)
{
    if (!h || !fields)
        return fk__error(FK_EINVAL, "exporter: NULL argument");
    if (template_id < FK_EXPORTER_USER_TEMPLATE_MIN)
        return fk__error(FK_ERANGE, "exporter: template id %u is out of range [%d, 65535]",
                         template_id, FK_EXPORTER_USER_TEMPLATE_MIN);
    if (template_find(h, template_id))
        return fk__error(FK_EEXIST, "exporter: template %u is already defined", template_id);
    size_t wire = 4;
    for (size_t i = 0; i < count && i <= 512; i++)
        wire += fields[i].pen ? 8 : 4;
    if (count <= 512 && wire + FK__IPFIX_HDR_LEN + FK__IPFIX_SET_HDR_LEN > mtu_param(h))
        return fk__error(FK_ERANGE, "exporter: template %u (%zu bytes) does not fit the MTU",
                         template_id, wire);
    return template_new(h, template_id, fields, count);
}

/* ---- transport ---------------------------------------------------------- */

static void set_events(fk_exporter *h, exp_dest *d, uint32_t ev)
{
    if (d->fd < 0 || d->ev_mask == ev)
        return;
    struct epoll_event e = {.events = ev, .data.u64 = (uint64_t)(d - h->dests)};
    if (epoll_ctl(h->epfd, d->ev_mask ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, d->fd, &e) == 0)
        d->ev_mask = ev;
}

static void count_sent(exp_dest *d, size_t len, uint32_t records, bool is_template)
{
    d->st.messages_sent++;
    d->st.bytes_sent += len;
    d->st.records_sent += records;
    if (is_template)
        d->st.template_messages++;
}

static void count_dropped(exp_dest *d, uint32_t records)
{
    d->st.messages_dropped++;
    d->st.records_dropped += records;
}

static void udp_send(exp_dest *d, const uint8_t *buf, size_t len, uint32_t records,
                     bool is_template)
{
    ssize_t n;
    do {
        n = send(d->fd, buf, len, MSG_DONTWAIT);
    } while (n < 0 && errno == EINTR);
    if (n == (ssize_t)len) {
        count_sent(d, len, records, is_template);
    } else {
        d->st.send_errors++;
        count_dropped(d, records);
    }
}

static msgnode *node_new(const uint8_t *buf, size_t len, uint32_t records, bool is_template)
{
    msgnode *n = fk__malloc(sizeof *n + len);
    if (!n)
        return NULL;
    n->next = NULL;
    n->len = (uint32_t)len;
    n->off = 0;
    n->records = records;
    n->is_template = is_template;
    memcpy(n->data, buf, len);
    return n;
}

static void enqueue(exp_dest *d, msgnode *n)
{
    if (d->tail)
        d->tail->next = n;
    else
        d->head = n;
    d->tail = n;
    if (!n->is_template)
        d->queued += n->len;
}

/* Template messages for templates [first, ntmpls), each handed to `emit`. */
static void build_templates(fk_exporter *h, exp_dest *d, size_t first, uint32_t seq,
                            void (*emit)(exp_dest *, const uint8_t *, size_t, msgnode **),
                            msgnode **chain)
{
    size_t i = first;
    while (i < h->ntmpls) {
        size_t next;
        size_t len = fk__exp_template_msg(
            h->scratch, h->mtu, (const fk__exp_template *const *)h->tmpls, h->ntmpls, i, &next);
        if (len == 0) /* cannot happen: sizes are checked when templates are added */
            break;
        fk__exp_msg_header(h->scratch, len, export_time(), seq, h->odid);
        emit(d, h->scratch, len, chain);
        i = next;
    }
}

static void emit_udp_template(exp_dest *d, const uint8_t *buf, size_t len, msgnode **chain)
{
    (void)chain;
    udp_send(d, buf, len, 0, true);
}

/* Collect template messages into a chain (to be put at the queue head). */
static void emit_tcp_template(exp_dest *d, const uint8_t *buf, size_t len, msgnode **chain)
{
    msgnode *n = node_new(buf, len, 0, true);
    if (!n) {
        count_dropped(d, 0);
        return;
    }
    if (chain) {
        while (*chain)
            chain = &(*chain)->next;
        *chain = n;
    } else {
        enqueue(d, n);
    }
}

static void tcp_flush(fk_exporter *h, exp_dest *d);

static void schedule_reconnect(fk_exporter *h, exp_dest *d)
{
    d->state = D_DOWN;
    d->next_connect_ns = mono_now(h) + d->backoff_ms * 1000000;
    d->backoff_ms = d->backoff_ms * 2 > h->rc_max_ms ? h->rc_max_ms : d->backoff_ms * 2;
}

/* The connection is gone: what was partly written is lost (the collector
 * cannot resynchronise inside a message); templates are resent on the next
 * connect; whole messages stay queued. */
static void tcp_lost(fk_exporter *h, exp_dest *d, int err)
{
    FK__LOG_WARN("exporter", "%s: connection lost: %s", d->uri, err ? strerror(err) : "closed");
    dest_close(h, d);
    d->st.connect_failures++;
    msgnode **pp = &d->head;
    d->tail = NULL;
    while (*pp) {
        msgnode *n = *pp;
        if (n->is_template || n->off > 0) {
            if (!n->is_template) {
                d->queued -= n->len;
                count_dropped(d, n->records);
            }
            *pp = n->next;
            fk__free(n);
        } else {
            d->tail = n;
            pp = &n->next;
        }
    }
    d->tmpl_sent = 0;
    schedule_reconnect(h, d);
}

static uint32_t node_seq(const msgnode *n)
{
    return fk__get32(n->data + 8);
}

static void tcp_connected(fk_exporter *h, exp_dest *d)
{
    d->state = D_UP;
    d->overflowing = false;
    d->st.connects++;
    d->backoff_ms = h->rc_min_ms;
    FK__LOG_INFO("exporter", "%s: connected", d->uri);
    /* Templates first, with the sequence number of the first queued record. */
    uint32_t seq = d->head ? node_seq(d->head) : d->seq;
    msgnode *chain = NULL;
    build_templates(h, d, 0, seq, emit_tcp_template, &chain);
    if (chain) {
        msgnode *last = chain;
        while (last->next)
            last = last->next;
        last->next = d->head;
        if (!d->head)
            d->tail = last;
        d->head = chain;
    }
    d->tmpl_sent = h->ntmpls;
    set_events(h, d, EPOLLIN | EPOLLRDHUP);
    tcp_flush(h, d);
}

static void tcp_connect(fk_exporter *h, exp_dest *d)
{
    dest_close(h, d);
    int fd = socket(d->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        d->st.connect_failures++;
        schedule_reconnect(h, d);
        return;
    }
    d->fd = fd;
    if (connect(fd, (struct sockaddr *)&d->addr, d->addrlen) == 0) {
        tcp_connected(h, d);
    } else if (errno == EINPROGRESS) {
        d->state = D_CONNECTING;
        set_events(h, d, EPOLLOUT);
    } else {
        dest_close(h, d);
        d->st.connect_failures++;
        schedule_reconnect(h, d);
    }
}

/* A collector never sends on an IPFIX session: readable means closed. */
static bool tcp_peer_closed(exp_dest *d, int *err)
{
    char c[256];
    for (;;) {
        ssize_t n = recv(d->fd, c, sizeof c, MSG_DONTWAIT);
        if (n > 0)
            continue;
        if (n == 0) {
            *err = 0;
            return true;
        }
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return false;
        *err = errno;
        return true;
    }
}

static void tcp_flush(fk_exporter *h, exp_dest *d)
{
    if (d->state != D_UP)
        return;
    int err = 0;
    if (d->head && tcp_peer_closed(d, &err)) {
        tcp_lost(h, d, err);
        return;
    }
    while (d->head) {
        msgnode *n = d->head;
        ssize_t w = send(d->fd, n->data + n->off, n->len - n->off, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
            tcp_lost(h, d, errno);
            return;
        }
        n->off += (uint32_t)w;
        if (n->off < n->len)
            continue;
        count_sent(d, n->len, n->records, n->is_template);
        if (!n->is_template)
            d->queued -= n->len;
        if (d->queued == 0)
            d->overflowing = false;
        d->head = n->next;
        if (!d->head)
            d->tail = NULL;
        fk__free(n);
    }
    set_events(h, d, EPOLLIN | EPOLLRDHUP | (d->head ? EPOLLOUT : 0));
}

static bool refresh_due(const fk_exporter *h, const exp_dest *d, int64_t now)
{
    if (d->tmpl_sent < h->ntmpls)
        return true;
    if (h->refresh_ns && now - d->last_tmpl_ns >= h->refresh_ns)
        return true;
    return h->refresh_msgs && d->msgs_since_tmpl >= h->refresh_msgs;
}

/* Hand the finished message in h->msg to one destination. */
static void deliver(fk_exporter *h, exp_dest *d, int64_t now)
{
    uint8_t *buf = h->msg.buf;
    size_t len = h->msg.len;
    uint32_t records = h->msg.records;
    if (d->state == D_UDP) {
        if (refresh_due(h, d, now)) {
            build_templates(h, d, 0, d->seq, emit_udp_template, NULL);
            d->tmpl_sent = h->ntmpls;
            d->last_tmpl_ns = now;
            d->msgs_since_tmpl = 0;
        }
        fk__exp_msg_header(buf, len, export_time(), d->seq, h->odid);
        d->seq += records;
        udp_send(d, buf, len, records, false);
        d->msgs_since_tmpl++;
        return;
    }
    if (d->state == D_UP && d->tmpl_sent < h->ntmpls) {
        build_templates(h, d, d->tmpl_sent, d->seq, emit_tcp_template, NULL);
        d->tmpl_sent = h->ntmpls;
    }
    fk__exp_msg_header(buf, len, export_time(), d->seq, h->odid);
    d->seq += records; /* also when dropped: the collector sees the gap */
    /* Once one message did not fit, every newer one is dropped too until the
     * destination is back or its queue has drained, so what is kept is the
     * oldest run of records and the loss is one gap, not holes filled by
     * later, smaller messages. */
    if (d->overflowing || d->queued + len > h->buffer_bytes) {
        d->overflowing = true;
        count_dropped(d, records);
    } else {
        msgnode *n = node_new(buf, len, records, false);
        if (n)
            enqueue(d, n);
        else
            count_dropped(d, records);
    }
    tcp_flush(h, d);
}

static void emit_message(fk_exporter *h)
{
    if (h->msg.records == 0)
        return;
    fk__exp_msg_close(&h->msg);
    int64_t now = mono_now(h);
    for (size_t i = 0; i < h->ndests; i++)
        deliver(h, &h->dests[i], now);
    fk__exp_msg_reset(&h->msg);
}

static int add_record(fk_exporter *h, uint16_t tid, const uint8_t *rec, size_t len)
{
    if (len > h->mtu - FK__IPFIX_HDR_LEN - FK__IPFIX_SET_HDR_LEN)
        return fk__error(FK_ERANGE, "exporter: record of %zu bytes does not fit a %zu-byte message",
                         len, h->mtu);
    if (h->msg.records == 0)
        h->msg_first_ns = mono_now(h);
    if (fk__exp_msg_add(&h->msg, tid, rec, len) != FK_OK) {
        emit_message(h);
        h->msg_first_ns = mono_now(h);
        fk__exp_msg_add(&h->msg, tid, rec, len); /* fits an empty message: checked above */
    }
    h->records_in++;
    if (h->chunk && h->msg.records >= h->chunk)
        emit_message(h);
    return FK_OK;
}

/* ---- activate ----------------------------------------------------------- */

static int resolve(exp_dest *d)
{
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = d->u.tcp ? SOCK_STREAM : SOCK_DGRAM;
    hints.ai_flags = AI_NUMERICSERV;
    char port[8];
    snprintf(port, sizeof port, "%u", d->u.port);
    int rc = getaddrinfo(d->u.host, port, &hints, &res);
    if (rc != 0 || !res)
        return fk__error(FK_ENOTFOUND, "exporter: %s: cannot resolve %s: %s", d->uri, d->u.host,
                         gai_strerror(rc));
    memcpy(&d->addr, res->ai_addr, res->ai_addrlen);
    d->addrlen = res->ai_addrlen;
    freeaddrinfo(res);
    return FK_OK;
}

static int open_udp(exp_dest *d)
{
    int fd = socket(d->addr.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return fk__error_errno(FK_EIO, "exporter: %s: socket", d->uri);
    if (connect(fd, (struct sockaddr *)&d->addr, d->addrlen) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return fk__error_errno(FK_EIO, "exporter: %s: connect", d->uri);
    }
    d->fd = fd;
    d->state = D_UDP;
    return FK_OK;
}

static void activate_undo(fk_exporter *h)
{
    for (size_t i = 0; i < h->ndests; i++)
        dest_close(h, &h->dests[i]);
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
        int rc = resolve(&h->dests[i]);
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
        if (!d->u.tcp) {
            int rc = open_udp(d);
            if (rc) {
                activate_undo(h);
                return rc;
            }
        }
    }
    h->active = true;
    h->params.activated = true;
    for (size_t i = 0; i < h->ndests; i++) {
        if (h->dests[i].u.tcp)
            tcp_connect(h, &h->dests[i]);
    }
    return FK_OK;
}

/* ---- records in --------------------------------------------------------- */

#define CHECK_ACTIVE(h)                                                                            \
    do {                                                                                           \
        if (!(h))                                                                                  \
            return fk__error(FK_EINVAL, "exporter: NULL handle");                                  \
        if (!(h)->active)                                                                          \
            return fk__error(FK_ENOTACTIVATED, "exporter: not activated");                         \
    } while (0)

static uint16_t icmp_reply(uint8_t proto, uint16_t type_code)
{
    unsigned type = type_code >> 8;
    if (proto == 1 && (type == 8 || type == 13 || type == 15 || type == 17))
        return (uint16_t)((type == 8 ? 0 : type + 1) << 8);
    if (proto == 58 && type == 128)
        return 129 << 8;
    return type_code;
}

static int add_flow_one(fk_exporter *h, const fk_flow *f, const fk_exporter_process *proc, bool rev)
{
    uint8_t rec[FK__EXP_RECORD_MAX];
    unsigned mask;
    size_t len = fk__exp_encode_flow(rec, f, proc, rev, &mask);
    uint16_t tid;
    int rc = builtin_template(h, mask, &tid);
    return rc ? rc : add_record(h, tid, rec, len);
}

int fk_exporter_add_flow_process(fk_exporter *h, const fk_flow *flow,
                                 const fk_exporter_process *proc)
{
    CHECK_ACTIVE(h);
    if (!flow)
        return fk__error(FK_EINVAL, "exporter: NULL flow");
    if ((flow->src.family != 4 && flow->src.family != 6) || flow->dst.family != flow->src.family)
        return fk__error(FK_EINVAL, "exporter: flow without a consistent address family");
    fk_exporter_process from_flow;
    if (!proc && (flow->present & FK_FLOW_HAS_PROCESS)) {
        memset(&from_flow, 0, sizeof from_flow);
        from_flow.pid = flow->pid;
        from_flow.name = flow->process;
        from_flow.uid = (flow->present & FK_FLOW_HAS_UID) ? flow->uid : UINT32_MAX;
        from_flow.user = flow->user;
        from_flow.exe = flow->exe;
        proc = &from_flow;
    }
    bool has_rev = (flow->present & FK_FLOW_HAS_REVERSE) != 0;
    if (!has_rev || h->biflow)
        return add_flow_one(h, flow, proc, has_rev);
    int rc = add_flow_one(h, flow, proc, false);
    if (rc || flow->rev_packets == 0)
        return rc;
    fk_flow r = *flow;
    r.src = flow->dst;
    r.dst = flow->src;
    r.src_port = flow->dst_port;
    r.dst_port = flow->src_port;
    if (flow->proto == 1 || flow->proto == 58) {
        /* ICMP "ports" are type * 256 + code of the forward packets: the
         * reply direction gets the reply type where there is one. */
        r.src_port = 0;
        r.dst_port = icmp_reply(flow->proto, flow->dst_port);
    }
    r.bytes = flow->rev_bytes;
    r.packets = flow->rev_packets;
    r.tcp_flags = flow->rev_tcp_flags;
    return add_flow_one(h, &r, proc, false);
}

int fk_exporter_add_flow(fk_exporter *h, const fk_flow *flow)
{
    return fk_exporter_add_flow_process(h, flow, NULL);
}

int fk_exporter_add_event_process(fk_exporter *h, const fk_session_event *ev,
                                  const fk_exporter_process *proc)
{
    CHECK_ACTIVE(h);
    if (!ev)
        return fk__error(FK_EINVAL, "exporter: NULL event");
    if ((ev->src.family != 4 && ev->src.family != 6) || ev->dst.family != ev->src.family)
        return fk__error(FK_EINVAL, "exporter: event without a consistent address family");
    if (ev->kind < FK_SESSION_SYN || ev->kind > FK_SESSION_RST)
        return fk__error(FK_EINVAL, "exporter: unknown event kind %u", ev->kind);
    fk_exporter_process from_event;
    if (!proc && (ev->present & FK_SESSION_HAS_PROCESS)) {
        memset(&from_event, 0, sizeof from_event);
        from_event.pid = ev->pid;
        from_event.name = ev->process;
        from_event.uid = (ev->present & FK_SESSION_HAS_UID) ? ev->uid : UINT32_MAX;
        from_event.user = ev->user;
        from_event.exe = ev->exe;
        proc = &from_event;
    }
    uint8_t rec[FK__EXP_RECORD_MAX];
    unsigned mask;
    size_t len = fk__exp_encode_event(rec, ev, proc, &mask);
    uint16_t tid;
    int rc = builtin_template(h, mask, &tid);
    return rc ? rc : add_record(h, tid, rec, len);
}

int fk_exporter_add_event(fk_exporter *h, const fk_session_event *ev)
{
    return fk_exporter_add_event_process(h, ev, NULL);
}

int fk_exporter_add_record(fk_exporter *h, uint16_t template_id, const void *record, size_t len)
{
    CHECK_ACTIVE(h);
    if (!record)
        return fk__error(FK_EINVAL, "exporter: NULL record");
    const fk__exp_template *t = template_find(h, template_id);
    if (!t || template_id < FK_EXPORTER_USER_TEMPLATE_MIN)
        return fk__error(FK_ENOTEMPLATE, "exporter: no caller template %u", template_id);
    int rc = fk__exp_record_check(t, record, len);
    return rc ? rc : add_record(h, template_id, record, len);
}

/* ---- driving ------------------------------------------------------------ */

int fk_exporter_flush(fk_exporter *h)
{
    CHECK_ACTIVE(h);
    emit_message(h);
    return FK_OK;
}

int fk_exporter_fd(const fk_exporter *h, int *fd)
{
    CHECK_ACTIVE(h);
    if (!fd)
        return fk__error(FK_EINVAL, "exporter: NULL fd");
    *fd = h->epfd;
    return FK_OK;
}

int fk_exporter_next_timeout_ms(const fk_exporter *h)
{
    if (!h || !h->active)
        return -1;
    int64_t now = mono_now(h);
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
    if (best < 0)
        return -1;
    int64_t ms = (best + 999999) / 1000000;
    return ms > INT_MAX ? INT_MAX : (int)ms;
}

static void handle_event(fk_exporter *h, exp_dest *d, uint32_t ev)
{
    if (d->state == D_CONNECTING) {
        int err = 0;
        socklen_t l = sizeof err;
        if (getsockopt(d->fd, SOL_SOCKET, SO_ERROR, &err, &l) != 0)
            err = errno;
        if (err == 0 && (ev & EPOLLOUT)) {
            tcp_connected(h, d);
        } else if (err != 0 || (ev & (EPOLLERR | EPOLLHUP))) {
            FK__LOG_DEBUG("exporter", "%s: connect failed: %s", d->uri, strerror(err));
            dest_close(h, d);
            d->st.connect_failures++;
            schedule_reconnect(h, d);
        }
        return;
    }
    if (d->state != D_UP)
        return;
    int err = 0;
    if ((ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) && tcp_peer_closed(d, &err)) {
        tcp_lost(h, d, err);
        return;
    }
    if (ev & EPOLLOUT)
        tcp_flush(h, d);
}

int fk_exporter_dispatch(fk_exporter *h)
{
    CHECK_ACTIVE(h);
    struct epoll_event evs[16];
    int n = epoll_wait(h->epfd, evs, 16, 0);
    for (int i = 0; i < n; i++) {
        uint64_t idx = evs[i].data.u64;
        if (idx < h->ndests)
            handle_event(h, &h->dests[idx], evs[i].events);
    }
    int64_t now = mono_now(h);
    for (size_t i = 0; i < h->ndests; i++) {
        exp_dest *d = &h->dests[i];
        if (d->state == D_DOWN && now >= d->next_connect_ns)
            tcp_connect(h, d);
    }
    if (h->msg.records && now - h->msg_first_ns >= h->flush_ns)
        emit_message(h);
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

static bool tcp_pending(const fk_exporter *h)
{
    for (size_t i = 0; i < h->ndests; i++) {
        if (h->dests[i].head)
            return true;
    }
    return false;
}

int fk_exporter_drain(fk_exporter *h, int timeout_ms)
{
    CHECK_ACTIVE(h);
    emit_message(h);
    int64_t deadline = mono_now(h) + (int64_t)(timeout_ms < 0 ? 0 : timeout_ms) * 1000000;
    for (;;) {
        fk_exporter_dispatch(h);
        if (!tcp_pending(h))
            return FK_OK;
        int64_t left = deadline - mono_now(h);
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
}

int fk_exporter_destination_stats(const fk_exporter *h, size_t index, fk_exporter_stats *out)
{
    if (!h || !out)
        return fk__error(FK_EINVAL, "exporter: NULL argument");
    if (index >= h->ndests)
        return fk__error(FK_ERANGE, "exporter: destination %zu is out of range [0, %zu)", index,
                         h->ndests);
    *out = h->dests[index].st;
    out->records_in = h->records_in;
    out->buffered_bytes = h->dests[index].queued;
    return FK_OK;
}

int fk_exporter_stats_get(const fk_exporter *h, fk_exporter_stats *out)
{
    if (!h || !out)
        return fk__error(FK_EINVAL, "exporter: NULL argument");
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < h->ndests; i++) {
        fk_exporter_stats s = h->dests[i].st;
        s.buffered_bytes = h->dests[i].queued;
        stats_add(out, &s);
    }
    out->records_in = h->records_in;
    return FK_OK;
}
