/*
 * The index: one line per message (or per thread), newest first by
 * default. Rows are pulled from the mailbox only as far as the screen
 * shows, so opening a folder costs one screenful whatever its size.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curses.h>

#include "config/config.h"
#include "config/keymap.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/worker.h"
#include "core/xmalloc.h"
#include "mail/account.h"
#include "mail/mailbox.h"
#include "mime/sanitize.h"
#include "ui/ui.h"

struct index {
	struct ui	*ui;
	struct job	*count_job;	/* counting threads on the worker */
	struct loop_timer *prefetch;	/* pulls rows ahead when idle */
	struct account	*account;
	struct mailbox	*mb;
	char		*folder;	/* name shown */
	char		*query;		/* folder query */
	size_t		 cursor;
	size_t		 top;
	int		 height;	/* rows of the last draw */
	char		*search;
	time_t		 today;
	int		 this_year;
};

static struct index	*index_current;

void	ui_sync(struct ui *);

void *
index_new(struct ui *ui)
{
	struct index	*ix;

	ix = xcalloc(1, sizeof *ix);
	ix->ui = ui;
	ix->folder = xstrdup("INBOX");
	index_current = ix;
	return (ix);
}

struct mailbox *
ui_index_mailbox(struct ui *ui)
{
	return (index_current != NULL ? index_current->mb : NULL);
}

size_t
ui_index_cursor(struct ui *ui)
{
	return (index_current != NULL ? index_current->cursor : 0);
}

void
ui_index_set_cursor(struct ui *ui, size_t i)
{
	if (index_current != NULL)
		index_current->cursor = i;
	ui_redraw(ui);
}

static enum view_order
index_order(struct ui *ui, unsigned *flags)
{
	const char	*sort = ui_options(ui)->sort;

	*flags = 0;
	if (strcmp(sort, "threads") == 0)
		*flags = VIEW_THREADS;
	if (strcmp(sort, "date-reverse") == 0)
		return (VIEW_OLDEST_FIRST);
	return (VIEW_NEWEST_FIRST);
}

struct index_count {
	struct index	*ix;
	struct mailbox	*mb;
	struct account	*account;
	char		*query;
	unsigned	 flags;
	size_t		 n;
};

static int
index_count_run(struct job *j, void *arg)
{
	struct index_count	*ic = arg;
	struct account		*a = ic->account;

	return (a->ops->count(a->backend, ic->query, ic->flags, &ic->n,
	    job_error(j)));
}

static void
index_count_done(struct job *j, void *arg, int result,
    const struct error *err)
{
	struct index_count	*ic = arg;
	struct index		*ix = ic->ix;

	ix->count_job = NULL;
	if (result != 0) {
		ui_error(ix->ui, "%s", err->msg);
		return;
	}
	if (ix->mb == ic->mb)
		mailbox_set_count(ix->mb, ic->n);
	ui_redraw(ix->ui);
}

static void
index_count_free(void *arg)
{
	struct index_count	*ic = arg;

	free(ic->query);
	free(ic);
}

/* Stops counting for a mailbox that is going away. */
static void
index_count_cancel(struct index *ix)
{
	if (ix->count_job != NULL)
		job_cancel(ix->count_job);
	ix->count_job = NULL;
}

/* Counts the rows on the worker when the view could not say at once. */
static void
index_count_start(struct index *ix)
{
	struct index_count	*ic;
	struct account		*a = ix->account;

	index_count_cancel(ix);
	if (ix->mb == NULL || ix->mb->count_known || a->ops->count == NULL)
		return;
	ic = xcalloc(1, sizeof *ic);
	ic->ix = ix;
	ic->mb = ix->mb;
	ic->account = a;
	ic->query = mailbox_full_query(ix->mb);
	ic->flags = ix->mb->view_flags;
	ix->count_job = job_new("count", index_count_run, index_count_done,
	    ic);
	job_set_free(ix->count_job, index_count_free);
	worker_submit(a->worker, ix->count_job);
}

static void
index_reopen(struct ui *ui, struct index *ix, const char *limit,
    unsigned flags)
{
	struct mailbox	*mb;
	struct error	 err;
	unsigned	 dummy;

	error_clear(&err);
	log_debug("opening %s%s%s", ix->query, limit != NULL ? " and " : "",
	    limit != NULL ? limit : "");
	mb = mailbox_open(ix->account, ix->folder, ix->query, limit,
	    index_order(ui, &dummy), flags, &err);
	log_debug("opened: %zu rows", mb != NULL ? mb->count : 0);
	if (mb == NULL) {
		ui_error(ui, "%s", err.msg);
		return;
	}
	index_count_cancel(ix);
	mailbox_free(&ix->mb);
	ix->mb = mb;
	ix->cursor = ix->top = 0;
	index_count_start(ix);
	ui_redraw(ui);
}

void
index_open(struct ui *ui, struct account *a, const char *name,
    const char *query)
{
	struct index	*ix = index_current;
	unsigned	 flags;

	if (ix == NULL || a->backend == NULL)
		return;
	ix->account = a;
	free(ix->folder);
	free(ix->query);
	ix->folder = xstrdup(name != NULL ? name : "INBOX");
	ix->query = xstrdup(query != NULL ? query : "folder:\"\"");
	if (query == NULL && name == NULL) {
		/* The Maildir's top folder: a tree without one shows all. */
		struct folder_list	fl;
		struct error		err;

		memset(&fl, 0, sizeof fl);
		if (a->ops->list_folders(a->backend, &fl, &err) == 0 &&
		    fl.n > 0 && !(fl.v[0].flags & FOLDER_SEARCH)) {
			free(ix->folder);
			free(ix->query);
			ix->folder = xstrdup(fl.v[0].name);
			ix->query = xstrdup(fl.v[0].query);
		}
		folder_list_free(&fl);
	}
	index_order(ui, &flags);
	index_reopen(ui, ix, NULL, flags);
}

void
index_store_changed(struct ui *ui, struct account *a)
{
	struct index	*ix = index_current;
	struct error	 err;
	char		*id = NULL;
	struct mailbox_row *r;
	long		 at;

	error_clear(&err);
	if (a->backend == NULL || (a->ops->refresh)(a->backend, &err) != 0) {
		if (err.msg[0] != '\0')
			ui_error(ui, "%s", err.msg);
		return;
	}
	folders_refresh(ui);
	if (ix == NULL || ix->mb == NULL || ix->account != a) {
		if (ix != NULL && ix->mb == NULL && a == ui_account(ui))
			index_open(ui, a, NULL, NULL);
		return;
	}
	if ((r = mailbox_row(ix->mb, ix->cursor, &err)) != NULL)
		id = xstrdup(r->s.id);
	index_count_cancel(ix);
	if (mailbox_reload(ix->mb, &err) != 0)
		ui_error(ui, "%s", err.msg);
	index_count_start(ix);
	if (id != NULL) {
		at = mailbox_find(ix->mb, id);
		if (at >= 0)
			ix->cursor = (size_t)at;
		free(id);
	}
	if (ix->cursor >= mailbox_total(ix->mb))
		ix->cursor = mailbox_total(ix->mb) > 0 ?
		    mailbox_total(ix->mb) - 1 : 0;
	ui_redraw(ui);
}

/* Formats a date the way mail readers do: time today, day this year. */
static void
index_date(struct index *ix, int64_t when, const char *fmt, char *out,
    size_t len)
{
	struct tm	tm;
	time_t		t = (time_t)when;

	localtime_r(&t, &tm);
	if (fmt != NULL && *fmt != '\0')
		strftime(out, len, fmt, &tm);
	else if (t >= ix->today && t < ix->today + 86400)
		strftime(out, len, "%H:%M", &tm);
	else if (tm.tm_year == ix->this_year)
		strftime(out, len, "%b %d", &tm);
	else
		strftime(out, len, "%Y-%m-%d", &tm);
}

static void
index_flags(const struct mailbox_row *r, char *out)
{
	unsigned	f = r->s.flags;

	out[0] = (f & MSG_DELETED) ? 'D' : (f & MSG_UNREAD) ? 'N' :
	    (f & MSG_REPLIED) ? 'r' : ' ';
	out[1] = (f & MSG_FLAGGED) ? '!' : ' ';
	out[2] = (f & MSG_ATTACHMENT) ? '@' : ' ';
	out[3] = '\0';
}

static void
index_draw_row(struct ui *ui, struct index *ix, struct mailbox_row *r,
    int y, int x, int cols, int selected)
{
	char		 flags[4], date[32], *from, *subject, count[32];
	int		 attr, w, fromw, i;
	const char	*fmt;

	attr = ui_attr(ui, UC_NORMAL);
	if (r->s.flags & MSG_UNREAD)
		attr = ui_attr(ui, UC_INDEX_UNREAD);
	if (r->s.flags & MSG_FLAGGED)
		attr = ui_attr(ui, UC_INDEX_FLAGGED);
	if (r->s.flags & MSG_DELETED)
		attr = ui_attr(ui, UC_INDEX_DELETED);
	if (selected)
		attr |= ui_attr(ui, UC_INDEX_CURSOR);
	attrset(attr);
	move(y, x);
	for (i = 0; i < cols; i++)
		addch(' ');

	index_flags(r, flags);
	fmt = config_get(ui_config(ui), "date_format");
	index_date(ix, r->s.date, fmt, date, sizeof date);
	w = 0;
	w += ui_put(y, x + w, flags, cols - w, 0);
	w += ui_put(y, x + w, " ", cols - w, 0);
	w += ui_put(y, x + w, date, cols - w, 0);
	while (w < 15 && w < cols)
		w += ui_put(y, x + w, " ", cols - w, 0);
	fromw = cols / 4;
	if (fromw > 22)
		fromw = 22;
	from = sanitize_line(r->s.from != NULL ? r->s.from : "");
	if (cols - w > 0)
		w += ui_put(y, x + w, from, fromw < cols - w ? fromw :
		    cols - w, 1);
	free(from);
	if (cols - w > 1)
		w += ui_put(y, x + w, " ", cols - w, 0);
	if (r->child) {
		char	tree[64];
		size_t	d, n = 0;

		for (d = 1; d < r->s.depth && n + 3 < sizeof tree - 4; d++) {
			memcpy(tree + n, "  ", 2);
			n += 2;
		}
		if (r->s.depth > 0) {
			memcpy(tree + n, "\xe2\x94\x94>", 4);	/* U+2514 > */
			n += 4;
		}
		tree[n] = '\0';
		if (n > 0 && cols - w > 0) {
			attrset(ui_attr(ui, UC_INDEX_TREE) |
			    (selected ? ui_attr(ui, UC_INDEX_CURSOR) : 0));
			w += ui_put(y, x + w, tree, cols - w, 0);
			attrset(attr);
		}
	}
	if (r->s.thread_total > 1 && cols - w > 0) {
		snprintf(count, sizeof count, "%s(%u) ",
		    r->expanded ? "-" : "+", r->s.thread_total);
		w += ui_put(y, x + w, count, cols - w, 0);
	}
	subject = sanitize_line(r->s.subject != NULL && *r->s.subject != '\0'
	    ? r->s.subject : "(no subject)");
	if (cols - w > 0)
		ui_put(y, x + w, subject, cols - w, 0);
	free(subject);
	attrset(A_NORMAL);
}

/* The hint line at the top, built from the active bindings. */
static void
index_draw_hints(struct ui *ui, int y, unsigned screen)
{
	static const char	*actions[][2] = {
		{ "quit", "Quit" }, { "display-message", "Read" },
		{ "delete-message", "Del" }, { "toggle-new", "New" },
		{ "flag-message", "Flag" }, { "search", "Search" },
		{ "limit", "Limit" }, { "change-folder", "Folders" },
		{ "help", "Help" },
	};
	struct buf	 b;
	size_t		 i;
	const char	*key;

	buf_init(&b);
	for (i = 0; i < sizeof actions / sizeof actions[0]; i++) {
		key = ui_key_for(ui, screen, actions[i][0]);
		if (key[0] == ':')
			continue;
		buf_addf(&b, "%s%s:%s", b.len ? "  " : "", key, actions[i][1]);
	}
	attrset(ui_attr(ui, UC_STATUS));
	ui_put(y, 0, buf_str(&b), ui_cols(ui), 1);
	attrset(A_NORMAL);
	buf_free(&b);
}

static void
index_fix_top(struct index *ix, int height)
{
	if (height <= 0)
		return;
	if (ix->cursor < ix->top)
		ix->top = ix->cursor;
	if (ix->cursor >= ix->top + (size_t)height)
		ix->top = ix->cursor - (size_t)height + 1;
}

static void
index_prefetch(struct loop *loop, void *arg)
{
	struct index	*ix = arg;
	struct error	 err;
	size_t		 want;

	ix->prefetch = NULL;
	if (ix->mb == NULL || ix->height <= 0)
		return;
	want = ix->top + 3 * (size_t)ix->height;
	error_clear(&err);
	/* One small step per turn, so keys stay quick. */
	if (want > ix->mb->nrows + (size_t)ix->height)
		want = ix->mb->nrows + (size_t)ix->height;
	mailbox_prefetch(ix->mb, want, &err);
	if (!ix->mb->at_end &&
	    ix->mb->nrows < ix->top + 3 * (size_t)ix->height)
		ix->prefetch = loop_add_timer(loop, 10, index_prefetch, ix);
}

static void
index_draw(struct ui *ui, void *data, int top, int height)
{
	struct index		*ix = data;
	struct mailbox_row	*r;
	struct error		 err;
	struct tm		 tm;
	time_t			 now = time(NULL);
	int			 i, x = 0, cols = ui_cols(ui), sw;

	localtime_r(&now, &tm);
	ix->this_year = tm.tm_year;
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	ix->today = mktime(&tm);

	index_draw_hints(ui, top, KM_INDEX);
	top++;
	height--;
	if (ui_options(ui)->sidebar) {
		sw = ui_options(ui)->sidebar_width;
		if (sw > cols / 2)
			sw = cols / 2;
		folders_draw_list(ui, top, 0, sw - 1, height, 1, 0, -1);
		attrset(ui_attr(ui, UC_SIDEBAR));
		for (i = 0; i < height; i++)
			mvaddch(top + i, sw - 1, ACS_VLINE);
		attrset(A_NORMAL);
		x = sw;
		cols -= sw;
	}
	ix->height = height;
	if (ix->mb == NULL) {
		ui_put(top, x, ix->account == NULL || ix->account->opening ?
		    "Opening..." : "No folder open.", cols, 0);
		return;
	}
	error_clear(&err);
	if (mailbox_row(ix->mb, 0, &err) == NULL) {
		ui_put(top, x, ix->mb->limit != NULL ?
		    "No messages match the limit." : "No messages.", cols, 0);
		return;
	}
	index_fix_top(ix, height);
	error_clear(&err);
	for (i = 0; i < height; i++) {
		r = mailbox_row(ix->mb, ix->top + (size_t)i, &err);
		if (r == NULL)
			break;
		index_draw_row(ui, ix, r, top + i, x, cols,
		    ix->top + (size_t)i == ix->cursor);
	}
	if (err.kind != ERR_NONE)
		ui_error(ui, "%s", err.msg);
	/* The next two screens are pulled while the user reads this one. */
	if (!ix->mb->at_end && ix->mb->nrows < ix->top + 3 * (size_t)height &&
	    ix->prefetch == NULL)
		ix->prefetch = loop_add_timer(ui_loop(ui), 40, index_prefetch,
		    ix);
}

static void
index_status(struct ui *ui, void *data, char *out, size_t len)
{
	struct index	*ix = data;
	size_t		 total;

	if (ix->mb == NULL) {
		snprintf(out, len, "facteur: %s", ix->account != NULL ?
		    ix->account->name : "");
		return;
	}
	total = mailbox_total(ix->mb);
	snprintf(out, len, "facteur: %s: %s%s%s  [%zu/%zu%s%s]  %zu unread",
	    ix->account->name, ix->folder,
	    ix->mb->limit != NULL ? "  limit: " : "",
	    ix->mb->limit != NULL ? ix->mb->limit : "",
	    total > 0 ? ix->cursor + 1 : 0, total,
	    ix->mb->count_known ? "" : "+",
	    (ix->mb->view_flags & VIEW_THREADS) ? " threads" : " messages",
	    ix->mb->unread);
}

static void
index_move(struct ui *ui, struct index *ix, long delta)
{
	struct error	err;
	size_t		total;
	long		target = (long)ix->cursor + delta;

	if (ix->mb == NULL)
		return;
	if (target < 0)
		target = 0;
	error_clear(&err);
	/* Pulls rows up to the target if they are not loaded yet. */
	if (mailbox_row(ix->mb, (size_t)target, &err) == NULL) {
		total = mailbox_total(ix->mb);
		target = total > 0 ? (long)total - 1 : 0;
	}
	ix->cursor = (size_t)target;
	ui_redraw(ui);
}

/* Case-insensitive substring search (ASCII folding; UTF-8 exact). */
static int
index_matches(const struct mailbox_row *r, const char *needle)
{
	return ((r->s.subject != NULL && strcasestr(r->s.subject, needle)) ||
	    (r->s.from != NULL && strcasestr(r->s.from, needle)));
}

static void
index_search_from(struct ui *ui, struct index *ix, int dir, int skip)
{
	struct mailbox_row	*r;
	struct error		 err;
	long			 i;

	if (ix->search == NULL || ix->mb == NULL) {
		ui_message(ui, "No search pattern.");
		return;
	}
	error_clear(&err);
	for (i = (long)ix->cursor + (skip ? dir : 0); i >= 0; i += dir) {
		r = mailbox_row(ix->mb, (size_t)i, &err);
		if (r == NULL)
			break;
		if (index_matches(r, ix->search)) {
			ix->cursor = (size_t)i;
			ui_redraw(ui);
			return;
		}
	}
	ui_message(ui, "Not found: %s", ix->search);
}

struct index_prompt {
	int	dir;
};

static void
index_search_done(struct ui *ui, const char *text, void *arg)
{
	struct index	*ix = index_current;
	int		 dir = (int)(intptr_t)arg;

	if (text == NULL || *text == '\0')
		return;
	free(ix->search);
	ix->search = xstrdup(text);
	index_search_from(ui, ix, dir, 1);
}

static void
index_limit_done(struct ui *ui, const char *text, void *arg)
{
	struct index	*ix = index_current;

	if (text == NULL || ix->mb == NULL)
		return;
	if (*text == '\0' || strcmp(text, "all") == 0 ||
	    strcmp(text, "*") == 0)
		text = NULL;
	index_reopen(ui, ix, text, ix->mb->view_flags);
	if (ix->mb != NULL && text != NULL)
		ui_message(ui, "%zu %s match", mailbox_total(ix->mb),
		    (ix->mb->view_flags & VIEW_THREADS) ? "threads" :
		    "messages");
}

static int
index_action(struct ui *ui, void *data, const char *a)
{
	struct index		*ix = data;
	struct mailbox_row	*r;
	struct error		 err;
	long			 page = ix->height > 1 ? ix->height - 1 : 1;

	error_clear(&err);
	if (strcmp(a, "next-entry") == 0)
		index_move(ui, ix, 1);
	else if (strcmp(a, "previous-entry") == 0)
		index_move(ui, ix, -1);
	else if (strcmp(a, "page-down") == 0) {
		index_move(ui, ix, page);
		ix->top = ix->cursor;
	} else if (strcmp(a, "page-up") == 0) {
		index_move(ui, ix, -page);
		ix->top = ix->top > (size_t)page ? ix->top - (size_t)page : 0;
	} else if (strcmp(a, "half-down") == 0)
		index_move(ui, ix, page / 2 > 0 ? page / 2 : 1);
	else if (strcmp(a, "half-up") == 0)
		index_move(ui, ix, -(page / 2 > 0 ? page / 2 : 1));
	else if (strcmp(a, "first-entry") == 0)
		index_move(ui, ix, -(long)ix->cursor);
	else if (strcmp(a, "last-entry") == 0) {
		if (ix->mb != NULL) {
			if (mailbox_load_all(ix->mb, &err) != 0)
				ui_error(ui, "%s", err.msg);
			index_move(ui, ix, (long)mailbox_total(ix->mb));
		}
	} else if (strcmp(a, "search") == 0)
		ui_prompt(ui, "Search: ", NULL, index_search_done,
		    (void *)(intptr_t)1);
	else if (strcmp(a, "search-reverse") == 0)
		ui_prompt(ui, "Reverse search: ", NULL, index_search_done,
		    (void *)(intptr_t)-1);
	else if (strcmp(a, "search-next") == 0)
		index_search_from(ui, ix, 1, 1);
	else if (strcmp(a, "search-previous") == 0)
		index_search_from(ui, ix, -1, 1);
	else if (strcmp(a, "limit") == 0)
		ui_prompt(ui, "Limit to (notmuch query, empty for all): ",
		    ix->mb != NULL && ix->mb->limit != NULL ? ix->mb->limit :
		    NULL, index_limit_done, NULL);
	else if (strcmp(a, "sync") == 0)
		ui_sync(ui);
	else if (strcmp(a, "toggle-sidebar") == 0) {
		((struct ui_options *)ui_options(ui))->sidebar ^= 1;
		ui_redraw(ui);
	} else if (ix->mb == NULL)
		ui_message(ui, "No folder is open yet.");
	else if (strcmp(a, "toggle-threads") == 0) {
		index_reopen(ui, ix, ix->mb->limit,
		    ix->mb->view_flags ^ VIEW_THREADS);
		ui_message(ui, (ix->mb->view_flags & VIEW_THREADS) ?
		    "Threads" : "Messages");
	} else if (strcmp(a, "collapse-thread") == 0) {
		if (mailbox_toggle_thread(ix->mb, ix->cursor, &err) != 0)
			ui_error(ui, "%s", err.msg);
		while (ix->cursor > 0 && ix->mb->rows[ix->cursor].child &&
		    !ix->mb->rows[ix->cursor - 1].expanded)
			ix->cursor--;
		ui_redraw(ui);
	} else if (strcmp(a, "collapse-all") == 0) {
		size_t	i;

		for (i = 0; i < ix->mb->nrows; i++) {
			if (ix->mb->rows[i].expanded) {
				if (i < ix->cursor &&
				    ix->cursor < ix->mb->nrows &&
				    ix->mb->rows[ix->cursor].child)
					ix->cursor = i;
				mailbox_toggle_thread(ix->mb, i, &err);
			}
		}
		if (ix->cursor >= mailbox_total(ix->mb))
			ix->cursor = 0;
		ui_redraw(ui);
	} else if (strcmp(a, "display-message") == 0) {
		if ((r = mailbox_row(ix->mb, ix->cursor, &err)) == NULL) {
			/* Say why nothing opens (an empty folder, one still
			   being indexed, or a failed read). */
			if (err.msg[0] != '\0')
				ui_error(ui, "%s", err.msg);
			else
				ui_message(ui, "No messages here.");
			return (1);
		}
		if (r->s.thread_total > 1 && !r->expanded) {
			/* A collapsed thread opens to show its messages. */
			mailbox_toggle_thread(ix->mb, ix->cursor, &err);
			ui_redraw(ui);
			return (1);
		}
		pager_open(ui, ix->account, r->s.id, r->s.subject);
	} else
		return (ui_message_action(ui, ix->mb, ix->cursor, a));
	return (1);
}

static void
index_free(struct ui *ui, void *data)
{
	struct index	*ix = data;

	loop_cancel_timer(ui_loop(ui), &ix->prefetch);
	index_count_cancel(ix);
	mailbox_free(&ix->mb);
	free(ix->folder);
	free(ix->query);
	free(ix->search);
	free(ix);
	if (index_current == ix)
		index_current = NULL;
}

const struct screen_ops index_screen_ops = {
	.name = "index",
	.keymap = KM_INDEX,
	.draw = index_draw,
	.action = index_action,
	.free = index_free,
	.status = index_status,
};
