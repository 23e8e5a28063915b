/*
 * The folder list: every account's Maildir folders and saved searches
 * with unread and total counts, as a screen (change-folder) and as the
 * sidebar beside the index.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curses.h>

#include "config/keymap.h"
#include "core/worker.h"
#include "core/xmalloc.h"
#include "mail/account.h"
#include "mime/sanitize.h"
#include "ui/ui.h"

struct folders_entry {
	struct account		*account;
	struct folder_info	 f;	/* strings owned here */
	int			 header;	/* an account name line */
};

static struct folders_entry	*folders_v;
static size_t			 folders_n;
static int			 folders_loaded;
static char			*folders_current;	/* query shown */

struct folders {
	size_t	cursor;
	size_t	top;
};

static void
folders_clear(void)
{
	size_t	i;

	for (i = 0; i < folders_n; i++) {
		free(folders_v[i].f.name);
		free(folders_v[i].f.query);
	}
	free(folders_v);
	folders_v = NULL;
	folders_n = 0;
}

static void
folders_add(struct account *a, const struct folder_info *f, int header)
{
	struct folders_entry	*e;

	folders_v = xreallocarray(folders_v, folders_n + 1, sizeof *folders_v);
	e = &folders_v[folders_n++];
	memset(e, 0, sizeof *e);
	e->account = a;
	e->header = header;
	e->f = *f;
	e->f.name = xstrdup(f->name != NULL ? f->name : "");
	e->f.query = xstrdup(f->query != NULL ? f->query : "");
}

/* Re-reads the folder lists and counts of every open account. */
void
folders_refresh(struct ui *ui)
{
	struct folder_list	 fl;
	struct folder_info	 hdr;
	struct account		*a;
	struct error		 err;
	size_t			 i, j, n = ui_account_count(ui);

	folders_clear();
	for (i = 0; i < n; i++) {
		a = ui_account_at(ui, i);
		if (a->backend == NULL)
			continue;
		if (n > 1) {
			memset(&hdr, 0, sizeof hdr);
			hdr.name = a->name;
			folders_add(a, &hdr, 1);
		}
		memset(&fl, 0, sizeof fl);
		error_clear(&err);
		if (a->ops->list_folders(a->backend, &fl, &err) != 0) {
			ui_error(ui, "%s: %s", a->name, err.msg);
			continue;
		}
		for (j = 0; j < fl.n; j++)
			folders_add(a, &fl.v[j], 0);
		folder_list_free(&fl);
	}
	folders_loaded = 1;
	ui_redraw(ui);
}

void
folders_draw_list(struct ui *ui, int top, int x, int cols, int height,
    int sidebar, size_t first, long cursor)
{
	struct folders_entry	*e;
	char			 counts[64];
	size_t			 i;
	int			 y, w, cw;
	int			 attr;

	if (!folders_loaded)
		folders_refresh(ui);
	for (i = first, y = top; i < folders_n && y < top + height;
	    i++, y++) {
		e = &folders_v[i];
		attr = sidebar ? ui_attr(ui, UC_SIDEBAR) : (int)A_NORMAL;
		if (e->header) {
			attrset(attr | A_BOLD);
			ui_put(y, x, e->f.name, cols, 1);
			continue;
		}
		if (folders_current != NULL &&
		    strcmp(folders_current, e->f.query) == 0)
			attr |= ui_attr(ui, UC_SIDEBAR_CURRENT);
		if (e->f.unread > 0)
			attr |= A_BOLD;
		if ((long)i == cursor)
			attr |= A_REVERSE;
		attrset(attr);
		if (sidebar)
			snprintf(counts, sizeof counts, " %lu", e->f.unread);
		else
			snprintf(counts, sizeof counts, "  %6lu unread %7lu",
			    e->f.unread, e->f.total);
		if (sidebar && e->f.unread == 0)
			counts[0] = '\0';
		cw = (int)strlen(counts);
		w = ui_put(y, x, (e->f.flags & FOLDER_SEARCH) ? "?" :
		    (e->f.flags & FOLDER_SUBSCRIBED) && !sidebar ? "+" : " ",
		    cols, 0);
		w += ui_put(y, x + w, e->f.name, cols - w - cw, 1);
		if (cols - w > 0)
			ui_put(y, x + w, counts, cols - w, 1);
	}
	attrset(A_NORMAL);
}

static void
folders_draw(struct ui *ui, void *data, int top, int height)
{
	struct folders	*fs = data;
	attrset(ui_attr(ui, UC_STATUS));
	ui_put(top, 0, "Folders and saved searches (? a search, + subscribed)"
	    "  Enter:Open  q:Back", ui_cols(ui), 1);
	attrset(A_NORMAL);
	top++;
	height--;
	if (fs->cursor >= folders_n && folders_n > 0)
		fs->cursor = folders_n - 1;	/* the list got shorter */
	if (fs->cursor < fs->top)
		fs->top = fs->cursor;
	if (height > 0 && fs->cursor >= fs->top + (size_t)height)
		fs->top = fs->cursor - (size_t)height + 1;
	folders_draw_list(ui, top, 0, ui_cols(ui), height, 0, fs->top,
	    (long)fs->cursor);
}

static void
folders_status(struct ui *ui, void *data, char *out, size_t len)
{
	snprintf(out, len, "facteur: %zu folders", folders_n);
}

/* A subscription change on the account's worker. */
struct folders_sub {
	struct ui	*ui;
	struct account	*account;
	char		*name;
	int		 on;
};

static int
folders_sub_run(struct job *j, void *arg)
{
	struct folders_sub	*fs = arg;
	struct account		*a = fs->account;

	return (a->ops->subscribe_folder(a->backend, fs->name, fs->on,
	    job_error(j)));
}

static void
folders_sub_done(struct job *j, void *arg, int result,
    const struct error *err)
{
	struct folders_sub	*fs = arg;
	char			*name;

	if (result != 0) {
		ui_error(fs->ui, "%s", err->msg);
		return;
	}
	name = sanitize_line(fs->name);
	ui_message(fs->ui, "%s: %s %s", fs->account->name,
	    fs->on ? "subscribed to" : "unsubscribed from", name);
	free(name);
	folders_refresh(fs->ui);
}

static void
folders_sub_free(void *arg)
{
	struct folders_sub	*fs = arg;

	free(fs->name);
	free(fs);
}

/* subscribe-folder and unsubscribe-folder: the folder under the cursor,
   on the server (IMAP). */
static void
folders_subscribe(struct ui *ui, struct folders *fs, int on)
{
	struct folders_entry	*e;
	struct folders_sub	*sub;
	struct job		*j;

	if (fs->cursor >= folders_n)
		return;
	e = &folders_v[fs->cursor];
	if (e->header || (e->f.flags & FOLDER_SEARCH) ||
	    e->account->backend == NULL ||
	    e->account->ops->subscribe_folder == NULL) {
		ui_error(ui, "%s: only IMAP folders have subscriptions",
		    on ? "subscribe-folder" : "unsubscribe-folder");
		return;
	}
	sub = xcalloc(1, sizeof *sub);
	sub->ui = ui;
	sub->account = e->account;
	sub->name = xstrdup(e->f.name);
	sub->on = on;
	j = job_new("subscribe", folders_sub_run, folders_sub_done, sub);
	job_set_free(j, folders_sub_free);
	worker_submit(e->account->worker, j);
}

static int
folders_action(struct ui *ui, void *data, const char *a)
{
	struct folders		*fs = data;
	struct folders_entry	*e;
	long			 page = ui_lines(ui) - 4;

	if (page < 1)
		page = 1;
	if (strcmp(a, "next-entry") == 0 && fs->cursor + 1 < folders_n)
		fs->cursor++;
	else if (strcmp(a, "previous-entry") == 0 && fs->cursor > 0)
		fs->cursor--;
	else if (strcmp(a, "page-down") == 0 || strcmp(a, "half-down") == 0)
		fs->cursor = fs->cursor + (size_t)page < folders_n ?
		    fs->cursor + (size_t)page : folders_n - 1;
	else if (strcmp(a, "page-up") == 0 || strcmp(a, "half-up") == 0)
		fs->cursor = fs->cursor > (size_t)page ?
		    fs->cursor - (size_t)page : 0;
	else if (strcmp(a, "first-entry") == 0)
		fs->cursor = 0;
	else if (strcmp(a, "last-entry") == 0)
		fs->cursor = folders_n > 0 ? folders_n - 1 : 0;
	else if (strcmp(a, "select-entry") == 0 ||
	    strcmp(a, "display-message") == 0) {
		if (fs->cursor >= folders_n)
			return (1);
		e = &folders_v[fs->cursor];
		if (e->header)
			return (1);
		free(folders_current);
		folders_current = xstrdup(e->f.query);
		/* index_open may refresh the list: copy what we need. */
		{
			struct account	*acct = e->account;
			char		*name = xstrdup(e->f.name);
			char		*query = xstrdup(e->f.query);

			ui_pop(ui);
			index_open(ui, acct, name, query);
			free(name);
			free(query);
		}
		return (1);
	} else if (strcmp(a, "subscribe-folder") == 0 ||
	    strcmp(a, "unsubscribe-folder") == 0) {
		folders_subscribe(ui, fs, a[0] == 's');
		return (1);
	} else if (strcmp(a, "change-folder") == 0)
		return (1);
	else
		return (0);
	ui_redraw(ui);
	return (1);
}

static void
folders_free(struct ui *ui, void *data)
{
	free(data);
}

void
folders_open(struct ui *ui)
{
	struct folders	*fs;
	size_t		 i;

	folders_refresh(ui);
	fs = xcalloc(1, sizeof *fs);
	for (i = 0; i < folders_n; i++) {
		if (folders_current != NULL &&
		    strcmp(folders_v[i].f.query, folders_current) == 0)
			fs->cursor = i;
	}
	ui_push(ui, &folders_screen_ops, fs);
}

/* Releases the cached list (at exit). */
void	folders_shutdown(void);
void
folders_shutdown(void)
{
	folders_clear();
	free(folders_current);
	folders_current = NULL;
	folders_loaded = 0;
}

const struct screen_ops folders_screen_ops = {
	.name = "folders",
	.keymap = KM_FOLDERS,
	.draw = folders_draw,
	.action = folders_action,
	.free = folders_free,
	.status = folders_status,
};
