/**
 * @file rank.h
 * @brief Process rank: which process sends and receives how much.
 *
 * With attribution on, the capture handle maps every TCP and UDP packet to
 * the process that owns its local socket (netlink sock_diag → socket inode →
 * pid) and keeps per-process counters: IP-layer bytes and packets sent and
 * received since the capture started, a per-second history, and an EWMA.
 * Traffic that cannot be attributed is counted in two explicit rows with
 * pid 0, named "unknown TCP" and "unknown UDP".
 *
 * A rank is taken as an immutable ::fk_rank_snapshot: once returned it
 * never changes, may be read from any thread, and is released with
 * fk_rank_snapshot_free().
 *
 * @since 0.1.0
 */
#ifndef FLOWKIT_RANK_H
#define FLOWKIT_RANK_H

#include <flowkit/capture.h>
#include <flowkit/common.h>
#include <flowkit/flow.h>

FK_BEGIN_DECLS

/** Order of the rows in a rank snapshot (always descending). @since 0.1.0 */
typedef enum fk_rank_sort {
    FK_RANK_SORT_RATE = 0,       /**< sent_rate + recv_rate over the window. */
    FK_RANK_SORT_SENT_RATE = 1,  /**< sent_rate over the window. */
    FK_RANK_SORT_RECV_RATE = 2,  /**< recv_rate over the window. */
    FK_RANK_SORT_BYTES = 3,      /**< sent_bytes + recv_bytes since start. */
    FK_RANK_SORT_SENT_BYTES = 4, /**< sent_bytes since start. */
    FK_RANK_SORT_RECV_BYTES = 5  /**< recv_bytes since start. */
} fk_rank_sort;

/** Size of a device name in ::fk_rank_dev and ::fk_rank_conn, NUL included (IFNAMSIZ). @since 0.1.0
 */
#define FK_RANK_DEV_NAME_MAX 16

/**
 * Traffic of a rank row through one network device.
 *
 * The device of a packet is the capture device it was seen on; on the
 * "any" device it is the interface the kernel reports per packet (Linux
 * cooked header v2). A connection counts on the device of its first
 * packet. Replayed files have no devices (their interface indexes belong to
 * another machine).
 *
 * @since 0.1.0
 */
typedef struct fk_rank_dev {
    char name[FK_RANK_DEV_NAME_MAX]; /**< Device name ("eth0"); "" if it vanished before it was
                                        named. */
    uint32_t ifindex;                /**< Interface index (never 0). */
    uint64_t sent_bytes; /**< IP-layer bytes sent through it since the capture started. */
    uint64_t recv_bytes; /**< IP-layer bytes received through it since the capture started. */
} fk_rank_dev;

/** One connection of a process (drill-down), local end first. @since 0.1.0 */
typedef struct fk_rank_conn {
    fk_addr local;                  /**< Local address. */
    fk_addr remote;                 /**< Remote address. */
    uint16_t local_port;            /**< Local port. */
    uint16_t remote_port;           /**< Remote port. */
    uint8_t proto;                  /**< 6 TCP or 17 UDP. */
    uint64_t sent_bytes;            /**< IP-layer bytes sent since first seen. */
    uint64_t recv_bytes;            /**< IP-layer bytes received since first seen. */
    uint64_t sent_packets;          /**< Packets sent. */
    uint64_t recv_packets;          /**< Packets received. */
    int64_t first_ns;               /**< First packet, ns since the epoch. */
    int64_t last_ns;                /**< Last packet, ns since the epoch. */
    uint32_t ifindex;               /**< Interface index of its device; 0 when unknown. */
    char dev[FK_RANK_DEV_NAME_MAX]; /**< Name of its device; "" when unknown. */
} fk_rank_conn;

/** One row of a rank: a process, or an "unknown" row with pid 0. @since 0.1.0 */
typedef struct fk_rank_row {
    uint32_t pid;              /**< Process id; 0 for the unknown rows. */
    uint32_t uid;              /**< Owner uid; UINT32_MAX when unknown. */
    uint8_t proto;             /**< Unknown rows: 6 or 17; 0 for processes. */
    const char *name;          /**< comm, or "unknown TCP" / "unknown UDP"; never NULL. */
    const char *user;          /**< User name (or the uid as text); never NULL, may be "". */
    const char *exe;           /**< Executable path; never NULL, may be "". */
    const char *cmdline;       /**< Command line, arguments joined by spaces; never NULL. */
    const char *cgroup;        /**< cgroup path; never NULL, may be "". */
    uint64_t sent_bytes;       /**< IP-layer bytes sent since the capture started. */
    uint64_t recv_bytes;       /**< IP-layer bytes received since the capture started. */
    uint64_t sent_packets;     /**< Packets sent since the capture started. */
    uint64_t recv_packets;     /**< Packets received since the capture started. */
    double sent_rate;          /**< Bytes/s sent over the snapshot's window. */
    double recv_rate;          /**< Bytes/s received over the snapshot's window. */
    double sent_ewma;          /**< Exponentially weighted bytes/s sent. */
    double recv_ewma;          /**< Exponentially weighted bytes/s received. */
    size_t conn_count;         /**< Number of entries in @ref conns. */
    const fk_rank_conn *conns; /**< Live connections of this row (drill-down). */
    /**
     * The device that carried most of this row's bytes (the DEV column);
     * "" when no device is known. Points into @ref devs (or to a static
     * ""): valid as long as the snapshot.
     */
    const char *dev;
    size_t
        dev_count; /**< Number of entries in @ref devs; more than 1 if several devices were used. */
    const fk_rank_dev *devs; /**< Bytes per device, most bytes first. */
} fk_rank_row;

/** An immutable rank, owned by the caller. @since 0.1.0 */
typedef struct fk_rank_snapshot {
    int64_t time_ns;         /**< When it was taken (capture clock), ns since the epoch. */
    uint32_t window_sec;     /**< Window of the rates, complete seconds before time_ns. */
    size_t count;            /**< Number of rows. */
    const fk_rank_row *rows; /**< Rows in the requested order. */
    uint64_t attributed;     /**< Packets attributed to a process since start. */
    uint64_t unattributed;   /**< Packets counted in an unknown row since start. */
} fk_rank_snapshot;

/**
 * Free a snapshot and everything it points to. NULL is a no-op.
 *
 * @param snapshot a snapshot returned by fk_capture_rank().
 * @since 0.1.0
 */
FK_API void fk_rank_snapshot_free(fk_rank_snapshot *snapshot);

/**
 * Name of a sort key: "rate", "sent_rate", "recv_rate", "bytes",
 * "sent_bytes", "recv_bytes".
 *
 * @param key the key.
 * @return a static string; "unknown" for other values.
 * @since 0.1.0
 */
FK_API const char *fk_rank_sort_name(fk_rank_sort key);

/** Buffer size needed by fk_rank_snapshot_to_json() per row. @since 0.1.0 */
#define FK_RANK_JSON_ROW_MAX 12288

/** fk_rank_snapshot_to_json() lists at most this many devices per row (most bytes first). @since
 * 0.1.0 */
#define FK_RANK_JSON_DEVS_MAX 8

/**
 * Render a snapshot as one JSON object (no newline) per the JSON lines
 * contract: `{"type":"rank","time","processes":[{"pid","name","user","exe",
 * "sent_bytes","recv_bytes","sent_rate","recv_rate",...,"dev","devs"},...]}`,
 * where "dev" is fk_rank_row::dev and "devs" the first
 * #FK_RANK_JSON_DEVS_MAX of fk_rank_row::devs as
 * `{"name","ifindex","sent_bytes","recv_bytes"}` objects.
 *
 * @param snapshot the snapshot.
 * @param buf output buffer.
 * @param size size of @p buf; 64 + `count` * #FK_RANK_JSON_ROW_MAX always suffices.
 * @return length written (without NUL), or `FK_ENOSPACE` / `FK_EINVAL`.
 * Thread-safe.
 * @since 0.1.0
 */
FK_API int fk_rank_snapshot_to_json(const fk_rank_snapshot *snapshot, char *buf, size_t size);

/**
 * Take a rank of the processes seen by a capture with attribution on
 * (#FK_CAP_ATTRIBUTION).
 *
 * Rows are processes that sent or received TCP/UDP traffic since activate,
 * plus the "unknown TCP" / "unknown UDP" rows (pid 0) when they counted
 * anything; rows with no bytes are left out. Rates are bytes per second
 * over the @p recent_sec complete seconds before the capture clock (the
 * newest packet or the wall clock, whichever is later).
 *
 * @param h an activated capture with #FK_CAP_ATTRIBUTION set to 1.
 * @param limit at most this many rows (the first in @p key order); 0 = all.
 * @param recent_sec rate window in seconds, [1, #FK_CAP_HISTORY_SECONDS].
 * @param key sort order of the rows.
 * @param out receives the snapshot, owned by the caller: release it with
 *        fk_rank_snapshot_free(). Unchanged on failure.
 * @return 0; `FK_EINVAL` (NULL argument, unknown key), `FK_ENOTACTIVATED`,
 *         `FK_ESTATE` (attribution off), `FK_ERANGE` (recent_sec), `FK_ENOMEM`.
 * Thread-safe: may be called from any thread while @p h is activated (not
 * concurrently with fk_capture_destroy()); the snapshot may be read from any
 * thread.
 * @since 0.1.0
 */
FK_API int fk_capture_rank(fk_capture *h, size_t limit, uint32_t recent_sec, fk_rank_sort key,
                           fk_rank_snapshot **out);

FK_END_DECLS

#endif /* FLOWKIT_RANK_H */
