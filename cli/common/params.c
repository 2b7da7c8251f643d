/* cli/common: parameter tables as options, --set and --list-params (see
 * fkcli.h). Values are parsed by the library (fk_X_set_text), never here. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "fkcli.h"

static void dash_name(char *dst, size_t size, const char *name)
{
    size_t i = 0;
    for (; name[i] && i + 1 < size; i++)
        dst[i] = name[i] == '_' ? '-' : name[i];
    dst[i] = '\0';
}

const fk_param_info *fkcli_param_entry(const fkcli_params *p, const char *const *names, int i)
{
    const fk_param_info *info = fk_param_find(p->table, p->count, names[i]);
    if (!info)
        fkcli_fail("internal: no %s parameter \"%s\"", p->owner, names[i]);
    return info;
}

int fkcli_param_options(struct option *out, char *namebuf, size_t n, const fkcli_params *p,
                        const char *const *names, int base)
{
    int k = 0;
    for (; names[k] && (size_t)k < n; k++) {
        const fk_param_info *info = fkcli_param_entry(p, names, k);
        char *name = namebuf + (size_t)k * 48;
        dash_name(name, 48, info->name);
        out[k].name = name;
        out[k].has_arg = info->type == FK_PARAM_BOOL ? no_argument : required_argument;
        out[k].flag = NULL;
        out[k].val = base + k;
    }
    return k;
}

/* Set one parameter; on failure exit 2 (refused value) or 1, the message
 * prefixed by `what`. */
static void set_or_exit(const fkcli_params *p, const char *what, const char *name, const char *text)
{
    int rc = p->set_text(p->handle, name, text);
    if (rc == 0)
        return;
    if (rc == FK_ERANGE || rc == FK_EINVAL || rc == FK_ETYPE || rc == FK_ENOTFOUND)
        fkcli_lib_error(FKCLI_EXIT_USAGE, what);
    fkcli_lib_error(FKCLI_EXIT_FAILURE, what);
}

void fkcli_param_set(const fkcli_params *p, const char *const *names, int i, const char *text)
{
    const fk_param_info *info = fkcli_param_entry(p, names, i);
    char what[64] = "--";
    dash_name(what + 2, sizeof what - 2, info->name);
    set_or_exit(p, what, info->name, text ? text : "1");
}

void fkcli_param_help(FILE *out, const fkcli_params *p, const char *const *names)
{
    for (int k = 0; names[k]; k++) {
        const fk_param_info *info = fkcli_param_entry(p, names, k);
        char opt[48], left[80], def[64] = "";
        dash_name(opt, sizeof opt, info->name);
        const char *meta = info->type == FK_PARAM_BOOL              ? ""
                           : info->unit && !strcmp(info->unit, "s") ? " SECS"
                                                                    : " N";
        snprintf(left, sizeof left, "--%s%s", opt, meta);
        if (info->type == FK_PARAM_INT)
            snprintf(def, sizeof def, " (default %" PRId64 ")", info->default_int);
        fprintf(out, "  %-26s %s%s\n", left, info->help, def);
    }
}

/* The handle (index into ps) and bare name `name` means, or -1. */
static int find_named(const fkcli_params *ps, size_t n, const char *name, const char **bare_out)
{
    const char *dot = strchr(name, '.');
    for (size_t i = 0; i < n; i++) {
        const char *bare = name;
        if (dot) {
            size_t len = strlen(ps[i].owner);
            if ((size_t)(dot - name) != len || strncmp(name, ps[i].owner, len) != 0)
                continue;
            bare = dot + 1;
        }
        if (!fk_param_find(ps[i].table, ps[i].count, bare))
            continue;
        *bare_out = bare;
        return (int)i;
    }
    return -1;
}

bool fkcli_param_known(const fkcli_params *ps, size_t n, const char *name)
{
    const char *bare;
    return find_named(ps, n, name, &bare) >= 0;
}

void fkcli_set_named(const fkcli_params *ps, size_t n, const char *where, const char *name,
                     const char *value)
{
    const char *bare;
    int i = find_named(ps, n, name, &bare);
    if (i < 0)
        fkcli_usage("%s: unknown parameter \"%s\" (see --list-params)", where, name);
    set_or_exit(&ps[i], where, bare, value);
}

void fkcli_set(const fkcli_params *ps, size_t n, const char *assignment)
{
    const char *eq = strchr(assignment, '=');
    if (!eq || eq == assignment)
        fkcli_usage("--set expects NAME=VALUE, got \"%s\"", assignment);
    size_t len = (size_t)(eq - assignment);
    char *name = malloc(len + 1);
    if (!name)
        fkcli_fail("out of memory");
    memcpy(name, assignment, len);
    name[len] = '\0';
    fkcli_set_named(ps, n, "--set", name, eq + 1);
    free(name);
}

void fkcli_list_params(FILE *out, const fkcli_params *ps, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        const fk_param_info *t = ps[k].table;
        for (size_t i = 0; i < ps[k].count; i++) {
            fprintf(out, "%s.%s\t%s\t", ps[k].owner, t[i].name, fk_param_type_name(t[i].type));
            if (t[i].type == FK_PARAM_STRING)
                fprintf(out, "default=%s", t[i].default_string ? t[i].default_string : "");
            else if (t[i].type == FK_PARAM_DOUBLE)
                fprintf(out, "default=%g [%g, %g]", t[i].default_double, t[i].min_double,
                        t[i].max_double);
            else
                fprintf(out, "default=%" PRId64 " [%" PRId64 ", %" PRId64 "]", t[i].default_int,
                        t[i].min_int, t[i].max_int);
            fprintf(out, "%s%s\t%s\n", *t[i].unit ? " " : "", t[i].unit, t[i].help);
        }
    }
}
