/* The data sets of a session that arrived before their template: kept in
 * arrival order within a per-session and an overall byte budget (the
 * oldest make room; every set refused or dropped is counted), decoded when
 * the template comes, dropped with the session. */
#include <string.h>

#include "collector/internal.h"
#include "collector/session_int.h"
#include "core/alloc.h"
#include "core/error.h"

void fk__col_pending_drop_all(fk__col_sessions *s, session *ss)
{
    while (ss->pend_head) {
        pending *p = ss->pend_head;
        ss->pend_head = p->next;
        s->stats->pending_expired++;
        fk__free(p);
    }
    ss->pend_tail = NULL;
    s->pend_total -= ss->pend_bytes;
    ss->pend_bytes = 0;
}

/* Keep a data set whose template is unknown; oldest sets make room. */
void fk__col_pending_add(fk__col_sessions *s, session *ss, const fk__col_hdr *hdr, uint16_t set_id,
                         const uint8_t *body, size_t len, int64_t now_ns)
{
    size_t cost = sizeof(pending) + len;
    if (cost > s->lim.pending_bytes) {
        s->stats->pending_overflow++;
        return;
    }
    while (ss->pend_head && ss->pend_bytes + cost > s->lim.pending_bytes) {
        pending *old = ss->pend_head;
        ss->pend_head = old->next;
        if (!ss->pend_head)
            ss->pend_tail = NULL;
        ss->pend_bytes -= sizeof(pending) + old->len;
        s->pend_total -= sizeof(pending) + old->len;
        s->stats->pending_overflow++;
        fk__free(old);
    }
    /* The budget over all exporters bounds memory when many send junk. */
    if (s->pend_total + cost > s->lim.pending_total) {
        s->stats->pending_overflow++;
        return;
    }
    pending *p = fk__malloc(cost);
    if (!p) {
        s->stats->pending_overflow++;
        return;
    }
    p->next = NULL;
    p->hdr = *hdr;
    p->set_id = set_id;
    p->arrival_ns = now_ns;
    p->len = len;
    memcpy(p->data, body, len);
    if (ss->pend_tail)
        ss->pend_tail->next = p;
    else
        ss->pend_head = p;
    ss->pend_tail = p;
    ss->pend_bytes += cost;
    s->pend_total += cost;
    s->stats->pending_sets++;
}

/* A template was (re)defined in domain c->d: decode the sets waiting for it,
 * in arrival order. */
void fk__col_pending_retry(msg_ctx *c)
{
    fk__col_sessions *s = c->s;
    session *ss = c->ss;
    domain *d = c->d;
    pending **pp = &ss->pend_head;
    pending *prev = NULL;
    while (*pp) {
        pending *p = *pp;
        if (p->hdr.version != d->version || p->hdr.odid != d->odid) {
            prev = p;
            pp = &p->next;
            continue;
        }
        uint32_t before = c->records, n = 0, opts = 0;
        int64_t msg_export = c->export_ns;
        if (c->export_ns)
            c->export_ns = (int64_t)p->hdr.export_secs * 1000000000LL;
        int rc = s->codec->data(s->codec_ctx, d->codec_state, &p->hdr, p->set_id, p->data, p->len,
                                fk__col_emit_cb, fk__col_ifname_cb, c, &n, &opts);
        c->export_ns = msg_export;
        if (rc == FK_ENOTEMPLATE) {
            prev = p;
            pp = &p->next;
            continue;
        }
        if (rc == FK_OK) {
            s->stats->pending_decoded++;
            s->stats->pending_records += c->records - before;
            s->stats->options_records += opts;
        } else {
            s->stats->malformed++;
        }
        *pp = p->next;
        if (ss->pend_tail == p)
            ss->pend_tail = prev;
        ss->pend_bytes -= sizeof(pending) + p->len;
        s->pend_total -= sizeof(pending) + p->len;
        fk__free(p);
    }
}
