/*
 * Statements of the config language (set, unset, account and its keys,
 * search, bind, unbind, color, source), the config object that holds what
 * they say, and the loading of files and key maps. Loading stops at the
 * first error; what was read before it stays in the config.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/error.h"
#include "core/log.h"
#include "core/xmalloc.h"
#include "config/private.h"

/* What one file being parsed needs to know. */
struct config_parse {
	struct config		*cfg;
	const char		*file;		/* for messages */
	char			*dir;		/* base of "source" */
	int			 depth;		/* of nested source */
	int			 keymap;	/* a key map: binds only */
	struct config_account	*account;	/* the open block */
};

static int	config_parse_set(struct config_parse *, struct config_stmt *,
		    struct error *);
static int	config_parse_unset(struct config_parse *,
		    struct config_stmt *, struct error *);
static int	config_parse_account(struct config_parse *,
		    struct config_stmt *, struct error *);
static int	config_parse_search(struct config_parse *,
		    struct config_stmt *, struct error *);
static int	config_parse_bind(struct config_parse *,
		    struct config_stmt *, struct error *);
static int	config_parse_unbind(struct config_parse *,
		    struct config_stmt *, struct error *);
static int	config_parse_color(struct config_parse *,
		    struct config_stmt *, struct error *);
static int	config_parse_source(struct config_parse *,
		    struct config_stmt *, struct error *);

static const struct config_statement {
	const char	*name;
	int		(*fn)(struct config_parse *, struct config_stmt *,
			    struct error *);
	size_t		 min;		/* arguments */
	size_t		 max;
	const char	*usage;
} config_statements[] = {
	{ "set", config_parse_set, 1, 3, "set NAME = VALUE" },
	{ "unset", config_parse_unset, 1, 1, "unset NAME" },
	{ "account", config_parse_account, 1, 1, "account NAME" },
	{ "search", config_parse_search, 2, 2, "search NAME \"QUERY\"" },
	{ "bind", config_parse_bind, 3, 3, "bind SCREEN KEY ACTION" },
	{ "unbind", config_parse_unbind, 2, 2, "unbind SCREEN KEY" },
	{ "color", config_parse_color, 3, 10,
	  "color OBJECT [ATTRIBUTE...] FOREGROUND BACKGROUND" },
	{ "source", config_parse_source, 1, 1, "source FILE" },
};
#define CONFIG_NSTATEMENTS \
	(sizeof config_statements / sizeof config_statements[0])

#define CONFIG_ACCOUNT_PATH	0x1
#define CONFIG_ACCOUNT_TLS	0x2
#define CONFIG_ACCOUNT_BOOL	0x4
static const struct config_account_key {
	const char	*name;
	size_t		 offset;
	int		 flags;
} config_account_keys[] = {
	{ "imap", offsetof(struct config_account, imap), 0 },
	{ "pop3", offsetof(struct config_account, pop3), 0 },
	{ "smtp", offsetof(struct config_account, smtp), 0 },
	{ "sendmail", offsetof(struct config_account, sendmail), 0 },
	{ "maildir", offsetof(struct config_account, maildir),
	  CONFIG_ACCOUNT_PATH },
	{ "from", offsetof(struct config_account, from), 0 },
	{ "alternates", offsetof(struct config_account, alternates), 0 },
	{ "password_cmd", offsetof(struct config_account, password_cmd), 0 },
	{ "keep_on_server", offsetof(struct config_account, keep_on_server),
	  0 },
	{ "poll_interval", offsetof(struct config_account, poll_interval), 0 },
	{ "subscribed_only", offsetof(struct config_account, subscribed_only),
	  CONFIG_ACCOUNT_BOOL },
	{ "tls", offsetof(struct config_account, tls), CONFIG_ACCOUNT_TLS },
	{ "tls_ca_file", offsetof(struct config_account, tls_ca_file),
	  CONFIG_ACCOUNT_PATH },
	{ "user", offsetof(struct config_account, user), 0 },
	{ "notmuch_config", offsetof(struct config_account, notmuch_config),
	  CONFIG_ACCOUNT_PATH },
};
#define CONFIG_NACCOUNT_KEYS \
	(sizeof config_account_keys / sizeof config_account_keys[0])

static int	config_parse_account_key(struct config_parse *,
		    const struct config_account_key *, struct config_stmt *,
		    struct error *);

static const char *const config_screens[KM_NSCREENS] = {
	"generic", "index", "pager", "folders", "help"
};

/* A new config with defaults, no account and no binding. */
struct config *
config_new(const struct action_desc *actions, size_t nactions)
{
	struct config	*cfg;

	cfg = xcalloc(1, sizeof *cfg);
	cfg->actions = actions;
	cfg->nactions = nactions;
	cfg->values = xcalloc(config_noptions, sizeof *cfg->values);
	return (cfg);
}

/* Frees a config and clears the pointer; NULL is fine. */
void
config_free(struct config **cfgp)
{
	struct config		*cfg;
	struct config_account	*a;
	size_t			 i, j;

	if (cfgp == NULL || (cfg = *cfgp) == NULL)
		return;
	for (i = 0; i < config_noptions; i++)
		free(cfg->values[i]);
	free(cfg->values);
	free(cfg->keymap_file);
	for (i = 0; i < cfg->naccounts; i++) {
		a = cfg->accounts[i];
		for (j = 0; j < CONFIG_NACCOUNT_KEYS; j++)
			free(*(char **)((char *)a +
			    config_account_keys[j].offset));
		free(a->name);
		free(a->file);
		free(a);
	}
	free(cfg->accounts);
	for (i = 0; i < cfg->nsearches; i++) {
		free(cfg->searches[i].name);
		free(cfg->searches[i].query);
	}
	free(cfg->searches);
	for (i = 0; i < KM_NSCREENS; i++)
		free(cfg->maps[i].b);
	free(cfg->ops);
	for (i = 0; i < cfg->nstack; i++)
		free(cfg->stack[i]);
	free(cfg->stack);
	free(cfg);
	*cfgp = NULL;
}

/* The folder part of a path ("." when it has none). */
static char *
config_dirname(const char *path)
{
	const char	*slash;

	if ((slash = strrchr(path, '/')) == NULL)
		return (xstrdup("."));
	if (slash == path)
		return (xstrdup("/"));
	return (xstrndup(path, slash - path));
}

/*
 * Reads a whole file into *text (NUL-terminated, length in *len). On
 * error, errno is set and -1 returned; EFBIG means too large.
 */
static int
config_read(const char *path, char **text, size_t *len)
{
	struct stat	 sb;
	char		*buf;
	size_t		 have = 0;
	ssize_t		 n;
	int		 fd, saved;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return (-1);
	if (fstat(fd, &sb) == -1)
		goto fail;
	if (S_ISDIR(sb.st_mode)) {
		errno = EISDIR;
		goto fail;
	}
	buf = xmalloc(CONFIG_MAXSIZE + 2);
	for (;;) {
		n = read(fd, buf + have, CONFIG_MAXSIZE + 1 - have);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			saved = errno;
			free(buf);
			close(fd);
			errno = saved;
			return (-1);
		}
		if (n == 0)
			break;
		have += n;
		if (have > CONFIG_MAXSIZE) {
			free(buf);
			close(fd);
			errno = EFBIG;
			return (-1);
		}
	}
	close(fd);
	buf[have] = '\0';
	*text = buf;
	*len = have;
	return (0);

fail:
	saved = errno;
	close(fd);
	errno = saved;
	return (-1);
}

/* A message for a file that could not be read. */
static const char *
config_read_error(int e)
{
	if (e == EFBIG)
		return ("larger than 1 MiB, expected a small text file");
	return (strerror(e));
}

/* Parses text as one file, with its own account block state. */
int
config_parse_text(struct config *cfg, const char *file, const char *text,
    size_t len, int depth, int keymap, struct error *err)
{
	struct config_parse		 ctx;
	struct config_lexer		 lx;
	struct config_stmt		 st;
	const struct config_statement	*s;
	const struct config_account_key	*k;
	const char			*names[CONFIG_NSTATEMENTS +
					     CONFIG_NACCOUNT_KEYS];
	const char			*word, *hint;
	size_t				 i, nargs;
	int				 r, rc = 0;

	memset(&ctx, 0, sizeof ctx);
	ctx.cfg = cfg;
	ctx.file = file;
	ctx.dir = config_dirname(file);
	ctx.depth = depth;
	ctx.keymap = keymap;
	memset(&st, 0, sizeof st);
	config_lex_init(&lx, file, text, len);
	while ((r = config_lex_next(&lx, &st, err)) == 1) {
		word = st.w[0].s;
		nargs = st.n - 1;
		for (i = 0; i < CONFIG_NACCOUNT_KEYS; i++) {
			if (strcmp(config_account_keys[i].name, word) == 0)
				break;
		}
		if (i < CONFIG_NACCOUNT_KEYS && !keymap) {
			k = &config_account_keys[i];
			if (ctx.account == NULL) {
				rc = config_error(err, file, st.line, "account "
				    "key '%s' outside an account, expected "
				    "'account NAME' before it", word);
				break;
			}
			if (nargs != 1) {
				rc = config_error(err, file, st.line, "%s "
				    "argument%s to '%s', expected '%s VALUE' "
				    "(quote a value with spaces)", nargs == 0 ?
				    "missing" : "too many", nargs == 0 ? "" :
				    "s", word, word);
				break;
			}
			if (config_parse_account_key(&ctx, k, &st, err) != 0) {
				rc = -1;
				break;
			}
			continue;
		}
		ctx.account = NULL;
		for (s = NULL, i = 0; i < CONFIG_NSTATEMENTS; i++) {
			if (strcmp(config_statements[i].name, word) == 0)
				s = &config_statements[i];
		}
		if (s == NULL) {
			for (i = 0; i < CONFIG_NSTATEMENTS; i++)
				names[i] = config_statements[i].name;
			for (i = 0; i < CONFIG_NACCOUNT_KEYS; i++) {
				names[CONFIG_NSTATEMENTS + i] =
				    config_account_keys[i].name;
			}
			hint = config_suggest(word, names, keymap ?
			    CONFIG_NSTATEMENTS : CONFIG_NSTATEMENTS +
			    CONFIG_NACCOUNT_KEYS, sizeof names[0]);
			if (hint != NULL)
				rc = config_error(err, file, st.line, "unknown "
				    "statement '%s' (did you mean '%s'?)", word,
				    hint);
			else
				rc = config_error(err, file, st.line, "unknown "
				    "statement '%s', expected set, unset, "
				    "account, search, bind, unbind, color or "
				    "source", word);
			break;
		}
		if (keymap && s->fn != config_parse_bind &&
		    s->fn != config_parse_unbind) {
			rc = config_error(err, file, st.line, "'%s' in a key "
			    "map, expected only bind and unbind", word);
			break;
		}
		if (nargs < s->min || nargs > s->max) {
			rc = config_error(err, file, st.line, "%s to '%s', "
			    "expected '%s'", nargs < s->min ?
			    "missing argument" : "too many arguments", word,
			    s->usage);
			break;
		}
		if (s->fn(&ctx, &st, err) != 0) {
			rc = -1;
			break;
		}
	}
	if (r == -1)
		rc = -1;
	config_lex_clear(&st);
	free(st.w);
	free(ctx.dir);
	return (rc);
}

/* Sets an option; file is NULL outside a file, value NULL as "set NAME". */
static int
config_set_at(struct config *cfg, const char *name, const char *value,
    const char *file, unsigned line, struct error *err)
{
	const struct config_option	*o;
	const char			*hint;
	char				*v;
	size_t				 i;

	if ((o = config_option_find(name)) == NULL) {
		hint = config_suggest(name, &config_options[0].name,
		    config_noptions, sizeof config_options[0]);
		if (hint != NULL)
			return (config_error(err, file, line, "unknown option "
			    "'%s' (did you mean '%s'?)", name, hint));
		return (config_error(err, file, line, "unknown option '%s', "
		    "expected an option such as sort or keymap", name));
	}
	if (value == NULL && o->type != CONFIG_BOOL)
		return (config_error(err, file, line, "missing value for "
		    "'%s', expected 'set %s = VALUE'", name, name));
	if (config_option_parse(o, value == NULL ? "yes" : value, &v, file,
	    line, err) != 0)
		return (-1);
	i = o - config_options;
	free(cfg->values[i]);
	cfg->values[i] = v;
	if (o->flags & CONFIG_OPT_KEYMAP) {
		free(cfg->keymap_file);
		cfg->keymap_file = file == NULL ? NULL : xstrdup(file);
		cfg->keymap_line = line;
	}
	return (0);
}

/* set NAME = VALUE, set NAME=VALUE, set NAME (a bool). */
static int
config_parse_set(struct config_parse *ctx, struct config_stmt *st,
    struct error *err)
{
	const char	*value;

	if (st->w[1].op)
		return (config_error(err, ctx->file, st->line, "missing option "
		    "name, expected 'set NAME = VALUE'"));
	if (st->n == 2)
		value = NULL;
	else if (st->n == 4 && st->w[2].op)
		value = st->w[3].s;
	else if (st->n == 3 && st->w[2].op)
		return (config_error(err, ctx->file, st->line, "missing value "
		    "for '%s', expected 'set %s = VALUE'", st->w[1].s,
		    st->w[1].s));
	else
		return (config_error(err, ctx->file, st->line, "bad 'set' "
		    "statement, expected 'set NAME = VALUE' (quote a value "
		    "with spaces)"));
	return (config_set_at(ctx->cfg, st->w[1].s, value, ctx->file,
	    st->line, err));
}

/* unset NAME: "no" for a bool, empty for a string. */
static int
config_parse_unset(struct config_parse *ctx, struct config_stmt *st,
    struct error *err)
{
	const struct config_option	*o;

	o = config_option_find(st->w[1].s);
	if (o != NULL && o->type == CONFIG_BOOL)
		return (config_set_at(ctx->cfg, o->name, "no", ctx->file,
		    st->line, err));
	if (o != NULL && o->type == CONFIG_STRING)
		return (config_set_at(ctx->cfg, o->name, "", ctx->file,
		    st->line, err));
	if (o != NULL)
		return (config_error(err, ctx->file, st->line, "cannot unset "
		    "'%s', expected 'set %s = VALUE'", o->name, o->name));
	return (config_set_at(ctx->cfg, st->w[1].s, NULL, ctx->file,
	    st->line, err));
}

/* account NAME: opens a block for the account keys that follow. */
static int
config_parse_account(struct config_parse *ctx, struct config_stmt *st,
    struct error *err)
{
	struct config		*cfg = ctx->cfg;
	struct config_account	*a;
	const char		*name = st->w[1].s;
	size_t			 i;

	if (*name == '\0')
		return (config_error(err, ctx->file, st->line, "empty account "
		    "name, expected 'account NAME'"));
	for (i = 0; i < cfg->naccounts; i++) {
		a = cfg->accounts[i];
		if (strcmp(a->name, name) == 0)
			return (config_error(err, ctx->file, st->line,
			    "duplicate account '%s' (first at %s:%u), "
			    "expected each name once", name, a->file,
			    a->line));
	}
	a = xcalloc(1, sizeof *a);
	a->name = xstrdup(name);
	a->file = xstrdup(ctx->file);
	a->line = st->line;
	cfg->accounts = xreallocarray(cfg->accounts, cfg->naccounts + 1,
	    sizeof *cfg->accounts);
	cfg->accounts[cfg->naccounts++] = a;
	ctx->account = a;
	return (0);
}

/* One key of the open account block. */
static int
config_parse_account_key(struct config_parse *ctx,
    const struct config_account_key *k, struct config_stmt *st,
    struct error *err)
{
	static const char *const tls[] = { "on", "off", "starttls",
	    "implicit", NULL };
	char		**field;
	const char	 *value = st->w[1].s;
	size_t		  i;

	field = (char **)((char *)ctx->account + k->offset);
	if (*field != NULL)
		return (config_error(err, ctx->file, st->line, "duplicate "
		    "key '%s' in account '%s', expected it once",
		    k->name, ctx->account->name));
	if (k->flags & CONFIG_ACCOUNT_TLS) {
		for (i = 0; tls[i] != NULL; i++) {
			if (strcmp(value, tls[i]) == 0)
				break;
		}
		if (tls[i] == NULL)
			return (config_error(err, ctx->file, st->line, "bad "
			    "value '%s' for 'tls', expected on, off, starttls "
			    "or implicit", value));
	}
	if ((k->flags & CONFIG_ACCOUNT_BOOL) && strcmp(value, "yes") != 0 &&
	    strcmp(value, "no") != 0)
		return (config_error(err, ctx->file, st->line, "bad value '%s' "
		    "for '%s', expected yes or no", value, k->name));
	if (k->flags & CONFIG_ACCOUNT_PATH)
		*field = config_expand_path(value);
	else
		*field = xstrdup(value);
	return (0);
}

/* search NAME "QUERY": a saved notmuch search. */
static int
config_parse_search(struct config_parse *ctx, struct config_stmt *st,
    struct error *err)
{
	struct config	*cfg = ctx->cfg;
	size_t		 i;

	if (*st->w[1].s == '\0' || *st->w[2].s == '\0')
		return (config_error(err, ctx->file, st->line, "empty %s, "
		    "expected 'search NAME \"QUERY\"'", *st->w[1].s == '\0' ?
		    "search name" : "query"));
	for (i = 0; i < cfg->nsearches; i++) {
		if (strcmp(cfg->searches[i].name, st->w[1].s) == 0)
			return (config_error(err, ctx->file, st->line,
			    "duplicate search '%s', expected each name once",
			    st->w[1].s));
	}
	cfg->searches = xreallocarray(cfg->searches, cfg->nsearches + 1,
	    sizeof *cfg->searches);
	cfg->searches[cfg->nsearches].name = xstrdup(st->w[1].s);
	cfg->searches[cfg->nsearches].query = xstrdup(st->w[2].s);
	cfg->nsearches++;
	return (0);
}

/* Parses "index,pager" into KM_* bits. */
static int
config_parse_screens(struct config_parse *ctx, unsigned line,
    const char *word, unsigned *screens, struct error *err)
{
	char		*copy, *p, *name;
	const char	*hint;
	size_t		 i;
	int		 rc = 0;

	*screens = 0;
	copy = p = xstrdup(word);
	while ((name = strsep(&p, ",")) != NULL) {
		for (i = 0; i < KM_NSCREENS; i++) {
			if (strcmp(name, config_screens[i]) == 0)
				break;
		}
		if (i < KM_NSCREENS) {
			*screens |= 1U << i;
			continue;
		}
		hint = config_suggest(name, config_screens, KM_NSCREENS,
		    sizeof config_screens[0]);
		if (hint != NULL)
			rc = config_error(err, ctx->file, line, "unknown "
			    "screen '%s' (did you mean '%s'?)", name, hint);
		else
			rc = config_error(err, ctx->file, line, "unknown "
			    "screen '%s', expected generic, index, pager, "
			    "folders or help", name);
		break;
	}
	free(copy);
	return (rc);
}

/* Parses a key word, with a message saying what was wrong. */
static int
config_parse_keyword(struct config_parse *ctx, unsigned line,
    const char *word, int *keys, size_t *n, struct error *err)
{
	if (keymap_parse_key(word, keys, n) == 0)
		return (0);
	if (*word == '\0')
		return (config_error(err, ctx->file, line, "empty key, "
		    "expected a key such as j, ^L, <C-d> or <PageDown>"));
	return (config_error(err, ctx->file, line, "bad key '%s', expected "
	    "a key such as j, ^L, <C-d> or <PageDown>, or up to %d of them",
	    word, KEYMAP_MAXKEYS));
}

/* Writes the names of the screens in bits as "index, pager". */
static void
config_screen_names(unsigned bits, char *buf, size_t len)
{
	size_t	i, used;

	buf[0] = '\0';
	for (i = 0; i < KM_NSCREENS; i++) {
		if (!(bits & (1U << i)))
			continue;
		used = strlen(buf);
		snprintf(buf + used, len - used, "%s%s", used == 0 ? "" :
		    ", ", config_screens[i]);
	}
}

/* Records a user's bind or unbind for config_finish to replay. */
static void
config_record(struct config *cfg, unsigned screens, const int *keys,
    size_t n, const struct action_desc *action)
{
	struct config_bindop	*op;

	cfg->ops = xreallocarray(cfg->ops, cfg->nops + 1, sizeof *cfg->ops);
	op = &cfg->ops[cfg->nops++];
	memset(op, 0, sizeof *op);
	op->screens = screens;
	memcpy(op->keys, keys, n * sizeof *keys);
	op->n = n;
	op->action = action;
}

/* bind SCREEN[,SCREEN...] KEY ACTION */
static int
config_parse_bind(struct config_parse *ctx, struct config_stmt *st,
    struct error *err)
{
	struct config			*cfg = ctx->cfg;
	const struct action_desc	*a = NULL;
	const char			*name = st->w[3].s, *hint;
	char				 where[64], valid[64];
	unsigned			 screens, bad;
	int				 keys[KEYMAP_MAXKEYS];
	size_t				 n, i;

	if (config_parse_screens(ctx, st->line, st->w[1].s, &screens,
	    err) != 0)
		return (-1);
	if (config_parse_keyword(ctx, st->line, st->w[2].s, keys, &n,
	    err) != 0)
		return (-1);
	for (i = 0; i < cfg->nactions; i++) {
		if (strcmp(cfg->actions[i].name, name) == 0) {
			a = &cfg->actions[i];
			break;
		}
	}
	if (a == NULL) {
		hint = cfg->nactions == 0 ? NULL : config_suggest(name,
		    &cfg->actions[0].name, cfg->nactions,
		    sizeof cfg->actions[0]);
		if (hint != NULL)
			return (config_error(err, ctx->file, st->line,
			    "unknown action '%s' (did you mean '%s'?)", name,
			    hint));
		return (config_error(err, ctx->file, st->line, "unknown "
		    "action '%s', expected an action from the help screen",
		    name));
	}
	if (!(a->screens & KM_GENERIC) && (bad = screens & ~a->screens) !=
	    0) {
		config_screen_names(bad, where, sizeof where);
		config_screen_names(a->screens, valid, sizeof valid);
		return (config_error(err, ctx->file, st->line, "action '%s' "
		    "does not work on screen '%s', expected it on %s", name,
		    where, valid));
	}
	config_keymap_bind(cfg, screens, keys, n, a);
	if (!ctx->keymap)
		config_record(cfg, screens, keys, n, a);
	return (0);
}

/* unbind SCREEN[,SCREEN...] KEY */
static int
config_parse_unbind(struct config_parse *ctx, struct config_stmt *st,
    struct error *err)
{
	unsigned	screens;
	int		keys[KEYMAP_MAXKEYS];
	size_t		n;

	if (config_parse_screens(ctx, st->line, st->w[1].s, &screens,
	    err) != 0)
		return (-1);
	if (config_parse_keyword(ctx, st->line, st->w[2].s, keys, &n,
	    err) != 0)
		return (-1);
	config_keymap_unbind(ctx->cfg, screens, keys, n);
	if (!ctx->keymap)
		config_record(ctx->cfg, screens, keys, n, NULL);
	return (0);
}

/* color OBJECT [ATTRIBUTE...] FG BG */
static int
config_parse_color(struct config_parse *ctx, struct config_stmt *st,
    struct error *err)
{
	return (config_color_parse(ctx->cfg, st, ctx->file, st->line, err));
}

/* Reads a file and parses it, keeping track of the chain of files. */
static int
config_parse_file(struct config *cfg, const char *path, int depth,
    int keymap, const char *from, unsigned line, struct error *err)
{
	char	*text, *real;
	size_t	 len, i;
	int	 rc, e;

	if (config_read(path, &text, &len) != 0) {
		e = errno;
		if (from != NULL)
			return (config_error(err, from, line, "cannot read "
			    "'%s': %s", path, config_read_error(e)));
		return (error_set(err, e == ENOENT ? ERR_NOTFOUND : ERR_CONFIG,
		    "%s: cannot read: %s", path, config_read_error(e)));
	}
	if ((real = realpath(path, NULL)) == NULL)
		real = xstrdup(path);
	for (i = 0; i < cfg->nstack; i++) {
		if (strcmp(cfg->stack[i], real) == 0) {
			free(real);
			free(text);
			return (config_error(err, from, line, "source loop: "
			    "'%s' is already being read, expected each file "
			    "once in a chain of source", path));
		}
	}
	cfg->stack = xreallocarray(cfg->stack, cfg->nstack + 1,
	    sizeof *cfg->stack);
	cfg->stack[cfg->nstack++] = real;
	rc = config_parse_text(cfg, path, text, len, depth, keymap, err);
	free(cfg->stack[--cfg->nstack]);
	free(text);
	return (rc);
}

/* source FILE: relative to the including file's folder, "~" expanded. */
static int
config_parse_source(struct config_parse *ctx, struct config_stmt *st,
    struct error *err)
{
	const char	*file = st->w[1].s;
	char		*path;
	int		 rc;

	if (*file == '\0')
		return (config_error(err, ctx->file, st->line, "empty file "
		    "name, expected 'source FILE'"));
	if (ctx->depth + 1 > CONFIG_MAXDEPTH)
		return (config_error(err, ctx->file, st->line, "source nested "
		    "too deep, expected at most %d levels", CONFIG_MAXDEPTH));
	if (file[0] == '~' || file[0] == '/' || strcmp(ctx->dir, ".") == 0)
		path = config_expand_path(file);
	else
		xasprintf(&path, "%s/%s", ctx->dir, file);
	rc = config_parse_file(ctx->cfg, path, ctx->depth + 1, 0, ctx->file,
	    st->line, err);
	free(path);
	return (rc);
}

/* Reads a config file; see config.h. */
int
config_load_file(struct config *cfg, const char *path, struct error *err)
{
	return (config_parse_file(cfg, path, 0, 0, NULL, 0, err));
}

/* Reads config text named name; see config.h. */
int
config_load_string(struct config *cfg, const char *name, const char *text,
    struct error *err)
{
	return (config_parse_text(cfg, name, text, strlen(text), 0, 0, err));
}

/* The base of the user's config folder, in buf: XDG or ~/.config. */
static void
config_home(char *buf, size_t len)
{
	const char	*xdg, *home;

	xdg = getenv("XDG_CONFIG_HOME");
	if (xdg != NULL && *xdg != '\0') {
		snprintf(buf, len, "%s", xdg);
		return;
	}
	home = getenv("HOME");
	if (home == NULL || *home == '\0')
		home = ".";
	snprintf(buf, len, "%s/.config", home);
}

/* The default config path; see config.h. */
const char *
config_default_path(void)
{
	static char	path[PATH_MAX];
	char		home[PATH_MAX - 32];

	config_home(home, sizeof home);
	snprintf(path, sizeof path, "%s/facteur/config", home);
	return (path);
}

/* Loads the named key map from a folder, 1 if it is not there. */
static int
config_finish_dir(struct config *cfg, const char *dir, const char *name,
    struct error *err)
{
	struct stat	 sb;
	char		*path;
	int		 rc;

	xasprintf(&path, "%s/%s.keys", dir, name);
	if (stat(path, &sb) != 0 && errno == ENOENT) {
		free(path);
		return (1);
	}
	rc = config_parse_file(cfg, path, 0, 1, cfg->keymap_file,
	    cfg->keymap_line, err);
	if (rc != 0 && cfg->keymap_file == NULL && err != NULL &&
	    err->kind == ERR_NOTFOUND)
		err->kind = ERR_CONFIG;
	free(path);
	return (rc);
}

/* Loads the key map, then replays the user's bindings; see config.h. */
int
config_finish(struct config *cfg, struct error *err)
{
	const struct config_bindop	*op;
	const char			*name, *dir;
	char				 home[PATH_MAX];
	char				 path[PATH_MAX + 32];
	char				 builtin[128];
	size_t				 i;
	int				 rc = 1;

	config_keymap_clear(cfg);
	name = config_get(cfg, "keymap");
	if ((dir = getenv("FACTEUR_KEYMAPDIR")) != NULL && *dir != '\0')
		rc = config_finish_dir(cfg, dir, name, err);
	if (rc == 1) {
		config_home(home, sizeof home);
		snprintf(path, sizeof path, "%s/facteur/keymaps", home);
		rc = config_finish_dir(cfg, path, name, err);
	}
	for (i = 0; rc == 1 && i < config_nbuiltin_keymaps; i++) {
		if (strcmp(config_builtin_keymaps[i].name, name) != 0)
			continue;
		snprintf(builtin, sizeof builtin, "<built-in>/%s.keys", name);
		rc = config_parse_text(cfg, builtin,
		    config_builtin_keymaps[i].text,
		    strlen(config_builtin_keymaps[i].text), 0, 1, err);
	}
	if (rc == 1)
		rc = config_error(err, cfg->keymap_file, cfg->keymap_line,
		    "unknown key map '%s', expected default, vim or a file "
		    "%s.keys in $FACTEUR_KEYMAPDIR or %s/facteur/keymaps",
		    name, name, home);
	if (rc != 0) {
		config_keymap_clear(cfg);
		return (-1);
	}
	for (i = 0; i < cfg->nops; i++) {
		op = &cfg->ops[i];
		if (op->action != NULL)
			config_keymap_bind(cfg, op->screens, op->keys, op->n,
			    op->action);
		else
			config_keymap_unbind(cfg, op->screens, op->keys, op->n);
	}
	return (0);
}

/* An option's canonical value; see config.h. */
const char *
config_get(const struct config *cfg, const char *name)
{
	const struct config_option	*o;
	size_t				 i;

	if ((o = config_option_find(name)) == NULL)
		return (NULL);
	i = o - config_options;
	return (cfg->values[i] != NULL ? cfg->values[i] : o->def);
}

/* A bool option as 1 or 0. */
int
config_get_bool(const struct config *cfg, const char *name)
{
	const struct config_option	*o;

	if ((o = config_option_find(name)) == NULL || o->type != CONFIG_BOOL)
		fatalx("config_get_bool: '%s' is not a bool option", name);
	return (strcmp(config_get(cfg, name), "yes") == 0);
}

/* A number option. */
long
config_get_number(const struct config *cfg, const char *name)
{
	const struct config_option	*o;

	if ((o = config_option_find(name)) == NULL ||
	    o->type != CONFIG_NUMBER)
		fatalx("config_get_number: '%s' is not a number option", name);
	return (strtol(config_get(cfg, name), NULL, 10));
}

/* Sets an option from the program (no file, no line). */
int
config_set(struct config *cfg, const char *name, const char *value,
    struct error *err)
{
	return (config_set_at(cfg, name, value, NULL, 0, err));
}

/* How many accounts the config has. */
size_t
config_account_count(const struct config *cfg)
{
	return (cfg->naccounts);
}

/* The i-th account, NULL past the end. */
const struct config_account *
config_account_at(const struct config *cfg, size_t i)
{
	return (i < cfg->naccounts ? cfg->accounts[i] : NULL);
}

/* An account key by name. */
const char *
config_account_get(const struct config_account *a, const char *key)
{
	size_t	i;

	for (i = 0; i < CONFIG_NACCOUNT_KEYS; i++) {
		if (strcmp(config_account_keys[i].name, key) == 0)
			return (*(char *const *)((const char *)a +
			    config_account_keys[i].offset));
	}
	return (NULL);
}

/* How many saved searches the config has. */
size_t
config_search_count(const struct config *cfg)
{
	return (cfg->nsearches);
}

/* The i-th search's name, NULL past the end. */
const char *
config_search_name(const struct config *cfg, size_t i)
{
	return (i < cfg->nsearches ? cfg->searches[i].name : NULL);
}

/* The i-th search's query, NULL past the end. */
const char *
config_search_query(const struct config *cfg, size_t i)
{
	return (i < cfg->nsearches ? cfg->searches[i].query : NULL);
}
