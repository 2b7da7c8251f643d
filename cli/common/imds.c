/* The IMDSv2 metadata provider (see fkimds.h): plain HTTP/1.1 over TCP,
 * one connection per request ("Connection: close"), every wait bounded and
 * woken at once by fkimds_stop() through an eventfd. */
#include "fkimds.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "fkhttp.h"

/* A token lives this long (the most IMDS grants); a new one is asked for a
 * minute before it ends. */
#define TOKEN_TTL_S 21600
#define TOKEN_MAX 256
/* The largest answer read; the identity document is well under 1 KiB. */
#define RESPONSE_MAX 16384

struct fkimds {
    struct sockaddr_storage addr;
    socklen_t addr_len;
    char host[80]; /* the Host header */
    int refresh_ms, timeout_ms;
    int wake; /* eventfd: stop */
    pthread_t thread;
    /* the provider thread's own */
    char token[TOKEN_MAX + 1];
    struct timespec token_expiry;
    char err[160];
    char buf[RESPONSE_MAX]; /* answers */
    /* shared: under lock */
    pthread_mutex_t lock;
    fkimds_values values;
    fkimds_stats stats;
    atomic_uint generation;
    atomic_bool stopping;
};

static const char *const keys[FKIMDS_NVALUES] = {
    [FKIMDS_ACCOUNT] = "account-id",   [FKIMDS_INSTANCE] = "instance-id",
    [FKIMDS_AZ] = "availability-zone", [FKIMDS_AZ_ID] = "az-id",
    [FKIMDS_REGION] = "region",        [FKIMDS_VPC] = "vpc-id",
    [FKIMDS_SUBNET] = "subnet-id",     [FKIMDS_IFACE] = "interface-id",
};

const char *fkimds_key(int i)
{
    return i >= 0 && i < FKIMDS_NVALUES ? keys[i] : NULL;
}

static int parse_url(const char *url, struct sockaddr_storage *ss, socklen_t *len, char *host,
                     size_t hsize, char *err, size_t size)
{
    memset(ss, 0, sizeof *ss);
    if (strncmp(url, "http://", 7) != 0) {
        snprintf(err, size, "\"%s\": expected http://ADDRESS[:PORT]", url);
        return -1;
    }
    const char *p = url + 7, *end;
    char a[48];
    bool v6 = *p == '[';
    if (v6) {
        end = strchr(p, ']');
        if (!end || (size_t)(end - p - 1) >= sizeof a) {
            snprintf(err, size, "\"%s\": bad IPv6 address", url);
            return -1;
        }
        memcpy(a, p + 1, (size_t)(end - p - 1));
        a[end - p - 1] = '\0';
        end++;
    } else {
        end = p + strcspn(p, ":/");
        if ((size_t)(end - p) >= sizeof a) {
            snprintf(err, size, "\"%s\": bad address", url);
            return -1;
        }
        memcpy(a, p, (size_t)(end - p));
        a[end - p] = '\0';
    }
    unsigned long port = 80;
    if (*end == ':') {
        char *e;
        errno = 0;
        port = strtoul(end + 1, &e, 10);
        if (e == end + 1 || errno || port == 0 || port > 65535) {
            snprintf(err, size, "\"%s\": bad port", url);
            return -1;
        }
        end = e;
    }
    if (*end == '/')
        end++;
    if (*end) {
        snprintf(err, size, "\"%s\": expected http://ADDRESS[:PORT], without a path", url);
        return -1;
    }
    if (v6) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
        if (inet_pton(AF_INET6, a, &s6->sin6_addr) != 1) {
            snprintf(err, size, "\"%s\": \"%s\" is not a numeric IPv6 address", url, a);
            return -1;
        }
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons((uint16_t)port);
        *len = sizeof *s6;
        snprintf(host, hsize, "[%s]:%lu", a, port);
    } else {
        struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
        if (inet_pton(AF_INET, a, &s4->sin_addr) != 1) {
            snprintf(err, size, "\"%s\": \"%s\" is not a numeric IPv4 address", url, a);
            return -1;
        }
        s4->sin_family = AF_INET;
        s4->sin_port = htons((uint16_t)port);
        *len = sizeof *s4;
        snprintf(host, hsize, "%s:%lu", a, port);
    }
    return 0;
}

int fkimds_check_url(const char *url, char *err, size_t size)
{
    struct sockaddr_storage ss;
    socklen_t len;
    char host[80];
    return parse_url(url, &ss, &len, host, sizeof host, err, size);
}

static int64_t now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Wait for `events` on fd until the deadline, or a stop: 1 ready, 0 time
 * out, -1 stop or error. */
static int wait_fd(fkimds *m, int fd, short events, int64_t deadline)
{
    for (;;) {
        int64_t left = deadline - now_ms();
        if (left <= 0)
            return 0;
        struct pollfd p[2] = {{.fd = fd, .events = events}, {.fd = m->wake, .events = POLLIN}};
        int r = poll(p, 2, (int)left);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 || p[1].revents)
            return -1;
        if (r > 0)
            return 1;
    }
}

/* One request, its answer into buf. 0 with *resp filled; -1 with m->err. */
static int request(fkimds *m, const char *method, const char *path, const char *header, char *buf,
                   fkhttp_response *resp)
{
    char req[1024];
    int n = snprintf(req, sizeof req,
                     "%s %s HTTP/1.1\r\nHost: %s\r\n%s\r\nAccept: */*\r\nConnection: close\r\n"
                     "%s\r\n",
                     method, path, m->host, header,
                     strcmp(method, "PUT") ? "" : "Content-Length: 0\r\n");
    if (n < 0 || (size_t)n >= sizeof req) {
        snprintf(m->err, sizeof m->err, "%s: request too long", path);
        return -1;
    }
    int fd = socket(m->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(m->err, sizeof m->err, "socket: %s", strerror(errno));
        return -1;
    }
    int rc = -1;
    int64_t deadline = now_ms() + m->timeout_ms;
    if (connect(fd, (struct sockaddr *)&m->addr, m->addr_len) != 0 && errno != EINPROGRESS) {
        snprintf(m->err, sizeof m->err, "%s: connect: %s", path, strerror(errno));
        goto out;
    }
    int w = wait_fd(m, fd, POLLOUT, deadline), soerr = 0;
    socklen_t sl = sizeof soerr;
    if (w <= 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0 || soerr) {
        snprintf(m->err, sizeof m->err, "%s: connect: %s", path,
                 w == 0  ? "timed out"
                 : w < 0 ? "stopped"
                         : strerror(soerr));
        goto out;
    }
    /* The answer's own deadline starts once connected. */
    deadline = now_ms() + m->timeout_ms;
    for (size_t sent = 0; sent < (size_t)n;) {
        ssize_t s = send(fd, req + sent, (size_t)n - sent, MSG_NOSIGNAL);
        if (s > 0) {
            sent += (size_t)s;
        } else if (s < 0 && errno == EAGAIN && wait_fd(m, fd, POLLOUT, deadline) == 1) {
            continue;
        } else {
            snprintf(m->err, sizeof m->err, "%s: send failed", path);
            goto out;
        }
    }
    size_t len = 0;
    for (;;) {
        ssize_t r = recv(fd, buf + len, RESPONSE_MAX - len, 0);
        if (r < 0 && (errno == EAGAIN || errno == EINTR)) {
            int wr = wait_fd(m, fd, POLLIN, deadline);
            if (wr <= 0) {
                snprintf(m->err, sizeof m->err, "%s: answer: %s", path,
                         wr == 0 ? "timed out" : "stopped");
                goto out;
            }
            continue;
        }
        if (r < 0) {
            snprintf(m->err, sizeof m->err, "%s: recv: %s", path, strerror(errno));
            goto out;
        }
        len += (size_t)r;
        bool eof = r == 0;
        const char *why = "";
        int p = fkhttp_response_parse(buf, len, eof, resp, &why);
        if (p == FKHTTP_DONE)
            break;
        if (p == FKHTTP_BAD) {
            snprintf(m->err, sizeof m->err, "%s: bad answer: %s", path, why);
            goto out;
        }
        if (len == RESPONSE_MAX) {
            snprintf(m->err, sizeof m->err, "%s: answer larger than %d bytes", path, RESPONSE_MAX);
            goto out;
        }
    }
    rc = 0;
out:
    close(fd);
    return rc;
}

/* Printable ASCII without CR/LF: safe in a header line and in a tag. */
static bool printable(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < 33 || s[i] > 126)
            return false;
    return n > 0;
}

static int get_token(fkimds *m, char *buf)
{
    fkhttp_response r;
    char header[64];
    snprintf(header, sizeof header, "X-aws-ec2-metadata-token-ttl-seconds: %d", TOKEN_TTL_S);
    m->token[0] = '\0';
    if (request(m, "PUT", "/latest/api/token", header, buf, &r) != 0)
        return -1;
    if (r.status != 200) {
        snprintf(m->err, sizeof m->err, "/latest/api/token: HTTP %d", r.status);
        return -1;
    }
    if (r.body_len > TOKEN_MAX || !printable(r.body, r.body_len)) {
        snprintf(m->err, sizeof m->err, "/latest/api/token: not a token (%zu bytes)", r.body_len);
        return -1;
    }
    memcpy(m->token, r.body, r.body_len);
    m->token[r.body_len] = '\0';
    clock_gettime(CLOCK_MONOTONIC, &m->token_expiry);
    m->token_expiry.tv_sec += TOKEN_TTL_S - 60;
    pthread_mutex_lock(&m->lock);
    m->stats.tokens++;
    pthread_mutex_unlock(&m->lock);
    return 0;
}

/* GET path with the token: 0 and the body as a NUL-ended string in out,
 * 1 when the service says 404 (not there), -1 failure (m->err). A 401
 * gets a new token and one more try. */
static int get_value(fkimds *m, const char *path, char *buf, char *out, size_t size)
{
    for (int attempt = 0;; attempt++) {
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        if ((!m->token[0] || t.tv_sec >= m->token_expiry.tv_sec) && get_token(m, buf) != 0)
            return -1;
        char header[TOKEN_MAX + 64];
        snprintf(header, sizeof header, "X-aws-ec2-metadata-token: %s", m->token);
        fkhttp_response r;
        if (request(m, "GET", path, header, buf, &r) != 0)
            return -1;
        if (r.status == 401 && attempt == 0) {
            pthread_mutex_lock(&m->lock);
            m->stats.token_refused++;
            pthread_mutex_unlock(&m->lock);
            m->token[0] = '\0';
            continue;
        }
        if (r.status == 404)
            return 1;
        if (r.status != 200) {
            snprintf(m->err, sizeof m->err, "%s: HTTP %d", path, r.status);
            return -1;
        }
        size_t n = r.body_len;
        while (n > 0 && (r.body[n - 1] == '\n' || r.body[n - 1] == '\r'))
            n--;
        if (n >= size) {
            snprintf(m->err, sizeof m->err, "%s: value longer than %zu bytes", path, size - 1);
            return -1;
        }
        memcpy(out, r.body, n);
        out[n] = '\0';
        return 0;
    }
}

/* A value that a tag can carry (fk_tag_parse()'s rules). */
static bool valid_tag_value(const char *key, const char *value)
{
    char text[FK_TAG_KEY_MAX + FK_TAG_VALUE_MAX + 4], store[sizeof text];
    fk_tag t;
    int n = snprintf(text, sizeof text, "%s=%s", key, value);
    return n > 0 && (size_t)n < sizeof text && fk_tag_parse(text, &t, store, sizeof store) == 0;
}

static bool valid_mac(const char *s)
{
    if (strlen(s) != 17)
        return false;
    for (int i = 0; i < 17; i++) {
        bool colon = i % 3 == 2;
        if (colon ? s[i] != ':' : !strchr("0123456789abcdefABCDEF", s[i]) || !s[i])
            return false;
    }
    return true;
}

static const char *const paths[FKIMDS_NVALUES] = {
    [FKIMDS_INSTANCE] = "/latest/meta-data/instance-id",
    [FKIMDS_AZ] = "/latest/meta-data/placement/availability-zone",
    [FKIMDS_AZ_ID] = "/latest/meta-data/placement/availability-zone-id",
    [FKIMDS_REGION] = "/latest/meta-data/placement/region",
    [FKIMDS_VPC] = "vpc-id",
    [FKIMDS_SUBNET] = "subnet-id",
    [FKIMDS_IFACE] = "interface-id",
};

/* Every value, into v: 0, or -1 (m->err). */
static int refresh(fkimds *m, fkimds_values *v)
{
    char *buf = m->buf;
    char body[RESPONSE_MAX];
    memset(v, 0, sizeof *v);
    int r = get_value(m, "/latest/dynamic/instance-identity/document", buf, body, sizeof body);
    if (r != 0) {
        if (r > 0)
            snprintf(m->err, sizeof m->err, "instance identity document: HTTP 404");
        return -1;
    }
    if (fkhttp_json_get_string(body, strlen(body), "accountId", v->v[FKIMDS_ACCOUNT],
                               sizeof v->v[0]) <= 0) {
        snprintf(m->err, sizeof m->err, "instance identity document: no accountId string");
        return -1;
    }
    char mac[64], path[160];
    r = get_value(m, "/latest/meta-data/mac", buf, mac, sizeof mac);
    if (r == 0 && !valid_mac(mac)) {
        snprintf(m->err, sizeof m->err, "/latest/meta-data/mac: not a MAC address");
        return -1;
    }
    if (r != 0) {
        if (r > 0)
            snprintf(m->err, sizeof m->err, "/latest/meta-data/mac: HTTP 404");
        return -1;
    }
    for (int i = FKIMDS_INSTANCE; i < FKIMDS_NVALUES; i++) {
        const char *p = paths[i];
        if (i >= FKIMDS_VPC) {
            snprintf(path, sizeof path, "/latest/meta-data/network/interfaces/macs/%s/%s", mac,
                     paths[i]);
            p = path;
        }
        r = get_value(m, p, buf, v->v[i], sizeof v->v[i]);
        bool optional = i == FKIMDS_AZ_ID || i == FKIMDS_IFACE;
        if (r > 0 && optional) {
            v->v[i][0] = '\0';
            continue;
        }
        if (r > 0)
            snprintf(m->err, sizeof m->err, "%.120s: HTTP 404", p);
        if (r != 0)
            return -1;
    }
    for (int i = 0; i < FKIMDS_NVALUES; i++) {
        if (v->v[i][0] && !valid_tag_value(keys[i], v->v[i])) {
            snprintf(m->err, sizeof m->err, "%s: \"%.40s\" cannot be a tag value", keys[i],
                     v->v[i]);
            return -1;
        }
    }
    return 0;
}

static void *run(void *arg)
{
    fkimds *m = arg;
    fkimds_values v;
    while (!atomic_load(&m->stopping)) {
        m->err[0] = '\0';
        int rc = refresh(m, &v);
        if (atomic_load(&m->stopping))
            break;
        pthread_mutex_lock(&m->lock);
        if (rc == 0) {
            m->values = v;
            m->stats.refreshes++;
            atomic_fetch_add(&m->generation, 1);
        } else {
            m->stats.failures++;
            snprintf(m->stats.last_error, sizeof m->stats.last_error, "%s", m->err);
        }
        pthread_mutex_unlock(&m->lock);
        struct pollfd p = {.fd = m->wake, .events = POLLIN};
        int64_t until = now_ms() + m->refresh_ms;
        while (!atomic_load(&m->stopping) && now_ms() < until)
            if (poll(&p, 1, (int)(until - now_ms())) > 0)
                break;
    }
    return NULL;
}

fkimds *fkimds_start(const char *url, int refresh_ms, int timeout_ms, char *err, size_t size)
{
    fkimds *m = calloc(1, sizeof *m);
    if (!m) {
        snprintf(err, size, "out of memory");
        return NULL;
    }
    if (parse_url(url, &m->addr, &m->addr_len, m->host, sizeof m->host, err, size) != 0) {
        free(m);
        return NULL;
    }
    m->refresh_ms = refresh_ms;
    m->timeout_ms = timeout_ms;
    m->wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (m->wake < 0) {
        snprintf(err, size, "eventfd: %s", strerror(errno));
        free(m);
        return NULL;
    }
    pthread_mutex_init(&m->lock, NULL);
    int e = pthread_create(&m->thread, NULL, run, m);
    if (e) {
        snprintf(err, size, "cannot start a thread: %s", strerror(e));
        close(m->wake);
        pthread_mutex_destroy(&m->lock);
        free(m);
        return NULL;
    }
    return m;
}

bool fkimds_poll(fkimds *m, unsigned *generation, fkimds_values *out)
{
    unsigned g = atomic_load(&m->generation);
    if (g == *generation || pthread_mutex_trylock(&m->lock) != 0)
        return false;
    *out = m->values;
    *generation = atomic_load(&m->generation);
    pthread_mutex_unlock(&m->lock);
    return true;
}

void fkimds_get_stats(fkimds *m, fkimds_stats *out)
{
    pthread_mutex_lock(&m->lock);
    *out = m->stats;
    pthread_mutex_unlock(&m->lock);
}

void fkimds_stop(fkimds *m)
{
    if (!m)
        return;
    atomic_store(&m->stopping, true);
    uint64_t one = 1;
    if (write(m->wake, &one, sizeof one) < 0) {
        /* the counter is far from full: cannot happen; the thread still
         * sees `stopping` within one timeout */
    }
    pthread_join(m->thread, NULL);
    close(m->wake);
    pthread_mutex_destroy(&m->lock);
    free(m);
}

size_t fkimds_merge(const fk_tag *fixed, size_t nfixed, const fkimds_values *v, fk_tag *out)
{
    size_t n = 0;
    for (size_t i = 0; i < nfixed && n < FK_TAG_MAX; i++)
        out[n++] = fixed[i];
    for (int i = 0; i < FKIMDS_NVALUES && n < FK_TAG_MAX; i++) {
        if (!v->v[i][0])
            continue;
        bool given = false;
        for (size_t j = 0; j < nfixed && !given; j++)
            given = strcmp(fixed[j].key, keys[i]) == 0;
        if (!given)
            out[n++] = (fk_tag){keys[i], v->v[i]};
    }
    return n;
}
