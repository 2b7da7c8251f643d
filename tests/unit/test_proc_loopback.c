/* #21's loopback bug: a local TCP connection whose two ends belong to two
 * processes, captured on "any" (Linux cooked v2). libpcap shows each
 * loopback packet once, as incoming; both ends must still be accounted —
 * the client's sent bytes are the server's received bytes and the other
 * way round — and flow records name the initiator. Runs the capture's glue
 * (lib/capture/attribution.c) over the engine with a fake proc root. */
#include <flowkit/flowkit.h>
#include <stdio.h>
#include <string.h>

#include "capture/capture_int.h"
#include "fake_proc.h"
#include "fk_test.h"
#include "packet/packet.h"
#include "proc/attrib.h"

#define SEC 1000000000LL
#define CLIENT 410
#define SERVER 420

static char root[256];

/* /proc/net/tcp: the listener, and both ends of 127.0.0.1:41000 <-> :8080. */
static void write_tcp(void)
{
    static const char text[] =
        "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  "
        "timeout inode\n"
        "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0  "
        "      0 5001 1 0000000000000000 20 0 0 10 -1\n"
        "   1: 0100007F:1F90 0100007F:A028 01 00000000:00000000 00:00000000 00000000     0  "
        "      0 5002 1 0000000000000000 20 0 0 10 -1\n"
        "   2: 0100007F:A028 0100007F:1F90 01 00000000:00000000 00:00000000 00000000     0  "
        "      0 4001 1 0000000000000000 20 0 0 10 -1\n";
    fp_write(root, "net/tcp", text, sizeof text - 1);
    static const char head[] = "  sl  local_address rem_address   st\n";
    fp_write(root, "net/udp", head, sizeof head - 1);
    fp_write(root, "net/tcp6", head, sizeof head - 1);
    fp_write(root, "net/udp6", head, sizeof head - 1);
}

static int setup(void **state)
{
    (void)state;
    snprintf(root, sizeof root, "/tmp/fk_fakelo_XXXXXX");
    if (!mkdtemp(root))
        return -1;
    char path[512];
    snprintf(path, sizeof path, "%s/net", root);
    mkdir(path, 0755);
    write_tcp();
    fp_proc(root, CLIENT, "client", 0, "client", 6);
    fp_sock(root, CLIENT, 3, 4001);
    fp_proc(root, SERVER, "server", 0, "server", 6);
    fp_sock(root, SERVER, 3, 5001);
    fp_sock(root, SERVER, 4, 5002);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    fp_rm_tree(root);
    return 0;
}

/* One packet of the connection as the "any" device shows it. */
static void lo_packet(fk_capture *h, const fk__cap_source *s, bool from_client, uint16_t pkttype,
                      uint32_t len, int64_t ts)
{
    fk__packet p;
    memset(&p, 0, sizeof p);
    p.ip_version = 4;
    p.proto = 6;
    p.flags = FK__PKT_F_L4;
    const uint8_t lo[4] = {127, 0, 0, 1};
    memcpy(p.src, lo, 4);
    memcpy(p.dst, lo, 4);
    p.src_port = from_client ? 41000 : 8080;
    p.dst_port = from_client ? 8080 : 41000;
    p.tcp_flags = 0x18;
    p.ip_len = len;
    p.ts_ns = ts;
    p.if_index = 1;
    p.sll_pkttype = pkttype;
    p.sll_hatype = 772; /* ARPHRD_LOOPBACK */
    fk__cap_attrib_packet(h, s, &p);
}

static const fk_rank_row *row_of(const fk_rank_snapshot *s, uint32_t pid)
{
    for (size_t i = 0; i < s->count; i++)
        if (s->rows[i].pid == pid)
            return &s->rows[i];
    return NULL;
}

static void loopback_two_processes(void **state)
{
    (void)state;
    fk__attrib_config c;
    fk__attrib_config_default(&c);
    c.proc_root = root;
    c.use_netlink = 0;
    c.history_seconds = 10;
    fk_capture h;
    memset(&h, 0, sizeof h);
    assert_int_equal(fk__attrib_create(&h.attrib, &c), 0);
    fk__cap_source s;
    memset(&s, 0, sizeof s);
    s.linktype = FK__LINK_LINUX_SLL2;
    int64_t t = 5000 * SEC;
    /* Client → server 3 × 1000, server → client 2 × 300, each seen once,
     * incoming (packet type 0: host). */
    for (int i = 0; i < 3; i++)
        lo_packet(&h, &s, true, 0, 1000, t);
    for (int i = 0; i < 2; i++)
        lo_packet(&h, &s, false, 0, 300, t);
    /* A copy marked outgoing (a libpcap that keeps both) counts nothing. */
    lo_packet(&h, &s, true, 4, 1000, t);

    fk_rank_snapshot *snap;
    assert_int_equal(fk__attrib_rank(h.attrib, 0, 1, 0, FK_RANK_SORT_BYTES, &snap), 0);
    assert_int_equal(snap->count, 2);
    const fk_rank_row *cl = row_of(snap, CLIENT), *sv = row_of(snap, SERVER);
    assert_non_null(cl);
    assert_non_null(sv);
    assert_string_equal(cl->name, "client");
    assert_string_equal(sv->name, "server");
    assert_int_equal(cl->sent_bytes, 3000);
    assert_int_equal(cl->recv_bytes, 600);
    assert_int_equal(sv->sent_bytes, 600);
    assert_int_equal(sv->recv_bytes, 3000);
    assert_int_equal(cl->sent_packets, 3);
    assert_int_equal(sv->recv_packets, 3);
    fk_rank_snapshot_destroy(snap);

    /* The flow (client → server) is the client's: its initiator. */
    fk_flow f;
    memset(&f, 0, sizeof f);
    fk_addr_parse("127.0.0.1", &f.src);
    fk_addr_parse("127.0.0.1", &f.dst);
    f.src_port = 41000;
    f.dst_port = 8080;
    f.proto = 6;
    fk__attrib_strs strs;
    fk__attrib_fill_flow(h.attrib, &f, &strs);
    assert_int_equal(f.pid, CLIENT);
    assert_string_equal(f.process, "client");
    fk__attrib_destroy(h.attrib);
}

/* The direction hint of each cooked packet type. */
static void cooked_direction(void **state)
{
    (void)state;
    assert_int_equal(fk__cap_attrib_dir(0, 1), FK__DIR_IN);  /* host, Ethernet */
    assert_int_equal(fk__cap_attrib_dir(4, 1), FK__DIR_OUT); /* outgoing */
    assert_int_equal(fk__cap_attrib_dir(1, 1), FK__DIR_UNKNOWN);
    assert_int_equal(fk__cap_attrib_dir(0, 772), FK__DIR_BOTH); /* loopback: once, both ends */
    assert_int_equal(fk__cap_attrib_dir(4, 772), -1);           /* its second copy */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(loopback_two_processes, setup, teardown),
        cmocka_unit_test(cooked_direction),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
