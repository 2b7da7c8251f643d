/* bench_collect_send: send a recorded-style IPFIX export stream over UDP to
 * 127.0.0.1:PORT as fast as possible (or paced), bounded in count.
 *
 *   bench_collect_send PORT RECORDS [PPS]
 *
 * Messages are built once with the library's IPFIX encoder (MTU 1400, one
 * IPv4 template of 9 fields, 30 records per message, template refreshed in
 * every 64th message) and replayed with increasing sequence numbers, like an
 * exporter under load. Prints "sent_records=N messages=M seconds=S". */
#include <arpa/inet.h>
#include <flowkit/flowkit.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PER_MSG 30
#define VARIANTS 64

static const fk_field_spec fields[] = {
    {0, 8, 4, 0}, {0, 12, 4, 0}, {0, 7, 2, 0},   {0, 11, 2, 0},  {0, 4, 1, 0},
    {0, 1, 8, 0}, {0, 2, 8, 0},  {0, 152, 8, 0}, {0, 153, 8, 0},
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s PORT RECORDS [PPS]\n", argv[0]);
        return 2;
    }
    int port = atoi(argv[1]);
    long records = atol(argv[2]);
    double pps = argc > 3 ? atof(argv[3]) : 0;
    fk_ipfix_encoder *e;
    if (fk_ipfix_encoder_create(&e, NULL) || fk_ipfix_encoder_add_template(e, 256, fields, 9, 0))
        return 1;
    /* Pre-build VARIANTS data messages (template in variant 0). */
    static uint8_t msgs[VARIANTS][1500];
    size_t lens[VARIANTS];
    for (int v = 0; v < VARIANTS; v++) {
        if (fk_ipfix_encoder_begin(e, msgs[v], sizeof msgs[v], 1, 1795435200u + (uint32_t)v))
            return 1;
        if (v == 0 && fk_ipfix_encoder_write_template(e, 256))
            return 1;
        for (int i = 0; i < PER_MSG - (v == 0); i++) {
            fk_flow f;
            memset(&f, 0, sizeof f);
            f.src.family = f.dst.family = 4;
            uint32_t s = htonl(0x0a000000u + (uint32_t)(v * PER_MSG + i));
            uint32_t d = htonl(0xc0a80000u + (uint32_t)i);
            memcpy(f.src.bytes, &s, 4);
            memcpy(f.dst.bytes, &d, 4);
            f.src_port = (uint16_t)(1024 + i);
            f.dst_port = 443;
            f.proto = 6;
            f.bytes = 1000u + (uint64_t)i;
            f.packets = 3;
            f.start_ns = 1795435200000000000LL + (int64_t)i * 1000000;
            f.end_ns = f.start_ns + 500000000;
            if (fk_ipfix_encoder_add_flow(e, 256, &f))
                return 1;
        }
        if (fk_ipfix_encoder_finish(e, &lens[v]))
            return 1;
    }
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    int sndbuf = 4 << 20;
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
    struct sockaddr_in to;
    memset(&to, 0, sizeof to);
    to.sin_family = AF_INET;
    to.sin_port = htons((uint16_t)port);
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&to, sizeof to) != 0) {
        perror("connect");
        return 1;
    }
    long sent = 0, messages = 0;
    uint32_t seq = 0;
    double t0 = now_s();
    while (sent < records) {
        int v = (int)(messages % VARIANTS);
        uint8_t *m = msgs[v];
        /* Sequence number = data records sent before this message. */
        m[8] = (uint8_t)(seq >> 24);
        m[9] = (uint8_t)(seq >> 16);
        m[10] = (uint8_t)(seq >> 8);
        m[11] = (uint8_t)seq;
        int n = PER_MSG - (v == 0);
        if (send(fd, m, lens[v], 0) < 0)
            continue; /* ENOBUFS: retry */
        seq += (uint32_t)n;
        sent += n;
        messages++;
        if (pps > 0) {
            double due = t0 + (double)messages / pps;
            double now = now_s();
            if (due > now)
                usleep((useconds_t)((due - now) * 1e6));
        }
    }
    double t = now_s() - t0;
    printf("sent_records=%ld messages=%ld seconds=%.3f\n", sent, messages, t);
    fk_ipfix_encoder_destroy(e);
    close(fd);
    return 0;
}
