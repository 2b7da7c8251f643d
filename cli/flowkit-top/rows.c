/* flowkit-top: the rows and connections a refresh shows, and the
 * connections remembered between refreshes for their rates. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fkcli.h"
#include "top.h"

static bool pid_wanted(const top *t, uint32_t pid)
{
    if (!t->npids)
        return true;
    for (size_t i = 0; i < t->npids; i++)
        if (t->pids[i] == pid)
            return true;
    return false;
}

/* The rows to show (filtered by -P, cut by --limit): indexes into snap. */
size_t top_pick_rows(const top *t, const fk_rank_snapshot *s, size_t *idx, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < s->count && n < max; i++) {
        if (!pid_wanted(t, s->rows[i].pid))
            continue;
        if (t->limit && n >= t->limit)
            break;
        idx[n++] = i;
    }
    return n;
}

/* What the PROGRAM column shows, made safe to print into `buf`: control
 * characters (a command line or a file name may hold tabs, newlines or
 * terminal escapes) become '?', and so does every non-ASCII byte when
 * `ascii` (curses counts columns by bytes here). */
const char *top_program(const top *t, const fk_rank_row *r, char *buf, size_t size, bool ascii)
{
    const char *p = r->name;
    if (t->cmdline && r->cmdline[0])
        p = r->cmdline;
    else if (r->pid && r->exe[0])
        p = r->exe;
    size_t i = 0;
    for (; p[i] && i + 1 < size; i++) {
        unsigned char ch = (unsigned char)p[i];
        buf[i] = ch < 0x20 || ch == 0x7f || (ascii && ch >= 0x80) ? '?' : (char)ch;
    }
    buf[i] = '\0';
    return buf;
}

static int seen_cmp(const void *a, const void *b)
{
    const seen *x = a, *y = b;
    if (x->pid != y->pid)
        return x->pid < y->pid ? -1 : 1;
    if (x->proto != y->proto)
        return x->proto < y->proto ? -1 : 1;
    if (x->lport != y->lport)
        return x->lport < y->lport ? -1 : 1;
    if (x->rport != y->rport)
        return x->rport < y->rport ? -1 : 1;
    int c = memcmp(&x->local, &y->local, sizeof x->local);
    return c ? c : memcmp(&x->remote, &y->remote, sizeof x->remote);
}

static seen seen_of(uint32_t pid, const fk_rank_conn *c)
{
    seen k;
    memset(&k, 0, sizeof k);
    k.pid = pid;
    k.proto = c->proto;
    k.lport = c->local_port;
    k.rport = c->remote_port;
    k.local = c->local;
    k.remote = c->remote;
    k.sent = c->sent_bytes;
    k.recv = c->recv_bytes;
    return k;
}

static int ranked_cmp(const void *a, const void *b)
{
    const ranked_conn *x = a, *y = b;
    uint64_t bx = x->c->sent_bytes + x->c->recv_bytes, by = y->c->sent_bytes + y->c->recv_bytes;
    if (bx != by)
        return bx > by ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

/* "10.0.0.1:1234" or "[fd00::1]:1234". */
static void endpoint(char *out, size_t size, const fk_addr *a, uint16_t port)
{
    char text[FK_ADDR_STRLEN] = "";
    if (fk_addr_format(a, text, sizeof text) < 0)
        snprintf(text, sizeof text, "?");
    snprintf(out, size, a->family == 6 ? "[%s]:%u" : "%s:%u", text, (unsigned)port);
}

/* A row's connections, most bytes first (ties in snapshot order); NULL
 * when it has none. The caller frees. */
ranked_conn *top_sorted_conns(const fk_rank_row *r)
{
    if (!r->conn_count || !r->conns)
        return NULL;
    ranked_conn *rc = malloc(r->conn_count * sizeof *rc);
    if (!rc)
        fkcli_fail("out of memory");
    for (size_t i = 0; i < r->conn_count; i++)
        rc[i] = (ranked_conn){&r->conns[i], i};
    qsort(rc, r->conn_count, sizeof *rc, ranked_cmp);
    return rc;
}

/* "tcp 10.0.0.1:1234 -> 10.0.0.2:80". */
void top_conn_text(char *out, size_t size, const fk_rank_conn *c)
{
    char l[FK_ADDR_STRLEN + 10], rem[FK_ADDR_STRLEN + 10], proto[8];
    endpoint(l, sizeof l, &c->local, c->local_port);
    endpoint(rem, sizeof rem, &c->remote, c->remote_port);
    if (c->proto == 6 || c->proto == 17)
        snprintf(proto, sizeof proto, "%s", c->proto == 6 ? "tcp" : "udp");
    else
        snprintf(proto, sizeof proto, "%u", (unsigned)c->proto);
    snprintf(out, size, "%s %s -> %s", proto, l, rem);
}

/* Bytes/s of a connection since the previous refresh (a new one: all its
 * bytes over that time). */
void top_conn_rates(const top *t, uint32_t pid, const fk_rank_conn *c, double elapsed, double *sent,
                    double *recv)
{
    seen k = seen_of(pid, c);
    const seen *old = t->nseen ? bsearch(&k, t->seen, t->nseen, sizeof k, seen_cmp) : NULL;
    uint64_t ds = c->sent_bytes, dr = c->recv_bytes;
    if (old) {
        ds = ds >= old->sent ? ds - old->sent : 0;
        dr = dr >= old->recv ? dr - old->recv : 0;
    }
    *sent = (double)ds / elapsed;
    *recv = (double)dr / elapsed;
}

/* Seconds since the previous refresh (the connection rates' window). */
double top_since_last(const top *t, const fk_rank_snapshot *s)
{
    double elapsed = (double)(s->time_ns - t->seen_ns) / 1e9;
    return elapsed > 0.001 ? elapsed : t->delay;
}

/* Remember every connection's bytes for the next refresh's rates. */
void top_remember_conns(top *t, const fk_rank_snapshot *s)
{
    size_t n = 0;
    for (size_t i = 0; i < s->count; i++)
        n += s->rows[i].conns ? s->rows[i].conn_count : 0;
    seen *v = malloc((n + 1) * sizeof *v);
    if (!v)
        fkcli_fail("out of memory");
    n = 0;
    for (size_t i = 0; i < s->count; i++)
        for (size_t k = 0; s->rows[i].conns && k < s->rows[i].conn_count; k++)
            v[n++] = seen_of(s->rows[i].pid, &s->rows[i].conns[k]);
    qsort(v, n, sizeof *v, seen_cmp);
    free(t->seen);
    t->seen = v;
    t->nseen = n;
    t->seen_ns = s->time_ns;
}
