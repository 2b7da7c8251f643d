/* flowkit-ipfix: what its files share. main.c decodes datagrams and
 * prints records; input.c reads pcap/pcapng and raw files into datagrams. */
#ifndef FLOWKIT_IPFIX_TOOL_H
#define FLOWKIT_IPFIX_TOOL_H

#include <flowkit/flowkit.h>
#include <stdbool.h>
#include <stdint.h>

#include "fkcli.h"
#include "query.h"

#define TOOL "flowkit-ipfix"

/* SIGINT/SIGTERM (through cli/common): stop after the current datagram. */
#define stop_requested (fkcli_stop_signal() != 0)

/* IPFIX template scope: one transport session per (exporter address, port). */
typedef struct exporter_key {
    fk_addr addr;
    uint16_t port;
} exporter_key;

typedef struct tool {
    fk_collector *col; /* flow records: the collector's session layer */
    fk_netflow *nf;
    fk_ipfix_decoder *ipx;
    exporter_key *sessions;
    size_t nsessions;
    long port; /* -1: any destination port */
    bool quiet, verbose, flows_only, fields;
    uint32_t pen; /* flowkit-export's process and event elements; 0 = ignore */
    fk_addr raw_exporter;
    uint16_t raw_port;
    const char *file;  /* current file, for messages */
    uint64_t frame_no; /* current frame in the file */
    uint64_t datagrams, skipped, write_errors;
    /* IPFIX counters (NetFlow's are in fk_netflow_stats) */
    uint64_t ipfix_messages, ipfix_flows, ipfix_options, ipfix_templates, ipfix_malformed,
        ipfix_no_template, json_too_long;
    query *q;        /* filter, statistics (query.c) */
    bool query_only; /* a filter / query is set: flows only, through q */
    char json[65536];
} tool;

/* One export datagram from src:sport (main.c). */
void tool_datagram(tool *t, const fk_addr *src, uint16_t sport, const uint8_t *p, size_t len);
/* Every datagram of a pcap/pcapng file, or of a raw file of IPFIX messages
 * (or one NetFlow datagram), through tool_datagram(); 0, or 1 with the
 * reason on stderr (input.c). */
int tool_read_file(tool *t, const char *path);

#endif
