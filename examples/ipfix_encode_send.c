/* ipfix_encode_send: build IPFIX messages with the sans-I/O encoder and send
 * them over UDP yourself (or append them to a file).
 *
 *   ipfix_encode_send [-n FLOWS] [-p PORT] [-w FILE]
 *
 *   -n FLOWS  number of synthetic flows (default 100)
 *   -p PORT   send each message to 127.0.0.1:PORT over UDP (default 4739)
 *   -w FILE   also write the messages to FILE, back to back (an IPFIX file
 *             that ipfix_decode_file reads)
 *
 * The encoder writes into our buffer and never touches a socket: we decide
 * where the bytes go. (fk_exporter does the transport part for you: template
 * refresh, TCP reconnects, buffering; see exporter.h.) */
/* POSIX.1-2008 for getopt, clock_gettime, sigaction-family calls. */
#define _POSIX_C_SOURCE 200809L
#include <flowkit/flowkit.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define TEMPLATE_ID 256
#define DOMAIN 1

static int fail(const char *what)
{
    const fk_error *e = fk_error_last();
    fprintf(stderr, "ipfix_encode_send: %s: %s (%s)\n", what, e->message, fk_status_name(e->code));
    return 1;
}

/* A flow template with the common elements, looked up by name so the
 * program reads like the registry. */
static int add_template(fk_ipfix_encoder *enc)
{
    static const struct {
        const char *name;
        uint16_t length;
    } spec[] = {
        {"sourceIPv4Address", 4},        {"destinationIPv4Address", 4}, {"sourceTransportPort", 2},
        {"destinationTransportPort", 2}, {"protocolIdentifier", 1},     {"octetDeltaCount", 8},
        {"packetDeltaCount", 8},         {"flowStartMilliseconds", 8},  {"flowEndMilliseconds", 8},
    };
    fk_field_spec fields[sizeof spec / sizeof spec[0]];
    for (size_t i = 0; i < sizeof spec / sizeof spec[0]; i++) {
        const fk_ie *ie;
        if (fk_ie_lookup_name(NULL, spec[i].name, &ie) < 0)
            return -1;
        fields[i] = (fk_field_spec){.pen = ie->pen, .id = ie->id, .length = spec[i].length};
    }
    return fk_ipfix_encoder_add_template(enc, TEMPLATE_ID, fields,
                                         (uint16_t)(sizeof fields / sizeof fields[0]), 0);
}

/* Flow number i: 10.0.0.1 -> 192.0.2.x, a few KB, one second long. */
static void make_flow(fk_flow *f, int i, int64_t now_ns)
{
    memset(f, 0, sizeof *f);
    fk_addr_parse("10.0.0.1", &f->src);
    char dst[32];
    snprintf(dst, sizeof dst, "192.0.2.%d", 1 + i % 254);
    fk_addr_parse(dst, &f->dst);
    f->src_port = (uint16_t)(40000 + i % 20000);
    f->dst_port = 443;
    f->proto = 6;
    f->bytes = 1000 + (uint64_t)i * 10;
    f->packets = 2 + (uint64_t)i % 50;
    f->start_ns = now_ns - 1000000000;
    f->end_ns = now_ns;
}

struct out {
    int sock;
    struct sockaddr_in to;
    FILE *file;
    int messages;
};

static int emit(struct out *o, const uint8_t *msg, size_t len)
{
    if (sendto(o->sock, msg, len, 0, (const struct sockaddr *)&o->to, sizeof o->to) < 0)
        perror("ipfix_encode_send: sendto"); /* no listener is fine for UDP */
    if (o->file && fwrite(msg, 1, len, o->file) != len) {
        perror("ipfix_encode_send: write");
        return -1;
    }
    o->messages++;
    return 0;
}

int main(int argc, char **argv)
{
    int nflows = 100, port = 4739;
    const char *path = NULL;
    int opt;
    while ((opt = getopt(argc, argv, "n:p:w:")) != -1) {
        if (opt == 'n')
            nflows = atoi(optarg);
        else if (opt == 'p')
            port = atoi(optarg);
        else if (opt == 'w')
            path = optarg;
        else {
            fprintf(stderr, "usage: ipfix_encode_send [-n FLOWS] [-p PORT] [-w FILE]\n");
            return 2;
        }
    }

    struct out o = {.sock = socket(AF_INET, SOCK_DGRAM, 0)};
    o.to.sin_family = AF_INET;
    o.to.sin_port = htons((uint16_t)port);
    o.to.sin_addr.s_addr = htonl(INADDR_LOOPBACK); /* 127.0.0.1 only */
    if (o.sock < 0 || (path && !(o.file = fopen(path, "wb")))) {
        perror("ipfix_encode_send");
        return 1;
    }

    fk_ipfix_encoder *enc;
    if (fk_ipfix_encoder_create(&enc, NULL) < 0)
        return fail("create");
    if (fk_ipfix_encoder_set_int(enc, FK_IPFIX_ENC_MTU, 1400) < 0 || add_template(enc) < 0)
        return fail("template");

    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t now_ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
    uint8_t buf[1400];
    size_t len;
    int rc = 0;

    /* Every message starts with the template (UDP: the collector may have
     * missed earlier ones), then as many flows as fit. */
    for (int i = 0; i < nflows && rc == 0;) {
        if (fk_ipfix_encoder_begin(enc, DOMAIN, (uint32_t)ts.tv_sec, buf, sizeof buf) < 0 ||
            fk_ipfix_encoder_write_template(enc, TEMPLATE_ID) < 0)
            return fail("begin");
        int in_msg = 0;
        for (; i < nflows; i++, in_msg++) {
            fk_flow f;
            make_flow(&f, i, now_ns);
            int r = fk_ipfix_encoder_add_flow(enc, TEMPLATE_ID, &f);
            if (r == FK_ENOSPACE && in_msg > 0)
                break; /* message full: send it and start the next one */
            if (r < 0)
                return fail("add_flow");
        }
        if (fk_ipfix_encoder_finish(enc, &len) < 0)
            return fail("finish");
        rc = emit(&o, buf, len);
    }
    printf("sent %d flows in %d messages to 127.0.0.1:%d, next sequence %u\n", nflows, o.messages,
           port, fk_ipfix_encoder_get_sequence(enc, DOMAIN));

    fk_ipfix_encoder_destroy(enc);
    close(o.sock);
    if (o.file && fclose(o.file) != 0)
        rc = -1;
    return rc == 0 ? 0 : 1;
}
