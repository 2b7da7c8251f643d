/* Collector features of issue #5 with the real decoders:
 *   - interface names from IPFIX and NetFlow v9 options data, kept per
 *     exporter and domain (bounded, counted), on the records as
 *     in_if_name / out_if_name (callback, JSON lines, CSV);
 *   - flowkit-export's process fields under a PEN (exporter -> collector
 *     over UDP on 127.0.0.1): pid, process, user, uid, exe; absent when the
 *     PEN does not match;
 *   - export-time sanity (messages off the receive clock, records ending
 *     after their export) and exporter restarts (v9 sysUptime going back,
 *     IPFIX sequence reset, IPFIX systemInitTimeMilliseconds moving on) that
 *     drop stale templates, while a sysUptime wrap and late packets do not. */
#include <flowkit/flowkit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "collector/internal.h"
#include "fk_test.h"
#include "core/bytes.h"

#define MAXREC 64

/* What the callback saw; borrowed strings are copied during the call. */
typedef struct got {
    unsigned n;
    fk_flow f[MAXREC];
    char in_name[MAXREC][80];
    char out_name[MAXREC][80];
    char user[MAXREC][80];
    char exe[MAXREC][300];
    char json[MAXREC][FK_FLOW_JSON_MAX];
    char tags[MAXREC][FK_EXPORTER_TAGS_MAX + 1];
} got;

static void copy_opt(char *dst, size_t size, const char *src)
{
    snprintf(dst, size, "%s", src ? src : "(null)");
}

static void on_flow(const fk_flow *f, void *user)
{
    got *g = user;
    if (g->n < MAXREC) {
        g->f[g->n] = *f;
        copy_opt(g->in_name[g->n], sizeof g->in_name[0], f->in_if_name);
        copy_opt(g->out_name[g->n], sizeof g->out_name[0], f->out_if_name);
        copy_opt(g->user[g->n], sizeof g->user[0], f->user);
        copy_opt(g->exe[g->n], sizeof g->exe[0], f->exe);
        copy_opt(g->tags[g->n], sizeof g->tags[0], f->tags);
        assert_true(fk_flow_to_json(f, g->json[g->n], sizeof g->json[0]) > 0);
        /* The copy must not keep the borrowed pointers. */
        g->f[g->n].in_if_name = g->f[g->n].out_if_name = NULL;
        g->f[g->n].user = g->f[g->n].exe = g->f[g->n].tags = NULL;
    }
    g->n++;
}

static got *got_new(void)
{
    got *g = calloc(1, sizeof *g);
    assert_non_null(g);
    return g;
}

static fk_collector *make(got *g, const char *output, int max_interfaces)
{
    fk_collector *h;
    assert_int_equal(fk_collector_create(&h), 0);
    assert_int_equal(fk_collector_set_callback(h, on_flow, g), 0);
    if (output)
        assert_int_equal(fk_collector_add_output(h, output), 0);
    if (max_interfaces >= 0)
        assert_int_equal(fk_collector_set_int(h, FK_COL_MAX_INTERFACES, max_interfaces), 0);
    assert_int_equal(fk_collector_activate(h), 0);
    return h;
}

static void feed(fk_collector *h, const char *exporter, const uint8_t *buf, size_t len)
{
    fk_addr a;
    assert_int_equal(fk_addr_parse(exporter, &a), 0);
    assert_true(fk_collector_feed(h, &a, 4739, buf, len) >= 0);
}

static fk_collector_stats stats(fk_collector *h)
{
    fk_collector_stats st;
    assert_int_equal(fk_collector_get_stats(h, &st, sizeof st), 0);
    return st;
}

static uint32_t now_secs(void)
{
    return (uint32_t)time(NULL);
}

/* ---- IPFIX interface names ---------------------------------------------- */

static const fk_field_spec if_fields[] = {
    {0, 8, 4, 0},   /* sourceIPv4Address */
    {0, 12, 4, 0},  /* destinationIPv4Address */
    {0, 4, 1, 0},   /* protocolIdentifier */
    {0, 1, 8, 0},   /* octetDeltaCount */
    {0, 2, 8, 0},   /* packetDeltaCount */
    {0, 10, 4, 0},  /* ingressInterface */
    {0, 14, 4, 0},  /* egressInterface */
    {0, 152, 8, 0}, /* flowStartMilliseconds */
    {0, 153, 8, 0}, /* flowEndMilliseconds */
};

static const fk_field_spec ifname_opt[] = {
    {0, 10, 4, 0},         /* scope: ingressInterface */
    {0, 82, FK_VARLEN, 0}, /* interfaceName */
    {0, 83, FK_VARLEN, 0}, /* interfaceDescription */
};

static const fk_field_spec ifdesc_opt[] = {
    {0, 14, 4, 0},         /* scope: egressInterface */
    {0, 83, FK_VARLEN, 0}, /* interfaceDescription */
};

typedef struct enc {
    fk_ipfix_encoder *e;
    uint8_t buf[4000];
    size_t len;
} enc;

static void enc_new(enc *x)
{
    assert_int_equal(fk_ipfix_encoder_create(&x->e, NULL), 0);
    assert_int_equal(fk_ipfix_encoder_set_int(x->e, FK_IPFIX_ENC_MTU, 4000), 0);
    assert_int_equal(fk_ipfix_encoder_activate(x->e), 0);
    assert_int_equal(fk_ipfix_encoder_add_template(x->e, 300, if_fields, 9, 0), 0);
    assert_int_equal(fk_ipfix_encoder_add_template(x->e, 500, ifname_opt, 3, 1), 0);
    assert_int_equal(fk_ipfix_encoder_add_template(x->e, 501, ifdesc_opt, 2, 1), 0);
}

static void add_ifname(enc *x, uint32_t ifindex, const char *name, const char *desc)
{
    assert_int_equal(fk_ipfix_encoder_record_begin(x->e, 500), 0);
    assert_int_equal(fk_ipfix_encoder_put_uint(x->e, 0, 10, ifindex), 0);
    assert_int_equal(fk_ipfix_encoder_put_bytes(x->e, 0, 82, name, strlen(name)), 0);
    assert_int_equal(fk_ipfix_encoder_put_bytes(x->e, 0, 83, desc, strlen(desc)), 0);
    assert_int_equal(fk_ipfix_encoder_record_end(x->e), 0);
}

static void add_ifdesc(enc *x, uint32_t ifindex, const char *desc)
{
    assert_int_equal(fk_ipfix_encoder_record_begin(x->e, 501), 0);
    assert_int_equal(fk_ipfix_encoder_put_uint(x->e, 0, 14, ifindex), 0);
    assert_int_equal(fk_ipfix_encoder_put_bytes(x->e, 0, 83, desc, strlen(desc)), 0);
    assert_int_equal(fk_ipfix_encoder_record_end(x->e), 0);
}

static void add_if_flow(enc *x, uint32_t in_if, uint32_t out_if, uint64_t bytes, uint32_t secs)
{
    fk_addr s, d;
    fk_addr_parse("192.0.2.1", &s);
    fk_addr_parse("192.0.2.2", &d);
    assert_int_equal(fk_ipfix_encoder_record_begin(x->e, 300), 0);
    assert_int_equal(fk_ipfix_encoder_put_addr(x->e, 0, 8, &s), 0);
    assert_int_equal(fk_ipfix_encoder_put_addr(x->e, 0, 12, &d), 0);
    assert_int_equal(fk_ipfix_encoder_put_uint(x->e, 0, 4, 6), 0);
    assert_int_equal(fk_ipfix_encoder_put_uint(x->e, 0, 1, bytes), 0);
    assert_int_equal(fk_ipfix_encoder_put_uint(x->e, 0, 2, 1), 0);
    assert_int_equal(fk_ipfix_encoder_put_uint(x->e, 0, 10, in_if), 0);
    assert_int_equal(fk_ipfix_encoder_put_uint(x->e, 0, 14, out_if), 0);
    int64_t end = (int64_t)secs * 1000000000LL - 2000000000LL;
    assert_int_equal(fk_ipfix_encoder_put_time(x->e, 0, 152, end - 1000000000LL), 0);
    assert_int_equal(fk_ipfix_encoder_put_time(x->e, 0, 153, end), 0);
    assert_int_equal(fk_ipfix_encoder_record_end(x->e), 0);
}

static char *slurp(const char *path)
{
    size_t len;
    uint8_t *b = fk_test_read_file(path, &len);
    if (!b)
        return NULL;
    char *s = realloc(b, len + 1);
    s[len] = '\0';
    return s;
}

static void ipfix_interface_names(void **state)
{
    (void)state;
    char dir[] = "/tmp/fk_colfeat_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char jpath[128], cpath[128], juri[160];
    snprintf(jpath, sizeof jpath, "%s/out.jsonl", dir);
    snprintf(cpath, sizeof cpath, "%s/out.csv", dir);
    snprintf(juri, sizeof juri, "jsonl:%s", jpath);
    got *g = got_new();
    fk_collector *h;
    assert_int_equal(fk_collector_create(&h), 0);
    assert_int_equal(fk_collector_set_callback(h, on_flow, g), 0);
    assert_int_equal(fk_collector_add_output(h, juri), 0);
    char curi[160];
    snprintf(curi, sizeof curi, "csv:%s", cpath);
    assert_int_equal(fk_collector_add_output(h, curi), 0);
    assert_int_equal(fk_collector_activate(h), 0);

    uint32_t t = now_secs();
    enc x;
    enc_new(&x);
    /* Domain 1: names for ifindex 1 (name + description), 2 (description only,
     * egress scope), 7 (a name with characters JSON and CSV must escape). */
    assert_int_equal(fk_ipfix_encoder_begin(x.e, 1, t, x.buf, sizeof x.buf), 0);
    assert_int_equal(fk_ipfix_encoder_write_template(x.e, 500), 0);
    assert_int_equal(fk_ipfix_encoder_write_template(x.e, 501), 0);
    assert_int_equal(fk_ipfix_encoder_write_template(x.e, 300), 0);
    add_ifname(&x, 1, "eth0", "uplink to core");
    add_ifdesc(&x, 2, "LAN side");
    add_ifname(&x, 7, "Gi0/7, \"DMZ\"", "");
    add_if_flow(&x, 1, 2, 100, t);
    add_if_flow(&x, 3, 7, 200, t); /* 3 has no name */
    assert_int_equal(fk_ipfix_encoder_finish(x.e, &x.len), 0);
    feed(h, "10.0.0.1", x.buf, x.len);
    assert_int_equal(g->n, 2);
    assert_string_equal(g->in_name[0], "eth0");
    assert_string_equal(g->out_name[0], "LAN side");
    assert_string_equal(g->in_name[1], "(null)");
    assert_string_equal(g->out_name[1], "Gi0/7, \"DMZ\"");
    assert_non_null(strstr(g->json[0], ",\"in_if_name\":\"eth0\",\"out_if_name\":\"LAN side\""));
    assert_null(strstr(g->json[1], "\"in_if_name\""));
    assert_non_null(strstr(g->json[1], "\"out_if_name\":\"Gi0/7, \\\"DMZ\\\"\""));
    fk_collector_stats st = stats(h);
    assert_int_equal(st.interface_names, 3);
    assert_int_equal(st.options_records, 3);

    /* A later interfaceDescription does not replace the interfaceName of 1;
     * a new name for 1 does. */
    assert_int_equal(fk_ipfix_encoder_begin(x.e, 1, t, x.buf, sizeof x.buf), 0);
    add_ifdesc(&x, 1, "ignored description");
    add_if_flow(&x, 1, 9, 300, t);
    add_ifname(&x, 1, "eth0.100", "");
    add_if_flow(&x, 1, 9, 400, t);
    assert_int_equal(fk_ipfix_encoder_finish(x.e, &x.len), 0);
    feed(h, "10.0.0.1", x.buf, x.len);
    assert_int_equal(g->n, 4);
    assert_string_equal(g->in_name[2], "eth0");
    assert_string_equal(g->in_name[3], "eth0.100");
    assert_string_equal(g->out_name[3], "(null)");

    /* Names are per exporter and domain: domain 2 of the same exporter and
     * domain 1 of another exporter know none. */
    enc y;
    enc_new(&y);
    assert_int_equal(fk_ipfix_encoder_begin(y.e, 2, t, y.buf, sizeof y.buf), 0);
    assert_int_equal(fk_ipfix_encoder_write_template(y.e, 300), 0);
    add_if_flow(&y, 1, 2, 500, t);
    assert_int_equal(fk_ipfix_encoder_finish(y.e, &y.len), 0);
    feed(h, "10.0.0.1", y.buf, y.len);
    feed(h, "10.0.0.2", x.buf, x.len); /* has no template there: kept */
    assert_int_equal(fk_ipfix_encoder_begin(y.e, 1, t, y.buf, sizeof y.buf), 0);
    assert_int_equal(fk_ipfix_encoder_write_template(y.e, 300), 0);
    add_if_flow(&y, 1, 2, 600, t);
    assert_int_equal(fk_ipfix_encoder_finish(y.e, &y.len), 0);
    feed(h, "10.0.0.2", y.buf, y.len);
    assert_true(g->n >= 6);
    for (unsigned i = 4; i < g->n; i++) {
        assert_string_equal(g->in_name[i], "(null)");
        assert_string_equal(g->out_name[i], "(null)");
    }
    fk_collector_destroy(h); /* flushes the outputs */

    char *text = slurp(jpath);
    assert_non_null(text);
    assert_non_null(strstr(text, "\"bytes\":100,"));
    assert_non_null(strstr(text, ",\"in_if_name\":\"eth0\",\"out_if_name\":\"LAN side\"}\n"));
    assert_non_null(strstr(text, ",\"in_if_name\":\"eth0.100\"}\n"));
    free(text);
    text = slurp(cpath);
    assert_non_null(text);
    assert_non_null(strstr(text, ",,,eth0,LAN side,,,,,\n"));
    assert_non_null(strstr(text, ",,,,\"Gi0/7, \"\"DMZ\"\"\",,,,,\n"));
    free(text);
    unlink(jpath);
    unlink(cpath);
    rmdir(dir);
    fk_ipfix_encoder_destroy(x.e);
    fk_ipfix_encoder_destroy(y.e);
    free(g);
}

static void interface_names_are_capped(void **state)
{
    (void)state;
    got *g = got_new();
    fk_collector *h = make(g, NULL, 2);
    uint32_t t = now_secs();
    enc x;
    enc_new(&x);
    assert_int_equal(fk_ipfix_encoder_begin(x.e, 1, t, x.buf, sizeof x.buf), 0);
    assert_int_equal(fk_ipfix_encoder_write_template(x.e, 500), 0);
    assert_int_equal(fk_ipfix_encoder_write_template(x.e, 300), 0);
    add_ifname(&x, 5, "a", "");
    add_ifname(&x, 3, "b", "");
    add_ifname(&x, 4, "c", "");  /* over the cap */
    add_ifname(&x, 3, "b2", ""); /* an update still fits */
    add_if_flow(&x, 3, 4, 1, t);
    add_if_flow(&x, 5, 3, 1, t);
    assert_int_equal(fk_ipfix_encoder_finish(x.e, &x.len), 0);
    feed(h, "10.0.0.1", x.buf, x.len);
    fk_collector_stats st = stats(h);
    assert_int_equal(st.interface_names, 2);
    assert_int_equal(st.interface_limit, 1);
    assert_int_equal(g->n, 2);
    assert_string_equal(g->in_name[0], "b2");
    assert_string_equal(g->out_name[0], "(null)");
    assert_string_equal(g->in_name[1], "a");
    assert_string_equal(g->out_name[1], "b2");
    /* A second exporter has its own budget. */
    feed(h, "10.0.0.9", x.buf, x.len);
    st = stats(h);
    assert_int_equal(st.interface_names, 4);
    assert_int_equal(st.interface_limit, 2);
    fk_collector_destroy(h);
    fk_ipfix_encoder_destroy(x.e);
    free(g);
}

/* ---- NetFlow v9 ----------------------------------------------------------- */

typedef struct v9 {
    uint8_t p[1500];
    size_t n;
    size_t set;
} v9;

static void v9_begin(v9 *m, uint32_t uptime_ms, uint32_t secs, uint32_t seq, uint32_t source)
{
    memset(m, 0, sizeof *m);
    fk__put16(m->p, 9);
    fk__put32(m->p + 4, uptime_ms);
    fk__put32(m->p + 8, secs);
    fk__put32(m->p + 12, seq);
    fk__put32(m->p + 16, source);
    m->n = 20;
}

static void v9_set_begin(v9 *m, uint16_t id)
{
    m->set = m->n;
    fk__put16(m->p + m->n, id);
    m->n += 4;
}

static void v9_set_end(v9 *m)
{
    while ((m->n - m->set) % 4)
        m->p[m->n++] = 0;
    fk__put16(m->p + m->set + 2, (uint16_t)(m->n - m->set));
    fk__put16(m->p + 2, (uint16_t)(m->p[2] << 8 | m->p[3]) + 1); /* flowset count */
}

static void v9_u16(v9 *m, uint16_t v)
{
    fk__put16(m->p + m->n, v);
    m->n += 2;
}

static void v9_u32(v9 *m, uint32_t v)
{
    fk__put32(m->p + m->n, v);
    m->n += 4;
}

/* Data template 260: IPV4_SRC_ADDR, IPV4_DST_ADDR, PROTOCOL, IN_BYTES(4),
 * IN_PKTS(4), INPUT_SNMP(2), OUTPUT_SNMP(2), FIRST_SWITCHED, LAST_SWITCHED.
 * With wide = 1 the same id carries IN_BYTES as 8 bytes (another layout). */
static void v9_template(v9 *m, int wide)
{
    static const uint16_t f[][2] = {{8, 4},  {12, 4}, {4, 1},  {1, 4}, {2, 4},
                                    {10, 2}, {14, 2}, {22, 4}, {21, 4}};
    v9_set_begin(m, 0);
    v9_u16(m, 260);
    v9_u16(m, 9);
    for (int i = 0; i < 9; i++) {
        v9_u16(m, f[i][0]);
        v9_u16(m, i == 3 && wide ? 8 : f[i][1]);
    }
    v9_set_end(m);
}

static void v9_flow(v9 *m, int wide, uint32_t bytes, uint16_t in_if, uint16_t out_if,
                    uint32_t uptime)
{
    v9_set_begin(m, 260);
    v9_u32(m, 0xc0000201);
    v9_u32(m, 0xc0000202);
    m->p[m->n++] = 17;
    if (wide)
        v9_u32(m, 0);
    v9_u32(m, bytes);
    v9_u32(m, 1);
    v9_u16(m, in_if);
    v9_u16(m, out_if);
    v9_u32(m, uptime - 3000);
    v9_u32(m, uptime - 1000);
    v9_set_end(m);
}

/* Options template 257: scope interface (type 2, 4 bytes); IF_NAME (82, 16),
 * IF_DESC (83, 24). */
static void v9_ifname_template(v9 *m)
{
    v9_set_begin(m, 1);
    v9_u16(m, 257);
    v9_u16(m, 4); /* scope length in bytes */
    v9_u16(m, 8); /* option length in bytes */
    v9_u16(m, 2);
    v9_u16(m, 4);
    v9_u16(m, 82);
    v9_u16(m, 16);
    v9_u16(m, 83);
    v9_u16(m, 24);
    v9_set_end(m);
}

static void v9_ifname(v9 *m, uint32_t ifindex, const char *name, const char *desc)
{
    v9_set_begin(m, 257);
    v9_u32(m, ifindex);
    memset(m->p + m->n, 0, 40);
    memcpy(m->p + m->n, name, strlen(name));
    memcpy(m->p + m->n + 16, desc, strlen(desc));
    m->n += 40;
    v9_set_end(m);
}

static void v9_interface_names(void **state)
{
    (void)state;
    got *g = got_new();
    fk_collector *h = make(g, NULL, -1);
    uint32_t t = now_secs();
    v9 m;
    v9_begin(&m, 100000, t, 1, 33);
    v9_ifname_template(&m);
    v9_template(&m, 0);
    v9_ifname(&m, 4, "ge-0/0/4", "to ISP");
    v9_ifname(&m, 5, "", "backup link");
    v9_flow(&m, 0, 1234, 4, 5, 100000);
    v9_flow(&m, 0, 99, 6, 4, 100000);
    feed(h, "10.0.0.1", m.p, m.n);
    assert_int_equal(g->n, 2);
    assert_int_equal(g->f[0].bytes, 1234);
    assert_int_equal(g->f[0].in_if, 4);
    assert_string_equal(g->in_name[0], "ge-0/0/4");
    assert_string_equal(g->out_name[0], "backup link");
    assert_string_equal(g->in_name[1], "(null)");
    assert_string_equal(g->out_name[1], "ge-0/0/4");
    assert_non_null(strstr(g->json[0], "\"in_if_name\":\"ge-0/0/4\""));
    fk_collector_stats st = stats(h);
    assert_int_equal(st.interface_names, 2);
    /* Another source id of the same exporter has its own names. */
    v9_begin(&m, 100100, t, 1, 34);
    v9_template(&m, 0);
    v9_flow(&m, 0, 1, 4, 5, 100100);
    feed(h, "10.0.0.1", m.p, m.n);
    assert_int_equal(g->n, 3);
    assert_string_equal(g->in_name[2], "(null)");
    fk_collector_destroy(h);
    free(g);
}

/* ---- export-time sanity and restarts --------------------------------------- */

static void export_time_sanity(void **state)
{
    (void)state;
    got *g = got_new();
    fk_collector *h;
    assert_int_equal(fk_collector_create(&h), 0);
    assert_int_equal(fk_collector_set_callback(h, on_flow, g), 0);
    assert_int_equal(fk_collector_set_int(h, FK_COL_EXPORT_TOLERANCE, 30), 0);
    assert_int_equal(fk_collector_activate(h), 0);
    uint32_t t = now_secs();
    /* On time: nothing counted. */
    v9 m;
    v9_begin(&m, 100000, t, 1, 1);
    v9_template(&m, 0);
    v9_flow(&m, 0, 1, 1, 2, 100000);
    feed(h, "10.0.0.1", m.p, m.n);
    fk_collector_stats st = stats(h);
    assert_int_equal(g->n, 1);
    assert_int_equal(st.export_time_skewed, 0);
    assert_int_equal(st.records_after_export, 0);
    /* Exporter clock an hour behind, then an hour ahead (IPFIX). */
    v9_begin(&m, 100500, t - 3600, 2, 1);
    v9_flow(&m, 0, 1, 1, 2, 100500);
    feed(h, "10.0.0.1", m.p, m.n);
    enc x;
    enc_new(&x);
    assert_int_equal(fk_ipfix_encoder_begin(x.e, 1, t + 3600, x.buf, sizeof x.buf), 0);
    assert_int_equal(fk_ipfix_encoder_write_template(x.e, 300), 0);
    add_if_flow(&x, 1, 2, 1, t + 3600);
    assert_int_equal(fk_ipfix_encoder_finish(x.e, &x.len), 0);
    feed(h, "10.0.0.2", x.buf, x.len);
    st = stats(h);
    assert_int_equal(st.export_time_skewed, 2);
    assert_int_equal(st.records_after_export, 0);
    /* Within the tolerance (20 s off): not counted. */
    v9_begin(&m, 100600, t - 20, 3, 1);
    feed(h, "10.0.0.1", m.p, m.n);
    assert_int_equal(stats(h).export_time_skewed, 2);
    /* A record that ends 60 s after its message's export time; one 20 s after is
     * within the tolerance. */
    assert_int_equal(fk_ipfix_encoder_begin(x.e, 1, t, x.buf, sizeof x.buf), 0);
    add_if_flow(&x, 1, 2, 1, t + 62);
    add_if_flow(&x, 1, 2, 1, t + 22);
    add_if_flow(&x, 1, 2, 1, t);
    assert_int_equal(fk_ipfix_encoder_finish(x.e, &x.len), 0);
    feed(h, "10.0.0.2", x.buf, x.len);
    st = stats(h);
    assert_int_equal(st.records_after_export, 1);
    assert_int_equal(st.export_time_skewed, 2);
    assert_int_equal(g->n, 6); /* counted, still delivered */
    fk_collector_destroy(h);

    /* Tolerance 0 turns the checks off. */
    assert_int_equal(fk_collector_create(&h), 0);
    assert_int_equal(fk_collector_set_int(h, FK_COL_EXPORT_TOLERANCE, 0), 0);
    assert_int_equal(fk_collector_activate(h), 0);
    feed(h, "10.0.0.2", x.buf, x.len);
    v9_begin(&m, 100500, t - 3600, 2, 1);
    feed(h, "10.0.0.1", m.p, m.n);
    st = stats(h);
    assert_int_equal(st.export_time_skewed, 0);
    assert_int_equal(st.records_after_export, 0);
    fk_collector_destroy(h);
    fk_ipfix_encoder_destroy(x.e);
    free(g);
}

static void v9_restart_drops_stale_templates(void **state)
{
    (void)state;
    got *g = got_new();
    fk_collector *h = make(g, NULL, -1);
    uint32_t t = now_secs();
    v9 m;
    /* Life 1: template 260 (4-byte IN_BYTES), names, one record. */
    v9_begin(&m, 100000, t - 40, 1, 1);
    v9_ifname_template(&m);
    v9_ifname(&m, 1, "eth1", "");
    v9_template(&m, 0);
    v9_flow(&m, 0, 111, 1, 2, 100000);
    feed(h, "10.0.0.1", m.p, m.n);
    assert_int_equal(g->n, 1);
    assert_string_equal(g->in_name[0], "eth1");
    /* A late packet (older uptime, same boot time) is not a restart. */
    v9_begin(&m, 99000, t - 41, 0, 1);
    v9_flow(&m, 0, 112, 1, 2, 99000);
    feed(h, "10.0.0.1", m.p, m.n);
    assert_int_equal(g->n, 2);
    fk_collector_stats st = stats(h);
    assert_int_equal(st.exporter_restarts, 0);
    uint64_t withdrawn = st.templates_withdrawn;
    /* Life 2: booted 5 s ago; its template 260 has 8-byte IN_BYTES, but its
     * first data comes before that template. With the stale template it
     * would decode as garbage; it must wait instead. */
    v9_begin(&m, 5000, t, 0, 1);
    v9_flow(&m, 1, 222, 1, 2, 5000);
    feed(h, "10.0.0.1", m.p, m.n);
    st = stats(h);
    assert_int_equal(st.exporter_restarts, 1);
    assert_int_equal(st.templates_withdrawn, withdrawn + 2); /* 260 and options 257 */
    assert_int_equal(st.interface_names, 0);
    assert_int_equal(g->n, 2);
    assert_int_equal(st.pending_sets, 1);
    v9_begin(&m, 5100, t, 1, 1);
    v9_template(&m, 1);
    feed(h, "10.0.0.1", m.p, m.n);
    assert_int_equal(g->n, 3);
    assert_int_equal(g->f[2].bytes, 222);
    assert_string_equal(g->in_name[2], "(null)"); /* names went with life 1 */
    /* No sequence gap is counted for the restart. */
    assert_int_equal(stats(h).sequence_gaps, 0);

    /* sysUptime wrap after 49.7 days (source id 2): not a restart. */
    v9_begin(&m, 0xfffff000u, t - 8, 10, 2);
    v9_template(&m, 0);
    v9_flow(&m, 0, 5, 1, 2, 0xfffff000u);
    feed(h, "10.0.0.1", m.p, m.n);
    v9_begin(&m, 0x00001000u, t, 11, 2); /* 8192 ms later */
    v9_flow(&m, 0, 6, 1, 2, 0x00001000u);
    feed(h, "10.0.0.1", m.p, m.n);
    st = stats(h);
    assert_int_equal(st.exporter_restarts, 1);
    assert_int_equal(g->n, 5);
    assert_int_equal(g->f[4].bytes, 6);
    /* FIRST_SWITCHED (0x1000 - 3000 ms) is from before the wrap: still 3 s
     * before the export, LAST 1 s before. */
    assert_int_equal(g->f[4].start_ns, (int64_t)t * 1000000000LL - 3000000000LL);
    assert_int_equal(g->f[4].end_ns, (int64_t)t * 1000000000LL - 1000000000LL);

    /* sysUptime 113 s back 16 s later (source id 3; a vendor capture shows
     * it): an exporter up for 44 days did not restart in between: its boot
     * time lies before the last message. The template stays. */
    v9_begin(&m, 3872245664u, t - 16, 20, 3);
    v9_template(&m, 0);
    feed(h, "10.0.0.1", m.p, m.n);
    v9_begin(&m, 3872132129u, t, 21, 3);
    v9_flow(&m, 0, 7, 1, 2, 3872132129u);
    feed(h, "10.0.0.1", m.p, m.n);
    st = stats(h);
    assert_int_equal(st.exporter_restarts, 1);
    assert_int_equal(g->n, 6);
    assert_int_equal(g->f[5].bytes, 7);
    fk_collector_destroy(h);
    free(g);
}

static void ipfix_sequence_reset_is_a_restart(void **state)
{
    (void)state;
    got *g = got_new();
    fk_collector *h = make(g, NULL, -1);
    uint32_t t = now_secs();
    enc x;
    enc_new(&x);
    assert_int_equal(fk_ipfix_encoder_begin(x.e, 3, t - 60, x.buf, sizeof x.buf), 0);
    assert_int_equal(fk_ipfix_encoder_write_template(x.e, 300), 0);
    for (int i = 0; i < 20; i++)
        add_if_flow(&x, 1, 2, 10, t - 60);
    assert_int_equal(fk_ipfix_encoder_finish(x.e, &x.len), 0);
    feed(h, "10.0.0.1", x.buf, x.len);
    assert_int_equal(g->n, 20);
    /* A duplicate (same export time) is not a restart. */
    feed(h, "10.0.0.1", x.buf, x.len);
    assert_int_equal(stats(h).exporter_restarts, 0);
    /* The exporter restarts: sequence 0 again, a minute later; template 300
     * now has another layout and its data arrives first. */
    fk_ipfix_encoder_destroy(x.e);
    assert_int_equal(fk_ipfix_encoder_create(&x.e, NULL), 0);
    assert_int_equal(fk_ipfix_encoder_activate(x.e), 0);
    static const fk_field_spec other[] = {{0, 8, 4, 0}, {0, 12, 4, 0}, {0, 2, 4, 0}};
    assert_int_equal(fk_ipfix_encoder_add_template(x.e, 300, other, 3, 0), 0);
    assert_int_equal(fk_ipfix_encoder_begin(x.e, 3, t, x.buf, sizeof x.buf), 0);
    assert_int_equal(fk_ipfix_encoder_record_begin(x.e, 300), 0);
    fk_addr a;
    fk_addr_parse("198.51.100.1", &a);
    assert_int_equal(fk_ipfix_encoder_put_addr(x.e, 0, 8, &a), 0);
    assert_int_equal(fk_ipfix_encoder_put_addr(x.e, 0, 12, &a), 0);
    assert_int_equal(fk_ipfix_encoder_put_uint(x.e, 0, 2, 77), 0);
    assert_int_equal(fk_ipfix_encoder_record_end(x.e), 0);
    assert_int_equal(fk_ipfix_encoder_finish(x.e, &x.len), 0);
    unsigned before = g->n;
    feed(h, "10.0.0.1", x.buf, x.len);
    fk_collector_stats st = stats(h);
    assert_int_equal(st.exporter_restarts, 1);
    assert_int_equal(g->n, before); /* waits for the new template */
    assert_int_equal(fk_ipfix_encoder_begin(x.e, 3, t, x.buf, sizeof x.buf), 0);
    assert_int_equal(fk_ipfix_encoder_write_template(x.e, 300), 0);
    assert_int_equal(fk_ipfix_encoder_finish(x.e, &x.len), 0);
    feed(h, "10.0.0.1", x.buf, x.len);
    assert_int_equal(g->n, before + 1);
    assert_int_equal(g->f[before].packets, 77);
    assert_int_equal(g->f[before].bytes, 0);
    assert_int_equal(stats(h).sequence_gaps, 0);
    fk_ipfix_encoder_destroy(x.e);
    fk_collector_destroy(h);
    free(g);
}

/* systemInitTimeMilliseconds (IE 160) moving forward is a restart even
 * though the sequence numbers go on. Options record carries it (softflowd
 * style); then a flow template that carries it (nProbe, YAF style). */
static const fk_field_spec boot_opt[] = {
    {0, 149, 4, 0}, /* scope: observationDomainId */
    {0, 160, 8, 0}, /* systemInitTimeMilliseconds */
    {0, 305, 4, 0}, /* samplingPacketInterval */
};

static const fk_field_spec boot_flow[] = {
    {0, 8, 4, 0},   /* sourceIPv4Address */
    {0, 12, 4, 0},  /* destinationIPv4Address */
    {0, 2, 4, 0},   /* packetDeltaCount */
    {0, 160, 8, 0}, /* systemInitTimeMilliseconds */
};

static void add_boot(enc *x, uint32_t odid, int64_t boot_ns, uint32_t sampling)
{
    assert_int_equal(fk_ipfix_encoder_record_begin(x->e, 510), 0);
    assert_int_equal(fk_ipfix_encoder_put_uint(x->e, 0, 149, odid), 0);
    assert_int_equal(fk_ipfix_encoder_put_time(x->e, 0, 160, boot_ns), 0);
    assert_int_equal(fk_ipfix_encoder_put_uint(x->e, 0, 305, sampling), 0);
    assert_int_equal(fk_ipfix_encoder_record_end(x->e), 0);
}

static void add_boot_flow(enc *x, uint16_t tid, uint32_t packets, int64_t boot_ns)
{
    fk_addr a;
    fk_addr_parse("198.51.100.1", &a);
    assert_int_equal(fk_ipfix_encoder_record_begin(x->e, tid), 0);
    assert_int_equal(fk_ipfix_encoder_put_addr(x->e, 0, 8, &a), 0);
    assert_int_equal(fk_ipfix_encoder_put_addr(x->e, 0, 12, &a), 0);
    assert_int_equal(fk_ipfix_encoder_put_uint(x->e, 0, 2, packets), 0);
    if (boot_ns)
        assert_int_equal(fk_ipfix_encoder_put_time(x->e, 0, 160, boot_ns), 0);
    assert_int_equal(fk_ipfix_encoder_record_end(x->e), 0);
}

/* Finish a message and give it sequence number *seq (the exporter keeps
 * counting across its restart); *seq then moves by its data records. */
static void finish_seq(enc *x, uint32_t *seq, uint32_t records)
{
    assert_int_equal(fk_ipfix_encoder_finish(x->e, &x->len), 0);
    fk__put32(x->buf + 8, *seq);
    *seq += records;
}

static void ipfix_sys_init_change_is_a_restart(void **state)
{
    (void)state;
    got *g = got_new();
    fk_collector *h = make(g, NULL, -1);
    uint32_t t = now_secs();
    int64_t boot1 = ((int64_t)t - 3600) * 1000000000LL + 123000000LL;
    uint32_t seq = 1000;
    enc x;
    enc_new(&x);
    assert_int_equal(fk_ipfix_encoder_add_template(x.e, 510, boot_opt, 3, 1), 0);
    /* Life 1: templates 300, 500 (names), 510 (boot time); eth1; sampling 10. */
    assert_int_equal(fk_ipfix_encoder_begin(x.e, 7, t - 60, x.buf, sizeof x.buf), 0);
    assert_int_equal(fk_ipfix_encoder_write_template(x.e, 300), 0);
    assert_int_equal(fk_ipfix_encoder_write_template(x.e, 500), 0);
    assert_int_equal(fk_ipfix_encoder_write_template(x.e, 510), 0);
    add_ifname(&x, 1, "eth1", "");
    add_boot(&x, 7, boot1, 10);
    add_if_flow(&x, 1, 2, 100, t - 60);
    finish_seq(&x, &seq, 3);
    feed(h, "10.0.0.1", x.buf, x.len);
    assert_int_equal(g->n, 1);
    assert_string_equal(g->in_name[0], "eth1");
    assert_int_equal(g->f[0].sampling, 10);
    fk_collector_stats st = stats(h);
    assert_int_equal(st.exporter_restarts, 0);
    assert_int_equal(st.interface_names, 1);
    /* The same life re-reads its clock: 400 ms later is within the 1 s slack. */
    assert_int_equal(fk_ipfix_encoder_begin(x.e, 7, t - 50, x.buf, sizeof x.buf), 0);
    add_boot(&x, 7, boot1 + 400000000LL, 10);
    add_if_flow(&x, 1, 2, 101, t - 50);
    finish_seq(&x, &seq, 2);
    feed(h, "10.0.0.1", x.buf, x.len);
    /* A late message of an earlier life (boot time behind): ignored. */
    uint32_t late_seq = seq - 2;
    assert_int_equal(fk_ipfix_encoder_begin(x.e, 7, t - 55, x.buf, sizeof x.buf), 0);
    add_boot(&x, 7, boot1 - 86400000000000LL, 10);
    finish_seq(&x, &late_seq, 1);
    feed(h, "10.0.0.1", x.buf, x.len);
    st = stats(h);
    assert_int_equal(st.exporter_restarts, 0);
    assert_int_equal(g->n, 2);
    assert_string_equal(g->in_name[1], "eth1");
    uint64_t withdrawn = st.templates_withdrawn;
    uint64_t templates = st.templates;

    /* Life 2 booted a minute later and goes on with the sequence. Its one
     * message: templates 300 (another layout) and 510, then the options
     * record with the new boot time and sampling 20, then a flow. */
    enc y;
    assert_int_equal(fk_ipfix_encoder_create(&y.e, NULL), 0);
    assert_int_equal(fk_ipfix_encoder_activate(y.e), 0);
    static const fk_field_spec other[] = {{0, 8, 4, 0}, {0, 12, 4, 0}, {0, 2, 4, 0}};
    assert_int_equal(fk_ipfix_encoder_add_template(y.e, 300, other, 3, 0), 0);
    assert_int_equal(fk_ipfix_encoder_add_template(y.e, 510, boot_opt, 3, 1), 0);
    int64_t boot2 = boot1 + 3540000000000LL;
    assert_int_equal(fk_ipfix_encoder_begin(y.e, 7, t, y.buf, sizeof y.buf), 0);
    assert_int_equal(fk_ipfix_encoder_write_template(y.e, 300), 0);
    assert_int_equal(fk_ipfix_encoder_write_template(y.e, 510), 0);
    add_boot(&y, 7, boot2, 20);
    add_boot_flow(&y, 300, 77, 0);
    finish_seq(&y, &seq, 2);
    feed(h, "10.0.0.1", y.buf, y.len);
    st = stats(h);
    assert_int_equal(st.exporter_restarts, 1);
    /* 500 from life 1 went; 300 and 510, defined again in this message
     * before the boot-time record, stay (and read the flow after it). */
    assert_int_equal(st.templates_withdrawn, withdrawn + 1);
    assert_int_equal(st.templates, templates + 2);
    assert_int_equal(st.interface_names, 0);
    assert_int_equal(st.sequence_gaps, 0);
    assert_int_equal(g->n, 3);
    assert_int_equal(g->f[2].packets, 77);
    assert_int_equal(g->f[2].bytes, 0);
    assert_int_equal(g->f[2].sampling, 20); /* from the same message's options */
    /* Template 500 is gone: an interface-name record of life 1's layout waits. */
    assert_int_equal(fk_ipfix_encoder_begin(x.e, 7, t + 1, x.buf, sizeof x.buf), 0);
    add_ifname(&x, 2, "eth2", "");
    finish_seq(&x, &seq, 1);
    feed(h, "10.0.0.1", x.buf, x.len);
    st = stats(h);
    assert_int_equal(st.pending_sets, 1);
    assert_int_equal(st.exporter_restarts, 1);
    /* Life 2 goes on with the same boot time: no second restart. */
    assert_int_equal(fk_ipfix_encoder_begin(y.e, 7, t + 2, y.buf, sizeof y.buf), 0);
    add_boot(&y, 7, boot2, 20);
    add_boot_flow(&y, 300, 78, 0);
    finish_seq(&y, &seq, 2);
    feed(h, "10.0.0.1", y.buf, y.len);
    assert_int_equal(stats(h).exporter_restarts, 1);
    assert_int_equal(g->n, 4);

    /* Boot time in the flow records (domain 8): restart when it moves on;
     * the data set of the new life that came before its template (same
     * message) is kept and decoded when the template follows. */
    assert_int_equal(fk_ipfix_encoder_add_template(y.e, 320, boot_flow, 4, 0), 0);
    assert_int_equal(fk_ipfix_encoder_add_template(y.e, 321, other, 3, 0), 0);
    seq = 50;
    assert_int_equal(fk_ipfix_encoder_begin(y.e, 8, t - 30, y.buf, sizeof y.buf), 0);
    assert_int_equal(fk_ipfix_encoder_write_template(y.e, 320), 0);
    assert_int_equal(fk_ipfix_encoder_write_template(y.e, 321), 0);
    add_boot_flow(&y, 320, 5, boot1);
    finish_seq(&y, &seq, 1);
    feed(h, "10.0.0.1", y.buf, y.len);
    assert_int_equal(stats(h).exporter_restarts, 1);
    withdrawn = stats(h).templates_withdrawn;
    assert_int_equal(fk_ipfix_encoder_begin(y.e, 8, t - 20, y.buf, sizeof y.buf), 0);
    add_boot_flow(&y, 320, 6, boot1 + 1900000000LL); /* within the slack */
    finish_seq(&y, &seq, 1);
    feed(h, "10.0.0.1", y.buf, y.len);
    assert_int_equal(stats(h).exporter_restarts, 1);
    /* Life 2: a data set of template 322 before its template (waits), 320
     * again, a flow with the new boot time, then template 322. 321 (life
     * 1 only) goes; 320 and the waiting set stay. */
    assert_int_equal(fk_ipfix_encoder_add_template(y.e, 322, other, 3, 0), 0);
    unsigned before = g->n;
    uint64_t pend = stats(h).pending_sets;
    assert_int_equal(fk_ipfix_encoder_begin(y.e, 8, t, y.buf, sizeof y.buf), 0);
    add_boot_flow(&y, 322, 9, 0);
    assert_int_equal(fk_ipfix_encoder_write_template(y.e, 320), 0);
    add_boot_flow(&y, 320, 7, boot2);
    assert_int_equal(fk_ipfix_encoder_write_template(y.e, 322), 0);
    finish_seq(&y, &seq, 2);
    feed(h, "10.0.0.1", y.buf, y.len);
    st = stats(h);
    assert_int_equal(st.exporter_restarts, 2);
    assert_int_equal(st.templates_withdrawn, withdrawn + 1); /* 321 */
    assert_int_equal(st.pending_sets, pend + 1);
    assert_int_equal(g->n, before + 2);
    assert_int_equal(g->f[before].packets, 7);
    assert_int_equal(g->f[before + 1].packets, 9);
    assert_int_equal(g->f[before + 1].odid, 8);
    fk_ipfix_encoder_destroy(y.e);
    fk_ipfix_encoder_destroy(x.e);
    fk_collector_destroy(h);
    free(g);
}

static void count_rec(void *user, fk_flow *f)
{
    (void)f;
    (*(unsigned *)user)++;
}

/* Over TCP neither a sequence reset nor a new boot time is a restart (a
 * restarted exporter opens a new connection; templates come once per
 * connection, so dropping them would lose the rest of its data). Session
 * layer with the real codecs and a TCP peer. */
static void ipfix_sys_init_over_tcp_is_no_restart(void **state)
{
    (void)state;
    const int64_t S = 1000000000LL;
    fk_collector_stats st;
    memset(&st, 0, sizeof st);
    unsigned n = 0;
    fk__col_limits lim = {0, 60 * S, 1 << 20, 1 << 26, 64, 16, 0, 0, 64, 0, false, NULL};
    fk__col_sessions *s;
    assert_int_equal(fk__col_sessions_create(&s, &fk__col_codec_default, &lim, &st, count_rec, &n),
                     0);
    fk__col_peer peer;
    memset(&peer, 0, sizeof peer);
    fk_addr_parse("10.0.0.9", &peer.addr);
    peer.port = 40000;
    peer.transport = FK__COL_TCP;
    peer.conn_id = 1;
    uint32_t t = now_secs();
    int64_t boot1 = ((int64_t)t - 600) * S;
    enc x;
    enc_new(&x);
    assert_int_equal(fk_ipfix_encoder_add_template(x.e, 510, boot_opt, 3, 1), 0);
    uint32_t seq = 0;
    assert_int_equal(fk_ipfix_encoder_begin(x.e, 1, t - 10, x.buf, sizeof x.buf), 0);
    assert_int_equal(fk_ipfix_encoder_write_template(x.e, 300), 0);
    assert_int_equal(fk_ipfix_encoder_write_template(x.e, 510), 0);
    add_boot(&x, 1, boot1, 1);
    add_if_flow(&x, 1, 2, 5, t - 10);
    finish_seq(&x, &seq, 2);
    assert_int_equal(fk__col_sessions_message(s, &peer, x.buf, x.len, 1 * S), 1);
    /* Same connection, sequence back to 0 (not a signal over TCP), same boot time. */
    seq = 0;
    assert_int_equal(fk_ipfix_encoder_begin(x.e, 1, t - 5, x.buf, sizeof x.buf), 0);
    add_boot(&x, 1, boot1, 1);
    finish_seq(&x, &seq, 1);
    fk__col_sessions_message(s, &peer, x.buf, x.len, 2 * S);
    assert_int_equal(st.exporter_restarts, 0);
    uint64_t withdrawn = st.templates_withdrawn;
    /* A new boot time (a clock step, or a mediator's upstream): the
     * connection's templates stay and the flow after it is decoded. */
    assert_int_equal(fk_ipfix_encoder_begin(x.e, 1, t, x.buf, sizeof x.buf), 0);
    add_boot(&x, 1, boot1 + 595 * S, 1);
    add_if_flow(&x, 1, 2, 6, t);
    finish_seq(&x, &seq, 2);
    assert_int_equal(fk__col_sessions_message(s, &peer, x.buf, x.len, 3 * S), 1);
    assert_int_equal(st.exporter_restarts, 0);
    assert_int_equal(st.templates_withdrawn, withdrawn);
    assert_int_equal(st.pending_sets, 0);
    assert_int_equal(st.sequence_gaps, 0);
    fk_ipfix_encoder_destroy(x.e);
    fk__col_sessions_destroy(s);
}

/* ---- process fields under a PEN (flowkit-export -> collector) ---------------- */

static void send_process_flows(const char *uri, int64_t pen)
{
    fk_exporter *e;
    assert_int_equal(fk_exporter_create(&e), 0);
    assert_int_equal(fk_exporter_add_destination(e, uri), 0);
    if (pen >= 0)
        assert_int_equal(fk_exporter_set_int(e, FK_EXP_PEN, pen), 0);
    assert_int_equal(fk_exporter_activate(e), 0);
    fk_flow f;
    memset(&f, 0, sizeof f);
    fk_addr_parse("127.0.0.1", &f.src);
    fk_addr_parse("127.0.0.2", &f.dst);
    f.src_port = 40000;
    f.dst_port = 443;
    f.proto = 6;
    f.bytes = 1000;
    f.packets = 3;
    int64_t now = (int64_t)time(NULL) * 1000000000LL;
    f.start_ns = now - 2000000000LL;
    f.end_ns = now - 1000000000LL;
    fk_exporter_process p = {4242, 1000, "curl", "alice", "/usr/bin/curl"};
    assert_int_equal(fk_exporter_add_flow_process(e, &f, &p), 0);
    f.src_port = 40001;
    assert_int_equal(fk_exporter_add_flow(e, &f), 0); /* no process */
    /* pid and name without a uid: userId goes out as (uid_t)-1, read as none. */
    fk_flow nouid = f;
    nouid.src_port = 40003;
    nouid.present = FK_FLOW_HAS_PROCESS;
    nouid.pid = 7;
    strcpy(nouid.process, "sh");
    assert_int_equal(fk_exporter_add_flow(e, &nouid), 0);
    fk_session_event ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = FK_SESSION_SYN;
    ev.proto = 6;
    ev.src = f.src;
    ev.dst = f.dst;
    ev.src_port = 40002;
    ev.dst_port = 443;
    ev.time_ns = now - 500000000LL;
    assert_int_equal(fk_exporter_add_event_process(e, &ev, &p), 0);
    assert_int_equal(fk_exporter_flush(e), 0);
    fk_exporter_destroy(e);
}

static unsigned receive(fk_collector *h, got *g, unsigned want)
{
    for (int i = 0; i < 200 && g->n < want; i++) {
        fk_collector_dispatch(h);
        usleep(10000);
    }
    return g->n;
}

static void process_fields_by_pen(void **state)
{
    (void)state;
    /* collector pen (-1 = default), exporter pen (-1 = default), match? */
    static const struct {
        int64_t col, exp;
        int match;
    } cases[] = {{-1, -1, 1}, {12345, 12345, 1}, {-1, 12345, 0}, {12345, -1, 0}, {0, -1, 0}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        got *g = got_new();
        fk_collector *h;
        assert_int_equal(fk_collector_create(&h), 0);
        assert_int_equal(fk_collector_set_callback(h, on_flow, g), 0);
        assert_int_equal(fk_collector_add_listener(h, "udp://127.0.0.1:0"), 0);
        if (cases[c].col >= 0)
            assert_int_equal(fk_collector_set_int(h, FK_COL_PEN, cases[c].col), 0);
        assert_int_equal(fk_collector_activate(h), 0);
        char uri[64];
        assert_true(fk_collector_get_listener_uri(h, 0, uri, sizeof uri) > 0);
        send_process_flows(uri, cases[c].exp);
        assert_int_equal(receive(h, g, 4), 4);
        unsigned i = 9, j = 9, k = 9, m = 9;
        for (unsigned r = 0; r < 4; r++) {
            if (g->f[r].src_port == 40000)
                i = r;
            else if (g->f[r].src_port == 40001)
                j = r;
            else if (g->f[r].src_port == 40002)
                k = r;
            else if (g->f[r].src_port == 40003)
                m = r;
        }
        assert_true(i < 4 && j < 4 && k < 4 && m < 4);
        assert_false(g->f[m].present & FK_FLOW_HAS_UID);
        assert_null(strstr(g->json[m], "\"uid\""));
        const fk_flow *f = &g->f[i];
        const fk_flow *plain = &g->f[j];
        /* The event is at its own time, never at 1970. */
        int64_t evtime = (g->f[k].end_ns / 1000000) * 1000000;
        assert_true(evtime > 1700000000000000000LL);
        assert_int_equal(g->f[k].start_ns, g->f[k].end_ns);
        assert_int_equal(f->bytes, 1000);
        if (cases[c].match) {
            assert_true(f->present & FK_FLOW_HAS_PROCESS);
            assert_int_equal(f->pid, 4242);
            assert_string_equal(f->process, "curl");
            assert_true(f->present & FK_FLOW_HAS_UID);
            assert_int_equal(f->uid, 1000);
            assert_string_equal(g->exe[i], "/usr/bin/curl");
            assert_non_null(strstr(g->json[i], ",\"pid\":4242,\"process\":\"curl\","));
            assert_non_null(strstr(g->json[i], ",\"user\":\"alice\",\"uid\":1000,"
                                               "\"exe\":\"/usr/bin/curl\"}"));
            /* The session event is an event line, with its process. */
            assert_int_equal(g->f[k].event, FK_SESSION_SYN);
            assert_non_null(
                strstr(g->json[k], "{\"type\":\"event\",\"event\":\"syn\",\"time\":\""));
            assert_non_null(strstr(g->json[k], "\"src_port\":40002,\"dst_port\":443,\"proto\":6,"
                                               "\"exporter\":\"127.0.0.1\""));
            assert_non_null(strstr(g->json[k], ",\"pid\":4242,\"process\":\"curl\""));
            assert_null(strstr(g->json[k], "\"bytes\""));
            assert_true(g->f[m].present & FK_FLOW_HAS_PROCESS);
            assert_int_equal(g->f[m].pid, 7);
        } else {
            assert_false(f->present & (FK_FLOW_HAS_PROCESS | FK_FLOW_HAS_UID));
            assert_int_equal(f->pid, 0);
            assert_string_equal(f->process, "");
            assert_string_equal(g->exe[i], "(null)");
            assert_null(strstr(g->json[i], "\"pid\""));
            assert_null(strstr(g->json[i], "\"process\""));
            assert_null(strstr(g->json[i], "\"exe\""));
            /* Without the PEN the event kind is unknown: a flow record, no process. */
            assert_int_equal(g->f[k].event, 0);
            assert_null(strstr(g->json[k], "\"pid\""));
        }
        /* userName is a standard element: there whatever the PEN. */
        assert_string_equal(g->user[i], "alice");
        assert_false(plain->present & FK_FLOW_HAS_PROCESS);
        assert_string_equal(g->user[1 - i], "(null)");
        fk_collector_destroy(h);
        free(g);
    }
}

/* ---- metadataTags that break the tag rules ------------------------------ */

static const fk_field_spec tag_fields[] = {
    {0, 8, 4, 0},                                                 /* sourceIPv4Address */
    {0, 12, 4, 0},                                                /* destinationIPv4Address */
    {0, 4, 1, 0},                                                 /* protocolIdentifier */
    {0, 1, 8, 0},                                                 /* octetDeltaCount */
    {0, 2, 8, 0},                                                 /* packetDeltaCount */
    {FK_EXPORTER_DEFAULT_PEN, FK_EXPORTER_IE_TAGS, FK_VARLEN, 0}, /* metadataTags */
};

static void add_tag_flow(fk_ipfix_encoder *e, uint64_t bytes, const char *tags, size_t len)
{
    fk_addr s, d;
    fk_addr_parse("192.0.2.10", &s);
    fk_addr_parse("192.0.2.20", &d);
    assert_int_equal(fk_ipfix_encoder_record_begin(e, 310), 0);
    assert_int_equal(fk_ipfix_encoder_put_addr(e, 0, 8, &s), 0);
    assert_int_equal(fk_ipfix_encoder_put_addr(e, 0, 12, &d), 0);
    assert_int_equal(fk_ipfix_encoder_put_uint(e, 0, 4, 17), 0);
    assert_int_equal(fk_ipfix_encoder_put_uint(e, 0, 1, bytes), 0);
    assert_int_equal(fk_ipfix_encoder_put_uint(e, 0, 2, 1), 0);
    assert_int_equal(
        fk_ipfix_encoder_put_bytes(e, FK_EXPORTER_DEFAULT_PEN, FK_EXPORTER_IE_TAGS, tags, len), 0);
    assert_int_equal(fk_ipfix_encoder_record_end(e), 0);
}

/* A record keeps its flow when its tags are bad; the tags are left out
 * whole and counted, each kind of breakage once. */
static void bad_tags_are_counted(void **state)
{
    (void)state;
    got *g = got_new();
    fk_collector *h = make(g, NULL, -1);
    fk_ipfix_encoder *e;
    assert_int_equal(fk_ipfix_encoder_create(&e, NULL), 0);
    assert_int_equal(fk_ipfix_encoder_set_int(e, FK_IPFIX_ENC_MTU, 4000), 0);
    assert_int_equal(fk_ipfix_encoder_activate(e), 0);
    assert_int_equal(fk_ipfix_encoder_add_template(e, 310, tag_fields, 6, 0), 0);
    static uint8_t buf[4000];
    size_t len;
    static char longv[FK_EXPORTER_TAGS_MAX + 2];
    memset(longv, 'v', sizeof longv);
    memcpy(longv, "k=", 2); /* one valid-looking tag, one byte over the cap */
    const char nul[] = "a=1\0b=2";
    assert_int_equal(fk_ipfix_encoder_begin(e, 1, now_secs(), buf, sizeof buf), 0);
    assert_int_equal(fk_ipfix_encoder_write_template(e, 310), 0);
    add_tag_flow(e, 100, "account-id=123456789012,region=eu-west-1", 40);
    add_tag_flow(e, 200, "Bad Key=1", 9);                  /* space and capital in the key */
    add_tag_flow(e, 300, "vpc-id=\"x\"", 10);              /* a quote in the value */
    add_tag_flow(e, 400, nul, sizeof nul - 1);             /* a NUL inside */
    add_tag_flow(e, 500, longv, FK_EXPORTER_TAGS_MAX + 1); /* too long */
    add_tag_flow(e, 600, "", 0);                           /* empty: no tags, not an error */
    add_tag_flow(e, 700, "k=v,", 4);                       /* an empty item */
    assert_int_equal(fk_ipfix_encoder_finish(e, &len), 0);
    feed(h, "10.0.0.3", buf, len);
    assert_int_equal(g->n, 7);
    assert_string_equal(g->tags[0], "account-id=123456789012,region=eu-west-1");
    for (unsigned i = 1; i < 7; i++) {
        assert_int_equal(g->f[i].bytes, 100 * (i + 1));
        assert_string_equal(g->tags[i], "(null)");
    }
    fk_collector_stats st = stats(h);
    assert_int_equal(st.records, 7);
    assert_int_equal(st.tags_rejected, 5);
    assert_int_equal(st.malformed, 0);
    fk_ipfix_encoder_destroy(e);
    fk_collector_destroy(h);
    free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ipfix_interface_names),
        cmocka_unit_test(interface_names_are_capped),
        cmocka_unit_test(v9_interface_names),
        cmocka_unit_test(export_time_sanity),
        cmocka_unit_test(v9_restart_drops_stale_templates),
        cmocka_unit_test(ipfix_sequence_reset_is_a_restart),
        cmocka_unit_test(ipfix_sys_init_change_is_a_restart),
        cmocka_unit_test(ipfix_sys_init_over_tcp_is_no_restart),
        cmocka_unit_test(process_fields_by_pen),
        cmocka_unit_test(bad_tags_are_counted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
