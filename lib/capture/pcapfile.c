/* pcap / pcapng file reader over large read(2) chunks (see pcapfile.h).
 * Formats: pcap-savefile(5) and the pcapng draft (IETF opsawg pcapng). */
#include "capture/pcapfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/error.h"

#define CHUNK (1u << 20)                /* read(2) size */
#define FK__PCAPFILE_MAX_CAPLEN 262144u /* libpcap's largest snapshot for the link types below */
#define MAX_BLOCK (16u << 20)           /* largest pcapng block accepted */
#define NG_SHB 0x0A0D0D0Au              /* Section Header Block (palindromic) */
#define NG_IDB 1u                       /* Interface Description Block */
#define NG_PB 2u                        /* Packet Block (obsolete) */
#define NG_SPB 3u                       /* Simple Packet Block */
#define NG_EPB 6u                       /* Enhanced Packet Block */
#define NG_BOM 0x1A2B3C4Du              /* byte-order magic */
#define OPT_TSRESOL 9u                  /* if_tsresol */
#define OPT_TSOFFSET 14u                /* if_tsoffset */
#define NS 1000000000ull

struct fk__pcapfile_iface {
    int linktype;     /* DLT_ */
    uint32_t snaplen; /* 0 = none */
    uint64_t ups;     /* timestamp units per second */
    int64_t tsoffset; /* seconds added to every timestamp */
    int known;        /* a link type this reader may take over from libpcap */
};
typedef struct fk__pcapfile_iface ng_iface;

__extension__ typedef unsigned __int128 u128;

static inline uint16_t rd16(const fk__pcapfile *f, const uint8_t *p)
{
    uint16_t v;
    memcpy(&v, p, 2);
    return f->swap ? __builtin_bswap16(v) : v;
}

static inline uint32_t rd32(const fk__pcapfile *f, const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return f->swap ? __builtin_bswap32(v) : v;
}

/* LINKTYPE_ (file) -> DLT_ (what libpcap reports), for the link types the
 * packet decoder knows; -1 for the others (left to libpcap). */
static int link_to_dlt(uint32_t lt)
{
    switch (lt & 0x03FFFFFFu) { /* the upper bits carry FCS information */
    case 0:
    case 1:
    case 108:
    case 113:
    case 228:
    case 229:
    case 276:
        return (int)(lt & 0x03FFFFFFu);
    case 101:
        return 12; /* LINKTYPE_RAW is DLT_RAW */
    default:
        return -1;
    }
}

static int fail(fk__pcapfile *f, int code, const char *what)
{
    f->fast = 0;
    if (!f->err) {
        f->err = code;
        snprintf(f->msg, sizeof f->msg, "%s", what);
    }
    return fk__error(f->err, "%s", f->msg);
}

/* Make need bytes from pos available. 1: yes; 0: the file ends before
 * (len - pos bytes are left); < 0: read error. */
static int ensure_slow(fk__pcapfile *f, size_t need)
{
    if (f->fd < 0)
        return 0;
    size_t have = f->len - f->pos;
    if (need > f->cap) {
        size_t cap = f->cap;
        while (cap < need)
            cap *= 2;
        uint8_t *n = fk__malloc(cap);
        if (!n)
            return fail(f, FK_ENOMEM, "out of memory for a pcap block");
        memcpy(n, f->buf + f->pos, have);
        fk__free(f->owned);
        f->owned = n;
        f->buf = n;
        f->cap = cap;
    } else if (f->pos) {
        memmove(f->owned, f->owned + f->pos, have);
    }
    f->pos = 0;
    f->len = have;
    while (f->len < need) {
        ssize_t r = read(f->fd, f->owned + f->len, f->cap - f->len);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            char m[96], eb[64];
            snprintf(m, sizeof m, "read error: %s", fk__strerror_r(errno, eb, sizeof eb));
            return fail(f, FK_EIO, m);
        }
        if (r == 0)
            return 0;
        f->len += (size_t)r;
    }
    return 1;
}

static inline int ensure(fk__pcapfile *f, size_t need)
{
    if (__builtin_expect(f->len - f->pos >= need, 1))
        return 1;
    return ensure_slow(f, need);
}

static int truncated(fk__pcapfile *f)
{
    return fail(f, FK_ETRUNCATED, "truncated capture file: it ends inside a packet");
}

/* ---- classic pcap ------------------------------------------------------- */

static int classic_next(fk__pcapfile *f, fk__pcapfile_pkt *pkt)
{
    int r = ensure(f, 16);
    if (r <= 0) {
        if (r < 0)
            return r;
        return f->len == f->pos ? 0 : truncated(f);
    }
    const uint8_t *h = f->buf + f->pos;
    uint32_t sec = rd32(f, h), frac = rd32(f, h + 4), caplen = rd32(f, h + 8);
    uint32_t wirelen = rd32(f, h + 12);
    if (caplen > FK__PCAPFILE_MAX_CAPLEN) {
        char m[96];
        snprintf(m, sizeof m, "invalid packet capture length %u, bigger than maximum of %u", caplen,
                 FK__PCAPFILE_MAX_CAPLEN);
        return fail(f, FK_EMALFORMED, m);
    }
    r = ensure(f, 16 + (size_t)caplen);
    if (r <= 0)
        return r < 0 ? r : truncated(f);
    pkt->data = f->buf + f->pos + 16;
    pkt->caplen = caplen;
    pkt->wirelen = wirelen;
    pkt->sec = sec;
    pkt->nsec = (int64_t)frac * (f->nsec ? 1 : 1000);
    pkt->ts_ns = (int64_t)((uint64_t)sec * NS + (uint64_t)pkt->nsec);
    pkt->linktype = f->linktype;
    pkt->iface = 0;
    f->pos += 16 + (size_t)caplen;
    return 1;
}

/* ---- pcapng ------------------------------------------------------------- */

static int ng_add_iface(fk__pcapfile *f, const uint8_t *b, size_t blen)
{
    if (blen < 8)
        return fail(f, FK_EMALFORMED, "pcapng interface description block too short");
    ng_iface ifc = {.ups = 1000000};
    uint32_t lt = rd16(f, b);
    ifc.linktype = link_to_dlt(lt);
    ifc.known = ifc.linktype >= 0;
    if (!ifc.known)
        ifc.linktype = (int)lt; /* not decoded: the packets are only counted */
    ifc.snaplen = rd32(f, b + 4);
    size_t o = 8;
    while (o + 4 <= blen) {
        uint32_t code = rd16(f, b + o), olen = rd16(f, b + o + 2);
        o += 4;
        if (code == 0)
            break;
        if (olen > blen - o)
            return fail(f, FK_EMALFORMED, "pcapng option runs past its block");
        if (code == OPT_TSRESOL && olen >= 1) {
            uint8_t v = b[o];
            unsigned e = v & 0x7f;
            if (v & 0x80) {
                if (e > 63)
                    return fail(f, FK_EMALFORMED, "pcapng if_tsresol 2^-e with e > 63");
                ifc.ups = 1ull << e;
            } else {
                if (e > 19)
                    return fail(f, FK_EMALFORMED, "pcapng if_tsresol 10^-e with e > 19");
                ifc.ups = 1;
                for (unsigned i = 0; i < e; i++)
                    ifc.ups *= 10;
            }
        } else if (code == OPT_TSOFFSET && olen >= 8) {
            uint64_t v; /* in the section's byte order */
            memcpy(&v, b + o, 8);
            ifc.tsoffset = (int64_t)(f->swap ? __builtin_bswap64(v) : v);
        }
        o += (olen + 3u) & ~3u;
    }
    if (f->nifs == f->ifs_cap) {
        size_t cap = f->ifs_cap ? f->ifs_cap * 2 : 4;
        if (cap > 65536)
            return fail(f, FK_EMALFORMED, "pcapng section with more than 65536 interfaces");
        ng_iface *n = fk__reallocarray(f->ifs, cap, sizeof *n);
        if (!n)
            return fail(f, FK_ENOMEM, "out of memory for pcapng interfaces");
        f->ifs = n;
        f->ifs_cap = cap;
    }
    f->ifs[f->nifs++] = ifc;
    return 0;
}

static void ng_time(const ng_iface *ifc, uint64_t t, fk__pcapfile_pkt *pkt)
{
    uint64_t sec = t / ifc->ups, frac = t % ifc->ups, fns;
    if (ifc->ups <= NS && NS % ifc->ups == 0)
        fns = frac * (NS / ifc->ups);
    else
        fns = (uint64_t)(((u128)frac * NS) / ifc->ups);
    sec += (uint64_t)ifc->tsoffset;
    pkt->sec = (int64_t)sec;
    pkt->nsec = (int64_t)fns;
    pkt->ts_ns = (int64_t)(sec * NS + fns);
}

static int ng_packet(fk__pcapfile *f, uint32_t type, const uint8_t *b, size_t blen,
                     fk__pcapfile_pkt *pkt)
{
    uint32_t iface, caplen, wirelen;
    uint64_t t = 0;
    size_t hdr;
    if (type == NG_SPB) {
        if (blen < 4)
            return fail(f, FK_EMALFORMED, "pcapng simple packet block too short");
        if (f->nifs == 0)
            return fail(f, FK_EMALFORMED, "pcapng simple packet block before any interface");
        iface = 0;
        wirelen = rd32(f, b);
        hdr = 4;
        caplen = (uint32_t)(blen - 4);
        if (caplen > wirelen)
            caplen = wirelen;
        if (f->ifs[0].snaplen && caplen > f->ifs[0].snaplen)
            caplen = f->ifs[0].snaplen;
    } else {
        if (blen < 20)
            return fail(f, FK_EMALFORMED, "pcapng packet block too short");
        iface = type == NG_EPB ? rd32(f, b) : rd16(f, b);
        t = (uint64_t)rd32(f, b + 4) << 32 | rd32(f, b + 8);
        caplen = rd32(f, b + 12);
        wirelen = rd32(f, b + 16);
        hdr = 20;
        if (caplen > blen - 20)
            return fail(f, FK_EMALFORMED, "pcapng packet longer than its block");
        if (iface >= f->nifs)
            return fail(f, FK_EMALFORMED, "pcapng packet on an interface not described");
    }
    if (caplen > FK__PCAPFILE_MAX_CAPLEN)
        return fail(f, FK_EMALFORMED, "pcapng packet capture length bigger than 262144");
    const ng_iface *ifc = &f->ifs[iface];
    pkt->data = b + hdr;
    pkt->caplen = caplen;
    pkt->wirelen = wirelen;
    pkt->linktype = ifc->linktype;
    pkt->iface = iface;
    if (type == NG_SPB) {
        pkt->ts_ns = 0; /* no timestamp in a simple packet block */
        pkt->sec = 0;
        pkt->nsec = 0;
    } else {
        ng_time(ifc, t, pkt);
    }
    return 1;
}

/* Process blocks up to the next packet: 1 with *pkt (or, with peek, 2 and
 * pos left at the packet block), 0 at the end, < 0 on error. */
static int ng_next(fk__pcapfile *f, fk__pcapfile_pkt *pkt, int peek)
{
    for (;;) {
        int r = ensure(f, 12);
        if (r <= 0) {
            if (r < 0)
                return r;
            if (f->len == f->pos)
                return 0;
            return fail(f, FK_ETRUNCATED, "truncated pcapng file: it ends inside a block");
        }
        const uint8_t *b = f->buf + f->pos;
        uint32_t type;
        memcpy(&type, b, 4);
        if (type == NG_SHB) {
            uint32_t bom;
            memcpy(&bom, b + 8, 4);
            if (bom == NG_BOM)
                f->swap = 0;
            else if (bom == __builtin_bswap32(NG_BOM))
                f->swap = 1;
            else
                return fail(f, FK_EMALFORMED, "pcapng section header with a bad byte-order magic");
        } else {
            type = rd32(f, b);
        }
        int is_packet = type == NG_EPB || type == NG_SPB || type == NG_PB;
        if (peek && is_packet)
            return 2;
        uint32_t total = rd32(f, b + 4);
        if (total < 12 || total % 4 || total > MAX_BLOCK)
            return fail(f, FK_EMALFORMED, "pcapng block with an impossible length");
        r = ensure(f, total);
        if (r <= 0)
            return r < 0 ? r
                         : fail(f, FK_ETRUNCATED, "truncated pcapng file: it ends inside a block");
        b = f->buf + f->pos;
        const uint8_t *body = b + 8;
        size_t blen = total - 12;
        if (type == NG_SHB) {
            if (blen < 16)
                return fail(f, FK_EMALFORMED, "pcapng section header block too short");
            if (rd16(f, body + 4) != 1)
                return fail(f, FK_EMALFORMED, "pcapng section of an unsupported major version");
            f->nifs = 0; /* interface ids are per section */
        } else if (type == NG_IDB) {
            if ((r = ng_add_iface(f, body, blen)) < 0)
                return r;
        } else if (is_packet) {
            r = ng_packet(f, type, body, blen, pkt);
            if (r < 0)
                return r;
            f->pos += total;
            return 1;
        }
        f->pos += total;
    }
}

/* ---- open / close ------------------------------------------------------- */

static int open_common(fk__pcapfile *f)
{
    int r = ensure(f, 24);
    if (r < 0)
        return r;
    if (r == 0)
        return fk__error(FK_EUNSUPPORTED, "pcap reader: file shorter than a header");
    const uint8_t *h = f->buf;
    uint32_t magic;
    memcpy(&magic, h, 4);
    if (magic == NG_SHB) {
        f->ng = 1;
        fk__pcapfile_pkt dummy;
        r = ng_next(f, &dummy, 1);
        /* A broken start, no interface before the data, or a link type it
         * does not know: libpcap judges (and words) it. */
        if (r < 0)
            return fk__error(FK_EUNSUPPORTED, "pcap reader: pcapng start not understood");
        if (f->nifs == 0)
            return fk__error(FK_EUNSUPPORTED, "pcap reader: no interface before the data");
        for (size_t i = 0; i < f->nifs; i++) {
            if (!f->ifs[i].known)
                return fk__error(FK_EUNSUPPORTED, "pcap reader: link type left to libpcap");
        }
        f->linktype = f->ifs[0].linktype;
        f->snaplen = f->ifs[0].snaplen;
        f->err = 0;
        return 0;
    }
    if (magic == 0xa1b2c3d4u || magic == 0xa1b23c4du) {
        f->swap = 0;
    } else if (magic == 0xd4c3b2a1u || magic == 0x4d3cb2a1u) {
        f->swap = 1;
    } else {
        return fk__error(FK_EUNSUPPORTED, "pcap reader: not a pcap or pcapng file it handles");
    }
    f->nsec = magic == 0xa1b23c4du || magic == 0x4d3cb2a1u;
    if (rd16(f, h + 4) != 2 || rd16(f, h + 6) != 4)
        return fk__error(FK_EUNSUPPORTED, "pcap reader: pcap version other than 2.4");
    f->snaplen = rd32(f, h + 16);
    f->linktype = link_to_dlt(rd32(f, h + 20));
    if (f->linktype < 0)
        return fk__error(FK_EUNSUPPORTED, "pcap reader: link type left to libpcap");
    f->pos = 24;
    f->fast = !f->swap;
    return 0;
}

static fk__pcapfile *alloc_reader(void)
{
    fk__pcapfile *f = fk__calloc(1, sizeof *f);
    if (f)
        f->fd = -1;
    return f;
}

int fk__pcapfile_open_mem(fk__pcapfile **out, const void *data, size_t len)
{
    *out = NULL;
    fk__pcapfile *f = alloc_reader();
    if (!f)
        return fk__error(FK_ENOMEM, "pcap reader: out of memory");
    f->buf = data;
    f->len = len;
    int rc = open_common(f);
    if (rc < 0) {
        fk__pcapfile_close(f);
        return rc;
    }
    *out = f;
    return 0;
}

int fk__pcapfile_open(fk__pcapfile **out, const char *path)
{
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int code = errno == ENOENT ? FK_ENOTFOUND : errno == EACCES ? FK_EPERM : FK_EIO;
        return fk__error_errno(code, "%s: cannot open", path);
    }
    (void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    fk__pcapfile *f = alloc_reader();
    uint8_t *buf = f ? fk__malloc(CHUNK) : NULL;
    if (!buf) {
        fk__free(f);
        close(fd);
        return fk__error(FK_ENOMEM, "pcap reader: out of memory");
    }
    f->fd = fd;
    f->owned = buf;
    f->buf = buf;
    f->cap = CHUNK;
    int rc = open_common(f);
    if (rc < 0) {
        fk__pcapfile_close(f);
        return rc;
    }
    *out = f;
    return 0;
}

int fk__pcapfile_next_slow(fk__pcapfile *f, fk__pcapfile_pkt *pkt)
{
    if (f->err)
        return fk__error(f->err, "%s", f->msg);
    return f->ng ? ng_next(f, pkt, 0) : classic_next(f, pkt);
}

int fk__pcapfile_linktype(const fk__pcapfile *f)
{
    return f->linktype;
}

uint32_t fk__pcapfile_snaplen(const fk__pcapfile *f)
{
    return f->snaplen;
}

int fk__pcapfile_is_ng(const fk__pcapfile *f)
{
    return f->ng;
}

void fk__pcapfile_close(fk__pcapfile *f)
{
    if (!f)
        return;
    if (f->fd >= 0)
        close(f->fd);
    fk__free(f->owned);
    fk__free(f->ifs);
    fk__free(f);
}
