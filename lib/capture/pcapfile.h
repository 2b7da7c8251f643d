/* Internal: a pcap / pcapng file reader that reads the file in large
 * chunks and hands out packets from its own buffer, instead of libpcap's
 * two stdio fread() calls per packet.
 *
 * Handled: classic pcap 2.4 in both byte orders with microsecond
 * (0xa1b2c3d4) or nanosecond (0xa1b23c4d) timestamps; pcapng 1.x with any
 * number of sections (each with its own byte order) and interfaces, the
 * interfaces' if_tsresol / if_tsoffset, and Enhanced, Simple and (obsolete)
 * Packet Blocks; other blocks are skipped. Anything else (other magic
 * numbers, versions, link types outside the ones flowkit decodes) makes
 * fk__pcapfile_open() return FK_EUNSUPPORTED *before* a packet is read, so
 * the caller can hand the file to libpcap instead.
 *
 * The bytes are untrusted: every length is checked against what the file
 * holds (fuzzed by tests/fuzz/fuzz_pcapfile.c). Not thread-safe; one reader
 * per thread. */
#ifndef FK_CAPTURE_PCAPFILE_H
#define FK_CAPTURE_PCAPFILE_H

#include <stddef.h>
#include <stdint.h>

#include <string.h>

/* libpcap's largest snapshot for the link types this reader takes. */
#define FK__PCAPFILE_MAX_CAPLEN 262144u

/* The reader's state: public only for the inline fast path below. */
typedef struct fk__pcapfile {
    int fd; /* -1: memory */
    uint8_t *owned;
    const uint8_t *buf;
    size_t cap, len, pos; /* buffer size, bytes in it, read position */
    int err;              /* sticky error code, 0 = none */
    char msg[160];
    int ng;
    int swap;
    int nsec;         /* classic: nanosecond timestamps */
    int fast;         /* classic, host byte order, no error: fk__pcapfile_next inline */
    int linktype;     /* classic; pcapng: first interface */
    uint32_t snaplen; /* classic header / first interface */
    struct fk__pcapfile_iface *ifs;
    size_t nifs, ifs_cap;
} fk__pcapfile;

/* One packet. data points into the reader's buffer and stays valid until
 * the next fk__pcapfile_next() or fk__pcapfile_close(). */
typedef struct fk__pcapfile_pkt {
    int64_t ts_ns; /* sec * 1e9 + nsec */
    int64_t sec;   /* timestamp as libpcap gives it at nanosecond precision: */
    int64_t nsec;  /* seconds and nanoseconds (< 1e9 for pcapng; pcap: as stored, * 1000 for µs) */
    uint32_t caplen; /* bytes at data */
    uint32_t wirelen;
    const uint8_t *data;
    int linktype;   /* DLT_ value, as pcap_datalink() would report it */
    uint32_t iface; /* pcapng interface id within its section; 0 for classic pcap */
} fk__pcapfile_pkt;

/* Open path. FK_EUNSUPPORTED: not a file this reader handles (use libpcap);
 * FK_ENOTFOUND / FK_EPERM / FK_EIO: cannot open or read; FK_ENOMEM. */
int fk__pcapfile_open(fk__pcapfile **out, const char *path);

/* The same over len bytes at data (not copied: they must outlive the
 * reader). For tests and the fuzzer. */
int fk__pcapfile_open_mem(fk__pcapfile **out, const void *data, size_t len);

/* The next packet: 1 and *pkt filled, 0 at the end of the file, or an error
 * (FK_ETRUNCATED: the file ends inside a packet or block; FK_EMALFORMED:
 * impossible lengths or values; FK_EIO) with the message set. After an error
 * every later call returns the same error. */
int fk__pcapfile_next_slow(fk__pcapfile *f, fk__pcapfile_pkt *pkt);
static inline int fk__pcapfile_next(fk__pcapfile *f, fk__pcapfile_pkt *pkt)
{
    /* Fast path: a classic pcap record of the host's byte order wholly in
     * the buffer. Everything else (refills, pcapng, errors) out of line. */
    if (f->fast && f->len - f->pos >= 16) {
        const uint8_t *h = f->buf + f->pos;
        uint32_t w[4];
        memcpy(w, h, 16);
        if (w[2] <= FK__PCAPFILE_MAX_CAPLEN && f->len - f->pos - 16 >= w[2]) {
            pkt->data = h + 16;
            pkt->caplen = w[2];
            pkt->wirelen = w[3];
            pkt->sec = w[0];
            pkt->nsec = (int64_t)w[1] * (f->nsec ? 1 : 1000);
            pkt->ts_ns = (int64_t)((uint64_t)w[0] * 1000000000u + (uint64_t)pkt->nsec);
            pkt->linktype = f->linktype;
            pkt->iface = 0;
            f->pos += 16 + (size_t)w[2];
            return 1;
        }
    }
    return fk__pcapfile_next_slow(f, pkt);
}

/* Link type (DLT_) of the classic file, or of the first interface of a
 * pcapng file described before its first packet. */
int fk__pcapfile_linktype(const fk__pcapfile *f);

/* Snapshot length from the file header / first interface (0 = none given). */
uint32_t fk__pcapfile_snaplen(const fk__pcapfile *f);

/* 1 for pcapng, 0 for classic pcap. */
int fk__pcapfile_is_ng(const fk__pcapfile *f);

void fk__pcapfile_close(fk__pcapfile *f);

#endif /* FK_CAPTURE_PCAPFILE_H */
