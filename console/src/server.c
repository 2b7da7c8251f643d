/* The console server's handle (see server.h): the listening address, the
 * bearer token and /senders keys read at start, libmicrohttpd started and
 * stopped, and what handlers read of the server. Requests go through
 * route.c. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server_int.h"

bool fkc_server_collector_stats(fkc_server *srv, fk_collector_stats *out)
{
    pthread_mutex_lock(&srv->lock);
    bool have = srv->have_cstats;
    *out = srv->cstats;
    pthread_mutex_unlock(&srv->lock);
    return have;
}

void fkc_server_set_collector_stats(fkc_server *s, const fk_collector_stats *st)
{
    pthread_mutex_lock(&s->lock);
    s->cstats = *st;
    s->have_cstats = true;
    pthread_mutex_unlock(&s->lock);
}

double fkc_server_uptime(const fkc_server *srv)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - srv->started.tv_sec) +
           (double)(now.tv_nsec - srv->started.tv_nsec) / 1e9;
}

void fkc_server_set_prefixstats(fkc_server *s, fk_prefixstats *ps)
{
    atomic_store(&s->prefixstats, ps);
}

size_t fkc_server_max_records(const fkc_server *srv)
{
    return srv->cfg.max_records;
}

/* ---- start and stop ----------------------------------------------------- */

static int parse_listen(const char *text, struct sockaddr_storage *ss, bool *loopback)
{
    memset(ss, 0, sizeof *ss);
    char host[64] = "127.0.0.1";
    const char *port = text;
    const char *colon = strrchr(text, ':');
    if (text[0] == '[') {
        const char *close = strchr(text, ']');
        if (!close || close[1] != ':' || (size_t)(close - text - 1) >= sizeof host)
            return -1;
        memcpy(host, text + 1, (size_t)(close - text - 1));
        host[close - text - 1] = '\0';
        port = close + 2;
    } else if (colon) {
        if ((size_t)(colon - text) >= sizeof host || colon == text)
            return -1;
        memcpy(host, text, (size_t)(colon - text));
        host[colon - text] = '\0';
        port = colon + 1;
    }
    char *end;
    errno = 0;
    long p = strtol(port, &end, 10);
    if (!*port || *end || errno || p < 0 || p > 65535)
        return -1;
    struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)p);
        *loopback = (ntohl(a4->sin_addr.s_addr) >> 24) == 127;
        return 0;
    }
    if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)p);
        *loopback = IN6_IS_ADDR_LOOPBACK(&a6->sin6_addr);
        return 0;
    }
    return -1;
}

static char *read_token(const char *path, char *err, size_t errsize)
{
    FILE *f = fopen(path, "re");
    if (!f) {
        snprintf(err, errsize, "--http-token-file %s: %s", path, strerror(errno));
        return NULL;
    }
    char line[512];
    char *tok = NULL;
    if (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (strlen(line) >= 16)
            tok = strdup(line);
    }
    fclose(f);
    if (!tok)
        snprintf(err, errsize,
                 "--http-token-file %s: the first line must hold a token of 16 to "
                 "510 characters",
                 path);
    return tok;
}

/* The /senders keys: lines "auth = KEY" and "sign = KEY" (16 to 255
 * characters each), blank lines and # comments. */
static int read_keys(fkc_server *s, const char *path, char *err, size_t errsize)
{
    FILE *f = fopen(path, "re");
    if (!f) {
        snprintf(err, errsize, "--senders-keys %s: %s", path, strerror(errno));
        return -1;
    }
    char line[512];
    int line_no = 0, rc = 0;
    while (rc == 0 && fgets(line, sizeof line, f)) {
        line_no++;
        line[strcspn(line, "\r\n")] = '\0';
        char *p = line + strspn(line, " \t");
        if (!*p || *p == '#')
            continue;
        char name[8], value[256];
        if (sscanf(p, "%7[a-z] = %255s", name, value) != 2 ||
            (strcmp(name, "auth") && strcmp(name, "sign")) || strlen(value) < 16) {
            snprintf(err, errsize,
                     "--senders-keys %s:%d: expected \"auth = KEY\" or \"sign = KEY\" (16 to 255 "
                     "characters)",
                     path, line_no);
            rc = -1;
            break;
        }
        char **slot = strcmp(name, "auth") == 0 ? &s->auth_key : &s->sign_key;
        free(*slot);
        if (!(*slot = strdup(value))) {
            snprintf(err, errsize, "out of memory");
            rc = -1;
        }
    }
    fclose(f);
    if (rc == 0 && (!s->auth_key || !s->sign_key)) {
        snprintf(err, errsize, "--senders-keys %s: needs both an auth and a sign line", path);
        rc = -1;
    }
    return rc;
}

int fkc_server_start(fkc_server **out, const fkc_server_config *cfg, fk_store *store, char *err,
                     size_t errsize)
{
    *out = NULL;
    struct sockaddr_storage ss;
    bool loopback = false;
    if (parse_listen(cfg->listen, &ss, &loopback) != 0) {
        snprintf(err, errsize, "--http %s: expected PORT, ADDR:PORT or [ADDR6]:PORT", cfg->listen);
        return -1;
    }
    if (!loopback && !cfg->token_file) {
        snprintf(err, errsize, "--http %s is not a loopback address: --http-token-file is required",
                 cfg->listen);
        return -1;
    }
    fkc_server *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errsize, "out of memory");
        return -1;
    }
    s->store = store;
    s->cfg = *cfg;
    clock_gettime(CLOCK_MONOTONIC, &s->started);
    pthread_mutex_init(&s->lock, NULL);
    if (cfg->token_file && !(s->token = read_token(cfg->token_file, err, errsize))) {
        fkc_server_stop(s);
        return -1;
    }
    if (cfg->senders_keys_file && read_keys(s, cfg->senders_keys_file, err, errsize) != 0) {
        fkc_server_stop(s);
        return -1;
    }
    if (cfg->history_uri && fkc_history_create(&s->history, cfg->history_uri, err, errsize) != 0) {
        fkc_server_stop(s);
        return -1;
    }
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
                     MHD_USE_POLL | (ss.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0);
    s->mhd =
        MHD_start_daemon(flags, 0, NULL, NULL, fkc_on_access, s, MHD_OPTION_SOCK_ADDR, &ss,
                         MHD_OPTION_CONNECTION_LIMIT, cfg->max_conns, MHD_OPTION_CONNECTION_TIMEOUT,
                         30u, MHD_OPTION_NOTIFY_COMPLETED, fkc_on_completed, s, MHD_OPTION_END);
    if (!s->mhd) {
        snprintf(err, errsize, "--http %s: cannot listen (address in use or not available)",
                 cfg->listen);
        fkc_server_stop(s);
        return -1;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->mhd, MHD_DAEMON_INFO_BIND_PORT);
    char host[INET6_ADDRSTRLEN];
    if (ss.ss_family == AF_INET) {
        inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, host, sizeof host);
        snprintf(s->url, sizeof s->url, "http://%s:%u/", host, info ? info->port : 0);
    } else {
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, host, sizeof host);
        snprintf(s->url, sizeof s->url, "http://[%s]:%u/", host, info ? info->port : 0);
    }
    *out = s;
    return 0;
}

const char *fkc_server_url(const fkc_server *s)
{
    return s->url;
}

void fkc_server_stop(fkc_server *s)
{
    if (!s)
        return;
    atomic_store(&s->stopping, true);
    if (s->mhd)
        MHD_stop_daemon(s->mhd);
    pthread_mutex_destroy(&s->lock);
    free(s->token);
    free(s->auth_key);
    free(s->sign_key);
    fkc_history_destroy(s->history);
    free(s);
}
