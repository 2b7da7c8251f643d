/* The collector's JSON lines written straight from an IPFIX record's
 * bytes by its template's record plan (lib/collector/recplan.h): the same
 * bytes fk__fastfmt_json() writes for the fk_flow the decoder would make
 * (tests/unit/test_collector_direct.c compares them). */
#include <stdbool.h>
#include <string.h>
#include <time.h>
#include "collector/fastfmt.h"
#include "collector/fastfmt_put.h"
#include "core/json.h"

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
