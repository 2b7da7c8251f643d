/* The YAML form of the config file (see fkconfig.h), read with libyaml's
 * event parser: nested mappings become dotted keys ("collector.port"), a
 * list of scalars hands its key over once per item, every setting is named
 * by FILE:LINE:COLUMN of its value. */
#include "fkconfig.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <yaml.h>

/* Deepest mapping accepted ("a.b.c.d" is depth 4). */
#define YAML_DEPTH_MAX 8
/* Longest dotted key. */
#define YAML_KEY_MAX 255

static int refuse(char *err, size_t errsize, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int refuse(char *err, size_t errsize, const char *fmt, ...)
{
    if (err && errsize) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errsize, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* Where the reader is: one frame per open mapping or list. */
typedef struct frame {
    bool list;      /* a list (of scalars), else a mapping */
    bool has_key;   /* mapping: a key was read, its value is next */
    size_t key_len; /* length of the dotted path before this frame's key */
} frame;

typedef struct walk {
    const char *name;
    fkcli_config_cb cb;
    void *user;
    char *err;
    size_t errsize;
    frame stack[YAML_DEPTH_MAX + 2];
    int depth; /* frames in use */
    char key[YAML_KEY_MAX + 1];
    size_t key_len;
    bool document_seen;
} walk;

static void where_of(const walk *w, const yaml_mark_t *m, char *out, size_t size)
{
    snprintf(out, size, "%s:%zu:%zu", w->name, (size_t)m->line + 1, (size_t)m->column + 1);
}

static int refuse_at(walk *w, const yaml_mark_t *m, const char *why)
{
    char where[600];
    where_of(w, m, where, sizeof where);
    return refuse(w->err, w->errsize, "%s: %s", where, why);
}

static bool key_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.';
}

/* A mapping key: appended to the dotted path ('-' read as '_'). */
static int push_key(walk *w, const yaml_event_t *ev)
{
    const char *k = (const char *)ev->data.scalar.value;
    size_t n = ev->data.scalar.length;
    if (n == 0)
        return refuse_at(w, &ev->start_mark, "empty key");
    for (size_t i = 0; i < n; i++)
        if (!key_char(k[i]))
            return refuse_at(w, &ev->start_mark, "a key is letters, digits, '_', '-' and '.'");
    size_t at = w->key_len + (w->key_len ? 1 : 0);
    if (at + n > YAML_KEY_MAX)
        return refuse_at(w, &ev->start_mark, "key path too long");
    if (w->key_len)
        w->key[w->key_len] = '.';
    for (size_t i = 0; i < n; i++)
        w->key[at + i] = k[i] == '-' ? '_' : k[i];
    w->key_len = at + n;
    w->key[w->key_len] = '\0';
    return 0;
}

static int emit(walk *w, const yaml_event_t *ev)
{
    const char *v = (const char *)ev->data.scalar.value;
    size_t n = ev->data.scalar.length;
    if (n == 0)
        return refuse_at(w, &ev->start_mark, "no value (give one, or leave the key out)");
    if (n > FKCLI_CONFIG_LINE_MAX)
        return refuse_at(w, &ev->start_mark, "value too long");
    if (memchr(v, '\0', n))
        return refuse_at(w, &ev->start_mark, "NUL in a value");
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)v[i] < 0x20 && v[i] != '\t')
            return refuse_at(w, &ev->start_mark, "control character in a value");
    if (!w->cb)
        return 0;
    char where[600];
    where_of(w, &ev->start_mark, where, sizeof where);
    return w->cb(where, w->key, v, w->user);
}

/* The value of the innermost mapping's key is complete: drop the key. */
static void value_done(walk *w)
{
    frame *f = &w->stack[w->depth - 1];
    if (!f->list) {
        f->has_key = false;
        w->key_len = f->key_len;
        w->key[w->key_len] = '\0';
    }
}

static int on_event(walk *w, const yaml_event_t *ev)
{
    frame *top = w->depth ? &w->stack[w->depth - 1] : NULL;
    switch (ev->type) {
    case YAML_STREAM_START_EVENT:
    case YAML_STREAM_END_EVENT:
    case YAML_NO_EVENT:
        return 0;
    case YAML_DOCUMENT_START_EVENT:
        if (w->document_seen)
            return refuse_at(w, &ev->start_mark, "one YAML document per file");
        w->document_seen = true;
        return 0;
    case YAML_DOCUMENT_END_EVENT:
        return 0;
    case YAML_ALIAS_EVENT:
        return refuse_at(w, &ev->start_mark, "aliases (*name) are not supported");
    case YAML_SCALAR_EVENT:
        if (!top) {
            /* a document of one scalar: empty files and "---" alone are fine */
            if (ev->data.scalar.length == 0)
                return 0;
            return refuse_at(w, &ev->start_mark, "expected \"key: value\" settings (a mapping)");
        }
        if (top->list)
            return emit(w, ev);
        if (!top->has_key) {
            top->has_key = true;
            return push_key(w, ev);
        }
        {
            int rc = emit(w, ev);
            value_done(w);
            return rc;
        }
    case YAML_MAPPING_START_EVENT:
        if (top && top->list)
            return refuse_at(w, &ev->start_mark, "a list of mappings is not a setting");
        if (top && !top->has_key)
            return refuse_at(w, &ev->start_mark, "a mapping cannot be a key");
        if (w->depth > YAML_DEPTH_MAX)
            return refuse_at(w, &ev->start_mark, "mappings nested too deep");
        w->stack[w->depth++] = (frame){false, false, w->key_len};
        return 0;
    case YAML_SEQUENCE_START_EVENT:
        if (!top)
            return refuse_at(w, &ev->start_mark, "expected \"key: value\" settings (a mapping)");
        if (top->list)
            return refuse_at(w, &ev->start_mark, "a list of lists is not a setting");
        if (!top->has_key)
            return refuse_at(w, &ev->start_mark, "a list cannot be a key");
        w->stack[w->depth++] = (frame){true, false, w->key_len};
        return 0;
    case YAML_MAPPING_END_EVENT:
    case YAML_SEQUENCE_END_EVENT:
        w->depth--;
        if (w->depth > 0)
            value_done(w);
        return 0;
    }
    return 0;
}

/* One pass; cb NULL only checks the text. */
static int walk_text(const char *name, const char *text, size_t len, fkcli_config_cb cb, void *user,
                     char *err, size_t errsize)
{
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser))
        return refuse(err, errsize, "%s: out of memory", name);
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    walk w = {.name = name, .cb = cb, .user = user, .err = err, .errsize = errsize};
    int rc = 0;
    for (bool done = false; !done && rc == 0;) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&parser, &ev)) {
            char where[600];
            yaml_mark_t m = parser.problem_mark;
            where_of(&w, &m, where, sizeof where);
            rc = refuse(err, errsize, "%s: %s%s%s", where,
                        parser.problem ? parser.problem : "not YAML", parser.context ? " " : "",
                        parser.context ? parser.context : "");
            break;
        }
        done = ev.type == YAML_STREAM_END_EVENT;
        rc = on_event(&w, &ev);
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&parser);
    return rc;
}

int fkcli_config_parse_yaml(const char *name, const char *text, size_t len, fkcli_config_cb cb,
                            void *user, char *err, size_t errsize)
{
    if (memchr(text, '\0', len))
        return refuse(err, errsize, "%s: NUL byte: not a text file", name);
    int rc = walk_text(name, text, len, NULL, NULL, err, errsize);
    return rc ? rc : walk_text(name, text, len, cb, user, err, errsize);
}

/* The first line that is not blank or a comment. */
static const char *first_line(const char *text, size_t len, size_t *n)
{
    for (size_t pos = 0; pos < len;) {
        const char *s = text + pos;
        const char *nl = memchr(s, '\n', len - pos);
        size_t l = nl ? (size_t)(nl - s) : len - pos;
        pos += l + 1;
        size_t i = 0;
        while (i < l && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r'))
            i++;
        if (i == l || s[i] == '#')
            continue;
        *n = l - i;
        return s + i;
    }
    return NULL;
}

bool fkcli_config_is_yaml(const char *name, const char *text, size_t len)
{
    size_t nl = strlen(name);
    if ((nl > 5 && !strcmp(name + nl - 5, ".yaml")) || (nl > 4 && !strcmp(name + nl - 4, ".yml")))
        return true;
    size_t n = 0;
    const char *l = first_line(text, len, &n);
    if (!l)
        return false;
    if (n >= 3 && !memcmp(l, "---", 3))
        return true;
    /* "key: value" or "key:" before any '=': YAML; "key = value": not. */
    size_t i = 0;
    while (i < n && key_char(l[i]))
        i++;
    return i > 0 && i < n && l[i] == ':' && (i + 1 == n || l[i + 1] == ' ' || l[i + 1] == '\r') &&
           !memchr(l, '=', n);
}
