/**
 * @file params.h
 * @brief Self-describing parameters shared by every handle.
 *
 * Each handle kind (capture, collector, exporter) numbers its parameters in
 * an enum and publishes a table of ::fk_param_info entries that describe
 * them: name, type, bounds, default and help text. Typed setters
 * (`fk_<handle>_set_int()`, `_set_double()`, `_set_str()`) refuse values out
 * of bounds with `FK_ERANGE` and a message naming the bounds; they never
 * clamp. Setting a parameter after activate fails with `FK_EACTIVATED`
 * unless it carries #FK_PARAM_RUNTIME. Command-line tools, configuration
 * files and the Python binding read their options from these tables.
 *
 * @since 0.1.0
 */
#ifndef FLOWKIT_PARAMS_H
#define FLOWKIT_PARAMS_H

#include <flowkit/common.h>

FK_BEGIN_DECLS

/** Value type of a parameter. @since 0.1.0 */
typedef enum fk_param_type {
    FK_PARAM_INT = 0,    /**< 64-bit signed integer within [min_int, max_int]. */
    FK_PARAM_BOOL = 1,   /**< 0 or 1, set with the int setter. */
    FK_PARAM_DOUBLE = 2, /**< double within [min_double, max_double]. */
    FK_PARAM_STRING = 3  /**< string (copied), NULL allowed where the help says so. */
} fk_param_type;

/** Flag: the parameter may be changed after activate. @since 0.1.0 */
#define FK_PARAM_RUNTIME 0x1u

/** Description of one parameter. @since 0.1.0 */
typedef struct fk_param_info {
    int id;                     /**< Value of the handle's parameter enum. */
    const char *name;           /**< Stable name, e.g. "queue_size". */
    fk_param_type type;         /**< Value type. */
    unsigned flags;             /**< #FK_PARAM_RUNTIME or 0. */
    int64_t min_int;            /**< Smallest value (INT, BOOL). */
    int64_t max_int;            /**< Largest value (INT, BOOL). */
    int64_t default_int;        /**< Default (INT, BOOL). */
    double min_double;          /**< Smallest value (DOUBLE). */
    double max_double;          /**< Largest value (DOUBLE). */
    double default_double;      /**< Default (DOUBLE). */
    const char *default_string; /**< Default (STRING); may be NULL. */
    const char *unit;           /**< Unit such as "bytes" or "s", or "". */
    const char *help;           /**< One-line description. */
} fk_param_info;

/**
 * Name of a parameter type: "int", "bool", "double" or "string".
 *
 * @param type the type.
 * @return a static string; "unknown" for other values.
 * @since 0.1.0
 */
FK_API const char *fk_param_type_name(fk_param_type type);

/**
 * Find a parameter by name in a table.
 *
 * Names match exactly, except that '-' in @p name matches '_' in the table,
 * so command-line spellings ("queue-size") work.
 *
 * @param table a handle's parameter table, e.g. from fk_capture_params().
 * @param count number of entries in @p table.
 * @param name the name to look up.
 * @return the entry (borrowed from the static table), or NULL with
 *         `FK_ENOTFOUND` recorded in fk_error_last().
 * @since 0.1.0
 */
FK_API const fk_param_info *fk_param_find(const fk_param_info *table, size_t count,
                                          const char *name);

/**
 * Parse an integer the way every flowkit input does: parameters set by
 * name (`fk_X_set_text()`), config files and command-line options.
 *
 * The text is an optional sign (`-` or `+`) followed by decimal digits, or
 * by `0x` / `0X` and hexadecimal digits. Leading zeros are decimal: "010" is
 * ten, never eight (there is no octal form). Nothing else is accepted: no
 * spaces, no empty text, no suffix.
 *
 * @param text the text (borrowed for the call).
 * @param out the value; untouched on failure.
 * @return 0, `FK_EINVAL` (NULL argument or not an integer) or `FK_ERANGE`
 *         (outside the range of int64_t), with the text quoted in
 *         fk_error_last(). Thread-safe.
 * @since 0.2.0
 */
FK_API int fk_param_parse_int(const char *text, int64_t *out);

/**
 * Parse a decimal number the way every flowkit input does.
 *
 * The text is an optional sign, decimal digits with an optional `.` and
 * fraction (at least one digit in all), and an optional exponent (`e` or
 * `E`, optional sign, digits): "1", "0.5", ".5", "-2.5e3". The decimal point
 * is always `.`, whatever the program's locale. Not accepted: spaces,
 * hexadecimal forms, "inf", "nan", an empty text, a suffix.
 *
 * @param text the text (borrowed for the call).
 * @param out the value; untouched on failure.
 * @return 0, `FK_EINVAL` (NULL argument or not a decimal number) or
 *         `FK_ERANGE` (too large for a double), with the text quoted in
 *         fk_error_last(). Thread-safe.
 * @since 0.2.0
 */
FK_API int fk_param_parse_double(const char *text, double *out);

FK_END_DECLS

#endif /* FLOWKIT_PARAMS_H */
