/* Exporter sessions: one per (exporter address, port, transport), with one
 * domain per (version, observation domain / source id) holding the codec's
 * template state and the sequence tracking, plus the session's FIFO of
 * data sets that arrived before their template (session_pending.c). No
 * sockets here. */
#include <stdlib.h>
#include <string.h>

#include "collector/internal.h"
#include "collector/session_int.h"
#include "core/alloc.h"
#include "core/error.h"
#include "core/hmap.h"
#include "core/log.h"
#include "core/bytes.h"

#define MAX_DOMAINS 256

/* The sessions map's key: a peer without padding bytes. */
typedef struct peer_key {
    uint8_t addr[16];
    uint32_t conn_id;
    uint16_t port;
    uint8_t transport;
    uint8_t family;
} peer_key;

static peer_key key_of(const fk__col_peer *p)
{
    peer_key k;
    memcpy(k.addr, p->addr.bytes, 16);
    k.conn_id = p->conn_id;
    k.port = p->port;
    k.transport = p->transport;
    k.family = (uint8_t)p->addr.family;
    return k;
}

int fk__col_sessions_create(fk__col_sessions **out, const fk__col_codec *codec,
                            const fk__col_limits *limits, fk_collector_stats *stats,
                            fk__col_deliver_fn deliver, void *user)
{
    fk__col_sessions *s = FK__NEW(fk__col_sessions);
    if (!s)
        return fk__error(FK_ENOMEM, "collector: out of memory for sessions");
    fk__hmap_init(&s->by_peer, sizeof(peer_key), sizeof(session *));
    s->codec = codec;
    fk__col_codec_cfg cfg = {limits->max_templates, limits->pen, limits->direct_decode, stats,
                             limits->flowbuf};
    if (codec->ctx_new(&s->codec_ctx, &cfg) != FK_OK) {
        fk__free(s);
        return fk_error_last()->code ? fk_error_last()->code : FK_ENOMEM;
    }
    s->lim = *limits;
    s->stats = stats;
    s->deliver = deliver;
    s->user = user;
    *out = s;
    return FK_OK;
}

static void session_free(fk__col_sessions *s, session *ss, bool count)
{
    if (s->last == ss)
        s->last = NULL;
    for (size_t i = 0; i < ss->ndomains; i++) {
        if (ss->domains[i].codec_state)
            s->codec->domain_free(s->codec_ctx, ss->domains[i].codec_state);
        if (count && s->domain_gone)
            s->domain_gone(s->user, ss->id, ss->domains[i].odid);
        s->stats->interface_names -= ss->domains[i].nifs;
        fk__free(ss->domains[i].ifs);
    }
    if (count)
        s->stats->templates_withdrawn += ss->templates;
    if (count)
        fk__col_pending_drop_all(s, ss);
    else
        while (ss->pend_head) {
            pending *p = ss->pend_head;
            ss->pend_head = p->next;
            fk__free(p);
        }
    fk__free(ss->domains);
    fk__free(ss);
}

void fk__col_sessions_destroy(fk__col_sessions *s)
{
    if (!s)
        return;
    size_t pos = 0;
    void *val;
    while (fk__hmap_next(&s->by_peer, &pos, NULL, &val))
        session_free(s, *(session **)val, false);
    fk__hmap_free(&s->by_peer);
    s->codec->ctx_free(s->codec_ctx);
    fk__free(s);
}

static session *session_find(const fk__col_sessions *s, const fk__col_peer *peer)
{
    const session *l = s->last;
    if (l && l->peer.port == peer->port && l->peer.conn_id == peer->conn_id &&
        l->peer.transport == peer->transport && l->peer.addr.family == peer->addr.family &&
        memcmp(l->peer.addr.bytes, peer->addr.bytes, 16) == 0)
        return s->last;
    peer_key k = key_of(peer);
    session **v = fk__hmap_get(&s->by_peer, &k);
    return v ? *v : NULL;
}

/* NULL when out of memory or at max_sessions (counted). */
static session *session_get(fk__col_sessions *s, const fk__col_peer *peer)
{
    session *ss = session_find(s, peer);
    if (ss)
        return ss;
    if (s->by_peer.count >= s->lim.max_sessions) {
        s->stats->exporter_limit++;
        return NULL;
    }
    ss = FK__NEW(session);
    if (!ss)
        return NULL;
    ss->peer = *peer;
    peer_key k = key_of(peer);
    if (fk__hmap_put(&s->by_peer, &k, &ss, NULL) < 0) {
        fk__free(ss);
        return NULL;
    }
    ss->id = ++s->next_id;
    s->stats->sessions = s->by_peer.count;
    return ss;
}

static void session_unlink(fk__col_sessions *s, session *ss)
{
    peer_key k = key_of(&ss->peer);
    fk__hmap_del(&s->by_peer, &k);
    s->stats->sessions = s->by_peer.count;
}

/* NULL when out of memory or at MAX_DOMAINS (counted). */
static domain *domain_get(fk__col_sessions *s, session *ss, uint16_t version, uint32_t odid)
{
    for (size_t i = 0; i < ss->ndomains; i++)
        if (ss->domains[i].version == version && ss->domains[i].odid == odid)
            return &ss->domains[i];
    if (ss->ndomains >= MAX_DOMAINS) {
        s->stats->exporter_limit++;
        return NULL;
    }
    domain *nd = fk__reallocarray(ss->domains, ss->ndomains + 1, sizeof *nd);
    if (!nd)
        return NULL;
    ss->domains = nd;
    domain *d = &nd[ss->ndomains];
    memset(d, 0, sizeof *d);
    d->version = version;
    d->odid = odid;
    if (version == 9 || version == 10) {
        if (s->codec->domain_new(s->codec_ctx, &d->codec_state, ss->id, version, odid) != FK_OK)
            return NULL;
    }
    ss->ndomains++;
    return d;
}

void fk__col_emit_cb(void *user, fk_flow *f)
{
    msg_ctx *c = user;
    const domain *d = c->d;
    if (d->nifs && (f->present & FK_FLOW_HAS_IFACES)) {
        f->in_if_name = fk__col_ifname_find(d, f->in_if);
        f->out_if_name = fk__col_ifname_find(d, f->out_if);
        if (c->s->lim.flowbuf && (f->in_if_name || f->out_if_name))
            c->s->lim.flowbuf->ends = true; /* they point into d */
    }
    /* Export-time sanity: a record cannot end after it was exported (the
     * header has whole seconds: one more is allowed). */
    if (c->export_ns && f->end_ns > c->export_ns + c->s->lim.export_tolerance_ns + 1000000000LL)
        c->s->stats->records_after_export++;
    if (!(f->present & FK__FLOW_OWN_EXPORTER))
        f->exporter = c->ss->peer.addr;
    if (!(f->present & FK__FLOW_OWN_ODID))
        f->odid = c->d->odid;
    f->present &= ~(FK__FLOW_OWN_EXPORTER | FK__FLOW_OWN_ODID);
    f->version = c->d->version;
    f->present |= FK_FLOW_HAS_EXPORTER;
    c->records++;
    c->d->records++;
    c->s->deliver(c->s->user, f);
}

void fk__col_tmpl_cb(void *user, uint16_t tid, int what)
{
    msg_ctx *c = user;
    fk_collector_stats *st = c->s->stats;
    (void)tid;
    switch (what) {
    case FK__TMPL_ADDED:
        c->ss->templates++;
        st->templates++;
        c->retry = true;
        break;
    case FK__TMPL_REPLACED:
        st->templates++;
        c->retry = true;
        break;
    case FK__TMPL_WITHDRAWN:
        if (c->ss->templates)
            c->ss->templates--;
        st->templates_withdrawn++;
        break;
    case FK__TMPL_REFUSED:
        st->template_limit++;
        break;
    }
}

/* The record-plan offer (s->direct): true when the set was written
 * straight from its records; its records then count as fk__col_emit_cb counts
 * them. Domains with interface names are decoded (fk__col_emit_cb names the
 * interfaces of each flow). */
static bool direct_set(msg_ctx *c, const fk__col_hdr *hdr, uint16_t sid, const uint8_t *body,
                       size_t blen)
{
    fk__col_sessions *s = c->s;
    if (!s->direct || hdr->version != 10 || !s->codec->direct)
        return false;
    fk__col_direct dd;
    if (s->codec->direct(s->codec_ctx, c->d->codec_state, hdr, sid, body, blen, &dd) != FK_OK) {
        if (dd.uncompiled)
            s->stats->templates_uncompiled++;
        return false;
    }
    if (c->d->nifs && dd.plan->ifaces)
        return false;
    int64_t export_ns = (int64_t)hdr->export_secs * 1000000000LL;
    fk__col_direct_set ds = {
        dd.plan,
        body,
        dd.records,
        {&c->ss->peer.addr, c->d->odid, c->d->version, dd.sampling, export_ns}};
    if (!s->direct(s->user, &ds))
        return false;
    if (c->export_ns) { /* export-time sanity, as fk__col_emit_cb */
        int64_t limit = c->export_ns + s->lim.export_tolerance_ns + 1000000000LL;
        for (uint32_t i = 0; i < dd.records; i++)
            if (fk__recplan_end_ns(dd.plan, body + (size_t)i * dd.plan->record_len, export_ns) >
                limit)
                s->stats->records_after_export++;
    }
    c->records += dd.records;
    c->d->records += dd.records;
    c->msg_records += dd.records;
    return true;
}

bool fk__col_decode_set(msg_ctx *c, const fk__col_hdr *hdr, uint16_t sid, const uint8_t *body,
                        size_t blen, int64_t now_ns, const fk__col_raw *opts)
{
    fk__col_sessions *s = c->s;
    uint32_t n = 0, nopts = 0;
    int rc = s->codec->data(s->codec_ctx, c->d->codec_state, hdr, sid, body, blen, fk__col_emit_cb,
                            fk__col_ifname_cb, c, &n, &nopts);
    if (rc == FK_ENOTEMPLATE) {
        if (s->lim.pending_bytes)
            fk__col_pending_add(s, c->ss, hdr, sid, body, blen, now_ns);
        else
            s->stats->pending_overflow++;
        return false;
    }
    if (rc != FK_OK) {
        s->stats->malformed++;
        return false;
    }
    s->stats->options_records += nopts;
    c->msg_records += n + nopts;
    if (s->codec->sys_init)
        fk__col_sys_init_check(c, s->codec->sys_init(s->codec_ctx, c->d->codec_state));
    if (opts) /* the file learns what the collector learnt */
        (void)fk__col_store_raw(c, hdr, sid, body, opts);
    return true;
}

/* Walk the sets of an IPFIX message or the flowsets of a v9 packet. Returns
 * false when a set was malformed or a data set had to wait for its
 * template (the record count of the message is then unknown). Data sets
 * that may pass through unchanged are gathered into runs (session_raw.c),
 * each stored at once before any other set is looked at. */
static bool walk_sets(msg_ctx *c, const fk__col_hdr *hdr, const uint8_t *p, size_t len,
                      int64_t now_ns)
{
    fk__col_sessions *s = c->s;
    uint16_t tmpl_id = hdr->version == 10 ? 2 : 0;
    uint16_t opt_id = hdr->version == 10 ? 3 : 1;
    bool complete = true;
    size_t off = 0;
    fk__col_raw_run run;
    run.n = 0;
    while (len - off >= 4) {
        uint16_t sid = fk__get16(p + off);
        uint16_t slen = fk__get16(p + off + 2);
        if (slen < 4 || slen > len - off) {
            s->stats->malformed++;
            complete &= fk__col_run_flush(c, hdr, &run, now_ns);
            return false;
        }
        const uint8_t *body = p + off + 4;
        size_t blen = slen - 4u;
        off += slen;
        fk__col_raw *r = &run.raws[run.n];
        bool raw = sid >= 256 && fk__col_raw_plan(c, hdr, sid, body, blen, r);
        if (raw && !r->options) {
            fk__col_run_add(c, hdr, &run, sid, body, blen, now_ns, &complete);
            continue; /* stored as it came, counted, with the rest of its run */
        }
        complete &= fk__col_run_flush(c, hdr, &run, now_ns);
        if (sid == tmpl_id || sid == opt_id) {
            size_t room = s->lim.max_templates > c->ss->templates
                              ? s->lim.max_templates - c->ss->templates
                              : 0;
            c->retry = false;
            int rc = s->codec->templates(s->codec_ctx, c->d->codec_state, hdr, sid, body, blen,
                                         now_ns, room, fk__col_tmpl_cb, c);
            if (rc != FK_OK)
                s->stats->malformed++;
            if (c->retry && c->ss->pend_head)
                fk__col_pending_retry(c);
        } else if (sid >= 256) {
            if (raw) { /* options: decoded, then stored */
                fk__col_raw opts = *r;
                complete &= fk__col_decode_set(c, hdr, sid, body, blen, now_ns, &opts);
            } else if (!direct_set(c, hdr, sid, body, blen)) {
                complete &= fk__col_decode_set(c, hdr, sid, body, blen, now_ns, NULL);
            }
        }
        /* Set ids 4..255 (IPFIX) and 2..255 (v9) are reserved: skipped. */
    }
    complete &= fk__col_run_flush(c, hdr, &run, now_ns);
    return complete;
}

static void ipfix_message(msg_ctx *c, const uint8_t *msg, size_t len, int64_t now_ns)
{
    fk__col_sessions *s = c->s;
    if (len < 16) {
        s->stats->malformed++;
        return;
    }
    uint16_t mlen = fk__get16(msg + 2);
    if (mlen < 16 || mlen > len) {
        s->stats->malformed++;
        return;
    }
    fk__col_hdr hdr = {10, fk__get32(msg + 12), fk__get32(msg + 4),
                       0,  fk__get32(msg + 8),  ++s->msg_serial};
    c->d = domain_get(s, c->ss, 10, hdr.odid);
    if (!c->d)
        return;
    s->stats->messages++;
    c->d->messages++;
    fk__col_check_export_time(c, hdr.export_secs, now_ns);
    if (c->ss->peer.transport == FK__COL_UDP &&
        fk__col_sequence_restart(c->d, hdr.sequence, hdr.export_secs))
        fk__col_domain_restart(c, 0);
    bool complete = walk_sets(c, &hdr, msg + 16, mlen - 16u, now_ns);
    fk__col_sequence_check(s, c->d, hdr.sequence, c->msg_records, complete);
    c->d->seen = true;
    if (hdr.export_secs > c->d->last_export)
        c->d->last_export = hdr.export_secs;
}

static void v9_message(msg_ctx *c, const uint8_t *msg, size_t len, int64_t now_ns)
{
    fk__col_sessions *s = c->s;
    if (len < 20) {
        s->stats->malformed++;
        return;
    }
    fk__col_hdr hdr = {9,
                       fk__get32(msg + 16),
                       fk__get32(msg + 8),
                       fk__get32(msg + 4),
                       fk__get32(msg + 12),
                       ++s->msg_serial};
    c->d = domain_get(s, c->ss, 9, hdr.odid);
    if (!c->d)
        return;
    s->stats->messages++;
    c->d->messages++;
    fk__col_check_export_time(c, hdr.export_secs, now_ns);
    if (fk__col_uptime_restart(c->d, hdr.export_secs, hdr.sys_uptime_ms))
        fk__col_domain_restart(c, 0);
    walk_sets(c, &hdr, msg + 20, len - 20, now_ns);
    /* v9 counts export packets, so the step is always known. */
    fk__col_sequence_check(s, c->d, hdr.sequence, 1, true);
}

static void fixed_message(msg_ctx *c, uint16_t version, const uint8_t *msg, size_t len,
                          int64_t now_ns)
{
    fk__col_sessions *s = c->s;
    /* v5: engine type and id (bytes 20, 21) name the domain. */
    uint32_t odid =
        (version == 5 || version == 6) && len >= 24 ? (uint32_t)(msg[20] << 8 | msg[21]) : 0;
    c->d = domain_get(s, c->ss, version, odid);
    if (!c->d)
        return;
    /* v1, v5 and v7 share the start of the header: sysUptime, unix_secs. */
    if (len >= 16) {
        uint32_t uptime = fk__get32(msg + 4), secs = fk__get32(msg + 8);
        fk__col_check_export_time(c, secs, now_ns);
        if (fk__col_uptime_restart(c->d, secs, uptime))
            fk__col_domain_restart(c, 0);
    }
    int n = s->codec->fixed(s->codec_ctx, msg, len, fk__col_emit_cb, c);
    if (n < 0) {
        s->stats->malformed++;
        return;
    }
    s->stats->messages++;
    c->d->messages++;
    if ((version == 5 || version == 6 || version == 7) && len >= 20)
        fk__col_sequence_check(s, c->d, fk__get32(msg + 16), (uint32_t)n, true);
}

int fk__col_sessions_message(fk__col_sessions *s, const fk__col_peer *peer, const uint8_t *msg,
                             size_t len, int64_t now_ns)
{
    if (len < 4) {
        s->stats->malformed++;
        return 0;
    }
    uint16_t version = fk__get16(msg);
    if (version != 1 && version != 5 && version != 6 && version != 7 && version != 9 &&
        version != 10) {
        s->stats->unsupported++;
        return 0;
    }
    session *ss = session_get(s, peer);
    if (!ss)
        return 0;
    s->last = ss;
    ss->last_seen_ns = now_ns;
    msg_ctx c = {s, ss, NULL, 0, 0, 0, false, false, -1, 0};
    if (version == 10)
        ipfix_message(&c, msg, len, now_ns);
    else if (version == 9)
        v9_message(&c, msg, len, now_ns);
    else
        fixed_message(&c, version, msg, len, now_ns);
    return (int)c.records;
}

void fk__col_sessions_set_direct(fk__col_sessions *s, fk__col_direct_fn fn)
{
    s->direct = fn;
}

void fk__col_sessions_set_domain_gone(fk__col_sessions *s, fk__col_domain_gone_fn fn)
{
    s->domain_gone = fn;
}

void fk__col_sessions_set_raw(fk__col_sessions *s, fk__col_raw_fn fn, unsigned flags)
{
    s->raw = fn;
    s->raw_flags = flags;
}

void fk__col_sessions_set_raw_run(fk__col_sessions *s, fk__col_raw_run_fn fn)
{
    s->raw_run = fn;
}

void fk__col_sessions_set_real_clock(fk__col_sessions *s, int64_t offset_ns)
{
    s->fixed_clock = true;
    s->real_offset = offset_ns;
}

void fk__col_sessions_tick(fk__col_sessions *s, int64_t now_ns)
{
    size_t pos = 0;
    void *val;
    while (fk__hmap_next(&s->by_peer, &pos, NULL, &val)) {
        session *ss = *(session **)val;
        bool udp = ss->peer.transport == FK__COL_UDP;
        if (udp && s->lim.session_timeout_ns &&
            now_ns - ss->last_seen_ns > s->lim.session_timeout_ns) {
            fk__hmap_del_current(&s->by_peer, &pos);
            s->stats->sessions = s->by_peer.count;
            session_free(s, ss, true);
            continue;
        }
        if (udp && s->lim.template_timeout_ns) {
            msg_ctx c = {s, ss, NULL, 0, 0, 0, false, false, -1, 0};
            for (size_t i = 0; i < ss->ndomains; i++) {
                if (!ss->domains[i].codec_state)
                    continue;
                c.d = &ss->domains[i];
                s->codec->expire(s->codec_ctx, c.d->codec_state,
                                 now_ns - s->lim.template_timeout_ns, fk__col_tmpl_cb, &c);
            }
        }
        while (ss->pend_head && now_ns - ss->pend_head->arrival_ns > s->lim.pending_age_ns) {
            pending *p = ss->pend_head;
            ss->pend_head = p->next;
            if (!ss->pend_head)
                ss->pend_tail = NULL;
            ss->pend_bytes -= sizeof(pending) + p->len;
            s->pend_total -= sizeof(pending) + p->len;
            s->stats->pending_expired++;
            fk__free(p);
        }
    }
}

void fk__col_sessions_close(fk__col_sessions *s, const fk__col_peer *peer)
{
    session *ss = session_find(s, peer);
    if (!ss)
        return;
    session_unlink(s, ss);
    session_free(s, ss, true);
}

size_t fk__col_sessions_pending_bytes(const fk__col_sessions *s, const fk__col_peer *peer)
{
    session *ss = session_find(s, peer);
    return ss ? ss->pend_bytes : 0;
}

size_t fk__col_sessions_count(const fk__col_sessions *s)
{
    return s->by_peer.count;
}

size_t fk__col_sessions_domains(const fk__col_sessions *s, fk_collector_domain *out, size_t cap)
{
    size_t n = 0;
    size_t pos = 0;
    void *val;
    while (fk__hmap_next(&s->by_peer, &pos, NULL, &val)) {
        const session *ss = *(session **)val;
        for (size_t i = 0; i < ss->ndomains; i++, n++) {
            if (n >= cap)
                continue;
            const domain *d = &ss->domains[i];
            fk_collector_domain *o = &out[n];
            memset(o, 0, sizeof *o);
            o->exporter = ss->peer.addr;
            o->port = ss->peer.port;
            o->transport = ss->peer.transport == FK__COL_TCP ? 6 : 17;
            o->version = d->version;
            o->odid = d->odid;
            o->messages = d->messages;
            o->records = d->records;
            o->sequence_gaps = d->gaps;
            o->sequence_lost = d->lost;
        }
    }
    return n;
}
