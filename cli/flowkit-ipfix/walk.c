/* flowkit-ipfix's directory walk (walk.h). */
/* _GNU_SOURCE (scandir, alphasort) comes from cli/common. */
#include "walk.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_DEPTH 16

static int skip_dots(const struct dirent *d)
{
    return d->d_name[0] != '.';
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
    int n = scandir(path, &names, skip_dots, alphasort);
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
