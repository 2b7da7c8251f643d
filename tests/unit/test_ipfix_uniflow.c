/* Uniflow export of biflows (issue #22): the one split both IPFIX writers
 * use (fk__ft_split_biflow) gives each direction its own record with
 * addresses, ports, interfaces and counters swapped; the collector's
 * `ipfix:` file output writes one record per direction by default and RFC
 * 5103 biflow records only with ipfix_biflow = 1; the exporter's biflow
 * parameter defaults to 0. */
#include <flowkit/flowkit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fk_test.h"
#include "ipfix/flow_template.h"

static fk_flow biflow(void)
{
    fk_flow f;
    memset(&f, 0, sizeof f);
    fk_addr_parse("192.0.2.10", &f.src);
    fk_addr_parse("198.51.100.20", &f.dst);
    f.src_port = 40000;
    f.dst_port = 443;
    f.proto = 6;
    f.tcp_flags = 0x1b;
    f.bytes = 5000;
    f.packets = 10;
    f.start_ns = INT64_C(1795435200000) * 1000000;
    f.end_ns = f.start_ns + INT64_C(2500) * 1000000;
    f.present = FK_FLOW_HAS_REVERSE | FK_FLOW_HAS_IFACES | FK_FLOW_HAS_END_REASON;
    f.in_if = 3;
    f.out_if = 7;
    f.end_reason = FK_END_DETECTED;
    f.rev_bytes = 120000;
    f.rev_packets = 90;
    f.rev_tcp_flags = 0x12;
    return f;
}

static void split_swaps_each_direction(void **state)
{
    (void)state;
    fk_flow f = biflow(), fwd, rev;
    assert_int_equal(fk__ft_split_biflow(&f, &fwd, &rev), 2);
    /* forward: the same flow without reverse counters */
    assert_false(fwd.present & FK_FLOW_HAS_REVERSE);
    assert_int_equal(fwd.rev_bytes + fwd.rev_packets + fwd.rev_tcp_flags, 0);
    assert_memory_equal(&fwd.src, &f.src, sizeof f.src);
    assert_int_equal(fwd.bytes, 5000);
    assert_int_equal(fwd.in_if, 3);
    /* reverse: swapped tuple and interfaces, its own counters, same times */
    assert_memory_equal(&rev.src, &f.dst, sizeof f.dst);
    assert_memory_equal(&rev.dst, &f.src, sizeof f.src);
    assert_int_equal(rev.src_port, 443);
    assert_int_equal(rev.dst_port, 40000);
    assert_int_equal(rev.proto, 6);
    assert_int_equal(rev.bytes, 120000);
    assert_int_equal(rev.packets, 90);
    assert_int_equal(rev.tcp_flags, 0x12);
    assert_int_equal(rev.in_if, 7);
    assert_int_equal(rev.out_if, 3);
    assert_int_equal(rev.start_ns, f.start_ns);
    assert_int_equal(rev.end_ns, f.end_ns);
    assert_false(rev.present & FK_FLOW_HAS_REVERSE);
    assert_true(rev.present & FK_FLOW_HAS_END_REASON);

    /* ICMP echo: the reply direction is an echo reply (type 0) */
    f.proto = 1;
    f.src_port = 0;
    f.dst_port = 8 << 8;
    assert_int_equal(fk__ft_split_biflow(&f, &fwd, &rev), 2);
    assert_int_equal(rev.src_port, 0);
    assert_int_equal(rev.dst_port, 0);
    f.dst_port = 3 << 8 | 1; /* unreachable: no reply type, kept */
    assert_int_equal(fk__ft_split_biflow(&f, &fwd, &rev), 2);
    assert_int_equal(rev.dst_port, 3 << 8 | 1);
    f.proto = 58;
    f.dst_port = 128 << 8;
    assert_int_equal(fk__ft_split_biflow(&f, &fwd, &rev), 2);
    assert_int_equal(rev.dst_port, 129 << 8);
    /* the reverse direction's own type and code, when the flow carries it:
     * a timestamp request answered by a parameter problem (12/1) */
    f.proto = 1;
    f.dst_port = 13 << 8;
    f.present |= FK_FLOW_HAS_REV_ICMP;
    f.rev_icmp = 12 << 8 | 1;
    assert_int_equal(fk__ft_split_biflow(&f, &fwd, &rev), 2);
    assert_int_equal(rev.dst_port, 12 << 8 | 1);
    assert_int_equal(fwd.dst_port, 13 << 8);
    assert_false(fwd.present & FK_FLOW_HAS_REV_ICMP);
    assert_false(rev.present & FK_FLOW_HAS_REV_ICMP);
    f.present &= ~FK_FLOW_HAS_REV_ICMP;

    /* no reverse packets, or no reverse counters: one record */
    f = biflow();
    f.rev_packets = 0;
    memset(&rev, 0xa5, sizeof rev);
    assert_int_equal(fk__ft_split_biflow(&f, &fwd, &rev), 1);
    assert_int_equal(rev.bytes, 0xa5a5a5a5a5a5a5a5ull); /* untouched */
    f = biflow();
    f.present &= ~FK_FLOW_HAS_REVERSE;
    assert_int_equal(fk__ft_split_biflow(&f, &fwd, &rev), 1);
    assert_int_equal(fwd.bytes, 5000);
}

/* One IPFIX message: a template with RFC 5103 reverse counters and one
 * biflow record. */
static size_t biflow_message(uint8_t *buf, size_t size)
{
    static const fk_field_spec fs[] = {{0, 8, 4, 0},
                                       {0, 12, 4, 0},
                                       {0, 7, 2, 0},
                                       {0, 11, 2, 0},
                                       {0, 4, 1, 0},
                                       {0, 1, 8, 0},
                                       {0, 2, 8, 0},
                                       {0, 152, 8, 0},
                                       {0, 153, 8, 0},
                                       {0, 10, 4, 0},
                                       {0, 14, 4, 0},
                                       {FK_PEN_REVERSE, 1, 8, 0},
                                       {FK_PEN_REVERSE, 2, 8, 0},
                                       {FK_PEN_REVERSE, 6, 2, 0}};
    fk_ipfix_encoder *e;
    size_t n;
    assert_int_equal(fk_ipfix_encoder_create(&e, NULL), 0);
    assert_int_equal(fk_ipfix_encoder_add_template(e, 256, fs, sizeof fs / sizeof fs[0], 0), 0);
    assert_int_equal(fk_ipfix_encoder_begin(e, 1, 1795435200, buf, size), 0);
    assert_int_equal(fk_ipfix_encoder_write_template(e, 256), 0);
    fk_flow f = biflow();
    assert_int_equal(fk_ipfix_encoder_add_flow(e, 256, &f), 0);
    assert_int_equal(fk_ipfix_encoder_finish(e, &n), 0);
    fk_ipfix_encoder_destroy(e);
    return n;
}

typedef struct file_records {
    int n, with_reverse;
    fk_flow flow[4];
} file_records;

static void read_ipfix_file(const char *path, file_records *out)
{
    memset(out, 0, sizeof *out);
    size_t len;
    uint8_t *file = fk_test_read_file(path, &len);
    assert_non_null(file);
    fk_ipfix_decoder *d;
    assert_int_equal(fk_ipfix_decoder_create(&d, NULL), 0);
    for (size_t off = 0; off < len;) {
        fk_ipfix_header hdr;
        assert_int_equal(fk_ipfix_parse_header(file + off, len - off, &hdr), 0);
        assert_int_equal(fk_ipfix_decoder_begin(d, 1, file + off, hdr.length, NULL), 0);
        fk_ipfix_item it;
        while (fk_ipfix_decoder_next(d, &it) == 1) {
            /* options records (a passed-through domain's origin) are no flows */
            if (it.kind != FK_IPFIX_ITEM_RECORD || it.record.is_options)
                continue;
            assert_true(out->n < 4);
            assert_int_equal(fk_ipfix_record_to_flow(&it.record, &out->flow[out->n]), 0);
            out->with_reverse +=
                fk_template_find_field(it.record.tmpl, FK_PEN_REVERSE, 1) >= 0 ? 1 : 0;
            out->n++;
        }
        off += hdr.length;
    }
    fk_ipfix_decoder_destroy(d);
    free(file);
}

/* A collector with an ipfix: output fed one biflow record. */
static void collect_to_file(const char *path, int biflow_param, file_records *out)
{
    char uri[300];
    snprintf(uri, sizeof uri, "ipfix:%s", path);
    unlink(path);
    fk_collector *h;
    assert_int_equal(fk_collector_create(&h), 0);
    assert_int_equal(fk_collector_set_int(h, FK_COL_WORKERS, 0), 0);
    if (biflow_param >= 0)
        assert_int_equal(fk_collector_set_int(h, FK_COL_IPFIX_BIFLOW, biflow_param), 0);
    assert_int_equal(fk_collector_add_output(h, uri), 0);
    assert_int_equal(fk_collector_activate(h), 0);
    uint8_t msg[1500];
    size_t n = biflow_message(msg, sizeof msg);
    fk_addr from;
    fk_addr_parse("127.0.0.1", &from);
    assert_int_equal(fk_collector_feed(h, &from, 4739, msg, n), 1);
    fk_collector_destroy(h); /* flushes the file */
    read_ipfix_file(path, out);
}

static void collector_file_uniflow_by_default(void **state)
{
    (void)state;
    char dir[] = "/tmp/fk_uniflow_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/out.ipfix", dir);
    file_records r;

    /* default: two records, no reverse elements, every byte counted */
    collect_to_file(path, -1, &r);
    assert_int_equal(r.n, 2);
    assert_int_equal(r.with_reverse, 0);
    assert_int_equal(r.flow[0].bytes + r.flow[1].bytes, 125000);
    assert_int_equal(r.flow[0].packets + r.flow[1].packets, 100);
    char a[FK_ADDR_STRLEN];
    fk_addr_format(&r.flow[1].src, a, sizeof a);
    assert_string_equal(a, "198.51.100.20");
    assert_int_equal(r.flow[1].src_port, 443);
    assert_int_equal(r.flow[1].bytes, 120000);
    assert_int_equal(r.flow[1].tcp_flags, 0x12);
    assert_int_equal(r.flow[1].in_if, 7);
    assert_int_equal(r.flow[1].out_if, 3);

    /* ipfix_biflow = 0 said explicitly: the same */
    collect_to_file(path, 0, &r);
    assert_int_equal(r.n, 2);
    assert_int_equal(r.with_reverse, 0);

    /* ipfix_biflow = 1: one RFC 5103 record */
    collect_to_file(path, 1, &r);
    assert_int_equal(r.n, 1);
    assert_int_equal(r.with_reverse, 1);
    assert_true(r.flow[0].present & FK_FLOW_HAS_REVERSE);
    assert_int_equal(r.flow[0].bytes, 5000);
    assert_int_equal(r.flow[0].rev_bytes, 120000);
    assert_int_equal(r.flow[0].rev_packets, 90);

    unlink(path);
    rmdir(dir);
}

static void exporter_default_is_uniflow(void **state)
{
    (void)state;
    fk_exporter *h;
    assert_int_equal(fk_exporter_create(&h), 0);
    int64_t v = -1;
    assert_int_equal(fk_exporter_get_int(h, FK_EXP_BIFLOW, &v), 0);
    assert_int_equal(v, 0);
    fk_exporter_destroy(h);
    fk_collector *c;
    assert_int_equal(fk_collector_create(&c), 0);
    v = -1;
    assert_int_equal(fk_collector_get_int(c, FK_COL_IPFIX_BIFLOW, &v), 0);
    assert_int_equal(v, 0);
    fk_collector_destroy(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(split_swaps_each_direction),
        cmocka_unit_test(collector_file_uniflow_by_default),
        cmocka_unit_test(exporter_default_is_uniflow),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
