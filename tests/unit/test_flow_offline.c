/* Offline end-to-end: fk_pcapgen writes a pcap + ground truth; the pcap is
 * read back with libpcap (pcap_open_offline), decoded and fed to the flow
 * table; every flow (per-direction bytes, packets, first/last times, flags,
 * end reason) and every session event must equal the truth exactly. */
#include <errno.h>
#include <inttypes.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../tools/fk_pcapgen_lib.h"
#include "fk_test.h"
#include "flow/flow_table.h"

typedef struct out_flow {
    char key[200];
    fk__flow_record r;
} out_flow;

typedef struct run {
    out_flow *flows;
    size_t nflows, capflows;
    fk_session_event *ev;
    size_t nev, capev;
    uint64_t status[FK__PKT_STATUS_COUNT];
    uint64_t frames;
} run;

static void flow_key_text(char *buf, size_t size, const fk_addr *s, const fk_addr *d, unsigned sp,
                          unsigned dp, unsigned proto, unsigned vlan)
{
    char a[FK_ADDR_STRLEN], b[FK_ADDR_STRLEN];
    fk_addr_format(s, a, sizeof a);
    fk_addr_format(d, b, sizeof b);
    snprintf(buf, size, "%s|%s|%u|%u|%u|%u", a, b, sp, dp, proto, vlan);
}

static void on_flow(void *ctx, const fk__flow_record *r)
{
    run *x = ctx;
    if (x->nflows == x->capflows) {
        x->capflows = x->capflows ? 2 * x->capflows : 256;
        x->flows = realloc(x->flows, x->capflows * sizeof *x->flows);
        assert_non_null(x->flows);
    }
    out_flow *o = &x->flows[x->nflows++];
    o->r = *r;
    flow_key_text(o->key, sizeof o->key, &r->flow.src, &r->flow.dst, r->flow.src_port,
                  r->flow.dst_port, r->flow.proto, r->flow.vlan);
}

static void on_event(void *ctx, const fk_session_event *e)
{
    run *x = ctx;
    if (x->nev == x->capev) {
        x->capev = x->capev ? 2 * x->capev : 256;
        x->ev = realloc(x->ev, x->capev * sizeof *x->ev);
        assert_non_null(x->ev);
    }
    x->ev[x->nev++] = *e;
}

static int cmp_flow(const void *a, const void *b)
{
    return strcmp(((const out_flow *)a)->key, ((const out_flow *)b)->key);
}

static void check_flow(const out_flow *o, const char *line)
{
    const fk_flow *f = &o->r.flow;
#define EQ(val_, name_)                                                                            \
    do {                                                                                           \
        int64_t want_ = fk_test_json_int(line, name_);                                             \
        if ((int64_t)(val_) != want_)                                                              \
            fail_msg("flow %s: %s = %" PRId64 ", truth %" PRId64, o->key, name_, (int64_t)(val_),  \
                     want_);                                                                       \
    } while (0)
    EQ(f->bytes, "bytes");
    EQ(f->packets, "packets");
    EQ(f->rev_bytes, "rev_bytes");
    EQ(f->rev_packets, "rev_packets");
    EQ(f->start_ns, "start_ns");
    EQ(f->end_ns, "end_ns");
    EQ(o->r.fwd_first_ns, "fwd_first_ns");
    EQ(o->r.fwd_last_ns, "fwd_last_ns");
    EQ(o->r.rev_first_ns, "rev_first_ns");
    EQ(o->r.rev_last_ns, "rev_last_ns");
    EQ(f->tcp_flags, "tcp_flags");
    EQ(f->rev_tcp_flags, "rev_tcp_flags");
    EQ(f->end_reason, "end_reason");
#undef EQ
}

static void check_event(const fk_session_event *e, const char *line, size_t idx)
{
    char kind[16], a[64], b[64], src[FK_ADDR_STRLEN], dst[FK_ADDR_STRLEN];
    fk_test_json_str(line, "event", kind, sizeof kind);
    fk_test_json_str(line, "src_addr", a, sizeof a);
    fk_test_json_str(line, "dst_addr", b, sizeof b);
    fk_addr_format(&e->src, src, sizeof src);
    fk_addr_format(&e->dst, dst, sizeof dst);
    if (strcmp(kind, fk_session_kind_name(e->kind)) ||
        fk_test_json_int(line, "time_ns") != e->time_ns || strcmp(a, src) || strcmp(b, dst) ||
        fk_test_json_int(line, "src_port") != e->src_port ||
        fk_test_json_int(line, "dst_port") != e->dst_port ||
        fk_test_json_int(line, "proto") != e->proto || fk_test_json_int(line, "vlan") != e->vlan)
        fail_msg("event %zu differs: got %s %" PRId64 " %s:%u > %s:%u vlan %u; truth %s", idx,
                 fk_session_kind_name(e->kind), e->time_ns, src, e->src_port, dst, e->dst_port,
                 e->vlan, line);
}

static void run_case(const gen_opts *go, unsigned decode_flags, int use_batch)
{
    char dir[] = "/tmp/fk_offline_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char pcap_path[64], truth_path[64];
    snprintf(pcap_path, sizeof pcap_path, "%s/t.pcap", dir);
    snprintf(truth_path, sizeof truth_path, "%s/t.jsonl", dir);
    FILE *pf = fopen(pcap_path, "wb");
    FILE *tf = fopen(truth_path, "w");
    assert_non_null(pf);
    assert_non_null(tf);
    assert_int_equal(gen_run(go, pf, tf), 0);
    assert_int_equal(fclose(pf), 0);
    assert_int_equal(fclose(tf), 0);

    /* read the pcap back through libpcap */
    char err[PCAP_ERRBUF_SIZE];
    pcap_t *pc =
        pcap_open_offline_with_tstamp_precision(pcap_path, PCAP_TSTAMP_PRECISION_NANO, err);
    if (!pc)
        fail_msg("pcap_open_offline: %s", err);
    int link = pcap_datalink(pc);
    assert_int_equal(link, go->link == PB_LINK_RAW ? FK__LINK_RAW_DLT : go->link);

    static run x;
    memset(&x, 0, sizeof x);
    fk__flow_config cfg;
    fk__flow_config_default(&cfg);
    cfg.max_flows = go->flows + 16;
    cfg.idle_timeout_ns = (int64_t)(go->idle_s * 1e9);
    cfg.active_timeout_ns = 0;
    fk__flow_sink sink = {on_flow, on_event, &x};
    fk__flow_table *t;
    assert_int_equal(fk__flow_table_create(&t, &cfg, &sink), 0);
    struct pcap_pkthdr *h;
    const u_char *data;
    int rc;
    fk__packet batch[16];
    size_t nb = 0;
    int64_t last_ts = 0;
    while ((rc = pcap_next_ex(pc, &h, &data)) == 1) {
        int64_t ts = (int64_t)h->ts.tv_sec * 1000000000LL + h->ts.tv_usec; /* ns precision */
        fk__packet p;
        int st = fk__packet_decode(&p, data, h->caplen, h->len, link, ts, decode_flags);
        assert_true(st >= 0 && st < FK__PKT_STATUS_COUNT);
        x.status[st]++;
        x.frames++;
        last_ts = ts;
        if (!use_batch) {
            if (st == FK__PKT_OK)
                assert_int_equal(fk__flow_table_add(t, &p), 0);
            fk__flow_table_expire(t, ts);
            continue;
        }
        /* batches of up to 16 decoded packets, expiry after each batch */
        if (st == FK__PKT_OK)
            batch[nb++] = p;
        if (nb == 16 || (nb > 0 && ((ts / 1000) & 1))) {
            assert_int_equal(fk__flow_table_add_batch(t, batch, nb), nb);
            nb = 0;
            fk__flow_table_expire(t, ts);
        }
    }
    if (nb)
        assert_int_equal(fk__flow_table_add_batch(t, batch, nb), nb);
    fk__flow_table_expire(t, last_ts);
    assert_int_equal(rc, PCAP_ERROR_BREAK);
    pcap_close(pc);
    fk__flow_table_flush(t);
    fk__flow_stats st;
    fk__flow_table_stats(t, &st);
    fk__flow_table_destroy(t);

    /* compare with the truth */
    FILE *in = fopen(truth_path, "r");
    assert_non_null(in);
    char line[2048];
    size_t nev = 0, nflow = 0, reasons[6] = {0};
    int saw_summary = 0;
    qsort(x.flows, x.nflows, sizeof *x.flows, cmp_flow);
    while (fgets(line, sizeof line, in)) {
        char type[16];
        fk_test_json_str(line, "type", type, sizeof type);
        if (strcmp(type, "event") == 0) {
            if (nev >= x.nev)
                fail_msg("missing event %zu: %s", nev, line);
            check_event(&x.ev[nev], line, nev);
            nev++;
        } else if (strcmp(type, "flow") == 0) {
            char a[64], b[64];
            fk_test_json_str(line, "src_addr", a, sizeof a);
            fk_test_json_str(line, "dst_addr", b, sizeof b);
            out_flow key;
            snprintf(key.key, sizeof key.key, "%s|%s|%u|%u|%u|%u", a, b,
                     (unsigned)fk_test_json_int(line, "src_port"),
                     (unsigned)fk_test_json_int(line, "dst_port"),
                     (unsigned)fk_test_json_int(line, "proto"),
                     (unsigned)fk_test_json_int(line, "vlan"));
            out_flow *o = bsearch(&key, x.flows, x.nflows, sizeof *x.flows, cmp_flow);
            if (!o)
                fail_msg("no record for truth flow %s", key.key);
            check_flow(o, line);
            reasons[fk_test_json_int(line, "end_reason") % 6]++;
            nflow++;
        } else {
            assert_string_equal(type, "summary");
            saw_summary = 1;
            assert_int_equal(fk_test_json_int(line, "packets"), x.frames);
            assert_int_equal(fk_test_json_int(line, "ip_packets"), x.status[FK__PKT_OK]);
            assert_int_equal(fk_test_json_int(line, "non_ip"), x.status[FK__PKT_NOT_IP]);
            assert_int_equal(fk_test_json_int(line, "events"), x.nev);
            assert_int_equal(fk_test_json_int(line, "flows"), x.nflows);
            assert_int_equal(fk_test_json_int(line, "bytes"), st.bytes);
        }
    }
    fclose(in);
    assert_true(saw_summary);
    assert_int_equal(nev, x.nev);
    assert_int_equal(nflow, x.nflows); /* one record per flow, no extra ones */
    assert_int_equal(x.status[FK__PKT_TRUNCATED] + x.status[FK__PKT_MALFORMED], 0);
    assert_int_equal(st.created, nflow);
    assert_int_equal(st.evicted, 0);
    /* the mix really exercised the end reasons (idle, detected, forced) */
    assert_true(reasons[1] > 0 && reasons[3] > 0 && reasons[4] > 0);
    assert_true(st.frag_hits > 0);
    free(x.flows);
    free(x.ev);
    unlink(pcap_path);
    unlink(truth_path);
    rmdir(dir);
}

static void ethernet_nsec(void **state)
{
    (void)state;
    gen_opts o;
    gen_opts_default(&o);
    o.seed = 7;
    o.flows = 400;
    o.packets = 8000;
    run_case(&o, 0, 0);
    run_case(&o, 0, 1); /* batched adds give the same result */
    o.seed = 8;         /* the tunnel option changes nothing without tunnels */
    run_case(&o, FK__DECODE_TUNNELS, 0);
}

static void sll2_usec_snaplen(void **state)
{
    (void)state;
    gen_opts o;
    gen_opts_default(&o);
    o.seed = 11;
    o.link = PB_LINK_SLL2;
    o.usec = 1;
    o.snaplen = 96; /* every header still fits; bytes come from the IP header */
    o.pct_vlan = 50;
    run_case(&o, 0, 1);
}

static void other_links(void **state)
{
    (void)state;
    static const int links[] = {PB_LINK_SLL, PB_LINK_NULL, PB_LINK_LOOP, PB_LINK_RAW, PB_LINK_IPV4};
    for (size_t i = 0; i < sizeof links / sizeof links[0]; i++) {
        gen_opts o;
        gen_opts_default(&o);
        o.seed = 100 + i;
        o.link = links[i];
        o.pct_v6 = links[i] == PB_LINK_IPV4 ? 0 : 50;
        o.idle_s = 5;
        run_case(&o, 0, (int)(i & 1));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ethernet_nsec),
        cmocka_unit_test(sll2_usec_snaplen),
        cmocka_unit_test(other_links),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
