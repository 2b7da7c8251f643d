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
 * Uses libc only (the fuzz build links it without the CLIs). */
#ifndef FKCONFIG_H
#define FKCONFIG_H

#include <stddef.h>

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

/* Read the regular file at `path` and parse it; -1 with "PATH: why" or
 * "PATH:LINE: why" in err. */
int fkcli_config_read(const char *path, fkcli_config_cb cb, void *user, char *err, size_t errsize);

#endif
