/* Fast text forms of a flow for the sinks: the same bytes as
 * fk_flow_to_json() (the JSON lines contract) and the CSV row, without
 * printf. At collector rates, printf was most of the cost of a record.
 * Times reuse the formatted "YYYY-MM-DDTHH:MM:SS" of the last seconds seen. */
#include <stdbool.h>
#include <string.h>
#include <time.h>

#include "collector/fastfmt.h"
#include "collector/fastfmt_put.h"
#include "core/json.h"

const char fk__fastfmt_digit_pairs[201] = "00010203040506070809101112131415161718192021222324"
                                          "25262728293031323334353637383940414243444546474849"
                                          "50515253545556575859606162636465666768697071727374"
                                          "75767778798081828384858687888990919293949596979899";

const char fk__fastfmt_octet_text[256][4] = {
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

/* ".000"..".999". */
const char fk__fastfmt_ms_text[1000][4] = {
#define MS1(n)                                                                                     \
    {                                                                                              \
        '.', (char)('0' + (n) / 100), (char)('0' + (n) / 10 % 10), (char)('0' + (n) % 10)          \
    }
#define MS10(b)                                                                                    \
    MS1(b), MS1(b + 1), MS1(b + 2), MS1(b + 3), MS1(b + 4), MS1(b + 5), MS1(b + 6), MS1(b + 7),    \
        MS1(b + 8), MS1(b + 9)
#define MS100(b)                                                                                   \
    MS10(b), MS10(b + 10), MS10(b + 20), MS10(b + 30), MS10(b + 40), MS10(b + 50), MS10(b + 60),   \
        MS10(b + 70), MS10(b + 80), MS10(b + 90)
    MS100(0),   MS100(100), MS100(200), MS100(300), MS100(400),
    MS100(500), MS100(600), MS100(700), MS100(800), MS100(900)};
#undef MS1
#undef MS10
#undef MS100

static char *put2(char *p, int v)
{
    *p++ = (char)('0' + v / 10);
    *p++ = (char)('0' + v % 10);
    return p;
}

char *fk__fastfmt_time_miss(fk__fastfmt *c, char *p, int64_t sec, int ms, int64_t ns)
{
    /* gmtime_r only when the day changes: UTC days are 86400 s. */
    int64_t day = sec / 86400, sod = sec % 86400;
    if (sod < 0) {
        sod += 86400;
        day--;
    }
    if (!c->day_valid || c->day != day) {
        time_t t = (time_t)(sec - sod);
        struct tm tm;
        /* 2^50 s are millions of years: fk_time_format's text, as for any
         * year past 9999 (and sec - sod cannot overflow). */
        if (sec > INT64_C(1) << 50 || sec < -(INT64_C(1) << 50) || !gmtime_r(&t, &tm) ||
            tm.tm_year + 1900 < 0 || tm.tm_year + 1900 > 9999) {
            char buf[64];
            int n = fk_time_format(ns, buf, sizeof buf);
            return n > 0 ? put_str(p, buf, (size_t)n) : p;
        }
        char *q = c->day_text;
        int y = tm.tm_year + 1900;
        q = put2(q, y / 100);
        q = put2(q, y % 100);
        *q++ = '-';
        q = put2(q, tm.tm_mon + 1);
        *q++ = '-';
        q = put2(q, tm.tm_mday);
        *q = 'T';
        c->day = day;
        c->day_valid = true;
    }
    int slot = c->next;
    c->next ^= 1;
    char *q = c->text[slot];
    memcpy(q, c->day_text, 11);
    q = put2(q + 11, (int)(sod / 3600));
    *q++ = ':';
    q = put2(q, (int)(sod / 60 % 60));
    *q++ = ':';
    put2(q, (int)(sod % 60));
    c->sec[slot] = sec;
    c->valid[slot] = 1;
    return put_time_parts(c, p, sec, ms, ns);
}

/* By the mask of an IPv6 address's zero groups (bit i: group i is 0), its
 * first longest run of two or more zero groups, the one "::" replaces:
 * start << 4 | length, or 0 when there is none. */
const unsigned char fk__fastfmt_zero_run[256] = {
    0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x12, 0x03, 0x00, 0x00, 0x00, 0x02, 0x22, 0x22, 0x13, 0x04,
    0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x12, 0x03, 0x32, 0x32, 0x32, 0x02, 0x23, 0x23, 0x14, 0x05,
    0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x12, 0x03, 0x00, 0x00, 0x00, 0x02, 0x22, 0x22, 0x13, 0x04,
    0x42, 0x42, 0x42, 0x02, 0x42, 0x42, 0x12, 0x03, 0x33, 0x33, 0x33, 0x33, 0x24, 0x24, 0x15, 0x06,
    0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x12, 0x03, 0x00, 0x00, 0x00, 0x02, 0x22, 0x22, 0x13, 0x04,
    0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x12, 0x03, 0x32, 0x32, 0x32, 0x02, 0x23, 0x23, 0x14, 0x05,
    0x52, 0x52, 0x52, 0x02, 0x52, 0x52, 0x12, 0x03, 0x52, 0x52, 0x52, 0x02, 0x22, 0x22, 0x13, 0x04,
    0x43, 0x43, 0x43, 0x43, 0x43, 0x43, 0x43, 0x03, 0x34, 0x34, 0x34, 0x34, 0x25, 0x25, 0x16, 0x07,
    0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x12, 0x03, 0x00, 0x00, 0x00, 0x02, 0x22, 0x22, 0x13, 0x04,
    0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x12, 0x03, 0x32, 0x32, 0x32, 0x02, 0x23, 0x23, 0x14, 0x05,
    0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x12, 0x03, 0x00, 0x00, 0x00, 0x02, 0x22, 0x22, 0x13, 0x04,
    0x42, 0x42, 0x42, 0x02, 0x42, 0x42, 0x12, 0x03, 0x33, 0x33, 0x33, 0x33, 0x24, 0x24, 0x15, 0x06,
    0x62, 0x62, 0x62, 0x02, 0x62, 0x62, 0x12, 0x03, 0x62, 0x62, 0x62, 0x02, 0x22, 0x22, 0x13, 0x04,
    0x62, 0x62, 0x62, 0x02, 0x62, 0x62, 0x12, 0x03, 0x32, 0x32, 0x32, 0x02, 0x23, 0x23, 0x14, 0x05,
    0x53, 0x53, 0x53, 0x53, 0x53, 0x53, 0x53, 0x03, 0x53, 0x53, 0x53, 0x53, 0x53, 0x53, 0x13, 0x04,
    0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x35, 0x35, 0x35, 0x35, 0x26, 0x26, 0x17, 0x08};

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
