/* Paced UDP sender for the live capture benchmark (run inside a netns).
 *
 *   bench_veth_send DST_IPV4 PORT RATE_PPS SECONDS PAYLOAD
 *
 * Sends RATE_PPS datagrams per second (batches of 32 with sendmmsg, paced
 * on CLOCK_MONOTONIC) for SECONDS, then prints "sent=N seconds=S pps=R".
 * Bounded: at most RATE_PPS * SECONDS datagrams, and never longer than
 * SECONDS + 1 s. Only meant for addresses of a test's own veth. */
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

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    if (argc != 6) {
        fprintf(stderr, "usage: bench_veth_send DST_IPV4 PORT RATE_PPS SECONDS PAYLOAD\n");
        return 2;
    }
    struct sockaddr_in dst = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[2]))};
    if (inet_pton(AF_INET, argv[1], &dst.sin_addr) != 1)
        return 2;
    double rate = atof(argv[3]), secs = atof(argv[4]);
    size_t payload = (size_t)atoi(argv[5]);
    if (rate <= 0 || secs <= 0 || payload > 1400)
        return 2;
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&dst, sizeof dst) < 0) {
        perror("socket");
        return 1;
    }
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
    }
    unsigned long long total = (unsigned long long)(rate * secs), sent = 0;
    double t0 = now_s();
    while (sent < total) {
        double due = t0 + (double)sent / rate;
        double t = now_s();
        if (t > t0 + secs + 1.0)
            break;
        if (t < due) {
            struct timespec ts = {0, (long)((due - t) * 1e9)};
            nanosleep(&ts, NULL);
        }
        unsigned n = total - sent < BATCH ? (unsigned)(total - sent) : BATCH;
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
