/* flowkit-export --stats: the capture's, the metadata provider's and each
 * destination's counters, one line each on stderr (every loss counter the
 * library keeps is printed: a drop is never silent). */
#include <flowkit/capture.h>
#include <flowkit/flowkit.h>
#include <stdio.h>
#include <string.h>

#include "export.h"
#include "fkcli.h"
#include "fkimds.h"

static void print_imds_stats(app *a)
{
    fkimds_stats s;
    fkimds_get_stats(a->imds, &s);
    fprintf(stderr, "%s: imds refreshes=%llu failures=%llu tokens=%llu token_refused=%llu%s%s%s\n",
            fkcli_prog(), (unsigned long long)s.refreshes, (unsigned long long)s.failures,
            (unsigned long long)s.tokens, (unsigned long long)s.token_refused,
            s.last_error[0] ? " last_error=\"" : "", s.last_error, s.last_error[0] ? "\"" : "");
}

void export_print_stats(app *a)
{
    fk_capture_stats cs;
    memset(&cs, 0, sizeof cs);
    fk_capture_get_stats(a->cap, &cs, sizeof cs);
    fprintf(stderr,
            "%s: capture packets=%llu kernel_drops=%llu queue_drops=%llu decode_errors=%llu "
            "flows=%llu flows_filtered=%llu events=%llu event_drops=%llu flows_evicted=%llu "
            "attrib_events_lost=%llu kernel_map_full=%llu kernel_events_lost=%llu "
            "frags_unmatched=%llu tunnels_undecoded=%llu kernel_cache_orphans=%llu\n",
            fkcli_prog(), (unsigned long long)cs.packets, (unsigned long long)cs.kernel_drops,
            (unsigned long long)cs.queue_drops, (unsigned long long)cs.decode_errors,
            (unsigned long long)a->flows_seen, (unsigned long long)a->flows_filtered,
            (unsigned long long)a->events_seen, (unsigned long long)cs.event_drops,
            (unsigned long long)cs.flows_evicted, (unsigned long long)cs.attrib_events_lost,
            (unsigned long long)cs.kernel_map_full, (unsigned long long)cs.kernel_events_lost,
            (unsigned long long)cs.frags_unmatched, (unsigned long long)cs.tunnels_undecoded,
            (unsigned long long)cs.kernel_cache_orphans);
    if (a->imds)
        print_imds_stats(a);
    if (!a->exp)
        return;
    size_t n = fk_exporter_get_destination_count(a->exp);
    for (size_t i = 0; i <= n; i++) {
        fk_exporter_stats s;
        const char *name = "total";
        char label[32];
        if (i == n) {
            fk_exporter_get_stats(a->exp, &s, sizeof s);
        } else {
            fk_exporter_get_destination_stats(a->exp, i, &s, sizeof s);
            snprintf(label, sizeof label, "dest%zu", i);
            name = label;
        }
        fprintf(stderr,
                "%s: export %s records_in=%llu records_sent=%llu records_dropped=%llu "
                "messages_sent=%llu bytes_sent=%llu buffered_bytes=%llu connects=%llu "
                "connect_failures=%llu send_errors=%llu records_buffered=%llu "
                "records_resent=%llu\n",
                fkcli_prog(), name, (unsigned long long)s.records_in,
                (unsigned long long)s.records_sent, (unsigned long long)s.records_dropped,
                (unsigned long long)s.messages_sent, (unsigned long long)s.bytes_sent,
                (unsigned long long)s.buffered_bytes, (unsigned long long)s.connects,
                (unsigned long long)s.connect_failures, (unsigned long long)s.send_errors,
                (unsigned long long)s.records_buffered, (unsigned long long)s.records_resent);
    }
}
