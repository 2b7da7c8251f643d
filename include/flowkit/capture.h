/**
 * @file capture.h
 * @brief The capture handle: live devices or pcap files → flows and TCP
 *        session events, with a pcap store and cgroup limits.
 *
 * Lifecycle (as every flowkit handle):
 * @code
 * fk_capture *h;
 * fk_capture_create(&h);
 * fk_capture_set_str(h, FK_CAP_FILTER, "tcp or udp");
 * fk_capture_add_device(h, "eth0");              // or fk_capture_add_file()
 * fk_capture_set_callback(h, on_event, ctx);
 * if (fk_capture_activate(h) < 0) { ... fix parameters, activate again ... }
 * fk_capture_run(h);                              // or poll fk_capture_get_fd() + dispatch
 * fk_capture_stop(h);                             // final flush (run does it by itself
 *                                                 //  when a duration/count limit ends it)
 * fk_capture_destroy(h);
 * @endcode
 *
 * Data path: each source (a libpcap live handle per device, or a pcap/pcapng
 * file) is read without blocking; every packet is counted, optionally written
 * to the pcap store, decoded (L2–L4) and added to a bidirectional flow table
 * that follows TCP sessions. With `workers = 0` all of this runs in the thread
 * that calls fk_capture_dispatch(). With `workers = N` that thread decodes and
 * hands each packet to worker `hash % N` (symmetric flow hash, so both
 * directions of a flow meet in one worker) through a bounded queue; a full
 * queue drops the packet and counts it. Workers hand their events back through
 * a bounded queue each; a full event queue drops the event and counts it.
 *
 * Events (session events, flow records, errors) reach the callback only on the
 * thread that calls fk_capture_dispatch() / fk_capture_run() /
 * fk_capture_stop(). Flow byte counters are IP-layer bytes (IP header +
 * payload, the IPFIX `octetDeltaCount` definition).
 *
 * Time: flow timeouts follow packet timestamps, applied with 1 ms granularity
 * (packets are counted in small batches spanning at most 1 ms of packet
 * time); for live devices the clock also advances with the wall clock
 * (`CLOCK_REALTIME`) at least once a second while no packet comes, so idle
 * flows expire on a quiet link. With `workers = 0` the events caused by the
 * packets of a fk_capture_dispatch() call are delivered before it returns.
 *
 * @since 0.1.0
 */
#ifndef FLOWKIT_CAPTURE_H
#define FLOWKIT_CAPTURE_H

#include <flowkit/common.h>
#include <flowkit/flow.h>
#include <flowkit/params.h>
#include <flowkit/session.h>

FK_BEGIN_DECLS

/** Opaque capture handle. @since 0.1.0 */
typedef struct fk_capture fk_capture;

/**
 * Parameters of the capture handle, numbered by group (100 basics, 200
 * pipeline, 300 pcap store, 400 attribution, 500 limits, 600 run). Numbers
 * are never reused; new parameters are added at the end of their group.
 * fk_capture_params() describes each (name, type, bounds, default, unit).
 * @since 0.1.0
 */
typedef enum fk_capture_param {
    /* ---- basics ---- */
    /** int, bytes captured per packet [64, 262144], default 262144. */
    FK_CAP_SNAPLEN = 100,
    /** bool, promiscuous mode, default 0. */
    FK_CAP_PROMISC = 101,
    /** int, kernel buffer bytes per device [0, 2^31-1]; 0 = libpcap's default; default 8 MiB. */
    FK_CAP_BUFFER_SIZE = 102,
    /** string, BPF filter (pcap-filter(7)), NULL = none; runtime-settable. */
    FK_CAP_FILTER = 103,
    /** bool, deliver each packet as it arrives instead of in kernel blocks retired at least
     *  every #FK_CAP_BUFFER_TIMEOUT ms; default 0. libpcap's immediate mode uses fixed kernel slots
     * of snaplen size (TPACKET_V2), so the buffer holds far fewer packets: lower the snaplen with
     * it. */
    FK_CAP_IMMEDIATE = 104,
    /** bool, count VXLAN (UDP 4789) / GENEVE (UDP 6081) traffic as its inner flows, default 0.
     *  A record keyed by the inner tuple also carries its first packet's tunnel:
     *  ::fk_flow::tunnel, ::fk_flow::outer_src, ::fk_flow::outer_dst and ::fk_flow::vni (0.2.0). */
    FK_CAP_DECODE_TUNNELS = 105,
    /** int, milliseconds the kernel may hold captured packets before handing over a block
     *  (libpcap's read timeout; TPACKET_V3 block retirement) [1, 1000], default 10. */
    FK_CAP_BUFFER_TIMEOUT = 106,
    /** string, how packets become flows: `"pcap"` (default: libpcap, every packet is copied to
     *  user space, decoded and counted there), `"ebpf"` (tc programs on the ingress and egress
     *  of each device count flows in a kernel map; user space sweeps the map once a second,
     *  applies the same idle/active timeouts and delivers the same flow records and session
     *  events) or `"xdp"` (as ebpf, but one XDP program on ingress only: traffic the host sends
     *  is not seen). ebpf and xdp need root (or CAP_BPF + CAP_NET_ADMIN), a build with BPF and
     *  a kernel with tcx links (6.6) for ebpf; programs are attached through BPF links owned
     *  by the process, so they go away with it, even after a crash. They count live devices
     *  only, and fk_capture_activate() refuses (`FK_EUNSUPPORTED`) what only libpcap can do:
     *  files, #FK_CAP_FILTER, #FK_CAP_SNAPLEN other than its default and #FK_CAP_PCAP_STORE
     *  (#FK_CAP_DECODE_TUNNELS is done in the kernel). #FK_CAP_WORKERS, #FK_CAP_BUFFER_SIZE,
     * #FK_CAP_IMMEDIATE, #FK_CAP_BUFFER_TIMEOUT and #FK_CAP_PROMISC do not apply (the kernel map is
     * the queue).
     *  @since 0.2.0 */
    FK_CAP_BACKEND = 107,
    /** string, backend `"ebpf"` / `"xdp"`: which kernel clock times a flow's packets,
     *  `"coarse"` (default) or `"precise"`. A flow's first packet on each side and every TCP
     *  SYN, FIN and RST (and so each session event) always read the precise clock
     *  (CLOCK_MONOTONIC). With `"coarse"` each CPU reads that clock once per kernel tick (when
     *  the kernel's tick counter, jiffies, has moved) and times every other packet with that
     *  reading, ~20 ns less per packet: a packet's time is never later than the packet and
     *  at most one timer tick (1/HZ: 4 ms at HZ=250) earlier, more only when the tick itself
     *  ran late (an overloaded virtual machine). So ::fk_flow::start_ns is exact and
     *  ::fk_flow::end_ns may be up to one tick early, never earlier than start_ns; a TCP flow
     *  that ends with FIN or RST keeps that packet's exact time unless later packets (the last
     *  ACK) come within the same tick. `"precise"` reads CLOCK_MONOTONIC for every packet, as
     *  the pcap backend's timestamps are exact. The pcap backend ignores it. @since 0.2.0 */
    FK_CAP_EBPF_CLOCK = 108,
    /** int, backend `"ebpf"` / `"xdp"`: slots per CPU of the per-CPU flow cache in front of the
     *  kernel's flow map, 0 (none) or a power of two up to 65536; default 1024. A later packet
     *  of a flow (for TCP: without SYN, FIN or RST, in a session not closing) whose slot on its
     *  CPU the flow holds is counted there with plain
     *  adds, without the map's hash lookup and atomic operations; a flow whose slot another
     *  flow holds is counted in the map as without the cache. Flow records, counters, times
     *  and timeouts are the same either way: the sweep adds a flow's slots of every CPU to its
     *  map entry, and frees them after two RCU grace periods when the flow ends (so records of
     *  ended flows come up to a few tens of ms later). Memory: possible CPUs (hot-pluggable
     *  ones included) x slots x 128 bytes (128 KiB per CPU by default). It pays most on
     *  few long flows: a packet that misses (a flow's first on a CPU, more active flows than
     *  slots) costs the map path plus the slot's lookup. The cache is not used on PREEMPT_RT
     * kernels or where membarrier(2) cannot wait for a grace period (nohz_full CPUs). The pcap
     * backend ignores it. @since 0.2.0 */
    FK_CAP_EBPF_CACHE_SLOTS = 109,
    /* ---- pipeline ---- */
    /** int, packets per worker queue [16, 2^24], default 8192. */
    FK_CAP_QUEUE_SIZE = 200,
    /** int, worker threads [0, 64]; 0 = everything in the caller's thread; default 0. */
    FK_CAP_WORKERS = 201,
    /** int, seconds without packets before a flow ends [1, 86400], default 15. */
    FK_CAP_IDLE_TIMEOUT = 202,
    /** int, seconds after which a long flow is reported and goes on [0, 604800]; 0 = never;
     *  default 1800. */
    FK_CAP_ACTIVE_TIMEOUT = 203,
    /** int, flows kept in all tables together [16, 2^28], default 262144. */
    FK_CAP_MAX_FLOWS = 204,
    /** int, events per worker return queue [16, 2^22], default 16384. */
    FK_CAP_EVENT_QUEUE_SIZE = 205,
    /* ---- pcap store ---- */
    /** string, directory or strftime(3) file pattern for the pcap store; NULL = off. */
    FK_CAP_PCAP_STORE = 300,
    /** int, start a new file before it would exceed this size [0, 2^50]; 0 = never. */
    FK_CAP_PCAP_ROTATE_BYTES = 301,
    /** int, start a new file after this many seconds of packet time [0, 2678400]; 0 = never. */
    FK_CAP_PCAP_ROTATE_SECONDS = 302,
    /** int, keep only the newest N files written [0, 1000000]; 0 = keep all. */
    FK_CAP_PCAP_KEEP_FILES = 303,
    /* ---- process attribution ---- */
    /** string, attribute TCP/UDP packets to local processes and keep the per-process
     *  accounting read by fk_capture_rank(): `"off"` (default), `"auto"`, `"bpf"` or
     *  `"sockdiag"`. `bpf` learns each socket's owner in the kernel at its first packet (BPF
     *  programs on the cgroup v2 root; needs root or CAP_BPF + CAP_NET_ADMIN), so connections of
     *  a millisecond and processes that exit at once are still attributed; fk_capture_activate()
     *  fails when the programs cannot load. `sockdiag` polls the socket tables (sock_diag,
     *  /proc). `auto` takes bpf where it loads, else sockdiag, and says which and why once
     *  through the log handler. The integer setter still takes 0 (off) and 1 (auto). Needs root
     *  (or CAP_NET_ADMIN + CAP_SYS_PTRACE) to see every process's sockets. */
    FK_CAP_ATTRIBUTION = 400,
    /** int, milliseconds between socket-table dumps [10, 60000], default 50, while connections
     *  end before their first packet is attributed (the exact per-connection query found no
     *  socket in the last 5 s); ten times longer, at most 1 s, otherwise. Runtime-settable.
     *  New sockets a dump finds are resolved to their process at once in a thread of their
     *  own, so connections shorter than the capture's lag are still attributed. */
    FK_CAP_SYNC_INTERVAL = 401,
    /** int, seconds of per-second history kept per process (longest rank window) [1, 86400],
     *  default 60. */
    FK_CAP_HISTORY_SECONDS = 402,
    /** int, attribution = bpf: socket owners remembered at most [16, 16777216], default 65536;
     *  when full, the oldest closed socket's owner goes first (counted in
     *  fk_capture_stats::attrib_owners_evicted). */
    FK_CAP_ATTRIBUTION_OWNERS = 403,
    /** int, attribution = bpf: seconds a socket's owner is remembered after the socket was
     *  closed [1, 3600], default 30 (packets the capture still holds find their owner). */
    FK_CAP_ATTRIBUTION_KEEP = 404,
    /** int, seconds of per-second history copied into each row of a rank snapshot
     *  (fk_rank_row::history) [0, 86400], default 0 (none); at most
     *  #FK_CAP_HISTORY_SECONDS, else fk_capture_rank() fails with `FK_ERANGE`.
     *  Runtime-settable. @since 0.2.0 */
    FK_CAP_RANK_HISTORY = 405,
    /* ---- limits ---- */
    /** double, CPU for the process in cores [0, 4096]; 0 = no limit. */
    FK_CAP_CPU_LIMIT = 500,
    /** int, memory for the process in bytes: 0 (no limit) or [16 MiB, 2^50]. */
    FK_CAP_MEMORY_LIMIT = 501,
    /** int, cgroup version for the limits: 0 automatic (v2 if its controllers are there), 1, 2. */
    FK_CAP_CGROUP_VERSION = 502,
    /* ---- run ---- */
    /** double, seconds to capture [0, 1e9]; 0 = no limit. */
    FK_CAP_DURATION = 600,
    /** int, packets to capture [0, 2^62]; 0 = no limit. */
    FK_CAP_PACKET_COUNT = 601
} fk_capture_param;

/** Kind of an ::fk_capture_event. @since 0.1.0 */
typedef enum fk_capture_event_type {
    FK_CAPTURE_EVENT_SESSION = 1, /**< A TCP session event; `session` is set. */
    FK_CAPTURE_EVENT_FLOW = 2,    /**< A finished flow record; `flow` is set. */
    FK_CAPTURE_EVENT_ERROR = 3    /**< A non-fatal error; `error` and `message` are set. */
} fk_capture_event_type;

/**
 * One event delivered to the callback. All pointers are borrowed and valid
 * only during the callback; copy what you keep.
 *
 * With #FK_CAP_ATTRIBUTION, a flow or session event whose connection has a
 * known owner carries its pid and name (`FK_FLOW_HAS_PROCESS` /
 * `FK_SESSION_HAS_PROCESS`), uid (`FK_FLOW_HAS_UID` / `FK_SESSION_HAS_UID`)
 * and `user` / `exe`. Those two strings are copies owned by the thread
 * that calls the callback (not by the process table, which may forget the
 * process at any time): they are valid only during the callback, like the
 * record itself. They are NULL when unknown.
 * @since 0.1.0
 */
typedef struct fk_capture_event {
    /** ::fk_capture_event_type. */
    int type;
    /** The session event (FK_CAPTURE_EVENT_SESSION), else NULL. */
    const fk_session_event *session;
    /** The flow record (FK_CAPTURE_EVENT_FLOW), else NULL. */
    const fk_flow *flow;
    /** ::fk_status of the problem (FK_CAPTURE_EVENT_ERROR), else 0. */
    int error;
    /** Error text with context (FK_CAPTURE_EVENT_ERROR), else NULL. */
    const char *message;
    /** Source (device or file) the error concerns, or NULL. */
    const char *device;
} fk_capture_event;

/**
 * Event callback. Runs only on the thread calling fk_capture_dispatch(),
 * fk_capture_run() or fk_capture_stop(). It may call fk_capture_break(),
 * fk_capture_get_stats() and the getters, nothing else on the same handle
 * (fk_capture_dispatch(), fk_capture_run(), fk_capture_stop() and a filter
 * change return `FK_ESTATE` there).
 *
 * @param event the event (borrowed for the duration of the call).
 * @param user the pointer given to fk_capture_set_callback().
 * @since 0.2.0 (was `fk_capture_callback`, with @p user first)
 */
typedef void (*fk_capture_event_cb)(const fk_capture_event *event, void *user);

/**
 * Counters of a capture handle. Fields may be added at the end.
 * @since 0.1.0
 */
typedef struct fk_capture_stats {
    uint64_t packets;       /**< Packets read from the sources (after the BPF filter). */
    uint64_t bytes;         /**< Their original (wire) lengths, link layer included. */
    uint64_t kernel_drops;  /**< Dropped by the kernel or interface: `ps_drop + ps_ifdrop` of every
                               live device. */
    uint64_t queue_drops;   /**< Dropped because a worker queue was full. */
    uint64_t decode_errors; /**< Truncated, malformed or unsupported-link packets (not counted to
                               flows). */
    uint64_t non_ip;        /**< Valid frames without IP (ARP, LLDP, ...), not counted to flows. */
    uint64_t event_drops;   /**< Events lost because a worker's event queue was full. */
    uint64_t flows_active;  /**< Flows in the tables now. */
    uint64_t flows_created; /**< Flows created. */
    uint64_t flows_evicted; /**< Flows ended early because the table was full (FK_END_RESOURCES). */
    uint64_t flows_emitted; /**< Flow records produced by the tables (delivered + dropped). */
    uint64_t session_events; /**< Session events produced by the tables (delivered + dropped). */
    uint64_t store_files;    /**< pcap store: files opened. */
    uint64_t store_packets;  /**< pcap store: packets written. */
    uint64_t store_bytes;    /**< pcap store: bytes written, file headers included. */
    uint64_t store_errors;   /**< pcap store: write or open failures. */
    uint64_t attrib_hits;    /**< TCP/UDP packets attributed to a process (#FK_CAP_ATTRIBUTION). */
    uint64_t attrib_misses;  /**< TCP/UDP packets with a local end counted as "unknown". */
    uint64_t attrib_events;  /**< Socket owners the attribution sources learnt on their own (BPF:
                                records from the kernel; sockdiag: sockets its watcher found). */
    uint64_t attrib_events_lost;    /**< Owners lost on the way: the kernel's ring buffer was full,
                                       a socket got no owner record, or a record was malformed. */
    uint64_t attrib_owners_evicted; /**< Owners of closed or idle sockets dropped before their
                                       keep time because the table of recent owners was full. */
    uint64_t kernel_map_full;       /**< #FK_CAP_BACKEND ebpf/xdp: packets not counted because the
                                       kernel's flow map (#FK_CAP_MAX_FLOWS entries) was full.
                                       @since 0.2.0 */
    uint64_t kernel_events_lost;    /**< #FK_CAP_BACKEND ebpf/xdp: session events, and records of
                                       flows the kernel ended on a reused TCP port, lost because the
                                       kernel's ring buffer was full. @since 0.2.0 */
    uint64_t frags_unmatched;       /**< Later IP fragments (no ports) whose first fragment was not
                                       known: it came later, or had left the fragment table (the pcap
                                       path's cache of `max_flows / 8` slots, at least 256; ebpf/xdp: the
                                       kernel's 4096 most recent). They are counted on the port-less
                                       flow of their addresses. @since 0.2.0 */
    uint64_t tunnels_undecoded;     /**< #FK_CAP_BACKEND ebpf/xdp with #FK_CAP_DECODE_TUNNELS:
                                       VXLAN/GENEVE datagrams counted as their outer flow because
                                       the kernel's inner-packet parser (a program reached by a tail
                                       call) could not be reached. 0 unless that program is
                                       missing. @since 0.2.0 */
    uint64_t kernel_cache_orphans;  /**< #FK_CAP_BACKEND ebpf/xdp with the flow cache
                                       (#FK_CAP_EBPF_CACHE_SLOTS): slots found holding a flow
                                       incarnation that no entry of the kernel's flow map has (a
                                       race the programs guard against); their counts were emitted
                                       as a flow of their own, end reason `FK_END_FORCED`. Should
                                       stay 0. @since 0.2.0 */
} fk_capture_stats;

/**
 * Describe every capture parameter.
 *
 * @param count set to the number of entries.
 * @return the static table (never freed; thread-safe).
 * @since 0.1.0
 */
FK_API const fk_param_info *fk_capture_params(size_t *count);

/**
 * Create a capture handle with default parameters and no sources.
 *
 * @param out the new handle, owned by the caller (fk_capture_destroy()).
 * @return 0, `FK_EINVAL` (NULL @p out) or `FK_ENOMEM`.
 * @since 0.1.0
 */
FK_API int fk_capture_create(fk_capture **out);

/**
 * Stop the capture, restore cgroup membership and free the handle and
 * everything it owns. Pending events are not delivered (call
 * fk_capture_stop() first to get the final flush). NULL is a no-op.
 *
 * @param h the handle.
 * @since 0.1.0
 */
FK_API void fk_capture_destroy(fk_capture *h);

/**
 * Set an integer or boolean parameter.
 *
 * @param h the handle.
 * @param param an ::fk_capture_param of type int or bool.
 * @param value the value, within the bounds of the parameter table.
 * @return 0; `FK_ERANGE` (out of bounds, message names them; never clamped),
 *         `FK_ETYPE`, `FK_ENOTFOUND` (unknown id), `FK_EACTIVATED` (after
 *         activate, for parameters without #FK_PARAM_RUNTIME).
 * @since 0.1.0
 */
FK_API int fk_capture_set_int(fk_capture *h, int param, int64_t value);

/**
 * Set a double parameter.
 *
 * @param h the handle.
 * @param param an ::fk_capture_param of type double.
 * @param value the value, within bounds (NaN is refused).
 * @return 0, `FK_ERANGE`, `FK_ETYPE`, `FK_ENOTFOUND` or `FK_EACTIVATED`.
 * @since 0.1.0
 */
FK_API int fk_capture_set_double(fk_capture *h, int param, double value);

/**
 * Set a string parameter (copied). After activate only #FK_CAP_FILTER may
 * change: the new filter is compiled for every source first and applied only
 * when all compile, so a bad expression leaves the old filter in place.
 *
 * @param h the handle.
 * @param param an ::fk_capture_param of type string.
 * @param value the value, or NULL to unset.
 * @return 0, `FK_EFILTER` (with libpcap's message), `FK_ETYPE`,
 *         `FK_ENOTFOUND`, `FK_EACTIVATED` or `FK_ENOMEM`.
 * @since 0.1.0
 */
FK_API int fk_capture_set_str(fk_capture *h, int param, const char *value);

/**
 * Set a parameter from text by its name ("queue_size" or "queue-size"),
 * parsed by its type; for configuration files and command lines.
 *
 * @param h the handle.
 * @param name the parameter name.
 * @param text the value as text ("65536", "0.5", "on", "tcp port 80").
 * @return 0 or the errors of the typed setters, `FK_EINVAL` for text that
 *         does not parse.
 * @since 0.1.0
 */
FK_API int fk_capture_set_text(fk_capture *h, const char *name, const char *text);

/**
 * Read an integer or boolean parameter.
 *
 * @param h the handle.
 * @param param the parameter.
 * @param out its value.
 * @return 0, `FK_ETYPE` or `FK_ENOTFOUND`.
 * @since 0.1.0
 */
FK_API int fk_capture_get_int(const fk_capture *h, int param, int64_t *out);

/**
 * Read a double parameter.
 *
 * @param h the handle.
 * @param param the parameter.
 * @param out its value.
 * @return 0, `FK_ETYPE` or `FK_ENOTFOUND`.
 * @since 0.1.0
 */
FK_API int fk_capture_get_double(const fk_capture *h, int param, double *out);

/**
 * Read a string parameter.
 *
 * @param h the handle.
 * @param param the parameter.
 * @param out its value (borrowed until the parameter changes; may be NULL).
 * @return 0, `FK_ETYPE` or `FK_ENOTFOUND`.
 * @since 0.1.0
 */
FK_API int fk_capture_get_str(const fk_capture *h, int param, const char **out);

/**
 * The attribution source an activated capture uses: `"bpf"` (socket owners
 * from the kernel), `"sockdiag"` (socket table polls) or `"off"`. With
 * #FK_CAP_ATTRIBUTION `"auto"` this is what auto chose.
 *
 * @param h the handle.
 * @param out a static string.
 * @return 0, `FK_EINVAL` (NULL argument) or `FK_ENOTACTIVATED`.
 * @since 0.1.0
 */
FK_API int fk_capture_get_attribution_source(const fk_capture *h, const char **out);

/**
 * Add a live device to capture on ("eth0", or "any" for all devices through
 * Linux cooked capture). Repeatable. Without any device and any file, activate
 * captures on every device that is up and not loopback.
 *
 * @param h the handle (not activated).
 * @param name the device name (copied).
 * @return 0, `FK_EINVAL` (empty name), `FK_EEXIST` (added twice),
 *         `FK_EACTIVATED` or `FK_ENOMEM`. A missing device is reported by
 *         activate (`FK_ENODEV`).
 * @since 0.1.0
 */
FK_API int fk_capture_add_device(fk_capture *h, const char *name);

/**
 * Add a pcap or pcapng file to replay instead of live devices. Repeatable:
 * several files are merged by packet timestamp. The capture ends (see
 * fk_capture_dispatch()) when every file is read.
 *
 * pcap (version 2.4, microsecond or nanosecond timestamps, either byte order)
 * and pcapng (any sections, byte orders and interfaces; if_tsresol and
 * if_tsoffset honoured) with link types flowkit decodes are read by flowkit
 * itself in large chunks; other files go through libpcap. A pcapng file may
 * mix interfaces of different link types: each packet is decoded, and
 * filtered (`filter`), with its own interface's. A file that ends inside a
 * packet, or holds impossible lengths, ends that source with an error event.
 *
 * @param h the handle (not activated).
 * @param path the file (copied).
 * @return 0, `FK_EINVAL`, `FK_EACTIVATED` or `FK_ENOMEM`. An unreadable file is
 *         reported by activate (`FK_ENOTFOUND`, `FK_EPERM` or `FK_EPCAP`).
 * @since 0.1.0
 */
FK_API int fk_capture_add_file(fk_capture *h, const char *path);

/**
 * Forget every device and file added so far (e.g. to fix a wrong device
 * name after a failed activate).
 *
 * @param h the handle (not activated).
 * @return 0, `FK_EINVAL` or `FK_EACTIVATED`.
 * @since 0.1.0
 */
FK_API int fk_capture_clear_sources(fk_capture *h);

/**
 * Set the event callback. Without one, events are counted and discarded.
 *
 * @param h the handle (not activated).
 * @param cb the function, or NULL.
 * @param user passed to @p cb unchanged.
 * @return 0, `FK_EINVAL` or `FK_EACTIVATED`.
 * @since 0.1.0; 0.2.0 takes a #fk_capture_event_cb
 */
FK_API int fk_capture_set_callback(fk_capture *h, fk_capture_event_cb cb, void *user);

/**
 * Start the capture: apply cgroup limits, open every source (live devices
 * nonblocking with snaplen, promiscuous mode, immediate mode, buffer size and
 * nanosecond timestamps), compile and set the BPF filter per source, open the
 * pcap store and start the workers. On failure everything done so far is
 * undone and the handle stays configurable: fix the cause and call activate
 * again.
 *
 * @param h the handle.
 * @return 0; `FK_ENODEV` ("eth9: no such device", or an interface that is
 *         down), `FK_EPERM` (no capture permission, or cgroups not
 *         writable), `FK_EFILTER` (bad filter, libpcap's message),
 *         `FK_ENOTFOUND` (file or store directory missing),
 *         `FK_EUNSUPPORTED` (no usable cgroup hierarchy), `FK_EINVAL`
 *         (files and devices mixed), `FK_EPCAP`, `FK_EIO`, `FK_ENOMEM`,
 *         `FK_EACTIVATED`.
 * @since 0.1.0
 */
FK_API int fk_capture_activate(fk_capture *h);

/**
 * A file descriptor that becomes readable when fk_capture_dispatch() has
 * something to do (packets, worker events, a break, replay input, or the end
 * of the capture). Level-triggered, for poll/epoll/select; do not read it.
 *
 * @param h an activated handle.
 * @return the descriptor (owned by the handle, valid until destroy), or
 *         `FK_ENOTACTIVATED`.
 * @since 0.1.0
 */
FK_API int fk_capture_get_fd(const fk_capture *h);

/**
 * The longest time a caller may wait on fk_capture_get_fd() before calling
 * fk_capture_dispatch() again (flow timeouts, duration limit).
 *
 * @param h an activated handle.
 * @return milliseconds (0 = call dispatch now; at most 1000, never -1: the
 *         handle always has timed work), or `FK_ENOTACTIVATED` for a NULL or
 *         inactive handle.
 * @since 0.1.0
 */
FK_API int fk_capture_next_timeout_ms(const fk_capture *h);

/**
 * Process what is available without blocking: read up to @p max packets
 * from the sources, run the pipeline, expire flows whose timeouts passed and
 * deliver events to the callback on this thread. When the capture ends (all
 * files read, duration or packet count reached) the flow tables are flushed
 * (end reason `FK_END_FORCED`) and their records delivered in that call.
 *
 * @param h an activated handle.
 * @param max largest number of packets to read in this call; 0 or negative =
 *            everything available now (for files: the rest of the files).
 * @return the number of packets read (>= 0); `FK_EBREAK` once after
 *         fk_capture_break(); `FK_EEOF` when the capture has ended (every
 *         call after the one that ended it); `FK_ENOTACTIVATED`;
 *         `FK_EPCAP` when every live source failed.
 * @since 0.1.0
 */
FK_API int fk_capture_dispatch(fk_capture *h, int max);

/**
 * Dispatch in a loop, waiting on fk_capture_get_fd() in between, until the
 * capture ends or fk_capture_break() is called.
 *
 * @param h an activated handle.
 * @return 0 when the capture ended by itself (files read, duration or packet
 *         count reached; flows flushed and delivered), `FK_EBREAK` after
 *         fk_capture_break() (call fk_capture_run() again to continue or
 *         fk_capture_stop() to finish), or an error of fk_capture_dispatch().
 * @since 0.1.0
 */
FK_API int fk_capture_run(fk_capture *h);

/**
 * Make a running fk_capture_run() or the next fk_capture_dispatch() return
 * `FK_EBREAK`. Safe from any thread and from a signal handler (an atomic flag
 * and a write to an eventfd).
 *
 * @param h the handle; NULL is a no-op.
 * @since 0.1.0
 */
FK_API void fk_capture_break(fk_capture *h);

/**
 * End the capture now: close the sources, drain the workers, flush the flow
 * tables (`FK_END_FORCED`) and deliver the remaining events on this thread.
 * Afterwards fk_capture_dispatch() returns `FK_EEOF`. Calling it again does
 * nothing.
 *
 * @param h an activated handle.
 * @return 0 or `FK_ENOTACTIVATED`.
 * @since 0.1.0
 */
FK_API int fk_capture_stop(fk_capture *h);

/**
 * Read the counters. Kernel drops are read from libpcap at each call.
 *
 * @param h the handle (activated or not; all zero before activate).
 * @param out the counters.
 * @param size `sizeof *out` as the caller was built: the library writes at
 *        most @p size bytes and zeros fields it does not know (see
 *        @ref conventions, "Struct versions").
 * @return 0 or `FK_EINVAL` (NULL argument, @p size below 8).
 * @since 0.1.0; 0.2.0 takes @p size
 */
FK_API int fk_capture_get_stats(fk_capture *h, fk_capture_stats *out, size_t size);

/**
 * Number of sources (devices or files) of an activated handle, including
 * the devices chosen by default.
 *
 * @param h the handle.
 * @return the count (0 before activate).
 * @since 0.2.0 (was `fk_capture_source_count`)
 */
FK_API size_t fk_capture_get_source_count(const fk_capture *h);

/**
 * Name of a source: the device name or file path.
 *
 * @param h the handle.
 * @param index 0 .. fk_capture_get_source_count() - 1.
 * @return the name (borrowed until destroy), or NULL for a bad index.
 * @since 0.2.0 (was `fk_capture_source_name`)
 */
FK_API const char *fk_capture_get_source_name(const fk_capture *h, size_t index);

FK_END_DECLS

#endif /* FLOWKIT_CAPTURE_H */
