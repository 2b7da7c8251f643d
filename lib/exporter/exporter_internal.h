/* Internal: test hooks of the exporter. */
#ifndef FK_EXPORTER_INTERNAL_H
#define FK_EXPORTER_INTERNAL_H

#include <flowkit/exporter.h>

/* Replace the monotonic clock by a fixed value in ns (0 = real clock again),
 * so tests can step through flush, refresh and reconnect schedules. */
void fk__exporter_set_clock(fk_exporter *h, int64_t mono_ns);

/* Sequence number the next message to destination `index` carries. */
uint32_t fk__exporter_dest_seq(const fk_exporter *h, size_t index);

/* Number of templates defined (built-in variants in use + caller's). */
size_t fk__exporter_template_count(const fk_exporter *h);

#endif
