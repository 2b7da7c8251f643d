/* flowkit-ipfix: print every record of NetFlow v1/v5/v7/v9 (and IPFIX)
 * export datagrams as JSON lines. Input: pcap/pcapng files of UDP datagrams,
 * or raw files of concatenated IPFIX messages (or one NetFlow datagram).
 * All files of one run form one session: templates learned from the first
 * file decode the data of the next.
 *
 * Flow records come from the collector's session layer (fk_collector_feed):
 * the same decoder path as flowkit-collect, with data kept until its
 * template arrives, templates scoped per exporter session and observation
 * domain, exporter restarts and options data (sampling, interface names).
 * A file and a socket give the same records. The typed-access decoders
 * (fk_ipfix_decoder, fk_netflow) only give the views by element name:
 * options records, --fields and the messages of -v. Public API only. */
#include <errno.h>
#include <flowkit/flowkit.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fastq.h"
#include "fkcli.h"
#include "fktags.h"
#include "query.h"
#include "tool.h"
#include "walk.h"

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: " TOOL " [options] FILE|DIR...\n"
            "Print every record of NetFlow v1/v5/v7/v9 and IPFIX export datagrams as JSON lines.\n"
            "\n"
            "FILE is a pcap/pcapng capture of UDP export datagrams, or a raw file of\n"
            "concatenated IPFIX messages (or one NetFlow datagram); a DIR is read file by\n"
            "file in name order, subdirectories included. Rotated files\n"
            "(PATH.YYYYMMDDTHHMMSSZ[.N], as flowkit-collect rotates them) are read in\n"
            "time order and the live PATH after them, in a DIR as on the command line.\n"
            "All files of one run form one session: templates from an earlier file\n"
            "decode data in a later one.\n"
            "Templates are kept per (exporter address:port, observation domain / source id).\n"
            "\n"
            "Options:\n"
            "  -p, --port PORT        only UDP datagrams to this destination port\n"
            "  -e, --exporter ADDR    exporter address for raw files (default 0.0.0.0)\n"
            "      --flows-only       print flow records only (no options records)\n"
            "      --fields           IPFIX and v9: print every record with all its fields\n"
            "                         by IANA name ({\"type\":\"record\",...}) instead of flows\n"
            "      --pen N            IPFIX: read flowkit-export's process and session\n"
            "                         event elements under enterprise number N (default\n"
            "                         32473; 0 = ignore them): events print as\n"
            "                         {\"type\":\"event\",...}, processes as pid, process,\n"
            "                         uid, exe, metadataTags as \"tags\"; IANA userName\n"
            "                         always as user\n"
            "  -f, --filter EXPR      print only the flows that match EXPR, a filter in\n"
            "                         nfdump's syntax (see flowkit-ipfix(1)), e.g.\n"
            "                         'proto tcp and dst port in [80 443]'; options\n"
            "                         records are then not printed\n"
            "  -t, --window START[-END]\n"
            "                         only flows that start and end inside this window,\n"
            "                         YYYY/MM/dd.hh:mm:ss (UTC; trailing parts may be left out)\n"
            "  -s, --stat STAT[/ORDER]\n"
            "                         top-N statistic instead of records (repeatable): STAT\n"
            "                         srcip, dstip, ip, srcport, dstport, port, proto or\n"
            "                         record; ORDER flows (default), packets or bytes\n"
            "  -A, --aggregate KEYS   aggregate flows on KEYS, a comma list of srcip, dstip,\n"
            "                         srcport, dstport, proto (e.g. -A srcip,dstport)\n"
            "  -O, --order ORDER      order of -A output: tstart (default), tend, flows,\n"
            "                         packets, bytes\n"
            "  -n, --limit N          lines per statistic (default 10) or aggregated\n"
            "                         records (default all); 0 = all\n"
            "  -o, --output text|json|csv\n"
            "                         output of -s and -A (default text: tables; json:\n"
            "                         {\"type\":\"stat\"|\"aggregate\"|\"summary\",...}; csv:\n"
            "                         a header row, then rows); with neither, text prints\n"
            "                         one line per flow, csv the columns of flowkit-collect's\n"
            "                         csv: (start ... tcp_flags, and tags)\n"
            "  -q, --quiet            print no records, only the counters\n"
            "  -v, --verbose          report each malformed datagram on stderr, and\n"
            "                         whether a query took the fast path\n");
    fprintf(f, "      --no-fast-path     answer -s / -A through the collector's session layer\n"
               "                         even where the query fast path could (it reads raw\n"
               "                         IPFIX files straight and gives the same answer)\n"
               "  -h, --help             show this help and exit\n"
               "  -V, --version          show the version and exit\n"
               "\n"
               "Output: one JSON object per line on stdout: {\"type\":\"flow\",...} per the\n"
               "flowkit JSON lines contract, {\"type\":\"options\",...} for options data\n"
               "(IPFIX options records carry every field by IANA name). An IPFIX flow or\n"
               "event record that carries observationDomainId / exporterIPv4Address /\n"
               "exporterIPv6Address (flowkit-collect's ipfix: files, mediators) shows those\n"
               "as odid and exporter instead of the message header's and the sender's.\n"
               "Flow records come from the collector's session layer, as in flowkit-collect:\n"
               "data sets before their template are kept and decoded when it arrives.\n"
               "Counters (datagrams, flows, malformed, no template, ...) go to stderr at the end.\n"
               "Exit status: 0 success, 1 runtime failure (unreadable file), 2 bad usage.\n");
}

static void emit(tool *t, const char *line)
{
    if (fputs(line, stdout) == EOF || fputc('\n', stdout) == EOF)
        t->write_errors++;
}

static void emit_ipfix_json(tool *t, const char *type, const fk_addr *src,
                            const fk_ipfix_record *rec);

/* A flow record from the collector's session layer. */
static void on_flow(const fk_flow *f, void *user)
{
    tool *t = user;
    if (t->quiet || t->fields)
        return;
    if (t->query_only && !query_flow(t->q, f))
        return;
    int n = fk_flow_to_json(f, t->json, sizeof t->json);
    if (n >= 0 && f->tags) { /* flowkit-export's metadataTags */
        char buf[FK_EXPORTER_TAGS_MAX + 1];
        fk_tag tags[FK_TAG_MAX];
        size_t count = fkcli_tags_split(f->tags, buf, sizeof buf, tags);
        n = fkcli_tags_json(tags, count, t->json, (size_t)n, sizeof t->json);
    }
    if (n >= 0)
        emit(t, t->json);
}

/* The NetFlow view: options records, and every record with --fields. */
static int on_record(const fk_netflow_record *rec, void *user)
{
    tool *t = user;
    if (t->quiet)
        return 0;
    if (t->query_only) {
        /* a filter: flows only, each through the query once (the view's
         * record with --fields, else the collector's) */
        if (rec->kind != FK_NETFLOW_RECORD_FLOW || !t->fields || !query_flow(t->q, rec->flow))
            return 0;
    }
    if (t->fields && rec->ipfix) {
        if (rec->kind == FK_NETFLOW_RECORD_FLOW || !t->flows_only)
            emit_ipfix_json(t, rec->kind == FK_NETFLOW_RECORD_FLOW ? "record" : "options",
                            rec->exporter, rec->ipfix);
        return 0;
    }
    if (rec->kind == FK_NETFLOW_RECORD_FLOW || t->flows_only)
        return 0;
    char buf[FK_NETFLOW_OPTIONS_JSON_MAX];
    if (fk_netflow_options_to_json(rec, buf, sizeof buf) >= 0)
        emit(t, buf);
    return 0;
}

/* Session id of an exporter (1-based), or 0 when out of memory. */
static uint64_t session_id(tool *t, const fk_addr *src, uint16_t sport)
{
    for (size_t i = 0; i < t->nsessions; i++)
        if (t->sessions[i].port == sport && t->sessions[i].addr.family == src->family &&
            memcmp(t->sessions[i].addr.bytes, src->bytes, sizeof src->bytes) == 0)
            return i + 1;
    exporter_key *n = realloc(t->sessions, (t->nsessions + 1) * sizeof *n);
    if (!n)
        return 0;
    t->sessions = n;
    t->sessions[t->nsessions] = (exporter_key){*src, sport};
    return ++t->nsessions;
}

/* Print `{"type":TYPE,"exporter":...,"version":10,` + the record's own JSON. */
static void emit_ipfix_json(tool *t, const char *type, const fk_addr *src,
                            const fk_ipfix_record *rec)
{
    char addr[FK_ADDR_STRLEN] = "";
    fk_addr_format(src, addr, sizeof addr);
    int n =
        snprintf(t->json, sizeof t->json, "{\"type\":\"%s\",\"exporter\":\"%s\",\"version\":%u,",
                 type, addr, rec->version);
    if (n < 0 || (size_t)n >= sizeof t->json)
        return;
    size_t off = (size_t)n - 1; /* overwrite the record object's own '{' */
    char save = t->json[off];
    int m = fk_ipfix_record_to_json(rec, t->json + off, sizeof t->json - off);
    if (m < 0) {
        t->json_too_long++;
        return;
    }
    t->json[off] = save;
    if (t->json[off + 1] == '}') /* a record without fields: drop the comma */
        memmove(t->json + off, t->json + off + 1, strlen(t->json + off + 1) + 1);
    emit(t, t->json);
}

static void ipfix_record(tool *t, const fk_addr *src, uint64_t sess, const fk_ipfix_record *rec)
{
    if (rec->is_options) {
        t->ipfix_options++;
        /* systemInitTimeMilliseconds in options data anchors sysUpTime times. */
        fk_ipfix_value v;
        if (fk_ipfix_record_find_field(rec, 0, 160, &v) == 0 && v.i > 0)
            fk_ipfix_decoder_set_sys_init(t->ipx, sess, rec->domain, v.i);
        if (!t->quiet && !t->flows_only && !t->query_only)
            emit_ipfix_json(t, "options", src, rec);
        return;
    }
    t->ipfix_flows++;
    if (t->quiet || !t->fields)
        return;
    /* --fields with a filter: the view's flow goes through the query (the
     * collector's copy of the record does not). */
    fk_flow f;
    if (t->query_only && (fk_ipfix_record_to_flow(rec, &f) < 0 || !query_flow(t->q, &f)))
        return;
    emit_ipfix_json(t, "record", src, rec);
}

static void ipfix_datagram(tool *t, const fk_addr *src, uint16_t sport, const uint8_t *p,
                           size_t len)
{
    uint64_t sess = session_id(t, src, sport);
    if (!sess) {
        fprintf(stderr, TOOL ": out of memory\n");
        return;
    }
    /* A datagram (or the rest of a raw file) may hold several messages. */
    while (len > 0) {
        t->ipfix_messages++;
        fk_ipfix_header hdr;
        int rc = fk_ipfix_decoder_begin(t->ipx, sess, p, len, &hdr);
        if (rc < 0) {
            t->ipfix_malformed++;
            if (t->verbose)
                fprintf(stderr, TOOL ": %s: frame %" PRIu64 ": %s\n", t->file, t->frame_no,
                        fk_error_last()->message);
            return;
        }
        fk_ipfix_item it;
        while ((rc = fk_ipfix_decoder_next(t->ipx, &it)) == 1) {
            if (it.kind == FK_IPFIX_ITEM_RECORD)
                ipfix_record(t, src, sess, &it.record);
            else if (it.kind == FK_IPFIX_ITEM_TEMPLATE)
                t->ipfix_templates++;
            else if (it.kind == FK_IPFIX_ITEM_NO_TEMPLATE)
                t->ipfix_no_template++;
        }
        if (rc < 0) {
            t->ipfix_malformed++;
            if (t->verbose)
                fprintf(stderr, TOOL ": %s: frame %" PRIu64 ": %s\n", t->file, t->frame_no,
                        fk_error_last()->message);
        }
        p += hdr.length;
        len -= hdr.length;
    }
}

/* A query without --fields needs only the collector's flows: the IPFIX view
 * (options records, --fields, its counters) would decode every record a
 * second time and compile every template twice. It only counts messages. */
static bool ipfix_view_off(const tool *t)
{
    return t->query_only && !t->fields;
}

static void count_ipfix_messages(tool *t, const uint8_t *p, size_t len)
{
    while (len >= 4) {
        size_t mlen = (size_t)p[2] << 8 | p[3];
        t->ipfix_messages++;
        if (mlen < 16 || mlen > len)
            break;
        p += mlen;
        len -= mlen;
    }
}

void tool_datagram(tool *t, const fk_addr *src, uint16_t sport, const uint8_t *p, size_t len)
{
    t->datagrams++;
    fk_collector_feed(t->col, src, sport, p, len);
    if (len >= 2 && p[0] == 0 && p[1] == 10) {
        if (ipfix_view_off(t))
            count_ipfix_messages(t, p, len);
        else
            ipfix_datagram(t, src, sport, p, len);
        return;
    }
    int rc = fk_netflow_decode(t->nf, src, sport, p, len, on_record, t);
    if (rc && t->verbose)
        fprintf(stderr, TOOL ": %s: frame %" PRIu64 ": %s\n", t->file, t->frame_no,
                fk_error_last()->message);
}

static int read_one(const char *path, void *user)
{
    return tool_read_file(user, path);
}

static int stopped(void *user)
{
    (void)user;
    return stop_requested;
}

/* Flows, malformed messages, sets without template and sequence loss are
 * the collector's counts; templates, options and unsupported versions the
 * views' (in a query without --fields, the collector's: templates then
 * counts options templates too). no_template = data sets that never met
 * their template. */
static void print_counters(const tool *t, const fastq_counts *fc)
{
    if (fc) { /* the fast path: what the collector's path counts for the same input */
        fprintf(stderr,
                TOOL ": datagrams=%" PRIu64 " flows=%" PRIu64 " options=%" PRIu64
                     " templates=%" PRIu64 " options_templates=0 malformed=0 no_template=0"
                     " unsupported=0 sequence_lost=%" PRIu64 " skipped_frames=0"
                     " ipfix_messages=%" PRIu64 " decoded_after_template=0\n",
                fc->messages, fc->flows, fc->options, fc->templates, fc->sequence_lost,
                fc->messages);
        return;
    }
    fk_netflow_stats st;
    memset(&st, 0, sizeof st);
    fk_netflow_get_stats(t->nf, &st, sizeof st);
    fk_collector_stats cs;
    memset(&cs, 0, sizeof cs);
    fk_collector_get_stats(t->col, &cs, sizeof cs);
    uint64_t options = st.options_records + t->ipfix_options;
    uint64_t templates = st.templates + t->ipfix_templates;
    if (ipfix_view_off(t)) {
        options = cs.options_records;
        templates = cs.templates;
    }
    fprintf(stderr,
            TOOL ": datagrams=%" PRIu64 " flows=%" PRIu64 " options=%" PRIu64 " templates=%" PRIu64
                 " options_templates=%" PRIu64 " malformed=%" PRIu64 " no_template=%" PRIu64
                 " unsupported=%" PRIu64 " sequence_lost=%" PRIu64 " skipped_frames=%" PRIu64
                 " ipfix_messages=%" PRIu64 " decoded_after_template=%" PRIu64 "\n",
            t->datagrams, cs.records, options, templates, st.options_templates, cs.malformed,
            cs.pending_sets - cs.pending_decoded + cs.pending_overflow, cs.unsupported,
            cs.sequence_lost, t->skipped, t->ipfix_messages, cs.pending_records);
    if (t->json_too_long)
        fprintf(stderr, TOOL ": %" PRIu64 " records too long to print as JSON\n", t->json_too_long);
}

/* The collector that decodes the flows: no sockets, everything in this
 * thread, templates and sessions kept for the whole run (the files' times
 * are not the clock's), data kept for its template without limits a file
 * could reach. */
static int collector_new(tool *t)
{
    fk_collector *c;
    if (fk_collector_create(&c) < 0)
        return -1;
    t->col = c;
    if (fk_collector_set_int(c, FK_COL_WORKERS, 0) < 0 ||
        fk_collector_set_int(c, FK_COL_TEMPLATE_TIMEOUT, 0) < 0 ||
        fk_collector_set_int(c, FK_COL_SESSION_TIMEOUT, 0) < 0 ||
        fk_collector_set_int(c, FK_COL_EXPORT_TOLERANCE, 0) < 0 ||
        fk_collector_set_int(c, FK_COL_PENDING_AGE, 86400) < 0 ||
        fk_collector_set_int(c, FK_COL_PENDING_BYTES, 1 << 28) < 0 ||
        fk_collector_set_int(c, FK_COL_PENDING_TOTAL, 1LL << 34) < 0 ||
        fk_collector_set_int(c, FK_COL_PEN, t->pen) < 0 ||
        fk_collector_set_callback(c, on_flow, t) < 0 || fk_collector_activate(c) < 0)
        return -1;
    return 0;
}

int main(int argc, char **argv)
{
    fkcli_init(argv[0]);
    static tool t; /* big: holds the JSON line buffer */
    t.port = -1;
    t.raw_exporter.family = 4;
    t.pen = FK_EXPORTER_DEFAULT_PEN;
    static const struct option opts[] = {
        {"port", required_argument, NULL, 'p'},      {"exporter", required_argument, NULL, 'e'},
        {"flows-only", no_argument, NULL, 'F'},      {"fields", no_argument, NULL, 'R'},
        {"pen", required_argument, NULL, 'N'},       {"quiet", no_argument, NULL, 'q'},
        {"verbose", no_argument, NULL, 'v'},         {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},         {"filter", required_argument, NULL, 'f'},
        {"window", required_argument, NULL, 't'},    {"stat", required_argument, NULL, 's'},
        {"aggregate", required_argument, NULL, 'A'}, {"order", required_argument, NULL, 'O'},
        {"limit", required_argument, NULL, 'n'},     {"output", required_argument, NULL, 'o'},
        {"no-fast-path", no_argument, NULL, 'G'},    {NULL, 0, NULL, 0}};
    int c;
    bool no_fast = false;
    opterr = 0;
    t.q = query_create();
    if (!t.q) {
        fprintf(stderr, TOOL ": out of memory\n");
        return 1;
    }
    while ((c = getopt_long(argc, argv, ":p:e:f:t:s:A:O:n:o:qvhV", opts, NULL)) != -1) {
        switch (c) {
        case 'p':
            t.port = (long)fkcli_parse_u64("--port", optarg, 0, 65535);
            break;
        case 'e':
            if (fk_addr_parse(optarg, &t.raw_exporter) < 0)
                fkcli_usage("--exporter: \"%s\" is not an IPv4 or IPv6 address", optarg);
            break;
        case 'F':
            t.flows_only = true;
            break;
        case 'R':
            t.fields = true;
            break;
        case 'G':
            no_fast = true;
            break;
        case 'N':
            t.pen = (uint32_t)fkcli_parse_u64("--pen", optarg, 0, UINT32_MAX);
            break;
        case 'f':
        case 't':
        case 's':
        case 'A':
        case 'O':
        case 'n':
        case 'o':
            if (query_option(t.q, c, optarg) < 0) {
                query_destroy(t.q);
                return 2;
            }
            break;
        case 'q':
            t.quiet = true;
            break;
        case 'v':
            t.verbose = true;
            break;
        case 'h':
            usage(stdout);
            return 0;
        case 'V':
            fkcli_print_version();
            return 0;
        case ':':
            fkcli_usage("option %s needs a value", argv[optind - 1]);
        default:
            if (optopt && optopt < 256)
                fkcli_usage("unknown option -%c", optopt);
            fkcli_usage("unknown option %s", argv[optind - 1]);
        }
    }
    t.query_only = query_active(t.q);
    if (optind >= argc)
        fkcli_usage("no input file");
    if (collector_new(&t) < 0 || fk_netflow_create(&t.nf) < 0 || fk_netflow_activate(t.nf) < 0 ||
        fk_ipfix_decoder_create(&t.ipx, NULL) < 0) {
        fprintf(stderr, TOOL ": %s\n", fk_error_last()->message);
        fk_netflow_destroy(t.nf);
        fk_collector_destroy(t.col);
        return 1;
    }
    if (fkcli_signals(NULL, NULL, NULL) != 0)
        fkcli_fail("cannot install signal handlers: %s", strerror(errno));
    /* A filter such as `| head` that closes the pipe ends the program, as
     * it ends cat: nothing more can be printed. */
    signal(SIGPIPE, SIG_DFL);

    int status = 0;
    walk_order_args(argv + optind, (size_t)(argc - optind));
    fastq_counts fc;
    bool fast = false;
    if (!no_fast && fastq_eligible(&t)) {
        const char *why = NULL;
        fast = fastq_run(&t, argv + optind, argc - optind, &fc, &why);
        if (!fast) /* the general path answers it all again */
            query_reset(t.q);
        if (t.verbose && !fast)
            fprintf(stderr, TOOL ": query fast path not taken: %s\n", why);
        if (t.verbose && fast)
            fprintf(stderr,
                    TOOL ": query fast path taken; the filter ran on the raw records of %" PRIu64
                         " templates, on the flows of %" PRIu64 "%s%s\n",
                    fc.filter_raw, fc.filter_flow, fc.why_flow ? ": " : "",
                    fc.why_flow ? fc.why_flow : "");
    }
    for (int i = optind; !fast && i < argc && !stop_requested; i++)
        if (walk_path(argv[i], read_one, stopped, &t))
            status = 1;
    if (query_finish(t.q, stdout) < 0)
        t.write_errors++;
    if (fflush(stdout) == EOF || t.write_errors) {
        fprintf(stderr, TOOL ": error writing the output: %s\n", strerror(errno));
        status = 1;
    }
    print_counters(&t, fast ? &fc : NULL);
    fk_netflow_destroy(t.nf);
    fk_ipfix_decoder_destroy(t.ipx);
    fk_collector_destroy(t.col);
    free(t.sessions);
    query_destroy(t.q);
    return status;
}
