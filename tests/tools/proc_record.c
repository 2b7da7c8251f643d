/* Records raw sock_diag replies and /proc/net text for the unit tests
 * (tests/data/proc/). Run inside a private network namespace holding only
 * the sockets of tests/tools/proc_record.py:
 *   proc_record OUTDIR LPORT RPORT UDPLPORT UDPRPORT
 * where (127.0.0.1:LPORT, 127.0.0.1:RPORT) is an established TCP pair and
 * (127.0.0.1:UDPLPORT, 127.0.0.1:UDPRPORT) a UDP peer pair. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proc/sock.h"

static void tap(void *ctx, const uint8_t *msg, size_t len)
{
    fwrite(msg, 1, len, (FILE *)ctx);
}

static int print_sock(void *ctx, const fk__sock *s)
{
    (void)ctx;
    char l[FK_ADDR_STRLEN], r[FK_ADDR_STRLEN];
    fk_addr_format(&s->local, l, sizeof l);
    fk_addr_format(&s->remote, r, sizeof r);
    printf("  proto %u state %u %s:%u -> %s:%u uid %u inode %llu\n", s->proto, s->state, l,
           s->lport, r, s->rport, s->uid, (unsigned long long)s->inode);
    return 0;
}

static void copy_file(const char *from, const char *to)
{
    FILE *in = fopen(from, "r"), *out = fopen(to, "w");
    char buf[4096];
    size_t n;
    while (in && out && (n = fread(buf, 1, sizeof buf, in)) > 0)
        fwrite(buf, 1, n, out);
    if (in)
        fclose(in);
    if (out)
        fclose(out);
}

int main(int argc, char **argv)
{
    if (argc != 6)
        return 2;
    const char *dir = argv[1];
    uint16_t lp = (uint16_t)atoi(argv[2]), rp = (uint16_t)atoi(argv[3]);
    uint16_t ulp = (uint16_t)atoi(argv[4]), urp = (uint16_t)atoi(argv[5]);
    fk__sockdiag *d;
    if (fk__sockdiag_open(&d) < 0)
        return 1;
    static const struct {
        const char *name;
        int family, proto;
    } dumps[] = {{"tcp4", 4, 6}, {"tcp6", 6, 6}, {"udp4", 4, 17}, {"udp6", 6, 17}};
    char path[512];
    for (size_t i = 0; i < 4; i++) {
        snprintf(path, sizeof path, "%s/dump_%s.bin", dir, dumps[i].name);
        FILE *f = fopen(path, "wb");
        fk__sockdiag_set_tap(d, tap, f);
        printf("%s:\n", dumps[i].name);
        if (fk__sockdiag_dump(d, dumps[i].family, dumps[i].proto, print_sock, NULL) < 0)
            return 1;
        fclose(f);
    }
    fk_addr lo;
    fk_addr_parse("127.0.0.1", &lo);
    struct {
        const char *name;
        int proto;
        uint16_t l, r;
    } q[] = {{"exact_tcp4", 6, lp, rp}, {"exact_udp4", 17, ulp, urp}, {"exact_none", 6, 1, 2}};
    for (size_t i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/%s.bin", dir, q[i].name);
        FILE *f = fopen(path, "wb");
        fk__sockdiag_set_tap(d, tap, f);
        fk__sock s;
        int rc = fk__sockdiag_query(d, q[i].proto, &lo, q[i].l, &lo, q[i].r, &s);
        printf("%s: %d\n", q[i].name, rc);
        if (rc == 1)
            print_sock(NULL, &s);
        fclose(f);
    }
    fk__sockdiag_close(d);
    static const char *nets[] = {"tcp", "tcp6", "udp", "udp6"};
    for (size_t i = 0; i < 4; i++) {
        char from[64];
        snprintf(from, sizeof from, "/proc/net/%s", nets[i]);
        snprintf(path, sizeof path, "%s/procnet_%s.txt", dir, nets[i]);
        copy_file(from, path);
    }
    return 0;
}
