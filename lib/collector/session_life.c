/* An exporter's life as the collector sees it: sequence numbers (loss),
 * export times against the receive clock, and restarts (sysUptime going
 * back, IPFIX sequence numbers starting again, a new boot time), after
 * which a domain forgets its templates and waiting data. */
#include <stdlib.h>

#include "collector/session_int.h"
#include "core/alloc.h"
#include "core/clock.h"
#include "core/error.h"

/* sysUptime vs export time: what one reading may be off by (the export
 * time has a resolution of one second). */
#define UPTIME_SLACK_MS 2000
/* IPFIX systemInitTimeMilliseconds (IE 160): how far the exporter's boot
 * time may move forward without a restart. Exporters compute it as "clock
 * now - uptime", some from a clock read in whole seconds, so successive
 * values jitter by up to a second and follow clock slewing; a restart
 * moves it by the time the exporter ran, at least the seconds a restart
 * takes. 2 s (as UPTIME_SLACK_MS for NetFlow) separates the two. */
#define SYS_INIT_SLACK_NS 2000000000LL

/* Sequence tracking. `step` = what the next message's sequence number should
 * have advanced by; known = false when that is unknown (resynchronise). */
void fk__col_sequence_check(fk__col_sessions *s, domain *d, uint32_t seq, uint32_t step, bool known)
{
    if (d->have_seq && seq != d->next_seq) {
        uint32_t diff = seq - d->next_seq;
        /* A jump forward by less than half the space is loss; anything else
         * (late or duplicated message, exporter restart) just resyncs. */
        if (diff < 0x80000000u) {
            s->stats->sequence_gaps++;
            s->stats->sequence_lost += diff;
            d->lost += diff;
            d->gaps++;
        }
    }
    d->have_seq = known;
    d->next_seq = seq + step;
}

/* ---- export-time sanity and exporter restarts ---------------------------- */

static int64_t real_now(const fk__col_sessions *s, int64_t now_ns)
{
    return s->fixed_clock ? now_ns + s->real_offset : fk__real_ns();
}

/* Compare a message's export time with the receive clock; remember it as
 * the base for the records' end times. */
void fk__col_check_export_time(msg_ctx *c, uint32_t export_secs, int64_t now_ns)
{
    fk__col_sessions *s = c->s;
    c->export_ns = 0;
    if (!s->lim.export_tolerance_ns || export_secs == 0)
        return;
    c->export_ns = (int64_t)export_secs * 1000000000LL;
    int64_t skew = c->export_ns - real_now(s, now_ns);
    /* The header has whole seconds: allow the truncation on top. */
    if (skew > s->lim.export_tolerance_ns || -skew > s->lim.export_tolerance_ns + 1000000000LL)
        s->stats->export_time_skewed++;
}

/* The exporter restarted: forget what this domain knew.
 *
 * Why templates go: after a restart an exporter numbers its templates
 * afresh, and the same template id may now describe other fields. RFC 3954
 * section 9 says a collector SHOULD discard the templates of an exporter
 * whose clock changed (a sysUptime that goes back is that case), so it
 * learns the new (exporter, source id, template id) definitions. RFC 7011
 * scopes templates to the transport session; over UDP a restarted
 * exporter begins a new one even when it reuses its address and port, and
 * it must send templates before the data that uses them (sections 8 and
 * 8.4), so nothing valid is lost by dropping the old ones, whereas keeping
 * them could decode new data with an old layout. Data sets of this domain
 * still waiting for a template belong to the old life: dropped too
 * (pending_expired). Options data (sampling, interface names, boot time)
 * goes with the templates. TCP needs none of this: a restart closes the
 * connection, and its templates go with it.
 *
 * keep_serial = 0: the restart shows before the message is read (sysUptime,
 * sequence number), so all the domain knew is from the old life. Otherwise
 * it showed inside message keep_serial (systemInitTimeMilliseconds, see
 * fk__col_sys_init_check): the same reasoning applies to what earlier messages
 * taught, but what this message defined before the record that revealed
 * the restart (templates, options data, interface names, data sets waiting
 * for a template) comes from the new life, which sends its templates
 * before its data: it stays. */
void fk__col_domain_restart(msg_ctx *c, uint64_t keep_serial)
{
    fk__col_sessions *s = c->s;
    session *ss = c->ss;
    domain *d = c->d;
    s->stats->exporter_restarts++;
    if (d->codec_state && keep_serial && s->codec->restart) {
        s->codec->restart(s->codec_ctx, d->codec_state, keep_serial, fk__col_tmpl_cb, c);
    } else if (d->codec_state) {
        s->codec->expire(s->codec_ctx, d->codec_state, INT64_MAX, fk__col_tmpl_cb, c);
        void *fresh = NULL;
        if (s->codec->domain_new(s->codec_ctx, &fresh, ss->id, d->version, d->odid) == FK_OK) {
            s->codec->domain_free(s->codec_ctx, d->codec_state);
            d->codec_state = fresh;
        }
    }
    pending **pp = &ss->pend_head;
    pending *prev = NULL;
    while (*pp) {
        pending *p = *pp;
        if (p->hdr.version != d->version || p->hdr.odid != d->odid ||
            (keep_serial && p->hdr.serial == keep_serial)) {
            prev = p;
            pp = &p->next;
            continue;
        }
        *pp = p->next;
        if (ss->pend_tail == p)
            ss->pend_tail = prev;
        ss->pend_bytes -= sizeof(pending) + p->len;
        s->pend_total -= sizeof(pending) + p->len;
        s->stats->pending_expired++;
        fk__free(p);
    }
    size_t kept = 0;
    for (size_t i = 0; i < d->nifs; i++)
        if (keep_serial && d->ifs[i].serial == keep_serial)
            d->ifs[kept++] = d->ifs[i]; /* order by ifindex stays */
    s->stats->interface_names -= d->nifs - kept;
    d->nifs = kept;
    d->have_seq = false;
    d->seen = false;
    d->have_sys_init = false; /* the next value read is the new life's */
}

/* IPFIX systemInitTimeMilliseconds (IE 160, in an options or a data record)
 * is the exporter's boot time: over UDP a new value means a new life, even
 * when the sequence numbers go on (an exporter that keeps its sequence
 * across restarts). Over TCP it is no signal: a restarted exporter opens a
 * new connection (a new session, with no templates), while dropping the
 * templates of a live connection on a clock step would lose its data for
 * good, since templates are sent once per connection there. Read after
 * each data set of a live message (sets that waited for their template are
 * late: they neither signal nor move the reference).
 *   - first value, or one within SYS_INIT_SLACK_NS ahead: the same life
 *     (the exporter re-read its clock); the reference follows it forward;
 *   - further ahead: a restart, handled right after the set that carried
 *     it, so this message's earlier templates and options survive and its
 *     later sets are read in the new life (fk__col_domain_restart, keep_serial);
 *   - behind: a late record from an earlier life (UDP reorders); ignored.
 * A restart whose clock stepped back before it is not seen by this signal
 * (the sequence reset still catches it over UDP). Templates a new life sent
 * in a message before its first boot-time record cannot be told from the
 * old life's and go too: their data waits for the next template refresh. */
void fk__col_sys_init_check(msg_ctx *c, int64_t sys_init_ns)
{
    domain *d = c->d;
    if (sys_init_ns <= 0 || c->ss->peer.transport != FK__COL_UDP)
        return;
    if (!d->have_sys_init) {
        d->have_sys_init = true;
        d->sys_init_ns = sys_init_ns;
        return;
    }
    int64_t ahead = sys_init_ns - d->sys_init_ns;
    if (ahead <= 0)
        return;
    if (ahead <= SYS_INIT_SLACK_NS) {
        d->sys_init_ns = sys_init_ns;
        return;
    }
    fk__col_domain_restart(c, c->s->msg_serial);
    d->have_sys_init = true;
    d->sys_init_ns = sys_init_ns;
}

/* NetFlow (v1, v5, v7, v9): sysUptime counts milliseconds since the
 * exporter booted, so export time - sysUptime is its boot time, stable to
 * about a second. sysUptime smaller than before means one of three things:
 *   - a late (reordered) packet: the boot time is the same;
 *   - a wrap of the 32-bit counter after 49.7 days: the boot time moves
 *     forward by 2^32 ms;
 *   - a restart: the boot time moves forward by anything else.
 * Only the last is a restart. A late packet does not move the reference. */
bool fk__col_uptime_restart(domain *d, uint32_t export_secs, uint32_t uptime_ms)
{
    int64_t boot = (int64_t)export_secs * 1000 - uptime_ms;
    if (!d->have_uptime || uptime_ms >= d->last_uptime_ms) {
        d->have_uptime = true;
        d->last_uptime_ms = uptime_ms;
        d->boot_ms = boot;
        return false;
    }
    int64_t moved = boot - d->boot_ms;
    if (llabs(moved - (1LL << 32)) <= UPTIME_SLACK_MS) { /* wrap */
        d->last_uptime_ms = uptime_ms;
        d->boot_ms = boot;
        return false;
    }
    if (moved <= UPTIME_SLACK_MS || d->last_uptime_ms - uptime_ms <= UPTIME_SLACK_MS)
        return false; /* late packet */
    /* A restarted exporter booted after its last message: one whose boot
     * time lies before that message was up all along (line cards with
     * their own uptime, a skewed clock). */
    if (boot < d->boot_ms + (int64_t)d->last_uptime_ms - UPTIME_SLACK_MS)
        return false;
    d->last_uptime_ms = uptime_ms;
    d->boot_ms = boot;
    return true;
}

/* IPFIX has no uptime in its header: a restart shows as the sequence
 * number starting again. A number behind the expected one is a restart when
 * it is closer to 0 than to where the stream was (a late message is only a
 * little behind) and the message is newer than any seen (a restart takes
 * seconds; a duplicate or late message is not newer). UDP only: over TCP a
 * restart is a new connection, whose templates start empty anyway. */
bool fk__col_sequence_restart(const domain *d, uint32_t seq, uint32_t export_secs)
{
    if (!d->seen || seq == d->next_seq)
        return false;
    uint32_t back = d->next_seq - seq;
    return back < 0x80000000u && seq < back && export_secs > d->last_export;
}
