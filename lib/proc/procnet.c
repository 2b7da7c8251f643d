/* /proc/net/{tcp,udp}{,6}: the fallback socket table when sock_diag is not
 * available. Addresses are printed as 32-bit words in host byte order
 * ("%08X" of the __be32 read as a native u32), ports as "%04X" host order. */
#include "proc/sock.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Parse `n` hex digits at p into *v; returns 0 or -1. */
static int hexn(const char *p, size_t n, uint32_t *v)
{
    uint32_t x = 0;
    for (size_t i = 0; i < n; i++) {
        int h = hexval(p[i]);
        if (h < 0)
            return -1;
        x = (x << 4) | (uint32_t)h;
    }
    *v = x;
    return 0;
}

/* "0100007F:0016" → address and port; returns characters consumed or -1. */
static int parse_endpoint(const char *p, const char *end, int family, fk_addr *a, uint16_t *port)
{
    size_t words = family == 6 ? 4 : 1;
    size_t need = words * 8 + 1 + 4;
    if ((size_t)(end - p) < need || p[words * 8] != ':')
        return -1;
    memset(a, 0, sizeof *a);
    a->family = (uint8_t)family;
    for (size_t w = 0; w < words; w++) {
        uint32_t v;
        if (hexn(p + w * 8, 8, &v) < 0)
            return -1;
        /* The word is the in-memory __be32 printed as a native integer. */
        memcpy(a->bytes + w * 4, &v, 4);
    }
    uint32_t pv;
    if (hexn(p + words * 8 + 1, 4, &pv) < 0)
        return -1;
    *port = (uint16_t)pv;
    return (int)need;
}

static const char *skip_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    return p;
}

static const char *skip_field(const char *p, const char *end)
{
    while (p < end && *p != ' ' && *p != '\t' && *p != '\n')
        p++;
    return p;
}

static int parse_line(const char *p, const char *end, int family, int proto, fk__sock *s)
{
    memset(s, 0, sizeof *s);
    s->proto = (uint8_t)proto;
    p = skip_ws(p, end);
    /* "sl:" */
    p = skip_field(p, end);
    p = skip_ws(p, end);
    int n = parse_endpoint(p, end, family, &s->local, &s->lport);
    if (n < 0)
        return -1;
    p = skip_ws(p + n, end);
    n = parse_endpoint(p, end, family, &s->remote, &s->rport);
    if (n < 0)
        return -1;
    p = skip_ws(p + n, end);
    uint32_t st;
    if (end - p < 2 || hexn(p, 2, &st) < 0)
        return -1;
    s->state = (uint8_t)st;
    /* tx_queue:rx_queue, tr:tm->when, retrnsmt, then uid, timeout, inode. */
    for (int i = 0; i < 4; i++) {
        p = skip_field(p, end);
        p = skip_ws(p, end);
    }
    char num[24];
    const char *q = skip_field(p, end);
    if (q == p || (size_t)(q - p) >= sizeof num)
        return -1;
    memcpy(num, p, (size_t)(q - p));
    num[q - p] = '\0';
    char *e;
    unsigned long uid = strtoul(num, &e, 10);
    if (*e)
        return -1;
    s->uid = (uint32_t)uid;
    p = skip_ws(q, end);
    p = skip_field(p, end); /* timeout */
    p = skip_ws(p, end);
    q = skip_field(p, end);
    if (q == p || (size_t)(q - p) >= sizeof num)
        return -1;
    memcpy(num, p, (size_t)(q - p));
    num[q - p] = '\0';
    unsigned long long ino = strtoull(num, &e, 10);
    if (*e)
        return -1;
    s->inode = ino;
    return 0;
}

int fk__procnet_parse(const char *text, size_t len, int family, int proto, fk__sock_cb cb,
                      void *ctx)
{
    const char *p = text, *end = text + len;
    int count = 0;
    bool header = true;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        if (header) {
            header = false; /* the column titles */
        } else if (le > p) {
            fk__sock s;
            if (parse_line(p, le, family, proto, &s) < 0)
                return fk__error(FK_EMALFORMED, "/proc/net: cannot parse line %d", count + 2);
            count++;
            if (cb && cb(ctx, &s))
                return count;
        }
        p = nl ? nl + 1 : end;
    }
    return count;
}

static int read_text(const char *path, char **out, size_t *len)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return fk__error_errno(errno == ENOENT ? FK_ENOTFOUND : FK_EIO, "%s", path);
    size_t cap = 16384, n = 0;
    char *buf = fk__malloc(cap);
    if (!buf) {
        fclose(f);
        return fk__error(FK_ENOMEM, "%s: out of memory", path);
    }
    for (;;) {
        if (n == cap) {
            char *nb = fk__realloc(buf, cap * 2);
            if (!nb) {
                fk__free(buf);
                fclose(f);
                return fk__error(FK_ENOMEM, "%s: out of memory", path);
            }
            buf = nb;
            cap *= 2;
        }
        size_t r = fread(buf + n, 1, cap - n, f);
        n += r;
        if (r == 0)
            break;
    }
    fclose(f);
    *out = buf;
    *len = n;
    return 0;
}

int fk__procnet_read_all(const char *proc_root, fk__sock_cb cb, void *ctx)
{
    static const struct {
        const char *name;
        int family, proto;
    } files[] = {{"tcp", 4, 6}, {"tcp6", 6, 6}, {"udp", 4, 17}, {"udp6", 6, 17}};
    int total = 0;
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/net/%s", proc_root, files[i].name);
        char *text = NULL;
        size_t len = 0;
        int rc = read_text(path, &text, &len);
        if (rc == FK_ENOTFOUND)
            continue;
        if (rc < 0)
            return rc;
        int n = fk__procnet_parse(text, len, files[i].family, files[i].proto, cb, ctx);
        fk__free(text);
        if (n < 0)
            return n;
        total += n;
    }
    return total;
}
