/* The BPF attribution source (see src_bpf.h): drains the kernel's ring
 * buffer into a bounded table of recent owners and pushes each owner to the
 * engine; answers look-ups from that table. */
#include "proc/src_bpf.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bpf/backend.h"
#include "bpf/owners.h"
#include "core/alloc.h"
#include "core/clock.h"
#include "core/error.h"
#include "proc/pidindex.h"

/* Processes seen lately: their name and exe as they were when their first
 * record arrived (direct-mapped by tgid, bounded). */
#define EXE_SLOTS 1024

typedef struct exe_slot {
    uint32_t tgid;
    char comm[16];
    char *exe;
} exe_slot;

typedef struct src_bpf {
    fk__source base;
    fk__bpf *bpf;
    fk__bpf_owners *owners;
    char *proc_root;
    exe_slot exes[EXE_SLOTS];
    /* during a drain */
    fk__owner_event_cb cb;
    void *cb_user;
    int64_t mono_to_real; /* add to a kernel (monotonic) time */
    size_t pushed;
    uint64_t events; /* owners pushed to the engine */
} src_bpf;

static const char *exe_of(src_bpf *s, uint32_t tgid, const char *comm)
{
    exe_slot *e = &s->exes[tgid % EXE_SLOTS];
    if (e->tgid == tgid && e->tgid)
        return e->exe;
    fk__free(e->exe);
    memset(e, 0, sizeof *e);
    e->tgid = tgid;
    snprintf(e->comm, sizeof e->comm, "%s", comm);
    char path[PATH_MAX], link[PATH_MAX];
    snprintf(path, sizeof path, "%s/%u/exe", s->proc_root, tgid);
    ssize_t n = readlink(path, link, sizeof link - 1);
    if (n > 0) {
        link[n] = '\0';
        e->exe = fk__strdup(link);
    }
    return e->exe;
}

static void owner_from(fk__owner *o, const fk__bpf_owner *ev, int64_t mono_to_real)
{
    memset(o, 0, sizeof *o);
    o->tgid = ev->tgid;
    o->pid = ev->pid ? ev->pid : ev->tgid;
    o->uid = ev->uid;
    snprintf(o->comm, sizeof o->comm, "%s", ev->comm);
    o->cgroup_id = ev->cgroup;
    o->time_ns = ev->ts_mono_ns + mono_to_real;
}

static int on_record(const fk__bpf_owner *ev, void *ctx)
{
    src_bpf *s = ctx;
    const char *exe = NULL;
    if (ev->kind == FK__BPF_OWNER_KIND_OWNER && ev->tgid)
        exe = exe_of(s, ev->tgid, ev->comm);
    /* Out of memory for the table: the engine's history still gets it. */
    (void)fk__bpf_owners_apply(s->owners, ev, exe, fk__mono_ns());
    if (ev->kind != FK__BPF_OWNER_KIND_OWNER || !ev->tgid || !s->cb)
        return 0;
    fk__owner_event oe;
    fk__tkey_make(&oe.key, ev->proto, &ev->local, ev->lport, &ev->remote, ev->rport);
    owner_from(&oe.owner, ev, s->mono_to_real);
    s->cb(&oe, s->cb_user);
    s->pushed++;
    s->events++;
    return 0;
}

static size_t bpf_drain(fk__source *src, fk__owner_event_cb cb, void *user)
{
    src_bpf *s = (src_bpf *)src;
    s->cb = cb;
    s->cb_user = user;
    s->pushed = 0;
    s->mono_to_real = fk__real_ns() - fk__mono_ns();
    (void)fk__bpf_drain(s->bpf, on_record, s); /* a read error shows as lost events */
    s->cb = NULL;
    s->cb_user = NULL;
    return s->pushed;
}

static const fk__bpf_owner_entry *find(src_bpf *s, const fk__tkey *k)
{
    fk_addr l, r;
    fk__tkey_addr(&l, k->l);
    fk__tkey_addr(&r, k->r);
    return fk__bpf_owners_find(s->owners, k->proto, &l, k->lp, &r, k->rp);
}

static int bpf_lookup(fk__source *src, const fk__tkey *k, unsigned flags, int64_t ts_ns,
                      fk__owner *out)
{
    (void)flags;
    (void)ts_ns;
    src_bpf *s = (src_bpf *)src;
    const fk__bpf_owner_entry *e = find(s, k);
    if (!e || !e->owner.tgid)
        return FK__SRC_NONE;
    owner_from(out, &e->owner, fk__real_ns() - fk__mono_ns());
    return FK__SRC_FOUND;
}

static bool bpf_has_socket(fk__source *src, const fk__tkey *k)
{
    return find((src_bpf *)src, k) != NULL;
}

/* A live process from /proc; one already gone from what was read when its
 * first record arrived. */
static int bpf_describe(fk__source *src, uint32_t pid, fk__proc_desc *out)
{
    src_bpf *s = (src_bpf *)src;
    const exe_slot *e = &s->exes[pid % EXE_SLOTS];
    if (!out || !pid)
        return FK__SRC_NONE;
    fk__proc p;
    memset(&p, 0, sizeof p);
    p.pid = pid;
    p.uid = UINT32_MAX;
    fk__proc_load_info(s->proc_root, &p);
    if (p.name[0] || p.exe) {
        memset(out, 0, sizeof *out);
        snprintf(out->name, sizeof out->name, "%s", p.name);
        out->uid = p.uid;
        out->user = p.user; /* the strings move to out */
        out->exe = p.exe;
        out->cmdline = p.cmdline;
        out->cgroup = p.cgroup;
        return FK__SRC_FOUND;
    }
    fk__free(p.user);
    fk__free(p.cmdline);
    fk__free(p.cgroup);
    if (e->tgid != pid)
        return FK__SRC_NONE;
    memset(out, 0, sizeof *out);
    out->uid = UINT32_MAX;
    snprintf(out->name, sizeof out->name, "%s", e->exe ? e->exe : e->comm);
    out->exe = e->exe ? fk__strdup(e->exe) : NULL;
    return FK__SRC_FOUND;
}

static int bpf_tick(fk__source *src, int64_t now_ns)
{
    (void)now_ns; /* the table runs on the monotonic clock, like the kernel's times */
    src_bpf *s = (src_bpf *)src;
    fk__bpf_owners_expire(s->owners, fk__mono_ns());
    return 0;
}

static int bpf_get_fd(fk__source *src)
{
    return fk__bpf_get_fd(((src_bpf *)src)->bpf);
}

static void bpf_get_stats(fk__source *src, fk__source_stats *out)
{
    src_bpf *s = (src_bpf *)src;
    fk__bpf_stats bs;
    fk__bpf_get_stats(s->bpf, &bs);
    fk__bpf_owners_stats os;
    fk__bpf_owners_get_stats(s->owners, &os);
    out->events += s->events;
    out->events_lost += bs.lost_ring + bs.lost_storage + bs.malformed;
    out->owners_evicted += os.evicted;
}

static void bpf_destroy(fk__source *src)
{
    src_bpf *s = (src_bpf *)src;
    if (!s)
        return;
    fk__bpf_close(s->bpf);
    fk__bpf_owners_destroy(s->owners);
    for (size_t i = 0; i < EXE_SLOTS; i++)
        fk__free(s->exes[i].exe);
    fk__free(s->proc_root);
    fk__free(s);
}

static const fk__source_ops bpf_ops = {
    .name = "bpf",
    .lookup = bpf_lookup,
    .drain = bpf_drain,
    .has_socket = bpf_has_socket,
    .describe = bpf_describe,
    .tick = bpf_tick,
    .get_fd = bpf_get_fd,
    .get_stats = bpf_get_stats,
    .destroy = bpf_destroy,
};

int fk__src_bpf_open(fk__source **out, const fk__src_bpf_config *cfg)
{
    *out = NULL;
    src_bpf *s = FK__NEW(src_bpf);
    if (!s)
        return fk__error(FK_ENOMEM, "attribution: out of memory");
    s->base.ops = &bpf_ops;
    s->proc_root = fk__strdup(cfg && cfg->proc_root ? cfg->proc_root : "/proc");
    uint32_t max = cfg && cfg->max_owners ? cfg->max_owners : 65536;
    int64_t keep = cfg && cfg->keep_ns > 0 ? cfg->keep_ns : INT64_C(30000000000);
    int rc = s->proc_root ? 0 : fk__error(FK_ENOMEM, "attribution: out of memory");
    if (!rc)
        rc = fk__bpf_owners_create(&s->owners, max, keep);
    fk__bpf_config bc = {.cgroup_path = NULL,
                         .ring_bytes = cfg ? cfg->ring_bytes : 0,
                         .ifindexes = cfg ? cfg->ifindexes : NULL,
                         .n_ifindexes = cfg ? cfg->n_ifindexes : 0};
    if (!rc)
        rc = fk__bpf_open(&s->bpf, &bc);
    if (rc) {
        bpf_destroy(&s->base);
        return rc;
    }
    *out = &s->base;
    return 0;
}
