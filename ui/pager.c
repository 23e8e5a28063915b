/*
 * The pager: shows one message rendered by the MIME module. Rendering
 * runs on a worker into a spool file (a big message never freezes the
 * keyboard nor fills memory); the pager holds a window of at most
 * PAGER_WINDOW_LINES lines / PAGER_WINDOW_BYTES bytes of it, moved as the
 * user scrolls, wrapped to the window width at word boundaries, with
 * quoted blocks folded on request. Searching a message bigger than one
 * window runs on the worker. It also views text attachments (a message
 * in memory, without an account).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curses.h>

#include "config/config.h"
#include "config/keymap.h"
#include "core/loop.h"
#include "core/worker.h"
#include "core/xmalloc.h"
#include "mail/account.h"
#include "mail/mailbox.h"
#include "mime/render.h"
#include "mime/sanitize.h"
#include "ui/ui.h"

/* One screen line: a slice of a rendered line, or a folded block. */
struct pager_vline {
	size_t	line;
	size_t	off;
	size_t	len;
	size_t	folded;		/* > 0: this many quoted lines hidden */
};

/*
 * A message is usually rendered within a millisecond or two: until this
 * many milliseconds have passed the terminal keeps the previous screen,
 * so the rendered message is the only frame drawn; only a slower render
 * shows "Loading message...".
 */
#define PAGER_LOADING_MS	50

/* The lines of the spool the pager holds at once, at most. */
#define PAGER_WINDOW_LINES	4096
#define PAGER_WINDOW_BYTES	(2 * 1024 * 1024)

struct pager {
	struct ui		*ui;
	struct account		*account;
	char			*id;
	char			*subject;
	int			 mark_pending;	/* mark read once rendered */
	struct render_spool	*spool;		/* the whole rendered text */
	size_t			 total;		/* its lines */
	size_t			 base;		/* spool line of r.lines[0] */
	size_t			 wend;		/* spool line after it */
	struct render		 r;		/* the window */
	/*
	 * A window read with quotes folded: the spool line of each window
	 * line and how many lines from it on it stands for (a quoted run,
	 * however long, is one line); NULL when lines are consecutive.
	 */
	size_t			*sline;
	size_t			*hidden;
	char			**urls;		/* a spool's URLs, or NULL */
	struct job		*search_job;
	long			 match_line;	/* spool line, -1: none */
	size_t			 match_off;	/* byte in it */
	int			 loaded;
	int			 slow;		/* loading for a while */
	struct loop_timer	*slow_timer;
	struct job		*job;
	int			 full_headers;
	char			*error;
	char			*path;		/* message file, once known */
	char			*mem;		/* inline view: the message */
	size_t			 memlen;
	int			 fold_quotes;

	struct pager_vline	*v;
	size_t			 nv;
	int			 wrapped_cols;
	size_t			 top;
	int			 height;
	char			*search;
};

static struct worker	*pager_worker;	/* renders off the loop thread */

struct pager_render {
	struct pager	*pager;
	char		*path;
	char		*mem;		/* or a message in memory */
	size_t		 memlen;
	char		*mailcap;
	struct render_opts opts;
	struct render_spool *spool;
	struct render	 r;		/* the first window */
	char		**urls;		/* when it is not the whole text */
};

static int
pager_render_run(struct job *j, void *arg)
{
	struct pager_render	*pr = arg;
	int			 rc;

	if (pr->mem != NULL)
		rc = render_spool_mem(pr->mem, pr->memlen, &pr->opts,
		    &pr->spool, job_error(j));
	else
		rc = render_spool_file(pr->path, &pr->opts, &pr->spool,
		    job_error(j));
	if (rc != 0)
		return (-1);
	if (render_spool_read(pr->spool, 0, PAGER_WINDOW_LINES,
	    PAGER_WINDOW_BYTES, &pr->r, job_error(j)) != 0)
		return (-1);
	if (pr->r.n < render_spool_lines(pr->spool))
		render_spool_urls(pr->spool, &pr->urls);
	return (0);
}

/* Frees a NULL-terminated array of strings. */
static void
pager_free_urls(char ***urls)
{
	size_t	i;

	if (*urls == NULL)
		return;
	for (i = 0; (*urls)[i] != NULL; i++)
		free((*urls)[i]);
	free(*urls);
	*urls = NULL;
}

static int	pager_whole(const struct pager *);
static int	pager_window(struct ui *, struct pager *, size_t);
static void	pager_mark_read(struct ui *, struct pager *);

/* Forgets the spool line numbers of a folded window. */
static void
pager_free_lines(struct pager *p)
{
	free(p->sline);
	free(p->hidden);
	p->sline = NULL;
	p->hidden = NULL;
}

static void
pager_render_done(struct job *j, void *arg, int result,
    const struct error *err)
{
	struct pager_render	*pr = arg;
	struct pager		*p = pr->pager;

	p->job = NULL;
	p->loaded = 1;
	loop_cancel_timer(ui_loop(p->ui), &p->slow_timer);
	if (result != 0) {
		free(p->error);
		p->error = xstrdup(err->msg);
	} else {
		render_free(&p->r);
		p->r = pr->r;
		memset(&pr->r, 0, sizeof pr->r);
		render_spool_free(&p->spool);
		p->spool = pr->spool;
		pr->spool = NULL;
		p->total = render_spool_lines(p->spool);
		p->base = 0;
		p->wend = p->r.n;
		pager_free_lines(p);
		pager_free_urls(&p->urls);
		p->urls = pr->urls;
		pr->urls = NULL;
		p->match_line = -1;
		/* Quotes still folded from the last message: fold these. */
		if (p->fold_quotes && !pager_whole(p))
			pager_window(p->ui, p, 0);
		/* Read now, not when asked: marking it read renames its
		   Maildir file (new/ to cur/), which the render must not
		   race. */
		if (p->mark_pending) {
			p->mark_pending = 0;
			pager_mark_read(p->ui, p);
		}
	}
	p->wrapped_cols = 0;
	ui_redraw(p->ui);
}

static void
pager_render_free(void *arg)
{
	struct pager_render	*pr = arg;

	render_free(&pr->r);
	render_spool_free(&pr->spool);
	pager_free_urls(&pr->urls);
	free(pr->path);
	free(pr->mem);
	free(pr->mailcap);
	free(pr);
}

static void	pager_load(struct ui *, struct pager *);

/* The render is taking a while: show that it is loading. */
static void
pager_slow(struct loop *loop, void *arg)
{
	struct pager	*p = arg;

	p->slow_timer = NULL;
	p->slow = 1;
	ui_redraw(p->ui);
}

/* Whether the terminal should keep its previous screen a little longer. */
static int
pager_held(struct ui *ui, void *data)
{
	struct pager	*p = data;

	return (!p->loaded && !p->slow);
}

/* A message the backend has not fetched yet (IMAP): fetched on the
   account's worker, then loaded as usual. */
struct pager_fetch {
	struct pager	*pager;
	struct account	*account;
	char		*id;
	char		*path;
};

static int
pager_fetch_run(struct job *j, void *arg)
{
	struct pager_fetch	*f = arg;
	const struct backend_ops *ops = f->account->ops;

	/* Leaving the pager cancels the job: a big download stops too. */
	if (ops->fetch_message_cancel != NULL)
		return (ops->fetch_message_cancel(f->account->backend, f->id,
		    &f->path, job_cancel_flag(j), job_error(j)));
	return (ops->fetch_message(f->account->backend, f->id, &f->path,
	    job_error(j)));
}

static void
pager_fetch_done(struct job *j, void *arg, int result,
    const struct error *err)
{
	struct pager	*p = ((struct pager_fetch *)arg)->pager;

	p->job = NULL;
	if (result != 0) {
		p->loaded = 1;
		loop_cancel_timer(ui_loop(p->ui), &p->slow_timer);
		free(p->error);
		p->error = xstrdup(err->msg);
		ui_redraw(p->ui);
		return;
	}
	pager_load(p->ui, p);
}

static void
pager_fetch_free(void *arg)
{
	struct pager_fetch	*f = arg;

	free(f->id);
	free(f->path);
	free(f);
}

static void
pager_load(struct ui *ui, struct pager *p)
{
	struct pager_render	*pr;
	struct error		 err;
	char			*path = NULL;
	struct account		*a = p->account;

	if (p->job != NULL)
		job_cancel(p->job);
	p->job = NULL;
	if (p->search_job != NULL)
		job_cancel(p->search_job);
	p->search_job = NULL;
	if (p->loaded)
		p->slow = 0;
	p->loaded = 0;
	p->top = 0;
	if (p->slow_timer == NULL && !p->slow)
		p->slow_timer = loop_add_timer(ui_loop(ui), PAGER_LOADING_MS,
		    pager_slow, p);
	free(p->error);
	p->error = NULL;
	error_clear(&err);
	free(p->path);
	p->path = NULL;
	if (p->mem == NULL &&
	    a->ops->message_path(a->backend, p->id, &path, &err) != 0) {
		if (err.kind == ERR_NOTFOUND && a->ops->fetch_message != NULL) {
			struct pager_fetch	*f = xcalloc(1, sizeof *f);

			f->pager = p;
			f->account = a;
			f->id = xstrdup(p->id);
			p->job = job_new("fetch", pager_fetch_run,
			    pager_fetch_done, f);
			job_set_free(p->job, pager_fetch_free);
			worker_submit(a->worker, p->job);
			return;
		}
		p->loaded = 1;
		loop_cancel_timer(ui_loop(ui), &p->slow_timer);
		p->error = xstrdup(err.msg);
		return;
	}
	if (pager_worker == NULL)
		pager_worker = worker_new(ui_loop(ui), "render");
	pr = xcalloc(1, sizeof *pr);
	pr->pager = p;
	if (p->mem != NULL) {
		pr->mem = xmalloc(p->memlen + 1);
		memcpy(pr->mem, p->mem, p->memlen);
		pr->memlen = p->memlen;
	} else {
		pr->path = path;
		p->path = xstrdup(path);
	}
	pr->mailcap = xstrdup(config_get(ui_config(ui), "mailcap_path"));
	pr->opts.mailcap_path = pr->mailcap;
	pr->opts.full_headers = p->full_headers;
	pr->opts.prefer_html = ui_options(ui)->prefer_html;
	p->job = job_new("render", pager_render_run, pager_render_done, pr);
	job_set_free(p->job, pager_render_free);
	worker_submit(pager_worker, p->job);
}

/* Marks the message read when it is opened (set mark_read). */
static void
pager_mark_read(struct ui *ui, struct pager *p)
{
	struct mailbox		*mb = ui_index_mailbox(ui);
	long			 at;

	if (!ui_options(ui)->mark_read || mb == NULL || p->account == NULL)
		return;
	if ((at = mailbox_find(mb, p->id)) < 0)
		return;
	if (mb->rows[at].s.flags & MSG_UNREAD)
		ui_message_action(ui, mb, (size_t)at, "toggle-new");
}

void
pager_open(struct ui *ui, struct account *a, const char *id,
    const char *subject)
{
	struct pager	*p;

	p = xcalloc(1, sizeof *p);
	p->ui = ui;
	p->account = a;
	p->id = xstrdup(id);
	p->subject = xstrdup(subject != NULL ? subject : "");
	p->match_line = -1;
	ui_push(ui, &pager_screen_ops, p);
	p->mark_pending = 1;
	pager_load(ui, p);
}

/* Adds one screen line. */
static void
pager_vadd(struct pager *p, size_t *cap, size_t line, size_t off, size_t len,
    size_t folded)
{
	if (p->nv == *cap) {
		*cap = *cap == 0 ? 256 : *cap * 2;
		p->v = xreallocarray(p->v, *cap, sizeof *p->v);
	}
	p->v[p->nv].line = line;
	p->v[p->nv].off = off;
	p->v[p->nv].len = len;
	p->v[p->nv].folded = folded;
	p->nv++;
}

/* The spool line of window line i. */
static size_t
pager_sline(const struct pager *p, size_t i)
{
	return (p->sline != NULL ? p->sline[i] : p->base + i);
}

/* How many quoted lines window line i stands for when folded (0: one). */
static size_t
pager_hidden(const struct pager *p, size_t i)
{
	return (p->hidden != NULL ? p->hidden[i] : 0);
}

/* The window line that shows spool line line (which is in the window). */
static size_t
pager_windex(const struct pager *p, size_t line)
{
	size_t	lo = 0, hi = p->r.n, mid;

	if (p->sline == NULL)
		return (line - p->base);
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (p->sline[mid] <= line)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (lo > 0 ? lo - 1 : 0);
}

/* Whether spool line line is in the window. */
static int
pager_in_window(const struct pager *p, size_t line)
{
	return (p->r.n > 0 && line >= p->base && line < p->wend);
}

/*
 * Splits rendered lines into screen lines of at most cols columns, at the
 * last blank that fits when there is one (so flowed paragraphs reflow to
 * the width), and replaces each run of quoted lines by one line when
 * quotes are folded.
 */
static void
pager_wrap(struct pager *p, int cols)
{
	size_t		 i, j, cap = 0, off, len, n, k;
	int		 used;
	const char	*text;

	p->nv = 0;
	for (i = 0; i < p->r.n; i++) {
		if (pager_hidden(p, i) > 0) {
			/* A whole quoted run, read folded from the spool. */
			pager_vadd(p, &cap, i, 0, 0, pager_hidden(p, i));
			continue;
		}
		if (p->fold_quotes && p->r.lines[i].kind == RENDER_QUOTE) {
			for (j = i; j < p->r.n &&
			    p->r.lines[j].kind == RENDER_QUOTE; j++)
				;
			pager_vadd(p, &cap, i, 0, 0, j - i);
			i = j - 1;
			continue;
		}
		text = p->r.lines[i].text;
		len = strlen(text);
		off = 0;
		do {
			n = sanitize_fit(text + off, cols, &used);
			if (n == 0 && off < len) {
				/* A character wider than the window. */
				n = 1;
				while (off + n < len &&
				    ((unsigned char)text[off + n] & 0xc0) ==
				    0x80)
					n++;
			} else if (off + n < len) {
				/* Break after the last blank, if any. */
				for (k = n; k > 0 && text[off + k - 1] != ' ';
				    k--)
					;
				if (k > 0)
					n = k;
			}
			pager_vadd(p, &cap, i, off, n, 0);
			off += n;
		} while (off < len);
	}
	p->wrapped_cols = cols;
}

/* Whether the window holds the whole message, line for line. */
static int
pager_whole(const struct pager *p)
{
	return (p->spool == NULL || (p->sline == NULL && p->base == 0 &&
	    p->r.n >= p->total));
}

/* Wraps the window now if the width changed. */
static void
pager_rewrap(struct ui *ui, struct pager *p)
{
	if (p->wrapped_cols != ui_cols(ui))
		pager_wrap(p, ui_cols(ui));
}

/* The screen line that shows byte off of window line line. */
static size_t
pager_vfind(const struct pager *p, size_t line, size_t off)
{
	size_t	lo = 0, hi = p->nv, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (p->v[mid].line < line ||
		    (p->v[mid].line == line && p->v[mid].off <= off))
			lo = mid + 1;
		else
			hi = mid;
	}
	return (lo > 0 ? lo - 1 : 0);
}

/* The screen line that shows byte off of spool line line (in the window). */
static size_t
pager_vfind_spool(const struct pager *p, size_t line, size_t off)
{
	size_t	i = pager_windex(p, line);

	return (pager_vfind(p, i, pager_sline(p, i) == line ? off : 0));
}

/* Appends a line (text owned) to a folded window. */
static void
pager_fold_add(struct render *r, size_t **sline, size_t **hidden,
    size_t *cap, struct render_line *l, size_t at, size_t n)
{
	if (r->n == *cap) {
		*cap = *cap == 0 ? 256 : *cap * 2;
		r->lines = xreallocarray(r->lines, *cap, sizeof *r->lines);
		*sline = xreallocarray(*sline, *cap, sizeof **sline);
		*hidden = xreallocarray(*hidden, *cap, sizeof **hidden);
	}
	r->cap = *cap;
	r->bytes += strlen(l->text);
	r->lines[r->n] = *l;
	(*sline)[r->n] = at;
	(*hidden)[r->n] = n;
	r->n++;
	l->text = NULL;
}

/*
 * Reads a window from spool line first on with each run of quoted lines,
 * however long and wherever it starts, as one line that stands for the
 * whole run (so a run split by a window edge still folds as one block).
 * Sets *wend to the spool line after the window; 0 or -1.
 */
static int
pager_read_folded(struct pager *p, size_t first, struct render *r,
    size_t **slinep, size_t **hiddenp, size_t *wend, struct error *err)
{
	struct render	 c;
	size_t		*sline = NULL, *hidden = NULL, cap = 0, pos = first;
	size_t		 k, j, s, e, len;
	int		 full = 0, jumped;

	memset(r, 0, sizeof *r);
	while (!full && pos < p->total) {
		if (render_spool_read(p->spool, pos, 256, 256 * 1024, &c,
		    err) != 0)
			goto fail;
		if (c.n == 0)
			break;
		jumped = 0;
		for (k = 0; k < c.n; ) {
			len = strlen(c.lines[k].text);
			if (r->n >= PAGER_WINDOW_LINES || (r->n > 0 &&
			    r->bytes + len > PAGER_WINDOW_BYTES)) {
				full = 1;
				break;
			}
			if (c.lines[k].kind != RENDER_QUOTE) {
				pager_fold_add(r, &sline, &hidden, &cap,
				    &c.lines[k], pos + k, 0);
				k++;
				continue;
			}
			for (j = k; j < c.n && c.lines[j].kind ==
			    RENDER_QUOTE; j++)
				;
			s = pos + k;
			e = pos + j;
			/* The run goes on before or after this chunk. */
			if ((k == 0 && pos > 0) || j == c.n) {
				if (render_spool_span(p->spool, pos + k, &s,
				    &e, err) != 0) {
					render_free(&c);
					goto fail;
				}
			}
			pager_fold_add(r, &sline, &hidden, &cap, &c.lines[k],
			    s, e - s);
			if (e >= pos + c.n) {
				pos = e;
				jumped = 1;
				break;
			}
			k = e - pos;
		}
		if (!jumped)
			pos += k;
		render_free(&c);
	}
	*wend = r->n > 0 ? sline[r->n - 1] + (hidden[r->n - 1] > 0 ?
	    hidden[r->n - 1] : 1) : first;
	*slinep = sline;
	*hiddenp = hidden;
	return (0);
fail:
	render_free(r);
	free(sline);
	free(hidden);
	return (-1);
}

/* Loads the window from spool line first and wraps it; 0 or -1. */
static int
pager_window(struct ui *ui, struct pager *p, size_t first)
{
	struct render	 r;
	struct error	 err;
	size_t		*sline = NULL, *hidden = NULL, wend;
	int		 rc;

	error_clear(&err);
	if (p->fold_quotes)
		rc = pager_read_folded(p, first, &r, &sline, &hidden, &wend,
		    &err);
	else {
		rc = render_spool_read(p->spool, first, PAGER_WINDOW_LINES,
		    PAGER_WINDOW_BYTES, &r, &err);
		wend = first + r.n;
	}
	if (rc != 0) {
		ui_error(ui, "%s", err.msg);
		return (-1);
	}
	render_free(&p->r);
	pager_free_lines(p);
	p->r = r;
	p->sline = sline;
	p->hidden = hidden;
	p->base = sline != NULL && r.n > 0 ? sline[0] : first;
	p->wend = wend;
	pager_wrap(p, ui_cols(ui));
	return (0);
}

/*
 * Brings spool line line into the window (with up to before lines above
 * it) unless it is there, and returns the screen line showing byte off.
 */
static size_t
pager_goto(struct ui *ui, struct pager *p, size_t line, size_t off,
    size_t before)
{
	if (!pager_in_window(p, line))
		pager_window(ui, p, line > before ? line - before : 0);
	pager_rewrap(ui, p);
	if (!pager_in_window(p, line))
		return (0);
	return (pager_vfind_spool(p, line, off));
}

/* Loads the window that ends with the message's last line. */
static void
pager_window_end(struct ui *ui, struct pager *p)
{
	size_t	first;
	int	i;

	first = p->total > PAGER_WINDOW_LINES ?
	    p->total - PAGER_WINDOW_LINES : 0;
	for (i = 0; i < 64; i++) {
		if (pager_window(ui, p, first) != 0)
			return;
		if (p->wend < p->total) {
			/* Fewer lines fit (the byte bound): start later. */
			first += p->total - p->wend;
			continue;
		}
		/* Folded runs leave few lines: take some before them. */
		if (!p->fold_quotes || p->base == 0 ||
		    p->r.n >= PAGER_WINDOW_LINES / 2)
			return;
		first = p->base > PAGER_WINDOW_LINES / 2 ?
		    p->base - PAGER_WINDOW_LINES / 2 : 0;
	}
	pager_window(ui, p, p->total - 1);
}

static int
pager_line_attr(struct ui *ui, const struct render_line *l)
{
	switch (l->kind) {
	case RENDER_HEADER:
		return (ui_attr(ui, UC_HEADER_VALUE));
	case RENDER_QUOTE:
		switch (l->quote_depth % 3) {
		case 1:
			return (ui_attr(ui, UC_QUOTED1));
		case 2:
			return (ui_attr(ui, UC_QUOTED2));
		default:
			return (ui_attr(ui, UC_QUOTED3));
		}
	case RENDER_SIGNATURE:
		return (ui_attr(ui, UC_SIGNATURE));
	case RENDER_ATTACHMENT:
	case RENDER_NOTE:
		return (ui_attr(ui, UC_INDEX_TREE));
	default:
		return (ui_attr(ui, UC_NORMAL));
	}
}

/* Shows each match of the search in the line in the search colour. */
static void
pager_highlight(struct ui *ui, int y, char *slice, const char *needle,
    int cols)
{
	char	*at = slice, *m, saved;
	size_t	 nlen = strlen(needle);
	int	 x;

	attrset(ui_attr(ui, UC_SEARCH));
	while ((m = strcasestr(at, needle)) != NULL) {
		saved = *m;
		*m = '\0';
		x = sanitize_width(slice);
		*m = saved;
		if (x >= cols)
			break;
		saved = m[nlen];
		m[nlen] = '\0';
		ui_put(y, x, m, cols - x, 0);
		m[nlen] = saved;
		at = m + nlen;
	}
	attrset(A_NORMAL);
}

/* Underlines the current match, n bytes at byte off of the slice. */
static void
pager_highlight_current(struct ui *ui, int y, char *slice, size_t off,
    size_t n, int cols)
{
	char	saved;
	int	x;

	saved = slice[off];
	slice[off] = '\0';
	x = sanitize_width(slice);
	slice[off] = saved;
	if (x >= cols)
		return;
	if (off + n > strlen(slice))
		n = strlen(slice) - off;
	saved = slice[off + n];
	slice[off + n] = '\0';
	attrset(ui_attr(ui, UC_SEARCH) | A_UNDERLINE);
	ui_put(y, x, slice + off, cols - x, 0);
	attrset(A_NORMAL);
	slice[off + n] = saved;
}

static void
pager_draw(struct ui *ui, void *data, int top, int height)
{
	struct pager		*p = data;
	struct render_line	*l;
	struct pager_vline	*v;
	char			*slice, *colon;
	int			 i, cols = ui_cols(ui), w;

	p->height = height;
	if (!p->loaded) {
		ui_put(top, 0, "Loading message...", cols, 0);
		return;
	}
	if (p->error != NULL) {
		attrset(ui_attr(ui, UC_ERROR));
		ui_put(top, 0, p->error, cols, 0);
		attrset(A_NORMAL);
		return;
	}
	if (p->wrapped_cols != cols)
		pager_wrap(p, cols);
	if (p->nv > 0 && p->top >= p->nv)
		p->top = p->nv - 1;
	for (i = 0; i < height && p->top + (size_t)i < p->nv; i++) {
		v = &p->v[p->top + (size_t)i];
		l = &p->r.lines[v->line];
		if (v->folded > 0) {
			attrset(pager_line_attr(ui, l));
			xasprintf(&slice, "[-- %zu quoted line%s hidden: %s "
			    "shows them --]", v->folded, v->folded == 1 ? "" :
			    "s", ui_key_for(ui, KM_PAGER, "toggle-quoted"));
			ui_put(top + i, 0, slice, cols, 0);
			free(slice);
			attrset(A_NORMAL);
			continue;
		}
		slice = xstrndup(l->text + v->off, v->len);
		attrset(pager_line_attr(ui, l));
		if (l->kind == RENDER_HEADER && v->off == 0 &&
		    (colon = strchr(slice, ':')) != NULL) {
			*colon = '\0';
			attrset(ui_attr(ui, UC_HEADER_NAME));
			w = ui_put(top + i, 0, slice, cols, 0);
			w += ui_put(top + i, w, ":", cols - w, 0);
			attrset(pager_line_attr(ui, l));
			ui_put(top + i, w, colon + 1, cols - w, 0);
		} else
			ui_put(top + i, 0, slice, cols, 0);
		if (p->search != NULL && *p->search != '\0') {
			pager_highlight(ui, top + i, slice, p->search, cols);
			if (p->match_line >= 0 && pager_sline(p, v->line) ==
			    (size_t)p->match_line && p->match_off >= v->off &&
			    p->match_off < v->off + v->len)
				pager_highlight_current(ui, top + i, slice,
				    p->match_off - v->off, strlen(p->search),
				    cols);
		}
		free(slice);
		attrset(A_NORMAL);
	}
}

static void
pager_status(struct ui *ui, void *data, char *out, size_t len)
{
	struct pager	*p = data;
	int		 pct;
	size_t		 end = p->top + (size_t)p->height;

	if (p->nv == 0)
		pct = 100;
	else if (!pager_whole(p) && p->total > 0)
		pct = (int)((end >= p->nv ? p->wend :
		    pager_sline(p, p->v[end].line)) * 100 / p->total);
	else if (end >= p->nv)
		pct = 100;
	else
		pct = (int)(end * 100 / p->nv);
	snprintf(out, len, "facteur: %s  -- %d%%", p->subject, pct);
}

/*
 * Scrolls by delta screen lines, moving the window over the spool when
 * the screen would leave it: the line at the window's edge stays put.
 */
static void
pager_scroll(struct ui *ui, struct pager *p, long delta)
{
	long	top = (long)p->top + delta, rel, h;
	long	max;
	size_t	a, line, off, keep, first, k;
	int	i;

	h = p->height > 0 ? p->height : 1;
	if (p->loaded && p->spool != NULL)
		pager_rewrap(ui, p);
	for (i = 0; p->spool != NULL && p->nv > 0 && i < 64; i++) {
		max = (long)p->nv - h;
		if (top > max && p->wend < p->total) {
			a = top < (long)p->nv ? (size_t)top : p->nv - 1;
			line = pager_sline(p, p->v[a].line);
			off = p->v[a].off;
			rel = top - (long)a;
			/* Keep a quarter of the window above; drop one line
			   at least (a folded run counts as one). */
			keep = p->r.n / 4;
			k = p->v[a].line > keep ? p->v[a].line - keep : 0;
			if (k == 0)
				k = 1;
			first = k < p->r.n ? pager_sline(p, k) : p->wend;
			if (pager_window(ui, p, first) != 0)
				break;
			top = pager_in_window(p, line) ? (long)pager_vfind_spool(p,
			    line, off) + rel : rel;
			continue;
		}
		/* The window ends the message but does not fill the
		   screen: take the lines before it too. */
		if (top > max && max < 0 && p->base > 0)
			top = max;
		if (top < 0 && p->base > 0) {
			line = p->base;
			keep = p->r.n / 2 > 0 ? p->r.n / 2 : 1;
			first = line > keep ? line - keep : 0;
			if (pager_window(ui, p, first) != 0)
				break;
			if (pager_in_window(p, line))
				top += (long)pager_vfind_spool(p, line, 0);
			else
				top += (long)p->nv;
			continue;
		}
		break;
	}
	max = (long)p->nv - h;
	if (top > max)
		top = max;
	if (top < 0)
		top = 0;
	p->top = (size_t)top;
	ui_redraw(ui);
}

/*
 * Where the next search starts: just after (before) the current match
 * when it is on the screen, so n visits every match of a line in turn;
 * else at the top line of the screen.
 */
static void
pager_search_from(struct pager *p, int dir, size_t *line, size_t *off)
{
	size_t	v;

	if (p->match_line >= 0 && pager_in_window(p, (size_t)p->match_line)) {
		v = pager_vfind_spool(p, (size_t)p->match_line, p->match_off);
		if (v >= p->top && v < p->top + (size_t)(p->height > 0 ?
		    p->height : 1)) {
			*line = (size_t)p->match_line;
			*off = dir > 0 ? p->match_off + 1 : p->match_off;
			return;
		}
	}
	if (p->nv == 0) {
		*line = p->base;
		*off = 0;
		return;
	}
	*line = pager_sline(p, p->v[p->top].line);
	*off = p->v[p->top].folded > 0 ? 0 : p->v[p->top].off;
	if (p->v[p->top].folded > 0 && dir > 0)
		*line += p->v[p->top].folded;
}

/* Shows the match at byte off of spool line line as the current one. */
static void
pager_show_match(struct ui *ui, struct pager *p, size_t line, size_t off)
{
	size_t	v, h = p->height > 0 ? (size_t)p->height : 1;
	int	moved = !pager_in_window(p, line);

	v = pager_goto(ui, p, line, off, 2);
	p->match_line = (long)line;
	p->match_off = off;
	if (moved || v < p->top || v >= p->top + h)
		p->top = v;
	ui_message(ui, "%s", "");
	ui_redraw(ui);
}

/* A search over a spool bigger than the window, on the worker. */
struct pager_find {
	struct pager		*pager;
	struct render_spool	*spool;
	char			*needle;
	size_t			 from;
	size_t			 off;
	int			 dir;
	int			 skip;
	long			 hit;
	size_t			 at;
};

static int
pager_find_run(struct job *j, void *arg)
{
	struct pager_find	*f = arg;

	f->hit = render_spool_find_at(f->spool, f->from, f->off, f->dir,
	    f->needle, f->skip, &f->at, job_cancel_flag(j), job_error(j));
	return (f->hit == -2 ? -1 : 0);
}

static void
pager_find_done(struct job *j, void *arg, int result,
    const struct error *err)
{
	struct pager_find	*f = arg;
	struct pager		*p = f->pager;
	struct ui		*ui = p->ui;

	p->search_job = NULL;
	if (result != 0) {
		ui_error(ui, "%s", err->msg);
		return;
	}
	if (f->hit < 0 || p->spool != f->spool) {
		ui_message(ui, "Not found: %s", f->needle);
		return;
	}
	pager_show_match(ui, p, (size_t)f->hit, f->at);
}

static void
pager_find_free(void *arg)
{
	struct pager_find	*f = arg;

	render_spool_free(&f->spool);
	free(f->needle);
	free(f);
}

/* Starts a search of the whole spool, on the worker. */
static void
pager_search_spool(struct ui *ui, struct pager *p, int dir, size_t from,
    size_t off)
{
	struct pager_find	*f;

	if (p->search_job != NULL)
		job_cancel(p->search_job);
	f = xcalloc(1, sizeof *f);
	f->pager = p;
	f->spool = render_spool_ref(p->spool);
	f->needle = xstrdup(p->search);
	f->from = from;
	f->off = off;
	f->dir = dir;
	f->skip = p->fold_quotes ? RENDER_QUOTE : -1;
	p->search_job = job_new("search", pager_find_run, pager_find_done, f);
	job_set_free(p->search_job, pager_find_free);
	worker_submit(pager_worker, p->search_job);
	ui_message(ui, "Searching for %s...", p->search);
}

/*
 * Finds the next (dir > 0) or previous match of the search, every match
 * of a line in turn; quoted lines are passed over while folded.
 */
static void
pager_search(struct ui *ui, struct pager *p, int dir)
{
	struct render_line	*l;
	size_t			 line, off, at;
	long			 i;

	if (p->search == NULL) {
		ui_message(ui, "No search pattern.");
		return;
	}
	if (!p->loaded || p->error != NULL)
		return;
	pager_rewrap(ui, p);
	pager_search_from(p, dir, &line, &off);
	if (dir < 0 && off == 0) {
		if (line == 0) {
			ui_message(ui, "Not found: %s", p->search);
			return;
		}
		line--;
		off = SIZE_MAX;
	}
	if (!pager_whole(p)) {
		if (line >= p->total)
			ui_message(ui, "Not found: %s", p->search);
		else
			pager_search_spool(ui, p, dir, line, off);
		return;
	}
	for (i = (long)line; i >= 0 && (size_t)i < p->r.n; i += dir) {
		l = &p->r.lines[i];
		if (!(p->fold_quotes && l->kind == RENDER_QUOTE) &&
		    render_find_in(l->text, (size_t)i == line ? off :
		    (dir > 0 ? 0 : SIZE_MAX), dir, p->search, &at)) {
			pager_show_match(ui, p, (size_t)i, at);
			return;
		}
	}
	ui_message(ui, "Not found: %s", p->search);
}

static struct pager	*pager_prompting;

static void
pager_search_done(struct ui *ui, const char *text, void *arg)
{
	struct pager	*p = pager_prompting;
	int		 dir = (int)(intptr_t)arg;

	if (p == NULL || text == NULL || *text == '\0')
		return;
	free(p->search);
	p->search = xstrdup(text);
	p->match_line = -1;
	pager_search(ui, p, dir);
}

/* Moves to the next or previous message of the index. */
static void
pager_step(struct ui *ui, struct pager *p, int dir)
{
	struct mailbox		*mb = ui_index_mailbox(ui);
	struct mailbox_row	*r;
	struct error		 err;
	long			 at;

	if (mb == NULL || p->account == NULL ||
	    (at = mailbox_find(mb, p->id)) < 0)
		return;
	error_clear(&err);
	at += dir;
	if (at < 0 || (r = mailbox_row(mb, (size_t)at, &err)) == NULL) {
		ui_message(ui, dir > 0 ? "This is the last message." :
		    "This is the first message.");
		return;
	}
	ui_index_set_cursor(ui, (size_t)at);
	free(p->id);
	free(p->subject);
	p->id = xstrdup(r->s.id);
	p->subject = xstrdup(r->s.subject != NULL ? r->s.subject : "");
	p->mark_pending = 1;
	pager_load(ui, p);
	ui_redraw(ui);
}

/* Asks where to save the raw message, named after its subject. */
static void
pager_save_file(struct ui *ui, struct pager *p)
{
	char	*name;

	xasprintf(&name, "%.60s.eml", *p->subject != '\0' ? p->subject :
	    "message");
	attach_save_prompt(ui, p->path, 0, name);
	free(name);
}

/* Lists the message's URLs: the window's, or the spool's. */
static void
pager_urls(struct ui *ui, struct pager *p)
{
	struct render	r;
	size_t		n;

	if (pager_whole(p) || p->urls == NULL) {
		urls_open(ui, &p->r);
		return;
	}
	memset(&r, 0, sizeof r);
	for (n = 0; p->urls[n] != NULL; n++)
		;
	r.lines = xcalloc(n + 1, sizeof *r.lines);
	for (r.n = 0; r.n < n; r.n++)
		r.lines[r.n].text = xstrdup(p->urls[r.n]);
	urls_open(ui, &r);
	render_free(&r);
}

static int
pager_action(struct ui *ui, void *data, const char *a)
{
	struct pager	*p = data;
	long		 page = p->height > 1 ? p->height - 1 : 1;
	struct mailbox	*mb;
	long		 at;
	size_t		 line;

	if (strcmp(a, "next-line") == 0 || strcmp(a, "next-entry") == 0)
		pager_scroll(ui, p, 1);
	else if (strcmp(a, "previous-line") == 0 ||
	    strcmp(a, "previous-entry") == 0)
		pager_scroll(ui, p, -1);
	else if (strcmp(a, "next-page") == 0 || strcmp(a, "page-down") == 0)
		pager_scroll(ui, p, page);
	else if (strcmp(a, "previous-page") == 0 ||
	    strcmp(a, "page-up") == 0)
		pager_scroll(ui, p, -page);
	else if (strcmp(a, "half-down") == 0)
		pager_scroll(ui, p, page / 2);
	else if (strcmp(a, "half-up") == 0)
		pager_scroll(ui, p, -page / 2);
	else if (strcmp(a, "top") == 0 || strcmp(a, "first-entry") == 0) {
		if (!pager_whole(p) && p->base > 0)
			pager_window(ui, p, 0);
		pager_scroll(ui, p, -(long)p->nv);
	} else if (strcmp(a, "bottom") == 0 ||
	    strcmp(a, "last-entry") == 0) {
		if (!pager_whole(p) && p->wend < p->total)
			pager_window_end(ui, p);
		pager_scroll(ui, p, (long)p->nv);
	}
	else if (strcmp(a, "next-message") == 0)
		pager_step(ui, p, 1);
	else if (strcmp(a, "previous-message") == 0)
		pager_step(ui, p, -1);
	else if (strcmp(a, "toggle-headers") == 0) {
		p->full_headers ^= 1;
		pager_load(ui, p);
	} else if (strcmp(a, "search") == 0 ||
	    strcmp(a, "search-reverse") == 0) {
		pager_prompting = p;
		ui_prompt(ui, strcmp(a, "search") == 0 ? "Search: " :
		    "Reverse search: ", NULL, pager_search_done,
		    (void *)(intptr_t)(strcmp(a, "search") == 0 ? 1 : -1));
	} else if (strcmp(a, "search-next") == 0)
		pager_search(ui, p, 1);
	else if (strcmp(a, "search-previous") == 0)
		pager_search(ui, p, -1);
	else if (strcmp(a, "sync") == 0)
		ui_message(ui, "Leave the message to sync.");
	else if (strcmp(a, "toggle-quoted") == 0) {
		line = p->nv > 0 ? pager_sline(p, p->v[p->top].line) : 0;
		p->fold_quotes ^= 1;
		p->wrapped_cols = 0;
		p->top = 0;
		/* A window of a big message is read again, (un)folded, from
		   the line at the top. */
		if (p->loaded && p->error == NULL && !pager_whole(p) &&
		    pager_window(ui, p, line) == 0 && pager_in_window(p, line))
			p->top = pager_vfind_spool(p, line, 0);
		ui_redraw(ui);
	} else if (strcmp(a, "list-urls") == 0) {
		if (p->loaded && p->error == NULL)
			pager_urls(ui, p);
		else
			ui_message(ui, "The message is not shown yet.");
	} else if (p->path == NULL && (strcmp(a, "view-attachments") == 0 ||
	    strcmp(a, "pipe-message") == 0 || strcmp(a, "save-file") == 0))
		ui_message(ui, "%s: not available here", a);
	else if (strcmp(a, "view-attachments") == 0)
		attach_open(ui, p->path, p->subject);
	else if (strcmp(a, "pipe-message") == 0)
		attach_pipe_prompt(ui, p->path, 0);
	else if (strcmp(a, "save-file") == 0)
		pager_save_file(ui, p);
	else {
		mb = ui_index_mailbox(ui);
		if (mb == NULL || p->account == NULL ||
		    (at = mailbox_find(mb, p->id)) < 0)
			return (0);
		return (ui_message_action(ui, mb, (size_t)at, a));
	}
	return (1);
}

static void
pager_free(struct ui *ui, void *data)
{
	struct pager	*p = data;

	if (p->job != NULL)
		job_cancel(p->job);
	if (p->search_job != NULL)
		job_cancel(p->search_job);
	loop_cancel_timer(ui_loop(ui), &p->slow_timer);
	if (pager_prompting == p)
		pager_prompting = NULL;
	render_free(&p->r);
	pager_free_lines(p);
	render_spool_free(&p->spool);
	pager_free_urls(&p->urls);
	free(p->v);
	free(p->id);
	free(p->subject);
	free(p->error);
	free(p->search);
	free(p->path);
	free(p->mem);
	free(p);
}

void
pager_open_text(struct ui *ui, const char *title, const char *msg,
    size_t len)
{
	struct pager	*p;

	p = xcalloc(1, sizeof *p);
	p->ui = ui;
	p->id = xstrdup("");
	p->subject = xstrdup(title != NULL ? title : "");
	p->match_line = -1;
	p->mem = xmalloc(len + 1);
	memcpy(p->mem, msg, len);
	p->mem[len] = '\0';
	p->memlen = len;
	ui_push(ui, &pager_screen_ops, p);
	pager_load(ui, p);
}

/* Stops the render worker (at exit). */
void	pager_shutdown(void);
void
pager_shutdown(void)
{
	worker_free(&pager_worker);
}

const struct screen_ops pager_screen_ops = {
	.name = "pager",
	.keymap = KM_PAGER,
	.draw = pager_draw,
	.action = pager_action,
	.free = pager_free,
	.status = pager_status,
	.held = pager_held,
};
