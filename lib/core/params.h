/* Internal: the parameter store every handle embeds.
 *
 * A handle owns one fk__params initialised from its static fk_param_info
 * table. The public fk_<handle>_set_* functions forward here with the
 * handle's name ("capture") for messages and its activated flag. */
#ifndef FK_CORE_PARAMS_H
#define FK_CORE_PARAMS_H

#include <flowkit/params.h>
#include <stdbool.h>

typedef union fk__param_value {
    int64_t i;
    double d;
    char *s; /* owned by the store */
} fk__param_value;

typedef struct fk__params {
    const char *owner; /* "capture", "collector", ... for messages */
    const fk_param_info *table;
    size_t count;
    fk__param_value *values; /* one per table entry */
    bool activated;          /* set by the handle at activate */
} fk__params;

/* Set every value to its default. Returns FK_OK or FK_ENOMEM. */
int fk__params_init(fk__params *p, const char *owner, const fk_param_info *table, size_t count);
void fk__params_free(fk__params *p);

/* Index of a parameter id in the table, or -1 (error recorded). */
int fk__params_index(const fk__params *p, int id);

/* Checked setters: FK_ENOTFOUND (unknown id), FK_ETYPE, FK_ERANGE with the
 * bounds in the message, FK_EACTIVATED unless the entry is FK_PARAM_RUNTIME. */
int fk__params_set_int(fk__params *p, int id, int64_t value);
int fk__params_set_double(fk__params *p, int id, double value);
int fk__params_set_str(fk__params *p, int id, const char *value);
/* Parse text by the parameter's type ("65536", "0.5", "true", "on", "x"). */
int fk__params_set_text(fk__params *p, const char *name, const char *text);

/* A handle's own typed setters (its extra checks and derived state), for
 * fk__params_set_text_with(). A NULL entry stands for the store's setter. */
typedef struct fk__param_setters {
    int (*set_int)(void *handle, int id, int64_t value);
    int (*set_double)(void *handle, int id, double value);
    int (*set_str)(void *handle, int id, const char *value);
} fk__param_setters;

/* Every handle's fk_X_set_text(): find `name` (FK_ENOTFOUND), parse `text`
 * by its type (FK_EINVAL naming the parameter and the text) and set the
 * value through `set` on `handle`, so a value set by name meets exactly the
 * checks of the typed setter. */
int fk__params_set_text_with(fk__params *p, const fk__param_setters *set, void *handle,
                             const char *name, const char *text);

/* Checked getters for the public API. */
int fk__params_get_int(const fk__params *p, int id, int64_t *out);
int fk__params_get_double(const fk__params *p, int id, double *out);
int fk__params_get_str(const fk__params *p, int id, const char **out);

/* Unchecked fast getters for library code: id must exist with that type. */
int64_t fk__params_int(const fk__params *p, int id);
double fk__params_double(const fk__params *p, int id);
const char *fk__params_str(const fk__params *p, int id);

#endif
