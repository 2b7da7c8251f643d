/* The three IPFIX writers of fk_flow agree: the same flows written by the
 * exporter (fk__exp_encode_flow under its built-in templates), by the
 * collector's IPFIX file (the ipfix: sink) and by the generic encoder
 * (fk_ipfix_encoder_add_flow under a template from the shared description,
 * ipfix/flow_template.h) decode, through flowkit's decoder, to the same
 * fields. Each writer's own fields (tos/vlan for the exporter, interfaces,
 * sampling and origin for the file) decode to the flow's values too, and
 * every template the description makes is exactly as long as the records
 * its writer writes. */
#include <flowkit/flowkit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "collector/internal.h"
#include "core/bytes.h"
#include "exporter/msg.h"
#include "fk_test.h"
#include "ipfix/flow_template.h"

#define PEN 4711
#define NFLOWS 24

static void make_flow(fk_flow *f, unsigned i)
{
    memset(f, 0, sizeof *f);
    bool v6 = i & 1;
    char a[64];
    snprintf(a, sizeof a, v6 ? "fd00:77::%x" : "10.77.0.%u", i + 1);
    fk_addr_parse(a, &f->src);
    fk_addr_parse(v6 ? "fd00:77::ffff" : "192.0.2.9", &f->dst);
    f->src_port = (uint16_t)(40000 + i);
    f->dst_port = 443;
    f->proto = i % 3 == 1 ? 6 : 17;
    if (i % 3 == 0) { /* ICMP echo: the type and code in the destination port */
        f->proto = v6 ? 58 : 1;
        f->src_port = 0;
        f->dst_port = v6 ? 128 << 8 : 8 << 8;
    }
    f->tcp_flags = f->proto == 6 ? 0x1b : 0;
    f->tos = (uint8_t)(i * 4);
    f->vlan = (uint16_t)(i % 5);
    f->bytes = 1000000007ull * (i + 1);
    f->packets = 1000 + i;
    f->start_ns = INT64_C(1763900000123456789) + (int64_t)i * 1000000000;
    f->end_ns = f->start_ns + 2500000000;
    f->present =
        FK_FLOW_HAS_END_REASON | FK_FLOW_HAS_IFACES | FK_FLOW_HAS_SAMPLING | FK_FLOW_HAS_EXPORTER;
    f->end_reason = (uint8_t)(1 + i % 5);
    f->in_if = 10 + i;
    f->out_if = 20 + i;
    f->sampling = 1 + i % 3;
    f->odid = 99;
    fk_addr_parse(i & 2 ? "fd00:e::1" : "198.51.100.7", &f->exporter);
    if (i & 4) {
        f->present |= FK_FLOW_HAS_REVERSE;
        f->rev_bytes = 5000 + i;
        f->rev_packets = 7 + i;
        f->rev_tcp_flags = 0x12;
        if (i % 3 == 0) { /* the reply's own type: echo reply */
            f->present |= FK_FLOW_HAS_REV_ICMP;
            f->rev_icmp = v6 ? 129 << 8 : 0;
        }
    }
    /* Live captures: a direction; tunnels: type, outer addresses, VNI. */
    f->direction = i % 4 == 1 ? FK_DIRECTION_EGRESS : i % 4 == 2 ? FK_DIRECTION_INGRESS : 0;
    if (i % 3 == 2) {
        f->tunnel = i % 2 ? FK_TUNNEL_VXLAN : FK_TUNNEL_GENEVE;
        fk_addr_parse(i % 5 == 0 ? "2001:db8::a" : "192.0.2.10", &f->outer_src);
        fk_addr_parse(i % 5 == 0 ? "2001:db8::b" : "192.0.2.11", &f->outer_dst);
        f->vni = 0xabc000 + i;
        f->present |= FK_FLOW_HAS_VNI;
    }
    if (i % 4 == 3) /* metadata tags (metadataTags, PEN 30) */
        f->tags = i % 8 == 3 ? "account-id=123456789012,region=eu-west-1" : "vpc-id=vpc-0abc";
    if (i & 8) {
        f->present |= FK_FLOW_HAS_PROCESS | FK_FLOW_HAS_UID;
        f->pid = 4000 + i;
        f->uid = 1000;
        snprintf(f->process, sizeof f->process, "proc-%u", i);
        f->user = "alice";
        f->exe = "/usr/bin/curl";
    }
}

/* What each writer wrote, decoded. */
typedef struct decoded {
    fk_flow flow[NFLOWS];
    fk_ipfix_value pid[NFLOWS], name[NFLOWS];
    bool has_proc[NFLOWS];
    uint64_t tunnel[NFLOWS], vni[NFLOWS];                /* the enterprise tunnel elements */
    fk_ipfix_value outer_src[NFLOWS], outer_dst[NFLOWS]; /* (raw bytes in the decoder's buffer) */
    uint8_t outer_keep[NFLOWS][32];
    uint64_t odid[NFLOWS];
    uint8_t exporter[NFLOWS][16]; /* the exporter address element, either family */
    size_t exporter_len[NFLOWS];
    uint8_t keep[NFLOWS][2048]; /* the records' bytes outlive the decoder's buffer */
    char tags[NFLOWS][128];     /* metadataTags, "" when absent */
    size_t n;
} decoded;

static fk_template_cache *cache_new(fk_ie_registry **regp)
{
    fk_ie_registry *reg;
    assert_int_equal(fk_ie_registry_create(&reg), 0);
    *regp = reg;
    assert_int_equal(fk_exporter_register_elements(reg, PEN), 0);
    fk_template_cache *cache;
    assert_int_equal(fk_template_cache_create(&cache, reg), 0);
    return cache;
}

/* Decode every message in buf[0..len) (a file of messages) into out. */
static void decode_all(decoded *out, const uint8_t *buf, size_t len)
{
    fk_ie_registry *reg;
    fk_template_cache *cache = cache_new(&reg);
    fk_ipfix_decoder *d;
    assert_int_equal(fk_ipfix_decoder_create(&d, cache), 0);
    size_t off = 0;
    while (off + 16 <= len) {
        size_t mlen = fk__get16(buf + off + 2);
        assert_true(mlen >= 16 && off + mlen <= len);
        fk_ipfix_header hdr;
        assert_int_equal(fk_ipfix_decoder_begin(d, 1, buf + off, mlen, &hdr), 0);
        fk_ipfix_item it;
        int rc;
        while ((rc = fk_ipfix_decoder_next(d, &it)) == 1) {
            assert_int_not_equal(it.kind, FK_IPFIX_ITEM_NO_TEMPLATE);
            if (it.kind != FK_IPFIX_ITEM_RECORD)
                continue;
            assert_true(out->n < NFLOWS);
            size_t i = out->n++;
            assert_int_equal(fk_ipfix_record_to_flow(&it.record, &out->flow[i]), 0);
            fk_ipfix_value v;
            if (fk_ipfix_record_find_field(&it.record, 0, 149, &v) == 0)
                out->odid[i] = v.u;
            if (fk_ipfix_record_find_field(&it.record, 0, 130, &v) == 0 ||
                fk_ipfix_record_find_field(&it.record, 0, 131, &v) == 0) {
                assert_true(v.len <= 16);
                memcpy(out->exporter[i], v.raw, v.len);
                out->exporter_len[i] = v.len;
            }
            if (fk_ipfix_record_find_field(&it.record, PEN, FK_EXPORTER_IE_TUNNEL_TYPE, &v) == 0) {
                out->tunnel[i] = v.u;
                assert_int_equal(
                    fk_ipfix_record_find_field(&it.record, PEN, FK_EXPORTER_IE_VNI, &v), 0);
                out->vni[i] = v.u;
                fk_ipfix_value *o[2] = {&out->outer_src[i], &out->outer_dst[i]};
                for (int k = 0; k < 2; k++) {
                    if (fk_ipfix_record_find_field(&it.record, PEN,
                                                   k ? FK_EXPORTER_IE_TUNNEL_DST_V4
                                                     : FK_EXPORTER_IE_TUNNEL_SRC_V4,
                                                   o[k]) != 0)
                        assert_int_equal(
                            fk_ipfix_record_find_field(&it.record, PEN,
                                                       k ? FK_EXPORTER_IE_TUNNEL_DST_V6
                                                         : FK_EXPORTER_IE_TUNNEL_SRC_V6,
                                                       o[k]),
                            0);
                    memcpy(out->outer_keep[i] + 16 * k, o[k]->raw, o[k]->len);
                }
            }
            if (fk_ipfix_record_find_field(&it.record, PEN, FK_EXPORTER_IE_TAGS, &v) == 0) {
                assert_true(v.len < sizeof out->tags[i]);
                memcpy(out->tags[i], v.raw, v.len);
                out->tags[i][v.len] = '\0';
            }
            out->has_proc[i] = fk_ipfix_record_find_field(
                                   &it.record, PEN, FK_EXPORTER_IE_PROCESS_ID, &out->pid[i]) == 0;
            if (out->has_proc[i]) {
                assert_int_equal(fk_ipfix_record_find_field(
                                     &it.record, PEN, FK_EXPORTER_IE_PROCESS_NAME, &out->name[i]),
                                 0);
                assert_true(out->name[i].len < sizeof out->keep[i]);
                memcpy(out->keep[i], out->name[i].raw, out->name[i].len);
                out->name[i].raw = out->keep[i];
            }
        }
        assert_int_equal(rc, 0);
        off += mlen;
    }
    assert_int_equal(off, len);
    fk_ipfix_decoder_destroy(d);
    fk_template_cache_destroy(cache);
    fk_ie_registry_destroy(reg);
}

/* One message: header, one template set, one data set. */
static size_t message(uint8_t *buf, uint16_t tid, const fk_field_spec *f, size_t n,
                      const uint8_t *rec, size_t rlen)
{
    uint8_t *p = buf + 16;
    uint8_t *set = p;
    p = fk__put16(p, 2);
    p += 2;
    p = fk__put16(p, tid);
    p = fk__put16(p, (uint16_t)n);
    for (size_t i = 0; i < n; i++) {
        p = fk__put16(p, (uint16_t)(f[i].id | (f[i].pen ? 0x8000u : 0)));
        p = fk__put16(p, f[i].length);
        if (f[i].pen)
            p = fk__put32(p, f[i].pen);
    }
    fk__put16(set + 2, (uint16_t)(p - set));
    p = fk__put16(p, tid);
    p = fk__put16(p, (uint16_t)(4 + rlen));
    memcpy(p, rec, rlen);
    p += rlen;
    size_t len = (size_t)(p - buf);
    fk__exp_msg_header(buf, len, 1763900000, 0, 1);
    return len;
}

static void exporter_writes(decoded *out, const fk_flow *flows)
{
    static uint8_t file[NFLOWS * 4096];
    size_t len = 0;
    for (unsigned i = 0; i < NFLOWS; i++) {
        const fk_flow *f = &flows[i];
        fk_exporter_process proc = {
            .pid = f->pid, .uid = f->uid, .name = f->process, .user = f->user, .exe = f->exe};
        bool with_proc = f->present & FK_FLOW_HAS_PROCESS;
        uint8_t rec[FK__EXP_RECORD_MAX];
        unsigned mask;
        size_t rlen = fk__exp_encode_flow(rec, f, with_proc ? &proc : NULL,
                                          (f->present & FK_FLOW_HAS_REVERSE) != 0, &mask);
        fk_field_spec fields[FK__FT_FIELDS_MAX];
        size_t n = fk__exp_builtin_fields(mask, PEN, fields, FK__FT_FIELDS_MAX);
        assert_true(n > 0);
        len += message(file + len, (uint16_t)(FK__TMPL_BASE + mask), fields, n, rec, rlen);
    }
    decode_all(out, file, len);
}

static void sink_writes(decoded *out, const fk_flow *flows)
{
    char path[] = "/tmp/fk_writers_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    char uri[64];
    snprintf(uri, sizeof uri, "ipfix:%s", path);
    fk__sink *k;
    assert_int_equal(fk__sink_create(&k, uri), 0);
    k->pen = PEN;
    k->biflow = true; /* one biflow record, as the other two writers */
    assert_int_equal(fk__sink_open(k, 1), 0);
    for (unsigned i = 0; i < NFLOWS; i++)
        assert_int_equal(fk__sink_write(k, &flows[i], 1), 0);
    assert_int_equal(fk__sink_flush(k), 0);
    fk__sink_destroy(k);
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    static uint8_t file[1 << 20];
    size_t len = fread(file, 1, sizeof file, fp);
    fclose(fp);
    unlink(path);
    decode_all(out, file, len);
}

static void encoder_writes(decoded *out, const fk_flow *flows)
{
    fk_ipfix_encoder *e;
    assert_int_equal(fk_ipfix_encoder_create(&e, NULL), 0);
    assert_int_equal(fk_ipfix_encoder_activate(e), 0);
    static uint8_t file[NFLOWS * 4096];
    size_t len = 0;
    for (unsigned i = 0; i < NFLOWS; i++) {
        const fk_flow *f = &flows[i];
        /* The flow's own parts: what every writer has, no process. */
        unsigned parts = (f->src.family == 6 ? FK__FT_V6 : 0) |
                         ((f->present & FK_FLOW_HAS_REVERSE) ? FK__FT_REVERSE : 0) |
                         ((f->present & FK_FLOW_HAS_REV_ICMP) ? FK__FT_REV_ICMP : 0) |
                         (fk__ft_live_parts(f) & FK__FT_DIRECTION) | FK__FT_INTERFACES;
        uint16_t tid = (uint16_t)(256 + parts);
        fk_field_spec fields[FK__FT_FIELDS_MAX];
        size_t n = fk__ft_fields(fields, FK__FT_FIELDS_MAX, parts, PEN);
        int rc = fk_ipfix_encoder_add_template(e, tid, fields, (uint16_t)n, 0);
        assert_int_equal(rc, 0);
        assert_int_equal(fk_ipfix_encoder_begin(e, 1, 1763900000, file + len, sizeof file - len),
                         0);
        assert_int_equal(fk_ipfix_encoder_write_template(e, tid), 0);
        assert_int_equal(fk_ipfix_encoder_add_flow(e, tid, f), 0);
        size_t mlen;
        assert_int_equal(fk_ipfix_encoder_finish(e, &mlen), 0);
        len += mlen;
    }
    fk_ipfix_encoder_destroy(e);
    decode_all(out, file, len);
}

static int64_t ms_floor(int64_t ns)
{
    return ns / 1000000 * 1000000;
}

/* The fields every writer carries. */
static void same_core(const fk_flow *want, const fk_flow *got)
{
    assert_memory_equal(&got->src, &want->src, sizeof want->src);
    assert_memory_equal(&got->dst, &want->dst, sizeof want->dst);
    assert_int_equal(got->src_port, want->src_port);
    assert_int_equal(got->dst_port, want->dst_port);
    assert_int_equal(got->proto, want->proto);
    assert_int_equal(got->tcp_flags, want->tcp_flags);
    assert_int_equal(got->bytes, want->bytes);
    assert_int_equal(got->packets, want->packets);
    assert_int_equal(got->start_ns, ms_floor(want->start_ns));
    assert_int_equal(got->end_ns, ms_floor(want->end_ns));
    assert_true(got->present & FK_FLOW_HAS_END_REASON);
    assert_int_equal(got->end_reason, want->end_reason);
    bool rev = want->present & FK_FLOW_HAS_REVERSE;
    assert_int_equal((got->present & FK_FLOW_HAS_REVERSE) != 0, rev);
    if (rev) {
        assert_int_equal(got->rev_bytes, want->rev_bytes);
        assert_int_equal(got->rev_packets, want->rev_packets);
        assert_int_equal(got->rev_tcp_flags, want->rev_tcp_flags);
    }
    bool icmp = want->present & FK_FLOW_HAS_REV_ICMP;
    assert_int_equal((got->present & FK_FLOW_HAS_REV_ICMP) != 0, icmp);
    if (icmp)
        assert_int_equal(got->rev_icmp, want->rev_icmp);
}

static void writers_agree(void **state)
{
    (void)state;
    static fk_flow flows[NFLOWS];
    for (unsigned i = 0; i < NFLOWS; i++)
        make_flow(&flows[i], i);
    static decoded exp, file, enc;
    memset(&exp, 0, sizeof exp);
    memset(&file, 0, sizeof file);
    memset(&enc, 0, sizeof enc);
    exporter_writes(&exp, flows);
    sink_writes(&file, flows);
    encoder_writes(&enc, flows);
    assert_int_equal(exp.n, NFLOWS);
    assert_int_equal(file.n, NFLOWS);
    assert_int_equal(enc.n, NFLOWS);
    for (unsigned i = 0; i < NFLOWS; i++) {
        const fk_flow *f = &flows[i];
        same_core(f, &exp.flow[i]);
        same_core(f, &file.flow[i]);
        same_core(f, &enc.flow[i]);
        /* The exporter's probe fields. */
        assert_int_equal(exp.flow[i].tos, f->tos);
        assert_int_equal(exp.flow[i].vlan, f->vlan);
        /* Direction (IANA flowDirection): the exporter and the encoder. */
        assert_int_equal(exp.flow[i].direction, f->direction);
        assert_int_equal(enc.flow[i].direction, f->direction);
        /* The collector's file keeps them too (issue #16). */
        assert_int_equal(file.flow[i].direction, f->direction);
        /* Tunnels: the enterprise elements, and IANA layer2SegmentId for
         * VXLAN; the exporter and the file. Metadata tags: both. */
        for (int w = 0; w < 2; w++) {
            const decoded *d = w ? &file : &exp;
            assert_int_equal(d->tunnel[i], f->tunnel);
            if (f->tunnel) {
                size_t alen = f->outer_src.family == 6 ? 16 : 4;
                assert_int_equal(d->vni[i], f->vni);
                assert_int_equal(d->outer_src[i].len, alen);
                assert_int_equal(d->outer_dst[i].len, alen);
                assert_memory_equal(d->outer_keep[i], f->outer_src.bytes, alen);
                assert_memory_equal(d->outer_keep[i] + 16, f->outer_dst.bytes, alen);
            }
            bool vxlan = f->tunnel == FK_TUNNEL_VXLAN;
            assert_int_equal(d->flow[i].tunnel, vxlan ? FK_TUNNEL_VXLAN : 0);
            assert_int_equal((d->flow[i].present & FK_FLOW_HAS_VNI) != 0, vxlan);
            if (vxlan)
                assert_int_equal(d->flow[i].vni, f->vni);
            assert_string_equal(d->tags[i], f->tags ? f->tags : "");
        }
        /* The file's and the encoder's collector fields. */
        for (int w = 0; w < 2; w++) {
            const fk_flow *g = w ? &enc.flow[i] : &file.flow[i];
            assert_true(g->present & FK_FLOW_HAS_IFACES);
            assert_int_equal(g->in_if, f->in_if);
            assert_int_equal(g->out_if, f->out_if);
            assert_int_equal(g->sampling, f->sampling);
        }
        assert_int_equal(file.odid[i], f->odid);
        assert_int_equal(file.exporter_len[i], f->exporter.family == 6 ? 16 : 4);
        assert_memory_equal(file.exporter[i], f->exporter.bytes, file.exporter_len[i]);
        /* Process elements: the exporter and the file write the same. */
        bool proc = f->present & FK_FLOW_HAS_PROCESS;
        assert_int_equal(exp.has_proc[i], proc);
        assert_int_equal(file.has_proc[i], proc);
        if (proc) {
            assert_int_equal(exp.pid[i].u, f->pid);
            assert_int_equal(file.pid[i].u, f->pid);
            assert_int_equal(exp.name[i].len, strlen(f->process));
            assert_int_equal(file.name[i].len, exp.name[i].len);
            assert_memory_equal(exp.name[i].raw, f->process, exp.name[i].len);
            assert_memory_equal(file.name[i].raw, f->process, file.name[i].len);
        }
    }
}

/* The description and the writer cannot drift: for every combination of
 * parts, the record written is as long as the template says. */
static void description_matches_writer(void **state)
{
    (void)state;
    fk_flow f;
    make_flow(&f, 17); /* with a tunnel */
    fk__ft_process proc = {.pid = 1,
                           .uid = 2,
                           .name = "n",
                           .name_len = 1,
                           .user = "uu",
                           .user_len = 2,
                           .exe = NULL,
                           .exe_len = 0};
    f.tags = "a=1";
    for (unsigned parts = 0; parts < 8192; parts++) {
        fk_field_spec fields[FK__FT_FIELDS_MAX];
        size_t n = fk__ft_fields(fields, FK__FT_FIELDS_MAX, parts, PEN);
        assert_true(n >= 6);
        size_t want = 0;
        for (size_t i = 0; i < n; i++) {
            if (fields[i].length != FK_VARLEN)
                want += fields[i].length;
        }
        if (parts & FK__FT_PROCESS)
            want += (1 + 1) + (1 + 2) + 1; /* "n", "uu", "" with one-octet lengths */
        if (parts & FK__FT_TAGS)
            want += 1 + 3; /* "a=1" */
        uint8_t rec[1024];
        const fk__ft_process *pv = (parts & FK__FT_PROCESS) ? &proc : NULL;
        uint8_t *end = fk__ft_write(rec, parts, &f, pv);
        assert_int_equal((size_t)(end - rec), want);
        assert_int_equal(fk__ft_record_len(parts, pv, fk__ft_tags_len(&f)), want);
        assert_int_equal(fk__ft_fields(fields, n - 1, parts, PEN), 0); /* cap too small */
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(writers_agree),
        cmocka_unit_test(description_matches_writer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
