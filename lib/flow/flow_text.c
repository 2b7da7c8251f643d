/* Flows as text log lines: AWS VPC Flow Logs version 5 fields (plus
 * flowkit's tunnel fields) and FFFA's key=value line; the static tags that
 * fill their metadata columns. Field lists: docs/flowlog.md. */
#include <flowkit/flowlog.h>
#include <stdbool.h>
#include <inttypes.h>
#include <string.h>

#include "core/error.h"
#include "core/strbuf.h"
#include "ipfix/flow_template.h"

#define TCP_FIN 0x01u
#define TCP_SYN 0x02u
#define TCP_RST 0x04u
#define TCP_ACK 0x10u

static bool key_char(char c, bool first)
{
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
        return true;
    return !first && (c == '-' || c == '_' || c == '.');
}

static bool value_char(char c)
{
    return c > ' ' && c < 0x7f && c != '"' && c != '\\' && c != '=' && c != ',';
}

int fk_tag_parse(const char *text, fk_tag *out, char *buf, size_t size)
{
    if (!text || !out || !buf)
        return fk__error(FK_EINVAL, "fk_tag_parse: NULL argument");
    const char *eq = strchr(text, '=');
    if (!eq)
        return fk__error(FK_EINVAL, "tag \"%s\": expected KEY=VALUE", text);
    size_t klen = (size_t)(eq - text), vlen = strlen(eq + 1);
    if (klen == 0 || klen > FK_TAG_KEY_MAX)
        return fk__error(FK_EINVAL, "tag \"%s\": the key must be 1 to %d bytes", text,
                         FK_TAG_KEY_MAX);
    for (size_t i = 0; i < klen; i++)
        if (!key_char(text[i], i == 0))
            return fk__error(FK_EINVAL,
                             "tag \"%s\": the key may hold only a-z 0-9 - _ . (starting with a "
                             "letter or digit)",
                             text);
    if (vlen == 0 || vlen > FK_TAG_VALUE_MAX)
        return fk__error(FK_EINVAL, "tag \"%s\": the value must be 1 to %d bytes", text,
                         FK_TAG_VALUE_MAX);
    for (size_t i = 0; i < vlen; i++)
        if (!value_char(eq[1 + i]))
            return fk__error(FK_EINVAL,
                             "tag \"%s\": the value may hold only printable ASCII without "
                             "spaces, '\"', '\\', '=' or ','",
                             text);
    if (size < klen + vlen + 2)
        return fk__error(FK_ENOSPACE, "fk_tag_parse: buffer of %zu bytes too small", size);
    memcpy(buf, text, klen);
    buf[klen] = '\0';
    memcpy(buf + klen + 1, eq + 1, vlen + 1);
    out->key = buf;
    out->value = buf + klen + 1;
    return FK_OK;
}

/* A tag's value cut to what a valid tag may hold, or NULL. */
static const char *tag_value(const fk_tag *tags, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (tags[i].key && tags[i].value && strcmp(tags[i].key, key) == 0)
            return tags[i].value;
    return NULL;
}

/* ` VALUE` of a tag, "-" when absent; at most FK_TAG_VALUE_MAX bytes. */
static void put_tag(fk__strbuf *o, const char *prefix, const fk_tag *tags, size_t n,
                    const char *key)
{
    const char *v = tag_value(tags, n, key);
    fk__strbuf_printf(o, "%s%.*s", prefix, FK_TAG_VALUE_MAX, v && *v ? v : "-");
}

static void put_addr(fk__strbuf *o, const char *prefix, const fk_addr *a)
{
    char text[FK_ADDR_STRLEN];
    if (a->family != 4 && a->family != 6) {
        fk__strbuf_printf(o, "%s-", prefix);
        return;
    }
    fk_addr_format(a, text, sizeof text);
    fk__strbuf_printf(o, "%s%s", prefix, text);
}

/* ADDR:PORT, [ADDR]:PORT for IPv6. */
static void put_endpoint(fk__strbuf *o, const char *prefix, const fk_addr *a, uint16_t port)
{
    char text[FK_ADDR_STRLEN];
    if (a->family != 4 && a->family != 6) {
        fk__strbuf_printf(o, "%s-:%u", prefix, port);
        return;
    }
    fk_addr_format(a, text, sizeof text);
    fk__strbuf_printf(o, a->family == 6 ? "%s[%s]:%u" : "%s%s:%u", prefix, text, port);
}

static int64_t unix_seconds(int64_t ns)
{
    int64_t s = ns / 1000000000;
    return ns < 0 && s * 1000000000 != ns ? s - 1 : s;
}

/* The forward direction and, for a biflow with reverse packets, the
 * reverse one (addresses, ports, counters, flags, direction and outer
 * addresses swapped); returns how many. */
static int split(const fk_flow *f, fk_flow out[2])
{
    return fk__ft_split_biflow(f, &out[0], &out[1]);
}

/* AWS's tcp-flags: FIN, SYN and RST of this direction, and ACK only as
 * part of SYN-ACK (18), which a line shows only for the responder. */
static unsigned aws_tcp_flags(const fk_flow *f, bool responder)
{
    unsigned v = f->tcp_flags & (TCP_FIN | TCP_SYN | TCP_RST);
    if (responder && (f->tcp_flags & TCP_SYN) && (f->tcp_flags & TCP_ACK))
        v |= TCP_ACK;
    return v;
}

static const char *direction_name(uint8_t d)
{
    return d == FK_DIRECTION_INGRESS ? "ingress" : d == FK_DIRECTION_EGRESS ? "egress" : "-";
}

static const char vpcflow_header[] =
    "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes "
    "start end action log-status vpc-id subnet-id instance-id tcp-flags type pkt-srcaddr "
    "pkt-dstaddr region az-id sublocation-type sublocation-id pkt-src-aws-service "
    "pkt-dst-aws-service flow-direction traffic-path tunnel-type outer-srcaddr outer-dstaddr vni";

const char *fk_flow_get_vpcflow_header(void)
{
    return vpcflow_header;
}

static void vpcflow_line(fk__strbuf *o, const fk_flow *f, bool responder, const fk_tag *tags,
                         size_t n)
{
    fk__strbuf_printf(o, "5");
    put_tag(o, " ", tags, n, "account-id");
    put_tag(o, " ", tags, n, "interface-id");
    put_addr(o, " ", &f->src);
    put_addr(o, " ", &f->dst);
    fk__strbuf_printf(o, " %u %u %u %" PRIu64 " %" PRIu64 " %" PRId64 " %" PRId64 " - OK",
                      f->src_port, f->dst_port, f->proto, f->packets, f->bytes,
                      unix_seconds(f->start_ns), unix_seconds(f->end_ns));
    put_tag(o, " ", tags, n, "vpc-id");
    put_tag(o, " ", tags, n, "subnet-id");
    put_tag(o, " ", tags, n, "instance-id");
    if (f->proto == 6)
        fk__strbuf_printf(o, " %u", aws_tcp_flags(f, responder));
    else
        fk__strbuf_printf(o, " -");
    fk__strbuf_printf(o, " %s", f->src.family == 6 ? "IPv6" : f->src.family == 4 ? "IPv4" : "-");
    put_addr(o, " ", &f->src);
    put_addr(o, " ", &f->dst);
    put_tag(o, " ", tags, n, "region");
    put_tag(o, " ", tags, n, "az-id");
    put_tag(o, " ", tags, n, "sublocation-type");
    put_tag(o, " ", tags, n, "sublocation-id");
    put_tag(o, " ", tags, n, "pkt-src-aws-service");
    put_tag(o, " ", tags, n, "pkt-dst-aws-service");
    fk__strbuf_printf(o, " %s", direction_name(f->direction));
    put_tag(o, " ", tags, n, "traffic-path");
    const char *tunnel = fk_tunnel_kind_name(f->tunnel);
    fk__strbuf_printf(o, " %s", *tunnel ? tunnel : "-");
    put_addr(o, " ", &f->outer_src);
    put_addr(o, " ", &f->outer_dst);
    if (f->present & FK_FLOW_HAS_VNI)
        fk__strbuf_printf(o, " %" PRIu32 "\n", f->vni);
    else
        fk__strbuf_printf(o, " -\n");
}

static bool tags_ok(const fk_tag *tags, size_t n)
{
    return (tags || n == 0) && n <= FK_TAG_MAX;
}

/* One text line per direction of a flow (events write nothing). */
typedef void (*line_fn)(fk__strbuf *o, const fk_flow *f, bool responder, const fk_tag *tags,
                        size_t n);

static int flow_lines(const char *what, line_fn line, const fk_flow *flow, const fk_tag *tags,
                      size_t tag_count, char *buf, size_t size)
{
    if (!flow || !buf || size == 0 || !tags_ok(tags, tag_count))
        return fk__error(FK_EINVAL, "%s: NULL argument or more than %d tags", what, FK_TAG_MAX);
    buf[0] = '\0';
    if (flow->event)
        return 0;
    fk_flow dir[2];
    int lines = split(flow, dir);
    fk__strbuf o = FK__STRBUF(buf, size);
    for (int i = 0; i < lines; i++)
        line(&o, &dir[i], i == 1, tags, tag_count);
    if (o.overflow)
        return fk__error(FK_ENOSPACE, "%s: buffer of %zu bytes too small", what, size);
    return (int)o.len;
}

int fk_flow_to_vpcflow(const fk_flow *flow, const fk_tag *tags, size_t tag_count, char *buf,
                       size_t size)
{
    return flow_lines("fk_flow_to_vpcflow", vpcflow_line, flow, tags, tag_count, buf, size);
}

/* FFFA's protocol names. */
static void put_proto(fk__strbuf *o, uint8_t proto)
{
    if (proto == 6)
        fk__strbuf_printf(o, " proto=TCP");
    else if (proto == 17)
        fk__strbuf_printf(o, " proto=UDP");
    else
        fk__strbuf_printf(o, " proto=PROTO_%u", proto);
}

static bool fffa_tag(const char *key)
{
    static const char *const known[] = {"account-id",  "vpc-id", "subnet-id",
                                        "instance-id", "region", "availability-zone"};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strcmp(key, known[i]) == 0)
            return true;
    return false;
}

static void flowlog_line(fk__strbuf *o, const fk_flow *f, bool responder, const fk_tag *tags,
                         size_t n)
{
    (void)responder; /* FFFA's line has no flags to turn round */
    bool outer =
        f->tunnel != FK_TUNNEL_NONE && (f->outer_src.family == 4 || f->outer_src.family == 6);
    fk__strbuf_printf(o, "flowlog version=2");
    put_proto(o, f->proto);
    put_endpoint(o, " src=", outer ? &f->outer_src : &f->src, f->src_port);
    put_endpoint(o, " dst=", outer ? &f->outer_dst : &f->dst, f->dst_port);
    put_addr(o, " pkt-src=", &f->src);
    put_addr(o, " pkt-dst=", &f->dst);
    fk__strbuf_printf(o, " direction=%s encapsulated=%s",
                      f->direction == FK_DIRECTION_INGRESS  ? "0"
                      : f->direction == FK_DIRECTION_EGRESS ? "1"
                                                            : "-",
                      f->tunnel != FK_TUNNEL_NONE ? "true" : "false");
    put_tag(o, " account=", tags, n, "account-id");
    put_tag(o, " vpc=", tags, n, "vpc-id");
    put_tag(o, " subnet=", tags, n, "subnet-id");
    put_tag(o, " instance=", tags, n, "instance-id");
    put_tag(o, " az=", tags, n, "availability-zone");
    put_tag(o, " region=", tags, n, "region");
    char start[40], end[40];
    fk_time_format(f->start_ns, start, sizeof start);
    fk_time_format(f->end_ns, end, sizeof end);
    fk__strbuf_printf(o, " time=%s packets=%" PRIu64 " bytes=%" PRIu64 " start=%s end=%s", end,
                      f->packets, f->bytes, start, end);
    if (f->proto == 6)
        fk__strbuf_printf(o, " tcp-flags=%u", f->tcp_flags);
    else
        fk__strbuf_printf(o, " tcp-flags=-");
    const char *tunnel = fk_tunnel_kind_name(f->tunnel);
    fk__strbuf_printf(o, " tunnel=%s", *tunnel ? tunnel : "-");
    if (f->present & FK_FLOW_HAS_VNI)
        fk__strbuf_printf(o, " vni=%" PRIu32, f->vni);
    else
        fk__strbuf_printf(o, " vni=-");
    for (size_t i = 0; i < n; i++)
        if (tags[i].key && tags[i].value && !fffa_tag(tags[i].key))
            fk__strbuf_printf(o, " tag.%.*s=%.*s", FK_TAG_KEY_MAX, tags[i].key, FK_TAG_VALUE_MAX,
                              tags[i].value);
    fk__strbuf_printf(o, "\n");
}

int fk_flow_to_flowlog(const fk_flow *flow, const fk_tag *tags, size_t tag_count, char *buf,
                       size_t size)
{
    return flow_lines("fk_flow_to_flowlog", flowlog_line, flow, tags, tag_count, buf, size);
}
