/* Internal: the capture handle's state, shared by capture.c (lifecycle and
 * parameters), source.c (libpcap sources), dispatch.c (packet path, events,
 * stop) and worker.c (worker threads). */
#ifndef FK_CAPTURE_CAPTURE_INT_H
#define FK_CAPTURE_CAPTURE_INT_H

#include <flowkit/capture.h>
#include <pcap/pcap.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "capture/cgroup.h"
#include "capture/spsc.h"
#include "capture/store.h"
#include "core/clock.h"
#include "core/params.h"
#include "flow/flow_table.h"
#include "packet/packet.h"
#include "proc/attrib.h"

/* Flow clock granularity: tables are expired once per second of clock. */
#define FK__CAP_TICK_NS INT64_C(1000000000)

typedef struct fk__cap_source {
    fk_capture *h;
    char *name;
    bool offline;
    bool done; /* EOF, failed or stopped */
    pcap_t *pcap;
    int linktype;
    uint32_t ifindex; /* interface index of a live device; 0 for "any" and files */
    int fd;           /* selectable fd (live), -1 otherwise */
    int ts_scale;     /* 1 for nanosecond timestamps, 1000 for microseconds */
    bool has_next;    /* offline lookahead */
    struct pcap_pkthdr *next_hdr;
    const u_char *next_data;
    /* Files flowkit reads itself (pcapfile.c; NULL: libpcap reads). pcap is
     * then a pcap_open_dead() handle of the file's link type and snapshot
     * (filters are compiled on it and applied with pcap_offline_filter). */
    struct fk__pcapfile *reader;
    struct pcap_pkthdr reader_hdr; /* header of the lookahead packet */
    struct bpf_program prog;       /* the filter, when has_prog */
    bool has_prog;
    int prog_linktype; /* link type prog was compiled for */
    char *filter_expr; /* to recompile for another pcapng link type */
    fk__pcap_store *store;
    bool store_failing;
    uint64_t final_drops; /* kernel drops read when the handle was closed */
} fk__cap_source;

/* Message from the dispatch thread to a worker. */
enum { FK__MSG_PACKET = 1, FK__MSG_TICK = 2, FK__MSG_FLUSH = 3, FK__MSG_QUIT = 4 };
typedef struct fk__cap_msg {
    uint32_t kind;
    int64_t now_ns; /* TICK, FLUSH: the flow clock */
    fk__packet pkt; /* PACKET */
} fk__cap_msg;

/* Event from a worker back to the dispatch thread. */
enum { FK__EVT_SESSION = 1, FK__EVT_FLOW = 2, FK__EVT_FLUSHED = 3 };
typedef struct fk__cap_evt {
    uint32_t kind;
    union {
        fk_session_event session;
        fk_flow flow;
    } u;
} fk__cap_evt;

/* Decoded packets are counted in small batches (fk__flow_table_add_batch
 * prefetches the index and entries of a group). The table's clock moves at
 * the start of each batch; a batch spans at most FK__BATCH_SPAN_NS of packet
 * time, so timeouts are applied with that granularity (1 ms). */
#define FK__BATCH 32
#define FK__BATCH_SPAN_NS INT64_C(1000000)
typedef struct fk__pkt_batch {
    fk__packet p[FK__BATCH];
    size_t n;
    int64_t clock; /* flow clock when the first packet was added */
} fk__pkt_batch;

static inline void fk__batch_flush(fk__flow_table *t, fk__pkt_batch *b)
{
    if (!b->n)
        return;
    fk__flow_table_expire(t, b->clock);
    fk__flow_table_add_batch(t, b->p, b->n);
    b->n = 0;
}

static inline void fk__batch_add(fk__flow_table *t, fk__pkt_batch *b, const fk__packet *p,
                                 int64_t clock)
{
    if (b->n && (b->n == FK__BATCH || clock - b->clock > FK__BATCH_SPAN_NS))
        fk__batch_flush(t, b);
    if (!b->n)
        b->clock = clock;
    b->p[b->n++] = *p;
}

/* Dispatch side, with workers: where the first fragment of an IP datagram
 * went, so its later fragments (no ports, so another hash) follow it to the
 * worker whose flow table knows the datagram. Direct-mapped. */
#define FK__FRAG_ROUTES 4096
typedef struct fk__frag_route {
    uint8_t src[16];
    uint8_t dst[16];
    uint32_t id;
    uint8_t proto;
    uint8_t used;
    uint16_t worker;
} fk__frag_route;

typedef struct fk__cap_worker {
    fk_capture *h;
    size_t index;
    pthread_t thread;
    bool started;
    fk__spsc in;  /* dispatch -> worker */
    fk__spsc out; /* worker -> dispatch */
    int wake_fd;  /* eventfd the worker sleeps on */
    atomic_int sleeping;
    bool pending;        /* dispatch side: messages pushed since the last wake */
    unsigned since_wake; /* dispatch side: packets pushed since the last wake */
    unsigned wake_every; /* dispatch side: wake after this many (<= queue / 4) */
    bool flushing;       /* worker side: in a flush, event pushes wait */
    void *ctx;           /* worker side: sink context */
    size_t flushed;      /* dispatch side: FLUSHED marks received */
    fk__flow_table *table;
    /* Published by the worker for fk_capture_get_stats(). */
    atomic_uint_least64_t st_active, st_created, st_evicted, st_records, st_events;
    atomic_uint_least64_t st_frag_misses;
    atomic_uint_least64_t event_drops;
} fk__cap_worker;

/* A capture backend, shaped as libpcap's pcap-int.h: the core (capture.c,
 * dispatch.c) owns the handle, the flow tables, attribution and delivery;
 * a backend owns how packets (or flows) come in. Each lives in its own
 * file: backend_pcap.c (libpcap, every packet to user space) and
 * backend_ebpf.c (flows counted in the kernel, lib/bpf). */
typedef struct fk__cap_backend {
    const char *name;
    /* The backend counts flows itself: the core makes no flow table and no
     * workers, and the backend hands records and session events to
     * fk__flow_to_callback() / fk__session_to_callback(). */
    bool counts_flows;
    /* At activate, after the cgroup limits: open the sources (h->sources,
     * h->nsources) and what else the backend needs. The core undoes a
     * failure with close() and the sources' teardown. */
    int (*open)(fk_capture *h);
    /* A descriptor to wait on besides the sources' own, or -1. */
    int (*get_fd)(const fk_capture *h);
    /* Live dispatch: take what is there now (at most max packets when
     * max > 0). Returns true when every source failed. */
    bool (*read)(fk_capture *h, int max);
    /* The flow clock's per-second tick (now: CLOCK_REALTIME ns); may be NULL. */
    void (*tick)(fk_capture *h, int64_t now_ns);
    /* End of a live capture, before the core flushes its tables: hand on
     * what the backend still holds. */
    void (*finish)(fk_capture *h);
    /* Add the backend's counters (the core's are already in out). */
    void (*stats)(fk_capture *h, fk_capture_stats *out);
    /* At deactivate, before the sources are closed: free what open made. */
    void (*close)(fk_capture *h);
} fk__cap_backend;

/* backend_pcap.c, backend_ebpf.c */
extern const fk__cap_backend fk__cap_backend_pcap;
extern const fk__cap_backend fk__cap_backend_ebpf;
/* The backend named by FK_CAP_BACKEND ("pcap", "ebpf", "xdp"); NULL when
 * the name is not one of them. */
const fk__cap_backend *fk__cap_backend_find(const char *name);

struct fk_capture {
    fk__params params;
    const fk__cap_backend *backend; /* chosen at activate */
    void *backend_state;            /* the backend's own, between open and close */
    char **devices;
    size_t ndevices;
    char **files;
    size_t nfiles;
    fk_capture_event_cb cb;
    void *user;

    bool activated;
    bool offline;
    bool finished;
    bool limit_reached;
    bool busy; /* inside dispatch/stop: the callback may not re-enter */
    atomic_int break_flag;
    int break_fd;  /* eventfd written by fk_capture_break() */
    int ready_fd;  /* eventfd kept readable while replaying and once finished */
    int events_fd; /* eventfd written by workers after pushing events */
    int epoll_fd;

    fk__cap_source *sources;
    size_t nsources;
    fk__cgroup *cgroup;
    fk__flow_table *table; /* workers == 0 */
    fk__pkt_batch batch;   /* workers == 0: packets not yet counted */
    fk__cap_worker *workers;
    size_t nworkers;
    fk__frag_route *frag_routes; /* FK__FRAG_ROUTES entries when nworkers > 0 */
    unsigned decode_flags;
    fk__attrib *attrib;             /* FK_CAP_ATTRIBUTION: process attribution (lib/proc) */
    const char *attribution_source; /* "bpf" or "sockdiag" while attrib runs; NULL otherwise */

    uint64_t packet_limit; /* 0 = none */
    int64_t deadline_mono; /* 0 = none */
    int64_t clock_ns;      /* flow clock: newest packet or wall time */
    int64_t next_tick_ns;

    uint64_t packets, bytes, queue_drops, decode_errors, non_ip, store_errors;
    uint64_t closed_kernel_drops;
};

/* source.c */
int fk__source_open_live(fk__cap_source *s, fk_capture *h, const char *name);
int fk__source_open_file(fk__cap_source *s, fk_capture *h, const char *path);
int fk__source_apply_filter(fk_capture *h, const char *filter);
void fk__source_close(fk__cap_source *s);
/* Offline: read the next packet (that passes the filter) into next_hdr /
 * next_data and set linktype to its link type. 1: a packet; 0: end of
 * file; < 0: read error (message set). */
int fk__source_next(fk__cap_source *s);
uint64_t fk__source_kernel_drops(fk__cap_source *s);
/* Every device that is up and not loopback (names owned by the caller:
 * fk__free each and the array). FK_ENODEV when there is none. */
/* FK_CAP_ATTRIBUTION's values (attribution_mode.c). */
typedef enum fk__attribution_mode {
    FK__ATTRIBUTION_INVALID = -1,
    FK__ATTRIBUTION_OFF = 0,
    FK__ATTRIBUTION_AUTO = 1,    /* bpf where it loads, else sockdiag */
    FK__ATTRIBUTION_BPF = 2,     /* socket owners from the kernel (lib/bpf) */
    FK__ATTRIBUTION_SOCKDIAG = 3 /* socket table polls (sock_diag, /proc) */
} fk__attribution_mode;
/* Parse a name (also 0/1, false/true, no/yes, on for the old bool). */
fk__attribution_mode fk__attribution_mode_parse(const char *text);
/* Canonical name, NULL for INVALID. */
const char *fk__attribution_mode_name(fk__attribution_mode m);
/* The handle's mode. */
fk__attribution_mode fk__capture_attribution(const struct fk_capture *h);

int fk__capture_default_devices(char ***out, size_t *count);

/* dispatch.c */
/* The pcap backend's live read and end-of-capture drain (dispatch.c). */
bool fk__dispatch_read_live(fk_capture *h, int max);
void fk__dispatch_drain_live(fk_capture *h);
int fk__dispatch_start(fk_capture *h); /* tables, workers, clocks */
void fk__dispatch_teardown(fk_capture *h);
void fk__flow_to_callback(void *ctx, const fk__flow_record *rec);
void fk__session_to_callback(void *ctx, const fk_session_event *ev);

/* attribution.c: the capture's side of process attribution (lib/proc) */
struct fk__packet;
/* Create h->attrib from the capture's parameters (at activate). */
int fk__cap_attrib_start(fk_capture *h);
/* Per decoded packet, on the dispatch thread (whatever `workers` is). */
void fk__cap_attrib_packet(fk_capture *h, const fk__cap_source *s, const struct fk__packet *pkt);
/* The fk__dir of a packet from its cooked header (SLL packet and device
 * types), or -1 when it must not be accounted (a second copy). */
int fk__cap_attrib_dir(uint16_t pkttype, uint16_t hatype);
/* Backends that count flows themselves (no packets): a session event, a
 * flow record (its bytes, each direction as one packet), before delivery. */
void fk__cap_attrib_session(fk_capture *h, const fk_session_event *ev, uint32_t ifindex);
void fk__cap_attrib_flow(fk_capture *h, const fk__flow_record *rec, uint32_t ifindex);
/* Per dispatch (live): notifications, periodic sync, owner events. */
void fk__cap_attrib_tick(fk_capture *h, int64_t now_ns);

/* worker.c */
int fk__worker_start(fk__cap_worker *w, fk_capture *h, size_t index, const fk__flow_config *cfg);
void fk__worker_stop(fk__cap_worker *w); /* quit, join, free */
/* Dispatch side: push a message; returns false when the queue is full and
 * `wait` is false. With `wait`, delivers events while it waits. */
bool fk__worker_push(fk_capture *h, fk__cap_worker *w, const fk__cap_msg *m, bool wait);
void fk__worker_wake(fk__cap_worker *w);
/* Dispatch side: deliver queued events; returns the number of FLUSHED marks. */
size_t fk__worker_drain(fk_capture *h, fk__cap_worker *w);

#endif
