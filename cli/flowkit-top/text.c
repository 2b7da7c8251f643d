/* flowkit-top: the trace view (-t, or stdout not a tty; nethogs -t's
 * format) and the JSON lines view (--json). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "fkcli.h"
#include "top.h"

/* The connections of one row, most bytes first, in the process line's
 * units. */
static void print_trace_conns(const top *t, const fk_rank_row *r, double elapsed)
{
    ranked_conn *rc = top_sorted_conns(r);
    for (size_t i = 0; rc && i < r->conn_count; i++) {
        const fk_rank_conn *c = rc[i].c;
        char text[2 * FK_ADDR_STRLEN + 40];
        top_conn_text(text, sizeof text, c);
        if (t->totals) {
            printf("  %s\t%" PRIu64 "\t%" PRIu64 "\n", text, c->sent_bytes, c->recv_bytes);
            continue;
        }
        double sr, rr;
        top_conn_rates(t, r->pid, c, elapsed, &sr, &rr);
        printf("  %s\t%.3f\t%.3f\n", text, sr / 1024.0, rr / 1024.0);
    }
    free(rc);
}

void top_print_trace(top *t, const fk_rank_snapshot *s)
{
    size_t *idx = malloc((s->count + 1) * sizeof *idx);
    if (!idx)
        fkcli_fail("out of memory");
    size_t n = top_pick_rows(t, s, idx, s->count);
    double elapsed = top_since_last(t, s);
    printf("\nRefreshing:\n");
    for (size_t k = 0; k < n; k++) {
        const fk_rank_row *r = &s->rows[idx[k]];
        long uid = r->uid == UINT32_MAX ? 0 : (long)r->uid;
        char name[PROGRAM_MAX];
        top_program(t, r, name, sizeof name, false);
        if (t->totals)
            printf("%s/%" PRIu32 "/%ld\t%" PRIu64 "\t%" PRIu64 "\n", name, r->pid, uid,
                   r->sent_bytes, r->recv_bytes);
        else
            printf("%s/%" PRIu32 "/%ld\t%.3f\t%.3f\n", name, r->pid, uid, r->sent_rate / 1024.0,
                   r->recv_rate / 1024.0);
        if (t->conns)
            print_trace_conns(t, r, elapsed);
    }
    fflush(stdout);
    free(idx);
    if (t->conns)
        top_remember_conns(t, s);
}

void top_print_json(const top *t, const fk_rank_snapshot *s)
{
    /* Filter and limit through a filtered copy of the row list. */
    size_t *idx = malloc((s->count + 1) * sizeof *idx);
    fk_rank_row *rows = malloc((s->count + 1) * sizeof *rows);
    if (!idx || !rows)
        fkcli_fail("out of memory");
    size_t n = top_pick_rows(t, s, idx, s->count);
    for (size_t k = 0; k < n; k++)
        rows[k] = s->rows[idx[k]];
    fk_rank_snapshot part = *s;
    part.rows = rows;
    part.count = n;
    unsigned flags = t->conns ? FK_RANK_JSON_CONNS : 0;
    if (s->count && s->rows[0].history_count)
        flags |= FK_RANK_JSON_HISTORY;
    size_t size = fk_rank_snapshot_json_size(&part, flags);
    char *buf = malloc(size);
    if (!buf)
        fkcli_fail("out of memory");
    if (fk_rank_snapshot_to_json_ex(&part, flags, buf, size) < 0)
        fkcli_lib_error(FKCLI_EXIT_FAILURE, "json");
    printf("%s\n", buf);
    fflush(stdout);
    free(buf);
    free(rows);
    free(idx);
}
