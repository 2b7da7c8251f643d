/* fk_capture_rank() through the public API on an activated capture (an
 * offline pcap, so no privileges): argument and state checks, several
 * threads taking ranks while the owner thread dispatches (run under
 * ASan/TSan by scripts/test), and ranks after the capture ended and was
 * stopped (what flowkit-top's last refresh relies on). */
#include <flowkit/flowkit.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/bytes.h"
#include "fk_test.h"

enum { PACKETS = 20000, PAYLOAD = 100, RANKERS = 4, CONNS = 40 };

static char path[64];

/* Ethernet + IPv4 + TCP from 127.0.0.1:(1000 + i % CONNS) to 127.0.0.1:80. */
static void write_pcap(const char *file)
{
    FILE *f = fopen(file, "wb");
    assert_non_null(f);
    uint32_t head[6] = {0xa1b2c3d4, 0x00040002, 0, 0, 65535, 1};
    assert_int_equal(fwrite(head, sizeof head, 1, f), 1);
    uint8_t fr[14 + 20 + 20 + PAYLOAD];
    memset(fr, 0, sizeof fr);
    fk__put16(fr + 12, 0x0800);
    uint8_t *ip = fr + 14, *tcp = ip + 20;
    ip[0] = 0x45;
    fk__put16(ip + 2, 20 + 20 + PAYLOAD);
    ip[8] = 64;
    ip[9] = 6;
    const uint8_t lo[4] = {127, 0, 0, 1};
    memcpy(ip + 12, lo, 4);
    memcpy(ip + 16, lo, 4);
    tcp[12] = 5 << 4;
    tcp[13] = 0x18; /* PSH ACK */
    fk__put16(tcp + 2, 80);
    for (uint32_t i = 0; i < PACKETS; i++) {
        fk__put16(tcp, 1000 + i % CONNS);
        uint32_t rec[4] = {1700000000 + i / 1000, (i % 1000) * 1000, sizeof fr, sizeof fr};
        assert_int_equal(fwrite(rec, sizeof rec, 1, f), 1);
        assert_int_equal(fwrite(fr, sizeof fr, 1, f), 1);
    }
    assert_int_equal(fclose(f), 0);
}

static int setup(void **state)
{
    (void)state;
    snprintf(path, sizeof path, "/tmp/fk_rank_threads_%d.pcap", (int)getpid());
    write_pcap(path);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(path);
    return 0;
}

static fk_capture *open_capture(int attribution)
{
    fk_capture *h;
    assert_int_equal(fk_capture_create(&h), 0);
    assert_int_equal(fk_capture_add_file(h, path), 0);
    assert_int_equal(fk_capture_set_int(h, FK_CAP_ATTRIBUTION, attribution), 0);
    assert_int_equal(fk_capture_set_int(h, FK_CAP_HISTORY_SECONDS, 30), 0);
    return h;
}

/* Rows in `key` order, at most `limit` (0 = any), none without bytes. */
static void check_snapshot(const fk_rank_snapshot *s, size_t limit, fk_rank_sort key)
{
    assert_true(limit == 0 || s->count <= limit);
    for (size_t i = 0; i < s->count; i++) {
        const fk_rank_row *r = &s->rows[i];
        assert_true(r->sent_bytes + r->recv_bytes > 0);
        assert_non_null(r->name);
        if (i == 0)
            continue;
        const fk_rank_row *p = &s->rows[i - 1];
        switch (key) {
        case FK_RANK_SORT_BYTES:
            assert_true(p->sent_bytes + p->recv_bytes >= r->sent_bytes + r->recv_bytes);
            break;
        case FK_RANK_SORT_SENT_BYTES:
            assert_true(p->sent_bytes >= r->sent_bytes);
            break;
        case FK_RANK_SORT_RECV_BYTES:
            assert_true(p->recv_bytes >= r->recv_bytes);
            break;
        case FK_RANK_SORT_SENT_RATE:
            assert_true(p->sent_rate >= r->sent_rate);
            break;
        case FK_RANK_SORT_RECV_RATE:
            assert_true(p->recv_rate >= r->recv_rate);
            break;
        default:
            assert_true(p->sent_rate + p->recv_rate >= r->sent_rate + r->recv_rate);
            break;
        }
    }
}

static void argument_checks(void **state)
{
    (void)state;
    fk_rank_snapshot *s = (fk_rank_snapshot *)&s; /* "unchanged on failure" */
    fk_rank_snapshot *const canary = s;
    fk_capture *off = open_capture(0);
    assert_int_equal(fk_capture_activate(off), 0);
    assert_int_equal(fk_capture_rank(off, 0, 1, FK_RANK_SORT_RATE, &s), FK_ESTATE);
    assert_ptr_equal(s, canary);
    fk_capture_destroy(off);

    fk_capture *h = open_capture(1);
    assert_int_equal(fk_capture_rank(h, 0, 1, FK_RANK_SORT_RATE, &s), FK_ENOTACTIVATED);
    assert_int_equal(fk_capture_activate(h), 0);
    assert_int_equal(fk_capture_rank(NULL, 0, 1, FK_RANK_SORT_RATE, &s), FK_EINVAL);
    assert_int_equal(fk_capture_rank(h, 0, 1, FK_RANK_SORT_RATE, NULL), FK_EINVAL);
    assert_int_equal(fk_capture_rank(h, 0, 0, FK_RANK_SORT_RATE, &s), FK_ERANGE);
    assert_int_equal(fk_capture_rank(h, 0, 31, FK_RANK_SORT_RATE, &s), FK_ERANGE);
    assert_int_equal(fk_capture_rank(h, 0, UINT32_MAX, FK_RANK_SORT_RATE, &s), FK_ERANGE);
    assert_int_equal(fk_capture_rank(h, 0, 1, (fk_rank_sort)6, &s), FK_EINVAL);
    assert_int_equal(fk_capture_rank(h, 0, 1, (fk_rank_sort)-1, &s), FK_EINVAL);
    assert_ptr_equal(s, canary);
    /* Before any packet: an empty, valid snapshot. */
    assert_int_equal(fk_capture_rank(h, 0, 30, FK_RANK_SORT_RATE, &s), 0);
    assert_int_equal(s->count, 0);
    fk_rank_snapshot_destroy(s);
    fk_rank_snapshot_destroy(NULL);
    fk_capture_destroy(h);
}

typedef struct ranker {
    fk_capture *h;
    atomic_int *done;
    unsigned seed;
    atomic_ulong calls;
    unsigned long rows;
    int failed;
} ranker;

static void *rank_loop(void *arg)
{
    ranker *k = arg;
    while (!atomic_load(k->done) || k->calls < 5) {
        fk_rank_sort key = (fk_rank_sort)(k->seed++ % 6);
        size_t limit = k->seed % 3;
        uint32_t recent = 1 + k->seed % 30;
        fk_rank_snapshot *s = NULL;
        if (fk_capture_rank(k->h, limit, recent, key, &s) != 0) {
            k->failed = 1;
            break;
        }
        check_snapshot(s, limit, key);
        k->rows += s->count;
        k->calls++;
        fk_rank_snapshot_destroy(s);
    }
    return NULL;
}

/* Owner thread dispatches, RANKERS threads take ranks meanwhile. */
static void ranks_while_dispatching(void **state)
{
    (void)state;
    fk_capture *h = open_capture(1);
    assert_int_equal(fk_capture_activate(h), 0);
    atomic_int done = 0;
    ranker k[RANKERS];
    pthread_t th[RANKERS];
    for (int i = 0; i < RANKERS; i++) {
        k[i].h = h;
        k[i].done = &done;
        k[i].seed = (unsigned)i;
        atomic_init(&k[i].calls, 0);
        k[i].rows = 0;
        k[i].failed = 0;
        assert_int_equal(pthread_create(&th[i], NULL, rank_loop, &k[i]), 0);
    }
    /* Every 1024 packets, wait (bounded) until each ranker took one more
     * rank: ranks really interleave with the dispatch. */
    int r;
    unsigned long batches = 0, waits = 0;
    while ((r = fk_capture_dispatch(h, 64)) >= 0) {
        if (++batches % 16)
            continue;
        for (int i = 0; i < RANKERS; i++) {
            unsigned long c0 = atomic_load(&k[i].calls);
            for (int spin = 0; spin < 100000 && atomic_load(&k[i].calls) == c0; spin++)
                usleep(10);
            waits += atomic_load(&k[i].calls) > c0;
        }
    }
    assert_true(waits >= 16 * RANKERS); /* at least 16 rounds interleaved */
    atomic_store(&done, 1);
    for (int i = 0; i < RANKERS; i++) {
        assert_int_equal(pthread_join(th[i], NULL), 0);
        assert_int_equal(k[i].failed, 0);
        assert_true(k[i].calls >= 5);
    }
    assert_int_equal(r, FK_EEOF);

    /* After the end and after stop: the final totals, all of them. */
    fk_rank_snapshot *a, *b;
    assert_int_equal(fk_capture_rank(h, 0, 1, FK_RANK_SORT_BYTES, &a), 0);
    assert_int_equal(fk_capture_stop(h), 0);
    assert_int_equal(fk_capture_rank(h, 0, 1, FK_RANK_SORT_BYTES, &b), 0);
    assert_true(a->count >= 1);
    assert_int_equal(a->count, b->count);
    uint64_t total = 0;
    for (size_t i = 0; i < b->count; i++) {
        assert_int_equal(a->rows[i].sent_bytes, b->rows[i].sent_bytes);
        assert_int_equal(a->rows[i].recv_bytes, b->rows[i].recv_bytes);
        total += b->rows[i].sent_bytes + b->rows[i].recv_bytes;
    }
    /* Every packet counted once per local end it has (sender and receiver
     * are both 127.0.0.1). */
    assert_int_equal(total, UINT64_C(2) * PACKETS * (20 + 20 + PAYLOAD));
    fk_rank_snapshot_destroy(a);
    fk_rank_snapshot_destroy(b);
    fk_capture_destroy(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(argument_checks),
        cmocka_unit_test(ranks_while_dispatching),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
