/* Internal: the narrow interface between the collector's session layer and
 * the message decoders (IPFIX, NetFlow v9 templates; v1/v5/v7 fixed).
 *
 * The session layer frames messages, walks the set headers, tracks sequence
 * numbers and keeps data sets that arrive before their template. It asks the
 * codec only three things: "learn the templates in this set", "decode this
 * data set" (FK_ENOTEMPLATE if its template is unknown) and "decode this
 * fixed-format message". One codec state exists per (session, version,
 * observation domain). Unit tests plug in a fake codec. */
#ifndef FK_COLLECTOR_CODEC_H
#define FK_COLLECTOR_CODEC_H

#include <flowkit/collector.h>
#include <flowkit/flow.h>
#include <flowkit/template.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Message header context for set decoders. */
typedef struct fk__col_hdr {
    uint16_t version;       /* 9 or 10 */
    uint32_t odid;          /* IPFIX observation domain / v9 source id */
    uint32_t export_secs;   /* header export time (Unix seconds) */
    uint32_t sys_uptime_ms; /* v9 only */
    uint32_t sequence;
    uint64_t serial; /* message number, unique in a collector (0 = none) */
} fk__col_hdr;

/* What happened to a template while reading a template set. */
enum {
    FK__TMPL_ADDED = 1,     /* new template id in this domain */
    FK__TMPL_REPLACED = 2,  /* known id defined again (refresh or change) */
    FK__TMPL_WITHDRAWN = 3, /* withdrawn or expired */
    FK__TMPL_REFUSED = 4    /* refused: no room (max_templates) */
};

typedef void (*fk__col_tmpl_fn)(void *user, uint16_t template_id, int what);

/* fk_flow::present bits from a codec to the session layer only (cleared
 * before delivery): the record named its own origin (observationDomainId,
 * exporterIPv4/IPv6Address: relayed by a mediator or read back from an
 * IPFIX file), which the session layer keeps instead of the transport's. */
#define FK__FLOW_OWN_ODID 0x40000000u
#define FK__FLOW_OWN_EXPORTER 0x80000000u
/* One decoded record; the callee may modify the flow. */
typedef void (*fk__col_emit_fn)(void *user, fk_flow *flow);

/* Where a codec decodes the records it emits while the collector hands
 * them over in batches (fk_collector_set_batch_callback): into *next, the
 * slot the collector fills next, so that emit finds the record in place
 * and need not copy it (next moves on in emit; a record that emit does
 * not keep leaves its slot to the next one). Codecs may decode elsewhere:
 * emit then copies. Whoever gives a record a borrowed string (fk_flow's
 * in_if_name, out_if_name, user, exe, tags: valid only until emit
 * returns) sets `ends`: the batch is handed over right after it. */
typedef struct fk__col_flowbuf {
    fk_flow *flows; /* FK_COLLECTOR_BATCH_MAX records */
    fk_flow *next;  /* flows + records held */
    fk_flow *end;   /* flows + FK_COLLECTOR_BATCH_MAX */
    bool ends;      /* the record being emitted borrows a string */
} fk__col_flowbuf;

/* An options record naming an interface: IPFIX interfaceName (82) /
 * interfaceDescription (83) with ingressInterface (10) or egressInterface
 * (14); NetFlow v9 scope type 2 (interface) with IF_NAME (82) / IF_DESC
 * (83). The strings are borrowed for the call, not NUL-terminated; a length
 * of 0 means absent. */
typedef struct fk__col_ifname {
    uint32_t ifindex;
    const char *name;
    size_t name_len;
    const char *desc;
    size_t desc_len;
} fk__col_ifname;
typedef void (*fk__col_ifname_fn)(void *user, const fk__col_ifname *ifn);

/* A data set that may be stored as it came (the collector's pass-through
 * to ipfix: files): what the codec knows of it. */
typedef struct fk__col_raw {
    const fk_template *tmpl; /* its template (borrowed until the next codec call) */
    uint64_t layout;         /* changes whenever the template's fields change */
    uint16_t record_len;     /* every record has this length */
    bool options;            /* options records: decode the set, then store it */
    uint32_t records;        /* data records in the set */
    uint32_t late;           /* records ending after the raw() call's end_limit_ns */
} fk__col_raw;
/* raw() flags: reverse (RFC 5103) elements may pass unchanged. */
#define FK__COL_RAW_BIFLOW 1u

/* A data set whose template has a record plan (recplan.h): writers go
 * from its records straight to their output (the collector's direct
 * path to JSON lines). */
struct fk__recplan;
typedef struct fk__col_direct {
    const struct fk__recplan *plan; /* borrowed until the next codec call on the domain */
    uint32_t records;               /* records in the set (what follows is zero padding) */
    uint32_t sampling;              /* the domain's interval for records without one; 0 = none */
    bool uncompiled;                /* FK_EUNSUPPORTED: the first refusal of this template's plan */
} fk__col_direct;

/* Settings of a codec context. */
typedef struct fk__col_codec_cfg {
    size_t max_templates; /* per session */
    uint32_t pen;         /* enterprise number of flowkit-export's process elements; 0 = none */
    bool direct;          /* data() may turn plain fixed-length sets into flows without the
                             decoder's walk (the same flows; collector parameter direct_decode) */
    fk_collector_stats *stats; /* counters the codec adds to (tags_rejected); may be NULL */
    fk__col_flowbuf *out;      /* where to decode emitted records; NULL = the codec's own */
} fk__col_codec_cfg;

typedef struct fk__col_codec {
    /* Codec state shared by a whole collector (e.g. one template cache). */
    int (*ctx_new)(void **ctx, const fk__col_codec_cfg *cfg);
    void (*ctx_free)(void *ctx);
    /* Codec state for one domain of one session; `session` is unique per
     * transport session for the life of the collector. */
    int (*domain_new)(void *ctx, void **state, uint64_t session, uint16_t version, uint32_t odid);
    void (*domain_free)(void *ctx, void *state);
    /* A template set (IPFIX set id 2/3, v9 flowset 0/1), body after the set
     * header. `room` = how many more templates this session may add; beyond
     * it, report FK__TMPL_REFUSED. Report every template through fn. Returns
     * 0 or FK_EMALFORMED (templates read before the bad one stay). */
    int (*templates)(void *ctx, void *state, const fk__col_hdr *hdr, uint16_t set_id,
                     const uint8_t *body, size_t len, int64_t now_ns, size_t room,
                     fk__col_tmpl_fn fn, void *user);
    /* A data set (id >= 256), body after the set header. FK_ENOTEMPLATE when
     * the template is unknown (nothing emitted), FK_EMALFORMED, or 0 with
     * *records = records decoded (options records update the state and are
     * counted in *options instead of being emitted; those that name an
     * interface are reported through ifname). */
    int (*data)(void *ctx, void *state, const fk__col_hdr *hdr, uint16_t set_id,
                const uint8_t *body, size_t len, fk__col_emit_fn emit, fk__col_ifname_fn ifname,
                void *user, uint32_t *records, uint32_t *options);
    /* Forget templates last defined before cutoff_ns (UDP lifetime). */
    void (*expire)(void *ctx, void *state, int64_t cutoff_ns, fk__col_tmpl_fn fn, void *user);
    /* A whole NetFlow v1/v5/v7 message: emit each record. Returns the
     * number of records, or FK_EMALFORMED / FK_ETRUNCATED (nothing emitted). */
    int (*fixed)(void *ctx, const uint8_t *msg, size_t len, fk__col_emit_fn emit, void *user);
    /* Optional (NULL: never). The exporter's boot time, in ns since the
     * epoch, that the last data() call of this domain read from a record
     * (IPFIX systemInitTimeMilliseconds, IE 160, in an options or a data
     * record); 0 when that call read none. */
    int64_t (*sys_init)(void *ctx, void *state);
    /* Optional (NULL: the session layer replaces the domain state with a
     * fresh one). The exporter restarted during message hdr->serial ==
     * `serial`: forget the templates (report each through fn) and options
     * data of the domain learnt from earlier messages; keep what message
     * `serial` defined. */
    void (*restart)(void *ctx, void *state, uint64_t serial, fk__col_tmpl_fn fn, void *user);
    /* Optional (NULL: never). Whether data set `set_id` (body after the set
     * header) can be stored without decoding, with what is needed to count
     * it: a known data template of fixed length whose records need nothing
     * from the domain's state or the decoder's conversions (no sysUpTime
     * times, no process, event or origin elements, no reverse elements
     * without FK__COL_RAW_BIFLOW, no sampling learnt from options unless
     * the records carry their own) and an absolute end time (or none after
     * export: flowEndDeltaMicroseconds); an options set of fixed length
     * (out->options: decoded as well, and stored so that a reader learns
     * the same). FK_OK with *out filled, else FK_EUNSUPPORTED (decode it
     * with data()). Template id 65535 never passes (ipfix: files use it
     * for the origin of each domain). end_limit_ns: records ending after
     * it are counted in out->late (0: no check). */
    int (*raw)(void *ctx, void *state, uint16_t set_id, const uint8_t *body, size_t len,
               unsigned flags, int64_t end_limit_ns, fk__col_raw *out);
    /* Optional (NULL: never). Whether data set `set_id` of an IPFIX message
     * (body after the set header) may be written straight from its records
     * through the template's record plan, giving the same flows data()
     * would emit (before the session layer stamps exporter, domain and
     * version): only with the codec's `direct` setting, a data template
     * whose flows the decode plan alone gives (as data()'s direct path)
     * and that has a record plan, and a set of whole records plus zero
     * padding. FK_OK with *out filled, else FK_EUNSUPPORTED (decode it with
     * data()); out->uncompiled is set the first time a template's plan is
     * refused. The domain's state changes as data() would change it. */
    int (*direct)(void *ctx, void *state, const fk__col_hdr *hdr, uint16_t set_id,
                  const uint8_t *body, size_t len, fk__col_direct *out);
} fk__col_codec;

/* The production codec, built on the library's IPFIX and NetFlow decoders. */
extern const fk__col_codec fk__col_codec_default;

#endif
