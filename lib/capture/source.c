/* libpcap sources: live devices and pcap/pcapng files, BPF filters, and the
 * default device list. */
#include <errno.h>
#include <limits.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "capture/capture_int.h"
#include "capture/pcapfile.h"
#include "core/alloc.h"
#include "core/error.h"
#include "core/log.h"

static int map_activate_error(pcap_t *p, const char *name, int rc)
{
    const char *detail = pcap_geterr(p);
    switch (rc) {
    case PCAP_ERROR_NO_SUCH_DEVICE:
        return fk__error(FK_ENODEV, "%s: no such device", name);
    case PCAP_ERROR_PERM_DENIED:
        return fk__error(FK_EPERM,
                         "%s: permission denied (capturing needs root or CAP_NET_RAW): %s", name,
                         detail);
    case PCAP_ERROR_PROMISC_PERM_DENIED:
        return fk__error(FK_EPERM, "%s: permission denied for promiscuous mode: %s", name, detail);
    case PCAP_ERROR_IFACE_NOT_UP:
        return fk__error(FK_ENODEV, "%s: interface is down", name);
    case PCAP_ERROR_RFMON_NOTSUP:
        return fk__error(FK_EUNSUPPORTED, "%s: monitor mode not supported", name);
    default:
        return fk__error(FK_EPCAP, "%s: %s%s%s", name, pcap_statustostr(rc),
                         detail && detail[0] ? ": " : "", detail ? detail : "");
    }
}

int fk__source_open_live(fk__cap_source *s, fk_capture *h, const char *name)
{
    char errbuf[PCAP_ERRBUF_SIZE] = "";
    s->h = h;
    s->fd = -1;
    s->name = fk__strdup(name);
    if (!s->name)
        return fk__error(FK_ENOMEM, "capture: out of memory");
    pcap_t *p = pcap_create(name, errbuf);
    if (!p)
        return fk__error(FK_EPCAP, "%s: %s", name, errbuf);
    s->pcap = p;
    pcap_set_snaplen(p, (int)fk__params_int(&h->params, FK_CAP_SNAPLEN));
    pcap_set_promisc(p, (int)fk__params_int(&h->params, FK_CAP_PROMISC));
    pcap_set_immediate_mode(p, (int)fk__params_int(&h->params, FK_CAP_IMMEDIATE));
    pcap_set_timeout(p, (int)fk__params_int(&h->params, FK_CAP_BUFFER_TIMEOUT));
    int64_t buf = fk__params_int(&h->params, FK_CAP_BUFFER_SIZE);
    if (buf > 0)
        pcap_set_buffer_size(p, (int)buf);
    /* Ask for nanoseconds; libpcap says no (and we scale) where unsupported. */
    pcap_set_tstamp_precision(p, PCAP_TSTAMP_PRECISION_NANO);
    int rc = pcap_activate(p);
    if (rc < 0)
        return map_activate_error(p, name, rc);
    if (rc > 0)
        FK__LOG_WARN("capture", "%s: %s: %s", name, pcap_statustostr(rc), pcap_geterr(p));
    /* Attribution shows the device of each packet: a named device is its
     * own; on "any" the cooked v2 header carries the interface index (v1
     * does not). Set before the filter is compiled for the link type. */
    s->ifindex = if_nametoindex(name);
    if (pcap_datalink(p) == DLT_LINUX_SLL && fk__capture_attribution(h) != FK__ATTRIBUTION_OFF &&
        pcap_set_datalink(p, DLT_LINUX_SLL2) < 0)
        FK__LOG_DEBUG("capture", "%s: no cooked v2 header: %s", name, pcap_geterr(p));
    if (pcap_setnonblock(p, 1, errbuf) < 0)
        return fk__error(FK_EPCAP, "%s: cannot make nonblocking: %s", name, errbuf);
    s->fd = pcap_get_selectable_fd(p);
    if (s->fd < 0)
        return fk__error(FK_EUNSUPPORTED, "%s: no selectable descriptor", name);
    s->linktype = pcap_datalink(p);
    s->ts_scale = pcap_get_tstamp_precision(p) == PCAP_TSTAMP_PRECISION_NANO ? 1 : 1000;
    if (!fk__packet_link_supported(s->linktype))
        FK__LOG_WARN("capture", "%s: link type %s (%d) is not decoded; packets are only counted",
                     name, pcap_datalink_val_to_name(s->linktype), s->linktype);
    return 0;
}

int fk__source_open_file(fk__cap_source *s, fk_capture *h, const char *path)
{
    char errbuf[PCAP_ERRBUF_SIZE] = "";
    s->h = h;
    s->fd = -1;
    s->offline = true;
    s->name = fk__strdup(path);
    if (!s->name)
        return fk__error(FK_ENOMEM, "capture: out of memory");
    if (access(path, R_OK) < 0) {
        int code = errno == ENOENT ? FK_ENOTFOUND : errno == EACCES ? FK_EPERM : FK_EIO;
        return fk__error_errno(code, "%s: cannot read", path);
    }
    /* flowkit's own reader where it knows the format (large reads, no
     * per-packet stdio); libpcap for everything else. */
    int rc = fk__pcapfile_open(&s->reader, path);
    if (rc == FK_ENOMEM)
        return rc;
    if (rc == 0) {
        uint32_t snap = fk__pcapfile_snaplen(s->reader);
        if (snap == 0 || snap > 262144)
            snap = 262144;
        s->pcap = pcap_open_dead_with_tstamp_precision(fk__pcapfile_linktype(s->reader), (int)snap,
                                                       PCAP_TSTAMP_PRECISION_NANO);
        if (!s->pcap)
            return fk__error(FK_ENOMEM, "%s: out of memory", path);
    } else {
        fk__pcapfile_close(s->reader);
        s->reader = NULL;
        s->pcap = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, errbuf);
        if (!s->pcap)
            return fk__error(FK_EPCAP, "%s: %s", path, errbuf);
    }
    s->linktype = pcap_datalink(s->pcap);
    s->ts_scale = 1;
    if (!fk__packet_link_supported(s->linktype))
        FK__LOG_WARN("capture", "%s: link type %s (%d) is not decoded; packets are only counted",
                     path, pcap_datalink_val_to_name(s->linktype), s->linktype);
    return 0;
}

/* Own-reader sources: compile expr for linktype (the file's, or another
 * interface's of a pcapng file) on a dead handle. */
static int reader_compile(fk__cap_source *s, int linktype, const char *expr,
                          struct bpf_program *prog)
{
    pcap_t *p = s->pcap;
    if (linktype != pcap_datalink(s->pcap)) {
        p = pcap_open_dead_with_tstamp_precision(linktype, pcap_snapshot(s->pcap),
                                                 PCAP_TSTAMP_PRECISION_NANO);
        if (!p)
            return fk__error(FK_ENOMEM, "%s: out of memory", s->name);
    }
    int rc = 0;
    if (pcap_compile(p, prog, expr, 1, PCAP_NETMASK_UNKNOWN) < 0)
        rc = fk__error(FK_EFILTER, "%s: filter \"%s\": %s", s->name, expr, pcap_geterr(p));
    if (p != s->pcap)
        pcap_close(p);
    return rc;
}

static void reader_set_filter(fk__cap_source *s, struct bpf_program *prog, int linktype, char *expr)
{
    if (s->has_prog)
        pcap_freecode(&s->prog);
    s->prog = *prog;
    s->has_prog = expr[0] != '\0'; /* "" accepts everything: no program to run */
    if (!s->has_prog)
        pcap_freecode(&s->prog);
    s->prog_linktype = linktype;
    fk__free(s->filter_expr);
    s->filter_expr = expr;
}

int fk__source_apply_filter(fk_capture *h, const char *filter)
{
    /* No filter at activate: nothing to set. At runtime, "" accepts all. */
    if (!filter && !h->activated)
        return 0;
    const char *expr = filter ? filter : "";
    struct bpf_program *progs = fk__calloc(h->nsources ? h->nsources : 1, sizeof *progs);
    if (!progs)
        return fk__error(FK_ENOMEM, "capture: out of memory");
    size_t compiled = 0;
    int rc = 0;
    for (size_t i = 0; i < h->nsources; i++) {
        fk__cap_source *s = &h->sources[i];
        if (!s->pcap)
            continue;
        if (pcap_compile(s->pcap, &progs[i], expr, 1, PCAP_NETMASK_UNKNOWN) < 0) {
            rc =
                fk__error(FK_EFILTER, "%s: filter \"%s\": %s", s->name, expr, pcap_geterr(s->pcap));
            break;
        }
        compiled = i + 1;
    }
    /* Own-reader sources keep their program (and the text, for pcapng
     * interfaces of another link type): one copy of the text each. */
    char **exprs = fk__calloc(h->nsources ? h->nsources : 1, sizeof *exprs);
    if (!exprs && rc == 0)
        rc = fk__error(FK_ENOMEM, "capture: out of memory");
    for (size_t i = 0; rc == 0 && i < h->nsources; i++) {
        if (h->sources[i].reader && h->sources[i].pcap && !(exprs[i] = fk__strdup(expr)))
            rc = fk__error(FK_ENOMEM, "capture: out of memory");
    }
    for (size_t i = 0; rc == 0 && i < h->nsources; i++) {
        fk__cap_source *s = &h->sources[i];
        if (!s->pcap)
            continue;
        if (s->reader) {
            reader_set_filter(s, &progs[i], pcap_datalink(s->pcap), exprs[i]);
            exprs[i] = NULL;
            progs[i].bf_insns = NULL; /* now the source's */
        } else if (pcap_setfilter(s->pcap, &progs[i]) < 0) {
            rc = fk__error(FK_EPCAP, "%s: cannot set filter: %s", s->name, pcap_geterr(s->pcap));
        }
    }
    for (size_t i = 0; exprs && i < h->nsources; i++)
        fk__free(exprs[i]);
    fk__free(exprs);
    for (size_t i = 0; i < compiled; i++) {
        if (h->sources[i].pcap && progs[i].bf_insns)
            pcap_freecode(&progs[i]);
    }
    fk__free(progs);
    return rc;
}

uint64_t fk__source_kernel_drops(fk__cap_source *s)
{
    if (!s->pcap || s->offline)
        return s->final_drops;
    struct pcap_stat st;
    if (pcap_stats(s->pcap, &st) < 0)
        return s->final_drops;
    return (uint64_t)st.ps_drop + st.ps_ifdrop;
}

int fk__source_next(fk__cap_source *s)
{
    if (!s->reader) {
        int r = pcap_next_ex(s->pcap, &s->next_hdr, &s->next_data);
        if (r == 1)
            return 1;
        if (r == PCAP_ERROR_BREAK)
            return 0;
        return fk__error(FK_EPCAP, "%s", pcap_geterr(s->pcap));
    }
    fk__pcapfile_pkt pk;
    for (;;) {
        int r = fk__pcapfile_next(s->reader, &pk);
        if (r <= 0)
            return r;
        struct pcap_pkthdr *hd = &s->reader_hdr;
        hd->ts.tv_sec = (time_t)pk.sec;
        hd->ts.tv_usec = (suseconds_t)pk.nsec;
        hd->caplen = pk.caplen;
        hd->len = pk.wirelen;
        s->linktype = pk.linktype;
        if (s->has_prog) {
            if (pk.linktype != s->prog_linktype) {
                struct bpf_program prog;
                char *expr = fk__strdup(s->filter_expr);
                if (!expr)
                    return fk__error(FK_ENOMEM, "capture: out of memory");
                int rc = reader_compile(s, pk.linktype, expr, &prog);
                if (rc < 0) {
                    fk__free(expr);
                    return rc;
                }
                reader_set_filter(s, &prog, pk.linktype, expr);
            }
            if (!pcap_offline_filter(&s->prog, hd, pk.data))
                continue;
        }
        s->next_hdr = hd;
        s->next_data = pk.data;
        return 1;
    }
}

void fk__source_close(fk__cap_source *s)
{
    fk__pcapfile_close(s->reader);
    s->reader = NULL;
    if (s->has_prog) {
        pcap_freecode(&s->prog);
        s->has_prog = false;
    }
    fk__free(s->filter_expr);
    s->filter_expr = NULL;
    if (s->pcap) {
        s->final_drops = fk__source_kernel_drops(s);
        pcap_close(s->pcap);
        s->pcap = NULL;
    }
    s->fd = -1;
    s->has_next = false;
    s->done = true;
}

/* A device is chosen by default when libpcap lists it up, not loopback,
 * and the kernel knows it as a network interface (/sys/class/net), which
 * leaves out "any", nflog, nfqueue, usbmon, dbus and bluetooth. */
int fk__capture_default_devices(char ***out, size_t *count)
{
    *out = NULL;
    *count = 0;
    char errbuf[PCAP_ERRBUF_SIZE] = "";
    pcap_if_t *all = NULL;
    if (pcap_findalldevs(&all, errbuf) < 0)
        return fk__error(FK_EPCAP, "capture: cannot list devices: %s", errbuf);
    char **names = NULL;
    size_t n = 0;
    int rc = 0;
    for (pcap_if_t *d = all; d && rc == 0; d = d->next) {
        if ((d->flags & PCAP_IF_LOOPBACK) || !(d->flags & PCAP_IF_UP))
            continue;
        char path[PATH_MAX];
        snprintf(path, sizeof path, "/sys/class/net/%s", d->name);
        if (strchr(d->name, '/') || access(path, F_OK) < 0)
            continue;
        char **grown = fk__reallocarray(names, n + 1, sizeof *names);
        if (!grown || !(grown[n] = fk__strdup(d->name))) {
            if (grown)
                names = grown;
            rc = fk__error(FK_ENOMEM, "capture: out of memory");
            break;
        }
        names = grown;
        n++;
    }
    pcap_freealldevs(all);
    if (rc == 0 && n == 0)
        rc = fk__error(FK_ENODEV, "capture: no network device is up (besides loopback)");
    if (rc < 0) {
        for (size_t i = 0; i < n; i++)
            fk__free(names[i]);
        fk__free(names);
        return rc;
    }
    *out = names;
    *count = n;
    return 0;
}
