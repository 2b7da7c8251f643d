/* Offline end-to-end through the public capture handle: fk_pcapgen (in
 * process, tests/tools/fk_pcapgen_lib.h) writes a pcap and its ground truth;
 * fk_capture replays the pcap inline and with 3 workers; every flow record
 * (5-tuple + VLAN in first-packet direction, per-direction bytes, packets
 * and TCP flags, start, end, end reason), every session event and the
 * counters must equal the truth. */
#include <flowkit/flowkit.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../tools/fk_pcapgen_lib.h"
#include "fk_test.h"

/* One record as text, so truth and capture compare with strcmp. */
typedef struct rec {
    char text[320];
} rec;

typedef struct got {
    rec *flows, *events;
    size_t nflows, nevents, cap_flows, cap_events;
} got;

static void push(rec **v, size_t *n, size_t *cap, const char *text)
{
    if (*n == *cap) {
        *cap = *cap ? 2 * *cap : 512;
        *v = realloc(*v, *cap * sizeof **v);
        assert_non_null(*v);
    }
    snprintf((*v)[(*n)++].text, sizeof(rec), "%s", text);
}

static void flow_text(char *buf, size_t size, const fk_flow *f)
{
    char a[FK_ADDR_STRLEN], b[FK_ADDR_STRLEN];
    fk_addr_format(&f->src, a, sizeof a);
    fk_addr_format(&f->dst, b, sizeof b);
    snprintf(buf, size,
             "%s|%s|%u|%u|%u|%u|%" PRIu64 "|%" PRIu64 "|%" PRIu64 "|%" PRIu64 "|%" PRId64
             "|%" PRId64 "|%u|%u|%u",
             a, b, f->src_port, f->dst_port, f->proto, f->vlan, f->bytes, f->packets, f->rev_bytes,
             f->rev_packets, f->start_ns, f->end_ns, f->tcp_flags, f->rev_tcp_flags, f->end_reason);
}

static void event_text(char *buf, size_t size, const fk_session_event *e)
{
    char a[FK_ADDR_STRLEN], b[FK_ADDR_STRLEN];
    fk_addr_format(&e->src, a, sizeof a);
    fk_addr_format(&e->dst, b, sizeof b);
    snprintf(buf, size, "%" PRId64 "|%s|%s|%s|%u|%u|%u|%u", e->time_ns,
             fk_session_kind_name(e->kind), a, b, e->src_port, e->dst_port, e->proto, e->vlan);
}

static void on_event(const fk_capture_event *ev, void *user)
{
    got *g = user;
    char text[320];
    if (ev->type == FK_CAPTURE_EVENT_FLOW) {
        flow_text(text, sizeof text, ev->flow);
        push(&g->flows, &g->nflows, &g->cap_flows, text);
    } else if (ev->type == FK_CAPTURE_EVENT_SESSION) {
        event_text(text, sizeof text, ev->session);
        push(&g->events, &g->nevents, &g->cap_events, text);
    }
}

static int cmp_rec(const void *a, const void *b)
{
    return strcmp(((const rec *)a)->text, ((const rec *)b)->text);
}

typedef struct truth {
    got g;
    int64_t packets, non_ip, flows, events;
} truth;

static void read_truth(const char *path, truth *t)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char line[2048], a[64], b[64], text[320];
    memset(t, 0, sizeof *t);
    while (fgets(line, sizeof line, f)) {
        if (strstr(line, "\"type\":\"flow\"")) {
            fk_test_json_str(line, "src_addr", a, sizeof a);
            fk_test_json_str(line, "dst_addr", b, sizeof b);
            snprintf(text, sizeof text,
                     "%s|%s|%" PRId64 "|%" PRId64 "|%" PRId64 "|%" PRId64 "|%" PRId64 "|%" PRId64
                     "|%" PRId64 "|%" PRId64 "|%" PRId64 "|%" PRId64 "|%" PRId64 "|%" PRId64
                     "|%" PRId64,
                     a, b, fk_test_json_int(line, "src_port"), fk_test_json_int(line, "dst_port"),
                     fk_test_json_int(line, "proto"), fk_test_json_int(line, "vlan"),
                     fk_test_json_int(line, "bytes"), fk_test_json_int(line, "packets"),
                     fk_test_json_int(line, "rev_bytes"), fk_test_json_int(line, "rev_packets"),
                     fk_test_json_int(line, "start_ns"), fk_test_json_int(line, "end_ns"),
                     fk_test_json_int(line, "tcp_flags"), fk_test_json_int(line, "rev_tcp_flags"),
                     fk_test_json_int(line, "end_reason"));
            push(&t->g.flows, &t->g.nflows, &t->g.cap_flows, text);
        } else if (strstr(line, "\"type\":\"event\"")) {
            char kind[8];
            fk_test_json_str(line, "event", kind, sizeof kind);
            fk_test_json_str(line, "src_addr", a, sizeof a);
            fk_test_json_str(line, "dst_addr", b, sizeof b);
            snprintf(text, sizeof text,
                     "%" PRId64 "|%s|%s|%s|%" PRId64 "|%" PRId64 "|%" PRId64 "|%" PRId64,
                     fk_test_json_int(line, "time_ns"), kind, a, b,
                     fk_test_json_int(line, "src_port"), fk_test_json_int(line, "dst_port"),
                     fk_test_json_int(line, "proto"), fk_test_json_int(line, "vlan"));
            push(&t->g.events, &t->g.nevents, &t->g.cap_events, text);
        } else if (strstr(line, "\"type\":\"summary\"")) {
            t->packets = fk_test_json_int(line, "packets");
            t->non_ip = fk_test_json_int(line, "non_ip");
            t->flows = fk_test_json_int(line, "flows");
            t->events = fk_test_json_int(line, "events");
        }
    }
    fclose(f);
}

static void compare(const char *what, rec *want, size_t nwant, rec *have, size_t nhave)
{
    qsort(want, nwant, sizeof *want, cmp_rec);
    qsort(have, nhave, sizeof *have, cmp_rec);
    size_t n = nwant < nhave ? nwant : nhave;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(want[i].text, have[i].text) != 0)
            fail_msg("%s %zu differs:\n  truth   %s\n  capture %s", what, i, want[i].text,
                     have[i].text);
    }
    assert_int_equal(nwant, nhave);
}

static void run_case(const gen_opts *go)
{
    char dir[] = "/tmp/fk_capture_truth_XXXXXX";
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
    truth t;
    read_truth(truth_path, &t);
    assert_true(t.flows > 0 && t.events > 0);

    for (int workers = 0; workers <= 3; workers += 3) {
        got g = {0};
        fk_capture *h;
        assert_int_equal(fk_capture_create(&h), 0);
        assert_int_equal(fk_capture_add_file(h, pcap_path), 0);
        assert_int_equal(fk_capture_set_int(h, FK_CAP_WORKERS, workers), 0);
        assert_int_equal(fk_capture_set_int(h, FK_CAP_ACTIVE_TIMEOUT, 0), 0);
        assert_int_equal(fk_capture_set_int(h, FK_CAP_IDLE_TIMEOUT, (int64_t)go->idle_s), 0);
        assert_int_equal(fk_capture_set_callback(h, on_event, &g), 0);
        assert_int_equal(fk_capture_activate(h), 0);
        assert_int_equal(fk_capture_run(h), 0);
        fk_capture_stats st;
        assert_int_equal(fk_capture_get_stats(h, &st, sizeof st), 0);
        fk_capture_destroy(h);
        compare("flow", t.g.flows, t.g.nflows, g.flows, g.nflows);
        compare("event", t.g.events, t.g.nevents, g.events, g.nevents);
        assert_int_equal(st.packets, t.packets);
        assert_int_equal(st.non_ip, t.non_ip);
        assert_int_equal(st.decode_errors, 0);
        assert_int_equal(st.flows_emitted, t.flows);
        assert_int_equal(st.session_events, t.events);
        assert_int_equal(st.queue_drops + st.event_drops + st.flows_evicted, 0);
        free(g.flows);
        free(g.events);
    }
    free(t.g.flows);
    free(t.g.events);
    unlink(pcap_path);
    unlink(truth_path);
    rmdir(dir);
}

static void ethernet_vlan_nsec(void **state)
{
    (void)state;
    gen_opts o;
    gen_opts_default(&o);
    o.seed = 11;
    o.flows = 400;
    o.packets = 8000;
    run_case(&o);
}

static void linux_cooked_usec(void **state)
{
    (void)state;
    gen_opts o;
    gen_opts_default(&o);
    o.seed = 12;
    o.link = PB_LINK_SLL2;
    o.usec = 1;
    run_case(&o);
    o.seed = 13;
    o.link = PB_LINK_SLL;
    run_case(&o);
}

static void raw_and_loopback(void **state)
{
    (void)state;
    gen_opts o;
    gen_opts_default(&o);
    o.seed = 14;
    o.link = PB_LINK_RAW;
    run_case(&o);
    o.seed = 15;
    o.link = PB_LINK_NULL;
    run_case(&o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ethernet_vlan_nsec),
        cmocka_unit_test(linux_cooked_usec),
        cmocka_unit_test(raw_and_loopback),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
