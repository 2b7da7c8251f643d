/* Output sinks behind one small interface: JSON lines and CSV, to stdout or
 * to a file that rotates by size and/or age and reopens on request (SIGHUP). */
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

#define SINK_BUFFER (1 << 16)

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

static const fk__sink_ops jsonl_ops = {"jsonl",    jsonl_open, jsonl_write, text_flush,
                                       text_close, text_free,  text_submit, text_pending_since};

bool fk__sink_takes_direct(const fk__sink *k)
{
    return k->ops == &jsonl_ops && !k->filter;
}

/* jsonl_write of one record through its plan: its own tags are none (a
 * template with metadataTags has no plan), so the line's are the sink's. */
static int jsonl_write_rec(fk__sink *k, const fk__col_direct_set *ds, const fk__fastfmt_stamp *st,
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

static const fk__sink_ops csv_ops = {"csv",      csv_open,  csv_write,   text_flush,
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

static const fk__sink_ops vpcflow_ops = {"vpcflow",   vpcflow_open,      vpcflow_write,
                                         text_flush,  text_close,        text_free,
                                         text_submit, text_pending_since};
static const fk__sink_ops flowlog_ops = {"flowlog",  jsonl_open, flowlog_write, text_flush,
                                         text_close, text_free,  text_submit,   text_pending_since};

/* ---- common ------------------------------------------------------------- */

int fk__sink_create(fk__sink **out, const char *uri)
{
    if (!out || !uri)
        return fk__error(FK_EINVAL, "output: NULL argument");
    const fk__sink_ops *ops = NULL;
    if (strncmp(uri, "clickhouse://", 13) == 0) {
        /* Not a file: k->path stays NULL, the state lives in k->priv. */
        fk__sink *k = FK__NEW(fk__sink);
        if (!k)
            return fk__error(FK_ENOMEM, "output: out of memory");
        int rc = fk__sink_clickhouse_priv(k, uri);
        if (rc) {
            fk__free(k);
            return rc;
        }
        *out = k;
        return FK_OK;
    }
    const char *colon = strchr(uri, ':');
    size_t n = colon ? (size_t)(colon - uri) : 0;
    if (colon && n == 5 && strncmp(uri, "jsonl", 5) == 0)
        ops = &jsonl_ops;
    else if (colon && n == 3 && strncmp(uri, "csv", 3) == 0)
        ops = &csv_ops;
    else if (colon && n == 5 && strncmp(uri, "ipfix", 5) == 0)
        ops = &fk__sink_ipfix_ops;
    else if (colon && n == 7 && strncmp(uri, "vpcflow", 7) == 0)
        ops = &vpcflow_ops;
    else if (colon && n == 7 && strncmp(uri, "flowlog", 7) == 0)
        ops = &flowlog_ops;
    else
        return fk__error(FK_EINVAL,
                         "output \"%s\": expected jsonl:-, jsonl:PATH, csv:-, csv:PATH, "
                         "ipfix:PATH, vpcflow:-, vpcflow:PATH, flowlog:-, flowlog:PATH or "
                         "clickhouse://HOST:PORT/DB.TABLE",
                         uri);
    const char *path = colon + 1;
    if (!*path)
        return fk__error(FK_EINVAL, "output \"%s\": missing path (use - for stdout)", uri);
    fk__sink *k = FK__NEW(fk__sink);
    if (!k)
        return fk__error(FK_ENOMEM, "output: out of memory");
    k->ops = ops;
    k->pen = FK_EXPORTER_DEFAULT_PEN;
    if (ops == &fk__sink_ipfix_ops && strcmp(path, "-") == 0) {
        fk__free(k);
        return fk__error(FK_EINVAL, "output \"%s\": IPFIX output needs a file path", uri);
    }
    if (ops == &fk__sink_ipfix_ops && fk__sink_ipfix_priv(k) != FK_OK) {
        fk__free(k);
        return fk_error_last()->code;
    }
    if (strcmp(path, "-") != 0) {
        k->path = fk__strdup(path);
        if (!k->path) {
            fk__free(k);
            return fk__error(FK_ENOMEM, "output: out of memory");
        }
    }
    *out = k;
    return FK_OK;
}

static void sink_close_file(fk__sink *k)
{
    if (!k->fp)
        return;
    k->ops->close(k);
    if (k->path) {
        fclose(k->fp);
    } else {
        fflush(k->fp);
    }
    k->fp = NULL;
}

void fk__sink_destroy(fk__sink *k)
{
    if (!k)
        return;
    sink_close_file(k);
    if (k->ops->free_priv)
        k->ops->free_priv(k->priv);
    fk_filter_destroy(k->filter);
    fk__free(k->path);
    fk__free(k);
}

int fk__sink_open(fk__sink *k, int64_t now_ns)
{
    if (k->fp)
        return FK_OK;
    if (k->path) {
        k->fp = fopen(k->path, "a");
        if (!k->fp)
            return fk__error_errno(errno == EACCES ? FK_EPERM : FK_EIO, "%s:%s: cannot open",
                                   k->ops->scheme, k->path);
        setvbuf(k->fp, NULL, _IOFBF, SINK_BUFFER);
        fseek(k->fp, 0, SEEK_END);
        long pos = ftell(k->fp);
        k->written = pos > 0 ? (uint64_t)pos : 0;
    } else {
        k->fp = stdout;
        k->written = 0;
    }
    k->opened_ns = now_ns;
    k->records = 0;
    int rc = k->ops->open(k);
    if (rc) {
        sink_close_file(k);
        return rc;
    }
    return FK_OK;
}

/* Move the current file aside as PATH.YYYYMMDDTHHMMSSZ (plus .N if taken)
 * and start a new one. */
static int sink_rotate(fk__sink *k, int64_t now_ns)
{
    if (!k->path)
        return FK_OK;
    sink_close_file(k);
    size_t n = strlen(k->path) + 40;
    char *target = fk__malloc(n);
    if (!target)
        return fk__error(FK_ENOMEM, "output: out of memory");
    time_t t = (time_t)(fk__real_ns() / 1000000000);
    struct tm tm;
    gmtime_r(&t, &tm);
    char stamp[24];
    strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
    snprintf(target, n, "%s.%s", k->path, stamp);
    struct stat sb;
    char eb[128];
    for (int i = 1; stat(target, &sb) == 0 && i < 1000; i++)
        snprintf(target, n, "%s.%s.%d", k->path, stamp, i);
    if (rename(k->path, target) != 0)
        FK__LOG_WARN("collector", "%s: rotate to %s failed: %s", k->path, target,
                     fk__strerror_r(errno, eb, sizeof eb));
    else
        FK__LOG_INFO("collector", "%s rotated to %s", k->path, target);
    fk__free(target);
    int rc = fk__sink_open(k, now_ns);
    if (rc)
        fk__sink_note_failure(k, 0);
    return rc;
}

static bool rotate_due(const fk__sink *k, int64_t now_ns)
{
    if (!k->path || !k->fp)
        return false;
    if (k->rotate_bytes > 0 && k->written >= (uint64_t)k->rotate_bytes)
        return true;
    /* By time only when the file holds records: no trail of empty files. */
    return k->rotate_ns > 0 && k->records > 0 && now_ns - k->opened_ns >= k->rotate_ns;
}

void fk__sink_note_failure(fk__sink *k, uint64_t lost_records)
{
    k->lost += lost_records;
    k->failures++;
    snprintf(k->error, sizeof k->error, "%s", fk_error_last()->message);
}

uint64_t fk__sink_take_lost(fk__sink *k, uint64_t *failures, const char **message)
{
    uint64_t lost = k->lost;
    *failures = k->failures;
    *message = k->error;
    k->lost = 0;
    k->failures = 0;
    return lost;
}

int fk__sink_write(fk__sink *k, const fk_flow *flow, int64_t now_ns)
{
    if (k->filter && !fk_filter_match(k->filter, flow))
        return FK_OK;
    if (!k->fp) {
        int rc = fk__sink_open(k, now_ns);
        if (rc) {
            fk__sink_note_failure(k, 1);
            return rc;
        }
    }
    int rc = k->ops->write(k, flow);
    if (rc) {
        fk__sink_note_failure(k, 1);
        return rc;
    }
    k->records++;
    if (rotate_due(k, now_ns))
        return sink_rotate(k, now_ns);
    return FK_OK;
}

/* Records formatted into one room: the output's unit of loss is then the
 * chunk (its records are counted as one unit's). */
#define DIRECT_CHUNK 256

/* Whether writing n records cannot make the sink due to rotate before the
 * last of them (then they need no check one by one). */
static bool no_rotation_within(const fk__sink *k, uint32_t n, int64_t now_ns)
{
    if (!k->path)
        return true;
    if (k->rotate_ns > 0 && now_ns - k->opened_ns >= k->rotate_ns)
        return false;
    return k->rotate_bytes <= 0 ||
           k->written + (uint64_t)n * (FK__FASTFMT_MAX + 1) < (uint64_t)k->rotate_bytes;
}

void fk__sink_write_direct(fk__sink *k, const fk__col_direct_set *ds, int64_t now_ns)
{
    const fk__fastfmt_stamp *st = fk__fastfmt_stamp_get(&k->fmt, &ds->origin);
    size_t len = ds->plan->record_len;
    uint32_t i = 0;
    if (k->fp && !k->ntags && no_rotation_within(k, ds->records, now_ns)) {
        /* Batches: one room and one commit per chunk of records. */
        text_priv *t = k->priv;
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
        return;
    }
    /* fk__sink_write's steps, record by record. */
    for (; i < ds->records; i++) {
        if (!k->fp && fk__sink_open(k, now_ns) != FK_OK) {
            fk__sink_note_failure(k, 1);
            continue;
        }
        if (jsonl_write_rec(k, ds, st, ds->body + i * len) != FK_OK) {
            fk__sink_note_failure(k, 1);
            continue;
        }
        k->records++;
        if (rotate_due(k, now_ns))
            (void)sink_rotate(k, now_ns);
    }
}

int fk__sink_write_raw(fk__sink *k, const fk__col_raw_set *rs, int64_t now_ns)
{
    uint32_t n = rs->raw->options ? 0 : rs->raw->records;
    if (!k->fp) {
        int rc = fk__sink_open(k, now_ns);
        if (rc) {
            fk__sink_note_failure(k, n);
            return rc;
        }
    }
    int rc = fk__sink_ipfix_raw(k, rs);
    if (rc) {
        fk__sink_note_failure(k, n);
        return rc;
    }
    k->records += n;
    if (rotate_due(k, now_ns))
        return sink_rotate(k, now_ns);
    return FK_OK;
}

int fk__sink_flush(fk__sink *k)
{
    if (k->fp && k->ops->flush) {
        int rc = k->ops->flush(k); /* notes its own failures */
        if (rc)
            return rc;
    }
    if (k->fp && fflush(k->fp) != 0) {
        int rc =
            fk__error_errno(FK_EIO, "%s:%s: flush failed", k->ops->scheme, k->path ? k->path : "-");
        fk__sink_note_failure(k, 0);
        return rc;
    }
    return FK_OK;
}

int fk__sink_submit(fk__sink *k)
{
    if (k->fp && k->ops->submit)
        return k->ops->submit(k);
    return fk__sink_flush(k);
}

int64_t fk__sink_submit_due_ns(const fk__sink *k)
{
    int64_t since = k->fp && k->ops->pending_since ? k->ops->pending_since(k) : -1;
    return since < 0 ? -1 : since + FK__SINK_OUT_AGE_NS;
}

int fk__sink_reopen(fk__sink *k, int64_t now_ns)
{
    if (!k->path)
        return fk__sink_flush(k);
    sink_close_file(k);
    int rc = fk__sink_open(k, now_ns);
    if (rc)
        fk__sink_note_failure(k, 0);
    return rc;
}

int64_t fk__sink_due_ns(const fk__sink *k, int64_t now_ns)
{
    if (!k->path || !k->fp || k->rotate_ns <= 0)
        return -1;
    int64_t left = k->opened_ns + k->rotate_ns - now_ns;
    return left < 0 ? 0 : left;
}

int fk__sink_tick(fk__sink *k, int64_t now_ns)
{
    if (rotate_due(k, now_ns))
        return sink_rotate(k, now_ns);
    return FK_OK;
}
