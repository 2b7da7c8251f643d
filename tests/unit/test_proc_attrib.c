/* The attribution engine end to end without privileges: a fake proc root
 * (its net/tcp, net/udp, ... as the socket table, /proc/net fallback mode)
 * and packets fed by hand; checks per-process totals, unknown rows,
 * wildcard UDP, listener fallback, late resolution, rates, drill-down and
 * the JSON rendering. */
#include <flowkit/flowkit.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proc/attrib.h"
#include "fk_test.h"
#include "fake_proc.h"

static char root[256];

typedef struct fsock {
    const char *local, *remote;
    unsigned lport, rport, state;
    unsigned long long inode;
} fsock;

static void hexaddr(char *out, const char *text)
{
    fk_addr a;
    fk_addr_parse(text, &a);
    int words = a.family == 6 ? 4 : 1;
    out[0] = '\0';
    for (int w = 0; w < words; w++) {
        uint32_t v;
        memcpy(&v, a.bytes + 4 * w, 4);
        sprintf(out + strlen(out), "%08X", v);
    }
}

static void write_net(const char *name, const fsock *s, size_t n)
{
    char text[4096] = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when "
                      "retrnsmt   uid  timeout inode\n";
    for (size_t i = 0; i < n; i++) {
        char l[40], r[40];
        hexaddr(l, s[i].local);
        hexaddr(r, s[i].remote);
        sprintf(text + strlen(text),
                "%4zu: %s:%04X %s:%04X %02X 00000000:00000000 00:00000000 00000000     0        "
                "0 %llu 1 0000000000000000 20 0 0 10 -1\n",
                i, l, s[i].lport, r, s[i].rport, s[i].state, s[i].inode);
    }
    char rel[64];
    snprintf(rel, sizeof rel, "net/%s", name);
    fp_write(root, rel, text, strlen(text));
}

static const fsock tcp4[] = {
    {"10.213.0.1", "0.0.0.0", 80, 0, 0x0A, 1001},
    {"10.213.0.1", "10.213.0.2", 80, 5555, 0x01, 1002},
};
static const fsock udp4[] = {{"0.0.0.0", "0.0.0.0", 53, 0, 0x07, 2001}};
static const fsock tcp6[] = {{"fd00:213::1", "fd00:213::2", 443, 6000, 0x01, 3001}};

static int setup(void **state)
{
    (void)state;
    snprintf(root, sizeof root, "/tmp/fk_fakeattr_XXXXXX");
    if (!mkdtemp(root))
        return -1;
    char path[512];
    snprintf(path, sizeof path, "%s/net", root);
    mkdir(path, 0755);
    write_net("tcp", tcp4, 2);
    write_net("udp", udp4, 1);
    write_net("tcp6", tcp6, 1);
    write_net("udp6", NULL, 0);
    fp_proc(root, 100, "websrv", 0, "websrv\0--port\00080\0", 17);
    fp_sock(root, 100, 3, 1001);
    fp_sock(root, 100, 4, 1002);
    fp_proc(root, 200, "dnsd", 0, "dnsd", 4);
    fp_sock(root, 200, 3, 2001);
    fp_proc(root, 300, "tls6", 0, "tls6", 4);
    fp_sock(root, 300, 5, 3001);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    fp_rm_tree(root);
    return 0;
}

static fk__attrib *make_engine(void)
{
    fk__attrib_config c;
    fk__attrib_config_default(&c);
    c.proc_root = root;
    c.use_netlink = 0;
    c.history_seconds = 10;
    fk__attrib *a;
    assert_int_equal(fk__attrib_create(&a, &c), 0);
    fk_addr l;
    fk_addr_parse("10.213.0.1", &l);
    assert_int_equal(fk__attrib_add_local(a, &l), 0);
    fk_addr_parse("fd00:213::1", &l);
    assert_int_equal(fk__attrib_add_local(a, &l), 0);
    return a;
}

#define SEC 1000000000LL

static int pkt(fk__attrib *a, const char *src, unsigned sport, const char *dst, unsigned dport,
               int proto, unsigned len, int64_t ts, uint32_t *pid)
{
    fk__attrib_pkt p;
    memset(&p, 0, sizeof p);
    fk_addr_parse(src, &p.src);
    fk_addr_parse(dst, &p.dst);
    p.sport = (uint16_t)sport;
    p.dport = (uint16_t)dport;
    p.proto = (uint8_t)proto;
    p.ip_len = len;
    p.ts_ns = ts;
    char name[FK_PROCESS_NAME_MAX];
    return fk__attrib_packet(a, &p, pid, name);
}

static const fk_rank_row *row_of(const fk_rank_snapshot *s, uint32_t pid, uint8_t proto)
{
    for (size_t i = 0; i < s->count; i++)
        if (s->rows[i].pid == pid && (pid || s->rows[i].proto == proto))
            return &s->rows[i];
    return NULL;
}

static void attributes_each_kind(void **state)
{
    (void)state;
    fk__attrib *a = make_engine();
    int64_t t = 1000 * SEC;
    uint32_t pid;
    /* Established TCP, both directions. */
    for (int i = 0; i < 3; i++) {
        assert_int_equal(pkt(a, "10.213.0.1", 80, "10.213.0.2", 5555, 6, 1000, t, &pid), 0);
        assert_int_equal(pid, 100);
    }
    for (int i = 0; i < 2; i++)
        assert_int_equal(pkt(a, "10.213.0.2", 5555, "10.213.0.1", 80, 6, 60, t, &pid), 0);
    assert_int_equal(pid, 100);
    /* A SYN to the listener before the connection exists. */
    assert_int_equal(pkt(a, "10.213.0.2", 5556, "10.213.0.1", 80, 6, 60, t, &pid), 0);
    assert_int_equal(pid, 100);
    /* UDP to a wildcard-bound socket. */
    assert_int_equal(pkt(a, "10.213.0.2", 40000, "10.213.0.1", 53, 17, 100, t, &pid), 0);
    assert_int_equal(pid, 200);
    assert_int_equal(pkt(a, "10.213.0.1", 53, "10.213.0.2", 40000, 17, 300, t, &pid), 0);
    assert_int_equal(pid, 200);
    /* IPv6. */
    assert_int_equal(pkt(a, "fd00:213::2", 6000, "fd00:213::1", 443, 6, 1500, t, &pid), 0);
    assert_int_equal(pid, 300);
    /* Unknown TCP and UDP. */
    assert_int_equal(pkt(a, "10.213.0.1", 9999, "10.213.0.2", 1, 6, 500, t, &pid), 0);
    assert_int_equal(pid, 0);
    assert_int_equal(pkt(a, "10.213.0.1", 7777, "10.213.0.2", 7, 17, 50, t, &pid), 0);
    assert_int_equal(pid, 0);
    /* Not ours: no local end, or not TCP/UDP. */
    assert_int_equal(pkt(a, "10.213.0.5", 1, "10.213.0.6", 2, 6, 50, t, &pid), 1);
    assert_int_equal(pkt(a, "10.213.0.1", 0, "10.213.0.2", 0, 1, 84, t, &pid), 1);

    /* Owners for flow records and session events (either orientation). */
    char name[FK_PROCESS_NAME_MAX];
    fk_addr x, y;
    fk_addr_parse("10.213.0.2", &x);
    fk_addr_parse("10.213.0.1", &y);
    assert_int_equal(fk__attrib_owner(a, 6, &x, 5555, &y, 80, name), 100);
    assert_string_equal(name, "websrv");
    assert_int_equal(fk__attrib_owner(a, 6, &y, 80, &x, 5555, name), 100);
    assert_int_equal(fk__attrib_owner(a, 6, &y, 9999, &x, 1, name), 0); /* unknown */
    assert_int_equal(fk__attrib_owner(a, 1, &y, 0, &x, 0, name), 0);
    fk_flow f;
    memset(&f, 0, sizeof f);
    f.src = x;
    f.dst = y;
    f.src_port = 40000;
    f.dst_port = 53;
    f.proto = 17;
    fk__attrib_strs strs;
    memset(&strs, 'x', sizeof strs);
    fk__attrib_fill_flow(a, &f, &strs);
    assert_int_equal(f.pid, 200);
    assert_true(f.present & FK_FLOW_HAS_PROCESS);
    assert_string_equal(f.process, "dnsd");
    /* uid, user and exe: copies in the caller's storage, never the row's. */
    assert_true(f.present & FK_FLOW_HAS_UID);
    assert_int_equal(f.uid, 0);
    assert_ptr_equal(f.user, strs.user);
    assert_string_equal(f.user, "root");
    assert_ptr_equal(f.exe, strs.exe);
    assert_string_equal(f.exe, "/usr/bin/dnsd");
    /* A session event the same way (the other orientation). */
    fk_session_event e;
    memset(&e, 0, sizeof e);
    e.src = y;
    e.dst = x;
    e.src_port = 80;
    e.dst_port = 5555;
    e.proto = 6;
    fk__attrib_strs estrs;
    fk__attrib_fill_session(a, &e, &estrs);
    assert_int_equal(e.pid, 100);
    assert_int_equal(e.present, FK_SESSION_HAS_PROCESS | FK_SESSION_HAS_UID);
    assert_string_equal(e.process, "websrv");
    assert_int_equal(e.uid, 0);
    assert_ptr_equal(e.user, estrs.user);
    assert_string_equal(e.user, "root");
    assert_ptr_equal(e.exe, estrs.exe);
    assert_string_equal(e.exe, "/usr/bin/websrv");
    /* Unknown owner: nothing is set. */
    fk_session_event u;
    memset(&u, 0, sizeof u);
    u.src = y;
    u.dst = x;
    u.src_port = 9999;
    u.dst_port = 1;
    u.proto = 6;
    fk__attrib_fill_session(a, &u, &estrs);
    assert_int_equal(u.present, 0);
    assert_null(u.user);
    assert_null(u.exe);
    assert_int_equal(u.pid, 0);

    fk_rank_snapshot *s;
    assert_int_equal(fk__attrib_tick(a, t + SEC + SEC / 2), 0);
    assert_int_equal(fk__attrib_rank(a, 0, 1, 0, FK_RANK_SORT_BYTES, &s), 0);
    assert_int_equal(s->count, 5);
    assert_int_equal(s->window_sec, 1);
    const fk_rank_row *r = row_of(s, 100, 0);
    assert_non_null(r);
    assert_string_equal(r->name, "websrv");
    assert_string_equal(r->cmdline, "websrv --port 80");
    assert_string_equal(r->user, "root");
    assert_string_equal(r->exe, "/usr/bin/websrv");
    assert_int_equal(r->sent_bytes, 3000);
    assert_int_equal(r->recv_bytes, 180);
    assert_int_equal(r->sent_packets, 3);
    assert_int_equal(r->recv_packets, 3);
    assert_true(r->sent_rate == 3000.0); /* second 1000 over a 1 s window */
    assert_true(r->recv_rate == 180.0);
    assert_int_equal(r->conn_count, 2);
    /* Sorted by total bytes: websrv 3180, tls6 1500, unknown TCP 500, dnsd 400, unknown UDP 50 */
    assert_int_equal(s->rows[0].pid, 100);
    assert_int_equal(s->rows[1].pid, 300);
    assert_int_equal(s->rows[2].pid, 0);
    assert_string_equal(s->rows[2].name, "unknown TCP");
    assert_int_equal(s->rows[3].pid, 200);
    assert_string_equal(s->rows[4].name, "unknown UDP");
    r = row_of(s, 200, 0);
    assert_int_equal(r->recv_bytes, 100);
    assert_int_equal(r->sent_bytes, 300);
    assert_int_equal(r->conn_count, 1);
    assert_int_equal(r->conns[0].local_port, 53);
    assert_int_equal(r->conns[0].remote_port, 40000);
    assert_int_equal(r->conns[0].proto, 17);
    char buf[FK_ADDR_STRLEN];
    fk_addr_format(&r->conns[0].remote, buf, sizeof buf);
    assert_string_equal(buf, "10.213.0.2");
    assert_int_equal(s->attributed, 9);
    assert_int_equal(s->unattributed, 2);

    char json[4 * FK_RANK_JSON_ROW_MAX + 64];
    int n = fk_rank_snapshot_to_json(
        s, json,
        64 + 5 * FK_RANK_JSON_ROW_MAX > sizeof json ? sizeof json : 64 + 5 * FK_RANK_JSON_ROW_MAX);
    assert_true(n > 0);
    assert_non_null(strstr(json, "{\"type\":\"rank\",\"time\":\"1970-01-01T00:16:41.500Z\""));
    assert_non_null(strstr(json, "{\"pid\":100,\"name\":\"websrv\",\"user\":\"root\","
                                 "\"exe\":\"/usr/bin/websrv\",\"sent_bytes\":3000,"
                                 "\"recv_bytes\":180,\"sent_rate\":3000.0,\"recv_rate\":180.0"));
    assert_non_null(strstr(json, "{\"pid\":0,\"name\":\"unknown UDP\""));
    assert_int_equal(fk_rank_snapshot_to_json(s, json, 40), FK_ENOSPACE);
    fk_rank_snapshot_destroy(s);

    /* Limit and another key. */
    assert_int_equal(fk__attrib_rank(a, 2, 1, 0, FK_RANK_SORT_RECV_BYTES, &s), 0);
    assert_int_equal(s->count, 2);
    assert_int_equal(s->rows[0].pid, 300);
    assert_int_equal(s->rows[1].pid, 100);
    fk_rank_snapshot_destroy(s);
    assert_int_equal(fk__attrib_rank(a, 0, 11, 0, FK_RANK_SORT_RATE, &s), FK_ERANGE);
    assert_int_equal(fk__attrib_rank(a, 0, 0, 0, FK_RANK_SORT_RATE, &s), FK_ERANGE);
    assert_int_equal(fk__attrib_rank(a, 0, 1, 0, (fk_rank_sort)42, &s), FK_EINVAL);
    fk__attrib_destroy(a);
}

static void late_resolution_moves_bytes(void **state)
{
    (void)state;
    fk__attrib *a = make_engine();
    int64_t t = 2000 * SEC;
    uint32_t pid;
    /* A connection the socket table does not know yet. */
    assert_int_equal(pkt(a, "10.213.0.1", 8080, "10.213.0.2", 7000, 6, 400, t, &pid), 0);
    assert_int_equal(pid, 0);
    /* It appears (socket table and pid 200's fds), and the next packet
     * after the retry delay resolves it. */
    static const fsock more[] = {
        {"10.213.0.1", "0.0.0.0", 80, 0, 0x0A, 1001},
        {"10.213.0.1", "10.213.0.2", 80, 5555, 0x01, 1002},
        {"10.213.0.1", "10.213.0.2", 8080, 7000, 0x01, 2002},
    };
    write_net("tcp", more, 3);
    fp_sock(root, 200, 4, 2002);
    assert_int_equal(fk__attrib_sync(a), 0);
    assert_int_equal(pkt(a, "10.213.0.2", 7000, "10.213.0.1", 8080, 6, 40, t + SEC, &pid), 0);
    assert_int_equal(pid, 200);
    fk_rank_snapshot *s;
    assert_int_equal(fk__attrib_rank(a, 0, 5, 0, FK_RANK_SORT_BYTES, &s), 0);
    assert_int_equal(s->count, 1); /* the unknown row is empty again, so absent */
    assert_int_equal(s->rows[0].pid, 200);
    assert_int_equal(s->rows[0].sent_bytes, 400);
    assert_int_equal(s->rows[0].recv_bytes, 40);
    fk_rank_snapshot_destroy(s);
    fk__attrib_stats st;
    fk__attrib_get_stats(a, &st);
    assert_int_equal(st.resolved_late, 1);
    assert_int_equal(st.conns, 1);
    fk__attrib_destroy(a);
}

static int pkt_if(fk__attrib *a, const char *src, unsigned sport, const char *dst, unsigned dport,
                  unsigned len, int64_t ts, uint32_t ifindex)
{
    fk__attrib_pkt p;
    memset(&p, 0, sizeof p);
    fk_addr_parse(src, &p.src);
    fk_addr_parse(dst, &p.dst);
    p.sport = (uint16_t)sport;
    p.dport = (uint16_t)dport;
    p.proto = 6;
    p.ip_len = len;
    p.ts_ns = ts;
    p.ifindex = ifindex;
    uint32_t pid;
    return fk__attrib_packet(a, &p, &pid, NULL);
}

static void devices_per_row(void **state)
{
    (void)state;
    fk__attrib *a = make_engine();
    int64_t t = 4000 * SEC;
    const uint32_t gone = 999999; /* no such interface: no name */
    /* websrv: 3000 bytes out of one connection on lo (ifindex 1 in every
     * network namespace), a SYN of 60 to its listener on another device. */
    for (int i = 0; i < 3; i++)
        assert_int_equal(pkt_if(a, "10.213.0.1", 80, "10.213.0.2", 5555, 1000, t, 1), 0);
    assert_int_equal(pkt_if(a, "10.213.0.2", 5556, "10.213.0.1", 80, 60, t, gone), 0);
    /* A later packet of the first connection on another device still
     * counts where the connection started. */
    assert_int_equal(pkt_if(a, "10.213.0.2", 5555, "10.213.0.1", 80, 40, t, gone), 0);
    /* Unknown at first on lo, resolved later: its device moves along. */
    assert_int_equal(pkt_if(a, "10.213.0.1", 8080, "10.213.0.2", 7000, 400, t, 1), 0);
    /* tls6 without a device (a replayed file). */
    uint32_t pid;
    assert_int_equal(pkt(a, "fd00:213::2", 6000, "fd00:213::1", 443, 6, 1500, t, &pid), 0);
    static const fsock more[] = {
        {"10.213.0.1", "0.0.0.0", 80, 0, 0x0A, 1001},
        {"10.213.0.1", "10.213.0.2", 80, 5555, 0x01, 1002},
        {"10.213.0.1", "10.213.0.2", 8080, 7000, 0x01, 2002},
    };
    write_net("tcp", more, 3);
    fp_sock(root, 200, 4, 2002);
    assert_int_equal(fk__attrib_sync(a), 0);
    assert_int_equal(pkt_if(a, "10.213.0.2", 7000, "10.213.0.1", 8080, 40, t + SEC, 1), 0);

    fk_rank_snapshot *s;
    assert_int_equal(fk__attrib_rank(a, 0, 1, 0, FK_RANK_SORT_BYTES, &s), 0);
    assert_int_equal(s->count, 3); /* websrv, tls6, dnsd; unknown TCP is empty */
    const fk_rank_row *r = row_of(s, 100, 0);
    assert_non_null(r);
    assert_int_equal(r->dev_count, 2);
    assert_string_equal(r->dev, "lo");
    assert_ptr_equal(r->dev, r->devs[0].name);
    assert_int_equal(r->devs[0].ifindex, 1);
    assert_int_equal(r->devs[0].sent_bytes, 3000);
    assert_int_equal(r->devs[0].recv_bytes, 40);
    assert_int_equal(r->devs[1].ifindex, gone);
    assert_string_equal(r->devs[1].name, "");
    assert_int_equal(r->devs[1].recv_bytes, 60);
    assert_int_equal(r->conn_count, 2);
    for (size_t i = 0; i < r->conn_count; i++) {
        const fk_rank_conn *c = &r->conns[i];
        assert_int_equal(c->ifindex, c->remote_port == 5555 ? 1 : gone);
        assert_string_equal(c->dev, c->remote_port == 5555 ? "lo" : "");
    }
    r = row_of(s, 200, 0);
    assert_non_null(r);
    assert_int_equal(r->dev_count, 1);
    assert_string_equal(r->dev, "lo");
    assert_int_equal(r->devs[0].sent_bytes, 400);
    assert_int_equal(r->devs[0].recv_bytes, 40);
    r = row_of(s, 300, 0);
    assert_non_null(r);
    assert_int_equal(r->dev_count, 0);
    assert_null(r->devs);
    assert_string_equal(r->dev, "");
    char json[3 * FK_RANK_JSON_ROW_MAX + 64];
    assert_true(fk_rank_snapshot_to_json(s, json, sizeof json) > 0);
    assert_non_null(
        strstr(json, "\"connections\":2,\"dev\":\"lo\",\"devs\":[{\"name\":\"lo\","
                     "\"ifindex\":1,\"sent_bytes\":3000,\"recv_bytes\":40},{\"name\":"
                     "\"\",\"ifindex\":999999,\"sent_bytes\":0,\"recv_bytes\":60}],\"uid\":"));
    assert_non_null(strstr(json, "\"connections\":1,\"dev\":\"\",\"devs\":[],\"uid\":"));
    fk_rank_snapshot_destroy(s);
    fk__attrib_destroy(a);
}

static void loopback_counts_both_ends(void **state)
{
    (void)state;
    fk__attrib *a = make_engine();
    int64_t t = 3000 * SEC;
    uint32_t pid;
    /* 10.213.0.1 talking to itself: websrv's listener receives, the sender
     * is unknown; each end is accounted once. */
    assert_int_equal(pkt(a, "10.213.0.1", 40000, "10.213.0.1", 80, 6, 60, t, &pid), 0);
    assert_int_equal(pid, 100);
    fk_rank_snapshot *s;
    assert_int_equal(fk__attrib_rank(a, 0, 1, 0, FK_RANK_SORT_BYTES, &s), 0);
    assert_int_equal(s->count, 2);
    assert_int_equal(row_of(s, 100, 0)->recv_bytes, 60);
    assert_int_equal(row_of(s, 0, 6)->sent_bytes, 60);
    fk_rank_snapshot_destroy(s);
    fk__attrib_destroy(a);
}

static void allocation_failures_are_clean(void **state)
{
    (void)state;
    int completed = 0;
    for (unsigned long k = 1; k < 400; k++) {
        fk__attrib_config c;
        fk__attrib_config_default(&c);
        c.proc_root = root;
        c.use_netlink = 0;
        fk_test_alloc_fail_at(k, 1);
        fk__attrib *a = NULL;
        int rc = fk__attrib_create(&a, &c);
        fk_rank_snapshot *s = NULL;
        if (rc == 0) {
            fk_addr l;
            fk_addr_parse("10.213.0.1", &l);
            fk__attrib_add_local(a, &l);
            uint32_t pid;
            pkt(a, "10.213.0.1", 80, "10.213.0.2", 5555, 6, 1000, 5 * SEC, &pid);
            if (fk__attrib_rank(a, 0, 1, 0, FK_RANK_SORT_RATE, &s) == 0) {
                completed += s->count == 1 && s->rows[0].pid == 100;
                fk_rank_snapshot_destroy(s);
            }
            fk__attrib_destroy(a);
        }
        fk_test_alloc_reset();
        assert_int_equal(fk_test_alloc_live(), 0);
    }
    assert_true(completed > 0); /* the late iterations get through untouched */
}

/* The public entry point refuses what it cannot serve. */
static void capture_rank_states(void **state)
{
    (void)state;
    fk_capture *h;
    assert_int_equal(fk_capture_create(&h), 0);
    fk_rank_snapshot *s = NULL;
    assert_int_equal(fk_capture_rank(NULL, 0, 1, FK_RANK_SORT_RATE, &s), FK_EINVAL);
    assert_int_equal(fk_capture_rank(h, 0, 1, FK_RANK_SORT_RATE, NULL), FK_EINVAL);
    assert_int_equal(fk_capture_rank(h, 0, 1, FK_RANK_SORT_RATE, &s), FK_ENOTACTIVATED);
    assert_null(s);
    /* The attribution parameters are in the capture's table with their bounds. */
    size_t n;
    const fk_param_info *t = fk_capture_params(&n);
    const fk_param_info *p = fk_param_find(t, n, "history_seconds");
    assert_non_null(p);
    assert_int_equal(p->id, FK_CAP_HISTORY_SECONDS);
    assert_int_equal(fk_capture_set_int(h, FK_CAP_HISTORY_SECONDS, 0), FK_ERANGE);
    assert_int_equal(fk_capture_set_int(h, FK_CAP_SYNC_INTERVAL, 5), FK_ERANGE);
    assert_int_equal(fk_capture_set_int(h, FK_CAP_ATTRIBUTION, 1), 0);
    assert_string_equal(fk_rank_sort_name(FK_RANK_SORT_RECV_BYTES), "recv_bytes");
    assert_string_equal(fk_rank_sort_name((fk_rank_sort)99), "unknown");
    fk_capture_destroy(h);
    fk_rank_snapshot_destroy(NULL);
}

static void tcp_pkt(fk__attrib *a, bool out, unsigned flags, unsigned len, int64_t ts)
{
    fk__attrib_pkt p;
    memset(&p, 0, sizeof p);
    fk_addr_parse(out ? "10.213.0.1" : "10.213.0.2", &p.src);
    fk_addr_parse(out ? "10.213.0.2" : "10.213.0.1", &p.dst);
    p.sport = (uint16_t)(out ? 80 : 5555);
    p.dport = (uint16_t)(out ? 5555 : 80);
    p.proto = 6;
    p.tcp_flags = (uint8_t)flags;
    p.ip_len = len;
    p.ts_ns = ts;
    uint32_t pid;
    assert_int_equal(fk__attrib_packet(a, &p, &pid, NULL), 0);
    assert_int_equal(pid, 100);
}

static uint8_t websrv_state(fk__attrib *a)
{
    fk_rank_snapshot *s;
    assert_int_equal(fk__attrib_rank(a, 0, 1, 0, FK_RANK_SORT_BYTES, &s), 0);
    const fk_rank_row *r = row_of(s, 100, 0);
    assert_non_null(r);
    assert_int_equal(r->conn_count, 1);
    uint8_t st = r->conns[0].tcp_state;
    fk_rank_snapshot_destroy(s);
    return st;
}

/* #21: the per-second ring in the snapshot (FK_CAP_RANK_HISTORY), and each
 * connection's TCP state from the flags seen each way. */
static void history_and_tcp_state(void **state)
{
    (void)state;
    fk__attrib *a = make_engine();
    int64_t t = 3000 * SEC;
    tcp_pkt(a, false, 0x02, 60, t); /* SYN in */
    assert_int_equal(websrv_state(a), FK_RANK_TCP_OPENING);
    tcp_pkt(a, true, 0x12, 60, t + SEC / 2); /* SYN-ACK out */
    assert_int_equal(websrv_state(a), FK_RANK_TCP_OPENING);
    tcp_pkt(a, false, 0x10, 52, t + SEC); /* ACK in */
    assert_int_equal(websrv_state(a), FK_RANK_TCP_ESTABLISHED);
    tcp_pkt(a, true, 0x18, 1052, t + 2 * SEC); /* data out */
    uint32_t pid;
    /* Another process moves the clock to t + 3 s: five complete seconds
     * before it are t - 2 .. t + 2. */
    assert_int_equal(pkt(a, "10.213.0.2", 5353, "10.213.0.1", 53, 17, 80, t + 3 * SEC, &pid), 0);
    fk_rank_snapshot *s;
    assert_int_equal(fk__attrib_rank(a, 0, 5, 11, FK_RANK_SORT_BYTES, &s), FK_ERANGE);
    assert_int_equal(fk__attrib_rank(a, 0, 5, 5, FK_RANK_SORT_BYTES, &s), 0);
    const fk_rank_row *r = row_of(s, 100, 0);
    assert_non_null(r);
    assert_int_equal(r->history_count, 5);
    static const uint64_t want_sent[5] = {0, 0, 60, 0, 1052}, want_recv[5] = {0, 0, 60, 52, 0};
    uint64_t sum = 0;
    for (size_t i = 0; i < 5; i++) {
        assert_int_equal(r->history[i].sec, 3000 - 2 + (int64_t)i);
        assert_int_equal(r->history[i].sent_bytes, want_sent[i]);
        assert_int_equal(r->history[i].recv_bytes, want_recv[i]);
        sum += r->history[i].sent_bytes;
    }
    assert_true(r->sent_rate == (double)sum / 5);
    size_t size = fk_rank_snapshot_json_size(s, FK_RANK_JSON_CONNS | FK_RANK_JSON_HISTORY);
    char *json = malloc(size);
    assert_non_null(json);
    assert_true(
        fk_rank_snapshot_to_json_ex(s, FK_RANK_JSON_CONNS | FK_RANK_JSON_HISTORY, json, size) > 0);
    assert_non_null(strstr(json, "\"history\":{\"start\":2998,\"sent\":[0,0,60,0,1052],"
                                 "\"recv\":[0,0,60,52,0]}"));
    assert_non_null(strstr(json, "\"state\":\"established\"}"));
    assert_non_null(strstr(json, "\"state\":null}")); /* the UDP one */
    /* Without the flag, no history key. */
    assert_true(fk_rank_snapshot_to_json_ex(s, FK_RANK_JSON_CONNS, json, size) > 0);
    assert_null(strstr(json, "\"history\""));
    free(json);
    fk_rank_snapshot_destroy(s);
    tcp_pkt(a, true, 0x11, 52, t + 4 * SEC); /* FIN out */
    assert_int_equal(websrv_state(a), FK_RANK_TCP_CLOSING);
    tcp_pkt(a, false, 0x11, 52, t + 4 * SEC); /* FIN in */
    assert_int_equal(websrv_state(a), FK_RANK_TCP_CLOSED);
    assert_string_equal(fk_rank_tcp_state_name(FK_RANK_TCP_CLOSED), "closed");
    assert_string_equal(fk_rank_tcp_state_name(FK_RANK_TCP_NONE), "");
    assert_string_equal(fk_rank_tcp_state_name(77), "");
    fk__attrib_destroy(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(attributes_each_kind, setup, teardown),
        cmocka_unit_test_setup_teardown(late_resolution_moves_bytes, setup, teardown),
        cmocka_unit_test_setup_teardown(loopback_counts_both_ends, setup, teardown),
        cmocka_unit_test_setup_teardown(devices_per_row, setup, teardown),
        cmocka_unit_test_setup_teardown(allocation_failures_are_clean, setup, teardown),
        cmocka_unit_test(capture_rank_states),
        cmocka_unit_test_setup_teardown(history_and_tcp_state, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
