/* flowkit-ipfix's query fast path over the files of a command line
 * (fastq.h): which queries and files it takes, and the reads. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fastq.h"
#include "tool.h"
#include "walk.h"

#define CHUNK                                                                                      \
    (256u << 10) /* read size (a message is at most 65535 octets); more                            \
                  * costs more in page faults than it saves in reads */

bool fastq_eligible(const tool *t)
{
    return t->query_only && !t->fields && !t->quiet && query_has_tables(t->q);
}

/* The walk's list of files. */
typedef struct files {
    char **v;
    size_t n, cap;
    bool oom;
} files;

static int add_file(const char *path, void *user)
{
    files *fs = user;
    if (fs->n == fs->cap) {
        size_t cap = fs->cap ? fs->cap * 2 : 16;
        char **nv = realloc(fs->v, cap * sizeof *nv);
        if (!nv) {
            fs->oom = true;
            return 0;
        }
        fs->v = nv;
        fs->cap = cap;
    }
    char *s = strdup(path);
    if (!s) {
        fs->oom = true;
        return 0;
    }
    fs->v[fs->n++] = s;
    return 0;
}

static int never(void *user)
{
    (void)user;
    return 0;
}

/* A raw file of IPFIX messages as tool_read_file() reads one (not pcap:
 * the first two octets 0x000a), or an empty file. */
static bool raw_ipfix(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    uint8_t m[2];
    ssize_t r = read(fd, m, 2);
    close(fd);
    return r == 0 || (r == 2 && m[0] == 0 && m[1] == 10);
}

/* Every message of one raw file; false when the fast path stopped. */
static bool read_file(fastq *fq, const char *path, uint8_t *buf)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    (void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    size_t have = 0;
    bool ok = true;
    while (!stop_requested) {
        ssize_t r = read(fd, buf + have, CHUNK - have);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            ok = false;
            break;
        }
        if (r == 0) {
            ok = fastq_end(fq, have);
            break;
        }
        have += (size_t)r;
        long took = fastq_feed(fq, buf, have);
        if (took < 0) {
            ok = false;
            break;
        }
        memmove(buf, buf + took, have - (size_t)took);
        have -= (size_t)took;
    }
    close(fd);
    return ok;
}

bool fastq_run(tool *t, char **paths, int n, fastq_counts *counts, const char **why)
{
    files fs = {NULL, 0, 0, false};
    *why = NULL;
    for (int i = 0; i < n; i++)
        if (walk_path(paths[i], add_file, never, &fs) != 0)
            *why = "a path that cannot be listed";
    if (fs.oom)
        *why = "out of memory";
    for (size_t i = 0; !*why && i < fs.n; i++)
        if (!raw_ipfix(fs.v[i]))
            *why = "a file that is not a raw file of IPFIX messages";
    uint8_t *buf = NULL;
    fastq *fq = NULL;
    if (!*why && (!(buf = malloc(CHUNK)) || !(fq = fastq_create(t->q, &t->raw_exporter, t->pen))))
        *why = "out of memory";
    for (size_t i = 0; !*why && i < fs.n && !stop_requested; i++)
        if (!read_file(fq, fs.v[i], buf))
            *why = fastq_why(fq) ? fastq_why(fq) : "a file that cannot be read";
    if (!*why)
        *counts = *fastq_get_counts(fq);
    fastq_destroy(fq);
    free(buf);
    for (size_t i = 0; i < fs.n; i++)
        free(fs.v[i]);
    free(fs.v);
    return *why == NULL;
}
