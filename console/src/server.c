/* libmicrohttpd glue for the console server (see server.h): listening
 * address, bearer token, body and connection limits, the routing table,
 * gzip, static files and the Server-Sent Events feed. */
#include "server.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "hmac.h"
#include "http.h"

struct fkc_server {
    struct MHD_Daemon *mhd;
    fk_store *store;
    fkc_server_config cfg;
    char *token;                           /* NULL: no authentication */
    char *auth_key, *sign_key;             /* /senders signing keys; NULL: /senders off */
    _Atomic(fk_prefixstats *) prefixstats; /* POST /stats; NULL: off */
    char url[96];
    fkc_http_stats stats;
    atomic_bool stopping;
    pthread_mutex_t lock; /* guards cstats */
    fk_collector_stats cstats;
    bool have_cstats;
    struct timespec started;
};

/* ---- routing ------------------------------------------------------------ */

/* R_SIGNED: wasted/netflow's API: HMAC-signed (not the bearer token), any
 * method, and the path may go on ("/senders/IP", "/stats/IP"). */
enum { R_PUBLIC = 1, R_POST = 2, R_FEED = 4, R_SIGNED = 8 };

typedef struct route {
    const char *path;
    unsigned flags;
    fkc_handler fn;
} route;

/* One line per endpoint; docs/console.md describes each. Other modules
 * (e.g. a /senders API) add lines here. */
static const route routes[] = {
    {"/healthz", R_PUBLIC, fkc_api_healthz},
    {"/metrics", 0, fkc_metrics},
    {"/api/v1/top", 0, fkc_api_top},
    {"/api/v1/series", 0, fkc_api_series},
    {"/api/v1/ips", 0, fkc_api_ips},
    {"/api/v1/ip", 0, fkc_api_ip},
    {"/api/v1/ip/peers", 0, fkc_api_ip_peers},
    {"/api/v1/ip/protocols", 0, fkc_api_ip_protocols},
    {"/api/v1/ip/series", 0, fkc_api_ip_series},
    {"/api/v1/flows", 0, fkc_api_flows},
    {"/api/v1/sessions", 0, fkc_api_sessions},
    {"/api/v1/bad", 0, fkc_api_bad},
    {"/api/v1/stats", 0, fkc_api_stats},
    {"/api/v1/feed", R_FEED, NULL},
    {"/api/v1/ingest", R_POST, fkc_api_ingest},
    {"/ingest", R_POST, fkc_api_ingest},
    {"/senders", R_SIGNED, fkc_api_senders},    /* and /senders/IP */
    {"/stats", R_SIGNED, fkc_api_prefix_stats}, /* /stats/IP */
};

static const route *find_route(const char *path)
{
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        size_t n = strlen(routes[i].path);
        if (strcmp(routes[i].path, path) == 0 ||
            ((routes[i].flags & R_SIGNED) && strncmp(path, routes[i].path, n) == 0 &&
             path[n] == '/'))
            return &routes[i];
    }
    return NULL;
}

/* ---- helpers for handlers ---------------------------------------------- */

const char *fkc_arg(const fkc_req *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

void fkc_reply_error(fkc_reply *rep, int status, const char *msg)
{
    fkc_buf_free(&rep->body);
    rep->status = status;
    rep->type = "application/json";
    fkc_buf_puts(&rep->body, "{\"error\":");
    fkc_buf_json_str(&rep->body, msg);
    fkc_buf_printf(&rep->body, ",\"status\":%d}", status);
}

bool fkc_server_collector_stats(fkc_server *srv, fk_collector_stats *out)
{
    pthread_mutex_lock(&srv->lock);
    bool have = srv->have_cstats;
    *out = srv->cstats;
    pthread_mutex_unlock(&srv->lock);
    return have;
}

void fkc_server_set_collector_stats(fkc_server *s, const fk_collector_stats *st)
{
    pthread_mutex_lock(&s->lock);
    s->cstats = *st;
    s->have_cstats = true;
    pthread_mutex_unlock(&s->lock);
}

double fkc_server_uptime(const fkc_server *srv)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - srv->started.tv_sec) +
           (double)(now.tv_nsec - srv->started.tv_nsec) / 1e9;
}

void fkc_server_set_prefixstats(fkc_server *s, fk_prefixstats *ps)
{
    atomic_store(&s->prefixstats, ps);
}

size_t fkc_server_max_records(const fkc_server *srv)
{
    return srv->cfg.max_records;
}

/* ---- answers ------------------------------------------------------------ */

static void count_status(fkc_server *s, int status)
{
    atomic_fetch_add(&s->stats.requests, 1);
    atomic_ullong *c = status < 300   ? &s->stats.status_2xx
                       : status < 400 ? &s->stats.status_3xx
                       : status < 500 ? &s->stats.status_4xx
                                      : &s->stats.status_5xx;
    atomic_fetch_add(c, 1);
    if (status == 400)
        atomic_fetch_add(&s->stats.bad_requests, 1);
    else if (status == 401)
        atomic_fetch_add(&s->stats.unauthorized, 1);
    else if (status == 404)
        atomic_fetch_add(&s->stats.not_found, 1);
    else if (status == 413)
        atomic_fetch_add(&s->stats.too_large, 1);
}

static bool accepts_gzip(struct MHD_Connection *c)
{
    const char *v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Accept-Encoding");
    return v && strstr(v, "gzip") != NULL;
}

/* gzip text into a new buffer; NULL when it does not pay or fails. */
static char *gzip_text(const char *in, size_t len, size_t *out_len)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return NULL;
    uLong cap = deflateBound(&z, (uLong)len);
    char *out = malloc(cap);
    if (!out) {
        deflateEnd(&z);
        return NULL;
    }
    z.next_in = (Bytef *)(uintptr_t)in;
    z.avail_in = (uInt)len;
    z.next_out = (Bytef *)out;
    z.avail_out = (uInt)cap;
    int rc = deflate(&z, Z_FINISH);
    *out_len = z.total_out;
    deflateEnd(&z);
    if (rc != Z_STREAM_END || *out_len >= len) {
        free(out);
        return NULL;
    }
    return out;
}

static enum MHD_Result send_reply(fkc_server *s, struct MHD_Connection *c, fkc_reply *rep)
{
    size_t len = 0;
    char *text = fkc_buf_take(&rep->body, &len);
    if (!text) {
        rep->status = 503;
        text = strdup("{\"error\":\"out of memory\",\"status\":503}");
        len = text ? strlen(text) : 0;
        if (!text)
            return MHD_NO;
    }
    const char *encoding = NULL;
    if (len > 1024 && accepts_gzip(c)) {
        size_t zlen;
        char *z = gzip_text(text, len, &zlen);
        if (z) {
            free(text);
            text = z;
            len = zlen;
            encoding = "gzip";
        }
    }
    struct MHD_Response *r = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(text);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", rep->type ? rep->type : "application/json");
    MHD_add_response_header(r, "Cache-Control", "no-store");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    if (encoding)
        MHD_add_response_header(r, "Content-Encoding", encoding);
    if (rep->status == 401)
        MHD_add_response_header(r, "WWW-Authenticate", "Bearer realm=\"flowkit\"");
    count_status(s, rep->status);
    enum MHD_Result ret = MHD_queue_response(c, (unsigned)rep->status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result send_error(fkc_server *s, struct MHD_Connection *c, int status,
                                  const char *msg)
{
    fkc_reply rep = {0, NULL, {0}};
    fkc_reply_error(&rep, status, msg);
    return send_reply(s, c, &rep);
}

/* ---- static files ------------------------------------------------------- */

static const char *mime_of(const char *path)
{
    const char *dot = strrchr(path, '.');
    if (!dot)
        return "application/octet-stream";
    if (!strcmp(dot, ".html"))
        return "text/html; charset=utf-8";
    if (!strcmp(dot, ".js"))
        return "text/javascript; charset=utf-8";
    if (!strcmp(dot, ".css"))
        return "text/css; charset=utf-8";
    if (!strcmp(dot, ".svg"))
        return "image/svg+xml";
    if (!strcmp(dot, ".png"))
        return "image/png";
    return "application/octet-stream";
}

/* A relative path of [A-Za-z0-9._-] segments, none empty or starting with '.'. */
static bool safe_rel_path(const char *p)
{
    if (!*p || strlen(p) > 200)
        return false;
    for (const char *seg = p; *seg;) {
        if (*seg == '.' || *seg == '/')
            return false;
        while (*seg && *seg != '/') {
            if (!isalnum((unsigned char)*seg) && !strchr("._-", *seg))
                return false;
            seg++;
        }
        if (*seg == '/')
            seg++;
    }
    return true;
}

static enum MHD_Result send_file(fkc_server *s, struct MHD_Connection *c, const char *dir,
                                 const char *rel)
{
    if (!dir || !safe_rel_path(rel))
        return send_error(s, c, 404, "no such file");
    char path[1024];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, rel) >= sizeof path)
        return send_error(s, c, 404, "no such file");
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        if (fd >= 0)
            close(fd);
        return send_error(s, c, 404, "no such file");
    }
    struct MHD_Response *r = MHD_create_response_from_fd((uint64_t)st.st_size, fd);
    if (!r) {
        close(fd);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", mime_of(rel));
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    count_status(s, 200);
    enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return ret;
}

/* ---- live feed (Server-Sent Events) ------------------------------------- */

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

static enum MHD_Result start_feed(fkc_server *s, struct MHD_Connection *c)
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
            return send_error(s, c, 400, "\"after\" must be a sequence number");
        seq = v;
    }
    if (atomic_fetch_add(&s->stats.feeds_active, 1) >= s->cfg.max_feeds) {
        atomic_fetch_sub(&s->stats.feeds_active, 1);
        atomic_fetch_add(&s->stats.feeds_refused, 1);
        return send_error(s, c, 503, "too many live feed clients");
    }
    feed *f = calloc(1, sizeof *f);
    if (!f) {
        atomic_fetch_sub(&s->stats.feeds_active, 1);
        return send_error(s, c, 503, "out of memory");
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
    count_status(s, 200);
    enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return ret;
}

/* ---- the access handler ------------------------------------------------- */

typedef struct reqctx {
    fkc_buf body;
    bool too_large;
} reqctx;

static bool authorized(const fkc_server *s, struct MHD_Connection *c)
{
    if (!s->token)
        return true;
    /* RFC 6750: the Authorization header, or the access_token query
     * parameter (an EventSource cannot send headers). */
    const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    const char *given = h && strncmp(h, "Bearer ", 7) == 0
                            ? h + 7
                            : MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "access_token");
    if (!given)
        return false;
    size_t a = strlen(given), b = strlen(s->token);
    unsigned diff = (unsigned)(a ^ b);
    for (size_t i = 0; i < a && i < b; i++)
        diff |= (unsigned char)(given[i] ^ s->token[i]);
    return diff == 0;
}

/* wasted/netflow's signature: X-Io-Auth (or ?auth=) is the auth key, and
 * X-Io-Sign (or ?sign=) the hex HMAC-SHA256, under the sign key, of the
 * body, or of the auth key itself (a request without a body). */
static bool signed_request(const fkc_server *s, struct MHD_Connection *c, const reqctx *ctx)
{
    if (!s->auth_key || !s->sign_key)
        return false;
    const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Io-Auth");
    const char *sign = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Io-Sign");
    if (!auth)
        auth = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "auth");
    if (!sign)
        sign = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "sign");
    if (!auth || !sign)
        return false;
    size_t a = strlen(auth), b = strlen(s->auth_key);
    unsigned diff = (unsigned)(a ^ b);
    for (size_t i = 0; i < a && i < b; i++)
        diff |= (unsigned char)(auth[i] ^ s->auth_key[i]);
    if (diff)
        return false;
    size_t klen = strlen(s->sign_key);
    if (ctx->body.len && fkc_hmac_sha256_check(s->sign_key, klen, ctx->body.p, ctx->body.len, sign))
        return true;
    return fkc_hmac_sha256_check(s->sign_key, klen, auth, a, sign);
}

static enum MHD_Result handle(fkc_server *s, struct MHD_Connection *c, const char *url,
                              const char *method, reqctx *ctx)
{
    bool get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
    bool post = strcmp(method, "POST") == 0;
    const route *rt = find_route(url);
    if (rt && (rt->flags & R_SIGNED)) {
        bool stats = rt->fn == fkc_api_prefix_stats;
        if (!s->auth_key)
            return send_error(s, c, 404,
                              stats ? "the stats API is off (--senders-keys FILE)"
                                    : "the senders API is off (--senders-keys FILE)");
        if (ctx->too_large)
            return send_error(s, c, 413, "request body larger than the limit");
        if (!signed_request(s, c, ctx)) {
            atomic_fetch_add(
                stats ? &s->stats.prefix_stats_unauthorized : &s->stats.senders_unauthorized, 1);
            return send_error(s, c, 401, "X-Io-Auth and X-Io-Sign (HMAC-SHA256) do not match");
        }
        fkc_req req = {
            s,   s->store,    s->cfg.senders, atomic_load(&s->prefixstats), &s->stats, c, method,
            url, ctx->body.p, ctx->body.len};
        fkc_reply rep = {500, "application/json", {0}};
        rt->fn(&req, &rep);
        return send_reply(s, c, &rep);
    }
    if (!rt) {
        if (!get)
            return send_error(s, c, 405, "method not allowed");
        if (strcmp(url, "/") == 0)
            return send_file(s, c, s->cfg.www_dir, "index.html");
        if (strncmp(url, "/console/", 9) == 0)
            return send_file(s, c, s->cfg.www_dir, url + 9);
        if (strncmp(url, "/js/", 4) == 0)
            return send_file(s, c, s->cfg.js_dir, url + 4);
        return send_error(s, c, 404, "no such endpoint");
    }
    if ((rt->flags & R_POST) ? !post : !get)
        return send_error(s, c, 405, (rt->flags & R_POST) ? "use POST" : "use GET");
    if (!(rt->flags & R_PUBLIC) && !authorized(s, c))
        return send_error(s, c, 401, "a valid \"Authorization: Bearer TOKEN\" is required");
    if (ctx->too_large)
        return send_error(s, c, 413, "request body larger than the limit");
    if (rt->flags & R_FEED)
        return start_feed(s, c);
    fkc_req req = {
        s,   s->store,    s->cfg.senders, atomic_load(&s->prefixstats), &s->stats, c, method,
        url, ctx->body.p, ctx->body.len};
    fkc_reply rep = {500, "application/json", {0}};
    rt->fn(&req, &rep);
    return send_reply(s, c, &rep);
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *c, const char *url,
                                 const char *method, const char *version, const char *upload,
                                 size_t *upload_size, void **con_cls)
{
    (void)version;
    fkc_server *s = cls;
    reqctx *ctx = *con_cls;
    if (!ctx) {
        ctx = calloc(1, sizeof *ctx);
        if (!ctx)
            return MHD_NO;
        *con_cls = ctx;
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
        if (cl && strtoull(cl, NULL, 10) > s->cfg.max_body)
            ctx->too_large = true;
        return MHD_YES;
    }
    if (*upload_size) {
        if (ctx->body.len + *upload_size > s->cfg.max_body)
            ctx->too_large = true;
        else
            fkc_buf_put(&ctx->body, upload, *upload_size);
        *upload_size = 0;
        return MHD_YES;
    }
    if (ctx->body.oom)
        return send_error(s, c, 503, "out of memory");
    return handle(s, c, url, method, ctx);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)c;
    (void)toe;
    reqctx *ctx = *con_cls;
    if (ctx) {
        fkc_buf_free(&ctx->body);
        free(ctx);
        *con_cls = NULL;
    }
}

/* ---- start and stop ----------------------------------------------------- */

static int parse_listen(const char *text, struct sockaddr_storage *ss, bool *loopback)
{
    memset(ss, 0, sizeof *ss);
    char host[64] = "127.0.0.1";
    const char *port = text;
    const char *colon = strrchr(text, ':');
    if (text[0] == '[') {
        const char *close = strchr(text, ']');
        if (!close || close[1] != ':' || (size_t)(close - text - 1) >= sizeof host)
            return -1;
        memcpy(host, text + 1, (size_t)(close - text - 1));
        host[close - text - 1] = '\0';
        port = close + 2;
    } else if (colon) {
        if ((size_t)(colon - text) >= sizeof host || colon == text)
            return -1;
        memcpy(host, text, (size_t)(colon - text));
        host[colon - text] = '\0';
        port = colon + 1;
    }
    char *end;
    errno = 0;
    long p = strtol(port, &end, 10);
    if (!*port || *end || errno || p < 0 || p > 65535)
        return -1;
    struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)p);
        *loopback = (ntohl(a4->sin_addr.s_addr) >> 24) == 127;
        return 0;
    }
    if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)p);
        *loopback = IN6_IS_ADDR_LOOPBACK(&a6->sin6_addr);
        return 0;
    }
    return -1;
}

static char *read_token(const char *path, char *err, size_t errsize)
{
    FILE *f = fopen(path, "re");
    if (!f) {
        snprintf(err, errsize, "--http-token-file %s: %s", path, strerror(errno));
        return NULL;
    }
    char line[512];
    char *tok = NULL;
    if (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (strlen(line) >= 16)
            tok = strdup(line);
    }
    fclose(f);
    if (!tok)
        snprintf(err, errsize,
                 "--http-token-file %s: the first line must hold a token of 16 to "
                 "510 characters",
                 path);
    return tok;
}

/* The /senders keys: lines "auth = KEY" and "sign = KEY" (16 to 255
 * characters each), blank lines and # comments. */
static int read_keys(fkc_server *s, const char *path, char *err, size_t errsize)
{
    FILE *f = fopen(path, "re");
    if (!f) {
        snprintf(err, errsize, "--senders-keys %s: %s", path, strerror(errno));
        return -1;
    }
    char line[512];
    int line_no = 0, rc = 0;
    while (rc == 0 && fgets(line, sizeof line, f)) {
        line_no++;
        line[strcspn(line, "\r\n")] = '\0';
        char *p = line + strspn(line, " \t");
        if (!*p || *p == '#')
            continue;
        char name[8], value[256];
        if (sscanf(p, "%7[a-z] = %255s", name, value) != 2 ||
            (strcmp(name, "auth") && strcmp(name, "sign")) || strlen(value) < 16) {
            snprintf(err, errsize,
                     "--senders-keys %s:%d: expected \"auth = KEY\" or \"sign = KEY\" (16 to 255 "
                     "characters)",
                     path, line_no);
            rc = -1;
            break;
        }
        char **slot = strcmp(name, "auth") == 0 ? &s->auth_key : &s->sign_key;
        free(*slot);
        if (!(*slot = strdup(value))) {
            snprintf(err, errsize, "out of memory");
            rc = -1;
        }
    }
    fclose(f);
    if (rc == 0 && (!s->auth_key || !s->sign_key)) {
        snprintf(err, errsize, "--senders-keys %s: needs both an auth and a sign line", path);
        rc = -1;
    }
    return rc;
}

int fkc_server_start(fkc_server **out, const fkc_server_config *cfg, fk_store *store, char *err,
                     size_t errsize)
{
    *out = NULL;
    struct sockaddr_storage ss;
    bool loopback = false;
    if (parse_listen(cfg->listen, &ss, &loopback) != 0) {
        snprintf(err, errsize, "--http %s: expected PORT, ADDR:PORT or [ADDR6]:PORT", cfg->listen);
        return -1;
    }
    if (!loopback && !cfg->token_file) {
        snprintf(err, errsize, "--http %s is not a loopback address: --http-token-file is required",
                 cfg->listen);
        return -1;
    }
    fkc_server *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errsize, "out of memory");
        return -1;
    }
    s->store = store;
    s->cfg = *cfg;
    clock_gettime(CLOCK_MONOTONIC, &s->started);
    pthread_mutex_init(&s->lock, NULL);
    if (cfg->token_file && !(s->token = read_token(cfg->token_file, err, errsize))) {
        fkc_server_stop(s);
        return -1;
    }
    if (cfg->senders_keys_file && read_keys(s, cfg->senders_keys_file, err, errsize) != 0) {
        fkc_server_stop(s);
        return -1;
    }
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
                     MHD_USE_POLL | (ss.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0);
    s->mhd =
        MHD_start_daemon(flags, 0, NULL, NULL, on_access, s, MHD_OPTION_SOCK_ADDR, &ss,
                         MHD_OPTION_CONNECTION_LIMIT, cfg->max_conns, MHD_OPTION_CONNECTION_TIMEOUT,
                         30u, MHD_OPTION_NOTIFY_COMPLETED, on_completed, s, MHD_OPTION_END);
    if (!s->mhd) {
        snprintf(err, errsize, "--http %s: cannot listen (address in use or not available)",
                 cfg->listen);
        fkc_server_stop(s);
        return -1;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->mhd, MHD_DAEMON_INFO_BIND_PORT);
    char host[INET6_ADDRSTRLEN];
    if (ss.ss_family == AF_INET) {
        inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, host, sizeof host);
        snprintf(s->url, sizeof s->url, "http://%s:%u/", host, info ? info->port : 0);
    } else {
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, host, sizeof host);
        snprintf(s->url, sizeof s->url, "http://[%s]:%u/", host, info ? info->port : 0);
    }
    *out = s;
    return 0;
}

const char *fkc_server_url(const fkc_server *s)
{
    return s->url;
}

void fkc_server_stop(fkc_server *s)
{
    if (!s)
        return;
    atomic_store(&s->stopping, true);
    if (s->mhd)
        MHD_stop_daemon(s->mhd);
    pthread_mutex_destroy(&s->lock);
    free(s->token);
    free(s->auth_key);
    free(s->sign_key);
    free(s);
}
