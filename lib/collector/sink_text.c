/* The text outputs: JSON lines, CSV, VPC flow log and FFFA lines, each
 * formatted straight into a large buffer that a writer thread hands to
 * write(2) (sink_out.c). The sink's life (files, rotation, reopen) is
 * sink.c's. */
#include <errno.h>
#include <flowkit/exporter.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "collector/fastfmt.h"
#include "collector/internal.h"
#include "collector/sink_clickhouse.h"
#include "core/alloc.h"
#include "core/error.h"
#include "core/log.h"
#include "flow/tagset.h"

/* ---- text buffer -------------------------------------------------------- */

/* JSON lines and CSV rows are formatted straight into large buffers that a
 * writer thread hands to write(2) (sink_out.c): no per-record stdio call or
 * lock, and the copy into the page cache runs beside the decoding. */
#define TEXT_BUFFER (1 << 20)
/* Kept free for one more record: a JSON line (with process name) and '\n'. */
#define TEXT_RESERVE (FK_FLOW_JSON_MAX + 1)

typedef struct text_priv {
    fk__sink_out *out;
} text_priv;

static int text_alloc(fk__sink *k)
{
    if (!k->priv) {
        text_priv *t = FK__NEW(text_priv);
        if (!t)
            return fk__error(FK_ENOMEM, "%s: out of memory", k->ops->scheme);
        int rc = fk__sink_out_create(&t->out, TEXT_BUFFER);
        if (rc) {
            fk__free(t);
            return rc;
        }
        k->priv = t;
    }
    /* Anything written through the FILE goes first. */
    fflush(k->fp);
    fk__sink_out_set_fd(((text_priv *)k->priv)->out, fileno(k->fp));
    return FK_OK;
}

static void text_free(void *priv)
{
    text_priv *t = priv;
    if (!t)
        return;
    fk__sink_out_destroy(t->out);
    fk__free(t);
}

static const char *sink_name(const fk__sink *k)
{
    return k->path ? k->path : "-";
}

/* Notes what the writer lost since the last look; FK_EIO if it lost any. */
static int text_check(fk__sink *k, int rc, uint64_t lost)
{
    if (rc)
        fk__sink_note_failure(k, lost);
    return rc;
}

/* Everything formatted so far is in the file when this returns. */
static int text_flush(fk__sink *k)
{
    text_priv *t = k->priv;
    if (!t || !k->fp)
        return FK_OK;
    uint64_t lost;
    int rc = fk__sink_out_sync(t->out, sink_name(k), &lost);
    return text_check(k, rc, lost);
}

/* On its way to the file (a write failure shows up at the next call). */
static int text_submit(fk__sink *k)
{
    text_priv *t = k->priv;
    if (!t || !k->fp)
        return FK_OK;
    fk__sink_out_submit_due(t->out);
    uint64_t lost;
    int rc = fk__sink_out_check(t->out, sink_name(k), &lost);
    return text_check(k, rc, lost);
}

/* Room for one more record of at most TEXT_RESERVE bytes. Earlier write
 * failures are noted (not this record's: it still goes out). */
static char *text_room(fk__sink *k)
{
    text_priv *t = k->priv;
    char *p = fk__sink_out_room(t->out, TEXT_RESERVE);
    uint64_t lost;
    int rc = fk__sink_out_check(t->out, sink_name(k), &lost);
    text_check(k, rc, lost); /* not in one call: argument order is unspecified */
    return p;
}

/* One whole record (records = 1) or header (0) of n bytes. */
static void text_commit(fk__sink *k, size_t n, uint32_t records)
{
    fk__sink_out_commit(((text_priv *)k->priv)->out, n, records);
    k->written += (uint64_t)n;
}

static int64_t text_pending_since(const fk__sink *k)
{
    const text_priv *t = k->priv;
    return t && k->fp ? fk__sink_out_pending_since(t->out) : -1;
}

static void text_close(fk__sink *k)
{
    /* Errors here are reported by the flush that precedes every close. */
    (void)text_flush(k);
}

/* Room for one record of up to `need` bytes (text_room: TEXT_RESERVE). */
static char *text_room_for(fk__sink *k, size_t need)
{
    text_priv *t = k->priv;
    char *p = fk__sink_out_room(t->out, need);
    uint64_t lost;
    int rc = fk__sink_out_check(t->out, sink_name(k), &lost);
    text_check(k, rc, lost);
    return p;
}

/* ---- JSON lines --------------------------------------------------------- */

/* The tags of a record's line: the record's own (flowkit-export's
 * metadataTags, checked by the codec), then the collector's for the keys
 * the record lacks, at most FK_TAG_MAX. out borrows from f, k and buf. */
static size_t line_tags(const fk__sink *k, const fk_flow *f, char *buf, size_t size, fk_tag *out)
{
    int n = f->tags ? fk__tags_split(f->tags, buf, size, out, FK_TAG_MAX) : 0;
    size_t count = n > 0 ? (size_t)n : 0, own = count;
    for (size_t i = 0; i < k->ntags && count < FK_TAG_MAX; i++) {
        bool given = false;
        for (size_t j = 0; j < own && !given; j++)
            given = strcmp(out[j].key, k->tags[i].key) == 0;
        if (!given)
            out[count++] = k->tags[i];
    }
    return count;
}

/* A line with tags: `,"tags":{...}` before its last '}'. */
static int jsonl_write_tagged(fk__sink *k, const fk_flow *f)
{
    char *line = text_room_for(k, FK_FLOW_JSON_MAX + FK__TAGSET_JSON_MAX + 1);
    int n = fk__fastfmt_json(&k->fmt, f, line, FK_FLOW_JSON_MAX);
    if (n < 0)
        return n;
    char buf[FK_EXPORTER_TAGS_MAX + 1];
    fk_tag tags[FK_TAG_MAX];
    size_t ntags = line_tags(k, f, buf, sizeof buf, tags);
    n = fk__tagset_json(tags, ntags, line, (size_t)n, FK_FLOW_JSON_MAX + FK__TAGSET_JSON_MAX);
    if (n < 0)
        return fk__error(FK_EIO, "jsonl:%s: line with tags does not fit", sink_name(k));
    line[n++] = '\n';
    text_commit(k, (size_t)n, 1);
    return FK_OK;
}

static int jsonl_open(fk__sink *k)
{
    return text_alloc(k);
}

static int jsonl_write(fk__sink *k, const fk_flow *f)
{
    if (k->ntags || f->tags)
        return jsonl_write_tagged(k, f);
    char *line = text_room(k);
    int n = fk__fastfmt_json(&k->fmt, f, line, FK_FLOW_JSON_MAX);
    if (n < 0)
        return n;
    line[n++] = '\n';
    text_commit(k, (size_t)n, 1);
    return FK_OK;
}

const fk__sink_ops fk__sink_jsonl_ops = {"jsonl",    jsonl_open, jsonl_write, text_flush,
                                         text_close, text_free,  text_submit, text_pending_since};

bool fk__sink_takes_direct(const fk__sink *k)
{
    return k->ops == &fk__sink_jsonl_ops && !k->filter;
}

/* jsonl_write of one record through its plan: its own tags are none (a
 * template with metadataTags has no plan), so the line's are the sink's. */
int fk__sink_jsonl_write_rec(fk__sink *k, const fk__col_direct_set *ds, const fk__fastfmt_stamp *st,
                             const uint8_t *rec)
{
    if (!k->ntags) {
        char *line = text_room(k);
        int n = fk__fastfmt_json_rec(&k->fmt, ds->plan, rec, &ds->origin, st, line);
        line[n++] = '\n';
        text_commit(k, (size_t)n, 1);
        return FK_OK;
    }
    char *line = text_room_for(k, FK_FLOW_JSON_MAX + FK__TAGSET_JSON_MAX + 1);
    int n = fk__fastfmt_json_rec(&k->fmt, ds->plan, rec, &ds->origin, st, line);
    n = fk__tagset_json(k->tags, k->ntags < FK_TAG_MAX ? k->ntags : FK_TAG_MAX, line, (size_t)n,
                        FK_FLOW_JSON_MAX + FK__TAGSET_JSON_MAX);
    if (n < 0)
        return fk__error(FK_EIO, "jsonl:%s: line with tags does not fit", sink_name(k));
    line[n++] = '\n';
    text_commit(k, (size_t)n, 1);
    return FK_OK;
}

/* ---- CSV ---------------------------------------------------------------- */

static const char csv_header[] =
    "start,end,src_addr,dst_addr,src_port,dst_port,proto,bytes,"
    "packets,tcp_flags,exporter,odid,version,in_if,out_if,sampling,"
    "end_reason,pid,process,in_if_name,out_if_name,user,uid,exe,event,tags\n";

static int csv_open(fk__sink *k)
{
    int rc = text_alloc(k);
    if (rc)
        return rc;
    /* A header row starts every new (empty) file and stdout. */
    long pos = k->path ? ftell(k->fp) : 0;
    if (pos == 0) {
        char *p = text_room(k);
        memcpy(p, csv_header, sizeof csv_header - 1);
        text_commit(k, sizeof csv_header - 1, 0);
    }
    return FK_OK;
}

/* The last column, tags: the record's own (metadataTags) as
 * "KEY=VALUE,KEY=VALUE" (tags need no escapes), empty when none. */
static int csv_write(fk__sink *k, const fk_flow *f)
{
    size_t tags = f->tags ? strnlen(f->tags, FK_EXPORTER_TAGS_MAX) : 0;
    char *line = text_room_for(k, FK__FASTFMT_CSV_MAX + tags + 4);
    int n = fk__fastfmt_csv(&k->fmt, f, line, FK__FASTFMT_CSV_MAX);
    if (n <= 0 || line[n - 1] != '\n')
        return fk__error(FK_EIO, "csv:%s: row does not fit", k->path ? k->path : "-");
    n--; /* the row's newline: the tags column goes before it */
    line[n++] = ',';
    if (tags) {
        line[n++] = '"';
        memcpy(line + n, f->tags, tags);
        n += (int)tags;
        line[n++] = '"';
    }
    line[n++] = '\n';
    text_commit(k, (size_t)n, 1);
    return FK_OK;
}

const fk__sink_ops fk__sink_csv_ops = {"csv",      csv_open,  csv_write,   text_flush,
                                       text_close, text_free, text_submit, text_pending_since};

/* ---- VPC flow log and FFFA lines (flowkit/flowlog.h) --------------------- */

static int vpcflow_open(fk__sink *k)
{
    int rc = text_alloc(k);
    if (rc)
        return rc;
    /* The header line starts every new (empty) file and stdout, as AWS's
     * log files do. */
    long pos = k->path ? ftell(k->fp) : 0;
    if (pos == 0) {
        const char *h = fk_flow_get_vpcflow_header();
        size_t n = strlen(h);
        char *p = text_room_for(k, n + 1);
        memcpy(p, h, n);
        p[n] = '\n';
        text_commit(k, n + 1, 0);
    }
    return FK_OK;
}

static int textlog_write(fk__sink *k, const fk_flow *f, bool vpcflow)
{
    char *line = text_room_for(k, FK_FLOWLOG_MAX);
    char buf[FK_EXPORTER_TAGS_MAX + 1];
    fk_tag tags[FK_TAG_MAX];
    size_t ntags = line_tags(k, f, buf, sizeof buf, tags);
    int n = vpcflow ? fk_flow_to_vpcflow(f, tags, ntags, line, FK_FLOWLOG_MAX)
                    : fk_flow_to_flowlog(f, tags, ntags, line, FK_FLOWLOG_MAX);
    if (n < 0)
        return fk__error(FK_EIO, "%s:%s: line does not fit", k->ops->scheme, sink_name(k));
    if (n > 0) /* a session event gives no line */
        text_commit(k, (size_t)n, 1);
    return FK_OK;
}

static int vpcflow_write(fk__sink *k, const fk_flow *f)
{
    return textlog_write(k, f, true);
}

static int flowlog_write(fk__sink *k, const fk_flow *f)
{
    return textlog_write(k, f, false);
}

const fk__sink_ops fk__sink_vpcflow_ops = {"vpcflow",   vpcflow_open,      vpcflow_write,
                                           text_flush,  text_close,        text_free,
                                           text_submit, text_pending_since};
const fk__sink_ops fk__sink_flowlog_ops = {"flowlog",   jsonl_open,        flowlog_write,
                                           text_flush,  text_close,        text_free,
                                           text_submit, text_pending_since};

/* Records formatted into one room: the output's unit of loss is then the
 * chunk (its records are counted as one unit's). */
#define DIRECT_CHUNK 256

void fk__sink_jsonl_write_batch(fk__sink *k, const fk__col_direct_set *ds,
                                const fk__fastfmt_stamp *st)
{
    text_priv *t = k->priv;
    size_t len = ds->plan->record_len;
    uint32_t i = 0;
    while (i < ds->records) {
        uint32_t n = ds->records - i < DIRECT_CHUNK ? ds->records - i : DIRECT_CHUNK;
        char *p = text_room_for(k, (size_t)n * (FK__FASTFMT_MAX + 1));
        size_t used = 0;
        for (uint32_t j = 0; j < n; j++, i++) {
            int m = fk__fastfmt_json_rec(&k->fmt, ds->plan, ds->body + i * len, &ds->origin, st,
                                         p + used);
            p[used + (size_t)m] = '\n';
            used += (size_t)m + 1;
        }
        fk__sink_out_commit(t->out, used, n);
        k->written += used;
        k->records += n;
    }
}
