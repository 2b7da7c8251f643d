/* cli/common: the config file reader of the flowkit tools.
 *
 * A config file is UTF-8/ASCII text of `key = value` lines; `#` starts a
 * comment that runs to the end of its line; blank lines are skipped; spaces
 * and tabs around keys and values are dropped; a line may end in CR LF.
 * Keys are letters, digits, '_', '-' and '.' ('-' reads as '_').
 *
 * What the reader refuses, each with "FILE:LINE: why" (the tool exits 2):
 * anything but a regular file (a directory, /dev/zero, a FIFO, a socket),
 * a file over FKCLI_CONFIG_FILE_MAX bytes, a line over FKCLI_CONFIG_LINE_MAX
 * bytes (so no text beyond a cut is ever read as a setting), a NUL or other
 * control byte (except tab), a line without '=', an empty key or value.
 * The whole text is checked before the first setting is handed on, so
 * nothing of a refused file is applied.
 *
 * The same settings may be written as YAML (yaml.c, Debian's libyaml): a
 * mapping of `key: value`, where nested mappings join their keys with '.'
 * (`collector: {port: 9995}` is the setting "collector.port"), a list of
 * scalars gives its key once per item, and each setting is named by
 * "FILE:LINE:COLUMN" of its value. A file is read as YAML when its name ends
 * in .yaml or .yml, or when its first line that is not blank or a comment is
 * "---" or "key:" (with no '='). YAML refusals: aliases, lists of mappings
 * or lists, a mapping as a key, empty values, control characters in a value,
 * mappings nested deeper than 8, more than one document.
 *
 * Uses libc and libyaml only (the fuzz build links it without the CLIs). */
#ifndef FKCONFIG_H
#define FKCONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Longest line, in bytes without its line end. */
#define FKCLI_CONFIG_LINE_MAX 4095
/* Largest file, in bytes. */
#define FKCLI_CONFIG_FILE_MAX (1024 * 1024)

/* One setting: `where` is "FILE:LINE", key has '-' turned into '_'. All
 * three strings are borrowed for the call. Return 0 to go on; anything else
 * stops the reader, which returns it. */
typedef int (*fkcli_config_cb)(const char *where, const char *key, const char *value, void *user);

/* Parse text[0..len) (need not be NUL-terminated) read from `name`. Returns
 * 0, the callback's nonzero value, or -1 with "NAME:LINE: why" in err. */
int fkcli_config_parse(const char *name, const char *text, size_t len, fkcli_config_cb cb,
                       void *user, char *err, size_t errsize);

/* The YAML form: the same contract, `where` is "NAME:LINE:COLUMN". */
int fkcli_config_parse_yaml(const char *name, const char *text, size_t len, fkcli_config_cb cb,
                            void *user, char *err, size_t errsize);

/* Whether a tool has a setting of that name. */
typedef bool (*fkcli_config_known_fn)(const char *key, void *user);

/* The environment's FLOWKIT_NAME=VALUE variables as settings, in the order
 * of the environment: NAME lowercased is the key, and a leading
 * "SECTION_" for one of `sections` (NULL-terminated, e.g. "exporter")
 * becomes "SECTION." (FLOWKIT_EXPORTER_MTU is "exporter.mtu"). Variables
 * whose key `known` refuses are another tool's (FLOWKIT_TOP_DEBUG) and are
 * skipped. `where` is "env FLOWKIT_NAME". Returns 0 or the callback's
 * nonzero value. */
int fkcli_config_env(const char *const *sections, fkcli_config_known_fn known, fkcli_config_cb cb,
                     void *user);

/* For --check: one "# ignored: env FLOWKIT_NAME (not a setting of TOOL)"
 * line per FLOWKIT_* variable that fkcli_config_env skips with the same
 * sections, known and user (a misspelt name, or another tool's variable
 * such as FLOWKIT_LIBRARY). */
void fkcli_config_env_print_ignored(FILE *out, const char *tool, const char *const *sections,
                                    fkcli_config_known_fn known, void *user);

/* Whether text read from `name` is to be read as YAML (see above). */
bool fkcli_config_is_yaml(const char *name, const char *text, size_t len);

/* Read the regular file at `path` and parse it in the form it is written
 * in; -1 with "PATH: why" or "PATH:LINE[:COLUMN]: why" in err. */
int fkcli_config_read(const char *path, fkcli_config_cb cb, void *user, char *err, size_t errsize);

#endif
