/* Internal interfaces of the collector, layered so each can be tested alone:
 *
 *   uri parsing             (uri.c; CIDR lists in core/cidr.c)
 *   codec interface         (codec.h: what the session layer asks of a decoder)
 *   session layer           (session.c: exporter sessions, domains, sequence,
 *                            data-before-template buffer; no sockets)
 *   stream framing          (stream.c: IPFIX messages out of a TCP byte stream)
 *   sinks                   (sink.c: JSON lines, CSV, IPFIX file)
 *   UDP sockets             (udp.c; worker threads in workers.c)
 *   handle                  (collector.c; event loop loop.c, TCP tcp.c)
 */
#ifndef FK_COLLECTOR_INTERNAL_H
#define FK_COLLECTOR_INTERNAL_H

#include <flowkit/collector.h>
#include <flowkit/filter.h>
#include <flowkit/flow.h>
#include <flowkit/flowlog.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/socket.h>

#include "collector/codec.h"
#include "collector/fastfmt.h"
#include "core/cidr.h"
#include "core/clock.h"

/* ---- URIs ------------------------------------------------------------- */

enum { FK__COL_UDP = 1, FK__COL_TCP = 2 };

typedef struct fk__col_uri {
    int transport; /* FK__COL_UDP / FK__COL_TCP */
    struct sockaddr_storage ss;
    socklen_t sslen;
} fk__col_uri;

/* "udp://0.0.0.0:2055", "tcp://[::1]:4739". FK_EINVAL with a message. */
int fk__col_uri_parse(fk__col_uri *out, const char *uri);
/* Inverse of parse; returns length or FK_ENOSPACE. */
int fk__col_uri_format(int transport, const struct sockaddr *sa, char *buf, size_t size);

/* For the prefix statistics (lib/prefixstats), under the registry's read
 * lock: the prefixes of `sender` that hold `src` (side bit 1) or `dst`
 * (bit 2), at most `cap` into out/side; *more grows by the matches beyond
 * cap. 0 for an unknown sender or one without prefixes. */
size_t fk__senders_prefixes_of(fk_senders *s, const fk_addr *sender, const fk_addr *src,
                               const fk_addr *dst, fk__cidr *out, uint8_t *side, size_t cap,
                               uint64_t *more);
/* Whether `sender` has the prefix p in the registry. */
bool fk__senders_has_prefix(fk_senders *s, const fk_addr *sender, const fk__cidr *p);

/* sockaddr <-> fk_addr + port */
void fk__col_addr_from_sockaddr(const struct sockaddr *sa, fk_addr *addr, uint16_t *port);

/* ---- session layer ------------------------------------------------------ */

/* Where a message came from: one transport session. */
typedef struct fk__col_peer {
    fk_addr addr;
    uint16_t port;
    uint8_t transport; /* FK__COL_UDP / FK__COL_TCP */
    uint32_t conn_id;  /* TCP: distinguishes reconnects from the same port; 0 for UDP */
} fk__col_peer;

typedef struct fk__col_limits {
    int64_t template_timeout_ns; /* UDP; 0 = never */
    int64_t pending_age_ns;
    size_t pending_bytes; /* per session; 0 = no buffering */
    size_t pending_total; /* over all sessions */
    size_t max_templates; /* per session */
    size_t max_sessions;
    int64_t session_timeout_ns;  /* UDP; 0 = never */
    int64_t export_tolerance_ns; /* export-time sanity; 0 = no checks */
    size_t max_interfaces;       /* interface names kept per domain */
    uint32_t pen;                /* flowkit-export's process elements; 0 = none */
    bool direct_decode;          /* fk__col_codec_cfg.direct */
    fk__col_flowbuf *flowbuf;    /* fk__col_codec_cfg.out */
} fk__col_limits;

/* Delivered for every decoded record, already stamped with exporter, odid
 * and version. The flow is the callee's to modify. */
typedef void (*fk__col_deliver_fn)(void *user, fk_flow *flow);

typedef struct fk__col_sessions fk__col_sessions;

/* An IPFIX data set offered for storing as it came (pass-through): its
 * origin, its message's export time and what the codec knows of it. */
typedef struct fk__col_raw_set {
    const fk__col_peer *peer;
    uint64_t session; /* unique per transport session: template scope */
    uint32_t odid;
    uint32_t export_secs;
    uint16_t set_id;
    const uint8_t *body; /* raw->records * raw->record_len bytes (no padding) */
    const fk__col_raw *raw;
} fk__col_raw_set;
/* true: stored, the session layer counts its records as delivered; false:
 * it is decoded and its records delivered one by one. set NULL asks only
 * whether a set could be stored now (false: the session layer does not
 * plan the set for the pass-through, whose answer would be no). */
typedef bool (*fk__col_raw_fn)(void *user, const fk__col_raw_set *set);
/* A run of n >= 2 data sets of one message (one domain, one export time),
 * in their order, none of them options: true when all were stored (the
 * session layer counts them), false when none was (it offers them one by
 * one). */
typedef bool (*fk__col_raw_run_fn)(void *user, const fk__col_raw_set *sets, size_t n);

/* An IPFIX data set offered for writing straight from its records through
 * its template's record plan (recplan.h), with what the session layer
 * would have stamped on each flow. */
typedef struct fk__col_direct_set {
    const struct fk__recplan *plan;
    const uint8_t *body; /* records * plan->record_len bytes */
    uint32_t records;
    fk__fastfmt_origin origin;
} fk__col_direct_set;
/* true: written, the session layer counts its records as delivered; false:
 * it is decoded and its records delivered one by one. */
typedef bool (*fk__col_direct_fn)(void *user, const fk__col_direct_set *set);

int fk__col_sessions_create(fk__col_sessions **out, const fk__col_codec *codec,
                            const fk__col_limits *limits, fk_collector_stats *stats,
                            fk__col_deliver_fn deliver, void *user);
void fk__col_sessions_destroy(fk__col_sessions *s);
/* One complete message (a UDP datagram, or one framed TCP message). Errors
 * in the message are counted in stats, never returned; the return value is
 * the number of records delivered, or FK_ENOMEM. */
int fk__col_sessions_message(fk__col_sessions *s, const fk__col_peer *peer, const uint8_t *msg,
                             size_t len, int64_t now_ns);
/* Offer IPFIX data sets to fn (with the deliver callback's user) before
 * decoding them; flags are the codec's FK__COL_RAW_*. NULL: never. */
void fk__col_sessions_set_raw(fk__col_sessions *s, fk__col_raw_fn fn, unsigned flags);
/* Offer runs of such sets to fn at once (after set_raw). NULL: one by one. */
void fk__col_sessions_set_raw_run(fk__col_sessions *s, fk__col_raw_run_fn fn);
/* Tests, before fk_collector_activate: whether h's pass-through offers
 * runs of sets at once (the default) or each set by itself (as before
 * runs; the file must come out byte for byte the same). */
void fk__collector_raw_runs(fk_collector *h, bool on);
/* Offer IPFIX data sets that have a record plan to fn (with the deliver
 * callback's user) before decoding them. NULL: never. */
void fk__col_sessions_set_direct(fk__col_sessions *s, fk__col_direct_fn fn);
/* An exporter's observation domain is gone with its transport session (a
 * TCP connection closed, a UDP session timed out): outputs that keep state
 * per (session, domain) forget it, so that exporters coming and going
 * cannot grow them without bound. */
typedef void (*fk__col_domain_gone_fn)(void *user, uint64_t session, uint32_t odid);
/* Tell fn (with the deliver callback's user) of every domain that ends
 * with its session. NULL: nobody. */
void fk__col_sessions_set_domain_gone(fk__col_sessions *s, fk__col_domain_gone_fn fn);
/* Tests: read the receive clock as now_ns + offset_ns instead of
 * CLOCK_REALTIME (export-time sanity checks). */
void fk__col_sessions_set_real_clock(fk__col_sessions *s, int64_t offset_ns);
/* Timed work: template, pending-data and session expiry. */
void fk__col_sessions_tick(fk__col_sessions *s, int64_t now_ns);
/* A TCP connection closed: its templates go away (RFC 7011 8.1). */
void fk__col_sessions_close(fk__col_sessions *s, const fk__col_peer *peer);
/* Bytes currently kept as data-before-template in one session (tests). */
size_t fk__col_sessions_pending_bytes(const fk__col_sessions *s, const fk__col_peer *peer);
size_t fk__col_sessions_count(const fk__col_sessions *s);
/* Fill up to cap domain views; returns the number of domains. */
size_t fk__col_sessions_domains(const fk__col_sessions *s, fk_collector_domain *out, size_t cap);

/* ---- TCP stream framing ------------------------------------------------- */

/* Reassembles IPFIX messages (16-byte header, length at offset 2) from a
 * byte stream that arrives in arbitrary pieces. */
typedef struct fk__col_stream {
    uint8_t *buf;
    size_t len;
    size_t cap;
} fk__col_stream;

typedef int (*fk__col_msg_fn)(void *user, const uint8_t *msg, size_t len);

/* Append bytes and call fn for every complete message. FK_EMALFORMED when
 * the stream cannot be framed (bad version or length): the connection must
 * be closed. FK_ENOMEM. */
int fk__col_stream_push(fk__col_stream *st, const uint8_t *data, size_t len, fk__col_msg_fn fn,
                        void *user);
void fk__col_stream_free(fk__col_stream *st);

/* ---- sinks -------------------------------------------------------------- */

typedef struct fk__sink fk__sink;

/* Asynchronous output (sink_out.c): records are formatted into one of
 * FK__SINK_OUT_BUFS buffers; a writer thread write()s full ones to fd. The
 * producer side (room, commit, submit, sync) belongs to one thread. */
#define FK__SINK_OUT_BUFS 4
typedef struct fk__sink_out fk__sink_out;
/* Start the writer thread. FK_ENOMEM, FK_EIO. */
int fk__sink_out_create(fk__sink_out **out, size_t buffer_size);
/* Write what is queued, join the thread, free. NULL ok. Call sync first to
 * hand over the buffer being filled. */
void fk__sink_out_destroy(fk__sink_out *o);
/* Target descriptor; only with nothing queued (after sync). Discards the
 * buffer being filled. */
void fk__sink_out_set_fd(fk__sink_out *o, int fd);
/* Room for need (<= buffer_size) bytes, handing the current buffer to the
 * writer first if it has less; waits when every buffer is queued. */
char *fk__sink_out_room(fk__sink_out *o, size_t need);
/* The n bytes after the last commit form one unit (a text record, an IPFIX
 * message) holding `records` records: a failed write keeps or loses whole
 * units (see sink_out.c). */
void fk__sink_out_commit(fk__sink_out *o, size_t n, uint32_t records);
/* Hand the buffer being filled to the writer (does not wait for the write). */
void fk__sink_out_submit(fk__sink_out *o);
/* Submit when a quarter of the buffer is filled or its first record has
 * waited 20 ms (the collector calls this at every dispatch). */
void fk__sink_out_submit_due(fk__sink_out *o);
/* Monotonic time of the oldest byte not yet handed to the writer, or -1. */
int64_t fk__sink_out_pending_since(const fk__sink_out *o);
/* How long a record may wait before the collector hands it over. */
#define FK__SINK_OUT_AGE_NS 20000000LL
/* FK_EIO (message naming `what`) when writes failed since the last check,
 * with the records they lost in *lost_records; FK_OK and 0 otherwise. */
int fk__sink_out_check(fk__sink_out *o, const char *what, uint64_t *lost_records);
/* Submit, wait until everything is written, then check. */
int fk__sink_out_sync(fk__sink_out *o, const char *what, uint64_t *lost_records);

typedef struct fk__sink_ops {
    const char *scheme;
    /* Open (or reopen) the file; write a header if the file is empty. */
    int (*open)(fk__sink *k);
    int (*write)(fk__sink *k, const fk_flow *flow);
    /* Push buffered records to the FILE (may be NULL). */
    int (*flush)(fk__sink *k);
    void (*close)(fk__sink *k);
    void (*free_priv)(void *priv); /* may be NULL */
    /* Hand buffered records to the writer without waiting (may be NULL:
     * flush is used). */
    int (*submit)(fk__sink *k);
    /* Monotonic time of the oldest record not yet handed to the writer,
     * or -1 (may be NULL: never). */
    int64_t (*pending_since)(const fk__sink *k);
} fk__sink_ops;

/* Text formats (sink_text.c). */
extern const fk__sink_ops fk__sink_jsonl_ops, fk__sink_csv_ops, fk__sink_vpcflow_ops,
    fk__sink_flowlog_ops;
/* IPFIX file format (sink_ipfix.c). */
extern const fk__sink_ops fk__sink_ipfix_ops;
int fk__sink_ipfix_priv(fk__sink *k);
/* Pass-through: store an exporter's data set as it came (its template,
 * under an id of the file's, and an options record naming its exporter
 * and domain go ahead of its first use in each file). */
int fk__sink_ipfix_raw(fk__sink *k, const fk__col_raw_set *rs);
/* A run of such sets (one domain, one export time) at once, when the file
 * has the domain and every template of the run and the open message has
 * room (or none matching is open and may_end: ending it may not change
 * when the file rotates): true, written as fk__sink_ipfix_raw would have
 * written them one by one; false: nothing written. */
bool fk__sink_ipfix_raw_run(fk__sink *k, const fk__col_raw_set *sets, size_t n, bool may_end);
/* The exporter domain (session, odid) has ended: forget what the
 * pass-through keeps of it (its next sets would be a new session's). */
void fk__sink_ipfix_forget(fk__sink *k, uint64_t session, uint32_t odid);
/* Exporter domains the pass-through keeps state for (tests). */
size_t fk__sink_ipfix_raw_domains(const fk__sink *k);

struct fk__sink {
    const fk__sink_ops *ops;
    char *path; /* NULL for stdout */
    FILE *fp;
    uint64_t written; /* bytes written to the current file */
    uint64_t records; /* records written to the current file */
    int64_t opened_ns;
    int64_t rotate_bytes; /* 0 = never */
    int64_t rotate_ns;    /* 0 = never */
    void *priv;           /* format-specific state */
    fk__fastfmt fmt;      /* text formatting cache */
    uint32_t pen;         /* PEN of process/event elements written (ipfix); set before open */
    bool biflow;          /* ipfix: a biflow as one record (else one per direction) */
    const fk_tag *tags;   /* static tags (borrowed from the collector); set before open */
    size_t ntags;
    fk_filter *filter; /* only the flows it matches; NULL: all (fk_collector_add_output_filtered) */
    uint64_t lost;     /* records lost since fk__sink_take_lost */
    uint64_t failures; /* failed operations since fk__sink_take_lost */
    char error[256];   /* the last failure's message */
};

/* Parse "jsonl:-" etc.; FK_EINVAL / FK_EUNSUPPORTED with a message. */
int fk__sink_create(fk__sink **out, const char *uri);
void fk__sink_destroy(fk__sink *k); /* closes (flushes) */
int fk__sink_open(fk__sink *k, int64_t now_ns);
int fk__sink_write(fk__sink *k, const fk_flow *flow, int64_t now_ns); /* rotates when due */
int fk__sink_flush(fk__sink *k); /* everything written when it returns */
/* Whether k writes a set through fk__sink_write_direct: an unfiltered
 * jsonl: sink. */
bool fk__sink_takes_direct(const fk__sink *k);
/* A jsonl: sink only: the records of a set through their record plan, the
 * same lines and counts as their flows written one by one (rotates when
 * due, between records as then). */
void fk__sink_write_direct(fk__sink *k, const fk__col_direct_set *ds, int64_t now_ns);
/* The jsonl: halves of fk__sink_write_direct (sink_text.c): one record
 * through its plan, with the sink's tags; or every record of ds in chunks
 * (one buffer room and one commit each) when the file is open, the sink
 * has no tags and no rotation can fall within the set. */
struct fk__fastfmt_stamp;
int fk__sink_jsonl_write_rec(fk__sink *k, const fk__col_direct_set *ds,
                             const struct fk__fastfmt_stamp *st, const uint8_t *rec);
void fk__sink_jsonl_write_batch(fk__sink *k, const fk__col_direct_set *ds,
                                const struct fk__fastfmt_stamp *st);
/* An ipfix: sink only: a data set as it came (fk__sink_ipfix_raw), counted
 * like its records written one by one; rotates when due. */
int fk__sink_write_raw(fk__sink *k, const fk__col_raw_set *rs, int64_t now_ns);
/* A run of such sets (fk__col_raw_run_fn): at once when the file needs
 * nothing written ahead of them and cannot rotate within them, else one
 * by one; the bytes written are the same. */
void fk__sink_write_raw_run(fk__sink *k, const fk__col_raw_set *sets, size_t n, int64_t now_ns);
/* On its way to the file within about 20 ms (or the next call after);
 * FK_EIO for an earlier failure. */
int fk__sink_submit(fk__sink *k);
/* When the next submit will hand records over (monotonic ns), or -1. */
int64_t fk__sink_submit_due_ns(const fk__sink *k);
int fk__sink_reopen(fk__sink *k, int64_t now_ns);
/* ns until this sink must rotate by time, or -1. */
int64_t fk__sink_due_ns(const fk__sink *k, int64_t now_ns);
int fk__sink_tick(fk__sink *k, int64_t now_ns);
/* A failure of k: records lost by it (0 for one that lost none, such as a
 * failed reopen) and fk_error_last()'s message are kept for the next take. */
void fk__sink_note_failure(fk__sink *k, uint64_t lost_records);
/* Records lost and failures since the last call; *message is the last
 * failure's text (borrowed until the next call on k). */
uint64_t fk__sink_take_lost(fk__sink *k, uint64_t *failures, const char **message);

/* Replace the decoders (tests), before activate. */
int fk__collector_use_codec(fk_collector *h, const fk__col_codec *codec);

/* ---- time --------------------------------------------------------------- */

#endif
