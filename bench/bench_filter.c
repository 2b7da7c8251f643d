/* Benchmark: flow filter evaluation (fk_filter_match) per record, on the
 * flows of a JSON lines file written by tests/tools/filter_flows.py (the
 * same records bench/run.d/filter.sh stores with nfcapd for nfdump).
 *
 *   bench_filter [--repeat N] FLOWS.jsonl EXPR...
 *
 * For each expression: compile once, then match every flow N times (default
 * 20); prints one line `expr="..." records=R matched=M ns_per_record=X`
 * with X from CPU time over R*N evaluations. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <flowkit/flowkit.h>

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One line of filter_flows.py's truth: json.dumps of a dict in a fixed key order. */
static int parse_line(const char *line, fk_flow *f)
{
    char src[64], dst[64];
    unsigned sp, dp, proto, flags, tos, in_if, out_if;
    unsigned long long bytes, packets, start, end;
    if (sscanf(line,
               "{\"src\": \"%63[^\"]\", \"dst\": \"%63[^\"]\", \"sp\": %u, \"dp\": %u, \"proto\": "
               "%u, \"bytes\": %llu, \"packets\": %llu, \"start\": %llu, \"end\": %llu, "
               "\"flags\": %u, \"tos\": %u, \"in_if\": %u, \"out_if\": %u}",
               src, dst, &sp, &dp, &proto, &bytes, &packets, &start, &end, &flags, &tos, &in_if,
               &out_if) != 13)
        return -1;
    memset(f, 0, sizeof *f);
    if (fk_addr_parse(src, &f->src) < 0 || fk_addr_parse(dst, &f->dst) < 0)
        return -1;
    f->src_port = (uint16_t)sp;
    f->dst_port = (uint16_t)dp;
    f->proto = (uint8_t)proto;
    f->bytes = bytes;
    f->packets = packets;
    f->start_ns = (int64_t)start * 1000000;
    f->end_ns = (int64_t)end * 1000000;
    f->tcp_flags = (uint8_t)flags;
    f->tos = (uint8_t)tos;
    f->in_if = in_if;
    f->out_if = out_if;
    f->present = FK_FLOW_HAS_IFACES;
    f->version = 10;
    return 0;
}

int main(int argc, char **argv)
{
    int repeat = 20, i = 1;
    if (argc > 2 && strcmp(argv[1], "--repeat") == 0) {
        repeat = atoi(argv[2]);
        i = 3;
    }
    if (argc - i < 2 || repeat < 1) {
        fprintf(stderr, "usage: bench_filter [--repeat N] FLOWS.jsonl EXPR...\n");
        return 2;
    }
    FILE *in = fopen(argv[i], "r");
    if (!in) {
        perror(argv[i]);
        return 1;
    }
    size_t n = 0, cap = 0;
    fk_flow *flows = NULL;
    char line[1024];
    while (fgets(line, sizeof line, in)) {
        if (n == cap) {
            cap = cap ? cap * 2 : 4096;
            fk_flow *nf = realloc(flows, cap * sizeof *nf);
            if (!nf)
                return 1;
            flows = nf;
        }
        if (parse_line(line, &flows[n]) == 0)
            n++;
    }
    fclose(in);
    if (n == 0) {
        fprintf(stderr, "bench_filter: no flows in %s\n", argv[i]);
        return 1;
    }
    for (int e = i + 1; e < argc; e++) {
        fk_filter *flt;
        if (fk_filter_compile(argv[e], &flt, NULL) < 0) {
            fprintf(stderr, "bench_filter: %s\n", fk_error_last()->message);
            return 1;
        }
        uint64_t matched = 0;
        double t0 = cpu_now();
        for (int r = 0; r < repeat; r++)
            for (size_t k = 0; k < n; k++)
                matched += (uint64_t)fk_filter_match(flt, &flows[k]);
        double t = cpu_now() - t0;
        printf("expr=\"%s\" records=%zu matched=%" PRIu64 " ns_per_record=%.1f\n", argv[e], n,
               matched / (uint64_t)repeat, t * 1e9 / ((double)n * repeat));
        fk_filter_destroy(flt);
    }
    free(flows);
    return 0;
}
