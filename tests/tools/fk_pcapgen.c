/* fk_pcapgen: write a test pcap with a seeded traffic mix and its exact
 * ground truth as JSON lines. See fk_pcapgen_lib.h for the rules.
 *
 *   fk_pcapgen [options] OUT.pcap TRUTH.jsonl
 *     --seed N        PRNG seed (default 1)
 *     --flows N       flows (default 200)
 *     --packets N     target packets in total (default 5000)
 *     --link NAME     en10mb | sll | sll2 | null | loop | raw | ipv4 (default en10mb)
 *     --idle SECS     consumer idle timeout used for end reasons (default 15)
 *     --span SECS     flow starts spread over SECS (default 30)
 *     --snaplen N     captured bytes per frame (default 65535)
 *     --usec          microsecond pcap (default: nanosecond)
 *     --v6 PCT        percent of IPv6 flows (default 30)
 *     --vlan PCT      percent of VLAN-tagged flows (default 20)
 *     --arp PERMILLE  extra ARP frames per 1000 packets (default 5)
 *     --summary-only  truth has only the summary line (benchmark files)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fk_pcapgen_lib.h"

static int usage(void)
{
    fprintf(stderr,
            "usage: fk_pcapgen [--seed N] [--flows N] [--packets N] [--link en10mb|sll|sll2|null|"
            "loop|raw|ipv4]\n"
            "                  [--idle S] [--span S] [--snaplen N] [--usec] [--v6 PCT] [--vlan "
            "PCT]\n"
            "                  [--arp PERMILLE] [--summary-only] OUT.pcap TRUTH.jsonl\n");
    return 2;
}

static int parse_link(const char *s)
{
    static const struct {
        const char *name;
        int link;
    } links[] = {{"en10mb", PB_LINK_EN10MB}, {"sll", PB_LINK_SLL},   {"sll2", PB_LINK_SLL2},
                 {"null", PB_LINK_NULL},     {"loop", PB_LINK_LOOP}, {"raw", PB_LINK_RAW},
                 {"ipv4", PB_LINK_IPV4}};
    for (size_t i = 0; i < sizeof links / sizeof links[0]; i++)
        if (strcmp(s, links[i].name) == 0)
            return links[i].link;
    return -1;
}

int main(int argc, char **argv)
{
    gen_opts o;
    gen_opts_default(&o);
    int i = 1;
    for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--usec") == 0) {
            o.usec = 1;
            continue;
        }
        if (strcmp(a, "--summary-only") == 0) {
            o.write_truth_flows = 0;
            continue;
        }
        if (!v)
            return usage();
        i++;
        if (strcmp(a, "--seed") == 0)
            o.seed = strtoull(v, NULL, 0);
        else if (strcmp(a, "--flows") == 0)
            o.flows = (uint32_t)strtoul(v, NULL, 0);
        else if (strcmp(a, "--packets") == 0)
            o.packets = strtoull(v, NULL, 0);
        else if (strcmp(a, "--link") == 0) {
            o.link = parse_link(v);
            if (o.link < 0)
                return usage();
        } else if (strcmp(a, "--idle") == 0)
            o.idle_s = atof(v);
        else if (strcmp(a, "--span") == 0)
            o.span_s = atof(v);
        else if (strcmp(a, "--snaplen") == 0)
            o.snaplen = (uint32_t)strtoul(v, NULL, 0);
        else if (strcmp(a, "--v6") == 0)
            o.pct_v6 = atoi(v);
        else if (strcmp(a, "--vlan") == 0)
            o.pct_vlan = atoi(v);
        else if (strcmp(a, "--arp") == 0)
            o.pct_non_ip = atoi(v);
        else
            return usage();
    }
    if (argc - i != 2 || o.flows == 0 || o.snaplen < 16 || o.idle_s <= 0 || o.span_s < 0)
        return usage();
    FILE *pcap = fopen(argv[i], "wb");
    FILE *truth = fopen(argv[i + 1], "w");
    if (!pcap || !truth) {
        perror("fk_pcapgen: open");
        return 1;
    }
    static char pbuf[1 << 20];
    setvbuf(pcap, pbuf, _IOFBF, sizeof pbuf);
    int rc = gen_run(&o, pcap, truth);
    if (fclose(pcap) != 0 || fclose(truth) != 0)
        rc = -1;
    if (rc) {
        fprintf(stderr, "fk_pcapgen: write failed\n");
        return 1;
    }
    return 0;
}
