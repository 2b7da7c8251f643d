/* IPFIX over TCP (RFC 7011 10.4): messages follow each other on the stream;
 * the 16-byte header's length field (offset 2) says where the next begins.
 * Reads cut messages anywhere, so bytes are kept until a message is whole. */
#include <string.h>

#include "collector/internal.h"
#include "core/alloc.h"
#include "core/error.h"

#define IPFIX_HDR 16

static int check_header(const uint8_t *p, size_t *mlen)
{
    uint16_t version = (uint16_t)(p[0] << 8 | p[1]);
    uint16_t len = (uint16_t)(p[2] << 8 | p[3]);
    if (version != 10)
        return fk__error(FK_EMALFORMED, "tcp: message version %u, expected 10 (IPFIX)", version);
    if (len < IPFIX_HDR)
        return fk__error(FK_EMALFORMED, "tcp: message length %u shorter than the header", len);
    *mlen = len;
    return FK_OK;
}

int fk__col_stream_push(fk__col_stream *st, const uint8_t *data, size_t len, fk__col_msg_fn fn,
                        void *user)
{
    size_t off = 0;
    /* Fast path: nothing buffered, so whole messages are handed over in place. */
    while (st->len == 0 && len - off >= 4) {
        size_t mlen = 0;
        int rc = check_header(data + off, &mlen);
        if (rc)
            return rc;
        if (len - off < mlen)
            break;
        rc = fn(user, data + off, mlen);
        if (rc < 0)
            return rc;
        off += mlen;
    }
    if (off == len)
        return FK_OK;
    /* Keep the rest; a message is at most 65535 bytes, so the buffer is too. */
    size_t need = st->len + (len - off);
    if (need > st->cap) {
        size_t cap = st->cap ? st->cap : 4096;
        while (cap < need)
            cap *= 2;
        uint8_t *b = fk__realloc(st->buf, cap);
        if (!b)
            return fk__error(FK_ENOMEM, "tcp: out of memory for stream buffer");
        st->buf = b;
        st->cap = cap;
    }
    memcpy(st->buf + st->len, data + off, len - off);
    st->len = need;
    size_t pos = 0;
    while (st->len - pos >= 4) {
        size_t mlen = 0;
        int rc = check_header(st->buf + pos, &mlen);
        if (rc)
            return rc;
        if (st->len - pos < mlen)
            break;
        rc = fn(user, st->buf + pos, mlen);
        if (rc < 0)
            return rc;
        pos += mlen;
    }
    if (pos) {
        memmove(st->buf, st->buf + pos, st->len - pos);
        st->len -= pos;
    }
    return FK_OK;
}

void fk__col_stream_free(fk__col_stream *st)
{
    fk__free(st->buf);
    memset(st, 0, sizeof *st);
}
