/* Parsing of untrusted query and ingest values (see args.h). */
#include "args.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int fkc_parse_int(const char *s, int64_t min, int64_t max, int64_t *out)
{
    if (!s || !*s || (!isdigit((unsigned char)*s) && *s != '-'))
        return -1;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || end == s || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

static int digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

static int parse_rfc3339(const char *s, int64_t *out_ns)
{
    int y, mo, d, h, mi, sec;
    if (strlen(s) < 20 || digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &mo) || s[7] != '-' ||
        digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
        digits(s + 11, 2, &h) || s[13] != ':' || digits(s + 14, 2, &mi) || s[16] != ':' ||
        digits(s + 17, 2, &sec))
        return -1;
    if (y < 1970 || y > 2200 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
        sec > 60)
        return -1;
    const char *p = s + 19;
    int64_t frac = 0;
    if (*p == '.') {
        int64_t scale = 100000000;
        p++;
        if (!isdigit((unsigned char)*p))
            return -1;
        for (; isdigit((unsigned char)*p); p++) {
            frac += (*p - '0') * scale;
            scale /= 10;
        }
    }
    int64_t off = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int oh, om;
        if (digits(p + 1, 2, &oh) || p[3] != ':' || digits(p + 4, 2, &om) || oh > 23 || om > 59)
            return -1;
        off = (oh * 3600 + om * 60) * (*p == '+' ? 1 : -1);
        p += 6;
    } else {
        return -1;
    }
    if (*p)
        return -1;
    struct tm tm = {0};
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    time_t t = timegm(&tm);
    *out_ns = ((int64_t)t - off) * INT64_C(1000000000) + frac;
    return 0;
}

int fkc_parse_time(const char *s, int64_t *out_ns)
{
    if (!s || !*s)
        return -1;
    if (strchr(s, 'T') || strchr(s, 't') || strchr(s, ' '))
        return parse_rfc3339(s, out_ns);
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || *end || end == s || !isfinite(v) || v < 0 || v > 7.0e9)
        return -1;
    *out_ns = (int64_t)(v * 1e9);
    return 0;
}

int fkc_parse_duration(const char *s, int64_t min_sec, int64_t max_sec, int64_t *out_sec)
{
    if (!s || !isdigit((unsigned char)*s))
        return -1;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || v < 0 || v > INT64_C(1) << 40)
        return -1;
    int64_t mult = 1;
    if (*end == 's')
        end++;
    else if (*end == 'm')
        mult = 60, end++;
    else if (*end == 'h')
        mult = 3600, end++;
    else if (*end == 'd')
        mult = 86400, end++;
    if (*end)
        return -1;
    int64_t sec = v * mult;
    if (sec < min_sec || sec > max_sec)
        return -1;
    *out_sec = sec;
    return 0;
}

static const struct {
    const char *name;
    int num;
} protos[] = {{"icmp", 1}, {"tcp", 6}, {"udp", 17},    {"gre", 47},
              {"esp", 50}, {"ah", 51}, {"icmpv6", 58}, {"sctp", 132}};

int fkc_parse_proto(const char *s, int *out)
{
    if (!s)
        return -1;
    for (size_t i = 0; i < sizeof protos / sizeof protos[0]; i++)
        if (strcasecmp(s, protos[i].name) == 0) {
            *out = protos[i].num;
            return 0;
        }
    int64_t v;
    if (fkc_parse_int(s, 0, 255, &v) != 0)
        return -1;
    *out = (int)v;
    return 0;
}

const char *fkc_proto_name(int proto)
{
    for (size_t i = 0; i < sizeof protos / sizeof protos[0]; i++)
        if (protos[i].num == proto)
            return protos[i].name;
    return NULL;
}

static const char *const dims[FK_STORE_DIM_COUNT] = {"src",   "dst",      "pair",   "port",
                                                     "proto", "exporter", "process"};

int fkc_parse_dim(const char *s, int *out)
{
    for (int i = 0; s && i < FK_STORE_DIM_COUNT; i++)
        if (strcmp(s, dims[i]) == 0) {
            *out = i;
            return 0;
        }
    return -1;
}

const char *fkc_dim_name(int dim)
{
    return dim >= 0 && dim < FK_STORE_DIM_COUNT ? dims[dim] : "?";
}
