/* Internal: printf-free JSON line and CSV row of a flow (see fastfmt.c). */
#ifndef FK_COLLECTOR_FASTFMT_H
#define FK_COLLECTOR_FASTFMT_H

#include <flowkit/flow.h>
#include <stdbool.h>

#include "collector/recplan.h"

/* JSON output buffer size that always suffices without the borrowed
 * strings (in_if_name, ...); with them, FK_FLOW_JSON_MAX. 832 for the
 * keys up to "end_reason", plus the tunnel, VLAN, VNI, direction and four
 * addresses of the keys after it (~330). */
#define FK__FASTFMT_MAX 1216
/* CSV row buffer size that always suffices: the fixed columns plus the
 * string columns, each at most doubled by quoting. */
#define FK__FASTFMT_CSV_MAX                                                                        \
    (FK__FASTFMT_MAX +                                                                             \
     2 * (FK_PROCESS_NAME_MAX + 2 * FK_FLOW_IFNAME_MAX + FK_FLOW_USER_MAX + FK_FLOW_EXE_MAX + 16))

/* What a record plan's records share (they come from one data set): the
 * exporter, domain and version the collector stamps on them, the domain's
 * sampling interval for records without their own (0: none), and the
 * message's export time (delta times). */
typedef struct fk__fastfmt_origin {
    const fk_addr *exporter;
    uint32_t odid;
    uint16_t version;
    uint32_t sampling;
    int64_t export_ns;
} fk__fastfmt_origin;

/* The keys an origin gives every line of its set ("exporter", "odid",
 * "version"), formatted once per set by fk__fastfmt_stamp_set. */
typedef struct fk__fastfmt_stamp {
    char text[112];
    size_t len;
} fk__fastfmt_stamp;

typedef struct fk__fastfmt {
    int64_t sec[2];
    int valid[2];
    int next;
    char text[2][20];
    /* "YYYY-MM-DDT" of day (seconds / 86400, floored): a second not in
     * text[] takes its date from here and its time by arithmetic. */
    int64_t day;
    bool day_valid;
    char day_text[12];
    fk_addr exporter; /* the last exporter formatted (the same for runs of records) */
    int exporter_len;
    char exporter_text[48];
    /* The keys of the last origin formatted (fk__fastfmt_stamp_get). */
    bool stamp_valid;
    fk_addr stamp_exporter;
    uint32_t stamp_odid;
    uint16_t stamp_version;
    fk__fastfmt_stamp stamp;
} fk__fastfmt;

/* The keys of origin o, formatted when o differs from the last one
 * (exporters send runs of sets from one domain); borrowed until the next
 * call on c. */
const fk__fastfmt_stamp *fk__fastfmt_stamp_get(fk__fastfmt *c, const fk__fastfmt_origin *o);

/* Same bytes as fk_flow_to_json(); returns the length (no newline). */
int fk__fastfmt_json(fk__fastfmt *c, const fk_flow *f, char *buf, size_t size);
/* The JSON line of one record read through its record plan (recplan.h),
 * straight from its bytes: the same bytes as fk__fastfmt_json() writes
 * for the flow fk__plan_to_flow() gives, stamped with o (st: its keys), as
 * the collector delivers it. buf holds at least FK__FASTFMT_MAX bytes;
 * returns the length (no newline). */
int fk__fastfmt_json_rec(fk__fastfmt *c, const fk__recplan *rp, const uint8_t *rec,
                         const fk__fastfmt_origin *o, const fk__fastfmt_stamp *st, char *buf);
/* One CSV row with its newline; returns the length, -1 if size is too small. */
int fk__fastfmt_csv(fk__fastfmt *c, const fk_flow *f, char *buf, size_t size);

#endif
