/* bench_collect_send: send a recorded-style IPFIX export stream over UDP to
 * 127.0.0.1:PORT as fast as possible (or paced), bounded in count, and
 * optionally watch the collector process that receives it.
 *
 *   bench_collect_send PORT RECORDS [PPS [PID]]
 *   bench_collect_send --cpu PID
 *
 * Messages are built once with the library's IPFIX encoder (MTU 1400, one
 * IPv4 template of 9 fields, 30 records per message, template refreshed in
 * every 64th message) and replayed with increasing sequence numbers, like an
 * exporter under load; the flows end when the sender starts. PPS = messages
 * per second (0 = as fast as possible). Prints "sent_records=N messages=M
 * seconds=S ... refused=R": R = sends that failed with ECONNREFUSED (an
 * ICMP port unreachable came back: a datagram went to a port nobody held,
 * lost without any collector counter; the message is sent again).
 *
 * With PID, after the last message the collector (PID, its threads and its
 * child processes) is watched every 2 ms until it has been idle (< 10% of
 * a core) for 300 ms (at most 60 s), and the line also carries
 * "busy_s=B cpu_s=C": B = from the first message sent to the end of the
 * collector's last busy interval (its wall-clock time to take in the
 * stream), C = the CPU time it used in that span (from
 * /proc/PID/task/TID/schedstat, nanoseconds).
 * --cpu PID prints the total CPU nanoseconds of PID and its children.
 *
 *   bench_collect_send --recv PORT
 *
 * The floor of any collector: receive on 127.0.0.1:PORT with recvmmsg (64
 * datagrams per call, 16 MiB buffer like the collectors), count the data
 * records of each IPFIX message by walking its sets (fixed 45-byte records
 * of the stream's template), nothing else; exits 1 s after the last
 * datagram (at most 120 s) and prints "records=N datagrams=D". Record
 * lengths come from the template sets received (fixed-length templates;
 * the synthetic stream's 45 bytes until one is seen).
 *
 *   bench_collect_send --dump PORT FILE
 *
 * Capture an exporter's datagrams: receive on 127.0.0.1:PORT (printed as
 * "port=P" first when PORT is 0) and append each datagram to FILE as a
 * 2-byte big-endian length and its bytes (tests/tools/udp_dgrams.py's
 * format) until 2 s of silence (at most 300 s).
 *
 *   bench_collect_send --replay FILE PORT RECORDS [PPS [PID]]
 *
 * Replay a captured IPFIX export (FILE as --dump writes it) in a loop,
 * instead of the synthetic stream, until RECORDS data records are sent:
 * each message's sequence number is rewritten to the data records sent
 * before it in its observation domain, so a collector sees one long
 * export without gaps. Records per message (and their packetDeltaCount
 * total, printed as "sent_packets=N") are counted once at load with the
 * library's decoder; options records are not counted. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <flowkit/flowkit.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
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

/* CPU ns of every thread of one process (0 once it is gone). */
static unsigned long long proc_cpu_ns(long pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%ld/task", pid);
    DIR *d = opendir(path);
    if (!d)
        return 0;
    unsigned long long total = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        char p[96];
        snprintf(p, sizeof p, "/proc/%ld/task/%s/schedstat", pid, e->d_name);
        FILE *f = fopen(p, "r");
        if (f) {
            unsigned long long ns = 0;
            if (fscanf(f, "%llu", &ns) == 1)
                total += ns;
            fclose(f);
        }
    }
    closedir(d);
    return total;
}

/* pid and its child processes (two levels: nfacctd's plugins), found once
 * by scanning /proc; returns how many were stored. */
#define MAX_PIDS 32
static int family(long pid, long *out, int n, int depth)
{
    if (n >= MAX_PIDS)
        return n;
    out[n++] = pid;
    if (depth == 0)
        return n;
    DIR *pd = opendir("/proc");
    struct dirent *e;
    while (pd && (e = readdir(pd)) != NULL) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        char p[96], buf[512];
        snprintf(p, sizeof p, "/proc/%s/stat", e->d_name);
        FILE *f = fopen(p, "r");
        if (!f)
            continue;
        size_t len = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[len] = '\0';
        const char *rp = strrchr(buf, ')');
        char state;
        long ppid;
        if (rp && sscanf(rp + 1, " %c %ld", &state, &ppid) == 2 && ppid == pid)
            n = family(atol(e->d_name), out, n, depth - 1);
    }
    if (pd)
        closedir(pd);
    return n;
}

static unsigned long long cpu_ns(const long *pids, int n)
{
    unsigned long long t = 0;
    for (int i = 0; i < n; i++)
        t += proc_cpu_ns(pids[i]);
    return t;
}

/* Record lengths of the fixed-length templates of a template set body
 * (0 for variable-length ones: their records are not counted). */
static void learn_lengths(const uint8_t *p, size_t len, uint16_t *reclen)
{
    size_t off = 0;
    while (off + 4 <= len) {
        uint16_t id = (uint16_t)(p[off] << 8 | p[off + 1]);
        uint16_t nf = (uint16_t)(p[off + 2] << 8 | p[off + 3]);
        off += 4;
        size_t total = 0;
        bool fixed = true;
        for (uint16_t i = 0; i < nf && off + 4 <= len; i++) {
            uint16_t eid = (uint16_t)(p[off] << 8 | p[off + 1]);
            uint16_t fl = (uint16_t)(p[off + 2] << 8 | p[off + 3]);
            off += (eid & 0x8000u) ? 8 : 4;
            if (fl == 65535)
                fixed = false;
            total += fl;
        }
        if (id >= 256)
            reclen[id] = fixed && total > 0 && total < 65536 ? (uint16_t)total : 0;
    }
}

static int bind_loopback(int port)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    int buf = 16 << 20;
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof buf) != 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        perror("bind");
        close(fd);
        return -1;
    }
    return fd;
}

/* --dump: datagrams to FILE, 2-byte length first, until 2 s of silence. */
static int dump(int port, const char *path)
{
    int fd = bind_loopback(port);
    if (fd < 0)
        return 1;
    struct sockaddr_in a;
    socklen_t al = sizeof a;
    getsockname(fd, (struct sockaddr *)&a, &al);
    printf("port=%d\n", ntohs(a.sin_port));
    fflush(stdout);
    FILE *f = fopen(path, "wb");
    if (!f) {
        perror(path);
        close(fd);
        return 1;
    }
    static uint8_t buf[65536];
    long n = 0;
    double start = now_s(), last = 0;
    for (;;) {
        struct pollfd pfd = {fd, POLLIN, 0};
        double now = now_s();
        if ((last > 0 && now - last > 2.0) || now - start > 300)
            break;
        if (poll(&pfd, 1, 100) <= 0)
            continue;
        ssize_t r = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
        if (r <= 0)
            continue;
        uint8_t h[2] = {(uint8_t)(r >> 8), (uint8_t)r};
        fwrite(h, 1, 2, f);
        fwrite(buf, 1, (size_t)r, f);
        n++;
        last = now_s();
    }
    fclose(f);
    close(fd);
    fprintf(stderr, "dumped %ld datagrams\n", n);
    return n > 0 ? 0 : 1;
}

static int recv_only(int port)
{
    int fd = bind_loopback(port);
    if (fd < 0)
        return 1;
    enum { B = 64, SZ = 2048 };
    static uint8_t bufs[B][SZ];
    struct mmsghdr m[B];
    struct iovec iov[B];
    long records = 0, datagrams = 0;
    static uint16_t reclen[65536];
    for (int i = 256; i < 65536; i++)
        reclen[i] = 45; /* the synthetic stream's, until a template says */
    double start = now_s(), last = 0;
    for (;;) {
        struct pollfd pfd = {fd, POLLIN, 0};
        int r = poll(&pfd, 1, 100);
        double now = now_s();
        if (r <= 0) {
            if ((last > 0 && now - last > 1.0) || now - start > 120)
                break;
            continue;
        }
        for (;;) {
            for (int i = 0; i < B; i++) {
                iov[i].iov_base = bufs[i];
                iov[i].iov_len = SZ;
                memset(&m[i].msg_hdr, 0, sizeof m[i].msg_hdr);
                m[i].msg_hdr.msg_iov = &iov[i];
                m[i].msg_hdr.msg_iovlen = 1;
            }
            int n = recvmmsg(fd, m, B, MSG_DONTWAIT, NULL);
            if (n <= 0)
                break;
            for (int i = 0; i < n; i++) {
                const uint8_t *p = bufs[i];
                size_t len = m[i].msg_len, off = 16;
                while (off + 4 <= len) {
                    size_t id = (size_t)(p[off] << 8 | p[off + 1]);
                    size_t sl = (size_t)(p[off + 2] << 8 | p[off + 3]);
                    if (sl < 4 || off + sl > len)
                        break;
                    if (id == 2)
                        learn_lengths(p + off + 4, sl - 4, reclen);
                    else if (id == 3 && sl >= 6) /* options records are not counted */
                        reclen[(size_t)(p[off + 4] << 8 | p[off + 5])] = 0;
                    else if (id >= 256 && reclen[id])
                        records += (long)((sl - 4) / reclen[id]);
                    off += sl;
                }
            }
            datagrams += n;
            if (n < B)
                break;
        }
        last = now_s();
    }
    printf("records=%ld datagrams=%ld\n", records, datagrams);
    close(fd);
    return 0;
}

static void sleep_until(double t)
{
    double left = t - now_s();
    if (left > 0) {
        struct timespec ts = {(time_t)left, (long)((left - (double)(time_t)left) * 1e9)};
        nanosleep(&ts, NULL);
    }
}

/* The stream to send: n messages, each with its data records and packets. */
typedef struct stream {
    uint8_t **msg;
    size_t *len;
    int *records;
    size_t n;
    long packets; /* packetDeltaCount over one pass */
} stream;

static int stream_add(stream *st, const uint8_t *m, size_t len, int records)
{
    if ((st->n & (st->n - 1)) == 0) { /* grow at powers of two */
        size_t cap = st->n ? st->n * 2 : 1;
        uint8_t **nm = realloc(st->msg, cap * sizeof *nm);
        size_t *nl = realloc(st->len, cap * sizeof *nl);
        int *nr = realloc(st->records, cap * sizeof *nr);
        if (nm)
            st->msg = nm;
        if (nl)
            st->len = nl;
        if (nr)
            st->records = nr;
        if (!nm || !nl || !nr)
            return -1;
    }
    st->msg[st->n] = malloc(len);
    if (!st->msg[st->n])
        return -1;
    memcpy(st->msg[st->n], m, len);
    st->len[st->n] = len;
    st->records[st->n] = records;
    st->n++;
    return 0;
}

/* The synthetic stream: VARIANTS messages of PER_MSG records. */
static int synthetic(stream *st)
{
    fk_ipfix_encoder *e;
    if (fk_ipfix_encoder_create(&e, NULL) || fk_ipfix_encoder_add_template(e, 256, fields, 9, 0))
        return -1;
    /* Flows that end now, as a live exporter's do: a collector with --http
     * counts them in its current top-K slots and series (flows days old
     * would only be counted as late there). */
    uint32_t now = (uint32_t)time(NULL);
    for (int v = 0; v < VARIANTS; v++) {
        uint8_t msg[1500];
        size_t len;
        if (fk_ipfix_encoder_begin(e, 1, now + 1, msg, sizeof msg))
            return -1;
        if (v == 0 && fk_ipfix_encoder_write_template(e, 256))
            return -1;
        int n = PER_MSG - (v == 0);
        for (int i = 0; i < n; i++) {
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
            f.start_ns = (int64_t)now * 1000000000 + (int64_t)i * 1000000;
            f.end_ns = f.start_ns + 500000000;
            if (fk_ipfix_encoder_add_flow(e, 256, &f))
                return -1;
        }
        if (fk_ipfix_encoder_finish(e, &len) || stream_add(st, msg, len, n))
            return -1;
        st->packets += 3L * n;
    }
    fk_ipfix_encoder_destroy(e);
    return 0;
}

/* A captured export (2-byte length + datagram, repeated): its IPFIX
 * messages, records counted with the library's decoder. */
static int replayed(stream *st, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return -1;
    }
    fk_ipfix_decoder *d;
    if (fk_ipfix_decoder_create(&d, NULL)) {
        fclose(f);
        return -1;
    }
    static uint8_t buf[65536];
    uint8_t h[2];
    int rc = 0;
    while (rc == 0 && fread(h, 1, 2, f) == 2) {
        size_t len = (size_t)(h[0] << 8 | h[1]);
        if (fread(buf, 1, len, f) != len)
            break;
        if (len < 16 || buf[0] != 0 || buf[1] != 10)
            continue; /* IPFIX only */
        int records = 0;
        if (fk_ipfix_decoder_begin(d, 1, buf, len, NULL) == 0) {
            fk_ipfix_item it;
            while (fk_ipfix_decoder_next(d, &it) == 1) {
                fk_flow fl;
                if (it.kind == FK_IPFIX_ITEM_RECORD && !it.record.is_options &&
                    fk_ipfix_record_to_flow(&it.record, &fl) == 0) {
                    records++;
                    st->packets += (long)fl.packets;
                }
            }
        }
        rc = stream_add(st, buf, len, records);
    }
    fk_ipfix_decoder_destroy(d);
    fclose(f);
    if (rc == 0 && st->n == 0) {
        fprintf(stderr, "%s: no IPFIX messages\n", path);
        return -1;
    }
    return rc;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--cpu") == 0) {
        long pids[MAX_PIDS];
        int n = family(atol(argv[2]), pids, 0, 2);
        printf("%llu\n", cpu_ns(pids, n));
        return 0;
    }
    if (argc == 3 && strcmp(argv[1], "--recv") == 0)
        return recv_only(atoi(argv[2]));
    if (argc == 4 && strcmp(argv[1], "--dump") == 0)
        return dump(atoi(argv[2]), argv[3]);
    const char *replay = NULL;
    if (argc > 2 && strcmp(argv[1], "--replay") == 0) {
        replay = argv[2];
        argv += 2;
        argc -= 2;
    }
    if (argc < 3) {
        fprintf(stderr,
                "usage: %s [--replay FILE] PORT RECORDS [PPS [PID]] | --cpu PID | --recv PORT | "
                "--dump PORT FILE\n",
                argv[0]);
        return 2;
    }
    int port = atoi(argv[1]);
    long records = atol(argv[2]);
    double pps = argc > 3 ? atof(argv[3]) : 0;
    long watch = argc > 4 ? atol(argv[4]) : 0;
    stream st;
    memset(&st, 0, sizeof st);
    if (replay ? replayed(&st, replay) : synthetic(&st))
        return 1;
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
    long pids[MAX_PIDS];
    int npids = watch ? family(watch, pids, 0, 2) : 0;
    unsigned long long cpu0 = cpu_ns(pids, npids);
    long sent = 0, messages = 0, packets = 0, refused = 0;
    /* Sequence numbers per observation domain (a few at most). */
    enum { DOMAINS = 16 };
    uint32_t dom_id[DOMAINS], dom_seq[DOMAINS];
    int ndom = 0;
    double t0 = now_s(), limit = t0 + 120;
    while (sent < records && now_s() < limit) {
        size_t v = (size_t)messages % st.n;
        uint8_t *m = st.msg[v];
        uint32_t odid =
            (uint32_t)m[12] << 24 | (uint32_t)m[13] << 16 | (uint32_t)m[14] << 8 | m[15];
        int k = 0;
        while (k < ndom && dom_id[k] != odid)
            k++;
        if (k == ndom && ndom < DOMAINS) {
            dom_id[ndom] = odid;
            dom_seq[ndom++] = 0;
        }
        uint32_t seq = k < DOMAINS ? dom_seq[k] : 0;
        /* Sequence number = data records sent before this message. */
        m[8] = (uint8_t)(seq >> 24);
        m[9] = (uint8_t)(seq >> 16);
        m[10] = (uint8_t)(seq >> 8);
        m[11] = (uint8_t)seq;
        int n = st.records[v];
        if (send(fd, m, st.len[v], 0) < 0) {
            refused += errno == ECONNREFUSED;
            continue; /* ENOBUFS, ECONNREFUSED: retry */
        }
        if (k < DOMAINS)
            dom_seq[k] += (uint32_t)n;
        sent += n;
        messages++;
        if (pps > 0 && messages % 16 == 0)
            sleep_until(t0 + (double)messages / pps);
    }
    /* Packets sent: whole passes plus the messages of the last one. */
    packets = (messages / (long)st.n) * st.packets;
    if (messages % (long)st.n) {
        long partial = 0; /* recount the partial pass's share by records */
        for (size_t i = 0; i < (size_t)(messages % (long)st.n); i++)
            partial += st.records[i];
        long pass = 0;
        for (size_t i = 0; i < st.n; i++)
            pass += st.records[i];
        packets += pass ? (long)((double)st.packets * (double)partial / (double)pass) : 0;
    }
    double t = now_s() - t0;
    printf("sent_records=%ld messages=%ld seconds=%.3f sent_packets=%ld refused=%ld", sent,
           messages, t, packets, refused);
    if (watch) {
        /* Busy = more than 10% of a core over a 2 ms step. */
        double last_busy = now_s(), deadline = last_busy + 60;
        unsigned long long prev = cpu_ns(pids, npids), busy_cpu = prev;
        for (;;) {
            double step_start = now_s();
            sleep_until(step_start + 0.002);
            unsigned long long cur = cpu_ns(pids, npids);
            double now = now_s();
            if ((double)(cur - prev) > 0.1 * (now - step_start) * 1e9) {
                last_busy = now;
                busy_cpu = cur;
            }
            prev = cur;
            if (now - last_busy > 0.3 || now > deadline)
                break;
        }
        printf(" busy_s=%.3f cpu_s=%.3f", last_busy - t0, (double)(busy_cpu - cpu0) / 1e9);
    }
    printf("\n");
    for (size_t i = 0; i < st.n; i++)
        free(st.msg[i]);
    free(st.msg);
    free(st.len);
    free(st.records);
    close(fd);
    return 0;
}
