/* GET/PUT/DELETE /senders[/IP]: the collector's senders registry over
 * HTTP (wasted/netflow's API). The server has checked the signature
 * (server.c, X-Io-Auth / X-Io-Sign) before a request gets here. */
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "senders_body.h"

static void reply_registry(const fkc_req *req, fkc_reply *rep, const char *one)
{
    size_t size = fk_senders_json_size(req->senders) + 1024;
    char *buf = malloc(size);
    if (!buf) {
        fkc_reply_error(rep, 503, "out of memory");
        return;
    }
    int n = fk_senders_to_json(req->senders, one, buf, size);
    if (n == FK_ENOTFOUND)
        fkc_reply_error(rep, 404, "no such sender");
    else if (n < 0)
        fkc_reply_error(rep, n == FK_EINVAL ? 400 : 503, fk_error_last()->message);
    else {
        rep->status = 200;
        fkc_buf_put(&rep->body, buf, (size_t)n);
    }
    free(buf);
}

/* The body's prefixes, each checked on a scratch registry first, so that a
 * request is applied whole or not at all. */
static char (*body_prefixes(const fkc_req *req, fkc_reply *rep, const char *ip,
                            size_t *n))[FKC_PREFIX_TEXT_MAX]
{
    char(*p)[FKC_PREFIX_TEXT_MAX] = calloc(FK_SENDERS_PREFIXES_MAX, sizeof *p);
    char err[160];
    if (!p) {
        fkc_reply_error(rep, 503, "out of memory");
        return NULL;
    }
    if (fkc_senders_body_parse(req->body, req->body_len, p, FK_SENDERS_PREFIXES_MAX, n, err,
                               sizeof err) < 0) {
        fkc_reply_error(rep, 400, err);
        free(p);
        return NULL;
    }
    fk_senders *scratch = NULL;
    int rc = fk_senders_create(&scratch);
    for (size_t i = 0; rc == 0 && i < *n; i++)
        rc = fk_senders_add_prefix(scratch, ip, p[i]);
    if (rc == 0 && *n == 0)
        rc = fk_senders_add_prefix(scratch, ip, NULL);
    fk_senders_destroy(scratch);
    if (rc != 0) {
        fkc_reply_error(rep, rc == FK_ENOMEM ? 503 : 400, fk_error_last()->message);
        free(p);
        return NULL;
    }
    return p;
}

void fkc_api_senders(const fkc_req *req, fkc_reply *rep)
{
    atomic_fetch_add(&req->stats->senders_requests, 1);
    if (!req->senders) {
        fkc_reply_error(rep, 404, "no senders registry (flowkit-collect --senders FILE)");
        return;
    }
    const char *ip = strncmp(req->path, "/senders/", 9) == 0 ? req->path + 9 : NULL;
    bool get = strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0;
    if (!ip || !*ip) {
        if (!get) {
            fkc_reply_error(rep, 405, "use GET on /senders, PUT or DELETE on /senders/IP");
            return;
        }
        reply_registry(req, rep, NULL);
        return;
    }
    if (get) {
        reply_registry(req, rep, ip);
        return;
    }
    bool put = strcmp(req->method, "PUT") == 0;
    if (!put && strcmp(req->method, "DELETE") != 0) {
        fkc_reply_error(rep, 405, "use GET, PUT or DELETE");
        return;
    }
    size_t n = 0;
    char(*p)[FKC_PREFIX_TEXT_MAX] = body_prefixes(req, rep, ip, &n);
    if (!p)
        return;
    int rc = 0;
    if (put) {
        rc = fk_senders_add_prefix(req->senders, ip, NULL);
        for (size_t i = 0; rc == 0 && i < n; i++)
            rc = fk_senders_add_prefix(req->senders, ip, p[i]);
    } else if (n == 0) {
        rc = fk_senders_forget(req->senders, ip, NULL);
    } else {
        /* Every prefix named goes; one that was not there is a 404 after
         * the others went. */
        int missing = 0;
        for (size_t i = 0; i < n; i++) {
            int r = fk_senders_forget(req->senders, ip, p[i]);
            if (r == FK_ENOTFOUND)
                missing = r;
            else if (r != 0)
                rc = r;
        }
        if (!rc)
            rc = missing;
    }
    free(p);
    if (rc == FK_ENOTFOUND) {
        fkc_reply_error(rep, 404, fk_error_last()->message);
        return;
    }
    if (rc != 0) {
        fkc_reply_error(rep, rc == FK_ERANGE || rc == FK_EINVAL ? 400 : 503,
                        fk_error_last()->message);
        return;
    }
    if (put)
        reply_registry(req, rep, ip);
    else {
        rep->status = 200;
        fkc_buf_puts(&rep->body, "{\"deleted\":true}");
    }
}
