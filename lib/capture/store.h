/* Internal: the pcap store — captured packets written to rotating pcap files.
 *
 * Target: a directory (an existing one, or any value ending in '/') or a
 * file pattern expanded with strftime(3) in UTC at the time of the file's
 * first packet.
 *   directory: <dir>/flowkit[-<device>]-YYYYmmdd-HHMMSS-<seq>.pcap
 *   pattern:   the expansion, with "-<device>" (when given) and, when
 *              rotation is on, "-<seq>" inserted before the extension.
 * <seq> is the file's number in this store, 6 digits from 000000.
 * Files are opened at their first packet (no empty files). A file is closed
 * and the next one started before a packet that would take it past
 * rotate_bytes (a file always holds at least one packet), or when a packet's
 * timestamp is rotate_seconds or more after the file's first packet.
 * With keep_files > 0 only the newest keep_files files this store wrote are
 * kept; older ones are deleted. Files not written by this store are never
 * touched. Timestamps are written with nanosecond resolution. */
#ifndef FK_CAPTURE_STORE_H
#define FK_CAPTURE_STORE_H

#include <pcap/pcap.h>
#include <stdint.h>

typedef struct fk__pcap_store fk__pcap_store;

typedef struct fk__store_config {
    const char *target;     /* directory or pattern (copied) */
    const char *device;     /* inserted into names, or NULL (copied) */
    int linktype;           /* DLT of the packets */
    int snaplen;            /* written in the file header */
    int64_t rotate_bytes;   /* 0 = no size rotation */
    int64_t rotate_seconds; /* 0 = no time rotation */
    int64_t keep_files;     /* 0 = keep all */
} fk__store_config;

typedef struct fk__store_stats {
    uint64_t files;   /* files opened */
    uint64_t deleted; /* old files deleted (keep_files) */
    uint64_t packets; /* packets written */
    uint64_t bytes;   /* bytes written, file headers included */
} fk__store_stats;

/* Check the target (directory exists and is writable, or the pattern's
 * directory is) and create the store; no file is opened yet. Errors:
 * FK_EINVAL, FK_ENOTFOUND, FK_EPERM, FK_ENOMEM. */
int fk__store_create(fk__pcap_store **out, const fk__store_config *cfg);

/* Write one packet (ts in ns since the epoch). FK_EIO on a write/open
 * failure (the store stays usable: the next packet retries a new file). */
int fk__store_write(fk__pcap_store *s, int64_t ts_ns, const uint8_t *data, uint32_t caplen,
                    uint32_t wirelen);

/* Flush the current file to disk (e.g. once a second). FK_EIO on failure. */
int fk__store_flush(fk__pcap_store *s);

/* Close the current file (the next packet opens a new one). FK_EIO when
 * its last data could not be written. */
int fk__store_close_file(fk__pcap_store *s);

/* Close the current file and free the store; NULL is a no-op. */
void fk__store_destroy(fk__pcap_store *s);

void fk__store_get_stats(const fk__pcap_store *s, fk__store_stats *out);

/* Name of the file being written, or NULL. Borrowed until the next call. */
const char *fk__store_current(const fk__pcap_store *s);

/* Build the name of file number seq whose first packet is at ts_ns into buf.
 * Exposed for tests. FK_ENOSPACE when buf is too small. */
int fk__store_format_name(char *buf, size_t size, const char *target, int is_dir,
                          const char *device, int rotating, uint64_t seq, int64_t ts_ns);

#endif
