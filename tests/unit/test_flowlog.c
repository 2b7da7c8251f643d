/* fk_flow_to_vpcflow, fk_flow_to_flowlog, fk_flow_get_vpcflow_header and
 * fk_tag_parse: every field of both text formats (docs/flowlog.md). */
#include <flowkit/flowkit.h>
#include <stdio.h>
#include <string.h>

#include "fk_test.h"
#include "flow/tagset.h"

/* A TCP biflow 10.0.0.1:40000 -> 10.0.0.2:443 carried by VXLAN VNI 42
 * between 192.0.2.1 and 192.0.2.2, first packet leaving the device. */
static fk_flow tcp_biflow(void)
{
    fk_flow f;
    memset(&f, 0, sizeof f);
    assert_int_equal(fk_addr_parse("10.0.0.1", &f.src), 0);
    assert_int_equal(fk_addr_parse("10.0.0.2", &f.dst), 0);
    f.src_port = 40000;
    f.dst_port = 443;
    f.proto = 6;
    f.packets = 5;
    f.bytes = 420;
    f.tcp_flags = 0x1b; /* SYN ACK PSH FIN */
    f.present = FK_FLOW_HAS_REVERSE | FK_FLOW_HAS_VNI;
    f.rev_packets = 4;
    f.rev_bytes = 3000;
    f.rev_tcp_flags = 0x12 | 0x01; /* SYN-ACK, FIN */
    f.start_ns = 1700000000123456789LL;
    f.end_ns = 1700000002999000000LL;
    f.tunnel = FK_TUNNEL_VXLAN;
    assert_int_equal(fk_addr_parse("192.0.2.1", &f.outer_src), 0);
    assert_int_equal(fk_addr_parse("192.0.2.2", &f.outer_dst), 0);
    f.vni = 42;
    f.direction = FK_DIRECTION_EGRESS;
    return f;
}

static const fk_tag aws_tags[] = {
    {"account-id", "123456789012"},      {"vpc-id", "vpc-0abc"},      {"subnet-id", "subnet-0def"},
    {"instance-id", "i-0123"},           {"region", "eu-west-1"},     {"az-id", "euw1-az2"},
    {"availability-zone", "eu-west-1b"}, {"interface-id", "eni-0aa"}, {"env", "prod"},
};
#define NTAGS (sizeof aws_tags / sizeof aws_tags[0])

/* Split buf into lines and each line into space-separated fields. */
static int fields(char *line, char **out, int cap)
{
    int n = 0;
    for (char *save = NULL, *t = strtok_r(line, " ", &save); t && n < cap;
         t = strtok_r(NULL, " ", &save))
        out[n++] = t;
    return n;
}

static int column(const char *name)
{
    char hdr[1024];
    snprintf(hdr, sizeof hdr, "%s", fk_flow_get_vpcflow_header());
    char *f[64];
    int n = fields(hdr, f, 64);
    for (int i = 0; i < n; i++)
        if (strcmp(f[i], name) == 0)
            return i;
    fail_msg("no column %s", name);
    return -1;
}

static void vpcflow_header_is_aws_v5_then_flowkit(void **state)
{
    (void)state;
    const char *h = fk_flow_get_vpcflow_header();
    assert_non_null(strstr(h, "version account-id interface-id srcaddr dstaddr srcport dstport "
                              "protocol packets bytes start end action log-status"));
    char hdr[1024];
    snprintf(hdr, sizeof hdr, "%s", h);
    char *f[64];
    assert_int_equal(fields(hdr, f, 64), 33);
    assert_string_equal(f[28], "traffic-path");
    assert_string_equal(f[32], "vni");
    assert_null(strchr(h, '\n'));
}

static void vpcflow_biflow_two_lines(void **state)
{
    (void)state;
    fk_flow f = tcp_biflow();
    char buf[FK_FLOWLOG_MAX];
    int n = fk_flow_to_vpcflow(&f, aws_tags, NTAGS, buf, sizeof buf);
    assert_true(n > 0);
    assert_int_equal((size_t)n, strlen(buf));
    char *nl = strchr(buf, '\n');
    assert_non_null(nl);
    assert_int_equal(buf[n - 1], '\n');
    *nl = '\0';
    char *second = nl + 1;
    second[strlen(second) - 1] = '\0';
    assert_null(strchr(second, '\n'));

    char *a[64], *b[64];
    assert_int_equal(fields(buf, a, 64), 33);
    assert_int_equal(fields(second, b, 64), 33);
    struct {
        const char *col, *fwd, *rev;
    } want[] = {
        {"version", "5", "5"},
        {"account-id", "123456789012", "123456789012"},
        {"interface-id", "eni-0aa", "eni-0aa"},
        {"srcaddr", "10.0.0.1", "10.0.0.2"},
        {"dstaddr", "10.0.0.2", "10.0.0.1"},
        {"srcport", "40000", "443"},
        {"dstport", "443", "40000"},
        {"protocol", "6", "6"},
        {"packets", "5", "4"},
        {"bytes", "420", "3000"},
        {"start", "1700000000", "1700000000"},
        {"end", "1700000002", "1700000002"},
        {"action", "-", "-"},
        {"log-status", "OK", "OK"},
        {"vpc-id", "vpc-0abc", "vpc-0abc"},
        {"subnet-id", "subnet-0def", "subnet-0def"},
        {"instance-id", "i-0123", "i-0123"},
        {"tcp-flags", "3", "19"}, /* SYN|FIN; SYN-ACK|FIN */
        {"type", "IPv4", "IPv4"},
        {"pkt-srcaddr", "10.0.0.1", "10.0.0.2"},
        {"pkt-dstaddr", "10.0.0.2", "10.0.0.1"},
        {"region", "eu-west-1", "eu-west-1"},
        {"az-id", "euw1-az2", "euw1-az2"},
        {"sublocation-type", "-", "-"},
        {"sublocation-id", "-", "-"},
        {"pkt-src-aws-service", "-", "-"},
        {"pkt-dst-aws-service", "-", "-"},
        {"flow-direction", "egress", "ingress"},
        {"traffic-path", "-", "-"},
        {"tunnel-type", "vxlan", "vxlan"},
        {"outer-srcaddr", "192.0.2.1", "192.0.2.2"},
        {"outer-dstaddr", "192.0.2.2", "192.0.2.1"},
        {"vni", "42", "42"},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        int c = column(want[i].col);
        if (strcmp(a[c], want[i].fwd) != 0 || strcmp(b[c], want[i].rev) != 0)
            fail_msg("%s: forward %s (want %s), reverse %s (want %s)", want[i].col, a[c],
                     want[i].fwd, b[c], want[i].rev);
    }
}

static void vpcflow_unknowns_are_dashes(void **state)
{
    (void)state;
    fk_flow f;
    memset(&f, 0, sizeof f);
    assert_int_equal(fk_addr_parse("2001:db8::1", &f.src), 0);
    assert_int_equal(fk_addr_parse("2001:db8::2", &f.dst), 0);
    f.proto = 58;
    f.dst_port = 128 << 8;
    f.packets = 1;
    f.bytes = 104;
    f.start_ns = f.end_ns = 1700000000000000000LL;
    char buf[FK_FLOWLOG_MAX];
    int n = fk_flow_to_vpcflow(&f, NULL, 0, buf, sizeof buf);
    assert_true(n > 0);
    assert_string_equal(buf, "5 - - 2001:db8::1 2001:db8::2 0 32768 58 1 104 1700000000 "
                             "1700000000 - OK - - - - IPv6 2001:db8::1 2001:db8::2 - - - - - - "
                             "- - - - - -\n");
}

static void flowlog_fffa_line(void **state)
{
    (void)state;
    fk_flow f = tcp_biflow();
    char buf[FK_FLOWLOG_MAX];
    int n = fk_flow_to_flowlog(&f, aws_tags, NTAGS, buf, sizeof buf);
    assert_true(n > 0);
    assert_string_equal(
        buf, "flowlog version=2 proto=TCP src=192.0.2.1:40000 dst=192.0.2.2:443 pkt-src=10.0.0.1 "
             "pkt-dst=10.0.0.2 direction=1 encapsulated=true account=123456789012 vpc=vpc-0abc "
             "subnet=subnet-0def instance=i-0123 az=eu-west-1b region=eu-west-1 "
             "time=2023-11-14T22:13:22.999Z packets=5 bytes=420 start=2023-11-14T22:13:20.123Z "
             "end=2023-11-14T22:13:22.999Z tcp-flags=27 tunnel=vxlan vni=42 tag.az-id=euw1-az2 "
             "tag.interface-id=eni-0aa tag.env=prod\n"
             "flowlog version=2 proto=TCP src=192.0.2.2:443 dst=192.0.2.1:40000 pkt-src=10.0.0.2 "
             "pkt-dst=10.0.0.1 direction=0 encapsulated=true account=123456789012 vpc=vpc-0abc "
             "subnet=subnet-0def instance=i-0123 az=eu-west-1b region=eu-west-1 "
             "time=2023-11-14T22:13:22.999Z packets=4 bytes=3000 start=2023-11-14T22:13:20.123Z "
             "end=2023-11-14T22:13:22.999Z tcp-flags=19 tunnel=vxlan vni=42 tag.az-id=euw1-az2 "
             "tag.interface-id=eni-0aa tag.env=prod\n");

    /* Not tunnelled, IPv6, UDP, no tags: the packet's own addresses. */
    memset(&f, 0, sizeof f);
    assert_int_equal(fk_addr_parse("2001:db8::1", &f.src), 0);
    assert_int_equal(fk_addr_parse("2001:db8::2", &f.dst), 0);
    f.proto = 17;
    f.src_port = 5353;
    f.dst_port = 53;
    f.packets = 1;
    f.bytes = 80;
    n = fk_flow_to_flowlog(&f, NULL, 0, buf, sizeof buf);
    assert_true(n > 0);
    assert_string_equal(
        buf, "flowlog version=2 proto=UDP src=[2001:db8::1]:5353 dst=[2001:db8::2]:53 "
             "pkt-src=2001:db8::1 pkt-dst=2001:db8::2 direction=- encapsulated=false account=- "
             "vpc=- subnet=- instance=- az=- region=- time=1970-01-01T00:00:00.000Z packets=1 "
             "bytes=80 start=1970-01-01T00:00:00.000Z end=1970-01-01T00:00:00.000Z tcp-flags=- "
             "tunnel=- vni=-\n");
}

static void events_give_no_line(void **state)
{
    (void)state;
    fk_flow f = tcp_biflow();
    f.event = 1;
    char buf[64];
    assert_int_equal(fk_flow_to_vpcflow(&f, NULL, 0, buf, sizeof buf), 0);
    assert_string_equal(buf, "");
    assert_int_equal(fk_flow_to_flowlog(&f, NULL, 0, buf, sizeof buf), 0);
}

static void worst_case_fits_and_small_buffers_fail(void **state)
{
    (void)state;
    fk_flow f = tcp_biflow();
    assert_int_equal(fk_addr_parse("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255", &f.src), 0);
    f.dst = f.src;
    f.outer_src = f.outer_dst = f.src;
    static char keys[FK_TAG_MAX][FK_TAG_KEY_MAX + 1], value[FK_TAG_VALUE_MAX + 1];
    memset(value, 'v', FK_TAG_VALUE_MAX);
    static const char *const named[] = {"account-id",
                                        "interface-id",
                                        "vpc-id",
                                        "subnet-id",
                                        "instance-id",
                                        "region",
                                        "az-id",
                                        "sublocation-type",
                                        "sublocation-id",
                                        "traffic-path",
                                        "pkt-src-aws-service",
                                        "pkt-dst-aws-service",
                                        "availability-zone"};
    fk_tag tags[FK_TAG_MAX];
    for (int i = 0; i < FK_TAG_MAX; i++) {
        if (i < (int)(sizeof named / sizeof named[0])) {
            snprintf(keys[i], sizeof keys[i], "%s", named[i]);
        } else {
            memset(keys[i], 'k', FK_TAG_KEY_MAX);
            keys[i][0] = (char)('a' + i);
        }
        tags[i] = (fk_tag){keys[i], value};
    }
    f.proto = 6;
    f.packets = f.bytes = f.rev_packets = f.rev_bytes = UINT64_MAX;
    f.start_ns = INT64_MIN;
    f.end_ns = INT64_MAX;
    f.vni = UINT32_MAX;
    char buf[FK_FLOWLOG_MAX];
    assert_true(fk_flow_to_vpcflow(&f, tags, FK_TAG_MAX, buf, sizeof buf) > 0);
    assert_true(fk_flow_to_flowlog(&f, tags, FK_TAG_MAX, buf, sizeof buf) > 0);
    char small[100];
    assert_int_equal(fk_flow_to_vpcflow(&f, tags, 1, small, sizeof small), FK_ENOSPACE);
    assert_int_equal(fk_flow_to_flowlog(&f, tags, 1, small, sizeof small), FK_ENOSPACE);
    assert_int_equal(fk_flow_to_vpcflow(&f, tags, FK_TAG_MAX + 1, buf, sizeof buf), FK_EINVAL);
    assert_int_equal(fk_flow_to_flowlog(NULL, NULL, 0, buf, sizeof buf), FK_EINVAL);
}

static void tag_parse_rules(void **state)
{
    (void)state;
    fk_tag t;
    char buf[256];
    assert_int_equal(fk_tag_parse("vpc-id=vpc-0abc", &t, buf, sizeof buf), 0);
    assert_string_equal(t.key, "vpc-id");
    assert_string_equal(t.value, "vpc-0abc");
    assert_int_equal(fk_tag_parse("a.b_c=x=", &t, buf, sizeof buf), FK_EINVAL);
    const char *bad[] = {"novalue",
                         "=v",
                         "k=",
                         "K=v",
                         "-k=v",
                         "k=a b",
                         "k=a\"b",
                         "k=\x01",
                         "k=\xc3\xa9",
                         "k=a,b",
                         "0123456789012345678901234567890123=v"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (fk_tag_parse(bad[i], &t, buf, sizeof buf) != FK_EINVAL)
            fail_msg("\"%s\" accepted", bad[i]);
        assert_non_null(strstr(fk_error_last()->message, "tag"));
    }
    char longv[FK_TAG_VALUE_MAX + 8];
    memset(longv, 'x', sizeof longv);
    memcpy(longv, "k=", 2);
    longv[FK_TAG_VALUE_MAX + 2] = '\0';
    assert_int_equal(fk_tag_parse(longv, &t, buf, sizeof buf), 0);
    longv[FK_TAG_VALUE_MAX + 2] = 'x';
    longv[FK_TAG_VALUE_MAX + 3] = '\0';
    assert_int_equal(fk_tag_parse(longv, &t, buf, sizeof buf), FK_EINVAL);
    assert_int_equal(fk_tag_parse("k=v", &t, buf, 3), FK_ENOSPACE);
}

/* A record's metadataTags (untrusted, from IPFIX) split by the tag rules. */
static void tags_split_rules(void **state)
{
    (void)state;
    char buf[256];
    fk_tag t[FK_TAG_MAX];
    assert_int_equal(fk__tags_split("account-id=1,region=eu-west-1", buf, sizeof buf, t, 16), 2);
    assert_string_equal(t[0].key, "account-id");
    assert_string_equal(t[0].value, "1");
    assert_string_equal(t[1].key, "region");
    assert_string_equal(t[1].value, "eu-west-1");
    assert_int_equal(fk__tags_split("", buf, sizeof buf, t, 16), 0);
    static const char *const bad[] = {
        "a",       "a=",    "=b",    "a=b,",    ",a=b",   "a=b,,c=d", "a=b c",
        "a=\"b\"", "a=b=c", "A B=c", "a=b,a=c", "a=\x01", "a=b\\",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (fk__tags_split(bad[i], buf, sizeof buf, t, 16) != -1)
            fail_msg("accepted: %s", bad[i]);
    /* more than cap, too small a buffer */
    assert_int_equal(fk__tags_split("a=1,b=2,c=3", buf, sizeof buf, t, 2), -1);
    assert_int_equal(fk__tags_split("a=1,b=2", buf, 7, t, 16), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(vpcflow_header_is_aws_v5_then_flowkit),
        cmocka_unit_test(vpcflow_biflow_two_lines),
        cmocka_unit_test(vpcflow_unknowns_are_dashes),
        cmocka_unit_test(flowlog_fffa_line),
        cmocka_unit_test(events_give_no_line),
        cmocka_unit_test(worst_case_fits_and_small_buffers_fail),
        cmocka_unit_test(tag_parse_rules),
        cmocka_unit_test(tags_split_rules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
