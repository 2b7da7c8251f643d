/* flowkit-collect: what its files share. main.c runs the collector (and the
 * console); settings.c turns the command line, the config file (key = value
 * or YAML) and FLOWKIT_* variables into the handles' settings and prints
 * them with --check. */
#ifndef FLOWKIT_COLLECT_H
#define FLOWKIT_COLLECT_H

#include <flowkit/flowkit.h>
#include <stdbool.h>
#include <stdint.h>

#include "fkcli.h"
#include "fkorigin.h"
#include "fkstrlist.h"
#include "fktags.h"
#include "server.h"

typedef struct collect {
    fk_collector *h;
    fk_store *store;
    fk_prefixstats *pstats; /* --prefix-stats (activated in main.c) */
    bool prefix_stats;
    fkcli_params params[3]; /* the collector's, the store's, the prefix statistics' */
    fkcli_origins *origins; /* where each setting came from (--check) */
    /* Listeners and outputs: the command line's replace the config file's
     * (and a FLOWKIT_LISTEN/_OUTPUT variable the file's). An output's
     * filter is at the same index in *_filter ("" for none). */
    fkcli_strlist listen, cfg_listen;
    fkcli_strlist output, output_filter, cfg_output, cfg_output_filter;
    char *filter, *cfg_filter; /* --filter waiting for the -o it applies to */
    bool env_listen, env_output;
    uint64_t stats_secs;       /* --stats */
    fkc_server_config http;    /* --http and its limits */
    const char *http_history;  /* --http-history as given (in owned), or NULL */
    fkcli_strlist owned;       /* strings `http` points to */
    char *senders_file, *user; /* --senders, --user */
    fkcli_tags tags;           /* --tag, config "tag", FLOWKIT_TAG */
} collect;

/* Handles created, defaults set; exits 1 when that fails. */
void collect_init(collect *c);
void collect_free(collect *c);
/* One setting from anywhere: `where` is the option ("-l"), "FILE:LINE",
 * "FILE:LINE:COLUMN" or "env FLOWKIT_X"; `cfg`: listeners and outputs go
 * to the config file's lists. Bad values exit 2 naming `where`. */
void collect_apply(collect *c, const char *where, const char *key, const char *value, bool cfg);
/* The config file at `path` (key = value or YAML). */
void collect_load_config(collect *c, const char *path);
/* The FLOWKIT_* variables, over the config file. */
void collect_load_env(collect *c);
/* The listeners and outputs into the collector (defaults where none was
 * given); bad usage exits 2. */
void collect_finish(collect *c);
/* --check: the effective settings, each with where it came from. */
void collect_print_settings(const collect *c);

#endif
