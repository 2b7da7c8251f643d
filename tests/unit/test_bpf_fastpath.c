/* The eBPF backend's hit path (lib/bpf/flow_fast.bpf.h) against its full
 * parser, frame by frame, with BPF_PROG_TEST_RUN (root, a build with BPF;
 * nothing is attached).
 *
 * Each random frame F comes from a grammar of shapes near the hit path's
 * common one: VLAN tags (none, one, two), IPv4 IHL/version/length/fragment
 * words, IPv6 next headers and payload lengths, TCP data offsets and flags,
 * UDP tunnel ports, equal addresses and ports, truncation.
 *  A: the cache off (fk_cpu.slots = 0): F is counted by the full parser;
 *     fk_flows, fk_frags and fk_counters are read.
 *  B: one slot on this CPU, planted ACTIVE for both sides with the key the
 *     hit path would build if it read F at the common shape's offsets with
 *     no check at all, so any frame it wrongly takes for the common shape
 *     matches the slot; F is run again.
 * When B counted F on the hit path (a cache hit, no fk_flows entry, no
 * other counter), A must have made exactly one new flow of that key, with
 * the same side, bytes, packets and TCP flags, and nothing else. Each of
 * the hit path's checks (fragment, IHL, version, lengths, data offset,
 * SYN/FIN/RST, tunnel ports) left out makes mismatches here. Written
 * from the session-13 review's harness. */
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fk_test.h"

#ifdef FK_TEST_HAVE_BPF
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpf/flow.skel.h"
#include "bpf/flow_event.h"

#define FRAMES 5000 /* per case: ~1 s each */

/* One case's loaded programs and its frame generator. */
typedef struct {
    struct fk_flow_bpf *skel;
    int ncpu;
    unsigned long long rnd;
} harness;

static unsigned rnd(harness *h)
{
    h->rnd = h->rnd * 6364136223846793005ULL + 1442695040888963407ULL;
    return (unsigned)(h->rnd >> 33);
}

static int chance(harness *h, int pct)
{
    return (int)(rnd(h) % 100) < pct;
}

static void put16(unsigned char *p, unsigned v)
{
    p[0] = (unsigned char)(v >> 8);
    p[1] = (unsigned char)v;
}

/* The IPv4 header of a random frame at ip; its header length. */
static unsigned gen_ipv4(harness *h, unsigned char *ip, unsigned proto, const unsigned char *a,
                         const unsigned char *b, unsigned l4len)
{
    unsigned ihl = chance(h, 80) ? 5 : rnd(h) % 16;
    unsigned ver = chance(h, 95) ? 4 : rnd(h) % 16;
    unsigned hl = ihl * 4;
    ip[0] = (unsigned char)(ver << 4 | ihl);
    ip[1] = (unsigned char)rnd(h);
    unsigned tot = hl + l4len + rnd(h) % 30;
    if (chance(h, 10))
        tot = rnd(h) % 80;
    if (chance(h, 5))
        tot = 0;
    put16(ip + 2, tot);
    put16(ip + 4, rnd(h));
    static const unsigned frag_words[] = {0x2000, 0, 0x4000, 0x8000};
    unsigned r = rnd(h) % 10, fw = 0;
    if (r < 4)
        fw = frag_words[r] ? frag_words[r] : 1 + rnd(h) % 0x1fff; /* MF, an offset, DF, evil */
    else if (r == 4)
        fw = rnd(h) & 0xffff;
    put16(ip + 6, fw);
    ip[8] = 64;
    ip[9] = (unsigned char)proto;
    memcpy(ip + 12, a, 4);
    memcpy(ip + 16, b, 4);
    if (chance(h, 50))
        memcpy(ip + 16, ip + 12, chance(h, 50) ? 4 : 3);
    return hl < 20 ? 20 : hl;
}

/* The IPv6 header of a random frame at ip; its header length (40). */
static unsigned gen_ipv6(harness *h, unsigned char *ip, unsigned proto, const unsigned char *a,
                         const unsigned char *b, unsigned l4len)
{
    ip[0] = (unsigned char)((chance(h, 95) ? 6 : rnd(h) % 16) << 4);
    unsigned plen = l4len + rnd(h) % 30;
    if (chance(h, 10))
        plen = rnd(h) % 60;
    if (chance(h, 5))
        plen = 0;
    put16(ip + 4, plen);
    ip[6] = (unsigned char)proto;
    ip[7] = 64;
    memcpy(ip + 8, a, 16);
    memcpy(ip + 24, b, 16);
    return 40;
}

/* A random frame into f (256 bytes); its length. */
static size_t gen(harness *h, unsigned char *f)
{
    size_t n = 0;
    memset(f, 0, 256);
    for (int i = 0; i < 12; i++)
        f[n++] = (unsigned char)(0x02 + i);
    int tags = chance(h, 70) ? 0 : chance(h, 70) ? 1 : 2;
    static const unsigned tpids[] = {0x8100, 0x88a8, 0x9100};
    for (int t = 0; t < tags; t++) {
        put16(f + n, tpids[rnd(h) % 3]);
        put16(f + n + 2, rnd(h) % 4096);
        n += 4;
    }
    int v6 = chance(h, 35);
    unsigned et = v6 ? 0x86dd : 0x0800;
    if (chance(h, 3))
        et = rnd(h) & 0xffff;
    put16(f + n, et);
    n += 2;
    unsigned char *ip = f + n;
    static const unsigned protos[] = {6, 17, 6, 17, 6, 17, 1, 58, 132, 136, 47, 0, 43, 44, 60, 51};
    unsigned proto = protos[rnd(h) % (sizeof protos / sizeof protos[0])];
    unsigned char a[16], b[16];
    for (int i = 0; i < 16; i++)
        a[i] = b[i] = (unsigned char)rnd(h);
    if (chance(h, 30)) /* equal prefixes or equal addresses */
        memcpy(b, a, chance(h, 50) ? 16 : 8);
    unsigned l4len = chance(h, 50) ? 20 : 8 + rnd(h) % 40;
    unsigned hl = v6 ? gen_ipv6(h, ip, proto, a, b, l4len) : gen_ipv4(h, ip, proto, a, b, l4len);
    unsigned char *l4 = ip + hl;
    static const unsigned ports[] = {4789, 6081, 53, 80, 443, 1000, 2000};
    unsigned sp = chance(h, 40) ? ports[rnd(h) % 7] : rnd(h) & 0xffff;
    unsigned dp = chance(h, 40) ? ports[rnd(h) % 7] : rnd(h) & 0xffff;
    if (chance(h, 15))
        dp = sp;
    put16(l4, sp);
    put16(l4 + 2, dp);
    for (unsigned i = 4; i < l4len; i++)
        l4[i] = (unsigned char)rnd(h);
    if (proto == 6 || chance(h, 30)) {
        l4[12] = (unsigned char)((chance(h, 85) ? 5 + rnd(h) % 11 : rnd(h) % 5) << 4);
        l4[13] = (unsigned char)(chance(h, 50) ? 0x10 | (rnd(h) & 0xe8) : rnd(h));
    }
    n = (size_t)(l4 - f) + l4len + rnd(h) % 20;
    if (chance(h, 15))
        n = 14 + rnd(h) % (n > 14 ? n - 13 : 1);
    return n < 14 ? 14 : n > 256 ? 256 : n;
}

/* The key the hit path would build from f at the common shape's offsets,
 * with no check (vlan: the frame's first tag, if any); its side. */
static int lookalike_key(const unsigned char *f, struct fk__bpf_flow_key *k)
{
    memset(k, 0, sizeof *k);
    size_t p = 14;
    unsigned et = (unsigned)(f[12] << 8 | f[13]), vlan = 0;
    if (et == 0x8100 || et == 0x88a8 || et == 0x9100) {
        vlan = (unsigned)(f[p] << 8 | f[p + 1]) & 0xfff;
        et = (unsigned)(f[p + 2] << 8 | f[p + 3]);
        p += 4;
    }
    const unsigned char *ip = f + p, *l4;
    unsigned char s[16] = {0}, d[16] = {0};
    int v6 = et == 0x86dd;
    if (v6) {
        memcpy(s, ip + 8, 16);
        memcpy(d, ip + 24, 16);
        l4 = ip + 40;
    } else {
        memcpy(s, ip + 12, 4);
        memcpy(d, ip + 16, 4);
        l4 = ip + 20;
    }
    unsigned sp = (unsigned)(l4[0] << 8 | l4[1]), dp = (unsigned)(l4[2] << 8 | l4[3]);
    int c = memcmp(s, d, 16);
    int side = c > 0 || (c == 0 && sp > dp);
    memcpy(k->a, side ? d : s, 16);
    memcpy(k->b, side ? s : d, 16);
    k->pa = (uint16_t)(side ? dp : sp);
    k->pb = (uint16_t)(side ? sp : dp);
    k->vlan = (uint16_t)vlan;
    k->proto = v6 ? ip[6] : ip[9];
    k->family = v6 ? 6 : 4;
    return side;
}

/* Every entry of a hash map deleted. */
static void clear_hash(struct bpf_map *m)
{
    unsigned char key[64];
    int fd = bpf_map__fd(m);
    assert_true(bpf_map__key_size(m) <= sizeof key);
    while (bpf_map_get_next_key(fd, NULL, key) == 0)
        assert_int_equal(bpf_map_delete_elem(fd, key), 0);
}

static int count_hash(struct bpf_map *m)
{
    unsigned char key[64], next[64];
    int fd = bpf_map__fd(m), n = 0;
    void *prev = NULL;
    while (bpf_map_get_next_key(fd, prev, next) == 0) {
        memcpy(key, next, sizeof key);
        prev = key;
        n++;
    }
    return n;
}

/* fk_counters summed over CPUs (or zeroed, with zero set). */
static void counters(harness *h, struct fk__bpf_flow_counters *out, int zero)
{
    struct fk__bpf_flow_counters *pc = calloc((size_t)h->ncpu, sizeof *pc);
    assert_non_null(pc);
    unsigned key = 0;
    int fd = bpf_map__fd(h->skel->maps.fk_counters);
    if (zero) {
        assert_int_equal(bpf_map_update_elem(fd, &key, pc, BPF_ANY), 0);
    } else {
        assert_int_equal(bpf_map_lookup_elem(fd, &key, pc), 0);
        memset(out, 0, sizeof *out);
        for (int c = 0; c < h->ncpu; c++) {
            uint64_t *o = (uint64_t *)out, *in = (uint64_t *)&pc[c];
            for (size_t w = 0; w < sizeof *out / 8; w++)
                o[w] += in[w];
        }
    }
    free(pc);
}

static void reset(harness *h, unsigned slots, unsigned flags)
{
    clear_hash(h->skel->maps.fk_flows);
    clear_hash(h->skel->maps.fk_frags);
    counters(h, NULL, 1);
    for (unsigned i = 0; i < (unsigned)h->ncpu; i++) {
        struct fk__bpf_cpu c;
        memset(&c, 0, sizeof c);
        c.slots = slots;
        c.flags = flags;
        c.ncpus = (unsigned)h->ncpu;
        assert_int_equal(bpf_map_update_elem(bpf_map__fd(h->skel->maps.fk_cpu), &i, &c, BPF_ANY),
                         0);
    }
}

static int run(int prog_fd, const unsigned char *f, size_t n)
{
    struct bpf_test_run_opts o; /* not LIBBPF_OPTS: a GNU statement expression */
    memset(&o, 0, sizeof o);
    o.sz = sizeof o;
    o.data_in = f;
    o.data_size_in = (unsigned)n;
    o.repeat = 1;
    return bpf_prog_test_run_opts(prog_fd, &o);
}

/* What A (the full parser alone) did with a frame. */
typedef struct {
    struct fk__bpf_flow_counters counters;
    struct fk__bpf_flow_val val;
    int flows, frags, have_key;
} full_result;

/* Why B's hit disagrees with A (NULL: it does not). */
static const char *disagreement(const full_result *a, const struct fk__bpf_cache_slot *sb, int side)
{
    struct fk__bpf_flow_counters want;
    memset(&want, 0, sizeof want);
    want.created = 1;
    if (memcmp(&a->counters, &want, sizeof want))
        return "the full path changed other counters";
    if (a->flows != 1 || !a->have_key)
        return "the full path counted another key";
    if (a->frags)
        return "the full path kept a fragment";
    if (a->val.init_side != side || a->val.packets[side] != 1 || sb->packets[side] != 1 ||
        sb->packets[!side] || a->val.bytes[side] != sb->bytes[side] || sb->bytes[!side])
        return "side, packets or bytes differ";
    if (a->val.tcp_flags != sb->tcp_flags)
        return "TCP flags differ";
    return NULL;
}

static void check_case(int tunnels, int xdp, unsigned long long seed)
{
    if (geteuid() != 0) {
        fprintf(stderr, "!!! SKIP: the hit path's BPF_PROG_TEST_RUN check needs root\n");
        skip();
    }
    harness h = {.rnd = seed, .ncpu = libbpf_num_possible_cpus()};
    assert_true(h.ncpu > 0);
    /* every run on one CPU this process may use (the first), whose slot
     * (one per CPU: index = the CPU's number) is the one planted */
    cpu_set_t cs, old;
    assert_int_equal(sched_getaffinity(0, sizeof old, &old), 0);
    int cpu = 0;
    while (cpu < CPU_SETSIZE && !CPU_ISSET(cpu, &old))
        cpu++;
    assert_true(cpu < CPU_SETSIZE);
    CPU_ZERO(&cs);
    CPU_SET(cpu, &cs);
    assert_int_equal(sched_setaffinity(0, sizeof cs, &cs), 0);
    h.skel = fk_flow_bpf__open();
    assert_non_null(h.skel);
    bpf_program__set_autoload(h.skel->progs.fk_tc_inner, 0);
    bpf_program__set_autoload(h.skel->progs.fk_xdp_inner, 0);
    bpf_program__set_autoload(h.skel->progs.fk_tc_full, 0);
    bpf_program__set_autoload(h.skel->progs.fk_xdp_full, 0);
    assert_int_equal(bpf_map__set_max_entries(h.skel->maps.fk_cache, (unsigned)h.ncpu), 0);
    assert_int_equal(bpf_map__set_max_entries(h.skel->maps.fk_cpu, (unsigned)h.ncpu), 0);
    h.skel->rodata->fk_decode_tunnels = tunnels;
    assert_int_equal(fk_flow_bpf__load(h.skel), 0);
    int pfd = bpf_program__fd(xdp ? h.skel->progs.fk_xdp : h.skel->progs.fk_tc_ingress);
    unsigned flags = tunnels ? FK__BPF_CPU_TUNNELS : 0;
    long hits = 0, bad = 0, tested = 0;
    unsigned char f[256];
    for (int it = 0; it < FRAMES; it++) {
        size_t n = gen(&h, f);
        full_result a;
        reset(&h, 0, flags);
        if (run(pfd, f, n) != 0)
            continue; /* tc's test run wants a whole IP header for 0x0800/0x86dd */
        tested++;
        counters(&h, &a.counters, 0);
        a.flows = count_hash(h.skel->maps.fk_flows);
        a.frags = count_hash(h.skel->maps.fk_frags);
        struct fk__bpf_flow_key lk;
        int side = lookalike_key(f, &lk);
        a.have_key = bpf_map_lookup_elem(bpf_map__fd(h.skel->maps.fk_flows), &lk, &a.val) == 0;

        reset(&h, 1, flags);
        struct fk__bpf_cache_slot slot;
        memset(&slot, 0, sizeof slot);
        slot.key = lk;
        slot.gen = 1;
        slot.sides = 3;
        slot.state = FK__BPF_SLOT_ACTIVE;
        unsigned idx = (unsigned)cpu;
        int cfd = bpf_map__fd(h.skel->maps.fk_cache);
        assert_int_equal(bpf_map_update_elem(cfd, &idx, &slot, BPF_ANY), 0);
        assert_int_equal(run(pfd, f, n), 0);
        struct fk__bpf_cpu cb;
        assert_int_equal(bpf_map_lookup_elem(bpf_map__fd(h.skel->maps.fk_cpu), &idx, &cb), 0);
        assert_int_equal(bpf_map_lookup_elem(cfd, &idx, &slot), 0);
        struct fk__bpf_flow_counters cbc, none;
        counters(&h, &cbc, 0);
        memset(&none, 0, sizeof none);
        if (cb.cache_hits != 1 || count_hash(h.skel->maps.fk_flows) != 0 ||
            count_hash(h.skel->maps.fk_frags) != 0 || memcmp(&cbc, &none, sizeof none) != 0)
            continue; /* not taken by the hit path */
        hits++;
        const char *why = disagreement(&a, &slot, side);
        if (why && ++bad <= 5) {
            fprintf(stderr, "MISMATCH (%s), frame %d, %zu bytes: ", why, it, n);
            for (size_t i = 0; i < n && i < 80; i++)
                fprintf(stderr, "%02x", f[i]);
            fprintf(stderr, "\n");
        }
    }
    fk_flow_bpf__destroy(h.skel);
    assert_int_equal(sched_setaffinity(0, sizeof old, &old), 0);
    fprintf(stderr, "%s, tunnels %s: %ld frames run, %ld taken by the hit path, %ld mismatches\n",
            xdp ? "xdp" : "tc", tunnels ? "on" : "off", tested, hits, bad);
    assert_int_equal(bad, 0);
    /* the grammar reaches the hit path often, and the full path elsewhere */
    assert_true(hits > tested / 20);
    assert_true(hits < tested);
}
#endif

static void tc_plain(void **state)
{
    (void)state;
#ifdef FK_TEST_HAVE_BPF
    check_case(0, 0, 1);
#else
    fprintf(stderr, "!!! SKIP: the hit path check: this build has no BPF backend\n");
    skip();
#endif
}

static void tc_tunnels(void **state)
{
    (void)state;
#ifdef FK_TEST_HAVE_BPF
    check_case(1, 0, 2);
#else
    skip();
#endif
}

static void xdp_plain(void **state)
{
    (void)state;
#ifdef FK_TEST_HAVE_BPF
    check_case(0, 1, 3);
#else
    skip();
#endif
}

static void xdp_tunnels(void **state)
{
    (void)state;
#ifdef FK_TEST_HAVE_BPF
    check_case(1, 1, 4);
#else
    skip();
#endif
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(tc_plain),
        cmocka_unit_test(tc_tunnels),
        cmocka_unit_test(xdp_plain),
        cmocka_unit_test(xdp_tunnels),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
