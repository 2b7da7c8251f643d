/* What the collector's IPFIX codec (codec_ipfix.c) reads from a record
 * beyond the plan's fk_flow fields: interface names announced by options
 * records, flowkit-export's process and TCP event fields under the
 * configured PEN, tunnel elements, and the origin (exporter and domain)
 * that flowkit-collect's ipfix: files record for relayed data. */
#include <flowkit/ipfix.h>
#include <flowkit/template.h>
#include <flowkit/exporter.h>
#include <stdbool.h>
#include <string.h>

#include "collector/codec.h"
#include "collector/codec_impl.h"
#include "ipfix/plan.h"
#include "flow/tagset.h"

/* An options record that names an interface (RFC 7011 options: the scope
 * says which interface, interfaceName 82 / interfaceDescription 83 say what
 * it is called): report it to the session layer. */
void fk__col_ipfix_report_ifname(const fk_ipfix_record *rec, fk__col_ifname_fn ifname, void *user)
{
    fk_ipfix_value v, name, desc;
    if (fk__ipfix_record_lookup(rec, 0, 10, &v) != 0 &&
        fk__ipfix_record_lookup(rec, 0, 14, &v) != 0)
        return;
    uint64_t ifindex;
    if (v.len > 4 || fk_ipfix_value_get_uint(&v, &ifindex) != 0)
        return;
    fk__col_ifname in = {(uint32_t)ifindex, NULL, 0, NULL, 0};
    if (fk__ipfix_record_lookup(rec, 0, 82, &name) == 0 && name.len) {
        in.name = (const char *)name.raw;
        in.name_len = name.len;
    }
    if (fk__ipfix_record_lookup(rec, 0, 83, &desc) == 0 && desc.len) {
        in.desc = (const char *)desc.raw;
        in.desc_len = desc.len;
    }
    if (in.name_len || in.desc_len)
        ifname(user, &in);
}

/* Copy a string field into a NUL-terminated buffer of size cap + 1, cut
 * at cap bytes and at an embedded NUL; NULL when the record lacks it. */
static const char *copy_str(char *dst, size_t cap, const fk_ipfix_record *rec, uint32_t pen,
                            uint16_t id)
{
    fk_ipfix_value v;
    if (fk__ipfix_record_lookup(rec, pen, id, &v) != 0)
        return NULL;
    fk_ipfix_value_get_str(&v, dst, cap + 1);
    return dst;
}

static bool get_u32(const fk_ipfix_record *rec, uint32_t pen, uint16_t id, uint32_t *out)
{
    fk_ipfix_value v;
    uint64_t x;
    if (fk__ipfix_record_lookup(rec, pen, id, &v) != 0 || v.len > 4 ||
        fk_ipfix_value_get_uint(&v, &x) != 0)
        return false;
    *out = (uint32_t)x;
    return true;
}

/* flowkit-export's process elements (docs/exporter-elements.md): processId
 * (PEN 1), processName (PEN 2), processExecutable (PEN 4), userId (PEN 5)
 * under the configured enterprise number, and IANA userName (371). The
 * values are read as raw octets, so the PEN need not be registered. A
 * record under another PEN has none of them: nothing is set. */
void fk__col_ipfix_process_fields(fk__col_codec_ctx *cx, const fk_ipfix_record *rec, fk_flow *f)
{
    f->user = copy_str(cx->user, FK_FLOW_USER_MAX, rec, 0, 371);
    if (f->user && !f->user[0])
        f->user = NULL; /* the exporter sends "" for unknown */
    if (!cx->pen)
        return;
    uint32_t pid;
    if (get_u32(rec, cx->pen, FK_EXPORTER_IE_PROCESS_ID, &pid)) {
        const char *name =
            copy_str(cx->exe, FK_PROCESS_NAME_MAX - 1, rec, cx->pen, FK_EXPORTER_IE_PROCESS_NAME);
        if (pid || (name && name[0])) { /* pid 0 without a name: no process known */
            f->pid = pid;
            memset(f->process, 0, sizeof f->process);
            if (name)
                memcpy(f->process, name, strlen(name));
            f->present |= FK_FLOW_HAS_PROCESS;
        }
    }
    uint32_t uid;
    if (get_u32(rec, cx->pen, FK_EXPORTER_IE_USER_ID, &uid) &&
        uid != UINT32_MAX) { /* (uid_t)-1: unknown */
        f->uid = uid;
        f->present |= FK_FLOW_HAS_UID;
    }
    f->exe = copy_str(cx->exe, FK_FLOW_EXE_MAX, rec, cx->pen, FK_EXPORTER_IE_PROCESS_EXE);
    if (f->exe && !f->exe[0])
        f->exe = NULL;
}

/* flowkit-export's session events: sessionEventKind (PEN 10; 1 SYN, 2 FIN,
 * 3 RST) marks the record as an event, at observationTimeMilliseconds (323).
 * That time also serves any record without flow times. */
void fk__col_ipfix_event_fields(const fk__col_codec_ctx *cx, const fk_ipfix_record *rec, fk_flow *f)
{
    fk_ipfix_value v;
    if (f->start_ns == 0 && f->end_ns == 0 && fk__ipfix_record_lookup(rec, 0, 323, &v) == 0 &&
        v.i > 0)
        f->start_ns = f->end_ns = v.i;
    uint32_t kind;
    if (cx->pen && get_u32(rec, cx->pen, FK_EXPORTER_IE_EVENT_KIND, &kind) && kind >= 1 &&
        kind <= 3)
        f->event = (uint8_t)kind;
}

/* flowkit-export's tunnel elements (docs/exporter-elements.md): tunnelType
 * (PEN 20), the outer addresses (PEN 21/22 IPv4, 23/24 IPv6) and
 * virtualNetworkId (PEN 25; 4294967295 = none) under the configured PEN.
 * (flowDirection and a VXLAN layer2SegmentId are IANA's: the decoder's.) */
void fk__col_ipfix_tunnel_fields(const fk__col_codec_ctx *cx, const fk_ipfix_record *rec,
                                 fk_flow *f)
{
    uint32_t kind, vni;
    if (!cx->pen || !get_u32(rec, cx->pen, FK_EXPORTER_IE_TUNNEL_TYPE, &kind) || kind == 0 ||
        kind > 255)
        return;
    f->tunnel = (uint8_t)kind;
    fk_ipfix_value v;
    if (fk__ipfix_record_lookup(rec, cx->pen, FK_EXPORTER_IE_TUNNEL_SRC_V4, &v) == 0 ||
        fk__ipfix_record_lookup(rec, cx->pen, FK_EXPORTER_IE_TUNNEL_SRC_V6, &v) == 0) {
        if (v.len == 4 || v.len == 16) {
            memset(&f->outer_src, 0, sizeof f->outer_src);
            f->outer_src.family = v.len == 4 ? 4 : 6;
            memcpy(f->outer_src.bytes, v.raw, v.len);
        }
    }
    if (fk__ipfix_record_lookup(rec, cx->pen, FK_EXPORTER_IE_TUNNEL_DST_V4, &v) == 0 ||
        fk__ipfix_record_lookup(rec, cx->pen, FK_EXPORTER_IE_TUNNEL_DST_V6, &v) == 0) {
        if (v.len == 4 || v.len == 16) {
            memset(&f->outer_dst, 0, sizeof f->outer_dst);
            f->outer_dst.family = v.len == 4 ? 4 : 6;
            memcpy(f->outer_dst.bytes, v.raw, v.len);
        }
    }
    if (get_u32(rec, cx->pen, FK_EXPORTER_IE_VNI, &vni) && vni <= 0xffffffu) {
        f->vni = vni;
        f->present |= FK_FLOW_HAS_VNI;
    }
}

/* flowkit-export's metadataTags (PEN 30, `KEY=VALUE,KEY=VALUE`) under the
 * configured PEN. The value is untrusted and every output writes tags
 * unquoted: a value longer than FK_EXPORTER_TAGS_MAX or with an item that
 * breaks fk_tag_parse()'s rules is left out whole and counted
 * (tags_rejected); an empty value is no tags. */
void fk__col_ipfix_tag_fields(fk__col_codec_ctx *cx, const fk_ipfix_record *rec, fk_flow *f)
{
    fk_ipfix_value v;
    if (!cx->pen || fk__ipfix_record_lookup(rec, cx->pen, FK_EXPORTER_IE_TAGS, &v) != 0 ||
        v.len == 0)
        return;
    if (v.len <= FK_EXPORTER_TAGS_MAX && !memchr(v.raw, 0, v.len)) {
        memcpy(cx->tags, v.raw, v.len);
        cx->tags[v.len] = '\0';
        char buf[FK_EXPORTER_TAGS_MAX + 1];
        fk_tag tags[FK_TAG_MAX];
        if (fk__tags_split(cx->tags, buf, sizeof buf, tags, FK_TAG_MAX) > 0) {
            f->tags = cx->tags;
            return;
        }
    }
    if (cx->stats)
        cx->stats->tags_rejected++;
}

/* What a data template carries beyond the plan (FK__COL_IPFIX_*), in one
 * pass over its fields. Asked once per data set: softflowd sends a few
 * records per set, and a lookup per element was most of their cost.
 * EXTRAS: an element that process_fields, event_fields or tunnel_fields
 * read (a lookup that misses costs an error message, several times the
 * cost of the rest of the record); ORIGIN: the record names its own
 * origin; BOOT: it carries systemInitTimeMilliseconds. */
unsigned fk__col_ipfix_scan(const fk__col_codec_ctx *cx, const fk_template *t)
{
    unsigned r = 0;
    uint16_t n = fk_template_get_field_count(t);
    for (uint16_t i = 0; i < n; i++) {
        const fk_field_spec *f = fk_template_get_field(t, i);
        if (!f || (f->flags & FK_FIELD_V9_SCOPE))
            continue;
        if (f->pen == 0) {
            if (f->id == 371 || f->id == 323)
                r |= FK__COL_IPFIX_EXTRAS;
            else if (f->id == 149 || f->id == 130 || f->id == 131)
                r |= FK__COL_IPFIX_ORIGIN;
            else if (f->id == 160)
                r |= FK__COL_IPFIX_BOOT;
        } else if (cx->pen && f->pen == cx->pen) {
            switch (f->id) {
            case FK_EXPORTER_IE_PROCESS_ID:
            case FK_EXPORTER_IE_PROCESS_NAME:
            case FK_EXPORTER_IE_PROCESS_EXE:
            case FK_EXPORTER_IE_USER_ID:
            case FK_EXPORTER_IE_EVENT_KIND:
            case FK_EXPORTER_IE_TUNNEL_TYPE:
            case FK_EXPORTER_IE_TAGS:
                r |= FK__COL_IPFIX_EXTRAS;
                break;
            default:
                break;
            }
        }
    }
    return r;
}

/* A record that names its own observation domain (observationDomainId
 * 149) or exporter (exporterIPv4Address 130 / exporterIPv6Address 131) was
 * relayed: flowkit-collect's ipfix: files and IPFIX mediators keep each
 * record's origin there while the message header has their own. The
 * record's own win. */
void fk__col_ipfix_fields_at(const fk_template *t, fk__col_ipfix_at *out)
{
    out->odid = fk_template_find_field(t, 0, 149);
    out->v4 = fk_template_find_field(t, 0, 130);
    out->v6 = fk_template_find_field(t, 0, 131);
    out->boot = fk_template_find_field(t, 0, 160);
}

void fk__col_ipfix_record_origin(const fk_ipfix_record *rec, const fk__col_ipfix_at *at, fk_flow *f)
{
    /* By the indexes fk__col_ipfix_fields_at found (fk_template_find_field),
     * read as fk_ipfix_record_find_field would read them: per record
     * lookups by element were 45% of a query over flowkit-collect's files. */
    fk_ipfix_value v;
    if (at->odid >= 0 && fk_ipfix_record_get_field(rec, (uint16_t)at->odid, &v) == 0 &&
        v.len >= 1 && v.len <= 4) {
        f->odid = (uint32_t)v.u;
        f->present |= FK__FLOW_OWN_ODID;
    }
    if ((at->v4 >= 0 && fk_ipfix_record_get_field(rec, (uint16_t)at->v4, &v) == 0 && v.len == 4) ||
        (at->v6 >= 0 && fk_ipfix_record_get_field(rec, (uint16_t)at->v6, &v) == 0 && v.len == 16)) {
        f->exporter = v.addr;
        f->present |= FK__FLOW_OWN_EXPORTER;
    }
}
