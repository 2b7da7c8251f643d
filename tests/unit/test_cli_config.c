/* The tools' config files (cli/common): the YAML form (ssflow's
 * config.yaml verbatim), which files are read as YAML, FLOWKIT_* variables
 * as settings, and where each setting came from (--check). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fkconfig.h"
#include "fkorigin.h"

#define MAX_SEEN 32

typedef struct seen {
    size_t n;
    char where[MAX_SEEN][128];
    char key[MAX_SEEN][128];
    char value[MAX_SEEN][256];
} seen;

static int keep(const char *where, const char *key, const char *value, void *user)
{
    seen *s = user;
    if (s->n == MAX_SEEN)
        return 99;
    snprintf(s->where[s->n], sizeof s->where[0], "%s", where);
    snprintf(s->key[s->n], sizeof s->key[0], "%s", key);
    snprintf(s->value[s->n], sizeof s->value[0], "%s", value);
    s->n++;
    return 0;
}

static int parse(const char *text, seen *s, char *err, size_t errsize)
{
    memset(s, 0, sizeof *s);
    err[0] = '\0';
    return fkcli_config_parse_yaml("t.yaml", text, strlen(text), keep, s, err, errsize);
}

/* ssflow's example file as it ships: nested sections become dotted keys,
 * each named by the line and column of its value. */
static void test_ssflow_example(void **state)
{
    (void)state;
    static const char text[] = "# ssflow configuration\n"
                               "interface: eth0\n"
                               "bpf:\n"
                               "  source_host: 10.0.0.5\n"
                               "collector:\n"
                               "  host: 192.0.2.10\n"
                               "  port: 2055\n"
                               "exporter:\n"
                               "  interval_seconds: 10\n"
                               "  chunk_size: 50\n";
    seen s;
    char err[256];
    assert_int_equal(parse(text, &s, err, sizeof err), 0);
    assert_int_equal(s.n, 6);
    static const char *const want[][3] = {
        {"t.yaml:2:12", "interface", "eth0"},
        {"t.yaml:4:16", "bpf.source_host", "10.0.0.5"},
        {"t.yaml:6:9", "collector.host", "192.0.2.10"},
        {"t.yaml:7:9", "collector.port", "2055"},
        {"t.yaml:9:21", "exporter.interval_seconds", "10"},
        {"t.yaml:10:15", "exporter.chunk_size", "50"},
    };
    for (size_t i = 0; i < 6; i++) {
        assert_string_equal(s.where[i], want[i][0]);
        assert_string_equal(s.key[i], want[i][1]);
        assert_string_equal(s.value[i], want[i][2]);
    }
}

/* Lists give their key once per item, in order; flow and block style the
 * same; '-' in keys reads as '_'; quoted values keep their '#'. */
static void test_lists_and_styles(void **state)
{
    (void)state;
    static const char text[] = "---\n"
                               "listen:\n"
                               "  - udp://127.0.0.1:2055\n"
                               "  - 'tcp://[::1]:4739'\n"
                               "output: [jsonl:-, \"csv:/tmp/a b#c.csv\"]\n"
                               "collector: {queue-size: 4096, workers: 2}\n"
                               "store.retention: 3600\n";
    seen s;
    char err[256];
    assert_int_equal(parse(text, &s, err, sizeof err), 0);
    assert_int_equal(s.n, 7);
    assert_string_equal(s.key[0], "listen");
    assert_string_equal(s.value[1], "tcp://[::1]:4739");
    assert_string_equal(s.key[1], "listen");
    assert_string_equal(s.key[3], "output");
    assert_string_equal(s.value[3], "csv:/tmp/a b#c.csv");
    assert_string_equal(s.key[4], "collector.queue_size");
    assert_string_equal(s.key[5], "collector.workers");
    assert_string_equal(s.key[6], "store.retention");
    /* the key path is popped after a nested mapping */
    assert_string_equal(s.value[6], "3600");
}

/* Every refusal names FILE:LINE:COLUMN and applies nothing. */
static void test_refusals(void **state)
{
    (void)state;
    static const struct {
        const char *text, *where, *why;
    } bad[] = {
        {"a: b: c\n", "t.yaml:1:5:", "mapping values"},
        {"a: 1\nb: &x 2\nc: *x\n", "t.yaml:3:4:", "aliases"},
        {"a: 1\nl:\n  - k: v\n", "t.yaml:3:5:", "list of mappings"},
        {"a: [[1]]\n", "t.yaml:1:5:", "list of lists"},
        {"a: 1\nb:\n", "t.yaml:2:3:", "no value"},
        {"--- {a: 1}\n--- {b: 2}\n", "t.yaml:2:1:", "one YAML document"},
        {"just a scalar\n", "t.yaml:1:1:", "a mapping"},
        {"a: \"x\\ny\"\n", "t.yaml:1:4:", "control character"},
        {"k y: 1\n", "t.yaml:1:1:", "a key is"},
        {"a: {b: {c: {d: {e: {f: {g: {h: {i: {j: 1}}}}}}}}}\n", "t.yaml:1:", "too deep"},
        {"a: 1\n\tb: 2\n", "t.yaml:2:", ""},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        seen s;
        char err[256];
        assert_int_equal(parse(bad[i].text, &s, err, sizeof err), -1);
        assert_int_equal(s.n, 0); /* checked whole before anything is applied */
        if (strncmp(err, bad[i].where, strlen(bad[i].where)) != 0 || !strstr(err, bad[i].why))
            fail_msg("case %zu: got \"%s\", want \"%s ... %s\"", i, err, bad[i].where, bad[i].why);
    }
}

/* Empty files and comments only: no settings, no error. */
static void test_empty(void **state)
{
    (void)state;
    seen s;
    char err[256];
    assert_int_equal(parse("", &s, err, sizeof err), 0);
    assert_int_equal(parse("# nothing\n", &s, err, sizeof err), 0);
    assert_int_equal(parse("---\n", &s, err, sizeof err), 0);
    assert_int_equal(s.n, 0);
}

static void test_which_form(void **state)
{
    (void)state;
    static const char kv[] = "# a comment\ncollector = udp://127.0.0.1:9995\n";
    static const char yml[] = "# a comment\n\ncollector: udp://127.0.0.1:9995\n";
    assert_false(fkcli_config_is_yaml("a.conf", kv, strlen(kv)));
    assert_true(fkcli_config_is_yaml("a.conf", yml, strlen(yml)));
    assert_true(fkcli_config_is_yaml("config.yaml", kv, strlen(kv)));
    assert_true(fkcli_config_is_yaml("x.yml", "", 0));
    assert_true(fkcli_config_is_yaml("a.conf", "---\n", 4));
    /* a URL value with ':' in a key = value file stays key = value */
    static const char url[] = "http = 127.0.0.1:8080\n";
    assert_false(fkcli_config_is_yaml("a.conf", url, strlen(url)));
    assert_false(fkcli_config_is_yaml("a.conf", "", 0));
}

static bool known_setting(const char *key, void *user)
{
    (void)user;
    return !strcmp(key, "exporter.mtu") || !strcmp(key, "collector") || !strcmp(key, "chunk_size");
}

/* FLOWKIT_NAME: lowercased, SECTION_ joined by '.', others skipped. */
static void test_env(void **state)
{
    (void)state;
    setenv("FLOWKIT_EXPORTER_MTU", "1200", 1);
    setenv("FLOWKIT_COLLECTOR", "tcp://127.0.0.1:4739", 1);
    setenv("FLOWKIT_CHUNK_SIZE", "7", 1);
    setenv("FLOWKIT_SOURCE_DIR", "/src", 1); /* a test harness's, not a setting */
    setenv("FLOWKIT_", "x", 1);
    static const char *const sections[] = {"exporter", "capture", NULL};
    seen s;
    memset(&s, 0, sizeof s);
    assert_int_equal(fkcli_config_env(sections, known_setting, keep, &s), 0);
    assert_int_equal(s.n, 3);
    int mtu = -1, coll = -1, chunk = -1;
    for (size_t i = 0; i < s.n; i++) {
        if (!strcmp(s.key[i], "exporter.mtu"))
            mtu = (int)i;
        if (!strcmp(s.key[i], "collector"))
            coll = (int)i;
        if (!strcmp(s.key[i], "chunk_size"))
            chunk = (int)i;
    }
    assert_true(mtu >= 0 && coll >= 0 && chunk >= 0);
    assert_string_equal(s.where[mtu], "env FLOWKIT_EXPORTER_MTU");
    assert_string_equal(s.value[mtu], "1200");
    assert_string_equal(s.value[coll], "tcp://127.0.0.1:4739");
    unsetenv("FLOWKIT_EXPORTER_MTU");
    unsetenv("FLOWKIT_COLLECTOR");
    unsetenv("FLOWKIT_CHUNK_SIZE");
    unsetenv("FLOWKIT_SOURCE_DIR");
    unsetenv("FLOWKIT_");
}

static void test_origins(void **state)
{
    (void)state;
    fkcli_origins *o = fkcli_origins_new();
    assert_non_null(o);
    assert_null(fkcli_origins_get(o, "mtu"));
    fkcli_origins_set(o, "mtu", "f.yaml:3:6");
    fkcli_origins_set(o, "mtu", "--mtu"); /* the last source wins */
    fkcli_origins_set(o, "pen", "env FLOWKIT_PEN");
    for (int i = 0; i < 100; i++) { /* grows */
        char name[16];
        snprintf(name, sizeof name, "k%d", i);
        fkcli_origins_set(o, name, "x.conf:1");
    }
    assert_string_equal(fkcli_origins_get(o, "mtu"), "--mtu");
    assert_string_equal(fkcli_origins_get(o, "k99"), "x.conf:1");
    char buf[512];
    FILE *f = fmemopen(buf, sizeof buf, "w");
    assert_non_null(f);
    fkcli_origins_print(f, o, "mtu", "1200");
    fkcli_origins_print(f, o, "pen", "9");
    fkcli_origins_print(f, o, "odid", "1");
    fclose(f);
    assert_string_equal(buf, "mtu = 1200  # command line --mtu\n"
                             "pen = 9  # from env FLOWKIT_PEN\n"
                             "odid = 1  # default\n");
    fkcli_origins_free(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ssflow_example), cmocka_unit_test(test_lists_and_styles),
        cmocka_unit_test(test_refusals),       cmocka_unit_test(test_empty),
        cmocka_unit_test(test_which_form),     cmocka_unit_test(test_env),
        cmocka_unit_test(test_origins),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
