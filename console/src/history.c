/* The ClickHouse client of the console's history (history.h). */
#include "history.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "chreply.h"

#define HEAD_MAX 16384 /* room for the status line and headers */

struct fkc_history {
    char host[256], port[8];
    char table[130]; /* db.table */
    char user[64], password[64];
    int timeout_ms;
    size_t max_bytes;
    unsigned max_queries;
    atomic_uint running;
    fkc_history_stats stats;
};

static bool is_name(const char *s, size_t n)
{
    if (n == 0 || n > 63)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
              (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return false;
    return true;
}

static int option(fkc_history *h, const char *name, size_t nlen, const char *val, size_t vlen,
                  char *err, size_t errsize)
{
    char v[64];
    if (vlen >= sizeof v) {
        snprintf(err, errsize, "history: option %.*s: value too long", (int)nlen, name);
        return -1;
    }
    memcpy(v, val, vlen);
    v[vlen] = '\0';
    static const char *const ignored[] = {"batch_rows", "flush_ms", "queue_rows", "drain_ms",
                                          "create"};
    for (size_t i = 0; i < sizeof ignored / sizeof ignored[0]; i++)
        if (strlen(ignored[i]) == nlen && !strncmp(name, ignored[i], nlen))
            return 0;
    if (nlen == 4 && !strncmp(name, "user", 4)) {
        memcpy(h->user, v, vlen + 1);
        return 0;
    }
    if (nlen == 8 && !strncmp(name, "password", 8)) {
        memcpy(h->password, v, vlen + 1);
        return 0;
    }
    struct {
        const char *name;
        unsigned long long min, max;
    } const nums[] = {
        {"timeout_ms", 100, 600000}, {"max_bytes", 4096, 1ull << 30}, {"max_queries", 1, 1000}};
    for (size_t i = 0; i < 3; i++) {
        if (strlen(nums[i].name) != nlen || strncmp(name, nums[i].name, nlen))
            continue;
        char *end;
        errno = 0;
        unsigned long long x = strtoull(v, &end, 10);
        if (errno || *end || end == v || v[0] < '0' || v[0] > '9' || x < nums[i].min ||
            x > nums[i].max) {
            snprintf(err, errsize, "history: %s = %s is out of range [%llu, %llu]", nums[i].name, v,
                     nums[i].min, nums[i].max);
            return -1;
        }
        if (i == 0)
            h->timeout_ms = (int)x;
        else if (i == 1)
            h->max_bytes = (size_t)x;
        else
            h->max_queries = (unsigned)x;
        return 0;
    }
    snprintf(err, errsize,
             "history: unknown option \"%.*s\" (timeout_ms, max_bytes, max_queries, user, "
             "password)",
             (int)nlen, name);
    return -1;
}

int fkc_history_create(fkc_history **out, const char *uri, char *err, size_t errsize)
{
    *out = NULL;
    const char *p = uri;
    if (strncmp(p, "clickhouse://", 13) != 0) {
        snprintf(err, errsize, "history: \"%s\" is not clickhouse://HOST:PORT/DB.TABLE", uri);
        return -1;
    }
    p += 13;
    fkc_history *h = calloc(1, sizeof *h);
    if (!h) {
        snprintf(err, errsize, "out of memory");
        return -1;
    }
    h->timeout_ms = 5000;
    h->max_bytes = 16u << 20;
    h->max_queries = 4;
    const char *slash = strchr(p, '/');
    const char *host = p, *hend, *port = NULL;
    if (!slash)
        goto bad;
    if (*p == '[') {
        host = p + 1;
        hend = memchr(p, ']', (size_t)(slash - p));
        if (!hend)
            goto bad;
        if (hend[1] == ':')
            port = hend + 2;
    } else {
        hend = memchr(p, ':', (size_t)(slash - p));
        if (hend)
            port = hend + 1;
        else
            hend = slash;
    }
    if (hend == host || (size_t)(hend - host) >= sizeof h->host)
        goto bad;
    memcpy(h->host, host, (size_t)(hend - host));
    if (port) {
        size_t n = (size_t)(slash - port);
        if (n == 0 || n >= sizeof h->port || strspn(port, "0123456789") < n)
            goto bad;
        memcpy(h->port, port, n);
    } else {
        strcpy(h->port, "8123");
    }
    const char *tbl = slash + 1, *q = strchr(tbl, '?');
    size_t tlen = q ? (size_t)(q - tbl) : strlen(tbl);
    const char *dot = memchr(tbl, '.', tlen);
    if (!dot || !is_name(tbl, (size_t)(dot - tbl)) ||
        !is_name(dot + 1, tlen - (size_t)(dot - tbl) - 1))
        goto bad;
    memcpy(h->table, tbl, tlen);
    for (const char *o = q ? q + 1 : NULL; o && *o;) {
        const char *amp = strchr(o, '&'), *oe = amp ? amp : o + strlen(o);
        const char *eq = memchr(o, '=', (size_t)(oe - o));
        if (!eq) {
            snprintf(err, errsize, "history: option \"%.*s\" needs a value", (int)(oe - o), o);
            free(h);
            return -1;
        }
        if (option(h, o, (size_t)(eq - o), eq + 1, (size_t)(oe - eq - 1), err, errsize) != 0) {
            free(h);
            return -1;
        }
        o = amp ? amp + 1 : NULL;
    }
    *out = h;
    return 0;
bad:
    snprintf(err, errsize,
             "history: \"%s\" is not clickhouse://HOST:PORT/DB.TABLE (names: letters, digits, _)",
             uri);
    free(h);
    return -1;
}

void fkc_history_destroy(fkc_history *h)
{
    free(h);
}

const char *fkc_history_table(const fkc_history *h)
{
    return h->table;
}

fkc_history_stats *fkc_history_get_stats(fkc_history *h)
{
    return &h->stats;
}

void fkc_history_result_free(fkc_history_result *r)
{
    free(r->buf);
    r->buf = r->body = NULL;
    r->len = 0;
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Milliseconds left before the deadline, at least 0. */
static int left_ms(int64_t deadline)
{
    int64_t l = deadline - mono_ms();
    return l > 0 ? (int)l : 0;
}

/* A connected socket, or -1 with *timed_out set when the deadline passed. */
static int connect_to(const fkc_history *h, int64_t deadline, bool *timed_out, char *why,
                      size_t whysize)
{
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = SOCK_STREAM;
    int gai = getaddrinfo(h->host, h->port, &hints, &res);
    if (gai != 0 || !res) {
        snprintf(why, whysize, "%s", gai_strerror(gai));
        return -1;
    }
    int fd = -1;
    snprintf(why, whysize, "no address");
    for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
            continue;
        int rc = connect(fd, ai->ai_addr, ai->ai_addrlen), e = errno;
        if (rc != 0 && e == EINPROGRESS) {
            struct pollfd pfd = {fd, POLLOUT, 0};
            socklen_t el = sizeof e;
            int pr = poll(&pfd, 1, left_ms(deadline));
            if (pr == 0)
                *timed_out = true;
            else if (pr == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el) == 0 && e == 0)
                rc = 0;
        }
        if (rc != 0) {
            snprintf(why, whysize, "%s", *timed_out ? "connect timed out" : strerror(e));
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    return fd;
}

static int send_all(int fd, const char *p, size_t len, int64_t deadline)
{
    while (len) {
        ssize_t w = send(fd, p, len, MSG_NOSIGNAL);
        if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
            struct pollfd pfd = {fd, POLLOUT, 0};
            if (poll(&pfd, 1, left_ms(deadline)) != 1)
                return -1;
            continue;
        }
        if (w <= 0)
            return -1;
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

/* Read until the server closes: 0, -1 (error), -2 (deadline), -3 (cap). */
static int recv_all(int fd, char **out, size_t *out_len, size_t cap, int64_t deadline)
{
    size_t size = 65536, len = 0;
    char *buf = malloc(size + 1);
    if (!buf)
        return -1;
    for (;;) {
        struct pollfd pfd = {fd, POLLIN, 0};
        int pr = poll(&pfd, 1, left_ms(deadline));
        if (pr == 0) {
            free(buf);
            return -2;
        }
        if (pr < 0 && errno == EINTR)
            continue;
        if (len == size) {
            if (size >= cap + HEAD_MAX) {
                free(buf);
                return -3;
            }
            size = size * 2 > cap + HEAD_MAX ? cap + HEAD_MAX : size * 2;
            char *nb = realloc(buf, size + 1);
            if (!nb) {
                free(buf);
                return -1;
            }
            buf = nb;
        }
        ssize_t r = recv(fd, buf + len, size - len, 0);
        if (r < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (r < 0) {
            free(buf);
            return -1;
        }
        if (r == 0)
            break;
        len += (size_t)r;
    }
    *out = buf;
    *out_len = len;
    return 0;
}

static int fail(atomic_ullong *counter, int status, char *err, size_t errsize, const char *fmt,
                const char *a, const char *b)
{
    atomic_fetch_add(counter, 1);
    snprintf(err, errsize, fmt, a, b);
    return status;
}

int fkc_history_query(fkc_history *h, const char *sql, fkc_history_result *out, char *err,
                      size_t errsize)
{
    memset(out, 0, sizeof *out);
    if (atomic_fetch_add(&h->running, 1) >= h->max_queries) {
        atomic_fetch_sub(&h->running, 1);
        atomic_fetch_add(&h->stats.busy, 1);
        snprintf(err, errsize, "too many ClickHouse history queries at once (max_queries)");
        return 503;
    }
    atomic_fetch_add(&h->stats.queries, 1);
    int64_t deadline = mono_ms() + h->timeout_ms;
    char where[300];
    snprintf(where, sizeof where, "%s:%s", h->host, h->port);
    bool timed_out = false;
    char why[128];
    int status = 0;
    int fd = connect_to(h, deadline, &timed_out, why, sizeof why);
    if (fd < 0) {
        status = timed_out ? fail(&h->stats.timeouts, 504, err, errsize,
                                  "ClickHouse at %s did not answer in time (%s)", where, why)
                           : fail(&h->stats.unreachable, 502, err, errsize,
                                  "ClickHouse at %s is unreachable: %s", where, why);
        goto done;
    }
    size_t sql_len = strlen(sql) + sizeof " FORMAT TabSeparated" - 1;
    char head[1024];
    int hn = snprintf(head, sizeof head,
                      "POST /?max_execution_time=%d&optimize_move_to_prewhere=0 HTTP/1.0\r\n"
                      "Host: %s\r\nConnection: close\r\nContent-Length: %zu\r\n",
                      (h->timeout_ms + 999) / 1000, where, sql_len);
    if (h->user[0])
        hn += snprintf(head + hn, sizeof head - (size_t)hn, "X-ClickHouse-User: %s\r\n", h->user);
    if (h->password[0])
        hn +=
            snprintf(head + hn, sizeof head - (size_t)hn, "X-ClickHouse-Key: %s\r\n", h->password);
    hn += snprintf(head + hn, sizeof head - (size_t)hn, "\r\n");
    char *raw = NULL;
    size_t raw_len = 0;
    int rc = -1;
    if (send_all(fd, head, (size_t)hn, deadline) == 0 &&
        send_all(fd, sql, strlen(sql), deadline) == 0 &&
        send_all(fd, " FORMAT TabSeparated", sql_len - strlen(sql), deadline) == 0)
        rc = recv_all(fd, &raw, &raw_len, h->max_bytes, deadline);
    else if (left_ms(deadline) == 0)
        rc = -2;
    close(fd);
    if (rc == -2) {
        status = fail(&h->stats.timeouts, 504, err, errsize,
                      "ClickHouse at %s did not answer within timeout_ms%s", where, "");
        goto done;
    }
    if (rc == -3) {
        status = fail(&h->stats.too_large, 502, err, errsize,
                      "the answer of ClickHouse at %s is larger than max_bytes%s", where, "");
        goto done;
    }
    if (rc != 0) {
        status = fail(&h->stats.unreachable, 502, err, errsize,
                      "ClickHouse at %s closed the connection%s", where, "");
        goto done;
    }
    int code;
    char *body;
    size_t blen;
    if (fkc_ch_response_parse(raw, raw_len, &code, &body, &blen) != 0) {
        free(raw);
        status = fail(&h->stats.bad_answers, 502, err, errsize,
                      "ClickHouse at %s sent a malformed HTTP answer%s", where, "");
        goto done;
    }
    if (code != 200) {
        char msg[200];
        size_t n = strcspn(body, "\n");
        snprintf(msg, sizeof msg, "%.*s", (int)(n < 190 ? n : 190), body);
        bool timeout = strstr(body, "Code: 159") != NULL; /* TIMEOUT_EXCEEDED */
        free(raw);
        status = timeout ? fail(&h->stats.timeouts, 504, err, errsize,
                                "ClickHouse at %s: query timed out: %s", where, msg)
                         : fail(&h->stats.refused, 502, err, errsize,
                                "ClickHouse at %s refused the query: %s", where, msg);
        goto done;
    }
    if (blen > h->max_bytes) {
        free(raw);
        status = fail(&h->stats.too_large, 502, err, errsize,
                      "the answer of ClickHouse at %s is larger than max_bytes%s", where, "");
        goto done;
    }
    atomic_fetch_add(&h->stats.ok, 1);
    out->buf = raw;
    out->body = body;
    out->len = blen;
done:
    atomic_fetch_sub(&h->running, 1);
    return status;
}
