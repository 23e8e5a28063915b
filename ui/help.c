/*
 * The help screen, generated from the bindings active on the screen it
 * was opened from, so it always tells the truth about the key maps.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curses.h>

#include "config/keymap.h"
#include "core/xmalloc.h"
#include "ui/ui.h"

struct help_line {
	char	*key;
	char	*action;
	char	*description;
};

struct help {
	unsigned		 screen;
	struct help_line	*v;
	size_t			 n;
	size_t			 top;
	int			 height;
};

static void
help_add(void *arg, const char *key, const char *action,
    const char *description)
{
	struct help	*h = arg;
	char		*joined;

	/* Keys of the same action share one line: "j, <Down>". */
	if (h->n > 0 && strcmp(h->v[h->n - 1].action, action) == 0) {
		xasprintf(&joined, "%s, %s", h->v[h->n - 1].key, key);
		free(h->v[h->n - 1].key);
		h->v[h->n - 1].key = joined;
		return;
	}
	h->v = xreallocarray(h->v, h->n + 1, sizeof *h->v);
	h->v[h->n].key = xstrdup(key);
	h->v[h->n].action = xstrdup(action);
	h->v[h->n].description = xstrdup(description != NULL ?
	    description : "");
	h->n++;
}

static const char *
help_screen_name(unsigned screen)
{
	switch (screen) {
	case KM_INDEX:
		return ("index");
	case KM_PAGER:
		return ("pager");
	case KM_FOLDERS:
		return ("folders");
	default:
		return ("help");
	}
}

static void
help_draw(struct ui *ui, void *data, int top, int height)
{
	struct help	*h = data;
	size_t		 i;
	int		 y, w, cols = ui_cols(ui);
	char		 title[128];

	snprintf(title, sizeof title, "Keys of the %s screen  "
	    "(q to leave)", help_screen_name(h->screen));
	attrset(ui_attr(ui, UC_STATUS));
	ui_put(top, 0, title, cols, 1);
	attrset(A_NORMAL);
	h->height = height - 1;
	for (i = h->top, y = top + 1; i < h->n && y < top + height; i++, y++) {
		attrset(ui_attr(ui, UC_HELP_KEY));
		w = ui_put(y, 0, h->v[i].key, 17, 1);
		w += ui_put(y, w, " ", cols - w, 0);
		attrset(A_NORMAL);
		w += ui_put(y, w, h->v[i].action, 20 < cols - w ? 20 :
		    cols - w, 1);
		if (cols - w > 0)
			ui_put(y, w, h->v[i].description, cols - w, 0);
	}
}

static void
help_status(struct ui *ui, void *data, char *out, size_t len)
{
	struct help	*h = data;

	snprintf(out, len, "facteur: help  [%zu bindings]", h->n);
}

static int
help_action(struct ui *ui, void *data, const char *a)
{
	struct help	*h = data;
	size_t		 page = h->height > 1 ? (size_t)h->height : 1;
	size_t		 max = h->n > page ? h->n - page : 0;

	if (strcmp(a, "next-entry") == 0 && h->top < max)
		h->top++;
	else if (strcmp(a, "previous-entry") == 0 && h->top > 0)
		h->top--;
	else if (strcmp(a, "page-down") == 0 || strcmp(a, "next-page") == 0 ||
	    strcmp(a, "half-down") == 0)
		h->top = h->top + page < max ? h->top + page : max;
	else if (strcmp(a, "page-up") == 0 || strcmp(a, "previous-page") == 0 ||
	    strcmp(a, "half-up") == 0)
		h->top = h->top > page ? h->top - page : 0;
	else if (strcmp(a, "first-entry") == 0)
		h->top = 0;
	else if (strcmp(a, "last-entry") == 0)
		h->top = max;
	else if (strcmp(a, "help") == 0)
		return (1);
	else
		return (0);
	ui_redraw(ui);
	return (1);
}

static void
help_free(struct ui *ui, void *data)
{
	struct help	*h = data;
	size_t		 i;

	for (i = 0; i < h->n; i++) {
		free(h->v[i].key);
		free(h->v[i].action);
		free(h->v[i].description);
	}
	free(h->v);
	free(h);
}

void
help_open(struct ui *ui, unsigned screen)
{
	struct help	*h;

	h = xcalloc(1, sizeof *h);
	h->screen = screen;
	keymap_foreach(ui_config(ui), screen, help_add, h);
	ui_push(ui, &help_screen_ops, h);
}

const struct screen_ops help_screen_ops = {
	.name = "help",
	.keymap = KM_HELP,
	.draw = help_draw,
	.action = help_action,
	.free = help_free,
	.status = help_status,
};
