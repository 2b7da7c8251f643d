/* flowkit-export: what its two files share. main.c runs the capture and
 * the exporter; settings.c turns the command line, the config file (key =
 * value or YAML) and FLOWKIT_* variables into the handles' settings and
 * prints them with --check. */
#ifndef FLOWKIT_EXPORT_H
#define FLOWKIT_EXPORT_H

#include <flowkit/flowkit.h>
#include <stdbool.h>
#include <stdint.h>

#include "fkcli.h"
#include "fkimds.h"
#include "fkorigin.h"
#include "fkstrlist.h"
#include "fktags.h"

/* Live capture priority (as flowkit-top): attribution must look sockets up
 * while they live, also on a busy machine. */
#define DEFAULT_NICE (-10)
#define EV_ALL ((1u << FK_SESSION_SYN) | (1u << FK_SESSION_FIN) | (1u << FK_SESSION_RST))

/* What --stdout prints (--format). */
enum { FORMAT_JSON, FORMAT_VPCFLOW, FORMAT_FLOWLOG };

typedef struct app {
    fk_capture *cap;
    fk_exporter *exp;
    /* sources and destinations: the command line replaces the config file's */
    fkcli_strlist devices, collectors, cfg_devices, cfg_collectors;
    char *file, *filter, *source_host;
    char *user;             /* --user: who to run as once the capture is open */
    fk_filter *flow_filter; /* --flow-filter: only matching flows go out */
    unsigned events;        /* bit per fk_session_kind */
    bool events_set, flows, flows_set;
    bool json, stats, check; /* json: --stdout, in the --format below */
    int format;              /* FORMAT_* */
    bool format_set;
    fkcli_tags tags; /* --tag: JSON "tags", the text formats' columns */
    /* --imds: the metadata provider, off while imds_url is NULL */
    char *imds_url;
    int imds_refresh_ms, imds_timeout_ms;
    fkimds *imds;
    unsigned imds_generation;
    fkimds_values imds_values;
    /* the tags of every line: --tag's, then the provider's (borrowed from
     * tags and imds_values) */
    fk_tag line_tags[FK_TAG_MAX];
    size_t nline_tags;
    unsigned tags_cut;    /* the exporter refused some of them (too long in all) */
    bool attribution_set; /* the attribution parameter was given (else auto when live) */
    int nice_value;       /* live capture: scheduling priority */
    bool nice_given;      /* set by --nice or the config file, not the default */
    int drain_ms;
    fkcli_origins *origins;           /* where each setting came from (--check) */
    bool env_devices, env_collectors; /* FLOWKIT_INTERFACE/_COLLECTOR replaced the file's */
    /* counters of the CLI itself */
    uint64_t flows_seen, flows_filtered, events_seen, add_errors, capture_errors;
} app;

/* The exporter's and the capture's parameter tables, for --set and
 * --list-params. */
void export_params(app *a, fkcli_params out[2]);
/* A parameter by the name --list-params prints, or its bare name; exits 2
 * when it is unknown or refused, the message prefixed by `where`. */
void export_set_param(app *a, const char *where, const char *name, const char *value);
/* One setting from anywhere: `where` is the option ("-c"), "FILE:LINE" or
 * "env FLOWKIT_X"; `cfg`: -i/-c values go to the config file's lists,
 * which the command line's replace. Bad values exit 2. */
void export_apply(app *a, const char *where, const char *key, const char *value, bool cfg);
/* The config file at `path` (key = value or YAML). */
void export_load_config(app *a, const char *path);
/* The FLOWKIT_* variables, over the config file. */
void export_load_env(app *a);
/* Sources, filter, destinations and what to export, once all settings
 * are in; bad usage exits 2. */
void export_finish_setup(app *a);
/* --check: the effective settings, each with where it came from. */
void export_print_settings(app *a);
/* --help (help.c). */
void export_help(void);
/* --stats: every counter, on stderr (stats.c). */
void export_print_stats(app *a);

#endif
