/* JSON of a NetFlow options record. */
#include <inttypes.h>
#include <stdint.h>

#include "core/error.h"
#include "core/strbuf.h"
#include "netflow/session_int.h"

static void jstring(fk__strbuf *j, const char *key, const char *s)
{
    fk__strbuf_printf(j, ",\"%s\":", key);
    fk__strbuf_json_string(j, s, SIZE_MAX);
}

int fk_netflow_options_to_json(const fk_netflow_record *rec, char *buf, size_t size)
{
    if (!rec || !buf || !size || rec->kind != FK_NETFLOW_RECORD_OPTIONS || !rec->options ||
        !rec->header)
        return fk__error(FK_EINVAL, "fk_netflow_options_to_json: not an options record");
    const fk_netflow_options *o = rec->options;
    char addr[FK_ADDR_STRLEN] = "";
    if (rec->exporter && fk_addr_format(rec->exporter, addr, sizeof addr) < 0)
        addr[0] = '\0';
    fk__strbuf j = FK__STRBUF(buf, size);
    fk__strbuf_printf(
        &j,
        "{\"type\":\"options\",\"exporter\":\"%s\",\"odid\":%" PRIu32
        ",\"version\":%u,\"template_id\":%u,\"scope_type\":%u,\"scope_value\":%" PRIu64,
        addr, rec->header->source_id, rec->header->version, rec->template_id, o->scope_type,
        o->scope_value);
    if (o->present & FK_NETFLOW_OPT_SAMPLING_INTERVAL)
        fk__strbuf_printf(&j, ",\"sampling_interval\":%" PRIu32, o->sampling_interval);
    if (o->present & FK_NETFLOW_OPT_SAMPLING_ALGORITHM)
        fk__strbuf_printf(&j, ",\"sampling_algorithm\":%u", o->sampling_algorithm);
    if (o->present & FK_NETFLOW_OPT_SAMPLER_ID)
        fk__strbuf_printf(&j, ",\"sampler_id\":%" PRIu64, o->sampler_id);
    if (o->present & FK_NETFLOW_OPT_IFINDEX)
        fk__strbuf_printf(&j, ",\"ifindex\":%" PRIu32, o->ifindex);
    if (o->present & FK_NETFLOW_OPT_IF_NAME)
        jstring(&j, "if_name", o->if_name);
    if (o->present & FK_NETFLOW_OPT_IF_DESC)
        jstring(&j, "if_desc", o->if_desc);
    if (o->present & FK_NETFLOW_OPT_SAMPLER_NAME)
        jstring(&j, "sampler_name", o->sampler_name);
    fk__strbuf_printf(&j, "}");
    if (j.overflow)
        return fk__error(FK_ENOSPACE, "fk_netflow_options_to_json: buffer of %zu bytes too small",
                         size);
    return (int)j.len;
}
