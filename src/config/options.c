/*
 * The table of options with their types, defaults and one-line
 * documentation, and the checks that turn what the user wrote into a
 * canonical value. A new option is one more line in config_options[].
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/error.h"
#include "core/xmalloc.h"
#include "config/private.h"

static const char *const config_sort_words[] = {
	"date", "date-reverse", "threads", NULL
};
static const char *const config_prefer_words[] = {
	"plain", "html", NULL
};

/* Keep this table in alphabetical order: --help lists it as it is. */
const struct config_option config_options[] = {
	{ "alias_file", CONFIG_STRING, "", 0, 0, NULL, CONFIG_OPT_PATH,
	  "mutt-style aliases expanded in To, Cc and Bcc; empty for none" },
	{ "attach_save_dir", CONFIG_STRING, "~", 0, 0, NULL, CONFIG_OPT_PATH,
	  "directory offered when saving attachments and messages" },
	{ "date_format", CONFIG_STRING, "", 0, 0, NULL, 0,
	  "strftime(3) format of index dates; empty for facteur's own" },
	{ "ehlo_name", CONFIG_STRING, "", 0, 0, NULL, 0,
	  "name facteur gives in SMTP EHLO; empty for the local address" },
	{ "exclude_tags", CONFIG_STRING, "deleted spam", 0, 0, NULL, 0,
	  "notmuch tags hidden from searches unless asked for" },
	{ "keymap", CONFIG_STRING, "default", 0, 0, NULL, CONFIG_OPT_KEYMAP,
	  "key bindings to start from: default (mutt-like) or vim" },
	{ "log_file", CONFIG_STRING, "", 0, 0, NULL, CONFIG_OPT_PATH,
	  "file to append a debug log to; empty for none" },
	{ "mailcap_path", CONFIG_STRING, "~/.mailcap:/etc/mailcap", 0, 0,
	  NULL, 0,
	  "mailcap files, colon-separated, for HTML and attachments" },
	{ "maildir", CONFIG_STRING, "", 0, 0, NULL, CONFIG_OPT_PATH,
	  "local Maildir root used when no account names one" },
	{ "mark_read", CONFIG_BOOL, "yes", 0, 0, NULL, 0,
	  "mark a message read when the pager opens it" },
	{ "notmuch_config", CONFIG_STRING, "", 0, 0, NULL, CONFIG_OPT_PATH,
	  "notmuch configuration file; empty for none" },
	{ "prefer", CONFIG_ENUM, "plain", 0, 0, config_prefer_words, 0,
	  "part of a multipart/alternative message to show" },
	{ "send_flowed", CONFIG_BOOL, "no", 0, 0, NULL, 0,
	  "send text as format=flowed (RFC 3676)" },
	{ "sidebar", CONFIG_BOOL, "no", 0, 0, NULL, 0,
	  "show the folder sidebar beside the index" },
	{ "sidebar_width", CONFIG_NUMBER, "24", 10, 80, NULL, 0,
	  "width of the sidebar in columns" },
	{ "sort", CONFIG_ENUM, "date", 0, 0, config_sort_words, 0,
	  "index order: date (newest first), date-reverse or threads" },
	{ "sync_on_start", CONFIG_BOOL, "yes", 0, 0, NULL, 0,
	  "look for new and removed mail when facteur starts" },
};
const size_t config_noptions = sizeof config_options /
    sizeof config_options[0];

/* Fills err with "file:line: message" (no prefix without a file). */
int
config_error(struct error *err, const char *file, unsigned line,
    const char *fmt, ...)
{
	va_list	 ap;
	char	 msg[sizeof err->msg];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (file == NULL)
		return (error_set(err, ERR_CONFIG, "%s", msg));
	return (error_set(err, ERR_CONFIG, "%s:%u: %s", file, line, msg));
}

/* Optimal string alignment distance: edits plus swapped neighbours. */
static size_t
config_distance(const char *a, const char *b)
{
	size_t	la = strlen(a), lb = strlen(b), i, j, c, v;
	size_t	d[33][33];

	if (la > 32 || lb > 32)
		return (SIZE_MAX);
	for (i = 0; i <= la; i++)
		d[i][0] = i;
	for (j = 0; j <= lb; j++)
		d[0][j] = j;
	for (i = 1; i <= la; i++) {
		for (j = 1; j <= lb; j++) {
			c = a[i - 1] != b[j - 1];
			v = d[i - 1][j - 1] + c;
			if (d[i - 1][j] + 1 < v)
				v = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < v)
				v = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < v)
				v = d[i - 2][j - 2] + 1;
			d[i][j] = v;
		}
	}
	return (d[la][lb]);
}

/*
 * The name closest to word among n names found every stride bytes from
 * names (the first member of a table's entries), or NULL if none is close
 * enough to be a likely typo.
 */
const char *
config_suggest(const char *word, const char *const *names, size_t n,
    size_t stride)
{
	const char	*best = NULL, *name;
	size_t		 i, d, bestd = SIZE_MAX, limit;

	limit = strlen(word) <= 5 ? 1 : 2;
	for (i = 0; i < n; i++) {
		name = *(const char *const *)((const char *)names + i * stride);
		if (name == NULL)
			continue;
		d = config_distance(word, name);
		if (d < bestd) {
			bestd = d;
			best = name;
		}
	}
	if (best == NULL || bestd > limit || bestd >= strlen(word))
		return (NULL);
	return (best);
}

/* Expands a leading "~" or "~/" to $HOME; returns an allocated copy. */
char *
config_expand_path(const char *path)
{
	const char	*home;
	char		*s;

	if (path[0] != '~' || (path[1] != '\0' && path[1] != '/'))
		return (xstrdup(path));
	home = getenv("HOME");
	if (home == NULL || *home == '\0')
		home = "/";
	xasprintf(&s, "%s%s", home, path + 1);
	return (s);
}

/* Finds an option by name, NULL if there is none. */
const struct config_option *
config_option_find(const char *name)
{
	size_t	i;

	for (i = 0; i < config_noptions; i++) {
		if (strcmp(config_options[i].name, name) == 0)
			return (&config_options[i]);
	}
	return (NULL);
}

/* Appends s to the string in buf, truncating. */
static void
config_option_cat(char *buf, size_t len, const char *s)
{
	size_t	used = strlen(buf);

	if (used + 1 < len)
		snprintf(buf + used, len - used, "%s", s);
}

/* Writes an enum's words as "a, b or c". */
static void
config_option_words(const struct config_option *o, char *buf, size_t len,
    const char *sep, const char *last)
{
	size_t	i;

	buf[0] = '\0';
	for (i = 0; o->words[i] != NULL; i++) {
		if (i != 0)
			config_option_cat(buf, len,
			    o->words[i + 1] == NULL ? last : sep);
		config_option_cat(buf, len, o->words[i]);
	}
}

/* Is a key map name made only of letters, digits, "-", "_" and "."? */
static int
config_option_keymap_name(const char *s)
{
	if (*s == '\0' || *s == '.')
		return (0);
	for (; *s != '\0'; s++) {
		if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_' &&
		    *s != '.')
			return (0);
	}
	return (1);
}

/*
 * Checks value for option o and sets *out to its canonical form
 * (allocated). file and line locate the statement for messages.
 */
int
config_option_parse(const struct config_option *o, const char *value,
    char **out, const char *file, unsigned line, struct error *err)
{
	static const char *const yes[] = { "yes", "true", "on", "1", NULL };
	static const char *const no[] = { "no", "false", "off", "0", NULL };
	const char	*hint;
	char		 words[256], *end;
	long		 n;
	size_t		 i;

	switch (o->type) {
	case CONFIG_BOOL:
		for (i = 0; yes[i] != NULL; i++) {
			if (strcasecmp(value, yes[i]) == 0) {
				*out = xstrdup("yes");
				return (0);
			}
			if (strcasecmp(value, no[i]) == 0) {
				*out = xstrdup("no");
				return (0);
			}
		}
		return (config_error(err, file, line, "bad value '%s' for "
		    "'%s', expected yes or no", value, o->name));
	case CONFIG_NUMBER:
		errno = 0;
		n = strtol(value, &end, 10);
		if (*value == '\0' || isspace((unsigned char)*value) ||
		    *end != '\0' || errno == ERANGE)
			return (config_error(err, file, line, "bad number '%s' "
			    "for '%s', expected a number from %ld to %ld",
			    value, o->name, o->min, o->max));
		if (n < o->min || n > o->max)
			return (config_error(err, file, line, "%s is out of "
			    "range for '%s', expected a number from %ld to %ld",
			    value, o->name, o->min, o->max));
		xasprintf(out, "%ld", n);
		return (0);
	case CONFIG_ENUM:
		for (i = 0; o->words[i] != NULL; i++) {
			if (strcmp(value, o->words[i]) == 0) {
				*out = xstrdup(value);
				return (0);
			}
		}
		config_option_words(o, words, sizeof words, ", ", " or ");
		for (i = 0; o->words[i] != NULL; i++)
			;
		hint = config_suggest(value, o->words, i, sizeof o->words[0]);
		if (hint != NULL)
			return (config_error(err, file, line, "bad value '%s' "
			    "for '%s' (did you mean '%s'?), expected %s",
			    value, o->name, hint, words));
		return (config_error(err, file, line, "bad value '%s' for "
		    "'%s', expected %s", value, o->name, words));
	case CONFIG_STRING:
		if ((o->flags & CONFIG_OPT_KEYMAP) &&
		    !config_option_keymap_name(value))
			return (config_error(err, file, line, "bad key map "
			    "name '%s', expected letters, digits, '-' or '_'",
			    value));
		if (o->flags & CONFIG_OPT_PATH)
			*out = config_expand_path(value);
		else
			*out = xstrdup(value);
		return (0);
	}
	return (config_error(err, file, line, "option '%s' has no type",
	    o->name));
}

/* Calls cb for every option, in the table's (alphabetical) order. */
void
config_option_foreach(void (*cb)(void *, const struct config_option_info *),
    void *arg)
{
	static const char *const types[] = { "bool", "number", "string",
	    "enum" };
	struct config_option_info	 info;
	const struct config_option	*o;
	char				 values[256];
	size_t				 i;

	for (i = 0; i < config_noptions; i++) {
		o = &config_options[i];
		info.name = o->name;
		info.type = o->type;
		info.type_name = types[o->type];
		info.values = NULL;
		if (o->type == CONFIG_NUMBER) {
			snprintf(values, sizeof values, "%ld..%ld", o->min,
			    o->max);
			info.values = values;
		} else if (o->type == CONFIG_ENUM) {
			config_option_words(o, values, sizeof values, "|", "|");
			info.values = values;
		}
		info.def = o->def;
		info.doc = o->doc;
		cb(arg, &info);
	}
}
