/* Parser of the /stats request body (see stats_body.h). */
#include "stats_body.h"

#include <stdio.h>
#include <string.h>

#include "jsonrd.h"

/* "NAME": ["BUCKET", ...] for one prefix, cells appended at *n. */
static int one_name(fkc_rd *r, const char *prefix, fkc_stats_cell *out, size_t max, size_t *n)
{
    char name[sizeof out->name];
    if (fkc_rd_str(r, name, sizeof name) < 0)
        return -1;
    if (!fkc_rd_eat(r, ':') || !fkc_rd_eat(r, '['))
        return fkc_rd_fail(r, "expected \"NAME\": [");
    if (fkc_rd_eat(r, ']'))
        return 0;
    do {
        if (*n >= max)
            return fkc_rd_fail(r, "too many (prefix, name, bucket) cells");
        fkc_stats_cell *c = &out[*n];
        if (fkc_rd_str(r, c->bucket, sizeof c->bucket) < 0)
            return -1;
        memcpy(c->prefix, prefix, sizeof c->prefix);
        memcpy(c->name, name, sizeof c->name);
        (*n)++;
    } while (fkc_rd_eat(r, ','));
    if (!fkc_rd_eat(r, ']'))
        return fkc_rd_fail(r, "expected ']'");
    return 0;
}

int fkc_stats_body_parse(const char *body, size_t len, fkc_stats_cell *out, size_t max, size_t *n,
                         char *err, size_t errsize)
{
    *n = 0;
    fkc_rd r;
    fkc_rd_init(&r, body ? body : "", body ? len : 0, err, errsize);
    if (!fkc_rd_eat(&r, '{'))
        return fkc_rd_fail(&r, "expected an object {\"PREFIX\": {\"NAME\": [\"BUCKET\", ...]}}");
    if (!fkc_rd_eat(&r, '}')) {
        do {
            char prefix[sizeof out->prefix] = "";
            if (fkc_rd_str(&r, prefix, sizeof prefix) < 0)
                return -1;
            if (!fkc_rd_eat(&r, ':') || !fkc_rd_eat(&r, '{'))
                return fkc_rd_fail(&r, "expected \"PREFIX\": {");
            if (!fkc_rd_eat(&r, '}')) {
                do {
                    if (one_name(&r, prefix, out, max, n) < 0)
                        return -1;
                } while (fkc_rd_eat(&r, ','));
                if (!fkc_rd_eat(&r, '}'))
                    return fkc_rd_fail(&r, "expected '}'");
            }
        } while (fkc_rd_eat(&r, ','));
        if (!fkc_rd_eat(&r, '}'))
            return fkc_rd_fail(&r, "expected '}'");
    }
    if (!fkc_rd_at_end(&r))
        return fkc_rd_fail(&r, "text after the object");
    return 0;
}

bool fkc_stats_addr_field(fk_prefixstats_field f)
{
    return f == FK_PREFIXSTATS_SRCIP || f == FK_PREFIXSTATS_DSTIP;
}

static uint32_t number_max(fk_prefixstats_field f)
{
    return f == FK_PREFIXSTATS_PROTO                                    ? 255
           : f == FK_PREFIXSTATS_SRCPORT || f == FK_PREFIXSTATS_DSTPORT ? 65535
                                                                        : UINT32_MAX;
}

/* "all", "FIELD" or "FIELD:VALUE" ("other" is a value too). */
static int parse_name(const char *name, fkc_stats_selector *out, char *err, size_t errsize)
{
    char field[16] = "";
    const char *colon = strchr(name, ':');
    size_t n = colon ? (size_t)(colon - name) : strlen(name);
    memset(out, 0, sizeof *out);
    if (n < sizeof field) {
        memcpy(field, name, n);
        field[n] = '\0';
    }
    if (n >= sizeof field || fk_prefixstats_field_lookup(field, &out->field) != 0) {
        snprintf(err, errsize,
                 "\"%.40s\": a name is all, proto, srcport, dstport, srcas, dstas, srcip or "
                 "dstip, optionally with :VALUE",
                 name);
        return -1;
    }
    if (!colon)
        return 0;
    const char *v = colon + 1;
    int64_t num = -1;
    if (out->field == FK_PREFIXSTATS_ALL) {
        snprintf(err, errsize, "\"%.40s\": all takes no value", name);
        return -1;
    }
    if (strcmp(v, "other") == 0) {
        out->which = FKC_SEL_OTHER;
    } else if (fkc_stats_addr_field(out->field) && fk_addr_parse(v, &out->addr) == 0) {
        out->which = FKC_SEL_ADDR;
    } else if (!fkc_stats_addr_field(out->field) && v[0] >= '0' && v[0] <= '9' &&
               fk_param_parse_int(v, &num) == 0 && num >= 0 && num <= number_max(out->field)) {
        out->which = FKC_SEL_NUMBER;
        out->number = (uint32_t)num;
    } else {
        snprintf(err, errsize, "\"%.60s\": not a value of %s", name,
                 fk_prefixstats_field_name(out->field));
        return -1;
    }
    return 0;
}

/* Check every cell before answering any: a request is answered whole or
 * refused. */
int fkc_stats_cells_check(const fkc_stats_cell *cells, size_t n, fkc_stats_selector *sel,
                          fk_prefixstats_bucket *buckets, char *err, size_t errsize)
{
    for (size_t i = 0; i < n; i++) {
        if (parse_name(cells[i].name, &sel[i], err, errsize) < 0)
            return -1;
        if (fk_prefixstats_bucket_parse(cells[i].bucket, &buckets[i]) != 0) {
            snprintf(err, errsize, "%s", fk_error_last()->message);
            return -1;
        }
    }
    return 0;
}
