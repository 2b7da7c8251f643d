/* The console's static pages and Debian's Chart.js: plain files under a
 * directory, by a strictly checked relative path, no symlinks. */
#include <ctype.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "server_int.h"

static const char *mime_of(const char *path)
{
    const char *dot = strrchr(path, '.');
    if (!dot)
        return "application/octet-stream";
    if (!strcmp(dot, ".html"))
        return "text/html; charset=utf-8";
    if (!strcmp(dot, ".js"))
        return "text/javascript; charset=utf-8";
    if (!strcmp(dot, ".css"))
        return "text/css; charset=utf-8";
    if (!strcmp(dot, ".svg"))
        return "image/svg+xml";
    if (!strcmp(dot, ".png"))
        return "image/png";
    return "application/octet-stream";
}

/* A relative path of [A-Za-z0-9._-] segments, none empty or starting with '.'. */
static bool safe_rel_path(const char *p)
{
    if (!*p || strlen(p) > 200)
        return false;
    for (const char *seg = p; *seg;) {
        if (*seg == '.' || *seg == '/')
            return false;
        while (*seg && *seg != '/') {
            if (!isalnum((unsigned char)*seg) && !strchr("._-", *seg))
                return false;
            seg++;
        }
        if (*seg == '/')
            seg++;
    }
    return true;
}

enum MHD_Result fkc_send_file(fkc_server *s, struct MHD_Connection *c, const char *dir,
                              const char *rel)
{
    if (!dir || !safe_rel_path(rel))
        return fkc_send_error(s, c, 404, "no such file");
    char path[1024];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, rel) >= sizeof path)
        return fkc_send_error(s, c, 404, "no such file");
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        if (fd >= 0)
            close(fd);
        return fkc_send_error(s, c, 404, "no such file");
    }
    struct MHD_Response *r = MHD_create_response_from_fd((uint64_t)st.st_size, fd);
    if (!r) {
        close(fd);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", mime_of(rel));
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    fkc_count_status(s, 200);
    enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return ret;
}
