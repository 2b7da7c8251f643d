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
 * fk_rank_snapshot_destroy().
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

/**
 * State of a TCP connection as the capture saw it (from the TCP flags of
 * its packets each way; ::fk_rank_conn::tcp_state).
 * @since 0.2.0
 */
typedef enum fk_rank_tcp_state {
    FK_RANK_TCP_NONE = 0,        /**< Not TCP. */
    FK_RANK_TCP_OPENING = 1,     /**< A SYN seen, the handshake not complete. */
    FK_RANK_TCP_ESTABLISHED = 2, /**< ACKs both ways (or joined mid-stream: ACKs, no SYN). */
    FK_RANK_TCP_CLOSING = 3,     /**< A FIN one way. */
    FK_RANK_TCP_CLOSED = 4       /**< FINs both ways, or a RST. */
} fk_rank_tcp_state;

/**
 * Name of a TCP state as written in JSON: "opening", "established",
 * "closing", "closed"; "" for #FK_RANK_TCP_NONE and unknown values.
 * @param state an ::fk_rank_tcp_state.
 * @return a static string. Thread-safe.
 * @since 0.2.0
 */
FK_API const char *fk_rank_tcp_state_name(int state);

/** Bytes of a rank row in one complete second (::fk_rank_row::history). @since 0.2.0 */
typedef struct fk_rank_second {
    int64_t sec;         /**< The second, seconds since the epoch (capture clock). */
    uint64_t sent_bytes; /**< IP-layer bytes sent in that second. */
    uint64_t recv_bytes; /**< IP-layer bytes received in that second. */
} fk_rank_second;

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
    uint8_t tcp_state; /**< ::fk_rank_tcp_state (#FK_RANK_TCP_NONE for UDP). @since 0.2.0 */
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
    /**
     * Number of entries in `history`: the #FK_CAP_RANK_HISTORY complete
     * seconds before the snapshot's time (0 when that parameter is 0).
     * @since 0.2.0
     */
    size_t history_count;
    /**
     * Per-second bytes of this row, oldest first, one entry per second
     * (seconds without traffic included, as zeros). The last
     * ::fk_rank_snapshot::window_sec entries sum to the rates times the
     * window, when the history is at least that long. @since 0.2.0
     */
    const fk_rank_second *history;
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
 * @since 0.2.0 (was `fk_rank_snapshot_free`)
 */
FK_API void fk_rank_snapshot_destroy(fk_rank_snapshot *snapshot);

/**
 * Name of a sort key: "rate", "sent_rate", "recv_rate", "bytes",
 * "sent_bytes", "recv_bytes".
 *
 * @param key the key.
 * @return a static string; "unknown" for other values.
 * @since 0.1.0
 */
FK_API const char *fk_rank_sort_name(fk_rank_sort key);

/** Buffer size that always holds the JSON of a snapshot with no rows (NUL
 *  included). @since 0.1.0 */
#define FK_RANK_JSON_HEAD_MAX 128

/**
 * Buffer size that always holds one row of fk_rank_snapshot_to_json() and
 * fk_rank_snapshot_to_json_ex() output, without its "conns" (the worst
 * case: every text byte written as a six-byte `\u00XX` escape).
 * @since 0.1.0
 */
#define FK_RANK_JSON_ROW_MAX 16384

/** fk_rank_snapshot_to_json() lists at most this many devices per row (most bytes first). @since
 * 0.1.0 */
#define FK_RANK_JSON_DEVS_MAX 8

/** The JSON writers write at most this many bytes of fk_rank_row::exe and of
 *  fk_rank_row::cmdline (before escaping; longer text is cut). @since 0.1.0 */
#define FK_RANK_JSON_TEXT_MAX 1024

/** The JSON writers write at most this many bytes of fk_rank_row::name and of
 *  fk_rank_row::user (before escaping). @since 0.1.0 */
#define FK_RANK_JSON_NAME_MAX 64

/**
 * Flag of fk_rank_snapshot_to_json_ex(): add each row's connections as
 * "conns" (at most #FK_RANK_JSON_CONNS_MAX per row).
 * @since 0.1.0
 */
#define FK_RANK_JSON_CONNS 0x1u

/**
 * With #FK_RANK_JSON_CONNS, at most this many connections are listed per
 * row: those with most bytes (sent + received) first, ties in snapshot
 * order. The row's "connections" count stays the number of all its
 * connections, so a cut list is visible.
 * @since 0.1.0
 */
#define FK_RANK_JSON_CONNS_MAX 16

/** Buffer size that always holds one entry of "conns". @since 0.1.0 */
#define FK_RANK_JSON_CONN_MAX 512

/**
 * Flag of fk_rank_snapshot_to_json_ex(): add each row's per-second history
 * (fk_rank_row::history) as `"history":{"start":SEC,"sent":[...],"recv":[...]}`:
 * "start" is the first second (seconds since the epoch), "sent" and "recv"
 * the bytes of each second from there on, oldest first.
 * @since 0.2.0
 */
#define FK_RANK_JSON_HISTORY 0x2u

/** Buffer size that always holds one second of "history" (two numbers). @since 0.2.0 */
#define FK_RANK_JSON_SECOND_MAX 44

/**
 * Render a snapshot as one JSON object (no newline) per the JSON lines
 * contract: `{"type":"rank","time","window","processes":[{"pid","name","user",
 * "exe","sent_bytes","recv_bytes","sent_rate","recv_rate","sent_packets",
 * "recv_packets","connections","dev","devs","uid","cmdline","sent_ewma",
 * "recv_ewma"},...]}`.
 *
 * "connections" is fk_rank_row::conn_count; "dev" is fk_rank_row::dev and
 * "devs" the first #FK_RANK_JSON_DEVS_MAX of fk_rank_row::devs as
 * `{"name","ifindex","sent_bytes","recv_bytes"}` objects; "uid" is null when
 * unknown (`UINT32_MAX`); "exe" and "cmdline" are cut to
 * #FK_RANK_JSON_TEXT_MAX bytes, "name" and "user" to #FK_RANK_JSON_NAME_MAX.
 * Rates and EWMAs are bytes/s with one decimal (null if not finite).
 * Strings are written by the rule of fk_json_string_format(): a name or
 * path that is not valid UTF-8 gets U+FFFD in place of the bad bytes, so
 * the line is always valid JSON.
 * Same as fk_rank_snapshot_to_json_ex() with no flags.
 *
 * @param snapshot the snapshot.
 * @param buf output buffer.
 * @param size size of @p buf; #FK_RANK_JSON_HEAD_MAX + `count` * #FK_RANK_JSON_ROW_MAX always
 *        suffices (or use fk_rank_snapshot_json_size()).
 * @return length written (without NUL), or `FK_ENOSPACE` / `FK_EINVAL`.
 * Thread-safe.
 * @since 0.1.0
 */
FK_API int fk_rank_snapshot_to_json(const fk_rank_snapshot *snapshot, char *buf, size_t size);

/**
 * Render a snapshot as JSON like fk_rank_snapshot_to_json(), with options.
 *
 * With #FK_RANK_JSON_CONNS each row also gets (after "recv_ewma")
 * `"conns":[{"proto":"tcp"|"udp","local","local_port","remote","remote_port",
 * "sent_bytes","recv_bytes","sent_packets","recv_packets","first","last",
 * "dev","state"},...]`: at most #FK_RANK_JSON_CONNS_MAX connections, most bytes
 * first; addresses as fk_addr_format() writes them, "first" and "last" as
 * fk_time_format() writes them (null if out of range), "dev" is
 * fk_rank_conn::dev ("" when unknown), "state" the
 * fk_rank_tcp_state_name() of a TCP connection (null for other protocols
 * and for #FK_RANK_TCP_NONE).
 * Other protocols than TCP and UDP are written as their number.
 *
 * With #FK_RANK_JSON_HISTORY each row also gets (after "conns" if any)
 * "history" as #FK_RANK_JSON_HISTORY describes (`"history":null` when the
 * row has none).
 *
 * @param snapshot the snapshot.
 * @param flags 0, or #FK_RANK_JSON_CONNS and/or #FK_RANK_JSON_HISTORY.
 * @param buf output buffer.
 * @param size size of @p buf; fk_rank_snapshot_json_size() always suffices.
 * @return length written (without NUL), or `FK_ENOSPACE` (@p buf too small:
 *         its content is then a cut, invalid JSON text) / `FK_EINVAL` (NULL
 *         argument, zero @p size, unknown flag).
 * Thread-safe.
 * @since 0.1.0
 */
FK_API int fk_rank_snapshot_to_json_ex(const fk_rank_snapshot *snapshot, unsigned flags, char *buf,
                                       size_t size);

/**
 * Buffer size that always holds fk_rank_snapshot_to_json_ex() output for
 * this snapshot and these flags: #FK_RANK_JSON_HEAD_MAX + `count` *
 * #FK_RANK_JSON_ROW_MAX, plus
 * with #FK_RANK_JSON_CONNS #FK_RANK_JSON_CONN_MAX per listed connection,
 * plus with #FK_RANK_JSON_HISTORY #FK_RANK_JSON_SECOND_MAX per second of
 * history and two more per row.
 *
 * @param snapshot the snapshot; NULL gives #FK_RANK_JSON_HEAD_MAX.
 * @param flags the flags that will be passed to fk_rank_snapshot_to_json_ex().
 * @return the size in bytes, NUL included (saturates at `SIZE_MAX`).
 * Thread-safe.
 * @since 0.1.0
 */
FK_API size_t fk_rank_snapshot_json_size(const fk_rank_snapshot *snapshot, unsigned flags);

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
 *        fk_rank_snapshot_destroy(). Unchanged on failure.
 * @return 0; `FK_EINVAL` (NULL argument, unknown key), `FK_ENOTACTIVATED`,
 *         `FK_ESTATE` (attribution off), `FK_ERANGE` (recent_sec), `FK_ENOMEM`.
 * Thread-safe: may be called from any thread once @p h is activated, also
 * while another thread dispatches, and still after the capture ended
 * (`FK_EEOF`) or was stopped with fk_capture_stop() (the final totals); not
 * concurrently with fk_capture_destroy(). The snapshot may be read from any
 * thread.
 * @since 0.1.0
 */
FK_API int fk_capture_rank(fk_capture *h, size_t limit, uint32_t recent_sec, fk_rank_sort key,
                           fk_rank_snapshot **out);

FK_END_DECLS

#endif /* FLOWKIT_RANK_H */
