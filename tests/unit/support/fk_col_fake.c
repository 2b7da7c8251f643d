/* Fake codec and message builders: see fk_col_fake.h. */
#include "fk_col_fake.h"
#include "core/bytes.h"

#include <stdlib.h>
#include <string.h>

#include <flowkit/flowkit.h>

#define FAKE_MAX_TEMPLATES 64

typedef struct fake_tmpl {
    uint16_t id;
    uint16_t reclen;
    int64_t defined_ns;
} fake_tmpl;

typedef struct fake_domain {
    fake_tmpl t[FAKE_MAX_TEMPLATES];
    size_t n;
} fake_domain;

static long live_domains;

long fk_col_fake_live_domains(void)
{
    return live_domains;
}

static int ctx_new(void **ctx, const fk__col_codec_cfg *cfg)
{
    (void)cfg;
    *ctx = NULL;
    return 0;
}

static void ctx_free(void *ctx)
{
    (void)ctx;
}

static int domain_new(void *ctx, void **state, uint64_t session, uint16_t version, uint32_t odid)
{
    (void)ctx;
    (void)session;
    (void)version;
    (void)odid;
    fake_domain *d = calloc(1, sizeof *d);
    if (!d)
        return FK_ENOMEM;
    live_domains++;
    *state = d;
    return 0;
}

static void domain_free(void *ctx, void *state)
{
    (void)ctx;
    if (state)
        live_domains--;
    free(state);
}

static fake_tmpl *find(fake_domain *d, uint16_t id)
{
    for (size_t i = 0; i < d->n; i++)
        if (d->t[i].id == id)
            return &d->t[i];
    return NULL;
}

static int templates(void *ctx, void *state, const fk__col_hdr *hdr, uint16_t set_id,
                     const uint8_t *body, size_t len, int64_t now_ns, size_t room,
                     fk__col_tmpl_fn fn, void *user)
{
    (void)ctx;
    (void)hdr;
    (void)set_id;
    fake_domain *d = state;
    if (len % 4)
        return FK_EMALFORMED;
    for (size_t off = 0; off < len; off += 4) {
        uint16_t id = fk__get16(body + off), reclen = fk__get16(body + off + 2);
        if (id < 256)
            return FK_EMALFORMED;
        fake_tmpl *t = find(d, id);
        if (reclen == 0) {
            if (t) {
                *t = d->t[--d->n];
                fn(user, id, FK__TMPL_WITHDRAWN);
            }
            continue;
        }
        if (t) {
            t->reclen = reclen;
            t->defined_ns = now_ns;
            fn(user, id, FK__TMPL_REPLACED);
            continue;
        }
        if (room == 0 || d->n == FAKE_MAX_TEMPLATES) {
            fn(user, id, FK__TMPL_REFUSED);
            continue;
        }
        room--;
        d->t[d->n++] = (fake_tmpl){id, reclen, now_ns};
        fn(user, id, FK__TMPL_ADDED);
    }
    return 0;
}

static int data(void *ctx, void *state, const fk__col_hdr *hdr, uint16_t set_id,
                const uint8_t *body, size_t len, fk__col_emit_fn emit, fk__col_ifname_fn ifname,
                void *user, uint32_t *records, uint32_t *options)
{
    (void)ctx;
    (void)hdr;
    (void)ifname;
    fake_domain *d = state;
    fake_tmpl *t = find(d, set_id);
    *records = 0;
    *options = 0;
    if (!t)
        return FK_ENOTEMPLATE;
    if (t->reclen < 4)
        return FK_EMALFORMED;
    for (size_t off = 0; off + t->reclen <= len; off += t->reclen) {
        fk_flow f;
        memset(&f, 0, sizeof f);
        f.bytes = fk__get32(body + off);
        f.packets = 1;
        f.proto = 17;
        if (t->reclen >= 8 && fk__get32(body + off + 4)) {
            f.sampling = fk__get32(body + off + 4);
            f.present |= FK_FLOW_HAS_SAMPLING;
        }
        emit(user, &f);
        (*records)++;
    }
    return 0;
}

static void expire(void *ctx, void *state, int64_t cutoff_ns, fk__col_tmpl_fn fn, void *user)
{
    (void)ctx;
    fake_domain *d = state;
    for (size_t i = 0; i < d->n;) {
        if (d->t[i].defined_ns < cutoff_ns) {
            uint16_t id = d->t[i].id;
            d->t[i] = d->t[--d->n];
            fn(user, id, FK__TMPL_WITHDRAWN);
        } else {
            i++;
        }
    }
}

static int fixed(void *ctx, const uint8_t *msg, size_t len, fk__col_emit_fn emit, void *user)
{
    (void)ctx;
    if (len < 24)
        return FK_ETRUNCATED;
    uint16_t count = fk__get16(msg + 2);
    if (len < 24 + (size_t)count * 48)
        return FK_ETRUNCATED;
    for (uint16_t i = 0; i < count; i++) {
        fk_flow f;
        memset(&f, 0, sizeof f);
        f.bytes = 100;
        f.packets = 1;
        emit(user, &f);
    }
    return count;
}

/* No systemInitTimeMilliseconds in the toy format: no sys_init / restart;
 * no pass-through (raw) and no record plans (direct). */
const fk__col_codec fk_col_fake_codec = {ctx_new,   ctx_free, domain_new, domain_free,
                                         templates, data,     expire,     fixed,
                                         NULL,      NULL,     NULL,       NULL};

/* ---- builders ----------------------------------------------------------- */

void fk_col_put16(fk_col_msg *m, uint16_t v)
{
    m->buf[m->len++] = (uint8_t)(v >> 8);
    m->buf[m->len++] = (uint8_t)v;
}

void fk_col_put32(fk_col_msg *m, uint32_t v)
{
    fk_col_put16(m, (uint16_t)(v >> 16));
    fk_col_put16(m, (uint16_t)v);
}

void fk_col_msg_ipfix(fk_col_msg *m, uint32_t odid, uint32_t seq)
{
    memset(m, 0, sizeof *m);
    m->version = 10;
    fk_col_put16(m, 10);
    fk_col_put16(m, 0);
    fk_col_put32(m, 1795435200u);
    fk_col_put32(m, seq);
    fk_col_put32(m, odid);
}

void fk_col_msg_v9(fk_col_msg *m, uint32_t source_id, uint32_t seq)
{
    memset(m, 0, sizeof *m);
    m->version = 9;
    fk_col_put16(m, 9);
    fk_col_put16(m, 0);
    fk_col_put32(m, 60000);
    fk_col_put32(m, 1795435200u);
    fk_col_put32(m, seq);
    fk_col_put32(m, source_id);
}

void fk_col_msg_v5(fk_col_msg *m, uint32_t flow_seq, uint16_t count, uint8_t engine_id)
{
    memset(m, 0, sizeof *m);
    m->version = 5;
    fk_col_put16(m, 5);
    fk_col_put16(m, count);
    fk_col_put32(m, 60000);
    fk_col_put32(m, 1795435200u);
    fk_col_put32(m, 0);
    fk_col_put32(m, flow_seq);
    m->buf[m->len++] = 0;
    m->buf[m->len++] = engine_id;
    fk_col_put16(m, 0);
    m->len += (size_t)count * 48;
}

void fk_col_set_begin(fk_col_msg *m, uint16_t set_id)
{
    m->set_start = m->len;
    fk_col_put16(m, set_id);
    fk_col_put16(m, 0);
}

void fk_col_set_end(fk_col_msg *m)
{
    size_t n = m->len - m->set_start;
    m->buf[m->set_start + 2] = (uint8_t)(n >> 8);
    m->buf[m->set_start + 3] = (uint8_t)n;
    m->set_start = 0;
}

void fk_col_add_template(fk_col_msg *m, uint16_t tid, uint16_t reclen)
{
    fk_col_set_begin(m, m->version == 10 ? 2 : 0);
    fk_col_put16(m, tid);
    fk_col_put16(m, reclen);
    fk_col_set_end(m);
}

void fk_col_add_data(fk_col_msg *m, uint16_t tid, uint16_t reclen, unsigned n, uint32_t bytes_each,
                     uint32_t sampling)
{
    fk_col_set_begin(m, tid);
    for (unsigned i = 0; i < n; i++) {
        size_t start = m->len;
        fk_col_put32(m, bytes_each);
        if (reclen >= 8)
            fk_col_put32(m, sampling);
        while (m->len - start < reclen)
            m->buf[m->len++] = 0;
    }
    fk_col_set_end(m);
}

void fk_col_msg_finish(fk_col_msg *m)
{
    if (m->version == 10) {
        m->buf[2] = (uint8_t)(m->len >> 8);
        m->buf[3] = (uint8_t)m->len;
    }
}
