/* A small strict JSON reader for POST /ingest (see ingest.h): nesting
 * depth, string and number lengths and the record count are bounded, and
 * every length is checked before it is read. */
#include "ingest.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"

#define MAX_DEPTH 8
#define MAX_STR 256

typedef struct rd {
    const char *p, *end, *start;
    char *err;
    size_t errsize;
    int failed;
} rd;

static int fail(rd *r, const char *what)
{
    if (!r->failed)
        snprintf(r->err, r->errsize, "%s at byte %zu", what, (size_t)(r->p - r->start));
    r->failed = 1;
    return -1;
}

static void ws(rd *r)
{
    while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r'))
        r->p++;
}

static int peek(rd *r)
{
    ws(r);
    return r->p < r->end ? (unsigned char)*r->p : -1;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* A string into out (cut to MAX_STR - 1 bytes is an error, not a cut). */
static int str(rd *r, char *out)
{
    if (peek(r) != '"')
        return fail(r, "expected a string");
    r->p++;
    size_t n = 0;
    while (r->p < r->end) {
        unsigned char c = (unsigned char)*r->p++;
        if (c == '"') {
            out[n] = '\0';
            return 0;
        }
        if (c < 0x20)
            return fail(r, "control character in a string");
        if (c == '\\') {
            if (r->p >= r->end)
                break;
            char e = *r->p++;
            switch (e) {
            case '"':
            case '\\':
            case '/':
                c = (unsigned char)e;
                break;
            case 'b':
                c = '\b';
                break;
            case 'f':
                c = '\f';
                break;
            case 'n':
                c = '\n';
                break;
            case 'r':
                c = '\r';
                break;
            case 't':
                c = '\t';
                break;
            case 'u': {
                if (r->end - r->p < 4)
                    return fail(r, "short \\u escape");
                int v = 0;
                for (int i = 0; i < 4; i++) {
                    int h = hexval((unsigned char)r->p[i]);
                    if (h < 0)
                        return fail(r, "bad \\u escape");
                    v = v * 16 + h;
                }
                r->p += 4;
                c = v > 0 && v < 0x80 ? (unsigned char)v : '?';
                break;
            }
            default:
                return fail(r, "bad escape in a string");
            }
        }
        if (n + 1 >= MAX_STR)
            return fail(r, "string longer than 255 bytes");
        out[n++] = (char)c;
    }
    return fail(r, "unterminated string");
}

/* A number's text (JSON grammar) into out. */
static int num(rd *r, char *out)
{
    ws(r);
    const char *s = r->p;
    if (r->p < r->end && *r->p == '-')
        r->p++;
    if (r->p >= r->end || !isdigit((unsigned char)*r->p))
        return fail(r, "expected a value");
    if (*r->p == '0')
        r->p++;
    else
        while (r->p < r->end && isdigit((unsigned char)*r->p))
            r->p++;
    if (r->p < r->end && *r->p == '.') {
        r->p++;
        if (r->p >= r->end || !isdigit((unsigned char)*r->p))
            return fail(r, "bad number");
        while (r->p < r->end && isdigit((unsigned char)*r->p))
            r->p++;
    }
    if (r->p < r->end && (*r->p == 'e' || *r->p == 'E')) {
        r->p++;
        if (r->p < r->end && (*r->p == '+' || *r->p == '-'))
            r->p++;
        if (r->p >= r->end || !isdigit((unsigned char)*r->p))
            return fail(r, "bad number");
        while (r->p < r->end && isdigit((unsigned char)*r->p))
            r->p++;
    }
    size_t n = (size_t)(r->p - s);
    if (n >= 40)
        return fail(r, "number longer than 39 characters");
    memcpy(out, s, n);
    out[n] = '\0';
    return 0;
}

static int lit(rd *r, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(r->end - r->p) < n || memcmp(r->p, word, n) != 0)
        return fail(r, "expected a value");
    r->p += n;
    return 0;
}

/* Skip any value (for keys we do not know). */
static int skip(rd *r, int depth)
{
    char tmp[MAX_STR];
    int c = peek(r);
    if (depth > MAX_DEPTH)
        return fail(r, "nesting deeper than 8");
    if (c == '"')
        return str(r, tmp);
    if (c == 't')
        return lit(r, "true");
    if (c == 'f')
        return lit(r, "false");
    if (c == 'n')
        return lit(r, "null");
    if (c == '{' || c == '[') {
        int close = c == '{' ? '}' : ']';
        r->p++;
        if (peek(r) == close) {
            r->p++;
            return 0;
        }
        for (;;) {
            if (c == '{') {
                if (str(r, tmp) || peek(r) != ':')
                    return fail(r, "expected \"key\":");
                r->p++;
            }
            if (skip(r, depth + 1))
                return -1;
            int d = peek(r);
            r->p++;
            if (d == close)
                return 0;
            if (d != ',')
                return fail(r, "expected , or a closing bracket");
        }
    }
    return num(r, tmp);
}

/* A scalar value: kind 's' string, 'n' number, 'b' boolean, '0' null. */
static int scalar(rd *r, char *out, char *kind)
{
    int c = peek(r);
    if (c == '"') {
        *kind = 's';
        return str(r, out);
    }
    if (c == 't' || c == 'f') {
        *kind = 'b';
        strcpy(out, c == 't' ? "1" : "0");
        return lit(r, c == 't' ? "true" : "false");
    }
    if (c == 'n') {
        *kind = '0';
        out[0] = '\0';
        return lit(r, "null");
    }
    *kind = 'n';
    return num(r, out);
}

/* Key normalized: lower case without '_' and '-'; aliases to our names. */
static void norm_key(const char *k, char *out, size_t size)
{
    size_t n = 0;
    for (; *k && n + 1 < size; k++)
        if (*k != '_' && *k != '-')
            out[n++] = (char)tolower((unsigned char)*k);
    out[n] = '\0';
    static const char *const alias[][2] = {
        {"sourceaddress", "srcaddr"}, {"sourceip", "srcaddr"},    {"srcip", "srcaddr"},
        {"src", "srcaddr"},           {"source", "srcaddr"},      {"destinationaddress", "dstaddr"},
        {"destinationip", "dstaddr"}, {"dstip", "dstaddr"},       {"dst", "dstaddr"},
        {"destination", "dstaddr"},   {"sourceport", "srcport"},  {"destinationport", "dstport"},
        {"protocol", "proto"},        {"octets", "bytes"},        {"bytecount", "bytes"},
        {"pkts", "packets"},          {"packetcount", "packets"}, {"firstseen", "start"},
        {"starttime", "start"},       {"timestart", "start"},     {"lastseen", "end"},
        {"endtime", "end"},           {"timeend", "end"},         {"exporteraddress", "exporter"},
        {"exporterip", "exporter"},   {"router", "exporter"},     {"processname", "process"},
    };
    for (size_t i = 0; i < sizeof alias / sizeof alias[0]; i++)
        if (strcmp(out, alias[i][0]) == 0) {
            snprintf(out, size, "%s", alias[i][1]);
            return;
        }
}

static int set_u64(rd *r, const char *key, const char *v, char kind, uint64_t max, uint64_t *out)
{
    int64_t x;
    if (kind != 'n' || fkc_parse_int(v, 0, (int64_t)(max > INT64_MAX ? INT64_MAX : max), &x)) {
        char msg[128];
        snprintf(msg, sizeof msg, "\"%.40s\" must be an integer in [0, %llu]", key,
                 (unsigned long long)max);
        return fail(r, msg);
    }
    *out = (uint64_t)x;
    return 0;
}

static int field(rd *r, fk_flow *f, const char *rawkey, const char *v, char kind, int *have)
{
    char k[64];
    norm_key(rawkey, k, sizeof k);
    uint64_t u;
    char msg[128];
    if (strcmp(k, "srcaddr") == 0 || strcmp(k, "dstaddr") == 0 || strcmp(k, "exporter") == 0) {
        fk_addr *a = k[0] == 's' ? &f->src : k[0] == 'd' ? &f->dst : &f->exporter;
        if (kind != 's' || fk_addr_parse(v, a) != 0) {
            snprintf(msg, sizeof msg, "\"%.40s\" is not an IPv4 or IPv6 address", rawkey);
            return fail(r, msg);
        }
        if (k[0] == 'e')
            f->present |= FK_FLOW_HAS_EXPORTER;
        *have |= k[0] == 's' ? 1 : k[0] == 'd' ? 2 : 0;
        return 0;
    }
    if (strcmp(k, "srcport") == 0 || strcmp(k, "dstport") == 0) {
        if (set_u64(r, rawkey, v, kind, 65535, &u))
            return -1;
        *(k[0] == 's' ? &f->src_port : &f->dst_port) = (uint16_t)u;
        return 0;
    }
    if (strcmp(k, "proto") == 0) {
        int p;
        if ((kind != 's' && kind != 'n') || fkc_parse_proto(v, &p))
            return fail(r, "\"proto\" must be 0..255 or a protocol name");
        f->proto = (uint8_t)p;
        return 0;
    }
    struct {
        const char *name;
        uint64_t max;
        int which;
    } const ints[] = {{"bytes", UINT64_MAX, 0},    {"packets", UINT64_MAX, 1},
                      {"revbytes", UINT64_MAX, 2}, {"revpackets", UINT64_MAX, 3},
                      {"tcpflags", 255, 4},        {"revtcpflags", 255, 5},
                      {"odid", UINT32_MAX, 6},     {"pid", UINT32_MAX, 7},
                      {"inif", UINT32_MAX, 8},     {"outif", UINT32_MAX, 9}};
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
        if (strcmp(k, ints[i].name) != 0)
            continue;
        if (set_u64(r, rawkey, v, kind, ints[i].max, &u))
            return -1;
        switch (ints[i].which) {
        case 0:
            f->bytes = u;
            break;
        case 1:
            f->packets = u;
            break;
        case 2:
            f->rev_bytes = u;
            f->present |= FK_FLOW_HAS_REVERSE;
            break;
        case 3:
            f->rev_packets = u;
            f->present |= FK_FLOW_HAS_REVERSE;
            break;
        case 4:
            f->tcp_flags = (uint8_t)u;
            break;
        case 5:
            f->rev_tcp_flags = (uint8_t)u;
            break;
        case 6:
            f->odid = (uint32_t)u;
            break;
        case 7:
            f->pid = (uint32_t)u;
            f->present |= FK_FLOW_HAS_PROCESS;
            break;
        case 8:
            f->in_if = (uint32_t)u;
            f->present |= FK_FLOW_HAS_IFACES;
            break;
        default:
            f->out_if = (uint32_t)u;
            f->present |= FK_FLOW_HAS_IFACES;
            break;
        }
        return 0;
    }
    if (strcmp(k, "start") == 0 || strcmp(k, "end") == 0 || strcmp(k, "time") == 0) {
        int64_t t;
        if ((kind != 's' && kind != 'n') || fkc_parse_time(v, &t)) {
            snprintf(msg, sizeof msg, "\"%.40s\" must be RFC 3339 or Unix seconds", rawkey);
            return fail(r, msg);
        }
        if (k[0] == 's')
            f->start_ns = t;
        else
            f->end_ns = t, *have |= 4;
        return 0;
    }
    if (strcmp(k, "process") == 0) {
        if (kind != 's')
            return fail(r, "\"process\" must be a string");
        snprintf(f->process, sizeof f->process, "%s", v);
        f->present |= FK_FLOW_HAS_PROCESS;
        return 0;
    }
    if (strcmp(k, "type") == 0) {
        if (kind != 's' || strcmp(v, "flow") != 0)
            return fail(r, "\"type\" must be \"flow\"");
        return 0;
    }
    return 0; /* other keys are ignored */
}

static int record(rd *r, int64_t now_ns, fk_flow *f)
{
    memset(f, 0, sizeof *f);
    if (peek(r) != '{')
        return fail(r, "expected a flow object");
    r->p++;
    int have = 0;
    if (peek(r) != '}') {
        for (;;) {
            char key[MAX_STR], val[MAX_STR], kind;
            if (str(r, key) || peek(r) != ':')
                return fail(r, "expected \"key\":");
            r->p++;
            int c = peek(r);
            if (c == '{' || c == '[') {
                if (skip(r, 1))
                    return -1;
            } else if (scalar(r, val, &kind) || field(r, f, key, val, kind, &have)) {
                return -1;
            }
            c = peek(r);
            if (c == '}')
                break;
            if (c != ',')
                return fail(r, "expected , or }");
            r->p++;
        }
    }
    r->p++;
    if ((have & 3) != 3)
        return fail(r, "a flow needs \"src_addr\" and \"dst_addr\"");
    if (f->src.family != f->dst.family)
        return fail(r, "\"src_addr\" and \"dst_addr\" are of different families");
    if (!(have & 4))
        f->end_ns = now_ns;
    if (!f->start_ns || f->start_ns > f->end_ns)
        f->start_ns = f->end_ns;
    return 0;
}

static long walk(rd *r, int64_t now_ns, size_t max_records, fkc_ingest_cb cb, void *user)
{
    fk_flow f;
    long n = 0;
    int c = peek(r);
    if (c == '[') {
        r->p++;
        if (peek(r) == ']') {
            r->p++;
        } else {
            for (;;) {
                if ((size_t)n >= max_records)
                    return fail(r, "too many records");
                if (record(r, now_ns, &f))
                    return -1;
                if (cb)
                    cb(&f, user);
                n++;
                c = peek(r);
                r->p++;
                if (c == ']')
                    break;
                if (c != ',')
                    return fail(r, "expected , or ]");
            }
        }
    } else {
        if (record(r, now_ns, &f))
            return -1;
        if (cb)
            cb(&f, user);
        n = 1;
    }
    if (peek(r) != -1)
        return fail(r, "text after the JSON value");
    return n;
}

long fkc_ingest_parse(const char *body, size_t len, int64_t now_ns, size_t max_records,
                      fkc_ingest_cb cb, void *user, char *err, size_t errsize)
{
    rd r = {body, body + len, body, err, errsize, 0};
    if (errsize)
        err[0] = '\0';
    if (!body || len == 0) {
        snprintf(err, errsize, "empty body");
        return -1;
    }
    long n = walk(&r, now_ns, max_records, NULL, NULL); /* validate everything first */
    if (n < 0 || !cb)
        return n;
    r = (rd){body, body + len, body, err, errsize, 0};
    return walk(&r, now_ns, max_records, cb, user);
}
