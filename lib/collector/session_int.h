/* The collector's exporter sessions inside (session.c, session_ifname.c,
 * session_life.c): the session table's types and what the three files call
 * of each other. Not installed. */
#ifndef FK_COLLECTOR_SESSION_INT_H
#define FK_COLLECTOR_SESSION_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "collector/internal.h"
#include "core/hmap.h"

typedef struct pending {
    struct pending *next;
    fk__col_hdr hdr; /* header of the message it came in (times for v9) */
    uint16_t set_id;
    int64_t arrival_ns;
    size_t len;
    uint8_t data[];
} pending;

/* An interface name learnt from options data. */
typedef struct ifname_ent {
    uint32_t ifindex;
    bool from_name;  /* interfaceName (else interfaceDescription) */
    uint64_t serial; /* message that named it last */
    char name[FK_FLOW_IFNAME_MAX + 1];
} ifname_ent;

typedef struct domain {
    uint16_t version;
    uint32_t odid;
    void *codec_state; /* NULL for v1/v5/v7 */
    bool have_seq;
    bool seen; /* a message arrived: next_seq and last_export mean something */
    uint32_t next_seq;
    uint32_t last_export; /* export seconds of the newest message */
    bool have_uptime;     /* NetFlow: last_uptime_ms and boot_ms are set */
    uint32_t last_uptime_ms;
    int64_t boot_ms;     /* export time - sysUptime of the newest message */
    bool have_sys_init;  /* IPFIX: sys_init_ns is set */
    int64_t sys_init_ns; /* newest systemInitTimeMilliseconds read (ns) */
    ifname_ent *ifs;     /* sorted by ifindex */
    size_t nifs;
    size_t capifs;
    uint64_t lost; /* records (packets for v9) missing by sequence */
    uint64_t gaps;
    uint64_t messages;
    uint64_t records;
} domain;

typedef struct session {
    fk__col_peer peer;
    uint64_t id; /* unique for the life of the collector: template scope */
    int64_t last_seen_ns;
    domain *domains;
    size_t ndomains;
    size_t templates;
    pending *pend_head;
    pending *pend_tail;
    size_t pend_bytes;
} session;

struct fk__col_sessions {
    const fk__col_codec *codec;
    bool fixed_clock; /* tests: real time = now_ns + real_offset */
    int64_t real_offset;
    void *codec_ctx;
    uint64_t next_id;
    uint64_t msg_serial; /* fk__col_hdr.serial of the last message */
    size_t pend_total;   /* kept bytes over all sessions */
    fk__col_limits lim;
    fk_collector_stats *stats;
    fk__col_deliver_fn deliver;
    fk__col_raw_fn raw;         /* pass-through offer; NULL = none */
    fk__col_raw_run_fn raw_run; /* the same for a run of sets; NULL = one by one */
    unsigned raw_flags;
    fk__col_direct_fn direct;           /* record-plan offer; NULL = none */
    fk__col_domain_gone_fn domain_gone; /* NULL = none */
    void *user;
    fk__hmap by_peer; /* peer_key -> session * (owned) */
    /* The last message's session (most come from the exporter before):
     * found without hashing; cleared when it is freed. */
    session *last;
};

/* Context of one message (or one retried pending set) while it is decoded. */
typedef struct msg_ctx {
    fk__col_sessions *s;
    session *ss;
    domain *d;
    int64_t export_ns;    /* export time of the message being decoded; 0 = unknown */
    uint32_t records;     /* delivered, including retried pending sets */
    uint32_t msg_records; /* data records of this message (sequence step) */
    bool retry;           /* a template was added: retry the pending sets */
    bool from_pending;
    int8_t raw_ok;     /* s->raw(user, NULL) for this message: -1 not asked yet (asked per
                        * set it cost ~45 instructions a set; store_raw asks again in full) */
    int64_t raw_limit; /* with raw_ok: no record of the message ends after it (ns; 0 = none) */
} msg_ctx;

/* Data sets of one message that may pass through, gathered to be
 * offered together (session_raw.c): sets[i].raw is &raws[i]; blens are
 * the sets' lengths with padding (for decoding them instead). */
#define FK__COL_RUN_MAX 32
typedef struct fk__col_raw_run {
    size_t n;
    fk__col_raw raws[FK__COL_RUN_MAX];
    fk__col_raw_set sets[FK__COL_RUN_MAX];
    size_t blens[FK__COL_RUN_MAX];
} fk__col_raw_run;

/* The pass-through (session_raw.c): whether a data set may be stored as
 * it came (r: what the codec knows of it); offer one set (true: stored and
 * counted); add a set to a run (offered once it is full); offer the run
 * (true unless a set of it was malformed or waits for its template, as
 * walk_sets counts completeness). */
bool fk__col_store_raw(msg_ctx *c, const fk__col_hdr *hdr, uint16_t sid, const uint8_t *body,
                       const fk__col_raw *r);
bool fk__col_run_flush(msg_ctx *c, const fk__col_hdr *hdr, fk__col_raw_run *run, int64_t now_ns);

/* Inline: they run for every data set. The offer is asked about once per
 * message (raw_ok), and the records' end-time limit computed with it. */
static inline bool fk__col_raw_plan(msg_ctx *c, const fk__col_hdr *hdr, uint16_t sid,
                                    const uint8_t *body, size_t blen, fk__col_raw *r)
{
    fk__col_sessions *s = c->s;
    if (c->raw_ok < 0) {
        c->raw_ok = s->raw && hdr->version == 10 && s->codec->raw && s->raw(s->user, NULL);
        c->raw_limit = c->export_ns ? c->export_ns + s->lim.export_tolerance_ns + 1000000000LL : 0;
    }
    if (!c->raw_ok)
        return false; /* e.g. a flow callback reads the flows: planning would be lost work */
    return s->codec->raw(s->codec_ctx, c->d->codec_state, sid, body, blen, s->raw_flags,
                         c->raw_limit, r) == 0;
}

static inline void fk__col_run_add(msg_ctx *c, const fk__col_hdr *hdr, fk__col_raw_run *run,
                                   uint16_t sid, const uint8_t *body, size_t blen, int64_t now_ns,
                                   bool *complete)
{
    size_t n = run->n;
    fk__col_raw_set *rs = &run->sets[n];
    rs->peer = &c->ss->peer;
    rs->session = c->ss->id;
    rs->odid = c->d->odid;
    rs->export_secs = hdr->export_secs;
    rs->set_id = sid;
    rs->body = body;
    rs->raw = &run->raws[n];
    run->blens[n] = blen;
    run->n = n + 1;
    if (run->n == FK__COL_RUN_MAX)
        *complete &= fk__col_run_flush(c, hdr, run, now_ns);
}
/* Decode a data set (session.c), delivering its records; opts: an options
 * set to store once decoded, else NULL. false: malformed, or kept to wait
 * for its template. */
bool fk__col_decode_set(msg_ctx *c, const fk__col_hdr *hdr, uint16_t sid, const uint8_t *body,
                        size_t blen, int64_t now_ns, const fk__col_raw *opts);

/* The codec's template callback: counts templates per session and asks
 * for a retry of the data sets waiting for one (session.c). */
void fk__col_tmpl_cb(void *user, uint16_t tid, int what);
/* The codec's record callback: the record's exporter, domain, version and
 * interface names, then delivery (session.c). */
void fk__col_emit_cb(void *user, fk_flow *f);

/* Data sets waiting for their template (session_pending.c): keep one
 * (counted when refused), decode those of c->d's domain after a template
 * came, drop all of a session (counted as expired). */
void fk__col_pending_add(fk__col_sessions *s, session *ss, const fk__col_hdr *hdr, uint16_t set_id,
                         const uint8_t *body, size_t len, int64_t now_ns);
void fk__col_pending_retry(msg_ctx *c);
void fk__col_pending_drop_all(fk__col_sessions *s, session *ss);

/* Interface names from options data (session_ifname.c): the name of
 * ifindex in domain d, or NULL; the codec's callback that keeps them. */
const char *fk__col_ifname_find(const domain *d, uint32_t ifindex);
void fk__col_ifname_cb(void *user, const fk__col_ifname *in);

/* An exporter's life (session_life.c): sequence numbers, export-time
 * sanity and restarts. */
void fk__col_sequence_check(fk__col_sessions *s, domain *d, uint32_t seq, uint32_t step,
                            bool known);
void fk__col_check_export_time(msg_ctx *c, uint32_t export_secs, int64_t now_ns);
void fk__col_domain_restart(msg_ctx *c, uint64_t keep_serial);
void fk__col_sys_init_check(msg_ctx *c, int64_t sys_init_ns);
bool fk__col_uptime_restart(domain *d, uint32_t export_secs, uint32_t uptime_ms);
bool fk__col_sequence_restart(const domain *d, uint32_t seq, uint32_t export_secs);

#endif
