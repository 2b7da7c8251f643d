/* Sending answers: JSON (or text) replies gzipped when it pays and the
 * client accepts it, error answers, and the status counters. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "server_int.h"

void fkc_reply_error(fkc_reply *rep, int status, const char *msg)
{
    fkc_buf_free(&rep->body);
    rep->status = status;
    rep->type = "application/json";
    fkc_buf_puts(&rep->body, "{\"error\":");
    fkc_buf_json_str(&rep->body, msg);
    fkc_buf_printf(&rep->body, ",\"status\":%d}", status);
}

void fkc_count_status(fkc_server *s, int status)
{
    atomic_fetch_add(&s->stats.requests, 1);
    atomic_ullong *c = status < 300   ? &s->stats.status_2xx
                       : status < 400 ? &s->stats.status_3xx
                       : status < 500 ? &s->stats.status_4xx
                                      : &s->stats.status_5xx;
    atomic_fetch_add(c, 1);
    if (status == 400)
        atomic_fetch_add(&s->stats.bad_requests, 1);
    else if (status == 401)
        atomic_fetch_add(&s->stats.unauthorized, 1);
    else if (status == 404)
        atomic_fetch_add(&s->stats.not_found, 1);
    else if (status == 413)
        atomic_fetch_add(&s->stats.too_large, 1);
}

static bool accepts_gzip(struct MHD_Connection *c)
{
    const char *v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Accept-Encoding");
    return v && strstr(v, "gzip") != NULL;
}

/* gzip text into a new buffer; NULL when it does not pay or fails. */
static char *gzip_text(const char *in, size_t len, size_t *out_len)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return NULL;
    uLong cap = deflateBound(&z, (uLong)len);
    char *out = malloc(cap);
    if (!out) {
        deflateEnd(&z);
        return NULL;
    }
    z.next_in = (Bytef *)(uintptr_t)in;
    z.avail_in = (uInt)len;
    z.next_out = (Bytef *)out;
    z.avail_out = (uInt)cap;
    int rc = deflate(&z, Z_FINISH);
    *out_len = z.total_out;
    deflateEnd(&z);
    if (rc != Z_STREAM_END || *out_len >= len) {
        free(out);
        return NULL;
    }
    return out;
}

enum MHD_Result fkc_send_reply(fkc_server *s, struct MHD_Connection *c, fkc_reply *rep)
{
    size_t len = 0;
    char *text = fkc_buf_take(&rep->body, &len);
    if (!text) {
        rep->status = 503;
        text = strdup("{\"error\":\"out of memory\",\"status\":503}");
        len = text ? strlen(text) : 0;
        if (!text)
            return MHD_NO;
    }
    const char *encoding = NULL;
    if (len > 1024 && accepts_gzip(c)) {
        size_t zlen;
        char *z = gzip_text(text, len, &zlen);
        if (z) {
            free(text);
            text = z;
            len = zlen;
            encoding = "gzip";
        }
    }
    struct MHD_Response *r = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(text);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", rep->type ? rep->type : "application/json");
    MHD_add_response_header(r, "Cache-Control", "no-store");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    if (encoding)
        MHD_add_response_header(r, "Content-Encoding", encoding);
    if (rep->status == 401)
        MHD_add_response_header(r, "WWW-Authenticate", "Bearer realm=\"flowkit\"");
    fkc_count_status(s, rep->status);
    enum MHD_Result ret = MHD_queue_response(c, (unsigned)rep->status, r);
    MHD_destroy_response(r);
    return ret;
}

enum MHD_Result fkc_send_error(fkc_server *s, struct MHD_Connection *c, int status, const char *msg)
{
    fkc_reply rep = {0, NULL, {0}};
    fkc_reply_error(&rep, status, msg);
    return fkc_send_reply(s, c, &rep);
}
