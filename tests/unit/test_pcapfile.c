/* The own pcap/pcapng reader (lib/capture/pcapfile.c) against libpcap on the
 * same files: classic pcap written by libpcap (µs and ns), classic pcap in
 * the other byte order, pcapng in both byte orders with several interfaces,
 * timestamp resolutions and offsets, EPB/SPB/PB and skipped blocks, files
 * larger than the reader's buffer and a block larger than it; then the
 * errors (truncation, impossible lengths) and what it leaves to libpcap. */
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture/pcapfile.h"
#include "core/error.h"
#include "fk_test.h"

/* ---- a growing byte buffer with either byte order ----------------------- */

typedef struct bb {
    uint8_t *p;
    size_t n, cap;
    int big; /* write multi-byte values big-endian */
} bb;

static void put(bb *b, const void *src, size_t n)
{
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2 + 64;
        b->p = realloc(b->p, b->cap);
        assert_non_null(b->p);
    }
    memcpy(b->p + b->n, src, n);
    b->n += n;
}

static void put8(bb *b, uint8_t v)
{
    put(b, &v, 1);
}

static void put16(bb *b, uint16_t v)
{
    uint8_t x[2] = {(uint8_t)(b->big ? v >> 8 : v), (uint8_t)(b->big ? v : v >> 8)};
    put(b, x, 2);
}

static void put32(bb *b, uint32_t v)
{
    uint8_t x[4];
    for (int i = 0; i < 4; i++)
        x[i] = (uint8_t)(b->big ? v >> (24 - 8 * i) : v >> (8 * i));
    put(b, x, 4);
}

static void put64(bb *b, uint64_t v)
{
    if (b->big) {
        put32(b, (uint32_t)(v >> 32));
        put32(b, (uint32_t)v);
    } else {
        put32(b, (uint32_t)v);
        put32(b, (uint32_t)(v >> 32));
    }
}

static void set32(bb *b, size_t at, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        b->p[at + i] = (uint8_t)(b->big ? v >> (24 - 8 * i) : v >> (8 * i));
}

/* A frame of len bytes: Ethernet + IPv4 + UDP with a pattern payload. */
static void frame(uint8_t *f, size_t len, unsigned seed)
{
    for (size_t i = 0; i < len; i++)
        f[i] = (uint8_t)(seed * 31 + i * 7);
    if (len >= 14) {
        f[12] = 0x08;
        f[13] = 0x00;
    }
}

/* pcapng blocks */
static size_t ng_begin(bb *b, uint32_t type)
{
    size_t at = b->n;
    put32(b, type);
    put32(b, 0); /* length, set by ng_end */
    return at;
}

static void ng_end(bb *b, size_t at)
{
    while ((b->n - at) % 4)
        put8(b, 0);
    uint32_t total = (uint32_t)(b->n - at + 4);
    set32(b, at + 4, total);
    put32(b, total);
}

static void ng_shb(bb *b)
{
    size_t at = ng_begin(b, 0x0A0D0D0A);
    put32(b, 0x1A2B3C4D);
    put16(b, 1);
    put16(b, 0);
    put64(b, UINT64_MAX); /* section length unknown */
    ng_end(b, at);
}

/* tsresol < 0: no option; tsoffset 0: no option */
static void ng_idb(bb *b, uint16_t linktype, uint32_t snaplen, int tsresol, int64_t tsoffset)
{
    size_t at = ng_begin(b, 1);
    put16(b, linktype);
    put16(b, 0);
    put32(b, snaplen);
    if (tsresol >= 0) {
        put16(b, 9);
        put16(b, 1);
        put8(b, (uint8_t)tsresol);
        put8(b, 0);
        put16(b, 0);
    }
    if (tsoffset) {
        put16(b, 14);
        put16(b, 8);
        put64(b, (uint64_t)tsoffset);
    }
    put16(b, 0); /* opt_endofopt */
    put16(b, 0);
    ng_end(b, at);
}

static void ng_epb(bb *b, uint32_t iface, uint64_t ts, uint32_t caplen, uint32_t len, unsigned seed)
{
    uint8_t f[70000];
    frame(f, caplen, seed);
    size_t at = ng_begin(b, 6);
    put32(b, iface);
    put32(b, (uint32_t)(ts >> 32));
    put32(b, (uint32_t)ts);
    put32(b, caplen);
    put32(b, len);
    put(b, f, caplen);
    ng_end(b, at);
}

static void ng_spb(bb *b, uint32_t len, unsigned seed)
{
    uint8_t f[2048];
    frame(f, len, seed);
    size_t at = ng_begin(b, 3);
    put32(b, len);
    put(b, f, len);
    ng_end(b, at);
}

static void ng_pb(bb *b, uint16_t iface, uint64_t ts, uint32_t caplen, unsigned seed)
{
    uint8_t f[2048];
    frame(f, caplen, seed);
    size_t at = ng_begin(b, 2);
    put16(b, iface);
    put16(b, 0); /* drops */
    put32(b, (uint32_t)(ts >> 32));
    put32(b, (uint32_t)ts);
    put32(b, caplen);
    put32(b, caplen);
    put(b, f, caplen);
    ng_end(b, at);
}

static void ng_other(bb *b, uint32_t type, size_t body)
{
    size_t at = ng_begin(b, type);
    for (size_t i = 0; i < body; i++)
        put8(b, (uint8_t)i);
    ng_end(b, at);
}

/* classic header + records */
static void pc_header(bb *b, uint32_t magic, uint32_t snaplen, uint32_t linktype)
{
    put32(b, magic);
    put16(b, 2);
    put16(b, 4);
    put32(b, 0);
    put32(b, 0);
    put32(b, snaplen);
    put32(b, linktype);
}

static void pc_record(bb *b, uint32_t sec, uint32_t frac, uint32_t caplen, uint32_t len,
                      unsigned seed)
{
    uint8_t f[70000];
    frame(f, caplen, seed);
    put32(b, sec);
    put32(b, frac);
    put32(b, caplen);
    put32(b, len);
    put(b, f, caplen);
}

static char *write_tmp(const bb *b)
{
    char *path = strdup("/tmp/fk_pcapfile_XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, b->p, b->n), (ssize_t)b->n);
    close(fd);
    return path;
}

/* Every packet of the file as libpcap sees it equals what the reader gives,
 * from the file and from memory; returns the packet count. */
static size_t compare_with_libpcap(const bb *b)
{
    char *path = write_tmp(b);
    char err[PCAP_ERRBUF_SIZE];
    pcap_t *p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, err);
    if (!p)
        fail_msg("libpcap cannot read the test file: %s", err);
    fk__pcapfile *f, *m;
    assert_int_equal(fk__pcapfile_open(&f, path), 0);
    assert_int_equal(fk__pcapfile_open_mem(&m, b->p, b->n), 0);
    assert_int_equal(fk__pcapfile_linktype(f), pcap_datalink(p));
    struct pcap_pkthdr *h;
    const u_char *d;
    size_t n = 0;
    int r;
    while ((r = pcap_next_ex(p, &h, &d)) == 1) {
        fk__pcapfile_pkt a, c;
        assert_int_equal(fk__pcapfile_next(f, &a), 1);
        assert_int_equal(fk__pcapfile_next(m, &c), 1);
        int64_t ts = (int64_t)h->ts.tv_sec * 1000000000 + h->ts.tv_usec;
        assert_int_equal(a.ts_ns, ts);
        assert_int_equal(c.ts_ns, ts);
        assert_int_equal(a.caplen, h->caplen);
        assert_int_equal(a.wirelen, h->len);
        assert_int_equal(c.caplen, h->caplen);
        assert_int_equal(a.linktype, pcap_datalink(p));
        assert_memory_equal(a.data, d, h->caplen);
        assert_memory_equal(c.data, d, h->caplen);
        n++;
    }
    if (r != PCAP_ERROR_BREAK)
        fail_msg("libpcap: %s", pcap_geterr(p));
    fk__pcapfile_pkt a;
    assert_int_equal(fk__pcapfile_next(f, &a), 0);
    assert_int_equal(fk__pcapfile_next(m, &a), 0);
    fk__pcapfile_close(f);
    fk__pcapfile_close(m);
    pcap_close(p);
    unlink(path);
    free(path);
    return n;
}

/* ---- files libpcap wrote ------------------------------------------------ */

static void written_by_libpcap(int precision)
{
    char path[] = "/tmp/fk_pcapfile_lp_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    pcap_t *dead = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, 65535, precision);
    pcap_dumper_t *dp = pcap_dump_open(dead, path);
    assert_non_null(dp);
    uint8_t f[1600];
    /* about 2.5 MB: packets straddle the reader's 1 MiB chunks */
    for (unsigned i = 0; i < 5000; i++) {
        struct pcap_pkthdr h;
        h.ts.tv_sec = 1700000000 + i / 7;
        h.ts.tv_usec = (suseconds_t)((i * 7919u) % (precision ? 1000000000u : 1000000u));
        h.len = 60 + (i * 37) % 1500;
        h.caplen = i % 5 == 0 ? (h.len < 96 ? h.len : 96) : h.len; /* some cut */
        frame(f, h.caplen, i);
        pcap_dump((u_char *)dp, &h, f);
    }
    pcap_dump_close(dp);
    pcap_close(dead);
    bb b = {0};
    b.p = fk_test_read_file(path, &b.n);
    assert_non_null(b.p);
    assert_true(b.n > 2 * (1u << 20));
    assert_int_equal(compare_with_libpcap(&b), 5000);
    free(b.p);
    unlink(path);
}

static void test_libpcap_usec(void **state)
{
    (void)state;
    written_by_libpcap(PCAP_TSTAMP_PRECISION_MICRO);
}

static void test_libpcap_nsec(void **state)
{
    (void)state;
    written_by_libpcap(PCAP_TSTAMP_PRECISION_NANO);
}

/* ---- classic, both byte orders, link types ------------------------------ */

static void test_classic_byte_orders(void **state)
{
    (void)state;
    for (int big = 0; big < 2; big++) {
        for (int nsec = 0; nsec < 2; nsec++) {
            bb b = {.big = big};
            pc_header(&b, nsec ? 0xa1b23c4d : 0xa1b2c3d4, 128, 1);
            for (unsigned i = 0; i < 50; i++)
                pc_record(&b, 1700000000 + i, i * 1001, 60 + i, 60 + i * 3, i);
            assert_int_equal(compare_with_libpcap(&b), 50);
            free(b.p);
        }
    }
    /* LINKTYPE_RAW (101) is reported as DLT_RAW (12), as libpcap does */
    bb b = {0};
    pc_header(&b, 0xa1b2c3d4, 65535, 101);
    pc_record(&b, 1, 2, 40, 40, 1);
    assert_int_equal(compare_with_libpcap(&b), 1);
    fk__pcapfile *f;
    assert_int_equal(fk__pcapfile_open_mem(&f, b.p, b.n), 0);
    assert_int_equal(fk__pcapfile_linktype(f), 12);
    fk__pcapfile_close(f);
    free(b.p);
}

/* ---- pcapng ------------------------------------------------------------- */

static void test_pcapng_interfaces(void **state)
{
    (void)state;
    for (int big = 0; big < 2; big++) {
        bb b = {.big = big};
        ng_shb(&b);
        ng_other(&b, 4, 20);            /* name resolution block: skipped */
        ng_idb(&b, 1, 0, -1, 0);        /* µs (default) */
        ng_idb(&b, 1, 0, 9, 0);         /* ns */
        ng_idb(&b, 1, 0, 0x80 | 20, 0); /* 2^-20 s */
        ng_idb(&b, 1, 0, 3, 1000);      /* ms, + 1000 s */
        for (unsigned i = 0; i < 40; i++) {
            uint64_t base = 1700000000ull + i;
            ng_epb(&b, 0, base * 1000000 + i * 13, 64 + i, 64 + i, i);
            ng_epb(&b, 1, base * 1000000000 + i * 999999, 80, 1400, i + 1);
            ng_epb(&b, 2, (base << 20) | (i * 4099u % (1u << 20)), 70, 70, i + 2);
            ng_epb(&b, 3, base * 1000 + i, 66, 66, i + 3);
            if (i % 10 == 0)
                ng_other(&b, 5, 24); /* interface statistics: skipped */
        }
        ng_pb(&b, 1, 1700000100ull * 1000000000, 90, 9);
        assert_int_equal(compare_with_libpcap(&b), 161);
        free(b.p);
    }
}

static void test_pcapng_simple_packets(void **state)
{
    (void)state;
    bb b = {0};
    ng_shb(&b);
    ng_idb(&b, 1, 100, -1, 0);
    for (unsigned i = 0; i < 30; i++)
        ng_spb(&b, 50 + i * 5, i); /* from 50 to 195 bytes: cut to 100 */
    assert_int_equal(compare_with_libpcap(&b), 30);
    fk__pcapfile *f;
    fk__pcapfile_pkt p;
    assert_int_equal(fk__pcapfile_open_mem(&f, b.p, b.n), 0);
    for (unsigned i = 0; i < 30; i++) {
        assert_int_equal(fk__pcapfile_next(f, &p), 1);
        assert_int_equal(p.wirelen, 50 + i * 5);
        assert_int_equal(p.caplen, 50 + i * 5 < 100 ? 50 + i * 5 : 100);
    }
    fk__pcapfile_close(f);
    free(b.p);
}

/* A block larger than the reader's buffer, in the middle of a file. */
static void test_pcapng_big_block(void **state)
{
    (void)state;
    bb b = {0};
    ng_shb(&b);
    ng_idb(&b, 1, 0, 9, 0);
    ng_epb(&b, 0, 1, 100, 100, 1);
    ng_other(&b, 0x40000BAD, 3u << 20); /* 3 MiB custom block */
    ng_epb(&b, 0, 2, 65000, 65000, 2);
    ng_epb(&b, 0, 3, 100, 100, 3);
    assert_int_equal(compare_with_libpcap(&b), 3);
    free(b.p);
}

/* Two sections of opposite byte order; interface ids restart per section.
 * (libpcap does not read this, so the expected values are the ones written.) */
static void test_pcapng_sections(void **state)
{
    (void)state;
    bb b = {0};
    ng_shb(&b);
    ng_idb(&b, 1, 0, 9, 0);
    ng_idb(&b, 113, 0, 6, 0); /* Linux cooked */
    ng_epb(&b, 1, 5000000, 40, 40, 1);
    b.big = 1;
    ng_shb(&b);
    ng_idb(&b, 229, 0, 3, 0); /* raw IPv6, ms */
    ng_epb(&b, 0, 7, 48, 48, 2);
    fk__pcapfile *f;
    fk__pcapfile_pkt p;
    assert_int_equal(fk__pcapfile_open_mem(&f, b.p, b.n), 0);
    assert_int_equal(fk__pcapfile_is_ng(f), 1);
    assert_int_equal(fk__pcapfile_linktype(f), 1);
    assert_int_equal(fk__pcapfile_next(f, &p), 1);
    assert_int_equal(p.linktype, 113);
    assert_int_equal(p.iface, 1);
    assert_int_equal(p.ts_ns, 5000000000);
    assert_int_equal(p.caplen, 40);
    assert_int_equal(fk__pcapfile_next(f, &p), 1);
    assert_int_equal(p.linktype, 229);
    assert_int_equal(p.iface, 0);
    assert_int_equal(p.ts_ns, 7000000);
    assert_int_equal(p.caplen, 48);
    uint8_t want[48];
    frame(want, 48, 2);
    assert_memory_equal(p.data, want, 48);
    assert_int_equal(fk__pcapfile_next(f, &p), 0);
    fk__pcapfile_close(f);
    free(b.p);
}

/* ---- errors -------------------------------------------------------------- */

static int read_all(const bb *b, size_t *n)
{
    fk__pcapfile *f;
    fk__pcapfile_pkt p;
    int rc = fk__pcapfile_open_mem(&f, b->p, b->n);
    *n = 0;
    if (rc < 0)
        return rc;
    while ((rc = fk__pcapfile_next(f, &p)) == 1)
        (*n)++;
    if (rc < 0) {
        printf("# after %zu packets: %s\n", *n, fk_error_last()->message);
        assert_int_equal(fk__pcapfile_next(f, &p), rc); /* sticky */
    }
    fk__pcapfile_close(f);
    return rc;
}

static void test_errors(void **state)
{
    (void)state;
    size_t n;
    /* classic, truncated inside the last packet and inside a header */
    bb b = {0};
    pc_header(&b, 0xa1b2c3d4, 65535, 1);
    pc_record(&b, 1, 0, 100, 100, 1);
    pc_record(&b, 2, 0, 100, 100, 2);
    size_t full = b.n;
    b.n = full - 10;
    assert_int_equal(read_all(&b, &n), FK_ETRUNCATED);
    assert_int_equal(n, 1);
    b.n = full - 100 - 8;
    assert_int_equal(read_all(&b, &n), FK_ETRUNCATED);
    assert_int_equal(n, 1);
    b.n = full;
    assert_int_equal(read_all(&b, &n), 0);
    assert_int_equal(n, 2);
    /* impossible capture length */
    set32(&b, 24 + 8, 0x7fffffff);
    assert_int_equal(read_all(&b, &n), FK_EMALFORMED);
    assert_int_equal(n, 0);
    free(b.p);

    /* pcapng: bad lengths, unknown interface, truncated block */
    bb g = {0};
    ng_shb(&g);
    ng_idb(&g, 1, 0, -1, 0);
    size_t epb = g.n;
    ng_epb(&g, 0, 1, 60, 60, 1);
    full = g.n;
    g.n = full - 4;
    assert_int_equal(read_all(&g, &n), FK_ETRUNCATED);
    g.n = full;
    set32(&g, epb + 8, 3); /* interface 3 */
    assert_int_equal(read_all(&g, &n), FK_EMALFORMED);
    set32(&g, epb + 8, 0);
    set32(&g, epb + 20, 61); /* caplen past the block */
    assert_int_equal(read_all(&g, &n), FK_EMALFORMED);
    set32(&g, epb + 20, 60);
    set32(&g, epb + 4, 13); /* block length not a multiple of 4 */
    assert_int_equal(read_all(&g, &n), FK_EMALFORMED);
    set32(&g, epb + 4, 0xfffffff0);
    assert_int_equal(read_all(&g, &n), FK_EMALFORMED);
    free(g.p);
}

/* What the reader leaves to libpcap: FK_EUNSUPPORTED before any packet. */
static void test_left_to_libpcap(void **state)
{
    (void)state;
    fk__pcapfile *f;
    bb b = {0};
    pc_header(&b, 0xa1b2c3d4, 65535, 147); /* LINKTYPE_USER0 */
    pc_record(&b, 1, 0, 10, 10, 1);
    assert_int_equal(fk__pcapfile_open_mem(&f, b.p, b.n), FK_EUNSUPPORTED);
    b.p[6] = 3; /* version 2.3 */
    b.p[20] = 1;
    assert_int_equal(fk__pcapfile_open_mem(&f, b.p, b.n), FK_EUNSUPPORTED);
    memcpy(b.p, "\x34\xcd\xb2\xa1", 4); /* modified (Kuznetzov) pcap */
    assert_int_equal(fk__pcapfile_open_mem(&f, b.p, b.n), FK_EUNSUPPORTED);
    assert_int_equal(fk__pcapfile_open_mem(&f, "short", 5), FK_EUNSUPPORTED);
    free(b.p);
    bb g = {0};
    ng_shb(&g);
    ng_idb(&g, 1, 0, -1, 0);
    ng_idb(&g, 147, 0, -1, 0);
    ng_epb(&g, 0, 1, 60, 60, 1);
    assert_int_equal(fk__pcapfile_open_mem(&f, g.p, g.n), FK_EUNSUPPORTED);
    free(g.p);
    bb e = {0};
    ng_shb(&e);
    ng_epb(&e, 0, 1, 60, 60, 1); /* a packet before any interface */
    assert_int_equal(fk__pcapfile_open_mem(&f, e.p, e.n), FK_EUNSUPPORTED);
    free(e.p);
    assert_int_equal(fk__pcapfile_open(&f, "/nonexistent/fk.pcap"), FK_ENOTFOUND);
}

static void test_out_of_memory(void **state)
{
    (void)state;
    bb b = {0};
    pc_header(&b, 0xa1b2c3d4, 65535, 1);
    pc_record(&b, 1, 0, 100, 100, 1);
    char *path = write_tmp(&b);
    for (unsigned long k = 1; k < 4; k++) {
        fk__pcapfile *f = NULL;
        fk_test_alloc_fail_at(k, 1);
        int rc = fk__pcapfile_open(&f, path);
        fk_test_alloc_reset();
        if (rc == 0) {
            fk__pcapfile_close(f);
            break;
        }
        assert_int_equal(rc, FK_ENOMEM);
        assert_null(f);
    }
    unlink(path);
    free(path);
    free(b.p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_libpcap_usec),          cmocka_unit_test(test_libpcap_nsec),
        cmocka_unit_test(test_classic_byte_orders),   cmocka_unit_test(test_pcapng_interfaces),
        cmocka_unit_test(test_pcapng_simple_packets), cmocka_unit_test(test_pcapng_big_block),
        cmocka_unit_test(test_pcapng_sections),       cmocka_unit_test(test_errors),
        cmocka_unit_test(test_left_to_libpcap),       cmocka_unit_test(test_out_of_memory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
