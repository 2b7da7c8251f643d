/* Drives the attribution engine from a script: each stdin line
 *     tcp|udp LOCAL_ADDR LOCAL_PORT REMOTE_ADDR REMOTE_PORT
 * is accounted as one 100-byte packet sent by the local end, and the owner
 * is printed as "PID NAME" (0 when unknown). Options: --procnet (use the
 * /proc/net fallback instead of sock_diag), --proc-root DIR. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <flowkit/flowkit.h>

#include "proc/attrib.h"

int main(int argc, char **argv)
{
    if (getenv("FLOWKIT_TOP_DEBUG"))
        fk_log_set_level(FK_LOG_DEBUG);
    fk__attrib_config c;
    fk__attrib_config_default(&c);
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--procnet"))
            c.use_netlink = 0;
        else if (!strcmp(argv[i], "--proc-root") && i + 1 < argc)
            c.proc_root = argv[++i];
        else {
            fprintf(stderr, "usage: proc_probe [--procnet] [--proc-root DIR]\n");
            return 2;
        }
    }
    fk__attrib *a;
    if (fk__attrib_create(&a, &c) < 0) {
        fprintf(stderr, "proc_probe: %s\n", fk_error_last()->message);
        return 1;
    }
    char line[512];
    while (fgets(line, sizeof line, stdin)) {
        char proto[8], l[64], r[64];
        unsigned lp, rp;
        if (sscanf(line, "%7s %63s %u %63s %u", proto, l, &lp, r, &rp) != 5)
            continue;
        fk__attrib_pkt p;
        memset(&p, 0, sizeof p);
        if (fk_addr_parse(l, &p.src) < 0 || fk_addr_parse(r, &p.dst) < 0) {
            printf("0 bad-address\n");
            continue;
        }
        p.sport = (uint16_t)lp;
        p.dport = (uint16_t)rp;
        p.proto = strcmp(proto, "udp") == 0 ? 17 : 6;
        p.dir = FK__DIR_OUT;
        p.ip_len = 100;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        p.ts_ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
        uint32_t pid;
        char name[FK_PROCESS_NAME_MAX];
        fk__attrib_packet(a, &p, &pid, name);
        /* A socket the packet path could not map at once goes to the
         * engine's watcher, which fixes the connection up a moment later:
         * ask again for up to 2 s. */
        for (int i = 0; !pid && i < 100; i++) {
            struct timespec pause = {0, 20000000};
            nanosleep(&pause, NULL);
            pid = fk__attrib_owner(a, p.proto, &p.src, p.sport, &p.dst, p.dport, name);
        }
        printf("%u %s\n", pid, name[0] ? name : "-");
        fflush(stdout);
    }
    fk__attrib_stats st;
    fk__attrib_get_stats(a, &st);
    fprintf(stderr,
            "proc_probe: packets %llu hits %llu misses %llu queries %llu (hits %llu) "
            "index scans %llu fd scans %llu readlinks %llu handed over %llu fixed up %llu\n",
            (unsigned long long)st.packets, (unsigned long long)st.hits,
            (unsigned long long)st.misses, (unsigned long long)st.queries,
            (unsigned long long)st.query_hits, (unsigned long long)st.index_scans,
            (unsigned long long)st.fd_scans, (unsigned long long)st.readlinks,
            (unsigned long long)st.handed_over, (unsigned long long)st.fixed_up);
    fk__attrib_destroy(a);
    return 0;
}
