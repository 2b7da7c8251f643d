/* Paced UDP sender for the live capture benchmark (run inside a netns).
 *
 *   bench_veth_send DST_IPV4 PORT RATE_PPS SECONDS PAYLOAD [FLOWS]
 *
 * Sends RATE_PPS datagrams per second (batches of 32 with sendmmsg, paced
 * on CLOCK_MONOTONIC) for SECONDS, then prints "sent=N seconds=S pps=R".
 * RATE_PPS "max": unpaced, as fast as sendmmsg goes, for SECONDS (and at
 * most MAX_UNPACED datagrams).
 * With FLOWS > 1 (at most 65535 - PORT + 1) the datagrams go round-robin to
 * the destination ports PORT .. PORT + FLOWS - 1: FLOWS flows at once, each
 * packet of a flow FLOWS packets after its previous one.
 * Bounded: at most RATE_PPS * SECONDS datagrams, and never longer than
 * SECONDS + 1 s (max: SECONDS). Only meant for addresses of a test's own veth. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 32
#define MAX_UNPACED 100000000ULL /* RATE_PPS max: the bound in count */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    if (argc != 6 && argc != 7) {
        fprintf(stderr, "usage: bench_veth_send DST_IPV4 PORT RATE_PPS SECONDS PAYLOAD [FLOWS]\n");
        return 2;
    }
    long port = atol(argv[2]), flows = argc == 7 ? atol(argv[6]) : 1;
    struct sockaddr_in dst = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, argv[1], &dst.sin_addr) != 1)
        return 2;
    int unpaced = strcmp(argv[3], "max") == 0;
    double rate = unpaced ? 1.0 : atof(argv[3]), secs = atof(argv[4]);
    size_t payload = (size_t)atoi(argv[5]);
    if (rate <= 0 || secs <= 0 || payload > 1400 || port < 1 || port > 65535 || flows < 1 ||
        port + flows - 1 > 65535)
        return 2;
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0 || (flows == 1 && connect(fd, (struct sockaddr *)&dst, sizeof dst) < 0)) {
        perror("socket");
        return 1;
    }
    /* one address per message of a batch; the ports move on each batch */
    struct sockaddr_in to[BATCH];
    long next_port = 0;
    static char buf[1400];
    memset(buf, 'b', sizeof buf);
    struct mmsghdr msgs[BATCH];
    struct iovec iov[BATCH];
    memset(msgs, 0, sizeof msgs);
    for (int i = 0; i < BATCH; i++) {
        iov[i].iov_base = buf;
        iov[i].iov_len = payload;
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
        if (flows > 1) {
            to[i] = dst;
            msgs[i].msg_hdr.msg_name = &to[i];
            msgs[i].msg_hdr.msg_namelen = sizeof to[i];
        }
    }
    unsigned long long total = unpaced ? MAX_UNPACED : (unsigned long long)(rate * secs), sent = 0;
    double t0 = now_s();
    while (sent < total) {
        double due = t0 + (double)sent / rate;
        double t = now_s();
        if (t > t0 + secs + (unpaced ? 0.0 : 1.0))
            break;
        if (!unpaced && t < due) {
            struct timespec ts = {0, (long)((due - t) * 1e9)};
            nanosleep(&ts, NULL);
        }
        unsigned n = total - sent < BATCH ? (unsigned)(total - sent) : BATCH;
        if (flows > 1)
            for (unsigned i = 0; i < n; i++) {
                to[i].sin_port = htons((uint16_t)(port + next_port));
                next_port = next_port + 1 == flows ? 0 : next_port + 1;
            }
        int r = sendmmsg(fd, msgs, n, 0);
        if (r > 0)
            sent += (unsigned)r;
    }
    double el = now_s() - t0;
    struct timespec cpu = {0, 0};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu);
    printf("sent=%llu seconds=%.3f pps=%.0f cpu_ns=%lld\n", sent, el, (double)sent / el,
           (long long)cpu.tv_sec * 1000000000LL + cpu.tv_nsec);
    close(fd);
    return 0;
}
