/* The filter lexer and its errors: words, brackets, commas, comparison
 * operators and the and/or/not spellings, each with its byte position. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/error.h"
#include "filter/parse_int.h"

int fk__fp_fail_at(parser *p, size_t at, const char *what)
{
    p->err_at = at;
    if (p->tok.at != at)
        return fk__error(FK_EFILTER, "filter: position %zu: %s", at + 1, what);
    if (p->tok.kind == TK_END)
        return fk__error(FK_EFILTER, "filter: position %zu: %s, got the end of the filter", at + 1,
                         what);
    int n = (int)(p->tok.len > 40 ? 40 : p->tok.len);
    return fk__error(FK_EFILTER, "filter: position %zu: %s, got \"%.*s\"", at + 1, what, n,
                     p->text + p->tok.at);
}

int fk__fp_fail(parser *p, const char *what)
{
    return fk__fp_fail_at(p, p->tok.at, what);
}

/* ---- lexer ------------------------------------------------------------- */

static bool word_char(int c)
{
    return isalnum(c) || c == '.' || c == ':' || c == '/' || c == '-' || c == '_';
}

void fk__fp_next(parser *p)
{
    const char *s = p->text;
    size_t i = p->pos;
    for (;;) {
        while (isspace((unsigned char)s[i]))
            i++;
        if (s[i] != '#')
            break;
        while (s[i] && s[i] != '\n')
            i++;
    }
    token t = {TK_END, i, 0, FC_EQ};
    char c = s[i];
    if (c == '\0') {
        p->tok = t;
        p->pos = i;
        return;
    }
    t.len = 1;
    switch (c) {
    case '(':
        t.kind = TK_LP;
        break;
    case ')':
        t.kind = TK_RP;
        break;
    case '[':
        t.kind = TK_LB;
        break;
    case ']':
        t.kind = TK_RB;
        break;
    case ',':
        t.kind = TK_COMMA;
        break;
    case '=':
        t.kind = TK_CMP;
        t.len = s[i + 1] == '=' ? 2 : 1;
        break;
    case '>':
    case '<':
        t.kind = TK_CMP;
        t.cmp = c == '>' ? FC_GT : FC_LT;
        if (s[i + 1] == '=') {
            t.cmp = c == '>' ? FC_GE : FC_LE;
            t.len = 2;
        }
        break;
    case '&':
    case '|':
        if (s[i + 1] != c) {
            t.kind = TK_WORD; /* a lone & or |: reported as unexpected by the parser */
            break;
        }
        t.kind = c == '&' ? TK_AND : TK_OR;
        t.len = 2;
        break;
    case '!':
        t.kind = TK_NOT;
        break;
    default:
        t.kind = TK_WORD;
        if (word_char((unsigned char)c))
            while (word_char((unsigned char)s[i + t.len]))
                t.len++;
        break;
    }
    p->tok = t;
    p->pos = i + t.len;
}

bool fk__fp_is_word(const parser *p, const char *w)
{
    return p->tok.kind == TK_WORD && strlen(w) == p->tok.len &&
           strncasecmp(p->text + p->tok.at, w, p->tok.len) == 0;
}

/* Copy the current token into buf (NUL-terminated); false when too long. */
bool fk__fp_tok_text(const parser *p, char *buf, size_t size)
{
    if (p->tok.len >= size)
        return false;
    memcpy(buf, p->text + p->tok.at, p->tok.len);
    buf[p->tok.len] = '\0';
    return true;
}
