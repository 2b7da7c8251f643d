/* Text form of TCP session events (the JSON lines contract). */
#include <flowkit/session.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "core/strbuf.h"

const char *fk_session_kind_name(int kind)
{
    switch (kind) {
    case FK_SESSION_SYN:
        return "syn";
    case FK_SESSION_FIN:
        return "fin";
    case FK_SESSION_RST:
        return "rst";
    default:
        return "unknown";
    }
}

int fk_session_event_to_json(const fk_session_event *ev, char *buf, size_t size)
{
    if (!ev || !buf || size == 0)
        return fk__error(FK_EINVAL, "fk_session_event_to_json: NULL argument");
    char src[FK_ADDR_STRLEN], dst[FK_ADDR_STRLEN], when[40];
    if (fk_addr_format(&ev->src, src, sizeof src) < 0)
        src[0] = '\0';
    if (fk_addr_format(&ev->dst, dst, sizeof dst) < 0)
        dst[0] = '\0';
    if (fk_time_format(ev->time_ns, when, sizeof when) < 0)
        when[0] = '\0';
    fk__strbuf o = FK__STRBUF(buf, size);
    fk__strbuf_printf(&o,
                      "{\"type\":\"event\",\"event\":\"%s\",\"time\":\"%s\",\"src_addr\":\"%s\","
                      "\"dst_addr\":\"%s\",\"src_port\":%u,\"dst_port\":%u,\"proto\":%u",
                      fk_session_kind_name(ev->kind), when, src, dst, ev->src_port, ev->dst_port,
                      ev->proto);
    if (ev->vlan)
        fk__strbuf_printf(&o, ",\"vlan\":%u", ev->vlan);
    if (ev->present & FK_SESSION_HAS_PROCESS) {
        fk__strbuf_printf(&o, ",\"pid\":%" PRIu32 ",\"process\":", ev->pid);
        fk__strbuf_json_string(&o, ev->process, strnlen(ev->process, sizeof ev->process));
    }
    /* The same keys, order and cuts as fk_flow_to_json(). */
    if (ev->user) {
        fk__strbuf_printf(&o, ",\"user\":");
        fk__strbuf_json_string(&o, ev->user, FK_FLOW_USER_MAX);
    }
    if (ev->present & FK_SESSION_HAS_UID)
        fk__strbuf_printf(&o, ",\"uid\":%" PRIu32, ev->uid);
    if (ev->exe) {
        fk__strbuf_printf(&o, ",\"exe\":");
        fk__strbuf_json_string(&o, ev->exe, FK_FLOW_EXE_MAX);
    }
    fk__strbuf_printf(&o, "}");
    if (o.overflow)
        return fk__error(FK_ENOSPACE, "fk_session_event_to_json: buffer of %zu bytes too small",
                         size);
    return (int)o.len;
}
