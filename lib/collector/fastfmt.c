/* Fast text forms of a flow for the sinks: the same bytes as
 * fk_flow_to_json() (the JSON lines contract) and the CSV row, without
 * printf. At collector rates, printf was most of the cost of a record.
 * Times reuse the formatted "YYYY-MM-DDTHH:MM:SS" of the last seconds seen. */
#include <stdbool.h>
#include <string.h>
#include <time.h>

#include "collector/fastfmt.h"
#include "core/json.h"

static char *put_str(char *p, const char *s, size_t n)
{
    memcpy(p, s, n);
    return p + n;
}

#define PUT_LIT(p, lit) put_str((p), (lit), sizeof(lit) - 1)

static const char digit_pairs[201] = "00010203040506070809101112131415161718192021222324"
                                     "25262728293031323334353637383940414243444546474849"
                                     "50515253545556575859606162636465666768697071727374"
                                     "75767778798081828384858687888990919293949596979899";

/* Decimal digits of v (>= 100), written in place from the last two at a
 * time; 32-bit arithmetic (cheaper divisions by 100) below 2^32. */
static char *put_u64_long(char *p, uint64_t v)
{
    int n;
    if (v <= UINT32_MAX) {
        uint32_t w = (uint32_t)v;
        n = w < 1000u         ? 3
            : w < 10000u      ? 4
            : w < 100000u     ? 5
            : w < 1000000u    ? 6
            : w < 10000000u   ? 7
            : w < 100000000u  ? 8
            : w < 1000000000u ? 9
                              : 10;
        char *q = p + n;
        while (w >= 100) {
            uint32_t r = w % 100;
            w /= 100;
            q -= 2;
            memcpy(q, digit_pairs + 2 * r, 2);
        }
        if (w >= 10)
            memcpy(q - 2, digit_pairs + 2 * w, 2);
        else
            q[-1] = (char)('0' + w);
        return p + n;
    }
    n = 10;
    for (uint64_t t = 10000000000ull; n < 20 && v >= t; t *= 10)
        n++;
    char *end = p + n, *q = end;
    while (v >= 100) {
        unsigned r = (unsigned)(v % 100);
        v /= 100;
        q -= 2;
        memcpy(q, digit_pairs + 2 * r, 2);
    }
    if (v >= 10)
        memcpy(q - 2, digit_pairs + 2 * v, 2);
    else
        q[-1] = (char)('0' + v);
    return end;
}

/* Small values (protocols, flags, versions, odids) without the call. */
static inline char *put_u64(char *p, uint64_t v)
{
    if (v < 10) {
        *p = (char)('0' + v);
        return p + 1;
    }
    if (v < 100) {
        memcpy(p, digit_pairs + 2 * v, 2);
        return p + 2;
    }
    if (v < 10000) { /* ports, counters of small flows */
        unsigned w = (unsigned)v, hi = w / 100, lo = w % 100;
        if (hi < 10) {
            *p = (char)('0' + hi);
            memcpy(p + 1, digit_pairs + 2 * lo, 2);
            return p + 3;
        }
        memcpy(p, digit_pairs + 2 * hi, 2);
        memcpy(p + 2, digit_pairs + 2 * lo, 2);
        return p + 4;
    }
    return put_u64_long(p, v);
}

/* "0".."255" with their lengths, so an IPv4 address is four copies. */
static const char octet_text[256][4] = {
#define D1(n)                                                                                      \
    {                                                                                              \
        (char)('0' + (n)), 0, 0, 1                                                                 \
    }
#define D2(n)                                                                                      \
    {                                                                                              \
        (char)('0' + (n) / 10), (char)('0' + (n) % 10), 0, 2                                       \
    }
#define D3(n)                                                                                      \
    {                                                                                              \
        (char)('0' + (n) / 100), (char)('0' + (n) / 10 % 10), (char)('0' + (n) % 10), 3            \
    }
#define R10(f, b)                                                                                  \
    f(b), f(b + 1), f(b + 2), f(b + 3), f(b + 4), f(b + 5), f(b + 6), f(b + 7), f(b + 8), f(b + 9)
    R10(D1, 0),   R10(D2, 10),  R10(D2, 20),  R10(D2, 30),  R10(D2, 40),  R10(D2, 50),
    R10(D2, 60),  R10(D2, 70),  R10(D2, 80),  R10(D2, 90),  R10(D3, 100), R10(D3, 110),
    R10(D3, 120), R10(D3, 130), R10(D3, 140), R10(D3, 150), R10(D3, 160), R10(D3, 170),
    R10(D3, 180), R10(D3, 190), R10(D3, 200), R10(D3, 210), R10(D3, 220), R10(D3, 230),
    R10(D3, 240), D3(250),      D3(251),      D3(252),      D3(253),      D3(254),
    D3(255)};

static char *put_ipv4(char *p, const uint8_t *b)
{
    for (int i = 0; i < 4; i++) {
        const char *t = octet_text[b[i]];
        memcpy(p, t, 4); /* the 4th byte is overwritten next */
        p += t[3];
        *p++ = '.';
    }
    return p - 1;
}

/* One 16-bit group in lowercase hex without leading zeros. */
static char *put_hex16(char *p, unsigned w)
{
    static const char hx[] = "0123456789abcdef";
    if (w >= 0x1000)
        *p++ = hx[w >> 12];
    if (w >= 0x100)
        *p++ = hx[(w >> 8) & 15];
    if (w >= 0x10)
        *p++ = hx[(w >> 4) & 15];
    *p++ = hx[w & 15];
    return p;
}

/* The text inet_ntop(AF_INET6) gives (glibc, RFC 5952 style): the first
 * longest run of two or more zero groups becomes "::", and an address
 * whose first 96 bits are zero (IPv4-compatible) or ::ffff:0:0/96
 * (IPv4-mapped) ends in dotted quad. */
static char *put_ipv6(char *p, const uint8_t *b)
{
    unsigned w[8];
    for (int i = 0; i < 8; i++)
        w[i] = (unsigned)b[2 * i] << 8 | b[2 * i + 1];
    int best = -1, best_len = 0, cur = -1, cur_len = 0;
    for (int i = 0; i < 8; i++) {
        if (w[i] == 0) {
            if (cur < 0)
                cur = i, cur_len = 0;
            cur_len++;
            if (cur_len > best_len)
                best = cur, best_len = cur_len;
        } else {
            cur = -1;
        }
    }
    if (best_len < 2)
        best = -1;
    for (int i = 0; i < 8; i++) {
        if (best >= 0 && i >= best && i < best + best_len) {
            if (i == best)
                *p++ = ':';
            continue;
        }
        if (i != 0)
            *p++ = ':';
        if (i == 6 && best == 0 && (best_len == 6 || (best_len == 5 && w[5] == 0xffff)))
            return put_ipv4(p, b + 12);
        p = put_hex16(p, w[i]);
    }
    if (best >= 0 && best + best_len == 8)
        *p++ = ':';
    return p;
}

static char *put_addr(char *p, const fk_addr *a)
{
    if (a->family == 4)
        return put_ipv4(p, a->bytes);
    if (a->family == 6)
        return put_ipv6(p, a->bytes);
    return p;
}

/* The exporter's text, formatted once per run of records from it. */
static char *put_exporter(fk__fastfmt *c, char *p, const fk_addr *a)
{
    if (c->exporter.family != a->family || memcmp(c->exporter.bytes, a->bytes, 16) != 0) {
        char *end = put_addr(c->exporter_text, a);
        c->exporter_len = (int)(end - c->exporter_text);
        c->exporter = *a;
    }
    /* The whole buffer, a copy of constant size (a few vector moves rather
     * than a call); the output has room for it (FK__FASTFMT_MAX keeps a
     * margin over the longest address). */
    memcpy(p, c->exporter_text, sizeof c->exporter_text);
    return p + c->exporter_len;
}

static char *put2(char *p, int v)
{
    *p++ = (char)('0' + v / 10);
    *p++ = (char)('0' + v % 10);
    return p;
}

/* "YYYY-MM-DDTHH:MM:SS.mmmZ" (24 bytes) of second sec and millisecond ms;
 * falls back to fk_time_format(ns) for years outside 0..9999. */
static char *put_time_parts(fk__fastfmt *c, char *p, int64_t sec, int ms, int64_t ns)
{
    int slot = c->valid[1] && c->sec[1] == sec ? 1 : c->valid[0] && c->sec[0] == sec ? 0 : -1;
    if (slot < 0) {
        time_t t = (time_t)sec;
        struct tm tm;
        if (!gmtime_r(&t, &tm) || tm.tm_year + 1900 < 0 || tm.tm_year + 1900 > 9999) {
            char buf[64];
            int n = fk_time_format(ns, buf, sizeof buf);
            return n > 0 ? put_str(p, buf, (size_t)n) : p;
        }
        slot = c->next;
        c->next ^= 1;
        char *q = c->text[slot];
        int y = tm.tm_year + 1900;
        q = put2(q, y / 100);
        q = put2(q, y % 100);
        *q++ = '-';
        q = put2(q, tm.tm_mon + 1);
        *q++ = '-';
        q = put2(q, tm.tm_mday);
        *q++ = 'T';
        q = put2(q, tm.tm_hour);
        *q++ = ':';
        q = put2(q, tm.tm_min);
        *q++ = ':';
        put2(q, tm.tm_sec);
        c->sec[slot] = sec;
        c->valid[slot] = 1;
    }
    p = put_str(p, c->text[slot], 19);
    p[0] = '.';
    p[1] = (char)('0' + ms / 100);
    memcpy(p + 2, digit_pairs + 2 * (ms % 100), 2);
    p[4] = 'Z';
    return p + 5;
}

/* The same of a time in ns since the epoch. */
static char *put_time(fk__fastfmt *c, char *p, int64_t ns)
{
    int64_t sec = ns / 1000000000, rem = ns % 1000000000;
    if (rem < 0) {
        rem += 1000000000;
        sec -= 1;
    }
    return put_time_parts(c, p, sec, (int)(rem / 1000000), ns);
}

/* A JSON string of at most max bytes, by the one writer (core/json.h);
 * the caller's buffer holds FK__JSON_ESCAPE_MAX bytes per input byte. */
static char *put_json_str(char *p, const char *s, size_t max)
{
    *p++ = '"';
    p += fk__json_escape(p, s, strnlen(s, max));
    *p++ = '"';
    return p;
}

/* `,"key":"address"` when the address is present (fk_flow_to_json's json_addr). */
static char *put_json_addr(char *p, const char *key, size_t n, const fk_addr *a)
{
    if (a->family != 4 && a->family != 6)
        return p;
    p = put_str(p, key, n);
    p = put_addr(p, a);
    *p++ = '"';
    return p;
}

#define PUT_ADDR_KEY(p, lit, a) put_json_addr((p), (lit), sizeof(lit) - 1, (a))

/* Tunnel, VLAN, direction and next-hop keys, in fk_flow_to_json's order
 * (records of live captures, tunnels and routers; flowDirection is in
 * every softflowd record). */
static char *put_json_tunnel(char *p, const fk_flow *f)
{
    if (f->tunnel) {
        const char *t = fk_tunnel_kind_name(f->tunnel);
        p = PUT_LIT(p, ",\"tunnel\":\"");
        p = put_str(p, t, strlen(t));
        *p++ = '"';
    }
    p = PUT_ADDR_KEY(p, ",\"outer_src_addr\":\"", &f->outer_src);
    p = PUT_ADDR_KEY(p, ",\"outer_dst_addr\":\"", &f->outer_dst);
    if (f->vlan) {
        p = PUT_LIT(p, ",\"vlan\":");
        p = put_u64(p, f->vlan);
    }
    if (f->present & FK_FLOW_HAS_VNI) {
        p = PUT_LIT(p, ",\"vni\":");
        p = put_u64(p, f->vni);
    }
    if (f->direction == FK_DIRECTION_INGRESS)
        p = PUT_LIT(p, ",\"direction\":\"ingress\"");
    else if (f->direction == FK_DIRECTION_EGRESS)
        p = PUT_LIT(p, ",\"direction\":\"egress\"");
    p = PUT_ADDR_KEY(p, ",\"next_hop\":\"", &f->next_hop);
    p = PUT_ADDR_KEY(p, ",\"bgp_next_hop\":\"", &f->bgp_next_hop);
    return p;
}

/* The optional keys after "end_reason" (collector fields). */
static char *put_json_tail(char *p, const fk_flow *f)
{
    if (f->in_if_name) {
        p = PUT_LIT(p, ",\"in_if_name\":");
        p = put_json_str(p, f->in_if_name, FK_FLOW_IFNAME_MAX);
    }
    if (f->out_if_name) {
        p = PUT_LIT(p, ",\"out_if_name\":");
        p = put_json_str(p, f->out_if_name, FK_FLOW_IFNAME_MAX);
    }
    if (f->user) {
        p = PUT_LIT(p, ",\"user\":");
        p = put_json_str(p, f->user, FK_FLOW_USER_MAX);
    }
    if (f->present & FK_FLOW_HAS_UID) {
        p = PUT_LIT(p, ",\"uid\":");
        p = put_u64(p, f->uid);
    }
    if (f->exe) {
        p = PUT_LIT(p, ",\"exe\":");
        p = put_json_str(p, f->exe, FK_FLOW_EXE_MAX);
    }
    return p;
}

/* A CSV field of at most max bytes: quoted (quotes doubled) only when it
 * holds a comma, quote or line break (RFC 4180). */
static char *put_csv_str(char *p, const char *s, size_t max)
{
    size_t n = strnlen(s, max);
    if (!memchr(s, ',', n) && !memchr(s, '"', n) && !memchr(s, '\n', n) && !memchr(s, '\r', n))
        return put_str(p, s, n);
    *p++ = '"';
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"')
            *p++ = '"';
        *p++ = s[i];
    }
    *p++ = '"';
    return p;
}

int fk__fastfmt_json(fk__fastfmt *c, const fk_flow *f, char *buf, size_t size)
{
    bool strings =
        (f->present & FK_FLOW_HAS_PROCESS) || f->in_if_name || f->out_if_name || f->user || f->exe;
    /* Session events (rare) have their own form: the reference writes it. */
    if (f->event || size < (strings ? FK_FLOW_JSON_MAX : FK__FASTFMT_MAX))
        return fk_flow_to_json(f, buf, size);
    char *p = buf;
    p = PUT_LIT(p, "{\"type\":\"flow\",\"src_addr\":\"");
    p = put_addr(p, &f->src);
    p = PUT_LIT(p, "\",\"dst_addr\":\"");
    p = put_addr(p, &f->dst);
    p = PUT_LIT(p, "\",\"src_port\":");
    p = put_u64(p, f->src_port);
    p = PUT_LIT(p, ",\"dst_port\":");
    p = put_u64(p, f->dst_port);
    p = PUT_LIT(p, ",\"proto\":");
    p = put_u64(p, f->proto);
    p = PUT_LIT(p, ",\"bytes\":");
    p = put_u64(p, f->bytes);
    p = PUT_LIT(p, ",\"packets\":");
    p = put_u64(p, f->packets);
    p = PUT_LIT(p, ",\"start\":\"");
    p = put_time(c, p, f->start_ns);
    p = PUT_LIT(p, "\",\"end\":\"");
    p = put_time(c, p, f->end_ns);
    p = PUT_LIT(p, "\",\"tcp_flags\":");
    p = put_u64(p, f->tcp_flags);
    if (f->present & FK_FLOW_HAS_EXPORTER) {
        p = PUT_LIT(p, ",\"exporter\":\"");
        p = put_exporter(c, p, &f->exporter);
        p = PUT_LIT(p, "\",\"odid\":");
        p = put_u64(p, f->odid);
    } else {
        p = PUT_LIT(p, ",\"exporter\":null,\"odid\":0");
    }
    p = PUT_LIT(p, ",\"version\":");
    p = put_u64(p, f->version);
    if (f->present & FK_FLOW_HAS_REVERSE) {
        p = PUT_LIT(p, ",\"rev_bytes\":");
        p = put_u64(p, f->rev_bytes);
        p = PUT_LIT(p, ",\"rev_packets\":");
        p = put_u64(p, f->rev_packets);
        p = PUT_LIT(p, ",\"rev_tcp_flags\":");
        p = put_u64(p, f->rev_tcp_flags);
    }
    if (f->present & FK_FLOW_HAS_REV_ICMP) {
        p = PUT_LIT(p, ",\"rev_icmp_type\":");
        p = put_u64(p, f->rev_icmp >> 8);
        p = PUT_LIT(p, ",\"rev_icmp_code\":");
        p = put_u64(p, f->rev_icmp & 0xff);
    }
    if (f->present & FK_FLOW_HAS_PROCESS) {
        p = PUT_LIT(p, ",\"pid\":");
        p = put_u64(p, f->pid);
        p = PUT_LIT(p, ",\"process\":");
        p = put_json_str(p, f->process, FK_PROCESS_NAME_MAX - 1);
    }
    if (f->present & FK_FLOW_HAS_IFACES) {
        p = PUT_LIT(p, ",\"in_if\":");
        p = put_u64(p, f->in_if);
        p = PUT_LIT(p, ",\"out_if\":");
        p = put_u64(p, f->out_if);
    }
    if (f->present & FK_FLOW_HAS_SAMPLING) {
        p = PUT_LIT(p, ",\"sampling\":");
        p = put_u64(p, f->sampling);
    }
    if (f->present & FK_FLOW_HAS_END_REASON) {
        p = PUT_LIT(p, ",\"end_reason\":");
        p = put_u64(p, f->end_reason);
    }
    p = put_json_tunnel(p, f);
    p = put_json_tail(p, f);
    *p++ = '}';
    *p = '\0';
    return (int)(p - buf);
}

int fk__fastfmt_csv(fk__fastfmt *c, const fk_flow *f, char *buf, size_t size)
{
    if (size < FK__FASTFMT_CSV_MAX)
        return -1;
    char *p = buf;
    p = put_time(c, p, f->start_ns);
    *p++ = ',';
    p = put_time(c, p, f->end_ns);
    *p++ = ',';
    p = put_addr(p, &f->src);
    *p++ = ',';
    p = put_addr(p, &f->dst);
    *p++ = ',';
    p = put_u64(p, f->src_port);
    *p++ = ',';
    p = put_u64(p, f->dst_port);
    *p++ = ',';
    p = put_u64(p, f->proto);
    *p++ = ',';
    p = put_u64(p, f->bytes);
    *p++ = ',';
    p = put_u64(p, f->packets);
    *p++ = ',';
    p = put_u64(p, f->tcp_flags);
    *p++ = ',';
    if (f->present & FK_FLOW_HAS_EXPORTER)
        p = put_exporter(c, p, &f->exporter);
    *p++ = ',';
    p = put_u64(p, f->odid);
    *p++ = ',';
    p = put_u64(p, f->version);
    *p++ = ',';
    if (f->present & FK_FLOW_HAS_IFACES)
        p = put_u64(p, f->in_if);
    *p++ = ',';
    if (f->present & FK_FLOW_HAS_IFACES)
        p = put_u64(p, f->out_if);
    *p++ = ',';
    if (f->present & FK_FLOW_HAS_SAMPLING)
        p = put_u64(p, f->sampling);
    *p++ = ',';
    if (f->present & FK_FLOW_HAS_END_REASON)
        p = put_u64(p, f->end_reason);
    /* Appended columns: pid,process,in_if_name,out_if_name,user,uid,exe,event. */
    *p++ = ',';
    if (f->present & FK_FLOW_HAS_PROCESS) {
        p = put_u64(p, f->pid);
        *p++ = ',';
        p = put_csv_str(p, f->process, FK_PROCESS_NAME_MAX - 1);
    } else {
        *p++ = ',';
    }
    *p++ = ',';
    if (f->in_if_name)
        p = put_csv_str(p, f->in_if_name, FK_FLOW_IFNAME_MAX);
    *p++ = ',';
    if (f->out_if_name)
        p = put_csv_str(p, f->out_if_name, FK_FLOW_IFNAME_MAX);
    *p++ = ',';
    if (f->user)
        p = put_csv_str(p, f->user, FK_FLOW_USER_MAX);
    *p++ = ',';
    if (f->present & FK_FLOW_HAS_UID)
        p = put_u64(p, f->uid);
    *p++ = ',';
    if (f->exe)
        p = put_csv_str(p, f->exe, FK_FLOW_EXE_MAX);
    *p++ = ',';
    static const char *const kinds[] = {"", "syn", "fin", "rst"};
    if (f->event)
        p = put_str(p, kinds[f->event < 4 ? f->event : 0],
                    strlen(kinds[f->event < 4 ? f->event : 0]));
    *p++ = '\n';
    *p = '\0';
    return (int)(p - buf);
}

static char *put_rec_addr(char *p, uint8_t family, const uint8_t *b)
{
    if (family == 4)
        return put_ipv4(p, b);
    if (family == 6)
        return put_ipv6(p, b);
    return p;
}

static void stamp_set(fk__fastfmt_stamp *st, const fk__fastfmt_origin *o)
{
    char *p = st->text;
    p = PUT_LIT(p, ",\"exporter\":\"");
    p = put_addr(p, o->exporter);
    p = PUT_LIT(p, "\",\"odid\":");
    p = put_u64(p, o->odid);
    p = PUT_LIT(p, ",\"version\":");
    p = put_u64(p, o->version);
    st->len = (size_t)(p - st->text);
}

const fk__fastfmt_stamp *fk__fastfmt_stamp_get(fk__fastfmt *c, const fk__fastfmt_origin *o)
{
    if (!c->stamp_valid || c->stamp_odid != o->odid || c->stamp_version != o->version ||
        c->stamp_exporter.family != o->exporter->family ||
        memcmp(c->stamp_exporter.bytes, o->exporter->bytes, 16) != 0) {
        stamp_set(&c->stamp, o);
        c->stamp_exporter = *o->exporter;
        c->stamp_odid = o->odid;
        c->stamp_version = o->version;
        c->stamp_valid = true;
    }
    return &c->stamp;
}

/* A record's start or end as put_time writes the time fk__plan_to_flow
 * gives it; milliseconds and seconds without the detour through ns. */
static inline char *put_rec_time(fk__fastfmt *c, char *p, uint8_t kind, fk__recplan_at at,
                                 const uint8_t *rec, int64_t export_ns)
{
    if (kind == FK__RECPLAN_T_MS) {
        uint64_t ms = fk__recplan_u(rec, at);
        if (ms <= (uint64_t)(INT64_MAX / 1000000))
            return put_time_parts(c, p, (int64_t)(ms / 1000), (int)(ms % 1000),
                                  (int64_t)ms * 1000000);
    } else if (kind == FK__RECPLAN_T_S) {
        uint64_t s = fk__recplan_u(rec, at);
        return put_time_parts(c, p, (int64_t)s, 0, (int64_t)s * 1000000000);
    }
    return put_time(c, p, fk__recplan_time_ns(kind, at, rec, export_ns));
}

/* fk__fastfmt_json's keys in its order, each read from the record where
 * fk__plan_to_flow would read it; what no record of a plan has (process,
 * outer addresses, next hops, interface names) is never written. */
int fk__fastfmt_json_rec(fk__fastfmt *c, const fk__recplan *rp, const uint8_t *rec,
                         const fk__fastfmt_origin *o, const fk__fastfmt_stamp *st, char *buf)
{
    char *p = buf;
    p = PUT_LIT(p, "{\"type\":\"flow\",\"src_addr\":\"");
    p = put_rec_addr(p, rp->src_family, rec + rp->src.off);
    p = PUT_LIT(p, "\",\"dst_addr\":\"");
    p = put_rec_addr(p, rp->dst_family, rec + rp->dst.off);
    uint16_t sport = (uint16_t)fk__recplan_u(rec, rp->sport);
    uint16_t dport = (uint16_t)fk__recplan_u(rec, rp->dport);
    if (rp->icmp.len && sport == 0 && dport == 0)
        dport = (uint16_t)fk__recplan_u(rec, rp->icmp);
    p = PUT_LIT(p, "\",\"src_port\":");
    p = put_u64(p, sport);
    p = PUT_LIT(p, ",\"dst_port\":");
    p = put_u64(p, dport);
    p = PUT_LIT(p, ",\"proto\":");
    p = put_u64(p, (uint8_t)fk__recplan_u(rec, rp->proto));
    p = PUT_LIT(p, ",\"bytes\":");
    p = put_u64(p, fk__recplan_u(rec, rp->bytes));
    p = PUT_LIT(p, ",\"packets\":");
    p = put_u64(p, fk__recplan_u(rec, rp->packets));
    p = PUT_LIT(p, ",\"start\":\"");
    p = put_rec_time(c, p, rp->start_kind, rp->start, rec, o->export_ns);
    p = PUT_LIT(p, "\",\"end\":\"");
    p = put_rec_time(c, p, rp->end_kind, rp->end, rec, o->export_ns);
    p = PUT_LIT(p, "\",\"tcp_flags\":");
    p = put_u64(p, (uint8_t)fk__recplan_u(rec, rp->tcp_flags));
    /* the whole buffer, a copy of constant size (FK__FASTFMT_MAX has room) */
    memcpy(p, st->text, sizeof st->text);
    p += st->len;
    if (rp->reverse) {
        p = PUT_LIT(p, ",\"rev_bytes\":");
        p = put_u64(p, fk__recplan_u(rec, rp->rev_bytes));
        p = PUT_LIT(p, ",\"rev_packets\":");
        p = put_u64(p, fk__recplan_u(rec, rp->rev_packets));
        p = PUT_LIT(p, ",\"rev_tcp_flags\":");
        p = put_u64(p, (uint8_t)fk__recplan_u(rec, rp->rev_tcp_flags));
    }
    if (rp->rev_icmp.len) {
        uint16_t v = (uint16_t)fk__recplan_u(rec, rp->rev_icmp);
        p = PUT_LIT(p, ",\"rev_icmp_type\":");
        p = put_u64(p, v >> 8);
        p = PUT_LIT(p, ",\"rev_icmp_code\":");
        p = put_u64(p, v & 0xff);
    }
    if (rp->ifaces) {
        p = PUT_LIT(p, ",\"in_if\":");
        p = put_u64(p, (uint32_t)fk__recplan_u(rec, rp->in_if));
        p = PUT_LIT(p, ",\"out_if\":");
        p = put_u64(p, (uint32_t)fk__recplan_u(rec, rp->out_if));
    }
    if (rp->sampling.len) {
        p = PUT_LIT(p, ",\"sampling\":");
        p = put_u64(p, (uint32_t)fk__recplan_u(rec, rp->sampling));
    } else if (o->sampling) {
        p = PUT_LIT(p, ",\"sampling\":");
        p = put_u64(p, o->sampling);
    }
    if (rp->end_reason.len) {
        p = PUT_LIT(p, ",\"end_reason\":");
        p = put_u64(p, (uint8_t)fk__recplan_u(rec, rp->end_reason));
    }
    /* put_json_tunnel's keys: a VXLAN layer2SegmentId is the only tunnel,
     * and no plan has outer addresses or next hops. */
    bool vni = false;
    uint32_t vni_value = 0;
    if (rp->l2_segment.len == 8) {
        uint64_t seg = fk__recplan_u(rec, rp->l2_segment);
        if (seg >> 56 == 1) {
            const char *t = fk_tunnel_kind_name(FK_TUNNEL_VXLAN);
            p = PUT_LIT(p, ",\"tunnel\":\"");
            p = put_str(p, t, strlen(t));
            *p++ = '"';
            vni = true;
            vni_value = (uint32_t)(seg & 0xffffffu);
        }
    }
    if (rp->vlan.len) {
        uint16_t vlan = (uint16_t)(fk__recplan_u(rec, rp->vlan) & 0x0fffu);
        if (vlan) {
            p = PUT_LIT(p, ",\"vlan\":");
            p = put_u64(p, vlan);
        }
    }
    if (vni) {
        p = PUT_LIT(p, ",\"vni\":");
        p = put_u64(p, vni_value);
    }
    if (rp->direction.len) {
        uint64_t d = fk__recplan_u(rec, rp->direction);
        if (d == 0)
            p = PUT_LIT(p, ",\"direction\":\"ingress\"");
        else if (d == 1)
            p = PUT_LIT(p, ",\"direction\":\"egress\"");
    }
    *p++ = '}';
    *p = '\0';
    return (int)(p - buf);
}
