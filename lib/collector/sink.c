/* Output sinks behind one small interface (fk__sink_ops): their life, to
 * stdout or to a file that rotates by size and/or age and reopens on
 * request (SIGHUP), and their losses. The formats: sink_text.c (JSON lines,
 * CSV, VPC flow log, FFFA lines), sink_ipfix.c, sink_clickhouse.c. */
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
        ops = &fk__sink_jsonl_ops;
    else if (colon && n == 3 && strncmp(uri, "csv", 3) == 0)
        ops = &fk__sink_csv_ops;
    else if (colon && n == 5 && strncmp(uri, "ipfix", 5) == 0)
        ops = &fk__sink_ipfix_ops;
    else if (colon && n == 7 && strncmp(uri, "vpcflow", 7) == 0)
        ops = &fk__sink_vpcflow_ops;
    else if (colon && n == 7 && strncmp(uri, "flowlog", 7) == 0)
        ops = &fk__sink_flowlog_ops;
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
        fk__sink_jsonl_write_batch(k, ds, st);
        return;
    }
    /* fk__sink_write's steps, record by record. */
    for (; i < ds->records; i++) {
        if (!k->fp && fk__sink_open(k, now_ns) != FK_OK) {
            fk__sink_note_failure(k, 1);
            continue;
        }
        if (fk__sink_jsonl_write_rec(k, ds, st, ds->body + i * len) != FK_OK) {
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

void fk__sink_write_raw_run(fk__sink *k, const fk__col_raw_set *sets, size_t n, int64_t now_ns)
{
    /* At once only where writing them one by one could not rotate between
     * them: by time (now_ns is the same for all) or by size (ends of
     * messages add to k->written: may_end only without a size limit). */
    bool due = k->path && k->rotate_ns > 0 && now_ns - k->opened_ns >= k->rotate_ns;
    bool full = k->path && k->rotate_bytes > 0 && k->written >= (uint64_t)k->rotate_bytes;
    if (k->fp && !due && !full &&
        fk__sink_ipfix_raw_run(k, sets, n, !k->path || k->rotate_bytes <= 0)) {
        for (size_t i = 0; i < n; i++)
            k->records += sets[i].raw->records;
        return;
    }
    for (size_t i = 0; i < n; i++)
        (void)fk__sink_write_raw(k, &sets[i], now_ns); /* failures noted in the sink */
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
