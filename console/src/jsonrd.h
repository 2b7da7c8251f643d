/* A strict reader of small JSON request bodies (untrusted): objects,
 * arrays, plain strings without escapes (addresses, names and dates need
 * none) and small unsigned numbers. Every read checks the end first; a
 * failure writes "what at byte N" into the caller's message buffer. Used by
 * the /senders and /stats body parsers. */
#ifndef FKC_JSONRD_H
#define FKC_JSONRD_H

#include <stdbool.h>
#include <stddef.h>

typedef struct fkc_rd {
    const char *p, *end, *start;
    char *err;
    size_t errsize;
} fkc_rd;

/* Start reading body[0..len); err receives messages. */
void fkc_rd_init(fkc_rd *r, const char *body, size_t len, char *err, size_t errsize);
/* Write "what at byte N" into err; returns -1. */
int fkc_rd_fail(fkc_rd *r, const char *what);
/* Skip blanks (space, tab, CR, LF). */
void fkc_rd_ws(fkc_rd *r);
/* After blanks, take c if it is next. */
bool fkc_rd_eat(fkc_rd *r, char c);
/* A string of printable ASCII without escapes into out (NUL-terminated,
 * at most size - 1 characters); -1 on anything else. */
int fkc_rd_str(fkc_rd *r, char *out, size_t size);
/* An unsigned decimal of at most `digits` digits, not above max. */
int fkc_rd_uint(fkc_rd *r, unsigned max, unsigned digits, unsigned *out);
/* Only blanks are left. */
bool fkc_rd_at_end(fkc_rd *r);

#endif
