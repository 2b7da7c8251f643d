/* Exporters refused by the allowlist reach the log: the first refusal of an
 * address at once, later ones at most one line per REJECT_LOG_INTERVAL_NS
 * per address with the count of refusals since its last line. Every
 * refusal is also counted in stats.allowlist_rejected. Runs on the
 * dispatching thread only. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "collector/collector_state.h"
#include "core/clock.h"
#include "core/log.h"

static void say(fk__col_reject_slot *s, int64_t now)
{
    if (s->suppressed)
        FK__LOG_WARN("collector",
                     "exporter %s refused by the allowlist (%" PRIu64
                     " more since the last message; counted in allowlist_rejected)",
                     s->text, s->suppressed);
    else
        FK__LOG_WARN("collector",
                     "exporter %s refused by the allowlist (not in any allowed prefix); its "
                     "datagrams and connections are dropped and counted in allowlist_rejected",
                     s->text);
    s->suppressed = 0;
    s->next_ns = now + REJECT_LOG_INTERVAL_NS;
}

void fk__col_rejected(fk_collector *h, const fk_addr *a)
{
    h->stats.allowlist_rejected++;
    char text[FK_ADDR_STRLEN];
    if (fk_addr_format(a, text, sizeof text) < 0)
        snprintf(text, sizeof text, "(unknown)");
    int64_t now = fk__mono_ns();
    fk__col_reject_slot *s = NULL, *oldest = &h->rejects[0];
    for (size_t i = 0; i < REJECT_LOG_SLOTS && !s; i++) {
        fk__col_reject_slot *t = &h->rejects[i];
        if (t->used && strcmp(t->text, text) == 0)
            s = t;
        else if (!t->used || (oldest->used && t->next_ns < oldest->next_ns))
            oldest = t;
    }
    if (!s) {
        /* A new address (or one evicted by many others) is named at once. */
        s = oldest;
        memset(s, 0, sizeof *s);
        s->used = true;
        snprintf(s->text, sizeof s->text, "%s", text);
    } else if (now < s->next_ns) {
        s->suppressed++;
        return;
    }
    say(s, now);
}

void fk__col_rejected_tick(fk_collector *h, bool final)
{
    int64_t now = fk__mono_ns();
    for (size_t i = 0; i < REJECT_LOG_SLOTS; i++) {
        fk__col_reject_slot *s = &h->rejects[i];
        if (s->used && s->suppressed && (final || now >= s->next_ns))
            say(s, now);
    }
}
