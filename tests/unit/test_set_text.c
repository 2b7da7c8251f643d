/* fk_X_set_text on every handle that has a parameter table (capture,
 * collector, exporter, netflow, IPFIX encoder, template cache), through the
 * public API only: every name of the table takes its default as text and
 * reads it back, '-' stands for '_', and bad names, bad text and values out
 * of bounds are refused with the typed setter's code. */
#include <flowkit/flowkit.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "fk_test.h"

/* One handle type behind void pointers. */
typedef struct handle_ops {
    const char *owner;
    const fk_param_info *(*params)(size_t *count);
    int (*create)(void **out);
    int (*set_text)(void *h, const char *name, const char *text);
    int (*get_int)(void *h, int id, int64_t *out);
    int (*get_double)(void *h, int id, double *out); /* NULL: none */
    void (*destroy)(void *h);
} handle_ops;

#define OPS_COMMON(X)                                                                              \
    static int X##_set_text_any(void *h, const char *n, const char *t)                             \
    {                                                                                              \
        return fk_##X##_set_text(h, n, t);                                                         \
    }                                                                                              \
    static void X##_destroy_any(void *h)                                                           \
    {                                                                                              \
        fk_##X##_destroy(h);                                                                       \
    }

OPS_COMMON(capture)
OPS_COMMON(collector)
OPS_COMMON(exporter)
OPS_COMMON(netflow)
OPS_COMMON(ipfix_encoder)
OPS_COMMON(template_cache)
OPS_COMMON(prefixstats)

static int capture_create_any(void **out)
{
    return fk_capture_create((fk_capture **)out);
}
static int capture_get_int_any(void *h, int id, int64_t *out)
{
    return fk_capture_get_int(h, id, out);
}
static int capture_get_double_any(void *h, int id, double *out)
{
    return fk_capture_get_double(h, id, out);
}
static int collector_create_any(void **out)
{
    return fk_collector_create((fk_collector **)out);
}
static int collector_get_int_any(void *h, int id, int64_t *out)
{
    return fk_collector_get_int(h, id, out);
}
static int exporter_create_any(void **out)
{
    return fk_exporter_create((fk_exporter **)out);
}
static int exporter_get_int_any(void *h, int id, int64_t *out)
{
    return fk_exporter_get_int(h, id, out);
}
static int netflow_create_any(void **out)
{
    return fk_netflow_create((fk_netflow **)out);
}
static int netflow_get_int_any(void *h, int id, int64_t *out)
{
    return fk_netflow_get_int(h, (fk_netflow_param)id, out);
}
static int ipfix_encoder_create_any(void **out)
{
    return fk_ipfix_encoder_create((fk_ipfix_encoder **)out, NULL);
}
static int ipfix_encoder_get_int_any(void *h, int id, int64_t *out)
{
    return fk_ipfix_encoder_get_int(h, id, out);
}
static int template_cache_create_any(void **out)
{
    return fk_template_cache_create((fk_template_cache **)out, NULL);
}
static int template_cache_get_int_any(void *h, int id, int64_t *out)
{
    return fk_template_cache_get_int(h, id, out);
}
static int prefixstats_create_any(void **out)
{
    return fk_prefixstats_create((fk_prefixstats **)out);
}
static int prefixstats_get_int_any(void *h, int id, int64_t *out)
{
    return fk_prefixstats_get_int(h, id, out);
}

static const handle_ops handles[] = {
    {"capture", fk_capture_params, capture_create_any, capture_set_text_any, capture_get_int_any,
     capture_get_double_any, capture_destroy_any},
    {"collector", fk_collector_params, collector_create_any, collector_set_text_any,
     collector_get_int_any, NULL, collector_destroy_any},
    {"exporter", fk_exporter_params, exporter_create_any, exporter_set_text_any,
     exporter_get_int_any, NULL, exporter_destroy_any},
    {"netflow", fk_netflow_params, netflow_create_any, netflow_set_text_any, netflow_get_int_any,
     NULL, netflow_destroy_any},
    {"ipfix_encoder", fk_ipfix_encoder_params, ipfix_encoder_create_any, ipfix_encoder_set_text_any,
     ipfix_encoder_get_int_any, NULL, ipfix_encoder_destroy_any},
    {"template_cache", fk_template_cache_params, template_cache_create_any,
     template_cache_set_text_any, template_cache_get_int_any, NULL, template_cache_destroy_any},
    {"prefixstats", fk_prefixstats_params, prefixstats_create_any, prefixstats_set_text_any,
     prefixstats_get_int_any, NULL, prefixstats_destroy_any},
};

/* The entry's name with '-' for '_' ("queue-size"). */
static void dashed(char *dst, size_t size, const char *name)
{
    snprintf(dst, size, "%s", name);
    for (char *p = dst; *p; p++)
        if (*p == '_')
            *p = '-';
}

/* Every entry: its default as text, then a non-default in-range value under
 * the dashed name, both read back. */
static void check_entry(const handle_ops *o, void *h, const fk_param_info *e)
{
    char text[64], name[64];
    dashed(name, sizeof name, e->name);
    if (e->type == FK_PARAM_INT || e->type == FK_PARAM_BOOL) {
        snprintf(text, sizeof text, "%" PRId64, e->default_int);
        assert_int_equal(o->set_text(h, e->name, text), 0);
        int64_t v = -1;
        assert_int_equal(o->get_int(h, e->id, &v), 0);
        assert_int_equal(v, e->default_int);
        int64_t other = e->default_int == e->min_int ? e->max_int : e->min_int;
        snprintf(text, sizeof text, "%" PRId64, other);
        if (o->set_text(h, name, text) != 0) {
            /* A handle's own extra bound (capture memory_limit) refuses the
             * table minimum with the typed setter's code. */
            assert_int_equal(fk_error_last()->code, FK_ERANGE);
        } else {
            assert_int_equal(o->get_int(h, e->id, &v), 0);
            assert_int_equal(v, other);
        }
        assert_int_equal(o->set_text(h, e->name, "seven"), FK_EINVAL);
        assert_non_null(strstr(fk_error_last()->message, e->name));
        if (e->max_int < INT64_MAX && e->type == FK_PARAM_INT) {
            snprintf(text, sizeof text, "%" PRId64, e->max_int + 1);
            assert_int_equal(o->set_text(h, e->name, text), FK_ERANGE);
        }
    } else if (e->type == FK_PARAM_DOUBLE) {
        assert_non_null(o->get_double);
        snprintf(text, sizeof text, "%.17g", e->default_double);
        assert_int_equal(o->set_text(h, name, text), 0);
        double d = -1;
        assert_int_equal(o->get_double(h, e->id, &d), 0);
        assert_true(d == e->default_double);
        assert_int_equal(o->set_text(h, e->name, "fast"), FK_EINVAL);
        snprintf(text, sizeof text, "%.17g", e->max_double * 2 + 1);
        assert_int_equal(o->set_text(h, e->name, text), FK_ERANGE);
    } else {
        /* Strings are handle-specific (a BPF filter must compile): only
         * the refusal of no text is common. */
        assert_int_equal(o->set_text(h, e->name, NULL), FK_EINVAL);
    }
}

static void every_handle_every_name(void **state)
{
    (void)state;
    for (size_t k = 0; k < sizeof handles / sizeof handles[0]; k++) {
        const handle_ops *o = &handles[k];
        size_t n = 0;
        const fk_param_info *t = o->params(&n);
        assert_true(n > 0);
        void *h = NULL;
        assert_int_equal(o->create(&h), 0);
        for (size_t i = 0; i < n; i++)
            check_entry(o, h, &t[i]);
        assert_int_equal(o->set_text(h, "no_such_parameter", "1"), FK_ENOTFOUND);
        assert_non_null(strstr(fk_error_last()->message, "no_such_parameter"));
        assert_int_equal(o->set_text(h, NULL, "1"), FK_EINVAL);
        assert_int_equal(o->set_text(NULL, t[0].name, "1"), FK_EINVAL);
        o->destroy(h);
    }
}

/* Text goes through the typed setter: capture's memory_limit has a bound
 * beyond its table's (0 or at least 16 MiB), and the filter compiles. */
static void text_meets_typed_checks(void **state)
{
    (void)state;
    fk_capture *c;
    assert_int_equal(fk_capture_create(&c), 0);
    assert_int_equal(fk_capture_set_text(c, "memory_limit", "1000"), FK_ERANGE);
    assert_non_null(strstr(fk_error_last()->message, "memory_limit"));
    assert_int_equal(fk_capture_set_text(c, "memory-limit", "0x2000000"), 0);
    int64_t v = 0;
    assert_int_equal(fk_capture_get_int(c, FK_CAP_MEMORY_LIMIT, &v), 0);
    assert_int_equal(v, 0x2000000);
    assert_int_equal(fk_capture_set_text(c, "filter", "tcp port 80"), 0);
    const char *f = NULL;
    assert_int_equal(fk_capture_get_str(c, FK_CAP_FILTER, &f), 0);
    assert_string_equal(f, "tcp port 80");
    fk_capture_destroy(c);

    fk_collector *col;
    assert_int_equal(fk_collector_create(&col), 0);
    assert_int_equal(fk_collector_set_text(col, "scale-sampling", "yes"), 0);
    assert_int_equal(fk_collector_get_int(col, FK_COL_SCALE_SAMPLING, &v), 0);
    assert_int_equal(v, 1);
    assert_int_equal(fk_collector_set_text(col, "workers", "65"), FK_ERANGE);
    assert_non_null(strstr(fk_error_last()->message, "workers = 65 is out of range [0, 64]"));
    fk_collector_destroy(col);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_handle_every_name),
        cmocka_unit_test(text_meets_typed_checks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
