/* ClickHouse sink: flows go to a MergeTree table over ClickHouse's HTTP
 * interface as batched `INSERT ... FORMAT RowBinary` POSTs.
 *
 * Design: the receive path (write) only encodes a row into the current
 * batch under a mutex; nothing there touches the network. A full batch
 * moves to a FIFO of ready batches. One sender thread per sink takes the
 * oldest batch, POSTs it (one short-lived HTTP/1.0-style connection per
 * batch, "Connection: close", so no response framing beyond the status line
 * is needed), and removes it only after ClickHouse answers 200. It also
 * sends a partial batch once it is flush_ms old, so the time flush works
 * even when the collector is idle. Failures are retried with exponential
 * backoff (100 ms doubling to 5 s); connection errors are retried for as
 * long as the queue bound allows, an HTTP error answer (the server refused
 * the data) at most 5 times before the batch is dropped. The queue is
 * bounded in rows (queue_rows, counting the batch being filled): when full,
 * new rows are dropped and counted, so memory stays bounded while ClickHouse
 * is slow or down. At close the sender keeps trying for drain_ms, then
 * counts whatever is left as dropped.
 *
 * This file: the queue, the sender thread and its HTTP requests, the sink
 * operations. Rows and the table are in clickhouse_row.c, the output URI in
 * clickhouse_uri.c. */
#include "collector/sink_clickhouse.h"

#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/log.h"
#include "core/uri.h"

#define NS 1000000000LL
#define MS 1000000LL
#define BACKOFF_MIN_NS (100 * MS)
#define BACKOFF_MAX_NS (5 * NS)
#define REFUSED_TRIES 5

/* ---- queue + sender ----------------------------------------------------- */

typedef struct batch {
    struct batch *next;
    uint8_t *data;
    size_t len, cap;
    size_t rows;
    int64_t first_ns; /* when the first row went in */
    int refused;      /* HTTP error answers so far */
} batch;

typedef struct ch_state {
    fk__ch_config cfg;
    char uri[448]; /* for messages, without options */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t thread;
    int started;
    int stop;           /* close requested */
    int64_t stop_by;    /* drain deadline (monotonic ns) */
    batch *cur;         /* being filled by write */
    batch *head, *tail; /* ready, oldest first */
    size_t queued;      /* rows in cur + ready */
    int created;        /* CREATE statements succeeded */
    int down;           /* last attempt failed (log once per outage) */
    fk__ch_counters n;
    char *insert_path; /* "/?query=INSERT..." */
} ch_state;

static void batch_free(batch *b)
{
    if (!b)
        return;
    fk__free(b->data);
    fk__free(b);
}

/* Move cur to the ready list (mu held). */
static void seal_cur(ch_state *s)
{
    batch *b = s->cur;
    if (!b || b->rows == 0)
        return;
    s->cur = NULL;
    b->next = NULL;
    if (s->tail)
        s->tail->next = b;
    else
        s->head = b;
    s->tail = b;
    pthread_cond_signal(&s->cv);
}

/* Percent-encode an SQL statement for a query string. */
static char *url_query(const char *sql)
{
    size_t n = strlen(sql);
    char *out = fk__malloc(3 * n + 16);
    if (!out)
        return NULL;
    char *o = out;
    o += sprintf(o, "/?query=");
    for (const char *p = sql; *p; p++) {
        unsigned char ch = (unsigned char)*p;
        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
            ch == '.' || ch == '_' || ch == '-')
            *o++ = (char)ch;
        else
            o += sprintf(o, "%%%02X", ch);
    }
    *o = '\0';
    return out;
}

static int connect_to(const ch_state *s)
{
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(s->cfg.host, s->cfg.port, &hints, &res) != 0 || !res)
        return -1;
    int fd = -1;
    for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
            continue;
        int rc = connect(fd, ai->ai_addr, ai->ai_addrlen);
        if (rc != 0 && errno == EINPROGRESS) {
            struct pollfd pfd = {fd, POLLOUT, 0};
            int err = 0;
            socklen_t el = sizeof err;
            if (poll(&pfd, 1, (int)(s->cfg.timeout_ns / MS)) == 1 &&
                getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) == 0 && err == 0)
                rc = 0;
        }
        if (rc != 0) {
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    return fd;
}

static int send_all(int fd, const void *data, size_t len, int timeout_ms)
{
    const uint8_t *p = data;
    while (len) {
        ssize_t w = send(fd, p, len, MSG_NOSIGNAL);
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            struct pollfd pfd = {fd, POLLOUT, 0};
            if (poll(&pfd, 1, timeout_ms) != 1)
                return -1;
            continue;
        }
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

/* One POST. Returns 200.. for an HTTP answer (status code), -1 when the
 * server could not be reached or did not answer. err gets the start of the
 * body of an error answer. */
static int http_post(ch_state *s, const char *path, const uint8_t *body, size_t len, char *err,
                     size_t errsize)
{
    err[0] = '\0';
    int fd = connect_to(s);
    if (fd < 0)
        return -1;
    int tmo = (int)(s->cfg.timeout_ns / MS);
    char head[1024];
    int hn = snprintf(head, sizeof head,
                      "POST %s HTTP/1.1\r\nHost: %s:%s\r\nConnection: close\r\n"
                      "Content-Type: application/octet-stream\r\nContent-Length: %zu\r\n",
                      path, s->cfg.host, s->cfg.port, len);
    if (s->cfg.user[0])
        hn +=
            snprintf(head + hn, sizeof head - (size_t)hn, "X-ClickHouse-User: %s\r\n", s->cfg.user);
    if (s->cfg.password[0])
        hn += snprintf(head + hn, sizeof head - (size_t)hn, "X-ClickHouse-Key: %s\r\n",
                       s->cfg.password);
    hn += snprintf(head + hn, sizeof head - (size_t)hn, "\r\n");
    int status = -1;
    if (send_all(fd, head, (size_t)hn, tmo) == 0 && send_all(fd, body, len, tmo) == 0) {
        char resp[2048];
        size_t got = 0;
        for (;;) {
            struct pollfd pfd = {fd, POLLIN, 0};
            if (poll(&pfd, 1, tmo) != 1)
                break;
            ssize_t r = recv(fd, resp + got, sizeof resp - 1 - got, 0);
            if (r < 0 && (errno == EINTR || errno == EAGAIN))
                continue;
            if (r <= 0)
                break;
            got += (size_t)r;
            if (got == sizeof resp - 1)
                break; /* enough for the status and the error's start */
        }
        resp[got] = '\0';
        int code;
        if (got > 12 && sscanf(resp, "HTTP/1.%*d %d", &code) == 1) {
            status = code;
            if (code != 200) {
                const char *b = strstr(resp, "\r\n\r\n");
                const char *src = b ? b + 4 : resp;
                /* A chunked body starts with the chunk's hex length. */
                size_t hex = strspn(src, "0123456789abcdefABCDEF");
                if (hex && src[hex] == '\r' && src[hex + 1] == '\n')
                    src += hex + 2;
                size_t el = strnlen(src, errsize - 1);
                memcpy(err, src, el);
                err[el] = '\0';
                char *nl = strchr(err, '\n');
                if (nl)
                    *nl = '\0';
            }
        }
    }
    close(fd);
    return status;
}

static int ensure_created(ch_state *s, char *err, size_t errsize)
{
    if (s->created || !s->cfg.create)
        return 200;
    char sql[2048];
    snprintf(sql, sizeof sql, "CREATE DATABASE IF NOT EXISTS %s", s->cfg.db);
    int st = http_post(s, "/", (const uint8_t *)sql, strlen(sql), err, errsize);
    if (st != 200)
        return st;
    if (fk__ch_create_sql(s->cfg.db, s->cfg.table, sql, sizeof sql) < 0)
        return 400;
    st = http_post(s, "/", (const uint8_t *)sql, strlen(sql), err, errsize);
    /* A table made by an older flowkit lacks the appended columns. */
    for (size_t i = 0; st == 200 && fk__ch_added_column(i); i++) {
        snprintf(sql, sizeof sql, "ALTER TABLE %s.%s ADD COLUMN %s", s->cfg.db, s->cfg.table,
                 fk__ch_added_column(i));
        st = http_post(s, "/", (const uint8_t *)sql, strlen(sql), err, errsize);
        if (st != 200 && strstr(err, "already exists"))
            st = 200; /* the usual case: the table has it */
    }
    if (st == 200)
        s->created = 1;
    return st;
}

/* Wait on cv until abs monotonic deadline (mu held); CLOCK_MONOTONIC cond. */
static void wait_until(ch_state *s, int64_t when)
{
    struct timespec ts = {(time_t)(when / NS), (long)(when % NS)};
    pthread_cond_timedwait(&s->cv, &s->mu, &ts);
}

static void drop_all(ch_state *s)
{
    uint64_t rows = 0;
    while (s->head) {
        batch *b = s->head;
        s->head = b->next;
        rows += b->rows;
        batch_free(b);
    }
    s->tail = NULL;
    if (s->cur) {
        rows += s->cur->rows;
        batch_free(s->cur);
        s->cur = NULL;
    }
    s->n.dropped += rows;
    s->queued = 0;
    if (rows)
        FK__LOG_WARN("collector", "%s: %" PRIu64 " rows not sent before exit (dropped)", s->uri,
                     rows);
}

static void *sender(void *arg)
{
    ch_state *s = arg;
    int64_t backoff = BACKOFF_MIN_NS;
    pthread_mutex_lock(&s->mu);
    for (;;) {
        int64_t now = fk__mono_ns();
        if (s->stop) {
            seal_cur(s);
            if (!s->head || now >= s->stop_by) {
                drop_all(s);
                break;
            }
        } else if (!s->head && s->cur && s->cur->rows &&
                   now - s->cur->first_ns >= s->cfg.flush_ns) {
            seal_cur(s);
        }
        if (!s->head) {
            int64_t when = now + s->cfg.flush_ns;
            if (s->cur && s->cur->rows)
                when = s->cur->first_ns + s->cfg.flush_ns;
            wait_until(s, when);
            continue;
        }
        batch *b = s->head;
        pthread_mutex_unlock(&s->mu);

        char err[256];
        int st = ensure_created(s, err, sizeof err);
        if (st == 200)
            st = http_post(s, s->insert_path, b->data, b->len, err, sizeof err);

        pthread_mutex_lock(&s->mu);
        if (st == 200) {
            s->head = b->next;
            if (!s->head)
                s->tail = NULL;
            s->n.written += b->rows;
            s->queued -= b->rows;
            batch_free(b);
            if (s->down)
                FK__LOG_WARN("collector", "%s: sending again", s->uri);
            s->down = 0;
            backoff = BACKOFF_MIN_NS;
            continue;
        }
        s->n.failures++;
        if (st > 0 && ++b->refused >= REFUSED_TRIES) {
            FK__LOG_ERROR("collector", "%s: batch of %zu rows refused (HTTP %d: %s); dropped",
                          s->uri, b->rows, st, err);
            s->head = b->next;
            if (!s->head)
                s->tail = NULL;
            s->n.dropped += b->rows;
            s->queued -= b->rows;
            batch_free(b);
            continue;
        }
        s->n.retried += b->rows;
        if (!s->down)
            FK__LOG_WARN("collector", "%s: %s; retrying with backoff", s->uri,
                         st < 0 ? "cannot reach the server" : err);
        s->down = 1;
        int64_t until = fk__mono_ns() + backoff;
        if (s->stop && until > s->stop_by)
            until = s->stop_by;
        while (fk__mono_ns() < until) {
            wait_until(s, until);
            if (s->stop && fk__mono_ns() >= s->stop_by)
                break;
        }
        backoff = backoff * 2 > BACKOFF_MAX_NS ? BACKOFF_MAX_NS : backoff * 2;
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

/* ---- sink ops ----------------------------------------------------------- */

static int ch_open(fk__sink *k)
{
    ch_state *s = k->priv;
    if (s->started)
        return FK_OK;
    int rc = pthread_create(&s->thread, NULL, sender, s);
    if (rc != 0)
        return fk__error(FK_EIO, "%s: cannot start the sender thread", s->uri);
    s->started = 1;
    return FK_OK;
}

static int ch_write(fk__sink *k, const fk_flow *f)
{
    ch_state *s = k->priv;
    uint8_t row[FK__CH_ROW_MAX];
    int n = fk__ch_encode_row(f, row, sizeof row);
    if (n < 0)
        return n;
    pthread_mutex_lock(&s->mu);
    if (s->queued >= s->cfg.queue_rows) {
        s->n.dropped++;
        pthread_mutex_unlock(&s->mu);
        return FK_OK; /* counted as dropped, not as an output error */
    }
    batch *b = s->cur;
    if (!b) {
        b = FK__NEW(batch);
        size_t cap = s->cfg.batch_rows < 4096 ? s->cfg.batch_rows * 128 : 4096 * 128;
        if (b)
            b->data = fk__malloc(cap);
        if (!b || !b->data) {
            batch_free(b);
            s->n.dropped++;
            pthread_mutex_unlock(&s->mu);
            return fk__error(FK_ENOMEM, "%s: out of memory", s->uri);
        }
        b->cap = cap;
        b->first_ns = fk__mono_ns();
        s->cur = b;
    }
    if (b->len + (size_t)n > b->cap) {
        size_t cap = b->cap * 2;
        uint8_t *d = fk__realloc(b->data, cap);
        if (!d) {
            s->n.dropped++;
            pthread_mutex_unlock(&s->mu);
            return fk__error(FK_ENOMEM, "%s: out of memory", s->uri);
        }
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, row, (size_t)n);
    b->len += (size_t)n;
    b->rows++;
    s->queued++;
    if (b->rows >= s->cfg.batch_rows)
        seal_cur(s);
    pthread_mutex_unlock(&s->mu);
    return FK_OK;
}

static int ch_flush(fk__sink *k)
{
    /* Called after every dispatch: the sender thread owns time-based flushing,
     * so there is nothing to do here (and nothing may block). */
    (void)k;
    return FK_OK;
}

static void ch_close(fk__sink *k)
{
    (void)k; /* the queue survives reopen; free_priv drains it */
}

static void ch_free(void *priv)
{
    ch_state *s = priv;
    if (!s)
        return;
    if (s->started) {
        pthread_mutex_lock(&s->mu);
        s->stop = 1;
        s->stop_by = fk__mono_ns() + s->cfg.drain_ns;
        pthread_cond_signal(&s->cv);
        pthread_mutex_unlock(&s->mu);
        pthread_join(s->thread, NULL);
        if (s->n.retried || s->n.dropped)
            FK__LOG_WARN("collector",
                         "%s: at exit rows written=%" PRIu64 " retried=%" PRIu64
                         " dropped=%" PRIu64,
                         s->uri, s->n.written, s->n.retried, s->n.dropped);
    } else {
        drop_all(s);
    }
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    fk__free(s->insert_path);
    fk__free(s);
}

const fk__sink_ops fk__sink_clickhouse_ops = {"clickhouse", ch_open, ch_write, ch_flush,
                                              ch_close,     ch_free, NULL,     NULL};

int fk__sink_clickhouse_priv(fk__sink *k, const char *uri)
{
    fk__ch_config cfg;
    int rc = fk__ch_uri_parse(uri, &cfg);
    if (rc)
        return rc;
    ch_state *s = FK__NEW(ch_state);
    if (!s)
        return fk__error(FK_ENOMEM, "output: out of memory");
    s->cfg = cfg;
    snprintf(s->uri, sizeof s->uri, "clickhouse://%s:%s/%s.%s", cfg.host, cfg.port, cfg.db,
             cfg.table);
    char sql[1024];
    snprintf(sql, sizeof sql, "INSERT INTO %s.%s (%s) FORMAT RowBinary", cfg.db, cfg.table,
             fk__ch_columns);
    s->insert_path = url_query(sql);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    int ok = s->insert_path && pthread_mutex_init(&s->mu, NULL) == 0;
    if (ok && pthread_cond_init(&s->cv, &ca) != 0) {
        pthread_mutex_destroy(&s->mu);
        ok = 0;
    }
    pthread_condattr_destroy(&ca);
    if (!ok) {
        fk__free(s->insert_path);
        fk__free(s);
        return fk__error(FK_ENOMEM, "output: out of memory");
    }
    k->ops = &fk__sink_clickhouse_ops;
    k->priv = s;
    return FK_OK;
}

void fk__sink_clickhouse_counters(const fk__sink *k, fk__ch_counters *out)
{
    ch_state *s = k->priv;
    pthread_mutex_lock(&s->mu);
    *out = s->n;
    out->queued = s->queued;
    pthread_mutex_unlock(&s->mu);
}

void fk__sink_clickhouse_stats(const fk__sink *k, fk_collector_stats *out)
{
    fk__ch_counters c;
    fk__sink_clickhouse_counters(k, &c);
    out->db_rows_written += c.written;
    out->db_rows_retried += c.retried;
    out->db_rows_dropped += c.dropped;
    out->db_rows_queued += c.queued;
}
