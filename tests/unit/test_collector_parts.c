/* Collector building blocks: listener URIs, the CIDR allowlist, IPFIX
 * framing over a TCP stream cut at every possible point, and the sinks
 * (JSON lines, CSV header, rotation by size, reopen). */
#include <arpa/inet.h>
#include <flowkit/flowkit.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "collector/fastfmt_put.h"
#include "collector/internal.h"
#include "fk_test.h"

static void uri_parsing(void **state)
{
    (void)state;
    fk__col_uri u;
    char buf[80];
    assert_int_equal(fk__col_uri_parse(&u, "udp://0.0.0.0:2055"), 0);
    assert_int_equal(u.transport, FK__COL_UDP);
    assert_int_equal(u.ss.ss_family, AF_INET);
    assert_true(fk__col_uri_format(u.transport, (struct sockaddr *)&u.ss, buf, sizeof buf) > 0);
    assert_string_equal(buf, "udp://0.0.0.0:2055");
    assert_int_equal(fk__col_uri_parse(&u, "tcp://[::1]:4739"), 0);
    assert_int_equal(u.transport, FK__COL_TCP);
    assert_int_equal(u.ss.ss_family, AF_INET6);
    fk__col_uri_format(u.transport, (struct sockaddr *)&u.ss, buf, sizeof buf);
    assert_string_equal(buf, "tcp://[::1]:4739");
    assert_int_equal(fk__col_uri_parse(&u, "udp://:9995"), 0);
    fk__col_uri_format(u.transport, (struct sockaddr *)&u.ss, buf, sizeof buf);
    assert_string_equal(buf, "udp://0.0.0.0:9995");
    assert_int_equal(fk__col_uri_parse(&u, "udp://127.0.0.1:0"), 0);
    /* A scoped (link-local) address names its link: by name, RFC 6874's
     * %25 form, or index; the zone comes back by name. */
    unsigned lo = if_nametoindex("lo");
    if (lo) {
        static const char *const scoped[] = {"udp://[fe80::1%lo]:4739",
                                             "udp://[fe80::1%25lo]:4739"};
        for (size_t i = 0; i < 2; i++) {
            assert_int_equal(fk__col_uri_parse(&u, scoped[i]), 0);
            assert_int_equal(((struct sockaddr_in6 *)&u.ss)->sin6_scope_id, lo);
            fk__col_uri_format(u.transport, (struct sockaddr *)&u.ss, buf, sizeof buf);
            assert_string_equal(buf, "udp://[fe80::1%lo]:4739");
        }
        char byindex[64];
        snprintf(byindex, sizeof byindex, "tcp://[fe80::1%%%u]:1", lo);
        assert_int_equal(fk__col_uri_parse(&u, byindex), 0);
        assert_int_equal(((struct sockaddr_in6 *)&u.ss)->sin6_scope_id, lo);
    }
    assert_int_equal(fk__col_uri_parse(&u, "udp://[fe80::1%nosuchlink9]:1"), FK_EINVAL);
    assert_non_null(strstr(fk_error_last()->message, "no interface \"nosuchlink9\""));

    static const char *const bad[] = {
        "udp:/0.0.0.0:1",    "sctp://0.0.0.0:1",     "udp://0.0.0.0",
        "udp://0.0.0.0:",    "udp://0.0.0.0:65536",  "udp://0.0.0.0:-1",
        "udp://0.0.0.0:12x", "udp://::1:4739",       "udp://[::1]4739",
        "udp://[::1:4739",   "udp://localhost:4739", "udp://300.1.1.1:1",
        "udp://[zz::1]:1",   "tcp://[]:1",           "",
        "udp://0.0.0.0: 1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(fk__col_uri_parse(&u, bad[i]), FK_EINVAL);
        assert_non_null(strstr(fk_error_last()->message, bad[i]));
    }
    assert_int_equal(fk__col_uri_parse(&u, "udp://::1:4739"), FK_EINVAL);
    assert_non_null(strstr(fk_error_last()->message, "[ADDR]:PORT"));
}

static fk_addr addr(const char *s)
{
    fk_addr a;
    assert_int_equal(fk_addr_parse(s, &a), 0);
    return a;
}

static void cidr_allowlist(void **state)
{
    (void)state;
    fk__cidr list[3];
    assert_int_equal(fk__cidr_parse("10.1.0.0/16", "allow", &list[0]), 0);
    assert_int_equal(fk__cidr_parse("192.0.2.7", "allow", &list[1]), 0);
    assert_int_equal(fk__cidr_parse("2001:db8:a::/48", "allow", &list[2]), 0);
    fk_addr a;
    a = addr("10.1.255.3");
    assert_true(fk__cidr_match(list, 3, &a));
    a = addr("10.2.0.1");
    assert_false(fk__cidr_match(list, 3, &a));
    a = addr("192.0.2.7");
    assert_true(fk__cidr_match(list, 3, &a));
    a = addr("192.0.2.8");
    assert_false(fk__cidr_match(list, 3, &a));
    a = addr("::ffff:10.1.2.3");
    assert_true(fk__cidr_match(list, 3, &a));
    a = addr("2001:db8:a:ffff::1");
    assert_true(fk__cidr_match(list, 3, &a));
    a = addr("2001:db8:b::1");
    assert_false(fk__cidr_match(list, 3, &a));
    /* Host bits in the network are ignored; odd prefix lengths work. */
    assert_int_equal(fk__cidr_parse("172.16.5.9/12", "allow", &list[0]), 0);
    a = addr("172.31.0.1");
    assert_true(fk__cidr_match(list, 1, &a));
    a = addr("172.32.0.1");
    assert_false(fk__cidr_match(list, 1, &a));
    assert_int_equal(fk__cidr_parse("0.0.0.0/0", "allow", &list[0]), 0);
    a = addr("8.8.8.8");
    assert_true(fk__cidr_match(list, 1, &a));
    a = addr("::1");
    assert_false(fk__cidr_match(list, 1, &a));

    static const char *const bad[] = {"10.0.0.0/33", "10.0.0.0/", "10.0.0.0/x", "/8",
                                      "::/129",      "host/8",    "10.0.0.0/-1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(fk__cidr_parse(bad[i], "allow", &list[0]), FK_EINVAL);
}

/* ---- framing ------------------------------------------------------------ */

typedef struct frames {
    size_t n;
    size_t lens[16];
    uint8_t first[16];
} frames;

static int on_frame(void *user, const uint8_t *msg, size_t len)
{
    frames *f = user;
    if (f->n < 16) {
        f->lens[f->n] = len;
        f->first[f->n] = msg[16 < len ? 16 : len - 1];
    }
    f->n++;
    return 0;
}

static size_t make_msg(uint8_t *p, uint16_t len, uint8_t mark)
{
    memset(p, 0, len);
    p[1] = 10;
    p[2] = (uint8_t)(len >> 8);
    p[3] = (uint8_t)len;
    if (len > 16)
        p[16] = mark;
    return len;
}

static void tcp_framing_across_split_reads(void **state)
{
    (void)state;
    uint8_t stream[4000];
    size_t n = 0;
    n += make_msg(stream + n, 16, 0);
    n += make_msg(stream + n, 100, 1);
    n += make_msg(stream + n, 1500, 2);
    n += make_msg(stream + n, 17, 3);
    n += make_msg(stream + n, 2000, 4);
    /* Every split point of the stream into two reads, and byte by byte. */
    for (size_t cut = 0; cut <= n; cut++) {
        fk__col_stream st = {0};
        frames f = {0};
        assert_int_equal(fk__col_stream_push(&st, stream, cut, on_frame, &f), 0);
        assert_int_equal(fk__col_stream_push(&st, stream + cut, n - cut, on_frame, &f), 0);
        assert_int_equal(f.n, 5);
        assert_int_equal(f.lens[2], 1500);
        assert_int_equal(f.first[4], 4);
        assert_int_equal(st.len, 0);
        fk__col_stream_free(&st);
    }
    fk__col_stream st = {0};
    frames f = {0};
    for (size_t i = 0; i < n; i++)
        assert_int_equal(fk__col_stream_push(&st, stream + i, 1, on_frame, &f), 0);
    assert_int_equal(f.n, 5);
    assert_int_equal(f.lens[4], 2000);
    assert_int_equal(f.first[3], 3);
    /* A partial message stays buffered. */
    assert_int_equal(fk__col_stream_push(&st, stream + 16, 50, on_frame, &f), 0);
    assert_int_equal(f.n, 5);
    assert_int_equal(st.len, 50);
    fk__col_stream_free(&st);

    /* Unframeable streams are refused: wrong version, length below 16. */
    uint8_t bad[32];
    make_msg(bad, 32, 0);
    bad[1] = 9;
    fk__col_stream st2 = {0};
    assert_int_equal(fk__col_stream_push(&st2, bad, sizeof bad, on_frame, &f), FK_EMALFORMED);
    fk__col_stream_free(&st2);
    make_msg(bad, 32, 0);
    bad[3] = 8;
    assert_int_equal(fk__col_stream_push(&st2, bad, 3, on_frame, &f), 0);
    assert_int_equal(fk__col_stream_push(&st2, bad + 3, 29, on_frame, &f), FK_EMALFORMED);
    fk__col_stream_free(&st2);
}

/* ---- sinks -------------------------------------------------------------- */

static fk_flow sample_flow(void)
{
    fk_flow f;
    memset(&f, 0, sizeof f);
    fk_addr_parse("10.0.0.1", &f.src);
    fk_addr_parse("10.0.0.2", &f.dst);
    f.src_port = 1234;
    f.dst_port = 80;
    f.proto = 6;
    f.bytes = 5000;
    f.packets = 7;
    f.start_ns = 1795435200123000000LL;
    f.end_ns = 1795435201456000000LL;
    f.version = 10;
    f.odid = 3;
    fk_addr_parse("127.0.0.1", &f.exporter);
    f.present = FK_FLOW_HAS_EXPORTER | FK_FLOW_HAS_SAMPLING;
    f.sampling = 100;
    return f;
}

static char *slurp(const char *path)
{
    size_t len;
    uint8_t *b = fk_test_read_file(path, &len);
    if (!b)
        return NULL;
    char *s = realloc(b, len + 1);
    s[len] = '\0';
    return s;
}

static void sinks_write_rotate_reopen(void **state)
{
    (void)state;
    char dir[] = "/tmp/fk_sink_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256], uri[300];
    snprintf(path, sizeof path, "%s/out.csv", dir);
    snprintf(uri, sizeof uri, "csv:%s", path);
    fk__sink *k;
    assert_int_equal(fk__sink_create(&k, uri), 0);
    assert_int_equal(fk__sink_open(k, 0), 0);
    fk_flow f = sample_flow();
    assert_int_equal(fk__sink_write(k, &f, 0), 0);
    assert_int_equal(fk__sink_flush(k), 0);
    char *text = slurp(path);
    assert_non_null(text);
    assert_non_null(strstr(text, "start,end,src_addr,dst_addr"));
    assert_non_null(strstr(text, "2026-11-23T12:00:00.123Z,2026-11-23T12:00:01.456Z,10.0.0.1,"
                                 "10.0.0.2,1234,80,6,5000,7,0,127.0.0.1,3,10,,,100,,,,,,,,,,\n"));
    assert_non_null(
        strstr(text, ",end_reason,pid,process,in_if_name,out_if_name,user,uid,exe,event,tags\n"));
    free(text);
    /* The appended columns: process, interface names (quoted when needed), user. */
    fk_flow g = f;
    g.present |= FK_FLOW_HAS_PROCESS | FK_FLOW_HAS_UID;
    g.pid = 42;
    strcpy(g.process, "curl");
    g.in_if_name = "eth0";
    g.out_if_name = "Gi0/1, \"up\"";
    g.user = "root";
    g.uid = 0;
    g.exe = "/usr/bin/curl";
    assert_int_equal(fk__sink_write(k, &g, 0), 0);
    assert_int_equal(fk__sink_flush(k), 0);
    text = slurp(path);
    assert_non_null(text);
    assert_non_null(
        strstr(text, ",100,,42,curl,eth0,\"Gi0/1, \"\"up\"\"\",root,0,/usr/bin/curl,,\n"));
    free(text);
    /* Reopen appends without a second header. */
    assert_int_equal(fk__sink_reopen(k, 0), 0);
    assert_int_equal(fk__sink_write(k, &f, 0), 0);
    fk__sink_destroy(k);
    text = slurp(path);
    assert_non_null(text);
    assert_ptr_equal(strstr(text + 1, "start,end"), NULL);
    assert_non_null(strstr(strstr(text, "\n2026") + 1, "\n2026"));
    free(text);

    /* JSON lines rotating every ~600 bytes. */
    snprintf(path, sizeof path, "%s/out.jsonl", dir);
    snprintf(uri, sizeof uri, "jsonl:%s", path);
    assert_int_equal(fk__sink_create(&k, uri), 0);
    k->rotate_bytes = 600;
    assert_int_equal(fk__sink_open(k, 0), 0);
    for (int i = 0; i < 10; i++)
        assert_int_equal(fk__sink_write(k, &f, 0), 0);
    fk__sink_destroy(k);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "test $(ls %s | grep -c '^out.jsonl') -ge 3", dir);
    assert_int_equal(system(cmd), 0);
    snprintf(cmd, sizeof cmd,
             "test $(cat %s/out.jsonl* | grep -c '\"type\":\"flow\".*\"sampling\":100}') -eq 10",
             dir);
    assert_int_equal(system(cmd), 0);

    /* By time: a file with records rotates when due; an empty one does not. */
    snprintf(cmd, sizeof cmd, "mkdir -p %s/t", dir);
    assert_int_equal(system(cmd), 0);
    snprintf(path, sizeof path, "%s/t/out.csv", dir);
    snprintf(uri, sizeof uri, "csv:%s", path);
    assert_int_equal(fk__sink_create(&k, uri), 0);
    k->rotate_ns = 1000;
    assert_int_equal(fk__sink_open(k, 0), 0);
    assert_int_equal(fk__sink_due_ns(k, 500), 500);
    assert_int_equal(fk__sink_write(k, &f, 10), 0);
    assert_int_equal(fk__sink_tick(k, 2000), 0); /* rotated */
    assert_int_equal(fk__sink_tick(k, 5000), 0); /* nothing written since: stays */
    assert_int_equal(fk__sink_tick(k, 9000), 0);
    fk__sink_destroy(k);
    snprintf(cmd, sizeof cmd, "test $(ls %s/t | wc -l) -eq 2", dir);
    assert_int_equal(system(cmd), 0);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);

    /* URIs. */
    assert_int_equal(fk__sink_create(&k, "json:-"), FK_EINVAL);
    assert_int_equal(fk__sink_create(&k, "jsonl:"), FK_EINVAL);
    assert_int_equal(fk__sink_create(&k, "stdout"), FK_EINVAL);
    assert_int_equal(fk__sink_create(&k, "csv:/nonexistent-dir/x.csv"), 0);
    assert_int_equal(fk__sink_open(k, 0), FK_EIO);
    assert_non_null(strstr(fk_error_last()->message, "/nonexistent-dir/x.csv"));
    fk__sink_destroy(k);
}

/* The fast JSON writer of the sinks gives exactly fk_flow_to_json()'s bytes. */
/* IPv6 bytes with the shapes that matter to the text form: runs of zero
 * groups of every length and place, ::ffff:a.b.c.d and ::a.b.c.d. */
static void ipv6_pattern(uint8_t *b)
{
    for (int g = 0; g < 8; g++) {
        int k = rand() % 4;
        unsigned w = k == 0   ? 0
                     : k == 1 ? (unsigned)(rand() & 0xffff)
                     : k == 2 ? (unsigned)(rand() & 0xf)
                              : 0x100;
        b[2 * g] = (uint8_t)(w >> 8);
        b[2 * g + 1] = (uint8_t)w;
    }
    int shape = rand() % 6;
    if (shape <= 1) {
        memset(b, 0, 10);
        b[10] = b[11] = shape == 0 ? 0xff : 0;
    } else if (shape == 2) {
        memset(b, 0, 16);
    }
}

static void fast_json_matches_reference(void **state)
{
    (void)state;
    fk__fastfmt c;
    memset(&c, 0, sizeof c);
    srand(7);
    static const int64_t times[] = {0,
                                    1,
                                    -1,
                                    -1500000000LL,
                                    1795435200123456789LL,
                                    1795435200999999999LL,
                                    253402300799999000LL, /* 9999-12-31T23:59:59.999 */
                                    INT64_MAX / 4,
                                    -6213559680LL * 1000000000LL};
    for (int i = 0; i < 20000; i++) {
        fk_flow f;
        memset(&f, 0, sizeof f);
        uint8_t *raw = (uint8_t *)&f;
        for (size_t j = 0; j < sizeof f; j++)
            raw[j] = (uint8_t)rand();
        int fam = rand() % 3;
        f.src.family = fam == 0 ? 4 : fam == 1 ? 6 : 0;
        f.dst.family = (uint8_t)(rand() % 2 ? 4 : 6);
        f.exporter.family = (uint8_t)(rand() % 2 ? 4 : 6);
        if (rand() % 4 == 0)
            memset(f.src.bytes, 0, 16);
        /* Borrowed strings: none, plain, with escapes, longer than the cuts. */
        static const char *const pool[] = {
            NULL,
            NULL,
            "eth0",
            "Gi0/1 \"uplink\", a\\b\n\x01\x7f\xc3\xa9",
            "0123456789012345678901234567890123456789012345678901234567890123456789xyz",
            ""};
        const char **strs[] = {&f.in_if_name, &f.out_if_name, &f.user, &f.exe};
        for (size_t k = 0; k < 4; k++)
            *strs[k] = pool[rand() % (int)(sizeof pool / sizeof pool[0])];
        if (rand() % 2)
            f.present &= ~FK_FLOW_HAS_PROCESS;
        if (rand() % 3 == 0) {
            f.start_ns = times[rand() % 9];
            f.end_ns = times[rand() % 9];
        } else if (rand() % 2) {
            f.start_ns = 1795435200000000000LL + (int64_t)(rand() % 5) * 1000000000LL +
                         (int64_t)(rand() % 1000) * 1000000;
            f.end_ns = f.start_ns + (int64_t)(rand() % 3000) * 1000000;
        }
        /* Flows mostly (random bytes make nearly every record an event),
         * with the optional keys after "end_reason" in every combination. */
        if (rand() % 8)
            f.event = 0;
        fk_addr *more[] = {&f.outer_src, &f.outer_dst, &f.next_hop, &f.bgp_next_hop};
        for (size_t k = 0; k < 4; k++) {
            int fm = rand() % 4;
            more[k]->family = (uint8_t)(fm == 0 ? 4 : fm == 1 ? 6 : fm == 2 ? 0 : more[k]->family);
        }
        if (rand() % 2)
            f.tunnel = (uint8_t)(rand() % 8);
        if (rand() % 2)
            f.vlan = 0;
        f.direction = (uint8_t)(rand() % 4);
        if (rand() % 2)
            f.present &= ~FK_FLOW_HAS_VNI;
        fk_addr *addrs[] = {&f.src, &f.dst, &f.exporter, &f.outer_src, &f.outer_dst, &f.next_hop};
        for (size_t k = 0; k < 6; k++)
            if (rand() % 2)
                ipv6_pattern(addrs[k]->bytes);
        char a[FK_FLOW_JSON_MAX], b[FK_FLOW_JSON_MAX];
        int na = fk_flow_to_json(&f, a, sizeof a);
        int nb = fk__fastfmt_json(&c, &f, b, sizeof b);
        assert_int_equal(na, nb);
        assert_string_equal(a, b);
        bool strings =
            (f.present & FK_FLOW_HAS_PROCESS) || f.in_if_name || f.out_if_name || f.user || f.exe;
        if (!strings && !f.event) {
            /* FK__FASTFMT_MAX bytes suffice without the strings (ASan checks). */
            char *exact = malloc(FK__FASTFMT_MAX);
            assert_non_null(exact);
            assert_int_equal(fk__fastfmt_json(&c, &f, exact, FK__FASTFMT_MAX), na);
            assert_memory_equal(exact, a, (size_t)na + 1);
            free(exact);
        }
    }
}

/* The fast writer's IPv6 text is inet_ntop's, zero runs and embedded
 * IPv4 forms included. */
static void fast_json_ipv6_matches_inet_ntop(void **state)
{
    (void)state;
    fk__fastfmt c;
    memset(&c, 0, sizeof c);
    srand(11);
    for (int i = 0; i < 200000; i++) {
        fk_flow f;
        memset(&f, 0, sizeof f);
        f.src.family = 6;
        f.dst.family = 4;
        if (i < 256) { /* every pattern of zero groups */
            for (int g = 0; g < 8; g++) {
                unsigned w = (i >> g) & 1 ? 0 : (unsigned)(rand() % 3 ? rand() & 0xffff : 0x10);
                f.src.bytes[2 * g] = (uint8_t)(w >> 8);
                f.src.bytes[2 * g + 1] = (uint8_t)w;
            }
        } else {
            ipv6_pattern(f.src.bytes);
        }
        char a[FK_FLOW_JSON_MAX], want[INET6_ADDRSTRLEN + 32];
        assert_non_null(inet_ntop(AF_INET6, f.src.bytes, want, INET6_ADDRSTRLEN));
        int n = fk__fastfmt_json(&c, &f, a, sizeof a);
        assert_true(n > 0);
        const char *at = strstr(a, "\"src_addr\":\"");
        assert_non_null(at);
        at += 12;
        size_t len = strlen(want);
        if (strncmp(at, want, len) != 0 || at[len] != '"')
            fail_msg("IPv6 %s formatted as %.60s", want, at);
    }
}

/* The hex digits of IPv6 groups: the SSE2 form (where built) and the
 * portable one both give printf's lowercase digits. */
static void fast_hex_digits_both_forms(void **state)
{
    (void)state;
    srand(13);
    for (int i = 0; i < 20000; i++) {
        uint8_t b[16];
        for (int k = 0; k < 16; k++)
            b[k] = (uint8_t)(i == 0 ? 0 : i == 1 ? 0xff : i < 18 ? (k == i - 2) * 0xa9 : rand());
        char want[33], h[32], hs[32];
        for (int k = 0; k < 16; k++)
            snprintf(want + 2 * k, 3, "%02x", b[k]);
        hex32(h, b);
        hex32_swar(hs, b);
        assert_memory_equal(h, want, 32);
        assert_memory_equal(hs, want, 32);
    }
}

/* ns since the epoch of a UTC date (proleptic Gregorian), second of the
 * day and millisecond: days from civil (H. Hinnant's algorithm). */
static int64_t utc_ns(int y, int m, int d, int sod, int ms)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    int64_t days = era * 146097 + doe - 719468;
    return ((days * 86400 + sod) * 1000 + ms) * 1000000;
}

/* Numbers at every digit-count boundary up to UINT64_MAX, and times at
 * day, month, leap-day and year edges (1900 and 2100 are not leap years,
 * 2000 is), before 1970 and near the ends of int64 ns (1677, 2262), with
 * each millisecond edge: the fast writer gives fk_flow_to_json's bytes
 * (and the date text is the one expected). Times are also walked second
 * by second across 2024-02-29, so its two cached seconds and its cached
 * day are reused and replaced in turn. */
static void fast_json_edge_numbers_and_days(void **state)
{
    (void)state;
    fk__fastfmt c;
    memset(&c, 0, sizeof c);
    uint64_t nums[64];
    size_t nn = 0;
    nums[nn++] = 0;
    for (uint64_t t = 10; nn < 60; t *= 10) {
        nums[nn++] = t - 1;
        nums[nn++] = t;
        if (t > UINT64_MAX / 10)
            break;
    }
    nums[nn++] = UINT32_MAX;
    nums[nn++] = (uint64_t)UINT32_MAX + 1;
    nums[nn++] = UINT64_MAX;
    static const int days[][6] = {
        {1900, 2, 28, 23, 59, 59},  {1900, 3, 1, 0, 0, 0},     {1969, 12, 31, 23, 59, 59},
        {1970, 1, 1, 0, 0, 0},      {2000, 2, 29, 0, 0, 0},    {2000, 2, 29, 23, 59, 59},
        {2023, 12, 31, 23, 59, 59}, {2024, 2, 28, 23, 59, 59}, {2024, 2, 29, 0, 0, 0},
        {2024, 2, 29, 23, 59, 59},  {2024, 3, 1, 0, 0, 0},     {2100, 2, 28, 23, 59, 59},
        {2100, 3, 1, 0, 0, 0},      {2262, 4, 10, 23, 59, 59}, {1677, 9, 21, 0, 12, 44}};
    static const int ms[] = {0, 1, 9, 10, 99, 100, 999};
    for (size_t d = 0; d < sizeof days / sizeof days[0]; d++)
        for (size_t m = 0; m < sizeof ms / sizeof ms[0]; m++) {
            const int *t = days[d];
            char text[48];
            snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", t[0], t[1], t[2],
                     t[3], t[4], t[5], ms[m]);
            int64_t ns = utc_ns(t[0], t[1], t[2], t[3] * 3600 + t[4] * 60 + t[5], ms[m]);
            fk_flow f;
            memset(&f, 0, sizeof f);
            f.src.family = f.dst.family = 4;
            f.start_ns = ns;
            f.end_ns = ns + (int64_t)m * 1000000001LL; /* the next seconds, other ms */
            uint64_t v = nums[(d * 7 + m) % nn];
            f.bytes = v;
            f.packets = nums[(d + m) % nn];
            f.in_if = (uint32_t)v;
            f.out_if = (uint32_t)(v >> 32);
            f.sampling = (uint32_t)nums[m % nn];
            f.present = FK_FLOW_HAS_IFACES | FK_FLOW_HAS_SAMPLING | FK_FLOW_HAS_REVERSE;
            f.rev_bytes = nums[(nn - 1 - d) % nn];
            f.rev_packets = nums[(nn - 1 - m) % nn];
            char a[FK_FLOW_JSON_MAX], b[FK_FLOW_JSON_MAX];
            int na = fk_flow_to_json(&f, a, sizeof a);
            assert_int_equal(fk__fastfmt_json(&c, &f, b, sizeof b), na);
            assert_string_equal(a, b);
            /* the reference itself: the day's text as written above */
            char want[64];
            snprintf(want, sizeof want, "\"start\":\"%s\"", text);
            if (!strstr(b, want))
                fail_msg("%s not in %s", want, b);
        }
    for (size_t k = 0; k < nn; k++) {
        fk_flow f;
        memset(&f, 0, sizeof f);
        f.src.family = f.dst.family = 6;
        f.bytes = f.packets = nums[k];
        f.src_port = (uint16_t)nums[k];
        char a[FK_FLOW_JSON_MAX], b[FK_FLOW_JSON_MAX];
        int na = fk_flow_to_json(&f, a, sizeof a);
        assert_int_equal(fk__fastfmt_json(&c, &f, b, sizeof b), na);
        assert_string_equal(a, b);
    }
    int64_t t0 = utc_ns(2024, 2, 28, 86390, 0);
    for (int i = 0; i < 86400 + 40; i += i < 20 || i > 86400 ? 1 : 997) {
        fk_flow f;
        memset(&f, 0, sizeof f);
        f.start_ns = t0 + (int64_t)i * 1000000000LL + (int64_t)(i % 1000) * 1000000;
        f.end_ns = f.start_ns + (i % 3) * 1000000000LL + 999000000LL;
        char a[FK_FLOW_JSON_MAX], b[FK_FLOW_JSON_MAX];
        int na = fk_flow_to_json(&f, a, sizeof a);
        assert_int_equal(fk__fastfmt_json(&c, &f, b, sizeof b), na);
        assert_string_equal(a, b);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(uri_parsing),
        cmocka_unit_test(cidr_allowlist),
        cmocka_unit_test(tcp_framing_across_split_reads),
        cmocka_unit_test(sinks_write_rotate_reopen),
        cmocka_unit_test(fast_json_matches_reference),
        cmocka_unit_test(fast_json_ipv6_matches_inet_ntop),
        cmocka_unit_test(fast_hex_digits_both_forms),
        cmocka_unit_test(fast_json_edge_numbers_and_days),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
