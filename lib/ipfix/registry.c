/* Information element registry: built-in IANA + reverse table, runtime
 * enterprise elements, lookups by (PEN, id) and by name. */
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "ipfix/registry.h"

static const char *const type_names[] = {"octetArray",
                                         "unsigned8",
                                         "unsigned16",
                                         "unsigned32",
                                         "unsigned64",
                                         "signed8",
                                         "signed16",
                                         "signed32",
                                         "signed64",
                                         "float32",
                                         "float64",
                                         "boolean",
                                         "macAddress",
                                         "string",
                                         "dateTimeSeconds",
                                         "dateTimeMilliseconds",
                                         "dateTimeMicroseconds",
                                         "dateTimeNanoseconds",
                                         "ipv4Address",
                                         "ipv6Address",
                                         "basicList",
                                         "subTemplateList",
                                         "subTemplateMultiList"};

static const char *const semantics_names[] = {"default",      "quantity",    "totalCounter",
                                              "deltaCounter", "identifier",  "flags",
                                              "list",         "snmpCounter", "snmpGauge"};

const char *fk_ie_type_name(int type)
{
    if (type >= 0 && (size_t)type < sizeof type_names / sizeof type_names[0])
        return type_names[type];
    return "unknown";
}

const char *fk_ie_semantics_name(int semantics)
{
    if (semantics >= 0 && (size_t)semantics < sizeof semantics_names / sizeof semantics_names[0])
        return semantics_names[semantics];
    return "unknown";
}

int fk_ie_get_builtin(size_t index, const fk_ie **out)
{
    if (index == (size_t)-1)
        return (int)fk__ie_table_len;
    if (index >= fk__ie_table_len)
        return fk__error(FK_ERANGE, "ie registry: index %zu past the %zu built-in elements", index,
                         fk__ie_table_len);
    if (out)
        *out = &fk__ie_table[index];
    return 0;
}

/* Binary search by id in [lo, hi) of the built-in table (sorted by id). */
static const fk_ie *builtin_by_id(size_t lo, size_t hi, uint16_t id)
{
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (fk__ie_table[mid].id == id)
            return &fk__ie_table[mid];
        if (fk__ie_table[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

int fk_ie_lookup(const fk_ie_registry *reg, uint32_t pen, uint16_t id, const fk_ie **out)
{
    const fk_ie *ie = NULL;
    id &= 0x7fffu;
    if (pen == 0)
        ie = builtin_by_id(0, fk__ie_iana_len, id);
    else if (pen == FK_PEN_REVERSE)
        ie = builtin_by_id(fk__ie_iana_len, fk__ie_table_len, id);
    else if (reg) {
        for (size_t i = 0; i < reg->count; i++)
            if (reg->extra[i].pen == pen && reg->extra[i].id == id) {
                ie = &reg->extra[i];
                break;
            }
    }
    if (out)
        *out = ie;
    if (!ie)
        return FK_ENOTFOUND; /* a miss is common on the template path: no message */
    return 0;
}

int fk_ie_lookup_name(const fk_ie_registry *reg, const char *name, const fk_ie **out)
{
    if (out)
        *out = NULL;
    if (!out || !name)
        return fk__error(FK_EINVAL, "ie registry: NULL argument");
    size_t lo = 0, hi = fk__ie_table_len;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const fk_ie *ie = &fk__ie_table[fk__ie_name_index[mid]];
        int c = strcmp(ie->name, name);
        if (c == 0) {
            *out = ie;
            return 0;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (reg)
        for (size_t i = 0; i < reg->count; i++)
            if (strcmp(reg->extra[i].name, name) == 0) {
                *out = &reg->extra[i];
                return 0;
            }
    return fk__error(FK_ENOTFOUND, "ie registry: no element named \"%s\"", name);
}

int fk_ie_registry_create(fk_ie_registry **out)
{
    if (!out)
        return fk__error(FK_EINVAL, "ie registry: NULL output");
    *out = FK__NEW(fk_ie_registry);
    if (!*out)
        return fk__error(FK_ENOMEM, "ie registry: out of memory");
    return 0;
}

void fk_ie_registry_destroy(fk_ie_registry *reg)
{
    if (!reg)
        return;
    for (size_t i = 0; i < reg->count; i++) {
        fk__free((char *)reg->extra[i].name);
        fk__free((char *)reg->extra[i].units);
    }
    fk__free(reg->extra);
    fk__free(reg);
}

int fk_ie_registry_add(fk_ie_registry *reg, const fk_ie *ie)
{
    const fk_ie *found;
    if (!reg || !ie || !ie->name || !ie->name[0])
        return fk__error(FK_EINVAL, "ie registry: element needs a registry and a name");
    if (ie->pen == 0 || ie->pen == FK_PEN_REVERSE)
        return fk__error(FK_EINVAL, "ie registry: %s: enterprise number %u is reserved", ie->name,
                         (unsigned)ie->pen);
    if (ie->id >= 0x8000u)
        return fk__error(FK_EINVAL, "ie registry: %s: id %u is not below 32768", ie->name,
                         (unsigned)ie->id);
    if ((ie->type > FK_IE_SUB_TEMPLATE_MULTI_LIST) || ie->semantics > FK_IE_SEM_SNMP_GAUGE)
        return fk__error(FK_EINVAL, "ie registry: %s: bad type %u or semantics %u", ie->name,
                         (unsigned)ie->type, (unsigned)ie->semantics);
    if (fk_ie_lookup(reg, ie->pen, ie->id, &found) == 0)
        return fk__error(FK_EEXIST, "ie registry: (%u, %u) is already registered as %s",
                         (unsigned)ie->pen, (unsigned)ie->id, found->name);
    if (fk_ie_lookup_name(reg, ie->name, &found) == 0)
        return fk__error(FK_EEXIST, "ie registry: the name %s is already registered", ie->name);
    if (reg->count == reg->cap) {
        size_t ncap = reg->cap ? reg->cap * 2 : 16;
        fk_ie *n = fk__reallocarray(reg->extra, ncap, sizeof *n);
        if (!n)
            return fk__error(FK_ENOMEM, "ie registry: out of memory");
        reg->extra = n;
        reg->cap = ncap;
    }
    fk_ie copy = *ie;
    copy.name = fk__strdup(ie->name);
    copy.units = fk__strdup(ie->units ? ie->units : "");
    if (!copy.name || !copy.units) {
        fk__free((char *)copy.name);
        fk__free((char *)copy.units);
        return fk__error(FK_ENOMEM, "ie registry: out of memory");
    }
    reg->extra[reg->count++] = copy;
    return 0;
}
