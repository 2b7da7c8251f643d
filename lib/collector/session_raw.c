/* The session layer's half of the pass-through (ipfix: outputs storing
 * data sets as they came): whether a set may pass (the codec's plan of its
 * template), offering it, and runs of such sets. A message's consecutive
 * data sets that may pass are offered together (s->raw_run) when the next
 * set of another kind comes or the message ends: one offer, one domain
 * and one room check in the output, instead of one each per set (softflowd
 * sends sets of 1-4 records). When the run is refused, its sets are
 * offered one by one, as each was before runs. */
#include <string.h>

#include "collector/internal.h"
#include "collector/session_int.h"
#include "core/error.h"

/* Counts a stored set's flow records as delivered, as fk__col_emit_cb
 * counts them (options records were decoded before and count there). */
static void count_stored(msg_ctx *c, uint32_t records, uint32_t late)
{
    c->s->stats->records_after_export += late;
    c->records += records;
    c->d->records += records;
    c->msg_records += records;
}

bool fk__col_store_raw(msg_ctx *c, const fk__col_hdr *hdr, uint16_t sid, const uint8_t *body,
                       const fk__col_raw *r)
{
    fk__col_sessions *s = c->s;
    fk__col_raw_set rs = {&c->ss->peer, c->ss->id, c->d->odid, hdr->export_secs, sid, body, r};
    if (!s->raw(s->user, &rs))
        return false;
    if (!r->options)
        count_stored(c, r->records, r->late);
    return true;
}

bool fk__col_run_flush(msg_ctx *c, const fk__col_hdr *hdr, fk__col_raw_run *run, int64_t now_ns)
{
    fk__col_sessions *s = c->s;
    size_t n = run->n;
    run->n = 0;
    if (n == 0)
        return true;
    if (n > 1 && s->raw_run && s->raw_run(s->user, run->sets, n)) {
        uint32_t records = 0, late = 0;
        for (size_t i = 0; i < n; i++) {
            records += run->raws[i].records;
            late += run->raws[i].late;
        }
        count_stored(c, records, late);
        return true;
    }
    /* One by one: stored, or decoded where the output refuses it. */
    bool complete = true, decoded = false;
    for (size_t i = 0; i < n; i++) {
        const fk__col_raw_set *rs = &run->sets[i];
        fk__col_raw *r = &run->raws[i];
        /* A set decoded before may have changed what the codec allows. */
        bool raw = !decoded || fk__col_raw_plan(c, hdr, rs->set_id, rs->body, run->blens[i], r);
        if (raw && !r->options && fk__col_store_raw(c, hdr, rs->set_id, rs->body, r))
            continue;
        decoded = true;
        complete &= fk__col_decode_set(c, hdr, rs->set_id, rs->body, run->blens[i], now_ns,
                                       raw && r->options ? r : NULL);
    }
    return complete;
}
