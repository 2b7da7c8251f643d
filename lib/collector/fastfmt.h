/* Internal: printf-free JSON line and CSV row of a flow (see fastfmt.c). */
#ifndef FK_COLLECTOR_FASTFMT_H
#define FK_COLLECTOR_FASTFMT_H

#include <flowkit/flow.h>

/* Output buffer size that always suffices (without process names). */
#define FK__FASTFMT_MAX 768

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
