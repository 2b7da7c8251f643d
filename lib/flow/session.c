/* Text form of TCP session events (the JSON lines contract). */
#include <flowkit/session.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "core/error.h"

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

/* Process names are user-controlled: escape quote, backslash and controls. */
static size_t json_escape(char *dst, size_t size, const char *s, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < max && s[i]; i++) {
        unsigned char c = (unsigned char)s[i];
        char tmp[8];
        int k;
        if (c == '"' || c == '\\')
            k = snprintf(tmp, sizeof tmp, "\\%c", c);
        else if (c < 0x20)
            k = snprintf(tmp, sizeof tmp, "\\u%04x", c);
        else
            k = snprintf(tmp, sizeof tmp, "%c", c);
        if (n + (size_t)k + 1 > size)
            break;
        memcpy(dst + n, tmp, (size_t)k);
        n += (size_t)k;
    }
    dst[n] = '\0';
    return n;
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
    int n = snprintf(buf, size,
                     "{\"type\":\"event\",\"event\":\"%s\",\"time\":\"%s\",\"src_addr\":\"%s\","
                     "\"dst_addr\":\"%s\",\"src_port\":%u,\"dst_port\":%u,\"proto\":%u",
                     fk_session_kind_name(ev->kind), when, src, dst, ev->src_port, ev->dst_port,
                     ev->proto);
    if (n < 0 || (size_t)n >= size)
        goto nospace;
    size_t len = (size_t)n;
    if (ev->vlan) {
        n = snprintf(buf + len, size - len, ",\"vlan\":%u", ev->vlan);
        if (n < 0 || (size_t)n >= size - len)
            goto nospace;
        len += (size_t)n;
    }
    if (ev->present & FK_SESSION_HAS_PROCESS) {
        char name[FK_PROCESS_NAME_MAX * 6 + 1];
        json_escape(name, sizeof name, ev->process, sizeof ev->process);
        n = snprintf(buf + len, size - len, ",\"pid\":%" PRIu32 ",\"process\":\"%s\"", ev->pid,
                     name);
        if (n < 0 || (size_t)n >= size - len)
            goto nospace;
        len += (size_t)n;
    }
    /* The same keys, order and cuts as fk_flow_to_json(). */
    if (ev->user) {
        char user[FK_FLOW_USER_MAX * 6 + 1];
        json_escape(user, sizeof user, ev->user, FK_FLOW_USER_MAX);
        n = snprintf(buf + len, size - len, ",\"user\":\"%s\"", user);
        if (n < 0 || (size_t)n >= size - len)
            goto nospace;
        len += (size_t)n;
    }
    if (ev->present & FK_SESSION_HAS_UID) {
        n = snprintf(buf + len, size - len, ",\"uid\":%" PRIu32, ev->uid);
        if (n < 0 || (size_t)n >= size - len)
            goto nospace;
        len += (size_t)n;
    }
    if (ev->exe) {
        char exe[FK_FLOW_EXE_MAX * 6 + 1];
        json_escape(exe, sizeof exe, ev->exe, FK_FLOW_EXE_MAX);
        n = snprintf(buf + len, size - len, ",\"exe\":\"%s\"", exe);
        if (n < 0 || (size_t)n >= size - len)
            goto nospace;
        len += (size_t)n;
    }
    if (len + 2 > size)
        goto nospace;
    buf[len++] = '}';
    buf[len] = '\0';
    return (int)len;
nospace:
    return fk__error(FK_ENOSPACE, "fk_session_event_to_json: buffer of %zu bytes too small", size);
}
