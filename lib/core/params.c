#include "core/params.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/alloc.h"
#include "core/error.h"

const char *fk_param_type_name(fk_param_type type)
{
    switch (type) {
    case FK_PARAM_INT:
        return "int";
    case FK_PARAM_BOOL:
        return "bool";
    case FK_PARAM_DOUBLE:
        return "double";
    case FK_PARAM_STRING:
        return "string";
    }
    return "unknown";
}

static bool name_matches(const char *table_name, const char *name)
{
    for (; *table_name && *name; table_name++, name++) {
        char c = *name == '-' ? '_' : *name;
        if (c != *table_name)
            return false;
    }
    return *table_name == '\0' && *name == '\0';
}

const fk_param_info *fk_param_find(const fk_param_info *table, size_t count, const char *name)
{
    if (!table || !name) {
        fk__error(FK_EINVAL, "fk_param_find: table and name must not be NULL");
        return NULL;
    }
    for (size_t i = 0; i < count; i++) {
        if (name_matches(table[i].name, name))
            return &table[i];
    }
    fk__error(FK_ENOTFOUND, "unknown parameter \"%s\"", name);
    return NULL;
}

int fk__params_init(fk__params *p, const char *owner, const fk_param_info *table, size_t count)
{
    memset(p, 0, sizeof *p);
    p->owner = owner;
    p->table = table;
    p->count = count;
    p->values = fk__calloc(count ? count : 1, sizeof *p->values);
    if (!p->values)
        return fk__error(FK_ENOMEM, "%s: out of memory for parameters", owner);
    for (size_t i = 0; i < count; i++) {
        switch (table[i].type) {
        case FK_PARAM_INT:
        case FK_PARAM_BOOL:
            p->values[i].i = table[i].default_int;
            break;
        case FK_PARAM_DOUBLE:
            p->values[i].d = table[i].default_double;
            break;
        case FK_PARAM_STRING:
            if (table[i].default_string) {
                p->values[i].s = fk__strdup(table[i].default_string);
                if (!p->values[i].s) {
                    fk__params_free(p);
                    return fk__error(FK_ENOMEM, "%s: out of memory for parameters", owner);
                }
            }
            break;
        }
    }
    return FK_OK;
}

void fk__params_free(fk__params *p)
{
    if (!p || !p->values)
        return;
    for (size_t i = 0; i < p->count; i++) {
        if (p->table[i].type == FK_PARAM_STRING)
            fk__free(p->values[i].s);
    }
    fk__free(p->values);
    p->values = NULL;
}

int fk__params_index(const fk__params *p, int id)
{
    for (size_t i = 0; i < p->count; i++) {
        if (p->table[i].id == id)
            return (int)i;
    }
    fk__error(FK_ENOTFOUND, "%s: unknown parameter id %d", p->owner, id);
    return -1;
}

/* Common checks of every setter: the id exists, the type fits, and the
 * handle is not yet activated unless the parameter is runtime-settable. */
static int setter_index(fk__params *p, int id, bool (*type_ok)(fk_param_type), const char *what)
{
    int idx = fk__params_index(p, id);
    if (idx < 0)
        return FK_ENOTFOUND;
    const fk_param_info *info = &p->table[idx];
    if (!type_ok(info->type))
        return fk__error(FK_ETYPE, "%s: parameter %s is %s, not %s", p->owner, info->name,
                         fk_param_type_name(info->type), what);
    if (p->activated && !(info->flags & FK_PARAM_RUNTIME))
        return fk__error(FK_EACTIVATED, "%s: parameter %s cannot change after activate", p->owner,
                         info->name);
    return idx;
}

static bool is_int_type(fk_param_type t)
{
    return t == FK_PARAM_INT || t == FK_PARAM_BOOL;
}
static bool is_double_type(fk_param_type t)
{
    return t == FK_PARAM_DOUBLE;
}
static bool is_string_type(fk_param_type t)
{
    return t == FK_PARAM_STRING;
}

int fk__params_set_int(fk__params *p, int id, int64_t value)
{
    int idx = setter_index(p, id, is_int_type, "an integer");
    if (idx < 0)
        return idx;
    const fk_param_info *info = &p->table[idx];
    if (value < info->min_int || value > info->max_int)
        return fk__error(FK_ERANGE,
                         "%s: %s = %" PRId64 " is out of range [%" PRId64 ", %" PRId64 "]",
                         p->owner, info->name, value, info->min_int, info->max_int);
    p->values[idx].i = value;
    return FK_OK;
}

int fk__params_set_double(fk__params *p, int id, double value)
{
    int idx = setter_index(p, id, is_double_type, "a double");
    if (idx < 0)
        return idx;
    const fk_param_info *info = &p->table[idx];
    if (isnan(value) || value < info->min_double || value > info->max_double)
        return fk__error(FK_ERANGE, "%s: %s = %g is out of range [%g, %g]", p->owner, info->name,
                         value, info->min_double, info->max_double);
    p->values[idx].d = value;
    return FK_OK;
}

int fk__params_set_str(fk__params *p, int id, const char *value)
{
    int idx = setter_index(p, id, is_string_type, "a string");
    if (idx < 0)
        return idx;
    char *copy = NULL;
    if (value) {
        copy = fk__strdup(value);
        if (!copy)
            return fk__error(FK_ENOMEM, "%s: out of memory setting %s", p->owner,
                             p->table[idx].name);
    }
    fk__free(p->values[idx].s);
    p->values[idx].s = copy;
    return FK_OK;
}

static int parse_bool(const char *text, int64_t *out)
{
    static const char *const yes[] = {"1", "true", "yes", "on"};
    static const char *const no[] = {"0", "false", "no", "off"};
    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(text, yes[i]) == 0) {
            *out = 1;
            return 0;
        }
        if (strcasecmp(text, no[i]) == 0) {
            *out = 0;
            return 0;
        }
    }
    return -1;
}

int fk__params_set_text_with(fk__params *p, const fk__param_setters *set, void *handle,
                             const char *name, const char *text)
{
    if (!name)
        return fk__error(FK_EINVAL, "%s: NULL parameter name", p->owner);
    const fk_param_info *info = fk_param_find(p->table, p->count, name);
    if (!info)
        return fk__error(FK_ENOTFOUND, "%s: unknown parameter \"%s\"", p->owner, name);
    if (!text)
        return fk__error(FK_EINVAL, "%s: no value for %s", p->owner, info->name);
    int64_t i;
    switch (info->type) {
    case FK_PARAM_BOOL:
        if (parse_bool(text, &i) != 0)
            return fk__error(FK_EINVAL, "%s: %s expects a boolean, got \"%s\"", p->owner,
                             info->name, text);
        break;
    case FK_PARAM_INT: {
        int64_t v;
        int rc = fk_param_parse_int(text, &v);
        if (rc == FK_ERANGE)
            return fk__error(FK_ERANGE, "%s: %s = %s is out of range [%" PRId64 ", %" PRId64 "]",
                             p->owner, info->name, text, info->min_int, info->max_int);
        if (rc != FK_OK)
            return fk__error(FK_EINVAL,
                             "%s: %s expects an integer (decimal, or hexadecimal after 0x), got "
                             "\"%s\"",
                             p->owner, info->name, text);
        i = v;
        break;
    }
    case FK_PARAM_DOUBLE: {
        double v;
        int rc = fk_param_parse_double(text, &v);
        if (rc != FK_OK)
            return fk__error(rc == FK_ERANGE ? FK_ERANGE : FK_EINVAL,
                             "%s: %s expects a decimal number, got \"%s\"", p->owner, info->name,
                             text);
        return set && set->set_double ? set->set_double(handle, info->id, v)
                                      : fk__params_set_double(p, info->id, v);
    }
    case FK_PARAM_STRING:
        return set && set->set_str ? set->set_str(handle, info->id, text)
                                   : fk__params_set_str(p, info->id, text);
    default:
        return fk__error(FK_ETYPE, "%s: %s has an unknown type", p->owner, info->name);
    }
    return set && set->set_int ? set->set_int(handle, info->id, i)
                               : fk__params_set_int(p, info->id, i);
}

int fk__params_set_text(fk__params *p, const char *name, const char *text)
{
    return fk__params_set_text_with(p, NULL, NULL, name, text);
}

static int getter_index(const fk__params *p, int id, bool (*type_ok)(fk_param_type),
                        const char *what)
{
    int idx = fk__params_index(p, id);
    if (idx < 0)
        return FK_ENOTFOUND;
    if (!type_ok(p->table[idx].type))
        return fk__error(FK_ETYPE, "%s: parameter %s is %s, not %s", p->owner, p->table[idx].name,
                         fk_param_type_name(p->table[idx].type), what);
    return idx;
}

int fk__params_get_int(const fk__params *p, int id, int64_t *out)
{
    int idx = getter_index(p, id, is_int_type, "an integer");
    if (idx < 0)
        return idx;
    *out = p->values[idx].i;
    return FK_OK;
}

int fk__params_get_double(const fk__params *p, int id, double *out)
{
    int idx = getter_index(p, id, is_double_type, "a double");
    if (idx < 0)
        return idx;
    *out = p->values[idx].d;
    return FK_OK;
}

int fk__params_get_str(const fk__params *p, int id, const char **out)
{
    int idx = getter_index(p, id, is_string_type, "a string");
    if (idx < 0)
        return idx;
    *out = p->values[idx].s;
    return FK_OK;
}

int64_t fk__params_int(const fk__params *p, int id)
{
    for (size_t i = 0; i < p->count; i++)
        if (p->table[i].id == id)
            return p->values[i].i;
    return 0;
}

double fk__params_double(const fk__params *p, int id)
{
    for (size_t i = 0; i < p->count; i++)
        if (p->table[i].id == id)
            return p->values[i].d;
    return 0.0;
}

const char *fk__params_str(const fk__params *p, int id)
{
    for (size_t i = 0; i < p->count; i++)
        if (p->table[i].id == id)
            return p->values[i].s;
    return NULL;
}
