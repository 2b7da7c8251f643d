/* The capture handle's side of process attribution (the engine is
 * lib/proc): parameters → engine config, decoded packets → fk__attrib_pkt,
 * and the public fk_capture_rank(). */
#include <flowkit/rank.h>
#include <stdio.h>
#include <string.h>

#include "capture/capture_int.h"
#include "core/error.h"
#include "packet/packet.h"
#include "core/log.h"
#include "proc/attrib.h"
#include "proc/src_bpf.h"
#include "proc/src_sockdiag.h"

/* bpf: the BPF source first (owners from the kernel, even of sockets gone
 * before their first packet was processed), then sock_diag for the sockets
 * that existed before the programs were attached. */
static int start_with_bpf(fk_capture *h, fk__attrib_config *c, fk__source *bpf)
{
    c->no_default_source = 1;
    int rc = fk__attrib_create(&h->attrib, c);
    if (rc == 0)
        rc = fk__attrib_add_source(h->attrib, bpf);
    if (rc < 0) {
        bpf->ops->destroy(bpf);
        return rc;
    }
    fk__src_sockdiag_config sc = {.proc_root = c->proc_root,
                                  .sync_interval_ns = c->sync_interval_ns,
                                  .queries_per_sec = c->queries_per_sec,
                                  .scans_per_sec = c->scans_per_sec,
                                  .use_netlink = c->use_netlink,
                                  .passive = 1};
    fk__source *sd = NULL;
    rc = fk__src_sockdiag_open(&sd, &sc);
    if (rc == 0 && (rc = fk__attrib_add_source(h->attrib, sd)) < 0)
        sd->ops->destroy(sd);
    return rc;
}

int fk__cap_attrib_start(fk_capture *h)
{
    fk__attrib_config c;
    fk__attrib_config_default(&c);
    c.history_seconds = (uint32_t)fk__params_int(&h->params, FK_CAP_HISTORY_SECONDS);
    c.sync_interval_ns = fk__params_int(&h->params, FK_CAP_SYNC_INTERVAL) * INT64_C(1000000);
    fk__attribution_mode mode = fk__capture_attribution(h);
    int rc;
    if (mode == FK__ATTRIBUTION_BPF || mode == FK__ATTRIBUTION_AUTO) {
        fk__src_bpf_config bc = {
            .proc_root = c.proc_root,
            .max_owners = (uint32_t)fk__params_int(&h->params, FK_CAP_ATTRIBUTION_OWNERS),
            .keep_ns = fk__params_int(&h->params, FK_CAP_ATTRIBUTION_KEEP) * INT64_C(1000000000)};
        /* The kernel side tells only about the capture's devices; "any" or
         * a file: every device. */
        uint32_t ifx[64];
        size_t n = 0;
        for (size_t i = 0; i < h->nsources; i++) {
            if (h->sources[i].ifindex == 0 || n == sizeof ifx / sizeof ifx[0]) {
                n = 0;
                break;
            }
            ifx[n++] = h->sources[i].ifindex;
        }
        bc.ifindexes = ifx;
        bc.n_ifindexes = n;
        fk__source *bpf = NULL;
        rc = fk__src_bpf_open(&bpf, &bc);
        if (rc == 0) {
            rc = start_with_bpf(h, &c, bpf);
            if (rc == 0) {
                h->attribution_source = "bpf";
                FK__LOG_INFO("capture", "attribution: bpf (socket owners from the kernel)");
            }
            return rc;
        }
        char why[512];
        snprintf(why, sizeof why, "%s", fk_error_last()->message);
        if (mode == FK__ATTRIBUTION_BPF)
            return fk__error(rc, "capture: attribution = bpf cannot start: %s", why);
        FK__LOG_WARN("capture",
                     "attribution: sockdiag (auto: the BPF source did not start: %s); "
                     "connections shorter than the capture's lag may stay unknown",
                     why);
    }
    rc = fk__attrib_create(&h->attrib, &c);
    if (rc == 0)
        h->attribution_source = "sockdiag";
    return rc;
}

/* Cooked captures say which way a packet went: exact even when both ends
 * are local, except on a loopback device. There libpcap keeps only the
 * incoming copy of each packet (it drops the outgoing one, which would be
 * the same packet again), so a packet seen there once is both sent by its
 * source's owner and received by its destination's. An outgoing loopback
 * copy (a libpcap that keeps both) is left out for the same reason. */
#define ARPHRD_LOOPBACK_TYPE 772
#define PKTTYPE_HOST 0
#define PKTTYPE_OUTGOING 4
int fk__cap_attrib_dir(uint16_t pkttype, uint16_t hatype)
{
    if (hatype == ARPHRD_LOOPBACK_TYPE)
        return pkttype == PKTTYPE_OUTGOING ? -1 : FK__DIR_BOTH;
    if (pkttype == PKTTYPE_OUTGOING)
        return FK__DIR_OUT;
    if (pkttype == PKTTYPE_HOST)
        return FK__DIR_IN;
    return FK__DIR_UNKNOWN;
}

void fk__cap_attrib_packet(fk_capture *h, const fk__cap_source *s, const fk__packet *pkt)
{
    int linktype = s->linktype;
    if (pkt->proto != 6 && pkt->proto != 17)
        return;
    if (pkt->flags & FK__PKT_F_TUNNEL)
        return; /* the inner packet of a tunnel has no local socket */
    fk__attrib_pkt p;
    memset(&p, 0, sizeof p);
    uint8_t fam = pkt->ip_version == 6 ? 6 : 4;
    p.src.family = p.dst.family = fam;
    memcpy(p.src.bytes, pkt->src, fam == 6 ? 16 : 4);
    memcpy(p.dst.bytes, pkt->dst, fam == 6 ? 16 : 4);
    p.sport = pkt->src_port;
    p.dport = pkt->dst_port;
    p.proto = pkt->proto;
    p.tcp_flags = pkt->tcp_flags;
    p.ip_len = pkt->ip_len;
    p.ts_ns = pkt->ts_ns;
    /* The device: "any" tells it per packet (cooked v2), a named device
     * is its own. A file's interface indexes are another machine's. */
    if (!s->offline)
        p.ifindex = pkt->if_index ? pkt->if_index : s->ifindex;
    if (pkt->flags & FK__PKT_F_FRAG) {
        p.frag = (pkt->flags & FK__PKT_F_FIRST_FRAG) ? 1 : 2;
        p.frag_id = pkt->frag_id;
    } else if (!(pkt->flags & FK__PKT_F_L4)) {
        return;
    }
    if (linktype == FK__LINK_LINUX_SLL || linktype == FK__LINK_LINUX_SLL2) {
        int dir = fk__cap_attrib_dir(pkt->sll_pkttype, pkt->sll_hatype);
        if (dir < 0)
            return;
        p.dir = (uint8_t)dir;
    }
    fk__attrib_packet(h->attrib, &p, NULL, NULL);
}

/* Backends that count flows in the kernel hand no packet to user space:
 * the attribution engine hears of a connection through its session events
 * (a SYN: the owner is looked up while the socket lives) and its records
 * (each direction's bytes at once, as one packet). */
static void feed(fk_capture *h, uint8_t proto, const fk_addr *src, uint16_t sport,
                 const fk_addr *dst, uint16_t dport, uint8_t flags, uint64_t bytes, int64_t ts,
                 uint32_t ifindex)
{
    fk__attrib_pkt p;
    memset(&p, 0, sizeof p);
    p.src = *src;
    p.dst = *dst;
    p.sport = sport;
    p.dport = dport;
    p.proto = proto;
    p.tcp_flags = flags;
    p.ip_len = bytes > UINT32_MAX ? UINT32_MAX : (uint32_t)bytes;
    p.ts_ns = ts;
    p.ifindex = ifindex;
    p.dir = FK__DIR_UNKNOWN;
    fk__attrib_packet(h->attrib, &p, NULL, NULL);
}

void fk__cap_attrib_session(fk_capture *h, const fk_session_event *ev, uint32_t ifindex)
{
    if (ev->kind == FK_SESSION_SYN)
        feed(h, ev->proto, &ev->src, ev->src_port, &ev->dst, ev->dst_port, 0x02, 0, ev->time_ns,
             ifindex);
}

void fk__cap_attrib_flow(fk_capture *h, const fk__flow_record *rec, uint32_t ifindex)
{
    const fk_flow *f = &rec->flow;
    if (f->packets)
        feed(h, f->proto, &f->src, f->src_port, &f->dst, f->dst_port, f->tcp_flags, f->bytes,
             rec->fwd_last_ns, ifindex);
    if (f->rev_packets)
        feed(h, f->proto, &f->dst, f->dst_port, &f->src, f->src_port, f->rev_tcp_flags,
             f->rev_bytes, rec->rev_last_ns, ifindex);
}

void fk__cap_attrib_tick(fk_capture *h, int64_t now_ns)
{
    fk__attrib_set_sync_interval(h->attrib, fk__params_int(&h->params, FK_CAP_SYNC_INTERVAL) *
                                                INT64_C(1000000));
    fk__attrib_tick(h->attrib, now_ns);
}

int fk_capture_rank(fk_capture *h, size_t limit, uint32_t recent_sec, fk_rank_sort key,
                    fk_rank_snapshot **out)
{
    if (!h || !out)
        return fk__error(FK_EINVAL, "rank: NULL argument");
    if (!h->activated)
        return fk__error(FK_ENOTACTIVATED, "rank: capture not activated");
    if (!h->attrib)
        return fk__error(FK_ESTATE, "rank: attribution is off (set FK_CAP_ATTRIBUTION to 1)");
    uint32_t history = (uint32_t)fk__params_int(&h->params, FK_CAP_RANK_HISTORY);
    return fk__attrib_rank(h->attrib, limit, recent_sec, history, key, out);
}
