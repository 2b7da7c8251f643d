/* Benchmark: fk_exporter alone — flows (IPv4/IPv6 biflows, some with
 * process fields) encoded into IPFIX messages and sent over UDP to a socket
 * on 127.0.0.1 that nobody reads (the kernel drops what overflows it, so
 * the figure is the exporter's cost, not a collector's).
 *
 *   bench_export [RECORDS]      (default 2000000)
 *
 * Prints one line: records=N messages=M cpu_s=C wall_s=W rps_cpu=N/C */
#include <arpa/inet.h>
#include <flowkit/flowkit.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 2000000;
    int sink = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof sa;
    if (sink < 0 || bind(sink, (struct sockaddr *)&sa, sizeof sa) != 0 ||
        getsockname(sink, (struct sockaddr *)&sa, &sl) != 0) {
        perror("sink");
        return 1;
    }
    char uri[64];
    snprintf(uri, sizeof uri, "udp://127.0.0.1:%u", ntohs(sa.sin_port));
    fk_exporter *x;
    if (fk_exporter_create(&x) || fk_exporter_add_destination(x, uri) || fk_exporter_activate(x)) {
        fprintf(stderr, "bench_export: %s\n", fk_error_last()->message);
        return 1;
    }
    fk_flow f[4];
    memset(f, 0, sizeof f);
    for (int k = 0; k < 4; k++) {
        fk_addr_parse(k & 1 ? "fd00:213::1" : "10.213.0.1", &f[k].src);
        fk_addr_parse(k & 1 ? "fd00:213::2" : "10.213.0.2", &f[k].dst);
        f[k].proto = 6;
        f[k].present = FK_FLOW_HAS_END_REASON | FK_FLOW_HAS_REVERSE;
        f[k].end_reason = 3;
        if (k == 3) {
            f[k].present |= FK_FLOW_HAS_PROCESS;
            f[k].pid = 1234;
            strcpy(f[k].process, "nginx");
        }
    }
    double c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID), w0 = clock_s(CLOCK_MONOTONIC);
    for (long i = 0; i < n; i++) {
        fk_flow *p = &f[i & 3];
        p->src_port = (uint16_t)i;
        p->bytes = (uint64_t)i * 3;
        p->packets = (uint64_t)i;
        p->start_ns = INT64_C(1763900000000000000) + i;
        p->end_ns = p->start_ns + 1000000;
        if (fk_exporter_add_flow(x, p) != 0)
            return 1;
        if ((i & 1023) == 0)
            fk_exporter_dispatch(x);
    }
    fk_exporter_drain(x, 1000);
    double c1 = clock_s(CLOCK_PROCESS_CPUTIME_ID), w1 = clock_s(CLOCK_MONOTONIC);
    fk_exporter_stats st;
    fk_exporter_get_stats(x, &st, sizeof st);
    printf("records=%ld messages=%llu cpu_s=%.3f wall_s=%.3f rps_cpu=%.0f\n", n,
           (unsigned long long)st.messages_sent, c1 - c0, w1 - w0, (double)n / (c1 - c0));
    fk_exporter_destroy(x);
    close(sink);
    return st.records_sent == (uint64_t)n ? 0 : 1;
}
