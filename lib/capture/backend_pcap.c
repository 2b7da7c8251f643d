/* The pcap backend: libpcap sources (live devices or files), BPF filters
 * and the pcap store; every packet reaches user space and goes through the
 * core's packet path (dispatch.c). */
#include <string.h>

#include "capture/capture_int.h"
#include "core/alloc.h"
#include "core/error.h"

static void free_names(char **list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        fk__free(list[i]);
    fk__free(list);
}

static int open_sources(fk_capture *h)
{
    char **names = h->nfiles ? h->files : h->devices;
    size_t n = h->nfiles ? h->nfiles : h->ndevices;
    char **defaults = NULL;
    if (n == 0) {
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
        s->fd = -1;
        h->nsources++;
        rc = h->offline ? fk__source_open_file(s, h, names[i])
                        : fk__source_open_live(s, h, names[i]);
    }
    free_names(defaults, defaults ? n : 0);
    return rc;
}

static int open_stores(fk_capture *h)
{
    const char *target = fk__params_str(&h->params, FK_CAP_PCAP_STORE);
    if (!target)
        return 0;
    for (size_t i = 0; i < h->nsources; i++) {
        fk__cap_source *s = &h->sources[i];
        fk__store_config cfg = {
            .target = target,
            /* One source: plain names. Several: the device (or file
             * basename) goes into each name, since a pcap file holds one
             * link type. */
            .device = NULL,
            .linktype = s->linktype,
            .snaplen = pcap_snapshot(s->pcap),
            .rotate_bytes = fk__params_int(&h->params, FK_CAP_PCAP_ROTATE_BYTES),
            .rotate_seconds = fk__params_int(&h->params, FK_CAP_PCAP_ROTATE_SECONDS),
            .keep_files = fk__params_int(&h->params, FK_CAP_PCAP_KEEP_FILES),
        };
        if (h->nsources > 1) {
            const char *slash = strrchr(s->name, '/');
            cfg.device = slash ? slash + 1 : s->name;
        }
        int rc = fk__store_create(&s->store, &cfg);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int be_open(fk_capture *h)
{
    int rc = open_sources(h);
    if (rc == 0)
        rc = fk__source_apply_filter(h, fk__params_str(&h->params, FK_CAP_FILTER));
    if (rc == 0)
        rc = open_stores(h);
    return rc;
}

static void be_finish(fk_capture *h)
{
    fk__dispatch_drain_live(h);
}

static void be_stats(fk_capture *h, fk_capture_stats *out)
{
    for (size_t i = 0; i < h->nsources; i++) {
        fk__cap_source *s = &h->sources[i];
        out->kernel_drops += fk__source_kernel_drops(s);
        if (s->store) {
            fk__store_stats st;
            fk__store_get_stats(s->store, &st);
            out->store_files += st.files;
            out->store_packets += st.packets;
            out->store_bytes += st.bytes;
        }
    }
}

static void be_close(fk_capture *h)
{
    (void)h; /* the core closes the sources and their stores */
}

const fk__cap_backend fk__cap_backend_pcap = {
    .name = "pcap",
    .counts_flows = false,
    .open = be_open,
    .get_fd = NULL,
    .read = fk__dispatch_read_live,
    .tick = NULL,
    .finish = be_finish,
    .stats = be_stats,
    .close = be_close,
};

const fk__cap_backend *fk__cap_backend_find(const char *name)
{
    if (!name || strcmp(name, "pcap") == 0)
        return &fk__cap_backend_pcap;
    if (strcmp(name, "ebpf") == 0 || strcmp(name, "xdp") == 0)
        return &fk__cap_backend_ebpf;
    return NULL;
}
