/* flowkit-export's settings: one place that applies a setting whatever
 * its source (option, config file, FLOWKIT_* variable), records where it
 * came from, and prints them back for --check. */
#include <flowkit/flowkit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "export.h"
#include "fkconfig.h"
#include "fkprivs.h"

static void set_string(char **dst, const char *s)
{
    free(*dst);
    *dst = s ? strdup(s) : NULL;
}

static int parse_events(app *a, const char *list)
{
    unsigned m = 0;
    char *copy = strdup(list), *save = NULL;
    if (!copy)
        return -1;
    int rc = 0;
    size_t words = 0;
    for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save), words++) {
        if (strcmp(t, "syn") == 0)
            m |= 1u << FK_SESSION_SYN;
        else if (strcmp(t, "fin") == 0)
            m |= 1u << FK_SESSION_FIN;
        else if (strcmp(t, "rst") == 0)
            m |= 1u << FK_SESSION_RST;
        else if (strcmp(t, "all") == 0)
            m |= EV_ALL;
        else if (strcmp(t, "none") != 0)
            rc = -1;
    }
    free(copy);
    if (rc || !words) /* no word at all ("", ","): refused, never "none" */
        return -1;
    a->events = m;
    a->events_set = true;
    return 0;
}

static bool parse_bool(const char *v, bool *out)
{
    if (!strcmp(v, "1") || !strcasecmp(v, "yes") || !strcasecmp(v, "true") || !strcasecmp(v, "on"))
        *out = true;
    else if (!strcmp(v, "0") || !strcasecmp(v, "no") || !strcasecmp(v, "false") ||
             !strcasecmp(v, "off"))
        *out = false;
    else
        return false;
    return true;
}

static bool parse_seconds(const char *v, double *out)
{
    double d;
    if (fk_param_parse_double(v, &d) != 0 || d < 0)
        return false;
    *out = d;
    return true;
}

static int exporter_set_text(void *h, const char *name, const char *text)
{
    return fk_exporter_set_text(h, name, text);
}

/* The capture's by-name setter; the handle is the app, which notes that
 * attribution was chosen (else live capture gets auto). */
static int capture_set_text(void *h, const char *name, const char *text)
{
    app *a = h;
    int rc = fk_capture_set_text(a->cap, name, text);
    if (rc == 0 && !strcmp(name, "attribution"))
        a->attribution_set = true;
    return rc;
}

/* The exporter's parameters, then the capture's: the names --list-params
 * prints, and the order in which a bare name is looked up. */
void export_params(app *a, fkcli_params out[2])
{
    out[0] = (fkcli_params){"exporter", NULL, 0, a->exp, exporter_set_text};
    out[0].table = fk_exporter_params(&out[0].count);
    out[1] = (fkcli_params){"capture", NULL, 0, a, capture_set_text};
    out[1].table = fk_capture_params(&out[1].count);
}

/* The name --check prints a setting under. */
static const char *check_name(const char *key)
{
    static const char *const same[][2] = {
        {"device", "interface"},        {"file", "read"},  {"source_host", "filter"},
        {"interval", "flush_interval"}, {"exporter.", ""}, {"capture.", ""},
    };
    for (size_t i = 0; i < sizeof same / sizeof same[0]; i++) {
        size_t n = strlen(same[i][0]);
        if (same[i][0][n - 1] == '.' && !strncmp(key, same[i][0], n))
            return key + n;
        if (!strcmp(key, same[i][0]))
            return same[i][1];
    }
    return key;
}

/* A parameter by the name --list-params prints, or its bare name; exits 2
 * when it is unknown or refused, the message prefixed by `where`. */
void export_set_param(app *a, const char *where, const char *name, const char *value)
{
    fkcli_params ps[2];
    export_params(a, ps);
    fkcli_set_named(ps, 2, where, name, value);
    fkcli_origins_set(a->origins, check_name(name), where);
}

void export_apply(app *a, const char *where, const char *key, const char *value, bool cfg)
{
    bool b;
    double d;
    char buf[64];
    fkcli_origins_set(a->origins, check_name(key), where);
    if (!strcmp(key, "interface") || !strcmp(key, "device")) {
        char *copy = strdup(value), *save = NULL;
        if (!copy)
            fkcli_fail("out of memory");
        size_t added = 0;
        for (char *t = strtok_r(copy, ", \t", &save); t; t = strtok_r(NULL, ", \t", &save), added++)
            fkcli_strlist_add(cfg ? &a->cfg_devices : &a->devices, t);
        free(copy);
        if (!added) /* never a silent "any" */
            fkcli_usage("%s: empty device name (give a device, or \"any\")", where);
    } else if (!strcmp(key, "collector")) {
        if (!*value)
            fkcli_usage("%s: empty collector URI", where);
        fkcli_strlist_add(cfg ? &a->cfg_collectors : &a->collectors, value);
    } else if (!strcmp(key, "read") || !strcmp(key, "file")) {
        set_string(&a->file, value);
    } else if (!strcmp(key, "filter")) {
        set_string(&a->filter, value);
    } else if (!strcmp(key, "flow_filter")) {
        fk_filter *f;
        if (fk_filter_compile(value, &f, NULL) != 0)
            fkcli_usage("%s: flow filter: %s", where, fk_error_last()->message);
        fk_filter_destroy(a->flow_filter);
        a->flow_filter = f;
    } else if (!strcmp(key, "user")) {
        fkcli_privs_check_user(value);
        set_string(&a->user, value);
    } else if (!strcmp(key, "source_host")) {
        set_string(&a->source_host, value);
    } else if (!strcmp(key, "events")) {
        if (parse_events(a, value))
            fkcli_usage("%s: \"%s\": expected syn,fin,rst, all or none", where, value);
    } else if (!strcmp(key, "flows")) {
        if (!parse_bool(value, &b))
            fkcli_usage("%s: flows: expected yes or no, got \"%s\"", where, value);
        a->flows = b;
        a->flows_set = true;
    } else if (!strcmp(key, "stdout") || !strcmp(key, "stats")) {
        if (!parse_bool(value, &b))
            fkcli_usage("%s: %s: expected yes or no, got \"%s\"", where, key, value);
        if (!strcmp(key, "stdout"))
            a->json = b;
        else
            a->stats = b;
    } else if (!strcmp(key, "format")) {
        if (!strcmp(value, "json"))
            a->format = FORMAT_JSON;
        else if (!strcmp(value, "vpcflow"))
            a->format = FORMAT_VPCFLOW;
        else if (!strcmp(value, "flowlog"))
            a->format = FORMAT_FLOWLOG;
        else
            fkcli_usage("%s: format: expected json, vpcflow or flowlog, got \"%s\"", where, value);
        a->format_set = true;
    } else if (!strcmp(key, "tag")) {
        fkcli_tags_add(&a->tags, where, value);
    } else if (!strcmp(key, "imds")) {
        if (!parse_bool(value, &b))
            fkcli_usage("%s: imds: expected yes or no, got \"%s\"", where, value);
        if (!b)
            set_string(&a->imds_url, NULL);
        else if (!a->imds_url)
            set_string(&a->imds_url, FKIMDS_DEFAULT_URL);
    } else if (!strcmp(key, "imds_url")) {
        char err[300];
        if (fkimds_check_url(value, err, sizeof err) != 0)
            fkcli_usage("%s: %s", where, err);
        set_string(&a->imds_url, value);
        fkcli_origins_set(a->origins, "imds", where);
    } else if (!strcmp(key, "imds_refresh") || !strcmp(key, "imds_timeout")) {
        bool refresh = !strcmp(key, "imds_refresh");
        double lo = refresh ? 1 : 0.01, hi = refresh ? 86400 : 60;
        if (!parse_seconds(value, &d) || d < lo || d > hi)
            fkcli_usage("%s: %s: \"%s\" is not a number of seconds in [%g, %g]", where,
                        refresh ? "imds-refresh" : "imds-timeout", value, lo, hi);
        *(refresh ? &a->imds_refresh_ms : &a->imds_timeout_ms) = (int)(d * 1000 + 0.5);
    } else if (!strcmp(key, "nice")) {
        int64_t v;
        if (fk_param_parse_int(value, &v) != 0 || v < -20 || v > 19)
            fkcli_usage("%s: nice: \"%s\" is not an integer in [-20, 19]", where, value);
        a->nice_value = (int)v;
        a->nice_given = true;
    } else if (!strcmp(key, "interval")) {
        if (!parse_seconds(value, &d) || d < 0.001 || d > 3600)
            fkcli_usage("%s: interval: \"%s\" is not a number of seconds in [0.001, 3600]", where,
                        value);
        snprintf(buf, sizeof buf, "%.0f", d * 1000);
        export_set_param(a, where, "exporter.flush_interval", buf);
    } else if (!strcmp(key, "duration")) {
        if (!parse_seconds(value, &d))
            fkcli_usage("%s: duration: \"%s\" is not a number of seconds", where, value);
        export_set_param(a, where, "capture.duration", value);
    } else if (!strcmp(key, "drain_timeout")) {
        int64_t ms;
        if (fk_param_parse_int(value, &ms) != 0 || ms < 0 || ms > 3600000)
            fkcli_usage("%s: drain-timeout: \"%s\" is not in [0, 3600000] ms", where, value);
        a->drain_ms = (int)ms;
    } else {
        export_set_param(a, where, key, value);
    }
}

/* ssflow's names (its config.yaml nests them: bpf.source_host,
 * collector.host, exporter.interval_seconds) for flowkit-export's. */
static const char *ssflow_name(const char *key)
{
    static const char *const names[][2] = {
        {"bpf.source_host", "source_host"},        {"collector.host", "collector_host"},
        {"collector.port", "collector_port"},      {"collector.proto", "collector_proto"},
        {"exporter.interval_seconds", "interval"}, {"interval_seconds", "interval"},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (!strcmp(key, names[i][0]))
            return names[i][1];
    return key;
}

/* What a config file or the environment hands over; ssflow-style
 * collector_host, collector_port and collector_proto combine into one
 * collector URI. */
typedef struct config_ctx {
    app *a;
    bool env; /* the environment: its lists replace the file's */
    char host[512], proto[16], port[16];
    char where[300]; /* of the host */
} config_ctx;

static int config_setting(const char *where, const char *key, const char *value, void *user)
{
    config_ctx *c = user;
    key = ssflow_name(key);
    if (!strcmp(key, "collector_host")) {
        snprintf(c->host, sizeof c->host, "%s", value);
        snprintf(c->where, sizeof c->where, "%s", where);
    } else if (!strcmp(key, "collector_port")) {
        snprintf(c->port, sizeof c->port, "%s", value);
    } else if (!strcmp(key, "collector_proto")) {
        if (strcmp(value, "udp") && strcmp(value, "tcp"))
            fkcli_usage("%s: collector_proto must be udp or tcp", where);
        snprintf(c->proto, sizeof c->proto, "%s", value);
    } else {
        /* FLOWKIT_COLLECTOR and FLOWKIT_INTERFACE replace the file's lists */
        bool coll = !strcmp(key, "collector");
        bool dev = !strcmp(key, "interface") || !strcmp(key, "device");
        if (c->env && coll && !c->a->env_collectors) {
            fkcli_strlist_free(&c->a->cfg_collectors);
            c->a->env_collectors = true;
        }
        if (c->env && dev && !c->a->env_devices) {
            fkcli_strlist_free(&c->a->cfg_devices);
            c->a->env_devices = true;
        }
        export_apply(c->a, where, key, value, true);
    }
    return 0;
}

/* collector_host and collector_port, when given, as one more collector. */
static void add_host_port(config_ctx *c, const char *source)
{
    if (!*c->host && !*c->port)
        return;
    if (!*c->host || !*c->port)
        fkcli_usage("%s: collector_host and collector_port go together", source);
    char uri[600];
    bool v6 = strchr(c->host, ':') != NULL && c->host[0] != '[';
    snprintf(uri, sizeof uri, "%s://%s%s%s:%s", c->proto, v6 ? "[" : "", c->host, v6 ? "]" : "",
             c->port);
    if (c->env && !c->a->env_collectors) {
        fkcli_strlist_free(&c->a->cfg_collectors);
        c->a->env_collectors = true;
    }
    fkcli_strlist_add(&c->a->cfg_collectors, uri);
    fkcli_origins_set(c->a->origins, "collector", c->where);
}

/* cli/common/fkconfig.h: a bounded regular text file, key = value lines or
 * YAML, checked whole before a setting is applied. Every error exits 2
 * naming FILE:LINE (YAML: FILE:LINE:COLUMN). */
void export_load_config(app *a, const char *path)
{
    config_ctx c = {.a = a, .proto = "udp"};
    char err[700];
    if (fkcli_config_read(path, config_setting, &c, err, sizeof err) != 0)
        fkcli_usage("--config %s", err);
    add_host_port(&c, path);
}

/* Settings export_apply() takes besides the handles' parameters. */
static bool env_known(const char *key, void *user)
{
    static const char *const own[] = {
        "interface",    "device",        "collector",      "read",           "file",
        "filter",       "flow_filter",   "user",           "source_host",    "events",
        "flows",        "stdout",        "stats",          "nice",           "interval",
        "duration",     "drain_timeout", "collector_host", "collector_port", "collector_proto",
        "format",       "tag",           "imds",           "imds_url",       "imds_refresh",
        "imds_timeout",
    };
    key = ssflow_name(key);
    for (size_t i = 0; i < sizeof own / sizeof own[0]; i++)
        if (!strcmp(key, own[i]))
            return true;
    fkcli_params ps[2];
    export_params(user, ps);
    return fkcli_param_known(ps, 2, key);
}

static int env_setting(const char *where, const char *key, const char *value, void *user)
{
    return config_setting(where, key, value, user);
}

static bool env_known_ctx(const char *key, void *user)
{
    return env_known(key, ((config_ctx *)user)->a);
}

static const char *const env_sections[] = {"exporter", "capture", NULL};

void export_load_env(app *a)
{
    config_ctx c = {.a = a, .env = true, .proto = "udp"};
    fkcli_config_env(env_sections, env_known_ctx, env_setting, &c);
    add_host_port(&c, "environment (FLOWKIT_COLLECTOR_HOST, FLOWKIT_COLLECTOR_PORT)");
}

void export_print_settings(app *a)
{
    size_t n;
    const fk_param_info *t = fk_exporter_params(&n);
    const fkcli_origins *o = a->origins;
    for (size_t i = 0; i < a->collectors.n; i++)
        fkcli_origins_print(stdout, o, "collector", a->collectors.v[i]);
    for (size_t i = 0; i < a->devices.n; i++)
        fkcli_origins_print(stdout, o, "interface", a->devices.v[i]);
    if (a->file)
        fkcli_origins_print(stdout, o, "read", a->file);
    if (a->filter)
        fkcli_origins_print(stdout, o, "filter", a->filter);
    char v[64];
    snprintf(v, sizeof v, "%s%s%s%s", a->events & (1u << FK_SESSION_SYN) ? "syn " : "",
             a->events & (1u << FK_SESSION_FIN) ? "fin " : "",
             a->events & (1u << FK_SESSION_RST) ? "rst " : "", a->events ? "" : "none");
    if (v[0] && v[strlen(v) - 1] == ' ')
        v[strlen(v) - 1] = '\0';
    fkcli_origins_print(stdout, o, "events", v);
    fkcli_origins_print(stdout, o, "flows", a->flows ? "yes" : "no");
    fkcli_origins_print(stdout, o, "stdout", a->json ? "yes" : "no");
    static const char *const formats[] = {"json", "vpcflow", "flowlog"};
    fkcli_origins_print(stdout, o, "format", formats[a->format]);
    if (a->tags.n) {
        char tags[FK_TAG_MAX * (FK_TAG_KEY_MAX + FK_TAG_VALUE_MAX + 2) + 1];
        fkcli_tags_format(&a->tags, tags, sizeof tags);
        fkcli_origins_print(stdout, o, "tag", tags);
    }
    if (a->imds_url) {
        fkcli_origins_print(stdout, o, "imds", a->imds_url);
        snprintf(v, sizeof v, "%g", a->imds_refresh_ms / 1000.0);
        fkcli_origins_print(stdout, o, "imds_refresh", v);
        snprintf(v, sizeof v, "%g", a->imds_timeout_ms / 1000.0);
        fkcli_origins_print(stdout, o, "imds_timeout", v);
    }
    snprintf(v, sizeof v, "%d", a->nice_value);
    fkcli_origins_print(stdout, o, "nice", v);
    for (size_t i = 0; i < n; i++) {
        int64_t x = 0;
        if (t[i].type == FK_PARAM_INT || t[i].type == FK_PARAM_BOOL) {
            fk_exporter_get_int(a->exp, t[i].id, &x);
            snprintf(v, sizeof v, "%lld", (long long)x);
            fkcli_origins_print(stdout, o, t[i].name, v);
        }
    }
    double d = 0;
    if (fk_capture_get_double(a->cap, FK_CAP_DURATION, &d) == 0) {
        snprintf(v, sizeof v, "%g", d);
        fkcli_origins_print(stdout, o, "duration", v);
    }
    int64_t bt = 0;
    if (fk_capture_get_int(a->cap, FK_CAP_BUFFER_TIMEOUT, &bt) == 0) {
        snprintf(v, sizeof v, "%lld", (long long)bt);
        fkcli_origins_print(stdout, o, "buffer_timeout", v);
    }
    fkcli_config_env_print_ignored(stdout, fkcli_prog(), env_sections, env_known, a);
}

/* Sources, filter, destinations and what to export, once all settings are
 * in. Bad usage exits 2. */
void export_finish_setup(app *a)
{
    if (a->collectors.n == 0)
        fkcli_strlist_move(&a->collectors, &a->cfg_collectors);
    if (a->devices.n == 0)
        fkcli_strlist_move(&a->devices, &a->cfg_devices);
    if (!a->events_set && !a->flows_set) {
        a->events = EV_ALL;
        a->flows = true;
    }
    if (a->collectors.n == 0 && !a->json)
        fkcli_usage("no collector: give -c udp://HOST:PORT (or tcp://), or --stdout");
    if (a->format_set && a->format != FORMAT_JSON && !a->json)
        fkcli_usage("--format %s prints on stdout: add --stdout",
                    a->format == FORMAT_VPCFLOW ? "vpcflow" : "flowlog");
    if (a->file && a->devices.n)
        fkcli_usage("-r and -i cannot be combined");
    for (size_t i = 0; i < a->collectors.n; i++)
        if (fk_exporter_add_destination(a->exp, a->collectors.v[i]) != 0)
            fkcli_lib_error(FKCLI_EXIT_USAGE, "-c");
    if (a->source_host) {
        char *f;
        if (a->filter) {
            size_t len = strlen(a->filter) + strlen(a->source_host) + 16;
            f = malloc(len);
            if (f)
                snprintf(f, len, "(%s) and host %s", a->filter, a->source_host);
        } else {
            size_t len = strlen(a->source_host) + 8;
            f = malloc(len);
            if (f)
                snprintf(f, len, "host %s", a->source_host);
        }
        if (!f)
            fkcli_fail("out of memory");
        free(a->filter);
        a->filter = f;
    }
    if (a->filter && fk_capture_set_str(a->cap, FK_CAP_FILTER, a->filter) != 0)
        fkcli_lib_error(FKCLI_EXIT_USAGE, "filter");
    if (a->file) {
        if (fk_capture_add_file(a->cap, a->file) != 0)
            fkcli_lib_error(FKCLI_EXIT_USAGE, "-r");
    } else {
        if (a->devices.n == 0)
            fkcli_strlist_add(&a->devices, "any");
        for (size_t i = 0; i < a->devices.n; i++)
            if (fk_capture_add_device(a->cap, a->devices.v[i]) != 0)
                fkcli_usage("-i %s: %s", a->devices.v[i], fk_error_last()->message);
        /* Process attribution for live traffic: auto unless told otherwise. */
        if (!a->attribution_set && fk_capture_set_str(a->cap, FK_CAP_ATTRIBUTION, "auto") != 0)
            fkcli_lib_error(FKCLI_EXIT_USAGE, "attribution");
    }
}
