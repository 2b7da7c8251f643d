/* JSON rendering of any IPFIX / NetFlow v9 record, every field by name. */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/error.h"
#include "core/json.h"
#include "ipfix/plan.h"

typedef struct jbuf {
    char *buf;
    size_t size;
    size_t pos;
    int over;
} jbuf;

static void put(jbuf *j, const char *s, size_t n)
{
    if (j->over || j->size - j->pos <= n) {
        j->over = 1;
        return;
    }
    memcpy(j->buf + j->pos, s, n);
    j->pos += n;
    j->buf[j->pos] = '\0';
}

static void puts_(jbuf *j, const char *s)
{
    put(j, s, strlen(s));
}

static void FK__PRINTF(2, 3) putf(jbuf *j, const char *fmt, ...)
{
    char tmp[128];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof tmp) {
        j->over = 1;
        return;
    }
    put(j, tmp, (size_t)n);
}

static void put_hex(jbuf *j, const uint8_t *p, size_t n)
{
    static const char hx[] = "0123456789abcdef";
    put(j, "\"", 1);
    for (size_t i = 0; i < n && !j->over; i++) {
        char c[2] = {hx[p[i] >> 4], hx[p[i] & 15]};
        put(j, c, 2);
    }
    put(j, "\"", 1);
}

/* A string element: the one JSON string writer (core/json.h), so octets
 * that are not UTF-8 become U+FFFD. */
static void put_string(jbuf *j, const uint8_t *p, size_t n)
{
    /* trailing NULs pad fixed-length strings */
    while (n > 0 && p[n - 1] == 0)
        n--;
    size_t need = fk__json_escape(NULL, p, n) + 2;
    if (j->over || j->size - j->pos <= need) {
        j->over = 1;
        return;
    }
    char *o = j->buf + j->pos;
    o[0] = '"';
    fk__json_escape(o + 1, p, n);
    o[need - 1] = '"';
    j->pos += need;
    j->buf[j->pos] = '\0';
}

static void put_time(jbuf *j, int64_t ns, int digits)
{
    int64_t s = ns / 1000000000;
    int64_t frac = ns % 1000000000;
    if (frac < 0) {
        frac += 1000000000;
        s--;
    }
    time_t t = (time_t)s;
    struct tm tm;
    if (!gmtime_r(&t, &tm)) {
        putf(j, "%" PRId64, ns);
        return;
    }
    putf(j, "\"%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
         tm.tm_hour, tm.tm_min, tm.tm_sec);
    if (digits == 3)
        putf(j, ".%03d", (int)(frac / 1000000));
    else if (digits == 6)
        putf(j, ".%06d", (int)(frac / 1000));
    else if (digits == 9)
        putf(j, ".%09d", (int)frac);
    puts_(j, "Z\"");
}

static const char *const v9_scope_names[] = {"scopeSystem", "scopeInterface", "scopeLineCard",
                                             "scopeCache", "scopeTemplate"};

static void put_key(jbuf *j, const fk_template *t, uint16_t i)
{
    const fk__plan_field *f = &t->plan->fields[i];
    char name[64];
    if (f->v9_scope) {
        if (f->id >= 1 && f->id <= 5)
            snprintf(name, sizeof name, "%s", v9_scope_names[f->id - 1]);
        else
            snprintf(name, sizeof name, "scope%u", (unsigned)f->id);
    } else if (f->ie) {
        snprintf(name, sizeof name, "%s", f->ie->name);
    } else if (f->pen == 0) {
        snprintf(name, sizeof name, "_ipfix_%u", (unsigned)f->id);
    } else {
        snprintf(name, sizeof name, "e%uid%u", (unsigned)f->pen, (unsigned)f->id);
    }
    /* a repeated element gets "_2", "_3", ... so keys stay unique */
    unsigned dup = 1;
    for (uint16_t k = 0; k < i; k++) {
        const fk__plan_field *g = &t->plan->fields[k];
        if (g->pen == f->pen && g->id == f->id && g->v9_scope == f->v9_scope)
            dup++;
    }
    put(j, "\"", 1);
    puts_(j, name);
    if (dup > 1)
        putf(j, "_%u", dup);
    put(j, "\":", 2);
}

int fk_ipfix_record_to_json(const fk_ipfix_record *rec, char *buf, size_t size)
{
    if (!rec || !rec->tmpl || !buf)
        return fk__error(FK_EINVAL, "ipfix record: NULL argument");
    jbuf j = {buf, size, 0, 0};
    if (size)
        buf[0] = '\0';
    putf(&j, "{\"template_id\":%u,\"domain\":%" PRIu32, (unsigned)rec->template_id, rec->domain);
    const fk_template *t = rec->tmpl;
    for (uint16_t i = 0; i < t->count && !j.over; i++) {
        fk_ipfix_value v;
        put(&j, ",", 1);
        put_key(&j, t, i);
        if (fk__plan_value(t->plan, rec->data, rec->offsets, i, &v) < 0) {
            put_hex(&j, v.raw, v.len); /* length unfit for the type: raw octets */
            continue;
        }
        switch (v.type) {
        case FK_IE_UNSIGNED8:
        case FK_IE_UNSIGNED16:
        case FK_IE_UNSIGNED32:
        case FK_IE_UNSIGNED64:
            putf(&j, "%" PRIu64, v.u);
            break;
        case FK_IE_SIGNED8:
        case FK_IE_SIGNED16:
        case FK_IE_SIGNED32:
        case FK_IE_SIGNED64:
            putf(&j, "%" PRId64, v.i);
            break;
        case FK_IE_FLOAT32:
        case FK_IE_FLOAT64:
            if (isfinite(v.f))
                putf(&j, "%.17g", v.f);
            else
                puts_(&j, "null");
            break;
        case FK_IE_BOOLEAN:
            if (v.u == 1 || v.u == 2)
                puts_(&j, v.u == 1 ? "true" : "false");
            else
                putf(&j, "%" PRIu64, v.u);
            break;
        case FK_IE_MAC_ADDRESS:
            putf(&j, "\"%02x:%02x:%02x:%02x:%02x:%02x\"", v.raw[0], v.raw[1], v.raw[2], v.raw[3],
                 v.raw[4], v.raw[5]);
            break;
        case FK_IE_STRING:
            put_string(&j, v.raw, v.len);
            break;
        case FK_IE_DATE_TIME_SECONDS:
            put_time(&j, v.i, 0);
            break;
        case FK_IE_DATE_TIME_MILLISECONDS:
            put_time(&j, v.i, 3);
            break;
        case FK_IE_DATE_TIME_MICROSECONDS:
            put_time(&j, v.i, 6);
            break;
        case FK_IE_DATE_TIME_NANOSECONDS:
            put_time(&j, v.i, 9);
            break;
        case FK_IE_IPV4_ADDRESS:
        case FK_IE_IPV6_ADDRESS: {
            char a[FK_ADDR_STRLEN];
            if (fk_addr_format(&v.addr, a, sizeof a) < 0)
                a[0] = '\0';
            putf(&j, "\"%s\"", a);
            break;
        }
        default: /* octetArray, lists (RFC 6313 as opaque octets), unknown */
            if (v.type == FK_IE_UNKNOWN && v.len >= 1 && v.len <= 8 &&
                t->plan->fields[i].length != FK_VARLEN) {
                uint64_t u = 0; /* unknown fixed-size fields: show as a number */
                for (size_t k = 0; k < v.len; k++)
                    u = u << 8 | v.raw[k];
                putf(&j, "%" PRIu64, u);
            } else {
                put_hex(&j, v.raw, v.len);
            }
            break;
        }
    }
    put(&j, "}", 1);
    if (j.over)
        return fk__error(FK_ENOSPACE, "ipfix record: JSON does not fit in %zu octets", size);
    return (int)j.pos;
}
