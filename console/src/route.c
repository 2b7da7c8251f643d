/* Routing a request: the table of endpoints, the bearer token or the
 * signed requests of /senders and /stats, the body limit, methods, and
 * the static pages for everything else. */
#include <stdlib.h>
#include <string.h>

#include "hmac.h"
#include "server_int.h"

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

const char *fkc_arg(const fkc_req *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

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

/* Call the route's handler with the request and send what it answers. */
static enum MHD_Result run(fkc_server *s, struct MHD_Connection *c, const route *rt,
                           const char *url, const char *method, const reqctx *ctx)
{
    fkc_req req = {s,
                   s->store,
                   s->cfg.senders,
                   atomic_load(&s->prefixstats),
                   &s->stats,
                   c,
                   method,
                   url,
                   ctx->body.p,
                   ctx->body.len,
                   s->history};
    fkc_reply rep = {500, "application/json", {0}};
    rt->fn(&req, &rep);
    return fkc_send_reply(s, c, &rep);
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
            return fkc_send_error(s, c, 404,
                                  stats ? "the stats API is off (--senders-keys FILE)"
                                        : "the senders API is off (--senders-keys FILE)");
        if (ctx->too_large)
            return fkc_send_error(s, c, 413, "request body larger than the limit");
        if (!signed_request(s, c, ctx)) {
            atomic_fetch_add(
                stats ? &s->stats.prefix_stats_unauthorized : &s->stats.senders_unauthorized, 1);
            return fkc_send_error(s, c, 401, "X-Io-Auth and X-Io-Sign (HMAC-SHA256) do not match");
        }
        return run(s, c, rt, url, method, ctx);
    }
    if (!rt) {
        if (!get)
            return fkc_send_error(s, c, 405, "method not allowed");
        if (strcmp(url, "/") == 0)
            return fkc_send_file(s, c, s->cfg.www_dir, "index.html");
        if (strncmp(url, "/console/", 9) == 0)
            return fkc_send_file(s, c, s->cfg.www_dir, url + 9);
        if (strncmp(url, "/js/", 4) == 0)
            return fkc_send_file(s, c, s->cfg.js_dir, url + 4);
        return fkc_send_error(s, c, 404, "no such endpoint");
    }
    if ((rt->flags & R_POST) ? !post : !get)
        return fkc_send_error(s, c, 405, (rt->flags & R_POST) ? "use POST" : "use GET");
    if (!(rt->flags & R_PUBLIC) && !authorized(s, c))
        return fkc_send_error(s, c, 401, "a valid \"Authorization: Bearer TOKEN\" is required");
    if (ctx->too_large)
        return fkc_send_error(s, c, 413, "request body larger than the limit");
    if (rt->flags & R_FEED)
        return fkc_start_feed(s, c);
    return run(s, c, rt, url, method, ctx);
}

enum MHD_Result fkc_on_access(void *cls, struct MHD_Connection *c, const char *url,
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
        return fkc_send_error(s, c, 503, "out of memory");
    return handle(s, c, url, method, ctx);
}

void fkc_on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
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
