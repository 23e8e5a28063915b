/*
 * Splits config text into statements of words: "#" comments at the start
 * of a word, "double" quotes with \" \\ \n \t escapes, 'single' quotes
 * taken literally, a backslash that quotes the next character, and a
 * backslash at the end of a line that continues the statement. In a
 * "set" statement the first unquoted "=" is a word of its own.
 */
#include <string.h>
#include <stdlib.h>

#include "core/buf.h"
#include "core/error.h"
#include "core/xmalloc.h"
#include "config/private.h"

/* Starts lexing len bytes of text; file names the text in messages. */
void
config_lex_init(struct config_lexer *lx, const char *file, const char *text,
    size_t len)
{
	lx->file = file;
	lx->p = text;
	lx->end = text + len;
	lx->line = 1;
}

/* Frees a statement's words, keeping the array for reuse. */
void
config_lex_clear(struct config_stmt *st)
{
	size_t	i;

	for (i = 0; i < st->n; i++)
		free(st->w[i].s);
	st->n = 0;
}

/* Appends a word to a statement. */
static void
config_lex_push(struct config_stmt *st, struct buf *b, int op)
{
	if (st->n == st->cap) {
		st->cap = st->cap == 0 ? 8 : st->cap * 2;
		st->w = xreallocarray(st->w, st->cap, sizeof *st->w);
	}
	st->w[st->n].s = buf_steal(b);
	st->w[st->n].op = op;
	st->n++;
}

/* Has the statement an "=" operator already? */
static int
config_lex_has_op(const struct config_stmt *st)
{
	size_t	i;

	for (i = 0; i < st->n; i++) {
		if (st->w[i].op)
			return (1);
	}
	return (0);
}

/* Is the lexer at a line end ("\n" or "\r\n")? Returns its length or 0. */
static size_t
config_lex_eol(const struct config_lexer *lx, const char *p)
{
	if (p < lx->end && *p == '\n')
		return (1);
	if (p + 1 < lx->end && p[0] == '\r' && p[1] == '\n')
		return (2);
	return (0);
}

/* Reads a double-quoted string; lx->p is past the opening quote. */
static int
config_lex_dquote(struct config_lexer *lx, struct buf *b, struct error *err)
{
	unsigned	start = lx->line;
	size_t		eol;

	for (;;) {
		if (lx->p == lx->end || config_lex_eol(lx, lx->p) != 0)
			return (config_error(err, lx->file, start,
			    "unterminated double quote, expected a closing '\"'"
			    " on the same line"));
		if (*lx->p == '\0')
			break;
		if (*lx->p == '"') {
			lx->p++;
			return (0);
		}
		if (*lx->p != '\\') {
			buf_addc(b, *lx->p++);
			continue;
		}
		lx->p++;
		if ((eol = config_lex_eol(lx, lx->p)) != 0) {
			lx->p += eol;
			lx->line++;
			continue;
		}
		if (lx->p == lx->end)
			continue;	/* reported at the top */
		switch (*lx->p) {
		case '"':
		case '\\':
			buf_addc(b, *lx->p);
			break;
		case 'n':
			buf_addc(b, '\n');
			break;
		case 't':
			buf_addc(b, '\t');
			break;
		case '\0':
			continue;
		default:
			return (config_error(err, lx->file, lx->line,
			    "unknown escape '\\%c' in double quotes, expected "
			    "\\\", \\\\, \\n or \\t", *lx->p));
		}
		lx->p++;
	}
	return (config_error(err, lx->file, lx->line,
	    "NUL byte, expected text"));
}

/* Reads a single-quoted string; lx->p is past the opening quote. */
static int
config_lex_squote(struct config_lexer *lx, struct buf *b, struct error *err)
{
	for (;;) {
		if (lx->p == lx->end || config_lex_eol(lx, lx->p) != 0)
			return (config_error(err, lx->file, lx->line,
			    "unterminated single quote, expected a closing '''"
			    " on the same line"));
		if (*lx->p == '\0')
			return (config_error(err, lx->file, lx->line,
			    "NUL byte, expected text"));
		if (*lx->p == '\'') {
			lx->p++;
			return (0);
		}
		buf_addc(b, *lx->p++);
	}
}

/*
 * Reads the next statement into st (cleared first). Returns 1 with a
 * statement, 0 at the end of the text, -1 on error.
 */
int
config_lex_next(struct config_lexer *lx, struct config_stmt *st,
    struct error *err)
{
	struct buf	b;
	int		inword = 0, isset;
	size_t		eol;
	char		c;

	config_lex_clear(st);
	buf_init(&b);
	while (lx->p < lx->end) {
		if ((eol = config_lex_eol(lx, lx->p)) != 0) {
			lx->p += eol;
			lx->line++;
			if (inword || st->n != 0)
				break;
			continue;
		}
		c = *lx->p;
		if (c == ' ' || c == '\t' || c == '\r' || c == '\f' ||
		    c == '\v') {
			if (inword)
				config_lex_push(st, &b, 0);
			inword = 0;
			lx->p++;
			continue;
		}
		if (c == '#' && !inword) {
			while (lx->p < lx->end &&
			    config_lex_eol(lx, lx->p) == 0)
				lx->p++;
			continue;
		}
		if (c == '\0') {
			buf_free(&b);
			return (config_error(err, lx->file, lx->line,
			    "NUL byte, expected text"));
		}
		if (!inword && st->n == 0)
			st->line = lx->line;
		if (c == '\\') {
			lx->p++;
			if ((eol = config_lex_eol(lx, lx->p)) != 0) {
				lx->p += eol;
				lx->line++;
				continue;
			}
			if (lx->p == lx->end)
				break;
			if (*lx->p == '\0')
				continue;	/* reported next turn */
			buf_addc(&b, *lx->p++);
			inword = 1;
			continue;
		}
		if (c == '"' || c == '\'') {
			lx->p++;
			inword = 1;
			if ((c == '"' ? config_lex_dquote(lx, &b, err) :
			    config_lex_squote(lx, &b, err)) != 0) {
				buf_free(&b);
				return (-1);
			}
			continue;
		}
		isset = st->n != 0 && strcmp(st->w[0].s, "set") == 0 &&
		    !config_lex_has_op(st);
		if (c == '=' && isset) {
			if (inword)
				config_lex_push(st, &b, 0);
			buf_addc(&b, '=');
			config_lex_push(st, &b, 1);
			inword = 0;
			lx->p++;
			continue;
		}
		buf_addc(&b, c);
		inword = 1;
		lx->p++;
	}
	if (inword)
		config_lex_push(st, &b, 0);
	buf_free(&b);
	return (st->n != 0);
}
