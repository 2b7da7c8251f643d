/* The filter parser inside (parse.c, lex.c, values.c): the parser's state,
 * its tokens, and what the three files call of each other. Not installed. */
#ifndef FK_FILTER_PARSE_INT_H
#define FK_FILTER_PARSE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "filter/filter_int.h"

typedef enum tok_kind {
    TK_END,
    TK_WORD,
    TK_LP,
    TK_RP,
    TK_LB,
    TK_RB,
    TK_COMMA,
    TK_CMP,
    TK_AND,
    TK_OR,
    TK_NOT
} tok_kind;

typedef struct token {
    tok_kind kind;
    size_t at, len; /* position and length in the text */
    fk__fcmp cmp;   /* TK_CMP */
} token;

typedef struct parser {
    const char *text;
    size_t pos;
    token tok;
    fk_filter *f;
    uint32_t cap_nodes, cap_kids, cap_nets, cap_ports;
    int depth;
    size_t err_at;
} parser;

/* Errors (lex.c): record the first error at byte `at` (or at the current
 * token) with a message naming the position; return FK_EFILTER. */
int fk__fp_fail_at(parser *p, size_t at, const char *what);
int fk__fp_fail(parser *p, const char *what);
/* The lexer (lex.c): read the next token into p->tok. */
void fk__fp_next(parser *p);
/* Whether the current token is the word w (case-insensitive). */
bool fk__fp_is_word(const parser *p, const char *w);
/* The current token's text into buf; false when it does not fit. */
bool fk__fp_tok_text(const parser *p, char *buf, size_t size);

/* Values (values.c): a number (with k/M/G suffixes when scaled) up to max;
 * a comparison operator (default "="); an address or network. */
int fk__fp_number(parser *p, bool scaled, uint64_t max, const char *what, uint64_t *out);
fk__fcmp fk__fp_comparator(parser *p);
int fk__fp_address(parser *p, bool allow_prefix, const char *what, fk__fnet *net);
/* Address text (a, a/len, or a partial IPv4 network with allow_prefix)
 * into net; false when it is none of those. text may be changed. */
bool fk__fp_net_text(char *text, bool allow_prefix, fk__fnet *net);
/* Prefix length of a dotted IPv4 netmask, or -1 when it is not one. */
int fk__fp_mask_prefix(const char *text);

#endif
