/* Benchmark: pcap file -> flows through flowkit's file reader (the one the
 * capture handle uses, lib/capture/pcapfile.c) + fk__packet_decode +
 * fk__flow_table on one core.
 *
 *   bench_flow [--max-flows N] [--idle SECS] [--repeat N] FILE.pcap
 *
 * Passes over the file (after the first from the page cache):
 *   read_libpcap  libpcap pcap_next_ex only (for comparison)
 *   read          flowkit's reader only (the floor of the flow pass)
 *   flow          reader + decode + flow table (+ expiry by packet time, final flush)
 * For each pass it prints one line of key=value pairs with CPU seconds
 * (process user+system) and packets per CPU second. */
#include <inttypes.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "capture/pcapfile.h"
#include "core/error.h"
#include "flow/flow_table.h"
#include "packet/packet.h"

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef struct counts {
    uint64_t records;
    uint64_t rec_packets;
} counts;

static void on_flow(void *ctx, const fk__flow_record *r)
{
    counts *c = ctx;
    c->records++;
    c->rec_packets += r->flow.packets + r->flow.rev_packets;
}

/* libpcap reads offline files through stdio, two fread() calls per packet:
 * a 1 MiB buffer instead of 4 KiB saves read(2) calls, and a stream without
 * locking saves a lock round trip per fread. */
static pcap_t *open_file(const char *path)
{
    char err[PCAP_ERRBUF_SIZE];
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return NULL;
    }
    setvbuf(f, NULL, _IOFBF, 1 << 20);
    __fsetlocking(f, FSETLOCKING_BYCALLER); /* one thread: no stdio lock per fread */
    pcap_t *p = pcap_fopen_offline_with_tstamp_precision(f, PCAP_TSTAMP_PRECISION_NANO, err);
    if (!p) {
        fprintf(stderr, "bench_flow: %s\n", err);
        fclose(f);
    }
    return p;
}

/* The reader the capture handle uses (it falls back to libpcap for formats
 * it leaves alone; this bench wants the reader itself). */
static fk__pcapfile *open_reader(const char *path)
{
    fk__pcapfile *f;
    if (fk__pcapfile_open(&f, path) != 0) {
        fprintf(stderr, "bench_flow: %s: %s\n", path, fk_error_last()->message);
        return NULL;
    }
    return f;
}

int main(int argc, char **argv)
{
    uint32_t max_flows = 262144;
    double idle = 15;
    int repeat = 1;
    int i = 1;
    for (; i + 1 < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
        if (strcmp(argv[i], "--max-flows") == 0)
            max_flows = (uint32_t)strtoul(argv[i + 1], NULL, 0);
        else if (strcmp(argv[i], "--idle") == 0)
            idle = atof(argv[i + 1]);
        else if (strcmp(argv[i], "--repeat") == 0)
            repeat = atoi(argv[i + 1]);
        else
            break;
    }
    if (i + 1 != argc) {
        fprintf(stderr, "usage: bench_flow [--max-flows N] [--idle SECS] [--repeat N] FILE\n");
        return 2;
    }
    const char *path = argv[i];

    /* pass 1: libpcap alone */
    pcap_t *pc = open_file(path);
    if (!pc)
        return 1;
    struct pcap_pkthdr *h;
    const u_char *data;
    uint64_t n = 0, sum = 0;
    double c0 = cpu_now(), w0 = wall_now();
    while (pcap_next_ex(pc, &h, &data) == 1) {
        n++;
        sum += h->caplen + data[0];
    }
    double lp_cpu = cpu_now() - c0, lp_wall = wall_now() - w0;
    pcap_close(pc);
    printf("read_libpcap  packets=%" PRIu64
           " cpu_s=%.3f wall_s=%.3f pps_cpu=%.0f (checksum %" PRIu64 ")\n",
           n, lp_cpu, lp_wall, n / lp_cpu, sum % 997);

    /* pass 2: flowkit's reader alone */
    fk__pcapfile *rd = open_reader(path);
    if (!rd)
        return 1;
    fk__pcapfile_pkt pp;
    n = sum = 0;
    c0 = cpu_now();
    w0 = wall_now();
    while (fk__pcapfile_next(rd, &pp) == 1) {
        n++;
        sum += pp.caplen + pp.data[0];
    }
    double read_cpu = cpu_now() - c0, read_wall = wall_now() - w0;
    fk__pcapfile_close(rd);
    printf("read  packets=%" PRIu64 " cpu_s=%.3f wall_s=%.3f pps_cpu=%.0f (checksum %" PRIu64 ")\n",
           n, read_cpu, read_wall, n / read_cpu, sum % 997);

    for (int r = 0; r < repeat; r++) {
        fk__flow_config cfg;
        fk__flow_config_default(&cfg);
        cfg.max_flows = max_flows;
        cfg.idle_timeout_ns = (int64_t)(idle * 1e9);
        counts cnt = {0, 0};
        fk__flow_sink sink = {on_flow, NULL, &cnt};
        fk__flow_table *t;
        if (fk__flow_table_create(&t, &cfg, &sink) != 0) {
            fprintf(stderr, "bench_flow: cannot create a table of %u flows\n", max_flows);
            return 1;
        }
        rd = open_reader(path);
        if (!rd)
            return 1;
        uint64_t pk = 0, ok = 0;
        int64_t last_expire = 0;
        c0 = cpu_now();
        w0 = wall_now();
        fk__packet batch[32];
        size_t nb = 0;
        while (fk__pcapfile_next(rd, &pp) == 1) {
            int64_t ts = pp.ts_ns;
            pk++;
            if (fk__packet_decode(&batch[nb], pp.data, pp.caplen, pp.wirelen, pp.linktype, ts, 0) ==
                FK__PKT_OK) {
                ok++;
                nb++;
            }
            if (nb == 32) {
                fk__flow_table_add_batch(t, batch, nb);
                nb = 0;
            }
            if (ts - last_expire >= 100000000LL) { /* expiry every 100 ms of packet time */
                fk__flow_table_add_batch(t, batch, nb);
                nb = 0;
                fk__flow_table_expire(t, ts);
                last_expire = ts;
            }
        }
        fk__flow_table_add_batch(t, batch, nb);
        fk__flow_table_flush(t);
        double cpu = cpu_now() - c0, wall = wall_now() - w0;
        fk__flow_stats st;
        fk__flow_table_stats(t, &st);
        fk__pcapfile_close(rd);
        fk__flow_table_destroy(t);
        printf("flow  packets=%" PRIu64 " ip_packets=%" PRIu64 " flows=%" PRIu64 " records=%" PRIu64
               " evicted=%" PRIu64 " cpu_s=%.3f wall_s=%.3f pps_cpu=%.0f"
               " decode_table_ns_per_pkt=%.1f\n",
               pk, ok, st.created, cnt.records, st.evicted, cpu, wall, pk / cpu,
               (cpu - read_cpu) * 1e9 / (double)(pk ? pk : 1));
        if (cnt.rec_packets != ok) {
            fprintf(stderr, "bench_flow: records hold %" PRIu64 " packets, expected %" PRIu64 "\n",
                    cnt.rec_packets, ok);
            return 1;
        }
    }
    return 0;
}
