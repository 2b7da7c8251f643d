/* Benchmark: the live flow store's add path and its memory bound.
 *
 *   bench_store [--flows N] [--distinct N] [--batch N] [--set NAME=VALUE]...
 *
 * Feeds N flows whose sources cycle through `distinct` addresses (and
 * destinations through 1000) into a store with default parameters (or the
 * ones set), one flow per ms of data time. Prints one line of key=value
 * pairs: flows per CPU second, the store's fixed memory_bytes, the
 * process's peak RSS before and after feeding, and the eviction counters,
 * so a run with 10 M distinct addresses shows memory staying at the cap.
 * --batch N (1..1024) feeds arrays of N flows with fk_store_add_flows(), as
 * flowkit-collect --http does (64); without it, one fk_store_add_flow()
 * call per flow. */
#include <flowkit/flowkit.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long peak_rss_kb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

static fk_addr v4(uint32_t a)
{
    fk_addr x;
    memset(&x, 0, sizeof x);
    x.family = 4;
    x.bytes[0] = (uint8_t)(a >> 24);
    x.bytes[1] = (uint8_t)(a >> 16);
    x.bytes[2] = (uint8_t)(a >> 8);
    x.bytes[3] = (uint8_t)a;
    return x;
}

int main(int argc, char **argv)
{
    uint64_t nflows = 2000000, distinct = 1000, batch = 0;
    fk_store *s;
    if (fk_store_create(&s) != 0)
        return 1;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--flows") && i + 1 < argc) {
            nflows = strtoull(argv[++i], NULL, 10);
        } else if (!strcmp(argv[i], "--distinct") && i + 1 < argc) {
            distinct = strtoull(argv[++i], NULL, 10);
        } else if (!strcmp(argv[i], "--batch") && i + 1 < argc) {
            batch = strtoull(argv[++i], NULL, 10);
            if (batch < 1 || batch > 1024)
                return 2;
        } else if (!strcmp(argv[i], "--set") && i + 1 < argc) {
            char *eq = strchr(argv[++i], '=');
            if (!eq)
                return 2;
            *eq = '\0';
            if (fk_store_set_text(s, argv[i], eq + 1) != 0) {
                fprintf(stderr, "%s\n", fk_error_last()->message);
                return 2;
            }
        } else {
            fprintf(stderr, "usage: bench_store [--flows N] [--distinct N] [--batch N] "
                            "[--set NAME=VALUE]\n");
            return 2;
        }
    }
    if (distinct == 0)
        distinct = 1;
    long rss0 = peak_rss_kb();
    if (fk_store_activate(s) != 0) {
        fprintf(stderr, "%s\n", fk_error_last()->message);
        return 1;
    }
    long rss1 = peak_rss_kb();
    int64_t t0 = INT64_C(1800000000) * 1000000000;
    fk_flow f;
    memset(&f, 0, sizeof f);
    f.proto = 6;
    f.tcp_flags = 0x1b;
    f.present = FK_FLOW_HAS_EXPORTER;
    f.exporter = v4(0xc0000201);
    static fk_flow arr[1024];
    size_t held = 0;
    double c0 = cpu_now();
    for (uint64_t i = 0; i < nflows; i++) {
        f.src = v4(0x0a000000u + (uint32_t)(i % distinct));
        f.dst = v4(0xc0a80000u + (uint32_t)(i % 1000));
        f.src_port = (uint16_t)(1024 + i % 60000);
        f.dst_port = (uint16_t)(i % 7 == 0 ? 53 : 443);
        f.bytes = 100 + i % 1400;
        f.packets = 1 + i % 10;
        f.end_ns = t0 + (int64_t)i * 1000000;
        f.start_ns = f.end_ns - 1000000000;
        if (!batch) {
            fk_store_add_flow(s, &f);
            continue;
        }
        arr[held++] = f;
        if (held == batch || i + 1 == nflows) {
            fk_store_add_flows(s, arr, held);
            held = 0;
        }
    }
    double cpu = cpu_now() - c0;
    fk_store_stats st;
    fk_store_get_stats(s, &st, sizeof st);
    printf("store_add flows=%" PRIu64 " distinct=%" PRIu64 " batch=%" PRIu64
           " cpu_s=%.3f flows_per_cpu_s=%.0f "
           "memory_bytes=%" PRIu64 " rss_before_kb=%ld rss_activated_kb=%ld rss_after_kb=%ld "
           "ips=%" PRIu64 " ips_evicted=%" PRIu64 " topk_evictions=%" PRIu64
           " flows_evicted=%" PRIu64 "\n",
           nflows, distinct, batch, cpu, cpu > 0 ? (double)nflows / cpu : 0.0, st.memory_bytes,
           rss0, rss1, peak_rss_kb(), st.ips, st.ips_evicted, st.topk_evictions, st.flows_evicted);
    fk_store_destroy(s);
    return 0;
}
