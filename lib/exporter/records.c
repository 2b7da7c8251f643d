/* Records into the exporter: flows (one biflow record or two uniflow
 * records), session events, and caller records of caller templates. */
#include <string.h>

#include "exporter/exporter_state.h"
#include "ipfix/flow_template.h"

/* The exporter's tags, not the flow's own, go out with it. */
static int add_flow_one(fk_exporter *h, const fk_flow *f, const fk_exporter_process *proc, bool rev)
{
    uint8_t rec[FK__EXP_RECORD_MAX];
    unsigned mask;
    fk_flow tagged = *f;
    tagged.tags = h->tags.n ? h->tags_text : NULL;
    size_t len = fk__exp_encode_flow(rec, &tagged, proc, rev, &mask);
    uint16_t tid;
    int rc = fk__exp_builtin_template(h, mask, &tid);
    return rc ? rc : fk__exp_queue_record(h, tid, rec, len);
}

int fk_exporter_add_flow_process(fk_exporter *h, const fk_flow *flow,
                                 const fk_exporter_process *proc)
{
    CHECK_ACTIVE(h);
    if (!flow)
        return fk__error(FK_EINVAL, "exporter: NULL flow");
    if ((flow->src.family != 4 && flow->src.family != 6) || flow->dst.family != flow->src.family)
        return fk__error(FK_EINVAL, "exporter: flow without a consistent address family");
    fk_exporter_process from_flow;
    if (!proc && (flow->present & FK_FLOW_HAS_PROCESS)) {
        memset(&from_flow, 0, sizeof from_flow);
        from_flow.pid = flow->pid;
        from_flow.name = flow->process;
        from_flow.uid = (flow->present & FK_FLOW_HAS_UID) ? flow->uid : UINT32_MAX;
        from_flow.user = flow->user;
        from_flow.exe = flow->exe;
        proc = &from_flow;
    }
    bool has_rev = (flow->present & FK_FLOW_HAS_REVERSE) != 0;
    if (!has_rev || h->biflow)
        return add_flow_one(h, flow, proc, has_rev);
    fk_flow fwd, rev;
    int n = fk__ft_split_biflow(flow, &fwd, &rev);
    int rc = add_flow_one(h, &fwd, proc, false);
    return rc || n == 1 ? rc : add_flow_one(h, &rev, proc, false);
}

int fk_exporter_add_flow(fk_exporter *h, const fk_flow *flow)
{
    return fk_exporter_add_flow_process(h, flow, NULL);
}

int fk_exporter_add_event_process(fk_exporter *h, const fk_session_event *ev,
                                  const fk_exporter_process *proc)
{
    CHECK_ACTIVE(h);
    if (!ev)
        return fk__error(FK_EINVAL, "exporter: NULL event");
    if ((ev->src.family != 4 && ev->src.family != 6) || ev->dst.family != ev->src.family)
        return fk__error(FK_EINVAL, "exporter: event without a consistent address family");
    if (ev->kind < FK_SESSION_SYN || ev->kind > FK_SESSION_RST)
        return fk__error(FK_EINVAL, "exporter: unknown event kind %u", ev->kind);
    fk_exporter_process from_event;
    if (!proc && (ev->present & FK_SESSION_HAS_PROCESS)) {
        memset(&from_event, 0, sizeof from_event);
        from_event.pid = ev->pid;
        from_event.name = ev->process;
        from_event.uid = (ev->present & FK_SESSION_HAS_UID) ? ev->uid : UINT32_MAX;
        from_event.user = ev->user;
        from_event.exe = ev->exe;
        proc = &from_event;
    }
    uint8_t rec[FK__EXP_RECORD_MAX];
    unsigned mask;
    size_t len = fk__exp_encode_event(rec, ev, proc, h->tags.n ? h->tags_text : NULL, &mask);
    uint16_t tid;
    int rc = fk__exp_builtin_template(h, mask, &tid);
    return rc ? rc : fk__exp_queue_record(h, tid, rec, len);
}

int fk_exporter_add_event(fk_exporter *h, const fk_session_event *ev)
{
    return fk_exporter_add_event_process(h, ev, NULL);
}

int fk_exporter_add_record(fk_exporter *h, uint16_t template_id, const void *record, size_t len)
{
    CHECK_ACTIVE(h);
    if (!record)
        return fk__error(FK_EINVAL, "exporter: NULL record");
    const fk__exp_template *t = fk__exp_template_find(h, template_id);
    if (!t || template_id < FK_EXPORTER_USER_TEMPLATE_MIN)
        return fk__error(FK_ENOTEMPLATE, "exporter: no caller template %u", template_id);
    int rc = fk__exp_record_check(t, record, len);
    return rc ? rc : fk__exp_queue_record(h, template_id, record, len);
}
