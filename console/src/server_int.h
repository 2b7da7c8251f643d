/* Internal to the console server: the server handle and what its files
 * share. server.c starts and stops it (listen address, token, keys);
 * route.c routes a request (table, authorization, limits) to a handler;
 * reply.c sends answers (gzip, counted statuses); static.c serves the
 * pages; feed.c the live feed (Server-Sent Events). */
#ifndef FKC_SERVER_INT_H
#define FKC_SERVER_INT_H

#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <time.h>

#include "http.h"
#include "server.h"

struct fkc_server {
    struct MHD_Daemon *mhd;
    fk_store *store;
    fkc_server_config cfg;
    char *token;                           /* NULL: no authentication */
    char *auth_key, *sign_key;             /* /senders signing keys; NULL: /senders off */
    _Atomic(fk_prefixstats *) prefixstats; /* POST /stats; NULL: off */
    char url[96];
    fkc_http_stats stats;
    atomic_bool stopping;
    pthread_mutex_t lock; /* guards cstats */
    fk_collector_stats cstats;
    bool have_cstats;
    struct timespec started;
    fkc_history *history; /* NULL: no ClickHouse history */
};

/* reply.c: send rep (gzipped when it pays and the client accepts it),
 * counting its status; an error answer {"error": msg}. */
enum MHD_Result fkc_send_reply(fkc_server *s, struct MHD_Connection *c, fkc_reply *rep);
enum MHD_Result fkc_send_error(fkc_server *s, struct MHD_Connection *c, int status,
                               const char *msg);
/* Count a status in the server's counters (for answers sent elsewhere). */
void fkc_count_status(fkc_server *s, int status);
/* static.c: the file rel under dir, or 404. */
enum MHD_Result fkc_send_file(fkc_server *s, struct MHD_Connection *c, const char *dir,
                              const char *rel);
/* feed.c: start a live feed (text/event-stream) on c. */
enum MHD_Result fkc_start_feed(fkc_server *s, struct MHD_Connection *c);
/* route.c: libmicrohttpd's access and completion callbacks (cls = the server). */
enum MHD_Result fkc_on_access(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **con_cls);
void fkc_on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                      enum MHD_RequestTerminationCode toe);

#endif
