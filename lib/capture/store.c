#include "capture/store.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/log.h"

#define STORE_NAME_MAX 4096

struct fk__pcap_store {
    char *target;
    char *device;
    bool is_dir;
    bool rotating;
    int64_t rotate_bytes;
    int64_t rotate_seconds;
    int64_t keep;
    pcap_t *dead;          /* gives pcap_dump_open the link type and precision */
    pcap_dumper_t *dumper; /* current file, or NULL */
    char current[STORE_NAME_MAX];
    int64_t file_start_ns;
    uint64_t file_bytes;
    uint64_t file_packets;
    uint64_t seq; /* number of the next file */
    char **kept;  /* ring of names written, oldest first (keep > 0) */
    size_t kept_head;
    size_t kept_count;
    fk__store_stats stats;
};

/* Insert `-<piece>` before the extension of the last path component. */
static int insert_before_ext(char *buf, size_t size, const char *piece)
{
    size_t len = strlen(buf);
    const char *slash = strrchr(buf, '/');
    const char *base = slash ? slash + 1 : buf;
    const char *dot = strrchr(base, '.');
    size_t at = (dot && dot != base) ? (size_t)(dot - buf) : len;
    size_t plen = strlen(piece) + 1;
    if (len + plen + 1 > size)
        return FK_ENOSPACE;
    memmove(buf + at + plen, buf + at, len - at + 1);
    buf[at] = '-';
    memcpy(buf + at + 1, piece, plen - 1);
    return 0;
}

int fk__store_format_name(char *buf, size_t size, const char *target, int is_dir,
                          const char *device, int rotating, uint64_t seq, int64_t ts_ns)
{
    time_t secs = (time_t)(ts_ns / 1000000000);
    if (ts_ns < 0 && ts_ns % 1000000000)
        secs--;
    struct tm tm;
    if (!gmtime_r(&secs, &tm))
        return fk__error(FK_EINVAL, "pcap store: time %" PRId64 " cannot be formatted", ts_ns);
    if (is_dir) {
        char stamp[32];
        strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
        size_t tl = strlen(target);
        const char *sep = (tl && target[tl - 1] == '/') ? "" : "/";
        int n = snprintf(buf, size, "%s%sflowkit%s%s-%s-%06" PRIu64 ".pcap", target, sep,
                         device ? "-" : "", device ? device : "", stamp, seq);
        if (n < 0 || (size_t)n >= size)
            return fk__error(FK_ENOSPACE, "pcap store: file name too long");
        return 0;
    }
    if (size == 0)
        return fk__error(FK_ENOSPACE, "pcap store: file name too long");
    size_t n = strftime(buf, size, target, &tm);
    if (n == 0 && target[0] != '\0')
        return fk__error(FK_ENOSPACE, "pcap store: pattern \"%s\" expands to nothing or too long",
                         target);
    buf[n] = '\0';
    if (device && insert_before_ext(buf, size, device) < 0)
        return fk__error(FK_ENOSPACE, "pcap store: file name too long");
    if (rotating) {
        char num[24];
        snprintf(num, sizeof num, "%06" PRIu64, seq);
        if (insert_before_ext(buf, size, num) < 0)
            return fk__error(FK_ENOSPACE, "pcap store: file name too long");
    }
    if (buf[0] == '\0')
        return fk__error(FK_EINVAL, "pcap store: pattern \"%s\" gives an empty name", target);
    return 0;
}

static int check_dir_writable(const char *dir, const char *what)
{
    struct stat st;
    if (stat(dir, &st) < 0)
        return fk__error_errno(errno == ENOENT ? FK_ENOTFOUND : FK_EIO, "pcap store: %s \"%s\"",
                               what, dir);
    if (!S_ISDIR(st.st_mode))
        return fk__error(FK_EINVAL, "pcap store: \"%s\" is not a directory", dir);
    if (access(dir, W_OK | X_OK) < 0)
        return fk__error_errno(FK_EPERM, "pcap store: cannot write to \"%s\"", dir);
    return 0;
}

static int validate_target(const char *target, bool *is_dir)
{
    size_t len = strlen(target);
    struct stat st;
    if (target[len - 1] == '/') {
        if (stat(target, &st) < 0 && errno == ENOENT && mkdir(target, 0750) < 0)
            return fk__error_errno(fk__status_from_errno(errno),
                                   "pcap store: cannot create directory \"%s\"", target);
        *is_dir = true;
        return check_dir_writable(target, "directory");
    }
    if (stat(target, &st) == 0 && S_ISDIR(st.st_mode)) {
        *is_dir = true;
        return check_dir_writable(target, "directory");
    }
    *is_dir = false;
    char dir[STORE_NAME_MAX];
    const char *slash = strrchr(target, '/');
    if (!slash)
        return check_dir_writable(".", "directory");
    size_t dl = (size_t)(slash - target);
    if (dl == 0)
        dl = 1; /* "/name" */
    if (dl >= sizeof dir)
        return fk__error(FK_EINVAL, "pcap store: path too long");
    memcpy(dir, target, dl);
    dir[dl] = '\0';
    if (strchr(dir, '%'))
        return 0; /* directory part is itself a pattern: checked when opened */
    return check_dir_writable(dir, "directory of");
}

int fk__store_create(fk__pcap_store **out, const fk__store_config *cfg)
{
    *out = NULL;
    if (!cfg->target || !cfg->target[0])
        return fk__error(FK_EINVAL, "pcap store: empty target");
    bool is_dir = false;
    int rc = validate_target(cfg->target, &is_dir);
    if (rc < 0)
        return rc;
    fk__pcap_store *s = FK__NEW(fk__pcap_store);
    if (!s)
        return fk__error(FK_ENOMEM, "pcap store: out of memory");
    s->target = fk__strdup(cfg->target);
    s->device = cfg->device ? fk__strdup(cfg->device) : NULL;
    s->is_dir = is_dir;
    s->rotate_bytes = cfg->rotate_bytes;
    s->rotate_seconds = cfg->rotate_seconds;
    s->rotating = cfg->rotate_bytes > 0 || cfg->rotate_seconds > 0;
    s->keep = cfg->keep_files;
    if (s->keep > 0)
        s->kept = fk__calloc((size_t)s->keep, sizeof *s->kept);
    s->dead = pcap_open_dead_with_tstamp_precision(cfg->linktype, cfg->snaplen,
                                                   PCAP_TSTAMP_PRECISION_NANO);
    if (!s->target || (cfg->device && !s->device) || (s->keep > 0 && !s->kept) || !s->dead) {
        fk__store_destroy(s);
        return fk__error(FK_ENOMEM, "pcap store: out of memory");
    }
    *out = s;
    return 0;
}

static int close_file(fk__pcap_store *s)
{
    if (!s->dumper)
        return 0;
    int rc = 0;
    if (pcap_dump_flush(s->dumper) < 0)
        rc = fk__error_errno(FK_EIO, "pcap store: writing \"%s\"", s->current);
    pcap_dump_close(s->dumper);
    s->dumper = NULL;
    return rc;
}

/* Remember a finished-or-started file; delete the oldest beyond keep. */
static void remember(fk__pcap_store *s, const char *name)
{
    if (s->keep <= 0)
        return;
    size_t cap = (size_t)s->keep;
    if (s->kept_count == cap) {
        char *old = s->kept[s->kept_head];
        char eb[128];
        if (unlink(old) < 0 && errno != ENOENT)
            FK__LOG_WARN("capture", "pcap store: cannot delete \"%s\": %s", old,
                         fk__strerror_r(errno, eb, sizeof eb));
        else
            s->stats.deleted++;
        fk__free(old);
        s->kept[s->kept_head] = NULL;
        s->kept_head = (s->kept_head + 1) % cap;
        s->kept_count--;
    }
    char *copy = fk__strdup(name);
    if (!copy) {
        FK__LOG_WARN("capture", "pcap store: out of memory; \"%s\" will not be rotated away", name);
        return;
    }
    s->kept[(s->kept_head + s->kept_count) % cap] = copy;
    s->kept_count++;
}

static int open_file(fk__pcap_store *s, int64_t ts_ns)
{
    char name[STORE_NAME_MAX];
    int rc = fk__store_format_name(name, sizeof name, s->target, s->is_dir, s->device, s->rotating,
                                   s->seq, ts_ns);
    if (rc < 0)
        return rc;
    s->dumper = pcap_dump_open(s->dead, name);
    if (!s->dumper)
        return fk__error(FK_EIO, "pcap store: %s", pcap_geterr(s->dead));
    snprintf(s->current, sizeof s->current, "%s", name);
    s->seq++;
    s->file_start_ns = ts_ns;
    s->file_bytes = 24; /* pcap file header */
    s->file_packets = 0;
    s->stats.files++;
    s->stats.bytes += 24;
    remember(s, name);
    return 0;
}

int fk__store_write(fk__pcap_store *s, int64_t ts_ns, const uint8_t *data, uint32_t caplen,
                    uint32_t wirelen)
{
    uint64_t rec = 16u + caplen;
    if (s->dumper && s->file_packets > 0) {
        bool by_size = s->rotate_bytes > 0 && s->file_bytes + rec > (uint64_t)s->rotate_bytes;
        bool by_time = s->rotate_seconds > 0 &&
                       ts_ns - s->file_start_ns >= s->rotate_seconds * INT64_C(1000000000);
        if (by_size || by_time) {
            int rc = close_file(s);
            if (rc < 0)
                return rc;
        }
    }
    if (!s->dumper) {
        int rc = open_file(s, ts_ns);
        if (rc < 0)
            return rc;
    }
    struct pcap_pkthdr h;
    int64_t secs = ts_ns / 1000000000;
    int64_t frac = ts_ns % 1000000000;
    if (frac < 0) {
        frac += 1000000000;
        secs--;
    }
    h.ts.tv_sec = (time_t)secs;
    h.ts.tv_usec = (suseconds_t)frac; /* nanoseconds: the file is nanosecond-precision */
    h.caplen = caplen;
    h.len = wirelen;
    pcap_dump((u_char *)s->dumper, &h, data);
    s->file_bytes += rec;
    s->file_packets++;
    s->stats.packets++;
    s->stats.bytes += rec;
    return 0;
}

int fk__store_flush(fk__pcap_store *s)
{
    if (s->dumper && pcap_dump_flush(s->dumper) < 0)
        return fk__error_errno(FK_EIO, "pcap store: writing \"%s\"", s->current);
    return 0;
}

int fk__store_close_file(fk__pcap_store *s)
{
    return close_file(s);
}

void fk__store_destroy(fk__pcap_store *s)
{
    if (!s)
        return;
    if (close_file(s) < 0)
        FK__LOG_WARN("capture", "%s", fk_error_last()->message);
    if (s->kept) {
        for (size_t i = 0; i < (size_t)s->keep; i++)
            fk__free(s->kept[i]);
        fk__free(s->kept);
    }
    if (s->dead)
        pcap_close(s->dead);
    fk__free(s->target);
    fk__free(s->device);
    fk__free(s);
}

void fk__store_get_stats(const fk__pcap_store *s, fk__store_stats *out)
{
    *out = s->stats;
}

const char *fk__store_current(const fk__pcap_store *s)
{
    return s->dumper ? s->current : NULL;
}
