/* ClickHouse sink: the table's columns, its CREATE statement and one flow
 * as a RowBinary row (what the sender POSTs in batches). */
#include <stdio.h>
#include <string.h>

#include <flowkit/exporter.h>

#include "collector/sink_clickhouse.h"
#include "core/error.h"

#define MS 1000000LL

/* ---- RowBinary ---------------------------------------------------------- */

const char fk__ch_columns[] =
    "date,start_ms,end_ms,src_addr,dst_addr,src_port,dst_port,proto,tcp_flags,rev_tcp_flags,tos,"
    "vlan,bytes,packets,rev_bytes,rev_packets,exporter,odid,version,in_if,out_if,sampling,"
    "end_reason,pid,process,event,uid,user,exe,in_if_name,out_if_name,tags";

/* Columns appended for issue #5, at the end with defaults so that older
 * queries and rows keep working; ensure_created adds them to a table made
 * by an older flowkit. Types that ClickHouse 18.16 knows (no
 * LowCardinality, no ADD COLUMN IF NOT EXISTS there). */
static const char *const added_columns[] = {
    "event Enum8('flow' = 0, 'syn' = 1, 'fin' = 2, 'rst' = 3) DEFAULT 'flow'",
    "uid Nullable(UInt32) DEFAULT NULL",
    "user String DEFAULT ''",
    "exe String DEFAULT ''",
    "in_if_name String DEFAULT ''",
    "out_if_name String DEFAULT ''",
    /* issue #16: the record's metadata tags, "KEY=VALUE,KEY=VALUE" */
    "tags String DEFAULT ''",
};
#define NADDED (sizeof added_columns / sizeof added_columns[0])

const char *fk__ch_added_column(size_t i)
{
    return i < NADDED ? added_columns[i] : NULL;
}

int fk__ch_create_sql(const char *db, const char *table, char *buf, size_t size)
{
    int n = snprintf(buf, size,
                     "CREATE TABLE IF NOT EXISTS %s.%s ("
                     "date Date, start_ms UInt64, end_ms UInt64, "
                     "src_addr FixedString(16), dst_addr FixedString(16), "
                     "src_port UInt16, dst_port UInt16, proto UInt8, tcp_flags UInt8, "
                     "rev_tcp_flags UInt8, tos UInt8, vlan UInt16, "
                     "bytes UInt64, packets UInt64, rev_bytes UInt64, rev_packets UInt64, "
                     "exporter FixedString(16), odid UInt32, version UInt16, "
                     "in_if UInt32, out_if UInt32, sampling UInt32, end_reason UInt8, "
                     "pid UInt32, process String, %s, %s, %s, %s, %s, %s, %s"
                     ") ENGINE = MergeTree() PARTITION BY date "
                     "ORDER BY (intDiv(start_ms, 3600000), src_addr, dst_addr, start_ms)",
                     db, table, added_columns[0], added_columns[1], added_columns[2],
                     added_columns[3], added_columns[4], added_columns[5], added_columns[6]);
    if (n < 0 || (size_t)n >= size)
        return fk__error(FK_ENOSPACE, "clickhouse: CREATE statement too long");
    return n;
}

static uint8_t *put_le(uint8_t *p, uint64_t v, int bytes)
{
    for (int i = 0; i < bytes; i++)
        *p++ = (uint8_t)(v >> (8 * i));
    return p;
}

/* IPv4 as IPv4-mapped IPv6 (::ffff:a.b.c.d), IPv6 as is, absent as zeros. */
static uint8_t *put_addr(uint8_t *p, const fk_addr *a)
{
    memset(p, 0, 16);
    if (a->family == 4) {
        p[10] = p[11] = 0xff;
        memcpy(p + 12, a->bytes, 4);
    } else if (a->family == 6) {
        memcpy(p, a->bytes, 16);
    }
    return p + 16;
}

static uint64_t ns_to_ms(int64_t ns)
{
    return ns > 0 ? (uint64_t)(ns / MS) : 0;
}

/* A String in RowBinary: LEB128 length, then the bytes. */
static uint8_t *put_str(uint8_t *p, const char *s, size_t n)
{
    size_t v = n;
    do {
        *p++ = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        v >>= 7;
    } while (v);
    if (n)
        memcpy(p, s, n);
    return p + n;
}

static size_t cut(const char *s, size_t max)
{
    return s ? strnlen(s, max) : 0;
}

int fk__ch_encode_row(const fk_flow *f, uint8_t *buf, size_t cap)
{
    size_t plen = (f->present & FK_FLOW_HAS_PROCESS) ? strnlen(f->process, FK_PROCESS_NAME_MAX) : 0;
    size_t ulen = cut(f->user, FK__CH_USER_MAX), elen = cut(f->exe, FK__CH_EXE_MAX);
    size_t ilen = cut(f->in_if_name, FK__CH_IFNAME_MAX);
    size_t olen = cut(f->out_if_name, FK__CH_IFNAME_MAX);
    size_t tlen = cut(f->tags, FK_EXPORTER_TAGS_MAX);
    if (cap < 172 + plen + ulen + elen + ilen + olen + tlen)
        return fk__error(FK_ENOSPACE, "clickhouse: row buffer too small");
    uint8_t *p = buf;
    uint64_t start = ns_to_ms(f->start_ns);
    p = put_le(p, start / 86400000u, 2); /* Date: days since 1970-01-01 */
    p = put_le(p, start, 8);
    p = put_le(p, ns_to_ms(f->end_ns), 8);
    p = put_addr(p, &f->src);
    p = put_addr(p, &f->dst);
    p = put_le(p, f->src_port, 2);
    p = put_le(p, f->dst_port, 2);
    *p++ = f->proto;
    *p++ = f->tcp_flags;
    *p++ = f->rev_tcp_flags;
    *p++ = f->tos;
    p = put_le(p, f->vlan, 2);
    p = put_le(p, f->bytes, 8);
    p = put_le(p, f->packets, 8);
    int rev = (f->present & FK_FLOW_HAS_REVERSE) != 0;
    p = put_le(p, rev ? f->rev_bytes : 0, 8);
    p = put_le(p, rev ? f->rev_packets : 0, 8);
    int exp = (f->present & FK_FLOW_HAS_EXPORTER) != 0;
    static const fk_addr none;
    p = put_addr(p, exp ? &f->exporter : &none);
    p = put_le(p, exp ? f->odid : 0, 4);
    p = put_le(p, f->version, 2);
    int ifs = (f->present & FK_FLOW_HAS_IFACES) != 0;
    p = put_le(p, ifs ? f->in_if : 0, 4);
    p = put_le(p, ifs ? f->out_if : 0, 4);
    p = put_le(p, (f->present & FK_FLOW_HAS_SAMPLING) ? f->sampling : 0, 4);
    *p++ = (f->present & FK_FLOW_HAS_END_REASON) ? f->end_reason : 0;
    p = put_le(p, (f->present & FK_FLOW_HAS_PROCESS) ? f->pid : 0, 4);
    *p++ = (uint8_t)plen; /* LEB128 length; FK_PROCESS_NAME_MAX < 128 */
    memcpy(p, f->process, plen);
    p += plen;
    *p++ = f->event <= 3 ? f->event : 0; /* Enum8: 0 flow, 1 syn, 2 fin, 3 rst */
    if (f->present & FK_FLOW_HAS_UID) {  /* Nullable(UInt32): null flag, value */
        *p++ = 0;
        p = put_le(p, f->uid, 4);
    } else {
        *p++ = 1;
    }
    p = put_str(p, f->user, ulen);
    p = put_str(p, f->exe, elen);
    p = put_str(p, f->in_if_name, ilen);
    p = put_str(p, f->out_if_name, olen);
    p = put_str(p, f->tags, tlen);
    return (int)(p - buf);
}
