/* HTTP/1.1 responses and one JSON string member, from untrusted bytes
 * (see fkhttp.h). Every length is checked before it is read. */
#include "fkhttp.h"

#include <stdint.h>
#include <string.h>
#include <strings.h>

/* Largest Content-Length or chunk size taken: far above what a metadata
 * service sends, far below any overflow. */
#define BODY_MAX ((size_t)1 << 30)

static int bad(const char **why, const char *what)
{
    if (why)
        *why = what;
    return FKHTTP_BAD;
}

/* The end of the line starting at p (the index of its '\n'), or -1. */
static long line_end(const char *buf, size_t p, size_t len)
{
    const char *nl = memchr(buf + p, '\n', len - p);
    return nl ? (long)(nl - buf) : -1;
}

/* Length of a line without its CR LF (or bare LF). */
static size_t line_len(const char *buf, size_t p, size_t nl)
{
    size_t n = nl - p;
    return n > 0 && buf[nl - 1] == '\r' ? n - 1 : n;
}

static bool is_token_char(unsigned char c)
{
    return c > 32 && c < 127 && !strchr("()<>@,;:\\\"/[]?={}", c);
}

static bool parse_status(const char *s, size_t n, int *status)
{
    /* HTTP/1.x SP 3DIGIT [SP reason] */
    if (n < 12 || memcmp(s, "HTTP/1.", 7) != 0 || (s[7] != '0' && s[7] != '1') || s[8] != ' ')
        return false;
    for (int i = 9; i < 12; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    if (n > 12 && s[12] != ' ')
        return false;
    for (size_t i = 12; i < n; i++)
        if ((unsigned char)s[i] < 32 && s[i] != '\t')
            return false;
    *status = (s[9] - '0') * 100 + (s[10] - '0') * 10 + (s[11] - '0');
    return *status >= 100;
}

/* Decimal digits only, at most BODY_MAX. */
static bool parse_length(const char *s, size_t n, size_t *out)
{
    size_t v = 0;
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (size_t)(s[i] - '0');
        if (v > BODY_MAX)
            return false;
    }
    *out = v;
    return true;
}

/* A chunk-size line: hex digits, optional extensions after ';'. */
static bool parse_chunk_size(const char *s, size_t n, size_t *out)
{
    size_t v = 0, i = 0;
    for (; i < n; i++) {
        char c = s[i];
        int d = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : -1;
        if (d < 0)
            break;
        v = v * 16 + (size_t)d;
        if (v > BODY_MAX)
            return false;
    }
    if (i == 0)
        return false;
    while (i < n && (s[i] == ' ' || s[i] == '\t'))
        i++;
    if (i < n && s[i] != ';')
        return false;
    *out = v;
    return true;
}

/* Walk the chunked body at buf[p..len). compact: move the data down to p
 * (only once the walk said DONE). Sets *body_len. */
static int walk_chunks(char *buf, size_t p, size_t len, bool compact, size_t *body_len,
                       const char **why)
{
    size_t out = p, total = 0;
    for (;;) {
        long nl = line_end(buf, p, len);
        if (nl < 0)
            return len - p > 1024 ? bad(why, "chunk size line too long") : FKHTTP_MORE;
        size_t size;
        if (!parse_chunk_size(buf + p, line_len(buf, p, (size_t)nl), &size))
            return bad(why, "bad chunk size");
        p = (size_t)nl + 1;
        if (size == 0)
            break;
        if (total + size > BODY_MAX)
            return bad(why, "chunked body too large");
        if (len - p < size + 1)
            return FKHTTP_MORE;
        if (compact)
            memmove(buf + out, buf + p, size);
        out += size;
        total += size;
        p += size;
        /* CRLF (or LF) after the data */
        if (buf[p] == '\r') {
            if (len - p < 2)
                return FKHTTP_MORE;
            p++;
        }
        if (buf[p] != '\n')
            return bad(why, "chunk data not followed by CRLF");
        p++;
    }
    /* trailer fields, then an empty line */
    for (size_t n = 0;; n++) {
        long nl = line_end(buf, p, len);
        if (nl < 0)
            return len - p > 1024 ? bad(why, "trailer line too long") : FKHTTP_MORE;
        if (n > FKHTTP_MAX_HEADERS)
            return bad(why, "too many trailer fields");
        size_t l = line_len(buf, p, (size_t)nl);
        p = (size_t)nl + 1;
        if (l == 0)
            break;
    }
    *body_len = total;
    return FKHTTP_DONE;
}

int fkhttp_response_parse(char *buf, size_t len, bool eof, fkhttp_response *out, const char **why)
{
    memset(out, 0, sizeof *out);
    long nl = line_end(buf, 0, len);
    if (nl < 0)
        return eof ? bad(why, "no status line") : FKHTTP_MORE;
    if (!parse_status(buf, line_len(buf, 0, (size_t)nl), &out->status))
        return bad(why, "bad status line");
    if (out->status < 200)
        return bad(why, "interim (1xx) response");
    size_t p = (size_t)nl + 1, length = 0;
    bool have_length = false, chunked = false;
    for (size_t n = 0;; n++) {
        nl = line_end(buf, p, len);
        if (nl < 0)
            return eof ? bad(why, "headers cut short") : FKHTTP_MORE;
        size_t l = line_len(buf, p, (size_t)nl);
        const char *s = buf + p;
        p = (size_t)nl + 1;
        if (l == 0)
            break;
        if (n >= FKHTTP_MAX_HEADERS)
            return bad(why, "too many header fields");
        size_t name = 0;
        while (name < l && is_token_char((unsigned char)s[name]))
            name++;
        if (name == 0 || name == l || s[name] != ':')
            return bad(why, "bad header field");
        size_t v = name + 1, e = l;
        for (size_t i = v; i < l; i++)
            if (((unsigned char)s[i] < 32 && s[i] != '\t') || s[i] == 127)
                return bad(why, "control character in a header value");
        while (v < e && (s[v] == ' ' || s[v] == '\t'))
            v++;
        while (e > v && (s[e - 1] == ' ' || s[e - 1] == '\t'))
            e--;
        if (name == 14 && strncasecmp(s, "Content-Length", 14) == 0) {
            size_t cl;
            if (!parse_length(s + v, e - v, &cl))
                return bad(why, "bad Content-Length");
            if (have_length && cl != length)
                return bad(why, "two different Content-Length fields");
            length = cl;
            have_length = true;
        } else if (name == 17 && strncasecmp(s, "Transfer-Encoding", 17) == 0) {
            if (e - v != 7 || strncasecmp(s + v, "chunked", 7) != 0)
                return bad(why, "transfer coding other than chunked");
            chunked = true;
        }
    }
    if (chunked && have_length)
        return bad(why, "both Content-Length and chunked");
    out->head_len = p;
    bool no_body = out->status == 204 || out->status == 304;
    if (no_body) {
        out->body = buf + p;
        return FKHTTP_DONE;
    }
    if (chunked) {
        size_t body_len = 0;
        int rc = walk_chunks(buf, p, len, false, &body_len, why);
        if (rc == FKHTTP_MORE && eof)
            return bad(why, "chunked body cut short");
        if (rc != FKHTTP_DONE)
            return rc;
        walk_chunks(buf, p, len, true, &body_len, why);
        out->body = buf + p;
        out->body_len = body_len;
        return FKHTTP_DONE;
    }
    if (have_length) {
        if (len - p < length)
            return eof ? bad(why, "body shorter than Content-Length") : FKHTTP_MORE;
        out->body = buf + p;
        out->body_len = length;
        return FKHTTP_DONE;
    }
    if (!eof)
        return FKHTTP_MORE; /* the body ends with the connection */
    out->body = buf + p;
    out->body_len = len - p;
    return FKHTTP_DONE;
}

/* A small JSON walker over json[0..len): enough to skip any value and to
 * read a string without escapes. */
typedef struct walker {
    const char *s;
    size_t n, p;
} walker;

static void ws(walker *w)
{
    while (w->p < w->n && strchr(" \t\r\n", w->s[w->p]) && w->s[w->p])
        w->p++;
}

/* A string at w->p: sets [*start, *end) to its raw contents and *escaped
 * when it holds a backslash. */
static bool string_at(walker *w, size_t *start, size_t *end, bool *escaped)
{
    if (w->p >= w->n || w->s[w->p] != '"')
        return false;
    *escaped = false;
    *start = ++w->p;
    while (w->p < w->n) {
        unsigned char c = (unsigned char)w->s[w->p];
        if (c == '"') {
            *end = w->p++;
            return true;
        }
        if (c < 32)
            return false;
        if (c == '\\') {
            *escaped = true;
            if (++w->p >= w->n)
                return false;
        }
        w->p++;
    }
    return false;
}

static bool skip_value(walker *w, int depth)
{
    ws(w);
    if (w->p >= w->n || depth > 32)
        return false;
    char c = w->s[w->p];
    size_t a, b;
    bool esc;
    if (c == '"')
        return string_at(w, &a, &b, &esc);
    if (c == '{' || c == '[') {
        char close = c == '{' ? '}' : ']';
        w->p++;
        ws(w);
        if (w->p < w->n && w->s[w->p] == close) {
            w->p++;
            return true;
        }
        for (;;) {
            if (c == '{') {
                ws(w);
                if (!string_at(w, &a, &b, &esc))
                    return false;
                ws(w);
                if (w->p >= w->n || w->s[w->p] != ':')
                    return false;
                w->p++;
            }
            if (!skip_value(w, depth + 1))
                return false;
            ws(w);
            if (w->p >= w->n)
                return false;
            if (w->s[w->p] == close) {
                w->p++;
                return true;
            }
            if (w->s[w->p] != ',')
                return false;
            w->p++;
        }
    }
    /* number, true, false, null: the characters they may hold */
    size_t start = w->p;
    while (w->p < w->n && w->s[w->p] && strchr("0123456789+-.eEtrufalsn", w->s[w->p]))
        w->p++;
    return w->p > start;
}

int fkhttp_json_get_string(const char *json, size_t len, const char *key, char *out, size_t size)
{
    walker w = {json, len, 0};
    size_t klen = strlen(key);
    ws(&w);
    if (w.p >= w.n || json[w.p] != '{')
        return -1;
    w.p++;
    ws(&w);
    if (w.p < w.n && json[w.p] == '}')
        return -1;
    for (;;) {
        size_t ks, ke, vs, ve;
        bool kesc, vesc;
        ws(&w);
        if (!string_at(&w, &ks, &ke, &kesc))
            return -1;
        ws(&w);
        if (w.p >= w.n || json[w.p] != ':')
            return -1;
        w.p++;
        ws(&w);
        bool match = !kesc && ke - ks == klen && memcmp(json + ks, key, klen) == 0;
        if (match) {
            if (!string_at(&w, &vs, &ve, &vesc) || vesc || ve - vs >= size)
                return -1;
            memcpy(out, json + vs, ve - vs);
            out[ve - vs] = '\0';
            return (int)(ve - vs);
        }
        if (!skip_value(&w, 0))
            return -1;
        ws(&w);
        if (w.p >= w.n || json[w.p] != ',')
            return -1; /* the end of the object (or garbage): key not found */
        w.p++;
    }
}
