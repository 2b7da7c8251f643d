/* The config file reader (see fkconfig.h): bounded lines from a bounded
 * regular file, every refusal named by FILE:LINE. */
#include "fkconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int refuse(char *err, size_t errsize, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int refuse(char *err, size_t errsize, const char *fmt, ...)
{
    if (err && errsize) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errsize, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t';
}

static bool is_key_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.';
}

/* One line (no line end, NUL-terminated in `line`); 0 or -1 / cb's value. */
static int parse_line(const char *where, char *line, fkcli_config_cb cb, void *user, char *err,
                      size_t errsize)
{
    char *hash = strchr(line, '#');
    if (hash)
        *hash = '\0';
    char *s = line;
    while (is_space(*s))
        s++;
    char *e = s + strlen(s);
    while (e > s && is_space(e[-1]))
        *--e = '\0';
    if (!*s)
        return 0;
    char *eq = strchr(s, '=');
    if (!eq)
        return refuse(err, errsize, "%s: expected \"key = value\"", where);
    char *key = s, *key_end = eq;
    while (key_end > key && is_space(key_end[-1]))
        key_end--;
    *key_end = '\0';
    char *value = eq + 1;
    while (is_space(*value))
        value++;
    if (!*key)
        return refuse(err, errsize, "%s: no key before '='", where);
    for (char *p = key; *p; p++) {
        if (!is_key_char(*p))
            return refuse(err, errsize, "%s: \"%s\" is not a setting name (letters, digits, _ - .)",
                          where, key);
        if (*p == '-')
            *p = '_';
    }
    if (!*value)
        return refuse(err, errsize, "%s: no value for %s", where, key);
    return cb ? cb(where, key, value, user) : 0;
}

/* One pass over the text; cb NULL only checks it. */
static int parse_text(const char *name, const char *text, size_t len, fkcli_config_cb cb,
                      void *user, char *err, size_t errsize)
{
    char line[FKCLI_CONFIG_LINE_MAX + 1];
    char where[512];
    size_t lineno = 0;
    for (size_t pos = 0; pos < len;) {
        lineno++;
        snprintf(where, sizeof where, "%s:%zu", name, lineno);
        const char *start = text + pos;
        const char *nl = memchr(start, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - start) : len - pos;
        pos += n + (nl ? 1 : 0);
        if (n > 0 && start[n - 1] == '\r')
            n--; /* CR LF */
        if (n > FKCLI_CONFIG_LINE_MAX)
            return refuse(err, errsize, "%s: line is longer than %d bytes", where,
                          FKCLI_CONFIG_LINE_MAX);
        for (size_t i = 0; i < n; i++) {
            unsigned char c = (unsigned char)start[i];
            if (c == 0)
                return refuse(err, errsize, "%s: NUL byte at column %zu: not a text file", where,
                              i + 1);
            if ((c < 0x20 && c != '\t') || c == 0x7f)
                return refuse(err, errsize,
                              "%s: control byte 0x%02x at column %zu: not a text file", where, c,
                              i + 1);
        }
        memcpy(line, start, n);
        line[n] = '\0';
        int rc = parse_line(where, line, cb, user, err, errsize);
        if (rc != 0)
            return rc;
    }
    return 0;
}

int fkcli_config_parse(const char *name, const char *text, size_t len, fkcli_config_cb cb,
                       void *user, char *err, size_t errsize)
{
    int rc = parse_text(name, text, len, NULL, NULL, err, errsize);
    return rc ? rc : parse_text(name, text, len, cb, user, err, errsize);
}

static const char *file_kind(mode_t mode)
{
    if (S_ISDIR(mode))
        return "a directory";
    if (S_ISCHR(mode))
        return "a character device";
    if (S_ISBLK(mode))
        return "a block device";
    if (S_ISFIFO(mode))
        return "a FIFO";
    if (S_ISSOCK(mode))
        return "a socket";
    return "not a regular file";
}

int fkcli_config_read(const char *path, fkcli_config_cb cb, void *user, char *err, size_t errsize)
{
    /* O_NONBLOCK: opening a FIFO must not wait for a writer */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0)
        return refuse(err, errsize, "%s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return refuse(err, errsize, "%s: %s", path, strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return refuse(err, errsize, "%s: %s, not a config file (a regular file is needed)", path,
                      file_kind(st.st_mode));
    }
    /* Read at most one byte past the limit, whatever st_size says (files
     * under /proc report 0). */
    char *text = malloc(FKCLI_CONFIG_FILE_MAX + 1);
    if (!text) {
        close(fd);
        return refuse(err, errsize, "%s: out of memory", path);
    }
    size_t len = 0;
    while (len <= FKCLI_CONFIG_FILE_MAX) {
        ssize_t n = read(fd, text + len, FKCLI_CONFIG_FILE_MAX + 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int e = errno;
            free(text);
            close(fd);
            return refuse(err, errsize, "%s: %s", path, strerror(e));
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    close(fd);
    int rc;
    if (len > FKCLI_CONFIG_FILE_MAX)
        rc = refuse(err, errsize, "%s: larger than %d bytes, not a config file", path,
                    FKCLI_CONFIG_FILE_MAX);
    else
        rc = (fkcli_config_is_yaml(path, text, len) ? fkcli_config_parse_yaml : fkcli_config_parse)(
            path, text, len, cb, user, err, errsize);
    free(text);
    return rc;
}
