/* cli/common: the untrusted half of a small HTTP/1.1 client (the IMDS
 * provider's, fkimds.h): a response's status line, headers and body
 * (Content-Length, chunked, or up to the end of the connection), and one
 * string member of a flat JSON object. libc only; no allocation. Fuzzed by
 * tests/fuzz/fuzz_http_response.c. */
#ifndef FKHTTP_H
#define FKHTTP_H

#include <stdbool.h>
#include <stddef.h>

/* fkhttp_response_parse() results. */
enum { FKHTTP_BAD = -1, FKHTTP_MORE = 0, FKHTTP_DONE = 1 };

/* Most header lines a response may have. */
#define FKHTTP_MAX_HEADERS 64

typedef struct fkhttp_response {
    int status;       /* 200..599 (interim 1xx responses are refused) */
    size_t head_len;  /* status line and headers, blank line included */
    const char *body; /* into the buffer given to fkhttp_response_parse() */
    size_t body_len;
} fkhttp_response;

/* Parse the response in buf[0..len). eof: the peer closed the connection,
 * so a body without a length ends at len. Returns FKHTTP_DONE (out filled;
 * a chunked body is decoded in place, so buf is changed), FKHTTP_MORE
 * (read more and call again with the whole buffer) or FKHTTP_BAD (*why
 * says what is wrong: a static string). A response to a HEAD request is
 * not supported (the client sends none). */
int fkhttp_response_parse(char *buf, size_t len, bool eof, fkhttp_response *out, const char **why);

/* The string member `key` of the JSON object in json[0..len) (top level
 * only; other members of any type are skipped) into out (size bytes, NUL
 * ended). Returns its length; -1 when the text is not a JSON object, the
 * key is missing or not a string, the value holds an escape or a control
 * character, or it does not fit. */
int fkhttp_json_get_string(const char *json, size_t len, const char *key, char *out, size_t size);

#endif
