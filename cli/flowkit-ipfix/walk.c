/* flowkit-ipfix's directory walk (walk.h). */
/* _GNU_SOURCE (scandir) comes from cli/common. */
#include "walk.h"

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_DEPTH 16

static int skip_dots(const struct dirent *d)
{
    return d->d_name[0] != '.';
}

/* A name split for time order: a file flowkit-collect rotated is
 * BASE.YYYYMMDDTHHMMSSZ or BASE.YYYYMMDDTHHMMSSZ.N (lib/collector/sink.c);
 * any other name is a base of its own, the live file of its rotated set. */
typedef struct rot_name {
    size_t base_len;
    bool rotated;
    const char *stamp; /* 16 characters when rotated */
    unsigned long seq; /* .N; 0 when absent */
} rot_name;

static bool all_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return n > 0;
}

/* ".YYYYMMDDTHHMMSSZ" at s (17 characters) */
static bool is_stamp(const char *s)
{
    return s[0] == '.' && all_digits(s + 1, 8) && s[9] == 'T' && all_digits(s + 10, 6) &&
           s[16] == 'Z';
}

static rot_name split_name(const char *name)
{
    size_t len = strlen(name);
    rot_name r = {len, false, NULL, 0};
    size_t end = len; /* where the stamp would end */
    unsigned long seq = 0;
    const char *dot = strrchr(name, '.');
    size_t digits = dot ? strlen(dot + 1) : 0;
    if (dot && digits >= 1 && digits <= 3 && all_digits(dot + 1, digits)) {
        seq = strtoul(dot + 1, NULL, 10);
        end = (size_t)(dot - name);
    }
    if (end < 18 || !is_stamp(name + end - 17)) {
        if (end == len)
            return r;
        end = len; /* digits after a dot, without a stamp before: a plain name */
        if (end < 18 || !is_stamp(name + end - 17))
            return r;
        seq = 0;
    }
    r.base_len = end - 17;
    r.rotated = true;
    r.stamp = name + end - 16;
    r.seq = seq;
    return r;
}

/* Same base: rotated files by stamp and sequence, the live file last. */
static int cmp_in_set(const rot_name *x, const rot_name *y)
{
    if (x->rotated != y->rotated)
        return x->rotated ? -1 : 1;
    if (!x->rotated)
        return 0;
    int c = memcmp(x->stamp, y->stamp, 16);
    if (c)
        return c;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

int walk_name_cmp(const char *a, const char *b)
{
    rot_name x = split_name(a), y = split_name(b);
    size_t n = x.base_len < y.base_len ? x.base_len : y.base_len;
    int c = memcmp(a, b, n);
    if (c == 0 && x.base_len != y.base_len)
        c = x.base_len < y.base_len ? -1 : 1;
    if (c == 0)
        c = cmp_in_set(&x, &y);
    return c ? c : strcmp(a, b);
}

static int time_order(const struct dirent **a, const struct dirent **b)
{
    return walk_name_cmp((*a)->d_name, (*b)->d_name);
}

void walk_order_args(char **paths, size_t n)
{
    /* Each rotated set goes where its first member was given, in time
     * order; other paths keep their place. O(n^2) on the few paths of a
     * command line (a shell glob of one set included). */
    char **out = malloc(n * sizeof *out);
    bool *done = calloc(n ? n : 1, sizeof *done);
    if (!out || !done) {
        free(out);
        free(done);
        return; /* the given order, then */
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (done[i])
            continue;
        rot_name ri = split_name(paths[i]);
        size_t first = k;
        for (size_t j = i; j < n; j++) {
            rot_name rj = split_name(paths[j]);
            if (done[j] || rj.base_len != ri.base_len ||
                memcmp(paths[i], paths[j], ri.base_len) != 0)
                continue;
            done[j] = true;
            size_t at = k++;
            while (at > first) {
                rot_name prev = split_name(out[at - 1]);
                if (cmp_in_set(&rj, &prev) >= 0)
                    break;
                out[at] = out[at - 1];
                at--;
            }
            out[at] = paths[j];
        }
    }
    memcpy(paths, out, n * sizeof *out);
    free(out);
    free(done);
}

static int walk(const char *path, int depth, int (*read)(const char *, void *), int (*stop)(void *),
                void *user)
{
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
        return read(path, user) ? 1 : 0; /* read() reports a missing file itself */
    if (depth >= MAX_DEPTH) {
        fprintf(stderr, "flowkit-ipfix: %s: directories nested deeper than %d\n", path, MAX_DEPTH);
        return 1;
    }
    struct dirent **names;
    int n = scandir(path, &names, skip_dots, time_order);
    if (n < 0) {
        fprintf(stderr, "flowkit-ipfix: %s: %s\n", path, strerror(errno));
        return 1;
    }
    int status = 0;
    for (int i = 0; i < n; i++) {
        if (!stop(user)) {
            size_t len = strlen(path) + strlen(names[i]->d_name) + 2;
            char *child = malloc(len);
            if (!child) {
                fprintf(stderr, "flowkit-ipfix: out of memory\n");
                status = 1;
            } else {
                snprintf(child, len, "%s/%s", path, names[i]->d_name);
                struct stat cs;
                if (stat(child, &cs) == 0 && (S_ISDIR(cs.st_mode) || S_ISREG(cs.st_mode)))
                    status |= walk(child, depth + 1, read, stop, user);
                free(child);
            }
        }
        free(names[i]);
    }
    free(names);
    return status;
}

int walk_path(const char *path, int (*read)(const char *path, void *user), int (*stop)(void *user),
              void *user)
{
    return walk(path, 0, read, stop, user);
}
