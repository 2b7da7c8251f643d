/**
 * @file session.h
 * @brief TCP session events (SYN, FIN, RST) seen by the capture flow table.
 *
 * The flow table follows the TCP state of every bidirectional flow and emits
 * one ::fk_session_event for the first SYN of a flow (the session start), for
 * the first FIN sent by each side, and for the first RST (the session end).
 * Every event carries the timestamp of the packet that caused it and the
 * addresses and ports of that packet, in that packet's direction (so a FIN
 * sent by the server has the server as `src`).
 *
 * @since 0.1.0
 */
#ifndef FLOWKIT_SESSION_H
#define FLOWKIT_SESSION_H

#include <flowkit/common.h>
#include <flowkit/flow.h>

FK_BEGIN_DECLS

/** What happened to a TCP session. @since 0.1.0 */
typedef enum fk_session_kind {
    FK_SESSION_SYN = 1, /**< First SYN of the flow: the session starts. */
    FK_SESSION_FIN = 2, /**< First FIN sent by one side (at most one per side). */
    FK_SESSION_RST = 3  /**< First RST of the flow: the session ends. */
} fk_session_kind;

/** ::fk_session_event::present bit: pid and process are set. @since 0.1.0 */
#define FK_SESSION_HAS_PROCESS 0x01u
/** ::fk_session_event::present bit: uid is set. @since 0.1.0 */
#define FK_SESSION_HAS_UID 0x02u

/**
 * One TCP session event.
 *
 * A value that may be copied freely, except for its two borrowed strings
 * (`user`, `exe`): those are owned by whoever delivers the event (the
 * capture handle: storage of the delivering thread) and valid only until
 * the callback that received it returns. Code that keeps an event longer
 * must copy them or set them to NULL. Fields not flagged in `present` are
 * zero.
 * @since 0.1.0
 */
typedef struct fk_session_event {
    uint8_t kind;      /**< ::fk_session_kind. */
    uint8_t proto;     /**< IP protocol number (6 for TCP). */
    uint16_t vlan;     /**< Outer 802.1Q VLAN id, 0 if none. */
    uint32_t present;  /**< `FK_SESSION_HAS_*` bits. */
    int64_t time_ns;   /**< Timestamp of the packet that caused the event, ns since the epoch. */
    fk_addr src;       /**< Source address of that packet. */
    fk_addr dst;       /**< Destination address of that packet. */
    uint16_t src_port; /**< Source port of that packet. */
    uint16_t dst_port; /**< Destination port of that packet. */
    uint32_t pid;      /**< Owning process (FK_SESSION_HAS_PROCESS). */
    char
        process[FK_PROCESS_NAME_MAX]; /**< Process name, NUL-terminated (FK_SESSION_HAS_PROCESS). */
    /* Appended with the capture's full process attribution. */
    uint32_t uid;     /**< Numeric user id of the owning process (FK_SESSION_HAS_UID). */
    const char *user; /**< User name of the owning process; borrowed (see above), or NULL. */
    const char *exe;  /**< Executable path of the owning process; borrowed, or NULL. */
} fk_session_event;

/**
 * The JSON name of an event kind: "syn", "fin", "rst".
 *
 * @param kind an ::fk_session_kind value.
 * @return a static string; "unknown" for any other value. Thread-safe.
 * @since 0.1.0
 */
FK_API const char *fk_session_kind_name(int kind);

/** Buffer size that always holds fk_session_event_to_json() output. @since 0.1.0 */
#define FK_SESSION_JSON_MAX 4096

/**
 * Render an event as one JSON object (no newline) per the JSON lines
 * contract: `{"type":"event","event":"syn","time":"...","src_addr":...,
 * "dst_addr":...,"src_port":...,"dst_port":...,"proto":6}` plus "vlan" when
 * non-zero, "pid"/"process" when `FK_SESSION_HAS_PROCESS` is set, "user"
 * and "exe" when not NULL (cut at #FK_FLOW_USER_MAX and #FK_FLOW_EXE_MAX
 * bytes, as fk_flow_to_json() does) and "uid" with `FK_SESSION_HAS_UID`.
 *
 * @param ev the event.
 * @param buf output buffer.
 * @param size size of @p buf; #FK_SESSION_JSON_MAX always suffices.
 * @return length written (without NUL), `FK_EINVAL` for a NULL argument, or
 *         `FK_ENOSPACE` when @p buf is too small. Thread-safe.
 * @since 0.1.0
 */
FK_API int fk_session_event_to_json(const fk_session_event *ev, char *buf, size_t size);

FK_END_DECLS

#endif /* FLOWKIT_SESSION_H */
