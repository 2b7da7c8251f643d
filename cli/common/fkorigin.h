/* cli/common: where each setting of a tool came from, for --check.
 *
 * A tool records, for each setting it applies, the name --check prints it
 * under and where its value came from: "FILE:LINE" or "FILE:LINE:COLUMN"
 * (a config file), "env FLOWKIT_NAME" (the environment) or the option
 * ("-c", "--set"). The last record of a name wins, as the last value does.
 * Uses libc only. */
#ifndef FKORIGIN_H
#define FKORIGIN_H

#include <stdio.h>

typedef struct fkcli_origins fkcli_origins;

/* An empty record; NULL when out of memory. */
fkcli_origins *fkcli_origins_new(void);
void fkcli_origins_free(fkcli_origins *o);
/* `name` came from `where` (both copied; names longer than 63 bytes and
 * wheres longer than 255 are cut). Out of memory: the record is skipped
 * (--check then says "default"). */
void fkcli_origins_set(fkcli_origins *o, const char *name, const char *where);
/* Where `name` came from, NULL if it was never set (the default). */
const char *fkcli_origins_get(const fkcli_origins *o, const char *name);
/* Print "NAME = VALUE  # from WHERE" as one --check line ("# command line
 * WHERE" for options, "# default" when never set): a line a config file
 * takes back. */
void fkcli_origins_print(FILE *out, const fkcli_origins *o, const char *name, const char *value);

#endif
