/* ClickHouse sink: clickhouse://HOST:PORT/DB.TABLE[?batch_rows=N&...]
 * into its configuration. */
#include <errno.h>
#include <flowkit/params.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector/sink_clickhouse.h"
#include "core/error.h"
#include "core/uri.h"

#define NS 1000000000LL
#define MS 1000000LL

/* ---- URI ---------------------------------------------------------------- */

static int ident_ok(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '_'))
            return 0;
    return 1;
}

static int copy_part(char *dst, size_t size, const char *s, size_t n)
{
    if (n >= size)
        return -1;
    memcpy(dst, s, n);
    dst[n] = '\0';
    return 0;
}

/* A number option, up to the next '&', by the one number rule. */
static int opt_num(const char *uri, const char *name, const char *v, int64_t lo, int64_t hi,
                   int64_t *out)
{
    char text[32];
    size_t n = strcspn(v, "&");
    int64_t x = 0;
    if (n < sizeof text) {
        memcpy(text, v, n);
        text[n] = '\0';
    }
    if (n >= sizeof text || fk_param_parse_int(text, &x) != FK_OK || x < lo || x > hi)
        return fk__error(FK_EINVAL, "output \"%s\": %s must be %" PRId64 "..%" PRId64, uri, name,
                         lo, hi);
    *out = x;
    return FK_OK;
}

int fk__ch_uri_parse(const char *uri, fk__ch_config *c)
{
    memset(c, 0, sizeof *c);
    c->batch_rows = 50000;
    c->flush_ns = 1 * NS;
    c->queue_rows = 1000000;
    c->drain_ns = 10 * NS;
    c->timeout_ns = 10 * NS;
    c->create = 1;
    snprintf(c->port, sizeof c->port, "8123");
    static const char *const schemes[] = {"clickhouse", NULL};
    fk__uri u;
    int prc = fk__uri_parse(&u, uri, schemes, FK__URI_PORT_OPTIONAL | FK__URI_PATH, "output",
                            "clickhouse://HOST[:PORT]/DB.TABLE");
    if (prc)
        return prc;
    snprintf(c->host, sizeof c->host, "%s", u.host);
    if (u.has_port)
        snprintf(c->port, sizeof c->port, "%u", u.port);
    const char *slash = u.path;
    const char *name = slash + 1;
    const char *q = strchr(name, '?');
    const char *nend = q ? q : name + strlen(name);
    const char *dot = memchr(name, '.', (size_t)(nend - name));
    if (!dot || copy_part(c->db, sizeof c->db, name, (size_t)(dot - name)) < 0 ||
        copy_part(c->table, sizeof c->table, dot + 1, (size_t)(nend - dot - 1)) < 0 ||
        !ident_ok(c->db) || !ident_ok(c->table))
        return fk__error(FK_EINVAL,
                         "output \"%s\": expected /DB.TABLE (letters, digits, underscore)", uri);
    for (const char *o = q ? q + 1 : NULL; o && *o;) {
        const char *eq = strchr(o, '=');
        const char *amp = strchr(o, '&');
        if (!eq || (amp && amp < eq))
            return fk__error(FK_EINVAL, "output \"%s\": option without value", uri);
        size_t kl = (size_t)(eq - o);
        const char *v = eq + 1;
        size_t vl = amp ? (size_t)(amp - v) : strlen(v);
        int64_t x = 0;
        int rc = FK_OK;
#define KEY(s) (kl == sizeof(s) - 1 && strncmp(o, s, kl) == 0)
        if (KEY("batch_rows")) {
            rc = opt_num(uri, "batch_rows", v, 1, 10000000, &x);
            c->batch_rows = (size_t)x;
        } else if (KEY("flush_ms")) {
            rc = opt_num(uri, "flush_ms", v, 1, 3600000, &x);
            c->flush_ns = x * MS;
        } else if (KEY("queue_rows")) {
            rc = opt_num(uri, "queue_rows", v, 1, 1000000000, &x);
            c->queue_rows = (size_t)x;
        } else if (KEY("drain_ms")) {
            rc = opt_num(uri, "drain_ms", v, 0, 3600000, &x);
            c->drain_ns = x * MS;
        } else if (KEY("timeout_ms")) {
            rc = opt_num(uri, "timeout_ms", v, 1, 3600000, &x);
            c->timeout_ns = x * MS;
        } else if (KEY("create")) {
            rc = opt_num(uri, "create", v, 0, 1, &x);
            c->create = (int)x;
        } else if (KEY("user")) {
            if (copy_part(c->user, sizeof c->user, v, vl) < 0 || strpbrk(c->user, "\r\n"))
                rc = fk__error(FK_EINVAL, "output \"%s\": bad user", uri);
        } else if (KEY("password")) {
            if (copy_part(c->password, sizeof c->password, v, vl) < 0 ||
                strpbrk(c->password, "\r\n"))
                rc = fk__error(FK_EINVAL, "output \"%s\": bad password", uri);
        } else {
            rc = fk__error(FK_EINVAL,
                           "output \"%s\": unknown option (batch_rows, flush_ms, queue_rows, "
                           "drain_ms, timeout_ms, create, user, password)",
                           uri);
        }
#undef KEY
        if (rc)
            return rc;
        o = amp ? amp + 1 : NULL;
    }
    return FK_OK;
}
