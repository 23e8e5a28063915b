/*
 * The "color OBJECT [ATTRIBUTE...] FG BG" statement: objects, colour
 * names and attributes, stored as numbers for the UI to turn into curses
 * pairs (-1 is the terminal's default, 8-15 the bright colours).
 */
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "config/private.h"

static const char *const config_color_names[CONFIG_NCOLORS] = {
	"normal", "index_unread", "index_flagged", "index_deleted",
	"index_cursor", "index_date", "index_from", "index_tree", "status",
	"error", "header_name", "header_value", "quoted", "quoted1",
	"quoted2", "quoted3", "signature", "search", "sidebar",
	"sidebar_current", "help_key"
};

static const char *const config_color_basic[] = {
	"black", "red", "green", "yellow", "blue", "magenta", "cyan", "white"
};

static const struct {
	const char	*name;
	int		 bit;
} config_color_attrs[] = {
	{ "bold", CONFIG_ATTR_BOLD },
	{ "underline", CONFIG_ATTR_UNDERLINE },
	{ "reverse", CONFIG_ATTR_REVERSE },
	{ "dim", CONFIG_ATTR_DIM },
	{ "standout", CONFIG_ATTR_STANDOUT },
};
#define CONFIG_NATTRS (sizeof config_color_attrs / sizeof config_color_attrs[0])

/* The object names (n is set to how many). */
const char *const *
config_color_objects(size_t *n)
{
	size_t	i;

	for (i = 0; i < CONFIG_NCOLORS && config_color_names[i] != NULL; i++)
		;
	*n = i;
	return (config_color_names);
}

/* Index of an object, or -1. */
static int
config_color_object(const char *name)
{
	size_t	i;

	for (i = 0; i < CONFIG_NCOLORS && config_color_names[i] != NULL; i++) {
		if (strcmp(config_color_names[i], name) == 0)
			return ((int)i);
	}
	return (-1);
}

/* Parses a colour name into -1..255, or returns -2. */
static int
config_color_value(const char *s)
{
	char	*end;
	long	 n;
	size_t	 i;

	if (strcmp(s, "default") == 0)
		return (-1);
	for (i = 0; i < 8; i++) {
		if (strcmp(s, config_color_basic[i]) == 0)
			return ((int)i);
		if (strncmp(s, "bright", 6) == 0 &&
		    strcmp(s + 6, config_color_basic[i]) == 0)
			return ((int)i + 8);
	}
	if (strncmp(s, "color", 5) == 0 && s[5] >= '0' && s[5] <= '9') {
		n = strtol(s + 5, &end, 10);
		if (*end == '\0' && n >= 0 && n <= 255 && end - s <= 8)
			return ((int)n);
	}
	return (-2);
}

/* Parses a color statement (st->w[0] is "color"). */
int
config_color_parse(struct config *cfg, const struct config_stmt *st,
    const char *file, unsigned line, struct error *err)
{
	struct config_color	*c;
	const char		*hint, *word;
	const char *const	*objs;
	size_t			 i, j, nobjs;
	int			 obj, v[2], attrs = 0;

	objs = config_color_objects(&nobjs);
	if ((obj = config_color_object(st->w[1].s)) < 0) {
		hint = config_suggest(st->w[1].s, objs, nobjs, sizeof *objs);
		if (hint != NULL)
			return (config_error(err, file, line, "unknown colour "
			    "object '%s' (did you mean '%s'?)", st->w[1].s,
			    hint));
		return (config_error(err, file, line, "unknown colour object "
		    "'%s', expected an object such as normal, index_unread "
		    "or status", st->w[1].s));
	}
	if (st->n < 4)
		return (config_error(err, file, line, "missing argument to "
		    "'color', expected 'color OBJECT [ATTRIBUTE...] "
		    "FOREGROUND BACKGROUND'"));
	for (i = 2; i < st->n - 2; i++) {
		word = st->w[i].s;
		for (j = 0; j < CONFIG_NATTRS; j++) {
			if (strcmp(word, config_color_attrs[j].name) == 0)
				break;
		}
		if (j == CONFIG_NATTRS)
			return (config_error(err, file, line, "unknown "
			    "attribute '%s', expected bold, underline, "
			    "reverse, dim or standout", word));
		attrs |= config_color_attrs[j].bit;
	}
	for (i = 0; i < 2; i++) {
		word = st->w[st->n - 2 + i].s;
		if ((v[i] = config_color_value(word)) == -2)
			return (config_error(err, file, line, "unknown colour "
			    "'%s', expected default, black, red, green, yellow,"
			    " blue, magenta, cyan, white, bright<colour> or "
			    "color0..color255", word));
	}
	c = &cfg->colors[obj];
	c->fg = v[0];
	c->bg = v[1];
	c->attrs = attrs;
	c->set = 1;
	return (0);
}

/* The colour the user set for an object; see config.h. */
int
config_color(const struct config *cfg, const char *object, short *fg,
    short *bg, int *attrs)
{
	const struct config_color	*c;
	int				 obj;

	if ((obj = config_color_object(object)) < 0)
		return (-1);
	c = &cfg->colors[obj];
	if (!c->set)
		return (-1);
	if (fg != NULL)
		*fg = c->fg;
	if (bg != NULL)
		*bg = c->bg;
	if (attrs != NULL)
		*attrs = c->attrs;
	return (0);
}
