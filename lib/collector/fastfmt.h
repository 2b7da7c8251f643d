/* Internal: printf-free JSON line and CSV row of a flow (see fastfmt.c). */
#ifndef FK_COLLECTOR_FASTFMT_H
#define FK_COLLECTOR_FASTFMT_H

#include <flowkit/flow.h>

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

typedef struct fk__fastfmt {
    int64_t sec[2];
    int valid[2];
    int next;
    char text[2][20];
    fk_addr exporter; /* the last exporter formatted (the same for runs of records) */
    int exporter_len;
    char exporter_text[48];
} fk__fastfmt;

/* Same bytes as fk_flow_to_json(); returns the length (no newline). */
int fk__fastfmt_json(fk__fastfmt *c, const fk_flow *f, char *buf, size_t size);
/* One CSV row with its newline; returns the length, -1 if size is too small. */
int fk__fastfmt_csv(fk__fastfmt *c, const fk_flow *f, char *buf, size_t size);

#endif
