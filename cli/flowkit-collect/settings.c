/* flowkit-collect's settings: one place that applies a setting whatever
 * its source (option, config file, FLOWKIT_* variable), records where it
 * came from, and prints them back for --check. */
#include <flowkit/flowkit.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collect.h"
#include "fkconfig.h"
#include "fkprivs.h"

static const char *const default_listeners[] = {"udp://0.0.0.0:2055", "udp://0.0.0.0:4739",
                                                "tcp://0.0.0.0:4739"};

static int collector_set_text(void *h, const char *name, const char *text)
{
    return fk_collector_set_text(h, name, text);
}

static int store_set_text(void *h, const char *name, const char *text)
{
    return fk_store_set_text(h, name, text);
}

static int prefixstats_set_text(void *h, const char *name, const char *text)
{
    return fk_prefixstats_set_text(h, name, text);
}

void collect_init(collect *c)
{
    memset(c, 0, sizeof *c);
    if (fk_collector_create(&c->h) != 0)
        fkcli_lib_error(FKCLI_EXIT_FAILURE, "create");
    if (fk_store_create(&c->store) != 0)
        fkcli_lib_error(FKCLI_EXIT_FAILURE, "store");
    if (fk_prefixstats_create(&c->pstats) != 0)
        fkcli_lib_error(FKCLI_EXIT_FAILURE, "prefixstats");
    if (!(c->origins = fkcli_origins_new()))
        fkcli_fail("out of memory");
    c->params[0] = (fkcli_params){"collector", NULL, 0, c->h, collector_set_text};
    c->params[0].table = fk_collector_params(&c->params[0].count);
    c->params[1] = (fkcli_params){"store", NULL, 0, c->store, store_set_text};
    c->params[1].table = fk_store_params(&c->params[1].count);
    c->params[2] = (fkcli_params){"prefixstats", NULL, 0, c->pstats, prefixstats_set_text};
    c->params[2].table = fk_prefixstats_params(&c->params[2].count);
    c->http = (fkc_server_config){
        NULL, NULL, FLOWKIT_CONSOLE_DIR, FLOWKIT_JS_DIR, 1 << 20, 64, 8, 10000, NULL, NULL, NULL};
}

void collect_free(collect *c)
{
    fkcli_strlist_free(&c->listen);
    fkcli_strlist_free(&c->cfg_listen);
    fkcli_strlist_free(&c->output);
    fkcli_strlist_free(&c->output_filter);
    fkcli_strlist_free(&c->cfg_output);
    fkcli_strlist_free(&c->cfg_output_filter);
    fkcli_strlist_free(&c->owned);
    free(c->filter);
    free(c->cfg_filter);
    free(c->senders_file);
    free(c->user);
    fkcli_tags_free(&c->tags);
    fkcli_origins_free(c->origins);
    fk_store_destroy(c->store);
    fk_collector_destroy(c->h);
    fk_prefixstats_destroy(c->pstats); /* after the collector that feeds it */
}

/* A copy the collect owns until collect_free(). */
static const char *keep(collect *c, const char *s)
{
    fkcli_strlist_add(&c->owned, s);
    return c->owned.v[c->owned.n - 1];
}

static void set_owned(char **dst, const char *s)
{
    free(*dst);
    if (!(*dst = strdup(s)))
        fkcli_fail("out of memory");
}

/* The name --check prints a setting under: "collector.X"/"store.X" for the
 * handles' parameters, the key itself for the tool's own. */
static void check_name(const collect *c, const char *key, char *out, size_t size)
{
    for (size_t i = 0; i < 3; i++) {
        const fkcli_params *p = &c->params[i];
        size_t n = strlen(p->owner);
        const char *bare = !strncmp(key, p->owner, n) && key[n] == '.' ? key + n + 1 : key;
        if (fk_param_find(p->table, p->count, bare)) {
            snprintf(out, size, "%s.%s", p->owner, bare);
            for (char *s = out; *s; s++)
                if (*s == '-')
                    *s = '_';
            return;
        }
    }
    snprintf(out, size, "%s", key);
}

/* The tool's own settings, besides the handles' parameters. */
static const char *const own_keys[] = {
    "listen",         "output",          "filter",    "allow",         "stats",
    "http",           "http_token_file", "http_root", "http_max_body", "http_max_clients",
    "http_max_feeds", "store_cidr",      "senders",   "senders_keys",  "user",
    "prefix_stats",   "http_history",
};

static bool is_own(const char *key)
{
    for (size_t i = 0; i < sizeof own_keys / sizeof own_keys[0]; i++)
        if (!strcmp(key, own_keys[i]))
            return true;
    return !strcmp(key, "tag"); /* --tag, repeatable */
}

static void add_output(collect *c, const char *uri, bool cfg)
{
    char **pending = cfg ? &c->cfg_filter : &c->filter;
    fkcli_strlist_add(cfg ? &c->cfg_output : &c->output, uri);
    fkcli_strlist_add(cfg ? &c->cfg_output_filter : &c->output_filter, *pending ? *pending : "");
    free(*pending);
    *pending = NULL;
}

void collect_apply(collect *c, const char *where, const char *key, const char *value, bool cfg)
{
    char name[128];
    check_name(c, key, name, sizeof name);
    fkcli_origins_set(c->origins, name, where);
    if (!strcmp(key, "listen")) {
        fkcli_strlist_add(cfg ? &c->cfg_listen : &c->listen, value);
    } else if (!strcmp(key, "output")) {
        add_output(c, value, cfg);
    } else if (!strcmp(key, "filter")) {
        char **pending = cfg ? &c->cfg_filter : &c->filter;
        if (*pending)
            fkcli_usage("%s: a second filter before the output the first applies to", where);
        fk_filter *f; /* checked now, so the error names where it was written */
        if (fk_filter_compile(value, &f, NULL) != 0)
            fkcli_usage("%s: %s", where, fk_error_last()->message);
        fk_filter_destroy(f);
        set_owned(pending, value);
    } else if (!strcmp(key, "allow")) {
        if (fk_collector_add_allow(c->h, value) != 0)
            fkcli_lib_error(FKCLI_EXIT_USAGE, where);
    } else if (!strcmp(key, "stats")) {
        c->stats_secs = fkcli_parse_u64(where, value, 1, 86400);
    } else if (!strcmp(key, "http")) {
        c->http.listen = keep(c, value);
    } else if (!strcmp(key, "http_history")) {
        c->http_history = keep(c, value);
    } else if (!strcmp(key, "http_token_file")) {
        c->http.token_file = keep(c, value);
    } else if (!strcmp(key, "http_root")) {
        c->http.www_dir = keep(c, value);
    } else if (!strcmp(key, "http_max_body")) {
        c->http.max_body = (size_t)fkcli_parse_u64(where, value, 1024, 1u << 30);
    } else if (!strcmp(key, "http_max_clients")) {
        c->http.max_conns = (unsigned)fkcli_parse_u64(where, value, 2, 10000);
    } else if (!strcmp(key, "http_max_feeds")) {
        c->http.max_feeds = (unsigned)fkcli_parse_u64(where, value, 0, 1000);
    } else if (!strcmp(key, "store_cidr")) {
        if (fk_store_add_cidr(c->store, value) != 0)
            fkcli_lib_error(FKCLI_EXIT_USAGE, where);
    } else if (!strcmp(key, "senders")) {
        set_owned(&c->senders_file, value);
    } else if (!strcmp(key, "senders_keys")) {
        c->http.senders_keys_file = keep(c, value);
    } else if (!strcmp(key, "tag")) {
        fkcli_tags_add(&c->tags, where, value);
    } else if (!strcmp(key, "prefix_stats")) {
        c->prefix_stats = fkcli_parse_u64(where, value, 0, 1) != 0;
    } else if (!strcmp(key, "user")) {
        fkcli_privs_check_user(value);
        set_owned(&c->user, value);
    } else {
        fkcli_set_named(c->params, 3, where, key, value);
    }
}

/* What a config file or the environment hands over. */
typedef struct source {
    collect *c;
    bool env; /* the environment: its lists replace the file's */
} source;

static int source_setting(const char *where, const char *key, const char *value, void *user)
{
    source *s = user;
    collect *c = s->c;
    if (s->env && !strcmp(key, "listen") && !c->env_listen) {
        fkcli_strlist_free(&c->cfg_listen);
        c->env_listen = true;
    }
    if (s->env && !strcmp(key, "output") && !c->env_output) {
        fkcli_strlist_free(&c->cfg_output);
        fkcli_strlist_free(&c->cfg_output_filter);
        c->env_output = true;
    }
    collect_apply(c, where, key, value, true);
    return 0;
}

void collect_load_config(collect *c, const char *path)
{
    source s = {c, false};
    char err[700];
    if (fkcli_config_read(path, source_setting, &s, err, sizeof err) != 0)
        fkcli_usage("--config %s", err);
}

/* Whether `key` is a setting of the collect (`user`). */
static bool collect_knows(const char *key, void *user)
{
    const collect *c = user;
    return is_own(key) || fkcli_param_known(c->params, 3, key);
}

static bool env_known(const char *key, void *user)
{
    return collect_knows(key, ((source *)user)->c);
}

static const char *const env_sections[] = {"collector", "store", "prefixstats", NULL};

void collect_load_env(collect *c)
{
    source s = {c, true};
    fkcli_config_env(env_sections, env_known, source_setting, &s);
}

/* One source's outputs into the collector, the pending filter (written
 * after the last output) onto the default output when there is none. */
static void add_outputs(collect *c, fkcli_strlist *out, fkcli_strlist *filters, const char *pending)
{
    if (pending && out->n > 0)
        fkcli_usage("--filter applies to the -o after it; none follows \"%s\"", pending);
    if (out->n == 0) {
        fkcli_strlist_add(out, "jsonl:-");
        fkcli_strlist_add(filters, pending ? pending : "");
    }
    for (size_t i = 0; i < out->n; i++) {
        const char *f = filters->v[i];
        if ((*f ? fk_collector_add_output_filtered(c->h, out->v[i], f)
                : fk_collector_add_output(c->h, out->v[i])) != 0)
            fkcli_lib_error(FKCLI_EXIT_USAGE, *f ? "--filter" : "-o");
    }
}

void collect_finish(collect *c)
{
    /* the command line's listeners and outputs replace the file's */
    if (c->listen.n == 0)
        fkcli_strlist_move(&c->listen, &c->cfg_listen);
    bool cli_outputs = c->output.n > 0 || c->filter;
    if (!cli_outputs) {
        fkcli_strlist_move(&c->output, &c->cfg_output);
        fkcli_strlist_move(&c->output_filter, &c->cfg_output_filter);
        free(c->filter);
        c->filter = c->cfg_filter;
        c->cfg_filter = NULL;
    }
    if (c->listen.n == 0)
        for (size_t i = 0; i < sizeof default_listeners / sizeof default_listeners[0]; i++)
            fkcli_strlist_add(&c->listen, default_listeners[i]);
    for (size_t i = 0; i < c->listen.n; i++)
        if (fk_collector_add_listener(c->h, c->listen.v[i]) != 0)
            fkcli_lib_error(FKCLI_EXIT_USAGE, "-l");
    add_outputs(c, &c->output, &c->output_filter, c->filter);
    for (size_t i = 0; i < c->tags.n; i++)
        if (fk_collector_add_tag(c->h, c->tags.v[i].key, c->tags.v[i].value) != 0)
            fkcli_lib_error(FKCLI_EXIT_USAGE, "--tag");
    /* History beyond the store: --http-history, else the first
     * clickhouse:// output; "none" turns it off. */
    if (c->http_history && strcmp(c->http_history, "none") != 0) {
        if (strncmp(c->http_history, "clickhouse://", 13) != 0)
            fkcli_usage("--http-history %s: expected clickhouse://HOST:PORT/DB.TABLE or none",
                        c->http_history);
        c->http.history_uri = c->http_history;
    }
    for (size_t i = 0; !c->http_history && i < c->output.n; i++)
        if (!strncmp(c->output.v[i], "clickhouse://", 13)) {
            c->http.history_uri = c->output.v[i];
            break;
        }
    if (c->http.senders_keys_file && (!c->senders_file || !c->http.listen))
        fkcli_usage("--senders-keys needs --senders FILE and --http");
    if (c->prefix_stats && !c->senders_file)
        fkcli_usage("--prefix-stats needs --senders FILE (the prefixes are the senders')");
}

void collect_print_settings(const collect *c)
{
    const fkcli_origins *o = c->origins;
    for (size_t i = 0; i < c->listen.n; i++)
        fkcli_origins_print(stdout, o, "listen", c->listen.v[i]);
    for (size_t i = 0; i < c->output.n; i++) {
        if (*c->output_filter.v[i])
            fkcli_origins_print(stdout, o, "filter", c->output_filter.v[i]);
        fkcli_origins_print(stdout, o, "output", c->output.v[i]);
    }
    char v[64];
    snprintf(v, sizeof v, "%" PRIu64, c->stats_secs);
    fkcli_origins_print(stdout, o, "stats", v);
    if (c->http.listen)
        fkcli_origins_print(stdout, o, "http", c->http.listen);
    if (c->http.listen && (c->http_history || c->http.history_uri))
        fkcli_origins_print(stdout, o, "http_history",
                            c->http.history_uri ? c->http.history_uri : "none");
    if (c->senders_file)
        fkcli_origins_print(stdout, o, "senders", c->senders_file);
    if (c->user)
        fkcli_origins_print(stdout, o, "user", c->user);
    if (c->prefix_stats)
        fkcli_origins_print(stdout, o, "prefix_stats", "1");
    if (c->tags.n) {
        char tags[FK_TAG_MAX * (FK_TAG_KEY_MAX + FK_TAG_VALUE_MAX + 2) + 1];
        fkcli_tags_format(&c->tags, tags, sizeof tags);
        fkcli_origins_print(stdout, o, "tag", tags);
    }
    for (size_t k = 0; k < 3; k++) {
        const fkcli_params *p = &c->params[k];
        for (size_t i = 0; i < p->count; i++) {
            const fk_param_info *t = &p->table[i];
            int64_t x = 0;
            if (t->type != FK_PARAM_INT && t->type != FK_PARAM_BOOL)
                continue;
            if ((k == 0   ? fk_collector_get_int(c->h, t->id, &x)
                 : k == 1 ? fk_store_get_int(c->store, t->id, &x)
                          : fk_prefixstats_get_int(c->pstats, t->id, &x)) != 0)
                continue;
            char name[128];
            snprintf(name, sizeof name, "%s.%s", p->owner, t->name);
            snprintf(v, sizeof v, "%" PRId64, x);
            fkcli_origins_print(stdout, o, name, v);
        }
    }
    fkcli_config_env_print_ignored(stdout, fkcli_prog(), env_sections, collect_knows, (void *)c);
}
