/* The ebpf backend (FK_CAP_BACKEND "ebpf" or "xdp"): flows are counted in
 * the kernel (lib/bpf/flow.bpf.c) and only per-flow records and session
 * events reach user space.
 *
 *   ring buffer ── every dispatch ──► session events ─► fk__session_to_callback
 *                                     flows the kernel ended (TCP port reuse) ─► on_end
 *   flow map    ── every tick (1 s) ─► sweep: idle / active / TCP end ─►
 *                                     lookup-and-delete ─► fk__flow_to_callback
 *
 * The timeouts are the pcap path's (FK_CAP_IDLE_TIMEOUT, FK_CAP_ACTIVE_TIMEOUT,
 * 1 s linger after a TCP end), applied at each sweep, so with 1 s
 * granularity. Kernel times are CLOCK_MONOTONIC; records carry
 * CLOCK_REALTIME, converted with the offset between the two clocks at the
 * time of the conversion. */
#include <inttypes.h>
#include <net/if.h>
#include <string.h>
#include <time.h>

#include "bpf/flows.h"
#include "capture/capture_int.h"
#include "core/alloc.h"
#include "core/error.h"
#include "core/log.h"

#define LINGER_NS INT64_C(1000000000)
#define TCP_FIN 0x01u
#define TCP_RST 0x04u
#define DEFAULT_SNAPLEN 262144

typedef struct ebpf_state {
    fk__bpf_flows *flows;
    int64_t idle_ns, active_ns;
    int64_t now_mono;  /* the sweep's time */
    int64_t mono2real; /* CLOCK_REALTIME - CLOCK_MONOTONIC, ns */
    bool forced;       /* the final sweep: everything ends */
    uint64_t records, deleted;
} ebpf_state;

static int64_t clock_ns(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void update_clocks(ebpf_state *st)
{
    /* The realtime reading between two monotonic ones, their midpoint its
     * monotonic time: off by half the gap at most (tens of ns), not by the
     * whole gap, whichever way a preemption falls. */
    int64_t m0 = clock_ns(CLOCK_MONOTONIC);
    int64_t real = clock_ns(CLOCK_REALTIME);
    st->now_mono = clock_ns(CLOCK_MONOTONIC);
    st->mono2real = real - (m0 + (st->now_mono - m0) / 2);
}

/* What only libpcap can do is refused, naming the parameter. */
static int check_params(fk_capture *h, const char *backend)
{
    const char *why = NULL;
    if (h->nfiles)
        why = "reads live devices only; replay files with backend = pcap";
    else if (fk__params_str(&h->params, FK_CAP_FILTER))
        why = "counts every packet in the kernel: filter applies to backend = pcap only";
    else if (fk__params_int(&h->params, FK_CAP_SNAPLEN) != DEFAULT_SNAPLEN)
        why = "copies no packet to user space: snaplen applies to backend = pcap only";
    else if (fk__params_str(&h->params, FK_CAP_PCAP_STORE))
        why = "copies no packet to user space: pcap_store applies to backend = pcap only";
    if (why)
        return fk__error(FK_EUNSUPPORTED, "capture: backend = %s %s", backend, why);
    return 0;
}

/* Sources: the devices asked for; none or "any": every device up and not
 * loopback. */
static int open_sources(fk_capture *h)
{
    char **names = h->devices;
    size_t n = h->ndevices;
    char **defaults = NULL;
    bool any = false;
    for (size_t i = 0; i < n; i++)
        any |= strcmp(names[i], "any") == 0;
    if (n == 0 || any) {
        int rc = fk__capture_default_devices(&defaults, &n);
        if (rc < 0)
            return rc;
        names = defaults;
    }
    int rc = 0;
    h->sources = fk__calloc(n, sizeof *h->sources);
    if (!h->sources)
        rc = fk__error(FK_ENOMEM, "capture: out of memory");
    for (size_t i = 0; rc == 0 && i < n; i++) {
        fk__cap_source *s = &h->sources[i];
        h->nsources++;
        s->h = h;
        s->fd = -1;
        s->linktype = 1;
        s->name = fk__strdup(names[i]);
        if (!s->name) {
            rc = fk__error(FK_ENOMEM, "capture: out of memory");
            break;
        }
        s->ifindex = if_nametoindex(names[i]);
        if (s->ifindex == 0)
            rc = fk__error(FK_ENODEV, "%s: no such device", names[i]);
    }
    for (size_t i = 0; defaults && i < n; i++)
        fk__free(defaults[i]);
    fk__free(defaults);
    return rc;
}

static int be_open(fk_capture *h)
{
    const char *backend = fk__params_str(&h->params, FK_CAP_BACKEND);
    int rc = check_params(h, backend);
    if (rc == 0)
        rc = open_sources(h);
    if (rc < 0)
        return rc;
    ebpf_state *st = FK__NEW(ebpf_state);
    if (!st)
        return fk__error(FK_ENOMEM, "capture: out of memory");
    h->backend_state = st;
    st->idle_ns = fk__params_int(&h->params, FK_CAP_IDLE_TIMEOUT) * INT64_C(1000000000);
    st->active_ns = fk__params_int(&h->params, FK_CAP_ACTIVE_TIMEOUT) * INT64_C(1000000000);
    uint32_t *ifx = fk__calloc(h->nsources, sizeof *ifx);
    const char **names = fk__calloc(h->nsources, sizeof *names);
    if (!ifx || !names) {
        fk__free(ifx);
        fk__free(names);
        return fk__error(FK_ENOMEM, "capture: out of memory");
    }
    for (size_t i = 0; i < h->nsources; i++) {
        ifx[i] = h->sources[i].ifindex;
        names[i] = h->sources[i].name;
    }
    fk__bpf_flows_config cfg = {
        .ifindexes = ifx,
        .names = names,
        .n_ifindexes = h->nsources,
        .xdp = strcmp(backend, "xdp") == 0,
        .tunnels = fk__params_int(&h->params, FK_CAP_DECODE_TUNNELS) != 0,
        .clock_precise = strcmp(fk__params_str(&h->params, FK_CAP_EBPF_CLOCK), "precise") == 0,
        .max_flows = (uint32_t)fk__params_int(&h->params, FK_CAP_MAX_FLOWS),
        .cache_slots = (uint32_t)fk__params_int(&h->params, FK_CAP_EBPF_CACHE_SLOTS),
    };
    rc = fk__bpf_flows_open(&st->flows, &cfg);
    fk__free(ifx);
    fk__free(names);
    if (rc < 0) {
        char why[512];
        snprintf(why, sizeof why, "%s", fk_error_last()->message);
        return fk__error(rc, "capture: backend = %s cannot start: %s", backend, why);
    }
    update_clocks(st);
    fk__bpf_flows_stats ks;
    fk__bpf_flows_get_stats(st->flows, &ks);
    FK__LOG_INFO("capture",
                 "backend %s: flows counted in the kernel on %zu device(s), flow cache of %u "
                 "slots per CPU",
                 backend, h->nsources, ks.cache_slots);
    return 0;
}

static int be_get_fd(const fk_capture *h)
{
    const ebpf_state *st = h->backend_state;
    return st ? fk__bpf_flows_get_fd(st->flows) : -1;
}

static void on_end(const struct fk__bpf_flow_key *k, const struct fk__bpf_flow_val *v, int reason,
                   void *ctx);

static void on_session(const fk__bpf_session *s, void *ctx)
{
    fk_capture *h = ctx;
    ebpf_state *st = h->backend_state;
    fk_session_event ev = s->ev;
    ev.time_ns += st->mono2real;
    if (h->attrib)
        fk__cap_attrib_session(h, &ev, s->ifindex);
    fk__session_to_callback(h, &ev);
}

static void drain_events(fk_capture *h)
{
    ebpf_state *st = h->backend_state;
    update_clocks(st);
    if (fk__bpf_flows_drain(st->flows, on_session, on_end, h) < 0)
        FK__LOG_WARN("capture", "%s", fk_error_last()->message);
}

static bool be_read(fk_capture *h, int max)
{
    (void)max; /* no packets come to user space */
    drain_events(h);
    return false;
}

static bool tcp_closed(const struct fk__bpf_flow_key *k, const struct fk__bpf_flow_val *v)
{
    if (k->proto != 6)
        return false;
    uint32_t a = v->tcp_flags & 0xff, b = (v->tcp_flags >> 8) & 0xff;
    return ((a | b) & TCP_RST) || ((a & TCP_FIN) && (b & TCP_FIN));
}

static int64_t max64(int64_t a, int64_t b)
{
    return a > b ? a : b;
}

static int decide(const struct fk__bpf_flow_key *k, const struct fk__bpf_flow_val *v, void *ctx)
{
    const ebpf_state *st = ((fk_capture *)ctx)->backend_state;
    bool closed = tcp_closed(k, v);
    if (st->forced)
        return closed ? FK_END_DETECTED : FK_END_FORCED;
    int64_t last = max64((int64_t)v->last_ns[0], (int64_t)v->last_ns[1]);
    int64_t first =
        v->first_ns[0] && v->first_ns[1]
            ? (int64_t)(v->first_ns[0] < v->first_ns[1] ? v->first_ns[0] : v->first_ns[1])
            : (int64_t)(v->first_ns[0] | v->first_ns[1]);
    if (closed && st->now_mono - last >= LINGER_NS)
        return FK_END_DETECTED;
    if (st->idle_ns && st->now_mono - last >= st->idle_ns)
        return FK_END_IDLE;
    if (st->active_ns && st->now_mono - first >= st->active_ns)
        return closed ? FK_END_DETECTED : FK_END_ACTIVE;
    return 0;
}

static void fill_addr(fk_addr *a, const uint8_t *bytes, uint8_t family)
{
    a->family = family;
    memcpy(a->bytes, bytes, 16);
}

/* One record from the kernel's counters, as the flow table would make it. */
static void on_end(const struct fk__bpf_flow_key *k, const struct fk__bpf_flow_val *v, int reason,
                   void *ctx)
{
    fk_capture *h = ctx;
    ebpf_state *st = h->backend_state;
    st->deleted++;
    int f = v->init_side & 1, r = 1 - f;
    if (v->packets[0] + v->packets[1] == 0)
        return;
    st->records++;
    int64_t off = st->mono2real;
    fk__flow_record rec;
    memset(&rec, 0, sizeof rec);
    fk_flow *fl = &rec.flow;
    fill_addr(&fl->src, f == 0 ? k->a : k->b, k->family);
    fill_addr(&fl->dst, f == 0 ? k->b : k->a, k->family);
    if (k->proto == 1 || k->proto == 58) {
        fl->src_port = 0;
        fl->dst_port = v->first_typecode;
    } else {
        fl->src_port = f == 0 ? k->pa : k->pb;
        fl->dst_port = f == 0 ? k->pb : k->pa;
    }
    fl->proto = k->proto;
    fl->tcp_flags = (uint8_t)(v->tcp_flags >> (8 * f));
    fl->rev_tcp_flags = (uint8_t)(v->tcp_flags >> (8 * r));
    fl->tos = v->tos;
    fl->vlan = k->vlan;
    fl->present = FK_FLOW_HAS_REVERSE | FK_FLOW_HAS_END_REASON | FK_FLOW_HAS_IFACES;
    fl->bytes = v->bytes[f];
    fl->packets = v->packets[f];
    fl->rev_bytes = v->bytes[r];
    fl->rev_packets = v->packets[r];
    if ((k->proto == 1 || k->proto == 58) && v->packets[r]) {
        fl->rev_icmp = v->other_typecode;
        fl->present |= FK_FLOW_HAS_REV_ICMP;
    }
    if (v->hook == FK__BPF_HOOK_INGRESS) {
        fl->direction = FK_DIRECTION_INGRESS;
        fl->in_if = v->ifindex;
    } else {
        fl->direction = FK_DIRECTION_EGRESS;
        fl->out_if = v->ifindex;
    }
    rec.fwd_first_ns = v->packets[f] ? (int64_t)v->first_ns[f] + off : 0;
    rec.fwd_last_ns = v->packets[f] ? (int64_t)v->last_ns[f] + off : 0;
    rec.rev_first_ns = v->packets[r] ? (int64_t)v->first_ns[r] + off : 0;
    rec.rev_last_ns = v->packets[r] ? (int64_t)v->last_ns[r] + off : 0;
    if (v->packets[f] && v->packets[r]) {
        fl->start_ns = rec.fwd_first_ns < rec.rev_first_ns ? rec.fwd_first_ns : rec.rev_first_ns;
        fl->end_ns = max64(rec.fwd_last_ns, rec.rev_last_ns);
    } else if (v->packets[f]) {
        fl->start_ns = rec.fwd_first_ns;
        fl->end_ns = rec.fwd_last_ns;
    } else {
        fl->start_ns = rec.rev_first_ns;
        fl->end_ns = rec.rev_last_ns;
    }
    fl->end_reason = (uint8_t)reason;
    if (v->tunnel) {
        fl->tunnel = v->tunnel;
        fill_addr(&fl->outer_src, v->outer_src, v->outer_family);
        fill_addr(&fl->outer_dst, v->outer_dst, v->outer_family);
        fl->vni = v->vni;
        fl->present |= FK_FLOW_HAS_VNI;
    }
    if (h->attrib)
        fk__cap_attrib_flow(h, &rec, v->ifindex);
    fk__flow_to_callback(h, &rec);
}

static void sweep(fk_capture *h)
{
    ebpf_state *st = h->backend_state;
    update_clocks(st);
    if (fk__bpf_flows_sweep(st->flows, decide, on_end, h) < 0)
        FK__LOG_WARN("capture", "%s", fk_error_last()->message);
}

static void be_tick(fk_capture *h, int64_t now_ns)
{
    (void)now_ns;    /* the kernel's clock, not the flow clock, dates the flows */
    drain_events(h); /* session events before the records they may end */
    sweep(h);
    if (h->packet_limit) {
        fk__bpf_flows_stats ks;
        fk__bpf_flows_get_stats(((ebpf_state *)h->backend_state)->flows, &ks);
        if (ks.k.packets >= h->packet_limit)
            h->limit_reached = true;
    }
}

static void be_finish(fk_capture *h)
{
    ebpf_state *st = h->backend_state;
    if (!st)
        return;
    fk__bpf_flows_detach(st->flows); /* nothing is counted from here on */
    drain_events(h);
    st->forced = true;
    sweep(h);
    fk__bpf_flows_stats ks;
    fk__bpf_flows_get_stats(st->flows, &ks);
    FK__LOG_INFO("capture",
                 "backend ebpf: %" PRIu64 " packets counted in the flow cache, %" PRIu64
                 " slots claimed, %" PRIu64 " grace periods, %" PRIu64
                 " orphan slots drained, %" PRIu64 " draining slots reaped",
                 (uint64_t)ks.k.cache_hits, (uint64_t)ks.k.cache_claims, ks.grace_periods,
                 ks.cache_orphans, ks.cache_reaped);
}

static void be_stats(fk_capture *h, fk_capture_stats *out)
{
    const ebpf_state *st = h->backend_state;
    if (!st)
        return;
    fk__bpf_flows_stats ks;
    fk__bpf_flows_get_stats(st->flows, &ks);
    out->packets += ks.k.packets;
    out->bytes += ks.k.bytes;
    out->non_ip += ks.k.non_ip;
    out->decode_errors += ks.k.malformed;
    out->flows_created += ks.k.created;
    uint64_t gone = st->deleted + ks.k.ends_lost;
    out->flows_active += ks.k.created > gone ? ks.k.created - gone : 0;
    out->flows_emitted += st->records;
    out->session_events += ks.k.events;
    out->kernel_map_full += ks.k.map_full;
    out->frags_unmatched += ks.k.frag_unmatched;
    out->tunnels_undecoded += ks.k.tunnel_undecoded;
    out->kernel_events_lost += ks.k.events_lost + ks.k.ends_lost + ks.malformed;
    out->kernel_cache_orphans += ks.cache_orphans;
}

static void be_close(fk_capture *h)
{
    ebpf_state *st = h->backend_state;
    if (!st)
        return;
    fk__bpf_flows_close(st->flows);
    fk__free(st);
    h->backend_state = NULL;
}

const fk__cap_backend fk__cap_backend_ebpf = {
    .name = "ebpf",
    .counts_flows = true,
    .open = be_open,
    .get_fd = be_get_fd,
    .read = be_read,
    .tick = be_tick,
    .finish = be_finish,
    .stats = be_stats,
    .close = be_close,
};
