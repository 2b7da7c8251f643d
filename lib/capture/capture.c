/* The capture handle: parameters, sources list, activate and teardown. The
 * packet path lives in dispatch.c, the worker threads in worker.c. */
#include "capture/capture_int.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/sized.h"

#define MIB (INT64_C(1) << 20)

/* clang-format off */
static const fk_param_info capture_params[] = {
    /* basics */
    {FK_CAP_SNAPLEN, "snaplen", FK_PARAM_INT, 0, 64, 262144, 262144, 0, 0, 0, NULL, "bytes",
     "bytes captured per packet"},
    {FK_CAP_PROMISC, "promiscuous", FK_PARAM_BOOL, 0, 0, 1, 0, 0, 0, 0, NULL, "",
     "put the devices in promiscuous mode"},
    {FK_CAP_BUFFER_SIZE, "buffer_size", FK_PARAM_INT, 0, 0, INT32_MAX, 8 * MIB, 0, 0, 0, NULL,
     "bytes", "kernel capture buffer per device (0 = libpcap default)"},
    {FK_CAP_FILTER, "filter", FK_PARAM_STRING, FK_PARAM_RUNTIME, 0, 0, 0, 0, 0, 0, NULL, "",
     "BPF filter expression (pcap-filter(7)); may change while capturing"},
    {FK_CAP_IMMEDIATE, "immediate", FK_PARAM_BOOL, 0, 0, 1, 0, 0, 0, 0, NULL, "",
     "deliver each packet at once (libpcap then uses fixed snaplen-sized kernel slots: "
     "lower snaplen with it) instead of in blocks of at most buffer_timeout"},
    {FK_CAP_DECODE_TUNNELS, "decode_tunnels", FK_PARAM_BOOL, 0, 0, 1, 0, 0, 0, 0, NULL, "",
     "count VXLAN (UDP 4789) and GENEVE (UDP 6081) traffic as its inner flows"},
    {FK_CAP_BUFFER_TIMEOUT, "buffer_timeout", FK_PARAM_INT, 0, 1, 1000, 10, 0, 0, 0, NULL, "ms",
     "longest time the kernel holds captured packets before handing them over (when not "
     "immediate)"},
    {FK_CAP_BACKEND, "backend", FK_PARAM_STRING, 0, 0, 0, 0, 0, 0, 0, "pcap", "",
     "how packets become flows: pcap (libpcap, every packet to user space), ebpf (tc programs "
     "on ingress and egress count flows in the kernel) or xdp (ebpf on ingress only, with XDP)"},
    {FK_CAP_EBPF_CLOCK, "ebpf_clock", FK_PARAM_STRING, 0, 0, 0, 0, 0, 0, 0, "coarse", "",
     "ebpf/xdp: how a flow's later packets are timed: coarse (the precise clock read once per "
     "tick and CPU: a flow's end may be up to one tick, 1/HZ, early; starts and TCP SYN/FIN/RST "
     "stay exact) or precise (every packet reads the precise clock: ~20 ns more per packet)"},
    {FK_CAP_EBPF_CACHE_SLOTS, "ebpf_cache_slots", FK_PARAM_INT, 0, 0, 65536, 1024, 0, 0, 0, NULL,
     "slots", "ebpf/xdp: per-CPU flow cache slots per CPU, 0 (none) or a power of two: later "
     "packets of a flow holding its slot skip the kernel flow map (128 bytes a slot)"},
    /* pipeline */
    {FK_CAP_QUEUE_SIZE, "queue_size", FK_PARAM_INT, 0, 16, INT64_C(1) << 24, 8192, 0, 0, 0, NULL,
     "packets", "bounded queue per worker; when full, packets are dropped and counted"},
    {FK_CAP_WORKERS, "workers", FK_PARAM_INT, 0, 0, 64, 0, 0, 0, 0, NULL, "",
     "worker threads owning flow-table shards (0 = all in the caller's thread)"},
    {FK_CAP_IDLE_TIMEOUT, "idle_timeout", FK_PARAM_INT, 0, 1, 86400, 15, 0, 0, 0, NULL, "s",
     "a flow without packets for this long ends"},
    {FK_CAP_ACTIVE_TIMEOUT, "active_timeout", FK_PARAM_INT, 0, 0, 604800, 1800, 0, 0, 0, NULL,
     "s", "a flow older than this is reported and goes on (0 = never)"},
    {FK_CAP_MAX_FLOWS, "max_flows", FK_PARAM_INT, 0, 16, INT64_C(1) << 28, 262144, 0, 0, 0,
     NULL, "flows", "flows kept at once (bounded memory; evictions are counted)"},
    {FK_CAP_EVENT_QUEUE_SIZE, "event_queue_size", FK_PARAM_INT, 0, 16, INT64_C(1) << 22, 16384,
     0, 0, 0, NULL, "events", "bounded event queue per worker; when full, events are counted"},
    /* pcap store */
    {FK_CAP_PCAP_STORE, "pcap_store", FK_PARAM_STRING, 0, 0, 0, 0, 0, 0, 0, NULL, "",
     "write captured packets to pcap files: a directory or a strftime file pattern"},
    {FK_CAP_PCAP_ROTATE_BYTES, "pcap_rotate_bytes", FK_PARAM_INT, 0, 0, INT64_C(1) << 50, 0, 0,
     0, 0, NULL, "bytes", "start a new pcap file before it exceeds this size (0 = never)"},
    {FK_CAP_PCAP_ROTATE_SECONDS, "pcap_rotate_seconds", FK_PARAM_INT, 0, 0, 2678400, 0, 0, 0, 0,
     NULL, "s", "start a new pcap file after this many seconds (0 = never)"},
    {FK_CAP_PCAP_KEEP_FILES, "pcap_keep_files", FK_PARAM_INT, 0, 0, 1000000, 0, 0, 0, 0, NULL,
     "files", "keep only the newest N pcap files written (0 = all)"},
    /* process attribution */
    {FK_CAP_ATTRIBUTION, "attribution", FK_PARAM_STRING, 0, 0, 0, 0, 0, 0, 0, "off", "",
     "attribute packets to local processes (per-process rank): off, auto (bpf where it loads, "
     "else sockdiag), bpf (socket owners from the kernel), sockdiag (socket table polls)"},
    {FK_CAP_SYNC_INTERVAL, "sync_interval", FK_PARAM_INT, FK_PARAM_RUNTIME, 10, 60000, 50, 0, 0,
     0, NULL, "ms", "socket table dump interval while sockets end before their first packet is seen (else 10x, at most 1 s)"},
    {FK_CAP_HISTORY_SECONDS, "history_seconds", FK_PARAM_INT, 0, 1, 86400, 60, 0, 0, 0, NULL, "s",
     "per-second history kept per process"},
    {FK_CAP_ATTRIBUTION_OWNERS, "attribution_owners", FK_PARAM_INT, 0, 16, INT64_C(1) << 24,
     65536, 0, 0, 0, NULL, "entries",
     "attribution=bpf: socket owners remembered at most (oldest closed ones evicted first)"},
    {FK_CAP_ATTRIBUTION_KEEP, "attribution_keep", FK_PARAM_INT, 0, 1, 3600, 30, 0, 0, 0, NULL, "s",
     "attribution=bpf: how long a socket's owner is remembered after the socket closed"},
    {FK_CAP_RANK_HISTORY, "rank_history", FK_PARAM_INT, FK_PARAM_RUNTIME, 0, 86400, 0, 0, 0, 0,
     NULL, "s", "per-second history in each rank row (at most history_seconds; 0 = none)"},
    /* limits */
    {FK_CAP_CPU_LIMIT, "cpu_limit", FK_PARAM_DOUBLE, 0, 0, 0, 0, 0.0, 4096.0, 0.0, NULL, "cores",
     "cgroup CPU limit for the process (0 = none)"},
    {FK_CAP_MEMORY_LIMIT, "memory_limit", FK_PARAM_INT, 0, 0, INT64_C(1) << 50, 0, 0, 0, 0, NULL,
     "bytes", "cgroup memory limit for the process, 0 (none) or at least 16 MiB"},
    {FK_CAP_CGROUP_VERSION, "cgroup_version", FK_PARAM_INT, 0, 0, 2, 0, 0, 0, 0, NULL, "",
     "cgroup version for the limits: 0 automatic, 1 or 2"},
    /* run */
    {FK_CAP_DURATION, "duration", FK_PARAM_DOUBLE, 0, 0, 0, 0, 0.0, 1e9, 0.0, NULL, "s",
     "stop after this many seconds (0 = no limit)"},
    {FK_CAP_PACKET_COUNT, "packet_count", FK_PARAM_INT, 0, 0, INT64_C(1) << 62, 0, 0, 0, 0, NULL,
     "packets", "stop after this many packets (0 = no limit)"},
};
/* clang-format on */

#define NPARAMS (sizeof capture_params / sizeof capture_params[0])

const fk_param_info *fk_capture_params(size_t *count)
{
    if (count)
        *count = NPARAMS;
    return capture_params;
}

int fk_capture_create(fk_capture **out)
{
    if (!out)
        return fk__error(FK_EINVAL, "capture: NULL output");
    *out = NULL;
    fk_capture *h = FK__NEW(fk_capture);
    if (!h)
        return fk__error(FK_ENOMEM, "capture: out of memory");
    int rc = fk__params_init(&h->params, "capture", capture_params, NPARAMS);
    if (rc < 0) {
        fk__free(h);
        return rc;
    }
    h->break_fd = h->ready_fd = h->events_fd = h->epoll_fd = -1;
    atomic_init(&h->break_flag, 0);
    *out = h;
    return 0;
}

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

/* Undo activate (also used when activate fails half-way). */
static void deactivate(fk_capture *h)
{
    fk__dispatch_teardown(h);
    if (h->backend)
        h->backend->close(h);
    for (size_t i = 0; i < h->nsources; i++) {
        fk__source_close(&h->sources[i]);
        fk__store_destroy(h->sources[i].store);
        fk__free(h->sources[i].name);
    }
    fk__free(h->sources);
    h->sources = NULL;
    h->nsources = 0;
    close_fd(&h->epoll_fd);
    close_fd(&h->break_fd);
    close_fd(&h->ready_fd);
    close_fd(&h->events_fd);
    fk__cgroup_restore(h->cgroup);
    h->cgroup = NULL;
    h->activated = false;
    h->params.activated = false;
}

static void free_list(char **list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        fk__free(list[i]);
    fk__free(list);
}

void fk_capture_destroy(fk_capture *h)
{
    if (!h)
        return;
    deactivate(h);
    free_list(h->devices, h->ndevices);
    free_list(h->files, h->nfiles);
    fk__params_free(&h->params);
    fk__free(h);
}

int fk_capture_set_int(fk_capture *h, int param, int64_t value)
{
    if (!h)
        return fk__error(FK_EINVAL, "capture: NULL handle");
    if (param == FK_CAP_MEMORY_LIMIT && value > 0 && value < 16 * MIB)
        return fk__error(FK_ERANGE,
                         "capture: memory_limit = %" PRId64 " is out of range: 0 or [%" PRId64
                         ", %" PRId64 "]",
                         value, 16 * MIB, INT64_C(1) << 50);
    if (param == FK_CAP_EBPF_CACHE_SLOTS && value > 0 && (value & (value - 1)) != 0)
        return fk__error(
            FK_ERANGE, "capture: ebpf_cache_slots = %" PRId64 " is not 0 or a power of two", value);
    if (param == FK_CAP_ATTRIBUTION) {
        /* The parameter was a bool: 0 and 1 keep meaning off and on. */
        if (value != 0 && value != 1)
            return fk__error(FK_ERANGE,
                             "capture: attribution = %" PRId64
                             " is out of range: 0 (off), 1 (auto) "
                             "or a name (off, auto, bpf, sockdiag)",
                             value);
        return fk_capture_set_str(h, param, value ? "auto" : "off");
    }
    return fk__params_set_int(&h->params, param, value);
}

int fk_capture_set_double(fk_capture *h, int param, double value)
{
    if (!h)
        return fk__error(FK_EINVAL, "capture: NULL handle");
    return fk__params_set_double(&h->params, param, value);
}

int fk_capture_set_str(fk_capture *h, int param, const char *value)
{
    if (!h)
        return fk__error(FK_EINVAL, "capture: NULL handle");
    if (param == FK_CAP_ATTRIBUTION) {
        const char *name = fk__attribution_mode_name(fk__attribution_mode_parse(value));
        if (!name)
            return fk__error(FK_ERANGE,
                             "capture: attribution = \"%s\" is not one of off, auto, bpf, sockdiag",
                             value ? value : "(null)");
        return fk__params_set_str(&h->params, param, name);
    }
    if (param == FK_CAP_EBPF_CLOCK &&
        (!value || (strcmp(value, "coarse") != 0 && strcmp(value, "precise") != 0)))
        return fk__error(FK_ERANGE, "capture: ebpf_clock = \"%s\" is not one of coarse, precise",
                         value ? value : "(null)");
    if (param == FK_CAP_BACKEND && !fk__cap_backend_find(value))
        return fk__error(FK_ERANGE, "capture: backend = \"%s\" is not one of pcap, ebpf, xdp",
                         value ? value : "(null)");
    if (param == FK_CAP_FILTER && h->busy)
        return fk__error(FK_ESTATE, "capture: filter changed from the handle's own callback");
    if (param == FK_CAP_FILTER && h->activated) {
        /* Compile for every source before anything changes. */
        int rc = fk__source_apply_filter(h, value);
        if (rc < 0)
            return rc;
    }
    return fk__params_set_str(&h->params, param, value);
}

static int set_int_any(void *h, int id, int64_t v)
{
    return fk_capture_set_int(h, id, v);
}

static int set_double_any(void *h, int id, double v)
{
    return fk_capture_set_double(h, id, v);
}

static int set_str_any(void *h, int id, const char *v)
{
    return fk_capture_set_str(h, id, v);
}

int fk_capture_set_text(fk_capture *h, const char *name, const char *text)
{
    static const fk__param_setters typed = {set_int_any, set_double_any, set_str_any};
    if (!h)
        return fk__error(FK_EINVAL, "capture: NULL handle");
    return fk__params_set_text_with(&h->params, &typed, h, name, text);
}

int fk_capture_get_int(const fk_capture *h, int param, int64_t *out)
{
    if (!h || !out)
        return fk__error(FK_EINVAL, "capture: NULL argument");
    return fk__params_get_int(&h->params, param, out);
}

int fk_capture_get_double(const fk_capture *h, int param, double *out)
{
    if (!h || !out)
        return fk__error(FK_EINVAL, "capture: NULL argument");
    return fk__params_get_double(&h->params, param, out);
}

int fk_capture_get_str(const fk_capture *h, int param, const char **out)
{
    if (!h || !out)
        return fk__error(FK_EINVAL, "capture: NULL argument");
    return fk__params_get_str(&h->params, param, out);
}

int fk_capture_get_attribution_source(const fk_capture *h, const char **out)
{
    if (!h || !out)
        return fk__error(FK_EINVAL, "capture: NULL argument");
    if (!h->activated)
        return fk__error(FK_ENOTACTIVATED, "capture: the attribution source is chosen at activate");
    *out = h->attribution_source ? h->attribution_source : "off";
    return 0;
}

static int add_name(fk_capture *h, char ***list, size_t *n, const char *name, const char *what)
{
    if (!h || !name || !name[0])
        return fk__error(FK_EINVAL, "capture: empty %s name", what);
    if (h->activated)
        return fk__error(FK_EACTIVATED, "capture: cannot add %s \"%s\" after activate", what, name);
    for (size_t i = 0; i < *n; i++) {
        if (strcmp((*list)[i], name) == 0)
            return fk__error(FK_EEXIST, "capture: %s \"%s\" added twice", what, name);
    }
    char **grown = fk__reallocarray(*list, *n + 1, sizeof **list);
    if (!grown)
        return fk__error(FK_ENOMEM, "capture: out of memory");
    *list = grown;
    grown[*n] = fk__strdup(name);
    if (!grown[*n])
        return fk__error(FK_ENOMEM, "capture: out of memory");
    (*n)++;
    return 0;
}

int fk_capture_add_device(fk_capture *h, const char *name)
{
    if (!h)
        return fk__error(FK_EINVAL, "capture: NULL handle");
    return add_name(h, &h->devices, &h->ndevices, name, "device");
}

int fk_capture_add_file(fk_capture *h, const char *path)
{
    if (!h)
        return fk__error(FK_EINVAL, "capture: NULL handle");
    return add_name(h, &h->files, &h->nfiles, path, "file");
}

int fk_capture_clear_sources(fk_capture *h)
{
    if (!h)
        return fk__error(FK_EINVAL, "capture: NULL handle");
    if (h->activated)
        return fk__error(FK_EACTIVATED, "capture: cannot change sources after activate");
    free_list(h->devices, h->ndevices);
    free_list(h->files, h->nfiles);
    h->devices = h->files = NULL;
    h->ndevices = h->nfiles = 0;
    return 0;
}

int fk_capture_set_callback(fk_capture *h, fk_capture_event_cb cb, void *user)
{
    if (!h)
        return fk__error(FK_EINVAL, "capture: NULL handle");
    if (h->activated)
        return fk__error(FK_EACTIVATED, "capture: cannot set the callback after activate");
    h->cb = cb;
    h->user = user;
    return 0;
}

static int add_epoll(fk_capture *h, int fd)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
    if (epoll_ctl(h->epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0)
        return fk__error_errno(FK_EIO, "capture: epoll_ctl");
    return 0;
}

static int make_fds(fk_capture *h)
{
    h->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    h->break_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    h->ready_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    h->events_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (h->epoll_fd < 0 || h->break_fd < 0 || h->ready_fd < 0 || h->events_fd < 0)
        return fk__error_errno(FK_EIO, "capture: cannot create event descriptors");
    int rc = add_epoll(h, h->break_fd);
    if (rc == 0)
        rc = add_epoll(h, h->ready_fd);
    if (rc == 0)
        rc = add_epoll(h, h->events_fd);
    for (size_t i = 0; rc == 0 && i < h->nsources; i++) {
        if (h->sources[i].fd >= 0)
            rc = add_epoll(h, h->sources[i].fd);
    }
    int extra = h->backend->get_fd ? h->backend->get_fd(h) : -1;
    if (rc == 0 && extra >= 0)
        rc = add_epoll(h, extra);
    if (rc == 0 && h->offline) {
        uint64_t one = 1;
        if (write(h->ready_fd, &one, sizeof one) != (ssize_t)sizeof one)
            rc = fk__error_errno(FK_EIO, "capture: eventfd write");
    }
    return rc;
}

int fk_capture_activate(fk_capture *h)
{
    if (!h)
        return fk__error(FK_EINVAL, "capture: NULL handle");
    if (h->activated)
        return fk__error(FK_EACTIVATED, "capture: already activated");
    if (h->nfiles && h->ndevices)
        return fk__error(FK_EINVAL,
                         "capture: cannot capture from devices and replay files at once");
    h->offline = h->nfiles > 0;
    h->finished = false;
    h->limit_reached = false;
    atomic_store(&h->break_flag, 0);
    h->packets = h->bytes = h->queue_drops = h->decode_errors = h->non_ip = 0;
    h->store_errors = h->closed_kernel_drops = 0;

    fk__cgroup_config cg = {
        .cpu_cores = fk__params_double(&h->params, FK_CAP_CPU_LIMIT),
        .mem_bytes = fk__params_int(&h->params, FK_CAP_MEMORY_LIMIT),
        .version = (int)fk__params_int(&h->params, FK_CAP_CGROUP_VERSION),
    };
    h->backend = fk__cap_backend_find(fk__params_str(&h->params, FK_CAP_BACKEND));
    if (!h->backend)
        h->backend = &fk__cap_backend_pcap;
    int rc = fk__cgroup_apply(&h->cgroup, &cg);
    if (rc == 0)
        rc = h->backend->open(h);
    if (rc == 0)
        rc = make_fds(h);
    if (rc == 0)
        rc = fk__dispatch_start(h);
    if (rc < 0) {
        /* Keep the error of the failure, not of the cleanup. */
        fk_error saved = *fk_error_last();
        char msg[512];
        snprintf(msg, sizeof msg, "%s", saved.message);
        if (saved.sys_errno) {
            /* fk__error_set appends ": strerror" again: drop the first. */
            char suffix[256], eb[128];
            snprintf(suffix, sizeof suffix, ": %s", fk__strerror_r(saved.sys_errno, eb, sizeof eb));
            size_t ml = strlen(msg), sl = strlen(suffix);
            if (ml >= sl && strcmp(msg + ml - sl, suffix) == 0)
                msg[ml - sl] = '\0';
        }
        deactivate(h);
        return fk__error_set(rc, saved.sys_errno, "%s", msg);
    }
    h->activated = true;
    h->params.activated = true;
    return 0;
}

int fk_capture_get_fd(const fk_capture *h)
{
    if (!h || !h->activated)
        return fk__error(FK_ENOTACTIVATED, "capture: not activated");
    return h->epoll_fd;
}

void fk_capture_break(fk_capture *h)
{
    if (!h)
        return;
    int saved = errno;
    atomic_store(&h->break_flag, 1);
    if (h->break_fd >= 0) {
        uint64_t one = 1;
        ssize_t n = write(h->break_fd, &one, sizeof one);
        (void)n; /* a full counter is still readable */
    }
    errno = saved;
}

size_t fk_capture_get_source_count(const fk_capture *h)
{
    return h && h->activated ? h->nsources : 0;
}

const char *fk_capture_get_source_name(const fk_capture *h, size_t index)
{
    if (!h || !h->activated || index >= h->nsources)
        return NULL;
    return h->sources[index].name;
}

static int fill_stats(fk_capture *h, fk_capture_stats *out)
{
    if (!h || !out)
        return fk__error(FK_EINVAL, "capture: NULL argument");
    memset(out, 0, sizeof *out);
    out->packets = h->packets;
    out->bytes = h->bytes;
    out->queue_drops = h->queue_drops;
    out->decode_errors = h->decode_errors;
    out->non_ip = h->non_ip;
    out->store_errors = h->store_errors;
    out->kernel_drops = h->closed_kernel_drops;
    if (h->table) {
        fk__flow_stats fs;
        fk__flow_table_stats(h->table, &fs);
        out->flows_active = fs.active;
        out->flows_created = fs.created;
        out->flows_evicted = fs.evicted;
        out->flows_emitted = fs.records;
        out->session_events = fs.events;
        out->frags_unmatched = fs.frag_misses;
    }
    for (size_t i = 0; i < h->nworkers; i++) {
        fk__cap_worker *w = &h->workers[i];
        out->flows_active += atomic_load_explicit(&w->st_active, memory_order_relaxed);
        out->flows_created += atomic_load_explicit(&w->st_created, memory_order_relaxed);
        out->flows_evicted += atomic_load_explicit(&w->st_evicted, memory_order_relaxed);
        out->flows_emitted += atomic_load_explicit(&w->st_records, memory_order_relaxed);
        out->session_events += atomic_load_explicit(&w->st_events, memory_order_relaxed);
        out->event_drops += atomic_load_explicit(&w->event_drops, memory_order_relaxed);
        out->frags_unmatched += atomic_load_explicit(&w->st_frag_misses, memory_order_relaxed);
    }
    if (h->backend && h->sources)
        h->backend->stats(h, out);
    if (h->attrib) {
        fk__attrib_stats as;
        fk__attrib_get_stats(h->attrib, &as);
        out->attrib_hits = as.hits;
        out->attrib_misses = as.misses;
        out->attrib_events = as.events;
        out->attrib_events_lost = as.events_lost;
        out->attrib_owners_evicted = as.owners_evicted;
    }
    return 0;
}

int fk_capture_get_stats(fk_capture *h, fk_capture_stats *out, size_t size)
{
    if (!h || !out || size < sizeof(uint64_t))
        return fk__error(FK_EINVAL, "capture: NULL argument or size %zu below 8", size);
    fk_capture_stats st;
    int rc = fill_stats(h, &st);
    if (rc == 0)
        fk__copy_sized(out, size, &st, sizeof st);
    return rc;
}
